"""What the Train page says of a run, in words: built from the run's record, so it can be checked without a page."""

from __future__ import annotations

from linreg_core import Design, ExactFit, TrainConfig

from . import explain, jobs, numbers, state
from .pace import PACES
from .run import RunRecord, RunStatus
from .text import md

STATUS_HELP = ("Loss: the mean squared error in that epoch, before its update (the loss curve's last point). "
               f"Gap to exact: {explain.GAP} (the dashed line is the exact fit).")


def status_line(run: RunRecord, design: Design, exact: ExactFit) -> str:
    """Where ``run`` is: epoch, loss, parameters and gap to the exact fit (Markdown). While it trains, the browser
    draws the same line itself from the streamed numbers (studio/live_chart.js)."""
    n, total = run.epochs_run, run.config.epochs
    b, coef = run.params
    loss = f"{run.final_loss:.6g}" if run.history else "—"
    word = "Paused at epoch" if run.paused else "Epoch"
    inside = f" (epoch {n + 1:,}: {run.rows_done:,} / {design.n_samples:,} rows)" if run.rows_done and run.running else ""
    head = f"**{word} {n:,} / {total:,}**{inside}"
    params = ", ".join(f"{md(t)} {c:.4g}" for t, c in zip(design.terms, coef or []))
    icpt = f"intercept {b:.4g}, " if b is not None else ""
    return (f"{head} &nbsp;·&nbsp; loss **{loss}** &nbsp;·&nbsp; {icpt}{params} "
            f"&nbsp;·&nbsp; gap to exact **{state.gap((b, list(coef or [])), exact):.3g}**")


def resume_notes(run: RunRecord, config: TrainConfig) -> list[str]:
    """For a paused run: what Resume will apply of the sidebar's ``config``, and what it cannot."""
    settings, fixed = jobs.changes_between(run.config, config)
    notes = []
    if settings:
        notes.append("Resume will apply: " + "; ".join(
            f"{k} {getattr(run.config, k)!s} → {v!s}" for k, v in settings.items()) + ".")
    if fixed:
        notes.append(f"Changed in the sidebar: {', '.join(fixed)}. Resume keeps what the run started with; press "
                     "**Train** to start a new run with them.")
    return notes


def ending(run: RunRecord) -> tuple[str, str]:
    """How a run ended, as (the Streamlit alert to show it with, Markdown)."""
    if run.status == RunStatus.DIVERGED:
        return "error", f"**Training diverged.** {run.reason}"
    if run.status == RunStatus.STOPPED:
        return "warning", run.reason or "Stopped."
    msg = f"**{run.status.capitalize()}** after {run.epochs_run:,} epochs in {run.train_seconds:.3f} s on {run.device}."
    return "success", msg + (f" {run.reason}" if run.reason else "")


def far_from_exact(problem: state.Problem, run: RunRecord) -> str | None:
    """A run that used all its epochs and is still far from the exact fit: why, from its numbers, and what to try."""
    if run.status != RunStatus.COMPLETED:
        return None
    exact = problem.exact
    distance = state.gap(run.params, exact)
    if distance <= 1e-3 * float(max(1.0, abs(exact.params).max())):
        return None
    g = state.guidance(problem, run.config.standardize, run.config.l2)
    other = None if run.config.standardize else state.guidance(problem, True, run.config.l2)
    return explain.far_from_exact_note(distance, run.epochs_run, run.config, g, other)


def validation_note(problem: state.Problem, run: RunRecord) -> str | None:
    """The validation MSE of the run and of the exact fit, and the epoch where the validation curve was lowest."""
    validation = problem.validation
    if validation is None or not run.val_history or run.paused:
        return None
    gd_val = state.validation_mse(validation, run.params)
    ex_val = state.validation_mse(validation, problem.exact)
    best = min(range(len(run.val_history)), key=run.val_history.__getitem__) + 1
    return (f"**Validation MSE** on {state.plural(validation.n_samples, 'held-out row')}: gradient descent "
            f"**{gd_val:.4g}**, exact fit **{ex_val:.4g}** (training MSE of the exact fit: "
            f"{numbers.loss(problem.stats, problem.stats.mse):.4g}). The validation curve was lowest at epoch {best:,}.")


def watching_note(run: RunRecord) -> str | None:
    """What watching the run cost the server (the browser drew it from streamed numbers)."""
    if not run.draws or run.paused or run.wall_seconds <= 0:
        return None
    return (f"Live charts: your browser drew this run every frame from {state.plural(run.draws, 'answer')} of the "
            f"server ({run.streamed_bytes / 1000:,.1f} kB of numbers, {1000 * run.draw_seconds:.0f} ms of its time; no "
            f"figure was built while it trained). Training itself took {run.train_seconds:.3f} s"
            + ("." if run.pace == "asap" else f" (the rest was the {PACES[run.pace].label} pace's waits)."))
