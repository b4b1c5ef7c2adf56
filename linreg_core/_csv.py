"""Reading CSV bytes: from a path, a pipe, bytes or a stream; compressed or wrapped input named; the delimiter sniffed;
the size, width and cells checked before the parser runs; every problem one sentence (linreg_core.errors)."""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import stat
import warnings
from collections.abc import Callable

import pandas as pd

from ._csv_arrow import large_enough, parse_with_arrow, read_file_with_arrow, to_frame
from ._csv_input import (  # noqa: F401 (the input side's names, imported from here by _stream and _sources)
    _HEAD_BYTES,
    _READ_CHUNK,
    CsvSource,
    _available_memory,
    _binary,
    _check_fits,
    _check_head,
    _Input,
    _read_bytes,
    _source_size,
    _unwrap,
    _wrapping,
)
from ._text import _mb, _quote_list, _shown
from .errors import DataError, EmptyDataError

__all__ = ["CsvSource", "read_csv"]

# Told (bytes parsed so far, bytes in all) as the parser reads; it may raise to abandon the read (the app's Stop).
Progress = Callable[[int, int], None]
# Wider tables are refused from a CSV's header line or a Parquet file's footer, before any data is read. The app
# shows 10,000 columns in about a second (a preview of 50, 20 preselected features); 100,000 took over 80 s.
MAX_COLUMNS = 10_000
# Rows × columns an upload may hold (400 MB as float64), the same for CSV and Parquet; a Parquet file's footer
# gives both before its data is decompressed (a few hundred kB of Parquet can decompress to gigabytes).
MAX_CELLS = 50_000_000
_PROGRESS_BLOCK = 1 << 18  # bytes per read while reporting progress (what pandas' parser asks for anyway)
_DELIMITERS = (",", ";", "\t")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
_EMPTY = "The CSV file is empty. Expected a header row and at least one data row."




def _check_text(raw: bytes) -> None:
    """Refuse workbooks, binary files and bytes that are not UTF-8, naming the first bad byte."""
    _check_head(raw[:_HEAD_BYTES])
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise _binary(nul)
    if raw.isascii():
        return
    # Validate in slices: decoding a big file at once would hold up to 4 bytes per character.
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(raw)
    for start in range(0, len(raw), _READ_CHUNK):
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(view[start:start + _READ_CHUNK], final=start + _READ_CHUNK >= len(raw))
        except UnicodeDecodeError as exc:
            pos = start - pending + exc.start
            raise DataError(
                f"The file is not valid UTF-8 text (byte 0x{raw[pos]:02x} at position {pos}). "
                "Save it as 'CSV UTF-8' and try again."
            ) from None


def _head_text(head: bytes, complete: bool) -> str:
    """The first lines of the data as text; unless ``head`` is all of it, cut at a line end (no split rows)."""
    cut = len(head) if complete else head.rfind(b"\n") + 1
    try:
        return (head[:cut] or head).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"The file is not valid UTF-8 text (byte 0x{head[exc.start]:02x} at position {exc.start}). "
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


def _check_width(columns: int, what: str, fmt: str = "csv", cut: bool = False) -> None:
    """Refuse a table of more than MAX_COLUMNS columns (``cut``: ``columns`` were counted on part of the header)."""
    if columns > MAX_COLUMNS:
        raise DataError(f"{what} has {'at least ' if cut else ''}{columns:,} columns; the studio reads at most "
                        f"{MAX_COLUMNS:,}. Keep the columns you need and load that file instead (in pandas: "
                        f"df[['x', 'y']].to_{fmt}('smaller.{fmt}'{', index=False' if fmt == 'csv' else ''})).")


def _check_cells(rows: int, columns: int, what: str, limit: int | None) -> None:
    """Refuse a table of more than ``limit`` cells (rows × columns), naming its shape."""
    if limit is not None and rows * columns > limit:
        raise DataError(f"{what} has {rows:,} rows × {columns:,} columns = {rows * columns:,} cells; an upload holds "
                        f"at most {limit:,}. Upload a sample or fewer columns, or fit it from the command line "
                        "(python -m linreg_core fit FILE --out-of-core).")


def _check_header(head: str, delim: str, complete: bool) -> None:
    """Refuse a header wider than MAX_COLUMNS, or one that names a column twice.

    pandas would rename the second 'x' to 'x.1' (or keep both 'x', depending on the engine), and a
    column picked by name would then be the wrong one or two at once.
    """
    try:
        row = next((r for r in csv.reader(io.StringIO(head), delimiter=delim, skipinitialspace=True) if r), [])
    except csv.Error:
        return  # the parser will say what is wrong with the file
    cut = not complete and "\n" not in head
    if cut:
        row = row[:-1]  # a header line of over 16 MiB: its last name may be cut short
    _check_width(len(row), "This file", cut=cut)
    seen: dict[str, list[int]] = {}
    for i, name in enumerate(row, start=1):
        if name.strip():  # empty names become 'Unnamed: i', unique by construction
            seen.setdefault(name.strip(), []).append(i)
    for name, where in seen.items():
        if len(where) > 1:
            times = "twice" if len(where) == 2 else f"{len(where)} times"
            cols = ", ".join(map(str, where[:-1])) + f" and {where[-1]}"
            raise DataError(f"The header names column {_shown(name)} {times} (columns {cols}). "
                            "Give every column a unique name and load the file again.")


_RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def _ragged(exc: Exception, delim: str) -> DataError:
    m = _RAGGED.search(str(exc))
    if m:
        want, line, got = m.groups()
        # One convention for row numbers everywhere: data rows, header not counted (row 1 is the first data row).
        return DataError(
            f"Row {int(line) - 1} (line {line} of the file) has {got} fields but the header has {want}. "
            f"Every row needs the same number of {_DELIMITER_NAMES[delim]}-separated values."
        )
    return DataError(f"The file could not be parsed as CSV: {exc}")


def read_csv(source: CsvSource, max_bytes: int | None = None, max_cells: int | None = None,
             progress: Progress | None = None) -> pd.DataFrame:
    """Read a CSV with a header row from a path, ``"-"`` (stdin), a named pipe, bytes or a file object.

    ``max_bytes`` refuses larger inputs with a message (the app's upload limit; the CLI has none), and
    ``max_cells`` tables of more rows × columns (the app's uploads: :data:`MAX_CELLS`). A header of more than
    :data:`MAX_COLUMNS` columns is refused before the data is parsed.

    ``progress(done, total)`` is told how many of the bytes the parser has read, every 256 KiB; it may raise to
    abandon the read. The table is the same with or without it.

    The delimiter (comma, semicolon or tab) is sniffed and a UTF-8 BOM is dropped.
    Cells are parsed as numbers where possible; other columns stay text so that
    the error for a bad cell can name its row and column later. Every input goes through the same
    parser with the same settings, so a file is read the same way whatever its size.
    """
    if max_bytes is not None:
        size = _source_size(source)
        if size is not None and size > max_bytes:
            raise DataError(
                f"The file is {size / 2**20:.1f} MB, over the {max_bytes / 2**20:.0f} MB limit. Use a smaller "
                "sample, or the command line (python -m linreg_core fit FILE --out-of-core) for big files."
            )
    if progress is None and (df := _read_plain_file(source)) is not None:
        return _finish(df, ",", max_cells)
    raw = _unwrap(_read_bytes(source), max_bytes)
    _check_text(raw)
    if not raw or raw.isspace():  # (raw.strip() would copy a big file)
        raise EmptyDataError(_EMPTY)
    newline = raw.find(b"\n", 0, _READ_CHUNK)
    size = max(_HEAD_BYTES, newline + 1)  # at least the whole header line
    complete = len(raw) <= size
    head = _head_text(raw[:size], complete)
    delim = _sniff_delimiter(head)
    if newline < 0:  # a header line of over 16 MiB, of which only 64 KiB were read as CSV: count its first 16 MiB
        _check_width(raw.count(delim.encode(), 0, _READ_CHUNK) + 1, "This file", cut=len(raw) > _READ_CHUNK)
    _check_header(head, delim, complete)
    size = len(raw)
    try:
        # pandas' C engine is the reference for every input; a large plain file is read by Arrow where that gives the
        # same table (_csv_arrow). Its text is let go once Arrow holds the values, before they are copied out.
        table = [parse_with_arrow(raw, delim)] if progress is None else [None]
        if table[0] is not None:
            del raw
            df = to_frame(table)
        else:
            df = _parse(raw, delim, progress=progress)
    except MemoryError:
        raise _out_of_memory(size) from None
    return _finish(df, delim, max_cells)


def _out_of_memory(size: int) -> DataError:
    return DataError(f"Ran out of memory parsing {_mb(size)} of CSV. Use a smaller sample, or stream "
                     "the file: python -m linreg_core fit FILE --out-of-core.")


