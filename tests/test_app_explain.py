"""Issue 6 in the app: the optimizer race, the validation split, step mode and How it works, through AppTest."""

from __future__ import annotations

import numpy as np
import pytest
from app_support import (
    figures,
    goto,
    shared_app,
    start,
    texts,
    trace_values,
    traces,
    train_clicked,
)

from linreg_core import TrainConfig, Trainer, build_design, race, train, train_val_split


def _markdown(at) -> str:
    return "\n".join(texts(at.markdown))


# --- Race -----------------------------------------------------------------------------------------------

def _race(lanes: list[tuple[str, float]], epochs: int | None = None):
    """Open Race at full speed, set the lanes (optimizer, lr) and the epochs, press Start race."""
    at = goto(start(), "race")
    at.toggle(key="_w_race_watch").set_value(False).run()
    at.number_input(key="_w_race_n").set_value(len(lanes)).run()
    for i, (opt, lr) in enumerate(lanes):
        at.selectbox(key=f"_w_race_opt_{i}").set_value(opt)
        at.number_input(key=f"_w_race_lr_{i}").set_value(lr)
    if epochs is not None:
        at.number_input(key="_w_race_epochs").set_value(epochs)
    at.run()
    at.button(key="btn_race").click().run()
    assert not at.exception
    return at


def test_race_trains_every_lane_from_the_same_start_and_ranks_them(tutorial_df):
    at = _race([("sgd", 0.01), ("sgd", 0.1), ("adam", 0.1)], epochs=2000)
    assert not at.exception
    rec = at.session_state.race
    assert rec.status == "completed" and [len(ln.history) for ln in rec.lanes] == [2000, 2000, 2000]
    # The same race in the library gives the same curves: the page adds nothing of its own.
    design = build_design(tutorial_df, "y")
    cfgs = [TrainConfig(optimizer=o, lr=lr, epochs=2000) for o, lr in (("sgd", 0.01), ("sgd", 0.1), ("adam", 0.1))]
    ref = race(design, cfgs, tol=1e-3)
    for lane, ref_lane in zip(rec.lanes, ref.lanes):
        assert lane.history == ref_lane.result.loss_history
    # Every lane's path starts at the same point.
    starts = {tuple(np.round(ln.path[0], 12)) for ln in rec.lanes}
    assert len(starts) == 1
    table = at.dataframe[0].value
    assert list(table["epochs to tolerance"]) == [f"{ln.epochs_to_tol:,}" for ln in ref.lanes]
    fastest = table.loc[table["rank"] == "1", "lane"].iloc[0]
    assert fastest.startswith("2: SGD lr 0.1")
    assert any("reached the tolerance first" in s and "2: SGD lr 0.1" in s for s in texts(at.success))
    figs = figures(at)
    race_fig = figs["Loss above the minimum, per epoch"]
    assert [t["name"] for t in race_fig["data"]] == [ln.label for ln in rec.lanes]
    land = traces(figs["Loss landscape (log₁₀ MSE)"])
    assert all(ln.label in land for ln in rec.lanes)


def test_the_race_streams_each_lanes_own_numbers_for_the_browser_to_draw():
    at = _race([("sgd", 0.01), ("momentum", 0.01), ("adam", 0.1)], epochs=2000)
    rec = at.session_state.race
    news = rec.stream.increment(-1, 10**9)  # what the live charts were sent, all of it
    assert news["status"] == "completed" and news["e"] == list(range(2001))  # the start and every round
    for lane, sent in zip(rec.lanes, news["lanes"]):
        assert sent["loss"][0] is None  # the start: no epoch has run
        assert [sent["loss"][k] for k in range(1, len(news["e"]))] == [lane.history[e - 1] for e in news["e"][1:]]
        assert (sent["b"][-1], sent["w"][-1][0]) == pytest.approx(lane.path[-1])  # it ends where the lane did
    assert len({(s["b"][0], s["w"][0][0]) for s in news["lanes"]}) == 1  # one start for all
    # A long race is thinned to fit an answer, its newest round kept.
    short = rec.stream.increment(-1, 600)
    assert len(short["e"]) < len(news["e"]) and short["e"][-1] == 2000
    # The live charts drawn at the start: the lanes' legend with no data, the lanes as layers the browser draws.
    live = [el for el in at.get("bidi_component") if '"race_loss"' in el.proto.json]
    assert live  # (the final figure has replaced the live one in the same chart)


