import importlib.util
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn.neighbors import NearestNeighbors

from posterml.neighbors import NeighborSearch, available_backends, measure_recall, neighbor_recall
from posterml.neighbors._search import resolve_backend

CPU_BACKENDS = ["numpy", "faiss-cpu"] + (
    ["torch-cpu"] if importlib.util.find_spec("torch") is not None else []
)


def _integer_data(seed, n=300, d=6, n_dup=20):
    # Small integers make every float32 distance exact, so all backends must agree bit for bit.
    rng = np.random.default_rng(seed)
    X = rng.integers(-3, 4, size=(n, d)).astype(np.float32)
    X[-n_dup:] = X[:n_dup]  # exact duplicates tie at distance 0
    return X


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_backends_identical_on_exact_data(backend):
    X = _integer_data(0)
    Q = _integer_data(1, n=50)
    ref_d, ref_i = NeighborSearch(backend="numpy").fit(X).kneighbors(Q, 15)
    d, i = NeighborSearch(backend=backend).fit(X).kneighbors(Q, 15)
    np.testing.assert_array_equal(i, ref_i)
    np.testing.assert_array_equal(d, ref_d)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_ties_go_to_the_lower_index(backend):
    # 40 identical points: every query's neighbours are simply the lowest indices.
    X = np.zeros((40, 3), dtype=np.float32)
    idx = NeighborSearch(backend=backend).fit(X).kneighbors(X[:5], 7, return_distance=False)
    np.testing.assert_array_equal(idx, np.tile(np.arange(7), (5, 1)))


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_self_exclusion_is_by_index_not_position(backend):
    X = np.array([[0.0, 0.0], [0.0, 0.0], [5.0, 5.0], [9.0, 9.0]], dtype=np.float32)
    search = NeighborSearch(backend=backend).fit(X)
    dist, idx = search.kneighbors(X, 1, exclude=np.arange(4))
    # Point 1 is point 0's duplicate: each finds the other at distance 0, never itself.
    assert idx[:, 0].tolist() == [1, 0, 3, 2]
    assert dist[0, 0] == 0.0
    assert dist[1, 0] == 0.0


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_matches_sklearn_brute_force(metric):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 12)).astype(np.float32)
    Q = rng.normal(size=(60, 12)).astype(np.float32)
    nn = NearestNeighbors(n_neighbors=10, algorithm="brute", metric=metric).fit(X)
    ref_d, ref_i = nn.kneighbors(Q)
    for backend in CPU_BACKENDS:
        d, i = NeighborSearch(metric=metric, backend=backend).fit(X).kneighbors(Q, 10)
        np.testing.assert_array_equal(i, ref_i)
        np.testing.assert_allclose(d, ref_d, rtol=1e-4, atol=1e-5)


def test_inner_product_orders_by_largest_product():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 5)).astype(np.float32)
    Q = rng.normal(size=(10, 5)).astype(np.float32)
    expected = np.argsort(-(Q @ X.T), axis=1, kind="stable")[:, :5]
    for backend in CPU_BACKENDS:
        d, i = NeighborSearch(metric="inner_product", backend=backend).fit(X).kneighbors(Q, 5)
        np.testing.assert_array_equal(i, expected)
        np.testing.assert_allclose(-d, np.take_along_axis(Q @ X.T, i, 1), rtol=1e-5)


def test_sparse_and_small_batches_give_the_same_neighbours():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 8)) * (rng.random((300, 8)) < 0.4)
    Q = X[:70]
    ref = NeighborSearch().fit(X).kneighbors(Q, 9, return_distance=False)
    out = (
        NeighborSearch(batch_size=16)
        .fit(sparse.csr_matrix(X))
        .kneighbors(sparse.csr_matrix(Q), 9, return_distance=False)
    )
    np.testing.assert_array_equal(out, ref)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_pickle_round_trip(backend):
    X = _integer_data(6)
    search = NeighborSearch(backend=backend).fit(X)
    clone = pickle.loads(pickle.dumps(search))
    np.testing.assert_array_equal(
        clone.kneighbors(X[:30], 5, return_distance=False),
        search.kneighbors(X[:30], 5, return_distance=False),
    )