def _read_plain_file(source: CsvSource) -> pd.DataFrame | None:
    """The table of a plain comma- or tab-separated file of MIN_BYTES or more, read by Arrow from the file itself
    (read_file_with_arrow), or None: then the file is read the general way, which also names what is wrong."""
    if not isinstance(source, (str, os.PathLike)) or str(source) == "-":
        return None
    try:
        info = os.stat(source)
    except OSError:
        return None  # the general way says what is wrong with the path
    if not stat.S_ISREG(info.st_mode) or not large_enough(info.st_size):
        return None  # (a named pipe is opened once, by the general way: its data can be read only once)
    with _Input(source) as src:  # a sparse file: the general way's own message
        head = os.pread(src.fh.fileno(), _HEAD_BYTES, 0)
        _check_head(head)
        newline = head.find(b"\n")
        if _wrapping(head) or newline < 0:
            return None
        _check_fits(src.size, src.name, _available_memory())
        try:
            text = head[:head.rfind(b"\n") + 1].decode("utf-8-sig")
        except UnicodeDecodeError:
            return None
        delim = _sniff_delimiter(text)
        if delim == ";":
            return None  # decimal commas are read as text first, then fixed (_fix_decimal_commas)
        try:
            _check_header(text, delim, complete=False)
        except DataError:
            return None  # the general way checks the whole file's bytes first, then the header: its message
        try:
            table = [read_file_with_arrow(os.fspath(source), delim)]
            return to_frame(table) if table[0] is not None else None
        except MemoryError:
            raise _out_of_memory(src.size) from None


def _finish(df: pd.DataFrame, delim: str, max_cells: int | None) -> pd.DataFrame:
    """The last checks of a parsed table, the same whichever reader parsed it."""
    df.columns = [str(c).strip() for c in df.columns]
    if len(df) == 0:
        raise EmptyDataError(
            f"The CSV has a header ({_quote_list(list(df.columns))}) but no data rows. Add at least one row of numbers."
        )
    _check_width(df.shape[1], "This file")  # the header said so already, unless it could not be read as CSV
    _check_cells(len(df), df.shape[1], "This file", max_cells)
    if delim == ";":
        df = _fix_decimal_commas(df)
    return df


class _Reporting(io.BytesIO):
    """``raw`` for the parser, telling ``progress`` how far it has read. pandas reads a BytesIO through a
    TextIOWrapper that pulls blocks with read1: the same path, and so the same table, as a plain BytesIO."""

    def __init__(self, raw: bytes, progress: Progress) -> None:
        super().__init__(raw)
        self._progress, self._total = progress, len(raw)

    def read1(self, size: int | None = -1) -> bytes:
        out = super().read1(_PROGRESS_BLOCK if size is None or size < 0 else min(size, _PROGRESS_BLOCK))
        self._progress(self.tell(), self._total)
        return out

    def read(self, size: int | None = -1) -> bytes:  # blocks until ``size`` bytes or the end
        want = self._total if size is None or size < 0 else size
        parts = []
        while want > 0 and (part := self.read1(want)):
            parts.append(part)
            want -= len(part)
        return b"".join(parts)


def _parse(raw: bytes, delim: str, dtype: dict[str, type] | None = None,
           progress: Progress | None = None) -> pd.DataFrame:
    # pandas' C engine with one set of options is the reference for every input (a large plain file is read by
    # Arrow only where that gives the same table: read_csv), so that columns, cell types and errors never depend on
    # the size. index_col=False: never turn a first column into the index when rows are longer than the header.
    # float_precision="round_trip": numbers correctly rounded (the default converter can be off in the 13th digit).
    options = dict(sep=delim, skipinitialspace=True, skip_blank_lines=True, index_col=False, encoding="utf-8-sig",
                   float_precision="round_trip")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            warnings.simplefilter("always", pd.errors.DtypeWarning)
            df = pd.read_csv(io.BytesIO(raw) if progress is None else _Reporting(raw, progress), dtype=dtype,
                             **options)
    except pd.errors.ParserError as exc:
        raise _ragged(exc, delim) from None
    except pd.errors.EmptyDataError:
        raise EmptyDataError(_EMPTY) from None
    if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
        _check_extra_fields(raw.decode("utf-8-sig"), delim)
    if dtype is None and any(issubclass(w.category, pd.errors.DtypeWarning) for w in caught):
        # The parser types a big file in blocks of rows: a column that is numbers in one block and text in
        # another comes back as a mix of floats and strings. Read such columns again as text, as they are
        # when the whole column sits in one block.
        kinds = {c: set(df[c].map(type)) for c in df.columns if df[c].dtype == object}
        mixed = {c: str for c, k in kinds.items() if str in k and k & {int, float, bool}}
        if mixed:
            df = _parse(raw, delim, mixed, progress)
    return df


def _check_extra_fields(text: str, delim: str) -> None:
    # pandas drops fields beyond the header; fine for a trailing delimiter, data loss otherwise.
    lines = [ln for ln in text.splitlines() if ln.strip()]
    want = lines[0].count(delim) + 1
    for i, ln in enumerate(lines[1:], start=2):
        fields = ln.split(delim)
        if len(fields) > want and any(f.strip() for f in fields[want:]):
            raise DataError(
                f"Row {i - 1} (line {i} of the file) has {len(fields)} fields but the header has {want}. "
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
