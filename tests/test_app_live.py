"""AppTest: watching a run — speed, Pause / change / Resume, a change of course mid-run, replay and the
animated export. (Browser-only behaviour — frames per second, clicks on charts — is in test_browser_live.py.)"""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pytest
from app_support import (
    TUTORIAL,
    figures,
    finish_run,
    goto,
    plain,
    start,
    trace_values,
    train_clicked,
)

from linreg_core import TrainConfig, Trainer, build_design, fit_exact_design
from studio import layers
from studio.animation import run_html, run_specs
from studio.pace import PACES


def library_trainer(**config) -> Trainer:
    return Trainer(build_design(TUTORIAL, "y", ["x"]), TrainConfig(device="auto", **config))


def paused_run(at, epochs: int = 100):
    """Press Train at the Watch pace, let a few epochs go by, press Pause; the record once the job is paused."""
    at.button(key="btn_train").click().run()
    run = at.session_state.run
    while run.epochs_run < 3 and run.running:
        time.sleep(0.02)  # waiting for the background job to be a few epochs in (no bound on how long)
    at.run()  # the page shows those epochs: Pause stops at the epoch shown
    at.button(key="btn_pause").click().run()
    assert not at.exception
    assert run.finished.wait(30) and run.status == "paused", run.status
    return run


def test_pause_change_lr_resume_follows_a_library_run_that_changes_lr_at_that_epoch():
    at = start(pace="watch")
    run = paused_run(at)
    k = run.epochs_run
    assert 3 <= k < 100
    assert plain(at.info[0].value).startswith(f"Paused at epoch {k}. Resume goes on to the planned epochs")
    assert at.button(key="btn_pause").label == "Resume" and not at.button(key="btn_train").disabled
    at.sidebar.number_input(key="_w_lr").set_value(0.05).run()
    assert "Resume will apply: lr 0.01 → 0.05." in [c.value for c in at.caption]
    assert run.status == "paused"  # a changed lr does not end a paused run
    at.button(key="btn_pause").click().run()
    finish_run(at)
    assert run.status == "completed" and run.epochs_run == 100

    tr = library_trainer()
    tr.run(k)
    tr.change(lr=0.05)
    ref = tr.run()
    assert run.history == ref.loss_history  # the same numbers, bit for bit
    assert run.params == (ref.intercept, [float(v) for v in ref.coef])
    assert [(c.epoch, c.describe()) for c in run.changes] == [(k, "lr 0.01 → 0.05")]
    loss = figures(at)["Loss (MSE) per epoch"]
    marks = [s for s in loss["layout"]["shapes"] if s.get("line", {}).get("dash") == "dot"]
    assert [m["x0"] for m in marks] == [k + 0.5]  # the change is marked where it took effect
    assert any(a["text"] == "lr 0.01 → 0.05" for a in loss["layout"]["annotations"])
    assert run.config.lr == 0.05 and at.session_state.runs[-1] is run


def test_resume_refuses_a_setting_that_needs_a_new_run_and_keeps_the_pause():
    at = start(pace="watch")
    run = paused_run(at)
    at.sidebar.number_input(key="_w_batch_size").set_value(2).run()
    assert any("Changed in the sidebar: batch_size" in c.value for c in at.caption)
    at.button(key="btn_pause").click().run()
    assert not at.exception
    assert "Resume cannot change batch_size: press Train to start a new run with them." in plain(at.error[0].value)
    assert run.status == "paused"
    at.button(key="btn_stop").click().run()  # Stop ends a paused run where it is
    assert run.status == "stopped" and plain(at.warning[0].value).startswith(f"Stopped by you at epoch {run.epochs_run}")


def test_a_new_lr_during_a_run_is_taken_at_once_and_marked():
    at = start(pace="watch")
    at.sidebar.number_input(key="_w_epochs").set_value(300).run()
    at.button(key="btn_train").click().run()
    run = at.session_state.run
    while run.epochs_run < 3:
        time.sleep(0.02)
    at.sidebar.number_input(key="_w_lr").set_value(0.02).run()  # mid-run: no "interrupted" any more
    assert run.running and run.changes and run.changes[0].describe() == "lr 0.01 → 0.02"
    k = run.changes[0].epoch
    at.button(key="btn_pause").click().run()
    at.session_state["ui_pace"] = "asap"
    at.button(key="btn_pause").click().run()
    finish_run(at)
    tr = library_trainer(epochs=300)
    tr.run(k)
    tr.change(lr=0.02)
    assert run.history == tr.run().loss_history and run.status == "completed"


