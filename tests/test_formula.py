"""linreg_core._formula: Wilkinson formulas against statsmodels' smf.ols on real datasets (text columns, integer codes,
blanked cells), and one clear sentence for each formula a user gets wrong — or a hostile one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import pytest
import statsmodels.formula.api as smf
from statsmodels.datasets import fair, grunfeld, macrodata, star98
from statsmodels.stats.stattools import durbin_watson, jarque_bera, omni_normtest

from linreg_core import (
    COV_TYPES,
    ColumnNotFoundError,
    FormulaError,
    NonFiniteError,
    NonNumericError,
    build_design,
    build_formula_design,
    fit_exact_design,
    fit_stats,
    fit_summary,
    implied_formula,
)

RTOL = 1e-7


def _blanked(df: pd.DataFrame, column: str, every: int = 9) -> pd.DataFrame:
    out = df.copy()
    if not pd.api.types.is_numeric_dtype(out[column]):
        out[column] = out[column].astype(object)
    out.loc[out.index[::every], column] = None  # blank cells, as a CSV with gaps reads (NaN in a numeric column)
    return out


def _cases() -> dict[str, tuple[pd.DataFrame, str]]:
    gap = px.data.gapminder()
    return {
        "tips: text categories, interaction, transform": (
            px.data.tips(), "tip ~ total_bill + C(day) + np.log(total_bill) + total_bill:smoker + I(total_bill**2)"),
        "tips: integer codes as categories, no intercept": (px.data.tips(), "tip ~ total_bill + C(size) + day - 1"),
        "iris: text species and its integer code": (px.data.iris(), "petal_width ~ petal_length + species"),
        "gapminder: continent, log gdp, blanked cells": (
            _blanked(gap, "gdpPercap"), "lifeExp ~ continent + np.log(gdpPercap) + year"),
        "grunfeld: text firm, blanked": (_blanked(grunfeld.load_pandas().data, "capital", 7),
                                         "invest ~ value + capital + firm"),
        "fair: integer codes": (fair.load_pandas().data, "affairs ~ C(occupation) + C(religious) + age + yrs_married"),
        "macrodata: log target": (macrodata.load_pandas().data, "np.log(realcons) ~ np.log(realgdp) + unemp + C(quarter)"),
        "star98: centred terms": (star98.load_pandas().data, "LOWINC ~ center(PERASIAN) + PERBLACK * PERHISP"),
        "election: text winner, boolean": (px.data.election().assign(big=lambda d: d.total > 5000),
                                           "Coderre ~ Joly + winner + big"),
    }


CASES = _cases()


# the covariance types that need nothing but the rows (cluster and HAC: tests/test_weights_cov.py)
ROW_COV_TYPES = [c for c in COV_TYPES if c not in ("cluster", "HAC")]


@pytest.mark.parametrize("cov_type", ROW_COV_TYPES)
@pytest.mark.parametrize("name", list(CASES))
def test_formula_fit_matches_statsmodels(name, cov_type):
    df, formula = CASES[name]
    design = build_formula_design(df, formula, na="drop")
    exact = fit_exact_design(design)
    ours, stats = fit_summary(design, exact, cov_type), fit_stats(design, exact)
    ref = smf.ols(formula, df).fit(cov_type=cov_type)  # patsy drops incomplete rows by default
    assert design.n_samples == int(ref.nobs)
    assert design.dropped_rows == len(df) - int(ref.nobs)
    names = ["Intercept" if n == "intercept" else n for n in ours.names]
    assert sorted(names) == sorted(ref.params.index)  # statsmodels' term names: day[T.Sat], C(size)[T.2]…
    rtol = RTOL if ref.condition_number < 1e8 else 1e-5
    for mine, theirs in ((ours.params, ref.params), (ours.std_err, ref.bse), (ours.stat, ref.tvalues)):
        np.testing.assert_allclose(mine, theirs[names].to_numpy(), rtol=rtol)
    np.testing.assert_allclose(ours.p_values, ref.pvalues[names].to_numpy(), rtol=max(rtol, 1e-6), atol=1e-300)
    ci = ref.conf_int().loc[names].to_numpy()
    np.testing.assert_allclose(np.c_[ours.ci_low, ours.ci_high], ci, rtol=rtol)
    assert stats.r2 == pytest.approx(ref.rsquared, rel=RTOL)
    assert stats.adj_r2 == pytest.approx(ref.rsquared_adj, rel=RTOL)
    f_ref = float(np.squeeze(ref.fvalue))
    if np.isnan(f_ref):  # statsmodels gives no robust F when the constant is implied by category columns
        assert np.isnan(ours.f_statistic)
    else:
        assert ours.f_statistic == pytest.approx(f_ref, rel=rtol)
    for mine, theirs in ((ours.llf, ref.llf), (ours.aic, ref.aic), (ours.bic, ref.bic)):
        assert mine == pytest.approx(theirs, rel=RTOL)
    # the residual diagnostics of the summary
    omni, omni_p = omni_normtest(ref.resid)
    jb, jb_p, skew, kurt = jarque_bera(ref.resid)
    for mine, theirs in ((ours.omnibus, omni), (ours.omnibus_pvalue, omni_p), (ours.jarque_bera, jb),
                         (ours.jb_pvalue, jb_p), (ours.skew, skew), (ours.kurtosis, kurt),
                         (ours.durbin_watson, durbin_watson(ref.resid))):
        assert mine == pytest.approx(theirs, rel=1e-6, abs=1e-12)
    assert ours.condition_number == pytest.approx(ref.condition_number, rel=1e-6)


def test_y_x_degree_mean_the_formula_they_imply():
    df = px.data.tips()
    formula = implied_formula("tip", ["total_bill", "size"], degree=2)
    assert formula == "tip ~ total_bill + I(total_bill**2) + size + I(size**2)"
    a, b = build_design(df, "tip", ["total_bill", "size"], 2), build_formula_design(df, formula)
    np.testing.assert_allclose(fit_exact_design(a).params, fit_exact_design(b).params, rtol=1e-9)
    assert a.model_formula == formula
    assert implied_formula("y", ["my col"], 1, fit_intercept=False) == "y ~ `my col` - 1"


def test_dummy_columns_train_by_gradient_descent_to_the_exact_fit():
    from linreg_core import TrainConfig, train

    design = build_formula_design(px.data.tips(), "tip ~ total_bill + day")
    result = train(design, TrainConfig(optimizer="adam", lr=0.05, epochs=3000, standardize=True, dtype="float64"))
    np.testing.assert_allclose(result.params, fit_exact_design(design).params, atol=1e-4)


def test_na_error_names_the_first_blank_cell_and_drop_says_how_many():
    df = _blanked(px.data.tips(), "day", 50)
    with pytest.raises(NonFiniteError, match=r"5 row\(s\).*first: row 1, column 'day'.*na='drop'"):
        build_formula_design(df, "tip ~ total_bill + day")
    design = build_formula_design(df, "tip ~ total_bill + day", na="drop")
    assert design.dropped_rows == 5 and design.n_samples == 239
    # columns the model does not use do not cost rows
    assert build_formula_design(df, "tip ~ total_bill", na="drop").dropped_rows == 0
    plain = build_design(_blanked(px.data.tips(), "size", 61), "tip", ["total_bill", "size"], na="drop")
    assert plain.dropped_rows == 4


def test_dates_are_refused_with_a_way_out_or_turned_into_days():
    df = px.data.stocks()[["date", "GOOG"]].iloc[:50]
    with pytest.raises(Exception, match=r"'date' holds dates .*dates='days'.*C\(date\)"):
        build_formula_design(df, "GOOG ~ date")
    design = build_formula_design(df, "GOOG ~ date", dates="days")
    assert design.X[0, 0] == (pd.Timestamp(df.date[0]) - pd.Timestamp("1970-01-01")).days


@pytest.mark.parametrize(("formula", "error", "message"), [
    ("tip ~ (total_bill", FormulaError, r"Could not read the formula 'tip ~ \(total_bill': .*Formulas look like"),
    ("tip ~ total_bill +", FormulaError, r"Could not read .*insufficient arguments"),
    ("tip total_bill", FormulaError, r"needs exactly one '~'"),
    ("tip ~ wage + day", ColumnNotFoundError, r"uses 'wage', which is not a column.*Available columns: 'total_bill'"),
    ("tip ~ total_bill + one", FormulaError, r"'one' has one level \('a'\).*at least two"),
    ("day ~ total_bill", FormulaError, r"target 'day' must be one numeric column"),
    ("tip ~ 1 - 1", FormulaError, r"no terms: .- 1. removed the intercept"),
    ("tip ~ np.log(total_bill - 10)", NonFiniteError, r"np.log\(total_bill - 10\)' is not a finite number in 17 row"),
    ("tip ~ typo", NonNumericError, r"'typo' is mostly numbers but has the text 'n/a' at row 3 .*C\(typo\)"),
    ("tip ~ total_bill + bogus(size)", FormulaError, r"function 'bogus'"),
])
def test_bad_formulas_get_one_clear_sentence(formula, error, message):
    df = px.data.tips().assign(one="a", typo=lambda d: d.total_bill.astype(str).where(d.index != 2, "n/a"))
    with pytest.raises(error, match=message) as info:
        build_formula_design(df, formula)
    assert "\n" not in str(info.value) and "\x1b" not in str(info.value)


@pytest.mark.parametrize("formula", [
    "y ~ x + I(__import__('os').system('touch /tmp/pwned'))",
    "y ~ getattr(x, 'real')",
    "y ~ open('/etc/passwd')",
    "y ~ x + np.random.rand(4)",
    "y ~ x + I(x.__class__)",
    "np.load('/tmp/x') ~ x",
])
def test_formulas_cannot_run_code(formula, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    df = pd.DataFrame({"x": [1.0, 2, 3, 4], "y": [1.0, 2, 4, 3]})
    with pytest.raises(FormulaError, match="may not use"):
        build_formula_design(df, formula)


@pytest.mark.parametrize("name", ["iris.species", "iris\nspecies", "total bill"])
def test_a_quoted_column_name_is_a_feature_and_applies_to_new_rows(name):
    """Formulaic reads `iris.species` as attribute access when it lists variables and prints it unquoted; the
    design must still name it as a feature and compute it on new rows (the live charts do, every redraw)."""
    df = px.data.iris()[["sepal_length", "petal_width", "species"]].rename(columns={"species": name})
    term = "`" + name + "`"
    design = build_formula_design(df, f"sepal_length ~ petal_width + {term}")
    assert design.features == ["petal_width", name]
    np.testing.assert_array_equal(design.matrix(df), design.X)
    numeric = df.rename(columns={"petal_width": name, name: "kind"})
    squared = build_formula_design(numeric, f"sepal_length ~ I({term}**2)")  # what the column pickers write
    np.testing.assert_allclose(squared.X[:, 0], numeric[name].to_numpy() ** 2)
