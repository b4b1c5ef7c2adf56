"""AppTest: categories and formulas on the Data page, a formula model through Train and Results, and Results'
"Predict new rows" with the current fit and with a saved model JSON."""

from __future__ import annotations

import json

import numpy as np
import plotly.express as px
import pytest
import statsmodels.formula.api as smf
from app_support import goto, plain, start, texts, train_clicked

TIPS = px.data.tips()


def tips_loaded():
    at = goto(start(), "data")
    at.button(key="preset_tips").click().run()
    assert not at.exception
    return at


def test_a_text_feature_enters_as_categories_with_statsmodels_names():
    at = tips_loaded()
    at.multiselect(key="_w_sel_features").set_value(["total_bill", "day"]).run()
    assert not at.exception
    assert texts(at.success) == ["Ready: 244 rows, model tip ~ day[T.Sat] + day[T.Sun] + day[T.Thur] + total_bill."]
    assert any("Formula: tip ~ 1 + day + total_bill" in plain(c.value) for c in at.caption)
    exact = at.session_state._problem[1].exact
    ref = smf.ols("tip ~ total_bill + day", TIPS).fit()
    np.testing.assert_allclose(exact.params, ref.params, rtol=1e-9)  # patsy's order: statsmodels' own


def test_a_typed_formula_replaces_the_pickers_and_trains():
    at = tips_loaded()
    at.text_input(key="_w_sel_formula").input("tip ~ total_bill + C(size) + smoker").run()
    assert not at.exception
    assert "C(size)[T.2]" in texts(at.success)[0] and "smoker[T.Yes]" in texts(at.success)[0]
    assert at.multiselect(key="_w_sel_features").disabled
    goto(at, "train")
    at.toggle(key="_w_standardize").set_value(True).run()  # dummies and dollars on one scale: lr 0.01 is stable
    run = train_clicked(at)
    assert run.status == "completed" and len(run.coef) == 7
    goto(at, "results")
    assert not at.exception
    assert any("C(size)[T.6]" in d.value.index for d in at.dataframe)  # the coefficient table names the terms


@pytest.mark.parametrize(("formula", "message"), [
    ("tip ~ (total_bill", "Could not read the formula"),
    ("tip ~ wage", "uses 'wage', which is not a column"),
    ("tip ~ I(__import__('os').getpid())", "which formulas here may not use"),
])
def test_a_bad_formula_is_one_sentence_and_the_data_stays(formula, message):
    at = tips_loaded()
    at.text_input(key="_w_sel_formula").input(formula).run()
    assert not at.exception
    assert message in plain(at.error[0].value)
    assert len(at.session_state.ds_df) == 244
    at.text_input(key="_w_sel_formula").input("").run()  # clearing it brings the pickers back
    assert texts(at.success) and not at.error


def test_blank_cells_are_named_or_left_out_on_request():
    at = goto(start(), "data")
    df = TIPS.assign(total_bill=TIPS.total_bill.where(TIPS.index % 50 != 3))
    at.file_uploader(key="csv_upload").set_value(("gaps.csv", df.to_csv(index=False).encode(), "text/csv")).run()
    at.selectbox(key="_w_sel_target").set_value("tip").run()
    at.multiselect(key="_w_sel_features").set_value(["total_bill", "day"]).run()
    assert "first: row 4, column 'total\\_bill'" in at.error[0].value
    at.toggle(key="_w_sel_na").set_value(True).run()
    assert not at.error
    assert texts(at.success)[0].startswith("Ready: 239 rows (5 with blank cells left out)")
    goto(at, "results")
    assert not at.exception


def test_results_predicts_new_rows_with_intervals_from_the_fit_and_from_a_saved_model():
    at = tips_loaded()
    at.text_input(key="_w_sel_formula").input("tip ~ total_bill + day").run()
    goto(at, "results")
    new = TIPS.drop(columns="tip").iloc[:30]
    at.file_uploader(key="pred_rows").set_value(("new.csv", new.to_csv(index=False).encode(), "text/csv")).run()
    assert not at.exception
    assert "Predicted 30 rows of **new.csv** with 95% prediction intervals." in texts(at.success)
    shown = at.dataframe[-1].value
    ref = smf.ols("tip ~ total_bill + day", TIPS).fit().get_prediction(new).summary_frame()
    np.testing.assert_allclose(shown["lower"].to_numpy(), ref["obs_ci_lower"].to_numpy()[:20], rtol=1e-7)

    # the same model saved as JSON and opened again predicts the same
    from linreg_core import build_formula_design, fit_exact_design, model_json

    design = build_formula_design(TIPS, "tip ~ total_bill + day")
    saved = model_json(design, None, fit_exact_design(design)).encode()
    at.radio(key="pred_source").set_value("A saved model (JSON)").run()
    at.file_uploader(key="pred_model_file").set_value(("model.json", saved, "application/json")).run()
    assert not at.exception
    assert any("Saved model: tip ~ 1 + day + total_bill" in plain(m.value) for m in at.markdown), \
        [m.value for m in at.markdown]
    np.testing.assert_allclose(at.dataframe[-1].value["lower"].to_numpy(), ref["obs_ci_lower"].to_numpy()[:20],
                               rtol=1e-7)
    # rows with a level the model never saw: one sentence
    bad = new.assign(day="Mon").to_csv(index=False).encode()
    at.file_uploader(key="pred_rows").set_value(("bad.csv", bad, "text/csv")).run()
    assert "has the level 'Mon' at row 1 that the model never saw" in plain(at.error[0].value)
    broken = json.dumps({"format": "x"}).encode()
    at.file_uploader(key="pred_model_file").set_value(("m.json", broken, "application/json")).run()
    assert "not a model file" in plain(at.error[0].value)


