"""Where Train would go: the first epochs of full-batch gradient descent, computed from the moments alone.

Full-batch training sees the data only through the loss and its gradient, and both are functions of the
R factor of [A | y] (see _moments). So the exact path the trainer will take — every optimizer's update
rule replayed in float64 numpy, from the trainer's own starting weights — costs O(p²) per epoch however
many rows there are, cheap enough to redraw while the user moves the learning rate.

Mini-batch runs have no such preview: their path depends on the shuffled rows themselves. What else
differs from a real run is rounding only: a float32 run rounds every step to float32 (and overflows at
~3.4e38, where float64 goes on), and an in-memory design is standardized with the column means and
deviations of its moments rather than ones recomputed from X.

The scaling, the R factor and the divergence test are the trainer's own; the starting weights are nn.Linear's from
the seeded generator, reproduced in numpy (linreg_core._start) — no torch is imported unless this machine's rounding
of torch's draws is not known there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

from ._config import TrainConfig, _int_in
from ._design import Design
from ._moments import Moments
from ._scaling import _Scaling, mse_from_R, scaled_R, warm_start_values
from ._start import _check_init, _divergence, seeded_linear_init
from .errors import ParameterError

__all__ = ["MAX_PREVIEW_EPOCHS", "Preview", "initial_params", "preview_path"]

MAX_PREVIEW_EPOCHS = 10_000  # a preview is redrawn on every change of a setting: keep it well under a second

Start = tuple[float | None, Sequence[float]]


@dataclass(frozen=True)
class Preview:
    """The path of the first epochs, in the data's original units as the trainer reports them.

    Row ``k`` of ``coefs`` (and ``intercepts``) holds the parameters after ``k`` epochs, so row 0 is the start
    and ``losses[k]`` is the loss at row ``k``: the loss of epoch ``k + 1`` before its update, as in
    ``Trainer.history``. A full preview of ``epochs`` epochs has ``epochs + 1`` rows and ``epochs`` losses.
    """

    intercepts: np.ndarray | None  # (rows,); None when the model has no intercept
    coefs: np.ndarray  # (rows, k): one column per term
    losses: np.ndarray  # (epochs run,): the training objective, MSE plus the L2 term when l2 > 0
    # The epoch at which the trainer would stop with status "diverged", else None. The arrays stop where
    # the trainer does: ``losses`` holds that epoch's loss only when it is finite (too large), and the last
    # row is the trainer's final parameters (after a non-finite loss, those of the last finite one).
    diverged_at: int | None


def preview_path(data: Design | Moments, config: TrainConfig, epochs: int, start: Start | None = None) -> Preview | None:
    """The first ``epochs`` epochs that ``Trainer(design, config)`` would run, without running it.

    ``data`` is a design or its :class:`Moments` (``design.moments()``, cached on the design): only the
    moments are read, so a million rows cost what a hundred do, and two designs with the same moments get
    the same preview. ``start`` is the starting point in original units, ``(intercept, coef)`` as
    ``Trainer.start_info()`` reports it (``initial_intercept``, ``initial_coef``); by default it is the
    trainer's own, from ``config.seed`` and ``init_weight``/``init_bias`` (see :func:`initial_params`).

    Returns None when ``config`` trains in mini-batches (``0 < batch_size < n``): no preview exists then, and
    a UI simply shows none. The arithmetic is float64 whatever ``config.dtype``; ``config.epochs`` and ``tol``
    are not applied (the preview shows ``epochs`` epochs unless the run diverges first).

    >>> p = preview_path(design, TrainConfig(lr=0.05, optimizer="adam"), 50)
    >>> p.losses[-1], p.coefs[-1]
    """
    config = config.validate()
    _int_in("epochs", epochs, 0, MAX_PREVIEW_EPOCHS)
    design = _moments_design(data)
    m = design.moments()
    if 0 < config.batch_size < m.n:
        return None
    scaling = _Scaling.for_design(design, config.standardize)
    theta = _initial_theta(design, scaling, config) if start is None else _start_theta(design, scaling, start)
    objective = _objective(design, scaling, config.l2)
    update = _update_rule(config)

    thetas, losses, diverged_at = [theta], [], None
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is an outcome to report here, not a warning
        for epoch in range(1, epochs + 1):
            loss, grad = objective(theta)
            if _divergence(loss, losses, config.divergence_factor):  # the trainer's test, against the first loss
                diverged_at = epoch
                if math.isfinite(loss):
                    losses.append(loss)  # recorded, then the run stops before its update
                elif len(thetas) > 1:
                    thetas.pop()  # not recorded: the trainer goes back to the parameters of the last finite loss
                break
            losses.append(loss)
            theta = update(theta, grad)
            thetas.append(theta)
        else:
            if epochs and not np.all(np.isfinite(theta)):  # the last update overflowed: the trainer keeps the one before
                thetas.pop()
                diverged_at = epochs

        theta_rows = np.array(thetas, dtype=np.float64)
        off = 1 if design.fit_intercept else 0
        coefs = theta_rows[:, off:] / scaling.scale  # to original units, as _Scaling.to_original does
        intercepts = theta_rows[:, 0] - coefs @ scaling.mean if off else None
    losses_arr = np.array(losses, dtype=np.float64)
    for a in (intercepts, coefs, losses_arr):
        if a is not None:
            a.flags.writeable = False  # a preview may be cached and shared between reruns of the page
    return Preview(intercepts, coefs, losses_arr, diverged_at)


def initial_params(data: Design | Moments, config: TrainConfig) -> tuple[float | None, list[float]]:
    """The point ``Trainer(design, config)`` starts from, ``(intercept, coef)`` in original units, without
    building one: nn.Linear's initialisation from ``config.seed`` in ``config.dtype``, or the warm start.

    Needs no torch where linreg_core._start reproduces its draws on this machine; torch's global generator is left as it
    was either way.
    """
    config = config.validate()
    design = _moments_design(data)
    scaling = _Scaling.for_design(design, config.standardize)
    theta = _initial_theta(design, scaling, config)
    off = 1 if design.fit_intercept else 0
    icpt, coef = scaling.to_original(theta[off:], float(theta[0]) if off else None)
    return icpt, coef.tolist()


# -- the pieces: data, start, objective, update rule -------------------------------------------------------

def _moments_design(data: Design | Moments) -> Design:
    """A design holding only ``data``'s moments, so the trainer's own scaling code reads nothing else."""
    if isinstance(data, Design):
        m, terms = data.moments(), list(data.terms)
    elif isinstance(data, Moments):
        m = data
        terms = [f"x{i + 1}" for i in range(m.p - int(m.fit_intercept))]
    else:
        raise ParameterError(f"The 'data' parameter must be a Design or Moments. Got {type(data).__name__} instead.")
    return Design(X=None, y=None, terms=terms, target="y", features=[], fit_intercept=m.fit_intercept,
                  given_moments=m)


def _initial_theta(design: Design, scaling: _Scaling, config: TrainConfig) -> np.ndarray:
    """θ₀ as the trainer's optimizer sees it, made the way Trainer.__init__ makes it (same seed, dtype, warm start)."""
    _check_init(design, config)
    drawn = seeded_linear_init(config.seed, len(design.terms), design.fit_intercept)
    if drawn is None:  # this machine's rounding of torch's draws is not known: torch's own
        return _torch_initial_theta(design, scaling, config)
    w, b = drawn
    start = warm_start_values(w, b, config, scaling)
    if start is not None:  # set in the model's dtype, as warm_start does
        kind = np.float64 if config.dtype == "float64" else np.float32
        w = np.asarray(start[0], dtype=np.float64).astype(kind).astype(np.float64)
        if b is not None and start[1] is not None:
            b = float(kind(start[1]))
    return w.copy() if b is None else np.concatenate([[b], w])


