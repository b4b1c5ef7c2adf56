"""The full regression summary, as statsmodels' ``OLS(...).fit(cov_type=...).summary()`` reports it: the F test,
log-likelihood, AIC, BIC, the residuals' normality tests (omnibus, Jarque–Bera) and shape (skew, kurtosis),
Durbin–Watson, both condition numbers, and robust (HC0–HC3) standard errors."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import _dist
from ._design import Design
from ._solver import ExactFit
from ._stats import _floors, has_constant
from .errors import ParameterError

__all__ = ["COV_TYPES", "FitSummary", "Influence", "fit_influence", "fit_summary", "variance_inflation"]

COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster", "HAC")


@dataclass(frozen=True)
class FitSummary:
    """The least-squares fit's summary. ``std_err``, ``stat`` (t, or z under a robust covariance, as statsmodels),
    ``p_values`` and the 95% interval follow ``cov_type``; F follows it too (a Wald test under HC*)."""

    cov_type: str
    names: list[str]
    params: np.ndarray
    cov: np.ndarray
    std_err: np.ndarray
    stat: np.ndarray
    p_values: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    use_t: bool
    df_model: int
    df_resid: int
    f_statistic: float
    f_pvalue: float
    llf: float
    aic: float
    bic: float
    omnibus: float
    omnibus_pvalue: float
    jarque_bera: float
    jb_pvalue: float
    skew: float
    kurtosis: float
    durbin_watson: float
    condition_number: float  # of the raw design matrix [1, X], as statsmodels reports it
    scaled_condition_number: float  # of the column-scaled design, which the solver works with
    residual_std_error: float  # √(SSR / df_resid), R's headline figure
    f_df_denom: int | None = None  # the F test's denominator df: df_resid, or clusters − 1 with cluster-robust errors
    alpha: float = 0.05  # the intervals' level is 1 − alpha

    def as_dict(self) -> dict[str, float | str]:
        """The summary's scalars, under the keys of the command line's JSON."""
        keys = ("f_statistic", "f_pvalue", "llf", "aic", "bic", "omnibus", "omnibus_pvalue", "jarque_bera",
                "jb_pvalue", "skew", "kurtosis", "durbin_watson", "condition_number", "scaled_condition_number",
                "residual_std_error", "cov_type", "df_model", "df_resid", "f_df_denom", "alpha")
        return {k: getattr(self, k) for k in keys}


def _nan(x: float) -> float:
    return float(x) if np.isfinite(x) else float("nan")


def fit_summary(design: Design, exact: ExactFit, cov_type: str = "nonrobust", *, groups: np.ndarray | None = None,
                maxlags: int | None = None, alpha: float = 0.05) -> FitSummary:
    """The summary of the exact least-squares fit of ``design`` (rows in memory), with ``cov_type`` standard errors:
    classical, HC0–HC3, ``"cluster"`` (one-way cluster-robust by ``groups``, one label per row, with statsmodels'
    default small-sample correction) or ``"HAC"`` (Newey–West with Bartlett weights up to ``maxlags``, rows in time
    order), each as statsmodels' ``OLS``/``WLS(...).fit(cov_type=...)`` computes it. A weighted design
    (``design.weights``) is summarised as statsmodels' WLS: everything on the rows scaled by √w. The intervals have
    level 1 − ``alpha``."""
    if not (isinstance(alpha, (float, int)) and not isinstance(alpha, bool) and 0 < alpha < 1):
        raise ParameterError(f"The 'alpha' parameter must be a float in (0, 1). Got {alpha!r} instead.")
    if cov_type not in COV_TYPES:
        raise ParameterError(f"The 'cov_type' parameter must be one of {', '.join(map(repr, COV_TYPES))}. "
                             f"Got {cov_type!r} instead.")
    if cov_type == "cluster" and groups is None:
        raise ParameterError("Cluster-robust standard errors need each row's cluster: pass groups (the command "
                             "line's --groups COL).")
    if cov_type == "HAC" and not (isinstance(maxlags, (int, np.integer)) and not isinstance(maxlags, bool)
                                  and maxlags >= 0):
        raise ParameterError(f"The 'maxlags' parameter must be an int >= 0 for HAC standard errors. Got {maxlags!r} "
                             "instead.")
    if design.X is None:
        raise ParameterError("The full summary needs the rows in memory (residual tests, leverage); this design was "
                             "streamed from disk. Load the file without --out-of-core.")
    n, k_const = design.n_samples, int(has_constant(design))
    # Aliased terms (R's NA) are not parameters of the fit: everything below is the fit of the design without them,
    # as statsmodels computes it on the reduced design; their rows are NaN.
    keep = exact.estimable
    p = int(keep.sum())
    params = exact.params[keep]
    resid = design.y - exact.predict(design.X)
    # [1, X] of n rows is copied only where a row's own term enters (robust covariances, weights): the classical
    # summary needs nothing of A beyond the R factor of the design's moments.
    A = None
    if cov_type != "nonrobust" or design.weights is not None:
        A = (np.column_stack([np.ones(n), design.X]) if design.fit_intercept else design.X)[:, keep]
        A, resid = design.whitened(A, resid)  # WLS is OLS of the rows scaled by √w (statsmodels' wexog, wresid)
    log_w = 0.0 if design.weights is None else float(np.log(design.weights).sum())
    ssr = float(resid @ resid)
    df_resid, df_model = n - p, p - k_const
    df_test = df_resid  # the F test's denominator degrees of freedom (clusters − 1 for cluster-robust errors)
    bread = exact.cov_unscaled[np.ix_(keep, keep)]  # (AᵀA)⁻¹, from the solver's QR
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma2 = ssr / df_resid if df_resid > 0 else float("nan")
        if cov_type == "nonrobust":
            cov = bread * sigma2
        elif cov_type == "cluster":
            codes = np.unique(np.asarray(groups), return_inverse=True)[1].ravel()
            if len(codes) != n:
                raise ParameterError(f"groups has {len(codes):,} labels for {n:,} rows; give one per row.")
            G = int(codes.max()) + 1
            if G < 2:
                raise ParameterError("Cluster-robust standard errors need at least 2 clusters; the groups column has "
                                     "one value. Choose a column that splits the rows into clusters.")
            scores = np.zeros((G, p))
            np.add.at(scores, codes, A * resid[:, None])  # each cluster's Σ aᵢeᵢ
            # statsmodels' default correction: G/(G−1) · (n−1)/(n−k)
            cov = bread @ (scores.T @ scores) @ bread * (G / (G - 1)) * ((n - 1) / df_resid)
            df_test = G - 1
        elif cov_type == "HAC":
            u = A * resid[:, None]
            meat = u.T @ u
            for lag in range(1, min(int(maxlags), n - 1) + 1):  # Newey–West: Bartlett weights 1 − l/(L+1)
                g = u[lag:].T @ u[:-lag]
                meat += (1 - lag / (maxlags + 1)) * (g + g.T)
            cov = bread @ meat @ bread
        else:
            h = np.einsum("ij,jk,ik->i", A, bread, A)  # leverage of each row
            e2 = resid**2
            omega = {"HC0": e2, "HC1": e2 * n / df_resid if df_resid > 0 else e2 * np.nan,
                     "HC2": e2 / (1 - h), "HC3": e2 / (1 - h) ** 2}[cov_type]
            meat = (A * omega[:, None]).T @ A
            cov = bread @ meat @ bread
        se = np.sqrt(np.clip(np.diag(cov), 0, None))
        stat = params / se
        use_t = cov_type == "nonrobust"  # statsmodels: t with the classical covariance, z with a robust one
        if use_t:
            pv = 2 * _dist.t_sf(np.abs(stat), df_resid) if df_resid > 0 else np.full(p, np.nan)
            q = _dist.t_ppf(1 - alpha / 2, df_resid) if df_resid > 0 else float("nan")
        else:
            pv, q = 2 * _dist.norm_sf(np.abs(stat)), _dist.norm_ppf(1 - alpha / 2)
        # F: all slopes zero (a Wald test with the chosen covariance; the classical ratio of mean squares when nonrobust)
        slopes = slice(int(design.fit_intercept), p)
        if ssr / n <= _floors(design, exact.params)[0]:  # every point on the fit: the residuals are rounding noise, and an F
            f, f_p = float("nan"), float("nan")    # of them would be too (~1e28 in statsmodels): no test to make
        elif k_const and not design.fit_intercept:  # a constant implied by the columns: F of the centred sums of squares
            tss = float(((design.y - design.y.mean()) ** 2).sum())
            f = ((tss - ssr) / df_model) / sigma2 if df_model > 0 and df_resid > 0 and cov_type == "nonrobust" else np.nan
            f_p = float(_dist.f_sf(f, df_model, df_resid)) if np.isfinite(f) else np.nan
        elif df_model > 0 and df_resid > 0:
            b, V = params[slopes], cov[slopes, slopes]
            try:
                f = float(b @ np.linalg.solve(V, b)) / df_model
            except np.linalg.LinAlgError:  # no residual variance at all (every point on the fit): no test to make
                f = float("nan")  # (reported as nan, like the log-likelihood of such a fit)
            f_p = float(_dist.f_sf(f, df_model, df_test)) if not np.isnan(f) else float("nan")
        else:
            f, f_p = float("nan"), float("nan")
    llf = -n / 2.0 * (math.log(2 * math.pi) + math.log(ssr / n) + 1.0) + log_w / 2 if ssr > 0 else float("inf")
    skew = float(_dist.skew(resid)) if n > 2 else float("nan")
    kurt = float(_dist.kurtosis(resid)) if n > 3 else float("nan")
    jb = n / 6.0 * (skew**2 + (kurt - 3.0) ** 2 / 4.0)
    if n >= 8:  # the omnibus test's skewness part needs eight residuals
        omni, omni_p = (float(v) for v in _dist.normaltest(resid))
    else:
        omni = omni_p = float("nan")
    # √ of AᵀA's eigenvalues, without squaring A's condition first: A's singular values are its R factor's (WLS: of the
    # scaled rows, as statsmodels)
    sv = np.linalg.svd(A if A is not None else design.moments().R[:-1, :-1][:, keep], compute_uv=False)
    full = len(keep)

    def every(v: np.ndarray) -> np.ndarray:  # one value per term of the design, NaN where aliased
        out = np.full(full, np.nan)
        out[keep] = v
        return out

    cov_all = np.full((full, full), np.nan)
    cov_all[np.ix_(keep, keep)] = cov
    return FitSummary(
        cov_type=cov_type, names=(["intercept"] if design.fit_intercept else []) + list(design.terms),
        params=exact.params, cov=cov_all, std_err=every(se), stat=every(stat),
        p_values=every(np.asarray(pv, dtype=np.float64)), ci_low=every(params - q * se),
        ci_high=every(params + q * se), use_t=use_t, df_model=df_model, df_resid=df_resid,
        f_statistic=_nan(f), f_pvalue=_nan(f_p), llf=_nan(llf), aic=_nan(-2 * llf + 2 * p),
        bic=_nan(-2 * llf + math.log(n) * p), omnibus=_nan(omni), omnibus_pvalue=_nan(omni_p), jarque_bera=_nan(jb),
        jb_pvalue=_nan(_dist.chi2_sf(jb, 2)), skew=_nan(skew), kurtosis=_nan(kurt),
        durbin_watson=_nan(float(np.sum(np.diff(resid) ** 2)) / ssr) if ssr > 0 else float("nan"),
        condition_number=_nan(float(sv[0] / sv[-1])) if sv[-1] > 0 else float("inf"),
        scaled_condition_number=float(exact.condition_number), residual_std_error=_nan(math.sqrt(sigma2)),
        f_df_denom=df_test, alpha=alpha,
    )


@dataclass(frozen=True)
class Influence:
    """Per-row diagnostics of the least-squares fit, as R's ``plot.lm`` draws them (and statsmodels' OLSInfluence)."""

    fitted: np.ndarray
    resid: np.ndarray
    leverage: np.ndarray  # diagonal of the hat matrix
    std_resid: np.ndarray  # internally studentized residuals e / (σ √(1 − h))
    cooks_distance: np.ndarray
    n_params: int
    student_resid: np.ndarray | None = None  # externally studentized: σ from the fit without the row
    dffits: np.ndarray | None = None  # how far the row moves its own fitted value, in its standard errors

    def as_dict(self) -> dict[str, np.ndarray]:
        """Per-row measures under statsmodels' ``summary_frame()`` names."""
        return {"hat_diag": self.leverage, "standard_resid": self.std_resid, "student_resid": self.student_resid,
                "cooks_d": self.cooks_distance, "dffits": self.dffits}


