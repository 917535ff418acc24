"""Multi-label, group-aware data splits by iterative stratification.

A movie can appear in several rows (duplicated ids in ``train.csv``, several posters per
movie): splits are made over unique groups (movie ids), so that no movie lands on both sides
of a split. Each group's label row is the union of its rows' labels, the groups are assigned by
the iterative stratification of Sechidis et al. (2011) as implemented by the
``iterative-stratification`` package (``iterstrat``), and the assignment is mapped back to row
indices.
"""

import numbers

import numpy as np
import pandas as pd
from iterstrat.ml_stratifiers import IterativeStratification
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import _safe_indexing, check_random_state, indexable
from sklearn.utils.validation import check_consistent_length

from posterml.metrics._multilabel import _check_indicator

__all__ = [
    "MultilabelStratifiedGroupKFold",
    "multilabel_train_test_split",
    "train_dev_test_split",
]


# --------------------------------------------------------------------------- helpers
def _group_codes(groups, n_samples):
    """Codes ``0 .. n_groups - 1`` per row, in order of first appearance."""
    if groups is None:
        return np.arange(n_samples), n_samples
    groups = np.asarray(groups)
    if groups.ndim != 1:
        raise ValueError(f"groups must be 1-D (one movie id per row); got shape {groups.shape}")
    if groups.shape[0] != n_samples:
        raise ValueError(f"groups has {groups.shape[0]} entries but Y has {n_samples} rows")
    codes, uniques = pd.factorize(groups, use_na_sentinel=True)
    if (codes < 0).any():
        row = int(np.flatnonzero(codes < 0)[0])
        raise ValueError(f"groups contains a missing value (NaN/None) at row {row}")
    return codes, len(uniques)


def _group_labels(Y, codes, n_groups):
    """A group's label row is the OR of its rows' labels."""
    Yg = np.zeros((n_groups, Y.shape[1]), dtype=bool)
    np.logical_or.at(Yg, codes, Y)
    return Yg


def _stratify(Yg, targets, rng, shuffle=True):
    """Assign each group to a subset with iterstrat, aiming at ``targets`` groups per subset."""
    n_groups = Yg.shape[0]
    targets = np.asarray(targets, dtype=float)
    active = np.flatnonzero(targets > 0)
    order = rng.permutation(n_groups) if shuffle else np.arange(n_groups)
    assigned = IterativeStratification(
        labels=Yg[order], r=targets[active] / targets.sum(), random_state=rng
    )
    subsets = np.empty(n_groups, dtype=np.int64)
    subsets[order] = active[assigned]
    return subsets


def _rebalance(subsets, Yg, ideal, lower, upper):
    """Move groups until every subset holds between ``lower`` and ``upper`` groups.

    iterstrat favours label balance over exact sizes; this repairs the sizes with the moves
    that disturb the per-label balance least: squared deviation from the ideal per-label
    counts, each label weighted by 1/sqrt(frequency). On the real genres this weighting kept
    the mean relative deviation of 1/frequency weighting (rare genres protected) with a smaller
    worst absolute deviation on the common genres.
    """
    n_subsets = len(ideal)
    ideal = np.asarray(ideal, dtype=float)
    lower = np.asarray(lower)
    upper = np.asarray(upper)
    Yf = Yg.astype(float)
    totals = Yf.sum(axis=0)
    label_weight = 1.0 / np.sqrt(np.maximum(totals, 1.0))
    desired = np.outer(ideal / ideal.sum(), totals)
    label_counts = np.zeros((n_subsets, Yg.shape[1]))
    np.add.at(label_counts, subsets, Yf)
    sizes = np.bincount(subsets, minlength=n_subsets)
    subsets = subsets.copy()
    while True:
        over = sizes - upper
        under = lower - sizes
        if not ((over > 0).any() or (under > 0).any()):
            return subsets
        surplus = np.where(sizes > lower, sizes - ideal, -np.inf)
        deficit = np.where(sizes < upper, sizes - ideal, np.inf)
        src = int(np.argmax(over)) if (over > 0).any() else int(np.argmax(surplus))
        dst = int(np.argmax(under)) if (under > 0).any() else int(np.argmin(deficit))
        excess = label_counts - desired
        # Change of the weighted squared deviation when one group moves src -> dst.
        step = label_weight * (2.0 + 2.0 * (excess[dst] - excess[src]))
        candidates = np.flatnonzero(subsets == src)
        moved = candidates[int(np.argmin(Yf[candidates] @ step))]
        subsets[moved] = dst
        label_counts[src] -= Yf[moved]
        label_counts[dst] += Yf[moved]
        sizes[src] -= 1
        sizes[dst] += 1


