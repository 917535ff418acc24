"""Bad files in a big poster batch: no good row lost, labels aligned, every bad file reported.

Writes ``--n`` posters (default 10,000) of which ``--bad-fraction`` (default 1 %) are bad files
of varied kinds (empty, truncated JPEGs and PNGs, bad CRC, text and HTML saved as .jpg,
missing, a directory, a broken symbolic link, a decompression-bomb header, zero size, a
non-UTF-8 file name, a missing value, mode 000) at seeded random positions, then runs them
through ``PosterReader``, ``PixelFlattener``, ``DominantColorBrightness`` and
``CNNEmbedder`` with ``on_error="skip"`` and checks, for each:

- **good rows lost**: good inputs whose row is missing (must be 0);
- **skip report complete**: ``skipped_`` lists exactly the bad inputs, in order, each with the
  printable path and the reason its kind gives;
- **aligned**: the rows are the good inputs' rows in input order. Generated posters are flat
  colours that encode their number, decoded back from every output row of the reader, the
  flattener and the dominant colour. With ``--real`` their rows are compared with the
  transform of the good files alone (the clean batch). For the CNN, ``--check-sample``
  random rows are compared with the embedding of that file alone (to 1e-5).

Generated posters mix PNG, JPEG, GIF, BMP, TIFF, WebP, palette and RGBA files of a few small
sizes (some with non-UTF-8 names). ``--real`` uses the real posters instead, as symbolic
links in the batch folder (reused in turn when ``--n`` exceeds them), with the same bad files.
Mode-000 files are readable by root: when this process can read them the kind is left out
(and said so), never faked.

Prints a markdown table and the reason each bad kind gave; exits 1 when a good row is lost,
a row is misaligned or the skip report is incomplete.

    python benchmarks/bench_bad_batch.py                      # 10,000 generated, 1 % bad
    python benchmarks/bench_bad_batch.py --real --n 10000     # real posters + bad files
    python benchmarks/bench_bad_batch.py --n 2000 --transformers reader pixels color
"""

import argparse
import io
import json
import logging
import os
import re
import shutil
import struct
import sys
import tempfile
import time
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

TRANSFORMERS = ("reader", "pixels", "color", "cnn")
READ_SIZE = (16, 24)  # (width, height) for the reader and the flattener
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")

# ------------------------------------------------------------------ generated good posters

# (extension, PIL mode, save options): lossless but for JPEG (4:4:4, quality 95: a flat
# colour comes back within 1 of what was written).
GOOD_FORMATS = (
    ("png", "RGB", {}),
    ("jpg", "RGB", {"quality": 95, "subsampling": 0}),
    ("gif", "P", {}),
    ("bmp", "RGB", {}),
    ("tif", "RGB", {}),
    ("webp", "RGB", {"lossless": True}),
    ("png", "P", {}),
    ("png", "RGBA", {}),
)
GOOD_SIZES = ((6, 9), (8, 12), (12, 18), (16, 24), (9, 6))
# Every this-many-th good poster gets a file name that is not valid UTF-8 (bytes path).
NON_UTF8_EVERY = 97


