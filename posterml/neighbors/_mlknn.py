"""ML-kNN, exactly as Zhang & Zhou (2007) define it."""

import warnings
from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import _NeighborLabelBase


class MLkNN(_NeighborLabelBase):
    """Multi-label k-nearest neighbours (ML-kNN) of Zhang & Zhou (2007).

    For every label ``l``, ML-kNN learns from the training set

    - the smoothed prior ``P(H1_l) = (s + #positives) / (2s + n)``;
    - the likelihoods ``P(E_j | H1_l)`` and ``P(E_j | H0_l)`` that exactly ``j`` of an
      instance's ``k`` nearest *other* training points carry ``l``, for ``j = 0..k``,
      smoothed as ``(s + c[j]) / (s (k + 1) + sum(c))``.

    A query with ``C_l`` neighbours carrying ``l`` gets the posterior
    ``P(H1_l | E_C) = P(H1) P(E_C|H1) / (P(H1) P(E_C|H1) + P(H0) P(E_C|H0))``
    (``predict_proba``) and the maximum a posteriori decision (``predict``).

    Parameters
    ----------
    k : int, default=10
        Number of neighbours.
    s : float in [1e-100, 1e100], default=1.0
        Laplace smoothing (the paper uses 1). The bounds keep every float64 probability
        finite and non-zero: far outside them the joint probabilities of a label underflow
        to 0 (or the denominators overflow) and its posterior would be 0 / 0.
    metric : {"euclidean", "cosine", "inner_product"}, default="euclidean"
    backend : {"auto", "faiss-gpu", "torch-cuda", "faiss-cpu", "numpy", "torch-cpu"}
        Neighbour search backend, see :class:`posterml.neighbors.NeighborSearch`.
    algorithm : {"exact", "ivf", "hnsw"}, default="exact"
        Approximate faiss indexes only when asked for.
    algorithm_params : dict, optional
        Parameters of the approximate index (``nlist``, ``nprobe``, ``M``, ``efSearch``...).
    batch_size : int, optional
        Queries searched at once; bounds the memory of ``fit`` and ``predict``.
    n_jobs : int, optional
        Threads of faiss / BLAS during the search (restored afterwards).
    random_state : int, default=0
        Seed of the IVF k-means (``algorithm="ivf"``); exact search draws nothing, HNSW uses
        faiss' own fixed seed.
    compat : {"paper", "skmultilearn"}, default="paper"
        ``"paper"``: a training instance is not its own neighbour when counting memberships
        (Zhang & Zhou, Fig. 1, step 3) and a label is predicted when its posterior is strictly
        larger than its complement's. ``"skmultilearn"``: reproduce scikit-multilearn, which
        counts each training point among its own ``k`` neighbours (so the counts are biased
        towards the point's own labels) and predicts on ``p_true >= p_false``. With exact
        duplicates the point and its copies tie at distance 0 and, as everywhere, the lower
        training index comes first: for ``k`` smaller than the group of copies a later copy
        counts earlier ones instead of itself (scikit-learn's brute search, which
        scikit-multilearn calls, orders these ties the same way in practice but does not
        document it). The decisions ``>=`` and ``>`` part only where a label's two joint
        probabilities are equal in float64.
    on_empty_label : {"raise", "warn"}, default="raise"
        What to do when a label column has no positive training example (it can then never be
        predicted): raise a ValueError naming it, or warn and go on.

    Attributes
    ----------
    classes_ : ndarray
        ``arange(n_labels)`` for an indicator matrix, else the class labels of ``y``.
    prior_true_, prior_false_ : ndarray of shape (n_labels,)
        ``P(H1_l)`` and ``P(H0_l) = 1 - P(H1_l)``. ``compat="paper"`` computes
        ``P(H0_l) = (s + #negatives) / (2s + n)`` directly: ``1 - P(H1_l)`` cancels to 0 in
        float64 for a label on every training point once ``s < n * 1e-16``.
        ``compat="skmultilearn"`` computes ``1 - prior_true_``, as scikit-multilearn does (so
        such a label's ``P(H0) P(E|H0)`` is 0, its posterior 1 and its log-odds ``+inf``).
    cond_true_, cond_false_ : ndarray of shape (n_labels, k + 1)
        ``P(E_j | H1_l)`` and ``P(E_j | H0_l)``.
    backend_ : str
        The search backend actually used.
    n_features_in_, n_samples_fit_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` had string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from posterml import MLkNN
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 4))
    >>> Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(int)
    >>> model = MLkNN(k=5).fit(X, Y)
    >>> model.predict(X[:3]).shape
    (3, 2)
    >>> bool(((model.predict_proba(X) > 0.5) == Y).mean() > 0.8)
    True

    References
    ----------
    M.-L. Zhang and Z.-H. Zhou, "ML-KNN: A lazy learning approach to multi-label learning",
    Pattern Recognition 40(7), 2038-2048, 2007.
    """

    _parameter_constraints: dict = {
        **_NeighborLabelBase._parameter_constraints,
        # within these bounds no float64 table under- or overflows (see the docstring)
        "s": [Interval(Real, 1e-100, 1e100, closed="both")],
        "compat": [StrOptions({"paper", "skmultilearn"})],
        "on_empty_label": [StrOptions({"raise", "warn"})],
    }

    def __init__(
        self,
        k=10,
        *,
        s=1.0,
        metric="euclidean",
        backend="auto",
        algorithm="exact",
        algorithm_params=None,
        batch_size=None,
        n_jobs=None,
        random_state=0,
        compat="paper",
        on_empty_label="raise",
    ):
        self.k = k
        self.s = s
        self.metric = metric
        self.backend = backend
        self.algorithm = algorithm
        self.algorithm_params = algorithm_params
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.compat = compat
        self.on_empty_label = on_empty_label

    def fit(self, X, y):
        """Index ``X`` and learn the priors and neighbour-count likelihoods from ``y``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        y : array-like or sparse matrix of shape (n_samples, n_labels) or (n_samples,)
            Binary label indicator matrix, or a label vector (binarised one-vs-rest).

        Returns
        -------
        self : MLkNN

        Raises
        ------
        ValueError
            ``k`` larger than the training points each point can see (``n - 1``, or ``n``
            with ``compat="skmultilearn"``): ``"k=... is too large for n training
            samples"``; a label column without positives (``on_empty_label="raise"``); a
            label vector with one class; a feature row too large for the float32 search
            (:meth:`posterml.neighbors.NeighborSearch.fit`).
        """
        self._validate_params()
        X, Y = self._validate_fit_data(X, y)
        include_self = self.compat == "skmultilearn"
        self._check_k(X.shape[0], include_self)
        self._check_empty_labels(Y)
        self._fit_search(X)
        self._Y = Y
        counts = self._training_counts(X, include_self)
        self._fit_probabilities(Y, counts)
        return self

    def _check_empty_labels(self, Y):
        empty = np.flatnonzero(Y.sum(axis=0) == 0)
        if empty.size == 0:
            return
        names = [self.classes_[i] for i in empty] if self._single_label else empty.tolist()
        message = (
            f"label column(s) {names} have no positive training example, so ML-kNN can never "
            "predict them; drop them (e.g. load_av_posters(min_support=...)) or pass "
            "on_empty_label='warn'"
        )
        if self.on_empty_label == "raise" and not self._single_label:
            raise ValueError(message)
        warnings.warn(message, UserWarning, stacklevel=3)

    def _training_counts(self, X, include_self):
        counts = np.empty((X.shape[0], self._Y.shape[1]), dtype=np.int32)
        for start, stop, idx in self._iter_neighbors(
            X, self.k, training=not include_self, ordered=False
        ):
            counts[start:stop] = self._label_counts(idx)
        return counts

    def _fit_probabilities(self, Y, counts):
        self.prior_true_, self.prior_false_, self.cond_true_, self.cond_false_ = _likelihood_tables(
            Y, counts, self.k, float(self.s), complement=self.compat == "skmultilearn"
        )
        self.n_labels_ = Y.shape[1]

    def _joint_batches(self, X):
        """Per query batch: ``(start, stop, P(H1) P(E|H1), P(H0) P(E|H0))`` (float64).

        predict, predict_proba and decision_function fill their output batch by batch, so
        their memory beyond the output is one batch's, whatever the number of queries.
        """
        for start, stop, idx in self._iter_neighbors(X, self.k, training=False, ordered=False):
            yield (start, stop, *self._joint_from_counts(self._label_counts(idx)))

    def _joint(self, X):
        """``P(H1) P(E|H1)`` and ``P(H0) P(E|H0)`` for every query and label, whole (float64)."""
        p_true = np.empty((X.shape[0], self.n_labels_))
        p_false = np.empty_like(p_true)
        for start, stop, batch_true, batch_false in self._joint_batches(X):
            p_true[start:stop], p_false[start:stop] = batch_true, batch_false
        return p_true, p_false

    def _joint_from_counts(self, counts):
        rows = np.arange(self.n_labels_)
        p_true = self.prior_true_ * self.cond_true_[rows, counts]
        # models pickled before prior_false_ existed: the complement, as they computed it
        prior_false = getattr(self, "prior_false_", None)
        prior_false = 1 - self.prior_true_ if prior_false is None else prior_false
        p_false = prior_false * self.cond_false_[rows, counts]
        return p_true, p_false

    def predict_proba(self, X):
        """Posterior probability of each label.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_labels)
            ``P(H1_l | E)`` per label for indicator targets; for a label vector ``y``, the
            posteriors normalised over the classes (shape (n_samples, n_classes)).
        """
        X = self._validate_predict_data(X)
        proba = np.empty((X.shape[0], self.n_labels_))
        for start, stop, p_true, p_false in self._joint_batches(X):
            np.divide(p_true, p_true + p_false, out=proba[start:stop])
        return self._format_proba(proba)

    def predict(self, X):
        """Maximum a posteriori labels.

        Returns
        -------
        Y_pred : ndarray or sparse matrix of shape (n_samples, n_labels), or (n_samples,)
            A 0/1 indicator matrix (sparse CSR when ``y`` was sparse), or class labels when
            ``y`` was a label vector.
        """
        X = self._validate_predict_data(X)
        decide = np.greater_equal if self.compat == "skmultilearn" else np.greater
        positive = np.empty((X.shape[0], self.n_labels_), dtype=np.int64)
        # the posteriors pick the class of a label vector only: no such array otherwise
        score = np.empty(positive.shape) if self._single_label else None
        for start, stop, p_true, p_false in self._joint_batches(X):
            positive[start:stop] = decide(p_true, p_false)
            if score is not None:
                np.divide(p_true, p_true + p_false, out=score[start:stop])
        return self._format_prediction(positive, score)

    def decision_function(self, X):
        """Log posterior odds ``log P(H1|E) - log P(H0|E)`` per label (> 0 means predicted).

        Finite, but with ``compat="skmultilearn"`` ``+inf`` for a label on every training
        point when ``1 - prior_true_`` rounds to 0 (see ``prior_false_``).
        """
        X = self._validate_predict_data(X)
        log_odds = np.empty((X.shape[0], self.n_labels_))
        for start, stop, p_true, p_false in self._joint_batches(X):
            with np.errstate(divide="ignore"):
                np.subtract(np.log(p_true), np.log(p_false), out=log_odds[start:stop])
        if self._single_label and len(self.classes_) == 2:
            return log_odds[:, 0]
        return log_odds


