"""Fit statistics in the style of statsmodels' OLS results."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _dist
from ._design import Design
from ._solver import ExactFit

__all__ = ["FitStats", "fit_stats"]

# float64 rounding after a few dozen operations, relative to the data's scale: below it a number is noise
ROUNDING = 64 * np.finfo(np.float64).eps


@dataclass(frozen=True)
class FitStats:
    """Metrics and a coefficient table for one set of parameters on one design."""

    names: list[str]  # "intercept" (if fitted) then the term names
    params: np.ndarray
    std_err: np.ndarray
    t_values: np.ndarray
    p_values: np.ndarray
    ci_low: np.ndarray  # 95% confidence interval
    ci_high: np.ndarray
    residuals: np.ndarray  # y - prediction
    n: int
    df_resid: int
    mse: float  # mean squared error, as nn.MSELoss computes it (weighted: Σ w·e² / n)
    rmse: float
    mae: float
    r2: float  # centered with an intercept, uncentered without (as statsmodels)
    adj_r2: float
    sigma2: float  # residual variance SSE / df_resid
    # The data's rounding level: an MSE at or below loss_floor, a parameter within param_floor of 0, is float64
    # noise. A perfect fit (every point on the line) has no residual variance: its standard errors are 0 and
    # its t and p values are not defined (NaN), where a naive computation prints t ≈ 1e15, p ≈ 1e-31.
    perfect_fit: bool = False
    loss_floor: float = 0.0
    param_floor: np.ndarray | None = None

    def tidy(self, values: np.ndarray) -> np.ndarray:
        """``values`` (one per parameter) with those below the rounding level set to 0."""
        values = np.asarray(values, dtype=np.float64)
        if self.param_floor is None:
            return values.copy()
        return np.where(np.abs(values) <= self.param_floor, 0.0, values)

    def metrics(self) -> dict[str, float]:
        return {"mse": self.mse, "rmse": self.rmse, "mae": self.mae, "r2": self.r2, "adj_r2": self.adj_r2,
                "sigma2": self.sigma2, "n": self.n, "df_resid": self.df_resid}

    def table(self) -> list[dict[str, float | str]]:
        """One row per parameter: name, coef, std_err, t, p, ci_low, ci_high."""
        return [
            {"name": n, "coef": float(c), "std_err": float(s), "t": float(t), "p": float(p),
             "ci_low": float(lo), "ci_high": float(hi)}
            for n, c, s, t, p, lo, hi in zip(self.names, self.params, self.std_err, self.t_values,
                                             self.p_values, self.ci_low, self.ci_high)
        ]


def _nan_float(x: float) -> float:
    return float(x) if np.isfinite(x) else float("nan")


def _floors(design: Design, params: np.ndarray) -> tuple[float, np.ndarray]:
    """(loss floor, parameter floors): the size of float64 rounding in this data's units."""
    m = design.moments()
    y_scale = abs(m.y_mean) + float(np.sqrt(m.y_ss / max(m.n, 1)))
    x_scale = np.abs(m.x_mean) + m.x_std
    coef = params[1:] if design.fit_intercept else params
    with np.errstate(divide="ignore", invalid="ignore"):
        coef_floor = np.where(x_scale > 0, ROUNDING * y_scale / x_scale, 0.0)
    floors = coef_floor
    if design.fit_intercept:
        icpt = ROUNDING * (y_scale + float(np.nansum(np.abs(coef) * x_scale)))
        floors = np.concatenate([[icpt], coef_floor])
    return (ROUNDING * y_scale) ** 2, floors


def has_constant(design: Design) -> bool:
    """Whether the model contains a constant: an intercept, or (as statsmodels counts it) columns whose span holds
    the constant, such as every level of a category in a formula without intercept (``y ~ x + C(day) - 1``)."""
    if design.fit_intercept:
        return True
    if design.X is None or design.formula is None:
        return False
    c = design._cache.get("implicit_constant")
    if c is None:
        ones = np.ones(design.n_samples)
        b = np.linalg.lstsq(design.X, ones, rcond=None)[0]
        c = design._cache["implicit_constant"] = bool(np.linalg.norm(design.X @ b - ones) <= 1e-8 * np.sqrt(len(ones)))
    return c


