"""The optimizer race: same data, same start, one epoch per lane per round, epochs to tolerance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from linreg_core import (
    Callback,
    ParameterError,
    RaceCallback,
    TrainConfig,
    build_design,
    epochs_to_tolerance,
    fit_exact,
    race,
    train,
)


def _cfg(**kw) -> TrainConfig:
    return TrainConfig(**{"device": "cpu", "dtype": "float64", "epochs": 300, "standardize": True, **kw})


def test_lanes_start_from_the_same_parameters_and_match_solo_runs(multi_df):
    design = build_design(multi_df, "y")
    configs = [_cfg(optimizer="sgd", lr=0.1), _cfg(optimizer="adam", lr=0.1, seed=9), _cfg(optimizer="momentum", lr=0.05)]

    class Spy(Callback):  # one callback family: a race calls its race hooks
        rounds = 0

        def on_race_start(self, trainers, min_loss):
            self.starts = [tr.params() for tr in trainers]

        def on_round_end(self, epoch, trainers):
            self.rounds += 1
            assert all(tr.epoch == epoch for tr in trainers)  # round-robin: nobody runs ahead

    spy = Spy()
    res = race(design, configs, tol=1e-6, callback=spy)
    first = spy.starts[0]
    for b, w in spy.starts[1:]:  # lane 2 asked for seed 9, but a race starts every lane at lane 1's point
        assert b == pytest.approx(first[0]) and np.allclose(w, first[1])
    assert spy.rounds == 300
    solo = train(design, TrainConfig(**{**configs[0].to_dict()}))
    assert res.lanes[0].result.loss_history == solo.loss_history
    assert all(len(lane.result.loss_history) == 300 for lane in res.lanes)


def test_epochs_to_tolerance_ranks_a_well_tuned_lr_first(tutorial_df):
    design = build_design(tutorial_df, "y")
    res = race(design, [_cfg(lr=0.01, epochs=5000, standardize=False), _cfg(lr=0.1, epochs=5000, standardize=False)],
               tol=1e-6)
    slow, fast = (lane.epochs_to_tol for lane in res.lanes)
    assert fast is not None and slow is not None and fast < slow / 5
    exact = fit_exact(design.X, design.y)
    assert res.min_loss == pytest.approx(float(np.mean((design.y - exact.predict(design.X)) ** 2)), abs=1e-20)
    h = res.lanes[1].result.loss_history
    assert h[fast - 1] - res.min_loss <= 1e-6 * (h[0] - res.min_loss) < h[fast - 2] - res.min_loss


def test_a_diverging_lane_stops_while_the_others_finish(tutorial_df):
    design = build_design(tutorial_df, "y")
    res = race(design, [_cfg(lr=0.05, epochs=200, standardize=False), _cfg(lr=1.0, epochs=200, standardize=False)])
    ok, bad = res.lanes
    assert ok.result.status == "completed" and ok.result.epochs_run == 200
    assert bad.result.status == "diverged" and bad.result.epochs_run < 200 and bad.epochs_to_tol is None


def test_callback_can_stop_the_race(tutorial_df):
    class StopAt(Callback):
        def on_round_end(self, epoch, trainers):
            self.should_stop = epoch == 7

    res = race(build_design(tutorial_df, "y"), [_cfg(lr=0.01), _cfg(lr=0.02)], callback=StopAt())
    assert [lane.result.epochs_run for lane in res.lanes] == [7, 7]
    assert all(lane.result.status == "stopped" for lane in res.lanes)


def test_lanes_must_share_the_objective(tutorial_df):
    design = build_design(tutorial_df, "y")
    with pytest.raises(ParameterError, match="same 'standardize' and 'l2'"):
        race(design, [_cfg(), _cfg(l2=0.1)])
    with pytest.raises(ParameterError, match="between 1 and 8"):
        race(design, [])
    with pytest.raises(ParameterError, match="'tol' parameter must be a float in \\(0, 1\\)"):
        race(design, [_cfg()], tol=0)


def test_epochs_to_tolerance_is_relative_to_the_first_excess():
    assert epochs_to_tolerance([10.0, 5.5, 1.9, 1.0], 1.0, 0.1) == 3
    assert epochs_to_tolerance([10.0, 9.0], 1.0, 0.1) is None
    assert epochs_to_tolerance([], 0.0, 0.1) is None


def test_a_race_and_a_run_take_the_same_callbacks():
    assert RaceCallback is Callback  # the old name stays, for code written against it
    heard = []

    class Both(Callback):
        def on_epoch_end(self, event):
            heard.append(("epoch", event.epoch))

        def on_round_end(self, epoch, trainers):
            heard.append(("round", epoch))

    design = build_design(pd.DataFrame({"x": [1.0, 2.0, 3.0, 3.5], "y": [2.0, 4.0, 6.0, 7.0]}), "y")
    train(design, _cfg(epochs=3, standardize=False), [Both()])
    race(design, [_cfg(epochs=2, standardize=False)], callback=Both())
    assert heard == [("epoch", 1), ("epoch", 2), ("epoch", 3), ("round", 1), ("round", 2)]
