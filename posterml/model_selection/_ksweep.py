"""The ML-kNN k-sweep in one neighbour search per fold."""

import time
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, MultiOutputMixin
from sklearn.model_selection import check_cv
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, indexable

from posterml.neighbors import MLkNN
from posterml.neighbors._search import ALGORITHMS, BACKENDS

#: Seed 000's list of k.
SEED_K_VALUES = (1, 3, 5, 7, 10, 15, 20, 30, 40, 50, 100)


class _SweptMLkNN(MLkNN):
    """An MLkNN fitted for one k of a sweep, whose test-fold neighbour counts are known.

    Scorers call ``predict`` / ``predict_proba`` on the test fold as usual; the counts come
    from the fold's single search instead of a new one.
    """

    def _joint(self, X):
        if X.shape[0] != self._sweep_counts.shape[0]:
            raise RuntimeError("a swept model only predicts the test fold it was built for")
        return self._joint_from_counts(self._sweep_counts)


def _resolve_scoring(scoring, single_label):
    from posterml.metrics import SCORERS, get_scorer

    if scoring is None:
        names = ["accuracy"] if single_label else list(SCORERS)
    elif isinstance(scoring, str):
        names = [scoring]
    elif isinstance(scoring, dict):
        return dict(scoring)
    else:
        names = list(scoring)
    return {name: get_scorer(name) for name in names}


def _usable_k(k_values, n_train_min, include_self):
    ks = sorted({int(k) for k in k_values})
    limit = n_train_min if include_self else n_train_min - 1
    usable = [k for k in ks if 1 <= k <= limit]
    dropped = [k for k in ks if k not in usable]
    if not usable:
        raise ValueError(
            f"no k in {ks} fits the smallest training fold ({n_train_min} samples): use "
            f"k <= {limit} or fewer folds"
        )
    if dropped:
        warnings.warn(
            f"k values {dropped} exceed what the smallest training fold ({n_train_min} samples) "
            "allows and were left out of the sweep",
            UserWarning,
            stacklevel=3,
        )
    return usable


