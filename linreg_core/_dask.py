"""The Dask backend: the R factor of [A | y] over a folder or glob of files on a ``distributed`` cluster.

Each file is one partition (read by our reader, so a bad file is named); each partition reduces to its
own R factor and column sums (``_sources.partition_moments``), and those combine pairwise in a tree (QR of stacked
R factors — tall-skinny QR, never the normal equations). Only p² numbers per partition cross the network.
Everything downstream (exact fit, statistics, lr guidance, full-batch training) runs unchanged on that R.
A worker lost mid-way costs a recomputation, not a different answer: every task is a pure function of its file.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from ._design import Design, _check_degree
from ._sources import (
    Partial,
    SourceSpec,
    combine,
    design_from_partial,
    feature_ranges,
    formula_levels,
    formula_template,
    partition_moments,
    read_file,
    resolve_sources,
    with_basis,
)
from .errors import DataError, ParameterError

__all__ = ["dask_design", "dask_sample"]


def _connect(scheduler: str | None, n_workers: int) -> tuple[Any, Any]:
    """(client, cluster or None): a running scheduler, or a local cluster of worker processes started now."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ParameterError("--backend dask needs dask and distributed: pip install 'dask[dataframe]' distributed "
                             "(they are in requirements.txt).") from None
    if scheduler:
        try:
            return Client(scheduler, timeout="10s"), None
        except (OSError, TimeoutError) as exc:
            raise DataError(f"Could not reach the Dask scheduler at {scheduler!r} ({exc}). Check the address "
                            "(e.g. tcp://10.0.0.5:8786) or leave --scheduler out to start a local cluster.") from None
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=40)
    return Client(cluster), cluster


def _reduce(client: Any, files: list[str], target: str | None, features: list[str] | None, degree: int,
            fit_intercept: bool, formula: str | None, na: str, progress: bool) -> tuple[Partial, SourceSpec]:
    template = None
    if formula is not None:
        levels = formula_levels(files, formula, lambda fn, paths: client.gather(client.map(fn, paths, pure=False)))
        template = formula_template(files, formula, na, levels)
    spec = SourceSpec(target or "", features, degree, fit_intercept, na, template)
    if degree > 1 and template is None:  # one cheap pass for the ranges: the polynomial's stable basis
        spec = with_basis(spec, client.gather(client.map(_ranges_of_file, files, spec=spec, pure=False)))
    # One partition per file, each read by our own reader (a bad file is named in the error); the R factors then
    # combine pairwise on the workers. Futures, not a graph built up front: progress is countable.
    parts = client.map(_partial_of_file, files, spec=spec, pure=False)
    if progress:
        _show_progress(parts)
    return _tree(parts, lambda a, b: client.submit(combine, a, b, pure=False)).result(), spec


def dask_sample(data: str | list[str], k: int, client: Any, seed: int = 0) -> tuple[Any, int]:
    """(a uniform random sample of at most ``k`` rows of all the files, the total row count), without ever holding
    more than k rows per file: every row gets an independent uniform key and the k smallest keys win (bottom-k
    sampling), per file on the workers and then once more over the files' winners."""
    import pandas as pd

    files = data if isinstance(data, list) else resolve_sources(data)
    parts = client.gather(client.map(_bottom_k, files, k=k, seed=seed, pure=False))
    total = sum(n for _, n in parts)
    merged = pd.concat([df for df, _ in parts], ignore_index=True).nsmallest(k, "__key__")
    return merged.drop(columns="__key__").reset_index(drop=True), total


def _bottom_k(path: str, k: int, seed: int) -> tuple[Any, int]:
    import zlib

    import numpy as np

    df = read_file(path)
    rng = np.random.default_rng([seed, zlib.crc32(os.path.basename(path).encode())])
    keyed = df.assign(__key__=rng.random(len(df)))
    return keyed.nsmallest(k, "__key__"), len(df)


def _partial_of_file(path: str, spec: SourceSpec) -> Partial:
    return partition_moments(read_file(path), spec, os.path.basename(path))


def _ranges_of_file(path: str, spec: SourceSpec) -> Any:
    return feature_ranges(read_file(path), spec)


def _tree(parts: list[Any], combine_task: Any) -> Any:
    """Pairwise reduction: log₂(partitions) rounds, so no worker ever holds more than two R factors."""
    while len(parts) > 1:
        parts = [combine_task(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i]
                 for i in range(0, len(parts), 2)]
    return parts[0]


def dask_design(
    data: str | list[str],
    target: str | None = None,
    features: list[str] | None = None,
    degree: int = 1,
    fit_intercept: bool = True,
    *,
    formula: str | None = None,
    na: str = "error",
    scheduler: str | None = None,
    n_workers: int = 2,
    progress: bool = False,
    client: Any = None,
) -> Design:
    """The streamed :class:`Design` of a file, folder or glob, computed on a Dask cluster at ``scheduler`` (or a local
    cluster of ``n_workers`` processes started for the call, or a ``client`` already connected). ``progress`` prints
    the tasks done on stderr."""
    _check_degree(degree)
    if na not in ("error", "drop"):
        raise ParameterError(f"The 'na' parameter must be one of 'error', 'drop'. Got {na!r} instead.")
    files = list(data) if isinstance(data, (list, tuple)) else resolve_sources(data)
    if files == ["-"]:
        raise ParameterError("--backend dask reads files a cluster can open, not standard input. Save the data to "
                             "files first.")
    cluster = None
    try:
        if client is None:
            client, cluster = _connect(scheduler, n_workers)
            own = client
        else:
            own = None  # the caller's client (the app keeps one per server): not ours to close
        try:
            if progress:
                where = f"scheduler {client.scheduler.address}" if cluster is None else \
                    f"a local cluster of {n_workers} worker processes"
                board = client.dashboard_link if cluster is None else None
                print(f"Dask: {len(files)} file(s) on {where}" + (f"; dashboard {board}" if board else ""),
                      file=sys.stderr, flush=True)
            total, spec = _reduce(client, files, target, features, degree, fit_intercept, formula, na, progress)
        finally:
            if own is not None:
                own.close()
    finally:
        if cluster is not None:
            cluster.close()
    return design_from_partial(total, spec)


def _show_progress(parts: list[Any]) -> None:
    """'partitions k/N' on stderr as the files are reduced (quiet with --json: not called)."""
    from distributed import as_completed

    start, n = time.monotonic(), len(parts)
    for done, _ in enumerate(as_completed(parts), start=1):
        bar = "#" * (30 * done // n)
        print(f"\rDask [{bar:<30}] {done}/{n} partitions, {time.monotonic() - start:.1f} s", end="",
              file=sys.stderr, flush=True)
    print(file=sys.stderr, flush=True)
