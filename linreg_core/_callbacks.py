"""Plain-Python training events and Lightning-style no-op callback hooks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._trainer import TrainResult

__all__ = ["Callback", "EpochEvent", "HistoryRecorder", "TrainStart"]


@dataclass(frozen=True)
class TrainStart:
    """Sent once before the first epoch."""

    n_samples: int
    terms: list[str]
    device: str
    epochs: int
    initial_intercept: float | None
    initial_coef: list[float]


@dataclass(frozen=True)
class EpochEvent:
    """Sent after every epoch. Parameters are in original units, after the epoch's update."""

    epoch: int  # 1-based
    loss: float  # full batch: loss computed in this epoch before its update (the tutorial's print)
    intercept: float | None
    coef: list[float]
    elapsed: float  # seconds since the loop started


class Callback:
    """Override the hooks you need. Set ``should_stop = True`` to stop cooperatively:
    the trainer checks it after every step and ends with status "stopped"."""

    should_stop: bool = False

    def on_train_start(self, info: TrainStart) -> None:
        """Called once before the first epoch."""

    def on_epoch_end(self, event: EpochEvent) -> None:
        """Called after each epoch."""

    def on_train_end(self, result: TrainResult) -> None:
        """Called once with the final result, whatever the status."""


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