def _prepare(Y, groups):
    Y = _check_indicator(Y, "Y")
    codes, n_groups = _group_codes(groups, Y.shape[0])
    return Y, codes, _group_labels(Y, codes, n_groups)


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _rows_of(subsets_of_groups, codes, subset):
    return np.flatnonzero(subsets_of_groups[codes] == subset)


# --------------------------------------------------------------------------- k-fold
class MultilabelStratifiedGroupKFold(BaseCrossValidator):
    """K-fold cross-validator, iteratively stratified on multi-label targets, by group.

    The folds keep each genre's share close to its overall share (Sechidis et al. 2011, via
    ``iterstrat``) and never split a group (movie id): all rows of a movie are in the same
    test fold. Usable as ``cv=`` in ``GridSearchCV`` and ``cross_validate`` (pass ``groups``
    to ``fit``; with metadata routing enabled, ``groups`` is requested by default).

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2 and at most the number of unique groups.
    shuffle : bool, default=True
        Whether to shuffle the groups before stratifying. Without shuffling, groups are taken
        in order of first appearance.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling and iterstrat's random tie-breaking; unlike ``KFold`` it is used
        even when ``shuffle=False``. Pass an int for reproducible folds.

    Notes
    -----
    A group's label row is the union (logical OR) of its rows' labels. Fold sizes follow
    iterstrat and may differ by a few groups; a fold that iterstrat leaves empty receives the
    group whose move disturbs the label balance least. ``groups=None`` makes every row its
    own group.

    Examples
    --------
    >>> import numpy as np
    >>> from posterml.model_selection import MultilabelStratifiedGroupKFold
    >>> Y = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [1, 1], [1, 1], [1, 0], [0, 1]])
    >>> movie_ids = ["a", "a", "b", "c", "d", "e", "f", "g"]
    >>> cv = MultilabelStratifiedGroupKFold(n_splits=2, random_state=0)
    >>> for train, test in cv.split(np.zeros((8, 1)), Y, groups=movie_ids):
    ...     assert not set(np.take(movie_ids, train)) & set(np.take(movie_ids, test))
    >>> cv.get_n_splits()
    2
    """

    # Like sklearn's GroupKFold: ask for ``groups`` when metadata routing is enabled.
    __metadata_request__split = {"groups": True}

    def __init__(self, n_splits=5, *, shuffle=True, random_state=None):
        if not _is_int(n_splits):
            raise TypeError(f"n_splits must be an integer; got {n_splits!r}")
        if n_splits < 2:
            raise ValueError(f"n_splits must be at least 2; got {n_splits}")
        if not isinstance(shuffle, bool | np.bool_):
            raise TypeError(f"shuffle must be True or False; got {shuffle!r}")
        self.n_splits = int(n_splits)
        self.shuffle = shuffle
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None):
        """Return the number of splits, ``n_splits``.

        Parameters
        ----------
        X, y, groups : object
            Ignored, present for API compatibility.

        Returns
        -------
        int
        """
        return self.n_splits

    def _test_folds(self, y, groups):
        """Fold number of each row."""
        if y is None:
            raise ValueError(
                "MultilabelStratifiedGroupKFold needs y, the (n_samples, n_labels) "
                "indicator matrix, to stratify"
            )
        Y, codes, Yg = _prepare(y, groups)
        n_groups = Yg.shape[0]
        if self.n_splits > n_groups:
            raise ValueError(
                f"n_splits={self.n_splits} is greater than the number of unique groups "
                f"({n_groups}); every fold needs at least one group"
            )
        rng = check_random_state(self.random_state)
        ideal = np.full(self.n_splits, n_groups / self.n_splits)
        folds = _stratify(Yg, ideal, rng, shuffle=self.shuffle)
        folds = _rebalance(folds, Yg, ideal, lower=1, upper=n_groups)
        return folds[codes]

    def _iter_test_masks(self, X=None, y=None, groups=None):
        folds = self._test_folds(y, groups)
        for fold in range(self.n_splits):
            yield folds == fold

    def split(self, X, y, groups=None):
        """Generate train and test row indices for each fold.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; only its length is used.
        y : {array-like, sparse matrix} of shape (n_samples, n_labels)
            Binary label indicator matrix to stratify on.
        groups : array-like of shape (n_samples,), default=None
            Group (movie id) of each row; ``None`` makes every row its own group.

        Yields
        ------
        train : ndarray
            Training row indices of the split.
        test : ndarray
            Test row indices of the split.
        """
        X, y, groups = indexable(X, y, groups)
        check_consistent_length(X, y, groups)
        yield from super().split(X, y, groups)


