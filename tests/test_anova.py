"""linreg_core._anova against statsmodels' anova_lm: ANOVA tables of types I, II and III and F tests between nested
models, on datasets that ship with Plotly and statsmodels (issue 23, item 4)."""

from __future__ import annotations

import json

import numpy as np
import plotly.express as px
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from statsmodels.datasets import fair

from linreg_core import ParameterError, build_formula_design
from linreg_core._anova import anova, compare_models
from linreg_core._cli import main

TOL = 1e-8
TIPS = px.data.tips()
FAIR = fair.load_pandas().data

# The terms are fitted in patsy's order, so type I (sequential) sums agree too — also where the formula writes a number
# before a category, or a categories' interaction after a number, which formulaic alone would order otherwise.
MODELS = {
    "tips, two factors and a number": (TIPS, "tip ~ C(day) + C(smoker) + total_bill"),
    "tips, a factor by a number": (TIPS, "tip ~ C(smoker)*total_bill"),
    "tips, two factors crossed": (TIPS, "tip ~ C(sex)*C(smoker)"),
    "fair, numbers and a factor": (FAIR, "affairs ~ C(religious) + age + yrs_married + age:yrs_married"),
    "tips, a number written first": (TIPS, "tip ~ total_bill + C(day) + smoker"),
    "tips, crossed factors after a number": (TIPS, "tip ~ size + C(sex)*C(smoker) + total_bill:C(time)"),
    "fair, numbers around factors": (FAIR, "affairs ~ age + C(religious) + yrs_married*C(children)"),
}


def _equal(table, ref):
    assert table.index == list(ref.index)
    for j, column in enumerate(table.columns):
        mine, theirs = table.values[:, j], ref[column].to_numpy(float)
        assert np.array_equal(np.isnan(mine), np.isnan(theirs)), column
        np.testing.assert_allclose(mine[~np.isnan(mine)], theirs[~np.isnan(theirs)], rtol=TOL, atol=1e-300)


@pytest.mark.parametrize("typ", [1, 2, 3])
@pytest.mark.parametrize("model", list(MODELS))
def test_one_model_s_table_equals_anova_lm(model, typ):
    df, formula = MODELS[model]
    _equal(anova(build_formula_design(df, formula), typ), sm.stats.anova_lm(smf.ols(formula, df).fit(), typ=typ))


def test_a_weighted_model_s_table_equals_anova_lm_of_wls():
    from linreg_core import with_weights

    formula = "tip ~ C(day) + total_bill"
    design = with_weights(build_formula_design(TIPS, formula), TIPS, "size")
    ref = sm.stats.anova_lm(smf.wls(formula, TIPS, weights=TIPS["size"]).fit(), typ=2)
    _equal(anova(design, 2), ref)


def test_nested_models_are_compared_as_anova_lm_does():
    formulas = ["tip ~ total_bill", "tip ~ total_bill + C(day)", "tip ~ total_bill + C(day) + size"]
    ref = sm.stats.anova_lm(*(smf.ols(f, TIPS).fit() for f in formulas))
    table = compare_models([build_formula_design(TIPS, f) for f in formulas])
    for j, column in enumerate(table.columns):
        np.testing.assert_allclose(table.values[:, j], ref[column].to_numpy(float), rtol=TOL, equal_nan=True)


def test_comparisons_refuse_models_out_of_order_or_on_other_rows():
    small, big = build_formula_design(TIPS, "tip ~ total_bill"), build_formula_design(TIPS, "tip ~ total_bill + size")
    with pytest.raises(ParameterError, match="smallest first"):
        compare_models([big, small])
    gappy = TIPS.astype({"size": float})
    gappy.loc[[1, 2], "size"] = np.nan
    with pytest.raises(ParameterError, match=r"different rows \(242, 244\)"):
        compare_models([small, build_formula_design(gappy, "tip ~ total_bill + size", na="drop")])
    with pytest.raises(ParameterError, match="The 'typ' parameter must be 1, 2 or 3. Got 4 instead."):
        anova(small, 4)


def test_the_anova_command_prints_the_table_and_its_json(tmp_path, capsys):
    path = tmp_path / "tips.csv"
    TIPS.to_csv(path, index=False)
    formula = "tip ~ C(smoker)*total_bill"
    assert main(["anova", str(path), "--formula", formula, "--typ", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Type II ANOVA of tip ~ 1 + C(smoker) + total_bill + C(smoker):total_bill (n=244):")
    assert "C(smoker):total_bill" in out and "Residual" in out
    assert main(["anova", str(path), "--formula", formula, "--typ", "3", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    ref = sm.stats.anova_lm(smf.ols(formula, TIPS).fit(), typ=3)
    assert [row["name"] for row in doc["anova"]] == list(ref.index)
    np.testing.assert_allclose([row["F"] for row in doc["anova"][:-1]], ref["F"].to_numpy()[:-1], rtol=TOL)
    assert doc["anova"][-1]["F"] is None  # the residual row has no test: null, as statsmodels' NaN
    assert main(["anova", str(path), "--formula", "tip ~ total_bill", "--formula", "tip ~ total_bill + size",
                 "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["anova"]
    assert set(rows[1]) == {"name", "df_resid", "ssr", "df_diff", "ss_diff", "F", "Pr(>F)"}
    assert main(["anova", str(path), "--formula", "tip ~ total_bill", "--formula", "tip ~ size", "--formula",
                 "tip ~ total_bill + size", "--typ", "2"]) == 2
    assert "drop --typ" in capsys.readouterr().err
