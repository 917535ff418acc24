"""Poster feature extraction on a Dask cluster: one task per partition, one file set per task.

Layout of ``out_dir``::

    _manifest.json           what was asked (transformer, inputs hash, partitioning)
    part-00000.npy           features of partition 0 (or part-00000.parquet)
    part-00000.ids.json      ids written, ids skipped with reasons (the commit record)
    ...

A partition counts as done only when its ``.ids.json`` exists and names a data file of the
recorded size: the data file is replaced into place first, the record last, both with
``os.replace`` from a uniquely named temporary file, so a task killed at any point leaves
either nothing or a complete partition (plus an ignored ``.part-*.tmp`` file).
"""

import hashlib
import io
import json
import logging
import os
import re
import uuid
import warnings
from collections import Counter
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils import Bunch
from tqdm.auto import tqdm

from posterml._config import atomic_write as _atomic_write

__all__ = ["extract_features", "load_features"]

logger = logging.getLogger("posterml")

MANIFEST = "_manifest.json"
_MANIFEST_VERSION = 1
_FORMATS = ("npy", "parquet")
# Parameters that change how a transformer runs, never what it returns: a resume may differ.
_RUNTIME_PARAMS = frozenset({"n_jobs", "verbose"})
# Manifest fields that must match for a re-run to resume into the same folder.
_IDENTITY = (
    "transformer_class",
    "transformer_params",
    "on_error",
    "format",
    "n_rows",
    "partition_size",
    "n_partitions",
    "ids_sha256",
    "paths_sha256",
)
MISSING_REASON = "no path given (missing value)"
_CLUSTER_HINT = (
    "start one first, e.g. `from distributed import Client, LocalCluster; "
    "client = Client(LocalCluster())` on this machine, or `client = "
    'Client("tcp://scheduler:8786")` for a running cluster, and pass client=client'
)


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(
            "posterml.distributed needs dask.distributed: pip install 'posterml[dask]'"
        ) from exc
    return distributed


def _get_client(client):
    """``client``, else the current default Dask client, else a ValueError saying how."""
    distributed = _import_distributed()
    if client is None:
        try:
            return distributed.get_client()
        except ValueError:
            raise ValueError(f"no Dask client is running: {_CLUSTER_HINT}") from None
    if not isinstance(client, distributed.Client):
        hint = f"; connect with Client({client!r}) and pass that" if isinstance(client, str) else ""
        raise TypeError(
            f"client must be a distributed.Client or None, got {type(client).__name__}{hint}"
        )
    return client


# ------------------------------------------------------------------ inputs


def _json_id(value, index):
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"ids must be str or int, got bool {value!r} at position {index}")
    if isinstance(value, (Integral, np.integer)):
        return int(value)
    if isinstance(value, (str, np.str_)):
        return str(value)
    raise TypeError(
        f"ids must be str or int, got {type(value).__name__} {value!r} at position {index}"
    )


def _check_ids(ids, n):
    if isinstance(ids, (str, bytes)):
        raise TypeError(f"ids must be a sequence of ids, not the string {ids!r}")
    ids = [_json_id(v, i) for i, v in enumerate(list(ids))]
    if len(ids) != n:
        raise ValueError(f"ids has {len(ids)} entries but there are {n} posters")
    if len({type(v) for v in ids}) > 1:
        raise TypeError("ids must be all str or all int, not a mix")
    counts = pd.Series(ids, dtype=object).value_counts()
    duplicated = counts[counts > 1]
    if len(duplicated):
        shown = ", ".join(f"{k!r} (x{v})" for k, v in duplicated.head(10).items())
        more = f" and {len(duplicated) - 10} more" if len(duplicated) > 10 else ""
        raise ValueError(f"ids must be unique; {len(duplicated)} are duplicated: {shown}{more}")
    return ids


