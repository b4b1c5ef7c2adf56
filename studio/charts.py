"""Plotly figures with bounded payloads: long histories are downsampled, big scatters sampled (WebGL).

Figures are built from plain dicts with validation off: plotly's validating constructors cost tens of
milliseconds per figure, which live redraws several times a second cannot afford. Arrays go out as
float32 numpy arrays, which Streamlit serializes as compact base64.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from linreg_core import Design

from .bands import bands
from .cache import derived, known
from .text import plot

MAX_HISTORY_POINTS = 1500
MAX_SCATTER_POINTS = 5000
GD_COLOR = "#e4572e"
EXACT_COLOR = "#2e86ab"
DATA_COLOR = "#6f7a85"  # mid grey: 4.4:1 against a white page, 4.1:1 against a dark one
VAL_COLOR = "#9a4fd6"  # 4.7:1 against white, 3.8:1 against a dark page (#7b2cbf was 2.5:1 there)
# Every chart's legend sits under the plot, at the figure's bottom edge (placed on the container, so Plotly pushes
# the plot up by the legend's real height): above it, the entries wrap on a phone and cover the chart's title; placed
# a fraction of the plot's height below the axis, three wrapped entries ran into the x axis's title at 1024 px.
LEGEND_UNDER = {"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0.0, "xanchor": "left", "x": 0.0}
# One colour per race lane from the Okabe–Ito palette, which colour-blind readers can tell apart, ordered so
# that neighbouring lanes differ most; lanes 4–6 are also dashed.
LANE_COLORS = ("#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#0072B2")  # no black: the page may be dark
LANE_DASHES = (None, None, None, "dash", "dash", "dash")
TRANSPARENT = "rgba(0,0,0,0)"
# Text and grid colours that read on a light and on a dark page alike, in the figure's template (not its layout):
# Streamlit merges its own theme over a figure's template, so st.plotly_chart shows the page's theme, and so does a
# live chart, whose layout studio/theme.py's themeLayout patches. Only a figure drawn with neither uses these.
_NEUTRAL, _NEUTRAL_GRID = "#808495", "rgba(128,132,149,0.3)"
THEME_FALLBACK = {"layout": {
    "font": {"family": '"Source Sans", sans-serif', "color": _NEUTRAL},
    "title": {"font": {"color": _NEUTRAL}},
    "xaxis": {"gridcolor": _NEUTRAL_GRID, "linecolor": _NEUTRAL_GRID, "zerolinecolor": _NEUTRAL_GRID},
    "yaxis": {"gridcolor": _NEUTRAL_GRID, "linecolor": _NEUTRAL_GRID, "zerolinecolor": _NEUTRAL_GRID},
    "legend": {"bgcolor": TRANSPARENT},
}}

Params = tuple[float | None, Sequence[float]]  # (intercept, coef) of raw terms — or an ExactFit, see _predict


def _predict(params: Any, X: np.ndarray) -> np.ndarray:
    """Predictions at design rows ``X``: an exact fit evaluates in its own well-conditioned basis (a high-degree
    polynomial's raw coefficients can cancel in float64); (intercept, coef) as intercept + X @ coef."""
    if hasattr(params, "predict"):
        return params.predict(X)
    return X @ np.asarray(params[1], dtype=np.float64) + (params[0] or 0.0)


def downsample_history(history: Sequence[float], max_points: int = MAX_HISTORY_POINTS) -> tuple[int, np.ndarray]:
    """(stride, losses at epochs 1, 1+stride, ...) with at most ``max_points`` values; the last epoch is kept."""
    n = len(history)
    stride = max(1, -(-n // max_points))
    h = np.asarray(history[::stride], dtype=np.float64)
    if n and (n - 1) % stride:
        h = np.append(h, history[-1])  # the newest loss always shows; its x is placed by the caller
    return stride, h


def mse_at(design: Design, params: Params | None) -> float | None:
    """The MSE of ``params`` on the drawn rows (a sample of a big dataset): where a run's loss curve starts."""
    if params is None:
        return None
    d = drawn(design)
    rows = _design_rows(d)
    return float(np.mean((_predict(params, d.X[rows]) - d.y[rows]) ** 2))


def sample_rows(n: int, max_points: int = MAX_SCATTER_POINTS, seed: int = 0) -> np.ndarray:
    """Row indices to draw: all rows when few, else a fixed random sample (stable across redraws)."""
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))


def _f32(a: Any) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


def _open_markers(x: np.ndarray, y: np.ndarray, name: str, color: str, size: int) -> dict:
    """Open circles: held-out (validation) rows, drawn over the training rows."""
    trace = _markers(x, y, name, color, size, 0.9)
    trace["marker"].update(symbol="circle-open", line={"width": 2, "color": color})
    return trace


def _hline(y: float, text: str, log_y: bool) -> tuple[dict, dict]:
    """A dashed horizontal reference line across the plot and its label at the right end."""
    shape = {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": y, "y1": y,
             "line": {"color": EXACT_COLOR, "dash": "dash"}}
    label = {"xref": "paper", "x": 1, "y": np.log10(y) if log_y else y, "text": text, "showarrow": False,
             "xanchor": "right", "yanchor": "bottom", "font": {"color": EXACT_COLOR},
             "bgcolor": "rgba(255,255,255,0.9)"}  # readable where curves cross it
    return shape, label


def _figure(traces: list[dict], title: str, x: str, y: str, **layout: Any) -> go.Figure:
    # No colours of the page's theme here: st.plotly_chart puts Streamlit's theme (light or dark, as the reader's
    # page is) into the template, and the live charts put it in with studio/theme.py's themeLayout. The template's
    # THEME_FALLBACK reads on either page, for a figure drawn where no theme applies.
    axis = {"automargin": True}
    base = {
        "title": {"text": title, "x": 0.01, "xanchor": "left", "y": 0.985, "yref": "container", "yanchor": "top",
                  "font": {"size": 15}},
        "font": {"size": 12},
        "xaxis": {**axis, "title": {"text": x, "font": {"size": 14}}},
        "yaxis": {**axis, "title": {"text": y, "font": {"size": 14}}},
        "paper_bgcolor": TRANSPARENT, "plot_bgcolor": TRANSPARENT, "template": THEME_FALLBACK,  # the page shows through
        "height": 380, "margin": {"l": 10, "r": 10, "t": 44, "b": 10, "pad": 8},
        "legend": LEGEND_UNDER,
        "uirevision": "keep",  # keep the user's zoom across live redraws
    }
    for k, v in layout.items():
        base[k] = {**base.get(k, {}), **v} if isinstance(v, dict) else v
    return go.Figure(data=traces, layout=base, _validate=False)


def log_axis(values: np.ndarray) -> dict[str, Any]:
    """A log axis labelled at whole decades (with unlabelled minor ticks) once the values span more than
    one: Plotly's default labels 2, 3, … 9 in every decade, which crowd into each other."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v) & (v > 0)]
    axis: dict[str, Any] = {"type": "log", "exponentformat": "power"}
    decades = float(np.log10(v.max() / v.min())) if len(v) else 0.0
    if decades >= 1.0:  # at most about eight labels, at whole decades
        axis.update(dtick=max(1, int(np.ceil(decades / 8))), minor={"ticks": "outside", "ticklen": 3, "showgrid": False})
    return axis


def _history_trace(history: Sequence[float], name: str, color: str, dash: str | None = None) -> dict[str, Any]:
    stride, loss = downsample_history(history)
    n = len(history)
    trace: dict[str, Any] = {"type": "scatter", "name": name, "line": {"color": color, "width": 2},
                             "mode": "lines+markers" if n <= 60 else "lines"}
    if dash:
        trace["line"]["dash"] = dash
    if not n:  # one blank point: Plotly leaves a trace with no data out of the legend
        trace["x"], trace["y"] = [None], [None]
        return trace
    if n and (n - 1) % stride:
        trace["x"] = _f32(np.append(np.arange(1, n + 1, stride), n))
    else:
        trace["x0"], trace["dx"] = 1, stride
    trace["y"] = loss  # float64: losses can span 1e-30 .. 1e30
    return trace


def loss_figure(history: Sequence[float], log_y: bool = False, floor: float | None = None,
                total_epochs: int | None = None, val_history: Sequence[float] | None = None,
                changes: Sequence[tuple[int, str]] = (), marker: int | None = None,
                y_span: tuple[float, float] | None = None) -> go.Figure:
    """Loss per epoch; ``floor`` is the exact least-squares MSE (the best any run can reach).
    With ``val_history``, the validation MSE is drawn beside the training loss. ``changes``: (epochs done,
    what changed) marked by a dotted line where the change took effect; ``marker``: an epoch to point out
    (the replay's). ``y_span``: the losses the axis must show, for a run whose curve the browser draws as it
    trains (studio/live_chart.js widens it if a loss falls outside)."""
    val = val_history is not None
    traces = [_history_trace(history, "training loss" if val else "gradient descent", GD_COLOR)]
    if val:
        traces.append(_history_trace(val_history, "validation MSE", VAL_COLOR))
    loss = np.concatenate([traces[0]["y"], traces[-1]["y"]]) if val else traces[0]["y"]
    loss = np.asarray([v for v in loss if v is not None], dtype=np.float64)
    if y_span is not None:
        loss = np.append(loss, y_span)
    shapes, annotations = [], []
    top = float(np.max(loss)) if len(loss) else 1.0
    # A perfect fit has an exact MSE of ~1e-30: drawing it would squash a log axis, so leave it out.
    if floor is not None and np.isfinite(floor) and (not log_y or floor > 1e-12 * top):
        shape, label = _hline(floor, "exact minimum" + (" (training rows)" if val else ""), log_y)
        shapes.append(shape)
        annotations.append(label)
    for i, (epoch, text) in enumerate(changes):
        x = epoch + 0.5  # between the last epoch at the old setting and the first at the new one
        shapes.append({"type": "line", "x0": x, "x1": x, "yref": "paper", "y0": 0, "y1": 1,
                       "line": {"color": "#888888", "dash": "dot", "width": 1.5}})  # seen on light and dark
        annotations.append({"x": x, "yref": "paper", "y": 0.98 - 0.09 * (i % 4), "text": plot(text), "showarrow": False,
                            "xanchor": "left", "yanchor": "top", "bgcolor": "rgba(255,255,255,0.85)",
                            "font": {"color": "#444444", "size": 11}})
    if marker is not None and 1 <= marker <= len(history):
        y = history[marker - 1]
        traces.append({"type": "scatter", "x": [marker], "y": [y], "mode": "markers", "name": f"epoch {marker:,}",
                       "marker": {"color": GD_COLOR, "size": 13, "line": {"color": "white", "width": 2}}})
    # Always an explicit span: the planned epochs during a run (so progress shows), what ran afterwards.
    span = total_epochs or len(history)
    xaxis: dict[str, Any] = {"range": [0, span + 1]} if span else {}
    yaxis = log_axis(loss) if log_y else {"type": "linear", "exponentformat": "none"}
    yaxis.update(_narrow_range(loss, log_y))
    if y_span is not None and "range" not in yaxis:
        lo, hi = float(min(y_span)), float(max(y_span))
        yaxis["range"] = ([np.log10(lo) - 0.15, np.log10(hi) + 0.15] if log_y and lo > 0
                          else [min(0.0, lo), hi + 0.06 * (hi - min(0.0, lo))])
    return _figure(traces, "Loss (MSE) per epoch", "epoch", "loss", shapes=shapes, annotations=annotations,
                   xaxis=xaxis, yaxis=yaxis)


def _narrow_range(values: np.ndarray, log_y: bool) -> dict[str, Any]:
    """An explicit y range when the values (nearly) coincide — one epoch, a flat curve: Plotly would zoom to
    the rounding and label its ticks with twenty digits (0.11768847400108173318). Otherwise nothing."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v) & (v > 0)] if log_y else v[np.isfinite(v)]
    if not len(v):
        return {}
    lo, hi = float(v.min()), float(v.max())
    if hi - lo > 1e-3 * max(abs(hi), abs(lo)):
        return {}
    if log_y:
        return {"range": [np.log10(lo) - 0.5, np.log10(hi) + 0.5]}
    pad = 0.5 * max(abs(hi), abs(lo)) or 1.0
    return {"range": [lo - pad, hi + pad]}


def _markers(x: np.ndarray, y: np.ndarray, name: str, color: str, size: int, opacity: float) -> dict:
    return {"type": "scattergl" if len(x) > 1000 else "scatter", "x": _f32(x), "y": _f32(y), "mode": "markers",
            "name": name, "marker": {"color": color, "size": size, "opacity": opacity}}


def drawn(design: Design) -> Design:
    """The rows a chart can draw: the design itself, or for a design whose rows stay on a cluster (a server dataset,
    studio/bigdata.py) the in-memory design of its uniform sample, with the same terms."""
    return design if design.X is not None else known(design, "sample", design)


def _design_rows(design: Design) -> np.ndarray:
    return derived(design, "chart_rows", lambda: sample_rows(design.n_samples))  # once per design (1M rows)


MAX_RESIDUAL_SEGMENTS = 500
RESIDUAL_LINE = {"color": "#9aa3ad", "width": 1.5, "dash": "dot"}

def curve_grid(lo: float, hi: float, curved: bool, points: int = 200) -> np.ndarray:
    """Where a fitted line (two points) or curve (``points``) is drawn over [lo, hi]: 5% beyond each end."""
    pad = 0.05 * (hi - lo or 1.0)
    return np.linspace(lo - pad, hi + pad, points if curved else 2)


def _x_range(design: Design, validation: Design | None) -> tuple[float, float]:
    def make() -> tuple[float, float]:
        x = design.X[:, 0]
        xs = x if validation is None else np.concatenate([x, validation.X[:, 0]])
        return float(xs.min()), float(xs.max())

    return derived(design, f"x_range {id(validation)}", make)


def fit_figure(design: Design, gd: Params | None, exact: Params | None, validation: Design | None = None,
               edit: bool = False, residuals: bool = False, moving: bool = False) -> go.Figure:
    """One feature: the data with the current fitted curve and the exact one. Several: predicted vs actual.
    ``validation`` rows are drawn as open circles (one feature). ``edit``: every row is drawn (trace 0, in
    row order) and a drag selects points instead of zooming (studio/points.py). ``residuals``: a vertical
    segment from each point (up to 500) to the gradient-descent line (or the exact one before a run); the trace is
    there either way, shown or hidden, so that the browser can toggle it (studio/live_chart.py's ``views``).
    ``moving``: a run whose fit the browser draws as it trains (:func:`fit_layers`): its traces are left blank,
    legend entries only."""
    design = drawn(design)
    rows = _design_rows(design)
    traces: list[dict] = []
    if design.line_feature is not None:
        x = design.X[:, 0]
        grid = curve_grid(*_x_range(design, validation), design.degree > 1)
        size = 8 if len(rows) < 300 else 4
        traces.append(_markers(x[rows], design.y[rows], "training rows" if validation is not None else "data",
                               DATA_COLOR, size, 0.7))
        if validation is not None:
            vrows = _design_rows(validation)
            traces.append(_open_markers(validation.X[vrows, 0], validation.y[vrows], "validation rows", VAL_COLOR,
                                        size + 1))
        fitted = gd if gd is not None else exact
        if fitted is not None and not moving:
            show = rows[:MAX_RESIDUAL_SEGMENTS]
            xs, ys = x[show], design.y[show]
            pred = _predict(fitted, design.X[show])
            seg_x = np.column_stack([xs, xs, np.full(len(xs), np.nan)]).ravel()
            seg_y = np.column_stack([ys, pred, np.full(len(xs), np.nan)]).ravel()
            traces.append({"type": "scatter", "x": seg_x, "y": seg_y, "mode": "lines", "hoverinfo": "skip",
                           "name": "residuals", "line": RESIDUAL_LINE, "visible": bool(residuals)})
        for params, name, line in ((exact, "exact least squares", {"color": EXACT_COLOR, "dash": "dash", "width": 2}),
                                   (gd, "gradient descent", {"color": GD_COLOR, "width": 3})):
            if params is not None:
                traces.append({"type": "scatter", "x": grid, "y": _predict(params, design.transform(grid)), "mode": "lines",
                               "name": name, "line": line})
            elif moving and name == "gradient descent":
                traces.append({"type": "scatter", "x": [None], "y": [None], "mode": "lines", "name": name, "line": line})
        extra: dict[str, Any] = {"dragmode": "select", "hovermode": "closest"} if edit else {}
        return _figure(traces, "Data and fitted line", plot(design.features[0]), plot(design.target), **extra)
    y = design.y[rows]
    lo, hi = float(y.min()), float(y.max())  # the sample's range: the diagonal spans what is drawn
    traces.append({"type": "scatter", "x": [lo, hi], "y": [lo, hi], "mode": "lines", "name": "perfect fit",
                   "line": {"color": "#aaaaaa", "dash": "dot"}})
    for params, name, color in ((exact, "exact least squares", EXACT_COLOR), (gd, "gradient descent", GD_COLOR)):
        if params is not None:
            traces.append(_markers(y, _predict(params, design.X[rows]), name, color, 5, 0.6))
        elif moving and name == "gradient descent":
            traces.append(_markers(np.array([np.nan]), np.array([np.nan]), name, color, 5, 0.6))
    fitted = gd if gd is not None else exact
    if validation is not None and moving:
        traces.append(_open_markers(np.array([np.nan]), np.array([np.nan]), "validation rows", VAL_COLOR, 7))
    elif validation is not None and fitted is not None:  # held-out rows under the current fit, as open circles
        vrows = _design_rows(validation)
        vy = validation.y[vrows]
        traces.append(_open_markers(vy, _predict(fitted, validation.X[vrows]), "validation rows", VAL_COLOR, 7))
    return _figure(traces, "Predicted vs actual", f"actual {plot(design.target)}", f"predicted {plot(design.target)}")


def residual_figure(design: Design, fits: dict[str, Params], on_line: Sequence[str] = ()) -> go.Figure:
    """Residual against fitted value for each of ``fits``; those named in ``on_line`` pass through every point
    to the data's precision (studio/numbers.py), so their residuals are drawn as the 0 they are."""
    design = drawn(design)
    rows = _design_rows(design)
    colors = {"gradient descent": GD_COLOR, "exact least squares": EXACT_COLOR}
    traces = []
    for name, params in fits.items():
        pred = _predict(params, design.X[rows])
        resid = np.zeros(len(rows)) if name in on_line else design.y[rows] - pred
        traces.append(_markers(pred, resid, name, colors.get(name, DATA_COLOR), 6, 0.65))
    return _figure(traces, "Residuals vs fitted", f"fitted {plot(design.target)}", "residual (actual − fitted)",
                   shapes=[{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 0, "y1": 0,
                            "line": {"color": "#888888", "dash": "dot"}}])


Path = Sequence[tuple[float, float]]
BOUNCE_LABELS = 12  # a path that reverses direction early gets its first epochs numbered


def _bounces(p: np.ndarray) -> bool:
    """Whether the path's first steps reverse direction (a zig-zag or a divergence bouncing across the minimum)."""
    steps = np.diff(p[:BOUNCE_LABELS], axis=0)
    if len(steps) < 2:
        return False
    dots = np.einsum("ij,ij->i", steps[:-1], steps[1:])
    return bool(np.any(dots < 0))


def landscape_figure(design: Design, exact: Params, path: Path, log_z: bool = True,
                     paths: Sequence[tuple[str, str, Path]] = (), frame: Sequence[str] | None = None,
                     view: Path = (), moving: bool = False) -> go.Figure:
    """The MSE over (intercept, slope), the exact minimum, and the optimizer's path so far — or several
    named, coloured ``paths`` (an optimizer race). ``frame`` names the paths the view is sized to (a
    diverging lane would otherwise shrink the rest to a dot); the others are clipped at its edges. ``view``: more
    points the view must hold (where a run will go). ``moving``: a run whose path the browser draws as it trains
    (:func:`landscape_layers`): legend entries only."""
    from linreg_core import loss_grid

    b_star, w_star = float(exact[0]), float(exact[1][0])
    named = list(paths) or ([("optimizer path", GD_COLOR, path)] if len(path) else [])
    every = [pt for n, _, p in named if frame is None or n in frame for pt in p] + list(view)
    pts = np.array([(b_star, w_star), *every], dtype=np.float64)
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = np.maximum(hi - lo, 0.5 * np.maximum(np.abs([b_star, w_star]), 1.0))
    lo, hi = lo - 0.25 * span, hi + 0.25 * span
    bs, ws = np.linspace(lo[0], hi[0], 60), np.linspace(lo[1], hi[1], 60)
    z = loss_grid(design, bs, ws)
    # A heatmap, not a contour trace: the browser redraws it several times a second while training, and
    # contour lines cost Chromium far more to lay out on a small machine.
    shown = np.log10(np.maximum(z, 1e-300)) if log_z else z
    z_lo, z_hi, step, scale = bands(shown)
    traces: list[dict] = [{
        "type": "heatmap", "x": bs, "y": ws, "z": _f32(shown), "zmin": z_lo, "zmax": z_hi,
        "colorscale": scale, "name": "loss", "zsmooth": "best", "hoverinfo": "skip",
        "showscale": True, "colorbar": {"title": {"text": "log₁₀ MSE" if log_z else "MSE", "side": "right"},
                                        "thickness": 12, "len": 0.9, "outlinewidth": 0, "tick0": z_lo, "dtick": step},
    }]
    for name, color, one in named:
        if not len(one):
            continue
        p = np.asarray(one, dtype=np.float64)
        p = p[np.all(np.isfinite(p), axis=1)]
        traces.append({"type": "scatter", "x": p[:, 0], "y": p[:, 1], "mode": "lines+markers" if len(p) < 80 else "lines",
                       "name": name, "line": {"color": color, "width": 2}, "marker": {"size": 4}, "legendgroup": name})
        if _bounces(p):  # back and forth across the valley: one line over itself unless the steps are numbered
            first = p[:BOUNCE_LABELS]
            traces.append({"type": "scatter", "x": first[:, 0], "y": first[:, 1], "mode": "markers+text",
                           "text": [str(i) for i in range(len(first))], "textposition": "top center",
                           "textfont": {"size": 11, "color": color}, "marker": {"size": 7, "color": color},
                           "name": f"{name}: epochs 0–{len(first) - 1}", "showlegend": False, "legendgroup": name,
                           "hovertemplate": "epoch %{text}<extra></extra>"})
        traces.append({"type": "scatter", "x": p[-1:, 0], "y": p[-1:, 1], "mode": "markers", "name": "now",
                       "showlegend": not paths, "legendgroup": name,
                       "marker": {"color": color, "size": 11, "line": {"color": "white", "width": 1.5}}})
    if moving and paths:  # a race the browser draws: its lanes' legend entries
        for name, color, _ in paths:
            traces.append({"type": "scatter", "x": [None], "y": [None], "mode": "lines+markers", "name": name,
                           "line": {"color": color, "width": 2}, "marker": {"size": 4}, "legendgroup": name})
    if moving and not paths:
        traces.append({"type": "scatter", "x": [None], "y": [None], "mode": "lines", "name": "optimizer path",
                       "line": {"color": GD_COLOR, "width": 2}})
        traces.append({"type": "scatter", "x": [None], "y": [None], "mode": "markers", "name": "now",
                       "marker": {"color": GD_COLOR, "size": 11, "line": {"color": "white", "width": 1.5}}})
    traces.append({"type": "scatter", "x": [b_star], "y": [w_star], "mode": "markers", "name": "exact minimum",
                   "marker": {"symbol": "star", "size": 16, "color": EXACT_COLOR, "line": {"color": "white", "width": 1}}})
    title = "Loss landscape " + ("(log₁₀ MSE)" if log_z else "(MSE)")
    # The legend under the plot: above it, three entries and the colour scale crowd the title on a narrow screen.
    extra: dict[str, Any] = {"legend": LEGEND_UNDER, "height": 480 if paths else 440}
    return _figure(traces, title, "intercept", f"slope of {plot(design.terms[0])}", **extra,
                   xaxis={"range": [lo[0], hi[0]]}, yaxis={"range": [lo[1], hi[1]]})


def race_figure(lanes: Sequence[tuple[str, str, Sequence[float]]], min_loss: float, tol: float,
                total_epochs: int | None = None, start_loss: float | None = None) -> go.Figure:
    """Each lane's excess loss (loss − the best reachable) per epoch on a log axis, with the tolerance line.
    ``start_loss``: a race whose curves the browser draws as it runs (:func:`race_layers`): the lanes' traces are
    left blank (legend entries only) and the axis spans from the start's excess down past the tolerance."""
    starts = [float(h[0]) - min_loss for _, _, h in lanes if len(h)]
    if start_loss is not None:
        starts = [float(start_loss) - min_loss]
    first = max(starts[0], 0.0) if starts else 0.0
    floor = _race_floor(first)
    traces = []
    for i, (name, color, history) in enumerate(lanes):
        excess = np.maximum(np.asarray(history, dtype=np.float64) - min_loss, floor)
        traces.append(_history_trace(excess, name, color, LANE_DASHES[i % len(LANE_DASHES)]))
    drawn = [np.asarray(t["y"], dtype=np.float64) for t in traces if t["y"][0] is not None]
    every = np.concatenate(drawn) if drawn else np.empty(0)
    if start_loss is not None and first > 0:  # from the start down to the clip: the browser widens it for a rise
        every = np.array([first * 1.5, floor])
    shapes, annotations = [], []
    if first > 0:
        shape, label = _hline(tol * first, f"tolerance ({tol:g} of the start)", log_y=True)
        shapes.append(shape)
        annotations.append(label)
    xaxis: dict[str, Any] = {"range": [0, total_epochs + 1]} if total_epochs else {}
    yaxis = log_axis(every)
    if start_loss is not None and len(every):
        yaxis["range"] = [float(np.log10(every.min())), float(np.log10(every.max()))]
    return _figure(traces, "Loss above the minimum, per epoch", "epoch", "loss − minimum", shapes=shapes,
                   annotations=annotations, xaxis=xaxis, yaxis=yaxis, height=440,
                   legend=LEGEND_UNDER, margin={"b": 10})


def _race_floor(first: float) -> float:
    """The smallest excess the race chart draws, ``first`` being the start's excess: below ~1e-15 of it the
    difference is float64 rounding (a perfect fit reaches 0), so the axis shows the race, not 300 decades of noise."""
    return max(first * 1e-15, 1e-300)


def degree_figure(sweep: Any, current: int) -> go.Figure:
    """Training and validation MSE of the exact fit at each polynomial degree: the validation curve."""
    top = float(max(sweep["training MSE"].max(), sweep["validation MSE"].max()))
    floor = max(top * 1e-15, 1e-300)  # a perfect fit (MSE ~1e-30) would otherwise fall off the log axis
    traces = [
        {"type": "scatter", "x": sweep["degree"], "y": np.maximum(sweep["training MSE"], floor), "mode": "lines+markers",
         "name": "training MSE", "line": {"color": GD_COLOR, "width": 2}},
        {"type": "scatter", "x": sweep["degree"], "y": np.maximum(sweep["validation MSE"], floor), "mode": "lines+markers",
         "name": "validation MSE", "line": {"color": VAL_COLOR, "width": 2}},
    ]
    shapes = [{"type": "line", "x0": current, "x1": current, "yref": "paper", "y0": 0, "y1": 1,
               "line": {"color": "#999999", "dash": "dot"}}]
    return _figure(traces, "Exact fit by polynomial degree (same split)", "degree", "MSE", shapes=shapes,
                   xaxis={"dtick": 1}, yaxis={"type": "log", "exponentformat": "power"}, height=320)


MAX_CORR_COLUMNS = 30
MAX_SPLOM_COLUMNS = 6
MAX_SPLOM_ROWS = 2000


def correlation_figure(df: Any, columns: Sequence[str]) -> go.Figure:
    """Pearson correlations of the numeric ``columns`` (at most 30), values written in the cells."""
    cols = list(columns)[:MAX_CORR_COLUMNS]
    corr = df[cols].astype(float).corr().to_numpy()
    names = [plot(c) for c in cols]
    text = [[f"{v:.2f}" if np.isfinite(v) else "" for v in row] for row in corr]
    trace = {"type": "heatmap", "z": corr.tolist(), "x": names, "y": names, "zmin": -1, "zmax": 1, "colorscale": "RdBu",
             "reversescale": True, "text": text, "texttemplate": "%{text}" if len(cols) <= 12 else "",
             "hovertemplate": "%{y} · %{x}: %{z:.3f}<extra></extra>", "colorbar": {"thickness": 12}}
    size = 120 + 34 * len(cols)
    return _figure([trace], "Correlations (Pearson)", "", "", height=min(max(size, 320), 900),
                   yaxis={"autorange": "reversed"}, xaxis={"tickangle": -40})


def scatter_matrix_figure(df: Any, columns: Sequence[str], seed: int = 0) -> go.Figure:
    """Every pair of up to six numeric columns (a sample of at most 2,000 rows), to choose features by eye."""
    cols = list(columns)[:MAX_SPLOM_COLUMNS]
    rows = sample_rows(len(df), MAX_SPLOM_ROWS, seed)
    dims = [{"label": plot(c), "values": _f32(df[c].to_numpy(dtype=float)[rows])} for c in cols]
    trace = {"type": "splom", "dimensions": dims, "showupperhalf": False, "diagonal": {"visible": False},
             "marker": {"size": 4, "color": DATA_COLOR, "opacity": 0.5}}
    # The first axes are ours (the base layout titles them): give them the first column's name, as Plotly does the rest.
    return _figure([trace], "Scatter matrix", plot(cols[0]), plot(cols[0]), height=160 * len(cols) + 60,
                   dragmode="select")
