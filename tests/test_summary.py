"""linreg_core._summary.fit_summary against statsmodels' OLS summary on real datasets (statsmodels and plotly ship
them), for every covariance type."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import plotly.express as px
import pytest
import statsmodels.api as sm
from statsmodels.datasets import fair, longley, macrodata, stackloss, star98
from statsmodels.stats.stattools import durbin_watson, jarque_bera, omni_normtest

from linreg_core import ParameterError, build_design, fit_exact_design
from linreg_core._summary import COV_TYPES, fit_summary

RTOL = 1e-7


def _datasets() -> dict[str, tuple[pd.DataFrame, str, list[str]]]:
    macro = macrodata.load_pandas().data
    star = star98.load_pandas().data
    return {
        "longley": (longley.load_pandas().data, "TOTEMP", ["GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR"]),
        "stackloss": (stackloss.load_pandas().data, "STACKLOSS", ["AIRFLOW", "WATERTEMP", "ACIDCONC"]),
        "macrodata": (macro, "realcons", ["realgdp", "realinv", "unemp", "infl"]),
        "star98": (star, "LOWINC", ["PERASIAN", "PERBLACK", "PERHISP", "PCTCHRT"]),
        "tips": (px.data.tips(), "tip", ["total_bill", "size"]),
        "iris": (px.data.iris(), "petal_width", ["petal_length", "sepal_length", "sepal_width"]),
        "gapminder": (px.data.gapminder(), "lifeExp", ["year", "pop", "gdpPercap"]),
        "fair": (fair.load_pandas().data, "affairs", ["rate_marriage", "age", "yrs_married", "children"]),
        "election": (px.data.election(), "Coderre", ["Joly", "Bergeron"]),
    }


DATASETS = _datasets()


# the covariance types that need nothing but the rows (cluster and HAC: tests/test_weights_cov.py)
ROW_COV_TYPES = [c for c in COV_TYPES if c not in ("cluster", "HAC")]


@pytest.mark.parametrize("cov_type", ROW_COV_TYPES)
@pytest.mark.parametrize("name", list(DATASETS))
def test_summary_matches_statsmodels(name, cov_type):
    df, target, features = DATASETS[name]
    design = build_design(df, target, features)
    ours = fit_summary(design, fit_exact_design(design), cov_type)
    ref = sm.OLS(df[target].to_numpy(float), sm.add_constant(df[features].to_numpy(float))).fit(cov_type=cov_type)
    rtol = RTOL if ref.condition_number < 1e8 else 1e-5  # longley's raw design: cond 4.9e9, statsmodels' pinv loses digits
    np.testing.assert_allclose(ours.params, ref.params, rtol=rtol)
    np.testing.assert_allclose(ours.std_err, ref.bse, rtol=rtol)
    np.testing.assert_allclose(ours.stat, ref.tvalues, rtol=rtol)
    np.testing.assert_allclose(ours.p_values, ref.pvalues, rtol=max(rtol, 1e-6), atol=1e-300)
    ci = np.asarray(ref.conf_int())
    np.testing.assert_allclose(np.c_[ours.ci_low, ours.ci_high], ci, rtol=rtol)
    assert ours.use_t == ref.use_t
    np.testing.assert_allclose(ours.f_statistic, float(np.squeeze(ref.fvalue)), rtol=rtol)
    np.testing.assert_allclose(ours.f_pvalue, float(np.squeeze(ref.f_pvalue)), rtol=max(rtol, 1e-6), atol=1e-300)
    for mine, theirs in ((ours.llf, ref.llf), (ours.aic, ref.aic), (ours.bic, ref.bic)):
        assert mine == pytest.approx(theirs, rel=RTOL)
    resid = ref.resid
    omni, omni_p = omni_normtest(resid)
    jb, jb_p, skew, kurt = jarque_bera(resid)
    for mine, theirs in ((ours.omnibus, omni), (ours.omnibus_pvalue, omni_p), (ours.jarque_bera, jb),
                         (ours.jb_pvalue, jb_p), (ours.skew, skew), (ours.kurtosis, kurt),
                         (ours.durbin_watson, durbin_watson(resid))):
        assert mine == pytest.approx(theirs, rel=1e-6, abs=1e-12)
    assert ours.condition_number == pytest.approx(ref.condition_number, rel=1e-6)
    assert ours.residual_std_error == pytest.approx(np.sqrt(ref.scale), rel=RTOL)


def test_longley_reports_both_condition_numbers_named():
    df, target, features = DATASETS["longley"]
    design = build_design(df, target, features)
    s = fit_summary(design, fit_exact_design(design))
    assert s.condition_number > 4e9 and s.scaled_condition_number < 1e5  # statsmodels' 4.86e9 vs the scaled design's
    assert set(s.as_dict()) >= {"f_statistic", "f_pvalue", "llf", "aic", "bic", "omnibus", "omnibus_pvalue", "jarque_bera",
                                "jb_pvalue", "skew", "kurtosis", "durbin_watson", "condition_number", "cov_type"}


def test_bad_cov_type_is_refused_in_sklearn_words():
    df, target, features = DATASETS["stackloss"]
    design = build_design(df, target, features)
    with pytest.raises(ParameterError, match=r"The 'cov_type' parameter must be one of 'nonrobust', 'HC0'.*Got 'HC9' instead"):
        fit_summary(design, fit_exact_design(design), "HC9")


@pytest.mark.parametrize("name", ["stackloss", "tips", "longley", "fair"])
def test_influence_matches_statsmodels(name):
    from linreg_core import fit_influence

    df, target, features = DATASETS[name]
    design = build_design(df, target, features)
    ours = fit_influence(design, fit_exact_design(design))
    ref = sm.OLS(df[target].to_numpy(float), sm.add_constant(df[features].to_numpy(float))).fit().get_influence()
    rtol = 1e-7 if name != "longley" else 1e-5
    np.testing.assert_allclose(ours.leverage, ref.hat_matrix_diag, rtol=rtol)
    np.testing.assert_allclose(ours.std_resid, ref.resid_studentized_internal, rtol=rtol)
    np.testing.assert_allclose(ours.cooks_distance, ref.cooks_distance[0], rtol=rtol)


def test_a_fit_with_no_residual_at_all_reports_no_f_test_instead_of_failing():
    # Three of the tutorial's points lie exactly on y = 2x: the residuals are exactly 0, so is the covariance, and
    # the F test's Wald form has nothing to invert (the Results page once showed a traceback for it). As for the
    # log-likelihood of such a fit, the library reports nan: statsmodels' F there (~1e28) is rounding noise.
    design = build_design(pd.DataFrame({"x": [2.0, 3.0, 3.5], "y": [4.0, 6.0, 7.0]}), "y", ["x"])
    exact = fit_exact_design(design)
    for cov_type in ("nonrobust", "HC1"):
        s = fit_summary(design, exact, cov_type)
        assert np.isnan(s.f_statistic) and np.isnan(s.f_pvalue), cov_type
        np.testing.assert_allclose(s.params, [0.0, 2.0], atol=1e-12)


@pytest.mark.parametrize("intercept", [True, False])
@pytest.mark.parametrize("name", ["longley", "macrodata", "fair"])
def test_variance_inflation_equals_statsmodels(name, intercept):
    """statsmodels' variance_inflation_factor centres the columns first (as R's car::vif): the same with or without
    an intercept in the model."""
    from statsmodels.stats.outliers_influence import variance_inflation_factor

    from linreg_core import variance_inflation

    df, target, features = DATASETS[name]
    design = build_design(df, target, features, fit_intercept=intercept)
    ours = variance_inflation(design, fit_exact_design(design))
    exog = df[features].to_numpy(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (statsmodels warns that longley is ill-conditioned)
        ref = [variance_inflation_factor(exog, j) for j in range(len(features))]
    np.testing.assert_allclose([ours[f] for f in features], ref, rtol=1e-8)


def test_influence_measures_equal_statsmodels_summary_frame():
    from statsmodels.stats.outliers_influence import OLSInfluence

    from linreg_core import fit_influence

    df, target, features = DATASETS["stackloss"]
    design = build_design(df, target, features)
    ours = fit_influence(design, fit_exact_design(design)).as_dict()
    ref = OLSInfluence(sm.OLS(df[target], sm.add_constant(df[features])).fit()).summary_frame()
    for key in ("hat_diag", "standard_resid", "student_resid", "cooks_d", "dffits"):
        np.testing.assert_allclose(ours[key], ref[key], rtol=1e-8, err_msg=key)


@pytest.mark.parametrize("alpha", [0.01, 0.1, 0.32])
def test_intervals_take_their_level_from_alpha(alpha):
    df, target, features = DATASETS["tips"]
    design = build_design(df, target, features)
    ours = fit_summary(design, fit_exact_design(design), alpha=alpha)
    ref = sm.OLS(df[target], sm.add_constant(df[features])).fit().conf_int(alpha)
    np.testing.assert_allclose(np.c_[ours.ci_low, ours.ci_high], ref, rtol=1e-9)
    with pytest.raises(ParameterError, match=r"The 'alpha' parameter must be a float in \(0, 1\). Got 1.5 instead."):
        fit_summary(design, fit_exact_design(design), alpha=1.5)