def test_leaving_the_page_pauses_and_resume_finishes_the_run():
    at = start(pace="watch")
    at.button(key="btn_train").click().run()
    run = at.session_state.run
    goto(at, "results")
    assert run.finished.wait(30) and run.status == "paused"
    assert plain(at.markdown[0].value).startswith("**Gradient descent** (paused")
    goto(at, "train")
    assert plain(at.info[0].value).startswith(f"Paused at epoch {run.epochs_run} when you left the Train page")
    at.session_state["ui_pace"] = "asap"
    at.button(key="btn_pause").click().run()
    finish_run(at)
    assert run.status == "completed" and run.history == library_trainer().run().loss_history


def test_the_speed_control_changes_no_number():
    at = start(pace="fast")
    assert at.segmented_control(key="_w_ui_pace").value == "fast"
    fast = train_clicked(at)
    at.segmented_control(key="_w_ui_pace").set_value("asap").run()
    asap = train_clicked(at)
    assert fast.pace == "fast" and asap.pace == "asap"
    assert fast.history == asap.history and fast.params == asap.params
    assert fast.wall_seconds > asap.wall_seconds


def live_components(at) -> dict[str, dict]:
    """The data of the page's live chart components (charts, status line, replay slider), by key."""
    out = {}
    for el in at.get("bidi_component"):
        if el.proto.component_name.endswith("linreg_live_chart"):
            data = json.loads(el.proto.json)
            out[data["key"]] = data
    return out


def test_replay_is_drawn_by_the_browser_from_the_runs_numbers():
    """After a run, the replay slider and what it moves are the browser's (studio/live_chart.js): no server slider;
    the charts, the status line and the slider share the run's stream in replay mode, the charts hide the traces
    their layers draw, and the stream's numbers at an epoch are those of the server's own replay of it."""
    from studio import stream

    at = start()
    run = train_clicked(at)
    assert not [s for s in at.select_slider if "Replay" in s.label] and not at.exception
    comps = live_components(at)
    url = stream.url(run)
    slider = comps["train_replay"]
    assert slider["slider"]["label"] == "Replay: scrub through the epochs"
    assert slider["anim"] == {"stream": url, "replay": True, "count": len(run.snapshots)}
    assert comps["train_status"]["anim"]["replay"] and not comps["train_status"]["anim"]["trigger"]
    assert plain(at.markdown[0].value).startswith("**Epoch 100 / 100**")  # the page's own status line, at the end
    figs = {data["key"]: json.loads(data["figure"]) for data in comps.values() if data.get("figure")}
    for key, names in (("train_fit", {"gd", "residuals"}), ("train_loss", {"marker"}), ("train_land", {"path", "now"})):
        anim = comps[key]["anim"]
        assert anim["stream"] == url and anim["replay"] and {L["name"] for L in anim["layers"]} == names, key
        names = {t.get("name") for t in figs[key]["data"]}
        assert set(anim["hide"]) <= names, (key, anim["hide"], names)
    # The numbers the browser replays (the stream route, from=-1): epoch 10 is the library's model after 10 epochs
    # and the loss the status line says there (train.py's status_line, as the server's replay said it).
    numbers = stream.increment(run, -1)
    assert numbers["e"] == [e for e, _, _ in run.snapshots]
    i = numbers["e"].index(10)
    tr = library_trainer()
    tr.run(10)
    b, (w,) = tr.params()
    assert numbers["b"][i] == pytest.approx(b) and numbers["w"][i][0] == pytest.approx(w)
    assert numbers["loss"][i] == run.history[9]


def test_the_exported_file_replays_the_run_from_its_own_numbers_with_the_pages_drawing_code():
    at = start()
    at.sidebar.number_input(key="_w_epochs").set_value(5000).run()
    run = train_clicked(at)
    assert at.download_button(key="dl_run_html").label == "Download this run as an animated HTML file"
    design = build_design(TUTORIAL, "y", ["x"])
    exact = fit_exact_design(design)
    html = run_html(design, exact, run)
    assert "<script src=" not in html and "import(" not in html and 1_000_000 < len(html) < 3_000_000  # all inside
    assert "function chartComponent(component)" in html and "export default" not in html  # the live charts' code
    numbers = json.loads(re.search(r'window.__linregInline = \{"inline:run": (.*?)\};</script>', html).group(1))
    assert numbers["e"] == [e for e, _, _ in run.snapshots] and numbers["status"] == "completed"
    assert numbers["loss"][1:] == [run.history[e - 1] for e in numbers["e"][1:]]  # the run's own numbers
    specs = dict(run_specs(design, exact, run))
    assert set(specs) == {"status", "replay", "fit", "loss", "land"}
    fit = json.loads(specs["fit"]["figure"])
    line = next(t for t in fit["data"] if t["name"] == "gradient descent")  # the final look: the figure's own line, the layers draw the others
    np.testing.assert_allclose(trace_values(line, "y"), run.intercept + run.coef[0] * trace_values(line, "x"), rtol=1e-9)
    assert specs["fit"]["anim"] == {"stream": "inline:run", "replay": True, "count": len(run.snapshots),
                                    "layers": layers.fit_layers(design), "hide": layers.FIT_MOVING_TRACES[True]}


