import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn import config_context
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.neighbors import KNeighborsClassifier

from posterml.model_selection import (
    MultilabelStratifiedGroupKFold,
    multilabel_train_test_split,
    train_dev_test_split,
)

PREVALENCE = [0.45, 0.3, 0.15, 0.08, 0.05, 0.03, 0.02]


@pytest.fixture(scope="module")
def imbalanced():
    """600 rows of 300 movies (1-3 rows each), 7 genres from common to rare."""
    rng = np.random.default_rng(42)
    n_groups = 300
    Y_groups = (rng.random((n_groups, len(PREVALENCE))) < PREVALENCE).astype(int)
    rows_per_group = rng.integers(1, 4, size=n_groups)
    groups = np.repeat(np.array([f"tt{i:05d}" for i in range(n_groups)]), rows_per_group)
    Y = np.repeat(Y_groups, rows_per_group, axis=0)
    order = rng.permutation(len(groups))  # rows of a movie need not be adjacent
    X = rng.normal(size=(len(groups), 3))
    return X, Y[order], groups[order], Y_groups


def _group_fold_deviation(splits, Y, groups):
    """Mean |positives per label in a test fold - expected| over folds and labels, by group."""
    frame = pd.DataFrame(Y).groupby(groups, sort=False).max()
    expected = frame.to_numpy().sum(axis=0) / len(splits)
    deviations = []
    for _, test in splits:
        test_groups = pd.unique(groups[test])
        deviations.append(np.abs(frame.loc[test_groups].to_numpy().sum(axis=0) - expected))
    return np.array(deviations)


# --------------------------------------------------------------------------- k-fold
def test_folds_partition_rows_and_never_split_a_group(imbalanced):
    X, Y, groups, _ = imbalanced
    cv = MultilabelStratifiedGroupKFold(n_splits=5, random_state=0)
    test_count = np.zeros(len(Y), dtype=int)
    for train, test in cv.split(X, Y, groups):
        assert len(test) > 0
        assert not set(groups[train]) & set(groups[test])
        assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(len(Y)))
        test_count[test] += 1
    assert np.all(test_count == 1)
    assert cv.get_n_splits(X, Y, groups) == 5


def test_folds_are_stratified_and_beat_random_group_folds(imbalanced):
    X, Y, groups, _ = imbalanced
    ours = _group_fold_deviation(
        list(MultilabelStratifiedGroupKFold(5, random_state=0).split(X, Y, groups)), Y, groups
    )
    # iterstrat keeps each fold within a couple of movies of its share for every genre.
    assert ours.max() <= 2.5
    random_means = [
        _group_fold_deviation(
            list(GroupKFold(5, shuffle=True, random_state=seed).split(X, Y, groups)), Y, groups
        ).mean()
        for seed in range(5)
    ]
    assert ours.mean() < 0.5 * np.mean(random_means)


def test_group_label_row_is_union_of_its_rows():
    # Movie "m" has Drama on one row and Horror on another: as a group it has both, so the
    # two Horror movies must go to different folds alongside the two Drama-only movies.
    Y = np.array([[1, 0], [0, 1], [1, 0], [0, 1], [1, 0]])
    groups = np.array(["m", "m", "a", "b", "c"])
    for seed in range(10):
        folds = list(MultilabelStratifiedGroupKFold(2, random_state=seed).split(Y, Y, groups))
        for _, test in folds:
            test_groups = set(groups[test])
            assert ("m" in test_groups) != ("b" in test_groups)


def test_every_row_its_own_group_by_default(imbalanced):
    X, Y, _, _ = imbalanced
    cv = MultilabelStratifiedGroupKFold(4, random_state=3)
    default = [test for _, test in cv.split(X, Y)]
    explicit = [test for _, test in cv.split(X, Y, np.arange(len(Y)))]
    for a, b in zip(default, explicit):
        np.testing.assert_array_equal(a, b)
    assert sorted(np.concatenate(default).tolist()) == list(range(len(Y)))


