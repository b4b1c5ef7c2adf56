"""Exact least squares: Householder QR with column pivoting on column-scaled data.

Why not the normal equations or ``numpy.linalg.lstsq``: forming XᵀX squares the
condition number, and an unscaled polynomial design (NIST Filip, degree 10)
then loses every digit. Scaling each column to unit norm and factoring with
pivoted Householder QR keeps about 8 significant digits on Filip and ~12 on
Longley, and the pivoting exposes rank deficiency instead of hiding it.

Polynomial designs (:func:`fit_exact_design` with ``degree > 1``) go further: raw powers
x, x², …, x^K of a feature far from zero (years 1952–2007) are collinear in float64 although
the model is fine, so the fit is computed in an equivalent, well-conditioned basis —
Chebyshev polynomials of the centred and scaled feature u = (x − centre) / half_width — where
the rank is decided, and then mapped to the raw-power coefficients by the linear map between
the two bases (about 14 significant digits on Filip).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from math import comb, log10

import numpy as np
import scipy.linalg as sla
from numpy.polynomial import chebyshev

from ._design import Design
from ._moments import Moments, MomentsAccumulator
from ._solver_notes import _aliased_note, _digits, _general_note, _polynomial_note, _rank_error
from .errors import DataError

__all__ = ["ILL_CONDITIONED", "ExactFit", "PolyBasis", "fit_exact", "fit_exact_design", "fit_exact_moments"]

#: Condition number of the column-scaled design from which an :class:`ExactFit` carries a note.
#: (4e4 is Longley's; two columns with correlation 1 − 1e-9 give ~4.5e4; Wampler's degree-5 design 2e3.)
ILL_CONDITIONED = 1e4

_EPS = float(np.finfo(np.float64).eps)
_DIGITS = -log10(_EPS)  # ≈ 15.65, the significant digits of float64


@dataclass(frozen=True)
class PolyBasis:
    """The well-conditioned basis an exact polynomial fit was computed in.

    With an intercept the columns are 1 and, per feature x, T₁(u) … T_K(u); without one
    they are, per feature, x·T₀(u) … x·T_{K−1}(u) — Chebyshev polynomials T_k of
    u = (x − centre) / half_width. Either set spans exactly the model space of the raw
    powers, so the fitted values are the same; evaluating in this basis keeps them
    accurate where summing huge, cancelling raw powers in float64 would not.
    """

    degree: int
    fit_intercept: bool
    centres: tuple[float, ...]  # per feature
    half_widths: tuple[float, ...]  # per feature
    theta: np.ndarray  # (p,) coefficients of the basis columns, in design order
    condition_number: float  # 2-norm condition number of the column-scaled basis design

    def matrix(self, X: np.ndarray) -> np.ndarray:
        """The basis design for raw-power columns ``X`` (n, k): column f·degree of X is feature f itself."""
        return _basis_matrix(np.asarray(X, dtype=np.float64), self.degree, self.fit_intercept,
                             self.centres, self.half_widths)


@dataclass(frozen=True)
class ExactFit:
    """The least-squares solution of y ≈ intercept + X @ coef."""

    intercept: float | None  # None when fitted without an intercept
    coef: np.ndarray  # (k,) slope per term, original units
    cov_unscaled: np.ndarray  # (p, p) (AᵀA)⁻¹ for A = [1, X] (or X), intercept first
    rank: int
    condition_number: float  # 2-norm condition number of the column-scaled design (raw terms, intercept included)
    warnings: tuple[str, ...] = ()  # plain-language notes, e.g. that the design is ill-conditioned
    basis: PolyBasis | None = field(default=None, repr=False)  # set when the fit was computed in a polynomial basis
    # Positions in ``params`` (intercept first) of the aliased terms: linear combinations of the terms before them, so
    # not estimable. As R's lm, their coefficients are NaN (NA) and their rows and columns of cov_unscaled NaN; the
    # other terms are the least-squares fit of the design without them, and ``rank`` counts those.
    aliased: tuple[int, ...] = ()

    @classmethod
    def from_params(cls, params: np.ndarray, fit_intercept: bool, cov: np.ndarray, rank: int, cond: float,
                    notes: tuple[str, ...] = (), basis: PolyBasis | None = None,
                    aliased: tuple[int, ...] = ()) -> ExactFit:
        """The fit from its parameter vector (intercept first when fitted): the inverse of ``params``."""
        if fit_intercept:
            return cls(float(params[0]), params[1:].copy(), cov, rank, cond, notes, basis, aliased)
        return cls(None, params, cov, rank, cond, notes, basis, aliased)

    @property
    def estimable(self) -> np.ndarray:
        """A mask over ``params``: True for each term that is not aliased."""
        mask = np.ones(len(self.coef) + (self.intercept is not None), dtype=bool)
        mask[list(self.aliased)] = False
        return mask

    @property
    def params(self) -> np.ndarray:
        """Intercept (if any) followed by the coefficients."""
        if self.intercept is None:
            return self.coef.copy()
        return np.concatenate([[self.intercept], self.coef])

    def predict(self, X: np.ndarray) -> np.ndarray:
        """intercept + X @ coef, evaluated in the fit's own basis when it has one (accurate even when
        the raw-power polynomial cancels catastrophically in float64)."""
        X = np.asarray(X, dtype=np.float64)
        if self.basis is None:
            # An aliased term takes no part in the fit (R's predict.lm leaves it out): weight 0, not NaN.
            coef = np.nan_to_num(self.coef, nan=0.0) if self.aliased else self.coef
            return X @ coef + (self.intercept or 0.0)
        pred = self.basis.matrix(np.atleast_2d(X)) @ self.basis.theta
        return pred[0] if X.ndim == 1 else pred


def fit_exact(
    X: np.ndarray, y: np.ndarray, fit_intercept: bool = True, terms: list[str] | None = None,
    singular_ok: bool = True,
) -> ExactFit:
    """Solve min ‖y − intercept − X·coef‖² in float64, in the basis of the columns given.

    When the design does not determine a unique solution, the terms that are linear combinations of the terms before
    them are aliased, as in R's ``lm``: their coefficients are NaN, the others are the fit without them, and a note
    in ``warnings`` names them. With ``singular_ok=False`` (R's ``singular.ok``) that raises
    :class:`RankDeficientError` naming the dependent columns instead. For a polynomial design prefer
    :func:`fit_exact_design`, which fits raw powers in a well-conditioned basis.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).ravel()
    if X.ndim != 2 or len(y) != X.shape[0]:
        raise DataError(f"X must be a 2-D array with one row per value of y; got X of shape {X.shape} and "
                        f"{len(y)} values of y.")
    # One pass over the rows, as fit_exact_design: the R factor of [1, X, y] in cache-sized blocks, then the pivoted,
    # column-scaled QR of that small matrix (no copy of X, no Q of n rows; the same digits: see fit_exact_moments).
    acc = MomentsAccumulator(X.shape[1], fit_intercept)
    acc.add(X, y)
    return fit_exact_moments(acc.result(), terms or [f"x{j}" for j in range(X.shape[1])], singular_ok)


