"""Training in a background thread: the page stays free to redraw, and Stop is handled at once.

The Streamlit script thread only starts a job and reads its :class:`~studio.run.RunRecord`; the job's
thread runs :meth:`linreg_core.Trainer.fit` and fills the record through :class:`Recorder` (plain Python,
never a Streamlit call: Streamlit is not thread-safe outside its script thread). Each browser session owns
one :class:`JobSlot` through a session-scoped resource, so a closed tab or a refresh stops its job.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

import streamlit as st
from streamlit.logger import get_logger

from linreg_core import Callback, Change, EpochEvent, LinregError, TrainConfig, TrainStart

from . import workload
from .pace import Pacer, pace_of
from .run import PAUSED, RUNNING, RunRecord

if TYPE_CHECKING:  # torch: loaded once a run trains, not with the page
    from linreg_core import Checkpoint, Trainer

log = get_logger(__name__)
EARLY_PATH = 500  # epochs whose parameters are all kept (the landscape path, replay); later about 3,000 in all
PARAMS_EVERY = 0.02  # seconds between parameter reads inside the loop (each read costs µs)
# A paced run keeps the trainer's state after each of its last epochs (a few tensors each), so that Pause stops at
# the epoch the page shows: the page is a redraw or two behind the loop, more on a busy machine.
CHECKPOINTS = 256
ALWAYS_KEPT = 20  # the first epochs of a paced run always keep their state
# Why a run stopped; {epoch} is the epoch the model is at when the loop has ended.
BY_YOU = "Stopped by you at epoch {epoch}; the partial model and history are kept."
CHANGED = "Stopped at epoch {epoch}: training was interrupted by a change of data or settings; the partial model is kept."
LEFT = ("Paused at epoch {epoch} when you left the Train page. Resume goes on to the planned epochs; you may change "
        "the learning rate, optimizer, momentum, epochs or tolerance first.")
NEW_RUN = "Stopped at epoch {epoch}: a new run was started."
CLOSED = "Stopped at epoch {epoch}: the browser tab was closed."
PAUSED_BY_YOU = ("Paused at epoch {epoch}. Resume goes on to the planned epochs; you may change the learning rate, "
                 "optimizer, momentum, epochs or tolerance first.")


class Recorder(Callback):
    """Fills a RunRecord as the trainer runs. Every epoch's loss; the parameters a few dozen times a second
    and at the end; snapshots of them densely early on (where the path bends) and about 3,000 in all."""

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
            if event.epoch <= EARLY_PATH or event.epoch % self._path_every == 0:
                run.snapshots.append((event.epoch, event.intercept, tuple(event.coef)))
                run.snapshot_t.append(time.monotonic())
            now = time.monotonic()
            if now - self._last >= PARAMS_EVERY:
                self._last = now
                run.intercept, run.coef = event.intercept, event.coef
                run.train_seconds, run.last_epoch_wall = event.elapsed, time.time()


def changes_between(old: TrainConfig, new: TrainConfig) -> tuple[dict, list[str]]:
    """(the settings a paused run can take from ``new``, the names of those that need a new run)."""
    fields = TrainConfig.__dataclass_fields__
    changed = [k for k in fields if getattr(old, k) != getattr(new, k)]
    from linreg_core import Trainer  # (there is a run: torch is loaded)

    return {k: getattr(new, k) for k in changed if k in Trainer.CHANGEABLE}, [k for k in changed if k not in Trainer.CHANGEABLE]


class Checkpoints(Callback):
    """The trainer's state after each of the last :data:`CHECKPOINTS` epochs that the pace waited for. A copy costs
    45–360 µs (SGD to Adam), as much as an epoch: it is taken only while the pacer has time to spare, which is
    where a person follows single epochs; a run going as fast as it can (unpaced, or a long run late at Watch)
    takes none and pauses where its loop is."""

    def __init__(self, trainer: Trainer, paced: Callable[[], bool], waited: Callable[[], float]) -> None:
        self.trainer, self.paced, self.waited = trainer, paced, waited
        self.kept: OrderedDict[int, Checkpoint] = OrderedDict()
        self._last_wait = waited()

    def on_train_start(self, info: TrainStart) -> None:
        if self.paced() and self.trainer.epoch == 0:  # the initial line: what the page shows first
            self.kept[0] = self.trainer.checkpoint()

    def on_epoch_end(self, event: EpochEvent) -> None:
        w = self.waited()
        # The pace waited before this epoch, or the run has just begun (its schedule starts counting at the first
        # epochs, which a person watches most closely).
        if self.paced() and (w != self._last_wait or event.epoch <= ALWAYS_KEPT):
            self._last_wait = w
            self.kept[event.epoch] = self.trainer.checkpoint()
            if len(self.kept) > CHECKPOINTS:
                self.kept.popitem(last=False)

    def rewind(self, epoch: int) -> bool:
        """Take the trainer back to ``epoch`` if its state then was kept (Trainer.rewind refuses a checkpoint from
        before a change of course)."""
        cp = self.kept.get(epoch)
        if cp is None or cp.epoch >= self.trainer.epoch or cp.changes != len(self.trainer.changes):
            return False
        self.trainer.rewind(cp)
        return True


class TrainingJob:
    """One run trained in a daemon thread. ``stop(why)`` ends it within one epoch (one batch with mini-batches);
    ``pause()`` ends the thread but keeps the trainer, and ``resume(config)`` goes on in a new thread."""

    def __init__(self, run: RunRecord, trainer: Trainer) -> None:
        self.run, self.trainer = run, trainer
        self._stop = threading.Event()
        self._why = ""
        self._pausing = False
        self._pause_at: int | None = None  # the epoch the page showed when Pause was pressed
        self.ticket: workload.Ticket | None = None  # its place for a heavy slot (studio/workload.py), if heavy
        self.client = workload.client_key()  # whose run, for the fair share of slots: read here, in the script thread
        self.thread = threading.Thread(target=self._main, name=f"train-{id(run):x}", daemon=True)

    @property
    def queued_behind(self) -> int | None:
        """Heavy jobs ahead of this run while it waits for a slot (before it starts, or taking turns); else None."""
        return workload.GATE.ahead(self.ticket) if self.ticket is not None else None

    def start(self) -> TrainingJob:
        log.info("run %x started: %d epochs on %d rows", id(self.run), self.trainer.config.epochs,
                 self.trainer.design.n_samples)
        self.thread.start()
        return self

    def pause(self, why: str = PAUSED_BY_YOU, at: int | None = None) -> None:
        """End the thread within an epoch, keeping the trainer: the record's status becomes "paused". ``at``: the
        epoch the page showed; a paced run that went on past it goes back there (its later epochs are recomputed
        the same on Resume), so the run pauses where the user saw it."""
        if self.thread.is_alive():
            self._pausing, self._pause_at = True, at
            self.stop(why)

    def resume(self, config: TrainConfig) -> list[Change]:
        """Go on from a pause with ``config``'s learning rate, optimizer, momentum, epochs and tolerance
        (Trainer.change); the other settings must be those the run started with. Returns the changes made."""
        run, tr = self.run, self.trainer
        if not run.paused or self.thread.is_alive():
            return []
        settings, fixed = changes_between(tr.config, config)
        if fixed:
            raise LinregError(f"Resume cannot change {', '.join(fixed)}: press Train to start a new run with them.")
        made = tr.change(**settings)
        tr.resume()
        if tr.done:  # e.g. epochs lowered to the epochs already run
            with run.lock:
                run.status, run.reason, run.config = tr.status, tr.reason, tr.config
                run.changes.extend(made)
            return made
        with run.lock:
            run.status, run.reason, run.config = RUNNING, None, tr.config
            run.changes.extend(made)
        run.finished.clear()
        self._stop.clear()
        self._why, self._pausing, self._pause_at = "", False, None
        self.thread = threading.Thread(target=self._main, name=f"train-{id(run):x}", daemon=True)
        log.info("run %x resumed at epoch %d%s", id(run), tr.epoch, "".join(f"; {c.describe()}" for c in made))
        self.thread.start()
        return made

    def change_course(self, config: TrainConfig) -> list[Change]:
        """A running run takes new changeable settings at once: pause, change, resume."""
        self.pause()
        return self.resume(config)

    def end(self, why: str) -> None:
        """Stop the run for good: a running one as stop(), a paused one at once."""
        if self.thread.is_alive():
            self.stop(why)
        elif self.run.paused:
            with self.run.lock:
                self.run.status, self.run.reason = "stopped", why.format(epoch=f"{self.run.epochs_run:,}")

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
        d, c = tr.design, tr.config
        self.ticket = (workload.Ticket("run", self.client)
                       if workload.heavy(d.n_samples, c.epochs - tr.epoch, len(d.terms), int(c.batch_size or 0))
                       else None)
        pacer = Pacer(lambda: run.pace, self._stop)

        def paced() -> bool:
            return pace_of(run.pace).start_rate is not None

        def between(epoch: int) -> None:
            # A heavy run holds a slot while it trains as fast as it can; a paced one gives it up (it mostly waits).
            ticket = self.ticket
            if ticket is not None:
                if paced():
                    if ticket.since is not None:
                        workload.GATE.leave(ticket)
                elif ticket.since is None:
                    workload.GATE.enter(ticket, self._stop)
                else:
                    workload.GATE.take_turns(ticket, self._stop)
            pacer(epoch)
            with run.lock:  # the epoch is due now: the browser shows it from this moment (studio/stream.py)
                if run.snapshots and run.snapshots[-1][0] == epoch:
                    run.snapshot_t[-1] = time.monotonic()
                run.released = epoch

        began = time.monotonic()
        left_queue = False  # stopped or paused while queued: nothing trained
        try:
            if self.ticket is not None and not paced() and not workload.GATE.enter(self.ticket, self._stop):
                left_queue = True
            else:
                began = time.monotonic()  # the wall time counts from the start of training, not of the queue
                kept = Checkpoints(tr, paced, lambda: pacer.waited)
                result = tr.fit([Recorder(run), kept], stop=self._stop, between=between)
                if (self._pausing and self._pause_at is not None and result.status == "stopped"
                        and kept.rewind(self._pause_at)):
                    result = tr.result()
                    with run.lock:
                        keep = sum(1 for s in run.snapshots if s[0] <= tr.epoch)  # sorted by epoch
                        del run.snapshots[keep:], run.snapshot_t[keep:]
                        run.released = tr.epoch
        except LinregError as exc:  # a setting the trainer refused mid-run: say it, keep what ran
            run.reason = str(exc)
        except Exception:  # a bug of ours: the log has the trace, the user a plain sentence
            log.exception("run %x failed", id(run))
            run.reason = "Training failed unexpectedly; the partial model is kept. The server log has the details."
        finally:
            if self.ticket is not None:
                workload.GATE.leave(self.ticket)
            with run.lock:
                if result is not None:
                    run.history[:] = tr.history  # the loop may have finished epochs the recorder skipped
                    run.val_history[:] = tr.val_history
                    run.intercept, run.coef = result.intercept, [float(v) for v in result.coef]
                    run.epochs_run, run.train_seconds, run.device = result.epochs_run, result.train_seconds, result.device
                    if not run.snapshots or run.snapshots[-1][0] != run.epochs_run:
                        run.snapshots.append((run.epochs_run, run.intercept, tuple(run.coef)))
                        run.snapshot_t.append(time.monotonic())
                run.rows_done = 0
                run.wall_seconds += time.monotonic() - began
                if self._stop.is_set() and self._pausing and (left_queue or (result is not None and result.status == "stopped")):
                    run.status = PAUSED
                    run.reason = self._why.format(epoch=f"{run.epochs_run:,}")
                elif self._stop.is_set() and (result is None or result.status == "stopped"):
                    run.status = "stopped"
                    run.reason = self._why.format(epoch=f"{run.epochs_run:,}")
                elif result is not None:  # it ended on its own (a click that came as it completed changes nothing)
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
        self.end(NEW_RUN)
        self.job = job
        return job.start()

    def stop(self, why: str, wait: float = 5.0) -> None:
        """Stop a running job (a paused one stays paused: leaving the page keeps it for Resume)."""
        if self.job is not None and self.job.alive:
            self.job.stop(why, wait)

    def pause(self, why: str) -> None:
        if self.job is not None:
            self.job.pause(why)

    def end(self, why: str) -> None:
        """Stop the job for good, paused or running."""
        if self.job is not None:
            self.job.end(why)

    def current(self, run: RunRecord | None) -> TrainingJob | None:
        return self.job if self.job is not None and run is not None and self.job.run is run else None


def _release(slot: JobSlot) -> None:
    slot.stop(CLOSED, wait=0.0)


@st.cache_resource(scope="session", on_release=_release, show_spinner=False)
def job_slot() -> JobSlot:
    """This session's slot (released, and its job stopped, when the session disconnects)."""
    return JobSlot()