@pytest.mark.parametrize("algorithm", ["ivf", "hnsw"])
def test_approximate_search_recall_and_pickle(algorithm):
    rng = np.random.default_rng(7)
    centers = rng.normal(scale=5, size=(20, 16))
    X = (centers[rng.integers(0, 20, 3000)] + rng.normal(size=(3000, 16))).astype(np.float32)
    recall = measure_recall(X, X[:200], 10, algorithm=algorithm)
    assert recall >= 0.9
    search = NeighborSearch(algorithm=algorithm).fit(X)
    restored = pickle.loads(pickle.dumps(search))
    np.testing.assert_array_equal(
        restored.kneighbors(X[:20], 10, return_distance=False),
        search.kneighbors(X[:20], 10, return_distance=False),
    )


def test_neighbor_recall_counts_overlap():
    assert neighbor_recall([[1, 2, 3]], [[3, 2, 1]]) == 1.0
    assert neighbor_recall([[1, 2], [5, 6]], [[1, 9], [7, 8]]) == 0.25
    with pytest.raises(ValueError, match="differ in shape"):
        neighbor_recall([[1, 2]], [[1, 2, 3]])


def test_clear_errors():
    X = np.zeros((5, 2), dtype=np.float32)
    search = NeighborSearch(backend="numpy").fit(X)
    with pytest.raises(ValueError, match="only 4 indexed points are available once"):
        search.kneighbors(X, 5, exclude=np.arange(5))
    with pytest.raises(ValueError, match="queries have 3 features but the index has 2"):
        search.kneighbors(np.zeros((1, 3)), 1)
    with pytest.raises(ValueError, match="backend must be one of"):
        resolve_backend("cuda")
    with pytest.raises(ValueError, match="is a faiss index"):
        resolve_backend("numpy", "hnsw")
    with pytest.raises(ValueError, match="unknown algorithm_params"):
        NeighborSearch(algorithm="hnsw", algorithm_params={"nprobe": 3}).fit(X)
    with pytest.raises(ValueError, match="empty matrix"):
        NeighborSearch().fit(np.zeros((0, 2), dtype=np.float32))


def test_auto_prefers_faiss_on_cpu_and_lists_backends():
    backends = available_backends()
    assert backends.index("faiss-cpu") < backends.index("numpy")
    assert "faiss-gpu" not in backends or resolve_backend() == "faiss-gpu"
    if "faiss-gpu" not in backends and "torch-cuda" not in backends:
        assert resolve_backend() == "faiss-cpu"


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 60),
    d=st.integers(1, 5),
    seed=st.integers(0, 10_000),
    data=st.data(),
)
def test_property_numpy_and_faiss_agree_on_grid_data(n, d, seed, data):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 3, size=(n, d)).astype(np.float32)  # many exact ties
    k = data.draw(st.integers(1, n - 1))
    a = NeighborSearch(backend="numpy").fit(X).kneighbors(X, k, exclude=np.arange(n))
    b = NeighborSearch(backend="faiss-cpu").fit(X).kneighbors(X, k, exclude=np.arange(n))
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(a[0], b[0])
    assert not (a[1] == np.arange(n)[:, None]).any()
    assert (np.diff(a[0], axis=1) >= 0).all()


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "inner_product"])
def test_ivf_probing_every_list_is_exact(metric):
    rng = np.random.default_rng(8)
    X = rng.normal(size=(2000, 12)).astype(np.float32)
    Q = rng.normal(size=(150, 12)).astype(np.float32)
    exact = NeighborSearch(metric=metric).fit(X).kneighbors(Q, 7)
    full = NeighborSearch(
        metric=metric, algorithm="ivf", algorithm_params={"nlist": 20, "nprobe": 20}
    ).fit(X)
    d, i = full.kneighbors(Q, 7)
    np.testing.assert_array_equal(i, exact[1])
    np.testing.assert_allclose(d, exact[0], rtol=1e-4, atol=1e-4)
    # training rows come back in their original order from the list-sorted store
    np.testing.assert_allclose(
        full.reconstruct(5, 9),
        X[5:9] / (np.linalg.norm(X[5:9], axis=1, keepdims=True) if metric == "cosine" else 1),
        rtol=1e-6,
    )


