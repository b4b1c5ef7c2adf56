"""Three features or more: one feature at a time, the model's partial dependence on it.

Predicted against actual says how good a fit is, not what the model says. This chart does, for the feature the
learner picks: the prediction as that feature moves while every other feature stays at its mean — a line whose slope
is the feature's coefficient (a curve, with polynomial terms) — over the data, for the exact fit (dashed) and, live
while a run trains, for gradient descent (the browser draws it every frame from the run's parameters, with the same
``curve`` layer as the one-feature fit).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from linreg_core import Design

from .charts import DATA_COLOR, EXACT_COLOR, GD_COLOR, _design_rows, _figure, _markers, _predict, curve_grid
from .text import plot

__all__ = ["applies", "partial_figure", "partial_layers"]

GRID = 60


def applies(design: Design) -> bool:
    """Three or more numeric features, each one of the terms (its powers may be others): a line per feature."""
    return (len(design.features) >= 3 and design.formula is None and design.X is not None
            and all(f in design.terms for f in design.features))


def _grid_rows(design: Design, feature: str) -> tuple[np.ndarray, np.ndarray]:
    """The feature's grid over its range, and the design's terms along it with every other term at its mean (a
    square's mean, not the mean's square: the line goes through the middle of the data)."""
    terms = list(design.terms)
    x = design.X[:, terms.index(feature)]
    grid = curve_grid(float(np.nanmin(x)), float(np.nanmax(x)), design.degree > 1, GRID)
    rows = np.repeat(np.nanmean(design.X, axis=0)[None, :], len(grid), axis=0)
    raw = np.zeros((len(grid), len(design.features)))
    raw[:, design.features.index(feature)] = grid
    own = [k for k, t in enumerate(terms) if t == feature or t.startswith(f"{feature}^")]  # the feature and its powers
    rows[:, own] = design.transform(raw)[:, own]
    return grid, rows


def partial_figure(design: Design, feature: str, exact: Any, params: Any = None, moving: bool = False) -> go.Figure:
    """The data against ``feature``, and the prediction along it with the others at their means: exact (dashed) and
    gradient descent's at ``params`` (blank while ``moving``: the browser draws it)."""
    grid, M = _grid_rows(design, feature)
    rows = _design_rows(design)
    traces = [_markers(design.X[rows, list(design.terms).index(feature)], design.y[rows], "data", DATA_COLOR,
                       6 if len(rows) < 300 else 4, 0.5),
              {"type": "scatter", "x": grid, "y": _predict(exact, M), "mode": "lines", "name": "exact least squares",
               "line": {"color": EXACT_COLOR, "dash": "dash", "width": 2}}]
    line = {"color": GD_COLOR, "width": 3}
    if params is not None and not moving:
        traces.append({"type": "scatter", "x": grid, "y": _predict(params, M), "mode": "lines",
                       "name": "gradient descent", "line": line})
    elif moving:
        traces.append({"type": "scatter", "x": [None], "y": [None], "mode": "lines", "name": "gradient descent",
                       "line": line})
    return _figure(traces, f"Partial dependence on {plot(feature)} (the others at their means)", plot(feature),
                   plot(design.target), height=420)


def partial_layers(design: Design, feature: str) -> list[dict[str, Any]]:
    """What the browser draws over :func:`partial_figure` while a run trains: gradient descent's line."""
    from .layers import _svg_style
    from .live_chart import matrix

    grid, M = _grid_rows(design, feature)
    return [{"name": "gd_pd", "kind": "curve", "live": True, "x": grid.tolist(), "M": matrix(M),
             "shape": list(M.shape), "style": _svg_style({"color": GD_COLOR, "width": 3})}]