def test_influential_rows_are_named_by_their_row_in_the_data_after_rows_are_left_out():
    df = TIPS.assign(total_bill=TIPS.total_bill.where(TIPS.index % 10 != 0))  # 25 blanks before the outliers
    at = goto(start(), "data")
    at.file_uploader(key="csv_upload").set_value(("gaps.csv", df.to_csv(index=False).encode(), "text/csv")).run()
    at.selectbox(key="_w_sel_target").set_value("tip").run()
    at.multiselect(key="_w_sel_features").set_value(["total_bill"]).run()
    at.toggle(key="_w_sel_na").set_value(True).run()
    goto(at, "results")
    ref = smf.ols("tip ~ total_bill", df).fit()  # drops the same rows, keeps the original row labels
    position = int(np.argmax(ref.get_influence().cooks_distance[0]))  # among the rows kept
    worst = int(ref.model.data.row_labels[position]) + 1  # in the data, as the Data page counts rows
    assert worst != position + 1  # the test tells the two conventions apart
    readings = [c.value for c in at.caption if c.value.startswith("Row ") and "largest Cook's distance" in c.value]
    assert readings == [f"Row {worst} has the largest Cook's distance, 0.27: no row pulls the fit much (all below 0.5)."]


def test_a_share_link_carries_the_typed_formula_and_the_blank_rows_choice():
    from urllib.parse import parse_qs, urlsplit

    from app_support import shared_app

    at = tips_loaded()
    at.text_input(key="_w_sel_formula").input("tip ~ total_bill + C(day) + smoker").run()
    at.toggle(key="_w_sel_na").set_value(True).run()
    goto(at, "results")
    query = {k: v[0] for k, v in parse_qs(urlsplit(at.code[-1].value).query).items()}
    assert query["f"] == "tip ~ total_bill + C(day) + smoker" and query["na"] == "1"
    shared = shared_app(query)
    assert (shared.session_state.sel_formula, shared.session_state.sel_na) == (query["f"], True)
    goto(shared, "data")
    assert "C(day)[T.Sat]" in texts(shared.success)[0]
    # a formula from a link is checked like a typed one: it cannot run code, and a long one is refused
    hostile = shared_app({**query, "f": "tip ~ I(__import__('os').getpid())"})
    goto(hostile, "data")
    assert "which formulas here may not use" in plain(hostile.error[0].value)
    long = shared_app({"f": "y ~ x" + " + x" * 300})
    assert any("Ignored the shared setting f=" in plain(w) for w in texts(long.warning))


def test_train_says_how_standardizing_treats_category_columns_and_gd_reaches_the_exact_fit():
    at = tips_loaded()
    at.multiselect(key="_w_sel_features").set_value(["total_bill", "day"]).run()
    goto(at, "train")
    notes = [c.value for c in at.caption if "category column(s)" in c.value]
    assert notes and "3 category column(s) (0/1, e.g. day[T.Sat])" in plain(notes[0])
    at.toggle(key="_w_standardize").set_value(True).run()
    at.selectbox(key="_w_optimizer").set_value("adam").run()
    at.number_input(key="_w_lr").set_value(0.1).run()
    at.number_input(key="_w_epochs").set_value(2000).run()
    run = train_clicked(at)
    exact = at.session_state._problem[1].exact
    np.testing.assert_allclose(run.intercept, exact.intercept, atol=1e-3)
    np.testing.assert_allclose(run.coef, exact.coef, atol=1e-3)  # in original 0/1 units, like the exact fit


def test_the_null_model_fits_the_mean_on_every_page():
    """R's lm(tip ~ 1): the intercept alone, which is the mean; every page opens and gradient descent reaches it."""
    at = tips_loaded()
    at.text_input(key="_w_sel_formula").input("tip ~ 1").run()
    assert not at.exception and not at.error
    assert texts(at.success) == ["Ready: 244 rows, model tip ~ 1 (the mean alone)."]
    for page in ("results", "step", "race", "how_it_works"):
        goto(at, page)
        assert not at.error, page
    goto(at, "train")
    at.number_input(key="_w_lr").set_value(0.5).run()
    run = train_clicked(at)
    assert run.status == "completed" and run.coef == []
    assert run.intercept == pytest.approx(TIPS["tip"].mean(), rel=1e-4)
