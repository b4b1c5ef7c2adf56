"""Rank-deficient designs fit as R's ``lm`` fits them (issue 23, item 1): the terms that are linear combinations of
the terms before them are aliased (NA); everything else equals statsmodels' fit of the design without them, on real
datasets that ship with Plotly and statsmodels. Also the null model ``y ~ 1``."""

from __future__ import annotations

import json

import numpy as np
import patsy
import plotly.express as px
import pytest
import statsmodels.api as sm
from statsmodels.datasets import fair
from statsmodels.stats.outliers_influence import OLSInfluence

from linreg_core import (
    build_formula_design,
    fit_exact_design,
    fit_influence,
    fit_stats,
    fit_summary,
    load_model,
    model_json,
)
from linreg_core._cli import main

TOL = 1e-8

# formula, data, the terms R reports as NA (those that are combinations of the terms before them)
CASES = {
    # Saturday and Sunday have no lunch: two cells of the interaction have no rows
    "empty cells": ("tip ~ C(day)*C(time) + total_bill", px.data.tips,
                    ["C(day)[T.Sat]:C(time)[T.Lunch]", "C(day)[T.Sun]:C(time)[T.Lunch]"]),
    "duplicated column": ("petal_width ~ petal_length + sepal_length + I(petal_length * 1.0)", px.data.iris,
                          ["I(petal_length * 1.0)"]),
    "sum of two columns": ("affairs ~ age + yrs_married + I(age + yrs_married) + rate_marriage",
                           lambda: fair.load_pandas().data, ["I(age + yrs_married)"]),
}


def _fits(case: str):
    formula, load, na = CASES[case]
    df = load()
    design = build_formula_design(df, formula)
    exact = fit_exact_design(design)
    names = ["Intercept"] + list(design.terms)
    _, X = patsy.dmatrices(formula, df, return_type="dataframe")
    kept = [n for n in names if n not in na]
    return df, design, exact, names, X[kept], kept, na


@pytest.mark.parametrize("case", list(CASES))
def test_aliased_terms_are_those_r_reports_as_na(case):
    _, design, exact, names, _, _, na = _fits(case)
    assert [names[j] for j in exact.aliased] == na
    assert exact.rank == len(names) - len(na)
    assert np.isnan(exact.params[list(exact.aliased)]).all()
    assert exact.warnings[0].startswith("Aliased term") and all(repr(t) in exact.warnings[0] for t in na)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0", "HC1"])
@pytest.mark.parametrize("case", list(CASES))
def test_estimable_terms_equal_statsmodels_on_the_reduced_design(case, cov_type):
    df, design, exact, names, X, kept, _ = _fits(case)
    ref = sm.OLS(np.asarray(design.y), X).fit(cov_type=cov_type)
    ours = fit_summary(design, exact, cov_type)
    at = [names.index(n) for n in kept]
    for mine, theirs in ((ours.params, ref.params), (ours.std_err, ref.bse), (ours.stat, ref.tvalues),
                         (ours.p_values, ref.pvalues), (ours.ci_low, ref.conf_int()[0]),
                         (ours.ci_high, ref.conf_int()[1])):
        np.testing.assert_allclose(np.asarray(mine)[at], np.asarray(theirs), rtol=TOL, atol=1e-300)
        assert np.isnan(np.delete(np.asarray(mine), at)).all()  # aliased: NA
    assert (ours.df_model, ours.df_resid) == (ref.df_model, ref.df_resid)  # the rank, not the column count
    assert ours.f_statistic == pytest.approx(float(np.squeeze(ref.fvalue)), rel=TOL)
    assert ours.f_pvalue == pytest.approx(float(np.squeeze(ref.f_pvalue)), rel=1e-6, abs=1e-300)
    for mine, theirs in ((ours.llf, ref.llf), (ours.aic, ref.aic), (ours.bic, ref.bic),
                         (ours.condition_number, ref.condition_number)):
        assert mine == pytest.approx(theirs, rel=TOL)
    stats = fit_stats(design, exact)
    assert stats.r2 == pytest.approx(ref.rsquared, rel=TOL)
    assert stats.adj_r2 == pytest.approx(ref.rsquared_adj, rel=TOL)
    assert stats.df_resid == ref.df_resid
    np.testing.assert_allclose(exact.predict(design.X), ref.fittedvalues, rtol=TOL)