def test_determinism(imbalanced):
    X, Y, groups, _ = imbalanced

    def folds(**kwargs):
        return [
            test.tolist()
            for _, test in MultilabelStratifiedGroupKFold(5, **kwargs).split(X, Y, groups)
        ]

    assert folds(random_state=7) == folds(random_state=7)
    assert folds(random_state=7) != folds(random_state=8)
    assert folds(shuffle=False, random_state=1) == folds(shuffle=False, random_state=1)
    rng_based = folds(random_state=np.random.RandomState(7))
    assert rng_based == folds(random_state=7)


def test_sparse_and_dataframe_targets(imbalanced):
    X, Y, groups, _ = imbalanced
    cv = MultilabelStratifiedGroupKFold(3, random_state=0)
    dense = [test.tolist() for _, test in cv.split(X, Y, groups)]
    assert [t.tolist() for _, t in cv.split(X, sp.csr_matrix(Y), groups)] == dense
    assert [t.tolist() for _, t in cv.split(pd.DataFrame(X), pd.DataFrame(Y), groups)] == dense


def test_kfold_errors(imbalanced):
    X, Y, groups, _ = imbalanced
    with pytest.raises(ValueError, match=r"n_splits=4 is greater than the number of unique "):
        next(MultilabelStratifiedGroupKFold(4).split(X[:5], Y[:5], ["a", "a", "b", "b", "c"]))
    with pytest.raises(ValueError, match="at least 2"):
        MultilabelStratifiedGroupKFold(1)
    with pytest.raises(TypeError, match="integer"):
        MultilabelStratifiedGroupKFold(2.5)
    with pytest.raises(TypeError, match="shuffle"):
        MultilabelStratifiedGroupKFold(3, shuffle="yes")
    with pytest.raises(ValueError, match="needs y"):
        next(MultilabelStratifiedGroupKFold(3).split(X, None, groups))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        next(MultilabelStratifiedGroupKFold(3).split(X, Y, groups[:-1]))
    bad_groups = groups.astype(object)
    bad_groups[4] = None
    with pytest.raises(ValueError, match="missing value.*row 4"):
        next(MultilabelStratifiedGroupKFold(3).split(X, Y, bad_groups))
    with pytest.raises(ValueError, match="0/1"):
        next(MultilabelStratifiedGroupKFold(3).split(X, Y * 2, groups))


def test_kfold_in_grid_search_and_cross_validate(imbalanced):
    X, Y, groups, _ = imbalanced
    cv = MultilabelStratifiedGroupKFold(3, random_state=0)
    search = GridSearchCV(
        KNeighborsClassifier(), {"n_neighbors": [3, 7]}, cv=cv, error_score="raise"
    ).fit(X, Y, groups=groups)
    assert search.n_splits_ == 3
    result = cross_validate(KNeighborsClassifier(3), X, Y, groups=groups, cv=cv)
    assert len(result["test_score"]) == 3
    # With metadata routing the splitter requests groups by default, like GroupKFold.
    with config_context(enable_metadata_routing=True):
        routed = GridSearchCV(KNeighborsClassifier(), {"n_neighbors": [3]}, cv=cv).fit(
            X, Y, groups=groups
        )
    assert routed.n_splits_ == 3


# --------------------------------------------------------------------------- train/dev/test
def test_absolute_counts_are_exact_in_movies(imbalanced):
    _, Y, groups, _ = imbalanced
    train, dev, test = train_dev_test_split(Y, (160, 40, 30), groups=groups, random_state=0)
    assert [len(set(groups[idx])) for idx in (train, dev, test)] == [160, 40, 30]
    assert not set(groups[train]) & set(groups[dev])
    assert not set(groups[train]) & set(groups[test])
    assert not set(groups[dev]) & set(groups[test])
    # Every row of a chosen movie comes along; 70 movies are left out.
    chosen = np.concatenate([train, dev, test])
    assert len(np.unique(chosen)) == len(chosen)
    assert set(chosen) == set(np.flatnonzero(np.isin(groups, groups[chosen])))
    assert len(set(groups) - set(groups[chosen])) == 70
    for idx in (train, dev, test):
        assert np.all(np.diff(idx) > 0)