def test_race_reports_a_diverging_lane_and_keeps_the_rest():
    at = _race([("sgd", 0.05), ("sgd", 5.0)])
    assert any("Lane **2: SGD lr 5** diverged" in e for e in texts(at.error))
    table = at.dataframe[0].value
    assert list(table["status"]) == ["completed", "diverged"]
    # A lane that never got there says so, in words, and has no rank (not "None").
    assert table["rank"].iloc[0] == "1" and table["rank"].iloc[1] == "—"
    assert table["epochs to tolerance"].iloc[1] == "not reached" and "None" not in table.to_string()
    # The landscape is framed on the lanes that converge: the diverging one (at ~1e5) is clipped, not zoomed to.
    land = figures(at)["Loss landscape (log₁₀ MSE)"]
    assert max(abs(v) for v in land["layout"]["xaxis"]["range"] + land["layout"]["yaxis"]["range"]) < 10


# --- Validation -------------------------------------------------------------------------------------------

def _wave(at):
    goto(at, "data")
    at.button(key="preset_wave").click().run()
    return goto(at, "train")


def test_validation_split_draws_both_curves_and_matches_the_library():
    at = _wave(start())
    at.toggle(key="_w_validation").set_value(True).run()
    at.number_input(key="_w_sel_degree").set_value(3).run()
    at.toggle(key="_w_standardize").set_value(True)
    at.number_input(key="_w_lr").set_value(0.1)
    at.number_input(key="_w_epochs").set_value(500).run()
    assert any("24 training rows + 6 validation rows" in c for c in texts(at.caption))
    run = train_clicked(at)
    assert len(run.val_history) == len(run.history) == 500
    from studio.presets import wave

    full = build_design(wave(), "y", ["x"], degree=3)
    tr, va = train_val_split(full, 0.2, seed=0)
    ref = train(tr, TrainConfig(lr=0.1, epochs=500, standardize=True), validation=va)
    np.testing.assert_allclose(run.val_history, ref.val_loss_history, rtol=1e-12)
    loss = traces(figures(at)["Loss (MSE) per epoch"])
    assert set(loss) >= {"training loss", "validation MSE"}
    np.testing.assert_allclose(trace_values(loss["validation MSE"], "y"), ref.val_loss_history, rtol=1e-12)
    fit = traces(figures(at)["Data and fitted line"])
    assert len(trace_values(fit["validation rows"], "x")) == 6 and len(trace_values(fit["training rows"], "x")) == 24
    assert "Validation MSE" in _markdown(at)


def test_degree_sweep_shows_under_and_over_fitting():
    at = _wave(start())
    at.toggle(key="_w_validation").set_value(True).run()
    sweep = figures(at)["Exact fit by polynomial degree (same split)"]
    t = traces(sweep)
    train_mse, val_mse = trace_values(t["training MSE"], "y"), trace_values(t["validation MSE"], "y")
    assert np.all(np.diff(train_mse) <= 1e-12)  # more terms never fit the training rows worse
    best = int(np.argmin(val_mse)) + 1
    assert 3 <= best <= 6  # a sine needs a cubic or so; a line under-fits it
    assert val_mse[0] > 2 * val_mse[best - 1] and val_mse[-1] > val_mse[best - 1]  # under- and over-fitting
    assert any(f"lowest at degree **{best}**" in c and "Lower degrees under-fit" in c for c in texts(at.caption))