def fit_influence(design: Design, exact: ExactFit) -> Influence:
    """Leverage, studentized residuals (internal and external), Cook's distance and DFFITS of every row (rows in
    memory), as statsmodels' OLSInfluence; a weighted fit as R's lm.influence (the rows scaled by √w)."""
    if design.X is None:
        raise ParameterError("Diagnostics need the rows in memory; this design was streamed from disk.")
    keep = exact.estimable  # aliased terms take no part (R's lm.influence)
    n, p = design.n_samples, int(keep.sum())
    A = (np.column_stack([np.ones(n), design.X]) if design.fit_intercept else design.X)[:, keep]
    fitted = exact.predict(design.X)
    resid = design.y - fitted
    A, resid = design.whitened(A, resid)  # WLS: leverage and residuals of the scaled rows (R's lm.influence)
    h = np.einsum("ij,jk,ik->i", A, exact.cov_unscaled[np.ix_(keep, keep)], A)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = math.sqrt(float(resid @ resid) / (n - p)) if n > p else float("nan")
        r = resid / (sigma * np.sqrt(1.0 - h))
        cooks = r**2 * h / (p * (1.0 - h))
        # σ without row i, from the full fit alone: (SSR − eᵢ² / (1 − hᵢ)) / (n − p − 1)
        sigma_i = np.sqrt((float(resid @ resid) - resid**2 / (1.0 - h)) / (n - p - 1)) if n > p + 1 else np.nan * h
        external = resid / (sigma_i * np.sqrt(1.0 - h))
        dffits = external * np.sqrt(h / (1.0 - h))
    return Influence(fitted, resid, h, r, cooks, p, external, dffits)