def _likelihood_tables(Y, counts, k, s, complement=False):
    """Priors ``P(H1_l)``, ``P(H0_l)`` and likelihoods ``P(E_j|H1_l)``, ``P(E_j|H0_l)``
    (Zhang & Zhou, Fig. 1).

    Same float64 expressions, in the same order, as scikit-multilearn: compat mode must
    reproduce its ``p_true >= p_false`` decisions bit for bit. ``complement``: ``P(H0_l)``
    as scikit-multilearn's ``1 - P(H1_l)``; else ``(s + #negatives) / (2s + n)``, which does
    not cancel to 0 for a label on every point when ``s`` is tiny.
    """
    n, n_labels = Y.shape
    positives = Y.sum(axis=0, dtype=np.float64)
    prior_true = (s + positives) / (s * 2 + n)
    prior_false = 1 - prior_true if complement else (s + (n - positives)) / (s * 2 + n)
    # c[l, j]: training points with (without) label l of which j neighbours carry l.
    flat = (np.arange(n_labels) * (k + 1) + counts).ravel()
    positive = Y.ravel().astype(bool)
    size = n_labels * (k + 1)
    c_true = np.bincount(flat[positive], minlength=size).reshape(n_labels, k + 1)
    c_false = np.bincount(flat[~positive], minlength=size).reshape(n_labels, k + 1)
    cond_true = (s + c_true) / (s * (k + 1) + c_true.sum(axis=1, keepdims=True))
    cond_false = (s + c_false) / (s * (k + 1) + c_false.sum(axis=1, keepdims=True))
    return prior_true, prior_false, cond_true, cond_false