def _torch_initial_theta(design: Design, scaling: _Scaling, config: TrainConfig) -> np.ndarray:
    import torch

    from ._model import LinearModel
    from ._scaling import _params, warm_start

    dtype = torch.float64 if config.dtype == "float64" else torch.float32
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = LinearModel(len(design.terms), bias=design.fit_intercept).to(dtype=dtype)
    warm_start(model, config, scaling, dtype)
    w, b = _params(model)
    return w.copy() if b is None else np.concatenate([[b], w])


def _start_theta(design: Design, scaling: _Scaling, start: Start) -> np.ndarray:
    icpt, coef = start
    coef = np.asarray(coef, dtype=np.float64).reshape(-1)
    k = len(design.terms)
    if coef.size != k or not np.all(np.isfinite(coef)):
        raise ParameterError(f"The 'start' coefficients must be {k} finite value(s), one per term. Got {list(coef)} instead.")
    if design.fit_intercept != (icpt is not None) or (icpt is not None and not math.isfinite(icpt)):
        expected = "a finite intercept" if design.fit_intercept else "None (the model has no intercept)"
        raise ParameterError(f"The 'start' intercept must be {expected}. Got {icpt!r} instead.")
    w, b = scaling.to_trained(coef, None if icpt is None else float(icpt))
    return w if b is None else np.concatenate([[b], w])


