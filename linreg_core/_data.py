"""CSV loading and design-matrix construction with clear, typed errors."""

from __future__ import annotations

import csv
import io
import os
import re
import sys
import warnings
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO, Union

import numpy as np
import pandas as pd

from ._moments import Moments, MomentsAccumulator
from .errors import (
    ColumnNotFoundError,
    ConstantFeatureError,
    DataError,
    EmptyDataError,
    InsufficientDataError,
    NonFiniteError,
    NonNumericError,
    ParameterError,
)

__all__ = ["Design", "build_design", "drop_incomplete_rows", "train_val_split", "load_design", "numeric_columns", "polynomial_terms",
           "read_csv", "stream_design"]

CsvSource = Union[str, "os.PathLike[str]", bytes, bytearray, BinaryIO, TextIO]

MAX_DEGREE = 20
_ARROW_MIN_BYTES = 1 << 20  # files from 1 MiB up are parsed by Arrow
_MOMENT_BLOCK = 262_144  # rows per QR block when computing moments: bounds the temporary copy
_DELIMITERS = (",", ";", "\t")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


def _quote_list(names: list[str]) -> str:
    return ", ".join(repr(str(n)) for n in names)


def _read_bytes(source: CsvSource) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        if str(source) == "-":
            return sys.stdin.buffer.read()
        path = os.fspath(source)
        if not os.path.exists(path):
            raise DataError(f"File {path!r} not found. Check the path and try again.")
        if os.path.isdir(path):
            raise DataError(f"{path!r} is a folder, not a CSV file.")
        with open(path, "rb") as fh:
            return fh.read()
    data = source.read()
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def _source_size(source: CsvSource) -> int | None:
    if isinstance(source, (bytes, bytearray)):
        return len(source)
    if isinstance(source, (str, os.PathLike)) and str(source) != "-" and os.path.isfile(source):
        return os.path.getsize(source)
    return None


def _decode(raw: bytes) -> str:
    head = raw[:8192]
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise DataError(
            "This looks like an Excel workbook, not a CSV file. "
            "Save it as CSV (File > Save As > CSV UTF-8) and load that instead."
        )
    if b"\x00" in head:
        raise DataError("The file looks binary (it contains NUL bytes), not CSV text. Expected a text CSV file.")
    try:
        return raw.decode("utf-8-sig")  # utf-8-sig also drops a leading BOM
    except UnicodeDecodeError as exc:
        raise DataError(
            f"The file is not valid UTF-8 text (byte 0x{raw[exc.start]:02x} at position {exc.start}). "
            "Save it as 'CSV UTF-8' and try again."
        ) from None