def test_counts_without_groups_are_rows():
    rng = np.random.default_rng(1)
    Y = (rng.random((500, 6)) < [0.4, 0.2, 0.1, 0.05, 0.03, 0.01]).astype(int)
    for seed in range(3):
        parts = train_dev_test_split(Y, (300, 100, 50), random_state=seed)
        assert [len(p) for p in parts] == [300, 100, 50]


def test_fractions_use_every_group(imbalanced):
    _, Y, groups, _ = imbalanced
    train, dev, test = train_dev_test_split(Y, groups=groups, random_state=0)
    assert [len(set(groups[i])) for i in (train, dev, test)] == [240, 30, 30]
    assert len(train) + len(dev) + len(test) == len(Y)
    # Rounding with an awkward total still uses every movie.
    Y7 = np.eye(7, 3, dtype=int)
    parts = train_dev_test_split(Y7, (0.6, 0.2, 0.2), random_state=0)
    assert sorted(np.concatenate(parts).tolist()) == list(range(7))
    assert [len(p) for p in parts] == [4, 2, 1]  # largest remainders: 4.2, 1.4, 1.4
    # Fractions summing to less than one leave the rest out.
    parts = train_dev_test_split(Y, (0.5, 0.1, 0.1), groups=groups, random_state=0)
    assert [len(set(groups[i])) for i in parts] == [150, 30, 30]


def test_split_is_stratified_and_beats_a_random_split(imbalanced):
    _, Y, groups, Y_groups = imbalanced
    sizes = (150, 60, 60)

    def deviation(parts):
        frame = pd.DataFrame(Y).groupby(groups, sort=False).max()
        total = frame.to_numpy().sum(axis=0)
        return np.mean(
            [
                np.abs(frame.loc[pd.unique(groups[idx])].to_numpy().sum(axis=0) - total * s / 300)
                for idx, s in zip(parts, sizes)
            ]
        )

    ours = np.mean(
        [deviation(train_dev_test_split(Y, sizes, groups=groups, random_state=s)) for s in range(3)]
    )
    unique_groups = pd.unique(groups)
    random_devs = []
    for seed in range(5):
        order = np.random.default_rng(seed).permutation(unique_groups)
        bounds = np.cumsum(sizes)
        picked = np.split(order[: bounds[-1]], bounds[:-1])
        random_devs.append(deviation([np.flatnonzero(np.isin(groups, p)) for p in picked]))
    assert ours < 0.5 * np.mean(random_devs)


def test_train_dev_test_determinism(imbalanced):
    _, Y, groups, _ = imbalanced
    a = train_dev_test_split(Y, (100, 50, 50), groups=groups, random_state=5)
    b = train_dev_test_split(Y, (100, 50, 50), groups=groups, random_state=5)
    c = train_dev_test_split(Y, (100, 50, 50), groups=groups, random_state=6)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


@pytest.mark.parametrize(
    ("sizes", "error", "match"),
    [
        ((200, 100, 50), ValueError, "ask for 350 movies but there are only 300"),
        ((0.8, 0.3, 0.1), ValueError, "sum to at most 1"),
        ((0.8, 100, 100), TypeError, "not a mix"),
        ((0.8, 0.2), ValueError, "got 2 values"),
        ((1.5, 0.1, 0.1), ValueError, r"in \[0, 1\]"),
        ((100, -1, 10), ValueError, "non-negative"),
        ((0.998, 0.001, 0.001), ValueError, "leave the dev and test set empty"),
        ((0, 0, 0), ValueError, "no movie"),
    ],
)
def test_train_dev_test_invalid_sizes(imbalanced, sizes, error, match):
    _, Y, groups, _ = imbalanced
    with pytest.raises(error, match=match):
        train_dev_test_split(Y, sizes, groups=groups)


