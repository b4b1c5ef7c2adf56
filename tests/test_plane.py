"""Two features: the plane's map (studio/plane.py) — the exact fit's prediction as bands, the points coloured by
their actual value, gradient descent's plane as contour lines."""

from __future__ import annotations

import numpy as np
import pandas as pd
from app_support import figures, shared_app, trace_values, traces, train_clicked

from linreg_core import build_design, fit_exact_design
from studio.plane import _isolines, _levels, is_plane, plane_figure

TITLE = "Prediction over total_bill and size"


def _design():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"a": rng.uniform(0, 10, 50), "b": rng.uniform(-5, 5, 50)})
    df["y"] = 1.0 + 2.0 * df.a - 0.5 * df.b + rng.normal(0, 0.3, 50)
    return build_design(df, "y", ["a", "b"])


def test_the_contour_lines_are_where_the_plane_predicts_each_level():
    d = _design()
    ex = fit_exact_design(d)
    b, w = ex.intercept, np.asarray(ex.coef)
    xs, ys = _isolines((b, list(w)), _levels(d), (0.0, 10.0, -5.0, 5.0))
    pts = np.array([(x, y) for x, y in zip(xs, ys) if x is not None])
    assert len(pts) == 2 * len(_levels(d))  # one segment per level, across the box
    pred = b + pts @ w
    np.testing.assert_allclose(pred, np.repeat(_levels(d), 2), atol=1e-9)
    assert np.all((pts[:, 0] >= -1e-9) & (pts[:, 0] <= 10 + 1e-9) & (pts[:, 1] >= -5 - 1e-9) & (pts[:, 1] <= 5 + 1e-9))


def test_the_map_colours_the_points_by_their_actual_value_on_the_predictions_scale():
    d = _design()
    fig = plane_figure(d, fit_exact_design(d), params=None)
    heat, data = fig.data[0], fig.data[1]
    assert heat.type == "heatmap" and data.marker.cmin == heat.zmin and data.marker.cmax == heat.zmax
    np.testing.assert_allclose(np.asarray(data.marker.color), d.y)
    assert is_plane(d) and not is_plane(build_design(pd.DataFrame({"a": [1.0, 2, 3], "y": [1.0, 2, 4]}), "y", ["a"]))


def test_restaurant_tips_with_two_features_shows_the_plane_and_gradient_descents_lines():
    at = shared_app({"preset": "tips", "y": "tip", "x": ["total_bill", "size"], "std": "1", "lr": "0.1"})
    assert TITLE in figures(at)  # before a run: the exact fit's map
    run = train_clicked(at)
    fig = figures(at)[TITLE]
    lines = traces(fig)["gradient descent"]
    xs, ys = trace_values(lines, "x"), trace_values(lines, "y")
    ok = np.isfinite(xs)
    pred = run.intercept + run.coef[0] * xs[ok] + run.coef[1] * ys[ok]
    assert len(pred) >= 4 and np.ptp(pred) > 1.0  # several levels of the run's own plane
    assert "The fitted plane (drag to turn it)" in figures(at)  # and the plane in 3-D beside its map