def variance_inflation(design: Design, exact: ExactFit) -> dict[str, float]:
    """Each term's variance inflation factor, 1 / (1 − R²) of the term regressed on the other terms and a constant,
    as statsmodels' ``variance_inflation_factor`` (which centres the columns first) and R's ``car::vif``: how much
    collinearity inflates its variance. The diagonal of the inverse correlation matrix, from the QR of the centred,
    scaled columns. NaN for an aliased term; weights do not enter (it is a property of the columns)."""
    if design.X is None:
        raise ParameterError("Variance inflation factors need the rows in memory; this design was streamed from disk.")
    off = int(design.fit_intercept)
    keep = exact.estimable[off:]
    out = dict.fromkeys(design.terms, float("nan"))
    if keep.sum() == 0:
        return out
    if design.fit_intercept:  # [1, X] = Q R: R's block past the constant is the R factor of the centred columns
        Xc = design.moments().R[1:-1, 1:-1][:, keep]
    else:
        Xc = design.X[:, keep] - design.X[:, keep].mean(axis=0)
    norms = np.linalg.norm(Xc, axis=0)
    norms[norms == 0] = 1.0
    R = np.linalg.qr(Xc / norms, mode="r")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        try:
            Rinv = np.linalg.solve(R, np.eye(len(R)))
            vif = (Rinv**2).sum(axis=1)  # diag((RᵀR)⁻¹) = diag(R⁻¹R⁻ᵀ)
        except np.linalg.LinAlgError:  # a column constant once centred (a no-intercept design's constant column)
            vif = np.full(len(R), np.inf)
    for name, v in zip([t for t, k in zip(design.terms, keep) if k], vif):
        out[name] = float(v)
    return out
