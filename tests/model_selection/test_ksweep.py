import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, KFold

from posterml.metrics import SCORERS
from posterml.model_selection import MLkNNCV, MultilabelStratifiedGroupKFold, ksweep
from posterml.model_selection._ksweep import _SharedSearch
from posterml.neighbors import MLkNN


def _data(seed=0, n=400, d=10, n_labels=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    Y = (X[:, :n_labels] + rng.normal(size=(n, n_labels)) > 0.5).astype(int)
    return X, Y


@pytest.mark.parametrize("compat", ["paper", "skmultilearn"])
def test_scores_equal_gridsearchcv_to_the_last_digit(compat):
    X, Y = _data()
    ks = [1, 2, 5, 10, 25]
    cv = KFold(5, shuffle=True, random_state=0)
    sweep = ksweep(X, Y, ks, cv=cv, compat=compat)
    grid = GridSearchCV(MLkNN(compat=compat), {"k": ks}, cv=cv, scoring=SCORERS, refit=False).fit(
        X, Y
    )
    assert sweep["param_k"].tolist() == ks
    for name in SCORERS:
        for f in range(5):
            key = f"split{f}_test_{name}"
            np.testing.assert_array_equal(sweep[key], grid.cv_results_[key], err_msg=key)
        np.testing.assert_array_equal(
            sweep[f"rank_test_{name}"], grid.cv_results_[f"rank_test_{name}"]
        )


def test_group_stratified_folds_and_label_vector():
    X, Y = _data(1)
    groups = np.arange(len(X)) // 2  # pairs of rows belong to one movie
    cv = MultilabelStratifiedGroupKFold(4, random_state=0)
    sweep = ksweep(X, Y, [3, 9], cv=cv, groups=groups, scoring=["overall_f1"])
    grid = GridSearchCV(MLkNN(), {"k": [3, 9]}, cv=cv, scoring=SCORERS["overall_f1"])
    grid.fit(X, Y, groups=groups)
    np.testing.assert_array_equal(
        sweep["mean_test_overall_f1"], grid.cv_results_["mean_test_score"]
    )
    y = Y.argmax(axis=1)
    res = ksweep(X, y, [1, 5], cv=3)
    assert set(res) >= {"mean_test_accuracy", "rank_test_accuracy"}


def test_mlknncv_selects_and_refits_best_k():
    X, Y = _data(2)
    model = MLkNNCV(k_values=[1, 5, 15], cv=3, scoring=["hamming_loss", "overall_f1"]).fit(X, Y)
    best = int(np.argmax(model.cv_results_["mean_test_hamming_loss"]))
    assert model.best_k_ == [1, 5, 15][best]
    assert model.best_estimator_.k == model.best_k_
    np.testing.assert_array_equal(model.predict(X), MLkNN(k=model.best_k_).fit(X, Y).predict(X))
    with pytest.raises(ValueError, match="refit='all_match' is not one of the scores"):
        MLkNNCV(k_values=[1], cv=3, scoring=["overall_f1"], refit="all_match").fit(X, Y)


def test_too_large_k_values_are_dropped_with_a_warning():
    X, Y = _data(3, n=40)
    with pytest.warns(UserWarning, match=r"k values \[100\] exceed"):
        res = ksweep(X, Y, [1, 5, 100], cv=4, scoring="overall_f1")
    assert res["param_k"].tolist() == [1, 5]
    with pytest.raises(ValueError, match="no k in"):
        ksweep(X, Y, [500], cv=4)


@pytest.mark.parametrize("compat", ["paper", "skmultilearn"])
def test_shared_search_equals_per_fold_on_unsorted_and_partial_folds(compat):
    from sklearn.model_selection import ShuffleSplit

    X, Y = _data(4, n=300)
    # ShuffleSplit gives unsorted train indices and leaves rows out of every fold
    cv = list(ShuffleSplit(3, train_size=0.5, test_size=0.2, random_state=0).split(X))
    names = ["hamming_loss", "overall_f1", "top_k_accuracy"]
    shared = ksweep(X, Y, [1, 4, 9, 20], cv=cv, scoring=names, compat=compat)
    per_fold = ksweep(X, Y, [1, 4, 9, 20], cv=cv, scoring=names, compat=compat, search="per-fold")
    for name in names:
        np.testing.assert_array_equal(
            shared[f"mean_test_{name}"], per_fold[f"mean_test_{name}"], err_msg=name
        )


def test_tie_heavy_data_goes_through_the_exact_refinement():
    rng = np.random.default_rng(5)
    X = rng.integers(0, 2, size=(240, 4)).astype(float)  # 16 distinct points: huge tie groups
    Y = (rng.random((240, 3)) < 0.4).astype(int)
    cv = KFold(4, shuffle=True, random_state=1)
    shared = ksweep(X, Y, [2, 6, 30], cv=cv, scoring=["hamming_loss"])
    assert shared["n_refined"][0] > 0
    grid = GridSearchCV(MLkNN(), {"k": [2, 6, 30]}, cv=cv, scoring=SCORERS["hamming_loss"]).fit(
        X, Y
    )
    np.testing.assert_array_equal(
        shared["mean_test_hamming_loss"], grid.cv_results_["mean_test_score"]
    )


def test_unknown_search_strategy():
    X, Y = _data(5, n=60)
    with pytest.raises(ValueError, match="search must be 'shared' or 'per-fold'"):
        ksweep(X, Y, [1], cv=3, search="global")


def test_shared_sweep_equals_gridsearchcv_on_high_dimensional_data():
    # 256-d clusters: near-tied float32 distances are common; neighbours are ordered on
    # float64 distances there, so the shared search and per-fold searches agree exactly.
    rng = np.random.default_rng(12)
    centers = rng.normal(size=(5, 256))
    assign = rng.integers(0, 5, 600)
    X = (centers[assign] + rng.normal(size=(600, 256))).astype(np.float32)
    Y = rng.random((600, 4)) < np.array([0.5, 0.3, 0.2, 0.1])[None] * (1 + assign[:, None] % 2)
    Y = Y.astype(int)
    ks = [3, 10, 40]
    cv = KFold(5, shuffle=True, random_state=3)
    sweep = ksweep(X, Y, ks, cv=cv)
    # only rows with a near-tie across a swept k are re-ranked, and there are some
    assert 0 < sweep["n_reranked"][0] < X.shape[0]
    grid = GridSearchCV(MLkNN(), {"k": ks}, cv=cv, scoring=SCORERS, refit=False).fit(X, Y)
    for name in SCORERS:
        for f in range(5):
            key = f"split{f}_test_{name}"
            np.testing.assert_array_equal(sweep[key], grid.cv_results_[key], err_msg=key)


@pytest.mark.parametrize("include_self", [False, True])
def test_shared_fold_sets_equal_exact_per_fold_sets_under_float32_rounding(include_self):
    # Integer points far from the origin: float32 matrix products round every distance by
    # more than the gaps between them, and exact ties abound. The shared lists re-rank only
    # rows with a near-tie across a swept k, yet every fold's k-nearest *sets* equal an
    # exact search within the fold.
    rng = np.random.default_rng(7)
    X = (1000 + rng.integers(0, 4, size=(300, 48))).astype(np.float32)
    ks = [1, 5, 12, 30]
    folds = list(KFold(4, shuffle=True, random_state=0).split(X))
    shared = _SharedSearch(MLkNN(k=1), X, folds, ks, include_self)
    for train, test in folds:
        search = MLkNN(k=ks[-1]).fit(X[train], np.eye(2, dtype=int)[np.arange(len(train)) % 2])
        own = None if include_self else np.arange(len(train))
        exact_tr = search._search.kneighbors(X[train], ks[-1], exclude=own, return_distance=False)
        exact_te = search._search.kneighbors(X[test], ks[-1], return_distance=False)
        got_tr = shared.fold_lists(train, train, lambda which, ref=exact_tr: ref[which])
        got_te = shared.fold_lists(test, train, lambda which, ref=exact_te: ref[which])
        for k in ks:
            for got, exact in ((got_tr, exact_tr), (got_te, exact_te)):
                np.testing.assert_array_equal(
                    np.sort(got[:, :k], axis=1), np.sort(exact[:, :k], axis=1), err_msg=f"k={k}"
                )
    assert shared.n_reranked > 0


def _duplicated_data(seed=0, n=1200, d=12, n_labels=5):
    X, Y = _data(seed, n=n, d=d, n_labels=n_labels)
    X = X.astype(np.float32)
    X[-40:] = X[:40]  # exact duplicates: ties broken by index only
    return X, Y


def _splits(results):
    return {key: value for key, value in results.items() if key.startswith("split")}


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_shared_sweep_with_exhaustive_ivf_equals_the_exact_sweep(metric):
    # IVF probing every list is exhaustive: the shared index (one k-means on all the rows)
    # then finds every row's true neighbours, and after the float64 near-tie re-ranking (rows
    # read back from the IVF lists) each fold's sets are those of exact per-fold searches.
    X, Y = _duplicated_data(1)
    ks = [1, 3, 7, 15]
    cv = KFold(4, shuffle=True, random_state=0)
    kw = dict(cv=cv, metric=metric, backend="faiss-cpu")
    ivf = ksweep(X, Y, ks, algorithm="ivf", algorithm_params={"nlist": 16, "nprobe": 16}, **kw)
    assert ivf["n_reranked"][0] > 0
    grid = GridSearchCV(MLkNN(metric=metric), {"k": ks}, cv=cv, scoring=SCORERS, refit=False).fit(
        X, Y
    )
    for name in SCORERS:
        for f in range(4):
            key = f"split{f}_test_{name}"
            np.testing.assert_array_equal(ivf[key], grid.cv_results_[key], err_msg=key)


def test_shared_sweep_with_exhaustive_ivf_refines_short_rows_exactly():
    # 16 distinct points: tie groups longer than the shared lists leave rows short, searched
    # again within their fold exactly (not with a fold IVF index, which breaks ties by its
    # own list order), so the scores stay those of the exact sweep.
    rng = np.random.default_rng(5)
    X = rng.integers(0, 2, size=(240, 4)).astype(float)
    Y = (rng.random((240, 3)) < 0.4).astype(int)
    cv = KFold(4, shuffle=True, random_state=1)
    params = {"nlist": 4, "nprobe": 4}
    kw = dict(cv=cv, scoring=["hamming_loss"], backend="faiss-cpu")
    ivf = ksweep(X, Y, [2, 6, 30], algorithm="ivf", algorithm_params=params, **kw)
    exact = ksweep(X, Y, [2, 6, 30], **kw)
    assert ivf["n_refined"][0] > 0
    np.testing.assert_array_equal(ivf["mean_test_hamming_loss"], exact["mean_test_hamming_loss"])


@pytest.mark.parametrize(
    ("algorithm", "params"),
    [("ivf", None), ("ivf", {"nlist": 30, "nprobe": 2}), ("hnsw", None), ("hnsw", {"M": 4})],
)
def test_shared_sweep_with_an_approximate_index_is_finite_and_repeatable(algorithm, params):
    from sklearn.model_selection import ShuffleSplit

    X, Y = _duplicated_data(2, n=2000)
    ks = [1, 5, 20]
    kw = dict(algorithm=algorithm, algorithm_params=params, backend="faiss-cpu")
    kw["scoring"] = ["hamming_loss", "overall_f1"]
    for cv in (
        KFold(5, shuffle=True, random_state=0),
        ShuffleSplit(3, train_size=0.5, test_size=0.2, random_state=0),
    ):
        folds = list(cv.split(X))  # ShuffleSplit leaves rows out: the index covers the rest
        first, again = (ksweep(X, Y, ks, cv=folds, **kw) for _ in range(2))
        for key, value in _splits(first).items():
            assert np.isfinite(value).all(), key
            np.testing.assert_array_equal(value, again[key], err_msg=key)


@pytest.mark.parametrize("algorithm", ["ivf", "hnsw"])
def test_mlknncv_with_an_approximate_index_refits_the_model_of_a_fit(algorithm):
    X, Y = _duplicated_data(3, n=1500)
    kw = dict(algorithm=algorithm, backend="faiss-cpu")
    if algorithm == "ivf":
        kw["algorithm_params"] = {"nlist": 38, "nprobe": 3}
    model = MLkNNCV(k_values=[1, 5, 15], cv=3, **kw).fit(X, Y)
    refit = MLkNN(k=model.best_k_, **kw).fit(X, Y)
    for attr in ("prior_true_", "cond_true_", "cond_false_"):
        np.testing.assert_array_equal(getattr(model.best_estimator_, attr), getattr(refit, attr))
    Xq = X[:200] + 0.1
    np.testing.assert_array_equal(model.predict_proba(Xq), refit.predict_proba(Xq))
    np.testing.assert_array_equal(
        model.kneighbors(Xq, return_distance=False), refit.kneighbors(Xq, return_distance=False)
    )
