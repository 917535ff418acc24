"""Random oversampling of multi-label data: ML-ROS (Charte et al., 2015), rarest-genre cloning."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import _num_samples

from ._class_weight import _check_indicator, _label_names

__all__ = ["MultilabelRandomOverSampler", "imbalance_ratio_per_label", "mean_imbalance_ratio"]


def _label_counts(Y, genres, name="Y"):
    counts = Y.sum(axis=0, dtype=np.int64)
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        raise ValueError(
            f"label {', '.join(_label_names(empty, genres))} of {name} has no positive sample, "
            "so its imbalance ratio IRLbl = max count / 0 is infinite; drop the column first"
        )
    return counts


@validate_params({"Y": ["array-like", "sparse matrix"]}, prefer_skip_nested_validation=True)
def imbalance_ratio_per_label(Y):
    """IRLbl of every label: ``max_l' count(l') / count(l)`` (Charte et al., 2015, Eq. 1).

    The most frequent label has IRLbl 1; a label ten times rarer has 10.

    Parameters
    ----------
    Y : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_labels)
        Binary indicator matrix. Every label needs at least one positive.

    Returns
    -------
    irlbl : ndarray of shape (n_labels,)

    Examples
    --------
    >>> from posterml.imbalance import imbalance_ratio_per_label
    >>> imbalance_ratio_per_label([[1, 1, 0], [1, 0, 0], [1, 0, 0], [1, 1, 1]]).tolist()
    [1.0, 2.0, 4.0]
    """
    Y, genres = _check_indicator(Y, "Y")
    counts = _label_counts(Y, genres)
    return counts.max() / counts


@validate_params({"Y": ["array-like", "sparse matrix"]}, prefer_skip_nested_validation=True)
def mean_imbalance_ratio(Y):
    """MeanIR: the mean of :func:`imbalance_ratio_per_label` (Charte et al., 2015, Eq. 2).

    Parameters
    ----------
    Y : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_labels)

    Returns
    -------
    float
        ``>= 1``; 1 when every label is equally frequent.

    Examples
    --------
    >>> from posterml.imbalance import mean_imbalance_ratio
    >>> mean_imbalance_ratio([[1, 1, 0], [1, 0, 0], [1, 0, 0], [1, 1, 1]])
    2.3333333333333335
    """
    return float(imbalance_ratio_per_label(Y).mean())


class MultilabelRandomOverSampler(BaseEstimator):
    """Clone movies of rare genres: ML-ROS of Charte et al. (2015), or the N rarest genres.

    ``strategy="mlros"`` follows the ML-ROS algorithm of the paper (Fig. 3):

    1. ``samplesToClone = floor(max_clone_percentage * n_samples)``;
    2. ``MeanIR`` of ``y`` (or ``target_ir`` when given) is the threshold, computed once;
    3. every label with ``IRLbl(l) > MeanIR`` is a minority label; its bag is the original
       rows carrying it;
    4. while clones remain and some bag is left, one round takes each bag in label order,
       clones a uniformly random row of it, and then removes the bag when its label's
       ``IRLbl``, recomputed on the data grown so far (originals plus clones: a clone raises
       the count of every label it carries, the majority label's too), has fallen to
       ``<= MeanIR``.

    One deviation: the paper decrements ``samplesToClone`` inside the round but tests it only
    between rounds, so it may clone up to ``#bags - 1`` rows too many; here a round stops as
    soon as the budget is spent, so at most ``samplesToClone`` rows are cloned.

    ``strategy="least_frequent"`` (seed paper 003) clones the ``n_least_frequent`` rarest
    genres (ties broken towards the lower column) until each reaches the original count of
    the next rarest genre: rounds over these genres, each still short of the target cloning
    a random row carrying it (clones of one genre count for the others they carry), within
    the same budget.

    Clones are drawn from the original rows, with replacement across rounds.

    Parameters
    ----------
    target_ir : float > 1, default=None
        ``"mlros"`` only: the IRLbl threshold that makes a label minority and ends its
        cloning. ``None`` uses the MeanIR of ``y``, as in the paper.
    max_clone_percentage : float > 0 or None, default=0.25
        Budget: at most ``floor(max_clone_percentage * n_samples)`` clones (the paper's
        ``P / 100``; it reports 10 %, 20 % and 30 %). ``None``: no budget, clone until the
        stopping rule holds; ``"mlros"`` stops early, with a warning naming the labels, when
        it cannot hold for any bag left (the clones of the bags left raise another label, such
        as the majority one, at least ``threshold`` times as fast as the bag's own label, so
        its IRLbl never falls to the threshold).
    strategy : {"mlros", "least_frequent"}, default="mlros"
    n_least_frequent : int, default=None
        Number of rarest genres cloned by ``"least_frequent"`` (required there, and below
        the number of label columns).
    random_state : int, RandomState instance or None, default=None
        Seeds the choice of the cloned rows.

    Attributes
    ----------
    sample_indices_ : ndarray of shape (n_samples + n_clones,)
        Index into the original rows of every output row: ``arange(n_samples)`` (the
        originals, in order) followed by the cloned rows in the order they were cloned.
    minority_labels_ : ndarray of int
        The label columns whose rows were cloned from (the initial bags).
    imbalance_ratio_before_, imbalance_ratio_after_ : float
        MeanIR of ``y`` and of the resampled ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> from posterml.imbalance import MultilabelRandomOverSampler, mean_imbalance_ratio
    >>> Y = np.zeros((40, 3), dtype=int)
    >>> Y[:, 0] = 1; Y[:12, 1] = 1; Y[-2:, 2] = 1
    >>> X = np.arange(40.0).reshape(-1, 1)
    >>> ros = MultilabelRandomOverSampler(random_state=0)
    >>> X_res, Y_res = ros.fit_resample(X, Y)
    >>> X_res.shape  # genre 2 (IRLbl 20 > MeanIR 8.11) needed 4 clones: 44/6 <= 8.11
    (44, 1)
    >>> round(ros.imbalance_ratio_before_, 2), round(ros.imbalance_ratio_after_, 2)
    (8.11, 4.0)
    >>> sorted(set(ros.sample_indices_[40:].tolist()))  # only rows of genre 2 are cloned
    [38, 39]
    >>> bool((X_res == X[ros.sample_indices_]).all())
    True

    References
    ----------
    F. Charte, A. J. Rivera, M. J. del Jesus and F. Herrera, "Addressing imbalance in
    multilabel classification: Measures and random resampling algorithms", Neurocomputing
    163, 3-16, 2015.
    """

    _parameter_constraints: dict = {
        "target_ir": [Interval(Real, 1, None, closed="neither"), None],
        "max_clone_percentage": [Interval(Real, 0, None, closed="neither"), None],
        "strategy": [StrOptions({"mlros", "least_frequent"})],
        "n_least_frequent": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        target_ir=None,
        max_clone_percentage=0.25,
        strategy="mlros",
        n_least_frequent=None,
        random_state=None,
    ):
        self.target_ir = target_ir
        self.max_clone_percentage = max_clone_percentage
        self.strategy = strategy
        self.n_least_frequent = n_least_frequent
        self.random_state = random_state

    def fit_resample(self, X, y):
        """Return the original rows followed by the clones.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, ...)
            Anything ``sklearn.utils._safe_indexing`` indexes by row: arrays, sparse
            matrices, DataFrames (clones repeat their original's index label), lists (of
            poster paths, say). Not validated otherwise.
        y : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_labels)
            Binary indicator matrix; every label needs a positive.

        Returns
        -------
        X_res : same type as X, of shape (n_samples + n_clones, ...)
        y_res : same type as y, of shape (n_samples + n_clones, n_labels)
            ``X_res[i]`` and ``y_res[i]`` are row ``sample_indices_[i]`` of ``X`` and ``y``.
        """
        self._validate_params()
        Y, genres = _check_indicator(y, "y")
        n = Y.shape[0]
        n_X = _num_samples(X)
        if n_X != n:
            raise ValueError(f"X and y must have the same number of rows; got {n_X} and {n}")
        counts = _label_counts(Y, genres, "y")
        self.imbalance_ratio_before_ = float((counts.max() / counts).mean())

        if self.max_clone_percentage is None:
            budget = None
        else:
            budget = int(np.floor(self.max_clone_percentage * n + 1e-9))
        rng = check_random_state(self.random_state)
        if self.strategy == "mlros":
            clones, minority = self._mlros(Y, counts, budget, rng, genres)
        else:
            clones, minority = self._least_frequent(Y, counts, budget, rng)

        self.minority_labels_ = np.asarray(minority, dtype=np.intp)
        self.sample_indices_ = np.concatenate([np.arange(n), np.asarray(clones, dtype=np.intp)])
        after = counts + Y[self.sample_indices_[n:]].sum(axis=0, dtype=np.int64)
        self.imbalance_ratio_after_ = float((after.max() / after).mean())
        return _safe_indexing(X, self.sample_indices_), _safe_indexing(y, self.sample_indices_)

    def _mlros(self, Y, counts, budget, rng, genres):
        counts = counts.copy()
        threshold = (
            float((counts.max() / counts).mean()) if self.target_ir is None else self.target_ir
        )
        minority = [j for j in range(Y.shape[1]) if counts.max() / counts[j] > threshold]

        def done(label):
            return counts.max() / counts[label] <= threshold

        stuck = None
        if budget is None:
            # Without a budget only the bags' own stopping rule ends the loop, and it may never
            # hold: when the clones of the bags left raise some label at least `threshold`
            # times as fast as a label's own count, that label's IRLbl tends to a limit above
            # the threshold. Stop once this is so for every bag left (in expectation: a clone
            # of bag j raises the counts by the mean row of bag j).
            mean_row = {j: Y[Y[:, j] == 1].mean(axis=0) for j in minority}

            def stuck(active):
                growth = sum(mean_row[j] for j in active)
                return all(
                    np.any(
                        (counts > threshold * counts[label]) & (growth >= threshold * growth[label])
                    )
                    for label in active
                )

        clones, left = self._clone_rounds(Y, counts, minority, done, budget, rng, stuck)
        if budget is None and left:
            warnings.warn(
                f"ML-ROS stopped after {len(clones)} clones: label "
                f"{', '.join(_label_names(left, genres))} cannot reach IRLbl <= {threshold:.4g} "
                f"by cloning: the clones of the bags left raise another label at least "
                f"{threshold:.4g} times as fast as theirs; give max_clone_percentage to clone "
                "up to a budget instead",
                UserWarning,
                stacklevel=3,
            )
        return clones, minority

    def _least_frequent(self, Y, counts, budget, rng):
        n_labels = Y.shape[1]
        if self.n_least_frequent is None:
            raise ValueError(
                "strategy='least_frequent' needs n_least_frequent, the number of rarest "
                "genres to oversample"
            )
        if self.n_least_frequent >= n_labels:
            raise ValueError(
                f"n_least_frequent={self.n_least_frequent} must be smaller than the number of "
                f"label columns ({n_labels}): the target is the count of the next rarest one"
            )
        order = np.argsort(counts, kind="stable")
        rarest = sorted(order[: self.n_least_frequent].tolist())
        target = counts[order[self.n_least_frequent]]
        counts = counts.copy()

        def done(label):
            return counts[label] >= target

        bags = [j for j in rarest if not done(j)]
        return self._clone_rounds(Y, counts, bags, done, budget, rng)[0], rarest

    @staticmethod
    def _clone_rounds(Y, counts, labels, done, budget, rng, stuck=None):
        """Round-robin cloning; ``counts`` is updated in place, ``done`` reads it.

        Returns the cloned rows and the labels whose bags were left when cloning stopped
        (the budget was spent, or ``stuck(active)`` said no round could finish a bag).
        """
        bags = {j: np.flatnonzero(Y[:, j]) for j in labels}
        active = list(labels)
        clones = []
        while active and (budget is None or len(clones) < budget):
            if stuck is not None and stuck(active):
                break
            for label in list(active):
                if budget is not None and len(clones) >= budget:
                    break
                row = bags[label][rng.randint(bags[label].size)]
                clones.append(row)
                counts += Y[row]
                if done(label):
                    active.remove(label)
        return clones, active
