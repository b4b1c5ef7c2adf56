"""Why training behaves as it does: the curvature of the MSE loss on this data.

For full-batch gradient descent on L(θ) = ‖Aθ − y‖²/N (+ l2‖w‖²) the Hessian is constant,
H = 2AᵀA/N (+ 2·l2 on the weights). Plain SGD with a fixed learning rate η converges exactly when
η < 2/λmax(H); the fixed η that contracts fastest is 2/(λmax + λmin); the condition number
λmax/λmin says how many more steps the flattest direction needs than the most curved one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._design import Design

__all__ = ["LrGuidance", "loss_grid", "loss_minimum", "lr_guidance"]


@dataclass(frozen=True)
class LrGuidance:
    max_stable_lr: float  # 2 / λmax: any larger fixed lr diverges (full-batch SGD)
    optimal_lr: float  # 2 / (λmax + λmin): the fastest fixed lr
    condition_number: float  # λmax / λmin
    eigenvalues: np.ndarray  # of the loss Hessian, ascending
    standardized: bool


def _training_Rz(design: Design, standardize: bool) -> np.ndarray:
    from ._scaling import _Scaling, scaled_R  # one definition of the scaling the trainer uses

    return scaled_R(design, _Scaling.for_design(design, standardize))


def _training_R(design: Design, standardize: bool) -> np.ndarray:
    return _training_Rz(design, standardize)[:-1, :-1]


def loss_minimum(design: Design, standardize: bool = False, l2: float = 0.0) -> float:
    """The smallest value the training objective MSE (+ l2‖w‖² in the trained space) can reach:
    the exact least-squares MSE when l2 = 0, the ridge optimum otherwise."""
    from ._scaling import mse_from_R

    Rz = _training_Rz(design, standardize)
    R, r_y = Rz[:-1, :-1], Rz[:-1, -1]
    n, off = design.n_samples, 1 if design.fit_intercept else 0
    if l2 > 0:
        # Ridge as least squares: stack sqrt(n·l2)·E under R, E selecting the weights (not the bias).
        k = R.shape[1]
        A = np.vstack([R, np.eye(k)[off:] * np.sqrt(n * l2)])
        b = np.concatenate([r_y, np.zeros(k - off)])
    else:
        A, b = R, r_y
    theta = np.linalg.lstsq(A, b, rcond=None)[0]
    return mse_from_R(Rz, theta, n)[0] + l2 * float(theta[off:] @ theta[off:])


def lr_guidance(design: Design, standardize: bool = False, l2: float = 0.0) -> LrGuidance:
    """Stable and optimal fixed learning rates and the condition number, for the space training runs in."""
    R = _training_R(design, standardize)
    H = 2.0 * (R.T @ R) / design.n_samples
    if l2 > 0:
        off = 1 if design.fit_intercept else 0
        H[off:, off:] += 2.0 * l2 * np.eye(H.shape[0] - off)
    lam = np.linalg.eigvalsh((H + H.T) / 2)
    lam_max, lam_min = float(lam[-1]), float(max(lam[0], 0.0))
    return LrGuidance(
        max_stable_lr=2.0 / lam_max,
        optimal_lr=2.0 / (lam_max + lam_min),
        condition_number=lam_max / lam_min if lam_min > 0 else float("inf"),
        eigenvalues=lam,
        standardized=standardize,
    )


def loss_grid(design: Design, intercepts: np.ndarray, slopes: np.ndarray) -> np.ndarray:
    """MSE over a grid of (intercept, slope) for a one-term model with an intercept: Z[i, j] at
    (intercepts[j], slopes[i]). From the moments, so it costs O(grid) whatever the number of rows."""
    if not design.fit_intercept or len(design.terms) != 1:
        raise ValueError("loss_grid needs a model with an intercept and exactly one term")
    m = design.moments()
    theta_star, rho2 = m.solve()
    R = m.R[:-1, :-1]
    B, W = np.meshgrid(np.asarray(intercepts, float) - theta_star[0], np.asarray(slopes, float) - theta_star[1])
    r0 = R[0, 0] * B + R[0, 1] * W  # R (θ − θ*) for every grid point, row by row of the 2×2 R
    r1 = R[1, 1] * W
    return (rho2 + r0 * r0 + r1 * r1) / m.n
