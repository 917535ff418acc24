"""GPU check for CNNEmbedder: posters/s on CUDA and agreement with the CPU embeddings.

Run on a machine with a CUDA build of torch (no internet, no faiss needed)::

    python benchmarks/gpu_check_cnn.py                      # 4096 synthetic posters
    python benchmarks/gpu_check_cnn.py --images ../shared/data/av-posters/Images --n 4096

It reports, for each batch size (64 and 256 by default):

- ``network``: the EfficientNet forward pass alone on preprocessed batches already on the
  GPU (the figure to compare with the >= 3000 posters/s target);
- ``network+copy``: the same including the host-to-device copy of the float32 batch and the
  copy of the embeddings back;
- ``end-to-end``: ``CNNEmbedder(device="cuda", batch_size=bs).transform(...)``, which also
  decodes and preprocesses on the CPU (one thread);

plus the CPU decode+preprocess rate on its own, and the largest absolute difference between
the CUDA and the CPU embeddings of the first ``--cpu-check`` images (must be < 1e-3). Exits 1
when that check fails.
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from posterml.features import _cnn  # noqa: E402
from posterml.features._cnn import CNNEmbedder  # noqa: E402
from posterml.io import read_poster  # noqa: E402

TOLERANCE = 1e-3
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif"}


def _synthetic_posters(n, seed=0, size=(268, 182)):
    """Poster-sized uint8 images: smooth colour fields plus noise (not constant, not white)."""
    rng = np.random.default_rng(seed)
    height, width = size
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    images = np.empty((n, height, width, 3), dtype=np.uint8)
    for i in range(n):
        base = rng.uniform(0, 255, 3)
        grad = rng.uniform(-1, 1, (2, 3))
        field = base + yy[..., None] * grad[0] * 0.5 + xx[..., None] * grad[1] * 0.5
        field += rng.normal(0, 20, (height, width, 3))
        images[i] = np.clip(field, 0, 255).astype(np.uint8)
    return images


def _image_paths(folder, n):
    paths = sorted(str(p) for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise SystemExit(f"no images found under {folder}")
    return paths[:n]


def _crops(X, spec):
    """Decode (paths) and preprocess to uint8 crops, as CNNEmbedder does."""
    if isinstance(X, np.ndarray):
        return [
            _cnn._resize_and_crop(_cnn._as_rgb(im, i), spec.image_size) for i, im in enumerate(X)
        ]
    return [_cnn._resize_and_crop(read_poster(p), spec.image_size) for p in X]


def _sync(torch, device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time_network(runner, batch_np, batch_size, repeat, torch):
    """(network-only, network+copy) posters/s over all of ``batch_np`` in ``batch_size`` chunks."""
    device = runner.device
    net = runner.net
    n = len(batch_np)
    chunks = [batch_np[s : s + batch_size] for s in range(0, n, batch_size)]
    with _cnn._ieee_fp32_convs(torch, device), torch.inference_mode():
        on_device = [
            torch.from_numpy(c)
            .permute(0, 3, 1, 2)
            .to(device)
            .contiguous(memory_format=torch.channels_last)
            for c in chunks
        ]
        for x in on_device[:2]:  # warm-up: cuDNN algorithm choice, allocator
            net.embed(x)
        _sync(torch, device)
        best_net = best_copy = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            for x in on_device:
                net.embed(x)
            _sync(torch, device)
            best_net = min(best_net, time.perf_counter() - start)

            start = time.perf_counter()
            for c in chunks:
                x = torch.from_numpy(c).permute(0, 3, 1, 2).to(device)
                net.embed(x).cpu()
            _sync(torch, device)
            best_copy = min(best_copy, time.perf_counter() - start)
    return n / best_net, n / best_copy


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", help="folder of poster images (default: synthetic)")
    parser.add_argument("--n", type=int, default=4096, help="number of images")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--model", default="lite0", choices=sorted(_cnn._MODELS))
    parser.add_argument("--device", default="cuda", help="torch device to check (cuda, cuda:1)")
    parser.add_argument("--cpu-check", type=int, default=256, help="images compared with CPU")
    parser.add_argument("--repeat", type=int, default=3, help="timing repeats (best is kept)")
    parser.add_argument("--json", help="write the results here as JSON")
    args = parser.parse_args(argv)

    torch = _cnn._import_torch()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("torch.cuda.is_available() is False: run this on a CUDA machine")
    gpu = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else (platform.processor() or "cpu")
    )
    spec = _cnn._MODELS[args.model]
    X = _image_paths(args.images, args.n) if args.images else _synthetic_posters(args.n)
    source = args.images or "synthetic 182x268"
    print(
        f"device: {gpu} | torch {torch.__version__} | model {spec.name} | {len(X)} images "
        f"({source}) | CPU threads {torch.get_num_threads()}"
    )

    start = time.perf_counter()
    crops = _crops(X, spec)
    decode_rate = len(crops) / (time.perf_counter() - start)
    batch_np = _cnn._to_network_input(np.stack(crops))
    print(f"decode+preprocess (CPU, 1 thread): {decode_rate:8.0f} posters/s")

    runner = _cnn._TorchRunner(spec, str(device), None)
    results = {
        "device": gpu,
        "torch": torch.__version__,
        "model": spec.name,
        "n": len(X),
        "source": source,
        "decode_posters_per_s": decode_rate,
        "batches": {},
    }
    print(f"{'batch':>6} {'network':>12} {'network+copy':>14} {'end-to-end':>12}  (posters/s)")
    embeddings = None
    for bs in args.batch_sizes:
        net_rate, copy_rate = _time_network(runner, batch_np, bs, args.repeat, torch)
        embedder = CNNEmbedder(spec.name, device=str(device), batch_size=bs)
        embedder.transform(X[: min(len(X), 2 * bs)])  # warm-up
        start = time.perf_counter()
        out = embedder.transform(X)
        e2e_rate = len(X) / (time.perf_counter() - start)
        embeddings = out if embeddings is None else embeddings
        print(f"{bs:>6} {net_rate:>12.0f} {copy_rate:>14.0f} {e2e_rate:>12.0f}")
        results["batches"][str(bs)] = {
            "network": net_rate,
            "network_and_copy": copy_rate,
            "end_to_end": e2e_rate,
        }

    m = min(args.cpu_check, len(X))
    cpu = CNNEmbedder(spec.name, device="cpu", batch_size=32).transform(X[:m])
    diff = float(np.abs(cpu - embeddings[:m]).max())
    ok = diff < TOLERANCE
    print(
        f"max |cuda - cpu| over {m} images: {diff:.2e} ({'PASS' if ok else 'FAIL'}, < {TOLERANCE})"
    )
    best = max(r["network"] for r in results["batches"].values())
    print(f"best network throughput: {best:.0f} posters/s (target >= 3000 on a GPU)")
    results.update(max_abs_diff_vs_cpu=diff, cpu_checked=m, tolerance=TOLERANCE)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as fp:
            json.dump(results, fp, indent=2)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