def test_no_degree_sweep_when_only_a_line_can_be_fitted():
    at = start()  # the tutorial with a split: 3 training rows fit degree 1 only
    at.toggle(key="_w_validation").set_value(True).run()
    assert "Exact fit by polynomial degree (same split)" not in figures(at)


def test_validation_split_refuses_too_few_rows_with_a_clear_message():
    at = start()  # the tutorial's 4 points: 2 parameters need 3 training rows, leaving 1 to hold out
    at.toggle(key="_w_validation").set_value(True).run()
    assert any("3 training rows + 1 validation row" in c for c in texts(at.caption))
    at.number_input(key="_w_sel_degree").set_value(3).run()  # 4 parameters: no row is left to hold out
    assert not at.exception
    assert any("too few to hold out" in e for e in texts(at.error))


# --- Step mode ----------------------------------------------------------------------------------------------

def test_step_mode_shows_gradient_and_update_and_follows_the_trainer(tutorial_df):
    at = goto(start(), "step")
    assert "Epoch 0 / 100" in _markdown(at)
    at.button(key="btn_step1").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    ref = Trainer(build_design(tutorial_df, "y"), TrainConfig())
    info = ref.step()
    assert list(table["parameter"]) == ["intercept", "x"]
    np.testing.assert_allclose(table["gradient ∂L/∂θ"], info.gradient, rtol=1e-12)
    np.testing.assert_allclose(table["update Δθ"], info.update, rtol=1e-6)
    np.testing.assert_allclose(table["update ÷ (−lr × gradient)"], 1.0, rtol=1e-4)  # SGD: exactly −lr·∇L
    at.number_input(key="_w_step_k").set_value(9).run()
    at.button(key="btn_stepk").click().run()
    assert "Epoch 10 / 100" in _markdown(at)
    ref.run(9)
    np.testing.assert_allclose(at.session_state.stepper.trainer.history, ref.history, rtol=0)
    assert len(at.session_state.stepper.path) == 11
    land = traces(figures(at)["Loss landscape (log₁₀ MSE)"])
    assert len(trace_values(land["optimizer path"], "x")) == 11


def test_step_mode_explains_adam_and_restarts_when_settings_change():
    at = start()
    at.selectbox(key="_w_optimizer").set_value("adam").run()
    goto(at, "step")
    at.button(key="btn_step1").click().run()
    assert "Adam: the update is lr" in _markdown(at)
    ratio = at.dataframe[0].value["update ÷ (−lr × gradient)"]
    assert not np.allclose(ratio, 1.0)  # Adam's first step is ±lr, not −lr·∇L
    goto(at, "train")
    at.selectbox(key="_w_optimizer").set_value("sgd").run()
    goto(at, "step")
    assert any("starts again from epoch 0" in i for i in texts(at.info))
    assert "Epoch 0 / 100" in _markdown(at)


def test_step_mode_divergence_keeps_the_last_real_update():
    at = start()
    at.number_input(key="_w_lr").set_value(5.0).run()
    goto(at, "step")
    for _ in range(6):
        if at.button(key="btn_step1").disabled:
            break
        at.button(key="btn_step1").click().run()
    assert any("Training diverged" in e for e in texts(at.error))
    tr = at.session_state.stepper.trainer
    info = at.session_state.stepper.last
    assert tr.status == "diverged" and info.epoch == tr.epoch - 1  # the diverging epoch made no update
    assert np.all(info.update != 0)
    assert any("ended training before updating" in c for c in texts(at.caption))
    assert not any("Press **Step 1 epoch**" in i for i in texts(at.info))


def test_step_mode_runs_to_the_end_and_disables_stepping():
    at = start()
    at.number_input(key="_w_epochs").set_value(5).run()
    goto(at, "step")
    at.number_input(key="_w_step_k").set_value(50).run()
    at.button(key="btn_stepk").click().run()
    assert not at.exception
    assert any("Completed" in s and "after 5 epochs" in s for s in texts(at.success))
    assert at.session_state.stepper.last.epoch == 5  # the last epoch that ran is the one shown up close
    assert "  " not in texts(at.success)[0]
    assert at.button(key="btn_step1").disabled
    at.button(key="btn_step_restart").click().run()
    assert "Epoch 0 / 5" in _markdown(at) and not at.button(key="btn_step1").disabled


