"""Data beyond one CSV: a file, a folder or a glob of CSV or Parquet files, read as one table — in memory, or
one file at a time into the sufficient statistics (the R factor of [A | y]), which is what the Dask backend
computes per partition and combines in a tree (see _dask.py).
"""

from __future__ import annotations

import glob
import os
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._csv import MAX_CELLS, MAX_COLUMNS, Progress, _available_memory, _check_cells, _check_width, read_csv
from ._design import (
    Design,
    _check_degree,
    _checked_ranges,
    _constant_feature,
    _expand,
    build_design,
    polynomial_terms,
)
from ._moments import Moments, MomentsAccumulator, r_factor
from ._prefetch import ordered_map
from ._text import _mb, _quote_list, _shown
from .errors import DataError, EmptyDataError, InsufficientDataError, NonFiniteError, ParameterError

__all__ = ["SourceSpec", "load_sources", "read_upload", "resolve_sources", "stream_sources"]

_FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet"}


def resolve_sources(spec: str | os.PathLike[str]) -> list[str]:
    """The files a data argument names: one file, every CSV/Parquet file in a folder, or a glob's matches (sorted)."""
    text = os.fspath(spec)
    if text == "-":
        return ["-"]
    if os.path.isdir(text):
        files = sorted(os.path.join(text, f) for f in os.listdir(text)
                       if os.path.splitext(f)[1].lower() in _FORMATS and not f.startswith("."))
        if not files:
            raise DataError(f"The folder {text!r} has no .csv or .parquet files. Point at the files or a glob such "
                            "as 'data/*.parquet'.")
    elif glob.has_magic(text):
        files = sorted(f for f in glob.glob(text) if os.path.isfile(f))
        if not files:
            raise DataError(f"No file matches {text!r}. Check the folder and the pattern (e.g. 'data/*.parquet').")
    else:
        files = [text]
    kinds = {_format(f) for f in files}
    if len(kinds) > 1:
        raise DataError(f"{text!r} mixes CSV and Parquet files; use one format (e.g. "
                        f"{os.path.join(text, '*.parquet')!r}).")
    return files


def _format(path: str) -> str:
    return _FORMATS.get(os.path.splitext(path)[1].lower(), "csv")


def read_file(path: str) -> pd.DataFrame:
    """One CSV or Parquet file as a table; a missing or unreadable file is one sentence naming it."""
    if path == "-" or _format(path) == "csv":
        try:
            return read_csv(path)
        except DataError as exc:
            if path != "-" and not str(exc).startswith(("File ", "The file")):
                exc.args = (f"{os.path.basename(path)}: {exc}",)  # which file, keeping the error's type
            raise
    if not os.path.isfile(path):
        raise DataError(f"File {path!r} not found (it was listed but is gone). Check the folder and try again.")
    return _parquet(path, f"the Parquet file {path!r}")


def _unreadable(label: str, exc: Exception) -> DataError:
    return DataError(f"Could not read {label}: {str(exc).splitlines()[0][:200]}. Check that it is a complete "
                     "Parquet file.")


def _footer_columns(source: Any) -> int | None:
    """How many columns a Parquet footer lists (schema elements but the root; nested fields count each), read from
    the first bytes of its Thrift encoding: pyarrow parses all of it, ~0.5 s and ~300 MB for 100,000 columns.
    None when the footer does not start as expected (pyarrow then says what is wrong)."""
    def varint() -> int:
        value = shift = 0
        for byte in it:
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7
        raise ValueError("truncated")

    try:
        fh = open(source, "rb") if isinstance(source, (str, os.PathLike)) else source
        try:
            fh.seek(-8, os.SEEK_END)
            tail = fh.read(8)
            fh.seek(-8 - int.from_bytes(tail[:4], "little"), os.SEEK_END)
            it = iter(fh.read(32))
        finally:
            if fh is not source:
                fh.close()
        # FileMetaData in Thrift's compact protocol: field 1 (version, i32), then field 2 (schema, a list).
        if tail[4:] != b"PAR1" or next(it) != 0x15:
            return None
        varint()
        if next(it) != 0x19:
            return None
        size = next(it) >> 4
        return (varint() if size == 15 else size) - 1
    except (OSError, ValueError, StopIteration):
        return None


