import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from _support import time_limit

import posterml
from posterml.imbalance import (
    MultilabelRandomOverSampler,
    imbalance_ratio_per_label,
    mean_imbalance_ratio,
)
from posterml.neighbors import MLkNN


def _skewed(seed=0, n=500):
    """Five genres with prevalences 60 %, 35 %, 10 %, 4 %, 1.5 %, partly co-occurring."""
    rng = np.random.default_rng(seed)
    p = np.array([0.6, 0.35, 0.10, 0.04, 0.015])
    Y = (rng.random((n, p.size)) < p).astype(np.int64)
    Y[Y[:, 4] == 1, 0] = 1  # the rarest genre always comes with the majority one
    for j in range(p.size):  # every genre needs a positive
        Y[j, j] = 1
    X = rng.normal(size=(n, 3)) + Y[:, :3]
    return X, Y


# --------------------------------------------------------------------------- measures
def test_irlbl_and_meanir_hand_computed():
    Y = [[1, 1, 0], [1, 0, 0], [1, 0, 0], [1, 1, 1]]  # counts 4, 2, 1
    np.testing.assert_allclose(imbalance_ratio_per_label(Y), [1.0, 2.0, 4.0])
    assert mean_imbalance_ratio(Y) == pytest.approx(7 / 3)
    assert mean_imbalance_ratio(sp.csr_matrix(np.array(Y))) == pytest.approx(7 / 3)


def test_measures_name_the_empty_label():
    Y = pd.DataFrame([[1, 0], [1, 0]], columns=["Drama", "Western"])
    with pytest.raises(ValueError, match=r"column 1 \('Western'\) of Y has no positive"):
        mean_imbalance_ratio(Y)


# --------------------------------------------------------------------------- ML-ROS
def test_mlros_reduces_meanir_within_budget_cloning_minority_rows():
    X, Y = _skewed()
    counts = Y.sum(axis=0)
    irlbl = counts.max() / counts
    minority = np.flatnonzero(irlbl > irlbl.mean())
    assert minority.tolist() == [3, 4]

    ros = MultilabelRandomOverSampler(max_clone_percentage=0.1, random_state=0)
    X_res, Y_res = ros.fit_resample(X, Y)
    n_clones = len(X_res) - len(X)
    assert 0 < n_clones <= int(0.1 * len(X))
    np.testing.assert_array_equal(ros.minority_labels_, minority)
    assert ros.imbalance_ratio_before_ == pytest.approx(mean_imbalance_ratio(Y))
    assert ros.imbalance_ratio_after_ == pytest.approx(mean_imbalance_ratio(Y_res))
    assert ros.imbalance_ratio_after_ < ros.imbalance_ratio_before_
    # every clone carries a minority label
    clones = ros.sample_indices_[len(X) :]
    assert Y[clones][:, minority].any(axis=1).all()
    # originals first, in order
    np.testing.assert_array_equal(ros.sample_indices_[: len(X)], np.arange(len(X)))


@pytest.mark.parametrize("pct", [0.01, 0.05, 0.3, 1.0])
def test_mlros_never_exceeds_the_budget(pct):
    X, Y = _skewed(seed=3)
    ros = MultilabelRandomOverSampler(max_clone_percentage=pct, random_state=0)
    X_res, _ = ros.fit_resample(X, Y)
    assert len(X_res) - len(X) <= int(np.floor(pct * len(X)))


def _two_minority_labels():
    # counts 40, 20, 2, 4 (labels 2 and 3 alone on their rows): IRLbl 1, 2, 20, 10,
    # MeanIR 8.25, minority labels 2 and 3; the majority count stays 40 while cloning
    Y = np.zeros((46, 4), dtype=int)
    Y[:40, 0] = 1
    Y[:20, 1] = 1
    Y[40:42, 2] = 1
    Y[42:46, 3] = 1
    return np.arange(46.0).reshape(-1, 1), Y


@pytest.mark.parametrize(
    ("pct", "expected"),
    [
        # round 1 clones a row of label 2, then of label 3 (40 / 5 <= 8.25: label 3 leaves);
        # label 2 needs 40 / (2 + t) <= 8.25, i.e. t = 3 clones
        (0.25, [2, 3, 2, 2]),
        (0.05, [2, 3]),  # floor(0.05 * 46) = 2 clones
        (0.03, [2]),  # budget 1 stops inside the round (the paper's loop would clone 2)
    ],
)
def test_mlros_round_robin_and_bag_removal(pct, expected):
    X, Y = _two_minority_labels()
    ros = MultilabelRandomOverSampler(max_clone_percentage=pct, random_state=0)
    ros.fit_resample(X, Y)
    assert ros.imbalance_ratio_before_ == pytest.approx(8.25)
    np.testing.assert_array_equal(ros.minority_labels_, [2, 3])
    clones = ros.sample_indices_[len(Y) :]
    assert [int(np.flatnonzero(Y[r])[0]) for r in clones] == expected


