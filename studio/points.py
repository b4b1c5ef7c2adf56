"""Points you can touch: click the fit chart to add a point, box- or lasso-select points to delete them.

The chart is studio/live_chart.py's component in edit mode; an edit makes a new version of the dataset, so
the exact fit, the lr guidance and the landscape follow at once (and a run on the old points ends).
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from . import state
from .charts import fit_figure
from .live_chart import live_chart, revision
from .text import md

EDITABLE_ROWS = 5000  # every point is drawn (and selectable) up to here; the Data page's table edits as many
MIN_POINTS = 2


def why_not_editable(problem: state.Problem) -> str | None:
    """None when the points can be edited on the chart; else one sentence saying why not."""
    ss = st.session_state
    design = problem.design
    if ss.get("ds_server"):
        return "A server dataset's rows stay on the server: the chart shows a sample, which cannot be edited."
    if design.line_feature is None:
        return "Points can be added and deleted on the chart when the model has one feature."
    if problem.validation is not None:
        return "Turn off the validation split to add or delete points on the chart."
    if len(ss.ds_df) > EDITABLE_ROWS:
        return f"Points can be edited on the chart up to {EDITABLE_ROWS:,} rows; this data has {len(ss.ds_df):,}."
    if design.n_samples != len(ss.ds_df):
        return "Some rows are incomplete: drop them on the Data page to edit points on the chart."
    return None


def drag_spec(problem: state.Problem) -> dict | None:
    """What the browser needs to refit the exact line while a point is dragged (studio/live_chart.py ``drag``): a
    straight line, unweighted — else None (the exact fit follows when the point is dropped)."""
    design = problem.design
    if design.degree != 1 or list(design.terms) != [design.line_feature] or st.session_state.get("sel_weights"):
        return None
    return {"intercept": bool(design.fit_intercept)}


def _moved(df, drag: dict, feature: str, target: str) -> tuple | None:
    """The data with the dragged point at its new place, and what happened; None for a drag that says nothing sane."""
    try:
        row, x, y = int(drag["row"]), float(drag["x"]), float(drag["y"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (0 <= row < len(df) and math.isfinite(x) and math.isfinite(y)):
        return None
    x, y = float(f"{x:.4g}"), float(f"{y:.4g}")  # what a pointer can mean: the chart's resolution
    new = df.copy()
    for col in (feature, target):  # a whole-number column takes a dragged value as a float, said so, not warned of
        if pd.api.types.is_integer_dtype(new[col]):
            new[col] = new[col].astype("float64")
    new.loc[new.index[row], [feature, target]] = [x, y]
    return new, f"Moved point {row + 1} to ({md(feature)} = {x:g}, {md(target)} = {y:g})."


def apply(events: dict) -> str | None:
    """Apply a click (add a point), a selection (delete the selected points) or a drag (move one) to the current
    dataset. Returns what happened, for the reader, or None when there was nothing to do."""
    ss = st.session_state
    df, target, feature = ss.ds_df, ss.sel_target, ss.sel_features[0]
    click, select, drag = events.get("click"), events.get("select"), events.get("drag")
    if drag:
        moved = _moved(df, drag, feature, target)
        if moved is None:
            return None
        new, msg = moved
    elif click:
        try:
            x, y = float(click["x"]), float(click["y"])
        except (KeyError, TypeError, ValueError):
            return None
        if not (math.isfinite(x) and math.isfinite(y)):
            return None
        x, y = float(f"{x:.4g}"), float(f"{y:.4g}")  # what a click can mean: the chart's resolution
        row = pd.DataFrame([{c: (x if c == feature else y if c == target else None) for c in df.columns}])
        new, msg = pd.concat([df, row.astype(df.dtypes.to_dict(), errors="ignore")], ignore_index=True), (
            f"Added the point ({md(feature)} = {x:g}, {md(target)} = {y:g}): {len(df) + 1:,} points now.")
    elif select:
        rows = sorted({int(r) for r in select.get("rows", []) if isinstance(r, int) and 0 <= r < len(df)})
        if not rows:
            return None
        if len(df) - len(rows) < MIN_POINTS:
            return (f"Kept the points: deleting {len(rows):,} of {len(df):,} would leave fewer than {MIN_POINTS}, "
                    "and a line needs two. Select fewer points.")
        new = df.drop(index=rows)
        msg = f"Deleted {len(rows):,} point{'s' if len(rows) != 1 else ''}: {len(new):,} left."
    else:
        return None
    name = ss.ds_name if ss.ds_name.endswith("(edited)") else f"{ss.ds_name} (edited)"
    state.set_dataset(new, name, target, [feature], keep_model=True)
    return msg


def points_chart(problem: state.Problem, key: str, gd=None, edit: bool = True) -> None:
    """The data, the exact fit (and ``gd``'s line) as a chart; with ``edit`` (when possible) a click adds a
    point and a selection deletes points, and the whole page reruns on the new data."""
    if "_points_msg" in st.session_state:
        st.toast(st.session_state.pop("_points_msg"))
    edit = edit and why_not_editable(problem) is None
    fig = revision(fit_figure(problem.design, gd, problem.exact, problem.validation, edit=edit), problem.key)
    events = live_chart(fig, key=key, edit=edit)
    if edit and (events["click"] or events["select"]):
        msg = apply(events)
        if msg:
            st.session_state._points_msg = msg
            st.rerun()