# --------------------------------------------------------------------------- hold-out splits
def _train_test_counts(n_groups, test_size, train_size):
    """Group counts of (train, test) following ``sklearn.model_selection.train_test_split``."""
    if test_size is None and train_size is None:
        test_size = 0.25

    def count(size, name, rounding):
        if size is None:
            return None
        if _is_int(size):
            if not 1 <= size <= n_groups:
                raise ValueError(
                    f"{name}={size} must be between 1 and the number of groups ({n_groups})"
                )
            return int(size)
        if _is_real(size):
            if not 0 < size < 1:
                raise ValueError(
                    f"{name}={size} must be a fraction in (0, 1) or an integer count of groups"
                )
            return int(rounding(size * n_groups))
        raise TypeError(f"{name} must be a float, an int or None; got {size!r}")

    n_test = count(test_size, "test_size", np.ceil)
    n_train = count(train_size, "train_size", np.floor)
    if n_test is None:
        n_test = n_groups - n_train
    if n_train is None:
        n_train = n_groups - n_test
    if n_train + n_test > n_groups:
        raise ValueError(
            f"train_size and test_size ask for {n_train} + {n_test} groups but there are only "
            f"{n_groups} unique groups"
        )
    if n_train < 1 or n_test < 1:
        raise ValueError(
            f"with {n_groups} groups, test_size={test_size} and train_size={train_size} leave "
            f"an empty set (train {n_train}, test {n_test} groups)"
        )
    return n_train, n_test


def _exact_split(Yg, targets, random_state):
    """Groups' subset numbers, with exactly ``targets[i]`` groups in subset ``i``."""
    targets = np.asarray(targets, dtype=np.int64)
    rng = check_random_state(random_state)
    subsets = _stratify(Yg, targets, rng)
    return _rebalance(subsets, Yg, targets, lower=targets, upper=targets)


def multilabel_train_test_split(
    *arrays, Y, test_size=None, train_size=None, groups=None, random_state=None
):
    """Split arrays and ``Y`` into train and test sets, stratified on ``Y``, by group.

    The multi-label, group-aware counterpart of ``sklearn.model_selection.train_test_split``:
    each genre keeps about its overall share in both sets and no group (movie id) is split.

    Parameters
    ----------
    *arrays : sequence of indexables
        Arrays with as many rows as ``Y`` (lists, numpy arrays, scipy sparse matrices, pandas
        objects) to split alongside ``Y``.
    Y : {array-like, sparse matrix} of shape (n_samples, n_labels)
        Binary label indicator matrix; it is stratified on and also split.
    test_size : float or int, default=None
        Fraction of the groups (float in (0, 1)) or number of groups (int) in the test set.
        When both sizes are ``None`` it is 0.25.
    train_size : float or int, default=None
        Same for the train set; ``None`` means the complement of ``test_size``.
    groups : array-like of shape (n_samples,), default=None
        Group (movie id) of each row; ``None`` makes every row its own group.
    random_state : int, RandomState instance or None, default=None
        Pass an int for a reproducible split.

    Returns
    -------
    splitting : list
        ``[a_train, a_test for a in arrays] + [Y_train, Y_test]``; each keeps its input type.
        Sizes are exact in groups (and in rows when every group has one row).

    Examples
    --------
    >>> import numpy as np
    >>> from posterml.model_selection import multilabel_train_test_split
    >>> X = np.arange(20).reshape(10, 2)
    >>> Y = np.array([[1, 0], [0, 1], [1, 1], [1, 0], [0, 1]] * 2)
    >>> X_train, X_test, Y_train, Y_test = multilabel_train_test_split(
    ...     X, Y=Y, test_size=0.2, random_state=0)
    >>> X_train.shape, Y_test.shape
    ((8, 2), (2, 2))
    """
    Y_checked, codes, Yg = _prepare(Y, groups)
    arrays = indexable(*arrays)
    n_samples = Y_checked.shape[0]
    for position, array in enumerate(arrays):
        n_rows = array.shape[0] if hasattr(array, "shape") else len(array)
        if n_rows != n_samples:
            raise ValueError(f"array {position} has {n_rows} rows but Y has {n_samples}")
    n_groups = Yg.shape[0]
    n_train, n_test = _train_test_counts(n_groups, test_size, train_size)
    subsets = _exact_split(Yg, [n_train, n_test, n_groups - n_train - n_test], random_state)
    train = _rows_of(subsets, codes, 0)
    test = _rows_of(subsets, codes, 1)
    result = []
    for array in (*arrays, Y):
        result.extend((_safe_indexing(array, train), _safe_indexing(array, test)))
    return result


