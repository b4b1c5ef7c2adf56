"""linreg_core._formula_chunks: a large table's formula design built in row blocks is the design built whole."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import pytest

import linreg_core._formula_chunks as chunks
from linreg_core import build_formula_design
from linreg_core.errors import LinregError

FORMULAS = [
    "tip ~ total_bill + C(day) + smoker + C(size) + time",
    "tip ~ total_bill * C(day) + sex:smoker",
    "np.log(tip) ~ C(size, Treatment(reference=2)) + C(day, Sum) + np.sqrt(total_bill)",
    "tip ~ C(size, Poly) + total_bill:C(time) - 1",
    "tip ~ scale(total_bill) + C(day)",  # learns its centre from the data: built whole
    "tip ~ 1",
]
BUILT: list = []


def _both(df: pd.DataFrame, formula: str, monkeypatch, **kw):
    """(design or error) built in blocks of 50 rows, then built whole; ``BUILT`` says whether the blocks made it."""
    BUILT.clear()
    monkeypatch.setattr("linreg_core._formula.in_blocks", lambda *a: BUILT.append(chunks.in_blocks(*a)) or BUILT[-1])
    out = []
    for min_rows in (0, 1 << 40):
        monkeypatch.setattr(chunks, "_MIN_ROWS", min_rows)
        monkeypatch.setattr(chunks, "BLOCK_ROWS", 50)
        try:
            out.append(build_formula_design(df, formula, **kw))
        except LinregError as exc:
            out.append((type(exc).__name__, str(exc)))
    return out


@pytest.mark.parametrize("formula", FORMULAS)
def test_blocks_give_the_whole_tables_design(formula, monkeypatch):
    """Plotly's tips in blocks of 50 rows (some blocks lack a day or a party size): the same terms, columns, target
    and levels as one build, to the last bit."""
    tips = px.data.tips()
    blocks, whole = _both(tips, formula, monkeypatch)
    assert (BUILT[0] is not None) == ("scale(" not in formula)  # in blocks, but for the transform that learns
    assert blocks.terms == whole.terms and blocks.fit_intercept == whole.fit_intercept
    assert np.array_equal(blocks.X, whole.X) and np.array_equal(blocks.y, whole.y)
    assert blocks.X.flags.c_contiguous and blocks.X.dtype == np.float64
    assert str(blocks.spec.encoder_state) == str(whole.spec.encoder_state)


def test_blocks_leave_out_blank_rows_and_refuse_bad_cells_as_the_whole_build_does(monkeypatch):
    tips = px.data.tips()
    gaps = tips.copy()
    gaps.loc[[3, 120, 200], "day"] = None
    blocks, whole = _both(gaps, "tip ~ total_bill + C(day)", monkeypatch, na="drop")
    assert BUILT[0] is not None
    assert blocks.dropped_rows == whole.dropped_rows == 3 and np.array_equal(blocks.X, whole.X)
    # a bad value in a late block: the message names every bad row, as when built whole
    bad = tips.copy()
    bad.loc[[180, 230], "total_bill"] = -1.0
    blocks, whole = _both(bad, "tip ~ np.log(total_bill) + C(day)", monkeypatch)
    assert isinstance(whole, tuple) and blocks == whole
    assert "in 2 row(s) (first: row 181)" in whole[1]