def _check_parquet_shape(source: Any, label: str, max_cells: int | None, what: str) -> None:
    """Refuse a Parquet file too wide, too many cells for an upload, or too big for the free memory, from its
    footer alone: its data (a few hundred kB can decompress to gigabytes) is not read."""
    import pyarrow.parquet as pq

    listed = _footer_columns(source)
    if listed is not None and listed > 2 * MAX_COLUMNS:  # clearly too wide; near the limit pyarrow counts exactly
        _check_width(listed, what, "parquet")
    try:
        pf = pq.ParquetFile(source)
        meta, schema = pf.metadata, pf.schema_arrow
        pandas_meta = schema.pandas_metadata  # JSON the file's writer chose: may be anything
        listed_index = pandas_meta.get("index_columns", []) if isinstance(pandas_meta, dict) else []
    except Exception as exc:  # pyarrow's errors: corrupt footer, not Parquet, bad metadata, permission…
        raise _unreadable(label, exc) from None
    index = [c for c in listed_index if isinstance(c, str)] if isinstance(listed_index, list) else []
    rows, columns = meta.num_rows, len(schema.names) - len(index)  # pandas' stored index is not a column
    _check_width(columns, what, "parquet")
    _check_cells(rows, columns, what, max_cells)
    # In memory: Arrow's decoded columns, then pandas' copy (8 bytes a number, more for text).
    decoded = max(rows * len(schema.names) * 8, sum(meta.row_group(i).total_byte_size
                                                    for i in range(meta.num_row_groups)))
    free = _available_memory()
    if free is not None and 2 * decoded > free:
        raise DataError(f"{what} holds {rows:,} rows × {columns:,} columns: loading it needs about "
                        f"{_mb(2 * decoded)} of memory and only {_mb(free)} is free. Split it into smaller Parquet "
                        "files in a folder (python -m linreg_core fit FOLDER --out-of-core reads one at a time), or "
                        "use a sample.")


def _parquet(source: Any, label: str, max_cells: int | None = None, what: str | None = None) -> pd.DataFrame:
    _check_parquet_shape(source, label, max_cells, what or label[0].upper() + label[1:])
    if hasattr(source, "seek"):
        source.seek(0)
    try:
        df = pd.read_parquet(source, engine="pyarrow")
    except Exception as exc:  # pyarrow's errors: corrupt pages, permission…
        raise _unreadable(label, exc) from None
    df.columns = [str(c) for c in df.columns]
    if len(df) == 0:
        raise EmptyDataError(f"{label[0].upper()}{label[1:]} has no rows.")
    if len(set(df.columns)) != len(df.columns):
        raise DataError(f"{label[0].upper()}{label[1:]} names a column twice; give every column a unique name.")
    return df.reset_index(drop=True)


def is_parquet(data: bytes, name: str) -> bool:
    """Whether an upload is read as Parquet (its magic bytes or its name) rather than as CSV."""
    return data[:4] == b"PAR1" or name.lower().endswith((".parquet", ".pq"))


def read_upload(data: bytes, name: str, max_bytes: int | None = None, max_cells: int | None = MAX_CELLS,
                progress: Progress | None = None) -> pd.DataFrame:
    """An uploaded file's bytes as a table: Parquet (by its magic bytes or name) or CSV, with the same checks.

    Either is refused beyond :data:`MAX_COLUMNS` columns or ``max_cells`` rows × columns, a Parquet file from its
    footer before its data is read. ``progress`` follows a CSV's parse (see :func:`read_csv`).
    """
    if is_parquet(data, name):
        if max_bytes is not None and len(data) > max_bytes:
            raise DataError(f"The file is {len(data) / 2**20:.1f} MB, over the {max_bytes / 2**20:.0f} MB limit.")
        import io

        return _parquet(io.BytesIO(data), f"{name!r} as Parquet", max_cells, "This file")
    return read_csv(data, max_bytes=max_bytes, max_cells=max_cells, progress=progress)


def load_sources(spec: str | os.PathLike[str]) -> pd.DataFrame:
    """Every file the argument names, read and stacked in name order (the columns must agree)."""
    return _stack(resolve_sources(spec))