def _sniff_delimiter(text: str) -> str:
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    try:
        return csv.Sniffer().sniff("\n".join(lines[:20]), delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:
        pass
    # Fall back to the candidate that appears most consistently on every line.
    best, best_score = ",", 0
    for d in _DELIMITERS:
        counts = [ln.count(d) for ln in lines]
        if counts and min(counts) > 0 and min(counts) > best_score:
            best, best_score = d, min(counts)
    return best


_RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def read_csv(source: CsvSource, max_bytes: int | None = None) -> pd.DataFrame:
    """Read a CSV with a header row from a path, ``"-"`` (stdin), bytes or a file object.

    ``max_bytes`` refuses larger inputs with a message (the app's upload limit; the CLI has none).

    The delimiter (comma, semicolon or tab) is sniffed and a UTF-8 BOM is dropped.
    Cells are parsed as numbers where possible; other columns stay text so that
    the error for a bad cell can name its row and column later.
    """
    if max_bytes is not None:
        size = _source_size(source)
        if size is not None and size > max_bytes:
            raise DataError(
                f"The file is {size / 2**20:.1f} MB, over the {max_bytes / 2**20:.0f} MB limit. Use a smaller "
                "sample, or the command line (python -m linreg_core fit FILE --out-of-core) for big files."
            )
    if isinstance(source, (str, os.PathLike)) and str(source) != "-" and os.path.isfile(source) \
            and os.path.getsize(source) >= _ARROW_MIN_BYTES:
        # A big file on disk: Arrow reads it directly, never holding the bytes or text in Python.
        with open(source, "rb") as fh:
            head = fh.read(65536)
        df = _read_arrow(source, head)
        if df is not None:
            return df
    raw = _read_bytes(source)
    if len(raw) >= _ARROW_MIN_BYTES:
        df = _read_arrow(raw, raw[:65536])
        if df is not None:
            return df
    text = _decode(raw)
    if not text.strip():
        raise EmptyDataError("The CSV file is empty. Expected a header row and at least one data row.")
    delim = _sniff_delimiter(text[:65536])
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            # index_col=False: never turn a first column into the index when rows are longer than the header.
            df = pd.read_csv(io.StringIO(text), sep=delim, skipinitialspace=True, skip_blank_lines=True,
                             index_col=False)
        if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
            _check_extra_fields(text, delim)
    except pd.errors.ParserError as exc:
        m = _RAGGED.search(str(exc))
        if m:
            want, line, got = m.groups()
            raise DataError(
                f"Line {line} has {got} fields but the header has {want}. "
                f"Every row needs the same number of {_DELIMITER_NAMES[delim]}-separated values."
            ) from None
        raise DataError(f"The file could not be parsed as CSV: {exc}") from None
    except pd.errors.EmptyDataError:
        raise EmptyDataError("The CSV file is empty. Expected a header row and at least one data row.") from None
    df.columns = [str(c).strip() for c in df.columns]
    if len(df) == 0:
        raise EmptyDataError(
            f"The CSV has a header ({_quote_list(list(df.columns))}) but no data rows. Add at least one row of numbers."
        )
    if delim == ";":
        df = _fix_decimal_commas(df)
    return df


def _read_arrow(source: str | os.PathLike[str] | bytes, head: bytes) -> pd.DataFrame | None:
    """Big inputs: pandas' pyarrow engine (multi-threaded C++, ~2x the C engine on 1M rows, no Python copy
    of the text). Returns None whenever Arrow is unsure or fails (binary or non-UTF-8 bytes, semicolon
    files with decimal commas, ragged rows...), so the careful path can give its precise message.
    """
    if b"\x00" in head or head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        return None
    try:
        delim = _sniff_delimiter(head[: head.rfind(b"\n") + 1].decode("utf-8-sig"))
    except UnicodeDecodeError:
        return None
    if delim == ";":
        return None
    if isinstance(source, bytes):
        source = io.BytesIO(source[3:] if source.startswith(b"\xef\xbb\xbf") else source)
    try:
        df = pd.read_csv(source, sep=delim, engine="pyarrow", encoding="utf-8-sig")
    except Exception:  # noqa: BLE001 - any Arrow failure falls back to the careful path
        return None
    df.columns = [str(c).strip() for c in df.columns]
    return df if len(df) else None


def _check_extra_fields(text: str, delim: str) -> None:
    # pandas drops fields beyond the header; fine for a trailing delimiter, data loss otherwise.
    lines = [ln for ln in text.splitlines() if ln.strip()]
    want = lines[0].count(delim) + 1
    for i, ln in enumerate(lines[1:], start=2):
        fields = ln.split(delim)
        if len(fields) > want and any(f.strip() for f in fields[want:]):
            raise DataError(
                f"Line {i} has {len(fields)} fields but the header has {want}. "
                f"Every row needs the same number of {_DELIMITER_NAMES[delim]}-separated values."
            )


def _fix_decimal_commas(df: pd.DataFrame) -> pd.DataFrame:
    # Semicolon CSVs usually come from locales that write 3,5 for 3.5.
    for col in df.columns:
        s = df[col]
        if s.dtype == object:
            as_text = s.astype(str).str.strip()
            if as_text.str.fullmatch(r"[-+]?\d*,\d+(?:[eE][-+]?\d+)?|[-+]?\d+(?:[eE][-+]?\d+)?|nan|").all():
                df[col] = pd.to_numeric(as_text.str.replace(",", ".", regex=False), errors="coerce")
    return df


def polynomial_terms(columns: list[str], degree: int) -> list[str]:
    """Term names in design order: for each column, x, x^2, ..., x^degree."""
    return [c if k == 1 else f"{c}^{k}" for c in columns for k in range(1, degree + 1)]


def _expand(raw: np.ndarray, degree: int) -> np.ndarray:
    if degree == 1:
        return np.ascontiguousarray(raw, dtype=np.float64)
    cols = [raw[:, j] ** k for j in range(raw.shape[1]) for k in range(1, degree + 1)]
    return np.ascontiguousarray(np.column_stack(cols), dtype=np.float64)


@dataclass(frozen=True)
class Design:
    """A validated regression problem: y ≈ intercept + X @ coef."""

    X: np.ndarray | None  # (n, k) float64 design without the intercept column; None when streamed from disk
    y: np.ndarray | None  # (n,) float64 target; None when streamed from disk
    terms: list[str]  # names of the k columns of X, e.g. ["x", "x^2"]
    target: str
    features: list[str]  # raw feature columns the terms were built from
    degree: int = 1
    fit_intercept: bool = True
    extra: dict = field(default_factory=dict, compare=False)  # caches (the moments)

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0]) if self.X is not None else self.moments().n

    @property
    def in_memory(self) -> bool:
        return self.X is not None

    def moments(self) -> Moments:
        """The sufficient statistics (R of [A | y]), computed once in row blocks and cached."""
        m = self.extra.get("moments")
        if m is None:
            acc = MomentsAccumulator(self.X.shape[1], self.fit_intercept)
            for start in range(0, self.X.shape[0], _MOMENT_BLOCK):
                acc.add(self.X[start:start + _MOMENT_BLOCK], self.y[start:start + _MOMENT_BLOCK])
            m = self.extra["moments"] = acc.result()
        return m

    @property
    def n_params(self) -> int:
        return len(self.terms) + int(self.fit_intercept)

    def transform(self, raw: np.ndarray) -> np.ndarray:
        """Expand raw feature values (n, len(features)) into this design's terms."""
        raw = np.asarray(raw, dtype=np.float64)
        if raw.ndim == 1:
            raw = raw.reshape(-1, 1)
        if raw.shape[1] != len(self.features):
            raise DataError(f"Expected {len(self.features)} feature columns ({_quote_list(self.features)}); got {raw.shape[1]}.")
        return _expand(raw, self.degree)


