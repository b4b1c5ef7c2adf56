"""The training loop: nn.Module + nn.MSELoss + torch.optim, emitting plain-Python events.

The loop is the tutorial's (forward, loss, zero_grad, backward, step), with the
additions a studio needs: standardization with results reported in original
units, warm starts, mini-batches, L2, cooperative stop, divergence detection.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import torch
from torch import nn

from ._callbacks import Callback, EpochEvent, TrainStart
from ._config import TrainConfig
from ._data import Design
from ._device import resolve_device
from ._model import LinearModel
from .errors import ParameterError

__all__ = ["TrainResult", "build_optimizer", "train"]

STATUSES = ("completed", "converged", "stopped", "diverged")


class StopFlag(Protocol):
    def is_set(self) -> bool: ...


@dataclass
class TrainResult:
    """What a run produced. Parameters are in the original units of the data."""

    intercept: float | None
    coef: np.ndarray
    loss_history: list[float]
    status: str  # completed | converged | stopped | diverged
    reason: str | None  # plain-words explanation for diverged / stopped / converged
    epochs_run: int
    device: str
    dtype: str
    train_seconds: float  # the training loop alone
    terms: list[str]
    config: TrainConfig = field(repr=False)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=np.float64) @ self.coef + (self.intercept or 0.0)

    @property
    def params(self) -> np.ndarray:
        if self.intercept is None:
            return self.coef.copy()
        return np.concatenate([[self.intercept], self.coef])


def build_optimizer(name: str, params: Iterable[torch.nn.Parameter], lr: float, momentum: float = 0.9) -> torch.optim.Optimizer:
    """The torch.optim optimizer for one of :data:`OPTIMIZERS`."""
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=momentum)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr)
    raise ParameterError(f"Unknown optimizer {name!r}.")


@dataclass(frozen=True)
class _Scaling:
    """z = (x - mean) / scale; identity when standardization is off."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray, standardize: bool, fit_intercept: bool) -> _Scaling:
        k = X.shape[1]
        if not standardize:
            return cls(np.zeros(k), np.ones(k))
        # Without an intercept, centering would change the model; scale by RMS instead.
        mean = X.mean(axis=0) if fit_intercept else np.zeros(k)
        scale = np.sqrt(((X - mean) ** 2).mean(axis=0))
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


def _params(model: LinearModel) -> tuple[np.ndarray, float | None]:
    w = model.linear.weight.detach().to("cpu", torch.float64).numpy().ravel().copy()
    b = model.linear.bias
    return w, (None if b is None else float(b.detach().to("cpu", torch.float64).item()))


def _check_init(design: Design, config: TrainConfig) -> None:
    k = design.X.shape[1]
    if config.init_weight is not None and len(config.init_weight) != k:
        raise ParameterError(
            f"The 'init_weight' parameter must have one value per term ({k}: {', '.join(design.terms)}). "
            f"Got {len(config.init_weight)} value(s) instead."
        )
    if config.init_bias is not None and not design.fit_intercept:
        raise ParameterError("The 'init_bias' parameter cannot be set when fitting without an intercept.")