def fit_exact_design(design: Design, singular_ok: bool = True) -> ExactFit:
    """The exact fit of a design.

    Rows in memory: :func:`fit_exact`, except that a polynomial design (degree > 1) is fitted
    in Chebyshev polynomials of each centred and scaled feature (see :class:`PolyBasis`), its
    rank decided there, and the result mapped back to the raw-power coefficients, their
    covariance and the condition number of the column-scaled raw design. A streamed design
    (moments only) uses :func:`fit_exact_moments` on the raw powers. A weighted design (``design.weights``) is the
    least-squares fit of its rows scaled by √w (weighted least squares; a polynomial in raw powers). Aliased terms: see :func:`fit_exact`; a
    polynomial whose feature has too few distinct values for its degree is refused, as R's ``poly()`` refuses it.
    """
    if design.X is None:
        poly = design.basis_moments  # (R of [B | y], centres, half-widths): see _sources.py
        if design.degree > 1 and poly is not None:
            basis_R, centres, half_widths = poly
            m = design.moments()
            return fit_polynomial_moments(basis_R, m.R, m.n, design.fit_intercept, list(design.terms),
                                          list(design.features), design.degree, centres, half_widths)
        return fit_exact_moments(design.moments(), design.terms, singular_ok)
    if design.weights is not None:  # weighted least squares: ordinary least squares of the rows scaled by √w
        A = np.column_stack([np.ones(len(design.X)), design.X]) if design.fit_intercept else design.X
        A, y = design.whitened(A, design.y)
        return _solve(A, y, design.fit_intercept, list(design.terms), singular_ok=singular_ok)
    if design.degree > 1:
        return _fit_polynomial(design.X, design.y, design.fit_intercept, list(design.terms),
                               list(design.features), design.degree)
    # One pass over the rows: the R factor of [A | y] built in row blocks (the design's moments, which the statistics
    # reuse), then the pivoted, column-scaled QR of that small matrix — no copy of A, no Q of n rows. Householder QR's
    # backward error is columnwise, so factoring the unscaled rows first keeps the digits of scaling them first.
    return fit_exact_moments(design.moments(), design.terms, singular_ok)


