"""Designs from CSV text too large to hold: the rows are streamed once into the sufficient statistics (moments)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np
import pandas as pd

from ._csv import (
    _EMPTY,
    _HEAD_BYTES,
    _READ_CHUNK,
    CsvSource,
    _binary,
    _check_head,
    _check_header,
    _fix_decimal_commas,
    _head_text,
    _Input,
    _sniff_delimiter,
    _wrapping,
    read_csv,
)
from ._design import Design, _check_degree, _checked_ranges, _constant_feature, _expand, build_design, polynomial_terms
from ._moments import MomentsAccumulator
from ._prefetch import prefetched
from .errors import (
    DataError,
    EmptyDataError,
    InsufficientDataError,
    NonFiniteError,
    ParameterError,
)

__all__ = ["load_design", "stream_design", "stream_formula_design"]


def stream_design(
    path: str | os.PathLike[str],
    target: str,
    features: list[str] | None = None,
    degree: int = 1,
    fit_intercept: bool = True,
    chunk_rows: int = 500_000,
) -> Design:
    """Read a CSV of any size in chunks and keep only its sufficient statistics (O(p²) memory).

    ``path`` may also be a named pipe or ``"-"`` (stdin): the data is read once, from start to end.

    The result has ``X is None``: it supports the exact fit, its statistics and full-batch training.
    Cells are checked like :func:`build_design`, chunk by chunk, with row numbers counted over the whole file.
    """
    _check_degree(degree)
    # The next chunk is parsed (pandas' tokenizer lets go of the GIL) while the one before is factored.
    chunks = prefetched(_csv_chunks(path, chunk_rows))
    acc, features, constant = _stream_moments(chunks, target, features, degree, fit_intercept)
    if acc is None or acc.n == 0:
        raise EmptyDataError("The CSV has a header but no data rows. Add at least one row of numbers.")
    terms = polynomial_terms(features, degree)
    p = len(terms) + int(fit_intercept)
    if acc.n < p:
        raise InsufficientDataError(f"{acc.n} row(s) are too few to fit {p} parameters. Add rows or use fewer terms.")
    if fit_intercept and acc.n > 1 and constant:
        raise _constant_feature(*constant)
    return Design(X=None, y=None, terms=terms, target=target, features=list(features), degree=degree,
                  fit_intercept=fit_intercept, given_moments=acc.result())


def stream_formula_design(path: str | os.PathLike[str], formula: str, na: str = "error",
                          chunk_rows: int = 500_000) -> Design:
    """A formula's streamed design (moments only, as :func:`stream_design`) of a CSV file of any size, read twice:
    once for the category levels of the columns the formula reads, once for the rows, chunk by chunk under the model
    learned from the first chunk with those levels. Transforms that learn from the data (``scale``, ``poly``…) are
    refused (write them out). Row numbers in messages count over the whole file."""
    from ._sources import (
        SourceSpec,
        combine,
        design_from_partial,
        formula_template,
        level_columns,
        partition_moments,
        sorted_levels,
        table_levels,
    )

    if os.fspath(path) == "-" or not os.path.isfile(path):
        raise ParameterError("--formula with --out-of-core reads the file twice (its category levels, then its rows): "
                             "save standard input or the pipe to a file and name the file.")
    first, columns, parts = None, [], []
    for chunk, _ in prefetched(_csv_chunks(path, chunk_rows)):
        if first is None:
            first, columns = chunk, level_columns(chunk, formula)
        parts.append(table_levels(chunk, columns))
    if first is None:
        raise EmptyDataError("The CSV has a header but no data rows. Add at least one row of numbers.")
    template = formula_template(first, formula, na, sorted_levels(parts, columns))
    spec = SourceSpec(template.target, None, 1, template.fit_intercept, na, template)
    total = None
    for chunk, offset in prefetched(_csv_chunks(path, chunk_rows)):
        part = partition_moments(chunk, spec, row_offset=offset)
        total = part if total is None else combine(total, part)
    return design_from_partial(total, spec)


def _csv_chunks(path: str | os.PathLike[str], chunk_rows: int) -> Iterator[tuple[pd.DataFrame, int]]:
    """(table, rows before it) for each chunk of ``chunk_rows`` rows of a CSV path, pipe or ``"-"``, read once from
    start to end with the reader's checks (wrapping, NUL bytes, header, delimiter, decimal commas)."""
    with _Input(path) as src:
        # Pipes and stdin cannot be re-opened: sniff from the head (at least the whole header line), then go on.
        head = more = src.fh.read(_HEAD_BYTES)
        _check_head(head)
        if _wrapping(head):
            raise DataError(f"--out-of-core streams plain CSV text, and this file is {_wrapping(head)}"
                            f"{'-encoded' if _wrapping(head) == 'utf-16' else '-compressed'}: load it without "
                            "--out-of-core, or convert it to an uncompressed UTF-8 CSV first.")
        while b"\n" not in head and len(more) == _HEAD_BYTES and len(head) < _READ_CHUNK:
            more = src.fh.read(_HEAD_BYTES)
            head += more
        if not head.strip():
            raise EmptyDataError(_EMPTY)
        complete = len(more) < _HEAD_BYTES
        text = _head_text(head, complete)
        delim = _sniff_delimiter(text)
        _check_header(text, delim, complete)
        stream = io.BufferedReader(_Stream(head, src.fh), buffer_size=1 << 20)
        offset = 0
        try:
            reader = pd.read_csv(stream, sep=delim, chunksize=chunk_rows, skipinitialspace=True, index_col=False,
                                 encoding="utf-8-sig", float_precision="round_trip")
            for chunk in reader:
                chunk.columns = [str(c).strip() for c in chunk.columns]
                if delim == ";":
                    chunk = _fix_decimal_commas(chunk)
                yield chunk, offset
                offset += len(chunk)
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise DataError(f"The file could not be parsed as CSV near data row {offset + 1}: {exc}") from None
        except pd.errors.EmptyDataError:
            raise EmptyDataError(_EMPTY) from None