def ksweep(
    X,
    y,
    k_values=SEED_K_VALUES,
    *,
    cv=5,
    groups=None,
    scoring=None,
    s=1.0,
    metric="euclidean",
    backend="auto",
    algorithm="exact",
    algorithm_params=None,
    batch_size=None,
    n_jobs=None,
    compat="paper",
    on_empty_label="raise",
):
    """Cross-validate ML-kNN for every k from one neighbour search per fold.

    Each fold searches its training points (excluding themselves) and its test points once,
    at the largest k; every smaller k reuses the prefix of those neighbour lists, which is
    exactly its own k-nearest list because ties are broken by training index. The scores are
    therefore identical to ``GridSearchCV(MLkNN(), {"k": k_values}, cv=cv)`` on the same
    folds, at the cost of about one fit.

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n_samples, n_features)
    y : array-like or sparse matrix of shape (n_samples, n_labels) or (n_samples,)
    k_values : iterable of int, default=SEED_K_VALUES
        k values larger than the smallest training fold allows are dropped with a warning.
    cv : int, cross-validation generator or iterable, default=5
        As in scikit-learn; e.g. :class:`posterml.model_selection.MultilabelStratifiedGroupKFold`.
    groups : array-like, optional
        Group labels (movie ids) for group-aware splitters.
    scoring : str, list, dict or None
        Scorer names of :func:`posterml.metrics.get_scorer` (posterml's and sklearn's) or a
        dict name -> scorer. ``None``: every posterml scorer (multi-label ``y``) or
        ``"accuracy"`` (label vector).
    s, metric, backend, algorithm, algorithm_params, batch_size, n_jobs, compat, on_empty_label
        As in :class:`posterml.MLkNN`.

    Returns
    -------
    results : dict of ndarray
        ``cv_results_``-like: ``param_k``, ``params``, ``split{i}_test_{name}``,
        ``mean_test_{name}``, ``std_test_{name}``, ``rank_test_{name}``, plus
        ``mean_search_time`` (seconds of neighbour search per fold, shared by all k).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(120, 5))
    >>> Y = (X[:, :3] > 0).astype(int)
    >>> res = ksweep(X, Y, [1, 5, 15], cv=3, scoring=["overall_f1"])
    >>> res["param_k"].tolist()
    [1, 5, 15]
    >>> bool(res["mean_test_overall_f1"][2] > 0.7)
    True
    """
    template = MLkNN(
        k=1,
        s=s,
        metric=metric,
        backend=backend,
        algorithm=algorithm,
        algorithm_params=algorithm_params,
        batch_size=batch_size,
        n_jobs=n_jobs,
        compat=compat,
        on_empty_label=on_empty_label,
    )
    template._validate_params()
    X, y, groups = indexable(X, y, groups)
    # Validate the whole set once (finite values, consistent lengths, target type).
    template._validate_fit_data(X, y)
    single_label = template._single_label
    # Stratified folds for a label vector, plain KFold for an indicator matrix (as sklearn).
    splitter = check_cv(cv, y if single_label else None, classifier=single_label)
    folds = list(splitter.split(X, y, groups))
    include_self = compat == "skmultilearn"
    ks = _usable_k(k_values, min(len(train) for train, _ in folds), include_self)
    scorers = _resolve_scoring(scoring, single_label)

    scores = {name: np.empty((len(folds), len(ks))) for name in scorers}
    search_times = []
    for f, (train, test) in enumerate(folds):
        X_tr, y_tr = _take(X, train), _take(y, train)
        X_te, y_te = _take(X, test), _take(y, test)
        fold = MLkNN(**{**template.get_params(), "k": ks[-1]})
        X_tr, Y_tr = fold._validate_fit_data(X_tr, y_tr)
        fold._check_empty_labels(Y_tr)
        X_te = fold._validate_predict_data(X_te)
        t0 = time.perf_counter()
        fold._fit_search(X_tr)
        fold._Y = Y_tr
        tr_idx = np.concatenate(
            [i for *_, i in fold._iter_neighbors(X_tr, ks[-1], training=not include_self)]
        )
        te_idx = np.concatenate([i for *_, i in fold._iter_neighbors(X_te, ks[-1], training=False)])
        search_times.append(time.perf_counter() - t0)
        tr_counts = np.zeros((X_tr.shape[0], Y_tr.shape[1]), dtype=np.int32)
        te_counts = np.zeros((X_te.shape[0], Y_tr.shape[1]), dtype=np.int32)
        previous = 0
        for j, k in enumerate(ks):
            # Counts at k = counts at the previous k + labels of neighbours previous..k-1.
            tr_counts += fold._label_counts(tr_idx[:, previous:k])
            te_counts += fold._label_counts(te_idx[:, previous:k])
            previous = k
            model = _SweptMLkNN(**{**template.get_params(), "k": k})
            model.__dict__.update(
                {
                    key: value
                    for key, value in fold.__dict__.items()
                    if key.endswith("_") or key in ("_single_label", "_binarizer", "_sparse_output")
                }
            )
            model._fit_probabilities(Y_tr, tr_counts)
            model._sweep_counts = te_counts
            for name, scorer in scorers.items():
                scores[name][f, j] = scorer(model, X_te, y_te)

    results = {
        "param_k": np.asarray(ks),
        "params": [{"k": k} for k in ks],
        "mean_search_time": np.full(len(ks), float(np.mean(search_times))),
    }
    for name, table in scores.items():
        for f in range(len(folds)):
            results[f"split{f}_test_{name}"] = table[f]
        results[f"mean_test_{name}"] = table.mean(axis=0)
        results[f"std_test_{name}"] = table.std(axis=0)
        # rank 1 = best; equal means share the lower rank, as in GridSearchCV
        order = -table.mean(axis=0)
        results[f"rank_test_{name}"] = np.searchsorted(np.sort(order), order) + 1
    return results


def _take(data, rows):
    # lists, arrays, sparse matrices and DataFrames alike
    return _safe_indexing(data, rows)


