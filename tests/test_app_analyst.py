"""The app's analyst choices (issue 23, item 3): weights on the Data page, cluster-robust and HAC standard errors on
Results — each equal to statsmodels on the same data."""

from __future__ import annotations

import numpy as np
import plotly.express as px
import pytest
import statsmodels.api as sm
from app_support import goto, start, texts, upload
from statsmodels.datasets import grunfeld, macrodata

TIPS = px.data.tips()


def _coefficients(at):
    return next(d.value for d in at.dataframe if "intercept" in list(d.value.index) and "std err" in d.value.columns)


def test_weights_on_the_data_page_give_the_wls_fit_on_results_and_training_asks_to_drop_them():
    at = goto(start(), "data")
    at.button(key="preset_tips").click().run()
    at.selectbox(key="_w_sel_weights").set_value("size").run()
    assert not at.exception and not at.error
    assert texts(at.success) == ["Ready: 244 rows, model tip ~ total_bill, weighted by size."]
    goto(at, "results")
    assert not at.error
    assert any("Weighted least squares" in c for c in texts(at.caption))
    ref = sm.WLS(TIPS.tip, sm.add_constant(TIPS.total_bill), weights=TIPS["size"]).fit()
    coef = _coefficients(at)
    np.testing.assert_allclose(coef["exact coef"].astype(float), ref.params, rtol=1e-9)
    np.testing.assert_allclose(coef["std err"].astype(float), ref.bse, rtol=1e-9)
    goto(at, "train")
    assert texts(at.error) == [
        "The current data can't be trained on: the model is weighted by 'size': the exact fit minimises the weighted "
        "sum of squares, while gradient descent here minimises the plain mean squared error, so the two would not "
        "meet. Results shows the weighted fit; set Weights to none on the Data page to train."]
    goto(at, "data")
    at.selectbox(key="_w_sel_weights").set_value("").run()
    goto(at, "train")
    assert not at.error


@pytest.mark.parametrize("cov_type", ["cluster", "HAC"])
def test_results_offers_cluster_robust_and_hac_standard_errors(cov_type):
    if cov_type == "cluster":
        df, target, features, kwargs = grunfeld.load_pandas().data, "invest", ["value", "capital"], {}
    else:
        df, target, features, kwargs = macrodata.load_pandas().data, "realcons", ["realgdp"], {}
    df = df[[target, *features, *(["firm"] if cov_type == "cluster" else [])]]
    at = goto(start(), "data")
    upload(at, "panel.csv", df.to_csv(index=False).encode())
    at.selectbox(key="_w_sel_target").set_value(target).run()
    at.multiselect(key="_w_sel_features").set_value(features).run()
    goto(at, "results")
    at.selectbox(key="_w_res_cov").set_value(cov_type).run()
    assert not at.exception and not at.error
    if cov_type == "cluster":
        at.selectbox(key="_w_res_groups").set_value("firm").run()
        kwargs = {"groups": df.firm.to_numpy()}
    else:
        lags = at.number_input(key="_w_res_maxlags").value
        assert lags == int(4 * (len(df) / 100) ** (2 / 9))  # Newey and West's rule for the data's length: 4
        kwargs = {"maxlags": lags}
    ref = sm.OLS(df[target], sm.add_constant(df[features])).fit(cov_type=cov_type, cov_kwds=kwargs)
    coef = _coefficients(at)
    assert "z" in coef.columns  # a robust covariance: z and the normal distribution, as statsmodels
    np.testing.assert_allclose(coef["std err"].astype(float), ref.bse, rtol=1e-9)


def test_a_share_link_carries_the_weights_column_with_its_data():
    from urllib.parse import parse_qs, urlsplit

    from app_support import shared_app

    at = goto(start(), "data")
    at.button(key="preset_tips").click().run()
    at.selectbox(key="_w_sel_weights").set_value("size").run()
    goto(at, "results")
    query = {k: v[0] for k, v in parse_qs(urlsplit(at.code[-1].value).query).items()}
    assert query["w"] == "size"
    shared = shared_app(query)
    goto(shared, "data")
    assert texts(shared.success) == ["Ready: 244 rows, model tip ~ total_bill, weighted by size."]
    refused = shared_app({**query, "w": "day"})
    assert any("Ignored the shared setting w=" in w for w in texts(refused.warning))


def test_results_shows_vif_an_anova_table_and_tests_restrictions():
    import statsmodels.formula.api as smf
    from statsmodels.stats.outliers_influence import variance_inflation_factor

    formula = "tip ~ C(smoker)*total_bill + size"
    at = goto(start(), "data")
    at.button(key="preset_tips").click().run()
    at.text_input(key="_w_sel_formula").input(formula).run()
    goto(at, "results")
    assert not at.exception and not at.error
    coef = _coefficients(at)
    exog = smf.ols(formula, TIPS).fit().model.exog
    assert float(coef.loc["size", "VIF"]) == pytest.approx(variance_inflation_factor(exog, 4), rel=1e-5)  # 6 digits shown
    ref = sm.stats.anova_lm(smf.ols(formula, TIPS).fit(), typ=2)
    at.segmented_control(key="_w_res_anova").set_value(2).run()
    table = next(d.value for d in at.dataframe if "Residual" in list(d.value.index))
    terms = [t for t in ref.index if t != "Residual"]  # (the same rows; patsy lists them in another order)
    np.testing.assert_allclose(table.loc[terms, "F"].astype(float), ref.loc[terms, "F"], rtol=1e-5)  # 6 digits shown
    at.text_input(key="_w_res_test").input("size = 0, total_bill = 0.1").run()
    test = smf.ols(formula, TIPS).fit().f_test("size = 0, total_bill = 0.1")
    assert any(f"F(2, 239) = **{float(np.squeeze(test.fvalue)):.6g}**" in m.value for m in at.markdown)
    at.text_input(key="_w_res_test").input("sizes = 0").run()
    assert "'sizes' is not a term of the model" in texts(at.error)[0]


def test_the_target_picker_follows_a_typed_formula_and_messages_speak_the_app_s_words():
    at = goto(start(), "data")
    at.button(key="preset_tips").click().run()
    at.text_input(key="_w_sel_formula").input("total_bill ~ tip + C(day)").run()
    assert not at.error
    picker = at.selectbox(key="_w_sel_target")
    assert picker.value == "total_bill" and picker.disabled
    gappy = TIPS.astype({"size": float})
    gappy.loc[[4, 9], "size"] = np.nan
    upload(at, "gappy.csv", gappy.to_csv(index=False).encode())
    at.text_input(key="_w_sel_formula").input("tip ~ total_bill + size").run()
    message = texts(at.error)[0]
    assert "2 row(s) have blank, NaN or infinite values" in message
    assert "turn on “Leave out rows with blank cells” above" in message and "na=" not in message
    at.text_input(key="_w_sel_formula").input("").run()
    assert not at.selectbox(key="_w_sel_target").disabled


def test_results_offers_the_summary_in_four_formats():
    at = goto(start(), "data")
    at.button(key="preset_tips").click().run()
    goto(at, "results")
    assert at.selectbox(key="res_summary_format").options == ["Text", "HTML", "LaTeX", "Markdown"]
    at.selectbox(key="res_summary_format").set_value("latex").run()
    assert not at.exception
