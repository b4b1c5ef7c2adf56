"""CSV loading and design-matrix construction with clear, typed errors."""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import select
import stat
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO, TextIO, Union

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
# Told (bytes parsed so far, bytes in all) as the parser reads; it may raise to abandon the read (the app's Stop).
Progress = Callable[[int, int], None]

MAX_DEGREE = 20
# Wider tables are refused from a CSV's header line or a Parquet file's footer, before any data is read. The app
# shows 10,000 columns in about a second (a preview of 50, 20 preselected features); 100,000 took over 80 s.
MAX_COLUMNS = 10_000
# Rows × columns an upload may hold (400 MB as float64), the same for CSV and Parquet; a Parquet file's footer
# gives both before its data is decompressed (a few hundred kB of Parquet can decompress to gigabytes).
MAX_CELLS = 50_000_000
_PROGRESS_BLOCK = 1 << 18  # bytes per read while reporting progress (what pandas' parser asks for anyway)
_MOMENT_BLOCK = 262_144  # rows per QR block when computing moments: bounds the temporary copy
_DELIMITERS = (",", ";", "\t")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
_HEAD_BYTES = 65536  # what the delimiter and header are read from
_READ_CHUNK = 1 << 24  # bytes per read from a pipe: NUL bytes are found before the rest is read
_PIPE_WAIT_S = 30.0  # how long a named pipe may stay silent before we say nothing was written to it
# Peak memory of read_csv over the file size (bytes, then the parser's buffers and columns; bench_ingest
# measures ~3x for numbers). Refuse only what clearly cannot fit.
_LOAD_FACTOR = 3
_SHOWN_CHARS = 60  # a user value quoted in a message is cut to this: a 50 kB cell must not make a 50 kB error
_EMPTY = "The CSV file is empty. Expected a header row and at least one data row."


def _shown(value: object) -> str:
    """``repr`` of a user value (cell, column name) for a message, cut to a readable length."""
    text = str(value)
    if len(text) <= _SHOWN_CHARS:
        return repr(text)
    return f"{text[:_SHOWN_CHARS]!r}… ({len(text):,} characters)"


def _quote_list(names: list[str]) -> str:
    return ", ".join(_shown(str(n)) for n in names)


def _mb(n: float) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.1f} MB"


def _available_memory() -> int | None:
    """Bytes this process can still allocate (Linux: MemAvailable, capped by a cgroup limit); None if unknown."""
    avail = None
    try:
        with open("/proc/meminfo") as fh:
            avail = next((int(ln.split()[1]) * 1024 for ln in fh if ln.startswith("MemAvailable:")), None)
        with open("/sys/fs/cgroup/memory.max") as fh:
            limit = fh.read().strip()
        if limit != "max":
            with open("/sys/fs/cgroup/memory.current") as fh:
                room = int(limit) - int(fh.read())
            avail = room if avail is None else min(avail, room)
    except (OSError, ValueError):
        pass
    return avail


def _check_fits(size: int, what: str, limit: int | None) -> None:
    if limit is not None and size * _LOAD_FACTOR > limit:
        raise DataError(
            f"{what} is {_mb(size)}: loading it needs about {_mb(size * _LOAD_FACTOR)} of memory and only "
            f"{_mb(limit)} is free. Stream it instead (python -m linreg_core fit FILE --out-of-core keeps only "
            "its sufficient statistics), or use a smaller sample."
        )


def _binary(offset: int) -> DataError:
    return DataError(f"The file looks binary (it contains NUL bytes at byte {offset:,}), not CSV text. "
                     "Expected a text CSV file.")


_EXCEL = ("This looks like an Excel workbook, not a CSV file. "
          "Save it as CSV (File > Save As > CSV UTF-8) and load that instead.")
_COMPRESSED = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"), (b"PK\x03\x04", "zip"))
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _wrapping(head: bytes) -> str | None:
    """'gzip', 'bz2', 'xz', 'zip' or 'utf-16' when the bytes are a compressed or UTF-16 CSV (decoded before
    parsing), else None."""
    for magic, kind in _COMPRESSED:
        if head.startswith(magic):
            return kind
    return "utf-16" if head.startswith(_UTF16_BOMS) else None


def _check_head(head: bytes) -> None:
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise DataError(_EXCEL)
    if _wrapping(head):  # decoded first; its text is checked then
        return
    nul = head.find(b"\x00")
    if nul >= 0:
        raise _binary(nul)