def _objective(design: Design, scaling: _Scaling, l2: float) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """(loss, gradient) at θ in the trained space, computed as the trainer's full-batch engine computes them:
    from R̃ of [1, Z | y], as (ρ² + ‖R(θ − θ*)‖²)/N when θ* is unique (the stats engine), else from R̃ directly."""
    Rz, n = scaled_R(design, scaling), design.moments().n
    R = Rz[:-1, :-1]
    off = 1 if design.fit_intercept else 0
    diag = np.abs(np.diag(R))
    # _StatsStep.create's test: the trainer uses the stats engine exactly when θ* is unique
    full_rank = R.size > 0 and np.all(np.isfinite(Rz)) and diag.min() > max(n, R.shape[0]) * np.finfo(float).eps * diag.max()
    theta_star = sla.solve_triangular(R, Rz[:-1, -1]) if full_rank else None
    rho2 = float(Rz[-1, -1] ** 2)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        if theta_star is not None:
            r = R @ (theta - theta_star)
            loss = (rho2 + float(r @ r)) / n
        else:
            loss, r = mse_from_R(Rz, theta, n)
        grad = (R.T @ r) * (2.0 / n)
        if l2 > 0:
            w = theta[off:]
            loss += l2 * float(w @ w)
            grad[off:] += 2.0 * l2 * w
        return loss, grad

    return objective


def _update_rule(config: TrainConfig) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """θ ↦ θ after one step of the torch.optim optimizer that build_optimizer makes for ``config``, with torch's
    defaults and its order of operations (single-tensor path), keeping the optimizer's state between calls."""
    lr, name = config.lr, config.optimizer
    state: dict = {"step": 0}

    if name == "sgd":  # SGD: θ − lr·g
        return lambda theta, g: theta + (-lr) * g

    if name == "momentum":  # SGD(momentum=μ), no dampening or Nesterov: b = g first, then b = μ·b + g
        mu = config.momentum

        def momentum(theta: np.ndarray, g: np.ndarray) -> np.ndarray:
            buf = state.get("buf")
            state["buf"] = buf = g.copy() if buf is None else buf * mu + g
            return theta + (-lr) * buf

        return momentum

    if name == "adam":  # Adam(betas=(0.9, 0.999), eps=1e-8): eps added after the bias-corrected square root
        beta1, beta2, eps = 0.9, 0.999, 1e-8

        def adam(theta: np.ndarray, g: np.ndarray) -> np.ndarray:
            state["step"] = step = state["step"] + 1
            if step == 1:
                state["m"], state["v"] = np.zeros_like(g), np.zeros_like(g)
            m, v = state["m"], state["v"]
            state["m"] = m = m + (1 - beta1) * (g - m)  # exp_avg.lerp_(g, 1 − β1)
            state["v"] = v = v * beta2 + (1 - beta2) * g * g
            step_size = lr / (1 - beta1**step)
            denom = np.sqrt(v) / (1 - beta2**step) ** 0.5 + eps
            return theta + (-step_size) * m / denom

        return adam

    if name == "rmsprop":  # RMSprop(alpha=0.99, eps=1e-8), not centered, no momentum
        alpha, eps = 0.99, 1e-8

        def rmsprop(theta: np.ndarray, g: np.ndarray) -> np.ndarray:
            v = state.get("v")
            v = np.zeros_like(g) if v is None else v  # torch's square_avg starts at zero
            state["v"] = v = v * alpha + (1 - alpha) * g * g
            return theta + (-lr) * g / (np.sqrt(v) + eps)

        return rmsprop

    if name == "adagrad":  # Adagrad(eps=1e-10, initial_accumulator_value=0, lr_decay=0)
        eps = 1e-10

        def adagrad(theta: np.ndarray, g: np.ndarray) -> np.ndarray:
            s = state.get("sum")
            s = np.zeros_like(g) if s is None else s  # initial_accumulator_value=0
            state["sum"] = s = s + 1 * g * g
            return theta + (-lr) * g / (np.sqrt(s) + eps)

        return adagrad

    raise ParameterError(f"Unknown optimizer {name!r}.")  # config.validate() lets only OPTIMIZERS through