@dataclass(frozen=True)
class SourceSpec:
    """What each partition computes: the model (columns or a formula's fitted spec), and how blanks are handled."""

    target: str
    features: list[str] | None
    degree: int = 1
    fit_intercept: bool = True
    na: str = "error"
    template: Design | None = None  # a formula: its design on a sample, with the whole data's category levels
    # degree > 1: each feature's centre and half-width over the whole data, so every partition also reduces the
    # Chebyshev basis of its powers (what keeps an ill-conditioned polynomial's digits; see _solver.py)
    centres: tuple[float, ...] | None = None
    half_widths: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Partial:
    """One partition's share of the sufficient statistics, mergeable in any order (a tree on a cluster)."""

    R: np.ndarray  # upper-triangular R of [A | y] for this partition's rows
    n: int
    mean: np.ndarray  # column means of [X | y]
    m2: np.ndarray  # sums of squared deviations from those means
    lo: np.ndarray  # per-feature minimum and maximum: constant features are judged on the whole data
    hi: np.ndarray
    features: tuple[str, ...]
    terms: tuple[str, ...]
    dropped: int
    basis_R: np.ndarray | None = None  # R of [B | y], B the Chebyshev basis (polynomials only)


def partition_moments(df: pd.DataFrame, spec: SourceSpec, name: str = "", row_offset: int = 0) -> Partial:
    """The Partial of one table (a file, a chunk, a Dask partition). Row numbers in messages count within it, after
    ``row_offset`` rows (a chunk's place in its file)."""
    try:
        X, y, features, terms, dropped, ranges = _partition_design(df, spec, row_offset)
    except DataError as exc:
        if name:  # the file's name first; the type (and its row numbers) stay
            exc.args = (f"{name}: {exc}",)
        raise
    k = X.shape[1]
    if len(y):  # R of [1, X, y] in cache-sized blocks, with the shifted sums for the means and spreads: no copy of X
        acc = MomentsAccumulator(k, spec.fit_intercept)
        acc.add(X, y)
        m = acc.result()
        R, mean = m.R, np.append(m.x_mean, m.y_mean)
        m2 = np.append(m.x_std**2 * m.n, m.y_ss)
        lo, hi = ranges if ranges is not None else (X.min(axis=0), X.max(axis=0))
    else:
        R, mean, m2 = np.zeros((0, 0)), np.zeros(k + 1), np.zeros(k + 1)
        lo, hi = np.full(k, np.inf), np.full(k, -np.inf)
    basis_R = None
    if spec.centres is not None and len(y):
        from ._solver import _basis_matrix

        B = _basis_matrix(X, spec.degree, spec.fit_intercept, spec.centres, spec.half_widths)
        basis_R = r_factor(np.hstack([B, y.reshape(-1, 1)]))
    return Partial(R, len(y), mean, m2, lo, hi, tuple(features), tuple(terms), dropped, basis_R)


def _partition_design(df: pd.DataFrame, spec: SourceSpec, row_offset: int = 0
                      ) -> tuple[np.ndarray, np.ndarray, list[str], list[str], int, tuple[np.ndarray, np.ndarray] | None]:
    """(X, y, features, terms, rows dropped, each column of X's (min, max) where the checks found them)."""
    if spec.template is not None:
        from ._formula import partition_formula_rows

        return *partition_formula_rows(spec.template, df, spec.na, row_offset), None
    dropped = 0
    if spec.na == "drop":
        from ._design import _drop_blank_rows

        df, dropped, _ = _drop_blank_rows(df, spec.target, spec.features)
    features, raw, y, lo, hi = _checked_ranges(df, spec.target, spec.features, row_offset)
    if spec.degree == 1:  # the checked columns are the design
        return raw, y, features, features, dropped, (lo, hi)
    with np.errstate(over="ignore", invalid="ignore"):
        X = _expand(raw, spec.degree)
    if not np.isfinite(X).all():
        raise NonFiniteError(f"Raising the features to degree {spec.degree} overflows float64 (values too large). "
                             "Use a lower degree or rescale the column.")
    return X, y, features, polynomial_terms(features, spec.degree), dropped, None


def combine(a: Partial, b: Partial) -> Partial:
    """Two partitions' statistics as one: QR of the stacked R factors, Chan's update for means and spreads."""
    if a.n == 0:
        return b
    if b.n == 0:
        return a
    if a.terms != b.terms:
        raise DataError(f"The files do not give the same model terms ({_quote_list(list(a.terms)[:6])} vs "
                        f"{_quote_list(list(b.terms)[:6])}): check that every file has the same columns.")
    n = a.n + b.n
    delta = b.mean - a.mean
    mean = a.mean + delta * (b.n / n)
    m2 = a.m2 + b.m2 + delta**2 * (a.n * b.n / n)
    basis_R = None if a.basis_R is None or b.basis_R is None else r_factor(np.vstack([a.basis_R, b.basis_R]))
    return Partial(r_factor(np.vstack([a.R, b.R])), n, mean, m2, np.minimum(a.lo, b.lo), np.maximum(a.hi, b.hi),
                   a.features, a.terms, a.dropped + b.dropped, basis_R)