def test_mlros_paper_example_one_minority_label():
    Y = np.zeros((40, 3), dtype=int)
    Y[:, 0] = 1
    Y[:12, 1] = 1
    Y[-2:, 2] = 1
    # MeanIR = (1 + 40/12 + 20) / 3; after t clones of rows 38/39: (40 + t) / (2 + t) <= MeanIR
    meanir = (1 + 40 / 12 + 20) / 3
    t = next(t for t in range(100) if (40 + t) / (2 + t) <= meanir)
    ros = MultilabelRandomOverSampler(random_state=1)
    X_res, _ = ros.fit_resample(np.arange(40).reshape(-1, 1), Y)
    assert len(X_res) == 40 + t == 44
    assert set(ros.sample_indices_[40:].tolist()) <= {38, 39}


def _out_of_reach():
    # Label 0 is on every row, labels 3-12 on 90 of 100; labels 1 and 2 (30 disjoint rows
    # each) are the minority (IRLbl 3.33 > MeanIR 1.44). A round clones one row of each, so
    # count(0) grows by 2 while each of theirs grows by 1: their IRLbl tends to 2, never 1.44.
    Y = np.zeros((100, 13), dtype=int)
    Y[:, 0] = 1
    Y[:30, 1] = 1
    Y[30:60, 2] = 1
    Y[:90, 3:] = 1
    return np.arange(100.0).reshape(-1, 1), Y


def test_mlros_without_budget_stops_when_the_threshold_is_out_of_reach():
    X, Y = _out_of_reach()
    ros = MultilabelRandomOverSampler(max_clone_percentage=None, random_state=0)
    with time_limit(30), pytest.warns(UserWarning, match=r"column 1, column 2.*cannot reach"):
        X_res, _ = ros.fit_resample(X, Y)
    np.testing.assert_array_equal(ros.minority_labels_, [1, 2])
    assert len(X_res) == len(X)  # no clone helps: stopped before the first round
    # with a budget the paper's loop is kept: it clones until the budget is spent
    budgeted = MultilabelRandomOverSampler(max_clone_percentage=0.5, random_state=0)
    assert len(budgeted.fit_resample(X, Y)[0]) == 150


def test_mlros_without_budget_still_clones_labels_that_can_reach_the_threshold():
    # Label 0 on every row of bags 1 and 2 (not of 3 and 4), rows 62-63 carry labels 3 and 4.
    # A round clones a row of bags 1-4: count(0) +2, counts of 1 and 2 +1 (IRLbl -> 2), of 3
    # +2 (IRLbl -> 1), of 4 +1.5 on average (IRLbl -> 1.33, then 2 once bag 3 has left).
    Y = np.zeros((100, 5), dtype=int)
    Y[:60, 0] = Y[64:, 0] = 1
    Y[:30, 1] = 1
    Y[30:60, 2] = 1
    Y[60:64, 3] = 1
    Y[62:64, 4] = 1
    X = np.arange(100.0).reshape(-1, 1)
    ros = MultilabelRandomOverSampler(target_ir=1.5, max_clone_percentage=None, random_state=0)
    with time_limit(30), pytest.warns(UserWarning, match=r"column 1, column 2, column 4 "):
        _, Y_res = ros.fit_resample(X, Y)
    np.testing.assert_array_equal(ros.minority_labels_, [1, 2, 3, 4])
    irlbl = imbalance_ratio_per_label(Y_res)
    assert irlbl[3] <= 1.5  # its bag finished
    assert (irlbl[[1, 2, 4]] > 1.5).all()


def test_target_ir_threshold():
    X, Y = _skewed()
    ros = MultilabelRandomOverSampler(target_ir=3.0, max_clone_percentage=None, random_state=0)
    _, Y_res = ros.fit_resample(X, Y)
    irlbl = imbalance_ratio_per_label(Y)
    minority = np.flatnonzero(irlbl > 3.0)
    np.testing.assert_array_equal(ros.minority_labels_, minority)
    assert minority.size >= 3
    assert (imbalance_ratio_per_label(Y_res)[minority] < irlbl[minority]).all()
    # a lower threshold clones more than the default MeanIR one
    default = MultilabelRandomOverSampler(max_clone_percentage=None, random_state=0)
    assert len(Y_res) > len(default.fit_resample(X, Y)[1])


def test_deterministic_for_a_seed_and_different_for_another():
    X, Y = _skewed()
    a = MultilabelRandomOverSampler(random_state=7).fit_resample(X, Y)[0]
    b = MultilabelRandomOverSampler(random_state=7).fit_resample(X, Y)[0]
    c = MultilabelRandomOverSampler(random_state=8).fit_resample(X, Y)[0]
    np.testing.assert_array_equal(a, b)
    assert a.shape != c.shape or not np.array_equal(a, c)


