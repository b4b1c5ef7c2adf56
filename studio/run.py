"""The record of one Train run: what the pages, the live charts and the exports read.

A background job (studio/jobs.py) fills it in place while the run trains; the page only reads it. Its
``lock`` is taken by whoever changes ``status`` (the job at the end, a Stop click) so no epoch lands after
a run is marked finished.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from linreg_core import TrainConfig

RUNNING = "running"


@dataclass(eq=False)
class RunRecord:
    key: tuple  # the problem it trains on (dataset version, columns, degree, intercept, split)
    config: TrainConfig  # the settings it started with
    dataset: str  # the dataset's name when it started
    started: float = field(default_factory=time.time)  # wall clock, for ordering with the Step page
    status: str = RUNNING  # running | completed | converged | stopped | diverged
    reason: str | None = None  # plain words for stopped / diverged / converged
    history: list[float] = field(default_factory=list)  # training loss per epoch, before its update
    val_history: list[float] = field(default_factory=list)  # validation MSE per epoch, with a split
    intercept: float | None = None  # the parameters now, in the data's units (read a few times a second)
    coef: list[float] | None = None
    epochs_run: int = 0
    rows_done: int = 0  # rows into the current mini-batch epoch
    device: str | None = None
    train_seconds: float = 0.0  # the training loop alone
    draws: int = 0  # live redraws, and the time they took (the cost of watching)
    draw_seconds: float = 0.0
    last_epoch_wall: float = 0.0  # when the loop last made progress (time.time), logged at Stop
    path: list[tuple[float, float]] | None = None  # (intercept, slope) points for the loss landscape
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    finished: threading.Event = field(default_factory=threading.Event, repr=False)  # set when the job has ended

    @property
    def running(self) -> bool:
        return self.status == RUNNING

    @property
    def has_model(self) -> bool:
        return self.coef is not None

    @property
    def final_loss(self) -> float | None:
        return self.history[-1] if self.history else None

    @property
    def params(self) -> tuple[float | None, list[float]]:
        return self.intercept, list(self.coef or [])