def train(
    design: Design,
    config: TrainConfig | None = None,
    callbacks: Sequence[Callback] = (),
    stop: StopFlag | None = None,
) -> TrainResult:
    """Fit ``design`` by gradient descent as configured; see :class:`TrainConfig`."""
    config = (config or TrainConfig()).validate()
    _check_init(design, config)
    dtype = torch.float64 if config.dtype == "float64" else torch.float32
    device = resolve_device(config.device, dtype)

    scaling = _Scaling.fit(design.X, config.standardize, design.fit_intercept)
    Z = (design.X - scaling.mean) / scaling.scale
    X_t = torch.as_tensor(Z, dtype=dtype, device=device)
    y_t = torch.as_tensor(design.y, dtype=dtype, device=device).reshape(-1, 1)
    n, k = Z.shape

    torch.manual_seed(config.seed)
    model = LinearModel(k, bias=design.fit_intercept).to(device=device, dtype=dtype)
    if config.init_weight is not None or config.init_bias is not None:
        w0, b0 = _params(model)
        coef0 = np.asarray(config.init_weight, dtype=np.float64) if config.init_weight is not None else scaling.to_original(w0, b0)[1]
        icpt0 = config.init_bias if config.init_bias is not None else scaling.to_original(w0, b0)[0]
        w_t, b_t = scaling.to_trained(coef0, icpt0)
        with torch.no_grad():
            model.linear.weight.copy_(torch.as_tensor(w_t, dtype=dtype).reshape(1, -1))
            if model.linear.bias is not None and b_t is not None:
                model.linear.bias.fill_(b_t)

    loss_fn = nn.MSELoss()
    optimizer = build_optimizer(config.optimizer, model.parameters(), config.lr, config.momentum)
    gen = torch.Generator().manual_seed(config.seed)
    batch = n if config.batch_size in (0, None) or config.batch_size >= n else config.batch_size

    def should_stop() -> bool:
        return (stop is not None and stop.is_set()) or any(cb.should_stop for cb in callbacks)

    def objective(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = loss_fn(pred, target)
        if config.l2 > 0:
            loss = loss + config.l2 * model.linear.weight.pow(2).sum()
        return loss

    def snapshot() -> list[torch.Tensor]:
        return [p.detach().clone() for p in model.parameters()]

    def restore(state: list[torch.Tensor]) -> None:
        with torch.no_grad():
            for p, s in zip(model.parameters(), state):
                p.copy_(s)

    w_init, b_init = _params(model)
    icpt_init, coef_init = scaling.to_original(w_init, b_init)
    info = TrainStart(n, list(design.terms), str(device), config.epochs, icpt_init, coef_init.tolist())
    for cb in callbacks:
        cb.on_train_start(info)

    history: list[float] = []
    status, reason = "completed", None
    good = snapshot()
    t0 = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        if should_stop():
            status, reason = "stopped", f"Stopped by request before epoch {epoch}."
            break
        if batch == n:
            loss = objective(model(X_t), y_t)
            value = loss.item()
            bad = _divergence(value, history, config.divergence_factor)
            if bad and not math.isfinite(value):
                restore(good)
                status, reason = "diverged", bad.format(epoch=epoch)
                break
            history.append(value)
            good = snapshot()
            if bad:
                status, reason = "diverged", bad.format(epoch=epoch)
                break
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        else:
            perm = torch.randperm(n, generator=gen).to(device)
            total = torch.zeros((), dtype=torch.float64, device=device)
            stopped_mid = False
            for start in range(0, n, batch):
                idx = perm[start:start + batch]
                loss = objective(model(X_t[idx]), y_t[idx])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.detach().to(torch.float64) * len(idx)
                if start + batch < n and should_stop():
                    stopped_mid = True
                    break
            if stopped_mid:
                status, reason = "stopped", f"Stopped by request during epoch {epoch}."
                break
            value = total.item() / n
            bad = _divergence(value, history, config.divergence_factor)
            params_finite = all(bool(torch.isfinite(p).all()) for p in model.parameters())
            if bad and not (math.isfinite(value) and params_finite):
                restore(good)
                status, reason = "diverged", bad.format(epoch=epoch)
                break
            history.append(value)
            good = snapshot()
            if bad:
                status, reason = "diverged", bad.format(epoch=epoch)
                break

        w, b = _params(model)
        icpt, coef = scaling.to_original(w, b)
        if not np.all(np.isfinite(w)) or (b is not None and not math.isfinite(b)):
            restore(good)
            w, b = _params(model)
            icpt, coef = scaling.to_original(w, b)
            status, reason = "diverged", (
                f"The parameters overflowed to inf/NaN in epoch {epoch}: the learning rate is too large for this data. "
                "Try a smaller learning rate or turn on standardization."
            )
        event = EpochEvent(epoch, history[-1], icpt, coef.tolist(), time.perf_counter() - t0)
        for cb in callbacks:
            cb.on_epoch_end(event)
        if status == "diverged":
            break
        if config.tol is not None and len(history) >= 2:
            prev = history[-2]
            if abs(prev - history[-1]) <= config.tol * max(abs(prev), np.finfo(np.float64).tiny):
                status, reason = "converged", f"The loss changed by less than tol={config.tol:g} (relative) in epoch {epoch}."
                break
    train_seconds = time.perf_counter() - t0

    w, b = _params(model)
    icpt, coef = scaling.to_original(w, b)
    result = TrainResult(
        intercept=icpt, coef=coef, loss_history=history, status=status, reason=reason,
        epochs_run=len(history), device=str(device), dtype=config.dtype,
        train_seconds=train_seconds, terms=list(design.terms), config=config,
    )
    for cb in callbacks:
        cb.on_train_end(result)
    return result


def _divergence(value: float, history: list[float], factor: float) -> str | None:
    """A reason template if ``value`` shows divergence, else None."""
    advice = "The learning rate is too large for this data: try a smaller learning rate or turn on standardization."
    if not math.isfinite(value):
        return "The loss became " + ("NaN" if math.isnan(value) else "infinite") + " in epoch {epoch}. " + advice
    if history and value > factor * max(history[0], np.finfo(np.float64).tiny):
        return f"The loss grew to {value:.3g}, over {factor:g}× the first epoch's {history[0]:.3g}, in epoch {{epoch}}. " + advice
    return None
