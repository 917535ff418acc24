"""One k-nearest-neighbour search backend for every posterml estimator.

Backends, in the order ``backend="auto"`` tries them:

``"faiss-gpu"``
    faiss with GPU support and at least one GPU (the index is sharded across all of them).
``"torch-cuda"``
    torch on CUDA: chunked matmul + ``topk`` (no faiss-gpu needed).
``"faiss-cpu"``
    faiss' exact flat index (BLAS); HNSW from faiss, and IVF as posterml's list-batched
    variant (faiss k-means lists, each list scanned for all its queries with one GEMM,
    which on a few CPU cores is several times faster than faiss' per-query list scans).
``"numpy"``
    a float32 GEMM + ``argpartition`` fallback, query batches bounded in memory.

``"torch-cpu"`` runs the torch code path on the CPU; it is never chosen by ``"auto"`` and
exists to verify that path without a GPU.

Whatever the backend, exact results are ordered by (distance, training index): ties are
broken towards the lower training index, so identical inputs give identical neighbours on
every backend. The backend is asked for a few more neighbours than needed (``_TIE_MARGIN``),
and a row whose candidates all tie with its k-th is searched again with more, so the rule
holds exactly even for a tie group straddling the k-th place.

Out of core: a training matrix that does not fit in memory (a ``numpy.memmap``, an array
from ``np.load(..., mmap_mode="r")`` or a :class:`PartitionedArray` of ``.npy`` files) is
left where it is and scanned one block of ``block_rows`` rows at a time; each block's
candidates are merged into the running ones by (distance, training index), and the near-tie
re-ranking reads the few training rows it needs by index. The neighbours are the in-memory
ones. Several devices: faiss-gpu shards its index over the GPUs, torch splits the training
rows (or, out of core, deals the blocks) over its devices and merges the candidates.
"""

import contextlib
import functools
import importlib.util
import math
import mmap
import os
import threading
import warnings
from pathlib import Path

import numpy as np
from scipy import sparse

BACKENDS = ("auto", "faiss-gpu", "torch-cuda", "faiss-cpu", "numpy", "torch-cpu")
METRICS = ("euclidean", "sqeuclidean", "cosine", "inner_product")
ALGORITHMS = ("exact", "ivf", "hnsw")

# Extra neighbours requested from the backend so ties at the k-th place resolve by index.
_TIE_MARGIN = 8
# Near-tie tolerance, in units of eps32 * sqrt(n_features) * (|q|^2 + max |x|^2): neighbours
# whose float32 distances are closer than this are re-ranked on float64 distances. faiss' own
# float32 error measured at most 0.14 of these units (d = 1280 and 12288), so two units keep
# the float64 order exact with a wide margin while touching well under 2 % of the pairs.
_TIE_TOL = 2.0
# Bytes allowed for one block of query-by-database distances (numpy / torch backends).
_BLOCK_BYTES = 256 * 2**20
# Bytes of one block of training rows read at a time by the out-of-core search (default).
_OOC_BLOCK_BYTES = 256 * 2**20
# faiss' GPU k-selection handles at most this many neighbours per query.
_FAISS_GPU_MAX_K = 2048
# Largest distance scale (|q|^2 + max |x|^2, or |q| max |x| for inner products) searched in
# float32: the products |q|^2 + |x|^2 - 2 q.x of every backend stay below twice the scale, so a
# quarter of float32's largest value keeps them finite. Beyond it, a ValueError names the row.
# Indexed rows may have squared norms up to half of it, so that they can be queries too.
_MAX_SCALE = float(np.finfo(np.float32).max) / 4


def _import_faiss():
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - faiss-cpu is a core dependency
        raise ImportError(
            "faiss is required for this backend: pip install faiss-cpu (or posterml[gpu])"
        ) from exc
    return faiss


def _faiss_gpu_count():
    if importlib.util.find_spec("faiss") is None:
        return 0
    faiss = _import_faiss()
    if not hasattr(faiss, "StandardGpuResources"):
        return 0
    try:
        return int(faiss.get_num_gpus())
    except Exception:  # a GPU build on a machine without a driver
        return 0


def _maybe_cuda_present():
    # Importing torch costs about a second: skip it where no NVIDIA device node exists.
    if os.name == "posix" and Path("/dev").is_dir():
        return any(Path("/dev").glob("nvidia*"))
    return True


def _torch_cuda_count():
    if importlib.util.find_spec("torch") is None or not _maybe_cuda_present():
        return 0
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def available_backends():
    """Return the backends usable on this machine, in ``"auto"`` preference order.

    Examples
    --------
    >>> from posterml.neighbors import available_backends
    >>> "numpy" in available_backends()
    True
    """
    found = []
    if _faiss_gpu_count() > 0:
        found.append("faiss-gpu")
    if _torch_cuda_count() > 0:
        found.append("torch-cuda")
    if importlib.util.find_spec("faiss") is not None:
        found.append("faiss-cpu")
    found.append("numpy")
    if importlib.util.find_spec("torch") is not None:
        found.append("torch-cpu")
    return found


