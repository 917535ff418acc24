"""Dask helpers: poster feature extraction and scikit-learn searches on a cluster.

Needs the ``dask`` extra (``pip install 'posterml[dask]'``); importing this module does
not import dask, which is loaded by the functions that use it.

- :func:`extract_features` maps a posterml poster transformer over many posters, one
  Dask task per partition, writing one resumable, atomically committed file set per
  partition; :func:`load_features` reads them back as ``(ids, X)``.
- :func:`joblib_dask_backend` runs joblib-parallel work such as
  ``GridSearchCV(..., n_jobs=-1)`` on the cluster.

Pointing at a cluster
---------------------
On one machine, start a local cluster in the session::

    from distributed import Client, LocalCluster
    client = Client(LocalCluster(n_workers=4, threads_per_worker=1))

For a running cluster, start a scheduler and workers on the machines (every worker must
see the poster files and ``out_dir`` at the same paths, e.g. on a shared file system)::

    dask scheduler                                   # listens on tcp://host:8786
    dask worker tcp://host:8786 --nworkers 4 --nthreads 1
    dask worker tcp://host:8786 --nthreads 1 --resources GPU=1   # on a GPU machine

and connect to it::

    client = Client("tcp://host:8786")
    extract_features(frame, PixelFlattener(size=(64, 64)), "features/pixels64",
                     client=client)
    # CNN embeddings only on the GPU workers, one task per GPU at a time:
    extract_features(frame, CNNEmbedder(device="cuda"), "features/cnn",
                     client=client, gpu_resource="GPU")

    with joblib_dask_backend(client):
        GridSearchCV(MLkNN(), {"k": [1, 3, 5, 9]}, n_jobs=-1).fit(X, Y)

Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``; for numpy-heavy
feature extraction, unsetting it is much faster (see :func:`extract_features`, Notes).

Examples
--------
>>> from posterml.distributed import extract_features, joblib_dask_backend, load_features
>>> callable(extract_features) and callable(load_features) and callable(joblib_dask_backend)
True
"""

from posterml.distributed._extract import extract_features, load_features
from posterml.distributed._search import joblib_dask_backend

__all__ = ["extract_features", "joblib_dask_backend", "load_features"]