def _numeric_column(df: pd.DataFrame, col: str, row_offset: int = 0) -> np.ndarray:
    s = df[col]
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=np.float64)
    if pd.api.types.is_numeric_dtype(s):
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    coerced = pd.to_numeric(s.astype("string").str.strip(), errors="coerce")
    bad = s.notna().to_numpy() & coerced.isna().to_numpy()
    # Blank strings are missing values, reported with the NaN rows, not as text.
    blank = s.astype("string").str.strip().fillna("").eq("").to_numpy()
    bad &= ~blank
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        value = str(s.iloc[i])
        row = row_offset + i + 1
        raise NonNumericError(
            f"Column {col!r} has a non-numeric value {value!r} at row {row}. "
            f"Expected numbers only; fix or remove that row ({int(bad.sum())} such cell(s) in this column).",
            column=col, row=row, value=value,
        )
    return coerced.to_numpy(dtype=np.float64, na_value=np.nan)


def numeric_columns(df: pd.DataFrame) -> list[str]:
    """Columns whose values are all numbers (missing cells allowed)."""
    out = []
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_bool_dtype(s):
            continue
        if pd.api.types.is_numeric_dtype(s):
            out.append(str(c))
    return out


def drop_incomplete_rows(df: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, int]:
    """Drop rows with blank, NaN or infinite values in ``columns``; return (df, rows dropped)."""
    vals = df[columns].apply(pd.to_numeric, errors="coerce")
    ok = np.isfinite(vals.to_numpy(dtype=np.float64, na_value=np.nan)).all(axis=1)
    return df.loc[ok].reset_index(drop=True), int((~ok).sum())


def _check_columns(df: pd.DataFrame, names: list[str]) -> None:
    cols = [str(c) for c in df.columns]
    for name in names:
        if name not in cols:
            shown = _quote_list(cols) if len(cols) <= 30 else f"{_quote_list(cols[:20])}, … ({len(cols)} columns)"
            raise ColumnNotFoundError(f"Column {name!r} not found. Available columns: {shown}.")


# Squares of values beyond ~1e154 overflow float64 (and below ~1e-154 underflow to 0): the loss, R² and
# standard errors would be inf or 0. Say so and how to fix it, rather than return nonsense.
_MAX_MAGNITUDE = 1e150
_MIN_MAGNITUDE = 1e-150


def _check_degree(degree: object) -> None:
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or not 1 <= degree <= MAX_DEGREE:
        raise ParameterError(f"The 'degree' parameter must be an int in [1, {MAX_DEGREE}]. Got {degree!r} instead.")