def _capped(fh: BinaryIO, limit: int | None, what: str) -> bytes:
    data = fh.read() if limit is None else fh.read(limit + 1)
    if limit is not None and len(data) > limit:
        raise DataError(f"The {what} file decompresses to more than the {limit / 2**20:.0f} MB limit. Use a smaller "
                        "sample, or the command line for big files.")
    return data


def _unwrap(raw: bytes, limit: int | None) -> bytes:
    """Compressed CSV (gzip, bz2, xz, a zip holding one CSV) decompressed, and UTF-16 (Excel's "Unicode text")
    re-encoded as UTF-8; other bytes as they are. Damage is one sentence naming the format."""
    kind = _wrapping(raw[:8])
    if kind in ("gzip", "bz2", "xz"):
        import bz2
        import gzip
        import lzma

        opener = {"gzip": lambda f: gzip.GzipFile(fileobj=f), "bz2": bz2.BZ2File, "xz": lzma.LZMAFile}[kind]
        try:
            with opener(io.BytesIO(raw)) as fh:
                raw = _capped(fh, limit, kind)
        except (OSError, EOFError, lzma.LZMAError) as exc:
            raise DataError(f"The {kind} file is damaged or incomplete ({exc}). Compress the CSV again, or load it "
                            "uncompressed.") from None
    elif kind == "zip":
        import zipfile

        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as zf:
                names = [n for n in zf.namelist() if not n.endswith("/") and not n.startswith("__MACOSX")]
                if "[Content_Types].xml" in names or any(n.startswith(("xl/", "word/")) for n in names):
                    raise DataError(_EXCEL)
                if len(names) != 1:
                    shown = ", ".join(repr(n) for n in names[:5]) + (", …" if len(names) > 5 else "")
                    raise DataError(f"The zip file holds {len(names)} files ({shown or 'none'}); put exactly one CSV "
                                    "file in it, or load the CSV itself.")
                with zf.open(names[0]) as fh:
                    raw = _capped(fh, limit, "zip")
        except zipfile.BadZipFile as exc:
            raise DataError(f"This looks like an Excel workbook or a zip file, but it cannot be opened ({exc}). Save it "
                            "as CSV (File > Save As > CSV UTF-8), or zip one CSV file again.") from None
    if raw.startswith(_UTF16_BOMS):
        try:
            raw = raw.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(f"The file starts as UTF-16 text but byte {exc.start:,} is not UTF-16. Save it as "
                            "'CSV UTF-8' and try again.") from None
    return raw


def _check_holes(fd: int, size: int) -> None:
    """A sparse hole reads as NUL bytes: refuse it from the file's map, before reading gigabytes of zeros."""
    seek_hole = getattr(os, "SEEK_HOLE", None)
    if seek_hole is None or size == 0:
        return
    try:
        hole = os.lseek(fd, 0, seek_hole)
    except OSError:
        return
    finally:
        os.lseek(fd, 0, os.SEEK_SET)
    if hole < size:
        start = max(0, hole - _HEAD_BYTES)
        nul = os.pread(fd, hole - start, start).find(b"\x00")  # the data block before the hole may end in NULs
        raise _binary(start + nul if nul >= 0 else hole)


class _Input:
    """A CSV source opened for reading once: a regular file, a named pipe, or stdin (``"-"``)."""

    def __init__(self, source: str | os.PathLike[str]) -> None:
        self.fh: BinaryIO
        self.size: int | None = None  # known for regular files
        self.owned = True
        if str(source) == "-":
            if sys.stdin is None:  # started with stdin closed (0<&-)
                raise DataError("Standard input is closed, so there is no data to read from '-'. Pass a file "
                                "path, or pipe the data in (... | python -m linreg_core fit - --y COL).")
            self.fh, self.owned, self.name = sys.stdin.buffer, False, "The data on standard input"
            return
        path = os.fspath(source)
        self.name = f"The file {path!r}"
        if not os.path.exists(path):
            raise DataError(f"File {path!r} not found. Check the path and try again.")
        if os.path.isdir(path):
            raise DataError(f"{path!r} is a folder, not a CSV file.")
        if stat.S_ISFIFO(os.stat(path).st_mode):
            self.fh = _open_pipe(path)
            return
        self.fh = open(path, "rb")
        try:
            st = os.fstat(self.fh.fileno())
            if stat.S_ISREG(st.st_mode):
                self.size = st.st_size
                _check_holes(self.fh.fileno(), st.st_size)
        except BaseException:
            self.fh.close()
            raise

    def __enter__(self) -> _Input:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.owned:
            self.fh.close()


