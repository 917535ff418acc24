import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.neighbors import KNeighborsClassifier

from posterml.metrics import (
    SCORERS,
    all_match,
    at_least_one_match,
    binary_accuracy,
    get_scorer,
    get_scorer_names,
    hamming_loss,
    make_top_k_scorer,
    overall_f1,
    overall_precision,
    overall_recall,
    per_genre_report,
    predicted_subset_match,
    seed_metrics,
    top_k_accuracy,
    top_k_precision,
    weighted_f1,
)

PAIR_METRICS = [
    hamming_loss,
    binary_accuracy,
    all_match,
    at_least_one_match,
    predicted_subset_match,
    overall_precision,
    overall_recall,
    overall_f1,
    weighted_f1,
]

# Our metric -> the sklearn call it must equal.
SKLEARN_EQUIVALENTS = {
    hamming_loss: skm.hamming_loss,
    all_match: skm.accuracy_score,
    overall_precision: lambda t, p, **kw: skm.precision_score(
        t, p, average="micro", zero_division=0, **kw
    ),
    overall_recall: lambda t, p, **kw: skm.recall_score(
        t, p, average="micro", zero_division=0, **kw
    ),
    overall_f1: lambda t, p, **kw: skm.f1_score(t, p, average="micro", zero_division=0, **kw),
    weighted_f1: lambda t, p, **kw: skm.f1_score(t, p, average="weighted", zero_division=0, **kw),
}

# Rows: exact match / one extra wrong genre / one of two genres / nothing predicted.
Y_TRUE = np.array([[1, 0, 1, 0], [1, 0, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1]])
Y_PRED = np.array([[1, 0, 1, 0], [1, 0, 0, 1], [0, 1, 0, 0], [0, 0, 0, 0]])


# --------------------------------------------------------------------------- strategies
@st.composite
def indicator_pairs(draw, weighted=False, min_labels=1):
    n = draw(st.integers(1, 12))
    n_labels = draw(st.integers(min_labels, 6))
    T = draw(arrays(bool, (n, n_labels)))
    P = draw(arrays(bool, (n, n_labels)))
    # All-zero columns are the corner case where zero_division decides the value.
    for M in (T, P):
        if draw(st.booleans()):
            M[:, draw(st.integers(0, n_labels - 1))] = False
    w = None
    if weighted:
        w = np.array(draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)), dtype=float)
        if w.sum() == 0:
            w[0] = 1.0
    return T.astype(int), P.astype(int), w


# --------------------------------------------------------------------------- worked examples
def test_worked_example_values():
    assert hamming_loss(Y_TRUE, Y_PRED) == pytest.approx(3 / 16)
    assert binary_accuracy(Y_TRUE, Y_PRED) == pytest.approx(13 / 16)
    assert all_match(Y_TRUE, Y_PRED) == pytest.approx(1 / 4)
    assert at_least_one_match(Y_TRUE, Y_PRED) == pytest.approx(3 / 4)
    # Row 1 predicts a genre outside the true set: counted above, not here.
    assert predicted_subset_match(Y_TRUE, Y_PRED) == pytest.approx(2 / 4)
    # TP = 4, predicted = 5, true = 6.
    assert overall_precision(Y_TRUE, Y_PRED) == pytest.approx(4 / 5)
    assert overall_recall(Y_TRUE, Y_PRED) == pytest.approx(4 / 6)
    assert overall_f1(Y_TRUE, Y_PRED) == pytest.approx(8 / 11)


def test_subset_match_differs_from_at_least_one_match():
    # {Drama, Horror} predicted for a {Drama} movie: one match, but not a subset.
    Y_true = [[1, 0]]
    Y_pred = [[1, 1]]
    assert at_least_one_match(Y_true, Y_pred) == 1.0
    assert predicted_subset_match(Y_true, Y_pred) == 0.0
    # {Drama} predicted for a {Drama, Comedy} movie: both count it.
    assert at_least_one_match([[1, 1]], [[1, 0]]) == 1.0
    assert predicted_subset_match([[1, 1]], [[1, 0]]) == 1.0