def label_colour(label):
    """The flat RGB colour that encodes a good poster's number (< 64**3)."""
    return tuple(int(v) * 4 + 2 for v in (label % 64, (label // 64) % 64, (label // 4096) % 64))


def decode_labels(rgb):
    """Poster numbers from ``(n, 3)`` colours in 0..255 (any float or int dtype)."""
    steps = np.rint((np.asarray(rgb, dtype=np.float64) - 2) / 4).astype(np.int64)
    return steps[:, 0] + 64 * steps[:, 1] + 4096 * steps[:, 2]


def _write_good(folder, label):
    ext, mode, options = GOOD_FORMATS[label % len(GOOD_FORMATS)]
    size = GOOD_SIZES[(label // len(GOOD_FORMATS)) % len(GOOD_SIZES)]
    colour = label_colour(label)
    image = Image.new("RGB", size, colour)
    if mode == "P":
        image = image.quantize(colors=2)  # one palette entry: the colour, exactly
    elif mode == "RGBA":
        image = Image.new("RGBA", size, (*colour, 255))
    name = f"good{label:05d}.{ext}"
    if label % NON_UTF8_EVERY == NON_UTF8_EVERY - 1:
        path = os.path.join(os.fsencode(folder), b"good%05d \xe9\xff.%s" % (label, ext.encode()))
    else:
        path = os.path.join(folder, name)
    image.save(path, **options)
    return path


# ------------------------------------------------------------------ bad files


def _encode(image, fmt, **options):
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


def _png_chunk(tag, data):
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def _png_header_only(width, height):
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IEND", b"")


def _noise(width, height, seed):
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


_JPEG = _encode(_noise(48, 72, 1), "JPEG", quality=90)
_PNG = _encode(_noise(12, 18, 2), "PNG")
_BAD_CRC = bytearray(_PNG)
_BAD_CRC[29] ^= 0xFF  # the IHDR CRC
_BAD_IDAT = bytearray(_PNG)
_BAD_IDAT[_PNG.index(b"IDAT") + 4] ^= 0xFF  # the zlib stream header
_HTML = (
    b"<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>"
    b"<body><h1>Service Unavailable</h1></body></html>\n"
)


def _bytes_kind(data, ext="jpg"):
    def make(folder, stem):
        path = os.path.join(folder, f"{stem}.{ext}")
        with open(path, "wb") as fp:
            fp.write(data)
        return path, path

    return make


def _missing(folder, stem):
    path = os.path.join(folder, f"{stem}.jpg")
    return path, path


def _directory(folder, stem):
    path = os.path.join(folder, f"{stem}.jpg")
    os.mkdir(path)
    return path, path


def _broken_symlink(folder, stem):
    path = os.path.join(folder, f"{stem}.jpg")
    os.symlink(os.path.join(folder, f"{stem}-gone.jpg"), path)
    return path, path


def _non_utf8_empty(folder, stem):
    path = os.path.join(os.fsencode(folder), stem.encode() + b" \xff\xfe.jpg")
    open(path, "wb").close()
    return path, os.path.join(folder, stem + " \\xff\\xfe.jpg")


def _missing_value(folder, stem):
    return None, None


def _unreadable(folder, stem):
    path = os.path.join(folder, f"{stem}.png")
    Image.new("RGB", (6, 9), (200, 10, 10)).save(path)
    os.chmod(path, 0)
    return path, path


@dataclass(frozen=True)
class BadKind:
    """A kind of bad file: ``make(folder, stem)`` -> (path given, path shown); the reason
    ``reason(folder, stem)`` is a regex the reported reason must match in full."""

    name: str
    make: object
    reason: object


def _exact(text):
    return lambda folder, stem: re.escape(text)


BAD_KINDS = (
    BadKind("zero bytes", _bytes_kind(b""), _exact("empty file (0 bytes)")),
    BadKind("JPEG cut after SOI", _bytes_kind(_JPEG[:4]), _exact("truncated JPEG file")),
    BadKind(
        "JPEG cut in header",
        _bytes_kind(_JPEG[:200]),
        _exact("truncated image header (OSError: Truncated File Read)"),
    ),
    BadKind(
        "JPEG cut mid-scan",
        _bytes_kind(_JPEG[: len(_JPEG) // 2]),
        lambda f, s: (
            r"truncated image data \(image file is truncated \(\d+ bytes not processed\)\)"
        ),
    ),
    BadKind(
        "JPEG without EOI",
        _bytes_kind(_JPEG[:-2]),
        # libjpeg decodes this one to the end without an error; read_poster still says
        _exact("truncated image data (no end-of-image marker)"),
    ),
    BadKind(
        "PNG bad IHDR CRC",
        _bytes_kind(bytes(_BAD_CRC), "png"),
        _exact("corrupt PNG header (bad CRC in IHDR chunk)"),
    ),
    BadKind(
        "PNG corrupt IDAT",
        _bytes_kind(bytes(_BAD_IDAT), "png"),
        _exact("corrupt image data (broken data stream when reading image file)"),
    ),
    BadKind(
        "PNG truncated",
        _bytes_kind(_PNG[: len(_PNG) // 2], "png"),
        _exact("truncated image data (image file is truncated)"),
    ),
    BadKind(
        "text named .jpg",
        _bytes_kind(b"id,title\ntt0078748,Alien\n"),
        _exact("not an image: looks like text"),
    ),
    BadKind(
        "HTML error page named .jpg",
        _bytes_kind(_HTML),
        _exact("not an image: looks like an HTML page"),
    ),
    BadKind("missing file", _missing, _exact("file not found")),
    BadKind("directory", _directory, _exact("is a directory")),
    BadKind(
        "broken symlink",
        _broken_symlink,
        lambda f, s: re.escape(
            f"broken symbolic link (target '{os.path.join(f, s + '-gone.jpg')}' does not exist)"
        ),
    ),
    BadKind(
        "decompression bomb header",
        _bytes_kind(_png_header_only(10_000, 10_000), "png"),
        lambda f, s: (
            r"decompression bomb guard: 10000x10000 = 100000000 pixels exceeds "
            rf"max_pixels={Image.MAX_IMAGE_PIXELS}"
        ),
    ),
    BadKind(
        "zero-size PNG", _bytes_kind(_png_header_only(0, 5), "png"), _exact("zero-size image (0x5)")
    ),
    BadKind("non-UTF-8 name, empty", _non_utf8_empty, _exact("empty file (0 bytes)")),
    BadKind("missing value (None)", _missing_value, _exact("no path given (missing value)")),
    BadKind("mode 000", _unreadable, _exact("permission denied")),
)


def can_read_mode_000():
    """Whether this process reads files whatever their mode (root, CAP_DAC_OVERRIDE)."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "probe")
        open(path, "wb").close()
        os.chmod(path, 0)
        return os.access(path, os.R_OK)


# ------------------------------------------------------------------ the batch


@dataclass
class Batch:
    """A mixed batch, in input order.

    ``paths``: what goes in (str, bytes or None); ``labels``: the good poster's number, or -1
    for a bad input; ``bad``: one row per bad input (``index``, ``path`` as the report must
    show it, ``kind``, ``reason`` regex); ``unreadable``: the mode-000 files;
    ``sources``: for ``real_dir``, the real poster behind each good input.
    """

    folder: str
    paths: list
    labels: np.ndarray
    bad: pd.DataFrame
    unreadable: list = field(default_factory=list)
    sources: dict = field(default_factory=dict)

    @property
    def good_mask(self):
        return self.labels >= 0


def real_posters(root=None):
    """Sorted paths of the real posters (``<data>/av-posters/Images``)."""
    from posterml._config import get_data_root

    data = get_data_root(root)
    if data is None:
        raise FileNotFoundError("no data root: set POSTERML_DATA or pass --data")
    folder = Path(data) / "av-posters" / "Images"
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise FileNotFoundError(f"no poster images in {folder}")
    return paths


def make_bad_batch(folder, n=10_000, bad_fraction=0.01, seed=0, kinds=None, real=None):
    """Write a batch of ``n`` posters, ``round(n * bad_fraction)`` of them bad, into ``folder``.

    Bad inputs sit at seeded random positions; their kinds (default: all of ``BAD_KINDS``)
    are used in turn, in a seeded order, so a batch with at least ``len(kinds)`` bad files
    has every kind, and a smaller one has distinct kinds. Good input ``j`` (the j-th good
    one) is a flat colour encoding ``j`` (:func:`label_colour`) or, with ``real`` (a list
    of poster paths), a symbolic link to ``real[j % len(real)]``.
    """
    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    kinds = list(BAD_KINDS if kinds is None else kinds)
    rng = np.random.default_rng(seed)
    n_bad = int(round(n * bad_fraction))
    if not 0 <= n_bad <= n:
        raise ValueError(f"bad_fraction={bad_fraction} gives {n_bad} bad files of {n}")
    if n_bad and not kinds:
        raise ValueError("no bad kinds to make bad files with")
    bad_at = np.sort(rng.choice(n, size=n_bad, replace=False))
    # every kind once (in a seeded order) before any twice, then shuffled over the positions
    kind_order = rng.permutation(len(kinds))
    order = kind_order[np.arange(n_bad) % max(1, len(kinds))]
    rng.shuffle(order)
    labels = np.full(n, -1, dtype=np.int64)
    good_at = np.setdiff1d(np.arange(n), bad_at)
    labels[good_at] = np.arange(len(good_at))
    paths = [None] * n
    sources = {}
    for i, label in zip(good_at, labels[good_at]):
        if real is None:
            paths[i] = _write_good(folder, int(label))
        else:
            source = os.fspath(real[int(label) % len(real)])
            link = os.path.join(folder, f"real{int(label):05d}{Path(source).suffix}")
            os.symlink(source, link)
            paths[i] = link
            sources[link] = source
    rows, unreadable = [], []
    for k, (i, which) in enumerate(zip(bad_at, order)):
        kind = kinds[which]
        stem = f"bad{k:03d}"
        given, shown = kind.make(folder, stem)
        paths[i] = given
        if kind.name == "mode 000":
            unreadable.append(given)
        rows.append(
            {"index": int(i), "path": shown, "kind": kind.name, "reason": kind.reason(folder, stem)}
        )
    bad = pd.DataFrame(rows, columns=["index", "path", "kind", "reason"])
    return Batch(folder, paths, labels, bad, unreadable, sources)


# ------------------------------------------------------------------ checks


def check_report(batch, skipped):
    """Whether ``skipped`` lists exactly the batch's bad inputs, with their paths and reasons."""
    if len(skipped) != len(batch.bad):
        return False
    if skipped["index"].tolist() != batch.bad["index"].tolist():
        return False
    if skipped["path"].tolist() != batch.bad["path"].tolist():
        return False
    return all(
        re.fullmatch(pattern, reason) is not None
        for pattern, reason in zip(batch.bad["reason"], skipped["reason"])
    )


def evaluate(batch, name, out, valid_mask, skipped, seconds, decoded=None, sample_ok=None):
    """One row of the result table (``decoded``: poster numbers read back from the rows)."""
    good = batch.good_mask
    lost = int((good & ~valid_mask).sum())
    kept_bad = int((~good & valid_mask).sum())
    aligned = len(out) == int(valid_mask.sum()) and kept_bad == 0
    if decoded is not None:
        aligned = aligned and np.array_equal(decoded, batch.labels[valid_mask])
    if sample_ok is not None:
        aligned = aligned and sample_ok
    return {
        "transformer": name,
        "rows in": len(batch.paths),
        "rows out": len(out),
        "skipped": len(skipped),
        "good rows lost": lost,
        "bad rows kept": kept_bad,
        "skip report complete": check_report(batch, skipped),
        "aligned": bool(aligned),
        "seconds": round(seconds, 2),
    }


def exit_code(rows):
    """1 if any row lost a good poster, misaligned or reported incompletely, else 0."""
    failed = [
        r
        for r in rows
        if r["good rows lost"]
        or r["bad rows kept"]
        or not r["skip report complete"]
        or not r["aligned"]
    ]
    return 1 if failed else 0


def _centre_colours(images):
    """(n, H, W, 3) -> the centre pixel of each image (away from JPEG block edges)."""
    height, width = images.shape[1:3]
    return images[:, height // 2, width // 2]


def _sample_agrees(make_step, batch, out, valid_mask, n_sample, rng, atol):
    """``n_sample`` random output rows equal the transform of their file alone."""
    if n_sample <= 0 or not len(out):
        return None
    kept = np.flatnonzero(valid_mask)
    rows = np.sort(rng.choice(len(out), size=min(n_sample, len(out)), replace=False))
    step = make_step().fit(["unused.png"])
    reference = np.concatenate([step.transform([batch.paths[kept[r]]]) for r in rows])
    return bool(np.allclose(out[rows], reference, rtol=0, atol=atol))


def run_transformers(batch, names, threads, n_sample, seed, generated):
    """Run each named transformer on the batch; return the table rows."""
    from posterml.features import DominantColorBrightness, PixelFlattener
    from posterml.io import PosterReader

    n_jobs = threads if threads > 1 else None
    steps = {
        "reader": ("PosterReader", lambda: PosterReader(size=READ_SIZE, n_jobs=n_jobs)),
        "pixels": ("PixelFlattener", lambda: PixelFlattener(size=READ_SIZE)),
        "color": (
            "DominantColorBrightness",
            lambda: DominantColorBrightness(dominant_rgb=True, n_jobs=n_jobs),
        ),
    }
    if "cnn" in names:
        from posterml.features import CNNEmbedder

        steps["cnn"] = ("CNNEmbedder", lambda: CNNEmbedder(n_threads=threads))
    rng = np.random.default_rng(seed)
    rows = []
    for key in names:
        label, make_step = steps[key]
        step = make_step().set_params(on_error="skip")
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the skip summary: checked below
            out = step.fit(["unused.png"]).transform(batch.paths)
        seconds = time.perf_counter() - start
        valid, skipped = step.valid_mask_, step.skipped_
        decoded = None
        if generated and key == "reader":
            decoded = decode_labels(_centre_colours(out))
        elif generated and key == "pixels":
            width, height = READ_SIZE
            decoded = decode_labels(_centre_colours(out.reshape(-1, height, width, 3) * 255))
        elif generated and key == "color":
            decoded = decode_labels(out[:, -3:] * 255)
        sample_ok = None
        if key == "cnn":
            sample_ok = _sample_agrees(make_step, batch, out, valid, n_sample, rng, 1e-5)
        elif decoded is None:  # real posters: the same rows as the good files alone
            clean = [p for p, good in zip(batch.paths, batch.good_mask) if good]
            sample_ok = bool(np.array_equal(out, make_step().fit(clean).transform(clean)))
        rows.append(evaluate(batch, label, out, valid, skipped, seconds, decoded, sample_ok))
    return rows


def markdown(rows):
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [("yes" if v else "no") if isinstance(v, bool) else str(v) for v in row.values()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def reasons_table(batch, skipped):
    """One line per bad kind: how many, and the reason the user sees (first file)."""
    merged = batch.bad.merge(skipped, on="index", suffixes=("", "_seen"), how="left")
    lines = ["| bad kind | files | reason shown (first file) |", "|---|---|---|"]
    folder = batch.folder
    for kind, group in merged.groupby("kind", sort=False):
        seen = group["reason_seen"].iloc[0]
        seen = "(not reported)" if not isinstance(seen, str) else seen.replace(folder, "<dir>")
        lines.append(f"| {kind} | {len(group)} | `{seen}` |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="posters in the batch")
    parser.add_argument("--bad-fraction", type=float, default=0.01, help="share of bad files")
    parser.add_argument("--seed", type=int, default=0, help="positions and kinds of bad files")
    parser.add_argument(
        "--out-dir",
        help="folder to write the batch and results.json into (kept); default: a temporary "
        "folder, removed at the end",
    )
    parser.add_argument(
        "--real", action="store_true", help="real posters (symlinked) instead of generated ones"
    )
    parser.add_argument("--data", help="data root holding av-posters/ (for --real)")
    parser.add_argument(
        "--transformers", nargs="+", choices=TRANSFORMERS, default=list(TRANSFORMERS)
    )
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument(
        "--check-sample",
        type=int,
        default=200,
        help="CNN rows compared with the embedding of their file alone",
    )
    args = parser.parse_args(argv)
    if args.n < 1 or not 0 <= args.bad_fraction <= 1:
        parser.error("--n must be >= 1 and --bad-fraction in [0, 1]")

    # The skip summaries go to the "posterml" logger (and a UserWarning): the table says it.
    logging.getLogger("posterml").setLevel(logging.ERROR)
    kinds = list(BAD_KINDS)
    notes = []
    if can_read_mode_000():
        kinds = [k for k in kinds if k.name != "mode 000"]
        notes.append("mode-000 kind left out: this process reads files whatever their mode (root)")
    real = None
    if args.real:
        try:
            real = real_posters(args.data)
        except FileNotFoundError as exc:
            print(f"bench_bad_batch: real posters not found: {exc}", file=sys.stderr)
            return 2
        if args.n > len(real):
            notes.append(f"{len(real)} real posters, reused in turn for {args.n} inputs")
    if args.out_dir and os.path.isdir(args.out_dir) and os.listdir(args.out_dir):
        print(f"bench_bad_batch: --out-dir {args.out_dir!r} is not empty", file=sys.stderr)
        return 2
    folder = args.out_dir or tempfile.mkdtemp(prefix="bad-batch-")
    try:
        start = time.perf_counter()
        batch = make_bad_batch(folder, args.n, args.bad_fraction, args.seed, kinds, real)
        made = time.perf_counter() - start
        rows = run_transformers(
            batch, args.transformers, args.threads, args.check_sample, args.seed, real is None
        )
        source = "real posters (symlinks)" if real is not None else "generated posters"
        print(
            f"{args.n} {source}, {len(batch.bad)} bad ({args.bad_fraction:.2%}, "
            f"{batch.bad['kind'].nunique()} kinds), seed {args.seed}, {args.threads} threads; "
            f"batch written in {made:.1f} s"
        )
        for note in notes:
            print(f"note: {note}")
        print()
        print(markdown(rows))
        print()
        from posterml.io import PosterReader

        reader = PosterReader(size=(4, 6), on_error="skip")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            reader.transform(batch.paths)
        print(reasons_table(batch, reader.skipped_))
        if args.out_dir:
            result = {"args": vars(args), "notes": notes, "rows": rows}
            Path(folder, "results.json").write_text(json.dumps(result, indent=2))
        return exit_code(rows)
    finally:
        if not args.out_dir:
            _remove(folder)


def _remove(folder):
    for root, dirs, _ in os.walk(folder):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o755)
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