def _open_pipe(path: str) -> BinaryIO:
    # open() on a pipe with no writer blocks forever; open without blocking and wait a bounded time instead.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        if not poller.poll(_PIPE_WAIT_S * 1000):
            raise DataError(f"Nothing was written to the pipe {path!r} in {_PIPE_WAIT_S:g} s. Start the program "
                            "that writes the data to it first, or pass a regular file.")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _read_all(src: _Input) -> bytes:
    """Every byte of ``src``, refused early if it holds NUL bytes or clearly will not fit in memory."""
    limit = _available_memory()
    if src.size is not None:  # a regular file: check its head and size, then read it in one piece (no copies)
        _check_head(os.pread(src.fh.fileno(), _HEAD_BYTES, 0))
        _check_fits(src.size, src.name, limit)
        return src.fh.read()
    chunks, total, wrapped = [], 0, False  # a pipe or stdin: its size shows as it is read
    while chunk := src.fh.read(_READ_CHUNK):
        if total == 0:
            _check_head(chunk)
            wrapped = _wrapping(chunk) is not None  # compressed or UTF-16: NUL bytes are expected
        nul = -1 if wrapped else chunk.find(b"\x00")
        if nul >= 0:
            raise _binary(total + nul)
        chunks.append(chunk)
        total += len(chunk)
        _check_fits(total, src.name, limit)
    return b"".join(chunks)


def _read_bytes(source: CsvSource) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        with _Input(source) as src:
            return _read_all(src)
    data = source.read()
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def _source_size(source: CsvSource) -> int | None:
    if isinstance(source, (bytes, bytearray)):
        return len(source)
    if isinstance(source, (str, os.PathLike)) and str(source) != "-" and os.path.isfile(source):
        return os.path.getsize(source)
    return None


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
    try:
        df = _parse(raw, delim, progress=progress)
    except MemoryError:
        raise DataError(f"Ran out of memory parsing {_mb(len(raw))} of CSV. Use a smaller sample, or stream "
                        "the file: python -m linreg_core fit FILE --out-of-core.") from None
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
    # One parser (pandas' C engine) and one set of options for every input, so that a file's columns, cell
    # types and errors never depend on its size. index_col=False: never turn a first column into the index
    # when rows are longer than the header. float_precision="round_trip": numbers correctly rounded (the
    # default converter can be off in the 13th digit).
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


def polynomial_terms(columns: list[str], degree: int) -> list[str]:
    """Term names in design order: for each column, x, x^2, ..., x^degree."""
    return [c if k == 1 else f"{c}^{k}" for c in columns for k in range(1, degree + 1)]


def _expand(raw: np.ndarray, degree: int) -> np.ndarray:
    if degree == 1:
        return np.ascontiguousarray(raw, dtype=np.float64)
    cols = [raw[:, j] ** k for j in range(raw.shape[1]) for k in range(1, degree + 1)]
    return np.ascontiguousarray(np.column_stack(cols), dtype=np.float64)


def formula_term(name: str) -> str:
    """A column name as a formula term (backticks when it is not a plain identifier)."""
    return name if name.isidentifier() else "`" + name.replace("`", "\\`") + "`"


def implied_formula(target: str, features: list[str], degree: int = 1, fit_intercept: bool = True) -> str:
    """The formula that ``--y/--x/--degree`` mean: ``y ~ x + I(x**2)``."""
    terms = [formula_term(f) if k == 1 else f"I({formula_term(f)}**{k})" for f in features for k in range(1, degree + 1)]
    return f"{formula_term(target)} ~ " + " + ".join(terms) + ("" if fit_intercept else " - 1")


