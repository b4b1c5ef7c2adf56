"""Results → Predict new rows: the current fit or a saved model JSON, applied to an uploaded CSV with intervals."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from linreg_core import LinregError, SavedModel, load_model, model_json, read_csv, spreadsheet_csv

from .state import Problem
from .text import md

MAX_SHOWN_ROWS = 20


def current_model(problem: Problem, summary) -> SavedModel:
    """The exact fit as a saved model would read back (the same path a downloaded JSON takes), cached per fit."""
    ss = st.session_state
    key = (problem.key, None if summary is None else summary.cov_type)
    cached = ss.get("_pred_model")
    if cached is None or cached[0] != key:
        ss._pred_model = cached = (key, load_model(model_json(problem.design, None, problem.exact, problem.stats,
                                                              summary)))
    return cached[1]


def load_saved(data: bytes, name: str) -> SavedModel | None:
    try:
        return load_model(data)
    except LinregError as exc:
        st.error(f"Could not open **{md(name)}**: {md(exc, 2000)}")
        return None


def describe(model: SavedModel) -> None:
    names = (["intercept"] if model.design.fit_intercept else []) + list(model.design.terms)
    st.markdown(f"Saved model: {md(model.formula, 500)} — {len(names)} parameters, {model.df_resid:,} residual degrees of freedom, "
                f"standard errors {md(model.cov_type)}.")
    st.dataframe(pd.DataFrame({"coef": model.params}, index=names).style.format("{:.6g}"), width="stretch",
                 height=min(300, 38 + 35 * len(names)))


def predict_and_offer(model: SavedModel, data: bytes, name: str, interval: str, alpha: float) -> None:
    """Predict the uploaded rows; show the first ones and offer all as CSV. Problems are one sentence each."""
    try:
        rows = read_csv(data, max_bytes=int(st.get_option("server.maxUploadSize")) * 2**20)
        out = model.predict(rows, interval, alpha)
    except LinregError as exc:
        st.error(f"Could not predict **{md(name)}**: {md(exc, 2000)}")
        return
    table = pd.concat([rows.reset_index(drop=True), out], axis=1)
    level = f"{1 - alpha:.0%}"
    st.success(f"Predicted {len(out):,} rows of **{md(name)}** with {level} {interval} intervals.")
    st.dataframe(table.head(MAX_SHOWN_ROWS).style.format({c: "{:.6g}" for c in out.columns}), width="stretch")
    if len(table) > MAX_SHOWN_ROWS:
        st.caption(f"The first {MAX_SHOWN_ROWS} of {len(table):,} rows; the download has them all.")
    st.download_button("Download the predictions (CSV)", spreadsheet_csv(table),
                       file_name="new_predictions.csv", mime="text/csv", key="dl_new_pred",
                       icon=":material/download:")
