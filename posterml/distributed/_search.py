"""Run scikit-learn's joblib-parallel searches (``n_jobs``) on a Dask cluster."""

from contextlib import contextmanager

from posterml.distributed._extract import _get_client

__all__ = ["joblib_dask_backend"]


@contextmanager
def joblib_dask_backend(client=None, *, n_jobs=-1, scatter=None, **backend_params):
    """Send joblib work (``GridSearchCV(..., n_jobs=...)`` and friends) to a Dask cluster.

    A thin wrapper over ``joblib.parallel_config(backend="dask", client=client)``, the
    joblib integration of dask.distributed: inside the block, every joblib ``Parallel``
    call that does not name its own backend (scikit-learn's cross-validation fits, grid and
    randomised searches, ``OneVsRestClassifier``, ...) submits its batches as Dask tasks.

    Parameters
    ----------
    client : distributed.Client, optional
        Cluster to use. Default: the current Dask client (``distributed.get_client()``).
    n_jobs : int, default=-1
        Default number of joblib jobs inside the block for calls that leave ``n_jobs``
        unset (``-1``: every thread of the cluster), as ``joblib.parallel_backend("dask")``
        does. An explicit ``n_jobs`` (e.g. ``GridSearchCV(..., n_jobs=4)``) still wins.
    scatter : list, optional
        Large objects (typically ``[X, y]``) sent to every worker once, instead of once
        per task.
    **backend_params
        Passed on to joblib's ``DaskDistributedBackend`` (e.g. ``resources={"GPU": 1}``
        to run every task on GPU workers).

    Yields
    ------
    distributed.Client
        The client in use.

    Raises
    ------
    ValueError
        When no client is given and none is running (the message says how to start one).
    ImportError
        Without dask.distributed (``pip install 'posterml[dask]'``).

    Notes
    -----
    :class:`posterml.MLkNNCV` and :func:`posterml.model_selection.ksweep` score every k
    from one neighbour search per fold, run in threads of the calling process (their
    ``n_jobs``): they work unchanged inside the block but do not use the cluster. To
    spread a k-sweep over a cluster, use ``GridSearchCV(MLkNN(), {"k": ks}, n_jobs=-1)``
    inside the block, which fits one ML-kNN per (k, fold) task.

    Nested joblib calls inside the tasks (an estimator with its own ``n_jobs``) run on the
    worker with joblib's default backend.

    Examples
    --------
    >>> import numpy as np
    >>> from distributed import Client, LocalCluster
    >>> from sklearn.model_selection import GridSearchCV
    >>> from posterml import MLkNN, MLkNNCV
    >>> from posterml.distributed import joblib_dask_backend
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(120, 4))
    >>> Y = (X[:, :3] > 0).astype(int)
    >>> cluster = LocalCluster(n_workers=2, processes=False, threads_per_worker=1,
    ...                        dashboard_address=":0")
    >>> client = Client(cluster)
    >>> with joblib_dask_backend(client):
    ...     search = GridSearchCV(MLkNN(), {"k": [1, 3, 9]}, cv=3, n_jobs=-1).fit(X, Y)
    ...     sweep = MLkNNCV(k_values=[1, 3, 9], cv=3).fit(X, Y)  # threaded, runs here
    >>> local = GridSearchCV(MLkNN(), {"k": [1, 3, 9]}, cv=3).fit(X, Y)
    >>> bool(np.allclose(search.cv_results_["mean_test_score"],
    ...                  local.cv_results_["mean_test_score"]))
    True
    >>> sweep.best_k_ in (1, 3, 9)
    True
    >>> client.close(); cluster.close()
    """
    client = _get_client(client)
    import joblib

    if scatter is not None:
        backend_params["scatter"] = scatter
    with joblib.parallel_config(backend="dask", n_jobs=n_jobs, client=client, **backend_params):
        yield client
