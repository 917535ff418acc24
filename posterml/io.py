"""Robust poster reading: one decode path for every file, clear errors for bad ones.

:func:`read_poster` turns one image file into an RGB (or grayscale) ``uint8`` array;
:class:`PosterReader` does the same for many paths as a scikit-learn transformer that can
skip bad files and report them.

Decode path (fixed, so pixels are reproducible run to run):

1. Pillow parses the header; the decompression-bomb limit is checked on the declared size
   before any pixel is decoded.
2. When a target ``size`` is given, JPEGs are decoded with DCT scaling (``Image.draft``) to
   the smallest scale that keeps at least twice the target size in both directions; other
   formats are decoded at full size.
3. EXIF orientation is applied, alpha is composited on white, 16-bit data is scaled to
   8 bits, any other mode goes through Pillow's own conversion to RGB or L.
4. The array is resized with OpenCV ``cv2.resize`` (``INTER_AREA`` by default, the
   same function :class:`posterml.features.PixelFlattener` uses for arrays).

Importing this module changes no global setting of Pillow or OpenCV.
"""

import logging
import math
import os
import struct
import sys
import threading
import warnings
import zlib
from numbers import Integral

import cv2
import numpy as np
import pandas as pd
from PIL import Image, ImageOps, UnidentifiedImageError
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from tqdm.auto import tqdm

__all__ = ["PosterReadError", "PosterReader", "read_poster"]

logger = logging.getLogger("posterml")

_RESAMPLE = {
    "area": cv2.INTER_AREA,
    "bilinear": cv2.INTER_LINEAR,
    "bicubic": cv2.INTER_CUBIC,
    "lanczos": cv2.INTER_LANCZOS4,
    "nearest": cv2.INTER_NEAREST,
}
_MODES = ("RGB", "L")
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})
_EXIF_ORIENTATION = 0x0112
# JPEGs are DCT-scaled to at least this many times the target size before the area resize.
# 1 would decode the 182-px posters ~1.6x faster at 64x64, but differs from a full decode by
# ~3/255 per pixel on average; 2 keeps them identical to a full decode there.
_DRAFT_OVERSAMPLE = 2
# warnings.catch_warnings swaps the process-wide filter list: serialise our own uses so
# that concurrent reader threads never restore each other's copy.
_OPEN_LOCK = threading.Lock()


class PosterReadError(ValueError):
    """A poster file could not be read.

    Parameters
    ----------
    path : str or path-like or None
        The file that failed.
    reason : str
        Short, human-readable cause (``"file not found"``, ``"truncated image data ..."``).

    Attributes
    ----------
    path : str or None
        The file that failed, as printable text: bytes of the file name that are not valid
        UTF-8 (or not decodable in the file-system encoding) are shown as ``\\xNN``, and
        control or other non-printable characters as ``\\xNN``, ``\\uNNNN`` escapes, so
        the message always prints and logs. Identical to the path for ordinary names.
    filename : str or bytes or None
        The file as given (``os.fspath`` of it), usable to open or move the file.
    reason : str
        Why it failed.

    Examples
    --------
    >>> from posterml.io import PosterReadError
    >>> err = PosterReadError("a.jpg", "file not found")
    >>> str(err)
    "cannot read poster 'a.jpg': file not found"
    >>> PosterReadError(b"caf\\xe9.jpg", "empty file (0 bytes)").path
    'caf\\\\xe9.jpg'
    """

    def __init__(self, path, reason):
        try:
            self.filename = None if path is None else os.fspath(path)
        except TypeError:
            self.filename = path
        self.path = None if path is None else _printable_path(path)
        self.reason = reason
        super().__init__(f"cannot read poster '{self.path}': {reason}")

    def __reduce__(self):
        # The default reduce would call __init__ with the message only.
        return type(self), (self.filename, self.reason)


def _path_str(path):
    try:
        path = os.fspath(path)
    except TypeError:
        return str(path)
    return os.fsdecode(path)


def _escape_char(char):
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as os.fsdecode keeps it
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _printable_path(path):
    """``path`` as text that always prints: non-printable characters become escapes.

    A Linux file name is bytes; ``os.fsdecode`` turns bytes that are not valid UTF-8 into
    lone surrogates, which cannot be written to a UTF-8 terminal, log file or CSV. They are
    shown as ``\\xNN`` (the byte), control characters as ``\\xNN``, and other
    non-printable code points as ``\\uNNNN``.
    """
    text = _path_str(path)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape_char(c) for c in text)