formula_matrix_hook: Any = None  # _formula.formula_matrix, installed by _formula (which imports this module)


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
    extra: dict = field(default_factory=dict, compare=False)  # caches (the moments), rows dropped, column kinds
    formula: str | None = None  # "tip ~ 1 + total_bill + C(day)" when built from a formula (see _formula.py)
    spec: Any = field(default=None, compare=False, repr=False)  # formulaic's ModelSpec of the terms, with its levels

    @property
    def model_formula(self) -> str:
        """The formula of this model: the one given, or the one ``--y/--x/--degree`` imply."""
        if self.formula is not None:
            return self.formula
        return implied_formula(self.target, self.features, self.degree, self.fit_intercept)

    @property
    def line_feature(self) -> str | None:
        """The one numeric column the terms are built from, when there is one (the fit is then a curve in it)."""
        if len(self.features) != 1:
            return None
        if self.formula is not None and self.extra.get("kinds", {}).get(self.features[0]) != "number":
            return None
        if self.formula is not None and (not self.terms or self.terms[0] != self.features[0]):
            return None  # the charts put the first term on the x axis: it must be the column itself
        return self.features[0]

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
        if self.formula is not None:
            return self.matrix(pd.DataFrame(raw, columns=self.features))
        return _expand(raw, self.degree)

    def matrix(self, df: pd.DataFrame, row_offset: int = 0) -> np.ndarray:
        """This design's terms (no intercept column) computed on new rows of a table: what predictions need.

        Missing columns, blank cells, text in a numeric column and, for formulas, category levels the fit never
        saw are refused with a message naming them.
        """
        if self.formula is not None:
            if formula_matrix_hook is None:  # a formula design comes from _formula, which sets the hook on import
                raise DataError("This design was built from a formula; import linreg_core._formula to apply it.")
            return formula_matrix_hook(self, df, row_offset)
        _check_columns(df, self.features)
        raw = np.column_stack([_numeric_column(df, f, row_offset) for f in self.features])
        finite = np.isfinite(raw).all(axis=1)
        if not finite.all():
            i = int(np.flatnonzero(~finite)[0])
            col = self.features[int(np.flatnonzero(~np.isfinite(raw[i]))[0])]
            raise NonFiniteError(f"{int((~finite).sum())} row(s) have blank, NaN or infinite values (first: row "
                                 f"{i + 1 + row_offset}, column {_shown(col)}). Fill them in or remove those rows.",
                                 rows=(np.flatnonzero(~finite) + 1 + row_offset).tolist())
        with np.errstate(over="ignore", invalid="ignore"):
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
        if bad.sum() * 2 > int((~blank).sum()):  # mostly text: a category column, not a typo
            raise NonNumericError(
                f"Column {_shown(col)} holds text such as {_shown(value)} (row {row}), not numbers. To use it as "
                f"categories, name it in a formula: --formula 'y ~ x + {col}' on the command line, or the "
                "formula box on the Data page.", column=col, row=row, value=value)
        raise NonNumericError(
            f"Column {_shown(col)} has a non-numeric value {_shown(value)} at row {row}. "
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
            raise ColumnNotFoundError(f"Column {_shown(name)} not found. Available columns: {shown}.")


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
            f"Column {_shown(name)} has values as large as {big:.3g}; their squares overflow double precision. "
            f"Rescale the column (e.g. divide it by 1e{int(np.log10(big)) - 3}) and try again."
        )
    if 0.0 < big < _MIN_MAGNITUDE:
        raise DataError(
            f"Column {_shown(name)} has values no larger than {big:.3g}; their squares underflow to zero in double "
            f"precision. Rescale the column (e.g. multiply it by 1e{-int(np.log10(big)) - 3}) and try again."
        )