def _inputs(posters, ids):
    """(absolute paths or None, JSON-able ids) from a sequence of paths or a DataFrame."""
    from posterml.io import _is_missing, _path_list, _path_str

    paths = _path_list(posters)  # checks a DataFrame's poster_path column
    if isinstance(posters, pd.DataFrame) and ids is None:
        if "imdb_id" not in posters.columns:
            raise ValueError(
                "a DataFrame of posters needs an 'imdb_id' column (or pass ids=); "
                f"got columns {list(posters.columns)}"
            )
        ids = posters["imdb_id"].tolist()
    if not paths:
        raise ValueError("posters is empty: nothing to extract")
    if ids is None:
        ids = range(len(paths))
    ids = _check_ids(ids, len(paths))
    # Workers may run in another folder: resolve relative paths here, on the client.
    paths = [None if _is_missing(p) else os.path.abspath(_path_str(p)) for p in paths]
    return paths, ids


def _check_transformer(transformer, on_error):
    if not (hasattr(transformer, "fit") and hasattr(transformer, "transform")):
        raise TypeError(
            f"transformer must be a scikit-learn transformer, got {type(transformer).__name__}"
        )
    try:
        params = transformer.get_params(deep=False)
    except Exception as exc:
        raise TypeError(
            f"transformer {type(transformer).__name__} has no get_params(): it cannot be "
            "cloned for the workers"
        ) from exc
    if "on_error" in params:
        transformer = clone(transformer).set_params(on_error=on_error)
    elif on_error == "skip":
        raise ValueError(
            f"{type(transformer).__name__} has no on_error parameter, so it cannot skip "
            "unreadable posters; pass on_error='raise'"
        )
    return transformer


def _transformer_identity(transformer):
    cls = type(transformer)
    params = transformer.get_params(deep=False)
    return (
        f"{cls.__module__}.{cls.__qualname__}",
        {k: repr(v) for k, v in sorted(params.items()) if k not in _RUNTIME_PARAMS},
    )


def _sha256_json(values):
    return hashlib.sha256(json.dumps(values, separators=(",", ":")).encode()).hexdigest()


def _positive_int(value, name, allow_none=False):
    if allow_none and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(
            f"{name} must be a positive int{' or None' if allow_none else ''}, got {value!r}"
        )
    return int(value)


# ------------------------------------------------------------------ files


def _part_stem(index):
    return f"part-{index:05d}"


def _data_name(index, fmt):
    return f"{_part_stem(index)}.{fmt}"


def _record_name(index):
    return f"{_part_stem(index)}.ids.json"


def _write_json(path, obj):
    _atomic_write(path, lambda fp: fp.write(json.dumps(obj, indent=1).encode()))


def _read_json(path):
    with open(path, encoding="utf-8") as fp:
        return json.load(fp)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _record_ok(record, index, fmt):
    """Whether a parsed ``.ids.json`` has the fields and types this partition's must have."""
    return (
        isinstance(record, dict)
        and record.get("partition") == index
        and record.get("data_file") == _data_name(index, fmt)
        and _is_int(record.get("data_bytes"))
        and isinstance(record.get("data_sha256"), str)
        and isinstance(record.get("ids"), list)
        and isinstance(record.get("skipped"), list)
        and all(isinstance(row, dict) and "id" in row for row in record["skipped"])
    )


def _read_record(out_dir, index, fmt):
    """The partition's record when the partition is complete, else None.

    Complete: a well-formed record naming a data file of the recorded size.
    """
    try:
        record = _read_json(out_dir / _record_name(index))
    except (OSError, ValueError):
        return None
    if not _record_ok(record, index, fmt):
        return None
    try:
        size = os.path.getsize(out_dir / record["data_file"])
    except OSError:
        return None
    return record if size == record["data_bytes"] else None


def _uncommit_if_damaged(out_dir, index, record):
    """True (after a warning, and deleting the record) if the data file fails its SHA-256.

    Without its record the partition is incomplete, so the task recomputes it instead of
    returning the damaged one as an earlier attempt's result.
    """
    data_path = out_dir / record["data_file"]
    try:
        ok = _sha256_file(data_path) == record["data_sha256"]
    except OSError:
        ok = False
    if ok:
        return False
    message = (
        f"{str(data_path)!r} does not match its record {_record_name(index)} (checksum): "
        f"recomputing partition {index}"
    )
    logger.warning(message)
    warnings.warn(message, UserWarning, stacklevel=3)
    (out_dir / _record_name(index)).unlink(missing_ok=True)
    return True


