import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import GridSearchCV

from posterml import CustomGenreClassifier, MLkNN, MLkNNCV, ksweep
from posterml.metrics import SCORERS
from posterml.plotting import (
    CustomGenreConfusionDisplay,
    GenreCooccurrenceDisplay,
    KSweepDisplay,
    PerGenreDisplay,
)

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")

GENRES = ["Action", "Comedy", "Drama", "Horror"]
K_VALUES = [1, 3, 5, 9]
METRICS = ["hamming_loss", "overall_f1"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _multilabel(n=90, n_labels=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    Y = (X[:, :n_labels] + 0.7 * rng.normal(size=(n, n_labels)) > 0).astype(int)
    return X, Y


@pytest.fixture(scope="module")
def results():
    X, Y = _multilabel()
    return ksweep(X, Y, K_VALUES, cv=3, scoring=METRICS)


@pytest.fixture(scope="module")
def mlknncv():
    X, Y = _multilabel()
    return MLkNNCV(k_values=K_VALUES, cv=3, scoring=METRICS).fit(X, Y)


def _band_limits(band, xs):
    """Lower and upper edge of a fill_between band at each x."""
    verts = np.concatenate([path.vertices for path in band.get_paths()])
    lo = [verts[np.isclose(verts[:, 0], x), 1].min() for x in xs]
    hi = [verts[np.isclose(verts[:, 0], x), 1].max() for x in xs]
    return np.array(lo), np.array(hi)


def _tick_texts(labels):
    return [label.get_text() for label in labels]


# --------------------------------------------------------------------------- import / extra
def test_import_does_not_import_matplotlib():
    code = (
        "import sys, posterml.plotting\n"
        "loaded = [m for m in sys.modules if m == 'matplotlib' or m.startswith('matplotlib.')]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "draw",
    [
        lambda: KSweepDisplay.from_results({"param_k": [1], "mean_test_f1": [0.5]}),
        lambda: PerGenreDisplay.from_predictions([[1]], [[1]]),
        lambda: GenreCooccurrenceDisplay.from_predictions([[1]], [[1]]),
        lambda: CustomGenreConfusionDisplay.from_predictions(["Ho"], ["Ho"]),
        lambda: CustomGenreConfusionDisplay(np.eye(2)).plot(),
    ],
)
def test_missing_matplotlib_names_the_extra(draw, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install posterml\[plot\]"):
        draw()


# --------------------------------------------------------------------------- KSweepDisplay
def test_ksweep_lines_bands_and_best_k_match_the_results(results):
    display = KSweepDisplay.from_results(results)
    assert list(display.lines_) == METRICS
    assert display.ax_ is None
    assert len(display.axes_) == 2
    for name, ax in zip(METRICS, display.axes_):
        sign = -1 if name == "hamming_loss" else 1
        mean, std = sign * results[f"mean_test_{name}"], results[f"std_test_{name}"]
        line = display.lines_[name]
        assert line.axes is ax
        np.testing.assert_array_equal(line.get_xdata(), K_VALUES)
        np.testing.assert_allclose(line.get_ydata(), mean)
        lo, hi = _band_limits(display.bands_[name], K_VALUES)
        np.testing.assert_allclose(lo, mean - std)
        np.testing.assert_allclose(hi, mean + std)
        best = int(np.argmax(results[f"mean_test_{name}"]))  # sklearn's sign: max is best
        marker = display.best_markers_[name]
        assert marker.get_xdata().tolist() == [K_VALUES[best]]
        np.testing.assert_allclose(marker.get_ydata(), [mean[best]])
        assert ax.get_title().endswith(f"best k = {K_VALUES[best]}")
    np.testing.assert_array_less(0, display.lines_["hamming_loss"].get_ydata())
    assert "lower is better" in display.axes_[0].get_ylabel()
    assert "lower is better" not in display.axes_[1].get_ylabel()
    assert display.best_k_lines_ == []
    assert "3 folds" in display.figure_._suptitle.get_text()


def test_ksweep_fold_points_are_the_split_scores(results):
    display = KSweepDisplay.from_results(results, "hamming_loss", spread="folds")
    assert list(display.lines_) == ["hamming_loss"]
    assert display.bands_["hamming_loss"] is None
    points = display.fold_points_["hamming_loss"].get_offsets()
    expected = np.array(
        [
            (k, -results[f"split{f}_test_hamming_loss"][j])
            for f in range(3)
            for j, k in enumerate(K_VALUES)
        ]
    )
    np.testing.assert_allclose(points, expected)
    assert display.ax_ is display.axes_[0]


def test_ksweep_best_k_metric_draws_the_chosen_k(results):
    display = KSweepDisplay.from_results(results, METRICS, best_k_metric="overall_f1")
    chosen = K_VALUES[int(np.argmax(results["mean_test_overall_f1"]))]
    assert display.best_k == chosen
    assert len(display.best_k_lines_) == 2
    for line in display.best_k_lines_:
        assert line.get_xdata()[0] == chosen
        assert "overall f1" in line.get_label()


def test_ksweep_from_estimator(mlknncv):
    display = KSweepDisplay.from_estimator(mlknncv)
    res = mlknncv.cv_results_
    assert display.best_k == mlknncv.best_k_
    assert mlknncv.refit_metric_ == "hamming_loss"
    assert [line.get_xdata()[0] for line in display.best_k_lines_] == [mlknncv.best_k_] * 2
    assert "hamming loss" in display.best_k_lines_[0].get_label()
    np.testing.assert_allclose(
        display.lines_["hamming_loss"].get_ydata(), -res["mean_test_hamming_loss"]
    )
    np.testing.assert_allclose(
        display.lines_["overall_f1"].get_ydata(), res["mean_test_overall_f1"]
    )
    # the chosen k is the smallest Hamming loss: the loss's own best marker sits on it
    assert display.best_markers_["hamming_loss"].get_xdata()[0] == mlknncv.best_k_


def test_ksweep_plot_on_existing_axes(results):
    fig, ax = plt.subplots()
    display = KSweepDisplay.from_results(results, ax=ax, spread="both")
    assert display.ax_ is ax
    assert display.figure_ is fig
    assert all(line.axes is ax for line in display.lines_.values())
    assert all(points.axes is ax for points in display.fold_points_.values())
    labels = ax.get_legend_handles_labels()[1]
    assert "Hamming loss (lower is better)" in labels
    assert "Overall F1" in labels
    # plot again on two other axes: returns self, one metric on each
    fig2, axes = plt.subplots(1, 2)
    assert display.plot(ax=axes) is display
    assert display.ax_ is None
    assert list(display.axes_) == list(axes)
    assert [line.axes for line in display.lines_.values()] == list(axes)


def test_ksweep_from_gridsearchcv_results_sorted_by_k():
    X, Y = _multilabel()
    scoring = {name: SCORERS[name] for name in METRICS}
    search = GridSearchCV(MLkNN(), {"k": [5, 1, 3]}, cv=3, scoring=scoring, refit=False)
    res = search.fit(X, Y).cv_results_
    display = KSweepDisplay.from_results(res, "overall_f1")
    order = np.argsort(np.asarray(res["param_k"], dtype=int))
    np.testing.assert_array_equal(display.lines_["overall_f1"].get_xdata(), [1, 3, 5])
    np.testing.assert_allclose(
        display.lines_["overall_f1"].get_ydata(), res["mean_test_overall_f1"][order]
    )


def test_ksweep_neg_scores_and_std_from_the_folds():
    folds = np.array([[-0.3, -0.1, -0.2], [-0.5, -0.3, -0.2]])
    res = {"param_k": [1, 2, 4], "mean_test_neg_log_loss": folds.mean(axis=0)}
    res.update({f"split{i}_test_neg_log_loss": folds[i] for i in range(2)})
    display = KSweepDisplay.from_results(res)
    np.testing.assert_allclose(display.lines_["neg_log_loss"].get_ydata(), [0.4, 0.2, 0.2])
    lo, hi = _band_limits(display.bands_["neg_log_loss"], [1, 2, 4])
    np.testing.assert_allclose(hi - lo, 2 * folds.std(axis=0))
    assert display.best_markers_["neg_log_loss"].get_xdata().tolist() == [2]  # first of a tie
    assert display.axes_[0].get_ylabel() == "Log loss (lower is better)"


def test_ksweep_validation(results, mlknncv):
    with pytest.raises(ValueError, match=r"unknown metric\(s\) \['f2'\].*overall_f1"):
        KSweepDisplay.from_results(results, ["overall_f1", "f2"])
    with pytest.raises(ValueError, match="unknown best_k_metric"):
        KSweepDisplay.from_results(results, best_k_metric="f2")
    with pytest.raises(ValueError, match="no 'param_k' column"):
        KSweepDisplay.from_results({"mean_test_f1": [0.5]})
    with pytest.raises(ValueError, match="repeats k values"):
        KSweepDisplay.from_results({"param_k": [1, 1], "mean_test_f1": [0.5, 0.6]})
    with pytest.raises(ValueError, match="has 1 values but param_k has 2"):
        KSweepDisplay.from_results({"param_k": [1, 2], "mean_test_f1": [0.5]})
    with pytest.raises(ValueError, match="no mean_test"):
        KSweepDisplay.from_results({"param_k": [1, 2]})
    with pytest.raises(ValueError, match="needs std_scores"):
        KSweepDisplay.from_results({"param_k": [1, 2], "mean_test_f1": [0.5, 0.6]})
    with pytest.raises(ValueError, match="spread must be"):
        KSweepDisplay.from_results(results, spread="ribbon")
    with pytest.raises(ValueError, match="one per metric"):
        KSweepDisplay.from_results(results, ax=plt.subplots(1, 3)[1])
    with pytest.raises(NotFittedError):
        KSweepDisplay.from_estimator(MLkNNCV())
    with pytest.raises(TypeError, match="dict like cv_results_"):
        KSweepDisplay.from_results([1, 2, 3])


def test_ksweep_without_spread_needs_only_means():
    display = KSweepDisplay.from_results(
        {"param_k": [3, 1], "mean_test_f1": [0.6, 0.5]}, spread=None
    )
    np.testing.assert_array_equal(display.lines_["f1"].get_xdata(), [1, 3])
    np.testing.assert_allclose(display.lines_["f1"].get_ydata(), [0.5, 0.6])
    assert display.bands_["f1"] is None
    assert display.fold_points_["f1"] is None


# --------------------------------------------------------------------------- PerGenreDisplay
def _genre_pair(seed=0, n=80):
    rng = np.random.default_rng(seed)
    T = (rng.random((n, len(GENRES))) < [0.4, 0.3, 0.6, 0.1]).astype(int)
    P = np.where(rng.random(T.shape) < 0.75, T, 1 - T)
    P[:, 3] = 0  # a genre never predicted: precision 0 (zero_division=0)
    return T, P


def test_per_genre_bars_equal_sklearn():
    T, P = _genre_pair()
    display = PerGenreDisplay.from_predictions(T, P, genres=GENRES)
    precision, recall, f1, support = precision_recall_fscore_support(
        T, P, average=None, zero_division=0
    )
    for name, expected in zip(("precision", "recall", "f1"), (precision, recall, f1)):
        heights = [bar.get_height() for bar in display.bars_[name]]
        np.testing.assert_allclose(heights, expected)
    assert _tick_texts(display.ax_.get_xticklabels()) == GENRES
    assert [text.get_text() for text in display.support_texts_] == [str(s) for s in support]
    # each genre's three bars sit around its tick
    centres = [bar.get_x() + bar.get_width() / 2 for bar in display.bars_["recall"]]
    np.testing.assert_allclose(centres, np.arange(len(GENRES)))
    assert display.ax_.get_legend_handles_labels()[1] == ["Precision", "Recall", "F1"]
    assert "support" in display.ax_.get_title()


def test_per_genre_dataframe_columns_and_metric_subset():
    T, P = _genre_pair(1)
    display = PerGenreDisplay.from_predictions(
        pd.DataFrame(T, columns=GENRES), P, metrics=["f1"], annotate_support=False
    )
    assert list(display.bars_) == ["f1"]
    assert display.support_texts_ is None
    assert _tick_texts(display.ax_.get_xticklabels()) == GENRES
    _, _, f1, _ = precision_recall_fscore_support(T, P, average=None, zero_division=0)
    np.testing.assert_allclose(display.bars_["f1"].datavalues, f1)


def test_per_genre_from_estimator_on_existing_ax():
    X, Y = _multilabel()
    model = MLkNN(k=5).fit(X, Y)
    fig, ax = plt.subplots()
    display = PerGenreDisplay.from_estimator(model, X, Y, genres=GENRES, ax=ax)
    assert display.ax_ is ax
    assert display.figure_ is fig
    assert all(bar.axes is ax for bar in display.bars_["precision"])
    precision, *_ = precision_recall_fscore_support(
        Y, model.predict(X), average=None, zero_division=0
    )
    np.testing.assert_allclose(display.bars_["precision"].datavalues, precision)


def test_per_genre_validation():
    T, P = _genre_pair()
    with pytest.raises(ValueError, match="same shape"):
        PerGenreDisplay.from_predictions(T, P[:, :3])
    with pytest.raises(ValueError, match="genres has 3 names but the genre matrices have 4"):
        PerGenreDisplay.from_predictions(T, P, genres=GENRES[:3])
    with pytest.raises(ValueError, match="metrics must be among"):
        PerGenreDisplay.from_predictions(T, P, metrics=["accuracy"])
    with pytest.raises(ValueError, match="0/1"):
        PerGenreDisplay.from_predictions(T, P * 2)


# --------------------------------------------------------------------------- co-occurrence
def test_cooccurrence_images_are_the_genre_gram_matrices():
    T, P = _genre_pair()
    display = GenreCooccurrenceDisplay.from_predictions(T, P, genres=GENRES)
    np.testing.assert_array_equal(display.im_true_.get_array(), T.T @ T)
    np.testing.assert_array_equal(display.im_pred_.get_array(), P.T @ P)
    assert display.im_true_.axes is display.axes_[0]
    assert display.im_pred_.axes is display.axes_[1]
    assert [ax.get_title() for ax in display.axes_] == ["True genres", "Predicted genres"]
    for ax in display.axes_:
        assert _tick_texts(ax.get_xticklabels()) == GENRES
        assert _tick_texts(ax.get_yticklabels()) == GENRES
    # one colour scale for both, so the two can be compared
    assert display.im_true_.get_clim() == display.im_pred_.get_clim()
    assert display.im_true_.get_clim()[1] == max((T.T @ T).max(), (P.T @ P).max())
    assert display.text_.shape == (2, 4, 4)
    assert display.text_[0, 1, 2].get_text() == str((T.T @ T)[1, 2])
    assert display.colorbar_ is not None


@pytest.mark.parametrize("normalize", ["true", "all"])
def test_cooccurrence_normalize(normalize):
    T, P = _genre_pair()
    display = GenreCooccurrenceDisplay.from_predictions(T, P, normalize=normalize)
    for Y, im in ((T, display.im_true_), (P, display.im_pred_)):
        C = (Y.T @ Y).astype(float)
        if normalize == "true":
            diag = np.diag(C)
            expected = np.divide(C, diag[:, None], out=np.zeros_like(C), where=diag[:, None] > 0)
        else:
            expected = C / Y.shape[0]
        np.testing.assert_allclose(im.get_array(), expected)
    if normalize == "true":
        # Horror is never predicted: its row is 0, not NaN
        np.testing.assert_array_equal(display.im_pred_.get_array()[3], 0)
    assert _tick_texts(display.axes_[0].get_xticklabels()) == ["0", "1", "2", "3"]


def test_cooccurrence_masked_diagonal_and_existing_axes():
    T, P = _genre_pair()
    fig, axes = plt.subplots(1, 2)
    display = GenreCooccurrenceDisplay.from_predictions(
        T, P, GENRES, ax=axes, show_diagonal=False, include_values=False, colorbar=False
    )
    assert display.figure_ is fig
    assert list(display.axes_) == list(axes)
    assert display.im_true_.axes is axes[0]
    data = display.im_true_.get_array()
    np.testing.assert_array_equal(np.ma.getmaskarray(data), np.eye(4, dtype=bool))
    np.testing.assert_array_equal(data.data, T.T @ T)
    C = T.T @ T
    assert display.im_true_.get_clim()[1] == max(
        C[~np.eye(4, dtype=bool)].max(), (P.T @ P)[~np.eye(4, dtype=bool)].max()
    )
    assert display.text_ is None
    assert display.colorbar_ is None


def test_cooccurrence_from_estimator():
    X, Y = _multilabel()
    model = MLkNN(k=5).fit(X, Y)
    display = GenreCooccurrenceDisplay.from_estimator(model, X, pd.DataFrame(Y, columns=GENRES))
    P = model.predict(X)
    np.testing.assert_array_equal(display.im_pred_.get_array(), P.T @ P)
    assert _tick_texts(display.axes_[1].get_xticklabels()) == GENRES


def test_cooccurrence_validation():
    T, P = _genre_pair()
    with pytest.raises(ValueError, match="normalize must be"):
        GenreCooccurrenceDisplay.from_predictions(T, P, normalize="pred")
    with pytest.raises(ValueError, match="same shape"):
        GenreCooccurrenceDisplay.from_predictions(T, P[:10])
    with pytest.raises(ValueError, match="genres has 5 names"):
        GenreCooccurrenceDisplay.from_predictions(T, P, genres=[*GENRES, "War"])
    with pytest.raises(ValueError, match="needs ax to be 2"):
        GenreCooccurrenceDisplay.from_predictions(T, P, ax=plt.subplots()[1])


# --------------------------------------------------------------------------- confusion
def test_confusion_from_predictions_equals_sklearn():
    rng = np.random.default_rng(0)
    classes = np.array(["AcAdDr", "Ho", "RoCoDa", "ScFa"])
    y_true = rng.choice(classes, 60)
    y_pred = np.where(rng.random(60) < 0.6, y_true, rng.choice(classes, 60))
    display = CustomGenreConfusionDisplay.from_predictions(y_true, y_pred)
    np.testing.assert_array_equal(display.im_.get_array(), confusion_matrix(y_true, y_pred))
    assert _tick_texts(display.ax_.get_xticklabels()) == classes.tolist()
    assert _tick_texts(display.ax_.get_yticklabels()) == classes.tolist()
    assert display.ax_.get_xlabel() == "Predicted custom genre"
    assert display.ax_.get_ylabel() == "True custom genre"
    assert display.text_[1, 1].get_text() == str(confusion_matrix(y_true, y_pred)[1, 1])

    labels = ["ScFa", "Ho", "AcAdDr", "RoCoDa", "Ot"]
    display = CustomGenreConfusionDisplay.from_predictions(y_true, y_pred, labels, normalize="true")
    expected = confusion_matrix(y_true, y_pred, labels=labels, normalize="true")
    np.testing.assert_allclose(display.im_.get_array(), expected)
    assert _tick_texts(display.ax_.get_xticklabels()) == labels
    assert display.text_[0, 0].get_text() == format(expected[0, 0], ".2f")
    assert "normalised over the true classes" in display.ax_.get_title()


def test_confusion_from_estimator_encodes_with_the_encoder():
    rng = np.random.default_rng(0)
    sets = [["Horror"], ["Comedy", "Romance"], ["Sci-Fi", "Fantasy"], ["Action", "Crime"]]
    which = rng.integers(len(sets), size=80)
    Y = [sets[i] for i in which]
    X = np.eye(len(sets))[which] + 0.8 * rng.normal(size=(80, len(sets)))
    model = CustomGenreClassifier(LogisticRegression(), random_state=0).fit(X, Y)
    fig, ax = plt.subplots()
    display = CustomGenreConfusionDisplay.from_estimator(model, X, Y, ax=ax)
    assert display.ax_ is ax
    assert display.figure_ is fig
    classes = model.encoder_.classes_
    expected = confusion_matrix(model.encoder_.transform(Y), model.predict(X), labels=classes)
    np.testing.assert_array_equal(display.im_.get_array(), expected)
    assert _tick_texts(ax.get_xticklabels()) == classes.tolist()
    assert len(classes) == 8  # every custom class, also those no movie falls in


def test_confusion_validation():
    with pytest.raises(ValueError, match="1-D, one custom genre per movie"):
        CustomGenreConfusionDisplay.from_predictions([[1, 0], [0, 1]], ["Ho", "Ot"])
    with pytest.raises(ValueError, match="got 2 and 3"):
        CustomGenreConfusionDisplay.from_predictions(["Ho", "Ot"], ["Ho", "Ot", "Ho"])
    with pytest.raises(ValueError, match="normalize must be"):
        CustomGenreConfusionDisplay.from_predictions(["Ho"], ["Ho"], normalize="rows")
    with pytest.raises(ValueError, match="display_labels has 3 names"):
        CustomGenreConfusionDisplay(np.eye(2), display_labels=["a", "b", "c"]).plot()
    fitted = LogisticRegression().fit([[0.0], [1.0]], ["Ho", "Ot"])
    with pytest.raises(TypeError, match="no fitted encoder_"):
        CustomGenreConfusionDisplay.from_estimator(fitted, [[0.0]], [["Horror"]])
    with pytest.raises(NotFittedError):
        CustomGenreConfusionDisplay.from_estimator(
            CustomGenreClassifier(LogisticRegression()), [[0.0]], [["Horror"]]
        )
