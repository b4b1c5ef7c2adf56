"""The run before this one, faded under it: before and after on the same charts.

Deleting an outlier or changing the batch size starts a new run, and the old one would be gone from the page, so the
outlier's pull or the noise of batch size 1 had to be remembered. The Train page draws the previous run of the same
model (same terms) as a faded grey line on the fit, curve on the loss chart and path on the landscape.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from linreg_core import Design

from .charts import LANE_COLORS, _history_trace, _x_range, curve_grid
from .labels import OPTIMIZER_LABELS
from .run import RunRecord, landscape_point

__all__ = ["GHOST_COLOR", "GHOST_NAME", "add_pinned", "add_to_fit", "add_to_landscape", "add_to_loss", "pin_label",
           "pinned", "previous_run"]

GHOST_COLOR = "#8a8f98"  # grey: reads on a light and a dark page, and gives way to the run's own colours
GHOST_NAME = "previous run"
_FADED = {"color": GHOST_COLOR, "width": 2.5, "dash": "dot"}


def previous_run(runs: Sequence[RunRecord], shown: RunRecord | None, design: Design) -> RunRecord | None:
    """The newest run of this session before ``shown`` (or the newest, with no run shown) that has a model of the
    same terms as ``design``; None if there is none."""
    older = list(runs)
    if shown is not None and shown in older:
        older = older[:older.index(shown)]
    for run in reversed(older):
        if run is not shown and run.has_model and len(run.history) > 1 and run.terms == tuple(design.terms):
            return run
    return None


def _insert(fig: go.Figure, trace: dict) -> None:
    """Under every trace but the first (the data, which an edit's click and selection events number 0)."""
    fig.add_trace(go.Scatter(trace))
    if len(fig.data) > 2:
        fig.data = (fig.data[0], fig.data[-1], *fig.data[1:-1])  # (Plotly lets a figure reorder its traces)


def add_to_fit(fig: go.Figure, design: Design, ghost: RunRecord | None) -> go.Figure:
    """The previous run's fitted line (one feature; several draw predicted vs actual, which has no line)."""
    if ghost is None or design.line_feature is None or design.X is None or not len(design.X):
        return fig
    grid = curve_grid(*_x_range(design, None), design.degree > 1)
    intercept, coef = ghost.params
    y = design.transform(grid) @ np.asarray(coef, dtype=np.float64) + (intercept or 0.0)
    _insert(fig, {"x": grid, "y": y, "mode": "lines", "name": GHOST_NAME, "line": _FADED, "opacity": 0.8,
                  "hoverinfo": "skip"})
    return fig


def _loss_trace(run: RunRecord, name: str, line: dict, opacity: float) -> dict:
    """A finished run's loss curve as the loss chart draws one (charts._history_trace: at most 1,500 points, the
    last epoch kept), as a plain line."""
    trace = _history_trace(run.history, name, line["color"])
    trace.update(mode="lines", line=line, opacity=opacity, hoverinfo="skip")
    return trace


def add_to_loss(fig: go.Figure, ghost: RunRecord | None) -> go.Figure:
    """The previous run's loss curve."""
    if ghost is not None:
        _insert(fig, _loss_trace(ghost, GHOST_NAME, _FADED, 0.8))
    return fig


def pin_label(runs: Sequence[RunRecord], started: float) -> str:
    """How the pin picker names a run: its number in this session, settings and final loss."""
    for k, run in enumerate(runs, start=1):
        if run.started == started:
            c = run.config
            loss = f" · loss {run.final_loss:.4g}" if run.final_loss is not None else ""
            return f"Run {k} · {OPTIMIZER_LABELS[c.optimizer]} lr {c.lr:g} · batch {c.batch_size or 'full'}{loss}"
    return "a run no longer kept"


def pinned(runs: Sequence[RunRecord], ids: Sequence[float], shown: RunRecord | None) -> list[tuple[int, RunRecord]]:
    """The pinned runs still kept (by their start time), with their numbers, less the one shown."""
    return [(k, r) for k, r in enumerate(runs, start=1) if r.started in ids and r is not shown and len(r.history)]


def add_pinned(fig: go.Figure, runs: list[tuple[int, RunRecord]]) -> go.Figure:
    """Each pinned run's loss curve, in the race's colour-blind-safe colours, dashed: "run 3", "run 5"."""
    for j, (k, run) in enumerate(runs):
        line = {"color": LANE_COLORS[(j + 1) % len(LANE_COLORS)], "width": 2, "dash": "dash"}
        fig.add_trace(go.Scatter(_loss_trace(run, f"run {k}", line, 0.9)))
    return fig


def add_to_landscape(fig: go.Figure, ghost: RunRecord | None) -> go.Figure:
    """The previous run's path on the loss landscape (over the heatmap, under the current path)."""
    if ghost is None:
        return fig
    with ghost.lock:
        path = [p for p in ghost.path() if p is not None]
        now = landscape_point(*ghost.params)
    if now is not None and (not path or path[-1] != now):
        path.append(now)
    if len(path) < 2:
        return fig
    p = np.asarray(path, dtype=np.float64)
    _insert(fig, {"x": p[:, 0], "y": p[:, 1], "mode": "lines", "name": GHOST_NAME,
                  "line": {**_FADED, "color": "#d4d7dd"}, "opacity": 0.9, "hoverinfo": "skip"})
    return fig
