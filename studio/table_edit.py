"""The Data page's table editor: cells of numeric columns are edited as text and parsed here, so 1e5 stays 1e5 and a
bad cell is refused with its row and column, before anything changes."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from linreg_core import DataError, numeric_columns

from .cache import session_cached
from .text import md

_TYPED_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _typed_number(value: Any, row: int, column: str) -> float:
    """A number typed into a cell of a numeric column (text: the grid's own number editor drops the 'e'
    of 1e5, so those columns are edited as text). Blank is a missing value; anything else is refused."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return float("nan")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        text = str(value).strip()
        if not text:
            return float("nan")
        if not _TYPED_NUMBER.fullmatch(text):
            hint = " Use a dot as the decimal separator." if "," in text else ""
            raise DataError(f"Row {row}, column {md(column)}: {md(repr(text), 60)} is not a number.{hint} "
                            "The edit was not applied.")
        number = float(text)
    if not math.isfinite(number):
        raise DataError(f"Row {row}, column {md(column)}: {md(repr(str(value)), 60)} is beyond double precision "
                        "(about ±1.8e308). The edit was not applied.")
    return number


def _number_text(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    text = repr(float(v)) if isinstance(v, (float, np.floating)) else str(v)
    return text[:-2] if text.endswith(".0") else text


def editable_table() -> pd.DataFrame:
    """The dataset as the Data page's editor shows it: numeric columns as text (cached per dataset version).

    The grid's own number editor drops the 'e' of a typed 1e5 and stores 15; as text, what is typed arrives
    whole and :func:`apply_editor_changes` parses it (or refuses it with a message).
    """
    ss = st.session_state

    def make() -> pd.DataFrame:
        df = ss.ds_df.copy()
        for col in numeric_columns(df):
            df[col] = [_number_text(v) for v in df[col].tolist()]
        return df

    return session_cached("_editor_table", ss.ds_version, make)


def apply_editor_changes(df: pd.DataFrame, changes: dict[str, Any]) -> pd.DataFrame:
    """Apply ``st.data_editor`` deltas (edited/added/deleted rows, positional) to ``df``.

    Cells of numeric columns must hold numbers (see :func:`_typed_number`): a bad one raises DataError and
    nothing is applied. Row numbers in messages are the table's, counted from 1.
    """
    out = df.copy()
    numeric = set(numeric_columns(df))

    def value(v: Any, row: int, col: str) -> Any:
        return _typed_number(v, row, col) if col in numeric else v

    for pos, cols in (changes.get("edited_rows") or {}).items():
        for col, val in cols.items():
            out.iloc[int(pos), out.columns.get_loc(col)] = value(val, int(pos) + 1, col)
    deleted = sorted(int(i) for i in changes.get("deleted_rows") or [])
    if deleted:
        out = out.drop(index=out.index[deleted])
    added = [r for r in (changes.get("added_rows") or []) if r]
    if added:
        first = len(out) + 1
        rows = [{c: value(v, first + i, c) for c, v in r.items()} for i, r in enumerate(added)]
        out = pd.concat([out, pd.DataFrame(rows, columns=list(out.columns))], ignore_index=True)
    for col in out.columns:  # keep numbers numeric after edits
        if col in numeric or out[col].dtype == object:
            conv = pd.to_numeric(out[col], errors="coerce")
            if conv.notna().sum() == out[col].notna().sum():
                out[col] = conv
    return out.reset_index(drop=True)