# --- How it works ---------------------------------------------------------------------------------------------

def _codes(at) -> str:
    return "\n".join(c.value for c in at.code)


def test_how_it_works_shows_the_live_objects_with_your_settings(tutorial_df):
    at = start()
    at.selectbox(key="_w_optimizer").set_value("momentum")
    at.number_input(key="_w_lr").set_value(0.02).run()
    goto(at, "how_it_works")
    assert [s.value for s in at.subheader] == ["1. Data as tensors", "2. The model: nn.Linear", "3. The loss: nn.MSELoss",
                                               "4. The optimizer", "5. Gradient: loss.backward()", "6. The training loop",
                                               "7. The answer, checked"]
    code = _codes(at)
    assert "LinearModel(\n  (linear): Linear(in_features=1, out_features=1, bias=True)\n)" in code
    assert "SGD (" in code and "lr: 0.02" in code and "momentum: 0.9" in code  # the real torch.optim repr
    assert "torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)" in code
    ref = Trainer(build_design(tutorial_df, "y"), TrainConfig(optimizer="momentum", lr=0.02))
    loss, grad = ref.objective()
    latex = "\n".join(e.value for e in at.latex)
    assert f"{loss:.6g}" in latex and f"{grad[0]:.4g}" in latex and f"{grad[1]:.4g}" in latex
    assert "a fresh trainer with your settings" in "\n".join(texts(at.info))


def test_how_it_works_follows_the_step_page_trainer(tutorial_df):
    at = goto(start(), "step")
    at.number_input(key="_w_step_k").set_value(3).run()
    at.button(key="btn_stepk").click().run()
    goto(at, "how_it_works")
    assert "the Step page's trainer, after 3 epoch(s)" in "\n".join(texts(at.info))
    ref = Trainer(build_design(tutorial_df, "y"), TrainConfig())
    ref.run(3)
    loss, grad = ref.objective()
    latex = "\n".join(e.value for e in at.latex)
    assert f"{loss:.6g}" in latex and f"{grad[1]:.4g}" in latex
    nxt = ref.trained_params() - 0.01 * grad  # plain SGD: the next step, worked out
    assert f"{nxt[1]:.4g}" in latex


def test_how_it_works_shows_whichever_the_user_moved_last():
    at = goto(start(), "step")
    at.number_input(key="_w_step_k").set_value(7).run()
    at.button(key="btn_stepk").click().run()
    goto(at, "train")
    train_clicked(at)  # a Train run after the stepping: it is the live model now
    goto(at, "how_it_works")
    info = "\n".join(texts(at.info))
    assert "your last Train run's model, after 100 epochs" in info
    goto(at, "step")
    at.button(key="btn_step1").click().run()  # and stepping again makes the stepper the live one
    goto(at, "how_it_works")
    assert "the Step page's trainer, after 8 epoch(s)" in "\n".join(texts(at.info))
    printout = "\n".join(c.value for c in at.code)
    assert "epoch 8, loss" in printout and "epoch 0," not in printout  # the stepped epochs, counted from 1


def test_how_it_works_without_an_intercept_drops_the_bias():
    at = goto(start(), "data")
    at.toggle(key="_w_sel_intercept").set_value(False).run()
    goto(at, "how_it_works")
    assert not at.exception
    latex = "\n".join(e.value for e in at.latex)
    code = "\n".join(c.value for c in at.code)
    assert "nn.Linear(k, 1, bias=False)" in code and "bias=False" in code
    assert r"\partial b" not in latex and r"[\mathbf{1}, X]" not in latex and "L(w)" in latex


