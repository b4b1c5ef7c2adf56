"""Reading CSV bytes: from a path, a pipe, bytes or a stream; compressed or wrapped input named; the delimiter sniffed;
the size, width and cells checked before the parser runs; every problem one sentence (linreg_core.errors)."""

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
from typing import BinaryIO, TextIO, Union

import pandas as pd

from ._csv_arrow import parse_with_arrow
from ._text import _mb, _quote_list, _shown
from .errors import DataError, EmptyDataError

__all__ = ["CsvSource", "read_csv"]

CsvSource = Union[str, "os.PathLike[str]", bytes, bytearray, BinaryIO, TextIO]
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
_HEAD_BYTES = 65536  # what the delimiter and header are read from
_READ_CHUNK = 1 << 24  # bytes per read from a pipe: NUL bytes are found before the rest is read
_PIPE_WAIT_S = 30.0  # how long a named pipe may stay silent before we say nothing was written to it
# Peak memory of read_csv over the file size (bytes, then the parser's buffers and columns; bench_ingest
# measures ~3x for numbers). Refuse only what clearly cannot fit.
_LOAD_FACTOR = 3
_EMPTY = "The CSV file is empty. Expected a header row and at least one data row."


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
    # pandas' C engine with one set of options is the reference for every input (a large plain file is read by
    # Arrow only where that gives the same table: _csv_arrow), so that columns, cell types and errors never depend on
    # the size. index_col=False: never turn a first column into the index when rows are longer than the header.
    # float_precision="round_trip": numbers correctly rounded (the default converter can be off in the 13th digit).
    if dtype is None and progress is None and (df := parse_with_arrow(raw, delim)) is not None:
        return df
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