def _is_missing(path):
    if path is None:
        return True
    if isinstance(path, float) and math.isnan(path):
        return True
    return path is pd.NA or path is pd.NaT or (isinstance(path, str) and not path.strip())


def _check_size(size, name="size"):
    """Validate a ``(width, height)`` pair of positive ints; return it as a tuple."""
    if size is None:
        return None
    if isinstance(size, (str, bytes)) or not hasattr(size, "__len__") or len(size) != 2:
        raise ValueError(f"{name} must be a (width, height) pair of positive ints, got {size!r}")
    width, height = size
    for value in (width, height):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
            raise ValueError(
                f"{name} must be a (width, height) pair of positive ints, got {size!r}"
            )
    return int(width), int(height)


def _resize(array, size, resample="area"):
    """Resize an (H, W) or (H, W, C) array to ``size=(width, height)`` with cv2.resize."""
    height, width = array.shape[:2]
    if (width, height) == tuple(size):
        return np.array(array, copy=True)
    if array.dtype not in (np.uint8, np.uint16, np.int16, np.float32, np.float64):
        array = array.astype(np.float32)
    out = cv2.resize(np.ascontiguousarray(array), tuple(size), interpolation=_RESAMPLE[resample])
    if array.ndim == 3 and out.ndim == 2:
        # cv2 drops a trailing axis of length 1
        out = out[:, :, np.newaxis]
    return out


_END_MARKERS = {"PNG": b"IEND\xae\x42\x60\x82", "JPEG": b"\xff\xd9", "GIF": b";"}


def _sniff_unidentified(fp):
    """Say what a file Pillow cannot identify looks like (its first and last bytes)."""
    fp.seek(0)
    head = fp.read(64)
    fp.seek(0, os.SEEK_END)
    fp.seek(max(0, fp.tell() - 64))
    tail = fp.read().rstrip(b"\x00\r\n\t ")
    fmt = None
    for magic, name in (
        (b"\x89PNG", "PNG"),
        (b"\xff\xd8\xff", "JPEG"),
        (b"GIF8", "GIF"),
        (b"BM", "BMP"),
        (b"II*\x00", "TIFF"),
        (b"MM\x00*", "TIFF"),
    ):
        if head.startswith(magic):
            fmt = name
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        fmt = "WebP"
    if fmt == "PNG" and len(head) >= 33 and head[12:16] == b"IHDR":
        width, height = struct.unpack(">II", head[16:24])
        if width == 0 or height == 0:
            return f"zero-size image ({width}x{height})"
        if zlib.crc32(head[12:29]) != struct.unpack(">I", head[29:33])[0]:
            return "corrupt PNG header (bad CRC in IHDR chunk)"
    if fmt in _END_MARKERS and not tail.endswith(_END_MARKERS[fmt]):
        return f"truncated {fmt} file"
    if fmt is not None:
        return f"corrupt or unsupported {fmt} file"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in text:
        return "not an image: looks like an HTML page"
    if text.startswith((b"<?xml", b"<svg")):
        return "not a supported image: looks like XML/SVG"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "not a recognised image format"
    return "not an image: looks like text"