def _check_magnitude(name: str, col: np.ndarray) -> None:
    big = float(np.max(np.abs(col))) if len(col) else 0.0
    if big > _MAX_MAGNITUDE:
        raise DataError(
            f"Column {name!r} has values as large as {big:.3g}; their squares overflow double precision. "
            f"Rescale the column (e.g. divide it by 1e{int(np.log10(big)) - 3}) and try again."
        )
    if 0.0 < big < _MIN_MAGNITUDE:
        raise DataError(
            f"Column {name!r} has values no larger than {big:.3g}; their squares underflow to zero in double "
            f"precision. Rescale the column (e.g. multiply it by 1e{-int(np.log10(big)) - 3}) and try again."
        )


def build_design(
    df: pd.DataFrame,
    target: str,
    features: list[str] | None = None,
    degree: int = 1,
    fit_intercept: bool = True,
    *,
    row_offset: int = 0,
) -> Design:
    """Validate ``df`` and build the design for ``target ~ features`` (polynomial in each feature).

    ``features=None`` takes every numeric column but the target. Raises a
    :class:`~linreg_core.errors.DataError` subclass naming the problem.
    """
    _check_degree(degree)
    degree = int(degree)
    _check_columns(df, [target])
    if features is None:
        features = [c for c in numeric_columns(df) if c != target]
        if not features:
            raise DataError(
                f"No numeric feature columns besides the target {target!r}. "
                f"Available columns: {_quote_list([str(c) for c in df.columns])}. Name the feature columns explicitly."
            )
    features = [str(f) for f in features]
    if not features:
        raise DataError("No feature columns were chosen. Pick at least one feature column.")
    _check_columns(df, features)
    if target in features:
        raise DataError(f"Column {target!r} is the target and cannot also be a feature. Remove it from the features.")
    if len(set(features)) != len(features):
        dup = sorted({f for f in features if features.count(f) > 1})
        raise DataError(f"Feature column(s) {_quote_list(dup)} chosen more than once. Choose each column once.")

    raw = np.column_stack([_numeric_column(df, f, row_offset) for f in features])
    y = _numeric_column(df, target, row_offset)
    finite = np.isfinite(raw).all(axis=1) & np.isfinite(y)
    if not finite.all():
        rows = (np.flatnonzero(~finite) + 1 + row_offset).tolist()
        block = np.column_stack([raw, y])[rows[0] - 1 - row_offset]
        col = (features + [target])[int(np.flatnonzero(~np.isfinite(block))[0])]
        raise NonFiniteError(
            f"{len(rows)} row(s) have blank, NaN or infinite values in the selected columns "
            f"(first: row {rows[0]}, column {col!r}). Remove those rows or fill in the values.",
            rows=rows,
        )

    for name, col in zip([*features, target], [*raw.T, y]):
        _check_magnitude(name, col)

    terms = polynomial_terms(features, degree)
    n, p = len(y), len(terms) + int(fit_intercept)
    if n < p:
        shown = _quote_list(terms) if len(terms) <= 8 else f"{_quote_list(terms[:5])}, … ({len(terms)} terms)"
        what = ("the intercept and " if fit_intercept else "") + f"term(s) {shown}"
        raise InsufficientDataError(
            f"{n} row(s) are too few to fit {p} parameters ({what}). "
            f"Add rows, use fewer features or a lower degree (at least {p} rows are needed)."
        )
    if fit_intercept:
        for j, f in enumerate(features):
            if n > 1 and np.all(raw[:, j] == raw[0, j]):
                raise ConstantFeatureError(
                    f"Feature {f!r} is constant (every row is {raw[0, j]:g}), so its slope cannot be estimated. "
                    "Remove it from the features."
                )
    with np.errstate(over="ignore", invalid="ignore"):
        X = _expand(raw, degree)
    if not np.isfinite(X).all():
        raise NonFiniteError(
            f"Raising the features to degree {degree} overflows float64 (values too large). "
            "Use a lower degree or rescale the column (e.g. divide by 1000)."
        )
    if degree > 1:
        for j, term in enumerate(terms):
            big = float(np.max(np.abs(X[:, j])))
            if big > _MAX_MAGNITUDE:
                raise DataError(f"Term {term!r} reaches {big:.3g}; its square overflows double precision. "
                                "Use a lower degree or rescale the column first.")
    return Design(X=X, y=np.ascontiguousarray(y), terms=terms, target=target, features=features,
                  degree=degree, fit_intercept=fit_intercept)


