"""Plain-Python training events, the result a run ends with, and Lightning-style no-op callback hooks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._config import TrainConfig

__all__ = ["Callback", "Change", "EpochEvent", "HistoryRecorder", "StepInfo", "TrainResult", "TrainStart"]


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
    engine: str = "autograd"  # "stats" (full batch, O(p²) per epoch) or "autograd"
    val_loss_history: list[float] | None = None  # validation MSE per epoch, when a validation set was given

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=np.float64) @ self.coef + (self.intercept or 0.0)

    @property
    def params(self) -> np.ndarray:
        if self.intercept is None:
            return self.coef.copy()
        return np.concatenate([[self.intercept], self.coef])


@dataclass(frozen=True)
class Change:
    """A change of course: from epoch ``epoch + 1`` on, ``setting`` was ``new`` instead of ``old``."""

    epoch: int  # epochs completed when the change took effect
    setting: str  # one of CHANGEABLE
    old: object
    new: object

    def describe(self) -> str:
        def show(v: object) -> str:
            return f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else f"{v:g}" if isinstance(v, float) else str(v)

        text = f"{self.setting} {show(self.old)} → {show(self.new)}"
        return text + " (optimizer state reset)" if self.setting == "optimizer" else text


@dataclass(frozen=True)
class StepInfo:
    """One epoch seen up close, in the space the optimizer works in (standardized units when
    ``standardize`` is on): the parameters before, the full-batch gradient there, and after."""

    epoch: int
    loss: float  # the training objective before the update (MSE, plus the L2 term when l2 > 0)
    names: list[str]  # "intercept" (when fitted) then one weight per term
    before: np.ndarray
    gradient: np.ndarray  # ∂loss/∂θ at ``before``, over all rows
    after: np.ndarray
    lr: float
    standardized: bool
    val_loss: float | None = None

    @property
    def update(self) -> np.ndarray:
        return self.after - self.before

    @property
    def sgd_update(self) -> np.ndarray:
        """What one plain full-batch SGD step would do: −lr · gradient."""
        return -self.lr * self.gradient


@dataclass(frozen=True)
class TrainStart:
    """Sent once before the first epoch."""

    n_samples: int
    terms: list[str]
    device: str
    epochs: int
    initial_intercept: float | None
    initial_coef: list[float]


class EpochEvent:
    """Sent after every epoch. Parameters are in original units, after the epoch's update.

    ``intercept`` and ``coef`` are read from the model when first asked for, so a callback that only
    logs the loss costs the loop nothing; read them inside the callback, not later.
    """

    __slots__ = ("_params", "_read", "elapsed", "epoch", "loss", "val_loss")

    def __init__(self, epoch: int, loss: float, elapsed: float,
                 params: Callable[[], tuple[float | None, np.ndarray]], val_loss: float | None = None) -> None:
        self.epoch = epoch  # 1-based
        self.loss = loss  # full batch: loss computed in this epoch before its update (the tutorial's print)
        self.elapsed = elapsed  # seconds since the loop started
        self.val_loss = val_loss  # MSE on the validation rows at the same parameters, when there are any
        self._read = params
        self._params: tuple[float | None, list[float]] | None = None

    def _get(self) -> tuple[float | None, list[float]]:
        if self._params is None:
            b, w = self._read()
            self._params = (b, [float(v) for v in w])
        return self._params

    @property
    def intercept(self) -> float | None:
        return self._get()[0]

    @property
    def coef(self) -> list[float]:
        return self._get()[1]

    def __repr__(self) -> str:
        return f"EpochEvent(epoch={self.epoch}, loss={self.loss!r}, val_loss={self.val_loss!r}, elapsed={self.elapsed:.6f})"


class Callback:
    """Override the hooks you need: one family for a run (``train``, ``Trainer.fit``, ``Trainer.step``) and a race.
    Set ``should_stop = True`` to stop cooperatively: the trainer checks it after every step and ends with status
    "stopped" (a race, after the current round)."""

    should_stop: bool = False

    def on_train_start(self, info: TrainStart) -> None:
        """Called once before the first epoch."""

    def on_epoch_end(self, event: EpochEvent) -> None:
        """Called after each epoch."""

    def on_batch_end(self, epoch: int, rows_done: int,
                     params: Callable[[], tuple[float | None, np.ndarray]]) -> None:
        """Mini-batch runs: called after each optimizer step, ``rows_done`` rows into ``epoch``;
        ``params()`` reads the current (intercept, coef) in original units."""

    def on_train_end(self, result: TrainResult) -> None:
        """Called once with the final result, whatever the status."""

    # A race (linreg_core.race) trains several lanes one epoch each per round and calls these instead.
    def on_race_start(self, trainers: list[Any], min_loss: float) -> None:
        """Called once, before the first round; every lane's ``Trainer`` is at the same starting parameters."""

    def on_round_end(self, epoch: int, trainers: list[Any]) -> None:
        """Called after each round, in which every lane still running trained one epoch."""


class HistoryRecorder(Callback):
    """Keeps every event; handy in notebooks and tests."""

    def __init__(self) -> None:
        self.events: list[EpochEvent] = []
        self.start: TrainStart | None = None
        self.result: TrainResult | None = None

    def on_train_start(self, info: TrainStart) -> None:
        self.start = info

    def on_epoch_end(self, event: EpochEvent) -> None:
        self.events.append(event)

    def on_train_end(self, result: TrainResult) -> None:
        self.result = result
