"""Issue 20 items 4 and 7 in the app (AppTest): the tutorial's exact fit reads as 0 where it is float64 noise, on
How it works as on Results, and the sidebar, the far-from-exact note, the lessons and Results say what is true of
the numbers beside them."""

from __future__ import annotations

import numpy as np
from app_support import figures, goto, plain, start, texts, trace_values, traces, train_clicked

from studio.lessons import LESSONS


def test_how_it_works_shows_the_tutorials_exact_fit_as_results_does_not_as_noise():
    at = start()
    run = train_clicked(at)
    assert run.history[-1] > 0.1  # the trained model is not exact: its numbers are real, not noise
    hiw = goto(at, "how_it_works")
    latex = [el.value for el in hiw.latex]
    answer = next(v for v in latex if r"\mathrm{MSE}" in v)
    assert r"\widehat{\text{y}} = 2\,\text{x}" in answer and answer.strip("$\n ").endswith(r"\mathrm{MSE} = 0")
    assert not any(r"10^{-1" in v or r"10^{-2" in v or r"10^{-3" in v for v in latex)
    results = goto(at, "results")
    assert results.latex[-1].value.strip("$\n ") == answer.strip("$\n ").split(r", \quad")[0]  # one rule


def test_results_draw_a_perfect_fits_residuals_at_zero_beside_a_real_run():
    at = start()
    train_clicked(at)
    fig = figures(goto(at, "results"))["Residuals vs fitted"]
    lines = traces(fig)
    assert np.all(trace_values(lines["exact least squares"], "y") == 0.0)  # not ±1e-15
    assert np.abs(trace_values(lines["gradient descent"], "y")).max() > 0.01  # the run's are real
    assert "Gap to exact: the largest difference between a parameter and the exact least-squares one" in " ".join(
        texts(at.caption))


def test_the_sidebar_with_standardize_on_calls_the_loss_a_round_bowl():
    at = start()
    at.toggle(key="_w_standardize").set_value(True).run()
    caption = " ".join(texts(at.sidebar.caption))
    assert "round bowl" in caption and "curvature ratio is **1**" in caption
    assert "1×" not in caption and "flat one" not in caption and "steep" not in caption


def test_tips_with_two_features_blames_the_small_lr_after_the_run():
    at = goto(start(), "data")
    at.button(key="preset_tips").click().run()
    at.multiselect(key="_w_sel_features").set_value(["total_bill", "size"]).run()
    goto(at, "train")
    at.toggle(key="_w_standardize").set_value(True).run()
    run = train_clicked(at)
    assert (run.status, run.config.lr, run.config.standardize) == ("completed", 0.01, True)
    note = next(t for t in texts(at.info) if t.startswith("**Still "))
    assert "The lr is what holds it back, not the curvature (ratio 3.98)" in note
    assert "lr 0.01 is 50× below the fastest fixed lr, 0.5" in note
    assert "(the largest difference between a parameter and the exact least-squares one" in note
    assert "crawls" not in note and "steep" not in note


def test_lesson_4_question_and_answer_use_the_same_criterion():
    at = goto(start(), "lessons")
    at.radio(key="_w_lesson").set_value(3).run()
    guess = at.radio(key="lesson_guess_3")
    question = "Which one first gets its loss above the minimum down to 0.001 of what it was at the start?"
    assert plain(guess.label) == f"Predict: {question}"  # plain words: what a screen reader reads
    assert f"**Predict.** {question}" in [plain(m.value) for m in at.markdown]
    guess.set_value(LESSONS[3].answer).run()
    at.button(key="btn_lesson_run").click().run()
    answer = at.session_state._lesson_outcome[1].text
    assert answer in [m.value for m in at.markdown]
    assert answer.startswith("Loss above the minimum down to 0.001 of what it was at the start:")
    race = goto(at, "race")
    assert "its loss above the minimum has fallen to that fraction of what it was at the start" in plain(
        race.caption[0].value)
