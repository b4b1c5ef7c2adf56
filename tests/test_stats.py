"""Tests for linreg_core._stats.fit_stats against statsmodels OLS."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.datasets import longley

from linreg_core import FitStats, build_design, fit_exact, fit_stats

RTOL = 1e-7
LONGLEY_FEATURES = ["GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR"]


def _random_frame(seed: int = 12345, n: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) * np.array([1.0, 3.0, 0.5]) + np.array([2.0, -1.0, 4.0])
    y = 1.5 + X @ np.array([0.8, -0.3, 0.05]) + rng.normal(scale=0.7, size=n)
    return pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "y": y})


def _stats_and_reference(df: pd.DataFrame, target: str, features: list[str], fit_intercept: bool = True):
    design = build_design(df, target, features, fit_intercept=fit_intercept)
    exact = fit_exact(design.X, design.y, fit_intercept=fit_intercept, terms=design.terms)
    stats = fit_stats(design, exact)
    X = df[features].to_numpy(dtype=np.float64)
    y = df[target].to_numpy(dtype=np.float64)
    exog = sm.add_constant(X, has_constant="add") if fit_intercept else X
    ref = sm.OLS(y, exog).fit()
    return design, stats, ref


def _assert_matches_statsmodels(stats: FitStats, ref, n: int) -> None:
    np.testing.assert_allclose(stats.params, np.asarray(ref.params), rtol=RTOL)
    np.testing.assert_allclose(stats.std_err, np.asarray(ref.bse), rtol=RTOL)
    np.testing.assert_allclose(stats.t_values, np.asarray(ref.tvalues), rtol=RTOL)
    np.testing.assert_allclose(stats.p_values, np.asarray(ref.pvalues), rtol=RTOL)
    ci = np.asarray(ref.conf_int(alpha=0.05))
    np.testing.assert_allclose(stats.ci_low, ci[:, 0], rtol=RTOL)
    np.testing.assert_allclose(stats.ci_high, ci[:, 1], rtol=RTOL)
    assert stats.r2 == pytest.approx(ref.rsquared, rel=RTOL)
    assert stats.adj_r2 == pytest.approx(ref.rsquared_adj, rel=RTOL)
    assert stats.n == n == int(ref.nobs)
    assert stats.df_resid == int(ref.df_resid)
    assert stats.mse == pytest.approx(ref.ssr / ref.nobs, rel=RTOL)
    assert stats.rmse == pytest.approx(np.sqrt(ref.ssr / ref.nobs), rel=RTOL)
    assert stats.sigma2 == pytest.approx(ref.mse_resid, rel=RTOL)
    resid = np.asarray(ref.resid)
    np.testing.assert_allclose(stats.residuals, resid, rtol=RTOL, atol=RTOL * np.abs(resid).max())
    assert stats.mae == pytest.approx(np.abs(resid).mean(), rel=RTOL)


def test_random_dataset_matches_statsmodels():
    df = _random_frame()
    design, stats, ref = _stats_and_reference(df, "y", ["a", "b", "c"])
    assert design.n_samples == 50
    _assert_matches_statsmodels(stats, ref, 50)
    # Sanity: the data have real signal and real noise, so nothing is degenerate.
    assert 0.0 < stats.r2 < 1.0
    assert stats.adj_r2 < stats.r2


def test_longley_matches_statsmodels():
    df = longley.load_pandas().data
    _, stats, ref = _stats_and_reference(df, "TOTEMP", LONGLEY_FEATURES)
    _assert_matches_statsmodels(stats, ref, 16)


def test_no_intercept_matches_statsmodels_uncentered_r2():
    df = _random_frame(seed=7)
    design, stats, ref = _stats_and_reference(df, "y", ["a", "b", "c"], fit_intercept=False)
    assert design.n_params == 3
    assert ref.k_constant == 0  # statsmodels reports the uncentered R² here
    _assert_matches_statsmodels(stats, ref, 50)
    y = df["y"].to_numpy()
    centered = 1.0 - float(stats.residuals @ stats.residuals) / float(((y - y.mean()) ** 2).sum())
    assert stats.r2 != pytest.approx(centered, rel=1e-3)  # it really is the uncentered one


def test_names_and_table_rows():
    df = _random_frame()
    design = build_design(df, "y", ["a", "c"], degree=2)
    exact = fit_exact(design.X, design.y, terms=design.terms)
    stats = fit_stats(design, exact)
    assert stats.names == ["intercept", "a", "a^2", "c", "c^2"]
    table = stats.table()
    assert [row["name"] for row in table] == ["intercept", "a", "a^2", "c", "c^2"]
    for i, row in enumerate(table):
        assert set(row) == {"name", "coef", "std_err", "t", "p", "ci_low", "ci_high"}
        assert row["coef"] == stats.params[i]
        assert row["std_err"] == stats.std_err[i]
        assert row["t"] == pytest.approx(row["coef"] / row["std_err"], rel=1e-12)
        assert row["ci_low"] < row["coef"] < row["ci_high"]
        assert 0.0 <= row["p"] <= 1.0
    np.testing.assert_allclose(stats.params, exact.params, rtol=0, atol=0)


def test_table_without_intercept_has_only_terms():
    df = _random_frame()
    design = build_design(df, "y", ["b"], degree=3, fit_intercept=False)
    stats = fit_stats(design, fit_exact(design.X, design.y, fit_intercept=False))
    assert [row["name"] for row in stats.table()] == ["b", "b^2", "b^3"]


def test_metrics_dict():
    df = _random_frame()
    design = build_design(df, "y", ["a", "b", "c"])
    stats = fit_stats(design, fit_exact(design.X, design.y))
    m = stats.metrics()
    assert set(m) == {"mse", "rmse", "mae", "r2", "adj_r2", "sigma2", "n", "df_resid"}
    assert m["n"] == 50
    assert m["df_resid"] == 46
    assert m["sigma2"] == pytest.approx(m["mse"] * 50 / 46, rel=1e-12)


def test_explicit_parameters_give_their_own_residual_metrics():
    """Gradient-descent parameters (not the optimum) are scored on their own residuals."""
    df = _random_frame()
    design = build_design(df, "y", ["a", "b", "c"])
    exact = fit_exact(design.X, design.y)
    intercept = exact.intercept + 0.3
    coef = exact.coef * np.array([1.05, 0.9, 1.2])

    stats = fit_stats(design, exact, intercept=intercept, coef=coef)

    X = df[["a", "b", "c"]].to_numpy()
    y = df["y"].to_numpy()
    resid = y - (intercept + X @ coef)
    np.testing.assert_allclose(stats.params, np.concatenate([[intercept], coef]), rtol=0, atol=0)
    np.testing.assert_allclose(stats.residuals, resid, rtol=1e-12, atol=1e-12)
    assert stats.mse == pytest.approx(np.mean(resid**2), rel=1e-12)
    assert stats.rmse == pytest.approx(np.sqrt(np.mean(resid**2)), rel=1e-12)
    assert stats.mae == pytest.approx(np.mean(np.abs(resid)), rel=1e-12)
    assert stats.r2 == pytest.approx(1.0 - np.sum(resid**2) / np.sum((y - y.mean()) ** 2), rel=1e-12)
    assert stats.sigma2 == pytest.approx(np.sum(resid**2) / 46, rel=1e-12)
    # Perturbed parameters fit worse than the least-squares optimum.
    best = fit_stats(design, exact)
    assert stats.mse > best.mse


def test_exact_interpolation_gives_nan_inference_without_error():
    x = np.array([-1.0, 0.5, 2.0])
    df = pd.DataFrame({"x": x, "y": 1.0 - 2.0 * x + 0.5 * x**2})
    design = build_design(df, "y", ["x"], degree=2)
    assert design.n_samples == design.n_params == 3
    exact = fit_exact(design.X, design.y, terms=design.terms)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stats = fit_stats(design, exact)
    assert stats.df_resid == 0
    np.testing.assert_allclose(stats.params, [1.0, -2.0, 0.5], rtol=1e-12)
    assert np.isnan(stats.std_err).all()
    assert np.isnan(stats.p_values).all()
    assert np.isnan(stats.t_values).all()
    assert np.isnan(stats.ci_low).all()
    assert np.isnan(stats.ci_high).all()
    assert np.isnan(stats.sigma2)
    assert np.isnan(stats.adj_r2)
    assert stats.mse == pytest.approx(0.0, abs=1e-20)
    assert stats.r2 == pytest.approx(1.0, abs=1e-12)
    rows = stats.table()
    assert [row["name"] for row in rows] == ["intercept", "x", "x^2"]
    assert all(np.isnan(row["p"]) for row in rows)


def test_a_perfect_fit_is_flagged_and_its_noise_reads_as_zero():
    """The tutorial's points lie on y = 2x. In float64 an exact intercept can come out as ~2.7e-15 and the MSE as
    ~1e-30, which a naive table turns into t ≈ 2.5e15 and p ≈ 1.6e-31. fit_stats flags the perfect fit, gives
    standard errors 0 and t, p NaN (not defined), and tidy() zeroes what is below the rounding level."""
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 3.5], "y": [2.0, 4.0, 6.0, 7.0]})
    design = build_design(df, "y", ["x"])
    exact = fit_exact(design.X, design.y)
    noisy_intercept = exact.intercept + 2.7e-15  # what another solver's rounding leaves (the old one's did)
    for intercept in (exact.intercept, noisy_intercept):
        stats = fit_stats(design, exact, intercept, exact.coef)
        assert stats.perfect_fit and stats.mse <= stats.loss_floor < 1e-25
        assert (stats.std_err == 0).all() and np.isnan(stats.t_values).all() and np.isnan(stats.p_values).all()
        assert stats.tidy(stats.params).tolist() == [0.0, pytest.approx(2.0)]
    assert stats.params[0] != 0.0
    # Noisy data is not touched: longley's tiny-but-real coefficients survive tidy() and keep their t values.
    data = longley.load_pandas().data
    noisy = build_design(data, "TOTEMP", LONGLEY_FEATURES)
    ls = fit_stats(noisy, fit_exact(noisy.X, noisy.y))
    assert not ls.perfect_fit and np.isfinite(ls.t_values).all()
    np.testing.assert_array_equal(ls.tidy(ls.params), ls.params)
