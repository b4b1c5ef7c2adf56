"""What the browser draws over a chart every animation frame (studio/live_chart.js), as data: the fitted curve as
b + M·w on the figure's grid, the residual segments, the loss marker, a preview's dotted path, a race's lanes. The
figures under them are studio/charts.py's; these layers move with the streamed numbers, with no rerun."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from linreg_core import Design

from .cache import derived
from .charts import (
    GD_COLOR,
    LANE_DASHES,
    MAX_RESIDUAL_SEGMENTS,
    RESIDUAL_LINE,
    VAL_COLOR,
    Params,
    _design_rows,
    _race_floor,
    _x_range,
    curve_grid,
    drawn,
)

MAX_MOVING_POINTS = 2000  # predicted-vs-actual points the browser moves every frame


def _svg_style(line: dict[str, Any], fill: str = "none") -> dict[str, Any]:
    dash = {"dash": "7,4", "dot": "2,3"}.get(line.get("dash") or "")
    return {"stroke": line.get("color"), "stroke-width": line.get("width", 2), "fill": fill,
            "stroke-dasharray": dash, "stroke-linejoin": "round"}


def fit_layers(design: Design, validation: Design | None = None) -> list[dict[str, Any]]:
    """What the browser draws over :func:`fit_figure` (``moving``) while a run trains, from the run's parameters
    (studio/live_chart.js): the fitted curve as ``b + M·w`` on the figure's x grid (M: the grid's terms), the
    residual segments, or the predicted-vs-actual points of the drawn rows."""
    return derived(design, f"fit_layers {id(validation)}", lambda: _fit_layers(drawn(design), validation))


def _fit_layers(design: Design, validation: Design | None) -> list[dict[str, Any]]:
    from .live_chart import matrix

    rows = _design_rows(design)
    if design.line_feature is not None:
        grid = curve_grid(*_x_range(design, validation), design.degree > 1)
        show = rows[:MAX_RESIDUAL_SEGMENTS]
        return [
            {"name": "residuals", "kind": "segments", "live": True, "toggle": "ui_residuals",
             "x": design.X[show, 0].tolist(), "y0": design.y[show].tolist(), "M": matrix(design.X[show]),
             "shape": [len(show), design.X.shape[1]], "style": _svg_style(RESIDUAL_LINE)},
            {"name": "gd", "kind": "curve", "live": True, "x": grid.tolist(), "M": matrix(design.transform(grid)),
             "shape": [len(grid), len(design.terms)], "style": _svg_style({"color": GD_COLOR, "width": 3})},
        ]
    rows = rows[:MAX_MOVING_POINTS]
    layers = [{"name": "gd", "kind": "points", "live": True, "x": design.y[rows].tolist(), "M": matrix(design.X[rows]),
               "shape": [len(rows), len(design.terms)], "r": 2.5,
               "style": {"fill": GD_COLOR, "fill-opacity": 0.6, "stroke": "none"}}]
    if validation is not None:
        vrows = _design_rows(validation)[:MAX_MOVING_POINTS]
        layers.append({"name": "val", "kind": "points", "live": True, "x": validation.y[vrows].tolist(),
                       "M": matrix(validation.X[vrows]), "shape": [len(vrows), len(design.terms)], "r": 3.5,
                       "style": {"fill": "none", "stroke": VAL_COLOR, "stroke-width": 2}})
    return layers


def loss_layers(validation: bool, total_epochs: int) -> list[dict[str, Any]]:
    """What the browser draws over :func:`loss_figure` while a run trains: the loss (and validation MSE) so far."""
    dots = 60 if total_epochs <= 60 else 0
    layers = [{"name": "loss", "kind": "series", "of": "loss", "live": True, "dots": dots,
               "style": _svg_style({"color": GD_COLOR, "width": 2})}]
    if validation:
        layers.append({"name": "val", "kind": "series", "of": "val", "live": True, "dots": dots,
                       "style": _svg_style({"color": VAL_COLOR, "width": 2})})
    return layers


def replay_loss_layers() -> list[dict[str, Any]]:
    """What the browser draws over :func:`loss_figure` while replaying a run that has ended: a marker on the loss
    at the replayed epoch (the curve itself is the figure's)."""
    return [{"name": "marker", "kind": "marker", "of": "loss", "live": True, "r": 6.5,
             "style": {"fill": GD_COLOR, "stroke": "white", "stroke-width": 2}}]


# The traces of :func:`fit_figure` that :func:`fit_layers` draws while replaying (hidden then), by whether the data
# has one feature drawn on a line (True) or is shown as predicted vs actual (False).
FIT_MOVING_TRACES = {True: ["gradient descent", "residuals"], False: ["gradient descent", "validation rows"]}


PREVIEW_POINTS = 400


def decades(values: Any) -> tuple[float, float] | None:
    """The whole decades around ``values`` (finite, > 0): an axis span that most small changes of the values keep."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v) & (v > 0)]
    if not len(v):
        return None
    return float(10 ** np.floor(np.log10(v.min()))), float(10 ** np.ceil(np.log10(v.max())))


def _thin(n: int, keep: int = PREVIEW_POINTS) -> np.ndarray:
    """Indices 0..n-1 to draw: every one early on (where a path bends), evenly spaced later, the last kept."""
    if n <= keep:
        return np.arange(n)
    early = np.arange(keep // 2)
    late = np.linspace(keep // 2, n - 1, keep - keep // 2).round().astype(int)
    return np.unique(np.concatenate([early, late]))


PREVIEW_STYLE = {"stroke": GD_COLOR, "stroke-width": 2, "fill": "none", "stroke-dasharray": "2,4", "opacity": 0.75}


def preview_layers(preview: Any, landscape: bool) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(loss chart, landscape) layers for a preview of the next run (linreg_core.Preview): the loss each epoch
    would have and the path it would take, dotted, drawn by the browser over the figures."""
    if preview is None or not len(preview.losses):
        return [], []
    i = _thin(len(preview.losses))
    loss = [{"name": "preview", "kind": "series", "fixed": True, "grow": True, "x": (i + 1).tolist(),
             "y": [float(v) for v in preview.losses[i]], "style": PREVIEW_STYLE}]
    land = []
    if landscape and preview.intercepts is not None and preview.coefs.shape[1] == 1:
        j = _thin(len(preview.coefs))
        pts = np.column_stack([preview.intercepts[j], preview.coefs[j, 0]])
        pts = pts[np.all(np.isfinite(pts), axis=1)]
        land = [{"name": "preview", "kind": "path", "fixed": True, "x": pts[:, 0].tolist(), "y": pts[:, 1].tolist(),
                 "style": PREVIEW_STYLE}]
    return loss, land


def landscape_layers() -> list[dict[str, Any]]:
    """What the browser draws over :func:`landscape_figure` while a run trains: the path so far and where it is."""
    return [{"name": "path", "kind": "path", "live": True, "style": _svg_style({"color": GD_COLOR, "width": 2}, fill="none")},
            {"name": "now", "kind": "now", "live": True,
             "style": {"fill": GD_COLOR, "stroke": "white", "stroke-width": 1.5}}]


def race_layers(lanes: Sequence[tuple[str, str]], min_loss: float, start_loss: float) -> list[dict[str, Any]]:
    """What the browser draws over :func:`race_figure` while a race runs: each lane's loss above the minimum so far,
    in the lane's colour and dash."""
    floor = _race_floor(max(float(start_loss) - min_loss, 0.0))
    return [{"name": f"lane{i}", "kind": "series", "of": "loss", "lane": i, "minus": float(min_loss), "floor": floor,
             "live": True, "style": _svg_style({"color": color, "width": 2, "dash": LANE_DASHES[i % len(LANE_DASHES)]})}
            for i, (_, color) in enumerate(lanes)]


def race_landscape_layers(lanes: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """What the browser draws over :func:`landscape_figure` while a race runs: each lane's path and where it is."""
    out: list[dict[str, Any]] = []
    for i, (_, color) in enumerate(lanes):
        out.append({"name": f"path{i}", "kind": "path", "lane": i, "live": True,
                    "style": _svg_style({"color": color, "width": 2}, fill="none")})
        out.append({"name": f"now{i}", "kind": "now", "lane": i, "live": True,
                    "style": {"fill": color, "stroke": "white", "stroke-width": 1.5}})
    return out


def path_box(start: tuple[float | None, Sequence[float]] | None, exact: Params, preview: Any = None) -> list[tuple[float, float]]:
    """Two corners of a view of the landscape that holds the start, the exact minimum and the path a full-batch
    run will take (its preview, up to where it would climb above 1.5× the starting loss: a diverging path would
    shrink the rest to a dot), rounded out to a coarse grid so that a small change of the lr keeps the view (and
    the browser does not redraw the heatmap)."""
    if start is None or start[0] is None or len(start[1]) != 1:
        return []
    pts = [(float(start[0]), float(start[1][0])), (float(exact[0]), float(exact[1][0]))]
    if preview is not None and preview.intercepts is not None and len(preview.losses):
        ok = np.flatnonzero(~(preview.losses <= 1.5 * preview.losses[0]))
        stop = int(ok[0]) if len(ok) else len(preview.losses) + 1
        p = np.column_stack([preview.intercepts[:stop], preview.coefs[:stop, 0]])
        pts += [tuple(v) for v in p[np.all(np.isfinite(p), axis=1)]]
    a = np.asarray(pts, dtype=np.float64)
    lo, hi = a.min(axis=0), a.max(axis=0)
    step = 10.0 ** np.floor(np.log10(np.maximum(hi - lo, 1e-12))) / 2
    lo, hi = np.floor(lo / step) * step, np.ceil(hi / step) * step
    return [tuple(map(float, lo)), tuple(map(float, hi))]