def test_how_it_works_prints_the_last_run_like_the_tutorial():
    at = start()
    train_clicked(at)
    h = at.session_state.run.history
    goto(at, "how_it_works")
    code = _codes(at)
    # Epochs count from 1 here as on the loss chart and in the CLI's printout.
    assert f"epoch 1, loss {h[0]:.6g}" in code and f"epoch 100, loss {h[-1]:.6g}" in code
    assert "epoch 0," not in code and "range(1, 100 + 1)" in code
    assert "your last Train run's model, after 100 epochs" in "\n".join(texts(at.info))
    run = at.session_state.run
    assert f"linear.weight: [{run.coef[0]:.6g}]" in code and f"linear.bias: [{run.intercept:.6g}]" in code


def test_results_and_share_link_carry_the_validation_split():
    at = _wave(start())
    at.toggle(key="_w_validation").set_value(True).run()
    at.slider(key="_w_val_frac").set_value(0.3)
    at.number_input(key="_w_val_seed").set_value(4).run()
    train_clicked(at)
    run = at.session_state.run
    goto(at, "results")
    metrics = at.dataframe[0].value
    label = "validation MSE (9 held-out rows)"
    assert label in metrics.index
    p = at.session_state._problem[1]
    assert metrics.loc[label, "gradient descent"] == pytest.approx(
        float(np.mean((p.validation.y - p.validation.X @ np.asarray(run.coef) - run.intercept) ** 2)))
    # The predictions file covers every row and says which were held out.
    from linreg_core import predictions_csv

    full_csv = predictions_csv(at.session_state.ds_df, p.full, (run.intercept, run.coef), p.exact, p.split_labels())
    import io

    import pandas as pd

    pred = pd.read_csv(io.BytesIO(full_csv))
    assert len(pred) == 30 and (pred["split"] == "validation").sum() == 9
    held = pred[pred["split"] == "validation"]
    assert np.mean(held["residual_gd"] ** 2) == pytest.approx(metrics.loc[label, "gradient descent"])
    # A share link restores the same split in a new session.
    link = next(c.value for c in at.code if "vfrac=0.3" in c.value)
    assert "val=1" in link and "vseed=4" in link
    from urllib.parse import parse_qsl

    fresh = shared_app(dict(parse_qsl(link.split("?", 1)[1])))
    assert fresh.session_state.settings.validation is True and fresh.session_state.settings.val_frac == 0.3
    assert fresh.session_state.settings.val_seed == 4


def test_several_features_mark_the_validation_rows_on_predicted_vs_actual(multi_df):
    at = goto(start(), "data")
    at.file_uploader(key="csv_upload").set_value(("multi.csv", multi_df.to_csv(index=False).encode(), "text/csv")).run()
    goto(at, "train")
    at.toggle(key="_w_validation").set_value(True).run()
    at.toggle(key="_w_standardize").set_value(True).run()
    train_clicked(at)
    assert not at.exception
    fig = traces(figures(at)["Predicted vs actual"])
    run, p = at.session_state.run, at.session_state._problem[1]
    assert len(trace_values(fig["validation rows"], "x")) == p.validation.n_samples == 40
    pred = p.validation.X @ np.asarray(run.coef) + run.intercept
    np.testing.assert_allclose(trace_values(fig["validation rows"], "y"), pred, rtol=1e-5)


def test_a_step_k_that_diverges_keeps_a_close_up_of_the_last_real_update():
    at = start()
    at.number_input(key="_w_lr").set_value(5.0).run()
    goto(at, "step")
    at.number_input(key="_w_step_k").set_value(10).run()
    at.button(key="btn_stepk").click().run()  # diverges within the first fast epochs
    tr = at.session_state.stepper.trainer
    info = at.session_state.stepper.last
    assert tr.status == "diverged" and info is not None and info.epoch == tr.epoch - 1
    assert [s.value for s in at.subheader] == [f"Epoch {info.epoch} up close"] and len(at.dataframe) == 1
    np.testing.assert_allclose(info.update, info.sgd_update, rtol=1e-5)  # plain SGD: update = −lr × gradient