def test_ivf_validates_its_parameters():
    X = np.random.default_rng(9).normal(size=(100, 4)).astype(np.float32)
    with pytest.raises(ValueError, match="nprobe=9 must be between 1 and nlist=5"):
        NeighborSearch(algorithm="ivf", algorithm_params={"nlist": 5, "nprobe": 9}).fit(X)
    with pytest.raises(ValueError, match="nlist=500 must be between 1 and n_samples=100"):
        NeighborSearch(algorithm="ivf", algorithm_params={"nlist": 500}).fit(X)


@pytest.mark.parametrize("metric", ["euclidean", "inner_product"])
def test_exact_order_is_the_float64_order_on_high_dimensional_data(metric):
    # Clustered 512-d data: distances concentrate, so float32 rounding ties are common.
    rng = np.random.default_rng(11)
    centers = rng.normal(size=(4, 512))
    X = (centers[rng.integers(0, 4, 1500)] + rng.normal(size=(1500, 512))).astype(np.float32)
    Q = X[:200]
    X64, Q64 = X.astype(np.float64), Q.astype(np.float64)
    if metric == "euclidean":
        d64 = np.array([((X64 - q) ** 2).sum(1) for q in Q64])
    else:
        d64 = -(Q64 @ X64.T)
    expected = np.lexsort((np.tile(np.arange(1500), (200, 1)), d64), axis=-1)[:, :30]
    for backend in CPU_BACKENDS:
        got = NeighborSearch(metric=metric, backend=backend, batch_size=64).fit(X)
        np.testing.assert_array_equal(got.kneighbors(Q, 30, return_distance=False), expected)


@pytest.mark.skipif("torch-cpu" not in CPU_BACKENDS, reason="torch is not installed")
def test_torch_search_ignores_and_restores_a_reduced_matmul_precision():
    import torch

    rng = np.random.default_rng(12)
    X = rng.normal(size=(600, 256)).astype(np.float32)
    Q = X[:50]
    expected = NeighborSearch(backend="numpy").fit(X).kneighbors(Q, 10, return_distance=False)
    before = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("medium")
    try:
        search = NeighborSearch(backend="torch-cpu").fit(X)
        np.testing.assert_array_equal(search.kneighbors(Q, 10, return_distance=False), expected)
        assert torch.get_float32_matmul_precision() == "medium"
    finally:
        torch.set_float32_matmul_precision(before)