def _subset_counts(sizes, n_groups):
    sizes = tuple(sizes)
    if len(sizes) != 3:
        raise ValueError(f"sizes must give (train, dev, test); got {len(sizes)} values: {sizes}")
    if all(_is_int(s) for s in sizes):
        counts = np.array(sizes, dtype=np.int64)
        if (counts < 0).any():
            raise ValueError(f"sizes must be non-negative; got {sizes}")
        if counts.sum() > n_groups:
            raise ValueError(
                f"sizes {sizes} ask for {counts.sum()} movies but there are only {n_groups} "
                "unique groups"
            )
    elif all((_is_real(s) and not _is_int(s)) or (_is_int(s) and s == 0) for s in sizes):
        fractions = np.array(sizes, dtype=float)
        if (fractions < 0).any() or (fractions > 1).any():
            raise ValueError(
                f"fractional sizes must lie in [0, 1]; got {sizes} (pass integers for counts)"
            )
        if fractions.sum() > 1 + 1e-9:
            raise ValueError(f"fractional sizes must sum to at most 1; got {fractions.sum():g}")
        # Largest-remainder rounding over (train, dev, test, unused) uses every group exactly.
        shares = np.append(fractions, max(0.0, 1 - fractions.sum())) * n_groups
        counts = np.floor(shares).astype(np.int64)
        remainder = n_groups - counts.sum()
        counts[np.argsort(-(shares - counts), kind="stable")[:remainder]] += 1
        counts = counts[:3]
        empty = [
            name for name, f, c in zip(("train", "dev", "test"), fractions, counts) if f and not c
        ]
        if empty:
            raise ValueError(
                f"sizes {sizes} leave the {' and '.join(empty)} set empty with only {n_groups} "
                "groups"
            )
    else:
        raise TypeError(
            f"sizes must be three fractions (floats) or three counts (ints), not a mix; got {sizes}"
        )
    if counts.sum() == 0:
        raise ValueError(f"sizes {sizes} select no movie at all")
    return counts


def train_dev_test_split(Y, sizes=(0.8, 0.1, 0.1), *, groups=None, random_state=None):
    """Row indices of a train, a development and a test set, stratified on ``Y``, by group.

    Parameters
    ----------
    Y : {array-like, sparse matrix} of shape (n_samples, n_labels)
        Binary label indicator matrix.
    sizes : tuple of three floats or three ints, default=(0.8, 0.1, 0.1)
        Fractions of the groups (summing to at most 1) or absolute numbers of groups (movies),
        e.g. ``(1600, 200, 200)`` for seed 000's split drawn from a bigger set. Groups not
        needed are left out of all three sets. Fractions are rounded so that the counts sum to
        the number of groups when the fractions sum to 1.
    groups : array-like of shape (n_samples,), default=None
        Group (movie id) of each row; ``None`` makes every row its own group.
    random_state : int, RandomState instance or None, default=None
        Pass an int for a reproducible split.

    Returns
    -------
    train, dev, test : ndarray of int
        Sorted row indices into ``Y``; disjoint, never splitting a group, holding exactly the
        requested numbers of groups.

    Examples
    --------
    >>> import numpy as np
    >>> from posterml.model_selection import train_dev_test_split
    >>> rng = np.random.default_rng(0)
    >>> Y = (rng.random((100, 4)) < 0.3).astype(int)
    >>> train, dev, test = train_dev_test_split(Y, (60, 20, 10), random_state=0)
    >>> len(train), len(dev), len(test)
    (60, 20, 10)
    """
    _, codes, Yg = _prepare(Y, groups)
    n_groups = Yg.shape[0]
    counts = _subset_counts(sizes, n_groups)
    subsets = _exact_split(Yg, [*counts, n_groups - counts.sum()], random_state)
    return tuple(_rows_of(subsets, codes, i) for i in range(3))
