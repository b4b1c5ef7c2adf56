"""The live-training callback: records every epoch into the run, redraws a few times a second."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import streamlit as st

from linreg_core import Callback, EpochEvent, RaceCallback, Trainer, TrainStart

EARLY_PATH = 500  # epochs whose parameters all go on the landscape path


class LiveTraining(Callback):
    """Fills ``run`` in place each epoch and calls ``draw`` at most every ``redraw_every`` seconds.

    Writing to st.session_state is a point where Streamlit can interrupt the script, so a Stop click,
    a page switch or a closed tab ends the loop within ``yield_every`` seconds — and because the run
    record is updated in place, the partial model and history survive the interruption.
    """

    def __init__(self, run: dict[str, Any], draw: Callable[[dict[str, Any]], None] | None,
                 redraw_every: float = 0.18, yield_every: float = 0.02) -> None:
        self.run = run
        self.draw = draw
        self.redraw_every = redraw_every
        self.yield_every = yield_every
        self._last_draw = self._last_yield = 0.0

    @property
    def should_stop(self) -> bool:
        # Another script run (Stop, a page switch) may mark the run stopped while this loop is still
        # between two yield points: then stop at once and leave the record as the user saw it.
        return self.run["status"] != "running"

    def on_train_start(self, info: TrainStart) -> None:
        self.run["device"] = info.device
        self.run["intercept"], self.run["coef"] = info.initial_intercept, info.initial_coef
        # The optimizer's path for the loss landscape: about 3,000 points whatever the number of epochs.
        self._path_every = max(1, info.epochs // 3000)
        if info.initial_intercept is not None and len(info.initial_coef) == 1:
            self.run["path"] = [(info.initial_intercept, info.initial_coef[0])]
        self._last_draw = self._last_yield = time.monotonic()

    def on_batch_end(self, epoch: int, rows_done: int, params: Callable[[], tuple]) -> None:
        # A mini-batch epoch over a million rows can take seconds: keep Stop and the charts alive inside it.
        now = time.monotonic()
        draw_due = self.draw is not None and now - self._last_draw >= self.redraw_every
        if now - self._last_yield < self.yield_every and not draw_due:
            return
        run = self.run
        with run["lock"]:
            if run["status"] != "running":
                return
            b, w = params()
            run["intercept"], run["coef"] = b, [float(v) for v in w]
            run["rows_done"] = rows_done
            run["last_epoch_wall"] = time.time()
        st.session_state["_heartbeat"] = (epoch, rows_done)  # a yield point
        self._last_yield = now
        if draw_due:
            self.draw(run)
            run["draws"] += 1
            run["draw_seconds"] += time.monotonic() - now
            self._last_draw = now

    def on_epoch_end(self, event: EpochEvent) -> None:
        run = self.run
        with run["lock"]:  # mark_interrupted takes it too: no epoch lands after a run is marked stopped
            if run["status"] != "running":
                return
            run["history"].append(event.loss)
            if event.val_loss is not None:
                run["val_history"].append(event.val_loss)
            run["epochs_run"] = event.epoch
            run["rows_done"] = 0
            # Every early epoch (where the path bends most), then every _path_every-th.
            if "path" in run and (event.epoch <= EARLY_PATH or event.epoch % self._path_every == 0):
                run["path"].append((event.intercept, event.coef[0]))
            now = time.monotonic()
            beat = now - self._last_yield >= self.yield_every
            if beat or self.draw is not None and now - self._last_draw >= self.redraw_every:
                # Parameters are read a few dozen times a second, not every epoch (each read costs µs).
                run["intercept"], run["coef"] = event.intercept, event.coef
                run["train_seconds"] = event.elapsed
                run["last_epoch_wall"] = time.time()  # when the loop last made progress; logged on Stop
        if beat:
            st.session_state["_heartbeat"] = event.epoch  # a yield point: Stop / page switch interrupt here
            self._last_yield = now
        if self.draw is not None and now - self._last_draw >= self.redraw_every:
            self.draw(run)
            done = time.monotonic()
            run["draws"] += 1
            run["draw_seconds"] += done - now
            self._last_draw = now  # measured from the start, so the rate holds while drawing takes time


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
