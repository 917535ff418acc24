"""The ML-kNN k-sweep in one neighbour search per fold."""

import time
import warnings
from functools import partial

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, MultiOutputMixin
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_is_fitted, indexable

from posterml.neighbors import MLkNN
from posterml.neighbors._search import NeighborSearch, _dense_rows

#: Seed 000's list of k.
SEED_K_VALUES = (1, 3, 5, 7, 10, 15, 20, 30, 40, 50, 100)


class _SweptMLkNN(MLkNN):
    """An MLkNN fitted for one k of a sweep, whose test-fold neighbour counts are known.

    Scorers call ``predict`` / ``predict_proba`` on the test fold as usual; the counts come
    from the fold's single search instead of a new one.
    """

    def _validate_predict_data(self, X):
        return X  # the test fold was validated once, before the sweep

    def _joint_batches(self, X):
        if X.shape[0] != self._sweep_counts.shape[0]:
            raise RuntimeError("a swept model only predicts the test fold it was built for")
        if not hasattr(self, "_sweep_joint"):  # predict and predict_proba share it
            self._sweep_joint = self._joint_from_counts(self._sweep_counts)
        yield (0, X.shape[0], *self._sweep_joint)


def _resolve_scoring(scoring, single_label, n_labels):
    from posterml.metrics import SCORERS, get_scorer

    if scoring is None:
        # every posterml score; the top-3 ones only where there are more than 3 genres
        names = (
            ["accuracy"]
            if single_label
            else [name for name in SCORERS if not (name.startswith("top_k") and n_labels <= 3)]
        )
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