def test_chain_across_keeps_only_the_near_ties_spanning_the_kth_place():
    from posterml.neighbors._search import _chain_across

    close = np.array(
        [
            [1, 0, 1, 1, 1, 0, 1],  # chain over places 2..5 spans the boundary at k=3
            [1, 1, 0, 0, 1, 1, 1],  # no link between places 2 and 3: nothing spans it
            [0, 1, 1, 1, 1, 1, 1],  # chain from place 1 to the end
        ],
        dtype=bool,
    )
    got = _chain_across(close, 3).astype(int)
    np.testing.assert_array_equal(
        got, [[0, 0, 1, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0, 0], [0, 1, 1, 1, 1, 1, 1]]
    )
    assert not _chain_across(close, 8).any()  # k beyond the candidates: no boundary


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_unordered_search_gives_the_exact_set_of_k_nearest(backend):
    # Clustered 512-d data: many float32 near-ties. ML-kNN needs only the set of the k
    # nearest; that set must be the float64 one, with and without self-exclusion.
    rng = np.random.default_rng(13)
    centers = rng.normal(size=(3, 512))
    X = (centers[rng.integers(0, 3, 1200)] + rng.normal(size=(1200, 512))).astype(np.float32)
    X64 = X.astype(np.float64)
    d64 = np.array([((X64 - q) ** 2).sum(1) for q in X64[:150]])
    d64[np.arange(150), np.arange(150)] = np.inf  # self excluded
    order = np.lexsort((np.tile(np.arange(1200), (150, 1)), d64), axis=-1)
    search = NeighborSearch(backend=backend, batch_size=40).fit(X)
    for k in (1, 7, 25):
        _, idx = search._kneighbors_raw(X[:150], k, exclude=np.arange(150), ordered=False)
        np.testing.assert_array_equal(np.sort(idx, axis=1), np.sort(order[:, :k], axis=1))


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_cosine_distances_stay_in_0_2_and_rows_normalise_at_any_scale(backend):
    # Regressions (found by tests/test_properties.py): float32 rounding put the cosine
    # distance of parallel rows at about -5e-8; and rows were normalised with float32 norms,
    # which underflow to 0 for |x| ~ 1e-30 (the row was left unnormalised) and overflow for
    # |x| ~ 1e20 (the row became all zeros), so both sat at distance 1 from everything.
    X = np.array([[1.0, 1e-3], [2.0, 2e-3], [0.3, 0.7], [0.1, 0.2]] * 3)
    dist, _ = NeighborSearch(metric="cosine", backend=backend).fit(X).kneighbors(X, 4)
    assert dist.min() >= 0.0
    assert dist.max() <= 2.0
    X = np.array([[1e-30, 0.0], [0.0, 1e-30], [1e20, 1e20], [-1.0, 0.0]])
    dist, idx = (
        NeighborSearch(metric="cosine", backend=backend).fit(X).kneighbors(np.array([[1, 0.9]]), 4)
    )
    assert idx[0].tolist() == [2, 0, 1, 3]
    np.testing.assert_allclose(dist[0, 0], 1 - 1.9 / np.sqrt(2 * 1.81), rtol=0, atol=1e-6)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_features_whose_float32_distances_overflow_are_refused(backend):
    # Regression (found by tests/test_properties.py): values past ~1e19 overflow the float32
    # squared norms, the distances became inf / nan and kneighbors raised a RuntimeError
    # blaming approximate search; a value past 3.4e38 silently became inf.
    X = np.random.default_rng(14).uniform(-1, 1, size=(10, 3))
    for scale, row in ((1e19, 2), (1e30, 5), (1e39, 9)):
        big = X.copy()
        big[row] = scale
        with pytest.raises(ValueError, match=rf"^X row {row} is too large for float32 distances"):
            NeighborSearch(backend=backend).fit(big)
    # Regression: a row with squared norm 7.9e37 passed fit (limit then 8.5e37), but as a
    # query of its own training set its scale |q|^2 + max |x|^2 overflowed: fit refuses it now
    X1 = np.array([[1.0], [-2.0], [8.9e18], [3.0]])
    with pytest.raises(ValueError, match=r"^X row 2 is too large for float32 distances"):
        NeighborSearch(backend=backend).fit(X1)
    X1[2] = 6e18  # squared norm 3.6e37: indexed, and searchable as a query
    search = NeighborSearch(backend=backend).fit(X1)
    idx = search.kneighbors(X1, 1, exclude=np.arange(4), return_distance=False)
    # row 2 is ~6e18 from every other row, equal in float64 too: the tie goes to row 0
    assert idx.ravel().tolist() == [3, 0, 0, 0]
    search = NeighborSearch(backend=backend).fit(X * 1e18)  # within range: searched exactly
    expected = NeighborSearch(backend=backend).fit(X).kneighbors(X, 3, return_distance=False)
    np.testing.assert_array_equal(search.kneighbors(X * 1e18, 3, return_distance=False), expected)
    Q = X[:3].copy()
    Q[1] *= 1e25
    with pytest.raises(ValueError, match=r"^query row 1 is too large for float32 distances"):
        NeighborSearch(backend=backend).fit(X).kneighbors(Q, 3)
    with pytest.raises(ValueError, match=r"^X row 0 is too large for float32 distances"):
        NeighborSearch(metric="inner_product", backend=backend).fit(X * 1e30)
    # cosine normalises first: only values float32 cannot hold are refused
    NeighborSearch(metric="cosine", backend=backend).fit(X * 1e30)
    with pytest.raises(ValueError, match=r"^X row 0 is too large for float32 distances"):
        NeighborSearch(metric="cosine", backend=backend).fit(X * 1e39)