def design_from_partial(total: Partial, spec: SourceSpec) -> Design:
    """The streamed Design (moments only) of the whole data, validated on the whole data."""
    if total.n == 0:
        raise EmptyDataError("The data has no rows" + (" left after leaving out blank ones." if total.dropped else "."))
    p = len(total.terms) + int(spec.fit_intercept)
    if total.n < p:
        raise InsufficientDataError(f"{total.n} row(s) are too few to fit {p} parameters. Add rows or use fewer "
                                    f"terms (at least {p} rows are needed).")
    if spec.fit_intercept and total.n > 1 and spec.template is None:
        raw = np.arange(len(total.features)) * spec.degree  # each feature's own (degree-1) column
        flat = np.flatnonzero(total.lo[raw] == total.hi[raw])
        if len(flat):
            raise _constant_feature(total.features[int(flat[0])], float(total.lo[raw[int(flat[0])]]))
    var = total.m2 / total.n
    moments = Moments(total.R.copy(), total.n, spec.fit_intercept, total.mean[:-1], np.sqrt(var[:-1]),
                      float(total.mean[-1]), float(total.m2[-1]))
    t = spec.template
    basis = None if total.basis_R is None else (total.basis_R.copy(), spec.centres, spec.half_widths)
    return Design(X=None, y=None, terms=list(total.terms), target=t.target if t else spec.target,
                  features=list(t.features if t else total.features), degree=1 if t else spec.degree,
                  fit_intercept=spec.fit_intercept, given_moments=moments, dropped_rows=total.dropped,
                  basis_moments=basis, kinds=t.kinds if t else {}, variables=t.variables if t else (),
                  lhs_spec=t.lhs_spec if t else None,
                  formula=t.formula if t else None, spec=t.spec if t else None,
                  terms_of=t.terms_of if t else None)


def feature_ranges(df: pd.DataFrame, spec: SourceSpec) -> tuple[np.ndarray, np.ndarray]:
    """Each raw feature's (min, max) in one table, blanks left aside: the first pass of a streamed polynomial."""
    features = spec.features if spec.features is not None else [
        c for c in df.columns if c != spec.target and pd.api.types.is_numeric_dtype(df[c])
        and not pd.api.types.is_bool_dtype(df[c])]
    values = df[features].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an all-blank column: nan, refused later with its own message
        return np.nanmin(values, axis=0), np.nanmax(values, axis=0)


def with_basis(spec: SourceSpec, ranges: list[tuple[np.ndarray, np.ndarray]]) -> SourceSpec:
    """``spec`` with the Chebyshev centres and half-widths of the whole data (degree > 1), from per-file ranges."""
    if spec.degree == 1 or spec.template is not None:
        return spec
    lo = np.nanmin(np.vstack([r[0] for r in ranges]), axis=0)
    hi = np.nanmax(np.vstack([r[1] for r in ranges]), axis=0)
    h = (hi - lo) / 2
    centres = tuple(float(v) for v in lo + h)
    halves = tuple(float(v) if v > 0 else 1.0 for v in h)
    return SourceSpec(spec.target, spec.features, spec.degree, spec.fit_intercept, spec.na, spec.template,
                      centres, halves)


def stream_sources(files: list[str], spec: SourceSpec) -> Design:
    """One machine, a file at a time per core: the same statistics the Dask backend computes, combined in file order."""
    _check_degree(spec.degree)
    if spec.degree > 1:  # a first pass for each feature's range: the basis that keeps a polynomial's digits
        spec = with_basis(spec, list(ordered_map(lambda path: feature_ranges(read_file(path), spec), files)))
    total: Partial | None = None
    # Every core reads and factors a file while the next is read; combined in file order (the same digits and the
    # same first error as one file at a time).
    for part in ordered_map(lambda path: partition_moments(read_file(path), spec, os.path.basename(path)), files):
        total = part if total is None else combine(total, part)
    assert total is not None
    return design_from_partial(total, spec)


def level_columns(head: pd.DataFrame, formula: str) -> list[str]:
    """The columns of a table whose values a formula takes as category levels: text it names, numbers in C()."""
    from ._formula import _named_columns
    from ._formula_columns import _in_c

    return [c for c in head.columns if c in _named_columns(formula, list(head.columns))
            and not (pd.api.types.is_numeric_dtype(head[c]) and not _in_c(formula, c))]


