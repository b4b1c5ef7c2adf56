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
