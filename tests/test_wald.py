"""linreg_core._wald (fit --test): linear restrictions on the coefficients, F-tested as statsmodels' res.f_test,
with every covariance type (issue 23, item 4)."""

from __future__ import annotations

import json

import numpy as np
import plotly.express as px
import pytest
import statsmodels.formula.api as smf
from statsmodels.datasets import grunfeld

from linreg_core import ParameterError, build_formula_design, cluster_groups, fit_exact_design, fit_summary
from linreg_core._cli import main
from linreg_core._wald import f_test, linear_restrictions

TIPS = px.data.tips()
FORMULA = "tip ~ total_bill + size + C(day)"


@pytest.mark.parametrize("restrictions", [
    "size = 0",
    "size = 0, C(day)[T.Sat] = C(day)[T.Sun]",
    "2*size - total_bill = 1, Intercept = 0",
    "C(day)[T.Sat] + C(day)[T.Sun] + C(day)[T.Thur] = 0.5",
    "total_bill*10 = size",
])
@pytest.mark.parametrize("cov_type", ["nonrobust", "HC1", "HC3"])
def test_restrictions_are_tested_as_statsmodels_f_test(restrictions, cov_type):
    design = build_formula_design(TIPS, FORMULA)
    ours = f_test(fit_summary(design, fit_exact_design(design), cov_type), restrictions)
    ref = smf.ols(FORMULA, TIPS).fit(cov_type=cov_type).f_test(restrictions)
    assert ours.F == pytest.approx(float(np.squeeze(ref.fvalue)), rel=1e-8)
    assert ours.p == pytest.approx(float(ref.pvalue), rel=1e-7)
    assert (ours.df_num, ours.df_denom) == (ref.df_num, ref.df_denom)


def test_a_cluster_robust_test_uses_clusters_minus_one_degrees_of_freedom():
    df = grunfeld.load_pandas().data
    design = build_formula_design(df, "invest ~ value + capital")
    groups = cluster_groups(design, df, "firm")
    ours = f_test(fit_summary(design, fit_exact_design(design), "cluster", groups=groups), "value = capital")
    ref = smf.ols("invest ~ value + capital", df).fit(cov_type="cluster", cov_kwds={"groups": groups})
    ref = ref.f_test("value = capital")
    assert ours.F == pytest.approx(float(np.squeeze(ref.fvalue)), rel=1e-8)
    assert ours.df_denom == ref.df_denom == 10


@pytest.mark.parametrize("text, message", [
    ("sizes = 0", "'sizes' is not a term of the model (its terms: 'intercept', 'total_bill', 'size'"),
    ("size * total_bill = 0", "a restriction is linear: two terms cannot multiply"),
    ("size = 0 = 1", "it has more than one '='"),
    ("size = 0,", "one of them is empty"),
    ("size = 0, 2*size = 0", "repeat each other"),
    ("size + = 1", "a side is empty or ends with an operator"),
])
def test_a_restriction_that_cannot_be_read_is_one_sentence(text, message):
    with pytest.raises(ParameterError) as info:
        linear_restrictions(text, ["intercept", "total_bill", "size"])
    assert message in str(info.value)


def test_a_restriction_on_an_aliased_term_is_refused():
    design = build_formula_design(TIPS, "tip ~ total_bill + I(2 * total_bill)")
    summary = fit_summary(design, fit_exact_design(design))
    with pytest.raises(ParameterError, match=r"'I\(2 \* total_bill\)' is aliased"):
        f_test(summary, "I(2 * total_bill) = 0")


def test_the_command_line_prints_the_test_and_its_json(tmp_path, capsys):
    path = tmp_path / "tips.csv"
    TIPS.to_csv(path, index=False)
    args = ["fit", str(path), "--formula", FORMULA, "--method", "exact", "--test", "size = 0, total_bill = 0.1"]
    assert main(args) == 0
    out = capsys.readouterr().out
    ref = smf.ols(FORMULA, TIPS).fit().f_test("size = 0, total_bill = 0.1")
    assert f"Test of size = 0, total_bill = 0.1: F(2, 238) = {float(np.squeeze(ref.fvalue)):.6g}" in out
    assert main([*args, "--json"]) == 0
    test = json.loads(capsys.readouterr().out)["test"]
    assert set(test) == {"restrictions", "F", "p", "df_num", "df_denom"}
    assert test["p"] == pytest.approx(float(ref.pvalue), rel=1e-7)