def test_seed_metrics_columns_and_values():
    result = seed_metrics(Y_TRUE, Y_PRED)
    assert list(result) == ["All Match", "At least one match", "Binary", "Hamming Loss"]
    assert all(isinstance(v, float) for v in result.values())
    assert result["All Match"] == all_match(Y_TRUE, Y_PRED)
    assert result["At least one match"] == at_least_one_match(Y_TRUE, Y_PRED)
    assert result["Binary"] + result["Hamming Loss"] == pytest.approx(1.0)


def test_sparse_dataframe_and_bool_inputs_agree_with_dense():
    cols = ["Drama", "Comedy", "Horror", "War"]
    variants = [
        (sp.csr_matrix(Y_TRUE), sp.csc_matrix(Y_PRED)),
        (pd.DataFrame(Y_TRUE, columns=cols), pd.DataFrame(Y_PRED, columns=cols)),
        (Y_TRUE.astype(bool), Y_PRED.astype(float)),
        (Y_TRUE.tolist(), Y_PRED.tolist()),
    ]
    for metric in PAIR_METRICS:
        expected = metric(Y_TRUE, Y_PRED)
        for T, P in variants:
            assert metric(T, P) == pytest.approx(expected), metric.__name__


def test_sample_weight_zero_removes_rows():
    w = np.array([1.0, 0.0, 2.0, 0.0])
    keep = w > 0
    for metric in PAIR_METRICS:
        weighted = metric(Y_TRUE, Y_PRED, sample_weight=w)
        # Integer weights equal repeating rows.
        repeated = metric(
            np.repeat(Y_TRUE[keep], [1, 2], axis=0), np.repeat(Y_PRED[keep], [1, 2], 0)
        )
        assert weighted == pytest.approx(repeated), metric.__name__


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize("metric", PAIR_METRICS)
def test_shape_mismatch_is_reported(metric):
    with pytest.raises(ValueError, match=r"same shape.*\(4, 4\).*\(4, 3\)"):
        metric(Y_TRUE, Y_PRED[:, :3])


@pytest.mark.parametrize("metric", PAIR_METRICS)
def test_genre_column_count_mismatch_names_both_shapes(metric):
    # A genre present only in the predictions: one column more in Y_pred.
    wider = np.column_stack([Y_PRED, np.zeros(4, dtype=int)])
    with pytest.raises(
        ValueError,
        match=r"Y_true and Y_pred must have the same shape; got \(4, 4\) and \(4, 5\) "
        r"\(4 and 5 genre columns: every genre must be a column of both",
    ):
        metric(Y_TRUE, wider)
    with pytest.raises(ValueError, match=r"\(4, 4\) and \(3, 4\) \(4 and 3 movies\)"):
        metric(Y_TRUE, Y_PRED[:3])


@pytest.mark.parametrize("metric", PAIR_METRICS)
def test_dataframes_with_other_genres_are_refused_by_name(metric):
    # Same shape, so positions alone would pair Western with War: the names must agree.
    T = pd.DataFrame(Y_TRUE, columns=["Drama", "Comedy", "Action", "War"])
    P = pd.DataFrame(Y_PRED, columns=["Drama", "Comedy", "Action", "Western"])
    with pytest.raises(
        ValueError,
        match=r"different genre columns: only in Y_true \['War'\], only in Y_pred \['Western'\]",
    ):
        metric(T, P)
    with pytest.raises(ValueError, match=r"different order .* e\.g\. Y_pred\[Y_true\.columns\]"):
        metric(T, P.set_axis(["Comedy", "Drama", "Action", "War"], axis=1))
    assert metric(T, P.set_axis(T.columns, axis=1)) == metric(Y_TRUE, Y_PRED)


def test_top_k_scores_frame_with_other_genres_is_refused():
    T = pd.DataFrame(Y_TRUE, columns=["Drama", "Comedy", "Action", "War"])
    scores = pd.DataFrame(Y_PRED * 0.5, columns=["Drama", "Comedy", "Action", "Western"])
    with pytest.raises(ValueError, match=r"only in scores \['Western'\]"):
        top_k_accuracy(T, scores, k=2)
    with pytest.raises(ValueError, match=r"Y_true and scores must have the same shape.*genre col"):
        top_k_precision(Y_TRUE, np.ones((4, 3)), k=2)


