"""Big data in the app: datasets in a server-side folder, fitted on a Dask cluster, shown as a sample.

Off unless the server sets ``LINREG_DATA_DIR``. Each CSV or Parquet file, and each sub-folder of them, in that
folder is a dataset. Its exact fit, statistics and full-batch training come from the R factor the cluster
computes over every row (linreg_core._dask); the browser only ever receives a uniform random sample of at most
``SAMPLE_ROWS`` rows, for the charts and the table. Names come from the listing, and any path is resolved and
refused unless it lies inside the folder (no '..', no symbolic link out of it).
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from linreg_core import DataError, LinregError, resolve_sources

ENV = "LINREG_DATA_DIR"
SCHEDULER_ENV = "LINREG_DASK_SCHEDULER"  # a running cluster to use instead of the server's own local one
SAMPLE_ROWS = 5_000
_FORMATS = (".csv", ".tsv", ".parquet", ".pq")
_lock = threading.Lock()
_client: Any = None


def data_dir() -> str | None:
    """The server's data folder, or None when the feature is off (the default)."""
    folder = os.environ.get(ENV, "").strip()
    return os.path.realpath(folder) if folder and os.path.isdir(folder) else None


def datasets() -> list[str]:
    """The dataset names in the folder: data files and sub-folders holding data files, sorted."""
    root = data_dir()
    if root is None:
        return []
    names = []
    for entry in sorted(os.listdir(root)):
        path = os.path.join(root, entry)
        if entry.startswith("."):
            continue
        if os.path.isfile(path) and entry.lower().endswith(_FORMATS):
            names.append(entry)
        elif os.path.isdir(path) and any(f.lower().endswith(_FORMATS) for f in os.listdir(path)):
            names.append(entry + "/")
    return names


def files_of(name: str) -> list[str]:
    """The files of dataset ``name``, each checked to lie inside the data folder."""
    root = data_dir()
    if root is None:
        raise DataError("This server has no data folder (set LINREG_DATA_DIR to turn server datasets on).")
    path = os.path.realpath(os.path.join(root, name))
    if os.path.commonpath([root, path]) != root or path == root:
        raise DataError(f"{name!r} is not a dataset of this server's data folder; choose one from the list.")
    with names_not_paths():
        files = resolve_sources(path)
    for f in files:
        if os.path.commonpath([root, os.path.realpath(f)]) != root:
            raise DataError(f"{os.path.basename(f)!r} leads outside the data folder; it was refused.")
        try:
            mode = os.stat(f).st_mode
        except OSError as exc:  # a dangling link, a file without read permission
            raise DataError(f"{os.path.relpath(f, root)!r} cannot be read ({exc.strerror}); the server's data folder "
                            "needs fixing.") from None
        if not stat.S_ISREG(mode):  # a pipe would hold the page until something writes to it
            raise DataError(f"{os.path.relpath(f, root)!r} is not a regular file (a pipe or a device): the server "
                            "reads only files from its data folder.")
    return files


@contextmanager
def names_not_paths() -> Iterator[None]:
    """Errors about the data folder's files name them relative to the folder: the server's paths stay private."""
    try:
        yield
    except LinregError as exc:
        root = data_dir()
        if root and exc.args and isinstance(exc.args[0], str):
            exc.args = (exc.args[0].replace(root + os.sep, "").replace(root, "the data folder"), *exc.args[1:])
        raise


def client() -> Any:
    """The server's Dask client, made once: a running scheduler (LINREG_DASK_SCHEDULER) or an in-process cluster
    of 2 threaded workers (no extra processes in the web server; NumPy's QR releases the GIL)."""
    global _client
    with _lock:
        if _client is None:
            from distributed import Client, LocalCluster

            address = os.environ.get(SCHEDULER_ENV, "").strip()
            if address:
                _client = Client(address, timeout="10s")
            else:
                cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None,
                                       silence_logs=40)
                _client = Client(cluster)
        return _client