@pytest.mark.parametrize("case", ["duplicated column", "sum of two columns"])
def test_influence_of_an_aliased_fit_equals_statsmodels(case):
    _, design, exact, _, X, _, _ = _fits(case)
    ref = OLSInfluence(sm.OLS(np.asarray(design.y), X).fit())
    ours = fit_influence(design, exact)
    np.testing.assert_allclose(ours.leverage, ref.hat_matrix_diag, rtol=TOL, atol=1e-14)
    np.testing.assert_allclose(ours.cooks_distance, ref.cooks_distance[0], rtol=1e-7, atol=1e-14)
    assert ours.n_params == X.shape[1]


def test_the_null_model_is_the_mean(tmp_path):
    df = px.data.tips()
    design = build_formula_design(df, "tip ~ 1")
    assert design.terms == [] and design.fit_intercept
    exact = fit_exact_design(design)
    ref = sm.OLS(df["tip"].to_numpy(float), np.ones((len(df), 1))).fit()
    assert exact.intercept == pytest.approx(df["tip"].mean(), rel=1e-14)
    ours = fit_summary(design, exact)
    assert ours.std_err[0] == pytest.approx(ref.bse[0], rel=TOL)
    assert (ours.df_model, ours.df_resid) == (0, len(df) - 1)
    assert np.isnan(ours.f_statistic)  # no slope to test, as statsmodels
    for mine, theirs in ((ours.llf, ref.llf), (ours.aic, ref.aic), (ours.bic, ref.bic)):
        assert mine == pytest.approx(theirs, rel=TOL)
    assert fit_stats(design, exact).r2 == pytest.approx(0.0, abs=1e-15)


def test_a_formula_with_nothing_left_says_how_to_write_the_null_model():
    with pytest.raises(Exception, match=r"'- 1' removed the intercept .* write 'y ~ 1' for the mean alone"):
        build_formula_design(px.data.tips(), "tip ~ 1 - 1")


def test_the_command_line_reports_aliased_terms_as_na_and_null(tmp_path, capsys):
    path = tmp_path / "tips.csv"
    px.data.tips().to_csv(path, index=False)
    formula, _, na = CASES["empty cells"]
    assert main(["fit", str(path), "--formula", formula, "--method", "exact"]) == 0
    out = capsys.readouterr().out
    assert "Coefficients: (2 not defined because of singularities)" in out  # R's words
    for term in na:
        row = next(line for line in out.splitlines() if line.startswith(term))
        assert row.split()[1:] == ["NA"] * 6
        assert term not in out.split("Exact fit:")[1].split("\n")[0]  # not in the fitted equation
    assert "on 237 degrees of freedom" in out  # 244 rows − rank 7 (9 columns, 2 aliased)
    assert main(["fit", str(path), "--formula", formula, "--method", "exact", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    table = {row["name"]: row for row in doc["summary"]["table"]}
    for term in na:
        assert set(table[term].values()) == {term, None}
    assert doc["exact"]["rank"] == 7 and doc["summary"]["df_resid"] == 237
    assert sum(c is None for c in doc["exact"]["coef"]) == 2
    assert doc["exact"]["warnings"][0].startswith("Aliased terms")


def test_a_saved_aliased_model_predicts_as_the_fit_does(tmp_path):
    df = px.data.tips()
    formula, _, _ = CASES["empty cells"]
    design = build_formula_design(df, formula)
    exact = fit_exact_design(design)
    model = load_model(model_json(design, None, exact))
    out = model.predict(df, "confidence")
    np.testing.assert_allclose(out["prediction"], exact.predict(design.X), rtol=1e-12)
    _, X = patsy.dmatrices(formula, df, return_type="dataframe")
    kept = [n for n in X.columns if n not in CASES["empty cells"][2]]
    ref = sm.OLS(df["tip"].to_numpy(float), X[kept]).fit().get_prediction(X[kept]).summary_frame()
    np.testing.assert_allclose(out["lower"], ref["mean_ci_lower"], rtol=TOL)
    np.testing.assert_allclose(out["upper"], ref["mean_ci_upper"], rtol=TOL)