class _SharedSearch:
    """One neighbour search over every row the folds use; each fold's lists are filtered from it.

    Rows are ordered by (distance, index) in a total order, so the k nearest *training* points
    of a fold are exactly the first k of a row's global list that belong to the fold's
    training set, re-sorted by (distance, index within the fold) as a search on the fold
    would have it. The global lists are long enough that this leaves k almost always; a row
    left short (or whose k-th survivor ties with the end of its list) is searched again,
    exactly, within its fold.

    Near-ties are re-ranked on exact float64 distances lazily: a sweep's counts need, for
    every fold and every swept k, the exact *set* of the first k in-fold neighbours, which
    only a near-tie (a gap within float32 rounding) between the k-th and (k+1)-th in-fold
    neighbour can change. Only rows with such a gap at one of the swept places are re-ranked
    (once, for all folds); the others keep their float32 order, which gives the same sets.

    Approximate indexes (``algorithm="ivf"`` / ``"hnsw"``) are built once, on every row the
    folds use, rather than on each fold's training rows; a row's global list is its
    approximate neighbours in that index, and a fold's lists are its in-fold members, ordered
    and re-ranked as above (the rows are read back from the index: the IVF lists, the HNSW
    storage). Rows left short are searched again exactly within the fold.
    """

    def __init__(self, template, X, folds, ks, include_self):
        union = np.unique(np.concatenate([np.concatenate([tr, te]) for tr, te in folds]))
        self.position = np.full(X.shape[0], -1, dtype=np.int64)
        self.position[union] = np.arange(union.size)
        self.n_union = union.size
        self.ks = np.asarray(ks, dtype=np.int64)
        self.k_max = k_max = int(self.ks[-1])
        self.include_self = include_self
        self.approximate = template.algorithm != "exact"
        smallest = min(len(train) for train, _ in folds) / union.size
        self.available = union.size - (0 if include_self else 1)
        # In-fold neighbours among a row's first K are ~Binomial(K, smallest): K leaves
        # k_max + 1 of them (the one past k_max tells a near-tie there) with a 3.5-sigma
        # margin (rows left short are searched again, exactly).
        spread = 3.5 * np.sqrt((k_max + 1) * (1 - smallest)) / smallest
        self.K = min(self.available, int(np.ceil((k_max + 1) / smallest + spread)) + 8)
        searcher = MLkNN(**template.get_params())
        all_rows = union.size == X.shape[0]  # union is sorted and unique: then it is arange
        X_union = X if all_rows else _take(X, union)
        searcher._fit_search(X_union)
        dist = np.empty((union.size, self.K))
        # int32 indices halve the memory traffic of the fold filtering (n < 2**31 rows)
        idx = np.empty((union.size, self.K), dtype=np.int32)
        self.tol = np.empty(union.size)
        for start, stop in searcher._batches(union.size):
            exclude = None if include_self else np.arange(start, stop)
            dist[start:stop], idx[start:stop] = searcher._search._kneighbors_raw(
                X_union[start:stop], self.K, exclude=exclude, ordered=None
            )
            block = _dense_rows(X_union, start, stop, searcher._search._normalize)
            self.tol[start:stop] = searcher._search.tie_tolerance(block)
        self.dist, self.idx = dist, idx
        self.X = X_union
        self.exact = np.zeros(dist.shape, dtype=bool)  # entries recomputed in float64
        self.n_refined = 0
        self.reranked = np.zeros(union.size, dtype=bool)  # rows with a chain re-ranked
        self.union = union
        self._searcher = searcher

    def covers_all_rows(self):
        return self.n_union == self.position.size and np.array_equal(
            self.union, np.arange(self.n_union)
        )

    def _make_exact(self, pos, cols):
        """Re-rank on float64 distances the near-tie chain across column ``cols[j]`` (with
        ``cols[j] - 1``) of row ``pos[j]`` of the global lists.

        A chain is a run of consecutive candidates each within float32 rounding of the next;
        only its members can change places, so only they are recomputed (once: recomputed
        entries are remembered) and only within its columns does the row's order change.
        """
        rows, inv = np.unique(pos, return_inverse=True)
        d, i, e = self.dist[rows], self.idx[rows], self.exact[rows]
        close = (np.diff(d, axis=1) <= self.tol[rows, None]) & np.isfinite(d[:, 1:])
        chain = np.zeros(d.shape, dtype=np.int64)
        np.cumsum(~close, axis=1, out=chain[:, 1:])
        width = d.shape[1] + 1
        chain += np.arange(rows.size)[:, None] * width  # ids unique across rows
        wanted = np.zeros(rows.size * width, dtype=bool)
        wanted[chain[inv, cols]] = True
        member = wanted[chain] & ~e
        r, c = np.nonzero(member)
        if r.size == 0:  # a flagged pair always has a member left to recompute
            raise RuntimeError("near-tie re-ranking made no progress; please report this")
        search = self._searcher._search
        changed = np.unique(r)
        Q = _dense_rows(_take(self.X, rows[changed]), 0, changed.size, search._normalize)
        local = np.empty(rows.size, dtype=np.int64)
        local[changed] = np.arange(changed.size)
        d[r, c] = search._exact_distances(Q, local[r], i[r, c])
        e[r, c] = True
        # The rows are sorted but for the recomputed chains: a stable sort on distance is
        # near-linear there; rows left with equal distances out of index order get a lexsort.
        order = np.argsort(d[changed], axis=1, kind="stable")
        for a in (d, i, e):
            a[changed] = np.take_along_axis(a[changed], order, axis=1)
        dc, ic = d[changed], i[changed]
        bad = np.flatnonzero(((np.diff(dc, axis=1) == 0) & (np.diff(ic, axis=1) < 0)).any(axis=1))
        if bad.size:
            order = np.lexsort((ic[bad], dc[bad]), axis=-1)
            for a in (d, i, e):
                a[changed[bad]] = np.take_along_axis(a[changed[bad]], order, axis=1)
        self.dist[rows], self.idx[rows], self.exact[rows] = d, i, e
        self.reranked[rows[changed]] = True

    @property
    def n_reranked(self):
        return int(self.reranked.sum())

    def _near_ties(self, pos, d_lo, d_hi, e_lo, e_hi, col_hi):
        """Near-ties of rows ``pos`` between the neighbours either side of swept places
        (distances ``d_lo``, ``d_hi``; ``e_*``: already exact) that are not ordered exactly
        yet: their list rows ``j``, rows ``pos[j]`` and the later one's global column."""
        with np.errstate(invalid="ignore"):  # inf - inf past a short row's survivors
            tied = (d_hi - d_lo <= self.tol[pos][:, None]) & ~(e_lo & e_hi)
        j, p = np.nonzero(tied)
        return j, pos[j], col_hi[j, p]

    def fit_estimator(self, estimator, X, y):
        """Fit ``estimator`` (an unfitted MLkNN with k <= k_max) on all rows from the lists.

        The shared index is the one ``estimator.fit(X, y)`` would build. Exact search: the
        training lists are the first k of the global lists. Approximate search: the global
        lists were searched for K neighbours (HNSW: a larger efSearch) and re-ranked in
        float64, which a fit at k does not do, so the estimator searches its training lists
        again in the shared index, as its fit would: it is then that fit's model.
        """
        estimator._validate_params()
        X, Y = estimator._validate_fit_data(X, y)
        estimator._check_k(X.shape[0], self.include_self)
        estimator._check_empty_labels(Y)
        k = estimator.k
        estimator._search = self._searcher._search
        estimator.backend_ = self._searcher.backend_
        estimator.n_samples_fit_ = X.shape[0]
        estimator._Y = Y
        if self.approximate:
            counts = estimator._training_counts(X, self.include_self)
        else:
            every = np.arange(self.n_union)
            d, e = self.dist[:, k - 1 : k + 1], self.exact[:, k - 1 : k + 1]
            col = np.full((self.n_union, 1), k)
            _, rows, cols = self._near_ties(every, d[:, :1], d[:, 1:], e[:, :1], e[:, 1:], col)
            if rows.size:
                self._make_exact(rows, cols)
            counts = estimator._label_counts(self.idx[:, :k])
        estimator._fit_probabilities(Y, counts)
        return estimator

    def fold_lists(self, rows, train, refine):
        """The ``k_max`` nearest training points of ``rows``, as indices into ``train``.

        Exact *sets* at every swept k: rows with a near-tie across a swept place are
        re-ranked in float64 first.
        """
        local = np.full(self.n_union, -1, dtype=np.int32)
        local[self.position[train]] = np.arange(len(train))
        pos = self.position[rows]
        lists, short, j, at, cols = self._filter(pos, local, train, ties=True)
        # Re-ranking a chain orders its members exactly, so one pass settles every tie found;
        # the re-filtered rows are checked again all the same.
        while at.size:
            self._make_exact(at, cols)
            redo = np.unique(j)
            lists[redo], short[redo], j, at, cols = self._filter(pos[redo], local, train, True)
            j = redo[j]
        if short.any():
            which = np.flatnonzero(short)
            lists[which, : self.k_max] = refine(which)
            self.n_refined += which.size
        return lists[:, : self.k_max]

    def _filter(self, pos, local, train, ties=False):
        """First ``k_max + 1`` in-fold candidates of rows ``pos`` (indices into ``train``) and
        which rows must be searched again within the fold; with ``ties``, also the near-ties
        across swept places (see :meth:`_near_ties`)."""
        width, K, n = self.k_max + 1, self.K, pos.size
        cand_l = local[self.idx[pos]]
        ok = cand_l >= 0  # cand_l is -1 off the fold's training rows
        n_ok = ok.sum(axis=1)
        if np.all(np.diff(train) > 0):
            # Fold indices rise with global ones: filtering keeps the (distance, index) order,
            # so each row's list is simply its first survivors.
            keep = ok & (np.cumsum(ok, axis=1, dtype=np.int32) <= width)
            if (n_ok >= width).all():  # each row keeps exactly `width`, in column order
                order = np.flatnonzero(keep).reshape(n, width) - (np.arange(n) * K)[:, None]
            else:
                order = np.argsort(~keep, axis=1, kind="stable")[:, :width]
        else:
            cand_d = self.dist[pos]
            key_d = np.where(ok, cand_d, np.inf)
            key_l = np.where(ok, cand_l, np.iinfo(np.int32).max)
            order = np.lexsort((key_l, key_d), axis=-1)[:, :width]
        lists = np.take_along_axis(cand_l, order, axis=1)
        # Distances only where they are compared: the places either side of each swept k
        # (k - 1 and k, 0-based) and the k_max-th, gathered from the global lists.
        flat = pos[:, None] * K + order
        lo, hi = self.ks - 1, self.ks
        d_lo, d_hi = self.dist.ravel()[flat[:, lo]], self.dist.ravel()[flat[:, hi]]
        # past a row's survivors, `order` points at non-fold columns: those are missing
        d_hi[hi[None, :] >= n_ok[:, None]] = np.inf
        d_lo[lo[None, :] >= n_ok[:, None]] = np.inf
        # rows with fewer than k_max survivors are refined whatever their k-th distance
        short = n_ok < self.k_max
        if self.available > self.K:
            # a neighbour past the list within rounding of the k-th could still come first
            short |= d_lo[:, -1] >= self.dist[pos, -1] - self.tol[pos]
        if not ties:
            return lists, short
        e = self.exact.ravel()
        tied = self._near_ties(pos, d_lo, d_hi, e[flat[:, lo]], e[flat[:, hi]], order[:, hi])
        return (lists, short, *tied)


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
    random_state=0,
    compat="paper",
    on_empty_label="raise",
    search="shared",
):
    """Cross-validate ML-kNN for every k from a single neighbour search.

    ``search="shared"`` (default) searches every row once, at a k large enough for the
    largest k of the sweep in any fold; each fold's training and test neighbour lists are
    that list filtered to the fold's training points. ``search="per-fold"`` searches each
    fold's training and test points once instead (what GridSearchCV does per k and fold).
    Either way every k reuses the prefix of the lists, which is exactly its own k-nearest
    list because ties are broken by index, so the scores equal those of
    ``GridSearchCV(MLkNN(), {"k": k_values}, cv=cv)`` on the same folds. The shared search
    costs about one ML-kNN fit; per-fold costs about ``n_splits * (1 - 1/n_splits)`` fits.

    The one caveat is floating point: a search computes a distance inside a matrix product
    whose blocking depends on the batch, so two neighbours whose float32 distances agree to
    the last bit but one may be ordered differently by a shared and a per-fold search.

    Approximate indexes (``algorithm="ivf"`` or ``"hnsw"``): the shared search builds one
    index on every row the folds use (k-means lists or graph from all of them, test rows
    included; labels are never used) instead of one per fold, so its neighbours, and hence
    the scores, differ from ``GridSearchCV`` with the same approximate parameters, which
    builds an index per fold: each fold's lists are the in-fold members of each row's
    approximate list in the shared index, ordered by (distance, index) with float64
    re-ranking of near-ties as for exact search, and rows the list leaves short are
    searched again exactly within the fold. What holds: the sweep is deterministic
    (identical inputs give identical results), the scores are finite, and an exhaustive
    index (IVF with ``nprobe == nlist``) gives exactly the scores of the exact sweep (and of
    ``GridSearchCV`` over exact ML-kNN). ``search="per-fold"`` builds an index per fold
    instead, as ``GridSearchCV`` does.

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
        dict name -> scorer. ``None``: every posterml scorer (multi-label ``y``; the top-3
        scores only with more than 3 genres, where they mean something) or ``"accuracy"``
        (label vector).
    s, metric, backend, algorithm, algorithm_params, batch_size, n_jobs
        As in :class:`posterml.MLkNN`.
    random_state, compat, on_empty_label
        As in :class:`posterml.MLkNN`.
    search : {"shared", "per-fold"}, default="shared"

    Returns
    -------
    results : dict of ndarray
        ``cv_results_``-like: ``param_k``, ``params``, ``split{i}_test_{name}``,
        ``mean_test_{name}``, ``std_test_{name}``, ``rank_test_{name}``, plus
        ``search_seconds`` (neighbour search time of the whole sweep, shared by all k) and
        ``n_refined`` (fold rows the shared search left short, searched again exactly) and
        ``n_reranked`` (rows whose shared list had a near-tie across a swept k in some fold,
        re-ranked on float64 distances).

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
    return _ksweep(**{name: value for name, value in locals().items()})[0]


def _ksweep(
    X,
    y,
    k_values,
    *,
    cv,
    groups,
    scoring,
    s,
    metric,
    backend,
    algorithm,
    algorithm_params,
    batch_size,
    n_jobs,
    random_state,
    compat,
    on_empty_label,
    search,
):
    """:func:`ksweep`, also returning the shared search (or None) for MLkNNCV's refit."""
    template = MLkNN(
        k=1,
        s=s,
        metric=metric,
        backend=backend,
        algorithm=algorithm,
        algorithm_params=algorithm_params,
        batch_size=batch_size,
        n_jobs=n_jobs,
        random_state=random_state,
        compat=compat,
        on_empty_label=on_empty_label,
    )
    template._validate_params()
    if search not in ("shared", "per-fold"):
        raise ValueError(f"search must be 'shared' or 'per-fold', got {search!r}")
    X, y, groups = indexable(X, y, groups)
    # Validate the whole set once (finite values, consistent lengths, target type).
    X_all, Y_all = template._validate_fit_data(X, y)
    single_label = template._single_label
    # Stratified folds for a label vector, plain KFold for an indicator matrix (as sklearn).
    splitter = check_cv(cv, y if single_label else None, classifier=single_label)
    folds = [(np.asarray(tr), np.asarray(te)) for tr, te in splitter.split(X, y, groups)]
    include_self = compat == "skmultilearn"
    ks = _usable_k(k_values, min(len(train) for train, _ in folds), include_self)
    k_max = ks[-1]
    scorers = _resolve_scoring(scoring, single_label, Y_all.shape[1])
    multimetric = check_scoring(template, scoring=scorers)

    scores = {name: np.empty((len(folds), len(ks))) for name in scorers}
    t0 = time.perf_counter()
    shared = _SharedSearch(template, X_all, folds, ks, include_self) if search == "shared" else None
    search_seconds = time.perf_counter() - t0
    params = template.get_params()
    for f, (train, test) in enumerate(folds):
        y_tr, y_te = _take(y, train), _take(y, test)
        fold = MLkNN(**{**params, "k": k_max})
        t0 = time.perf_counter()
        if shared is None:
            X_tr, Y_tr = fold._validate_fit_data(_take(X, train), y_tr)
            fold._check_empty_labels(Y_tr)
            X_te = fold._validate_predict_data(_take(X, test))
            fold._fit_search(X_tr)
            fold._Y = Y_tr
            tr_idx = np.concatenate(
                [i for *_, i in fold._iter_neighbors(X_tr, k_max, training=not include_self)]
            )
            te_idx = np.concatenate(
                [i for *_, i in fold._iter_neighbors(X_te, k_max, training=False)]
            )
        else:
            # X was validated once for all folds: only the fold's targets are encoded (as a
            # fit on the fold would: a class missing from it is missing from classes_).
            _copy_input_attributes(template, fold)
            Y_tr = fold._encode_targets(y_tr)
            fold._check_empty_labels(Y_tr)
            fold._Y = Y_tr
            # the fold's training rows are copied only if a row must be searched again
            X_te = _take(X_all, test)
            again = partial(_search_in_fold, fold, partial(_take, X_all, train), k_max)
            tr_idx = shared.fold_lists(train, train, partial(again, None, not include_self))
            te_idx = shared.fold_lists(test, train, partial(again, X_te, False))
        search_seconds += time.perf_counter() - t0
        tr_counts = np.zeros((len(train), Y_tr.shape[1]), dtype=np.int32)
        te_counts = np.zeros((X_te.shape[0], Y_tr.shape[1]), dtype=np.int32)
        previous = 0
        for j, k in enumerate(ks):
            # Counts at k = counts at the previous k + labels of neighbours previous..k-1.
            tr_counts += fold._label_counts(tr_idx[:, previous:k])
            te_counts += fold._label_counts(te_idx[:, previous:k])
            previous = k
            model = _SweptMLkNN(**{**params, "k": k})
            model.__dict__.update(
                {
                    key: value
                    for key, value in fold.__dict__.items()
                    if key.endswith("_") or key in ("_single_label", "_binarizer", "_sparse_output")
                }
            )
            model._fit_probabilities(Y_tr, tr_counts)
            model._sweep_counts = te_counts
            # one predict / predict_proba for all the scores, as GridSearchCV does
            for name, value in multimetric(model, X_te, y_te).items():
                scores[name][f, j] = value

    results = {
        "param_k": np.asarray(ks),
        "params": [{"k": k} for k in ks],
        "search_seconds": np.full(len(ks), search_seconds),
        "n_refined": np.full(len(ks), 0 if shared is None else shared.n_refined),
        "n_reranked": np.full(len(ks), 0 if shared is None else shared.n_reranked),
    }
    for name, table in scores.items():
        for f in range(len(folds)):
            results[f"split{f}_test_{name}"] = table[f]
        results[f"mean_test_{name}"] = table.mean(axis=0)
        results[f"std_test_{name}"] = table.std(axis=0)
        # rank 1 = best; equal means share the lower rank, as in GridSearchCV
        order = -table.mean(axis=0)
        results[f"rank_test_{name}"] = np.searchsorted(np.sort(order), order) + 1
    return results, shared


