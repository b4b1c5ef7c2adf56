"""Three features or more: the partial dependence on one feature at a time (studio/partial.py)."""

from __future__ import annotations

import numpy as np
from app_support import figures, shared_app, trace_values, traces, train_clicked

from linreg_core import build_design, fit_exact_design
from studio.partial import applies, partial_figure

IRIS = {"preset": "iris", "y": "petal_width", "x": ["petal_length", "sepal_length", "sepal_width"], "std": "1",
        "lr": "0.1", "epochs": "200"}


def test_the_line_has_the_features_coefficient_for_slope_with_the_others_at_their_means(multi_df):
    d = build_design(multi_df, "y", ["a", "b", "c"])
    ex = fit_exact_design(d)
    assert applies(d)
    fig = partial_figure(d, "b", ex)
    line = next(t for t in fig.data if t.name == "exact least squares")
    x, y = np.asarray(line.x), np.asarray(line.y)
    assert np.isclose((y[-1] - y[0]) / (x[-1] - x[0]), ex.coef[1])
    means = multi_df[["a", "c"]].mean().to_numpy()
    assert np.isclose(y[0], ex.intercept + ex.coef[0] * means[0] + ex.coef[1] * x[0] + ex.coef[2] * means[1])


def test_iris_with_three_features_shows_gradient_descents_line_for_the_chosen_feature():
    at = shared_app(IRIS)
    title = "Partial dependence on petal_length (the others at their means)"
    assert title in figures(at)
    run = train_clicked(at)
    gd = traces(figures(at)[title])["gradient descent"]
    x, y = trace_values(gd, "x"), trace_values(gd, "y")
    assert np.isclose((y[-1] - y[0]) / (x[-1] - x[0]), run.coef[0], rtol=1e-5)
    at.selectbox(key="_w_ui_pd_feature").set_value("sepal_width").run()
    assert "Partial dependence on sepal_width (the others at their means)" in figures(at)


def test_with_polynomial_terms_the_others_sit_at_their_terms_means_so_the_curve_goes_through_the_data(multi_df):
    from studio.partial import _grid_rows

    d = build_design(multi_df, "y", ["a", "b", "c"], degree=2)
    grid, rows = _grid_rows(d, "b")
    terms = list(d.terms)
    means = d.X.mean(axis=0)
    for k, t in enumerate(terms):
        if t == "b":
            np.testing.assert_allclose(rows[:, k], grid)
        elif t == "b^2":
            np.testing.assert_allclose(rows[:, k], grid ** 2)
        else:  # a square's mean, not the square of the mean
            np.testing.assert_allclose(rows[:, k], means[k])
