"""Out-of-core (memmap, partitions) and multi-device exact search: the in-memory neighbours."""

import importlib.util
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import posterml.neighbors._search as search_module
from posterml.neighbors import MLkNN, NeighborSearch, PartitionedArray

HAS_TORCH = importlib.util.find_spec("torch") is not None
CPU_BACKENDS = ["numpy", "faiss-cpu"] + (["torch-cpu"] if HAS_TORCH else [])
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")

N, D, BLOCK = 1000, 12, 150  # 7 blocks, the last one 100 rows


def _memmap(tmp_path, X, name="X.npy"):
    path = tmp_path / name
    np.save(path, X)
    return np.load(path, mmap_mode="r")


def _gaussian(seed=0, n=N, d=D, dtype=np.float32):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=3, size=(5, d))
    return (centers[rng.integers(0, 5, n)] + rng.normal(size=(n, d))).astype(dtype)


def _far_integers(seed=0, n=N, d=8):
    # Integer points far from the origin: |x|^2 ~ 8e6, so float32 distances are off by ~1
    # (the distances themselves are small integers) and exact ties are everywhere.
    rng = np.random.default_rng(seed)
    X = (1000 + rng.integers(0, 4, size=(n, d))).astype(np.float32)
    X[-50:] = X[:50]  # exact duplicates
    return X


def _float64_order(X, Q, k, exclude=None):
    X64, Q64 = X.astype(np.float64), Q.astype(np.float64)
    d64 = np.array([((X64 - q) ** 2).sum(1) for q in Q64])
    if exclude is not None:
        d64[np.arange(len(Q)), exclude] = np.inf
    ids = np.tile(np.arange(len(X)), (len(Q), 1))
    return np.lexsort((ids, d64), axis=-1)[:, :k]