@pytest.mark.parametrize("kind", ["ndarray", "sparse", "dataframe", "list"])
def test_x_and_y_stay_aligned_for_every_container(kind):
    X, Y = _skewed()
    columns = [f"g{j}" for j in range(Y.shape[1])]
    if kind == "ndarray":
        Xin, yin = X, Y
    elif kind == "sparse":
        Xin, yin = sp.csr_matrix(X), sp.csr_matrix(Y)
    elif kind == "dataframe":
        Xin = pd.DataFrame(X, columns=["a", "b", "c"])
        yin = pd.DataFrame(Y, columns=columns)
    else:
        Xin, yin = [f"poster_{i}.jpg" for i in range(len(X))], Y
    ros = MultilabelRandomOverSampler(random_state=0)
    X_res, y_res = ros.fit_resample(Xin, yin)
    idx = ros.sample_indices_
    assert type(X_res) is type(Xin)
    assert type(y_res) is type(yin)
    dense_X = {
        "ndarray": lambda a: a,
        "sparse": lambda a: a.toarray(),
        "dataframe": lambda a: a.to_numpy(),
        "list": lambda a: np.asarray(a),
    }[kind]
    expected_X = np.asarray(Xin)[idx] if kind == "list" else X[idx]
    np.testing.assert_array_equal(dense_X(X_res), expected_X)
    dense_y = y_res.toarray() if sp.issparse(y_res) else np.asarray(y_res)
    np.testing.assert_array_equal(dense_y, Y[idx])
    if kind == "dataframe":
        assert list(y_res.columns) == columns
        np.testing.assert_array_equal(X_res.index, idx)


# --------------------------------------------------------------------------- least_frequent
def test_least_frequent_raises_the_rarest_counts():
    X, Y = _skewed()
    counts = Y.sum(axis=0)
    order = np.argsort(counts, kind="stable")
    rarest, target = order[:2], counts[order[2]]
    ros = MultilabelRandomOverSampler(
        strategy="least_frequent", n_least_frequent=2, max_clone_percentage=None, random_state=0
    )
    _, Y_res = ros.fit_resample(X, Y)
    after = Y_res.sum(axis=0)
    np.testing.assert_array_equal(sorted(ros.minority_labels_), sorted(rarest))
    assert (after[rarest] >= target).all()
    assert (after[rarest] > counts[rarest]).all()
    clones = ros.sample_indices_[len(Y) :]
    assert Y[clones][:, rarest].any(axis=1).all()
    # stops as soon as both reached the target: one fewer clone would leave one short
    last = Y[clones[-1]]
    assert (after[rarest] - last[rarest] < target).any()


def test_least_frequent_respects_the_budget():
    X, Y = _skewed()
    ros = MultilabelRandomOverSampler(
        strategy="least_frequent", n_least_frequent=3, max_clone_percentage=0.02, random_state=0
    )
    X_res, _ = ros.fit_resample(X, Y)
    assert len(X_res) - len(X) == 10


# --------------------------------------------------------------------------- errors
def test_errors_name_the_problem():
    X, Y = _skewed()
    ros = MultilabelRandomOverSampler()
    with pytest.raises(ValueError, match="same number of rows; got 499 and 500"):
        ros.fit_resample(X[1:], Y)
    with pytest.raises(ValueError, match="2-D indicator matrix"):
        ros.fit_resample(X, Y[:, 0])
    with pytest.raises(ValueError, match=r"found 3 at row 0, column 0"):
        ros.fit_resample(X, np.where(np.arange(500)[:, None] == 0, 3, Y))
    empty = pd.DataFrame(np.column_stack([Y, np.zeros(500, int)]), columns=list("abcdeZ"))
    with pytest.raises(ValueError, match=r"column 5 \('Z'\) of y has no positive.*infinite"):
        ros.fit_resample(X, empty)
    with pytest.raises(ValueError, match="needs n_least_frequent"):
        MultilabelRandomOverSampler(strategy="least_frequent").fit_resample(X, Y)
    with pytest.raises(ValueError, match=r"n_least_frequent=5 must be smaller than .* \(5\)"):
        MultilabelRandomOverSampler(strategy="least_frequent", n_least_frequent=5).fit_resample(
            X, Y
        )
    with pytest.raises(ValueError, match="strategy"):
        MultilabelRandomOverSampler(strategy="smote").fit_resample(X, Y)
    with pytest.raises(ValueError, match="target_ir"):
        MultilabelRandomOverSampler(target_ir=1.0).fit_resample(X, Y)


def test_public_from_the_top_level():
    assert posterml.MultilabelRandomOverSampler is MultilabelRandomOverSampler


# --------------------------------------------------------------------------- imblearn
def test_inside_an_imblearn_pipeline():
    pytest.importorskip("imblearn")
    from imblearn.pipeline import make_pipeline

    X, Y = _skewed()
    pipe = make_pipeline(MultilabelRandomOverSampler(random_state=0), MLkNN(k=3))
    pipe.fit(X, Y)
    sampler, model = pipe.steps[0][1], pipe.steps[-1][1]
    assert model.n_samples_fit_ == len(sampler.sample_indices_) > len(X)
    pred = pipe.predict(X[:20])  # no resampling at predict time
    assert pred.shape == (20, Y.shape[1])
    np.testing.assert_array_equal(pred, model.predict(X[:20]))