def resolve_backend(backend="auto", algorithm="exact"):
    """Pick the concrete backend for ``backend`` and ``algorithm``; clear error if unavailable."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    approximate = algorithm != "exact"
    if backend == "auto":
        if _faiss_gpu_count() > 0 and algorithm != "hnsw":
            return "faiss-gpu"
        if not approximate and _torch_cuda_count() > 0:
            return "torch-cuda"
        if importlib.util.find_spec("faiss") is not None:
            return "faiss-cpu"
        if approximate:
            raise ImportError(f"algorithm={algorithm!r} needs faiss: pip install faiss-cpu")
        return "numpy"
    if approximate and backend not in ("faiss-cpu", "faiss-gpu"):
        raise ValueError(
            f"algorithm={algorithm!r} is a faiss index: use backend='faiss-cpu' or "
            f"'faiss-gpu' (or 'auto'), not {backend!r}"
        )
    if backend == "faiss-gpu":
        if algorithm == "hnsw":
            raise ValueError("faiss has no GPU HNSW index: use backend='faiss-cpu' for hnsw")
        if _faiss_gpu_count() == 0:
            raise RuntimeError(
                "backend='faiss-gpu' needs faiss built with GPU support and a visible GPU "
                "(pip install posterml[gpu]); use backend='auto' to fall back"
            )
    elif backend == "torch-cuda":
        if _torch_cuda_count() == 0:
            raise RuntimeError(
                "backend='torch-cuda' needs torch with a CUDA device (torch.cuda.is_available() "
                "is False or torch is not installed); use backend='auto' to fall back"
            )
    elif backend == "torch-cpu":
        if importlib.util.find_spec("torch") is None:
            raise ImportError("backend='torch-cpu' needs torch: pip install posterml[cnn]")
    elif backend == "faiss-cpu":
        _import_faiss()
    return backend


@contextlib.contextmanager
def _faiss_threads(faiss, n_jobs):
    """Run faiss with ``n_jobs`` OpenMP threads and restore the previous setting after."""
    if n_jobs is None:
        yield
        return
    n = (os.cpu_count() or 1) if n_jobs < 0 else n_jobs
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


# threadpoolctl sets the BLAS thread count of the whole process and restores on exit the value
# it saw on entry: two overlapping limited sections would restore each other's limit (and
# OpenBLAS does not reliably apply a count raised from another thread than the one that
# lowered it, so a reference count is no cure). posterml's limited sections therefore run one
# at a time, each entered and left by one thread. Reentrant: the IVF scan limits BLAS to one
# thread inside a search that n_jobs already limits.
_BLAS_LOCK = threading.RLock()


@contextlib.contextmanager
def _blas_limit(n_threads):
    """BLAS (and the calling thread's OpenMP) limited to ``n_threads`` for the section."""
    from threadpoolctl import threadpool_limits

    with _BLAS_LOCK, threadpool_limits(limits=n_threads):
        yield


def _blas_threads(n_jobs):
    if n_jobs is None:
        return contextlib.nullcontext()
    return _blas_limit((os.cpu_count() or 1) if n_jobs < 0 else int(n_jobs))


def _dense_rows(X, start, stop, normalize):
    """Rows ``start:stop`` as C-contiguous float32 (unit norm for cosine, zero rows kept).

    A value beyond float32's range becomes infinite here (no warning): the callers' scale
    checks (:func:`_check_scale`) report it by row.
    """
    block = X[start:stop]
    if sparse.issparse(block):
        block = block.toarray()
    with np.errstate(over="ignore"):
        block = np.ascontiguousarray(block, dtype=np.float32)
    if normalize:
        # float64 norms: float32 squares overflow from |x| ~ 1e19 and underflow below 1e-19;
        # the quotient is taken in float64 and rounded once to float32, through numpy's
        # buffered casting (no float64 copy of the block)
        with np.errstate(invalid="ignore"):
            norms = np.sqrt(np.einsum("ij,ij->i", block, block, dtype=np.float64))[:, None]
            out = np.empty_like(block)
            np.divide(block, np.where(norms > 0, norms, 1.0), out=out, casting="unsafe")
        block = out
    return block


def _check_scale(scale, offset, what, limit=_MAX_SCALE):
    """Raise a ValueError naming the first row whose float32 distance scale overflows."""
    bad = ~(np.asarray(scale, dtype=np.float64) <= limit)  # NaN and inf included
    if not bad.any():
        return
    r = int(np.flatnonzero(bad)[0])
    value = float(np.asarray(scale)[r])
    if math.isfinite(value):
        reason = f"its distance scale (squared norms) {value:.3g} exceeds {limit:.3g}"
    else:
        reason = (
            "its float32 squared norm is not finite (a NaN or infinite value, or values "
            "beyond ~1.8e19, whose squares overflow float32)"
        )
    raise ValueError(
        f"{what} row {offset + r} is too large for float32 distances: {reason}; the search "
        "computes in float32, so scale the features down (e.g. sklearn's StandardScaler)"
    )


def _owned(block):
    """``block`` itself if it owns writable memory, else a copy (never a view of a memmap)."""
    if block.flags.owndata and block.flags.writeable:
        return block
    return np.array(block, dtype=np.float32, order="C")


def _memmap_root(X):
    """The ``np.memmap`` that maps the file under ``X`` (an ndarray or a view of one), or None."""
    obj = X
    while isinstance(obj, np.ndarray):
        if isinstance(obj, np.memmap) and isinstance(obj.base, mmap.mmap):
            return obj
        obj = obj.base
    return None


def _is_disk_backed(X):
    """Whether ``X`` lives on disk: partitions, a memmap, or an ndarray view of a memory map."""
    if isinstance(X, PartitionedArray):
        return True
    obj = X
    while isinstance(obj, np.ndarray):
        obj = obj.base
        if isinstance(obj, mmap.mmap):
            return True
    return False


class PartitionedArray:
    """Read-only 2-D array stacked by rows from ``.npy`` partition files, memory-mapped.

    A training matrix too large for memory, written as several files (one per shard of a
    feature extraction, say), is searched without loading it: pass it to
    :class:`NeighborSearch` (``out_of_core="auto"`` recognises it). Only the rows asked for
    are read.

    Parameters
    ----------
    paths : sequence of str or path-like
        ``.npy`` files of 2-D arrays with the same number of columns, in row order.

    Attributes
    ----------
    shape : tuple of int
    dtype : numpy.dtype
        The common dtype of the partitions (``np.result_type`` of theirs).

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for i in range(3):
    ...     np.save(folder / f"part{i}.npy", np.full((2, 3), i, dtype=np.float32))
    >>> X = PartitionedArray(sorted(folder.glob("part*.npy")))
    >>> X.shape
    (6, 3)
    >>> X[1:4, 0].tolist()
    [0.0, 1.0, 1.0]
    >>> X[np.array([5, 0])][:, 0].tolist()
    [2.0, 0.0]
    """

    ndim = 2

    def __init__(self, paths):
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        self.paths = tuple(os.fspath(p) for p in paths)
        if not self.paths:
            raise ValueError("PartitionedArray needs at least one .npy partition file")
        self._open()

    def _open(self):
        parts = []
        for path in self.paths:
            part = np.load(path, mmap_mode="r", allow_pickle=False)
            if part.ndim != 2:
                raise ValueError(f"partition {path} holds a {part.ndim}-D array, not a 2-D one")
            if parts and part.shape[1] != parts[0].shape[1]:
                raise ValueError(
                    f"partition {path} has {part.shape[1]} columns but {self.paths[0]} has "
                    f"{parts[0].shape[1]}: partitions are stacked by rows"
                )
            parts.append(part)
        self._parts = parts
        self._offsets = np.concatenate([[0], np.cumsum([p.shape[0] for p in parts])])
        self.shape = (int(self._offsets[-1]), int(parts[0].shape[1]))
        self.dtype = np.result_type(*(p.dtype for p in parts))

    def __len__(self):
        return self.shape[0]

    def __repr__(self):
        return f"PartitionedArray(shape={self.shape}, dtype={self.dtype}, {len(self.paths)} files)"

    def __getitem__(self, item):
        if isinstance(item, tuple):
            if len(item) == 1:
                return self[item[0]]
            if len(item) != 2:
                raise IndexError(f"too many indices for a 2-D array: {item!r}")
            rows = self[item[0]]
            return rows[item[1]] if rows.ndim == 1 else rows[:, item[1]]
        n = self.shape[0]
        if isinstance(item, (int, np.integer)):
            i = int(item) + n if item < 0 else int(item)
            if not 0 <= i < n:
                raise IndexError(f"row {item} is out of bounds for {n} rows")
            p = int(np.searchsorted(self._offsets, i, side="right")) - 1
            return np.array(self._parts[p][i - self._offsets[p]], dtype=self.dtype)
        if isinstance(item, slice):
            start, stop, step = item.indices(n)
            if step != 1:
                return self._take(np.arange(start, stop, step))
            out = np.empty((max(0, stop - start), self.shape[1]), dtype=self.dtype)
            for p, part in enumerate(self._parts):
                lo, hi = max(start, self._offsets[p]), min(stop, self._offsets[p + 1])
                if lo < hi:
                    off = self._offsets[p]
                    out[lo - start : hi - start] = part[lo - off : hi - off]
            return out
        ids = np.asarray(item)
        if ids.dtype == bool:
            if ids.shape != (n,):
                raise IndexError(f"a boolean row mask must have shape ({n},), got {ids.shape}")
            ids = np.flatnonzero(ids)
        if ids.dtype.kind not in "iu":
            raise IndexError(f"rows must be an int, a slice or integer indices, got {item!r}")
        return self._take(ids)

    def _take(self, ids):
        n = self.shape[0]
        flat = ids.astype(np.int64).ravel()
        flat = np.where(flat < 0, flat + n, flat)
        if flat.size and (flat.min() < 0 or flat.max() >= n):
            raise IndexError(f"row indices must lie in [-{n}, {n}), got {ids.min()}..{ids.max()}")
        out = np.empty((flat.size, self.shape[1]), dtype=self.dtype)
        which = np.searchsorted(self._offsets, flat, side="right") - 1
        for p in np.unique(which):
            sel = which == p
            out[sel] = self._parts[p][flat[sel] - self._offsets[p]]
        return out.reshape(ids.shape + (self.shape[1],))

    def __getstate__(self):
        return {"paths": self.paths}

    def __setstate__(self, state):
        self.paths = tuple(state["paths"])
        self._open()


class _BlockStore:
    """Training rows left where they are, read at most ``block_rows`` rows at a time.

    ``source`` is any 2-D row-sliceable array (memmap, :class:`PartitionedArray`, sparse
    matrix, ndarray); ``sq`` holds the squared norms of its float32 rows.
    """

    def __init__(self, source, block_rows, normalize, sq=None):
        self.source = source
        self.block_rows = int(block_rows)
        self.normalize = normalize
        self.sq = sq

    def spans(self):
        n, step = self.source.shape[0], self.block_rows
        return [(s, min(n, s + step)) for s in range(0, n, step)]

    def load_block(self, start, stop):
        """Rows ``start:stop`` as a contiguous float32 copy (normalised for cosine)."""
        return _owned(_dense_rows(self.source, start, stop, self.normalize))

    def rows(self, ids):
        """Float32 rows ``ids`` (any order, repeats allowed), read sorted in blocks."""
        ids = np.asarray(ids, dtype=np.int64)
        uniq, inverse = np.unique(ids, return_inverse=True)
        out = np.empty((uniq.size, self.source.shape[1]), dtype=np.float32)
        for s in range(0, uniq.size, self.block_rows):
            part = self.source[uniq[s : s + self.block_rows]]
            out[s : s + part.shape[0]] = _dense_rows(part, 0, part.shape[0], self.normalize)
        return out[inverse.reshape(ids.shape)]

    def describe(self):
        """Plain-data state: a memmap or partitions by file, anything else by value."""
        return {
            "source": _describe_source(self.source),
            "block_rows": self.block_rows,
            "normalize": self.normalize,
            "sq": self.sq,
        }

    @classmethod
    def from_description(cls, state):
        return cls(
            _open_source(state["source"]), state["block_rows"], state["normalize"], state["sq"]
        )


def _describe_source(source):
    if isinstance(source, PartitionedArray):
        return {"partitions": list(source.paths)}
    root = _memmap_root(source)
    if root is not None and root.filename is not None:
        order = "C" if source.flags.c_contiguous else "F" if source.flags.f_contiguous else None
        if order is not None:
            return {
                "memmap": os.fspath(root.filename),
                "offset": int(root.offset + (source.ctypes.data - root.ctypes.data)),
                "dtype": source.dtype.str,
                "shape": list(source.shape),
                "order": order,
            }
    return {"value": source}


def _open_source(state):
    if "partitions" in state:
        return PartitionedArray(state["partitions"])
    if "memmap" in state:
        path = state["memmap"]
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"the out-of-core training matrix {path} no longer exists: a fitted out-of-core "
                "search refers to its file rather than copying it; restore the file or refit"
            )
        return np.memmap(
            path,
            dtype=np.dtype(state["dtype"]),
            mode="r",
            offset=state["offset"],
            shape=tuple(state["shape"]),
            order=state["order"],
        )
    return state["value"]


