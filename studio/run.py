"""The records of the runs the pages exchange — a Train run, a race, a Step session — and the one status they share.

A Train run's record is filled in place by a background job (studio/jobs.py) while the run trains; the page only
reads it. Its ``lock`` is taken by whoever changes ``status`` (the job at the end, a Stop click) so no epoch lands
after a run is marked finished. A race's record is filled by its callback (studio/live.py) each round, under its
``lock`` too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from linreg_core import Change, TrainConfig

if TYPE_CHECKING:  # torch: loaded once a run trains, not with the page
    from linreg_core import Trainer


class RunStatus(str, Enum):
    """Where a run (or a race, or one of its lanes) is. A ``str``: it compares equal to the library's statuses
    (``TrainResult.status``) and reads as its value in text and JSON."""

    RUNNING = "running"
    PAUSED = "paused"  # a Train run's thread has ended; its trainer (model, optimizer state) waits for Resume
    COMPLETED = "completed"  # every planned epoch ran
    CONVERGED = "converged"  # the loss stopped changing (tol)
    STOPPED = "stopped"  # by the user, a page switch or a new setting
    DIVERGED = "diverged"  # the loss blew up

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


RUNNING, PAUSED = RunStatus.RUNNING, RunStatus.PAUSED
Point = tuple[float, float]  # (intercept, slope): a place on the loss landscape


def landscape_point(intercept: float | None, coef: Sequence[float]) -> Point | None:
    """Where parameters sit on the loss landscape, which exists for an intercept and one slope; None otherwise.
    Every path the pages draw (a run's, a race lane's, the Step page's) is made of these."""
    return (float(intercept), float(coef[0])) if intercept is not None and len(coef) == 1 else None
Snapshot = tuple[int, float | None, tuple[float, ...]]  # (epoch, intercept, coef) after that epoch


@dataclass(eq=False)
class RunRecord:
    key: tuple  # the problem it trains on (dataset version, columns, degree, intercept, split)
    config: TrainConfig  # the settings it started with
    dataset: str  # the dataset's name when it started
    terms: tuple[str, ...] = ()  # the model's terms: a later run of the same terms draws this one faded (ghosts.py)
    started: float = field(default_factory=time.time)  # wall clock, for ordering with the Step page
    status: RunStatus = RUNNING
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
        points = (landscape_point(b, c) for e, b, c in self.snapshots if upto is None or e <= upto)
        return [p for p in points if p is not None]


@dataclass(eq=False)
class RaceLane:
    """One lane of a race: an optimizer and learning rate, and what it has done so far."""

    label: str  # "1: Adam lr 0.1": the legend's and the table's name
    optimizer: str
    lr: float
    color: str
    history: list[float] = field(default_factory=list)  # the trainer's own loss list: it grows in place
    path: list[Point] | None = None  # per recorded round; None off the landscape
    status: RunStatus = RUNNING
    reason: str | None = None


@dataclass(eq=False)
class RaceRecord:
    """A race on the Race page: its lanes, filled by its callback (studio/live.py) round by round."""

    key: tuple  # the problem it runs on
    epochs: int
    tol: float  # the fraction of the start's excess loss a lane must reach
    lanes: list[RaceLane]
    configs: list[TrainConfig]  # one per lane
    status: RunStatus = RUNNING  # running, then completed or stopped
    stopped_why: str | None = None  # "by you" or "interrupted"
    min_loss: float = 0.0  # the exact fit's loss: the floor of every curve
    start_loss: float | None = None  # every lane's first loss (one start): the charts' scale
    round: int = 0
    draws: int = 0  # how often the page has drawn it (the lane table is redrawn every fifth time)
    stream: Any = None  # studio.live.RaceStream: the numbers the browser draws
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def running(self) -> bool:
        return self.status == RUNNING


@dataclass(eq=False)
class StepRecord:
    """The Step page's session: a trainer stepped by hand (Step 1, Step k), and what the page shows of it."""

    key: tuple  # the problem it trains on
    config: TrainConfig
    trainer: Trainer
    path: list[Point | None] | None  # after each epoch; None off the landscape
    last: Any = None  # linreg_core.StepInfo of the latest epoch, shown up close
    touched: float = 0.0  # when it last stepped, time.time() (How it works shows the newer of it and the last run)
    plan: dict[str, int] | None = None  # a played Step k: {"start", "target"} epochs, trained a part at a time
    playing: Any = None  # studio.stream.Film the browser is playing, if any
    film: Any = None  # the last film (the stream route serves it)
    film_from: tuple | None = None  # (epoch, trainer checkpoint, StepInfo) where a film began: Stop goes back there