def stream_design(
    path: str | os.PathLike[str],
    target: str,
    features: list[str] | None = None,
    degree: int = 1,
    fit_intercept: bool = True,
    chunk_rows: int = 500_000,
) -> Design:
    """Read a CSV of any size in chunks and keep only its sufficient statistics (O(p²) memory).

    The result has ``X is None``: it supports the exact fit, its statistics and full-batch training.
    Every chunk is validated like :func:`build_design`, with row numbers counted over the whole file.
    """
    _check_degree(degree)
    with open(os.fspath(path), "rb") as fh:
        head = fh.read(65536)
    delim = _sniff_delimiter(_decode(head[: head.rfind(b"\n") + 1] or head))
    acc: MomentsAccumulator | None = None
    offset = 0
    try:
        reader = pd.read_csv(os.fspath(path), sep=delim, chunksize=chunk_rows, skipinitialspace=True,
                             index_col=False, encoding="utf-8-sig")
        for chunk in reader:
            chunk.columns = [str(c).strip() for c in chunk.columns]
            # validates columns, numbers and finiteness, with row numbers counted over the whole file
            part = build_design(chunk, target, features, 1, True, row_offset=offset)
            features = part.features
            raw = part.X
            with np.errstate(over="ignore", invalid="ignore"):
                X = _expand(raw, degree)
            if not np.isfinite(X).all():
                raise NonFiniteError(f"Raising the features to degree {degree} overflows float64 (values too large). "
                                     "Use a lower degree or rescale the column.")
            if acc is None:
                acc = MomentsAccumulator(X.shape[1], fit_intercept)
            acc.add(X, part.y)
            offset += len(chunk)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"The file could not be parsed as CSV near data row {offset + 1}: {exc}") from None
    except pd.errors.EmptyDataError:
        raise EmptyDataError("The CSV file is empty. Expected a header row and at least one data row.") from None
    if acc is None or acc.n == 0:
        raise EmptyDataError("The CSV has a header but no data rows. Add at least one row of numbers.")
    terms = polynomial_terms(features, degree)
    p = len(terms) + int(fit_intercept)
    if acc.n < p:
        raise InsufficientDataError(f"{acc.n} row(s) are too few to fit {p} parameters. Add rows or use fewer terms.")
    return Design(X=None, y=None, terms=terms, target=target, features=list(features), degree=degree,
                  fit_intercept=fit_intercept, extra={"moments": acc.result()})


def load_design(
    source: CsvSource,
    target: str,
    features: list[str] | None = None,
    degree: int = 1,
    fit_intercept: bool = True,
) -> Design:
    """``read_csv`` then ``build_design``."""
    return build_design(read_csv(source), target, features, degree, fit_intercept)


def train_val_split(design: Design, val_fraction: float = 0.2, seed: int = 0) -> tuple[Design, Design]:
    """A seeded random split of the rows into a training and a validation design (same terms).

    The training part keeps at least one row more than there are parameters, so its exact fit and
    statistics exist; the validation part gets at least one row.
    """
    if design.X is None:
        raise DataError("A validation split needs the rows in memory; this design was streamed from disk.")
    ok = isinstance(val_fraction, (int, float)) and not isinstance(val_fraction, bool) and 0 < val_fraction < 1
    if not ok:
        raise ParameterError(f"The 'val_fraction' parameter must be a float in (0, 1). Got {val_fraction!r} instead.")
    n = design.n_samples
    n_val = min(max(1, round(n * val_fraction)), n - design.n_params - 1)
    if n_val < 1:
        raise InsufficientDataError(
            f"{n} rows are too few to hold out validation rows: the training part needs at least "
            f"{design.n_params + 1} rows for {design.n_params} parameters. Add rows, use fewer terms, or turn the split off."
        )
    order = np.random.default_rng(seed).permutation(n)
    val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])

    def part(idx: np.ndarray) -> Design:
        return Design(design.X[idx], design.y[idx], list(design.terms), design.target, list(design.features),
                      design.degree, design.fit_intercept, extra={"rows": idx})

    return part(train_idx), part(val_idx)