def _assert_same(ref, got):
    np.testing.assert_array_equal(got[1], ref[1])
    np.testing.assert_allclose(got[0], ref[0], rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("metric", ["euclidean", "cosine", "inner_product"])
def test_memmap_search_equals_in_memory(tmp_path, backend, metric):
    X = _gaussian()
    mm = _memmap(tmp_path, X)
    ref = NeighborSearch(metric=metric, backend=backend).fit(X)
    ooc = NeighborSearch(metric=metric, backend=backend, block_rows=BLOCK).fit(mm)
    assert ooc.out_of_core_
    assert not ref.out_of_core_
    assert len(ooc._data["ooc"].spans()) == 7
    train = np.arange(0, N, 3)  # training queries, each excluding itself
    _assert_same(
        ref.kneighbors(X[train], 11, exclude=train), ooc.kneighbors(mm[train], 11, exclude=train)
    )
    new = _gaussian(seed=1, n=120)
    _assert_same(ref.kneighbors(new, 11), ooc.kneighbors(new, 11))
    # the unordered set search (ML-kNN's) and the caller-re-ranked one (the k-sweep's)
    for ordered in (False, None):
        a = ref._kneighbors_raw(new, 7, ordered=ordered)[1]
        b = ooc._kneighbors_raw(new, 7, ordered=ordered)[1]
        np.testing.assert_array_equal(np.sort(b, axis=1), np.sort(a, axis=1))


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_tie_heavy_far_integers_match_in_memory_and_float64_order(tmp_path, backend):
    X = _far_integers()
    mm = _memmap(tmp_path, X)
    ref = NeighborSearch(backend=backend).fit(X)
    ooc = NeighborSearch(backend=backend, block_rows=BLOCK).fit(mm)
    rows = np.arange(200)
    a = ref.kneighbors(X[rows], 15, exclude=rows)
    b = ooc.kneighbors(mm[rows], 15, exclude=rows)
    _assert_same(a, b)
    np.testing.assert_array_equal(b[1], _float64_order(X, X[rows], 15, exclude=rows))
    new = _far_integers(seed=1, n=80)
    b = ooc.kneighbors(new, 15)
    _assert_same(ref.kneighbors(new, 15), b)
    np.testing.assert_array_equal(b[1], _float64_order(X, new, 15))


def test_identical_points_tie_groups_past_every_block(tmp_path):
    # every candidate ties: the tie group is closed by re-searching with more candidates
    mm = _memmap(tmp_path, np.full((90, 3), 7.0, dtype=np.float32))
    idx = NeighborSearch(backend="numpy", block_rows=13).fit(mm).kneighbors(mm[:5], 20)[1]
    np.testing.assert_array_equal(idx, np.tile(np.arange(20), (5, 1)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mlknn_on_a_memmap_equals_in_memory_without_copying(tmp_path, monkeypatch, dtype):
    rng = np.random.default_rng(2)
    X = _gaussian(seed=2, dtype=dtype)
    Y = (rng.random((N, 4)) < 0.3).astype(int)
    Y[X[:, 0] > 1, 0] = 1
    mm = _memmap(tmp_path, X)
    # MLkNN picks the default block size: shrink it to 7 blocks of 143 rows
    monkeypatch.setattr(search_module, "_OOC_BLOCK_BYTES", 4 * D * 143)
    ref = MLkNN(k=7, backend="faiss-cpu").fit(X, Y)
    model = MLkNN(k=7, backend="faiss-cpu").fit(mm, Y)
    store = model._search._data["ooc"]
    assert model._search.out_of_core_
    assert store.block_rows == 143
    assert np.shares_memory(store.source, mm)  # the training matrix stays on disk
    new = _gaussian(seed=3, n=150)
    np.testing.assert_array_equal(model.predict(new), ref.predict(new))
    np.testing.assert_array_equal(model.predict_proba(new), ref.predict_proba(new))
    np.testing.assert_array_equal(model.predict(mm[:200]), ref.predict(X[:200]))
    np.testing.assert_array_equal(model.cond_true_, ref.cond_true_)
    np.testing.assert_array_equal(model.kneighbors()[1], ref.kneighbors()[1])
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(new), ref.predict(new))


def test_nan_or_inf_in_the_memmap_names_the_row(tmp_path):
    X = _gaussian()
    X[123, 4] = np.nan
    with pytest.raises(ValueError, match="non-finite value in row 123: column 4 holds nan;"):
        NeighborSearch(block_rows=BLOCK).fit(_memmap(tmp_path, X))
    X[123, 4] = 0.0
    X[456, 2] = -np.inf
    with pytest.raises(ValueError, match="row 456"):
        NeighborSearch(block_rows=BLOCK).fit(_memmap(tmp_path, X, "inf.npy"))
    big = X.astype(np.float64)
    big[456, 2], big[789, 0] = 0.0, 1e300  # finite in float64, not in float32
    with pytest.raises(
        ValueError, match="row 789: column 0 holds 1e[+]300, which overflows float32"
    ):
        NeighborSearch(block_rows=BLOCK).fit(_memmap(tmp_path, big, "big.npy"))
    # MLkNN leaves a memmap's finiteness to the blocked search, which names the row
    X[456, 2] = -np.inf
    with pytest.raises(ValueError, match="non-finite value in row 456: column 2 holds -inf"):
        MLkNN(k=3).fit(_memmap(tmp_path, X, "inf2.npy"), (X[:, :2] > 0).astype(int))
    # an approximate index is built in memory: scikit-learn's check applies there
    with pytest.raises(ValueError, match="infinity"):
        MLkNN(k=3, algorithm="ivf").fit(_memmap(tmp_path, X, "inf3.npy"), (X[:, :2] > 0) * 1)


class _CountingRows:
    """A read-only 2-D array-like that records how many rows each read returns."""

    def __init__(self, array):
        self._array = array
        self.shape, self.dtype = array.shape, array.dtype
        self.reads = []

    def __getitem__(self, item):
        out = self._array[item]
        self.reads.append(out.shape[0] if out.ndim == 2 else 1)
        return out


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_reads_never_exceed_block_rows(tmp_path, monkeypatch, backend):
    X = _far_integers()  # many near-ties: the re-ranking gathers many rows by index
    source = _CountingRows(_memmap(tmp_path, X))
    loaded = []
    load_block = search_module._BlockStore.load_block

    def counting_load_block(self, start, stop):
        block = load_block(self, start, stop)
        loaded.append(block.shape[0])
        return block

    monkeypatch.setattr(search_module._BlockStore, "load_block", counting_load_block)
    search = NeighborSearch(backend=backend, out_of_core=True, block_rows=64).fit(source)
    assert sum(loaded) == N  # fit: one pass, block by block
    assert max(loaded) <= 64
    loaded.clear()
    source.reads.clear()
    queries = _CountingRows(source._array[:300])  # training rows 0..299, each excluded
    rows = np.arange(300)
    got = search.kneighbors(queries, 15, exclude=rows)
    np.testing.assert_array_equal(got[1], _float64_order(X, X[:300], 15, exclude=rows))
    assert max(loaded) <= 64
    assert sum(loaded) >= N
    assert max(source.reads) <= 64  # every read of the training rows: blocks, gathers
    assert max(queries.reads) <= 64  # query batches
    assert len(source.reads) > len(loaded)  # besides the blocks, near-tie rows were gathered


def test_partitioned_array_indexing(tmp_path):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(23, 3))
    parts = [X[:5], X[5:6], X[6:20], X[20:]]
    parts = [part.astype(np.float32 if i % 2 else np.float64) for i, part in enumerate(parts)]
    X = np.concatenate(parts)  # what the partitions hold, in float64
    folder = tmp_path
    paths = []
    for i, part in enumerate(parts):
        np.save(folder / f"p{i}.npy", part)
        paths.append(folder / f"p{i}.npy")
    P = PartitionedArray(paths)
    assert P.shape == (23, 3)
    assert P.dtype == np.float64
    assert len(P) == 23
    for item in (slice(None), slice(3, 21), slice(4, 7), slice(21, 2, -3), slice(30, 40)):
        np.testing.assert_array_equal(P[item], X[item])
    for item in ([22, 0, 5, 5, -1], np.array([], dtype=int), X[:, 0] > 0):
        np.testing.assert_array_equal(P[item], X[item])
    np.testing.assert_array_equal(P[6], X[6])
    np.testing.assert_array_equal(P[-2], X[-2])
    np.testing.assert_array_equal(P[2:9, 1], X[2:9, 1])
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(P))[:], X)
    with pytest.raises(IndexError, match="out of bounds"):
        P[23]
    with pytest.raises(IndexError, match="must lie in"):
        P[[0, 40]]
    np.save(folder / "wide.npy", np.zeros((2, 4)))
    with pytest.raises(ValueError, match="has 4 columns but"):
        PartitionedArray([paths[0], folder / "wide.npy"])
    with pytest.raises(ValueError, match="at least one"):
        PartitionedArray([])


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_partitioned_search_equals_in_memory(tmp_path, backend):
    X = _far_integers(seed=5)
    bounds = [0, 333, 334, 700, N]  # uneven partitions, one of a single row
    paths = []
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        np.save(tmp_path / f"part{i}.npy", X[a:b])
        paths.append(tmp_path / f"part{i}.npy")
    P = PartitionedArray(paths)
    ooc = NeighborSearch(backend=backend, block_rows=BLOCK).fit(P)  # "auto" recognises it
    assert ooc.out_of_core_
    rows = np.arange(0, N, 5)
    ref = NeighborSearch(backend=backend).fit(X)
    _assert_same(ref.kneighbors(X[rows], 9, exclude=rows), ooc.kneighbors(P[rows], 9, exclude=rows))
    restored = pickle.loads(pickle.dumps(ooc))
    np.testing.assert_array_equal(restored.kneighbors(X[:40], 9)[1], ref.kneighbors(X[:40], 9)[1])


