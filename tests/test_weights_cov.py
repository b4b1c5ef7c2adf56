"""Weighted least squares, cluster-robust and HAC (Newey–West) standard errors (issue 23, item 3), against
statsmodels' WLS and ``fit(cov_type=...)`` on real datasets that ship with statsmodels and Plotly."""

from __future__ import annotations

import json

import numpy as np
import plotly.express as px
import pytest
import statsmodels.api as sm
from statsmodels.datasets import grunfeld, macrodata
from statsmodels.stats.stattools import durbin_watson, omni_normtest

from linreg_core import (
    DataError,
    ParameterError,
    build_design,
    build_formula_design,
    cluster_groups,
    fit_exact_design,
    fit_influence,
    fit_stats,
    fit_summary,
    load_model,
    model_json,
    with_weights,
)
from linreg_core._cli import main

TOL = 1e-8
TIPS = px.data.tips()
GRUNFELD = grunfeld.load_pandas().data
MACRO = macrodata.load_pandas().data


def _close(mine, theirs, rtol=TOL):
    np.testing.assert_allclose(np.asarray(mine, dtype=float), np.asarray(theirs, dtype=float), rtol=rtol, atol=1e-300)


def _weighted_tips():
    design = with_weights(build_formula_design(TIPS, "tip ~ total_bill + C(day)"), TIPS, "size")
    exog = sm.add_constant(np.column_stack([*(TIPS.day == d for d in ("Sat", "Sun", "Thur")), TIPS.total_bill])
                           .astype(float))  # patsy's order: the categorical term first
    return design, exog


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0", "HC1", "HC2", "HC3"])
def test_weighted_least_squares_equals_statsmodels_wls(cov_type):
    design, exog = _weighted_tips()
    assert design.terms == ["C(day)[T.Sat]", "C(day)[T.Sun]", "C(day)[T.Thur]", "total_bill"]
    exact = fit_exact_design(design)
    ref = sm.WLS(TIPS.tip.to_numpy(float), exog, weights=TIPS["size"].to_numpy(float)).fit(cov_type=cov_type)
    ours = fit_summary(design, exact, cov_type)
    for mine, theirs in ((ours.params, ref.params), (ours.std_err, ref.bse), (ours.stat, ref.tvalues),
                         (ours.p_values, ref.pvalues), (ours.ci_low, ref.conf_int()[:, 0])):
        _close(mine, theirs)
    for mine, theirs in ((ours.f_statistic, ref.fvalue), (ours.llf, ref.llf), (ours.aic, ref.aic),
                         (ours.bic, ref.bic), (ours.condition_number, ref.condition_number),
                         (ours.durbin_watson, durbin_watson(ref.wresid)), (ours.omnibus, omni_normtest(ref.wresid)[0])):
        assert mine == pytest.approx(float(np.squeeze(theirs)), rel=TOL)
    stats = fit_stats(design, exact)
    assert stats.r2 == pytest.approx(ref.rsquared, rel=TOL)
    assert stats.adj_r2 == pytest.approx(ref.rsquared_adj, rel=TOL)
    assert stats.sigma2 == pytest.approx(ref.mse_resid, rel=TOL)
    _close(exact.predict(design.X), ref.fittedvalues)  # predictions: the fitted line itself, unweighted


def test_weighted_influence_is_r_s_and_statsmodels_glm_s():
    """R's lm.influence (and statsmodels' GLM with var_weights) use the rows scaled by √w; OLSInfluence does not
    support weights."""
    design, exog = _weighted_tips()
    ref = sm.GLM(TIPS.tip.to_numpy(float), exog, var_weights=TIPS["size"].to_numpy(float)).fit().get_influence()
    ours = fit_influence(design, fit_exact_design(design))
    _close(ours.leverage, ref.hat_matrix_diag)
    _close(ours.cooks_distance, ref.cooks_distance[0], rtol=1e-7)


def test_a_saved_weighted_model_gives_wls_intervals():
    design, exog = _weighted_tips()
    exact = fit_exact_design(design)
    out = load_model(model_json(design, None, exact)).predict(TIPS, "confidence")
    ref = sm.WLS(TIPS.tip.to_numpy(float), exog, weights=TIPS["size"].to_numpy(float)).fit()
    frame = ref.get_prediction(exog).summary_frame()
    _close(out["prediction"], frame["mean"])
    _close(out["lower"], frame["mean_ci_lower"])


@pytest.mark.parametrize("cell, said", [(0, "is '0'"), (-2, "is '-2'"), (None, "is blank"), ("two", "is 'two'")])
def test_a_weight_that_is_not_a_positive_number_is_named_by_row(cell, said):
    df = TIPS.astype({"size": object})
    df.loc[6, "size"] = cell
    design = build_formula_design(df, "tip ~ total_bill")
    with pytest.raises(DataError, match=rf"The weights column 'size' {said} at row 7 \(1 such row\(s\)\): every "
                                        "weight must be a number greater than 0"):
        with_weights(design, df, "size")


def test_weights_follow_the_rows_that_blank_cells_left_out():
    df = TIPS.copy()
    df.loc[[3, 10], "total_bill"] = np.nan
    design = with_weights(build_formula_design(df, "tip ~ total_bill", na="drop"), df, "size")
    kept = df.drop(index=[3, 10])
    ref = sm.WLS(kept.tip, sm.add_constant(kept.total_bill), weights=kept["size"]).fit()
    _close(fit_exact_design(design).params, ref.params)