def test_empty_label_sets_score_without_warnings():
    T = np.array([[0, 0, 0], [1, 0, 0]])
    P = np.array([[0, 0, 0], [0, 0, 0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert all_match(T, P) == 0.5
        assert overall_precision(T, P) == 0.0
        assert weighted_f1(np.zeros((2, 3)), P) == 0.0
        report = per_genre_report(T, P, genres=["Drama", "Comedy", "Action"])
    assert report.loc["Comedy", "support"] == 0
    assert report.loc["Comedy", "f1"] == 0.0


@pytest.mark.parametrize("metric", PAIR_METRICS)
def test_non_binary_value_is_located(metric):
    bad = Y_PRED.copy()
    bad[2, 3] = 2
    with pytest.raises(ValueError, match=r"Y_pred.*0/1.*2.*row 2, column 3"):
        metric(Y_TRUE, bad)


def test_invalid_inputs_raise_value_errors():
    with pytest.raises(ValueError, match="2-D"):
        hamming_loss([1, 0, 1], [1, 0, 1])
    with pytest.raises(ValueError, match="no rows"):
        hamming_loss(np.zeros((0, 3)), np.zeros((0, 3)))
    with pytest.raises(ValueError, match="Y_true.*nan"):
        all_match([[np.nan, 1.0]], [[0, 1]])
    with pytest.raises(ValueError, match="Y_true.*dtype"):
        all_match([["Drama", "Comedy"]], [[0, 1]])
    with pytest.raises(ValueError, match="one weight per sample"):
        overall_f1(Y_TRUE, Y_PRED, sample_weight=[1, 2])
    with pytest.raises(ValueError, match="non-negative"):
        overall_f1(Y_TRUE, Y_PRED, sample_weight=[1, -1, 1, 1])
    with pytest.raises(ValueError, match="sums to zero"):
        overall_f1(Y_TRUE, Y_PRED, sample_weight=[0, 0, 0, 0])
    with pytest.raises(ValueError, match="NaN or infinite"):
        overall_f1(Y_TRUE, Y_PRED, sample_weight=[1, np.inf, 1, 1])


# --------------------------------------------------------------------------- properties
@settings(deadline=None, max_examples=60)
@given(indicator_pairs())
def test_metrics_lie_in_unit_interval(pair):
    T, P, _ = pair
    for metric in PAIR_METRICS:
        assert 0.0 <= metric(T, P) <= 1.0, metric.__name__


@settings(deadline=None, max_examples=60)
@given(indicator_pairs(weighted=True, min_labels=2))
def test_agreement_with_sklearn(pair):
    # min_labels=2: sklearn reads a single column as a binary, not multi-label, target.
    T, P, w = pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn's UndefinedMetricWarning on empty labels
        for ours, theirs in SKLEARN_EQUIVALENTS.items():
            assert ours(T, P) == pytest.approx(theirs(T, P), abs=1e-12), ours.__name__
            assert ours(T, P, sample_weight=w) == pytest.approx(
                theirs(T, P, sample_weight=w), abs=1e-12
            ), ours.__name__
    assert binary_accuracy(T, P, sample_weight=w) == pytest.approx(
        1 - skm.hamming_loss(T, P, sample_weight=w)
    )


@settings(deadline=None, max_examples=60)
@given(indicator_pairs())
def test_perfect_prediction(pair):
    T, _, _ = pair
    has_label = T.any(axis=1)
    assert hamming_loss(T, T) == 0.0
    assert binary_accuracy(T, T) == 1.0
    assert all_match(T, T) == 1.0
    # Movies without a genre cannot match anything.
    assert at_least_one_match(T, T) == pytest.approx(has_label.mean())
    assert predicted_subset_match(T, T) == pytest.approx(has_label.mean())
    expected = 1.0 if T.any() else 0.0  # zero_division=0 when there is no positive at all
    for metric in (overall_precision, overall_recall, overall_f1, weighted_f1):
        assert metric(T, T) == expected, metric.__name__


@settings(deadline=None, max_examples=60)
@given(indicator_pairs())
def test_empty_predictions(pair):
    T, _, _ = pair
    empty = np.zeros_like(T)
    assert at_least_one_match(T, empty) == 0.0
    assert predicted_subset_match(T, empty) == 0.0
    assert overall_precision(T, empty) == 0.0
    assert overall_recall(T, empty) == 0.0
    assert hamming_loss(T, empty) == pytest.approx(T.mean())


@settings(deadline=None, max_examples=60)
@given(indicator_pairs())
def test_row_metrics_are_ordered(pair):
    T, P, _ = pair
    labelled = T.any(axis=1)
    exact_with_label = ((T == P).all(axis=1) & labelled).mean()
    psm = predicted_subset_match(T, P)
    assert exact_with_label <= psm + 1e-12
    assert psm <= at_least_one_match(T, P) + 1e-12


# --------------------------------------------------------------------------- per-genre report
@settings(deadline=None, max_examples=40)
@given(indicator_pairs(weighted=True, min_labels=2))
def test_per_genre_report_matches_classification_report(pair):
    T, P, w = pair
    names = [f"g{j}" for j in range(T.shape[1])]
    report = per_genre_report(T, P, genres=names, sample_weight=w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = skm.classification_report(
            T, P, target_names=names, zero_division=0, output_dict=True, sample_weight=w
        )
    for row in [*names, "micro avg", "macro avg", "weighted avg"]:
        got = report.loc[row]
        want = expected[row]
        assert got["precision"] == pytest.approx(want["precision"], abs=1e-12), row
        assert got["recall"] == pytest.approx(want["recall"], abs=1e-12), row
        assert got["f1"] == pytest.approx(want["f1-score"], abs=1e-12), row
        assert got["support"] == pytest.approx(want["support"]), row


def test_per_genre_report_layout():
    cols = ["Drama", "Comedy", "Horror", "War"]
    report = per_genre_report(pd.DataFrame(Y_TRUE, columns=cols), Y_PRED)
    assert list(report.index) == [*cols, "micro avg", "macro avg", "weighted avg"]
    assert report.index.name == "genre"
    assert list(report.columns) == ["precision", "recall", "f1", "support"]
    assert report["support"].tolist() == [2, 1, 2, 1, 6, 6, 6]
    assert report.loc["micro avg", "f1"] == pytest.approx(overall_f1(Y_TRUE, Y_PRED))
    assert report.loc["weighted avg", "f1"] == pytest.approx(weighted_f1(Y_TRUE, Y_PRED))
    assert list(per_genre_report(Y_TRUE, Y_PRED).index[:4]) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="3 names but Y_true has 4"):
        per_genre_report(Y_TRUE, Y_PRED, genres=cols[:3])
    with pytest.raises(ValueError, match="repeated.*Drama"):
        per_genre_report(Y_TRUE, Y_PRED, genres=["Drama", "Drama", "War", "Horror"])


# --------------------------------------------------------------------------- top-k
def test_top_k_ties_go_to_lower_label_index():
    scores = np.array([[0.5, 0.5, 0.5]])
    assert top_k_accuracy([[1, 0, 0]], scores, k=1) == 1.0
    assert top_k_accuracy([[0, 0, 1]], scores, k=1) == 0.0
    assert top_k_accuracy([[0, 0, 1]], scores, k=2) == 0.0
    assert top_k_accuracy([[0, 0, 1]], scores, k=3) == 1.0


def test_top_k_precision_counts_true_genres_among_top_k():
    Y_true = [[1, 0, 1, 0], [0, 1, 0, 0]]
    scores = [[0.9, 0.8, 0.7, 0.1], [0.1, 0.2, 0.3, 0.4]]
    assert top_k_precision(Y_true, scores, k=3) == pytest.approx((2 / 3 + 1 / 3) / 2)
    assert top_k_accuracy(Y_true, scores, k=2) == pytest.approx(0.5)


def test_top_k_accepts_predict_proba_list_format():
    rng = np.random.default_rng(0)
    positive = rng.random((20, 5))
    proba_list = [np.column_stack([1 - p, p]) for p in positive.T]
    Y = (rng.random((20, 5)) < 0.3).astype(int)
    for k in (1, 3, 5):
        assert top_k_accuracy(Y, proba_list, k=k) == top_k_accuracy(Y, positive, k=k)
        assert top_k_precision(Y, proba_list, k=k) == top_k_precision(Y, positive, k=k)


def test_top_k_invalid_arguments():
    Y = [[1, 0, 0]]
    with pytest.raises(ValueError, match=r"between 1 and the number of labels \(3\); got 4"):
        top_k_accuracy(Y, [[0.1, 0.2, 0.3]], k=4)
    with pytest.raises(ValueError, match="got 0"):
        top_k_accuracy(Y, [[0.1, 0.2, 0.3]], k=0)
    with pytest.raises(TypeError, match="integer"):
        top_k_accuracy(Y, [[0.1, 0.2, 0.3]], k=1.5)
    with pytest.raises(ValueError, match="same shape"):
        top_k_accuracy(Y, [[0.1, 0.2]], k=1)
    with pytest.raises(ValueError, match="NaN"):
        top_k_accuracy(Y, [[0.1, np.nan, 0.3]], k=1)
    with pytest.raises(ValueError, match=r"entry 1 has shape \(1, 1\)"):
        top_k_accuracy(Y, [np.array([[0.3, 0.7]]), np.ones((1, 1)), np.array([[1.0, 0.0]])], k=1)


@settings(deadline=None, max_examples=60)
@given(indicator_pairs(), st.data())
def test_top_k_properties(pair, data):
    T, _, _ = pair
    n, n_labels = T.shape
    # Integer-valued scores produce ties on purpose.
    scores = data.draw(arrays(np.int8, (n, n_labels), elements=st.integers(0, 3)))
    has_label = T.any(axis=1)
    assert top_k_accuracy(T, scores, k=n_labels) == pytest.approx(has_label.mean())
    values = [top_k_accuracy(T, scores, k=k) for k in range(1, n_labels + 1)]
    assert values == sorted(values)
    assert all(0.0 <= v <= 1.0 for v in values)
    assert top_k_precision(T, scores, k=n_labels) == pytest.approx(T.mean())
    # With the true matrix as scores, the top-1 genre of a labelled movie is a true genre.
    assert top_k_accuracy(T, T, k=1) == pytest.approx(has_label.mean())


# --------------------------------------------------------------------------- scorers
@pytest.fixture(scope="module")
def small_multilabel():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    # Labels driven by the features so that neighbours carry signal.
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0.5, X[:, 0] + X[:, 2] > 1, X[:, 3] < -1])
    return X, Y.astype(int)


def test_scorer_names_and_signs(small_multilabel):
    X, Y = small_multilabel
    expected = {
        "hamming_loss",
        "all_match",
        "at_least_one_match",
        "predicted_subset_match",
        "binary_accuracy",
        "overall_precision",
        "overall_recall",
        "overall_f1",
        "weighted_f1",
        "top_k_accuracy",
        "top_k_precision",
    }
    assert set(SCORERS) == expected
    model = KNeighborsClassifier(n_neighbors=3).fit(X, Y)
    Y_pred = model.predict(X)
    assert SCORERS["hamming_loss"](model, X, Y) == pytest.approx(-hamming_loss(Y, Y_pred))
    assert SCORERS["overall_f1"](model, X, Y) == pytest.approx(overall_f1(Y, Y_pred))
    assert SCORERS["predicted_subset_match"](model, X, Y) == pytest.approx(
        predicted_subset_match(Y, Y_pred)
    )
    proba = np.column_stack([p[:, 1] for p in model.predict_proba(X)])
    assert SCORERS["top_k_accuracy"](model, X, Y) == pytest.approx(top_k_accuracy(Y, proba, k=3))


def test_get_scorer_ours_sklearns_and_unknown():
    scorer = get_scorer("weighted_f1")
    assert scorer is not SCORERS["weighted_f1"]
    assert repr(scorer) == repr(SCORERS["weighted_f1"])
    assert repr(get_scorer("accuracy")) == repr(skm.get_scorer("accuracy"))
    with pytest.raises(ValueError, match=r"'overall_f2' is not a valid.*'overall_f1'"):
        get_scorer("overall_f2")
    names = get_scorer_names()
    assert names[: len(SCORERS)] == list(SCORERS)
    assert "f1_micro" in names


def test_grid_search_with_all_scorers(small_multilabel):
    X, Y = small_multilabel
    search = GridSearchCV(
        KNeighborsClassifier(),
        {"n_neighbors": [3, 5]},
        scoring=SCORERS,
        refit="overall_f1",
        cv=KFold(3, shuffle=True, random_state=0),
        error_score="raise",
    ).fit(X, Y)
    means = search.cv_results_["mean_test_overall_f1"]
    assert search.best_params_["n_neighbors"] == [3, 5][int(np.argmax(means))]
    for name in SCORERS:
        scores = search.cv_results_[f"mean_test_{name}"]
        assert np.all(np.isfinite(scores)), name
    assert np.all(search.cv_results_["mean_test_hamming_loss"] < 0)
    assert search.cv_results_["mean_test_overall_f1"].max() > 0.5  # labels are learnable


def test_top_k_scorer_handles_label_with_single_training_class(small_multilabel):
    X, Y = small_multilabel
    Y = Y.copy()
    Y[:, 2] = 0  # a genre absent from training: predict_proba gives it an (n, 1) array
    Y_eval = Y.copy()
    Y_eval[:5, 2] = 1
    model = KNeighborsClassifier(n_neighbors=3).fit(X, Y)
    assert [len(c) for c in model.classes_] == [2, 2, 1, 2]
    positive = [p[:, 1] if p.shape[1] == 2 else np.zeros(len(X)) for p in model.predict_proba(X)]
    expected = top_k_accuracy(Y_eval, np.column_stack(positive), k=2)
    assert make_top_k_scorer(k=2)(model, X, Y_eval) == pytest.approx(expected)
    with pytest.raises(ValueError, match="metric must be one of"):
        make_top_k_scorer(metric="recall")


class _MatrixProbaKNN(ClassifierMixin, BaseEstimator):
    """predict_proba as one (n_samples, n_labels) array, like MLPClassifier."""

    def fit(self, X, Y):
        self.knn_ = KNeighborsClassifier(n_neighbors=3).fit(X, Y)
        self.classes_ = self.knn_.classes_
        return self

    def predict(self, X):
        return self.knn_.predict(X)

    def predict_proba(self, X):
        return np.column_stack([p[:, 1] for p in self.knn_.predict_proba(X)])


def test_top_k_scorer_accepts_matrix_predict_proba(small_multilabel):
    X, Y = small_multilabel
    knn = KNeighborsClassifier(n_neighbors=3).fit(X, Y)
    matrix_model = _MatrixProbaKNN().fit(X, Y)
    for name in ("top_k_accuracy", "top_k_precision"):
        assert SCORERS[name](matrix_model, X, Y) == pytest.approx(SCORERS[name](knn, X, Y))


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 30),
    st.integers(1, 12),
    st.integers(0, 2**32 - 1),
)
def test_top_k_columns_equal_a_stable_sort_with_ties(n, n_labels, seed):
    from posterml.metrics._multilabel import _top_k_columns

    rng = np.random.default_rng(seed)
    S = rng.integers(0, 4, size=(n, n_labels)).astype(float)  # many ties
    for k in range(1, n_labels + 1):
        expected = np.argsort(-S, axis=1, kind="stable")[:, :k]
        np.testing.assert_array_equal(_top_k_columns(S, k), expected)


def test_top_k_scorer_with_two_genres_uses_both_columns():
    # classes_ == [0, 1] must not make the scorer treat a 2-genre model as binary
    from posterml import MLkNN, MLkNNCV

    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 4))
    Y = (X[:, :2] > 0).astype(int)
    model = MLkNN(k=5).fit(X, Y)
    expected = top_k_accuracy(Y, model.predict_proba(X), k=1)
    assert make_top_k_scorer(k=1)(model, X, Y) == expected
    cv = MLkNNCV(k_values=[1, 3, 9], cv=3).fit(X, Y)
    assert "mean_test_top_k_accuracy" not in cv.cv_results_  # top-3 of 2 genres: meaningless
    assert np.isfinite(cv.cv_results_["mean_test_hamming_loss"]).all()