def _sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fp:
        while chunk := fp.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# The only names extract_features writes (and overwrite=True deletes): a user's own
# "part-notes.json" or ".part-old.tmp" beside them is never touched.
_OWN_FILE = re.compile(
    r"part-\d{5,}\.(?:npy|parquet|ids\.json)"
    r"|\.(?:part-\d{5,}\.(?:npy|parquet|ids\.json)|_manifest\.json)\.[0-9a-f]+\.tmp"
)
_OWN_TMP = re.compile(r"\..*\.tmp")


def _part_files(out_dir):
    """extract_features' partition files and temporary files in ``out_dir``."""
    return [p for p in out_dir.iterdir() if _OWN_FILE.fullmatch(p.name) and not p.is_dir()]


def _foreign_files(out_dir):
    """Entries of ``out_dir`` that extract_features did not write."""
    return sorted(
        p.name for p in out_dir.iterdir() if p.name != MANIFEST and not _OWN_FILE.fullmatch(p.name)
    )


def _remove_stale_tmp(out_dir):
    for p in _part_files(out_dir):
        if _OWN_TMP.fullmatch(p.name):
            p.unlink(missing_ok=True)


# ------------------------------------------------------------------ one partition


def _as_dense(out, name):
    if hasattr(out, "toarray"):
        raise TypeError(f"{name} returned a sparse matrix; extract_features stores dense rows")
    out = out.to_numpy() if isinstance(out, (pd.DataFrame, pd.Series)) else np.asarray(out)
    return out.reshape(-1, 1) if out.ndim == 1 else out


def _feature_names(estimator, n_features):
    try:
        names = [str(v) for v in estimator.get_feature_names_out()]
    except Exception:
        names = None
    if names is None or len(names) != n_features or len(set(names)) != n_features:
        names = [f"x{j}" for j in range(n_features)]
    if "imdb_id" in names:
        raise ValueError("a feature is named 'imdb_id', the id column of the parquet files")
    return names


def _encode(fmt, X, written, estimator):
    """The partition's data file, as bytes."""
    buffer = io.BytesIO()
    if fmt == "npy":
        np.save(buffer, X, allow_pickle=False)
    else:
        frame = pd.DataFrame(X, columns=_feature_names(estimator, X.shape[1]))
        frame.insert(0, "imdb_id", written)
        frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _run_partition(index, paths, ids, transformer, out_dir, fmt, on_error, batch_size):
    """Transform one partition and commit its files; safe to run again or twice at once."""
    out_dir = Path(out_dir)
    record = _read_record(out_dir, index, fmt)
    if record is not None:
        # An earlier attempt of this task (e.g. on a worker that died after it) finished.
        return {**record, "recomputed": False}
    estimator = clone(transformer)
    name = type(estimator).__name__
    # A missing path would make the transformer take the batch for numeric rows.
    present = [p for p in paths if p is not None]
    estimator.fit(present or paths)
    blocks, written, skipped = [], [], []
    for start in range(0, len(paths), batch_size):
        positions = []
        for i in range(start, min(start + batch_size, len(paths))):
            if paths[i] is None:
                skipped.append({"id": ids[i], "path": None, "reason": MISSING_REASON})
            else:
                positions.append(i)
        if not positions:
            continue
        batch = [paths[i] for i in positions]
        out = _as_dense(estimator.transform(batch), name)
        valid = getattr(estimator, "valid_mask_", None)
        valid = np.ones(len(batch), bool) if valid is None else np.asarray(valid, bool)
        if len(valid) != len(batch) or int(valid.sum()) != len(out):
            raise ValueError(
                f"{name} returned {len(out)} rows for {len(batch)} posters but its "
                f"valid_mask_ keeps {int(valid.sum())}: cannot tell which ids they belong to"
            )
        report = getattr(estimator, "skipped_", None)
        reasons = {}
        if report is not None and len(report):
            reasons = dict(zip(report["index"].astype(int), report["reason"]))
        for j in np.flatnonzero(~valid):
            reason = str(reasons.get(int(j), "skipped by the transformer"))
            skipped.append({"id": ids[positions[j]], "path": batch[j], "reason": reason})
        written.extend(ids[positions[j]] for j in np.flatnonzero(valid))
        blocks.append(out)
    # Rows keep input order; the skip report is in input order too.
    order = {v: k for k, v in enumerate(ids)}
    skipped.sort(key=lambda row: order[row["id"]])
    widths = {b.shape[1:] for b in blocks if len(b)}
    if len(widths) > 1:
        raise ValueError(f"{name} returned rows of different shapes in one partition: {widths}")
    nonempty = [b for b in blocks if len(b)] or blocks[:1]
    if not nonempty:
        X = np.empty((0, 0), np.float32)
    else:
        X = np.concatenate(nonempty) if len(nonempty) > 1 else nonempty[0]
    data = _encode(fmt, X, written, estimator)
    data_file = _data_name(index, fmt)
    _atomic_write(out_dir / data_file, lambda fp: fp.write(data))
    record = {
        "partition": index,
        "data_file": data_file,
        "data_bytes": len(data),
        "data_sha256": hashlib.sha256(data).hexdigest(),
        "shape": list(X.shape),
        "dtype": str(X.dtype),
        "ids": written,
        "skipped": skipped,
    }
    # The record is the commit: written after the data, so it never names missing rows.
    _write_json(out_dir / _record_name(index), record)
    return {**record, "recomputed": True}