def fit_stats(design: Design, exact: ExactFit, intercept: float | None = None,
              coef: np.ndarray | None = None) -> FitStats:
    """Statistics of parameters (default: the exact solution) on ``design``.

    Standard errors use (AᵀA)⁻¹ from ``exact``; they describe the least-squares
    estimator, so they are meaningful for gradient-descent parameters only
    once those have converged to it.
    """
    own = coef is None or (coef is exact.coef and intercept == exact.intercept)  # the exact solution itself
    if coef is None:
        intercept, coef = exact.intercept, exact.coef
    coef = np.asarray(coef, dtype=np.float64)
    n, p = design.n_samples, design.n_params
    df = n - exact.rank  # aliased terms are not parameters of the fit (R's lm)
    params = np.concatenate([[intercept], coef]) if design.fit_intercept else coef.copy()
    if design.X is not None:
        y = design.y
        if own and (exact.basis is not None or exact.aliased):  # a polynomial fitted in a centred basis, or aliased
            resid = y - exact.predict(design.X)                  # terms: the fit's own prediction
        else:
            resid = y - (design.X @ coef + (intercept if design.fit_intercept else 0.0))
        w = design.weights
        if w is None:
            ssr = float(resid @ resid)
            tss = float(((y - y.mean()) ** 2).sum()) if has_constant(design) else float(y @ y)
        else:  # weighted least squares: sums of squares weighted, about the weighted mean (statsmodels' WLS)
            ssr = float(w @ resid**2)
            tss = float(w @ (y - np.average(y, weights=w)) ** 2) if has_constant(design) else float(w @ y**2)
        mae = float(np.abs(resid).mean())
    else:  # streamed from disk: everything but the MAE follows from the moments
        m = design.moments()
        # ‖Aθ − y‖² = ‖Rθ − z‖² + ρ² for the R factor of [A | y]; an aliased term's NaN takes no part in the fit
        r = m.R[:-1, :-1] @ np.nan_to_num(params) - m.R[:-1, -1]
        ssr = float(m.R[-1, -1] ** 2) + float(r @ r)
        tss = m.y_ss if design.fit_intercept else m.y_ss + n * m.y_mean**2
        resid, mae = np.empty(0), float("nan")
    r2 = 1.0 - ssr / tss if tss > 0 else float("nan")
    k_const = int(has_constant(design))
    adj = 1.0 - (n - k_const) / df * (1.0 - r2) if df > 0 else float("nan")
    loss_floor, param_floor = _floors(design, params)
    perfect = ssr / n <= loss_floor
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma2 = ssr / df if df > 0 else float("nan")
        if perfect and df > 0:
            sigma2 = 0.0  # the residuals are rounding noise: there is no residual variance to scale by
        se = np.sqrt(np.clip(np.diag(exact.cov_unscaled), 0, None) * sigma2)
        t = params / se if not perfect else np.full(p, np.nan)
        pv = 2.0 * _dist.t_sf(np.abs(t), df) if df > 0 else np.full(p, np.nan)
        q = _dist.t_ppf(0.975, df) if df > 0 else float("nan")
    return FitStats(
        names=(["intercept"] if design.fit_intercept else []) + list(design.terms),
        params=params, std_err=se, t_values=t, p_values=np.asarray(pv, dtype=np.float64),
        ci_low=params - q * se, ci_high=params + q * se, residuals=resid, n=n, df_resid=df,
        mse=ssr / n, rmse=float(np.sqrt(ssr / n)), mae=mae, r2=_nan_float(r2),
        adj_r2=_nan_float(adj), sigma2=_nan_float(sigma2), perfect_fit=bool(perfect), loss_floor=loss_floor,
        param_floor=param_floor,
    )
