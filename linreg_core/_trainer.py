"""The training loop: nn.Module + nn.MSELoss + torch.optim, emitting plain-Python events.

The loop is the tutorial's (forward, loss, zero_grad, backward, step), with the
additions a studio needs: standardization with results reported in original
units, warm starts, mini-batches, L2, cooperative stop, divergence detection.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import torch
from torch import nn

from ._callbacks import Callback, Change, EpochEvent, StepInfo, TrainResult, TrainStart
from ._config import TrainConfig
from ._design import Design
from ._device import resolve_device
from ._engines import _AutogradStep, _DirectMinibatch, _Engine, _finite_params, _StatsStep, build_optimizer
from ._model import LinearModel
from ._scaling import _params, _Scaling, mse_from_R, scaled_R, warm_start
from ._start import _check_init, _divergence
from .errors import ParameterError, RankDeficientError

__all__ = ["Checkpoint", "Trainer", "train"]

STATUSES = ("completed", "converged", "stopped", "diverged")


class StopFlag(Protocol):
    def is_set(self) -> bool: ...


# Settings a run may change between epochs (Trainer.change); the rest define the problem or the model.
CHANGEABLE = ("lr", "optimizer", "momentum", "epochs", "tol")


@dataclass(frozen=True)
class Checkpoint:
    """A trainer's state after ``epoch`` epochs (:meth:`Trainer.checkpoint`): parameters, the optimizer's state,
    the mini-batch shuffling's generator and how many changes of course had been made."""

    epoch: int
    params: list
    optimizer: dict
    rng: torch.Tensor
    changes: int
    config: TrainConfig