# ------------------------------------------------------------------ manifest


def _manifest_mismatch(old, new):
    lines = []
    for key in _IDENTITY:
        if old.get(key) == new[key]:
            continue
        if key == "transformer_params" and isinstance(old.get(key), dict):
            a, b = old[key], new[key]
            for p in sorted(set(a) | set(b)):
                if a.get(p) != b.get(p):
                    lines.append(f"transformer parameter {p}: {a.get(p)} -> {b.get(p)}")
        elif key.endswith("sha256"):
            lines.append(f"{key[:-7]} differ")
        else:
            lines.append(f"{key}: {old.get(key)!r} -> {new[key]!r}")
    return lines


def _manifest_problem(manifest):
    """What makes a parsed manifest unusable (tampered, damaged, newer), or None."""
    if not isinstance(manifest, dict):
        return f"a JSON {type(manifest).__name__}, not an object"
    version = manifest.get("version")
    if not _is_int(version) or version < 1:
        return f"version {version!r}"
    if version > _MANIFEST_VERSION:
        return (
            f"version {version}, written by a newer posterml (this one reads version "
            f"{_MANIFEST_VERSION})"
        )
    if manifest.get("format") not in _FORMATS:
        return f"format {manifest.get('format')!r} is not one of {_FORMATS}"
    numbers = {k: manifest.get(k) for k in ("n_rows", "partition_size", "n_partitions")}
    bad = [f"{k} {v!r}" for k, v in numbers.items() if not _is_int(v) or v < 1]
    if bad:
        return ", ".join(bad)
    if numbers["n_partitions"] != -(-numbers["n_rows"] // numbers["partition_size"]):
        return (
            f"n_partitions {numbers['n_partitions']} does not fit n_rows {numbers['n_rows']} "
            f"and partition_size {numbers['partition_size']}"
        )
    ids = manifest.get("ids")
    if not isinstance(ids, list) or len(ids) != numbers["n_rows"]:
        return f"its ids are not a list of n_rows ({numbers['n_rows']}) ids"
    try:
        same = _sha256_json(ids) == manifest.get("ids_sha256")
    except (TypeError, ValueError):
        same = False
    if not same:
        return "its ids do not match ids_sha256"
    return None


def _read_manifest(path):
    """The manifest at ``path``, or a ValueError naming the file and what is wrong."""
    try:
        manifest = _read_json(path)
    except (OSError, ValueError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    else:
        problem = _manifest_problem(manifest)
    if problem is not None:
        raise ValueError(
            f"{str(path)!r} is not a valid extract_features manifest ({problem}): re-run "
            "extract_features with overwrite=True to start over"
        )
    return manifest


def _prepare_out_dir(out_dir, manifest, overwrite):
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"out_dir {str(out_dir)!r} exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / MANIFEST
    if overwrite:
        for p in _part_files(out_dir):
            p.unlink(missing_ok=True)
        path.unlink(missing_ok=True)
    elif path.exists():
        old = _read_manifest(path)
        mismatch = _manifest_mismatch(old, manifest)
        if mismatch:
            raise ValueError(
                f"{str(out_dir)!r} holds features of a different extraction ("
                + "; ".join(mismatch)
                + "): pass overwrite=True to replace them, or choose another out_dir"
            )
        return
    elif any(p.name.startswith("part-") for p in _part_files(out_dir)):
        raise ValueError(
            f"{str(out_dir)!r} holds part-* files but no {MANIFEST}: pass overwrite=True to "
            "replace them, or choose another out_dir"
        )
    elif foreign := _foreign_files(out_dir):
        shown = ", ".join(repr(n) for n in foreign[:3]) + (" ..." if len(foreign) > 3 else "")
        raise ValueError(
            f"out_dir {str(out_dir)!r} is not empty and is no extract_features output "
            f"({len(foreign)} other entries: {shown}): choose an empty or new folder, or pass "
            "overwrite=True to write beside them (they are left untouched)"
        )
    _write_json(path, manifest)


# ------------------------------------------------------------------ public API


def extract_features(
    posters,
    transformer,
    out_dir,
    *,
    ids=None,
    client=None,
    batch_size=256,
    partition_size=None,
    format="npy",
    on_error="skip",
    gpu_resource=None,
    overwrite=False,
    verbose=False,
):
    """Transform many posters on a Dask cluster, one resumable file set per partition.

    The posters are split by position into partitions of ``partition_size`` rows
    (partition ``i`` holds rows ``[i * P, (i + 1) * P)``). Each partition is one Dask task:
    it clones ``transformer``, fits it on the partition's paths (posterml's poster
    transformers learn nothing from them), transforms them ``batch_size`` at a time and
    writes ``part-0000i.npy`` (or ``.parquet``) and ``part-0000i.ids.json`` into
    ``out_dir``. Partitions already complete there are not recomputed.

    Parameters
    ----------
    posters : sequence of str or path-like, or DataFrame
        Poster paths, or a DataFrame with a ``poster_path`` column (and an ``imdb_id``
        column used as ids unless ``ids`` is given). Relative paths are resolved against
        this process's working directory; the workers must see the same files (and
        ``out_dir``) at the same paths.
    transformer : estimator
        A posterml poster transformer, e.g. ``PixelFlattener(size=(32, 32))``,
        ``DominantColorBrightness()`` or ``CNNEmbedder()``. It is cloned on the workers:
        anything it learned from an earlier ``fit`` is dropped.
    out_dir : str or path-like
        Folder for the partition files and ``_manifest.json`` (created). It must be new,
        empty, or an earlier output of this function: a folder holding other files is
        refused unless ``overwrite=True``.
    ids : sequence of str or int, optional
        One unique id per poster. Default: the DataFrame's ``imdb_id`` column, or the
        positions ``0 .. n-1`` for a sequence of paths.
    client : distributed.Client, optional
        Cluster to run on. Default: the current Dask client (``distributed.get_client()``).
        Not needed when every partition is already complete.
    batch_size : int, default=256
        Posters transformed together inside a task (bounds a task's memory).
    partition_size : int, optional
        Posters per task and per file. Default: ``batch_size``. Changing it changes the
        files, so a resume must use the same value.
    format : {"npy", "parquet"}, default="npy"
        ``"npy"``: one float matrix per partition, ids in the ``.ids.json`` record.
        ``"parquet"``: one table per partition with an ``imdb_id`` column followed by the
        feature columns (needs pyarrow).
    on_error : {"skip", "raise"}, default="skip"
        Set on the transformer. ``"skip"``: unreadable posters are left out and reported
        (``skipped``); ``"raise"``: the first one fails its task and this call.
    gpu_resource : str, optional
        A Dask worker resource name such as ``"GPU"``: every task then asks for
        ``{gpu_resource: 1}`` and runs only on workers started with ``--resources GPU=1``
        (one task per GPU at a time).
    overwrite : bool, default=False
        Delete the partition files and manifest of an earlier, different extraction in
        ``out_dir`` instead of refusing (and write beside other files there). Only the
        names this function writes (``_manifest.json``, ``part-NNNNN.npy``,
        ``part-NNNNN.parquet``, ``part-NNNNN.ids.json`` and their temporary files) are
        ever deleted.
    verbose : bool, default=False
        Show a progress bar over the partitions (when the output is a terminal).

    Returns
    -------
    sklearn.utils.Bunch
        ``n_rows`` (posters given), ``n_written``, ``n_skipped``, ``skipped`` (DataFrame
        with columns ``id``, ``path``, ``reason``, ``partition``), ``n_partitions``,
        ``partitions_done`` (computed by this call), ``partitions_skipped`` (found
        complete and reused), ``out_dir`` (Path). Read the features with
        :func:`load_features`.

    Raises
    ------
    ValueError
        For duplicated ids, an ``out_dir`` holding a different extraction (naming what
        differs), other files, or a damaged manifest, no running Dask client, or invalid
        parameters.
    NotADirectoryError
        If ``out_dir`` is an existing file.
    ImportError
        Without dask.distributed (``pip install 'posterml[dask]'``), or pyarrow for
        ``format="parquet"``.

    Notes
    -----
    Tasks are idempotent: each writes its files under unique temporary names and moves
    them into place with ``os.replace`` (the ``.ids.json`` record last, as the commit),
    and first checks whether an earlier attempt already committed. When a worker dies,
    Dask re-runs its tasks elsewhere (up to ``distributed.scheduler.allowed-failures``
    times); a re-run can neither duplicate nor half-write rows.

    The manifest stores the transformer's class and parameters (except ``n_jobs`` and
    ``verbose``), ``on_error``, ``format``, the partitioning and hashes of the ids and
    paths. A call with the same values resumes; any other is refused unless
    ``overwrite=True``. A resume checks every complete partition's SHA-256 against its
    record and recomputes (with a warning) one damaged on disk.

    Workers also emit the transformer's own per-batch skip warnings and log lines.

    Dask's nanny starts worker processes with ``MALLOC_TRIM_THRESHOLD_=65536``, which on
    glibc also fixes the mmap threshold: numpy-heavy transformers then page-fault every
    large temporary. Here it made ``DominantColorBrightness`` about 2.8 times slower per
    CPU second. Unset it before starting the workers (``dask.config.set({
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None})`` and no such
    variable in the environment), at the cost of workers keeping more freed memory.

    Examples
    --------
    >>> import tempfile, warnings
    >>> from distributed import Client, LocalCluster
    >>> from posterml.datasets import make_posters
    >>> from posterml.distributed import extract_features, load_features
    >>> from posterml.features import PixelFlattener
    >>> data = make_posters(10, tempfile.mkdtemp(), size=(16, 24))
    >>> frame = data.frame
    >>> frame.loc[3, "poster_path"] = "missing.jpg"
    >>> cluster = LocalCluster(n_workers=1, processes=False, dashboard_address=":0")
    >>> client = Client(cluster)
    >>> out = tempfile.mkdtemp()
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     summary = extract_features(frame, PixelFlattener(size=(8, 8)), out,
    ...                                client=client, partition_size=4)
    >>> summary.n_written, summary.n_skipped, summary.n_partitions
    (9, 1, 3)
    >>> summary.skipped[["id", "reason", "partition"]].values.tolist()
    [['syn000004', 'file not found', 0]]
    >>> ids, X = load_features(out)
    >>> X.shape, ids[:3].tolist()
    ((9, 192), ['syn000001', 'syn000002', 'syn000003'])
    >>> Y = data.Y[frame.set_index("imdb_id").index.get_indexer(ids)]  # labels by id
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     again = extract_features(frame, PixelFlattener(size=(8, 8)), out,
    ...                              client=client, partition_size=4)
    >>> again.partitions_done, again.partitions_skipped
    (0, 3)
    >>> client.close(); cluster.close()
    """
    if format not in _FORMATS:
        raise ValueError(f"format must be one of {_FORMATS}, got {format!r}")
    if on_error not in ("skip", "raise"):
        raise ValueError(f"on_error must be 'skip' or 'raise', got {on_error!r}")
    if gpu_resource is not None and not (isinstance(gpu_resource, str) and gpu_resource):
        raise ValueError(f"gpu_resource must be a resource name like 'GPU', got {gpu_resource!r}")
    batch_size = _positive_int(batch_size, "batch_size")
    partition_size = _positive_int(partition_size, "partition_size", allow_none=True)
    partition_size = batch_size if partition_size is None else partition_size
    if format == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError as exc:
            raise ImportError("format='parquet' needs pyarrow: pip install pyarrow") from exc
    paths, ids = _inputs(posters, ids)
    transformer = _check_transformer(transformer, on_error)
    n = len(paths)
    n_partitions = -(-n // partition_size)
    out_dir = Path(os.path.abspath(os.fspath(out_dir)))
    cls_name, params = _transformer_identity(transformer)
    manifest = {
        "version": _MANIFEST_VERSION,
        "transformer_class": cls_name,
        "transformer_params": params,
        "transformer_repr": repr(transformer),
        "on_error": on_error,
        "format": format,
        "n_rows": n,
        "partition_size": partition_size,
        "n_partitions": n_partitions,
        "batch_size": batch_size,
        "ids_sha256": _sha256_json(ids),
        "paths_sha256": _sha256_json(paths),
        "ids": ids,
    }
    _prepare_out_dir(out_dir, manifest, overwrite)

    records, pending = {}, []
    for i in range(n_partitions):
        record = _read_record(out_dir, i, format)
        # Checksums too: a partition damaged on disk is recomputed, not reused.
        if record is None or _uncommit_if_damaged(out_dir, i, record):
            pending.append(i)
        else:
            records[i] = record
    resumed = len(records)
    if pending:
        client = _get_client(client)
        run = uuid.uuid4().hex[:8]
        submit = {"resources": {gpu_resource: 1}} if gpu_resource else {}
        futures = [
            client.submit(
                _run_partition,
                i,
                paths[i * partition_size : (i + 1) * partition_size],
                ids[i * partition_size : (i + 1) * partition_size],
                transformer,
                os.fspath(out_dir),
                format,
                on_error,
                batch_size,
                key=f"posterml-extract-{run}-{_part_stem(i)}",
                **submit,
            )
            for i in pending
        ]
        distributed = _import_distributed()
        progress = tqdm(
            distributed.as_completed(futures),
            total=len(futures),
            disable=None if verbose else True,
            desc="extracting partitions",
            unit="partition",
        )
        try:
            for future in progress:
                record = future.result()
                records[record["partition"]] = record
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        finally:
            progress.close()
        _remove_stale_tmp(out_dir)

    skipped = [
        {**row, "partition": i} for i in range(n_partitions) for row in records[i]["skipped"]
    ]
    skipped = pd.DataFrame(skipped, columns=["id", "path", "reason", "partition"])
    skipped["partition"] = skipped["partition"].astype(np.int64)
    n_written = sum(len(records[i]["ids"]) for i in range(n_partitions))
    from posterml.io import _report_skipped

    _report_skipped(skipped, n, see="the summary's skipped")
    logger.info(
        "extract_features: %d partitions computed, %d reused, in %s",
        n_partitions - resumed,
        resumed,
        out_dir,
    )
    return Bunch(
        n_rows=n,
        n_written=n_written,
        n_skipped=len(skipped),
        skipped=skipped,
        n_partitions=n_partitions,
        partitions_done=n_partitions - resumed,
        partitions_skipped=resumed,
        out_dir=out_dir,
    )


def _load_part(out_dir, index, record, fmt):
    path = out_dir / record["data_file"]
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != record["data_sha256"]:
        raise ValueError(
            f"{str(path)!r} does not match its record {_record_name(index)} (checksum): "
            "re-run extract_features with the same arguments to recompute it"
        )
    try:
        if fmt == "npy":
            X = np.load(io.BytesIO(data), allow_pickle=False)
        else:
            frame = pd.read_parquet(io.BytesIO(data))
            ids = frame["imdb_id"].tolist()
            X = frame.drop(columns="imdb_id").to_numpy()
    except Exception as exc:  # numpy / pyarrow on a file whose record was forged with it
        raise ValueError(
            f"{str(path)!r} is not a readable {fmt} partition ({type(exc).__name__}: {exc})"
        ) from exc
    if fmt == "parquet" and ids != record["ids"]:
        raise ValueError(f"the imdb_id column of {str(path)!r} differs from its record")
    if X.ndim != 2:
        raise ValueError(f"{str(path)!r} holds an array of shape {X.shape}, not rows of features")
    if len(X) != len(record["ids"]):
        raise ValueError(
            f"{str(path)!r} has {len(X)} rows but its record lists {len(record['ids'])} ids"
        )
    return X


def load_features(out_dir):
    """Read what :func:`extract_features` wrote: ids and features in partition order.

    Parameters
    ----------
    out_dir : str or path-like
        The ``out_dir`` of a finished :func:`extract_features` call.

    Returns
    -------
    ids : ndarray, shape (n_written,)
        Id of every row (str or int, as given).
    X : ndarray, shape (n_written, n_features)

    Raises
    ------
    FileNotFoundError
        Without a manifest, or when a partition is incomplete (naming it).
    ValueError
        When the partitions do not hold every id of the manifest exactly once (written or
        skipped), naming the duplicated, missing or unexpected ids, when a file does not
        match its record (SHA-256), or when the manifest is damaged, tampered with (its ids
        no longer match their hash) or written by a newer posterml.

    Examples
    --------
    See :func:`extract_features`.
    """
    out_dir = Path(os.fspath(out_dir))
    manifest_path = out_dir / MANIFEST
    if not manifest_path.is_file():
        raise FileNotFoundError(
            f"{str(manifest_path)!r} does not exist: {str(out_dir)!r} is not an "
            "extract_features output"
        )
    manifest = _read_manifest(manifest_path)
    fmt, size, expected = manifest["format"], manifest["partition_size"], manifest["ids"]
    blocks, all_ids, problems = [], [], []
    for i in range(manifest["n_partitions"]):
        record = _read_record(out_dir, i, fmt)
        if record is None:
            raise FileNotFoundError(
                f"partition {i} in {str(out_dir)!r} is incomplete ({_record_name(i)} or "
                f"{_data_name(i, fmt)} missing or inconsistent): re-run extract_features "
                "with the same arguments to finish it"
            )
        want = expected[i * size : (i + 1) * size]
        got = record["ids"] + [row["id"] for row in record["skipped"]]
        if len(got) != len(want) or set(got) != set(want):
            missing = sorted(set(want) - set(got), key=str)
            extra = sorted(set(got) - set(want), key=str)
            dup = sorted((v for v, c in Counter(got).items() if c > 1), key=str)
            for label, values in (("missing", missing), ("unexpected", extra), ("twice", dup)):
                if values:
                    problems.append(f"partition {i} {label}: {values[:10]}")
        blocks.append(_load_part(out_dir, i, record, fmt))
        all_ids.extend(record["ids"])
    if problems:
        raise ValueError("ids do not match the manifest: " + "; ".join(problems))
    if len(set(all_ids)) != len(all_ids):
        counts = pd.Series(all_ids, dtype=object).value_counts()
        raise ValueError(f"ids written twice: {counts[counts > 1].index.tolist()[:10]}")
    shapes = {b.shape[1:] for b in blocks if len(b)}
    if len(shapes) > 1:
        raise ValueError(f"partitions hold rows of different shapes: {sorted(shapes)}")
    nonempty = [b for b in blocks if len(b)] or [b for b in blocks if b.ndim == 2][:1]
    X = np.concatenate(nonempty) if len(nonempty) > 1 else nonempty[0]
    return np.asarray(all_ids), X