def test_pickle_refers_to_the_memmap_file(tmp_path):
    X = _gaussian()
    mm = _memmap(tmp_path, X)
    view = mm[100:900]  # a view: pickled as its own file offset
    search = NeighborSearch(backend="numpy", block_rows=BLOCK).fit(view)
    blob = pickle.dumps(search)
    assert len(blob) < view.nbytes / 2  # the rows are not in the pickle
    restored = pickle.loads(blob)
    ref = NeighborSearch(backend="numpy").fit(X[100:900])
    np.testing.assert_array_equal(restored.kneighbors(X[:30], 6)[1], ref.kneighbors(X[:30], 6)[1])
    np.testing.assert_array_equal(restored.reconstruct(0, 5), X[100:105])
    del mm, view, search, restored
    (tmp_path / "X.npy").unlink()
    with pytest.raises(FileNotFoundError, match="no longer exists"):
        pickle.loads(blob)


def test_out_of_core_modes_and_errors(tmp_path):
    X = _gaussian(n=200)
    mm = _memmap(tmp_path, X)
    assert NeighborSearch().fit(np.asarray(mm)).out_of_core_  # an ndarray view of a memmap
    assert not NeighborSearch().fit(X).out_of_core_
    assert not NeighborSearch(out_of_core=False).fit(mm).out_of_core_
    assert NeighborSearch(out_of_core=True, block_rows=50).fit(X).out_of_core_
    # approximate indexes live in memory: "auto" keeps them there, True refuses
    assert not NeighborSearch(algorithm="hnsw").fit(mm).out_of_core_
    with pytest.raises(ValueError, match="out_of_core=True searches exactly"):
        NeighborSearch(algorithm="hnsw", out_of_core=True).fit(mm)
    with pytest.raises(ValueError, match="out_of_core must be"):
        NeighborSearch(out_of_core="yes").fit(mm)
    with pytest.raises(ValueError, match="block_rows must be a positive int"):
        NeighborSearch(block_rows=0).fit(mm)
    with pytest.raises(ValueError, match="applies to the GPU and torch backends"):
        NeighborSearch(backend="numpy", devices=[0]).fit(X)


