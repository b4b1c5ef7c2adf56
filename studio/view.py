"""What the Train page's charts are drawn for: the next run's preview, the view whose change reruns the whole page, and
the loss axis a run starts with. Pure functions of the problem, the run and the settings."""

from __future__ import annotations

import numpy as np

from . import charts, layers, state
from .run import RunRecord


def next_run_preview(problem: state.Problem, run: RunRecord | None, config) -> object | None:
    """Where the next run would go (full batch, computed exactly): shown before Train, or with new settings after
    a run; not while a run trains or is paused."""
    if run is not None and (run.running or run.paused or run.config == config):
        return None
    return state.preview(problem, config)


def page_view(problem: state.Problem, run: RunRecord | None, config, pv) -> tuple:
    """What the page's charts are drawn for, besides the preview: (problem, epochs, run, the loss axis's decades
    before a run, the landscape's view). When it changes, the whole page reruns."""
    # Before a run, three decades below the starting loss (the same for every lr; a preview below it widens the axis).
    y_span = layers.decades([pv.losses[0], 1e-3 * pv.losses[0]]) if pv is not None and len(pv.losses) and run is None else None
    box: list = []
    d = problem.design
    if d.fit_intercept and len(d.terms) == 1:
        start = run.snapshots[0][1:] if run is not None and run.snapshots else state.start_params(problem, config, pv)
        box = layers.path_box(start, (problem.exact.intercept, problem.exact.coef),
                              state.preview(problem, run.config) if run is not None else pv)
    return (problem.key, int(config.epochs), run.started if run is not None else None, y_span, tuple(box))


def start_loss_span(problem: state.Problem, run: RunRecord) -> tuple[float, float]:
    """The losses a run's loss axis shows from its start: from the exact minimum to the first epoch's loss (the
    browser widens the axis if the run goes outside)."""
    pv = state.preview(problem, run.config)
    if pv is not None and pv.diverged_at is None and len(pv.losses) and run.config.epochs <= len(pv.losses):
        return float(np.min(pv.losses)), float(np.max(pv.losses))  # exactly the run's losses: its final axis
    top = run.history[0] if run.history else charts.mse_at(problem.design, run.snapshots[0][1:] if run.snapshots else None)
    floor = problem.stats.mse
    if not (top and top > 0 and top == top and top < float("inf")):
        top = max(1.0, 10 * floor)
    bottom = floor if floor > 1e-8 * top else 1e-6 * top
    return bottom, top