def fit_exact_moments(moments: Moments, terms: list[str], singular_ok: bool = True) -> ExactFit:
    """The same solution from the R factor of [A | y] alone (for data streamed from disk).

    ‖Aθ − y‖² = ‖Rθ − z‖² + ρ², so solving the small system R θ ≈ z with the same pivoted,
    column-scaled QR gives the least-squares solution and (AᵀA)⁻¹ = (RᵀR)⁻¹.
    """
    R = moments.R
    return _solve(R[:-1, :-1], R[:-1, -1], moments.fit_intercept, terms, n_rows=moments.n, singular_ok=singular_ok)


# --------------------------------------------------------------------------- shared QR


def _column_norms(A: np.ndarray) -> np.ndarray:
    """Column 2-norms without overflow or underflow (divide by each column's largest entry first); 0 → 1."""
    p = A.shape[1]
    peak = np.max(np.abs(A), axis=0) if A.shape[0] else np.zeros(p)
    peak[peak == 0] = 1.0
    scale = np.linalg.norm(A / peak, axis=0) * peak
    scale[scale == 0] = 1.0
    return scale


@dataclass(frozen=True)
class _QR:
    scale: np.ndarray  # column norms of A (A / scale = Q R Pᵀ)
    Q: np.ndarray
    R: np.ndarray
    perm: np.ndarray
    rank: int

    def solve(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(beta, L) with beta the least-squares solution and (AᵀA)⁻¹ = L Lᵀ, in A's column order."""
        p = self.R.shape[1]
        z = sla.solve_triangular(self.R, self.Q.T @ y)
        beta = np.empty(p)
        beta[self.perm] = z
        beta /= self.scale
        L = np.empty((p, p))
        L[self.perm] = sla.solve_triangular(self.R, np.eye(p))
        L /= self.scale[:, None]
        return beta, L

    def condition_number(self) -> float:
        sv = np.linalg.svd(self.R, compute_uv=False)
        return float(sv[0] / sv[-1]) if sv[-1] > 0 else float("inf")


def _factor(A: np.ndarray, n: int) -> _QR:
    """Pivoted Householder QR of A with unit-norm columns; numerical rank with tol = max(n, p)·eps·|R₀₀|."""
    p = A.shape[1]
    scale = _column_norms(A)
    Q, R, perm = sla.qr(A / scale, mode="economic", pivoting=True)
    diag = np.abs(np.diag(R))
    tol = max(n, p) * _EPS * (diag[0] if p else 0.0)
    rank = int(np.sum(diag > tol)) if p and diag[0] > 0 else 0
    return _QR(scale, Q, R, perm, rank)


def _solve(A: np.ndarray, y: np.ndarray, fit_intercept: bool, terms: list[str], n_rows: int | None = None,
           singular_ok: bool = False) -> ExactFit:
    n = A.shape[0] if n_rows is None else n_rows
    names = (["intercept"] if fit_intercept else []) + list(terms)
    p = A.shape[1]
    qr = _factor(A, n)
    if qr.rank < p:
        if not singular_ok:
            raise _rank_error(qr.rank, p, [names[j] for j in qr.perm[qr.rank:]])
        return _solve_aliased(A, y, fit_intercept, names, n, qr)
    beta, L = qr.solve(y)
    cond = qr.condition_number()
    notes = (_general_note(cond, names[qr.perm[-1]], fit_intercept),) if cond >= ILL_CONDITIONED else ()
    return ExactFit.from_params(beta, fit_intercept, L @ L.T, qr.rank, cond, notes)


def _aliased_columns(qr: _QR, n: int) -> list[int]:
    """The columns that lie in the span of the columns before them, in A's order — which ones R's ``lm`` reports as
    NA (its QR moves each such column to the end and keeps the order of the rest), not the ones pivoting would."""
    p = qr.R.shape[1]
    M = np.empty_like(qr.R)  # A / scale = Q R Pᵀ: the columns of R Pᵀ span what A's do, in p dimensions not n
    M[:, qr.perm] = qr.R
    tol = max(n, p) * _EPS * float(np.abs(qr.R[0, 0]))
    basis = np.zeros((p, 0))
    aliased = []
    for j in range(p):
        r = M[:, j] - basis @ (basis.T @ M[:, j])
        r -= basis @ (basis.T @ r)  # twice is enough (Kahan–Parlett): r is then orthogonal to the basis to rounding
        size = float(np.linalg.norm(r))
        if size <= max(tol, 1e-7 * float(np.linalg.norm(M[:, j]))):  # R's lm: tol = 1e-7, relative to the column
            aliased.append(j)
        else:
            basis = np.column_stack([basis, r / size])
    return aliased


def _solve_aliased(A: np.ndarray, y: np.ndarray, fit_intercept: bool, names: list[str], n: int, qr: _QR) -> ExactFit:
    """R's fit of a rank-deficient design: the least-squares fit of the columns that are not aliased, NaN for the
    rest, and a note naming them."""
    p = A.shape[1]
    aliased = _aliased_columns(qr, n)
    keep = [j for j in range(p) if j not in set(aliased)]
    if not keep:  # every column is zero: there is nothing to fit
        raise _rank_error(0, p, names)
    qr_kept = _factor(A[:, keep], n)
    if qr_kept.rank < len(keep):  # near-dependence the column test let through: say which, as before
        raise _rank_error(qr.rank, p, [names[j] for j in qr.perm[qr.rank:]])
    b, L = qr_kept.solve(y)
    beta = np.full(p, np.nan)
    beta[keep] = b
    cov = np.full((p, p), np.nan)
    cov[np.ix_(keep, keep)] = L @ L.T
    cond = qr_kept.condition_number()
    kept_names = [names[j] for j in keep]
    notes = [_aliased_note([names[j] for j in aliased], len(keep), p)]
    if cond >= ILL_CONDITIONED:
        notes.append(_general_note(cond, kept_names[qr_kept.perm[-1]], fit_intercept))
    return ExactFit.from_params(beta, fit_intercept, cov, len(keep), cond, tuple(notes), aliased=tuple(aliased))


# --------------------------------------------------------------------------- polynomial designs


def _basis_matrix(X: np.ndarray, degree: int, fit_intercept: bool, centres, half_widths) -> np.ndarray:
    K = degree
    cols = [np.ones((X.shape[0], 1))] if fit_intercept else []
    for f, (m, h) in enumerate(zip(centres, half_widths)):
        x = X[:, f * K]
        V = chebyshev.chebvander((x - m) / h, K)
        cols.append(V[:, 1:] if fit_intercept else x[:, None] * V[:, :K])
    return np.hstack(cols)


def _cheb_to_raw(m: float, h: float, K: int) -> np.ndarray:
    """G with Σₖ θₖ Tₖ((x − m)/h) = Σᵢ (Gθ)ᵢ xⁱ, k, i = 0..K."""
    mono = np.zeros((K + 1, K + 1))  # Tₖ(u) = Σⱼ mono[j, k] uʲ (integers)
    for k in range(K + 1):
        c = chebyshev.cheb2poly([0] * k + [1])
        mono[: len(c), k] = c
    shift = np.zeros((K + 1, K + 1))  # uʲ = Σᵢ shift[i, j] xⁱ
    with np.errstate(over="ignore", invalid="ignore"):
        for j in range(K + 1):
            for i in range(j + 1):
                shift[i, j] = comb(j, i) * (-m / h) ** (j - i) / h**i
    with np.errstate(over="ignore", invalid="ignore"):
        return shift @ mono


def _too_few_values(X: np.ndarray, features: list[str], K: int, fit_intercept: bool,
                    terms: list[str]) -> tuple[list[str], list[str]]:
    """Terms that are exact linear combinations because a feature has too few distinct values, and why."""
    dependent, why = [], []
    for f, name in enumerate(features):
        values = np.unique(X[:, f * K])
        if fit_intercept:
            d = len(values)  # 1, x, …, x^K on d points span d dimensions
            top = d - 1
            if d == 1:
                why.append(f"{name!r} is constant, so none of its powers can be fitted")
            elif top < K:
                why.append(f"{name!r} has only {d} distinct values, so a polynomial of degree at most {top} can be fitted")
        else:
            d = int(np.count_nonzero(values))  # x, …, x^K = x·(1, …, x^{K−1}) span one dimension per nonzero value
            top = d
            if top < K:
                why.append(f"{name!r} has only {d} distinct nonzero values, so without an intercept a polynomial "
                           f"of degree at most {top} can be fitted")
        if top < K:
            dependent += terms[f * K + max(top, 0): (f + 1) * K]
    return dependent, why


def _fit_polynomial(X: np.ndarray, y: np.ndarray, fit_intercept: bool, terms: list[str],
                    features: list[str], K: int) -> ExactFit:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).ravel()
    n, k = X.shape
    if k != K * len(features):
        raise DataError(f"A degree-{K} design in {len(features)} feature(s) needs {K * len(features)} columns; got {k}.")
    names = (["intercept"] if fit_intercept else []) + terms
    p = len(names)

    centres, half_widths = [], []
    for f in range(len(features)):
        x = X[:, f * K]
        lo, hi = float(x.min()), float(x.max())
        h = (hi - lo) / 2
        centres.append(lo + h)
        half_widths.append(h if h > 0 else 1.0)
    B = _basis_matrix(X, K, fit_intercept, centres, half_widths)
    qr = _factor(B, n)
    dependent, why = _too_few_values(X, features, K, fit_intercept, terms)
    if dependent:
        raise _rank_error(min(qr.rank, p - len(dependent)), p, dependent, "; ".join(why))
    if qr.rank < p:
        raise _rank_error(qr.rank, p, [names[j] for j in qr.perm[qr.rank:]])
    basis, T, beta, TL, cov = _solve_in_basis(qr, y, K, fit_intercept, centres, half_widths)
    off = int(fit_intercept)

    # Condition number of the column-scaled raw design A/D: ‖A/D‖₂ · ‖(A/D)⁺‖₂, where (A/D)⁺ = D·T·L·Qᵀ.
    D = _column_norms(X)
    if fit_intercept:
        D = np.concatenate([[np.sqrt(n)], D])
    with np.errstate(over="ignore", invalid="ignore"):
        cond = _scaled_norm(X, D, fit_intercept) * float(np.linalg.norm(D[:, None] * TL, 2))

    def raw_eval_digits() -> int:  # what summing the raw powers on these rows keeps
        with np.errstate(over="ignore", invalid="ignore"):
            size = np.abs(X) @ np.abs(beta[off:]) + (abs(beta[0]) if fit_intercept else 0.0)
            pred = B @ basis.theta
        return _digits(_EPS * float(size.max()) / max(float(np.abs(pred).max()), np.finfo(float).tiny))

    return _polynomial_fit(basis, T, beta, cov, cond, features, terms, raw_eval_digits)