@pytest.mark.parametrize("cov_type", ["cluster", "HAC"])
def test_cluster_and_hac_standard_errors_equal_statsmodels(cov_type):
    if cov_type == "cluster":  # ten firms over twenty years: errors shared within a firm
        df, target, features, kwargs = GRUNFELD, "invest", ["value", "capital"], {}
    else:  # a quarterly time series: errors shared with neighbouring quarters
        df, target, features, kwargs = MACRO, "realcons", ["realgdp", "unemp", "infl"], {"maxlags": 4}
    design = build_design(df, target, features)
    if cov_type == "cluster":
        kwargs = {"groups": cluster_groups(design, df, "firm")}
    exact = fit_exact_design(design)
    ours = fit_summary(design, exact, cov_type, **kwargs)
    ref = sm.OLS(df[target].to_numpy(float), sm.add_constant(df[features].to_numpy(float))).fit(
        cov_type=cov_type, cov_kwds=kwargs)
    for mine, theirs in ((ours.std_err, ref.bse), (ours.stat, ref.tvalues), (ours.p_values, ref.pvalues),
                         (ours.ci_low, ref.conf_int()[:, 0]), (ours.ci_high, ref.conf_int()[:, 1])):
        _close(mine, theirs)
    assert ours.f_statistic == pytest.approx(float(np.squeeze(ref.fvalue)), rel=TOL)
    assert ours.f_pvalue == pytest.approx(float(np.squeeze(ref.f_pvalue)), rel=1e-7)
    assert ours.use_t is False and ref.use_t is False
    if cov_type == "cluster":
        assert ours.f_df_denom == GRUNFELD.firm.nunique() - 1  # clusters − 1, as statsmodels' F test
    _close(fit_summary(design, exact).params, ref.params)


def test_cluster_and_hac_need_their_argument_and_say_so():
    design = build_design(GRUNFELD, "invest", ["value"])
    exact = fit_exact_design(design)
    with pytest.raises(ParameterError, match="need each row's cluster: pass groups"):
        fit_summary(design, exact, "cluster")
    with pytest.raises(ParameterError, match="The 'maxlags' parameter must be an int >= 0 .* Got -1 instead"):
        fit_summary(design, exact, "HAC", maxlags=-1)
    with pytest.raises(ParameterError, match="at least 2 clusters"):
        fit_summary(design, exact, "cluster", groups=np.zeros(design.n_samples))
    df = GRUNFELD.astype({"firm": object})
    df.loc[4, "firm"] = None
    with pytest.raises(DataError, match=r"The groups column 'firm' is blank at row 5 \(1 such row\(s\)\)"):
        cluster_groups(design, df, "firm")


def test_the_command_line_takes_weights_clusters_and_lags(tmp_path, capsys):
    tips, grun, macro = tmp_path / "tips.csv", tmp_path / "grunfeld.csv", tmp_path / "macro.csv"
    TIPS.to_csv(tips, index=False)
    GRUNFELD.to_csv(grun, index=False)
    MACRO.to_csv(macro, index=False)

    assert main(["fit", str(tips), "--formula", "tip ~ total_bill + C(day)", "--weights", "size", "--method", "exact",
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    _, exog = _weighted_tips()
    ref = sm.WLS(TIPS.tip.to_numpy(float), exog, weights=TIPS["size"].to_numpy(float)).fit()
    assert doc["weights"] == "size"
    _close([row["std_err"] for row in doc["summary"]["table"]], ref.bse)

    assert main(["fit", str(grun), "--y", "invest", "--x", "value", "--x", "capital", "--method", "exact",
                 "--cov", "cluster", "--groups", "firm"]) == 0
    out = capsys.readouterr().out
    assert "(standard errors cluster-robust)" in out and "F(2, 10) = " in out

    assert main(["fit", str(macro), "--y", "realcons", "--x", "realgdp", "--method", "exact", "--cov", "HAC",
                 "--maxlags", "4", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    ref = sm.OLS(MACRO.realcons, sm.add_constant(MACRO.realgdp)).fit(cov_type="HAC", cov_kwds={"maxlags": 4})
    assert doc["summary"]["cov_type"] == "HAC" and doc["summary"]["maxlags"] == 4
    _close([row["std_err"] for row in doc["summary"]["table"]], ref.bse)


@pytest.mark.parametrize("args, message", [
    (["--cov", "cluster"], "--cov cluster and --groups COL go together"),
    (["--groups", "day"], "--cov cluster and --groups COL go together"),
    (["--cov", "HAC"], "--cov HAC and --maxlags K go together"),
    (["--cov", "HAC", "--maxlags", "-2"], "The 'maxlags' parameter must be an int >= 0. Got -2 instead."),
    (["--weights", "size", "--method", "gd"], "--weights fits by weighted least squares, which the exact solver does"),
    (["--weights", "tip_pct"], "The weights column 'tip_pct' is not a column"),
    (["--weights", "size", "--out-of-core"], "--weights and --groups need the rows in memory"),
])
def test_the_command_line_refuses_half_given_options_in_one_sentence(tmp_path, capsys, args, message):
    path = tmp_path / "tips.csv"
    TIPS.to_csv(path, index=False)
    method = [] if "--method" in args else ["--method", "exact"]
    assert main(["fit", str(path), "--y", "tip", "--x", "total_bill", *method, *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
