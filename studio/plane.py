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

__all__ = ["GRID", "LEVELS", "is_plane", "plane3d_figure", "plane3d_layers", "plane_figure", "plane_layers"]

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


# --- The plane in 3-D: drawn by the browser as SVG (no WebGL), turned by dragging --------------------------------
MAX_POINTS_3D = 500


def _norm(design: Design) -> list[float]:
    """(middle, half-range) of x1, x2 and y: the browser draws the cube [-1, 1]³ they span."""
    lo1, hi1, lo2, hi2 = _box(design)
    y = design.y[np.isfinite(design.y)]
    lo, hi = float(y.min()), float(y.max())
    pad = 0.05 * (hi - lo or 1.0)
    lo, hi = lo - pad, hi + pad
    return [(lo1 + hi1) / 2, (hi1 - lo1) / 2 or 1.0, (lo2 + hi2) / 2, (hi2 - lo2) / 2 or 1.0, (lo + hi) / 2,
            (hi - lo) / 2 or 1.0]


def plane3d_figure(design: Design) -> go.Figure:
    """An empty stage for the 3-D plane (the browser draws it, :func:`plane3d_layers`): square, no axes, no zoom
    (a drag turns the plane); the legend names what is drawn."""
    from .charts import DATA_COLOR, EXACT_COLOR

    hidden = {"visible": False, "range": [-1.9, 1.9], "fixedrange": True}
    traces = [{"type": "scatter", "x": [None], "y": [None], "mode": "markers", "name": "data",
               "marker": {"color": DATA_COLOR, "size": 7}},
              {"type": "scatter", "x": [None], "y": [None], "mode": "lines", "name": "exact least squares",
               "line": {"color": EXACT_COLOR, "dash": "dash", "width": 2}},
              {"type": "scatter", "x": [None], "y": [None], "mode": "lines", "name": "gradient descent",
               "line": {"color": GD_COLOR, "width": 3}}]
    fig = _figure(traces, "The fitted plane (drag to turn it)", "", "", height=440,
                  xaxis=hidden, yaxis={**hidden, "scaleanchor": "x"})
    fig.update_layout(dragmode=False, hovermode=False)
    return fig


def plane3d_layers(design: Design, exact: Any) -> list[dict[str, Any]]:
    """What the browser draws on :func:`plane3d_figure`: the cube's edges and axis names, the points, the exact plane
    (dashed) and gradient descent's (filled), from the run's parameters every frame while it trains."""
    from .cache import derived

    return derived(design, f"plane3d {id(exact)}", lambda: _plane3d_layers(design, exact))


def _plane3d_layers(design: Design, exact: Any) -> list[dict[str, Any]]:
    from .charts import DATA_COLOR, EXACT_COLOR
    from .layers import _svg_style

    rows = _design_rows(design)[:MAX_POINTS_3D]
    norm = _norm(design)
    b, w = float(exact.intercept or 0.0), [float(v) for v in exact.coef]
    common = {"kind": "plane3d", "norm": norm}
    return [
        {**common, "name": "p3_box", "part": "box", "names": [plot(design.features[0]), plot(design.features[1]),
                                                               plot(design.target)],
         "style": {"stroke": "rgba(128,132,149,0.55)", "stroke-width": 1, "fill": "none"}},
        {**common, "name": "p3_exact", "part": "plane", "params": [b, w],
         "style": {**_svg_style({"color": EXACT_COLOR, "dash": "dash", "width": 2})}},
        {**common, "name": "p3_gd", "part": "plane",
         "style": {**_svg_style({"color": GD_COLOR, "width": 2.5}), "fill": GD_COLOR, "fill-opacity": 0.18}},
        {**common, "name": "p3_points", "part": "points", "pts": [design.X[rows, 0].tolist(),
                                                                   design.X[rows, 1].tolist(), design.y[rows].tolist()],
         "style": {"fill": DATA_COLOR, "fill-opacity": 0.75, "stroke": "white", "stroke-width": 0.6}},
    ]
