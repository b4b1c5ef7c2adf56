"""Opening a CSV source and reading its bytes: a path, a named pipe, stdin, bytes or a stream; compressed and UTF-16
input unwrapped; binary files, sparse holes and files that cannot fit in memory refused before they are read."""

from __future__ import annotations

import io
import os
import select
import stat
import sys
from typing import BinaryIO, TextIO, Union

from ._text import _mb
from .errors import DataError

CsvSource = Union[str, "os.PathLike[str]", bytes, bytearray, BinaryIO, TextIO]
_HEAD_BYTES = 65536  # what the delimiter and header are read from
_READ_CHUNK = 1 << 24  # bytes per read from a pipe: NUL bytes are found before the rest is read
_PIPE_WAIT_S = 30.0  # how long a named pipe may stay silent before we say nothing was written to it
# Peak memory of read_csv over the file size (bytes, then the parser's buffers and columns; bench_ingest
# measures ~3x for numbers). Refuse only what clearly cannot fit.
_LOAD_FACTOR = 3


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
