"""Large CSV text parsed by Arrow's multi-threaded reader when it gives exactly the table pandas' parser gives.

pandas' C parser with ``float_precision="round_trip"`` is the reader's reference (see ``_csv._parse``); Arrow parses
numbers correctly rounded too (bit-identical to Python's ``float()`` of the text) at several times its speed and
without a Python string per text cell. What the two parse differently — hexadecimal and integers past int64, text
after a space (pandas skips it), numbers Arrow leaves as text, dates (Arrow's timestamps; pandas keeps text), blank
booleans, duplicate or empty header names, ragged rows — is handed back (``None``) to pandas, which reads it as always
and says what is wrong (tests/test_csv_arrow.py holds both readers to the same table on every such case).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa

# pandas' default missing-value spellings, so that Arrow leaves the same cells empty.
_NA = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA",
       "NULL", "NaN", "None", "n/a", "nan", "null"]
MIN_BYTES = 4 << 20  # smaller inputs: pandas is as fast, and its table is the reference
_MAX_TEXT_LEVELS = 100_000  # a text column with more distinct values is checked by pandas, not here
_BOM = b"\xef\xbb\xbf"


def large_enough(size: int) -> bool:
    """Whether ``size`` bytes of CSV are read by Arrow."""
    return size >= MIN_BYTES


def _may_hold_hex(body: bytes) -> bool:
    """Whether the data rows may hold a hexadecimal number ("0x10"), which Arrow reads as an integer and pandas keeps
    as text. Looking for the letter alone is a memchr; b"0x" in body (two bytes, the first one frequent in numbers)
    took half as long as Arrow's whole parse."""
    start = body.find(b"\n") + 1  # the header's names may hold an x
    if body.find(b"x", start) < 0 and body.find(b"X", start) < 0:
        return False
    return body.find(b"0x", start) >= 0 or body.find(b"0X", start) >= 0


def parse_with_arrow(raw: bytes, delim: str) -> pa.Table | None:
    """Arrow's table of what pandas would read from ``raw`` (UTF-8 CSV with a header, ``delim`` sniffed), or None;
    :func:`to_frame` turns it into that DataFrame."""
    import pyarrow as pa

    if not large_enough(len(raw)) or _may_hold_hex(raw):
        return None  # Arrow reads hexadecimal integers; pandas keeps "0x10" as text (and the fit names the cell)
    body = memoryview(raw)[3:] if raw.startswith(_BOM) else raw  # (a slice of bytes would copy them all)
    table = _read(pa.BufferReader(pa.py_buffer(body)), delim)
    return table if table is not None and _agrees(table) else None


def read_file_with_arrow(path: str, delim: str) -> pa.Table | None:
    """:func:`parse_with_arrow` of a plain file, read by Arrow itself: reading overlaps parsing and the text is never
    held whole (1e6 x 10 numbers: 0.36 -> 0.25 s, ~190 MiB less at the peak). What read_csv checks on the bytes first
    follows from the table here: a cell that is not valid UTF-8 makes Arrow refuse its text column, one with a NUL
    byte or a number in hexadecimal cannot be a number of a float column, and the text and integer columns are
    checked below (None: read the file the general way, which names the problem)."""
    import mmap

    import pyarrow as pa

    with pa.OSFile(path) as source:  # (a path string would have Arrow guess a compression from the file's name)
        table = _read(source, delim)
    if table is None or not _agrees(table):
        return None
    if any(pa.types.is_integer(col.type) for col in table.columns):
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as view:
            if _may_hold_hex(view):  # (mmap's find: a memchr over the page cache, ~30 ms for 200 MiB)
                return None
    return table


def _read(source: object, delim: str) -> pa.Table | None:
    """Arrow's parse of ``source`` with pandas' spellings of missing values and booleans, or None if it refuses."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        return pacsv.read_csv(
            source,
            read_options=pacsv.ReadOptions(use_threads=True, block_size=1 << 22),
            parse_options=pacsv.ParseOptions(delimiter=delim, quote_char='"', double_quote=True,
                                             newlines_in_values=False, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(null_values=_NA, strings_can_be_null=True,
                                                 quoted_strings_can_be_null=True,
                                                 true_values=["True", "TRUE", "true"],
                                                 false_values=["False", "FALSE", "false"]))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError, ValueError, OSError):
        return None  # ragged rows, bad bytes…: pandas' reading names the row


def _agrees(table: pa.Table) -> bool:
    """Whether ``table`` is what pandas' reader gives, column by column (what differs is listed in the docstring)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    names = table.column_names
    if len(set(names)) != len(names) or any(not n.strip() for n in names):
        return False  # pandas renames these ("x.1", "Unnamed: 0")
    for col in table.columns:
        kind = col.type
        if pa.types.is_signed_integer(kind):
            continue
        if pa.types.is_floating(kind):
            span = pc.min_max(col)  # one pass, nulls skipped, no temporaries
            peak = max(abs(span["min"].as_py() or 0.0), abs(span["max"].as_py() or 0.0))
            if peak >= 2.0**63 and peak != float("inf") and not pc.any(pc.not_equal(col, pc.floor(col))).as_py():
                # Maybe a column of integers beyond int64, which Arrow rounds to floats and pandas does not (a column
                # with a fraction in it is floats to pandas too).
                return False
            continue
        if pa.types.is_boolean(kind) and col.null_count == 0:
            continue
        if not pa.types.is_string(kind) and not pa.types.is_large_string(kind):
            return False  # dates, times, empty columns…: pandas' own types
        levels = pc.unique(col)
        if len(levels) > _MAX_TEXT_LEVELS:
            return False
        text = pd.Series(levels.to_pylist(), dtype=object).dropna()
        if text.str.contains("\x00", regex=False).any():
            return False  # a binary file: read_csv's own check says where
        if text.str.match(r"\s").any() or pd.to_numeric(text.str.strip(), errors="coerce").notna().any():
            return False  # spaces pandas skips, or numbers in a form Arrow reads as text
        if text.str.fullmatch(r"(?i)true|false").any():
            return False  # pandas' booleans in another case, or beside blanks
    return True


def to_frame(holder: list[pa.Table]) -> pd.DataFrame:
    """The DataFrame of the table from :func:`parse_with_arrow` in ``holder`` (which is emptied: a table passed
    as an argument would stay referenced by the caller), column by column, each column's Arrow memory given back as
    soon as it is copied out — the peak is the table and one column, not the table twice."""
    # Without pandas' copy of same-typed columns into one block; a column of several Arrow chunks comes out as a new
    # (writable) array, one of a single chunk as a view of Arrow's read-only memory: copy that.
    table = holder.pop()
    columns = {}
    names = table.column_names
    for name in names:
        s = table.column(0).to_pandas()
        columns[name] = s if s.dtype == object or s.to_numpy().flags.writeable else s.copy()
        table = table.remove_column(0)
    return pd.DataFrame(columns, copy=False)
