"""How fast a run plays. The trainer always runs at full speed; a paced run waits between epochs so that a
person sees the early epochs, where the line and the loss move most. Waiting changes no number.

A pace's rate grows with the epoch, ``rate(e) = r0 · (1 + e / e0)`` epochs per second, so epoch ``e`` is due
``T(e) = (e0 / r0) · ln(1 + e / e0)`` seconds into the run: at *Watch* the tutorial's 100 epochs take about
4.5 s — its first ten epochs, where the line swings most, a whole second (6 epochs a second at first) —
100,000 epochs about 18 s; a run never waits when the trainer itself is
slower than the schedule.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Pace:
    label: str
    start_rate: float | None  # epochs per second at the start; None: as fast as the trainer goes
    growth_epochs: float = 50.0  # e0: the rate has doubled after this many epochs, tripled after twice as many

    def seconds_to(self, epoch: float) -> float:
        """When ``epoch`` is due, in seconds after epoch 0 (0 for an unpaced run)."""
        if self.start_rate is None:
            return 0.0
        e0 = self.growth_epochs
        return e0 / self.start_rate * math.log1p(epoch / e0)


PACES: dict[str, Pace] = {
    "watch": Pace("Watch", 6.0, growth_epochs=12.0),
    "fast": Pace("Fast", 60.0),
    "asap": Pace("As fast as possible", None),
}
DEFAULT_PACE = "watch"
MIN_WAIT = 0.001  # shorter waits cost more than they show: let a few epochs through and wait once
MAX_LAG = 0.25  # a run this far behind its schedule (a slow trainer) starts the schedule again from now


def pace_of(name: str | None) -> Pace:
    return PACES.get(name or DEFAULT_PACE, PACES[DEFAULT_PACE])


class Pacer:
    """``between(epoch)`` for :meth:`linreg_core.Trainer.fit`: waits until ``epoch`` is due at the pace that
    ``pace()`` names now (it may change mid-run). The wait ends early when ``wake`` is set (Stop, Pause)."""

    def __init__(self, pace: Callable[[], str | None], wake: threading.Event,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.pace, self.wake, self.clock = pace, wake, clock
        self._anchor: tuple[float, int, Pace] | None = None  # (time, epoch, pace) the schedule counts from
        self.waited = 0.0  # seconds spent waiting, in all

    def __call__(self, epoch: int) -> None:
        pace = pace_of(self.pace())
        if pace.start_rate is None:
            self._anchor = None
            return
        now = self.clock()
        if self._anchor is None and epoch == 1:
            self._anchor = (now, 0, pace)  # the first epoch is on screen for its share of the schedule too
        elif self._anchor is None or self._anchor[2] is not pace:
            self._anchor = (now, epoch, pace)  # a new or changed pace counts from here
            return
        t0, e0, _ = self._anchor
        due = t0 + pace.seconds_to(epoch) - pace.seconds_to(e0)
        if due - now >= MIN_WAIT:
            self.waited += due - now
            self.wake.wait(due - now)
        elif now - due > MAX_LAG:
            self._anchor = (now, epoch, pace)
