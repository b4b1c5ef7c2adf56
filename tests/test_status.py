"""studio/status.py: what the Train page says of a run, built from its record alone."""

from __future__ import annotations

import types

import pytest

from linreg_core import TrainConfig, Trainer, build_design, fit_exact_design, fit_stats, train_val_split
from studio import cache, presets
from studio.run import PAUSED, RunRecord, RunStatus
from studio.state import Problem
from studio.status import ending, far_from_exact, resume_notes, status_line, validation_note, watching_note


@pytest.fixture
def session(monkeypatch):
    monkeypatch.setattr(cache, "st", types.SimpleNamespace(session_state={}))  # guidance is cached per session


def tutorial_problem(split: bool = False) -> Problem:
    full = build_design(presets.load_preset("wave" if split else "tutorial"), "y", ["x"])
    design, validation = train_val_split(full, 0.3, 0) if split else (full, None)
    exact = fit_exact_design(design)
    return Problem(design, exact, fit_stats(design, exact), ("k",), validation, full if split else None)


def trained(problem: Problem, epochs: int, config: TrainConfig | None = None) -> RunRecord:
    config = config or TrainConfig(device="cpu")
    tr = Trainer(problem.design, config, problem.validation)
    tr.run(epochs)
    b, w = tr.params()
    return RunRecord(("k",), config, "Tutorial", history=list(tr.history), val_history=list(tr.val_history),
                     intercept=b, coef=list(w), epochs_run=tr.epoch, status=RunStatus(tr.status or "running"),
                     reason=tr.reason, device="cpu", train_seconds=0.01)


def test_the_status_line_names_the_epoch_loss_parameters_and_gap_of_the_record():
    design = build_design(presets.load_preset("tutorial"), "y", ["x"])
    exact = fit_exact_design(design)
    tr = Trainer(design, TrainConfig(device="cpu"))
    tr.run(40)
    b, (w,) = tr.params()
    run = RunRecord(("k",), TrainConfig(device="cpu"), "Tutorial", history=list(tr.history), intercept=b, coef=[w],
                    epochs_run=40)
    gap = max(abs(b - exact.intercept), abs(w - exact.coef[0]))
    assert status_line(run, design, exact) == (
        f"**Epoch 40 / 100** &nbsp;·&nbsp; loss **{tr.history[-1]:.6g}** &nbsp;·&nbsp; intercept {b:.4g}, x {w:.4g} "
        f"&nbsp;·&nbsp; gap to exact **{gap:.3g}**")
    run.status = PAUSED
    assert status_line(run, design, exact).startswith("**Paused at epoch 40 / 100**")
    fresh = RunRecord(("k",), TrainConfig(device="cpu"), "Tutorial")
    assert "loss **—**" in status_line(fresh, design, exact)


def test_how_a_run_ended_is_said_with_the_alert_its_outcome_calls_for():
    problem = tutorial_problem()
    done = trained(problem, 100)
    kind, text = ending(done)
    assert kind == "success" and text == "**Completed** after 100 epochs in 0.010 s on cpu."
    blown = trained(problem, 100, TrainConfig(device="cpu", lr=0.5))
    assert blown.status == "diverged" and ending(blown) == ("error", f"**Training diverged.** {blown.reason}")
    done.status, done.reason = RunStatus.STOPPED, "Stopped by you at epoch 40."
    assert ending(done) == ("warning", "Stopped by you at epoch 40.")


def test_a_paused_run_is_told_what_resume_will_and_will_not_apply():
    run = trained(tutorial_problem(), 10)
    assert resume_notes(run, run.config) == []
    notes = resume_notes(run, TrainConfig(device="cpu", lr=0.05, seed=3))
    assert notes == ["Resume will apply: lr 0.01 → 0.05.", "Changed in the sidebar: seed. Resume keeps what the run "
                     "started with; press **Train** to start a new run with them."]


def test_a_completed_run_far_from_the_exact_fit_is_told_why_and_a_close_one_is_not(session):
    problem = tutorial_problem()
    far = trained(problem, 100)  # the tutorial: lr 0.01 stops short of the exact intercept
    distance = max(abs(far.intercept - problem.exact.intercept), abs(far.coef[0] - problem.exact.coef[0]))
    assert distance > 0.5
    note = far_from_exact(problem, far)
    assert note is not None and note.startswith(f"**Still {distance:.3g} from the exact fit after 100 epochs**")
    close = trained(problem, 3000, TrainConfig(device="cpu", lr=0.1, epochs=3000))
    close.status = RunStatus.COMPLETED
    assert far_from_exact(problem, close) is None


def test_the_validation_note_compares_the_run_with_the_exact_fit_on_the_held_out_rows():
    problem = tutorial_problem(split=True)
    run = trained(problem, 50, TrainConfig(device="cpu", lr=0.1))
    note = validation_note(problem, run)
    best = min(range(50), key=run.val_history.__getitem__) + 1
    assert note.startswith(f"**Validation MSE** on {problem.validation.n_samples} held-out rows: gradient descent")
    assert note.endswith(f"The validation curve was lowest at epoch {best:,}.")
    assert validation_note(tutorial_problem(), trained(tutorial_problem(), 5)) is None  # no split, no note


def test_the_cost_of_watching_is_said_only_for_a_watched_run():
    run = trained(tutorial_problem(), 100)
    assert watching_note(run) is None  # nothing was streamed
    run.draws, run.streamed_bytes, run.draw_seconds, run.wall_seconds, run.pace = 45, 34_000, 0.05, 4.6, "watch"
    note = watching_note(run)
    assert note.startswith("Live charts: your browser drew this run every frame from 45 answers of the server (34.0 kB")
    assert note.endswith("(the rest was the Watch pace's waits).")
