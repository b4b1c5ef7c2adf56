"""Tests for linreg_core._solver.fit_exact against NIST StRD certified values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.datasets import longley

from linreg_core import ExactFit, build_design, fit_exact, fit_exact_design, fit_exact_moments, fit_stats, read_csv
from linreg_core._solver import ILL_CONDITIONED
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


# Each case: columns, names, fit_intercept, what R's lm reports as NA (the later of the dependent columns), the rank
# the pivoted QR finds, and the terms it may name when singular_ok=False refuses the design.
def _x(rng, make):
    x1, x2 = rng.normal(size=(2, 30))
    return make(x1, x2)


DEPENDENT = {
    "duplicate": (lambda a, b: np.column_stack([a, b, a]), ["a", "b", "a_copy"], True, ["a_copy"], 3, {"a", "a_copy"}),
    "combination": (lambda a, b: np.column_stack([a, b, 2 * a + b]), ["x1", "x2", "combo"], True, ["combo"], 3,
                    {"x1", "x2", "combo"}),
    "combination, no intercept": (lambda a, b: np.column_stack([a, b, 2 * a + b]), ["x0", "x1", "x2"], False, ["x2"],
                                  2, {"x0", "x1", "x2"}),
    "constant": (lambda a, b: np.column_stack([a, np.full(30, 3.0)]), ["x", "k"], True, ["k"], 2, {"intercept", "k"}),
    "zero": (lambda a, b: np.column_stack([a, np.zeros(30)]), ["x", "z"], True, ["z"], 2, {"z"}),
}


@pytest.mark.parametrize("case", list(DEPENDENT))
def test_dependent_columns_are_aliased_as_r_does(rng, case):
    """R's lm: the column that is a combination of the columns before it gets NA; the rest are the least-squares
    fit without it, with the rank as the number of parameters; a note names it."""
    make, names, icpt, na, _, _ = DEPENDENT[case]
    X, y = _x(rng, make), rng.normal(size=30)
    fit = fit_exact(X, y, fit_intercept=icpt, terms=names)
    full = (["intercept"] if icpt else []) + names
    assert [full[j] for j in fit.aliased] == na
    assert np.isnan(fit.params[list(fit.aliased)]).all() and np.isfinite(fit.params[fit.estimable]).all()
    assert fit.rank == len(full) - len(na)
    keep = [j for j, n in enumerate(names) if n not in na]
    reduced = fit_exact(X[:, keep], y, fit_intercept=icpt, terms=[names[j] for j in keep], singular_ok=False)
    np.testing.assert_allclose(fit.params[fit.estimable], reduced.params, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fit.cov_unscaled[np.ix_(fit.estimable, fit.estimable)], reduced.cov_unscaled,
                               rtol=1e-12, atol=1e-14)
    assert np.isnan(fit.cov_unscaled[list(fit.aliased)]).all()
    np.testing.assert_allclose(fit.predict(X), reduced.predict(X[:, keep]), rtol=1e-12, atol=1e-12)
    note = fit.warnings[0]
    assert note.startswith("Aliased term") and all(repr(n) in note for n in na)
    assert f"rank, {fit.rank} of {len(full)} parameters" in note


@pytest.mark.parametrize("case", list(DEPENDENT))
def test_singular_ok_false_refuses_and_names_the_dependent_columns(rng, case):
    make, names, icpt, _, rank, allowed = DEPENDENT[case]
    with pytest.raises(RankDeficientError) as exc:
        fit_exact(_x(rng, make), rng.normal(size=30), fit_intercept=icpt, terms=names, singular_ok=False)
    _check_rank_error(exc.value, rank=rank, n_params=len(names) + icpt, allowed=allowed)


def test_all_zero_columns_leave_nothing_to_fit(rng):
    with pytest.raises(RankDeficientError, match="rank 0 < 2"):
        fit_exact(np.zeros((30, 2)), rng.normal(size=30), fit_intercept=False, terms=["z1", "z2"])


def test_aliased_fit_from_streamed_moments_equals_the_in_memory_one(rng):
    from linreg_core import MomentsAccumulator

    a, b = rng.normal(size=(2, 50))
    X = np.column_stack([a, b, a - b])
    y = rng.normal(size=50)
    acc = MomentsAccumulator(3)
    acc.add(X[:20], y[:20])
    acc.add(X[20:], y[20:])
    streamed = fit_exact_moments(acc.result(), ["a", "b", "a_minus_b"])
    memory = fit_exact(X, y, terms=["a", "b", "a_minus_b"])
    assert streamed.aliased == memory.aliased == (3,)
    np.testing.assert_allclose(streamed.params[:3], memory.params[:3], rtol=1e-10)


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
    if np.linalg.matrix_rank(A) < A.shape[1]:  # exactly dependent columns (e.g. a constant one): named, or aliased
        with pytest.raises(RankDeficientError):
            fit_exact(X, y, singular_ok=False)
        fit = fit_exact(X, y)
        assert fit.aliased and fit.rank == A.shape[1] - len(fit.aliased)
        ref = np.linalg.lstsq(A, y, rcond=None)[0]  # the fitted values are unique even where the parameters are not
        np.testing.assert_allclose(fit.predict(X), A @ ref, rtol=1e-6, atol=1e-8 * (1 + np.abs(y).max()))
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


# --- polynomial designs: fitted in a centred basis, rank decided there, mapped back to raw powers ---------------


@pytest.fixture(scope="module")
def gapminder():
    px = pytest.importorskip("plotly.express")
    return px.data.gapminder()


def _centred_reference(x: np.ndarray, y: np.ndarray, degree: int, centre: float, half_width: float,
                       fit_intercept: bool = True):
    """An independent fit: numpy lstsq on powers of the centred, scaled feature; (predictions, raw coefficients)."""
    u = (x - centre) / half_width
    V = np.vander(u, degree + 1, increasing=True)
    if not fit_intercept:
        V = x[:, None] * V[:, :degree]
    b = np.linalg.lstsq(V, y, rcond=None)[0]
    if not fit_intercept:
        b = np.concatenate([[0.0], b])  # x·Σ bⱼ uʲ = Σ bⱼ x uʲ: shift by one power
        raw = np.polynomial.Polynomial(b[1:], domain=[centre - half_width, centre + half_width]).convert().coef
        raw = np.concatenate([[0.0], raw])[: degree + 1]
        return V @ b[1:], raw[1:]
    raw = np.polynomial.Polynomial(b, domain=[centre - half_width, centre + half_width]).convert().coef
    return V @ b, raw


@pytest.mark.parametrize("degree", [6, 10])
def test_gapminder_polynomial_is_full_rank_and_matches_a_centred_fit(gapminder, degree):
    """Raw powers of year (1952–2007) are collinear in float64, but 12 distinct years determine
    a degree-10 polynomial: the fit must not be refused as rank deficient."""
    design = build_design(gapminder, "lifeExp", ["year"], degree)
    fit = fit_exact_design(design)
    assert fit.rank == degree + 1
    x = gapminder["year"].to_numpy(dtype=np.float64)
    y = design.y
    pred, raw = _centred_reference(x, y, degree, 1980.0, 20.0)
    np.testing.assert_allclose(fit.predict(design.X), pred, rtol=1e-10)
    np.testing.assert_allclose(fit.params, raw, rtol=1e-7)
    stats = fit_stats(design, fit)
    np.testing.assert_allclose(stats.residuals, y - pred, rtol=0, atol=1e-9)
    r2 = 1 - ((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert stats.r2 == pytest.approx(r2, rel=1e-10)
    assert np.all(np.isfinite(stats.std_err)) and np.all(stats.std_err > 0)


def test_gapminder_degree_10_note_says_ill_conditioned_and_what_to_do(gapminder):
    fit = fit_exact_design(build_design(gapminder, "lifeExp", ["year"], 10))
    assert fit.condition_number > 1e20  # of the column-scaled raw design, not of the basis the fit used
    assert fit.basis is not None and fit.basis.condition_number < 1e3
    (note,) = fit.warnings
    assert note.startswith("Ill-conditioned design")
    assert "column-scaled raw design" in note and f"condition number {fit.condition_number:.2g}" in note
    assert "significant digits" in note
    assert "fitted values, residuals and R² remain accurate" in note
    assert "(year − 1979.5) / 27.5" in note and "lower the degree" in note
    assert "ExactFit.predict" in note  # raw powers of year cancel: summing them in float64 is hopeless


def test_gapminder_with_more_terms_than_distinct_years_names_the_feature(gapminder):
    design = build_design(gapminder, "lifeExp", ["year"], 12)
    assert fit_exact_design(build_design(gapminder, "lifeExp", ["year"], 11)).rank == 12  # interpolates 12 years
    with pytest.raises(RankDeficientError) as exc:
        fit_exact_design(design)
    assert "'year' has only 12 distinct values, so a polynomial of degree at most 11 can be fitted" in str(exc.value)
    _check_rank_error(exc.value, rank=12, n_params=13, allowed={"year^12"})
    assert exc.value.dependent == ["year^12"]


def test_degree_20_on_100_distinct_values_fits():
    x = np.arange(100.0)
    y = np.sin(x / 7.0) + 0.01 * np.cos(x)
    design = build_design(pd.DataFrame({"x": x, "y": y}), "y", ["x"], 20)
    fit = fit_exact_design(design)
    assert fit.rank == 21
    u = (x - 49.5) / 49.5
    ref = np.polynomial.chebyshev.chebvander(u, 20) @ np.polynomial.chebyshev.chebfit(u, y, 20)
    np.testing.assert_allclose(fit.predict(design.X), ref, rtol=0, atol=1e-10)
    assert fit_stats(design, fit).r2 == pytest.approx(1 - ((y - ref) ** 2).sum() / ((y - y.mean()) ** 2).sum(), rel=1e-10)


def test_several_features_each_get_their_own_centring(gapminder):
    design = build_design(gapminder, "lifeExp", ["year", "gdpPercap"], 3)
    fit = fit_exact_design(design)
    assert fit.rank == 7
    assert fit.basis.centres == (1979.5, pytest.approx((241.1658765 + 113523.1329) / 2))
    yr = (gapminder["year"].to_numpy(dtype=np.float64) - 1980) / 20
    g = gapminder["gdpPercap"].to_numpy(dtype=np.float64)
    g = (g - g.mean()) / g.std()
    V = np.column_stack([np.ones_like(yr), yr, yr**2, yr**3, g, g**2, g**3])
    ref = V @ np.linalg.lstsq(V, design.y, rcond=None)[0]
    np.testing.assert_allclose(fit.predict(design.X), ref, rtol=1e-9)


def test_polynomial_without_intercept_keeps_the_model_through_the_origin(gapminder):
    design = build_design(gapminder, "lifeExp", ["year"], 4, fit_intercept=False)
    fit = fit_exact_design(design)
    assert fit.intercept is None and fit.rank == 4
    x = gapminder["year"].to_numpy(dtype=np.float64)
    pred, raw = _centred_reference(x, design.y, 4, 1980.0, 20.0, fit_intercept=False)
    np.testing.assert_allclose(fit.predict(design.X), pred, rtol=1e-10)
    np.testing.assert_allclose(fit.coef, raw, rtol=1e-7)
    assert fit.predict(np.zeros((1, 4)))[0] == 0.0


def test_polynomial_fit_predicts_new_rows_and_single_rows():
    rng = np.random.default_rng(3)
    x = rng.uniform(-2, 2, 60)
    y = 1 - x + 0.5 * x**3 + 0.1 * rng.normal(size=60)
    design = build_design(pd.DataFrame({"x": x, "y": y}), "y", ["x"], 3)
    fit = fit_exact_design(design)
    new = design.transform(np.array([[-5.0], [0.5], [3.0]]))  # outside the fitted range too
    np.testing.assert_allclose(fit.predict(new), new @ fit.coef + fit.intercept, rtol=1e-12)
    assert fit.predict(new[1]) == pytest.approx(float(new[1] @ fit.coef + fit.intercept), rel=1e-12)
    assert fit.warnings == ()  # well-conditioned: no note


def test_well_conditioned_polynomial_design_matches_statsmodels():
    rng = np.random.default_rng(11)
    a, b = rng.uniform(0, 2, 80), rng.normal(size=80)
    df = pd.DataFrame({"a": a, "b": b, "y": 1 + a - 0.5 * a**2 + 0.3 * b**3 + rng.normal(size=80)})
    design = build_design(df, "y", ["a", "b"], 3)
    fit = fit_exact_design(design)
    ref = sm.OLS(design.y, sm.add_constant(design.X)).fit()
    np.testing.assert_allclose(fit.params, ref.params, rtol=1e-10)
    np.testing.assert_allclose(fit.cov_unscaled, ref.normalized_cov_params, rtol=1e-8, atol=1e-14)
    stats = fit_stats(design, fit)
    np.testing.assert_allclose(stats.std_err, ref.bse, rtol=1e-8)
    assert stats.r2 == pytest.approx(ref.rsquared, rel=1e-10)
    assert fit.condition_number == pytest.approx(fit_exact(design.X, design.y).condition_number, rel=1e-8)


def test_filip_through_fit_exact_design_keeps_12_digits(filip_design):
    """Computed in the centred basis, Filip keeps ~14 digits (the raw-power QR of fit_exact ~8)."""
    fit = fit_exact_design(filip_design)
    assert fit.rank == 11
    assert correct_digits(fit.params, FILIP_COEF) >= 12
    stats = fit_stats(filip_design, fit)
    assert correct_digits(stats.std_err, FILIP_SD) >= 12
    assert correct_digits([np.sqrt(stats.sigma2)], [FILIP_RESID_SD]) >= 12
    assert correct_digits([stats.r2], [FILIP_R2]) >= 12
    assert fit.condition_number == pytest.approx(fit_exact(filip_design.X, filip_design.y).condition_number, rel=1e-6)


@pytest.mark.parametrize("coef", [WAMPLER1_COEF, WAMPLER2_COEF], ids=["wampler1", "wampler2"])
def test_wampler_through_fit_exact_design_keeps_9_digits(coef):
    design = _wampler(coef)
    fit = fit_exact_design(design)
    assert correct_digits(fit.params, coef) >= 9
    assert fit_stats(design, fit).r2 == pytest.approx(1.0, abs=1e-12)


def test_too_few_distinct_values_name_the_feature_and_the_highest_degree():
    df = pd.DataFrame({"x": np.tile(np.arange(5.0), 4), "y": np.arange(20.0)})
    with pytest.raises(RankDeficientError) as exc:
        fit_exact_design(build_design(df, "y", ["x"], 7))
    assert "'x' has only 5 distinct values, so a polynomial of degree at most 4 can be fitted" in str(exc.value)
    assert exc.value.dependent == ["x^5", "x^6", "x^7"]
    _check_rank_error(exc.value, rank=5, n_params=8, allowed={"x^5", "x^6", "x^7"})


def test_too_few_distinct_nonzero_values_without_intercept():
    df = pd.DataFrame({"x": np.tile(np.arange(5.0), 4), "y": np.arange(20.0)})  # 0 adds nothing without an intercept
    with pytest.raises(RankDeficientError) as exc:
        fit_exact_design(build_design(df, "y", ["x"], 6, fit_intercept=False))
    assert "'x' has only 4 distinct nonzero values" in str(exc.value)
    assert "degree at most 4" in str(exc.value)
    _check_rank_error(exc.value, rank=4, n_params=6, allowed={"x^5", "x^6"})


def test_duplicate_feature_in_a_polynomial_design_is_named(rng):
    a = rng.normal(size=40)
    df = pd.DataFrame({"a": a, "b": a.copy(), "y": rng.normal(size=40)})
    with pytest.raises(RankDeficientError) as exc:
        fit_exact_design(build_design(df, "y", ["a", "b"], 2))
    _check_rank_error(exc.value, rank=3, n_params=5, allowed={"a", "a^2", "b", "b^2"})
    assert len(exc.value.dependent) == 2


def test_collinear_features_in_a_polynomial_design_are_named(rng):
    a = rng.normal(size=40)
    df = pd.DataFrame({"a": a, "b": 3 * a + 2, "y": rng.normal(size=40)})  # b is a linear function of a
    with pytest.raises(RankDeficientError) as exc:
        fit_exact_design(build_design(df, "y", ["a", "b"], 2))
    _check_rank_error(exc.value, rank=3, n_params=5, allowed={"a", "a^2", "b", "b^2"})


# --- ill-conditioned but full rank: fitted, with a plain-language note ----------------------------------------


def test_nearly_collinear_columns_fit_with_an_ill_conditioning_note(rng):
    n = 200
    a = rng.normal(size=n)
    e = rng.normal(size=n)
    e -= (e @ a) / (a @ a) * a
    b = (1 - 1e-9) * a / np.linalg.norm(a) + np.sqrt(1 - (1 - 1e-9) ** 2) * e / np.linalg.norm(e)
    b *= np.linalg.norm(a)
    assert np.corrcoef(a, b)[0, 1] == pytest.approx(1 - 1e-9, abs=2e-10)
    y = 1.0 + 2.0 * a - b + 0.1 * rng.normal(size=n)
    X = np.column_stack([a, b])
    fit = fit_exact(X, y, terms=["a", "b"])
    assert fit.rank == 3
    assert fit.condition_number >= ILL_CONDITIONED
    (note,) = fit.warnings
    assert note.startswith("Ill-conditioned design")
    assert "column-scaled design" in note and f"condition number {fit.condition_number:.2g}" in note
    assert "significant digits" in note and "drop a near-duplicate column" in note
    assert "Fitted values, residuals and R² remain accurate" in note
    A = np.column_stack([np.ones(n), X])
    ref = np.linalg.lstsq(A, y, rcond=None)[0]
    np.testing.assert_allclose(A @ fit.params, A @ ref, rtol=1e-9)


def test_well_conditioned_fit_has_no_note(rng):
    X = rng.normal(size=(50, 3))
    assert fit_exact(X, X @ [1.0, 2.0, 3.0] + rng.normal(size=50)).warnings == ()
    assert ExactFit(intercept=0.0, coef=np.ones(1), cov_unscaled=np.eye(2), rank=2, condition_number=1.0).warnings == ()


def test_streamed_polynomial_design_keeps_the_raw_power_path(tmp_path):
    from linreg_core import stream_design

    path = tmp_path / "d.csv"
    x = np.linspace(0, 3, 40)
    pd.DataFrame({"x": x, "y": 1 + x - x**2}).to_csv(path, index=False)
    fit = fit_exact_design(stream_design(path, "y", ["x"], 2))
    assert fit.basis is None
    np.testing.assert_allclose(fit.params, [1.0, 1.0, -1.0], rtol=1e-10, atol=1e-10)


@st.composite
def _polynomial_problems(draw):
    degree, n = draw(st.integers(2, 5)), draw(st.integers(8, 40))
    offset = draw(st.floats(-1e4, 1e4))
    spread = 10.0 ** draw(st.integers(-3, 3))
    t = draw(arrays(np.float64, (n,), elements=st.floats(-1, 1)))
    y = draw(arrays(np.float64, (n,), elements=_finite))
    return degree, np.round(offset + spread * t, 6), y


@settings(max_examples=40, deadline=None)
@given(_polynomial_problems())
def test_property_polynomial_residuals_are_orthogonal_to_the_model_space(problem):
    """Whatever the offset and spread of x: the residual of fit_exact_design is orthogonal to every
    polynomial of the degree (checked in an independent, well-conditioned Legendre basis)."""
    degree, x, y = problem
    if np.unique(x).size < 2:
        return
    design = build_design(pd.DataFrame({"x": x, "y": y}), "y", ["x"], degree)
    if np.unique(x).size < degree + 1:
        with pytest.raises(RankDeficientError, match="distinct values"):
            fit_exact_design(design)
        return
    lo, hi = x.min(), x.max()
    V = np.polynomial.legendre.legvander((x - (lo + hi) / 2) / ((hi - lo) / 2), degree)
    cond = np.linalg.cond(V / np.linalg.norm(V, axis=0))
    if cond > 1e8:  # clustered values: rank is a judgement call there
        return
    fit = fit_exact_design(design)
    assert fit.rank == degree + 1
    r = y - fit.predict(design.X)
    # float64 keeps the residual orthogonal to about cond·eps (x = 0 four times and 1e-6 once, in a spread of 10:
    # cond 2.8e7, so 6e-9 — hypothesis found it)
    tol = max(1e-9, 16 * np.finfo(np.float64).eps * cond)
    assert np.all(np.abs(V.T @ r) <= tol * np.linalg.norm(V, axis=0) * np.linalg.norm(y))