# ---------------------------------------------------------------- several devices (simulated)
@needs_torch
def test_torch_merge_equals_the_numpy_merge_on_ties():
    import torch

    from posterml.neighbors._search import _merge_candidates, _torch_merge

    rng = np.random.default_rng(6)
    parts = [
        (rng.integers(0, 4, (30, 6)).astype(np.float32), rng.permutation(60)[:36].reshape(6, 6))
        for _ in range(3)
    ]
    parts = [(d, np.tile(np.arange(6) * 10 + j, (30, 1))) for j, (d, _) in enumerate(parts)]
    best = None
    for d, i in parts:
        best = _merge_candidates(best, d, i, 8)
    got = _torch_merge(
        torch, [(torch.from_numpy(d), torch.from_numpy(i)) for d, i in parts], 8, "cpu"
    )
    np.testing.assert_array_equal(got[0].numpy(), best[0])
    np.testing.assert_array_equal(got[1].numpy(), best[1])
    # the k smallest (distance, index) pairs, ties by index
    d_all = np.concatenate([d for d, _ in parts], 1)
    i_all = np.concatenate([i for _, i in parts], 1)
    order = np.lexsort((i_all, d_all), axis=-1)[:, :8]
    np.testing.assert_array_equal(best[1], np.take_along_axis(i_all, order, 1))


@needs_torch
@pytest.mark.parametrize("n_devices", [2, 3])
@pytest.mark.parametrize("metric", ["euclidean", "inner_product"])
def test_sharded_torch_search_equals_one_device(n_devices, metric):
    X = _far_integers(seed=7) if metric == "euclidean" else _gaussian(seed=7)
    one = NeighborSearch(metric=metric, backend="torch-cpu").fit(X)
    many = NeighborSearch(metric=metric, backend="torch-cpu", devices=["cpu"] * n_devices)
    many.fit(X)
    assert [sh["start"] for sh in many._data["shards"]] == list(
        np.linspace(0, N, n_devices + 1).round().astype(int)[:-1]
    )
    rows = np.arange(0, N, 4)
    a = one.kneighbors(X[rows], 13, exclude=rows)
    b = many.kneighbors(X[rows], 13, exclude=rows)
    np.testing.assert_array_equal(b[1], a[1])
    np.testing.assert_allclose(b[0], a[0], rtol=1e-6, atol=1e-4)
    # the training rows gathered across shards for the re-ranking are the indexed ones
    ids = np.array([999, 0, 500, 333, 334, 666, 667])
    np.testing.assert_array_equal(many._training_rows(ids), one._training_rows(ids))
    np.testing.assert_array_equal(many.reconstruct(320, 700), one.reconstruct(320, 700))
    restored = pickle.loads(pickle.dumps(many))
    assert len(restored._data["shards"]) == n_devices
    np.testing.assert_array_equal(restored.kneighbors(X[:50], 13)[1], one.kneighbors(X[:50], 13)[1])