class MLkNNCV(MetaEstimatorMixin, MultiOutputMixin, ClassifierMixin, BaseEstimator):
    """ML-kNN with k chosen by cross-validation, every k scored from one search per fold.

    A drop-in for ``GridSearchCV(MLkNN(), {"k": k_values})`` that gives the same scores
    (see :func:`ksweep`) for about the cost of one fit, then refits ML-kNN at the best k.

    Parameters
    ----------
    k_values : iterable of int, default=SEED_K_VALUES
    cv, scoring
        As in :func:`ksweep`.
    refit : str, optional
        The score that picks k (higher is better, sklearn's convention: Hamming loss is
        scored negated). Default: ``"hamming_loss"`` for multi-label ``y`` (seed 000 ranks
        by it), ``"accuracy"`` for a label vector.
    s, metric, backend, algorithm, algorithm_params, batch_size, n_jobs, compat, on_empty_label
        As in :class:`posterml.MLkNN`.

    Attributes
    ----------
    cv_results_ : dict
    best_k_, best_index_ : int
    best_score_ : float
    best_estimator_ : MLkNN
        Refitted on the whole data at ``best_k_``.

    Examples
    --------
    >>> import numpy as np
    >>> from posterml import MLkNNCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(150, 4))
    >>> Y = (X[:, :2] > 0).astype(int)
    >>> model = MLkNNCV(k_values=[1, 3, 9, 27], cv=3).fit(X, Y)
    >>> model.best_k_ in (1, 3, 9, 27)
    True
    """

    _parameter_constraints: dict = {
        "k_values": ["array-like"],
        "cv": ["cv_object"],
        "scoring": [str, list, tuple, dict, None],
        "refit": [str, None],
        "s": [Interval(Real, 0, None, closed="neither")],
        "metric": [StrOptions({"euclidean", "cosine", "inner_product"})],
        "backend": [StrOptions(set(BACKENDS))],
        "algorithm": [StrOptions(set(ALGORITHMS))],
        "algorithm_params": [dict, None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [Integral, None],
        "compat": [StrOptions({"paper", "skmultilearn"})],
        "on_empty_label": [StrOptions({"raise", "warn"})],
    }

    def __init__(
        self,
        k_values=SEED_K_VALUES,
        *,
        cv=5,
        scoring=None,
        refit=None,
        s=1.0,
        metric="euclidean",
        backend="auto",
        algorithm="exact",
        algorithm_params=None,
        batch_size=None,
        n_jobs=None,
        compat="paper",
        on_empty_label="raise",
    ):
        self.k_values = k_values
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.s = s
        self.metric = metric
        self.backend = backend
        self.algorithm = algorithm
        self.algorithm_params = algorithm_params
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.compat = compat
        self.on_empty_label = on_empty_label

    def _mlknn_params(self):
        names = ("s", "metric", "backend", "algorithm", "algorithm_params", "batch_size")
        names += ("n_jobs", "compat", "on_empty_label")
        return {name: getattr(self, name) for name in names}

    def fit(self, X, y, groups=None):
        """Sweep ``k_values`` by cross-validation and refit ML-kNN at the best k."""
        self._validate_params()
        probe = MLkNN(**self._mlknn_params())
        probe._validate_fit_data(X, y)
        refit = self.refit or ("accuracy" if probe._single_label else "hamming_loss")
        scoring = self.scoring
        if scoring is not None and refit not in (
            [scoring] if isinstance(scoring, str) else list(scoring)
        ):
            raise ValueError(f"refit={refit!r} is not one of the scores in scoring={scoring!r}")
        self.cv_results_ = ksweep(
            X, y, self.k_values, cv=self.cv, groups=groups, scoring=scoring, **self._mlknn_params()
        )
        key = f"mean_test_{refit}"
        if key not in self.cv_results_:
            names = sorted(k[10:] for k in self.cv_results_ if k.startswith("mean_test_"))
            raise ValueError(f"refit={refit!r} is not a computed score; choose one of {names}")
        self.best_index_ = int(np.argmax(self.cv_results_[key]))
        self.best_k_ = int(self.cv_results_["param_k"][self.best_index_])
        self.best_params_ = {"k": self.best_k_}
        self.best_score_ = float(self.cv_results_[key][self.best_index_])
        self.refit_metric_ = refit
        self.best_estimator_ = MLkNN(k=self.best_k_, **self._mlknn_params()).fit(X, y)
        self.classes_ = self.best_estimator_.classes_
        self.n_features_in_ = self.best_estimator_.n_features_in_
        if hasattr(self.best_estimator_, "feature_names_in_"):
            self.feature_names_in_ = self.best_estimator_.feature_names_in_
        return self

    def predict(self, X):
        """Predict with the refitted best ML-kNN."""
        check_is_fitted(self)
        return self.best_estimator_.predict(X)

    def predict_proba(self, X):
        """Posterior label probabilities of the refitted best ML-kNN."""
        check_is_fitted(self)
        return self.best_estimator_.predict_proba(X)

    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        """Neighbours from the refitted best ML-kNN (see :meth:`posterml.MLkNN.kneighbors`)."""
        check_is_fitted(self)
        return self.best_estimator_.kneighbors(X, n_neighbors, return_distance)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        tags.input_tags.sparse = True
        return tags
