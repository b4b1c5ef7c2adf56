"""The live race: its callback keeps the race record current each round, and records what the browser draws.

The lanes' curves and paths are drawn by the browser, every animation frame, from the numbers a
:class:`RaceStream` serves on the live charts' stream route (studio/stream.py), as a Train run's are; the page
itself only updates the round and the lane table a few times a second.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import streamlit as st

from linreg_core import Callback

if TYPE_CHECKING:  # torch: loaded once a race runs, not with the page
    from linreg_core import Trainer

from .jobs import EARLY_PATH
from .run import RaceRecord, RunStatus, landscape_point
from .stream import Streamed, picked


@dataclass(eq=False)
class RaceStream(Streamed):
    """A race's numbers for the browser: every recorded round's loss and parameters per lane, with the server's
    clock when the round was due (its pace). Read by the stream route (studio/stream.py) like a Train run's
    record: ``status``, ``released``, ``total``, ``increment``; the status is the race record's."""

    record: RaceRecord
    total: int
    rounds: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    lanes: list[tuple[list, list, list]] = field(default_factory=list)  # per lane: intercepts, coefs, losses
    released: int = -1

    @property
    def lock(self):
        return self.record.lock

    @property
    def status(self) -> RunStatus:
        return self.record.status

    def add(self, rnd: int, trainers: list[Trainer]) -> None:
        """Round ``rnd``'s numbers (0: the start), each lane's loss being that of epoch ``rnd`` (before its update)."""
        if not self.lanes:
            self.lanes = [([], [], []) for _ in trainers]
        self.rounds.append(rnd)
        self.times.append(time.monotonic())
        for (bs, ws, losses), tr in zip(self.lanes, trainers):
            b, w = tr.params()
            h = tr.history
            bs.append(b)
            ws.append([float(v) for v in w])
            losses.append(float(h[rnd - 1]) if 0 < rnd <= len(h) else None)

    def increment(self, since: int, max_floats: int) -> dict[str, Any]:
        """The rounds after ``since`` that the pace has released, in columns (a race with many lanes and rounds
        sends every n-th; the browser interpolates)."""
        with self.lock:
            end = len(self.rounds)
            if self.status == RunStatus.RUNNING:  # a round its pace holds back is not on screen yet
                end = bisect.bisect_right(self.rounds, self.released)
            i = bisect.bisect_right(self.rounds, since, hi=end)
            p = len(self.lanes[0][1][0]) if self.lanes and self.lanes[0][1] else 1
            chosen = picked(i, end, max(1, len(self.lanes)) * (p + 2) + 2, max_floats)
            lanes = [{"b": [bs[j] for j in chosen], "w": [ws[j] for j in chosen], "loss": [ls[j] for j in chosen]}
                     for bs, ws, ls in self.lanes]
            first = lanes[0] if lanes else {"b": [None] * len(chosen), "w": [[]] * len(chosen), "loss": [None] * len(chosen)}
            return {"status": self.status, "epochs_run": max(self.released, 0), "total": self.total, "rows_done": 0,
                    "now": time.monotonic(), "e": [self.rounds[j] for j in chosen], "t": [self.times[j] for j in chosen],
                    "b": first["b"], "w": first["w"], "loss": first["loss"], "val": None, "last_loss": None,
                    "lanes": lanes}


class LiveRace(Callback):
    """Keeps the race record current each round and redraws a few times a second; Stop marks the record.

    ``pace`` spreads the race over at least that many seconds (rounds are cheap: a few hundred epochs of
    several optimizers on small data finish in a blink, too fast to watch).
    """

    def __init__(self, record: RaceRecord, draw: Callable[[dict[str, Any]], None] | None, pace: float = 0.0,
                 redraw_every: float = 0.2, yield_every: float = 0.02,
                 started: Callable[[RaceRecord], None] | None = None) -> None:
        self.record, self.draw, self.pace, self.started = record, draw, pace, started
        self.redraw_every, self.yield_every = redraw_every, yield_every
        self._t0 = self._last_draw = self._last_yield = 0.0
        self._path_every = 1
        self.stream = record.stream = RaceStream(record, int(record.epochs))

    @property
    def should_stop(self) -> bool:
        return not self.record.running

    def on_race_start(self, trainers: list[Trainer], min_loss: float) -> None:
        rec = self.record
        rec.min_loss = min_loss
        self._path_every = max(1, rec.epochs // 1500)  # about 1,500 points per lane after the early ones
        for lane, tr in zip(rec.lanes, trainers):
            lane.history = tr.history  # the trainer's own list: it grows in place, and survives a Stop
            b, w = tr.params()
            start = landscape_point(b, w)
            lane.path = [start] if start is not None else None
        with rec.lock:
            self.stream.add(0, trainers)
            self.stream.released = 0
        self._t0 = self._last_draw = self._last_yield = time.monotonic()

    def on_round_end(self, epoch: int, trainers: list[Trainer]) -> None:
        rec = self.record
        path_every = self._path_every
        with rec.lock:
            if not rec.running:
                return
            rec.round = epoch
            for lane, tr in zip(rec.lanes, trainers):
                lane.status, lane.reason = RunStatus(tr.status or RunStatus.RUNNING), tr.reason
                if lane.path is not None and not tr.done and (epoch <= EARLY_PATH or epoch % path_every == 0):
                    b, w = tr.params()
                    lane.path.append(landscape_point(b, w))
            last = epoch >= rec.epochs or all(tr.done for tr in trainers)
            if epoch <= EARLY_PATH or epoch % path_every == 0 or last:  # the browser's numbers: the same rounds
                self.stream.add(epoch, trainers)
            if epoch == 1:  # the loss at the common start (every lane's first): the charts' scale
                rec.start_loss = float(trainers[0].history[0])
        if epoch == 1 and self.started is not None:
            self.started(rec)  # the page draws its live charts now, once
        if self.pace > 0:  # sleep until this round's share of the paced duration
            due = self._t0 + self.pace * epoch / rec.epochs
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        with rec.lock:  # the round is due now: the browser shows it from this moment
            stream = self.stream
            if stream.rounds and stream.rounds[-1] == epoch:
                stream.times[-1] = time.monotonic()
            stream.released = epoch
        now = time.monotonic()
        if now - self._last_yield >= self.yield_every:
            st.session_state["_heartbeat"] = ("race", epoch)  # a yield point: Stop interrupts here
            self._last_yield = now
        if self.draw is not None and now - self._last_draw >= self.redraw_every:
            self.draw(rec)
            self._last_draw = now
