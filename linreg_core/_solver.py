"""Exact least squares: Householder QR with column pivoting on column-scaled data.

Why not the normal equations or ``numpy.linalg.lstsq``: forming XᵀX squares the
condition number, and an unscaled polynomial design (NIST Filip, degree 10)
then loses every digit. Scaling each column to unit norm and factoring with
pivoted Householder QR keeps about 8 significant digits on Filip and ~12 on
Longley, and the pivoting exposes rank deficiency instead of hiding it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

from ._data import Design
from ._moments import Moments
from .errors import RankDeficientError

__all__ = ["ExactFit", "fit_exact", "fit_exact_design", "fit_exact_moments"]


@dataclass(frozen=True)
class ExactFit:
    """The least-squares solution of y ≈ intercept + X @ coef."""

    intercept: float | None  # None when fitted without an intercept
    coef: np.ndarray  # (k,) slope per term, original units
    cov_unscaled: np.ndarray  # (p, p) (AᵀA)⁻¹ for A = [1, X] (or X), intercept first
    rank: int
    condition_number: float  # 2-norm condition number of the column-scaled design

    @property
    def params(self) -> np.ndarray:
        """Intercept (if any) followed by the coefficients."""
        if self.intercept is None:
            return self.coef.copy()
        return np.concatenate([[self.intercept], self.coef])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=np.float64) @ self.coef + (self.intercept or 0.0)


def fit_exact(
    X: np.ndarray, y: np.ndarray, fit_intercept: bool = True, terms: list[str] | None = None
) -> ExactFit:
    """Solve min ‖y − intercept − X·coef‖² in float64.

    Raises :class:`RankDeficientError` naming the dependent columns when the
    design does not determine a unique solution.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).ravel()
    n, k = X.shape
    A = np.column_stack([np.ones(n), X]) if fit_intercept else X
    return _solve(A, y, fit_intercept, terms or [f"x{j}" for j in range(k)])


def fit_exact_design(design: Design) -> ExactFit:
    """:func:`fit_exact` on the rows in memory, or :func:`fit_exact_moments` for a streamed design."""
    if design.X is not None:
        return fit_exact(design.X, design.y, design.fit_intercept, design.terms)
    return fit_exact_moments(design.moments(), design.terms)


def fit_exact_moments(moments: Moments, terms: list[str]) -> ExactFit:
    """The same solution from the R factor of [A | y] alone (for data streamed from disk).

    ‖Aθ − y‖² = ‖Rθ − z‖² + ρ², so solving the small system R θ ≈ z with the same pivoted,
    column-scaled QR gives the least-squares solution and (AᵀA)⁻¹ = (RᵀR)⁻¹.
    """
    R = moments.R
    return _solve(R[:-1, :-1], R[:-1, -1], moments.fit_intercept, terms, n_rows=moments.n)


def _solve(A: np.ndarray, y: np.ndarray, fit_intercept: bool, terms: list[str], n_rows: int | None = None) -> ExactFit:
    n = A.shape[0] if n_rows is None else n_rows
    names = (["intercept"] if fit_intercept else []) + list(terms)
    p = A.shape[1]

    # Column norms without overflow or underflow: divide by each column's largest entry first.
    peak = np.max(np.abs(A), axis=0) if n else np.zeros(p)
    peak[peak == 0] = 1.0
    scale = np.linalg.norm(A / peak, axis=0) * peak
    zero = scale == 0
    scale[zero] = 1.0
    As = A / scale
    Q, R, perm = sla.qr(As, mode="economic", pivoting=True)
    diag = np.abs(np.diag(R))
    tol = max(n, p) * np.finfo(np.float64).eps * (diag[0] if p else 0.0)
    rank = int(np.sum(diag > tol)) if not zero.all() else 0
    if rank < p:
        dependent = [names[j] for j in perm[rank:]]
        what = ", ".join(repr(d) for d in dependent)
        raise RankDeficientError(
            f"The design is rank deficient (rank {rank} < {p} parameters): {what} "
            f"{'is a linear combination' if len(dependent) == 1 else 'are linear combinations'} "
            "of the other columns (a duplicate, collinear or constant column). "
            "Remove the dependent column(s) or lower the polynomial degree.",
            rank=rank, n_params=p, dependent=dependent,
        )

    z = sla.solve_triangular(R, Q.T @ y)
    beta = np.empty(p)
    beta[perm] = z
    beta /= scale

    Rinv = sla.solve_triangular(R, np.eye(p))
    cz = Rinv @ Rinv.T
    cov = np.empty((p, p))
    cov[np.ix_(perm, perm)] = cz
    cov /= np.outer(scale, scale)

    sv = np.linalg.svd(R, compute_uv=False)
    cond = float(sv[0] / sv[-1]) if sv[-1] > 0 else float("inf")
    if fit_intercept:
        return ExactFit(float(beta[0]), beta[1:].copy(), cov, rank, cond)
    return ExactFit(None, beta, cov, rank, cond)