def _checked_columns(df: pd.DataFrame, target: str, features: list[str] | None,
                     row_offset: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The feature names and the (rows, features) and (rows,) float arrays, checked cell by cell."""
    _check_columns(df, [target])
    if features is None:
        features = [c for c in numeric_columns(df) if c != target]
        if not features:
            raise DataError(
                f"No numeric feature columns besides the target {_shown(target)}. "
                f"Available columns: {_quote_list([str(c) for c in df.columns])}. Name the feature columns explicitly."
            )
    features = [str(f) for f in features]
    if not features:
        raise DataError("No feature columns were chosen. Pick at least one feature column.")
    _check_columns(df, features)
    if target in features:
        raise DataError(f"Column {_shown(target)} is the target and cannot also be a feature. Remove it from the features.")
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
            f"(first: row {rows[0]}, column {_shown(col)}). Remove those rows or fill in the values.",
            rows=rows,
        )

    for name, col in zip([*features, target], [*raw.T, y]):
        _check_magnitude(name, col)

    return features, raw, y


def _constant_feature(name: str, value: float) -> ConstantFeatureError:
    return ConstantFeatureError(f"Feature {_shown(name)} is constant (every row is {value:g}), so its slope cannot be "
                                "estimated. Remove it from the features.")


def build_design(
    df: pd.DataFrame,
    target: str,
    features: list[str] | None = None,
    degree: int = 1,
    fit_intercept: bool = True,
    *,
    row_offset: int = 0,
    na: str = "error",
) -> Design:
    """Validate ``df`` and build the design for ``target ~ features`` (polynomial in each feature).

    ``features=None`` takes every numeric column but the target. ``na='drop'`` leaves out rows with a
    blank, NaN or infinite cell in those columns (``design.extra['dropped_rows']`` says how many);
    ``'error'`` names the first. Raises a :class:`~linreg_core.errors.DataError` subclass naming the problem.
    """
    _check_degree(degree)
    degree = int(degree)
    if na not in ("error", "drop"):
        raise ParameterError(f"The 'na' parameter must be one of 'error', 'drop'. Got {na!r} instead.")
    dropped, kept = 0, None
    if na == "drop":
        df, dropped, kept = _drop_blank_rows(df, target, features)
    features, raw, y = _checked_columns(df, target, features, row_offset)
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
                raise _constant_feature(f, raw[0, j])
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
                raise DataError(f"Term {_shown(term)} reaches {big:.3g}; its square overflows double precision. "
                                "Use a lower degree or rescale the column first.")
    return Design(X=X, y=np.ascontiguousarray(y), terms=terms, target=target, features=features,
                  degree=degree, fit_intercept=fit_intercept, extra={"dropped_rows": dropped, "kept_rows": kept})


def _drop_blank_rows(df: pd.DataFrame, target: str,
                     features: list[str] | None) -> tuple[pd.DataFrame, int, np.ndarray | None]:
    """Rows with a blank, NaN or infinite cell in the model's columns left out (text typos are still errors)."""
    _check_columns(df, [target, *(features or [])])
    cols = [target, *(features if features is not None else [c for c in numeric_columns(df) if c != target])]
    bad = np.zeros(len(df), dtype=bool)
    for c in dict.fromkeys(cols):
        s = df[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            bad |= ~np.isfinite(s.to_numpy(dtype=np.float64, na_value=np.nan))
        else:
            text = s.astype("string").str.strip()
            bad |= (text.isna() | text.eq("") | text.str.lower().isin(["nan", "inf", "-inf", "+inf"])).to_numpy()
    if bad.all():
        raise InsufficientDataError(f"Every row has a blank cell in the model's columns ({_quote_list(cols)}): "
                                    "no rows are left.")
    if not bad.any():
        return df, 0, None
    return df.loc[~bad].reset_index(drop=True), int(bad.sum()), np.flatnonzero(~bad)


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
        acc, features, constant = _stream_moments(stream, delim, target, features, degree, fit_intercept,
                                                  chunk_rows)
    if acc is None or acc.n == 0:
        raise EmptyDataError("The CSV has a header but no data rows. Add at least one row of numbers.")
    terms = polynomial_terms(features, degree)
    p = len(terms) + int(fit_intercept)
    if acc.n < p:
        raise InsufficientDataError(f"{acc.n} row(s) are too few to fit {p} parameters. Add rows or use fewer terms.")
    if fit_intercept and acc.n > 1 and constant:
        raise _constant_feature(*constant)
    return Design(X=None, y=None, terms=terms, target=target, features=list(features), degree=degree,
                  fit_intercept=fit_intercept, extra={"moments": acc.result()})


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


def _stream_moments(stream: BinaryIO, delim: str, target: str, features: list[str] | None, degree: int,
                    fit_intercept: bool, chunk_rows: int
                    ) -> tuple[MomentsAccumulator | None, list[str] | None, tuple[str, float] | None]:
    """The moments of the whole stream, its feature names, and (name, value) of a feature constant throughout."""
    acc: MomentsAccumulator | None = None
    offset = 0
    lo = hi = None
    try:
        reader = pd.read_csv(stream, sep=delim, chunksize=chunk_rows, skipinitialspace=True, index_col=False,
                             encoding="utf-8-sig", float_precision="round_trip")
        for chunk in reader:
            chunk.columns = [str(c).strip() for c in chunk.columns]
            if delim == ";":
                chunk = _fix_decimal_commas(chunk)
            # Cells are checked chunk by chunk with row numbers counted over the whole file; the checks on
            # the whole problem (enough rows, no constant feature) wait for the end.
            features, raw, y = _checked_columns(chunk, target, features, offset)
            lo = raw.min(axis=0) if lo is None else np.minimum(lo, raw.min(axis=0))
            hi = raw.max(axis=0) if hi is None else np.maximum(hi, raw.max(axis=0))
            with np.errstate(over="ignore", invalid="ignore"):
                X = _expand(raw, degree)
            if not np.isfinite(X).all():
                raise NonFiniteError(f"Raising the features to degree {degree} overflows float64 (values too large). "
                                     "Use a lower degree or rescale the column.")
            if acc is None:
                acc = MomentsAccumulator(X.shape[1], fit_intercept)
            acc.add(X, y)
            offset += len(chunk)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"The file could not be parsed as CSV near data row {offset + 1}: {exc}") from None
    except pd.errors.EmptyDataError:
        raise EmptyDataError(_EMPTY) from None
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
                      design.degree, design.fit_intercept, extra={"rows": idx, "kinds": design.extra.get("kinds", {})},
                      formula=design.formula, spec=design.spec)

    return part(train_idx), part(val_idx)
