"""Shared plumbing of the neighbour-vote classifiers: validation, search, label counting."""

from numbers import Integral

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, MultiOutputMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from posterml._targets import encode_label_targets, format_prediction, format_proba

from ._search import ALGORITHMS, BACKENDS, NeighborSearch, _is_disk_backed

_DEFAULT_BATCH = 8192


def _check_zero_one(y):
    Y = y.toarray() if sparse.issparse(y) else np.asarray(y)
    values = np.unique(Y)
    if not np.isin(values, (0, 1)).all():
        raise ValueError(
            f"the label indicator matrix y must hold only 0 and 1, found values {values.tolist()}"
        )
    return Y


class _NeighborLabelBase(MultiOutputMixin, ClassifierMixin, BaseEstimator):
    """Base of MLkNN and BinaryRelevanceKNN (not public).

    Targets: a binary indicator matrix (dense or sparse; multi-label output), or a 1-D vector
    of class labels (binarised one-vs-rest internally; single-label output).
    """

    _parameter_constraints: dict = {
        "k": [Interval(Integral, 1, None, closed="left")],
        "metric": [StrOptions({"euclidean", "cosine", "inner_product"})],
        "backend": [StrOptions(set(BACKENDS))],
        "algorithm": [StrOptions(set(ALGORITHMS))],
        "algorithm_params": [dict, None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [Integral, None],
        "random_state": [Interval(Integral, 0, 2**31 - 1, closed="both")],
    }

    # ------------------------------------------------------------------ fitting helpers
    def _validate_fit_data(self, X, y):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None: give "
                "a label indicator matrix or a label vector"
            )
        # An exact search of a memmap checks finiteness block by block and names the bad
        # row (NeighborSearch.fit); sklearn's check would scan it whole and name nothing.
        out_of_core = getattr(self, "algorithm", "exact") == "exact" and _is_disk_backed(X)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=[np.float32, np.float64],
            multi_output=True,
            y_numeric=False,
            ensure_all_finite=not out_of_core,
        )
        Y = self._encode_targets(y)
        return X, Y

    def _encode_targets(self, y):
        return encode_label_targets(self, y, _check_zero_one)

    def _check_k(self, n_samples, include_self):
        available = n_samples if include_self else n_samples - 1
        if self.k > available:
            raise ValueError(
                f"k={self.k} is too large for {n_samples} training samples: each training "
                f"point's neighbours are the {available} "
                + ("points" if include_self else "other points")
                + f"; use k <= {available} or add data"
            )

    def _fit_search(self, X):
        self._search = NeighborSearch(
            metric=self.metric,
            backend=self.backend,
            algorithm=self.algorithm,
            algorithm_params=self.algorithm_params,
            batch_size=self.batch_size,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
        ).fit(X)
        self.backend_ = self._search.backend_
        self.n_samples_fit_ = X.shape[0]

    def _batches(self, n):
        step = self.batch_size or _DEFAULT_BATCH
        for start in range(0, n, step):
            yield start, min(n, start + step)

    def _iter_neighbors(self, X, k, *, training, ordered=True):
        """Yield ``(start, stop, indices)`` per query batch; ``training`` excludes each row itself.

        Every search of fit, predict and the k-sweep goes through here, so that they see the
        same batches and therefore bit-identical distances.
        """
        for start, stop in self._batches(X.shape[0]):
            exclude = np.arange(start, stop) if training else None
            idx = self._search.kneighbors(
                X[start:stop], k, exclude=exclude, return_distance=False, _ordered=ordered
            )
            yield start, stop, idx

    def _label_counts(self, idx, Y=None):
        """Per query row, how many of its neighbours ``idx`` carry each label (int32)."""
        Y = self._Y if Y is None else Y
        n, k = idx.shape
        adjacency = sparse.csr_matrix(
            (np.ones(n * k, dtype=np.int32), idx.ravel(), np.arange(0, n * k + 1, k)),
            shape=(n, Y.shape[0]),
        )
        return np.asarray(adjacency @ Y, dtype=np.int32)

    # ------------------------------------------------------------------ prediction helpers
    def _validate_predict_data(self, X):
        check_is_fitted(self)
        return validate_data(
            self, X, accept_sparse="csr", dtype=[np.float32, np.float64], reset=False
        )

    def _format_prediction(self, positive, score):
        """Turn per-label decisions into sklearn's output for the target type seen in fit."""
        return format_prediction(self, positive, score)

    def _format_proba(self, proba):
        return format_proba(self, proba)

    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        """Find the nearest training points of each query.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_queries, n_features), optional
            Queries. ``None`` means the training points, each excluding itself (by index, so
            a duplicate poster is still found at distance 0).
        n_neighbors : int, optional
            Defaults to ``k``.
        return_distance : bool, default=True

        Returns
        -------
        neigh_dist : ndarray of shape (n_queries, n_neighbors)
            Only present if ``return_distance=True``.
        neigh_ind : ndarray of shape (n_queries, n_neighbors)
            Indices of the training points, ties broken towards the lower index.
        """
        check_is_fitted(self)
        k = self.k if n_neighbors is None else n_neighbors
        if not isinstance(k, Integral) or k < 1:
            raise ValueError(f"n_neighbors must be a positive integer, got {k!r}")
        if X is None:
            return self._search.kneighbors(
                _TrainingRows(self._search),
                k,
                exclude=np.arange(self.n_samples_fit_),
                return_distance=return_distance,
            )
        X = self._validate_predict_data(X)
        return self._search.kneighbors(X, k, return_distance=return_distance)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        tags.input_tags.sparse = True
        return tags


class _TrainingRows:
    """Row-sliceable view of the indexed training vectors, rebuilt block by block."""

    def __init__(self, search):
        self._search = search
        self.shape = (search.n_samples_fit_, search.n_features_in_)

    def __getitem__(self, item):
        return self._search.reconstruct(item.start or 0, item.stop)
