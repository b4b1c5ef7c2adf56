"""Two features: the model is a plane over them, drawn as a map the learner can read.

With ``tip ~ total_bill + size`` a learner saw only predicted against actual. This chart puts the two features on the
axes: the exact fit's prediction as colour bands (a heat-map), the points coloured by their actual value on the same
scale (a point whose colour differs from the ground under it is far from the plane), and, live while a run trains,
gradient descent's plane as its contour lines — straight and parallel, since the model is linear — which the browser
draws every frame from the run's parameters (studio/live_layers.js, ``isolines``) and which settle onto the bands'
edges as the run converges.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from linreg_core import Design

from .bands import bands
from .charts import GD_COLOR, _design_rows, _figure, _predict
from .text import plot

__all__ = ["GRID", "LEVELS", "is_plane", "plane_figure", "plane_layers"]

GRID = 40  # cells per axis of the heat-map
LEVELS = 7  # contour lines of gradient descent's plane


def is_plane(design: Design) -> bool:
    """Two numeric features, each a term of its own: the fitted surface is a plane over them."""
    return len(design.features) == 2 and list(design.terms) == list(design.features) and design.X is not None


def _box(design: Design) -> tuple[float, float, float, float]:
    x1, x2 = design.X[:, 0], design.X[:, 1]
    lo1, hi1, lo2, hi2 = float(x1.min()), float(x1.max()), float(x2.min()), float(x2.max())
    p1, p2 = 0.05 * (hi1 - lo1 or 1.0), 0.05 * (hi2 - lo2 or 1.0)
    return lo1 - p1, hi1 + p1, lo2 - p2, hi2 + p2


def _levels(design: Design) -> list[float]:
    y = design.y[np.isfinite(design.y)]
    lo, hi = float(np.quantile(y, 0.05)), float(np.quantile(y, 0.95))
    return np.linspace(lo, hi, LEVELS).tolist() if hi > lo else [lo]


def plane_figure(design: Design, exact: Any, params: Any = None, moving: bool = False) -> go.Figure:
    """The exact fit's prediction over the two features as colour bands, the points coloured by their actual value,
    and gradient descent's contour lines at ``params`` (none while ``moving``: the browser draws them)."""
    lo1, hi1, lo2, hi2 = _box(design)
    g1, g2 = np.linspace(lo1, hi1, GRID), np.linspace(lo2, hi2, GRID)
    mesh = np.column_stack([np.repeat(g1[None, :], GRID, 0).ravel(), np.repeat(g2[:, None], GRID, 1).ravel()])
    z = _predict(exact, mesh).reshape(GRID, GRID)
    rows = _design_rows(design)
    y = design.y[rows]
    z_lo, z_hi, step, scale = bands(np.concatenate([z.ravel(), y]))
    traces: list[dict] = [
        {"type": "heatmap", "x": g1, "y": g2, "z": z, "zmin": z_lo, "zmax": z_hi, "colorscale": scale, "zsmooth": "best",
         "name": "exact fit's prediction", "hoverinfo": "skip", "opacity": 0.85,
         "colorbar": {"title": {"text": plot(design.target), "side": "right"}, "thickness": 12, "len": 0.9,
                      "outlinewidth": 0, "tick0": z_lo, "dtick": step}},
        {"type": "scatter", "x": design.X[rows, 0], "y": design.X[rows, 1], "mode": "markers", "name": "data",
         "marker": {"color": y, "colorscale": scale, "cmin": z_lo, "cmax": z_hi, "size": 8 if len(rows) < 300 else 5,
                    "line": {"color": "white", "width": 1}},
         "hovertemplate": f"{plot(design.target)} %{{marker.color:.4g}}<extra></extra>"},
    ]
    line = {"color": GD_COLOR, "width": 2}
    if params is not None and not moving:
        xs, ys = _isolines(params, _levels(design), (lo1, hi1, lo2, hi2))
        traces.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": "gradient descent", "line": line})
    elif moving:
        traces.append({"type": "scatter", "x": [None], "y": [None], "mode": "lines", "name": "gradient descent",
                       "line": line})
    return _figure(traces, f"Prediction over {plot(design.features[0])} and {plot(design.features[1])}",
                   plot(design.features[0]), plot(design.features[1]), height=440,
                   xaxis={"range": [lo1, hi1]}, yaxis={"range": [lo2, hi2]})


def _isolines(params: Any, levels: list[float], box: tuple[float, float, float, float]) -> tuple[list, list]:
    """Where b + w1·x1 + w2·x2 = c for each level c, inside ``box``: segments separated by None (as the browser's
    isolines layer draws them)."""
    b, w = float(params[0] or 0.0), [float(v) for v in params[1]]
    xs: list[float | None] = []
    ys: list[float | None] = []
    lo1, hi1, lo2, hi2 = box
    for c in levels:
        pts = []
        if abs(w[1]) > 1e-300:  # x2 at the left and right edges
            pts += [(x1, (c - b - w[0] * x1) / w[1]) for x1 in (lo1, hi1)]
        if abs(w[0]) > 1e-300:  # x1 at the bottom and top edges
            pts += [((c - b - w[1] * x2) / w[0], x2) for x2 in (lo2, hi2)]
        inside = sorted({(round(p, 12), round(q, 12)) for p, q in pts
                         if lo1 - 1e-9 <= p <= hi1 + 1e-9 and lo2 - 1e-9 <= q <= hi2 + 1e-9})
        if len(inside) >= 2:
            (p0, q0), (p1, q1) = inside[0], inside[-1]
            xs += [p0, p1, None]
            ys += [q0, q1, None]
    return xs, ys


def plane_layers(design: Design) -> list[dict[str, Any]]:
    """What the browser draws over :func:`plane_figure` while a run trains: gradient descent's contour lines."""
    from .layers import _svg_style

    return [{"name": "gd_iso", "kind": "isolines", "live": True, "levels": _levels(design),
             "box": list(_box(design)), "style": _svg_style({"color": GD_COLOR, "width": 2})}]
