"""One-vs-rest (binary relevance) k-nearest-neighbour vote, sharing one search for all labels."""

import numpy as np
from sklearn.utils._param_validation import StrOptions

from ._base import _NeighborLabelBase


class BinaryRelevanceKNN(_NeighborLabelBase):
    """Independent k-neighbour majority vote per label (seed 000's "OVR" kNN).

    One neighbour search serves every label. Predictions equal scikit-learn's
    ``KNeighborsClassifier`` fitted on the same multi-label ``Y`` (its tie rule too: an even
    split of the vote goes to the negative class), at the speed of the posterml backend.

    Parameters
    ----------
    k : int, default=5
    weights : {"uniform", "distance"}, default="uniform"
        ``"distance"`` weighs each vote by ``1 / distance`` (exact duplicates, at distance 0,
        take the whole vote), as scikit-learn does.
    metric, backend, algorithm, algorithm_params, batch_size, n_jobs
        As in :class:`posterml.MLkNN`.

    Examples
    --------
    >>> import numpy as np
    >>> from posterml import BinaryRelevanceKNN
    >>> X = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]])
    >>> Y = np.array([[1, 0], [1, 0], [1, 1], [0, 1], [0, 1], [0, 1]])
    >>> BinaryRelevanceKNN(k=3).fit(X, Y).predict([[0.05], [5.05]]).tolist()
    [[1, 0], [0, 1]]
    """

    _parameter_constraints: dict = {
        **_NeighborLabelBase._parameter_constraints,
        "weights": [StrOptions({"uniform", "distance"})],
    }

    def __init__(
        self,
        k=5,
        *,
        weights="uniform",
        metric="euclidean",
        backend="auto",
        algorithm="exact",
        algorithm_params=None,
        batch_size=None,
        n_jobs=None,
    ):
        self.k = k
        self.weights = weights
        self.metric = metric
        self.backend = backend
        self.algorithm = algorithm
        self.algorithm_params = algorithm_params
        self.batch_size = batch_size
        self.n_jobs = n_jobs

    def fit(self, X, y):
        """Index ``X`` and keep the training labels ``y`` (indicator matrix or label vector)."""
        self._validate_params()
        X, Y = self._validate_fit_data(X, y)
        self._check_k(X.shape[0], include_self=True)
        self._fit_search(X)
        self._Y = Y
        self.n_labels_ = Y.shape[1]
        return self

    def _votes(self, X):
        """Weight of positive and negative votes for every query and label."""
        n = X.shape[0]
        pos = np.empty((n, self.n_labels_))
        total = np.empty((n, 1))
        for start, stop in self._batches(n):
            if self.weights == "uniform":
                idx = self._search.kneighbors(X[start:stop], self.k, return_distance=False)
                pos[start:stop] = self._label_counts(idx)
                total[start:stop] = self.k
                continue
            dist, idx = self._search.kneighbors(X[start:stop], self.k)
            with np.errstate(divide="ignore"):
                w = 1.0 / dist.astype(np.float64)
            exact = np.isinf(w)
            rows = exact.any(axis=1)
            w[rows] = exact[rows]
            pos[start:stop] = np.einsum("ij,ijl->il", w, self._Y[idx])
            total[start:stop] = w.sum(axis=1, keepdims=True)
        return pos, total - pos

    def predict_proba(self, X):
        """Fraction (or distance-weighted fraction) of neighbours carrying each label.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_labels), or (n_samples, n_classes) for a label
            vector ``y`` (rows then sum to 1).
        """
        X = self._validate_predict_data(X)
        pos, neg = self._votes(X)
        return self._format_proba(pos / (pos + neg))

    def predict(self, X):
        """Majority vote per label; an exact tie goes to the negative class, as in sklearn."""
        X = self._validate_predict_data(X)
        pos, neg = self._votes(X)
        return self._format_prediction(pos > neg, pos)