def test_out_of_core_search_refuses_overflowing_rows(tmp_path):
    X = np.random.default_rng(15).normal(size=(12, 3)).astype(np.float32)
    X[7] *= 1e19
    np.save(tmp_path / "x.npy", X)
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    with pytest.raises(ValueError, match=r"^X row 7 is too large for float32 distances"):
        NeighborSearch(block_rows=5).fit(mm)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_exact_distances_are_float64_distances_of_the_float32_vectors(backend):
    rng = np.random.default_rng(16)
    X = (rng.normal(size=(30, 5)) * 1e-3).astype(np.float32)
    Q = np.vstack([X[[3, 7]], rng.normal(size=(4, 5)).astype(np.float32) * 1e-3])
    search = NeighborSearch(backend=backend).fit(X)
    idx = search.kneighbors(Q, 6, return_distance=False)
    exact = search.exact_distances(Q, idx)
    X64, Q64 = X.astype(np.float64), Q.astype(np.float64)
    ref = np.sqrt(((Q64[:, None, :] - X64[idx]) ** 2).sum(axis=2))
    np.testing.assert_allclose(exact, ref, rtol=1e-14)
    assert exact[0, 0] == 0.0  # a duplicate of the query is at exactly 0
    assert exact[1, 0] == 0.0
    with pytest.raises(ValueError, match=r"indices must have shape \(6, m\)"):
        search.exact_distances(Q, idx[:2])


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_tiny_features_are_ordered_on_float64_distances(backend):
    # Regression (found by tests/test_properties.py): features ~1e-22 have float32 squares
    # in the subnormal range, rounded to steps of 1.4e-45, far coarser than the relative
    # near-tie tolerance; the numpy backend returned neighbour 5 (squared distance 5.869e-44,
    # 5.7e-44 in float32) before 2 (5.856e-44, 5.9e-44 in float32). The tolerance now has an
    # underflow floor.
    X = np.array(
        [
            [1.8942608945774758e-22, 1.8598475002303696e-22],
            [1.5337520919801976e-22, 1.3774441629938303e-22],
            [1.7129894937998258e-22, 1.7093696950956924e-22],
            [1.6822828621830444e-22, 1.8424240240800617e-22],
            [1.5773185447472746e-22, 1.5160434899443067e-22],
            [1.516908081496429e-22, 1.8889807014400333e-22],
        ],
        dtype=np.float32,
    )
    d64 = (X.astype(np.float64) ** 2).sum(axis=1)
    expected = np.lexsort((np.arange(6), d64))[:3]
    idx = (
        NeighborSearch(backend=backend)
        .fit(X)
        .kneighbors(np.zeros((1, 2)), 3, return_distance=False)
    )
    np.testing.assert_array_equal(idx[0], expected)
    assert expected.tolist() == [1, 4, 2]


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "inner_product"])
@pytest.mark.parametrize("algorithm", ["ivf", "hnsw"])
def test_approximate_indexes_give_back_their_training_rows(algorithm, metric, tmp_path):
    # The shared k-sweep re-ranks near-ties on float64 distances read from the index: the
    # IVF lists (stored sorted by list) and the HNSW storage must give the indexed rows by
    # training index, before and after pickling and a skops round trip.
    from posterml import MLkNN
    from posterml.persistence import load_model, save_model

    rng = np.random.default_rng(21)
    X = rng.normal(size=(1200, 8)).astype(np.float32)
    Q = rng.normal(size=(40, 8)).astype(np.float32)
    ids = np.array([[5, 1199, 0], [5, 5, 17]])
    exact = NeighborSearch(metric=metric, backend="numpy").fit(X)
    expected_rows = exact._training_rows(ids)
    idx = exact.kneighbors(Q, 7, return_distance=False)
    expected = exact.exact_distances(Q, idx)
    model = MLkNN(k=3, metric=metric, backend="faiss-cpu", algorithm=algorithm)
    model.fit(X, (X[:, :2] > 0).astype(int))
    search = model._search
    np.testing.assert_array_equal(search._training_rows(ids), expected_rows)
    np.testing.assert_array_equal(search.exact_distances(Q, idx), expected)
    np.testing.assert_array_equal(search.reconstruct(0, 1200), exact.reconstruct(0, 1200))
    if algorithm == "ivf":  # the id -> list position map is derived, never saved
        assert "_inverse" in search._data["ivf"].__dict__
        assert "_inverse" not in pickle.loads(pickle.dumps(search._data["ivf"])).__dict__
    restored = pickle.loads(pickle.dumps(search))
    np.testing.assert_array_equal(restored.exact_distances(Q, idx), expected)
    save_model(model, tmp_path / "model.skops")
    loaded = load_model(tmp_path / "model.skops")._search
    np.testing.assert_array_equal(loaded._training_rows(ids), expected_rows)
    np.testing.assert_array_equal(loaded.exact_distances(Q, idx), expected)


