"""linreg_core._estimator.LinearRegressor: scikit-learn's estimator conventions, and the same numbers as the library."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from linreg_core import LinearRegressor, NotFittedError, ParameterError, TrainConfig, build_design, train
from linreg_core._design import Design

X = np.array([[1.0], [2.0], [3.0], [3.5]])
Y = np.array([2.0, 4.0, 6.0, 7.0])


def test_parameters_are_stored_as_given_and_checked_only_by_fit():
    est = LinearRegressor(lr=-0.1, method="newton")  # no error yet: scikit-learn validates in fit
    assert est.get_params()["lr"] == -0.1 and est.method == "newton"
    with pytest.raises(ParameterError, match=r"^The 'method' parameter must be 'gd' or 'exact'. Got 'newton' instead.$"):
        est.fit(X, Y)
    est.set_params(method="gd")
    with pytest.raises(ParameterError, match=r"^The 'lr' parameter must be a float > 0. Got -0.1 instead.$"):
        est.fit(X, Y)


def test_get_params_rebuilds_an_equal_estimator_and_set_params_refuses_an_unknown_name():
    est = LinearRegressor(method="exact", degree=2, optimizer="adam", lr=0.05, tol=1e-6)
    params = est.get_params()
    assert set(params) == {"method", "degree", "fit_intercept", "optimizer", "lr", "epochs", "batch_size", "momentum",
                           "l2", "standardize", "seed", "dtype", "device", "tol", "engine"}
    assert type(est)(**params).get_params() == params  # scikit-learn's clone does exactly this
    assert est.set_params(epochs=7) is est and est.epochs == 7
    with pytest.raises(ParameterError, match=r"Invalid parameter 'learning_rate' for LinearRegressor\. Valid "):
        est.set_params(learning_rate=0.1)
    assert repr(LinearRegressor(lr=0.05)) == "LinearRegressor(lr=0.05)"


def test_predict_before_fit_is_not_fitted_error_in_scikit_learns_words():
    with pytest.raises(NotFittedError, match="not fitted yet") as info:
        LinearRegressor().predict(X)
    assert isinstance(info.value, ValueError) and isinstance(info.value, AttributeError)  # as scikit-learn's


def test_gradient_descent_gives_the_librarys_run_and_exact_gives_least_squares():
    gd = LinearRegressor(device="cpu").fit(X, Y)
    design = build_design(pd.DataFrame({"x": X[:, 0], "y": Y}), "y", ["x"])
    ref = train(design, TrainConfig(device="cpu"))
    assert gd.intercept_ == ref.intercept and np.array_equal(gd.coef_, ref.coef)
    assert gd.result_.loss_history[-1] == pytest.approx(0.108823, abs=5e-7)  # the tutorial's last loss
    assert isinstance(gd.design_, Design) and gd.n_features_in_ == 1
    rng = np.random.default_rng(3)
    Xm = rng.normal(size=(60, 3))
    ym = Xm @ [1.5, -2.0, 0.25] + 4.0 + rng.normal(scale=0.1, size=60)
    exact = LinearRegressor(method="exact").fit(Xm, ym)
    ols = sm.OLS(ym, sm.add_constant(Xm)).fit()
    np.testing.assert_allclose([exact.intercept_, *exact.coef_], ols.params, rtol=1e-10)
    np.testing.assert_allclose(exact.predict(Xm[:5]), ols.predict(sm.add_constant(Xm)[:5]), rtol=1e-10)
    assert exact.score(Xm, ym) == pytest.approx(ols.rsquared, rel=1e-12)


def test_rows_or_features_that_do_not_match_are_refused_by_name():
    with pytest.raises(ParameterError, match=r"^X and y must have the same number of rows\. Got 4 and 3\.$"):
        LinearRegressor().fit(X, Y[:3])
    est = LinearRegressor(method="exact").fit(X, Y)
    with pytest.raises(ParameterError, match=r"^X has 2 features, but LinearRegressor is expecting 1 features as input\.$"):
        est.predict(np.ones((3, 2)))
