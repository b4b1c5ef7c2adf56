"""The previous run drawn faded under the current one (studio/ghosts.py): before and after an outlier is deleted or
the batch size changes, on the fit, the loss curve and the landscape."""

from __future__ import annotations

import numpy as np
from app_support import edit_table, figures, goto, start, trace_values, traces, train_clicked

from studio.ghosts import GHOST_NAME

FIT, LOSS, LAND = "Data and fitted line", "Loss (MSE) per epoch", "Loss landscape (log₁₀ MSE)"


def test_after_the_batch_size_changes_the_previous_run_is_drawn_faded_on_every_chart():
    at = start()
    assert GHOST_NAME not in traces(figures(at)[FIT])  # nothing before a first run
    first = train_clicked(at)
    assert GHOST_NAME not in traces(figures(at)[LOSS])  # one run: nothing to compare yet
    at.sidebar.number_input(key="_w_batch_size").set_value(1).run()
    second = train_clicked(at)
    figs = figures(at)
    loss = traces(figs[LOSS])[GHOST_NAME]
    np.testing.assert_allclose(trace_values(loss, "y"), first.history, rtol=1e-6)  # the full-batch curve, faded
    assert not np.allclose(trace_values(loss, "y"), second.history[:len(first.history)])
    fit = traces(figs[FIT])[GHOST_NAME]
    x = trace_values(fit, "x")
    np.testing.assert_allclose(trace_values(fit, "y"), first.intercept + first.coef[0] * x, rtol=1e-6)
    land = traces(figs[LAND])[GHOST_NAME]
    assert trace_values(land, "x")[-1] == np.float32(first.intercept) or np.isclose(trace_values(land, "x")[-1],
                                                                                    first.intercept)
    assert figs[FIT]["data"][0]["name"] == "data"  # the data stay trace 0 (an edit's events number them)


def test_after_a_point_is_deleted_the_run_on_the_old_points_stays_faded():
    at = start()
    run = train_clicked(at)
    goto(at, "data")
    edit_table(at, {"edited_rows": {}, "added_rows": [], "deleted_rows": [3]})  # the point at x = 3.5
    goto(at, "train")
    figs = figures(at)
    assert "gradient descent" not in traces(figs[FIT])  # the run trained on the old points: not this data's
    faded = traces(figs[FIT])[GHOST_NAME]
    x = trace_values(faded, "x")
    np.testing.assert_allclose(trace_values(faded, "y"), run.intercept + run.coef[0] * x, rtol=1e-6)
    np.testing.assert_allclose(trace_values(traces(figs[LOSS])[GHOST_NAME], "y"), run.history, rtol=1e-6)


def test_a_run_of_another_model_is_not_drawn_as_the_previous_one():
    at = start()
    train_clicked(at)
    goto(at, "data")
    at.number_input(key="_w_sel_degree").set_value(2).run()  # x and x²: another model, not comparable
    goto(at, "train")
    train_clicked(at)
    assert GHOST_NAME not in traces(figures(at)[FIT])


def test_pinned_runs_overlay_their_loss_curves_by_number():
    at = start()
    first = train_clicked(at)
    at.sidebar.number_input(key="_w_lr").set_value(0.05).run()
    second = train_clicked(at)
    at.sidebar.number_input(key="_w_lr").set_value(0.1).run()
    train_clicked(at)
    picker = at.multiselect(key="_w_ui_pinned")
    assert picker.options[0].startswith("Run 1 · SGD lr 0.01 · batch full · loss ")
    picker.set_value([first.started, second.started]).run()
    curves = traces(figures(at)[LOSS])
    np.testing.assert_allclose(trace_values(curves["run 1"], "y"), first.history, rtol=1e-6)
    np.testing.assert_allclose(trace_values(curves["run 2"], "y"), second.history, rtol=1e-6)
    at.multiselect(key="_w_ui_pinned").set_value([]).run()
    assert "run 1" not in traces(figures(at)[LOSS])