@needs_torch
@pytest.mark.parametrize("n_devices", [2, 3])
def test_out_of_core_blocks_dealt_to_devices_equal_one_device(tmp_path, n_devices):
    X = _far_integers(seed=8)
    mm = _memmap(tmp_path, X)
    one = NeighborSearch(backend="torch-cpu", block_rows=BLOCK).fit(mm)
    many = NeighborSearch(backend="torch-cpu", block_rows=BLOCK, devices=["cpu"] * n_devices)
    many.fit(mm)
    Q = np.ascontiguousarray(mm[:250])
    # the raw merged candidates are identical bit for bit, distances included
    k = 23
    d1, i1 = one._search_block(Q, k)
    d2, i2 = many._search_block(Q, k)
    np.testing.assert_array_equal(i2, i1)
    np.testing.assert_array_equal(d2, d1)
    rows = np.arange(250)
    a = one.kneighbors(Q, 15, exclude=rows)
    b = many.kneighbors(Q, 15, exclude=rows)
    np.testing.assert_array_equal(b[1], a[1])
    np.testing.assert_array_equal(b[0], a[0])
    np.testing.assert_array_equal(b[1], _float64_order(X, Q, 15, exclude=rows))


def test_devices_validation():
    X = _gaussian(n=50)
    if HAS_TORCH:
        with pytest.raises(ValueError, match="runs on 'cpu' devices"):
            NeighborSearch(backend="torch-cpu", devices=[0]).fit(X)
        with pytest.raises(ValueError, match="at least one device"):
            NeighborSearch(backend="torch-cpu", devices=[]).fit(X)
        assert NeighborSearch(backend="torch-cpu").fit(X).devices_ == ["cpu"]
    assert NeighborSearch(backend="numpy").fit(X).devices_ is None


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 80),
    d=st.integers(1, 4),
    block=st.integers(1, 40),
    seed=st.integers(0, 10_000),
    data=st.data(),
)
def test_property_blocked_equals_in_memory_on_grid_data(n, d, block, seed, data):
    rng = np.random.default_rng(seed)
    X = (500 + rng.integers(0, 3, size=(n, d))).astype(np.float32)  # ties everywhere
    k = data.draw(st.integers(1, n - 1))
    a = NeighborSearch(backend="numpy").fit(X).kneighbors(X, k, exclude=np.arange(n))
    ooc = NeighborSearch(backend="faiss-cpu", out_of_core=True, block_rows=block).fit(X)
    b = ooc.kneighbors(X, k, exclude=np.arange(n))
    np.testing.assert_array_equal(b[1], a[1])
    np.testing.assert_array_equal(b[0], a[0])


def test_ksweep_on_a_memmap_equals_in_memory(tmp_path, monkeypatch):
    from posterml.model_selection import ksweep

    rng = np.random.default_rng(9)
    X = rng.normal(size=(400, 6)).astype(np.float32)
    Y = (X[:, :3] + rng.normal(size=(400, 3)) > 0).astype(int)
    mm = _memmap(tmp_path, X)
    monkeypatch.setattr(search_module, "_OOC_BLOCK_BYTES", 4 * 6 * 61)  # 7 blocks
    ref = ksweep(X, Y, [1, 3, 7], cv=3)
    got = ksweep(mm, Y, [1, 3, 7], cv=3)
    for key in ref:
        if key.startswith(("split", "mean_test")):
            np.testing.assert_array_equal(got[key], ref[key])
