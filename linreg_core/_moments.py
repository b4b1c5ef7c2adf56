"""Sufficient statistics of a least-squares problem, as the R factor of [A | y].

For full-batch gradient descent on the mean squared error, the loss and gradient depend on the data
only through AᵀA, Aᵀy, yᵀy and N. We keep them in the numerically safest form: the upper-triangular
R̃ of a Householder QR of [A | y] (A = [1, X] or X). Then, with θ* the least-squares solution,

    loss(θ) = (ρ² + ‖R (θ − θ*)‖²) / N,     ∇loss(θ) = 2 Rᵀ R (θ − θ*) / N,

where R̃ = [[R, z], [0, ρ]], Rθ* = z and ρ² is the smallest sum of squared residuals. No cancellation:
the loss stays accurate to the last digits even when a fit is nearly perfect. R̃ can be built in one
pass over chunks (TSQR: stack the previous R̃ on the next chunk and factor again), so files larger
than memory need O(p²) memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

__all__ = ["Moments", "MomentsAccumulator", "r_factor"]


@dataclass(frozen=True)
class Moments:
    """R̃ of [A | y] plus the column means and RMS deviations of X (for standardization)."""

    R: np.ndarray  # (p + 1, p + 1) upper triangular, last column/row for y
    n: int
    fit_intercept: bool
    x_mean: np.ndarray  # (k,) column means of X
    x_std: np.ndarray  # (k,) population standard deviations of X
    y_mean: float
    y_ss: float  # Σ (y − ȳ)², for R²

    @property
    def p(self) -> int:
        return self.R.shape[0] - 1

    def solve(self) -> tuple[np.ndarray, float]:
        """(θ*, ρ²): least-squares parameters (intercept first) and the minimal SSE."""
        R, z = self.R[:-1, :-1], self.R[:-1, -1]
        theta = sla.solve_triangular(R, z)
        return theta, float(self.R[-1, -1] ** 2)


def r_factor(block: np.ndarray) -> np.ndarray:
    """The square upper-triangular R of a block's QR (zero rows below when it has fewer rows than columns), so
    R factors of any blocks stack and factor again (TSQR)."""
    m = block.shape[1]
    r = np.linalg.qr(block, mode="r")
    if r.shape[0] < m:
        r = np.vstack([r, np.zeros((m - r.shape[0], m))])
    return r


class MomentsAccumulator:
    """Builds :class:`Moments` from row blocks: bounded memory, one pass."""

    def __init__(self, n_features: int, fit_intercept: bool = True) -> None:
        self.k = n_features
        self.fit_intercept = fit_intercept
        self._R: np.ndarray | None = None
        self.n = 0
        # shifted sums for stable means/variances (shift = first block's means)
        self._shift: np.ndarray | None = None
        self._s1 = np.zeros(n_features + 1)  # X columns, then y
        self._s2 = np.zeros(n_features + 1)

    def add(self, X: np.ndarray, y: np.ndarray) -> None:
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64).reshape(-1, 1)
        if X.shape[0] == 0:
            return
        cols = [np.ones((X.shape[0], 1))] if self.fit_intercept else []
        block = np.hstack([*cols, X, y])
        if self._R is not None:
            block = np.vstack([self._R, block])
        self._R = r_factor(block)
        xy = np.hstack([X, y])
        if self._shift is None:
            self._shift = xy.mean(axis=0)
        d = xy - self._shift
        self._s1 += d.sum(axis=0)
        self._s2 += (d * d).sum(axis=0)
        self.n += X.shape[0]

    def result(self) -> Moments:
        if self._R is None or self.n == 0:
            raise ValueError("no rows were added")
        mean_d = self._s1 / self.n
        var = np.maximum(self._s2 / self.n - mean_d**2, 0.0)
        mean = self._shift + mean_d
        return Moments(self._R.copy(), self.n, self.fit_intercept, mean[:-1], np.sqrt(var[:-1]),
                       float(mean[-1]), float(var[-1] * self.n))

    @classmethod
    def from_blocks(cls, blocks: Iterable[tuple[np.ndarray, np.ndarray]], n_features: int,
                    fit_intercept: bool = True) -> Moments:
        acc = cls(n_features, fit_intercept)
        for X, y in blocks:
            acc.add(X, y)
        return acc.result()