class Trainer:
    """The training loop of :func:`train`, one epoch at a time, keeping the optimizer's state between calls.

    ``model`` (an ``nn.Module`` wrapping ``nn.Linear``), ``loss_fn`` (``nn.MSELoss``) and ``optimizer``
    (``torch.optim``) are the live objects; ``history`` holds the loss per epoch. ``validation`` is a
    design with the same terms whose MSE is recorded each epoch in ``val_history``.

    >>> tr = Trainer(design, TrainConfig(lr=0.05))
    >>> info = tr.step()      # one epoch, with its gradient and update
    >>> tr.run(10)            # ten more
    >>> tr.result().coef
    """

    CHANGEABLE = CHANGEABLE  # what change() may set between epochs

    def __init__(self, design: Design, config: TrainConfig | None = None, validation: Design | None = None) -> None:
        config = (config or TrainConfig()).validate()
        _check_init(design, config)
        if validation is not None and list(validation.terms) != list(design.terms):
            raise ParameterError("The validation design must have the same terms as the training design. "
                                 f"Got {validation.terms} instead of {design.terms}.")
        self.design, self.config, self.validation = design, config, validation
        dtype = torch.float64 if config.dtype == "float64" else torch.float32
        device = resolve_device(config.device, dtype)
        self.device = device
        n, k = design.n_samples, len(design.terms)
        batch = n if config.batch_size in (0, None) or config.batch_size >= n else config.batch_size
        if batch < n and design.X is None:
            raise ParameterError("Mini-batch training needs the rows in memory; this design was streamed from disk. "
                                 "Use batch_size 0 (full batch) or load the file without --out-of-core.")
        if config.engine == "stats" and batch < n:
            raise ParameterError("The 'stats' engine computes full-batch gradients; set batch_size 0 or engine 'auto'.")
        self.batch = batch

        self.scaling = scaling = _Scaling.for_design(design, config.standardize)
        if dtype == torch.float32:
            _check_float32_range(design, scaling)
        torch.manual_seed(config.seed)
        self.model = model = LinearModel(k, bias=design.fit_intercept).to(device=device, dtype=dtype)
        warm_start(model, config, scaling, dtype)
        # Two tiny parameter tensors: the single-tensor code path is faster than foreach on the CPU.
        self.optimizer = build_optimizer(config.optimizer, model.parameters(), config.lr, config.momentum,
                                         foreach=False if device.type == "cpu" else None)
        self.loss_fn = nn.MSELoss()  # what every engine computes (the stats engine in closed form)

        engine: _Engine | None = None
        if batch == n and config.engine in ("auto", "stats"):
            engine = _StatsStep.create(design, scaling, model, config.l2, device)
            if engine is None and (config.engine == "stats" or design.X is None):
                raise RankDeficientError(
                    "The design is rank deficient, so the sufficient-statistics engine cannot be used. "
                    "Remove duplicate or collinear columns, or use engine 'autograd'.", rank=-1, n_params=k + 1, dependent=[])
        if engine is None:
            direct = batch < n and config.engine == "auto"
            engine = (_DirectMinibatch if direct else _AutogradStep)(design, scaling, model, config.l2, dtype, device)
        self.engine = engine
        self._gen = torch.Generator().manual_seed(config.seed)
        self._val_R = scaled_R(validation, scaling) if validation is not None else None
        self._R: np.ndarray | None = None  # of the training data, for gradients shown in step mode

        self.history: list[float] = []
        self.val_history: list[float] = []
        self.changes: list[Change] = []  # changes of course made between epochs (change())
        self.status: str | None = None  # None while more epochs can run; then one of STATUSES
        self.reason: str | None = None
        self.train_seconds = 0.0
        self._good = engine.snapshot()
        # Set by train(): the cooperative stop check and the callbacks that want every mini-batch.
        self.should_stop: Callable[[], bool] | None = None
        self.batch_hooks: list[Callback] = []
        self._full_batch = batch == n

    # -- reading the model ---------------------------------------------------------------------------
    @property
    def epoch(self) -> int:
        """Epochs completed so far."""
        return len(self.history)

    @property
    def done(self) -> bool:
        return self.status is not None

    @property
    def param_names(self) -> list[str]:
        return (["intercept"] if self.design.fit_intercept else []) + list(self.design.terms)

    def params(self) -> tuple[float | None, np.ndarray]:
        """(intercept, coef) now, in the original units of the data."""
        w, b = _params(self.model)
        return self.scaling.to_original(w, b)

    def trained_params(self) -> np.ndarray:
        """θ = [bias, weights...] as the optimizer sees them (standardized units when standardizing)."""
        w, b = _params(self.model)
        return w.copy() if b is None else np.concatenate([[b], w])

    def _training_R(self) -> np.ndarray:
        if self._R is None:
            self._R = scaled_R(self.design, self.scaling)
        return self._R

    def objective(self, theta: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """(loss, full-batch gradient) at ``theta`` (now, by default), from the R factor: O(p²)."""
        theta = self.trained_params() if theta is None else np.asarray(theta, dtype=np.float64)
        Rz, n = self._training_R(), self.design.n_samples
        loss, r = mse_from_R(Rz, theta, n)
        grad = 2.0 / n * (Rz[:-1, :-1].T @ r)
        if self.config.l2 > 0:
            off = 1 if self.design.fit_intercept else 0
            w = theta[off:]
            loss += self.config.l2 * float(w @ w)
            grad[off:] += 2.0 * self.config.l2 * w
        return loss, grad

    def _val_loss(self) -> float:
        return mse_from_R(self._val_R, self.trained_params(), self.validation.n_samples)[0]

    # -- running -------------------------------------------------------------------------------------
    def run_epoch(self) -> bool:
        """Run one epoch; False (with ``status`` and ``reason`` set) once training has ended."""
        if self.status is not None:
            return False
        history = self.history
        epoch = len(history) + 1
        config, engine, should_stop = self.config, self.engine, self.should_stop
        if should_stop is not None and should_stop():
            self.status, self.reason = "stopped", f"Stopped by request before epoch {epoch}."
            return False
        if self._full_batch:
            value = engine.loss()  # the loss before this epoch's update, as the tutorial prints it
            bad = _divergence(value, history, config.divergence_factor)
            if bad and not math.isfinite(value):
                engine.restore(self._good)  # the parameters of the last finite loss
                self.status, self.reason = "diverged", bad.format(epoch=epoch)
                return False
            if self._val_R is not None:
                self.val_history.append(self._val_loss())  # at the same parameters as the training loss
            history.append(value)
            if bad:
                self.status, self.reason = "diverged", bad.format(epoch=epoch)
                return False
            self._good = engine.snapshot()
            engine.step(self.optimizer)
        else:
            n, batch = self.design.n_samples, self.batch
            engine.start_epoch(torch.randperm(n, generator=self._gen).to(self.device))  # one permutation per epoch
            total = torch.zeros((), dtype=torch.float64, device=self.device)  # summed on device: no sync per batch
            for start in range(0, n, batch):
                stop_row = min(start + batch, n)
                total += engine.batch_step(self.optimizer, start, stop_row) * (stop_row - start)
                for cb in self.batch_hooks:
                    cb.on_batch_end(epoch, stop_row, self.params)
                if stop_row < n and should_stop is not None and should_stop():
                    self.status, self.reason = "stopped", f"Stopped by request during epoch {epoch}."
                    return False
            value = total.item() / n
            bad = _divergence(value, history, config.divergence_factor)
            if bad and not (math.isfinite(value) and _finite_params(self.model)):
                engine.restore(self._good)
                self.status, self.reason = "diverged", bad.format(epoch=epoch)
                return False
            history.append(value)
            if self._val_R is not None:
                self.val_history.append(self._val_loss())  # after the epoch's updates
            self._good = engine.snapshot()
            if bad:
                self.status, self.reason = "diverged", bad.format(epoch=epoch)
                return False
        if config.tol is not None and len(history) >= 2:
            prev = history[-2]
            if abs(prev - history[-1]) <= config.tol * max(abs(prev), np.finfo(np.float64).tiny):
                self.status, self.reason = "converged", f"The loss changed by less than tol={config.tol:g} (relative) in epoch {epoch}."
                return False
        if epoch >= config.epochs:
            self.status = "completed"
            return False
        return True

    def run(self, epochs: int | None = None) -> TrainResult:
        """Run ``epochs`` more epochs (all that remain by default) and return the result so far."""
        t0 = time.perf_counter()
        for _ in range(self.config.epochs if epochs is None else epochs):
            if not self.run_epoch():
                break
        self.train_seconds += time.perf_counter() - t0
        return self.result()

    def step(self, epochs: int = 1, callbacks: Sequence[Callback] = ()) -> StepInfo | None:
        """Run up to ``epochs`` epochs (no more than remain) and return the last one up close.

        The epochs before the last are announced to ``callbacks`` (``on_epoch_end``, ``on_batch_end`` and
        ``should_stop``, as :meth:`fit` does), so a UI can record them and stay responsive. None if training had
        already ended, or ended before any update of this call; if an earlier epoch of this call diverged, the close-up
        is of the last epoch that made an update. An exception raised inside an epoch (a callback interrupting a
        mini-batch epoch) ends training with status "stopped": the parameters moved, but the epoch never finished.
        """
        epochs = min(epochs, self.config.epochs - self.epoch)
        if self.done or epochs < 1:
            return None
        self._listen(callbacks)
        announced = len(self.history)
        before = last_before = None  # the parameters at the start of the last two epochs (p numbers each)
        t0 = time.perf_counter()
        inside = False
        try:
            for _ in range(epochs - 1):  # the first epochs − 1 as fast as fit runs them
                last_before, before = before, self.trained_params()
                inside = True
                going = self.run_epoch()
                inside = False
                if callbacks:
                    announced = self._announce(callbacks, announced, t0)
                if not going:
                    if self.status == "diverged" and last_before is not None and self.epoch >= 2:
                        # The epoch that diverged made no update: the close-up is the last one that did.
                        loss, grad = self.objective(last_before)
                        return StepInfo(epoch=self.epoch - 1, loss=loss, names=self.param_names, before=last_before,
                                        gradient=grad, after=before, lr=self.config.lr,
                                        standardized=self.config.standardize)
                    return None
            before = self.trained_params()
            loss, grad = self.objective(before)
            val = self._val_loss() if self._val_R is not None else None
            epoch = self.epoch + 1
            inside = True
            self.run_epoch()
            inside = False
        except BaseException:
            if inside:
                self.status, self.reason = "stopped", (f"Interrupted during epoch {self.epoch + 1:,}; the partial "
                                                       "model is kept.")
            raise
        finally:
            self.train_seconds += time.perf_counter() - t0
            self.should_stop, self.batch_hooks = None, []
        if self.epoch < epoch or self.status in ("diverged", "stopped"):  # no update was applied
            return None
        return StepInfo(epoch=epoch, loss=loss, names=self.param_names, before=before, gradient=grad,
                        after=self.trained_params(), lr=self.config.lr, standardized=self.config.standardize,
                        val_loss=val)

    def _announce(self, callbacks: Sequence[Callback], announced: int, t0: float) -> int:
        """Tell ``callbacks`` of the epoch just recorded, unless ``announced`` (the epochs told so far) already covers
        it; ``t0``: when this call's loop started. Returns the epochs told now."""
        history = self.history
        if len(history) > announced:
            event = EpochEvent(len(history), history[-1], self.train_seconds + time.perf_counter() - t0, self.params,
                               self.val_history[-1] if self.val_history else None)
            for cb in callbacks:
                cb.on_epoch_end(event)
        return len(history)

    def _listen(self, callbacks: Sequence[Callback], stop: StopFlag | None = None) -> None:
        """Let ``callbacks`` (and ``stop``) end the run between steps, and hear every mini-batch if they want to."""
        if stop is not None or callbacks:
            self.should_stop = lambda: (stop is not None and stop.is_set()) or any(cb.should_stop for cb in callbacks)
        # Only callbacks that override on_batch_end are called per step: a no-op call per batch is not free.
        self.batch_hooks = [cb for cb in callbacks if type(cb).on_batch_end is not Callback.on_batch_end]

    def result(self) -> TrainResult:
        """The model and history so far, in the original units; final once ``done``."""
        if not _finite_params(self.model):  # the last update overflowed: keep the last finite parameters
            self.engine.restore(self._good)
            self.status, self.reason = "diverged", (
                "The parameters overflowed to inf/NaN in the last epoch: the learning rate is too large for this data. "
                "Try a smaller learning rate or turn on standardization."
            )
        icpt, coef = self.params()
        return TrainResult(
            intercept=icpt, coef=coef, loss_history=list(self.history), status=self.status or "stopped",
            reason=self.reason, epochs_run=len(self.history), device=str(self.device), dtype=self.config.dtype,
            train_seconds=self.train_seconds, terms=list(self.design.terms), config=self.config,
            engine=self.engine.name, val_loss_history=list(self.val_history) if self.validation is not None else None,
        )

    def fit(self, callbacks: Sequence[Callback] = (), stop: StopFlag | None = None,
            between: Callable[[int], None] | None = None) -> TrainResult:
        """Run the remaining epochs, announcing each to ``callbacks``, and return the result.

        ``stop`` (e.g. a ``threading.Event``) or any callback's ``should_stop`` ends the run early with status
        "stopped"; :meth:`resume` lets ``fit`` go on from there with the same model and optimizer state.
        ``between(epoch)`` runs after each announced epoch (a UI paces a run with it); it changes no number.
        """
        self._listen(callbacks, stop)
        if self.epoch == 0:
            info = self.start_info()
            for cb in callbacks:
                cb.on_train_start(info)
        history, run_epoch, announced = self.history, self.run_epoch, len(self.history)
        t0 = time.perf_counter()
        try:
            while True:
                going = run_epoch()
                if callbacks:  # every recorded epoch is announced, the last one too
                    announced = self._announce(callbacks, announced, t0)
                if not going:
                    break
                if between is not None:
                    waited = time.perf_counter()
                    between(len(history))
                    t0 += time.perf_counter() - waited  # a pacing wait is not training time
        finally:
            self.train_seconds += time.perf_counter() - t0
            self.should_stop, self.batch_hooks = None, []
        result = self.result()
        for cb in callbacks:
            cb.on_train_end(result)
        return result

    def change(self, **settings: object) -> list[Change]:
        """Change course between epochs: any of ``lr``, ``optimizer``, ``momentum``, ``epochs`` (the planned
        total) and ``tol``. The model and history are kept; a new optimizer starts with fresh state (Adam's
        moments, momentum's velocity), a new lr or momentum keeps it. Returns the changes made (also appended
        to ``changes``); a run that had completed goes on when ``epochs`` grows.

        >>> tr.run(50); tr.change(lr=0.05); tr.run()   # 50 epochs at the old lr, the rest at 0.05
        """
        fixed = sorted(set(settings) - set(CHANGEABLE))
        if fixed:
            raise ParameterError(f"The {fixed[0]!r} setting cannot change during a run (only "
                                 f"{', '.join(CHANGEABLE)} can); start a new run to change it.")
        new = replace(self.config, **settings).validate()
        if new.epochs < self.epoch:
            raise ParameterError(f"The 'epochs' parameter must be at least the {self.epoch:,} epochs already run. "
                                 f"Got {new.epochs!r} instead.")
        made = [Change(self.epoch, k, getattr(self.config, k), getattr(new, k)) for k in CHANGEABLE
                if getattr(new, k) != getattr(self.config, k)]
        if not made:
            return []
        old, self.config = self.config, new
        if new.optimizer != old.optimizer:
            foreach = False if self.device.type == "cpu" else None
            self.optimizer = build_optimizer(new.optimizer, self.model.parameters(), new.lr, new.momentum, foreach=foreach)
        else:
            for group in self.optimizer.param_groups:
                group["lr"] = new.lr
                if new.optimizer == "momentum":
                    group["momentum"] = new.momentum
        if self.status == "completed" and new.epochs > self.epoch:
            self.status, self.reason = None, None
        elif self.status is None and new.epochs == self.epoch:
            self.status = "completed"
        self.changes.extend(made)
        return made

    def resume(self) -> None:
        """After a stop, let :meth:`run_epoch` and :meth:`fit` go on (the model and optimizer state are kept)."""
        if self.status == "stopped":
            self.status, self.reason = None, None

    def checkpoint(self) -> Checkpoint:
        """The state after the epochs run so far, for :meth:`rewind` (a few tensors: cheap for a linear model)."""
        return Checkpoint(self.epoch, self.engine.snapshot(), copy.deepcopy(self.optimizer.state_dict()),
                          self._gen.get_state(), len(self.changes), self.config)

    def rewind(self, checkpoint: Checkpoint) -> None:
        """Go back to ``checkpoint``, taken earlier by this trainer with no change of course since: the
        parameters, the optimizer's state, the shuffling and the history are as they were after its epoch, so
        the epochs that follow are the same numbers again. A live UI pauses at the epoch it has shown with it."""
        if checkpoint.epoch > self.epoch or checkpoint.changes != len(self.changes) or checkpoint.config != self.config:
            raise ParameterError(f"This checkpoint (epoch {checkpoint.epoch}) is not an earlier state of this run; "
                                 "take one with checkpoint() and rewind before changing course.")
        self.engine.restore(checkpoint.params)
        self.optimizer.load_state_dict(copy.deepcopy(checkpoint.optimizer))
        self._gen.set_state(checkpoint.rng)
        del self.history[checkpoint.epoch:]
        del self.val_history[checkpoint.epoch:]
        self._good = self.engine.snapshot()
        if self.status == "stopped":  # still stopped, now after the checkpoint's epoch: resume() goes on from there
            self.reason = f"Stopped by request after epoch {checkpoint.epoch}."
        else:  # a finished run goes on from there
            self.status, self.reason = None, None

    def start_info(self) -> TrainStart:
        icpt, coef = self.params()
        return TrainStart(self.design.n_samples, list(self.design.terms), str(self.device), self.config.epochs,
                          icpt, coef.tolist())


def train(
    design: Design,
    config: TrainConfig | None = None,
    callbacks: Sequence[Callback] = (),
    stop: StopFlag | None = None,
    validation: Design | None = None,
) -> TrainResult:
    """Fit ``design`` by gradient descent as configured; see :class:`TrainConfig`.

    Full-batch runs use the sufficient-statistics engine (``engine="auto"``): each epoch costs O(p²)
    whatever the number of rows, with the same trajectory as the autograd loop. Mini-batch runs and
    ``engine="autograd"`` run the tutorial's forward/backward loop on device-resident data.
    ``validation`` (same terms) adds its MSE per epoch to the events and the result.
    """
    return Trainer(design, config, validation).fit(callbacks, stop)


def _check_float32_range(design: Design, scaling: _Scaling) -> None:
    """float32 holds magnitudes up to ~3.4e38 (and its squares only up to ~1.8e19): refuse data it would
    turn into inf, with the fix."""
    if design.X is not None:
        big = max(float(np.max(np.abs((design.X - scaling.mean) / scaling.scale), initial=0.0)),
                  float(np.max(np.abs(design.y), initial=0.0)))
    else:
        m = design.moments()
        big = max(float(np.max(np.abs(m.x_mean) + 10 * m.x_std, initial=0.0) / np.max(scaling.scale, initial=1.0)),
                  abs(m.y_mean) + 10 * np.sqrt(m.y_ss / m.n))
    if big > 1e18:
        raise ParameterError(
            f"The data has values as large as {big:.3g}, beyond what float32 training can square. "
            "Choose float64 precision, turn on standardization, or rescale the columns."
        )

