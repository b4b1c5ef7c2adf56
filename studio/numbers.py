"""One rule for how the exact fit's numbers are shown, on every page and in every equation.

Least squares on data that a line fits perfectly (the tutorial's y = 2x) leaves float64 rounding behind: an
intercept of 2.7e-15, an MSE of 1.2e-30, residuals of 1e-15. Those are noise, not results. ``FitStats`` knows
the data's rounding level (``loss_floor``, ``param_floor``); everything here shows a number below it as 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from linreg_core import Design, FitStats

from .tex import equation

# The metrics that measure an error (the others, R² and adjusted R², are ratios), with the power of the
# residuals each is in: the MSE squares them, RMSE and MAE keep their units.
_ERROR_POWER = {"mse": 2, "rmse": 1, "mae": 1}
ALL_ZERO = "Every residual is 0 to the data's precision: the line passes through every point."


def loss(stats: FitStats, value: float) -> float:
    """An MSE (or loss) on this data, 0 when it is below the data's rounding level."""
    return 0.0 if value <= stats.loss_floor else float(value)


def metrics(stats: FitStats, names: Sequence[str]) -> list[float]:
    """``stats``' metrics ``names`` (as in ``FitStats.metrics``), an error below the rounding level as 0."""
    values = stats.metrics()
    out = []
    for name in names:
        power = _ERROR_POWER.get(name)
        floor = stats.loss_floor ** (power / 2) if power else None
        out.append(0.0 if floor is not None and values[name] <= floor else float(values[name]))
    return out


def exact_params(stats: FitStats, design: Design) -> tuple[float | None, np.ndarray]:
    """The exact fit's (intercept, coefficients), each below the rounding level as 0; intercept None when the
    model has none."""
    tidy = stats.tidy(stats.params)
    return (float(tidy[0]), tidy[1:]) if design.fit_intercept else (None, tidy)


def exact_equation(design: Design, stats: FitStats) -> str:
    """LaTeX of the exact fit, ``ŷ = b + w·x``: an intercept that is 0 to the data's precision is left out."""
    b, w = exact_params(stats, design)
    return equation(design.target, None if b == 0.0 else b, w, design.terms)


def residuals_all_zero(stats: FitStats) -> bool:
    """Whether every residual of the exact fit is 0 to the data's precision (a perfect fit)."""
    return stats.perfect_fit
