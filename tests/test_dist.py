"""linreg_core._dist against scipy.stats, whose import the exact path avoids: the same numbers to rounding."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from linreg_core import _dist

X = np.array([-40.0, -3.2, -1.0, -1e-9, 0.0, 0.5, 1.96, 7.5, 300.0, np.inf, -np.inf, np.nan])


@pytest.mark.parametrize("df", [1, 2.5, 7, 30, 1e6])
def test_t_and_f_and_chi2_equal_scipy(df):
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(_dist.t_sf(X, df), stats.t.sf(X, df), rtol=1e-12, equal_nan=True)
        q = np.array([1e-12, 0.025, 0.5, 0.95, 0.999999])
        np.testing.assert_allclose(_dist.t_ppf(q, df), stats.t.ppf(q, df), rtol=1e-10)
        pos = np.abs(X)
        np.testing.assert_allclose(_dist.f_sf(pos, 3, df), stats.f.sf(pos, 3, df), rtol=1e-12, equal_nan=True)
        np.testing.assert_allclose(_dist.chi2_sf(pos, df), stats.chi2.sf(pos, df), rtol=1e-12, equal_nan=True)


def test_the_normal_distribution_equals_scipy():
    np.testing.assert_allclose(_dist.norm_sf(X), stats.norm.sf(X), rtol=1e-14, equal_nan=True)
    q = np.array([1e-300, 0.025, 0.5, 0.975, 1 - 1e-16])
    np.testing.assert_allclose(_dist.norm_ppf(q), stats.norm.ppf(q), rtol=1e-14)


@settings(max_examples=80, deadline=None)
@given(arrays(np.float64, st.integers(8, 200), elements=st.floats(-1e6, 1e6)))
def test_moments_and_the_omnibus_test_equal_scipy(a):
    if np.ptp(a) <= 1e-6 * max(1.0, np.abs(a).max()):  # (nearly) constant: both say NaN or rounding noise
        return
    assert _dist.skew(a) == pytest.approx(stats.skew(a), rel=1e-9, abs=1e-9)
    assert _dist.kurtosis(a) == pytest.approx(stats.kurtosis(a, fisher=False), rel=1e-9)
    ours, theirs = _dist.normaltest(a), stats.normaltest(a)
    assert ours[0] == pytest.approx(theirs[0], rel=1e-8, abs=1e-9)
    assert ours[1] == pytest.approx(theirs[1], rel=1e-8, abs=1e-300)


def test_a_constant_sample_has_no_skew_or_kurtosis():
    assert np.isnan(_dist.skew(np.ones(10))) and np.isnan(_dist.kurtosis(np.ones(10)))
