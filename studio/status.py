"""What the Train page says of a run, in words: built from the run's record, so it can be checked without a page."""

from __future__ import annotations

from linreg_core import Design, ExactFit

from . import explain
from .run import RunRecord
from .state import gap
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
            f"&nbsp;·&nbsp; gap to exact **{gap((b, list(coef or [])), exact):.3g}**")