def _copy_input_attributes(source, target):
    for name in ("n_features_in_", "feature_names_in_"):
        if hasattr(source, name):
            setattr(target, name, getattr(source, name))


def _search_in_fold(fold, take_train, k, queries, training, which):
    """Exact search of rows ``which`` of ``queries`` (None: the training rows) among the
    fold's training points; ``take_train()`` gives those (copied on first use).

    Exact for approximate ``fold.algorithm`` too: a fold index of its own (k-means, graph)
    for the few rows a shared search leaves short would cost a fit and still differ from
    the shared index they come from."""
    if not hasattr(fold, "_X_fold"):
        fold._X_fold = take_train()
    if not hasattr(fold, "_search"):
        if fold.algorithm == "exact":
            fold._fit_search(fold._X_fold)
        else:
            fold._search = NeighborSearch(
                metric=fold.metric,
                backend=fold.backend,
                batch_size=fold.batch_size,
                n_jobs=fold.n_jobs,
            ).fit(fold._X_fold)
    queries = fold._X_fold if queries is None else queries
    exclude = which if training else None
    return fold._search.kneighbors(queries[which], k, exclude=exclude, return_distance=False)


def _take(data, rows):
    # lists, arrays, sparse matrices and DataFrames alike
    return _safe_indexing(data, rows)