def table_levels(df: pd.DataFrame, columns: list[str]) -> dict[str, set]:
    """Each column's distinct values (text stripped, blanks left out): one table's share of the levels."""
    return {c: set(df[c].dropna().astype("string").str.strip().astype(object))
            if not pd.api.types.is_numeric_dtype(df[c]) else set(df[c].dropna().tolist()) for c in columns}


def sorted_levels(parts: Any, columns: list[str]) -> dict[str, list]:
    """The levels of all the tables (``parts``: table_levels of each), sorted as formulaic sorts them."""
    found: dict[str, set] = {c: set() for c in columns}
    for part in parts:
        for c in columns:
            found[c] |= part[c]
    return {c: sorted(v, key=lambda x: (str(type(x)), x)) for c, v in found.items() if v}


def formula_levels(files: list[str], formula: str, map_files: Any = lambda fn, paths: map(fn, paths)
                   ) -> dict[str, list]:
    """The category levels of the columns a formula reads, in one pass over the files (``map_files(fn, files)``:
    here one after another; the Dask backend maps them over its workers)."""
    from ._formula import _parse, _patsy_spellings

    _parse(_patsy_spellings(formula)[0])
    columns = level_columns(read_file(files[0]), formula)
    if not columns:
        return {}
    return sorted_levels(map_files(lambda path: table_levels(read_file(path), columns), files), columns)


def formula_template(files_or_df: Any, formula: str, na: str, levels: dict[str, list] | None = None) -> Design:
    """A formula's design fitted on a sample (the first file) with the whole data's category levels imposed, so every
    partition encodes categories the same way. Transforms that learn from the data (scale, center, poly…) are refused:
    a sample's centre is not the data's."""
    from ._formula import build_formula_design

    sample = files_or_df if isinstance(files_or_df, pd.DataFrame) else read_file(files_or_df[0])
    if levels:
        sample = sample.copy()
        for col, values in levels.items():
            col_values = sample[col]
            if not pd.api.types.is_numeric_dtype(col_values):
                col_values = col_values.astype("string").str.strip().astype(object)
            sample[col] = pd.Categorical(col_values, categories=list(values))
    template = build_formula_design(sample, formula, na=na)
    if template.spec.transform_state:
        names = ", ".join(_shown(str(k)) for k in list(template.spec.transform_state)[:3])
        raise ParameterError(f"{names} learns its centre or scale from the data, which the partitions cannot share; "
                             "write the transform out (e.g. (x - 3.2) / 1.5) or fit in memory (without "
                             "--out-of-core or --backend dask).")
    return template


def build_in_memory(files: list[str], target: str | None, features: list[str] | None, degree: int,
                    fit_intercept: bool, formula: str | None, na: str, dates: str) -> Design:
    """All files stacked in memory, then the usual design (exactly the one-file path)."""
    df = _stack(files)
    if formula is not None:
        from ._formula import build_formula_design

        return build_formula_design(df, formula, na=na, dates=dates)
    return build_design(df, target, features, degree, fit_intercept, na=na)


def _stack(files: list[str]) -> pd.DataFrame:
    frames = []
    for path in files:
        df = read_file(path)
        if frames and list(df.columns) != list(frames[0].columns):
            raise DataError(f"{os.path.basename(path)!r} has the columns {_quote_list(list(df.columns)[:12])}, but "
                            f"{os.path.basename(files[0])!r} has {_quote_list(list(frames[0].columns)[:12])}. Every "
                            "file must have the same columns.")
        frames.append(df)
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def rows_design(design: Design, df: pd.DataFrame) -> Design:
    """The in-memory design of some rows (a sample) under a streamed design's model — same terms, category levels
    and transforms — for drawing: rows with a blank cell are left out."""
    if design.formula is not None:
        from ._formula import partition_formula_rows

        X, y, features, terms, _ = partition_formula_rows(design, df, "drop")
    else:
        spec = SourceSpec(design.target, list(design.features), design.degree, design.fit_intercept, "drop")
        X, y, features, terms, _, _ = _partition_design(df, spec)
    return Design(X=X, y=y, terms=list(terms), target=design.target, features=list(features), degree=design.degree,
                  fit_intercept=design.fit_intercept, kinds=design.kinds,
                  formula=design.formula, spec=design.spec, terms_of=design.terms_of)