def _merge_candidates(best, dist, idx, k):
    """The ``k`` smallest (distance, index) pairs of ``best`` (or None) and ``dist, idx``."""
    if best is not None:
        dist = np.concatenate([best[0], dist], axis=1)
        idx = np.concatenate([best[1], idx], axis=1)
    order = np.lexsort((idx, dist), axis=-1)[:, :k]
    return np.take_along_axis(dist, order, axis=1), np.take_along_axis(idx, order, axis=1)


def _torch_merge(torch, parts, k, device):
    """Merge per-device candidates on ``device``: the ``k`` smallest by (distance, index)."""
    dist = torch.cat([d.to(device) for d, _ in parts], dim=1)
    idx = torch.cat([i.to(device) for _, i in parts], dim=1)
    idx, order = torch.sort(idx, dim=1)
    dist = torch.gather(dist, 1, order)
    dist, order = torch.sort(dist, dim=1, stable=True)
    idx = torch.gather(idx, 1, order)
    return dist[:, :k], idx[:, :k]


# torch's float32 matmul precision is process-wide: overlapping searches share one "highest"
# section, entered by the first and left by the last, which restores the value the first saw.
_TORCH_PRECISION_LOCK = threading.Lock()
_torch_precision = {"users": 0, "saved": None}


@contextlib.contextmanager
def _torch_highest_precision(torch):
    # TF32 / bf16 matmuls (torch.set_float32_matmul_precision("high"/"medium") set by the
    # user) would break the float32 error bound the near-tie re-ranking relies on.
    state = _torch_precision
    with _TORCH_PRECISION_LOCK:
        if state["users"] == 0:
            state["saved"] = torch.get_float32_matmul_precision()
            if state["saved"] != "highest":
                torch.set_float32_matmul_precision("highest")
        state["users"] += 1
    try:
        yield
    finally:
        with _TORCH_PRECISION_LOCK:
            state["users"] -= 1
            if state["users"] == 0 and state["saved"] != "highest":
                torch.set_float32_matmul_precision(state["saved"])


def _order_by_distance_then_index(dist, idx, k):
    """Sort each row by (distance, index) and keep the first ``k`` columns.

    Backends return rows sorted by distance: only rows out of (distance, index) order (ties
    listed with a higher index first, or unsorted candidates) are sorted.
    """
    if dist.shape[1] < 2:
        return dist[:, :k].copy(), idx[:, :k].copy()
    with np.errstate(invalid="ignore"):
        dd = np.diff(dist, axis=1)
    di = np.diff(idx, axis=1)
    # inf - inf is nan: equal (excluded / missing) entries are ordered by index too
    level = (dd == 0) | np.isnan(dd)
    rows = np.flatnonzero(((dd < 0) | (level & (di < 0))).any(axis=1))
    out_d, out_i = dist[:, :k].copy(), idx[:, :k].copy()
    if rows.size:
        sub_d, sub_i = dist[rows], idx[rows]
        order = np.lexsort((sub_i, sub_d), axis=-1)[:, :k]
        out_d[rows] = np.take_along_axis(sub_d, order, axis=1)
        out_i[rows] = np.take_along_axis(sub_i, order, axis=1)
    return out_d, out_i


def _chain_across(close, k):
    """Of the near-tie links ``close[:, j]`` (places j, j+1), the chain across places k-1, k.

    Only that chain can change which points are the k nearest; links elsewhere are dropped.
    """
    out = np.zeros_like(close)
    if not 1 <= k <= close.shape[1]:
        return out  # no place k among the candidates: the set is all of them
    across = close[:, k - 1 : k]
    out[:, k - 1] = across[:, 0]
    if k >= 2:  # links k-2, k-3, ... while unbroken
        left = np.cumprod(close[:, k - 2 :: -1], axis=1, dtype=bool)[:, ::-1]
        out[:, : k - 1] = left & across
    if k < close.shape[1]:
        right = np.cumprod(close[:, k:], axis=1, dtype=bool)
        out[:, k:] = right & across
    return out


def neighbor_recall(approx_indices, exact_indices):
    """Mean fraction of the exact k neighbours found by an approximate search.

    Examples
    --------
    >>> import numpy as np
    >>> neighbor_recall(np.array([[0, 1], [2, 3]]), np.array([[1, 0], [2, 4]]))
    0.75
    """
    approx = np.asarray(approx_indices)
    exact = np.asarray(exact_indices)
    if approx.shape != exact.shape:
        raise ValueError(
            f"approx and exact neighbour arrays differ in shape: {approx.shape} vs {exact.shape}"
        )
    if exact.size == 0:
        return 1.0
    hits = sum(np.intersect1d(a, e).size for a, e in zip(approx, exact))
    return float(hits / exact.size)


class _BatchedIVF:
    """Inverted-file search whose list scans are GEMMs over all the queries probing a list.

    faiss' CPU IVF scans each query's lists one query at a time with SIMD distance kernels,
    while exact flat search runs at BLAS speed; on a few cores that leaves IVF barely ahead
    of exact search. Here the queries of a block are grouped by the lists they probe, and
    each list is scanned for its whole group with one matrix product. The coarse quantizer
    is faiss' k-means. Vectors are stored once, sorted by list.
    """

    def __init__(self, nlist, nprobe, inner_product, seed, n_threads):
        self.n_threads = n_threads
        self.nlist = nlist
        self.nprobe = nprobe
        self.inner_product = inner_product
        self.seed = seed

    def build(self, X):
        faiss = _import_faiss()
        n, d = X.shape
        kmeans = faiss.Kmeans(
            d,
            self.nlist,
            niter=10,
            seed=int(self.seed),
            spherical=self.inner_product,
            max_points_per_centroid=64,
            verbose=False,
        )
        from posterml.io import _OPEN_LOCK  # serialises posterml's catch_warnings sections

        # catch_warnings swaps the process-wide filter list: unlocked, two overlapping fits
        # would restore each other's copy and leave the "ignore" filter behind
        with _OPEN_LOCK, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kmeans.train(X)
        self.centroids = np.ascontiguousarray(kmeans.centroids, dtype=np.float32)
        # assign in blocks: the (rows x lists) score matrix stays small
        assign = np.concatenate(
            [self._nearest_lists(X[i : i + 16384], 1)[:, 0] for i in range(0, n, 16384)]
        )
        order = np.argsort(assign, kind="stable")
        self.ids = order.astype(np.int64)
        self.data = np.ascontiguousarray(X[order])
        self.sq = np.einsum("ij,ij->i", self.data, self.data)
        self.offsets = np.searchsorted(assign[order], np.arange(self.nlist + 1))
        return self

    def _nearest_lists(self, Q, p):
        scores = Q @ self.centroids.T
        if not self.inner_product:
            scores = 2.0 * scores - np.einsum("ij,ij->i", self.centroids, self.centroids)
        p = min(p, self.nlist)
        return np.argpartition(-scores, p - 1, axis=1)[:, :p]

    def max_list(self):
        return int(np.diff(self.offsets).max())

    def search(self, Q, k):
        """Best ``k`` per probed list: (n, nprobe * k) candidates, missing ones as -1."""
        n_q = Q.shape[0]
        probes = self._nearest_lists(Q, self.nprobe)
        width = probes.shape[1] * k
        fill = -np.inf if self.inner_product else np.inf
        cand_d = np.full((n_q, width), fill, dtype=np.float32)
        cand_i = np.full((n_q, width), -1, dtype=np.int64)
        q_sq = None if self.inner_product else np.einsum("ij,ij->i", Q, Q)
        lists = probes.ravel()
        order = np.argsort(lists, kind="stable")
        bounds = np.searchsorted(lists[order], np.arange(self.nlist + 1))
        query_of = order // probes.shape[1]
        slot_of = order % probes.shape[1]

        def scan(lst):
            lo, hi = self.offsets[lst], self.offsets[lst + 1]
            if hi == lo or bounds[lst] == bounds[lst + 1]:
                return
            sel = slice(bounds[lst], bounds[lst + 1])
            qs, slots = query_of[sel], slot_of[sel]
            prod = Q[qs] @ self.data[lo:hi].T
            if self.inner_product:
                dist = -prod
            else:
                dist = q_sq[qs, None] + self.sq[None, lo:hi] - 2.0 * prod
            kk = min(k, hi - lo)
            part = np.argpartition(dist, kk - 1, axis=1)[:, :kk]
            cols = slots[:, None] * k + np.arange(kk)
            best = np.take_along_axis(dist, part, axis=1)
            # each (query, slot) cell belongs to exactly one list: threads never collide
            cand_d[qs[:, None], cols] = -best if self.inner_product else best
            cand_i[qs[:, None], cols] = self.ids[lo + part]

        # Lists are scanned in parallel, one BLAS thread per worker: numpy releases the GIL
        # in both the matrix product and argpartition, and small products scale better so.
        from concurrent.futures import ThreadPoolExecutor

        with _blas_limit(1), ThreadPoolExecutor(self.n_threads) as pool:
            list(pool.map(scan, range(self.nlist)))
        return cand_d, cand_i

    def _positions(self):
        """Row of ``data`` holding each training index (computed once, not persisted)."""
        inverse = self.__dict__.get("_inverse")
        if inverse is None:  # two threads may both compute it: the same array either way
            inverse = np.empty_like(self.ids)
            inverse[self.ids] = np.arange(self.ids.size)
            self._inverse = inverse
        return inverse

    def rows(self, ids):
        """Float32 vectors of training indices ``ids`` (any shape, repeats allowed)."""
        return self.data[self._positions()[np.asarray(ids, dtype=np.int64)]]

    def reconstruct(self, start, stop):
        return self.data[self._positions()[start:stop]]

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_inverse", None)  # derived from ids
        return state


