"""What a formula's columns mean before formulaic sees them (numbers, categories, dates), and whether its model
matrix is finite — each decided once per distinct value or in one pass over the matrix, so that a two-million-row
table of a few category levels costs what its levels cost, not what its cells cost."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from ._design import _MAX_MAGNITUDE, formula_term
from ._text import _shown
from .errors import DataError, NonFiniteError, NonNumericError

_NUMERIC_SHARE = 0.8  # a text column this numeric is a numeric column with typos, not a category
_EPOCH = pd.Timestamp("1970-01-01")  # dates become days since this day, as R's as.numeric(Date)
_ROWS_AT_ONCE = 4096  # rows of the model matrix copied at a time (the block's columns stay in cache)


def _in_c(formula: str, name: str) -> bool:
    """Whether the formula wraps ``name`` in C(...) (an explicit category)."""
    return re.search(rf"\bC\(\s*(`?){re.escape(name)}\1\s*[,)]", formula) is not None


def _distinct_text(s: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """(codes, values): each cell's position among the column's distinct values (-1 for a missing cell) and those
    values as stripped text, blank → NA. Everything below looks at a value once, whatever its number of rows."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    text = pd.Series(np.asarray(uniques, dtype=object), dtype=object).astype("string").str.strip()
    return np.asarray(codes), text.mask(text.eq(""))


def _per_row(values: np.ndarray, codes: np.ndarray, missing: object) -> np.ndarray:
    """The distinct values' results spread back over the rows (``missing`` where a cell was missing)."""
    return np.append(values, np.array([missing], dtype=values.dtype))[codes]


def _prepare(df: pd.DataFrame, variables: list[str], formula: str, dates: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """The used columns with their meaning decided: numbers, categories (text, booleans) or dates → days."""
    data: dict[str, pd.Series | np.ndarray] = {}
    kinds: dict[str, str] = {}
    for v in variables:
        s = df[v]
        if isinstance(s.dtype, pd.CategoricalDtype):  # levels given (the Dask backend imposes the whole data's)
            data[v], kinds[v] = s, "category"
            continue
        if pd.api.types.is_bool_dtype(s):
            data[v], kinds[v] = pd.Categorical(s, categories=[False, True]), "category"
            continue
        if pd.api.types.is_numeric_dtype(s):
            data[v], kinds[v] = s.astype(np.float64, copy=False) if not _in_c(formula, v) else s, "number"
            continue
        codes, text = _distinct_text(s)
        present = text.notna().to_numpy()
        rows = np.bincount(codes[codes >= 0], minlength=len(text))  # how many cells hold each distinct value
        numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        is_number = ~np.isnan(numbers)
        filled = int(rows[present].sum())
        share = int(rows[present & is_number].sum()) / filled if filled else 0.0
        if share == 1.0:  # numbers stored as text (e.g. around blank cells)
            data[v], kinds[v] = _per_row(numbers, codes, np.nan), "number"
            continue
        if share >= _NUMERIC_SHARE and not _in_c(formula, v):
            bad = _per_row(present & ~is_number, codes, False)
            i = int(np.flatnonzero(bad)[0])
            value = str(s.iloc[i])
            raise NonNumericError(
                f"Column {_shown(v)} is mostly numbers but has the text {_shown(value)} at row {i + 1} "
                f"({int(bad.sum())} such cell(s)). Fix or remove those cells, or write C({formula_term(v)}) to treat every "
                "value as a category.", column=v, row=i + 1, value=value)
        if filled and not _in_c(formula, v):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                when = pd.to_datetime(text, errors="coerce", format="ISO8601")
            if when[present].notna().all():
                first = str(text.iloc[codes[np.flatnonzero(_per_row(present, codes, False))[0]]])
                if dates == "error":
                    raise DataError(
                        f"Column {_shown(v)} holds dates (e.g. {_shown(first)}), which are not numbers. Pass "
                        "dates='days' (command line: --dates days) to use days since 1970-01-01, or write "
                        f"C({formula_term(v)}) to treat each date as a category.")
                if getattr(when.dt, "tz", None) is not None:
                    when = when.dt.tz_convert("UTC").dt.tz_localize(None)
                days = ((when - _EPOCH).dt.total_seconds() / 86400.0).to_numpy(dtype=np.float64, na_value=np.nan)
                data[v], kinds[v] = _per_row(days, codes, np.nan), "date"
                continue
        levels = text.astype(object).where(present, None).to_numpy(dtype=object)
        data[v], kinds[v] = _per_row(levels, codes, None), "category"
    return pd.DataFrame(data, index=df.index, copy=False), kinds  # the columns as they are: no 2-D block copied


def _finite_values(mm: pd.DataFrame, row_offset: int, keep: list[int] | None = None) -> np.ndarray:
    """A model matrix's columns at positions ``keep`` (all by default) as one float64 array in C order, refused with a
    sentence when a term is not finite or so large that its square overflows. Column by column, each checked while it
    is in cache (a column's min and max are NaN or ±inf when any of its cells is): one copy, no temporary matrix."""
    positions = list(range(mm.shape[1])) if keep is None else keep
    columns = [mm.iloc[:, pos].to_numpy(dtype=np.float64) for pos in positions]
    nonfinite, peaks = [], []
    for j, col in enumerate(columns):
        lo, hi = (float(col.min()), float(col.max())) if len(col) else (0.0, 0.0)
        if not (np.isfinite(lo) and np.isfinite(hi)):
            nonfinite.append(j)
        peaks.append(max(hi, -lo))
    values = np.empty((len(mm), len(positions)))
    for start in range(0, len(mm), _ROWS_AT_ONCE):  # row blocks: writing whole columns into C order is ~10× slower
        for j, col in enumerate(columns):
            values[start:start + _ROWS_AT_ONCE, j] = col[start:start + _ROWS_AT_ONCE]
    names = [str(mm.columns[pos]) for pos in positions]
    if nonfinite:
        bad = ~np.isfinite(values[:, nonfinite])
        rows = np.flatnonzero(bad.any(axis=1))
        i = int(rows[0])
        j = nonfinite[int(np.flatnonzero(bad[i])[0])]
        raise NonFiniteError(
            f"Term {_shown(names[j])} is not a finite number in {len(rows)} row(s) (first: row {i + 1 + row_offset}): "
            "a transform got values outside its domain, such as the log of 0 or of a negative number. Change the "
            "formula or leave those rows out.", rows=(rows + 1 + row_offset).tolist())
    for name, b in zip(names, peaks):
        if b > _MAX_MAGNITUDE:
            raise DataError(f"Term {_shown(name)} reaches {b:.3g}; its square overflows double precision. "
                            "Rescale the column first (e.g. divide it by 1000).")
    return values
