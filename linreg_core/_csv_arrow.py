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
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    if len(raw) < MIN_BYTES:
        return None
    body = memoryview(raw)[3:] if raw.startswith(_BOM) else raw  # (a slice of bytes would copy them all)
    if _may_hold_hex(raw):
        return None  # Arrow reads hexadecimal integers; pandas keeps "0x10" as text (and the fit names the cell)
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(body)),
            read_options=pacsv.ReadOptions(use_threads=True, block_size=1 << 22),
            parse_options=pacsv.ParseOptions(delimiter=delim, quote_char='"', double_quote=True,
                                             newlines_in_values=False, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(null_values=_NA, strings_can_be_null=True,
                                                 quoted_strings_can_be_null=True,
                                                 true_values=["True", "TRUE", "true"],
                                                 false_values=["False", "FALSE", "false"]))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError, ValueError):
        return None  # ragged rows, bad bytes…: pandas' reading names the row
    names = table.column_names
    if len(set(names)) != len(names) or any(not n.strip() for n in names):
        return None  # pandas renames these ("x.1", "Unnamed: 0")
    for col in table.columns:
        kind = col.type
        if pa.types.is_signed_integer(kind):
            continue
        if pa.types.is_floating(kind):
            span = pc.min_max(col)  # one pass, nulls skipped, no temporaries
            peak = max(abs(span["min"].as_py() or 0.0), abs(span["max"].as_py() or 0.0))
            if peak >= 2.0**63 and peak != float("inf"):
                return None  # maybe an integer beyond int64, which Arrow rounds to a float and pandas does not
            continue
        if pa.types.is_boolean(kind) and col.null_count == 0:
            continue
        if not pa.types.is_string(kind) and not pa.types.is_large_string(kind):
            return None  # dates, times, empty columns…: pandas' own types
        levels = pc.unique(col)
        if len(levels) > _MAX_TEXT_LEVELS:
            return None
        text = pd.Series(levels.to_pylist(), dtype=object).dropna()
        if text.str.match(r"\s").any() or pd.to_numeric(text.str.strip(), errors="coerce").notna().any():
            return None  # spaces pandas skips, or numbers in a form Arrow reads as text
        if text.str.fullmatch(r"(?i)true|false").any():
            return None  # pandas' booleans in another case, or beside blanks
    return table


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
