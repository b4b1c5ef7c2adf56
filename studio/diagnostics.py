"""R's four ``plot.lm`` panels for the exact fit — residuals vs fitted, normal Q–Q, scale–location, residuals vs
leverage with Cook's distance contours — each with a one-line reading and the most influential rows named."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from scipy import stats as sps

from linreg_core import Influence

from .charts import DATA_COLOR, EXACT_COLOR, GD_COLOR, _figure, _markers, sample_rows

NAMED = 3  # rows named on each panel: the largest Cook's distances
COOK_LEVELS = (0.5, 1.0)


def _row_labels(infl: Influence, rows: np.ndarray, x: np.ndarray, y: np.ndarray, numbers: np.ndarray) -> list[dict]:
    top = np.argsort(infl.cooks_distance)[::-1][:NAMED]
    shown = set(rows.tolist())
    return [{"x": float(x[i]), "y": float(y[i]), "text": f"row {numbers[i]}", "showarrow": False, "yshift": 10,
             "font": {"size": 11, "color": GD_COLOR}} for i in top if i in shown and np.isfinite(y[i])]


def _zero(y: float = 0.0) -> dict:
    return {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": y, "y1": y, "line": {"color": "#888888", "dash": "dot"}}


def _spread_trend(infl: Influence) -> tuple[float, float]:
    """Spearman correlation of |residual| with the fitted value, and its p: a funnel shows as a clear trend."""
    if len(infl.resid) < 5 or np.ptp(infl.fitted) == 0:  # one fitted value (y ~ 1): no trend to look for
        return 0.0, 1.0
    rho, p = sps.spearmanr(infl.fitted, np.abs(infl.resid))
    return float(rho), float(p)


def panels(infl: Influence, jb_pvalue: float, row_numbers: np.ndarray | None = None) -> list[tuple[go.Figure, str]]:
    """The four figures, each with its reading (plain sentences; no user text in them). ``row_numbers``: each fitted
    row's number in the dataset (1-based), when rows were left out or held out; else 1, 2, …"""
    n = len(infl.resid)
    numbers = np.arange(1, n + 1) if row_numbers is None else np.asarray(row_numbers)
    rows = sample_rows(n)
    labels_at = np.argsort(infl.cooks_distance)[::-1][:NAMED]
    worst = int(labels_at[0]) if n else 0
    rho, p_trend = _spread_trend(infl)
    funnel = p_trend < 0.05 and abs(rho) > 0.2

    f1 = _figure([_markers(infl.fitted[rows], infl.resid[rows], "residuals", DATA_COLOR, 6, 0.7)],
                 "Residuals vs fitted", "fitted value", "residual", shapes=[_zero()],
                 annotations=_row_labels(infl, rows, infl.fitted, infl.resid, numbers), showlegend=False, height=340)
    read1 = ("The residuals spread more where the fitted values are " + ("larger" if rho > 0 else "smaller") +
             f" (Spearman ρ = {rho:.2f}): the noise is not constant, so prefer robust (HC) standard errors."
             if funnel else "No clear pattern around 0: a straight-line model in these terms looks adequate.")

    order = np.argsort(infl.std_resid)
    theo = sps.norm.ppf((np.arange(1, n + 1) - 0.375) / (n + 0.25))
    q_rows = sample_rows(n)
    f2 = _figure([_markers(theo[q_rows], infl.std_resid[order][q_rows], "standardized residuals", DATA_COLOR, 6, 0.7),
                  {"type": "scatter", "x": [theo[0], theo[-1]], "y": [theo[0], theo[-1]], "mode": "lines",
                   "line": {"color": EXACT_COLOR, "dash": "dash"}, "name": "normal"}],
                 "Normal Q–Q", "theoretical quantile", "standardized residual", showlegend=False, height=340)
    read2 = (f"The tails leave the line (Jarque–Bera p = {jb_pvalue:.2g}): the residuals are not normal, so t, p and "
             "intervals are approximate." if jb_pvalue < 0.05 else
             f"Close to the line (Jarque–Bera p = {jb_pvalue:.2g}): the residuals look normal.")

    root = np.sqrt(np.abs(infl.std_resid))
    f3 = _figure([_markers(infl.fitted[rows], root[rows], "√|standardized residual|", DATA_COLOR, 6, 0.7)],
                 "Scale–location", "fitted value", "√|standardized residual|",
                 annotations=_row_labels(infl, rows, infl.fitted, root, numbers), showlegend=False, height=340)
    read3 = ("The spread changes with the fitted value: the equal-noise assumption behind classical standard errors "
             "does not hold." if funnel else "A flat band: the noise looks equally large everywhere.")

    h, r = infl.leverage, infl.std_resid
    traces = [_markers(h[rows], r[rows], "standardized residuals", DATA_COLOR, 6, 0.7)]
    hmax = float(np.nanmax(h)) if n else 1.0
    grid = np.linspace(max(1e-6, float(np.nanmin(h))), min(max(hmax * 1.05, 1e-3), 0.999), 100)  # leverage < 1
    for level in COOK_LEVELS:
        bound = np.sqrt(level * infl.n_params * (1 - grid) / grid)
        for sign in (1, -1):
            traces.append({"type": "scatter", "x": grid, "y": sign * bound, "mode": "lines", "hoverinfo": "skip",
                           "name": f"Cook's distance {level:g}", "line": {"color": GD_COLOR, "dash": "dot", "width": 1}})
    top = float(np.max(np.abs(r[np.isfinite(r)]))) if n else 1.0
    f4 = _figure(traces, "Residuals vs leverage", "leverage", "standardized residual", shapes=[_zero()],
                 annotations=_row_labels(infl, rows, h, r, numbers), showlegend=False, height=340,
                 yaxis={"range": [-1.15 * max(top, 1.0), 1.15 * max(top, 1.0)]})
    d = float(infl.cooks_distance[worst]) if n else 0.0
    read4 = (f"Row {numbers[worst] if n else 1} has the largest Cook's distance, {d:.2g}: " +
             ("it pulls the fit noticeably; check it (refit without it to see how much)." if d > 0.5 else
              "no row pulls the fit much (all below 0.5)."))
    return [(f1, read1), (f2, read2), (f3, read3), (f4, read4)]