class _Stream(io.RawIOBase):
    """``head`` and then the rest of ``fh``, stopping at the first NUL byte with the usual message."""

    def __init__(self, head: bytes, fh: BinaryIO) -> None:
        self._head, self._fh, self._pos = memoryview(head), fh, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: memoryview) -> int:
        if self._pos < len(self._head):
            n = min(len(b), len(self._head) - self._pos)
            b[:n] = self._head[self._pos:self._pos + n]
        else:
            n = self._fh.readinto(b) or 0
            nul = bytes(b[:n]).find(b"\x00")
            if nul >= 0:
                raise _binary(self._pos + nul)
        self._pos += n
        return n


def _stream_moments(chunks: Iterator[tuple[pd.DataFrame, int]], target: str, features: list[str] | None, degree: int,
                    fit_intercept: bool
                    ) -> tuple[MomentsAccumulator | None, list[str] | None, tuple[str, float] | None]:
    """The moments of the whole stream, its feature names, and (name, value) of a feature constant throughout."""
    acc: MomentsAccumulator | None = None
    lo = hi = None
    for chunk, offset in chunks:
        # Cells are checked chunk by chunk with row numbers counted over the whole file; the checks on
        # the whole problem (enough rows, no constant feature) wait for the end.
        features, raw, y, low, high = _checked_ranges(chunk, target, features, offset)
        lo = low if lo is None else np.minimum(lo, low)
        hi = high if hi is None else np.maximum(hi, high)
        with np.errstate(over="ignore", invalid="ignore"):
            X = _expand(raw, degree)
        if not np.isfinite(X).all():
            raise NonFiniteError(f"Raising the features to degree {degree} overflows float64 (values too large). "
                                 "Use a lower degree or rescale the column.")
        if acc is None:
            acc = MomentsAccumulator(X.shape[1], fit_intercept)
        acc.add(X, y)
    flat = [] if lo is None else np.flatnonzero(lo == hi)
    return acc, features, (features[flat[0]], float(lo[flat[0]])) if len(flat) else None


def load_design(
    source: CsvSource,
    target: str,
    features: list[str] | None = None,
    degree: int = 1,
    fit_intercept: bool = True,
    *,
    na: str = "error",
) -> Design:
    """``read_csv`` then ``build_design``."""
    return build_design(read_csv(source), target, features, degree, fit_intercept, na=na)