class MLkNNCV(MetaEstimatorMixin, MultiOutputMixin, ClassifierMixin, BaseEstimator):
    """ML-kNN with k chosen by cross-validation, every k scored from one search per fold.

    A drop-in for ``GridSearchCV(MLkNN(), {"k": k_values})`` that gives the same scores
    (see :func:`ksweep`) for about the cost of one fit, then refits ML-kNN at the best k.
    With an approximate ``algorithm`` the scores come from one index built on all the rows
    (see :func:`ksweep` for what that guarantees); ``best_estimator_`` is still the model of
    ``MLkNN(k=best_k_, ...).fit(X, y)``, with the same index and neighbour tables.

    Parameters
    ----------
    k_values : iterable of int, default=SEED_K_VALUES
    cv, scoring
        As in :func:`ksweep`.
    refit : str, optional
        The score that picks k (higher is better, sklearn's convention: Hamming loss is
        scored negated). Default: ``"hamming_loss"`` for multi-label ``y`` (seed 000 ranks
        by it), ``"accuracy"`` for a label vector.
    s, metric, backend, algorithm, algorithm_params, batch_size, n_jobs
        As in :class:`posterml.MLkNN`.
    random_state, compat, on_empty_label
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
        # every ML-kNN parameter but k, which the sweep chooses
        **{name: rule for name, rule in MLkNN._parameter_constraints.items() if name != "k"},
        "k_values": ["array-like"],
        "cv": ["cv_object"],
        "scoring": [str, list, tuple, dict, None],
        "refit": [str, None],
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
        random_state=0,
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
        self.random_state = random_state
        self.compat = compat
        self.on_empty_label = on_empty_label

    def _mlknn_params(self):
        names = ("s", "metric", "backend", "algorithm", "algorithm_params", "batch_size")
        names += ("n_jobs", "random_state", "compat", "on_empty_label")
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
        self.cv_results_, shared = _ksweep(
            X,
            y,
            self.k_values,
            cv=self.cv,
            groups=groups,
            scoring=scoring,
            search="shared",
            **self._mlknn_params(),
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
        self.best_estimator_ = MLkNN(k=self.best_k_, **self._mlknn_params())
        if shared is not None and shared.covers_all_rows():
            # The shared lists are the full data's own training lists: no second search.
            shared.fit_estimator(self.best_estimator_, X, y)
        else:
            self.best_estimator_.fit(X, y)
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
