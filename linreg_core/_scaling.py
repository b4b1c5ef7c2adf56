"""Standardization as the trainer sees it: the map between the data's units and the units trained in, the
sufficient statistics in trained units, and the model's parameters read and set in the data's units.

No torch at import: a preview of a run (linreg_core._preview) and the learning-rate guidance use the scaling alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ._config import TrainConfig
from ._design import Design

if TYPE_CHECKING:
    import torch

    from ._model import LinearModel


@dataclass(frozen=True)
class _Scaling:
    """z = (x - mean) / scale; identity when standardization is off."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def for_design(cls, design: Design, standardize: bool) -> _Scaling:
        k = len(design.terms)
        if not standardize:
            return cls(np.zeros(k), np.ones(k))
        if design.X is not None:
            X = design.X
            # Without an intercept, centering would change the model; scale by RMS instead.
            mean = X.mean(axis=0) if design.fit_intercept else np.zeros(k)
            scale = np.sqrt(((X - mean) ** 2).mean(axis=0))
        else:  # streamed from disk: the moments carry the column means and deviations
            m = design.moments()
            mean = m.x_mean.copy() if design.fit_intercept else np.zeros(k)
            scale = m.x_std.copy() if design.fit_intercept else np.sqrt(m.x_std**2 + m.x_mean**2)
        scale[~(scale > 0)] = 1.0
        return cls(mean, scale)

    def to_original(self, w: np.ndarray, b: float | None) -> tuple[float | None, np.ndarray]:
        coef = w / self.scale
        if b is None:
            return None, coef
        return float(b - np.dot(coef, self.mean)), coef

    def to_trained(self, coef: np.ndarray, intercept: float | None) -> tuple[np.ndarray, float | None]:
        w = coef * self.scale
        if intercept is None:
            return w, None
        return w, float(intercept + np.dot(coef, self.mean))


def scaled_R(design: Design, scaling: _Scaling) -> np.ndarray:
    """R̃ of [1, Z | y] for the trained features Z = (X − mean)/scale, from the moments of [1, X | y].

    [1, Z] = [1, X] T with T upper triangular, so R̃ T̃ is again an R factor: no pass over the data.
    """
    m = design.moments()
    p = m.p
    T = np.eye(p + 1)
    off = 1 if design.fit_intercept else 0
    T[off:p, off:p] = np.diag(1.0 / scaling.scale)
    if design.fit_intercept:
        T[0, 1:p] = -scaling.mean / scaling.scale
    return m.R @ T


def mse_from_R(Rz: np.ndarray, theta: np.ndarray, n: int) -> tuple[float, np.ndarray]:
    """MSE at θ from the R factor of [A | y] (see scaled_R): (‖R_A θ − r_y‖² + ρ²)/n, and R_A θ − r_y."""
    r = Rz[:-1, :-1] @ theta - Rz[:-1, -1]
    return (float(r @ r) + float(Rz[-1, -1]) ** 2) / n, r


def _params(model: LinearModel) -> tuple[np.ndarray, float | None]:
    w_t, b_t = model.linear.weight.detach(), model.linear.bias
    if w_t.device.type == "cpu":  # a numpy view costs ~1 µs; .to() ~5 µs, and events may ask every epoch
        w = w_t.numpy().reshape(-1).astype(np.float64)
        return w, (None if b_t is None else float(b_t.detach().numpy()[0]))
    import torch

    w = w_t.to("cpu", torch.float64).numpy().ravel().copy()
    return w, (None if b_t is None else float(b_t.detach().to("cpu", torch.float64).item()))


def warm_start_values(w0: np.ndarray, b0: float | None, config: TrainConfig,
                      scaling: _Scaling) -> tuple[np.ndarray, float | None] | None:
    """The parameters in trained units that the config's initial weight and bias (in the data's units) give, where it
    names any, from the seeded ones ``w0``, ``b0`` (trained units) for what it leaves out; else None."""
    if config.init_weight is None and config.init_bias is None:
        return None
    coef0 = np.asarray(config.init_weight, dtype=np.float64) if config.init_weight is not None else scaling.to_original(w0, b0)[1]
    icpt0 = config.init_bias if config.init_bias is not None else scaling.to_original(w0, b0)[0]
    return scaling.to_trained(coef0, icpt0)


def warm_start(model: LinearModel, config: TrainConfig, scaling: _Scaling, dtype: torch.dtype) -> None:
    """Set ``model``'s parameters to the config's initial weight and bias (in the data's units), if it names any;
    the seeded initialisation stays for what it leaves out. Shared with linreg_core.preview_path's start."""
    start = warm_start_values(*_params(model), config, scaling)
    if start is None:
        return
    import torch

    w_t, b_t = start
    with torch.no_grad():
        model.linear.weight.copy_(torch.as_tensor(w_t, dtype=dtype).reshape(1, -1))
        if model.linear.bias is not None and b_t is not None:
            model.linear.bias.fill_(b_t)