def test_a_paced_step_k_is_trained_at_once_then_played_by_the_browser_and_shown_up_close():
    at = goto(start(pace="watch"), "step")
    at.number_input(key="_w_step_k").set_value(10).run()
    at.button(key="btn_stepk").click().run()
    rec = at.session_state.stepper
    film, tr = rec.playing, rec.trainer
    ref = library_trainer()
    ref.run(9)
    close_up = ref.step()
    assert tr.history == ref.history  # the ten epochs, trained at once: the same numbers
    # The film the browser plays: the start and each epoch, each at its time on the Watch pace, from now on.
    assert film.epochs == list(range(11)) and film.loss[1:] == tr.history and film.status == "running"
    np.testing.assert_allclose(np.subtract(film.times[1:], film.times[0]),
                               [PACES["watch"].seconds_to(e) for e in range(1, 11)], rtol=1e-9)
    assert (film.b[-1], film.w[-1]) == (tr.params()[0], [float(v) for v in tr.params()[1]])
    assert film.released < 10  # not all at once: the page shows them as their time comes
    assert "Epoch 10 up close" not in [s.value for s in at.subheader]  # while it plays, the film; then this
    time.sleep(max(0.0, film.times[-1] - time.monotonic()) + 0.05)
    at.run()  # what the page's last frame asks for (the status line's ``ended``): the epoch up close
    assert rec.playing is None and "Epoch 10 up close" in [s.value for s in at.subheader]
    np.testing.assert_array_equal(rec.last.gradient, close_up.gradient)


def test_stop_during_a_played_step_k_stops_at_the_epoch_the_page_shows():
    at = goto(start(pace="watch"), "step")
    at.number_input(key="_w_step_k").set_value(50).run()
    at.button(key="btn_stepk").click().run()
    rec = at.session_state.stepper
    rec.playing.shown_epoch = 7  # what the browser says as it polls the film
    at.button(key="btn_step_stop").click().run()
    assert not at.exception and rec.playing is None
    tr = rec.trainer
    ref = library_trainer()
    ref.run(6)
    close_up = ref.step()
    assert tr.epoch == 7 and tr.history == ref.history  # taken back to epoch 7: the same numbers as 7 steps
    assert rec.last.epoch == 7 and "Epoch 7 up close" in [s.value for s in at.subheader]
    np.testing.assert_array_equal(rec.last.gradient, close_up.gradient)
    assert len(rec.path) == 8  # the start and one point per epoch shown
    at.button(key="btn_step1").click().run()  # and stepping goes on from there
    ref.step()
    assert tr.history == ref.history


def preview_data(at) -> dict | None:
    """The next run's preview as the settings send it to the browser (studio/live_chart.py ``preview``)."""
    for el in at.get("bidi_component"):
        data = json.loads(el.proto.json) if el.proto.json else {}
        if data.get("key") == "train_preview":
            return data
    return None


def test_before_train_the_preview_shows_the_exact_path_of_the_settings_and_follows_the_lr():
    at = start()
    first = preview_data(at)
    loss = next(L for L in first["preview"]["train_loss"] if L["name"] == "preview")
    land = next(L for L in first["preview"]["train_land"] if L["name"] == "preview")
    trainer = library_trainer(epochs=100, dtype="float64")
    history = trainer.fit().loss_history
    assert loss["x"][0] == 1 and loss["x"][-1] == 100
    # The tutorial's own run, in float64: the preview is the same path, before any training.
    np.testing.assert_allclose(loss["y"], [history[x - 1] for x in loss["x"]], rtol=1e-4)
    assert len(land["x"]) == len(land["y"]) == 101
    assert "would reach loss 0.1088 after 100 epochs" in first["note"]
    at.number_input(key="_w_lr").set_value(0.05).run()
    faster = preview_data(at)
    assert faster["preview"]["train_loss"][0]["y"][-1] < loss["y"][-1]  # a larger stable lr gets lower sooner
    assert "lr 0.05" in faster["note"]
    at.number_input(key="_w_lr").set_value(1.0).run()
    assert "diverges at epoch" in preview_data(at)["note"]
    # While a run trains (and once it has run with these settings) there is no preview to show.
    at.number_input(key="_w_lr").set_value(0.01).run()
    train_clicked(at)
    assert preview_data(at)["preview"] == {"train_loss": [], "train_land": []} and preview_data(at)["note"] == ""
