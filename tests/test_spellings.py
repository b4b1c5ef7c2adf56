"""What statsmodels and R users type in a formula (issue 23, item 2): patsy's contrasts, with statsmodels' term
names; np.where; and one sentence that says what to write instead of R's ^ inside I() and '.'."""

from __future__ import annotations

import numpy as np
import plotly.express as px
import pytest
import statsmodels.formula.api as smf

from linreg_core import FormulaError, build_formula_design, fit_exact_design, load_model, model_json

TIPS = px.data.tips()


@pytest.mark.parametrize("formula", [
    "tip ~ C(day, Treatment(reference='Sun'))",
    "tip ~ C(day, Treatment('Sun')) + total_bill",
    'tip ~ C(day, Treatment(reference="Thur")) + C(time)',
    "tip ~ C(day, Treatment)",
    "tip ~ C(size, Treatment(3))",
    "tip ~ C(day, Sum) + C(time, Poly)",
    "tip ~ C(size, Poly) + total_bill",
    "tip ~ total_bill + np.where(total_bill > 20, 1, 0)",
    # patsy's term order where formulaic alone would order otherwise
    "tip ~ total_bill + C(day)",
    "tip ~ total_bill * C(day) + smoker",
    "tip ~ size + C(sex)*C(smoker) + total_bill:C(time)",
    "np.log(tip) ~ np.log(total_bill) + C(size, Treatment(reference=2)) + sex:smoker",
    "tip ~ (total_bill + size)**2 + time",
    "tip ~ total_bill + C(day) - 1",
])
def test_patsy_spellings_fit_as_statsmodels_with_its_term_names_in_its_order(formula):
    """Names and positions equal statsmodels' on Plotly's tips, so results join with statsmodels code either way."""
    design = build_formula_design(TIPS, formula)
    ref = smf.ols(formula, TIPS).fit()
    assert (["Intercept"] if design.fit_intercept else []) + design.terms == list(ref.params.index)
    np.testing.assert_allclose(fit_exact_design(design).params, ref.params.to_numpy(), rtol=1e-9, atol=1e-12)


def test_a_model_with_patsy_names_predicts_new_rows():
    formula = "tip ~ C(day, Treatment(reference='Sun')) + C(size, Poly) + total_bill"
    design = build_formula_design(TIPS, formula)
    model = load_model(model_json(design, None, fit_exact_design(design)))
    new = TIPS.sample(20, random_state=0)
    np.testing.assert_allclose(model.predict(new)["prediction"], smf.ols(formula, TIPS).fit().predict(new),
                               rtol=1e-9)


@pytest.mark.parametrize("formula, says", [
    ("tip ~ I(total_bill^2)", "where ^ is not a power. Write 'I(total_bill ** 2)' instead."),
    ("tip ~ total_bill + np.log(size^3)", "Write 'np.log(size ** 3)' instead."),
    ("tip ~ .", "list the columns instead, e.g. 'tip ~ total_bill + sex + smoker + day + time + size'."),
    ("tip ~ total_bill + .", "uses '.' for every other column"),
])
def test_r_habits_get_a_sentence_that_says_what_to_write(formula, says):
    with pytest.raises(FormulaError) as info:
        build_formula_design(TIPS, formula)
    assert says in str(info.value)


def test_wilkinson_powers_still_mean_interactions():
    design = build_formula_design(TIPS, "tip ~ (total_bill + size)^2")
    assert design.terms == ["total_bill", "size", "total_bill:size"]
