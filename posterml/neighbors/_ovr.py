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
        take the whole vote), as scikit-learn does; the distances of the ``k`` neighbours are
        recomputed exactly in float64 from the float32 features, so a duplicate of a query is
        found at exactly 0. Needs a metric whose distances are
        non-negative: ``metric="inner_product"`` (negated inner products) raises a ValueError.
    metric, backend, algorithm, algorithm_params, batch_size, n_jobs, random_state
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
        random_state=0,
    ):
        self.k = k
        self.weights = weights
        self.metric = metric
        self.backend = backend
        self.algorithm = algorithm
        self.algorithm_params = algorithm_params
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X, y):
        """Index ``X`` and keep the training labels ``y`` (indicator matrix or label vector)."""
        self._validate_params()
        if self.weights == "distance" and self.metric == "inner_product":
            raise ValueError(
                "weights='distance' needs non-negative distances, but metric='inner_product' "
                "ranks by negated inner products (negative for similar vectors, so 1 / distance "
                "is no weight): use metric='cosine' or 'euclidean', or weights='uniform'"
            )
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
        neg = np.empty((n, self.n_labels_))
        for start, stop in self._batches(n):
            if self.weights == "uniform":
                idx = self._search.kneighbors(X[start:stop], self.k, return_distance=False)
                pos[start:stop] = self._label_counts(idx)
                neg[start:stop] = self.k - pos[start:stop]
                continue
            idx = self._search.kneighbors(X[start:stop], self.k, return_distance=False)
            # exact float64 distances: the float32 ones of the search are off by up to
            # eps32 (|q|^2 + max |x|^2), which 1 / distance magnifies for close neighbours and
            # which leaves a duplicate of the query short of distance 0
            dist = self._search.exact_distances(X[start:stop], idx)
            with np.errstate(divide="ignore"):
                w = 1.0 / dist
            exact = np.isinf(w)
            rows = exact.any(axis=1)
            w[rows] = exact[rows]
            labels = self._Y[idx]
            # Both sides summed like scikit-learn's per-class weights: pos / (pos + neg) then
            # stays in [0, 1], which total - pos would not under rounding.
            pos[start:stop] = np.einsum("ij,ijl->il", w, labels)
            neg[start:stop] = np.einsum("ij,ijl->il", w, 1 - labels)
        return pos, neg

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
