"""A finished run as one self-contained animated HTML file: the fitted line and the loss curve, epoch by
epoch, with play/pause and a slider (Plotly frames; plotly.js inlined, so it opens offline)."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from linreg_core import Design, ExactFit

from .charts import DATA_COLOR, EXACT_COLOR, GD_COLOR, _predict, downsample_history, drawn, sample_rows
from .run import RunRecord
from .text import plot

MAX_FRAMES = 150


def frame_epochs(run: RunRecord, max_frames: int = MAX_FRAMES) -> list[int]:
    """The recorded epochs to animate: all when few, else spaced evenly on a log scale (the early epochs,
    where the line moves most, get most frames); the first and the last always."""
    epochs = [e for e, _, _ in run.snapshots]
    if len(epochs) <= max_frames:
        return epochs
    picks = np.unique(np.round(np.geomspace(1, len(epochs), max_frames)).astype(int) - 1)
    return sorted({epochs[0], *(epochs[i] for i in picks), epochs[-1]})


def run_figure(design: Design, exact: ExactFit, run: RunRecord) -> go.Figure:
    """The animated figure: data and fitted line (left, one feature) or predicted vs actual (right), loss per
    epoch with the frame's epoch marked."""
    design = drawn(design)
    one = design.line_feature is not None
    rows = sample_rows(design.n_samples)
    history = np.asarray(run.history, dtype=np.float64)
    stride, loss = downsample_history(run.history)
    loss_x = np.arange(1, len(history) + 1, stride)[: len(loss)]
    if len(loss) > len(loss_x):
        loss_x = np.append(loss_x, len(history))
    if one:
        lo, hi = float(design.X[:, 0].min()), float(design.X[:, 0].max())
        pad = 0.05 * (hi - lo or 1.0)
        grid = np.linspace(lo - pad, hi + pad, 200 if design.degree > 1 else 2)
        grid_X = design.transform(grid)
        points = {"x": design.X[rows, 0], "y": design.y[rows]}
        exact_line = {"x": grid, "y": _predict(exact, grid_X)}
    else:
        points = {"x": design.y[rows], "y": _predict(exact, design.X[rows])}
        exact_line = {"x": [float(design.y.min()), float(design.y.max())], "y": [float(design.y.min()), float(design.y.max())]}

    def model_trace(epoch: int) -> dict[str, Any]:
        _, b, c = run.snapshot_at(epoch)
        if one:
            return {"type": "scatter", "x": grid, "y": _predict((b, c), grid_X), "mode": "lines",
                    "name": "gradient descent", "line": {"color": GD_COLOR, "width": 3}}
        return {"type": "scatter", "x": design.y[rows], "y": _predict((b, c), design.X[rows]), "mode": "markers",
                "name": "gradient descent", "marker": {"color": GD_COLOR, "size": 5, "opacity": 0.6}}

    def marker_trace(epoch: int) -> dict[str, Any]:
        e = min(max(epoch, 1), len(history))
        return {"type": "scatter", "x": [e], "y": [history[e - 1] if len(history) else None], "mode": "markers",
                "name": "now", "xaxis": "x2", "yaxis": "y2", "showlegend": False,
                "marker": {"color": GD_COLOR, "size": 12, "line": {"color": "white", "width": 2}}}

    epochs = frame_epochs(run)
    first = epochs[0]
    data = [
        {"type": "scatter", **points, "mode": "markers", "name": "data" if one else "exact least squares",
         "marker": {"color": DATA_COLOR if one else EXACT_COLOR, "size": 7 if len(rows) < 300 else 4, "opacity": 0.7}},
        {"type": "scatter", **exact_line, "mode": "lines", "name": "exact least squares" if one else "perfect fit",
         "line": {"color": EXACT_COLOR if one else "#aaaaaa", "dash": "dash", "width": 2}},
        model_trace(first),
        {"type": "scatter", "x": loss_x, "y": loss, "mode": "lines", "name": "loss", "xaxis": "x2", "yaxis": "y2",
         "line": {"color": GD_COLOR, "width": 2}, "showlegend": False},
        marker_trace(first),
    ]
    frames = [{"name": str(e), "data": [model_trace(e), marker_trace(e)], "traces": [2, 4],
               "layout": {"title": {"text": _title(run, e)}}} for e in epochs]
    axis = {"gridcolor": "#e6eaf1", "automargin": True}
    log = bool(len(history)) and float(np.nanmin(history)) > 0
    layout = {
        "title": {"text": _title(run, first), "x": 0.01},
        "font": {"family": "sans-serif", "size": 12},
        "paper_bgcolor": "#FFFFFF", "plot_bgcolor": "#FFFFFF", "height": 560,
        "xaxis": {**axis, "domain": [0, 0.47], "title": {"text": plot(design.features[0]) if one else f"actual {plot(design.target)}"}},
        "yaxis": {**axis, "title": {"text": plot(design.target) if one else f"predicted {plot(design.target)}"}},
        "xaxis2": {**axis, "domain": [0.55, 1], "anchor": "y2", "title": {"text": "epoch"}},
        "yaxis2": {**axis, "anchor": "x2", "title": {"text": "loss (MSE)"}, "type": "log" if log else "linear",
                   "exponentformat": "power"},
        "legend": {"orientation": "h", "y": -0.28, "x": 0},
        "margin": {"t": 60, "b": 150},
        "updatemenus": [{
            "type": "buttons", "direction": "left", "x": 0, "y": -0.42, "xanchor": "left", "yanchor": "top",
            "buttons": [
                {"label": "▶ Play", "method": "animate",
                 "args": [None, {"frame": {"duration": 60, "redraw": True}, "transition": {"duration": 0},
                                 "fromcurrent": True, "mode": "immediate"}]},
                {"label": "❚❚ Pause", "method": "animate",
                 "args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}]},
            ],
        }],
        "sliders": [{
            "active": 0, "x": 0.18, "y": -0.36, "len": 0.82, "yanchor": "top",
            "currentvalue": {"prefix": "epoch "},
            "steps": [{"label": f"{e:,}", "method": "animate",
                       "args": [[str(e)], {"frame": {"duration": 0, "redraw": True}, "mode": "immediate"}]}
                      for e in epochs],
        }],
    }
    return go.Figure(data=data, layout=layout, frames=frames, _validate=False)


def _title(run: RunRecord, epoch: int) -> str:
    _, b, c = run.snapshot_at(epoch)
    params = (f"intercept {b:.4g}, " if b is not None else "") + ", ".join(f"{v:.4g}" for v in c[:3])
    return f"{plot(run.dataset)}: {run.config.optimizer}, lr {run.config.lr:g} · epoch {epoch:,} · {params}"


def run_html(design: Design, exact: ExactFit, run: RunRecord) -> str:
    """The run as a standalone HTML page (about 5 MB: plotly.js is inside, so no network is needed)."""
    fig = run_figure(design, exact, run)
    return pio.to_html(fig, include_plotlyjs=True, full_html=True, auto_play=False, validate=False,
                       config={"displaylogo": False, "showSendToCloud": False}, div_id="run-animation")