# --------------------------------------------------------------------------- train/test
def test_train_test_split_returns_arrays_then_y(imbalanced):
    X, Y, groups, _ = imbalanced
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    ids = groups.tolist()
    X_tr, X_te, f_tr, f_te, id_tr, id_te, Y_tr, Y_te = multilabel_train_test_split(
        X, frame, ids, Y=sp.csr_matrix(Y), test_size=0.2, groups=groups, random_state=0
    )
    assert isinstance(f_tr, pd.DataFrame)
    assert isinstance(id_tr, list)
    assert sp.issparse(Y_tr)
    assert len(set(id_tr)) == 240
    assert len(set(id_te)) == 60
    assert not set(id_tr) & set(id_te)
    assert X_tr.shape[0] == Y_tr.shape[0] == len(f_tr) == len(id_tr)
    # Rows stay aligned across the arrays.
    np.testing.assert_array_equal(f_te.to_numpy(), X_te)
    row_of = {tuple(x): i for i, x in enumerate(X)}
    np.testing.assert_array_equal(Y_te.toarray(), Y[[row_of[tuple(x)] for x in X_te]])


def test_train_test_split_sizes():
    rng = np.random.default_rng(3)
    Y = (rng.random((101, 4)) < [0.5, 0.2, 0.1, 0.05]).astype(int)
    _, Y_te = multilabel_train_test_split(Y=Y, random_state=0)
    assert len(Y_te) == 26  # ceil(0.25 * 101), as in sklearn
    Y_tr, Y_te = multilabel_train_test_split(Y=Y, test_size=10, train_size=50, random_state=0)
    assert (len(Y_tr), len(Y_te)) == (50, 10)
    Y_tr, Y_te = multilabel_train_test_split(Y=Y, train_size=0.5, random_state=0)
    assert (len(Y_tr), len(Y_te)) == (50, 51)
    with pytest.raises(ValueError, match="only 101 unique groups"):
        multilabel_train_test_split(Y=Y, test_size=60, train_size=60)
    with pytest.raises(ValueError, match=r"test_size=1.0 must be a fraction"):
        multilabel_train_test_split(Y=Y, test_size=1.0)
    with pytest.raises(ValueError, match="array 0 has 100 rows but Y has 101"):
        multilabel_train_test_split(np.zeros((100, 2)), Y=Y)


# --------------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def av_labels(data_root):
    frame = pd.read_csv(data_root / "av-posters" / "train.csv")
    Y = frame.drop(columns=["Id", "Genre"])
    assert Y.shape[1] == 25
    return Y.to_numpy(), frame["Id"].to_numpy()


@pytest.mark.integration
def test_seed_000_split_on_real_labels(av_labels):
    Y, ids = av_labels
    train, dev, test = train_dev_test_split(Y, (1600, 200, 200), groups=ids, random_state=0)
    assert [len(set(ids[i])) for i in (train, dev, test)] == [1600, 200, 200]
    assert not set(ids[train]) & set(ids[dev])
    assert not set(ids[train]) & set(ids[test])
    assert not set(ids[dev]) & set(ids[test])
    # Each common genre keeps its overall share within 3 points in every subset.
    overall = Y.mean(axis=0)
    common = Y.sum(axis=0) >= 400
    for idx in (train, dev, test):
        assert np.abs(Y[idx].mean(axis=0) - overall)[common].max() < 0.03


@pytest.mark.integration
def test_group_kfold_on_real_labels(av_labels):
    Y, ids = av_labels
    cv = MultilabelStratifiedGroupKFold(5, random_state=0)
    seen = np.zeros(len(Y), dtype=int)
    overall = Y.mean(axis=0)
    for train, test in cv.split(Y, Y, ids):
        assert not set(ids[train]) & set(ids[test])
        seen[test] += 1
        assert np.abs(Y[test].mean(axis=0) - overall).max() < 0.01
    assert np.all(seen == 1)