def _open_image(fp, path, limit):
    """Image.open under a local warnings filter; bomb limit checked on the header."""
    try:
        with _OPEN_LOCK, warnings.catch_warnings():
            # Our own limit below decides; Pillow's warning would only duplicate it.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(fp)
    except Image.DecompressionBombError as exc:
        raise PosterReadError(path, f"decompression bomb guard: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise PosterReadError(path, _sniff_unidentified(fp)) from exc
    except Exception as exc:  # Pillow plugins raise SyntaxError, struct.error, ...
        kind = "truncated" if "truncated" in str(exc).lower() else "corrupt"
        raise PosterReadError(path, f"{kind} image header ({type(exc).__name__}: {exc})") from exc
    width, height = image.size
    if width <= 0 or height <= 0:
        image.close()
        raise PosterReadError(path, f"zero-size image ({width}x{height})")
    if limit is not None and width * height > limit:
        image.close()
        raise PosterReadError(
            path,
            f"decompression bomb guard: {width}x{height} = {width * height} pixels "
            f"exceeds max_pixels={limit}",
        )
    return image


def _exif_orientation(image):
    try:
        return int(image.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:  # a broken EXIF block must not cost the pixels
        return 1


def _sixteen_bit_to_uint8(image):
    # Pillow's convert("L") clips I;16 values at 255 instead of scaling them.
    values = np.asarray(image).astype(np.int64)
    values = np.clip(values, 0, 65535)
    return ((values * 255 + 32767) // 65535).astype(np.uint8)


def _to_array(image, mode):
    """Loaded PIL image -> uint8 array in ``mode`` ("RGB" or "L")."""
    if image.mode in _SIXTEEN_BIT_MODES:
        gray = _sixteen_bit_to_uint8(image)
        return gray if mode == "L" else np.repeat(gray[:, :, np.newaxis], 3, axis=2)
    if image.mode in _ALPHA_MODES or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba).convert("RGB")
    if image.mode != mode:
        if mode == "L" and image.mode not in ("1", "L", "RGB"):
            image = image.convert("RGB")  # e.g. CMYK has no direct route to L
        image = image.convert(mode)
    return np.array(image, dtype=np.uint8)


def read_poster(path, size=None, *, mode="RGB", resample="area", max_pixels=None):
    """Read one poster image into a ``uint8`` array.

    Parameters
    ----------
    path : str or path-like
        Image file. Any format Pillow reads (JPEG, PNG, GIF, WebP, BMP, TIFF, ...).
    size : (int, int), optional
        ``(width, height)`` of the result. ``None`` keeps the decoded size.
    mode : {"RGB", "L"}, default="RGB"
        ``"RGB"`` returns ``(H, W, 3)``; ``"L"`` returns ``(H, W)`` grayscale.
    resample : {"area", "bilinear", "bicubic", "lanczos", "nearest"}, default="area"
        OpenCV interpolation used when resizing (``"area"`` is ``cv2.INTER_AREA``).
    max_pixels : int, optional
        Largest ``width * height`` accepted (decompression-bomb guard), checked on the header
        before decoding. ``None`` uses Pillow's current ``Image.MAX_IMAGE_PIXELS``. Pillow
        itself still refuses images above twice its own limit.

    Returns
    -------
    ndarray of uint8
        ``(H, W, 3)`` RGB or ``(H, W)`` grayscale.

    Raises
    ------
    PosterReadError
        For any file that cannot be read correctly: missing, a directory, empty, truncated,
        corrupt, not an image, too large, unreadable, zero-size, a broken symbolic link.
    ValueError
        For an invalid ``size``, ``mode`` or ``resample``.

    Notes
    -----
    - Alpha (RGBA, LA, palette transparency) is composited on white.
    - 16-bit grayscale is scaled to 8 bits (``round(v / 257)``), not clipped.
    - CMYK and YCCK JPEGs go through libjpeg and Pillow's CMYK-to-RGB conversion.
    - EXIF orientation is applied; animated and multi-page files give their first frame.
    - A JPEG without its EOI marker is reported as truncated, also when libjpeg decodes it
      without complaint: Pillow cannot tell it from a file cut inside the scan data, and
      grey-padding a cut file would hide it. Data appended after the EOI is accepted.
    - With ``size``, JPEGs are DCT-scaled (``Image.draft``) to the smallest scale that keeps
      at least ``2 * size`` pixels, then resized with ``cv2.resize``.

    Examples
    --------
    >>> import tempfile, os
    >>> from PIL import Image
    >>> from posterml.io import read_poster
    >>> path = os.path.join(tempfile.mkdtemp(), "poster.png")
    >>> Image.new("RGBA", (40, 60), (255, 0, 0, 0)).save(path)
    >>> img = read_poster(path, size=(20, 30))
    >>> img.shape, img.dtype, img[0, 0].tolist()
    ((30, 20, 3), dtype('uint8'), [255, 255, 255])
    """
    size = _check_size(size)
    if mode not in _MODES:
        raise ValueError(f"mode must be 'RGB' or 'L', got {mode!r}")
    if resample not in _RESAMPLE:
        raise ValueError(f"resample must be one of {sorted(_RESAMPLE)}, got {resample!r}")
    if max_pixels is None:
        limit = Image.MAX_IMAGE_PIXELS
    elif isinstance(max_pixels, bool) or not isinstance(max_pixels, Integral) or max_pixels < 1:
        raise ValueError(f"max_pixels must be a positive int or None, got {max_pixels!r}")
    else:
        limit = int(max_pixels)

    if _is_missing(path):
        raise PosterReadError(None, "no path given (missing value)")
    try:
        path = os.fspath(path)
    except TypeError:
        raise TypeError(
            f"path must be a str or path-like, got {type(path).__name__}: {path!r}"
        ) from None

    _check_file(path)
    try:
        fp = open(path, "rb")  # noqa: SIM115 - closed in the finally below
    except PermissionError as exc:
        raise PosterReadError(path, "permission denied") from exc
    except OSError as exc:
        raise PosterReadError(path, f"cannot open file ({exc.strerror or exc})") from exc
    try:
        image = _open_image(fp, path, limit)
        with image:
            return _decode(image, fp, path, size, mode, resample)
    finally:
        fp.close()


def _check_file(path):
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            target = os.readlink(path)
            raise PosterReadError(
                path, f"broken symbolic link (target '{_printable_path(target)}' does not exist)"
            ) from None
        raise PosterReadError(path, "file not found") from None
    except PermissionError:
        raise PosterReadError(path, "permission denied") from None
    except OSError as exc:
        raise PosterReadError(path, f"cannot stat file ({exc.strerror or exc})") from None
    if os.path.isdir(path):
        raise PosterReadError(path, "is a directory")
    if not os.path.isfile(path):
        # Opening a FIFO or device could block forever.
        raise PosterReadError(path, "not a regular file")
    if st.st_size == 0:
        raise PosterReadError(path, "empty file (0 bytes)")


def _jpeg_has_eoi(fp):
    """Whether a JPEG has its EOI marker: at the end (padding allowed) or after the scans.

    The fast path reads the last 64 bytes. Otherwise (data appended after the image, or no
    EOI) the marker segments are walked to the first start-of-scan, after which ``FF D9``
    can only be EOI (entropy-coded data stuffs every ``FF`` byte); this skips the EOI of an
    EXIF thumbnail, which sits in an APP1 segment before the scan.
    """
    try:
        fp.seek(0, os.SEEK_END)
        fp.seek(max(0, fp.tell() - 64))
        if fp.read().rstrip(b"\x00\r\n\t ").endswith(b"\xff\xd9"):
            return True
        fp.seek(0)
        data = fp.read()
    except OSError:
        return False
    pos = 2  # after SOI
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xDA:  # start of scan
            return data.find(b"\xff\xd9", pos) != -1
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        pos += 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]
    return False


def _decode(image, fp, path, size, mode, resample):
    if size is not None and image.format in ("JPEG", "MPO"):
        # JPEG EXIF is parsed with the header (other formats' getexif() may decode the
        # pixels, so they are asked only after load()).
        width, height = size
        if _exif_orientation(image) in (5, 6, 7, 8):  # stored transposed
            width, height = height, width
        # libjpeg's DCT scaling, kept at >= 2x the target so that the area resize below
        # still averages over real pixels.
        image.draft(image.mode, (_DRAFT_OVERSAMPLE * width, _DRAFT_OVERSAMPLE * height))
    is_jpeg = image.format in ("JPEG", "MPO")
    try:
        image.load()
    except OSError as exc:
        if "truncated" in str(exc).lower() or (is_jpeg and not _jpeg_has_eoi(fp)):
            raise PosterReadError(path, f"truncated image data ({exc})") from exc
        raise PosterReadError(path, f"corrupt image data ({exc})") from exc
    except Exception as exc:
        raise PosterReadError(path, f"corrupt image data ({type(exc).__name__}: {exc})") from exc
    if is_jpeg and not _jpeg_has_eoi(fp):
        # libjpeg decodes some of these to the end without an error (when only the EOI
        # marker is cut); others fail. Say the same for all, as documented.
        raise PosterReadError(path, "truncated image data (no end-of-image marker)")
    orientation = _exif_orientation(image)
    try:
        if orientation != 1:
            transposed = ImageOps.exif_transpose(image)
            image = transposed if transposed is not None else image
        array = _to_array(image, mode)
    except Exception as exc:  # e.g. a mode Pillow cannot convert
        raise PosterReadError(
            path, f"cannot convert {image.mode} image to {mode} ({type(exc).__name__}: {exc})"
        ) from exc
    if size is not None:
        array = _resize(array, size, resample)
    return array


def _path_list(X):
    """Paths from a list, 1-D array, Series, or a DataFrame with a ``poster_path`` column."""
    if isinstance(X, pd.DataFrame):
        if "poster_path" not in X.columns:
            raise ValueError(
                "a DataFrame of posters needs a 'poster_path' column; "
                f"got columns {list(X.columns)}"
            )
        values = X["poster_path"].tolist()
    elif isinstance(X, (str, bytes, os.PathLike)):
        raise TypeError(f"expected a list of paths, got a single path {X!r}; wrap it in a list")
    elif isinstance(X, pd.Series):
        values = X.tolist()
    elif isinstance(X, np.ndarray):
        if X.ndim != 1:
            raise ValueError(f"expected a 1-D array of paths, got an array of shape {X.shape}")
        values = X.tolist()
    else:
        try:
            values = list(X)
        except TypeError:
            raise TypeError(f"expected a list of paths, got {type(X).__name__}: {X!r}") from None
    for i, value in enumerate(values):
        if not (_is_missing(value) or isinstance(value, (str, bytes, os.PathLike))):
            raise TypeError(
                f"path at index {i} must be a str or path-like, got {type(value).__name__}: "
                f"{value!r}"
            )
    return values


def _resolve_under(paths, root):
    """Join relative paths to ``root``; refuse any that leave it (checked lexically)."""
    if root is None:
        return paths
    root_str = os.fsdecode(os.fspath(root))
    if not os.path.isdir(root_str):
        raise FileNotFoundError(f"root folder {root_str!r} does not exist")
    base = os.path.abspath(root_str)
    resolved = []
    for value in paths:
        if _is_missing(value):
            resolved.append(value)
            continue
        text = os.fsdecode(os.fspath(value))
        if os.path.isabs(text):
            resolved.append(text)
            continue
        joined = os.path.normpath(os.path.join(base, text))
        if os.path.commonpath([base, joined]) != base:
            raise ValueError(f"path {text!r} escapes root {root_str!r}")
        resolved.append(joined)
    return resolved


def _read_many(
    paths,
    *,
    size,
    mode,
    resample,
    max_pixels,
    on_error,
    n_jobs,
    verbose,
    labels=None,
):
    """Read ``paths`` in order; return (images list, valid mask, skipped DataFrame)."""
    labels = paths if labels is None else labels

    stop = threading.Event()

    def read_one(path):
        if stop.is_set():  # raise mode already failed: drain the queue cheaply
            return None, None
        try:
            return read_poster(
                path, size, mode=mode, resample=resample, max_pixels=max_pixels
            ), None
        except PosterReadError as exc:
            return None, exc

    if n_jobs is None:
        results = map(read_one, paths)
    else:
        from joblib import Parallel, delayed

        # Threads: Pillow and OpenCV release the GIL while decoding and resizing.
        results = Parallel(n_jobs=n_jobs, prefer="threads", return_as="generator")(
            delayed(read_one)(path) for path in paths
        )
    progress = tqdm(
        results,
        total=len(paths),
        disable=None if verbose else True,
        desc="reading posters",
        unit="poster",
    )
    images, valid, skipped = [], np.zeros(len(paths), dtype=bool), []
    for i, (image, error) in enumerate(progress):
        if error is not None:
            if on_error == "raise":
                stop.set()
                # Let the queued tasks finish (instantly) instead of abandoning the
                # generator, which makes joblib warn about unused results.
                for _ in progress:
                    pass
                raise error
            skipped.append({"index": i, "path": _label(labels[i]), "reason": error.reason})
            continue
        images.append(image)
        valid[i] = True
    progress.close()
    skipped = pd.DataFrame(skipped, columns=["index", "path", "reason"]).astype({"index": np.int64})
    return images, valid, skipped


def _label(path):
    return None if _is_missing(path) else _printable_path(path)


def _caller_stacklevel():
    """Stack level of the first frame outside posterml and scikit-learn (for warnings)."""
    import sklearn

    internal = (
        os.path.dirname(os.path.abspath(__file__)) + os.sep,
        os.path.dirname(os.path.abspath(sklearn.__file__)) + os.sep,
    )
    # frame 0 is this function, 1 the one calling warnings.warn (its stacklevel 1)
    frame, level = sys._getframe(2), 2
    while frame is not None and frame.f_code.co_filename.startswith(internal):
        frame, level = frame.f_back, level + 1
    return level


def _report_skipped(skipped, n_total, see="skipped_ and valid_mask_"):
    """One log line and one warning for the posters a call skipped (nothing if none)."""
    if skipped.empty:
        return
    first = skipped.iloc[0]
    message = (
        f"skipped {len(skipped)} of {n_total} posters that could not be read "
        f"(first: '{first['path']}': {first['reason']}); see {see}"
    )
    logger.warning(message)
    warnings.warn(message, UserWarning, stacklevel=_caller_stacklevel())


def _stack(images, size, mode):
    """List of equally sized arrays -> (n, H, W[, 3]) array, also for n == 0."""
    if images:
        return np.stack(images)
    width, height = size
    return np.empty((0, height, width, 3) if mode == "RGB" else (0, height, width), np.uint8)


def _object_array(images):
    out = np.empty(len(images), dtype=object)
    for i, image in enumerate(images):
        out[i] = image
    return out


class _ReportStateMixin:
    """Store report DataFrames (``skipped_``, ``unparsed_``) as plain lists when pickled or saved.

    skops, the safe model format, cannot hold pandas objects; a fitted pipeline with a poster
    or metadata step must still save. The report is rebuilt when the object is loaded, with
    its columns' dtypes; an object cell that is not a plain ``str``, ``int``, ``float``,
    ``bool`` or None is stored as its ``str``.
    """

    _report_attributes = ("skipped_",)

    def __getstate__(self):
        state = dict(super().__getstate__())
        for name in self._report_attributes:
            report = state.get(name)
            if isinstance(report, pd.DataFrame):
                state[name] = {
                    "__skip_report__": {c: _plain_list(report[c]) for c in report.columns},
                    "dtypes": {c: str(report[c].dtype) for c in report.columns},
                }
        return state

    def __setstate__(self, state):
        state = dict(state)
        for name in self._report_attributes:
            report = state.get(name)
            if isinstance(report, dict) and "__skip_report__" in report:
                columns = report["__skip_report__"]
                frame = pd.DataFrame(columns, columns=list(columns))
                dtypes = report.get("dtypes", {"index": "int64"} if "index" in frame else {})
                for column, dtype in dtypes.items():
                    if dtype != "object" and column in frame:
                        frame[column] = frame[column].astype(dtype)
                    elif column in frame:
                        frame[column] = frame[column].astype(object)
                state[name] = frame
        if hasattr(super(), "__setstate__"):
            super().__setstate__(state)
        else:
            self.__dict__.update(state)


def _plain_list(column):
    values = column.tolist()
    if column.dtype != object:
        return values
    return [v if v is None or type(v) in (str, int, float, bool) else str(v) for v in values]


class PosterReader(_ReportStateMixin, TransformerMixin, BaseEstimator):
    """Read poster files into ``uint8`` arrays (a stateless transformer).

    Parameters
    ----------
    size : (int, int), optional
        ``(width, height)`` of every image. ``None`` keeps each image's own size and makes
        :meth:`transform` return an object array of arrays.
    mode : {"RGB", "L"}, default="RGB"
        Colour mode, see :func:`read_poster`.
    on_error : {"raise", "skip"}, default="raise"
        ``"raise"``: the first unreadable file (in input order) raises
        :class:`PosterReadError`. ``"skip"``: unreadable files are left out, recorded in
        ``valid_mask_`` and ``skipped_``, and summarised in a ``UserWarning`` and a warning on
        the ``"posterml"`` logger.
    root : str or path-like, optional
        Folder that relative paths are resolved under. A relative path that leaves it
        (``../x.jpg``) raises ``ValueError``; the check is lexical (symbolic links inside
        ``root`` are followed). Absolute paths are used as they are.
    n_jobs : int, optional
        ``None`` reads in this thread; otherwise the number of joblib threads (``-1``: all
        cores).
    verbose : int, default=0
        Show a tqdm progress bar when non-zero (and the output is a terminal).
    resample : {"area", "bilinear", "bicubic", "lanczos", "nearest"}, default="area"
        Interpolation used when resizing, see :func:`read_poster`.
    max_pixels : int, optional
        Decompression-bomb limit, see :func:`read_poster`.

    Attributes
    ----------
    valid_mask_ : ndarray of bool, shape (n_inputs,)
        After :meth:`transform`: which inputs were read. Align labels with
        ``Y[reader.valid_mask_]``.
    skipped_ : DataFrame
        After :meth:`transform`: one row per unreadable input, columns ``index`` (position
        in the input), ``path`` (as given, relative to ``root`` if it was, in printable form:
        see :attr:`PosterReadError.path`; ``None`` for a missing value) and ``reason``.

    Examples
    --------
    >>> import tempfile, os
    >>> from PIL import Image
    >>> from posterml.io import PosterReader
    >>> folder = tempfile.mkdtemp()
    >>> Image.new("RGB", (30, 45), "red").save(os.path.join(folder, "a.jpg"))
    >>> reader = PosterReader(size=(16, 24), on_error="skip", root=folder)
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     images = reader.fit_transform(["a.jpg", "missing.jpg"])
    >>> images.shape, reader.valid_mask_.tolist(), reader.skipped_["reason"].tolist()
    ((1, 24, 16, 3), [True, False], ['file not found'])
    """

    _parameter_constraints = {
        "size": [None, tuple, list],
        "mode": [StrOptions(set(_MODES))],
        "on_error": [StrOptions({"raise", "skip"})],
        "root": [None, str, os.PathLike],
        "n_jobs": [None, Integral],
        "verbose": ["verbose"],
        "resample": [StrOptions(set(_RESAMPLE))],
        "max_pixels": [None, Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        size=None,
        *,
        mode="RGB",
        on_error="raise",
        root=None,
        n_jobs=None,
        verbose=0,
        resample="area",
        max_pixels=None,
    ):
        self.size = size
        self.mode = mode
        self.on_error = on_error
        self.root = root
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.resample = resample
        self.max_pixels = max_pixels

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Validate the parameters; nothing is learned.

        Parameters
        ----------
        X : ignored
        y : ignored

        Returns
        -------
        self : PosterReader
        """
        _check_size(self.size)
        return self

    def read_with_report(self, X):
        """Read ``X`` without storing anything on the reader.

        Parameters
        ----------
        X : list, 1-D array or Series of paths, or DataFrame with a ``poster_path`` column

        Returns
        -------
        images : ndarray
            ``(n_read, H, W, 3)`` (``(n_read, H, W)`` for mode "L") ``uint8`` when ``size``
            is set, else a 1-D object array of arrays.
        valid_mask : ndarray of bool, shape (n_inputs,)
        skipped : DataFrame with columns ``index``, ``path``, ``reason``

        Raises
        ------
        PosterReadError
            With ``on_error="raise"``, for the first unreadable file.
        """
        self._validate_params()
        size = _check_size(self.size)
        labels = _path_list(X)
        paths = _resolve_under(labels, self.root)
        images, valid, skipped = _read_many(
            paths,
            size=size,
            mode=self.mode,
            resample=self.resample,
            max_pixels=self.max_pixels,
            on_error=self.on_error,
            n_jobs=self.n_jobs,
            verbose=self.verbose,
            labels=labels,
        )
        if not skipped.empty:
            logger.info("skipped %d of %d posters", len(skipped), len(paths))
        images = _stack(images, size, self.mode) if size is not None else _object_array(images)
        return images, valid, skipped

    def transform(self, X):
        """Read the posters.

        Parameters
        ----------
        X : list, 1-D array or Series of paths, or DataFrame with a ``poster_path`` column

        Returns
        -------
        images : ndarray
            ``(n_read, H, W, 3)`` ``uint8`` when ``size`` is set (``(n_read, H, W)`` for
            mode "L"), else a 1-D object array of ``(H_i, W_i, 3)`` arrays. With
            ``on_error="skip"``, rows for unreadable files are left out (see
            ``valid_mask_``).
        """
        images, valid, skipped = self.read_with_report(X)
        self.valid_mask_ = valid
        self.skipped_ = skipped
        _report_skipped(skipped, len(valid))
        return images

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags
