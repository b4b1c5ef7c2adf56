"""The record of one Train run: what the pages, the live charts and the exports read.

A background job (studio/jobs.py) fills it in place while the run trains; the page only reads it. Its
``lock`` is taken by whoever changes ``status`` (the job at the end, a Stop click) so no epoch lands after
a run is marked finished.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from linreg_core import Change, TrainConfig

RUNNING = "running"
PAUSED = "paused"  # the job's thread has ended; its trainer (model, optimizer state) waits for Resume
Snapshot = tuple[int, float | None, tuple[float, ...]]  # (epoch, intercept, coef) after that epoch


@dataclass(eq=False)
class RunRecord:
    key: tuple  # the problem it trains on (dataset version, columns, degree, intercept, split)
    config: TrainConfig  # the settings it started with
    dataset: str  # the dataset's name when it started
    started: float = field(default_factory=time.time)  # wall clock, for ordering with the Step page
    status: str = RUNNING  # running | paused | completed | converged | stopped | diverged
    reason: str | None = None  # plain words for stopped / diverged / converged
    history: list[float] = field(default_factory=list)  # training loss per epoch, before its update
    val_history: list[float] = field(default_factory=list)  # validation MSE per epoch, with a split
    intercept: float | None = None  # the parameters now, in the data's units (read a few times a second)
    coef: list[float] | None = None
    epochs_run: int = 0
    rows_done: int = 0  # rows into the current mini-batch epoch
    device: str | None = None
    train_seconds: float = 0.0  # the training loop alone
    wall_seconds: float = 0.0  # the job's threads from start to end (pacing waits included, pauses not)
    draws: int = 0  # answers to the live charts' requests for numbers (studio/stream.py), the server's time for them
    draw_seconds: float = 0.0  # (the cost of watching) and their size
    streamed_bytes: int = 0
    last_epoch_wall: float = 0.0  # when the loop last made progress (time.time), logged at Stop
    # Parameters after epoch 0, 1, 2, ... (every epoch early on, then about 3,000 in all): the landscape's
    # path and the replay slider read them.
    snapshots: list[Snapshot] = field(default_factory=list)
    snapshot_t: list[float] = field(default_factory=list)  # time.monotonic() when each snapshot was taken
    changes: list[Change] = field(default_factory=list)  # changes of course (Pause, change, Resume)
    pace: str = "watch"  # studio/pace.py: the job reads it between epochs, so it may change mid-run
    released: int = 0  # the last epoch its pace has let out: the stream sends no later one while the run trains
    token: str = ""  # the page streams the run's numbers with it (studio/stream.py)
    shown_epoch: int = -1  # the epoch the page's live charts show, as the browser last said
    pressed: tuple[int, float] | None = None  # (the epoch shown, time.monotonic()) when Pause was pressed: where it stops
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    finished: threading.Event = field(default_factory=threading.Event, repr=False)  # set when the job has ended

    @property
    def running(self) -> bool:
        return self.status == RUNNING

    @property
    def paused(self) -> bool:
        return self.status == PAUSED

    @property
    def has_model(self) -> bool:
        return self.coef is not None

    @property
    def final_loss(self) -> float | None:
        return self.history[-1] if self.history else None

    @property
    def params(self) -> tuple[float | None, list[float]]:
        return self.intercept, list(self.coef or [])

    def snapshot_at(self, epoch: int) -> Snapshot:
        """The recorded parameters nearest at or before ``epoch`` (the last one when past the end)."""
        snaps = self.snapshots
        lo, hi = 0, len(snaps) - 1
        while lo < hi:  # binary search: the last snapshot with snapshot epoch <= epoch
            mid = (lo + hi + 1) // 2
            if snaps[mid][0] <= epoch:
                lo = mid
            else:
                hi = mid - 1
        return snaps[lo]

    def path(self, upto: int | None = None) -> list[tuple[float, float]]:
        """(intercept, slope) after each recorded epoch up to ``upto``: the optimizer's path on the landscape."""
        return [(b, c[0]) for e, b, c in self.snapshots if b is not None and c and (upto is None or e <= upto)]
