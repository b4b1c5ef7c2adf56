"""Optimizer race: several configurations trained on the same data from the same starting point,
one epoch each per round, so their loss curves and paths can be compared as they unfold."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ._callbacks import Callback, TrainResult
from ._config import TrainConfig
from ._design import Design
from ._guidance import loss_minimum
from ._trainer import StopFlag, Trainer
from .errors import ParameterError

__all__ = ["RaceCallback", "RaceLane", "RaceResult", "epochs_to_tolerance", "race"]

MAX_LANES = 8


@dataclass
class RaceLane:
    config: TrainConfig
    result: TrainResult
    epochs_to_tol: int | None  # first epoch whose loss was within tolerance; None if never


@dataclass
class RaceResult:
    lanes: list[RaceLane]
    min_loss: float  # the best the objective can reach (exact least squares, or the ridge optimum)
    tol: float
    seconds: float


RaceCallback = Callback  # one callback family: a race calls Callback's on_race_start and on_round_end


def epochs_to_tolerance(history: Sequence[float], min_loss: float, tol: float) -> int | None:
    """The first epoch (1-based) whose loss excess over ``min_loss`` is at most ``tol`` times the first
    epoch's excess; None if no epoch got there. Relative to the start, so it suits perfect fits too."""
    if not history:
        return None
    target = tol * max(history[0] - min_loss, 0.0)
    for i, v in enumerate(history, start=1):
        if v - min_loss <= target:
            return i
    return None


def race(design: Design, configs: Sequence[TrainConfig], tol: float = 1e-3, callback: Callback | None = None,
         stop: StopFlag | None = None) -> RaceResult:
    """Train every config on ``design`` from lane 0's initial parameters, round-robin one epoch at a time.

    Lanes must share ``standardize`` and ``l2`` (one objective, one minimum); a lane that diverges stops
    while the others run on.
    """
    if not 1 <= len(configs) <= MAX_LANES:
        raise ParameterError(f"A race needs between 1 and {MAX_LANES} configurations. Got {len(configs)} instead.")
    if not (isinstance(tol, (int, float)) and 0 < tol < 1):
        raise ParameterError(f"The 'tol' parameter must be a float in (0, 1). Got {tol!r} instead.")
    first = configs[0].validate()
    for c in configs[1:]:
        if (c.standardize, c.l2) != (first.standardize, first.l2):
            raise ParameterError("Every lane of a race must use the same 'standardize' and 'l2' settings, "
                                 "so that they minimize the same objective.")
    lead = Trainer(design, first)
    icpt0, coef0 = lead.params()
    start = {"init_weight": coef0.tolist(), "init_bias": icpt0}
    trainers = [lead] + [Trainer(design, replace(c, **{k: v for k, v in start.items() if getattr(c, k) is None}))
                         for c in configs[1:]]
    if stop is not None or callback is not None:
        halt = lambda: (stop is not None and stop.is_set()) or (callback is not None and callback.should_stop)  # noqa: E731
        for tr in trainers:
            tr.should_stop = halt
    min_loss = loss_minimum(design, first.standardize, first.l2)
    if callback is not None:
        callback.on_race_start(trainers, min_loss)
    t0 = time.perf_counter()
    epoch = 0
    while any(not tr.done for tr in trainers):
        epoch += 1
        for tr in trainers:
            tr.run_epoch()
        if callback is not None:
            callback.on_round_end(epoch, trainers)
    seconds = time.perf_counter() - t0
    lanes = []
    for c, tr in zip(configs, trainers):
        res = tr.result()
        lanes.append(RaceLane(c, res, epochs_to_tolerance(res.loss_history, min_loss, tol)))
    return RaceResult(lanes, min_loss, tol, seconds)
