"""A large table's model matrix built in row blocks: formulaic learns the model (category levels, columns) from the
rows that hold every level, then computes each block of rows into the design, which is the only full-size array
made — a 2,000,000-row formula with categories and interactions costs a third of building it whole, and a third of the
memory. What the blocks cannot reproduce exactly is built whole, as before: a transform that learns from the data
(``scale``, ``center``, ``poly``…: its centre must be the whole column's), columns of very many levels, and any bad
cell (whose message names every bad row, which only the whole table knows)."""

from __future__ import annotations

import mmap
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ._formula_columns import _finite_values, _in_c
from .errors import LinregError

BLOCK_ROWS = 131_072  # rows computed at a time: a block's columns stay small, and formulaic's cost per call is amortised
_MIN_ROWS = 4 * BLOCK_ROWS  # below this, building whole is as fast
_MAP_BYTES = 64 << 20  # arrays this large get their memory mapped in one call (see _mapped)


def block_plan(data: pd.DataFrame, kinds: dict[str, str], formula: str) -> tuple[pd.DataFrame, np.ndarray] | None:
    """(table, rows): the table with its text categories as pandas categoricals of their sorted levels (formulaic then
    encodes a block by its codes, and takes the levels from the dtype, not from the block), and rows that hold the
    first block and every value of each ``C(number)``: the model formulaic learns from them is the one it learns from
    the whole table (levels are sorted, not taken in order of appearance). None when the table is small or a category
    has so many levels that the rows holding them are a large part of it: then the matrix is built whole."""
    if len(data) < _MIN_ROWS:
        return None
    rows = [np.arange(BLOCK_ROWS)]
    table = {}
    for v in data.columns:
        s = data[v]
        if (kinds.get(v) != "category" and not _in_c(formula, v)) or isinstance(s.dtype, pd.CategoricalDtype):
            table[v] = s  # numbers, and categories whose levels the dtype gives already
            continue
        try:
            codes, levels = pd.factorize(s, sort=True, use_na_sentinel=True)
        except TypeError:  # levels that do not sort together (numbers and text in one column): build whole
            return None
        if len(levels) > len(data) // 8:
            return None
        if kinds.get(v) == "category":
            table[v] = pd.Categorical.from_codes(codes, categories=levels)
        else:  # a number wrapped in C(): formulaic sees every value in the rows it learns from
            table[v] = s
            rows.append(np.unique(codes, return_index=True)[1])
    return pd.DataFrame(table, index=data.index, copy=False), np.unique(np.concatenate(rows))


def in_blocks(lhs_spec: Any, rhs_spec: Any, columns: list[str], data: pd.DataFrame, keep: list[int], row_offset: int,
              materialize: Callable[[Any, pd.DataFrame], Any]) -> tuple[np.ndarray, np.ndarray] | None:
    """(X, y) of ``data`` under the learned specs, computed BLOCK_ROWS rows at a time into one array (X: the columns at
    positions ``keep``); None when a block gives other columns than ``columns``, the model's, or refuses a cell (the
    caller then builds whole, and says so for every row)."""
    if lhs_spec.transform_state or rhs_spec.transform_state:
        return None
    n = len(data)
    X = _mapped((n, len(keep)))
    y = np.empty(n)
    for start in range(0, n, BLOCK_ROWS):
        block = data.iloc[start:start + BLOCK_ROWS]
        try:
            rhs = materialize(rhs_spec, block)
            if [str(c) for c in rhs.columns] != columns:
                return None
            X[start:start + len(block)] = _finite_values(rhs, row_offset + start, keep)
            y[start:start + len(block)] = _finite_values(materialize(lhs_spec, block), row_offset + start)[:, 0]
        except LinregError:
            return None
    return X, y


def _mapped(shape: tuple[int, int]) -> np.ndarray:
    """An uninitialised float64 array like ``np.empty``; a large one on Linux has its pages mapped in one call
    (MAP_POPULATE) instead of one fault per 4 KiB page as it is first written — 600 MB in 0.25 s instead of 1.5 s on
    this project's virtual machine. Its memory is returned when the array (and every view of it) is gone."""
    size = shape[0] * shape[1] * 8
    populate = getattr(mmap, "MAP_POPULATE", None)
    if size < _MAP_BYTES or populate is None:
        return np.empty(shape)
    memory = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | populate)
    return np.frombuffer(memory, dtype=np.float64).reshape(shape)
