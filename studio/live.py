"""The live race callback: keeps the race record current each round and redraws a few times a second."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import streamlit as st

from linreg_core import RaceCallback, Trainer

from .jobs import EARLY_PATH


class LiveRace(RaceCallback):
    """Keeps the race record current each round and redraws a few times a second; Stop marks the record.

    ``pace`` spreads the race over at least that many seconds (rounds are cheap: a few hundred epochs of
    several optimizers on small data finish in a blink, too fast to watch).
    """

    def __init__(self, record: dict[str, Any], draw: Callable[[dict[str, Any]], None] | None, pace: float = 0.0,
                 redraw_every: float = 0.2, yield_every: float = 0.02) -> None:
        self.record, self.draw, self.pace = record, draw, pace
        self.redraw_every, self.yield_every = redraw_every, yield_every
        self._t0 = self._last_draw = self._last_yield = 0.0
        self._path_every = 1

    @property
    def should_stop(self) -> bool:
        return self.record["status"] != "running"

    def on_race_start(self, trainers: list[Trainer], min_loss: float) -> None:
        rec = self.record
        rec["min_loss"] = min_loss
        self._path_every = max(1, rec["epochs"] // 1500)  # about 1,500 points per lane after the early ones
        for lane, tr in zip(rec["lanes"], trainers):
            lane["history"] = tr.history  # the trainer's own list: it grows in place, and survives a Stop
            b, w = tr.params()
            lane["path"] = [(b, float(w[0]))] if b is not None and len(w) == 1 else None
        self._t0 = self._last_draw = self._last_yield = time.monotonic()

    def on_round_end(self, epoch: int, trainers: list[Trainer]) -> None:
        rec = self.record
        path_every = self._path_every
        with rec["lock"]:
            if rec["status"] != "running":
                return
            rec["round"] = epoch
            for lane, tr in zip(rec["lanes"], trainers):
                lane["status"], lane["reason"] = tr.status or "running", tr.reason
                if lane["path"] is not None and not tr.done and (epoch <= EARLY_PATH or epoch % path_every == 0):
                    b, w = tr.params()
                    lane["path"].append((b, float(w[0])))
        if self.pace > 0:  # sleep until this round's share of the paced duration
            due = self._t0 + self.pace * epoch / rec["epochs"]
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        now = time.monotonic()
        if now - self._last_yield >= self.yield_every:
            st.session_state["_heartbeat"] = ("race", epoch)  # a yield point: Stop interrupts here
            self._last_yield = now
        if self.draw is not None and now - self._last_draw >= self.redraw_every:
            self.draw(rec)
            self._last_draw = now
