"""The few distributions and moment tests the statistics need, from scipy.special's functions: importing
scipy.stats costs about half a second, more than a small fit's whole computation (``fit --method exact`` on 21
rows). Each matches scipy.stats to rounding (tests/test_dist.py)."""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["chi2_sf", "f_sf", "kurtosis", "norm_ppf", "norm_sf", "normaltest", "skew", "t_ppf", "t_sf"]


def t_sf(x, df):
    """Student's t survival function, P(T > x) (scipy.stats.t.sf)."""
    return special.stdtr(df, -np.asarray(x, dtype=float))


def t_ppf(q, df):
    """Student's t quantile (scipy.stats.t.ppf)."""
    return special.stdtrit(df, q)


def f_sf(x, dfn, dfd):
    """F survival function, P(F > x) (scipy.stats.f.sf); NaN for NaN."""
    return special.fdtrc(dfn, dfd, x)


def norm_sf(x):
    return special.ndtr(-np.asarray(x, dtype=float))


def norm_ppf(q):
    return special.ndtri(q)


def chi2_sf(x, k):
    return special.chdtrc(k, x)


def _moments(a: np.ndarray) -> tuple[float, float, float]:
    d = a - a.mean()
    d2 = d * d  # products, not d**3 and d**4: float powers are ~10× slower on two million residuals
    return float(np.mean(d2)), float(np.mean(d2 * d)), float(np.mean(d2 * d2))


def skew(a: np.ndarray) -> float:
    """The biased sample skewness m₃ / m₂^1.5 (scipy.stats.skew); NaN when every value is the same."""
    m2, m3, _ = _moments(np.asarray(a, dtype=float))
    return m3 / m2**1.5 if m2 > 0 else float("nan")


def kurtosis(a: np.ndarray) -> float:
    """Pearson's biased kurtosis m₄ / m₂² (scipy.stats.kurtosis(fisher=False)); NaN when every value is the same."""
    m2, _, m4 = _moments(np.asarray(a, dtype=float))
    return m4 / m2**2 if m2 > 0 else float("nan")


def _skew_z(b: float, n: int) -> float:
    # D'Agostino's transformation of the skewness to a normal deviate (scipy.stats.skewtest)
    y = b * np.sqrt(((n + 1) * (n + 3)) / (6.0 * (n - 2)))
    beta2 = 3.0 * (n**2 + 27 * n - 70) * (n + 1) * (n + 3) / ((n - 2.0) * (n + 5) * (n + 7) * (n + 9))
    w2 = -1 + np.sqrt(2 * (beta2 - 1))
    delta = 1 / np.sqrt(0.5 * np.log(w2))
    alpha = np.sqrt(2.0 / (w2 - 1))
    y = 1.0 if y == 0 else y
    return float(delta * np.log(y / alpha + np.sqrt((y / alpha) ** 2 + 1)))


def _kurtosis_z(b2: float, n: int) -> float:
    # Anscombe and Glynn's transformation of the kurtosis to a normal deviate (scipy.stats.kurtosistest)
    e = 3.0 * (n - 1) / (n + 1)
    var_b2 = 24.0 * n * (n - 2) * (n - 3) / ((n + 1) * (n + 1.0) * (n + 3) * (n + 5))
    x = (b2 - e) / np.sqrt(var_b2)
    sqrt_beta1 = 6.0 * (n * n - 5 * n + 2) / ((n + 7) * (n + 9)) * np.sqrt((6.0 * (n + 3) * (n + 5))
                                                                           / (n * (n - 2) * (n - 3)))
    a = 6.0 + 8.0 / sqrt_beta1 * (2.0 / sqrt_beta1 + np.sqrt(1 + 4.0 / sqrt_beta1**2))
    term1 = 1 - 2 / (9.0 * a)
    denom = 1 + x * np.sqrt(2 / (a - 4.0))
    if denom == 0:
        return float("nan")
    term2 = np.sign(denom) * np.power((1 - 2.0 / a) / abs(denom), 1 / 3.0)
    return float((term1 - term2) / np.sqrt(2 / (9.0 * a)))


def normaltest(a: np.ndarray) -> tuple[float, float]:
    """D'Agostino and Pearson's omnibus test of normality (scipy.stats.normaltest; eight values at least):
    (statistic, p)."""
    a = np.asarray(a, dtype=float)
    n = len(a)
    k2 = _skew_z(skew(a), n) ** 2 + _kurtosis_z(kurtosis(a), n) ** 2
    return k2, float(np.exp(-k2 / 2))  # χ² with 2 degrees of freedom