def test_hnsw_search_sets_efsearch_per_call_not_on_the_index():
    import faiss

    rng = np.random.default_rng(22)
    X = rng.normal(size=(3000, 8)).astype(np.float32)
    Q = rng.normal(size=(30, 8)).astype(np.float32)
    params = {"M": 8, "efConstruction": 40}
    search = NeighborSearch(backend="faiss-cpu", algorithm="hnsw", algorithm_params=params)
    search.fit(X)
    default_ef = search._index.hnsw.efSearch
    for k in (5, 90, 300):
        got = search.kneighbors(Q, k, return_distance=False)
        assert search._index.hnsw.efSearch == default_ef  # the shared index is not changed
        ef = faiss.SearchParametersHNSW(efSearch=max(128, 2 * k))
        np.testing.assert_array_equal(got, search._index.search(Q, k, params=ef)[1])
    fixed = NeighborSearch(
        backend="faiss-cpu", algorithm="hnsw", algorithm_params={**params, "efSearch": 40}
    ).fit(X)
    ef = faiss.SearchParametersHNSW(efSearch=40)
    np.testing.assert_array_equal(
        fixed.kneighbors(Q, 10, return_distance=False), fixed._index.search(Q, 10, params=ef)[1]
    )


def test_nested_blas_limits_restore_the_thread_counts():
    # n_jobs limits BLAS around an IVF search whose list scan limits it again to one thread:
    # the lock serialising posterml's limited sections is reentrant, and both restore.
    from threadpoolctl import threadpool_info

    rng = np.random.default_rng(23)
    X = rng.normal(size=(2000, 8)).astype(np.float32)
    before = [(info["filepath"], info["num_threads"]) for info in threadpool_info()]
    for n_jobs in (1, -1):
        search = NeighborSearch(backend="faiss-cpu", algorithm="ivf", n_jobs=n_jobs).fit(X)
        search.kneighbors(X[:100], 5)
        numpy_search = NeighborSearch(backend="numpy", n_jobs=n_jobs).fit(X)
        numpy_search.kneighbors(X[:100], 5)
    assert [(info["filepath"], info["num_threads"]) for info in threadpool_info()] == before


@pytest.mark.skipif("torch-cpu" not in CPU_BACKENDS, reason="torch is not installed")
def test_overlapping_torch_precision_sections_restore_the_first_value():
    import torch

    from posterml.neighbors._search import _torch_highest_precision

    before = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("medium")
    try:
        outer = _torch_highest_precision(torch)
        inner = _torch_highest_precision(torch)
        outer.__enter__()
        inner.__enter__()  # a second search (thread) enters while the first is inside
        assert torch.get_float32_matmul_precision() == "highest"
        outer.__exit__(None, None, None)  # the first leaves first: the second still runs
        assert torch.get_float32_matmul_precision() == "highest"
        inner.__exit__(None, None, None)
        assert torch.get_float32_matmul_precision() == "medium"
    finally:
        torch.set_float32_matmul_precision(before)