class NeighborSearch:
    """Exact (default) or approximate k-nearest-neighbour search on float32 vectors.

    Parameters
    ----------
    metric : {"euclidean", "sqeuclidean", "cosine", "inner_product"}, default="euclidean"
        Distances returned: Euclidean, squared Euclidean, ``1 - cosine similarity`` (clipped
        to ``[0, 2]``; rows are normalised in float64, then rounded to float32; an all-zero
        row stays zero, at distance 1 from every row), or the negative inner product (so that
        smaller is always closer).
    backend : {"auto", "faiss-gpu", "torch-cuda", "faiss-cpu", "numpy", "torch-cpu"}
        See the module docstring. ``"auto"`` picks the fastest one present.
    algorithm : {"exact", "ivf", "hnsw"}, default="exact"
        Approximate faiss indexes only when asked for; measure their quality with
        :func:`measure_recall`.
    algorithm_params : dict, optional
        ``ivf``: ``nlist`` (default ``sqrt(n)``, at most ``n / 39``) and ``nprobe``
        (default ``max(8, nlist // 16)``). ``hnsw``: ``M`` (32), ``efConstruction`` (200),
        ``efSearch`` (max(128, 2k)). Fewer probes are faster and less exact: measure with
        :func:`measure_recall`.
    batch_size : int, optional
        Queries per block. Default: bounded so a block's distances take at most 256 MiB.
    n_jobs : int, optional
        Threads for faiss / BLAS (restored after each call); ``None`` keeps the libraries'
        defaults, ``-1`` uses all cores.
    random_state : int, default=0
        Seed of the IVF k-means.
    out_of_core : bool or "auto", default="auto"
        Exact search only. ``True``: leave the training matrix where it is (memmap,
        :class:`PartitionedArray`, any row-sliceable 2-D array) and scan it block by block,
        holding one block, a query batch and the candidates in memory; the neighbours are
        those of the in-memory search. ``"auto"``: out of core for a memmap (or a view of
        one) or a :class:`PartitionedArray`. A memmap is referred to by its file (pickles
        hold the file name, not the data): keep the file unchanged while the search is used.
    block_rows : int, optional
        Training rows per out-of-core block (and default queries per batch). Default: a
        block of at most 256 MiB of float32, and at most 65536 rows.
    devices : list of int or str, optional
        Devices of the GPU and torch backends; ``None`` uses them all. faiss-gpu: GPU ids,
        the index is sharded over them. torch-cuda: CUDA ids (or ``"cuda:i"``); the
        training rows are split over them and the candidates merged on the first.
        torch-cpu: ``"cpu"`` entries (several simulate a multi-device split). Out of core,
        the blocks are dealt to the devices in turn, one thread per device.

    Attributes
    ----------
    backend_ : str
    out_of_core_ : bool
    devices_ : list or None
        The devices used (None for the CPU backends numpy and faiss-cpu).
    n_samples_fit_, n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]], dtype=np.float32)
    >>> search = NeighborSearch(backend="numpy").fit(X)
    >>> dist, idx = search.kneighbors(X, 1, exclude=np.arange(3))
    >>> idx.ravel().tolist()
    [1, 0, 0]
    """

    def __init__(
        self,
        metric="euclidean",
        *,
        backend="auto",
        algorithm="exact",
        algorithm_params=None,
        batch_size=None,
        n_jobs=None,
        random_state=0,
        out_of_core="auto",
        block_rows=None,
        devices=None,
    ):
        self.metric = metric
        self.backend = backend
        self.algorithm = algorithm
        self.algorithm_params = algorithm_params
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.out_of_core = out_of_core
        self.block_rows = block_rows
        self.devices = devices

    # ------------------------------------------------------------------ build
    def fit(self, X):
        """Index the rows of ``X`` (dense or sparse, finite; converted to float32).

        Out of core (see ``out_of_core``), ``X`` is read once, block by block, to check that
        it is finite (a ValueError names the first bad row) and to take its row norms.

        Raises
        ------
        ValueError
            ``"X row i is too large for float32 distances"`` when a row's float32 squared
            norm exceeds ``float32 max / 8`` (about 4.3e37: all features beyond ~6.5e18 /
            sqrt(n_features)), or holds a value float32 cannot represent: the search
            computes in float32 and its distances would overflow. Scale the features first.
            (Cosine rows are normalised first, so only non-representable values fail there.)
        """
        if self.metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}, got {self.metric!r}")
        n, d = X.shape
        if n == 0 or d == 0:
            raise ValueError(f"cannot index an empty matrix of shape {X.shape}")
        self.backend_ = resolve_backend(self.backend, self.algorithm)
        self.n_samples_fit_, self.n_features_in_ = n, d
        self._normalize = self.metric == "cosine"
        self._ip = self.metric in ("cosine", "inner_product")
        self._gpu_res = None
        self.devices_ = self._resolve_devices()
        self.out_of_core_ = self._use_out_of_core(X)
        params = dict(self.algorithm_params or {})
        if self.out_of_core_:
            self._index = None
            self._data = {"ooc": self._scan_training_blocks(X)}
            return self
        step = self._rows_per_block(d)
        self._max_sq = 0.0
        for i in range(0, n, step):
            block = _dense_rows(X, i, min(n, i + step), self._normalize)
            with np.errstate(over="ignore", invalid="ignore"):
                sq = np.einsum("ij,ij->i", block, block)
            _check_scale(sq, i, "X", _MAX_SCALE / 2)
            self._max_sq = max(self._max_sq, float(sq.max()))
        if self.backend_ == "faiss-cpu" and self.algorithm == "ivf":
            self._check_params(params)
            self._index = None
            self._data = {"ivf": self._build_batched_ivf(X, params)}
        elif self.backend_ in ("faiss-cpu", "faiss-gpu"):
            self._index = self._build_faiss(X, params)
            self._data = None
        else:
            self._index = None
            self._data = self._build_dense(X)
        return self

    def _use_out_of_core(self, X):
        mode = self.out_of_core
        if not (mode is True or mode is False or mode == "auto"):
            raise ValueError(f"out_of_core must be True, False or 'auto', got {mode!r}")
        if mode == "auto":
            return self.algorithm == "exact" and _is_disk_backed(X)
        if mode and self.algorithm != "exact":
            raise ValueError(
                f"out_of_core=True searches exactly; algorithm={self.algorithm!r} builds an "
                "in-memory faiss index: use algorithm='exact' or out_of_core=False"
            )
        return mode

    def _ooc_block_rows(self):
        if self.block_rows is not None:
            if not isinstance(self.block_rows, (int, np.integer)) or self.block_rows < 1:
                raise ValueError(f"block_rows must be a positive int, got {self.block_rows!r}")
            return int(self.block_rows)
        return int(max(1, min(65536, _OOC_BLOCK_BYTES // (4 * self.n_features_in_))))

    def _scan_training_blocks(self, X):
        """One pass over ``X``: check it is finite, keep the squared norms of its rows."""
        store = _BlockStore(X, self._ooc_block_rows(), self._normalize)
        sq = np.empty(X.shape[0], dtype=np.float32)
        for start, stop in store.spans():
            with np.errstate(over="ignore", invalid="ignore"):  # reported below, by row
                block = store.load_block(start, stop)
            finite = np.isfinite(block)
            if not finite.all():
                r, c = (int(v) for v in np.argwhere(~finite)[0])
                row = X[start + r : start + r + 1]
                value = (row.toarray() if sparse.issparse(row) else np.asarray(row))[0, c]
                value = float(value)
                raise ValueError(
                    f"X has a non-finite value in row {start + r}: column {c} holds {value!r}"
                    + (", which overflows float32" if math.isfinite(value) else "")
                    + "; remove or impute that row before fitting"
                )
            with np.errstate(over="ignore"):
                sq[start:stop] = np.einsum("ij,ij->i", block, block)
            _check_scale(sq[start:stop], start, "X", _MAX_SCALE / 2)
            del block, finite
        store.sq = sq
        self._max_sq = float(sq.max())
        return store

    def _resolve_devices(self):
        """The devices of the GPU / torch backends (None for numpy and faiss-cpu)."""
        devices, backend = self.devices, self.backend_
        if backend in ("numpy", "faiss-cpu"):
            if devices is not None:
                if self.backend != "auto":
                    raise ValueError(
                        f"devices={devices!r} applies to the GPU and torch backends, not "
                        f"backend={backend!r}"
                    )
                warnings.warn(
                    f"devices={devices!r} ignored: backend='auto' found no GPU and uses "
                    f"{backend!r}",
                    RuntimeWarning,
                    stacklevel=3,
                )
            return None
        if devices is not None:
            if isinstance(devices, (int, np.integer, str)) or not hasattr(devices, "__iter__"):
                devices = [devices]
            devices = list(devices)
            if not devices:
                raise ValueError("devices must name at least one device, or be None for all")
        if backend == "faiss-gpu":
            count = _faiss_gpu_count()
            if devices is None:
                return list(range(count))
            bad = [g for g in devices if not isinstance(g, (int, np.integer)) or not 0 <= g < count]
            if bad:
                raise ValueError(f"faiss-gpu devices must be GPU ids in [0, {count}), got {bad}")
            return [int(g) for g in devices]
        import torch

        if devices is None:
            if backend == "torch-cpu":
                return ["cpu"]
            return [f"cuda:{i}" for i in range(torch.cuda.device_count())]
        want = "cpu" if backend == "torch-cpu" else "cuda"
        out = []
        for dev in devices:
            if isinstance(dev, (int, np.integer)) and want == "cuda":
                dev = f"cuda:{int(dev)}"
            try:
                parsed = torch.device(dev)
            except (RuntimeError, TypeError):
                parsed = None
            if parsed is None or parsed.type != want:
                raise ValueError(
                    f"backend={backend!r} runs on {want!r} devices, got {dev!r} in devices"
                    + ("; several 'cpu' entries simulate a multi-device split" * (want == "cpu"))
                )
            if want == "cuda" and (parsed.index or 0) >= torch.cuda.device_count():
                raise ValueError(
                    f"CUDA device {dev!r} does not exist ({torch.cuda.device_count()} visible)"
                )
            out.append(str(parsed))
        return out

    def _build_dense(self, X):
        if self.backend_ == "numpy":
            data = _dense_rows(X, 0, X.shape[0], self._normalize)
            sq = np.einsum("ij,ij->i", data, data)
            return {"X": data, "sq": sq}
        import torch

        # Contiguous row shards, one per device (a single shard on one device).
        n = X.shape[0]
        bounds = np.linspace(0, n, len(self.devices_) + 1).round().astype(np.int64)
        shards = []
        for device, start, stop in zip(self.devices_, bounds[:-1], bounds[1:]):
            if stop > start:
                rows = _owned(_dense_rows(X, start, stop, self._normalize))
                data = torch.from_numpy(rows).to(torch.device(device))
                shards.append({"start": int(start), "X": data, "sq": (data * data).sum(dim=1)})
        return {"shards": shards}

    def _check_params(self, params):
        known = {"exact": set(), "ivf": {"nlist", "nprobe"}}
        known["hnsw"] = {"M", "efConstruction", "efSearch"}
        unknown = set(params) - known[self.algorithm]
        if unknown:
            raise ValueError(
                f"unknown algorithm_params {sorted(unknown)} for algorithm={self.algorithm!r}; "
                f"valid: {sorted(known[self.algorithm])}"
            )

    def _ivf_sizes(self, n, params):
        nlist = int(params.get("nlist", max(1, min(int(math.sqrt(n)), n // 39))))
        if not 1 <= nlist <= n:
            raise ValueError(f"ivf nlist={nlist} must be between 1 and n_samples={n}")
        nprobe = int(params.get("nprobe", min(nlist, max(8, nlist // 16))))
        if not 1 <= nprobe <= nlist:
            raise ValueError(f"ivf nprobe={nprobe} must be between 1 and nlist={nlist}")
        return nlist, nprobe

    def _build_batched_ivf(self, X, params):
        nlist, nprobe = self._ivf_sizes(X.shape[0], params)
        data = _dense_rows(X, 0, X.shape[0], self._normalize)
        with _blas_threads(self.n_jobs), _faiss_threads(_import_faiss(), self.n_jobs):
            n_threads = (os.cpu_count() or 1) if self.n_jobs in (None, -1) else self.n_jobs
            ivf = _BatchedIVF(nlist, nprobe, self._ip, self.random_state, max(1, n_threads))
            return ivf.build(data)

    def _build_faiss(self, X, params):
        faiss = _import_faiss()
        n, d = X.shape
        metric = faiss.METRIC_INNER_PRODUCT if self._ip else faiss.METRIC_L2
        self._check_params(params)
        with _faiss_threads(faiss, self.n_jobs):
            if self.algorithm == "exact":
                index = faiss.IndexFlat(d, metric)
            elif self.algorithm == "ivf":  # faiss-gpu: its IVF scans lists at GPU speed
                nlist, nprobe = self._ivf_sizes(n, params)
                quantizer = faiss.IndexFlat(d, metric)
                index = faiss.IndexIVFFlat(quantizer, d, nlist, metric)
                index.cp.seed = int(self.random_state)
                index.nprobe = nprobe
                # The IVF index frees its quantizer with itself (the usual faiss idiom).
                index.own_fields = True
                quantizer.this.disown()
                index.train(_dense_rows(X, 0, n, self._normalize))
            else:
                index = faiss.IndexHNSWFlat(d, int(params.get("M", 32)), metric)
                index.hnsw.efConstruction = int(params.get("efConstruction", 200))
                self._ef_search = params.get("efSearch")
            # Dense rows go in with one add: faiss regrows its storage on every add, so blocks
            # would briefly hold two copies. Sparse rows are densified block by block.
            step = self._rows_per_block(d) if sparse.issparse(X) else n
            for start in range(0, n, step):
                index.add(_dense_rows(X, start, min(n, start + step), self._normalize))
        if self.backend_ == "faiss-gpu":
            index = self._to_gpu(faiss, index)
        return index

    def _to_gpu(self, faiss, index):
        # Shards the index over the GPUs (all visible ones by default); one GPU gives a plain
        # GPU index.
        options = faiss.GpuMultipleClonerOptions()
        options.shard = True
        if getattr(self, "devices_", None) is None:
            return faiss.index_cpu_to_all_gpus(index, co=options)
        return faiss.index_cpu_to_gpus_list(index, co=options, gpus=list(self.devices_))

    def _rows_per_block(self, n_cols):
        if self.batch_size is not None:
            return int(self.batch_size)
        return int(max(64, min(65536, _BLOCK_BYTES // (4 * max(1, n_cols)))))

    # ------------------------------------------------------------------ search
    def kneighbors(self, X, k, *, exclude=None, return_distance=True, _ordered=True):
        """Return the ``k`` nearest indexed rows of each row of ``X``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_queries, n_features)
        k : int
        exclude : array of int of shape (n_queries,), optional
            Training index to leave out of each query's neighbours (the query itself when
            searching the training set). Exclusion is by index, not by position, so a
            duplicate of the query at distance 0 is kept as a neighbour.
        return_distance : bool, default=True

        Returns
        -------
        distances : ndarray of shape (n_queries, k), float64 (only if ``return_distance``)
            In exact mode, neighbours within float32 rounding of each other are ordered on
            float64 distances, so the order is the same on every backend and batching.
            The values are those of the float32 matrix product (float64 only where a
            near-tie was re-ranked): off by up to about ``eps32 * sqrt(d) * (|q|^2 +
            max |x|^2)`` in the squared distance (``|q| max |x|`` for inner products), plus
            ``d * 1.2e-38`` from float32 underflow. :meth:`exact_distances` recomputes
            them in float64.
        indices : ndarray of shape (n_queries, k), int64

        Raises
        ------
        ValueError
            ``k`` outside ``1..n_available``; ``"query row i is too large for float32
            distances"`` when ``|q|^2 + max |x|^2`` (``|q| max |x|`` for inner products)
            exceeds ``float32 max / 4``, as :meth:`fit` checks for the indexed rows.
        """
        dist, idx = self._kneighbors_raw(X, k, exclude, ordered=_ordered)
        if not return_distance:
            return idx
        return self._to_metric(dist), idx

    def _to_metric(self, dist):
        """Squared L2 / negated inner products (float64, in place) -> the metric's distances."""
        if self.metric == "euclidean":
            np.sqrt(np.maximum(dist, 0, out=dist), out=dist)
        elif self.metric == "sqeuclidean":
            np.maximum(dist, 0, out=dist)
        elif self.metric == "cosine":
            # 1 - cos lies in [0, 2]; float32 rounding of unit vectors can step just outside
            dist += 1.0
            np.clip(dist, 0.0, 2.0, out=dist)
        return dist

    def exact_distances(self, X, indices):
        """Distances of each query to the given indexed rows, computed exactly in float64.

        :meth:`kneighbors` returns the float32 matrix-product distances (exact only for
        near-ties), whose error is about ``eps32 * (|q|^2 + max |x|^2)`` in the squared
        distance: large relative to small distances, and a duplicate of a query need not come
        out at exactly 0. Here each distance is the float64 sum of exact terms of the float32
        (for cosine, normalised) vectors, so a duplicate is at exactly 0.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_queries, n_features)
        indices : array of int of shape (n_queries, m)
            Indexed rows per query, e.g. from :meth:`kneighbors`.

        Returns
        -------
        distances : ndarray of shape (n_queries, m), float64

        Examples
        --------
        >>> import numpy as np
        >>> X = np.array([[0.0, 0.0], [3.0, 4.0]], dtype=np.float32)
        >>> search = NeighborSearch(backend="numpy").fit(X)
        >>> idx = search.kneighbors(X, 2, return_distance=False)
        >>> search.exact_distances(X, idx).tolist()
        [[0.0, 5.0], [0.0, 5.0]]
        """
        indices = np.asarray(indices, dtype=np.int64)
        if indices.ndim != 2 or indices.shape[0] != X.shape[0]:
            raise ValueError(
                f"indices must have shape ({X.shape[0]}, m) for {X.shape[0]} queries, got "
                f"{indices.shape}"
            )
        Q = _dense_rows(X, 0, X.shape[0], self._normalize)
        rows = np.repeat(np.arange(Q.shape[0]), indices.shape[1])
        raw = self._exact_distances(Q, rows, indices.ravel()) if rows.size else np.empty(0)
        return self._to_metric(raw.reshape(indices.shape))

    def _kneighbors_raw(self, X, k, exclude=None, ordered=True):
        """Sorted (squared-L2 or negated inner product) float64 distances and indices.

        ``ordered=False``: only the *set* of the k nearest must be exact (ML-kNN's counts), so
        only near-ties across the k-th place are re-ranked in float64; the order inside the
        set may then follow float32 rounding. ``ordered=None``: no near-tie is re-ranked (the
        caller re-ranks the rows it needs exact with :meth:`_rerank_near_ties`); rows are
        still sorted by (float32 distance, index) and tie groups at the k-th place closed.
        """
        if not hasattr(self, "backend_"):
            raise RuntimeError("NeighborSearch is not fitted: call fit(X) first")
        n_q = X.shape[0]
        n_excl = 0 if exclude is None else 1
        available = self.n_samples_fit_ - n_excl
        if not 1 <= k <= available:
            raise ValueError(
                f"k={k} neighbours requested but only {available} indexed points are available"
                + (" once each query's own point is excluded" if n_excl else "")
            )
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"queries have {X.shape[1]} features but the index has {self.n_features_in_}"
            )
        if exclude is not None:
            exclude = np.asarray(exclude, dtype=np.int64)
            if exclude.shape != (n_q,):
                raise ValueError(f"exclude must have shape ({n_q},), got {exclude.shape}")
        margin = _TIE_MARGIN if self.algorithm == "exact" else 0
        k_search = min(k + n_excl + margin, self.n_samples_fit_)
        dist = np.empty((n_q, k), dtype=np.float64)
        idx = np.empty((n_q, k), dtype=np.int64)
        if self._data is not None and "ivf" in self._data:
            ivf = self._data["ivf"]
            step = self._rows_per_block(ivf.nprobe * ivf.max_list())
        elif self._data is not None and "ooc" in self._data:
            # each query batch is one pass over the training blocks: batches as big as a block
            step = int(self.batch_size or self._data["ooc"].block_rows)
        else:
            step = self._rows_per_block(self.n_samples_fit_)
        for start in range(0, n_q, step):
            stop = min(n_q, start + step)
            Q = _dense_rows(X, start, stop, self._normalize)
            self._check_query_scale(Q, start)
            excl = None if exclude is None else exclude[start:stop]
            tol = self.tie_tolerance(Q) if self.algorithm == "exact" else None
            d_b, i_b = self._sorted_candidates(
                Q, k_search, excl, tol, None if ordered else k, rerank=ordered is not None
            )
            if self.algorithm == "exact":
                d_b, i_b = self._close_tie_groups(Q, d_b, i_b, k, excl, tol)
            d_b, i_b = d_b[:, :k], i_b[:, :k]
            if np.isinf(d_b).any():
                raise RuntimeError(
                    f"the {self.algorithm!r} index returned fewer than k={k} neighbours for some "
                    "queries: raise nprobe / efSearch in algorithm_params or use algorithm='exact'"
                )
            dist[start:stop], idx[start:stop] = d_b, i_b
        return dist, idx

    def _sorted_candidates(self, Q, k_search, exclude, tol=None, boundary=None, rerank=True):
        """``k_search`` candidates per row sorted by (distance, index); excluded ones last.

        For exact search ``tol`` (:meth:`tie_tolerance` of ``Q``) marks the near-ties that are
        re-ranked on float64 distances.
        """
        d_b, i_b = self._search_block(Q, k_search)
        d_b = np.array(d_b, dtype=np.float64)
        i_b = np.array(i_b, dtype=np.int64)
        if self._ip:  # similarities -> distances: smaller is closer everywhere below
            d_b = -d_b
        if exclude is not None:
            # the excluded point (the query itself, usually first) moves to the end, so the
            # rows stay in (distance, index) order and need no sort below
            hit = i_b == exclude[:, None]
            rows = np.flatnonzero(hit.any(axis=1))  # at most one hit per row
            if rows.size:
                order = np.argsort(hit[rows], axis=1, kind="stable")
                d_b[rows] = np.take_along_axis(d_b[rows], order, axis=1)
                i_b[rows] = np.take_along_axis(i_b[rows], order, axis=1)
                d_b[rows, -1] = np.inf
        missing = i_b < 0
        if missing.any():
            d_b[missing] = np.inf
            i_b[missing] = np.iinfo(np.int64).max
        if d_b.shape[1] > 2 * k_search:  # many candidates (IVF lists): cut before sorting
            keep = np.argpartition(d_b, k_search - 1, axis=1)[:, :k_search]
            d_b = np.take_along_axis(d_b, keep, axis=1)
            i_b = np.take_along_axis(i_b, keep, axis=1)
        d_b, i_b = _order_by_distance_then_index(d_b, i_b, k_search)
        if tol is not None and rerank:
            d_b, i_b = self._rerank_near_ties(Q, d_b, i_b, tol, boundary)
        return d_b, i_b

    def _check_query_scale(self, Q, offset):
        max_sq = getattr(self, "_max_sq", None)  # absent from approximate searches of old pickles
        if max_sq is None:
            return
        with np.errstate(over="ignore", invalid="ignore"):
            q_sq = np.einsum("ij,ij->i", Q, Q).astype(np.float64)
            scale = np.sqrt(q_sq * max_sq) if self._ip else q_sq + max_sq
        scale[~np.isfinite(q_sq)] = np.inf
        _check_scale(scale, offset, "query")

    def tie_tolerance(self, Q):
        """Per query, the distance gap below which float32 rounding could swap two neighbours."""
        # a scale, not an exact value: float32 norms (fast SIMD) are accurate enough here
        q_sq = np.einsum("ij,ij->i", Q, Q).astype(np.float64)
        if self._ip:
            scale = 2.0 * np.sqrt(q_sq * self._max_sq)
        else:
            scale = q_sq + self._max_sq
        f32 = np.finfo(np.float32)
        # plus float32 underflow: squares and products of features below ~1e-19 lose up to
        # one smallest normal each (BLAS may flush subnormals to zero); a floor of 4 per
        # feature re-ranks such tiny distances in float64 rather than trust their order
        floor = 4.0 * self.n_features_in_ * float(f32.smallest_normal)
        return _TIE_TOL * f32.eps * math.sqrt(self.n_features_in_) * scale + floor

    def _rerank_near_ties(self, Q, d_b, i_b, tol, boundary=None):
        """Recompute in float64 the distances of neighbours within float32 rounding of another.

        Elsewhere consecutive distances differ by more than the rounding, so after this the
        order is exactly the float64 (distance, index) order, whatever the backend computed
        in float32 and however it blocked the matrix products.
        """
        close = (np.diff(d_b, axis=1) <= tol[:, None]) & np.isfinite(d_b[:, 1:])
        if boundary is not None:
            close = _chain_across(close, boundary)
        if not close.any():
            return d_b, i_b
        member = np.zeros(d_b.shape, dtype=bool)
        member[:, 1:] |= close
        member[:, :-1] |= close
        rows, cols = np.nonzero(member)
        changed = np.unique(rows)
        d_b[rows, cols] = self._exact_distances(Q, rows, i_b[rows, cols])
        d_b[changed], i_b[changed] = _order_by_distance_then_index(
            d_b[changed], i_b[changed], d_b.shape[1]
        )
        return d_b, i_b

    def _exact_distances(self, Q, rows, ids):
        """Float64 distances (negated inner products) of queries ``Q[rows]`` to points ``ids``.

        float32 - float32 is exact in float64 and so are the squares (or, for inner products,
        the float32 x float32 products): each value is the float64 sum of exact terms,
        computed the same way whatever the backend. Chunks of ~4 MB float64.
        """
        out = np.empty(rows.size)
        step = max(1, (4 * 2**20) // (8 * self.n_features_in_))
        for s in range(0, rows.size, step):
            r = rows[s : s + step]
            x = self._training_rows(ids[s : s + step])
            if self._ip:
                out[s : s + step] = -np.einsum("ij,ij->i", Q[r], x, dtype=np.float64)
            else:
                diff = Q[r].astype(np.float64)
                diff -= x
                out[s : s + step] = np.einsum("ij,ij->i", diff, diff)
        return out

    def _faiss_view(self):
        """The flat float32 vectors of a CPU faiss index (HNSW: its storage), not copied."""
        faiss = _import_faiss()
        n, d = self.n_samples_fit_, self.n_features_in_
        flat = self._index
        if self.algorithm == "hnsw":  # IndexHNSWFlat keeps the rows in an IndexFlat storage
            flat = faiss.downcast_index(flat.storage)
        return faiss.rev_swig_ptr(flat.get_xb(), n * d).reshape(n, d)

    def _training_rows(self, ids):
        """Indexed vectors (normalised for cosine) of training indices ``ids``, float32."""
        if self._data is not None:
            if "ooc" in self._data:
                return self._data["ooc"].rows(ids)
            if "shards" in self._data:
                return self._shard_rows(np.asarray(ids, dtype=np.int64))
            if "ivf" in self._data:
                return self._data["ivf"].rows(ids)
            return self._data["X"][ids]
        faiss = _import_faiss()
        if self.backend_ == "faiss-cpu":
            return self._faiss_view()[ids]
        index = faiss.index_gpu_to_cpu(self._index)
        if self.algorithm == "ivf":  # IVF lists reconstruct by id only through a direct map
            faiss.extract_index_ivf(index).make_direct_map()
        ids = np.asarray(ids, dtype=np.int64)
        return index.reconstruct_batch(ids.ravel()).reshape(ids.shape + (-1,))

    def _close_tie_groups(self, Q, d_b, i_b, k, exclude, tol):
        """Re-search, with twice the candidates, rows whose candidates all (near-)tie the k-th.

        Only then can a (near-)tie group at the k-th place run past the candidates the backend
        returned; re-searching until it fits makes the (distance, index) order exact.
        """
        n_fit = self.n_samples_fit_
        while d_b.shape[1] < n_fit:
            beyond = np.isfinite(d_b) & (d_b > d_b[:, k - 1 : k] + tol[:, None])
            open_rows = np.flatnonzero(~beyond.any(axis=1))
            if open_rows.size == 0:
                break
            kk = min(2 * d_b.shape[1], n_fit)
            d_r, i_r = self._sorted_candidates(
                Q[open_rows], kk, None if exclude is None else exclude[open_rows], tol[open_rows]
            )
            pad = kk - d_b.shape[1]
            d_b = np.pad(d_b, ((0, 0), (0, pad)), constant_values=np.inf)
            i_b = np.pad(i_b, ((0, 0), (0, pad)), constant_values=np.iinfo(np.int64).max)
            d_b[open_rows], i_b[open_rows] = d_r, i_r
        return d_b, i_b

    def _shard_rows(self, ids):
        import torch

        out = np.empty(ids.shape + (self.n_features_in_,), dtype=np.float32)
        for shard in self._data["shards"]:
            data, start = shard["X"], shard["start"]
            sel = (ids >= start) & (ids < start + data.shape[0])
            if sel.any():
                local = torch.from_numpy(ids[sel] - start).to(data.device)
                out[sel] = data[local].cpu().numpy()
        return out

    def _search_block(self, Q, k):
        if self._data is not None and "ooc" in self._data:
            return self._search_out_of_core(Q, k)
        if self._index is not None:
            faiss = _import_faiss()
            with _faiss_threads(faiss, self.n_jobs):
                if self.algorithm == "hnsw":
                    # per call, not on the shared index: concurrent searches with other k
                    ef = int(self._ef_search or max(128, 2 * k))
                    return self._index.search(Q, k, params=faiss.SearchParametersHNSW(efSearch=ef))
                return self._index.search(Q, k)
        if "ivf" in self._data:
            with _blas_threads(self.n_jobs):
                return self._data["ivf"].search(Q, k)
        if self.backend_ == "numpy":
            return self._search_numpy(Q, k)
        return self._search_torch(Q, k)

    def _search_numpy(self, Q, k):
        X, sq = self._data["X"], self._data["sq"]
        with _blas_threads(self.n_jobs):
            prod = Q @ X.T
        if self._ip:
            scores = prod
            part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        else:
            scores = np.einsum("ij,ij->i", Q, Q)[:, None] + sq[None, :] - 2.0 * prod
            part = np.argpartition(scores, k - 1, axis=1)[:, :k]
        return np.take_along_axis(scores, part, axis=1), part

    def _search_torch(self, Q, k):
        import torch

        q_host = torch.from_numpy(_owned(Q))
        # Database blocks keep the (queries x block) distance matrix within _BLOCK_BYTES.
        db_step = max(k, _BLOCK_BYTES // (4 * max(1, Q.shape[0])))
        parts = []
        with _torch_highest_precision(torch):
            # kernels are queued on every device before the merge waits for any of them
            for shard in self._data["shards"]:
                X, sq = shard["X"], shard["sq"]
                q = q_host.to(X.device)
                d_s, i_s = self._torch_topk(torch, X, sq, q, min(k, X.shape[0]), db_step)
                parts.append((d_s, i_s + shard["start"]))
        if len(parts) == 1:
            best_d, best_i = parts[0]
        else:
            best_d, best_i = _torch_merge(torch, parts, k, parts[0][0].device)
        d = best_d.cpu().numpy()
        # callers expect similarities from inner-product backends (they negate them)
        return (-d if self._ip else d), best_i.cpu().numpy()

    # ------------------------------------------------------------------ out of core
    def _search_out_of_core(self, Q, k):
        """Best ``k`` of every training block merged by (distance, index); backend units."""
        workers = self._block_workers()
        if self.backend_.startswith("torch"):
            import torch

            with _torch_highest_precision(torch):
                dist, idx = self._scan_blocks(Q, k, workers)
        else:
            dist, idx = self._scan_blocks(Q, k, workers)
        # callers expect similarities from inner-product backends (they negate them)
        return (-dist if self._ip else dist), idx

    def _scan_blocks(self, Q, k, workers):
        """Search ``Q`` in every training block; block ``b`` goes to ``workers[b % n]``.

        A worker is ``worker(Q) -> search(block, sq, kk)`` returning ``kk`` (distance, local
        index) candidates per query, smaller distances closer (negated inner products). Each
        worker merges its blocks' candidates by (distance, index) and the workers' lists are
        merged alike, so the result does not depend on how the blocks were dealt.
        """
        store = self._data["ooc"]
        spans = store.spans()
        n_workers = max(1, min(len(workers), len(spans)))

        def scan(w):
            search = workers[w](Q)
            best = None
            for start, stop in spans[w::n_workers]:
                block = store.load_block(start, stop)
                dist, idx = search(block, store.sq[start:stop], min(k, stop - start))
                del block  # the next block replaces it: one block per worker in memory
                best = _merge_candidates(best, dist, np.asarray(idx, dtype=np.int64) + start, k)
            return best

        if n_workers == 1:
            parts = [scan(0)]
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(n_workers) as pool:
                parts = list(pool.map(scan, range(n_workers)))
        best = parts[0]
        for dist, idx in parts[1:]:
            best = _merge_candidates(best, dist, idx, k)
        return best

    def _block_workers(self):
        if self.backend_ == "numpy":
            return [self._numpy_block_worker]
        if self.backend_ == "faiss-cpu":
            return [self._faiss_cpu_block_worker]
        if self.backend_ == "faiss-gpu":
            resources = self._gpu_resources()
            return [
                functools.partial(self._faiss_gpu_block_worker, res, device)
                for res, device in zip(resources, self.devices_)
            ]
        return [functools.partial(self._torch_block_worker, device) for device in self.devices_]

    def _numpy_block_worker(self, Q):
        q_sq = None if self._ip else np.einsum("ij,ij->i", Q, Q)

        def search(block, sq, kk):
            n_q = Q.shape[0]
            dist = np.empty((n_q, kk), dtype=np.float32)
            idx = np.empty((n_q, kk), dtype=np.int64)
            tile = max(1, _BLOCK_BYTES // (4 * block.shape[0]))  # (tile x block) distances
            for a in range(0, n_q, tile):
                b = min(n_q, a + tile)
                with _blas_threads(self.n_jobs):
                    prod = Q[a:b] @ block.T
                if self._ip:
                    scores = -prod
                else:
                    scores = q_sq[a:b, None] + sq[None, :] - 2.0 * prod
                part = np.argpartition(scores, kk - 1, axis=1)[:, :kk]
                dist[a:b] = np.take_along_axis(scores, part, axis=1)
                idx[a:b] = part
            return dist, idx

        return search

    def _faiss_cpu_block_worker(self, Q):
        faiss = _import_faiss()
        metric = faiss.METRIC_INNER_PRODUCT if self._ip else faiss.METRIC_L2

        def search(block, sq, kk):
            with _faiss_threads(faiss, self.n_jobs):
                dist, idx = faiss.knn(Q, block, kk, metric=metric)
            return (-dist if self._ip else dist), idx

        return search

    def _gpu_resources(self):
        # one StandardGpuResources per device: they are not safe to share between threads
        if getattr(self, "_gpu_res", None) is None:
            faiss = _import_faiss()
            self._gpu_res = [faiss.StandardGpuResources() for _ in self.devices_]
        return self._gpu_res

    def _faiss_gpu_block_worker(self, res, device, Q):  # pragma: no cover - needs a GPU
        faiss = _import_faiss()
        metric = faiss.METRIC_INNER_PRODUCT if self._ip else faiss.METRIC_L2
        on_cpu = None

        def search(block, sq, kk):
            nonlocal on_cpu
            if kk > _FAISS_GPU_MAX_K:  # a long tie group: past the GPU k-selection
                on_cpu = on_cpu or self._numpy_block_worker(Q)
                return on_cpu(block, sq, kk)
            dist, idx = faiss.knn_gpu(res, Q, block, kk, metric=metric, device=int(device))
            return (-dist if self._ip else dist), idx

        return search

    def _torch_block_worker(self, device, Q):
        import torch

        device = torch.device(device)
        q = torch.from_numpy(_owned(Q)).to(device)
        db_step = _BLOCK_BYTES // (4 * max(1, Q.shape[0]))

        def search(block, sq, kk):
            X = torch.from_numpy(block).to(device)
            sq_t = torch.from_numpy(np.ascontiguousarray(sq)).to(device)
            dist, idx = self._torch_topk(torch, X, sq_t, q, kk, max(kk, db_step))
            return dist.cpu().numpy(), idx.cpu().numpy()

        return search

    def _torch_topk(self, torch, X, sq, q, k, db_step):
        best_d, best_i = None, None
        with torch.inference_mode():
            for start in range(0, X.shape[0], db_step):
                block = X[start : start + db_step]
                prod = q @ block.T
                if self._ip:
                    scores = -prod
                else:
                    scores = (
                        (q * q).sum(dim=1, keepdim=True) + sq[start : start + db_step] - 2 * prod
                    )
                kk = min(k, block.shape[0])
                d_b, i_b = torch.topk(scores, kk, dim=1, largest=False, sorted=False)
                i_b = i_b + start
                if best_d is None:
                    best_d, best_i = d_b, i_b
                else:
                    cat_d, cat_i = torch.cat([best_d, d_b], 1), torch.cat([best_i, i_b], 1)
                    best_d, pos = torch.topk(cat_d, min(k, cat_d.shape[1]), dim=1, largest=False)
                    best_i = torch.gather(cat_i, 1, pos)
        return best_d, best_i

    def reconstruct(self, start, stop):
        """Return indexed rows ``start:stop`` as float32 (normalised ones for cosine)."""
        stop = min(stop, self.n_samples_fit_)
        if self._data is not None and "ivf" in self._data:
            return self._data["ivf"].reconstruct(start, stop)
        if self._data is not None and "ooc" in self._data:
            return _dense_rows(self._data["ooc"].source, start, stop, self._normalize)
        if self._data is not None and "shards" in self._data:
            return self._shard_rows(np.arange(start, stop, dtype=np.int64))
        if self._data is not None:
            return self._data["X"][start:stop]
        faiss = _import_faiss()
        index = self._index
        if self.backend_ == "faiss-gpu":
            index = faiss.index_gpu_to_cpu(index)
        if self.algorithm == "ivf":
            faiss.extract_index_ivf(index).make_direct_map()
        return index.reconstruct_n(start, stop - start)

    # ------------------------------------------------------------------ pickling
    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_gpu_res", None)
        index = state.pop("_index", None)
        if index is not None:
            faiss = _import_faiss()
            if self.backend_ == "faiss-gpu":
                index = faiss.index_gpu_to_cpu(index)
            state["_faiss_bytes"] = faiss.serialize_index(index)
        data = state.get("_data")
        if data is not None and "ooc" in data:
            state["_data"] = {"ooc": data["ooc"].describe()}
        elif data is not None and "shards" in data:
            state["_data"] = {
                "shards": [
                    {"start": sh["start"], "X": sh["X"].cpu().numpy(), "sq": sh["sq"].cpu().numpy()}
                    for sh in data["shards"]
                ]
            }
        return state

    def __setstate__(self, state):
        raw = state.pop("_faiss_bytes", None)
        # searches pickled before out-of-core and multi-device support
        for key, value in (("out_of_core", "auto"), ("block_rows", None), ("devices", None)):
            state.setdefault(key, value)
        state.setdefault("out_of_core_", False)
        self.__dict__.update(state)
        self._index = None
        self._gpu_res = None
        if "devices_" not in state:
            self.devices_ = self._default_devices()
        if raw is not None:
            faiss = _import_faiss()
            self._index = faiss.deserialize_index(raw)
            if self.backend_ == "faiss-gpu":
                if _faiss_gpu_count() > 0:
                    self.devices_ = self._loaded_gpu_ids()
                    self._index = self._to_gpu(faiss, self._index)
                else:
                    warnings.warn(
                        "loaded a faiss-gpu index on a machine without GPU faiss: searching on "
                        "the CPU instead",
                        RuntimeWarning,
                        stacklevel=2,
                    )
                    self.backend_, self.devices_ = "faiss-cpu", None
        elif self._data is not None and "ooc" in self._data:
            self._data = {"ooc": _BlockStore.from_description(self._data["ooc"])}
            if self.backend_ == "faiss-gpu" and _faiss_gpu_count() == 0:
                warnings.warn(
                    "loaded a faiss-gpu search on a machine without GPU faiss: searching on "
                    "the CPU instead",
                    RuntimeWarning,
                    stacklevel=2,
                )
                self.backend_, self.devices_ = "faiss-cpu", None
            elif self.backend_ == "faiss-gpu":
                self.devices_ = self._loaded_gpu_ids()
            elif self.backend_.startswith("torch"):
                self.devices_ = self._loaded_torch_devices(len(self.devices_))
        elif self._data is not None and self.backend_.startswith("torch"):
            import torch

            shards = self._data.get("shards")
            if shards is None:  # one-device layout of older pickles
                shards = [{"start": 0, "X": self._data["X"], "sq": self._data["sq"]}]
            self.devices_ = self._loaded_torch_devices(len(shards))
            self._data = {
                "shards": [
                    {
                        "start": sh["start"],
                        "X": torch.from_numpy(sh["X"]).to(device),
                        "sq": torch.from_numpy(sh["sq"]).to(device),
                    }
                    for sh, device in zip(shards, self.devices_)
                ]
            }

    def _default_devices(self):
        if self.backend_ == "torch-cpu":
            return ["cpu"]
        if self.backend_ == "torch-cuda":
            return ["cuda:0"]
        return None

    def _loaded_gpu_ids(self):
        """The saved GPU ids that exist here (all GPUs if none, or if ``devices`` was None)."""
        count = _faiss_gpu_count()
        kept = [g for g in (self.devices_ or []) if g < count]
        return kept if kept and self.devices is not None else list(range(count))

    def _loaded_torch_devices(self, n):
        """``n`` devices for the loaded shards or block workers, on this machine."""
        import torch

        saved = list(self.devices_ or ["cpu"])[:n]
        saved += saved[-1:] * (n - len(saved))
        if self.backend_ != "torch-cuda":
            return saved
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            warnings.warn(
                "loaded a torch-cuda search without CUDA: searching with torch on the CPU",
                RuntimeWarning,
                stacklevel=3,
            )
            self.backend_ = "torch-cpu"
            return ["cpu"] * n
        moved = [f"cuda:{(torch.device(d).index or 0) % count}" for d in saved]
        if moved != saved:
            warnings.warn(
                f"loaded a torch-cuda search made on devices {saved} where {count} GPU(s) are "
                f"visible: using {moved}",
                RuntimeWarning,
                stacklevel=3,
            )
        return moved


def measure_recall(X, queries, k, *, algorithm="hnsw", algorithm_params=None, **search_params):
    """Recall of an approximate index against exact search on the same data.

    Returns
    -------
    float
        Mean fraction of the exact ``k`` neighbours that the approximate search finds.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 8)).astype(np.float32)
    >>> measure_recall(X, X[:50], 5, algorithm="hnsw") > 0.9
    True
    """
    exact = NeighborSearch(algorithm="exact", **search_params).fit(X)
    approx = NeighborSearch(
        algorithm=algorithm, algorithm_params=algorithm_params, **search_params
    ).fit(X)
    return neighbor_recall(
        approx.kneighbors(queries, k, return_distance=False),
        exact.kneighbors(queries, k, return_distance=False),
    )