def _solve_in_basis(qr: _QR, rhs: np.ndarray, K: int, fit_intercept: bool, centres,
                    half_widths) -> tuple[PolyBasis, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(basis, T, beta, T·L, cov): the least-squares solution in the Chebyshev basis factored by ``qr`` and what
    :func:`_to_raw_powers` maps it to."""
    theta, L = qr.solve(rhs)
    T, beta, TL, cov = _to_raw_powers(theta, L, fit_intercept, centres, half_widths, K)
    basis = PolyBasis(K, fit_intercept, tuple(centres), tuple(half_widths), theta, qr.condition_number())
    return basis, T, beta, TL, cov


def _polynomial_fit(basis: PolyBasis, T: np.ndarray, beta: np.ndarray, cov: np.ndarray, cond: float,
                    features: list[str], terms: list[str], eval_digits: Callable[[], int] | None = None) -> ExactFit:
    """The fit in raw powers, with a note when the raw design's condition number ``cond`` makes them lose digits
    (``eval_digits``: the digits evaluating them keeps, where known apart from the coefficients')."""
    cond = cond if np.isfinite(cond) else float("inf")
    notes = ()
    if cond >= ILL_CONDITIONED:
        digits = _coef_digits(T, basis.theta, beta, basis.condition_number)
        notes = (_polynomial_note(cond, basis, features, terms, digits, eval_digits() if eval_digits else digits),)
    return ExactFit.from_params(beta, basis.fit_intercept, cov, len(beta), cond, notes, basis)


def _to_raw_powers(theta: np.ndarray, L: np.ndarray, fit_intercept: bool, centres, half_widths,
                   K: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(T, beta, T·L, cov): the linear map T from Chebyshev-basis to raw-power coefficients (intercept first),
    the raw coefficients and their unscaled covariance."""
    p = len(theta)
    T = np.zeros((p, p))
    off = int(fit_intercept)
    if fit_intercept:
        T[0, 0] = 1.0
    for f, (m, h) in enumerate(zip(centres, half_widths)):
        cols = slice(off + f * K, off + (f + 1) * K)
        if fit_intercept:
            G = _cheb_to_raw(m, h, K)  # on 1, T₁ … T_K → x⁰ … x^K; T₀ is the shared intercept
            T[0, cols] = G[0, 1:]
            T[cols, cols] = G[1:, 1:]
        else:
            T[cols, cols] = _cheb_to_raw(m, h, K - 1)  # x·Tⱼ(u) → x^{i+1}
    with np.errstate(over="ignore", invalid="ignore"):
        beta = T @ theta
        TL = T @ L
        cov = TL @ TL.T
    if not (np.isfinite(beta).all() and np.isfinite(cov).all()):
        raise DataError(
            "The raw-power coefficients of this polynomial overflow double precision: a feature's values are "
            "too close together relative to their size. Centre and scale the feature first "
            "(e.g. subtract its mean and divide by its spread) or lower the polynomial degree."
        )
    return T, beta, TL, cov


def _coef_digits(T: np.ndarray, theta: np.ndarray, beta: np.ndarray, cond_basis: float) -> int:
    """Digits the raw-power coefficients keep: what the basis coefficients carry (~κ_basis·eps relative) grows
    through T by the cancellation |T||θ| / |Tθ|."""
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = _EPS * np.sqrt(len(theta)) * max(cond_basis, 1.0) * (np.abs(T) @ np.abs(theta)) / np.abs(beta)
    rel = rel[np.isfinite(rel)]
    return _digits(float(rel.max()) if rel.size else 1.0)


def fit_polynomial_moments(basis_R: np.ndarray, raw_R: np.ndarray, n: int, fit_intercept: bool, terms: list[str],
                           features: list[str], K: int, centres, half_widths) -> ExactFit:
    """A polynomial's exact fit from streamed statistics, with the in-memory fit's digits: ``basis_R`` is the R
    factor of [B | y] with B the Chebyshev basis of each feature (centres and half-widths of the whole data, found
    first), solved there and mapped to raw powers; ``raw_R`` (of [A | y]) gives the raw design's condition number."""
    names = (["intercept"] if fit_intercept else []) + terms
    p = len(names)
    qr = _factor(basis_R[:-1, :-1], n)
    if qr.rank < p:
        raise _rank_error(qr.rank, p, [names[j] for j in qr.perm[qr.rank:]])
    basis, T, beta, TL, cov = _solve_in_basis(qr, basis_R[:-1, -1], K, fit_intercept, centres, half_widths)
    # ‖A e_j‖ = ‖R e_j‖: the column-scaled raw design's condition number from its R factor alone.
    Rr = raw_R[:-1, :-1]
    D = _column_norms(Rr)
    with np.errstate(over="ignore", invalid="ignore"):
        cond = float(np.linalg.norm(Rr / D, 2) * np.linalg.norm(D[:, None] * TL, 2))
    return _polynomial_fit(basis, T, beta, cov, cond, features, terms)


def _scaled_norm(X: np.ndarray, D: np.ndarray, fit_intercept: bool, block: int = 1 << 16) -> float:
    """‖[1, X] / D‖₂ (or ‖X / D‖₂) from the Gram matrix, accumulated in row blocks (no n×p copy)."""
    p = len(D)
    G = np.zeros((p, p))
    for start in range(0, X.shape[0], block):
        Xb = X[start:start + block]
        Ab = np.column_stack([np.ones(len(Xb)), Xb]) if fit_intercept else Xb
        Ab = Ab / D
        G += Ab.T @ Ab
    return float(np.sqrt(max(np.linalg.eigvalsh(G)[-1], 0.0)))
