"""Tests for linreg_core._solver.fit_exact against NIST StRD certified values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.datasets import longley

from linreg_core import ExactFit, build_design, fit_exact, fit_stats, read_csv
from linreg_core.errors import RankDeficientError

DATA = Path(__file__).parent / "data"

LONGLEY_FEATURES = ["GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR"]
LONGLEY_COEF = np.array([
    -3482258.63459582,
    15.0618722713733,
    -0.358191792925910e-01,
    -2.02022980381683,
    -1.03322686717359,
    -0.511041056535807e-01,
    1829.15146461355,
])
LONGLEY_SD = np.array([
    890420.383607373,
    84.9149257747669,
    0.334910077722432e-01,
    0.488399681651699,
    0.214274163161675,
    0.226073200069370,
    455.478499142212,
])
LONGLEY_RESID_SD = 304.854073561965
LONGLEY_R2 = 0.995479004577296

FILIP_COEF = np.array([
    -1467.48961422980,
    -2772.17959193342,
    -2316.37108160893,
    -1127.97394098372,
    -354.478233703349,
    -75.1242017393757,
    -10.8753180355343,
    -1.06221498588947,
    -0.670191154593408e-01,
    -0.246781078275479e-02,
    -0.402962525080404e-04,
])
FILIP_SD = np.array([
    298.084530995537,
    559.779865474950,
    466.477572127796,
    227.204274477751,
    71.6478660875927,
    15.2897178747400,
    2.23691159816033,
    0.221624321934227,
    0.142363763154724e-01,
    0.535617408889821e-03,
    0.896632837373868e-05,
])
FILIP_RESID_SD = 0.334801051324544e-02
FILIP_R2 = 0.996727416185620

WAMPLER1_COEF = np.ones(6)
WAMPLER2_COEF = np.array([1.0, 0.1, 0.01, 0.001, 1e-4, 1e-5])


def correct_digits(estimate, certified) -> float:
    """Fewest correct significant digits over all entries (the NIST LRE).

    An exact match counts as 15 digits (full float64 precision).
    """
    estimate = np.asarray(estimate, dtype=np.float64)
    certified = np.asarray(certified, dtype=np.float64)
    assert estimate.shape == certified.shape
    rel = np.abs(estimate - certified) / np.abs(certified)
    with np.errstate(divide="ignore"):
        digits = np.where(rel == 0, 15.0, -np.log10(rel))
    return float(np.min(digits))


def test_correct_digits_helper():
    assert correct_digits([1.0, 2.0], [1.0, 2.0]) == 15.0
    assert correct_digits([1.001], [1.0]) == pytest.approx(3.0)
    assert correct_digits([1.0, 2.0002], [1.0, 2.0]) == pytest.approx(4.0)
    assert correct_digits([-3.0e-7], [-3.0e-7 * (1 + 1e-9)]) == pytest.approx(9.0, abs=1e-3)


# --------------------------------------------------------------------------- NIST Longley


@pytest.fixture(scope="module")
def longley_design():
    df = longley.load_pandas().data
    return build_design(df, "TOTEMP", LONGLEY_FEATURES)


def test_longley_keeps_7_digits_on_every_coefficient(longley_design):
    fit = fit_exact(longley_design.X, longley_design.y, terms=longley_design.terms)
    assert fit.rank == 7
    assert correct_digits(fit.params, LONGLEY_COEF) >= 7


def test_longley_keeps_7_digits_on_std_errors_residual_sd_and_r2(longley_design):
    fit = fit_exact(longley_design.X, longley_design.y, terms=longley_design.terms)
    stats = fit_stats(longley_design, fit)
    assert correct_digits(stats.std_err, LONGLEY_SD) >= 7
    assert correct_digits([np.sqrt(stats.sigma2)], [LONGLEY_RESID_SD]) >= 7
    assert correct_digits([stats.r2], [LONGLEY_R2]) >= 7


# --------------------------------------------------------------------------- NIST Filip


@pytest.fixture(scope="module")
def filip_df():
    return read_csv(DATA / "nist_filip.csv")


@pytest.fixture(scope="module")
def filip_design(filip_df):
    return build_design(filip_df, "y", ["x"], degree=10)


def test_filip_data_file_is_complete(filip_df):
    assert filip_df.shape == (82, 2)


def test_filip_degree10_keeps_7_digits_on_every_coefficient(filip_design):
    fit = fit_exact(filip_design.X, filip_design.y, terms=filip_design.terms)
    assert fit.rank == 11
    assert np.isfinite(fit.condition_number)
    assert correct_digits(fit.params, FILIP_COEF) >= 7


def test_filip_degree10_keeps_7_digits_on_std_errors_residual_sd_and_r2(filip_design):
    fit = fit_exact(filip_design.X, filip_design.y, terms=filip_design.terms)
    stats = fit_stats(filip_design, fit)
    assert correct_digits(stats.std_err, FILIP_SD) >= 7
    assert correct_digits([np.sqrt(stats.sigma2)], [FILIP_RESID_SD]) >= 7
    assert correct_digits([stats.r2], [FILIP_R2]) >= 7


def test_numpy_lstsq_on_raw_filip_design_keeps_fewer_than_7_digits(filip_df):
    """Why fit_exact does not call numpy.linalg.lstsq: on the unscaled Filip
    Vandermonde design it loses (almost) every significant digit."""
    x = filip_df["x"].to_numpy(dtype=np.float64)
    y = filip_df["y"].to_numpy(dtype=np.float64)
    beta = np.linalg.lstsq(np.vander(x, 11, increasing=True), y, rcond=None)[0]
    assert correct_digits(beta, FILIP_COEF) < 7


# --------------------------------------------------------------------------- NIST Wampler


def _wampler(coef: np.ndarray):
    x = np.arange(21, dtype=np.float64)
    y = sum(c * x**k for k, c in enumerate(coef))
    return build_design(pd.DataFrame({"x": x, "y": y}), "y", ["x"], degree=5)


@pytest.mark.parametrize(
    "coef", [WAMPLER1_COEF, WAMPLER2_COEF], ids=["wampler1", "wampler2"]
)
def test_wampler_degree5_keeps_7_digits_on_every_coefficient(coef):
    design = _wampler(coef)
    fit = fit_exact(design.X, design.y, terms=design.terms)
    assert correct_digits(fit.params, coef) >= 7
    stats = fit_stats(design, fit)
    # The data are exact, so the certified residual SD is 0 and R² is 1.
    assert stats.r2 == pytest.approx(1.0, abs=1e-12)
    assert np.sqrt(stats.sigma2) <= 1e-12 * np.abs(design.y).max()


# --------------------------------------------------------------------------- rank deficiency


@pytest.fixture
def rng():
    return np.random.default_rng(20240601)


def _check_rank_error(err: RankDeficientError, *, rank: int, n_params: int, allowed: set[str]) -> None:
    assert err.rank == rank
    assert err.n_params == n_params
    assert len(err.dependent) >= 1
    assert set(err.dependent) <= allowed
    msg = str(err)
    assert "rank deficient" in msg
    assert f"rank {rank} < {n_params}" in msg
    for name in err.dependent:
        assert repr(name) in msg


def test_duplicate_column_is_rank_deficient(rng):
    x1, x2 = rng.normal(size=(2, 30))
    X = np.column_stack([x1, x2, x1])
    y = rng.normal(size=30)
    with pytest.raises(RankDeficientError) as exc:
        fit_exact(X, y, terms=["a", "b", "a_copy"])
    _check_rank_error(exc.value, rank=3, n_params=4, allowed={"a", "a_copy"})


def test_linear_combination_column_is_rank_deficient(rng):
    x1, x2 = rng.normal(size=(2, 30))
    X = np.column_stack([x1, x2, 2 * x1 + x2])
    y = rng.normal(size=30)
    with pytest.raises(RankDeficientError) as exc:
        fit_exact(X, y, terms=["x1", "x2", "combo"])
    _check_rank_error(exc.value, rank=3, n_params=4, allowed={"x1", "x2", "combo"})


def test_linear_combination_without_intercept_is_rank_deficient(rng):
    x1, x2 = rng.normal(size=(2, 30))
    X = np.column_stack([x1, x2, 2 * x1 + x2])
    with pytest.raises(RankDeficientError) as exc:
        fit_exact(X, rng.normal(size=30), fit_intercept=False)
    _check_rank_error(exc.value, rank=2, n_params=3, allowed={"x0", "x1", "x2"})


def test_constant_feature_passed_to_fit_exact_is_rank_deficient(rng):
    x1 = rng.normal(size=30)
    X = np.column_stack([x1, np.full(30, 3.0)])
    with pytest.raises(RankDeficientError) as exc:
        fit_exact(X, rng.normal(size=30), terms=["x", "k"])
    _check_rank_error(exc.value, rank=2, n_params=3, allowed={"intercept", "k"})


def test_zero_column_is_rank_deficient(rng):
    X = np.column_stack([rng.normal(size=30), np.zeros(30)])
    with pytest.raises(RankDeficientError) as exc:
        fit_exact(X, rng.normal(size=30), terms=["x", "z"])
    _check_rank_error(exc.value, rank=2, n_params=3, allowed={"z"})


# --------------------------------------------------------------------------- well-conditioned problems


def test_no_intercept_fit_matches_numpy_lstsq(rng):
    X = rng.normal(size=(60, 4))
    y = X @ np.array([1.5, -2.0, 0.25, 3.0]) + 0.1 * rng.normal(size=60)
    fit = fit_exact(X, y, fit_intercept=False)
    expected = np.linalg.lstsq(X, y, rcond=None)[0]
    assert fit.intercept is None
    assert fit.rank == 4
    np.testing.assert_allclose(fit.coef, expected, rtol=1e-10)
    np.testing.assert_allclose(fit.params, expected, rtol=1e-10)
    np.testing.assert_allclose(fit.cov_unscaled, np.linalg.inv(X.T @ X), rtol=1e-8)


def test_intercept_fit_matches_statsmodels_ols(rng):
    X = rng.normal(size=(80, 3)) * np.array([1.0, 10.0, 0.1]) + np.array([0.0, 5.0, -1.0])
    y = 4.0 + X @ np.array([0.5, -0.2, 7.0]) + rng.normal(size=80)
    fit = fit_exact(X, y)
    ref = sm.OLS(y, sm.add_constant(X)).fit()
    np.testing.assert_allclose(fit.params, ref.params, rtol=1e-10)
    assert fit.intercept == pytest.approx(ref.params[0], rel=1e-10)
    np.testing.assert_allclose(fit.coef, ref.params[1:], rtol=1e-10)
    np.testing.assert_allclose(fit.cov_unscaled, ref.normalized_cov_params, rtol=1e-8)
    assert fit.condition_number >= 1.0


def test_exact_fit_predict(rng):
    X = rng.normal(size=(40, 2))
    y = 1.0 + X @ np.array([2.0, -3.0]) + 0.01 * rng.normal(size=40)
    fit = fit_exact(X, y)
    X_new = np.array([[0.0, 0.0], [1.0, 2.0], [-0.5, 0.25]])
    expected = fit.intercept + X_new @ fit.coef
    np.testing.assert_allclose(fit.predict(X_new), expected, rtol=1e-14)
    np.testing.assert_allclose(fit.predict(X_new), [1.0, -3.0, -0.75], atol=0.05)


def test_exact_fit_predict_without_intercept():
    fit = ExactFit(intercept=None, coef=np.array([2.0, -1.0]), cov_unscaled=np.eye(2), rank=2, condition_number=1.0)
    np.testing.assert_array_equal(fit.predict([[1.0, 1.0], [3.0, 0.5]]), [1.0, 5.5])
    np.testing.assert_array_equal(fit.params, [2.0, -1.0])


def test_exact_fit_recovers_noiseless_coefficients(rng):
    X = rng.uniform(-5, 5, size=(25, 3))
    y = -2.5 + X @ np.array([1.0, 0.125, -4.0])
    fit = fit_exact(X, y, terms=["a", "b", "c"])
    np.testing.assert_allclose(fit.params, [-2.5, 1.0, 0.125, -4.0], rtol=1e-12)


# --- properties (hypothesis): what any least-squares solution must satisfy ----------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402

# Data as people type it: up to 6 decimals (no subnormal magnitudes, which build_design refuses anyway)
_finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False).map(lambda v: round(v, 6))


@st.composite
def _problems(draw):
    n = draw(st.integers(6, 30))
    k = draw(st.integers(1, 4))
    X = draw(arrays(np.float64, (n, k), elements=_finite))
    y = draw(arrays(np.float64, (n,), elements=_finite))
    return X, y


def _well_posed(X: np.ndarray) -> bool:
    A = np.column_stack([np.ones(len(X)), X])
    return np.linalg.matrix_rank(A) == A.shape[1] and np.linalg.cond(A) < 1e8


@settings(max_examples=60, deadline=None)
@given(_problems())
def test_property_residuals_are_orthogonal_to_every_column(problem):
    X, y = problem
    A = np.column_stack([np.ones(len(X)), X])
    if np.linalg.matrix_rank(A) < A.shape[1]:  # exactly dependent columns (e.g. a constant one): must be named
        with pytest.raises(RankDeficientError):
            fit_exact(X, y)
        return
    if not _well_posed(X):
        return
    fit = fit_exact(X, y)
    A = np.column_stack([np.ones(len(X)), X])
    r = y - A @ fit.params
    scale = np.linalg.norm(A, axis=0) * max(np.linalg.norm(y), 1e-300)
    assert np.all(np.abs(A.T @ r) <= 1e-8 * scale)  # the normal equations hold at the solution
    ref = np.linalg.lstsq(A, y, rcond=None)[0]
    np.testing.assert_allclose(fit.params, ref, rtol=1e-6, atol=1e-8 * (1 + np.abs(ref).max()))


@settings(max_examples=40, deadline=None)
@given(_problems(), st.randoms(use_true_random=False), st.floats(1e-3, 1e3))
def test_property_row_order_and_column_units_do_not_matter(problem, rnd, c):
    X, y = problem
    if not _well_posed(X):
        return
    fit = fit_exact(X, y)
    order = list(range(len(y)))
    rnd.shuffle(order)
    shuffled = fit_exact(X[order], y[order])
    np.testing.assert_allclose(shuffled.params, fit.params, rtol=1e-7, atol=1e-9 * (1 + np.abs(fit.params).max()))
    Xc = X.copy()
    Xc[:, 0] *= c  # a column in other units: its slope scales by 1/c, nothing else changes
    scaled = fit_exact(Xc, y)
    expected = fit.coef.copy()
    expected[0] /= c
    np.testing.assert_allclose(scaled.coef, expected, rtol=1e-6, atol=1e-9 * (1 + np.abs(expected).max()))
    assert scaled.intercept == pytest.approx(fit.intercept, rel=1e-6, abs=1e-9 * (1 + abs(fit.intercept)))
