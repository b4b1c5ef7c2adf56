"""The degree sweep: exact fits of degree 1..10 on the same training/validation split, and what their curve says
(under- and over-fitting)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from linreg_core import LinregError, fit_exact_design, train_val_split

from .cache import session_cached
from .state import Problem, build_selected_design, validation_mse

MAX_SWEEP_DEGREE = 10
SWEEP_CLOSE = 0.02  # degrees whose validation MSE is within 2% of the lowest count as equally good
MAX_SWEEP_ROWS = 200_000


def degree_sweep(problem: Problem) -> pd.DataFrame | None:
    """Exact fits at degrees 1..10 on the same split: training and validation MSE per degree (the
    validation curve that shows under- and over-fitting). None without a split or with several features."""
    ss = st.session_state
    if (problem.validation is None or len(ss.sel_features) != 1 or len(ss.ds_df) > MAX_SWEEP_ROWS
            or problem.design.formula is not None):
        return None
    def make() -> pd.DataFrame | None:
        rows = []
        for degree in range(1, MAX_SWEEP_DEGREE + 1):
            try:
                full = build_selected_design(degree)
                tr, va = train_val_split(full, *ss.settings.validation_split())
                ex = fit_exact_design(tr)
            except LinregError:
                break  # too few rows for this many terms: higher degrees cannot be fitted either
            rows.append({"degree": degree, "training MSE": validation_mse(tr, ex),
                         "validation MSE": validation_mse(va, ex)})
        return pd.DataFrame(rows) if len(rows) >= 2 else None  # one degree alone is no curve

    return session_cached("_sweep", problem.key, make)


def sweep_verdict(sweep: pd.DataFrame) -> str:
    """One sentence on what the degree sweep shows, honest about near-ties (noise-level differences)."""
    val = sweep["validation MSE"].to_numpy()
    degrees = sweep["degree"].to_numpy()
    best = int(degrees[int(np.argmin(val))])
    simplest = int(degrees[int(np.argmax(val <= val.min() * (1 + SWEEP_CLOSE)))])
    text = f"the validation MSE is lowest at degree **{best}**"
    if simplest < best:
        text += f", and degree {simplest} comes within {SWEEP_CLOSE:.0%} of it with fewer terms"
    if simplest == 1:
        return text + ". A straight line already does about as well as any polynomial here: extra terms only fit noise."
    over = val[-1] > val.min() * (1 + SWEEP_CLOSE)
    return text + (". Lower degrees under-fit" + (", higher ones start fitting the noise (over-fit)." if over else "."))
