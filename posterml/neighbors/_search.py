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
"""

import contextlib
import importlib.util
import math
import os
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


def _blas_threads(n_jobs):
    if n_jobs is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=(os.cpu_count() or 1) if n_jobs < 0 else int(n_jobs))


def _dense_rows(X, start, stop, normalize):
    block = X[start:stop]
    if sparse.issparse(block):
        block = block.toarray()
    block = np.ascontiguousarray(block, dtype=np.float32)
    if normalize:
        norms = np.linalg.norm(block, axis=1, keepdims=True)
        block = block / np.where(norms > 0, norms, 1.0).astype(np.float32)
    return block


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
        with warnings.catch_warnings():
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

        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1), ThreadPoolExecutor(self.n_threads) as pool:
            list(pool.map(scan, range(self.nlist)))
        return cand_d, cand_i

    def reconstruct(self, start, stop):
        inverse = np.empty_like(self.ids)
        inverse[self.ids] = np.arange(self.ids.size)
        return self.data[inverse[start:stop]]


class NeighborSearch:
    """Exact (default) or approximate k-nearest-neighbour search on float32 vectors.

    Parameters
    ----------
    metric : {"euclidean", "sqeuclidean", "cosine", "inner_product"}, default="euclidean"
        Distances returned: Euclidean, squared Euclidean, ``1 - cosine similarity``, or the
        negative inner product (so that smaller is always closer).
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
    ):
        self.metric = metric
        self.backend = backend
        self.algorithm = algorithm
        self.algorithm_params = algorithm_params
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.random_state = random_state

    # ------------------------------------------------------------------ build
    def fit(self, X):
        """Index the rows of ``X`` (dense or sparse, finite; converted to float32)."""
        if self.metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}, got {self.metric!r}")
        n, d = X.shape
        if n == 0 or d == 0:
            raise ValueError(f"cannot index an empty matrix of shape {X.shape}")
        self.backend_ = resolve_backend(self.backend, self.algorithm)
        self.n_samples_fit_, self.n_features_in_ = n, d
        self._normalize = self.metric == "cosine"
        self._ip = self.metric in ("cosine", "inner_product")
        params = dict(self.algorithm_params or {})
        if self.algorithm == "exact":
            step = self._rows_per_block(d)
            self._max_sq = max(
                float(np.einsum("ij,ij->i", b, b).max())
                for b in (
                    _dense_rows(X, i, min(n, i + step), self._normalize) for i in range(0, n, step)
                )
            )
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

    def _build_dense(self, X):
        if self.backend_ == "numpy":
            data = _dense_rows(X, 0, X.shape[0], self._normalize)
            sq = np.einsum("ij,ij->i", data, data)
            return {"X": data, "sq": sq}
        import torch

        device = "cuda" if self.backend_ == "torch-cuda" else "cpu"
        data = torch.from_numpy(_dense_rows(X, 0, X.shape[0], self._normalize)).to(device)
        return {"X": data, "sq": (data * data).sum(dim=1)}

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
        # Shards the index over every visible GPU; one GPU gives a plain GPU index.
        options = faiss.GpuMultipleClonerOptions()
        options.shard = True
        return faiss.index_cpu_to_all_gpus(index, co=options)

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
        indices : ndarray of shape (n_queries, k), int64
        """
        dist, idx = self._kneighbors_raw(X, k, exclude, ordered=_ordered)
        if not return_distance:
            return idx
        if self.metric == "euclidean":
            np.sqrt(np.maximum(dist, 0, out=dist), out=dist)
        elif self.metric == "sqeuclidean":
            np.maximum(dist, 0, out=dist)
        elif self.metric == "cosine":
            dist += 1.0
        return dist, idx

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
        else:
            step = self._rows_per_block(self.n_samples_fit_)
        for start in range(0, n_q, step):
            stop = min(n_q, start + step)
            Q = _dense_rows(X, start, stop, self._normalize)
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

    def tie_tolerance(self, Q):
        """Per query, the distance gap below which float32 rounding could swap two neighbours."""
        # a scale, not an exact value: float32 norms (fast SIMD) are accurate enough here
        q_sq = np.einsum("ij,ij->i", Q, Q).astype(np.float64)
        if self._ip:
            scale = 2.0 * np.sqrt(q_sq * self._max_sq)
        else:
            scale = q_sq + self._max_sq
        return _TIE_TOL * np.finfo(np.float32).eps * math.sqrt(self.n_features_in_) * scale

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
        n, d = self.n_samples_fit_, self.n_features_in_
        return _import_faiss().rev_swig_ptr(self._index.get_xb(), n * d).reshape(n, d)

    def _training_rows(self, ids):
        """Indexed vectors (normalised for cosine) of training indices ``ids``, float32."""
        if self._data is not None:
            data = self._data["X"]
            if isinstance(data, np.ndarray):
                return data[ids]
            import torch

            return data[torch.from_numpy(ids).to(data.device)].cpu().numpy()
        faiss = _import_faiss()
        if self.backend_ == "faiss-cpu":
            return self._faiss_view()[ids]
        return faiss.index_gpu_to_cpu(self._index).reconstruct_batch(ids)

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

    def _search_block(self, Q, k):
        if self._index is not None:
            faiss = _import_faiss()
            with _faiss_threads(faiss, self.n_jobs):
                if self.algorithm == "hnsw":
                    self._index.hnsw.efSearch = int(self._ef_search or max(128, 2 * k))
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

        X, sq = self._data["X"], self._data["sq"]
        q = torch.from_numpy(Q).to(X.device)
        # Database blocks keep the (queries x block) distance matrix within _BLOCK_BYTES.
        db_step = max(k, _BLOCK_BYTES // (4 * max(1, q.shape[0])))
        # TF32 / bf16 matmuls (torch.set_float32_matmul_precision("high"/"medium") set by
        # the user) would break the float32 error bound the near-tie re-ranking relies on.
        precision = torch.get_float32_matmul_precision()
        torch.set_float32_matmul_precision("highest")
        try:
            best_d, best_i = self._torch_topk(torch, X, sq, q, k, db_step)
        finally:
            torch.set_float32_matmul_precision(precision)
        d = best_d.cpu().numpy()
        # callers expect similarities from inner-product backends (they negate them)
        return (-d if self._ip else d), best_i.cpu().numpy()

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
        if self._data is not None:
            block = self._data["X"][start:stop]
            return block if isinstance(block, np.ndarray) else block.cpu().numpy()
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
        index = state.pop("_index", None)
        if index is not None:
            faiss = _import_faiss()
            if self.backend_ == "faiss-gpu":
                index = faiss.index_gpu_to_cpu(index)
            state["_faiss_bytes"] = faiss.serialize_index(index)
        data = state.get("_data")
        if data is not None and self.backend_.startswith("torch"):
            state["_data"] = {key: value.cpu().numpy() for key, value in data.items()}
        return state

    def __setstate__(self, state):
        raw = state.pop("_faiss_bytes", None)
        self.__dict__.update(state)
        self._index = None
        if raw is not None:
            faiss = _import_faiss()
            self._index = faiss.deserialize_index(raw)
            if self.backend_ == "faiss-gpu":
                if _faiss_gpu_count() > 0:
                    self._index = self._to_gpu(faiss, self._index)
                else:
                    warnings.warn(
                        "loaded a faiss-gpu index on a machine without GPU faiss: searching on "
                        "the CPU instead",
                        RuntimeWarning,
                        stacklevel=2,
                    )
                    self.backend_ = "faiss-cpu"
        elif self._data is not None and self.backend_.startswith("torch"):
            import torch

            device = "cuda" if self.backend_ == "torch-cuda" else "cpu"
            if device == "cuda" and not torch.cuda.is_available():
                warnings.warn(
                    "loaded a torch-cuda search without CUDA: searching with torch on the CPU",
                    RuntimeWarning,
                    stacklevel=2,
                )
                self.backend_, device = "torch-cpu", "cpu"
            self._data = {k: torch.from_numpy(v).to(device) for k, v in self._data.items()}


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
