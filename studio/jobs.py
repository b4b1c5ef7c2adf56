"""Training in a background thread: the page stays free to redraw, and Stop is handled at once.

The Streamlit script thread only starts a job and reads its :class:`~studio.run.RunRecord`; the job's
thread runs :meth:`linreg_core.Trainer.fit` and fills the record through :class:`Recorder` (plain Python,
never a Streamlit call: Streamlit is not thread-safe outside its script thread). Each browser session owns
one :class:`JobSlot` through a session-scoped resource, so a closed tab or a refresh stops its job.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import streamlit as st
from streamlit.logger import get_logger

from linreg_core import Callback, EpochEvent, LinregError, Trainer, TrainStart

from .run import RUNNING, RunRecord

log = get_logger(__name__)
EARLY_PATH = 500  # epochs whose parameters all go on the landscape path
PARAMS_EVERY = 0.02  # seconds between parameter reads inside the loop (each read costs µs)
# Why a run stopped; {epoch} is the epoch the model is at when the loop has ended.
BY_YOU = "Stopped by you at epoch {epoch}; the partial model and history are kept."
CHANGED = "Stopped at epoch {epoch}: training was interrupted by a change of data or settings; the partial model is kept."
LEFT = "Stopped at epoch {epoch}: training was interrupted when you left the Train page; the partial model is kept."
NEW_RUN = "Stopped at epoch {epoch}: a new run was started."
CLOSED = "Stopped at epoch {epoch}: the browser tab was closed."


class Recorder(Callback):
    """Fills a RunRecord as the trainer runs. Every epoch's loss; the parameters a few dozen times a second
    and at the end; the landscape path densely early on (where it bends) and about 3,000 points in all."""

    def __init__(self, run: RunRecord) -> None:
        self.run = run
        self._last = 0.0
        self._path_every = 1

    @property
    def should_stop(self) -> bool:
        return self.run.status != RUNNING

    def on_train_start(self, info: TrainStart) -> None:
        self._path_every = max(1, info.epochs // 3000)  # (the record starts at info's parameters: new_run)

    def on_batch_end(self, epoch: int, rows_done: int, params: Callable[[], tuple]) -> None:
        # A mini-batch epoch over a million rows can take seconds: show progress inside it.
        now = time.monotonic()
        if now - self._last < PARAMS_EVERY:
            return
        self._last = now
        b, w = params()
        run = self.run
        with run.lock:
            if run.status == RUNNING:
                run.intercept, run.coef = b, [float(v) for v in w]
                run.rows_done, run.last_epoch_wall = rows_done, time.time()

    def on_epoch_end(self, event: EpochEvent) -> None:
        run = self.run
        with run.lock:  # whoever marks the run finished takes it too: no epoch lands after that
            if run.status != RUNNING:
                return
            run.history.append(event.loss)
            if event.val_loss is not None:
                run.val_history.append(event.val_loss)
            run.epochs_run, run.rows_done = event.epoch, 0
            if run.path is not None and (event.epoch <= EARLY_PATH or event.epoch % self._path_every == 0):
                run.path.append((event.intercept, event.coef[0]))
            now = time.monotonic()
            if now - self._last >= PARAMS_EVERY:
                self._last = now
                run.intercept, run.coef = event.intercept, event.coef
                run.train_seconds, run.last_epoch_wall = event.elapsed, time.time()


class TrainingJob:
    """One run trained in a daemon thread. ``stop(why)`` ends it within one epoch (one batch with mini-batches)."""

    def __init__(self, run: RunRecord, trainer: Trainer) -> None:
        self.run, self.trainer = run, trainer
        self._stop = threading.Event()
        self._why = ""
        self.thread = threading.Thread(target=self._main, name=f"train-{id(run):x}", daemon=True)

    def start(self) -> TrainingJob:
        log.info("run %x started: %d epochs on %d rows", id(self.run), self.trainer.config.epochs,
                 self.trainer.design.n_samples)
        self.thread.start()
        return self

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()

    def stop(self, why: str, wait: float = 5.0) -> None:
        """Ask the loop to end and wait for it briefly. ``why`` becomes the reason, with ``{epoch}`` filled in
        once the loop has ended (so the message names the epoch the model is really at)."""
        self._why = why
        self._stop.set()
        if self.thread.is_alive() and threading.current_thread() is not self.thread:
            self.thread.join(wait)

    def _main(self) -> None:
        run, tr = self.run, self.trainer
        result = None
        try:
            result = tr.fit([Recorder(run)], stop=self._stop)
        except LinregError as exc:  # a setting the trainer refused mid-run: say it, keep what ran
            run.reason = str(exc)
        except Exception:  # a bug of ours: the log has the trace, the user a plain sentence
            log.exception("run %x failed", id(run))
            run.reason = "Training failed unexpectedly; the partial model is kept. The server log has the details."
        finally:
            with run.lock:
                if result is not None:
                    run.history[:] = tr.history  # the loop may have finished epochs the recorder skipped
                    run.val_history[:] = tr.val_history
                    run.intercept, run.coef = result.intercept, [float(v) for v in result.coef]
                    run.epochs_run, run.train_seconds, run.device = result.epochs_run, result.train_seconds, result.device
                    if run.path is not None and run.coef and run.path[-1] != (run.intercept, run.coef[0]):
                        run.path.append((run.intercept, run.coef[0]))
                run.rows_done = 0
                if self._stop.is_set():
                    run.status = "stopped"
                    run.reason = self._why.format(epoch=f"{run.epochs_run:,}")
                elif result is not None:
                    run.status, run.reason = result.status, result.reason
                else:
                    run.status = "stopped"
            run.finished.set()
            log.info("run %x ended at epoch %d (%s)", id(run), run.epochs_run, run.status)


class JobSlot:
    """The one training job a browser session may have; starting another stops the previous one."""

    def __init__(self) -> None:
        self.job: TrainingJob | None = None

    def start(self, job: TrainingJob) -> TrainingJob:
        self.stop(NEW_RUN)
        self.job = job
        return job.start()

    def stop(self, why: str, wait: float = 5.0) -> None:
        if self.job is not None and self.job.alive:
            self.job.stop(why, wait)

    def current(self, run: RunRecord | None) -> TrainingJob | None:
        return self.job if self.job is not None and run is not None and self.job.run is run else None


def _release(slot: JobSlot) -> None:
    slot.stop(CLOSED, wait=0.0)


@st.cache_resource(scope="session", on_release=_release, show_spinner=False)
def job_slot() -> JobSlot:
    """This session's slot (released, and its job stopped, when the session disconnects)."""
    return JobSlot()
