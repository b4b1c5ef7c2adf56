"""A lesson path for teachers: each lesson sets up data and settings, asks the learner to predict, runs with the
library, and explains what happened with that run's own numbers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import plotly.graph_objects as go

import linreg_core  # its train and race, on first use: torch is imported when a lesson runs, not with a page
from linreg_core import (
    TrainConfig,
    build_design,
    fit_exact_design,
    fit_stats,
    loss_minimum,
    lr_guidance,
    train_val_split,
)

from . import charts, explain, presets


@dataclass
class Outcome:
    """What a lesson's run produced: the explanation (Markdown, no user input in it) and a figure."""

    text: str
    figure: go.Figure
    numbers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Lesson:
    title: str
    setup: str  # what the lesson loads, in words
    preset: str  # studio.presets key
    settings: dict[str, Any]  # training settings it sets (studio/settings.py names; the rest are the defaults)
    question: str
    choices: tuple[str, ...]
    answer: int  # index into choices
    run: Callable[[], Outcome]
    degree: int = 1  # the polynomial degree of the model it fits


def _design(preset: str, target: str = "y", features: tuple[str, ...] = ("x",), degree: int = 1):
    return build_design(presets.load_preset(preset), target, list(features), degree=degree)


def _gap(result, exact) -> float:
    return float(np.max(np.abs(result.params - exact.params)))


def _tutorial() -> Outcome:
    d = _design("tutorial")
    exact = fit_exact_design(d)
    res = linreg_core.train(d, TrainConfig(device="cpu"))
    longer = linreg_core.train(d, TrainConfig(device="cpu", epochs=5000))
    g = lr_guidance(d)
    b, w = fit_stats(d, exact).tidy(exact.params)  # the exact intercept is 0 up to float64 rounding
    line = f"y = {w:.3g}·x" if b == 0 else f"y = {b:.3g} + {w:.3g}·x"
    text = (f"The loss fell from **{res.loss_history[0]:.4g}** to **{res.loss_history[-1]:.6g}** in 100 epochs — the "
            f"tutorial's printout — but the line is still **{_gap(res, exact):.3g}** from the exact fit "
            f"{line} (intercept {res.intercept:.3g}, slope {res.coef[0]:.3g}; the gap is the largest difference "
            f"between a parameter and the exact one). {explain.slow_cause(g, res.config, res.epochs_run)} With 5,000 "
            f"epochs the gap is {_gap(longer, exact):.2g}.")
    return Outcome(text, charts.fit_figure(d, (res.intercept, res.coef), exact),
                   {"final_loss": res.loss_history[-1], "gap": _gap(res, exact), "gap_5000": _gap(longer, exact)})


def _too_large() -> Outcome:
    d = _design("tutorial")
    g = lr_guidance(d)
    res = linreg_core.train(d, TrainConfig(device="cpu", lr=0.2))
    text = (f"**{res.status.capitalize()}** at epoch {res.epochs_run}: the loss went from {res.loss_history[0]:.3g} to "
            f"{max(res.loss_history):.3g}. On this data gradient descent is stable only below lr "
            f"**{g.max_stable_lr:.3g}** (2 / the largest curvature of the loss): at 0.2 every step overshoots the "
            "minimum by more than the distance it started from, so each epoch lands further away, on alternate sides "
            "(the numbered points on the Train page's landscape show the bounce).")
    return Outcome(text, charts.loss_figure(res.loss_history, log_y=True),
                   {"status": res.status, "epochs": res.epochs_run, "stable_lr": g.max_stable_lr})


def _standardize() -> Outcome:
    d = _design("tutorial")
    exact = fit_exact_design(d)
    raw, std = lr_guidance(d, False), lr_guidance(d, True)
    plain = linreg_core.train(d, TrainConfig(device="cpu"))
    res = linreg_core.train(d, TrainConfig(device="cpu", lr=0.5, standardize=True))
    text = (f"Standardized, the loss is a round bowl: curvature ratio {raw.condition_number:.3g} → "
            f"{std.condition_number:.3g}, stable lr {raw.max_stable_lr:.3g} → {std.max_stable_lr:.3g}. At lr 0.5 the "
            f"100 epochs end **{_gap(res, exact):.2g}** from the exact fit (lesson 1: {_gap(plain, exact):.3g}); the "
            "coefficients are reported in the data's units either way.")
    return Outcome(text, charts.fit_figure(d, (res.intercept, res.coef), exact),
                   {"gap": _gap(res, exact), "gap_plain": _gap(plain, exact)})


RACE_LANES = (("plain SGD", "sgd", 0.01), ("SGD + momentum", "momentum", 0.01), ("Adam", "adam", 0.1))
# What race() measures (epochs_to_tolerance): the question and the answer both say exactly this.
RACE_CRITERION = "loss above the minimum down to 0.001 of what it was at the start"


def _race() -> Outcome:
    d = _design("tutorial")
    result = linreg_core.race(d, [TrainConfig(device="cpu", optimizer=o, lr=lr, epochs=500) for _, o, lr in RACE_LANES], tol=1e-3)
    hits = [lane.epochs_to_tol for lane in result.lanes]
    parts = [f"{name} (lr {lr:g}) in **{h:,}** epochs" if h else f"{name} (lr {lr:g}) not within 500"
             for (name, _, lr), h in zip(RACE_LANES, hits)]
    text = (RACE_CRITERION[0].upper() + RACE_CRITERION[1:] + ": " + ", ".join(parts) + ". Momentum "
            "keeps speed along the flat valley floor (it overshoots and comes back); Adam moves every parameter "
            "about lr per step whatever the slope, so it heads diagonally and then hovers; plain SGD crawls along the "
            "flat direction.")
    floor = loss_minimum(d)
    lanes = [(f"{name} lr {lr:g}", charts.LANE_COLORS[i], lane.result.loss_history)
             for i, ((name, _, lr), lane) in enumerate(zip(RACE_LANES, result.lanes))]
    return Outcome(text, charts.race_figure(lanes, floor, 1e-3), {"epochs_to_tol": hits})


def _overfit() -> Outcome:
    df = presets.load_preset("wave")
    rows = []
    for degree in (1, 3, 9):
        d = build_design(df, "y", ["x"], degree=degree)
        tr, va = train_val_split(d, 0.3, 0)
        ex = fit_exact_design(tr)
        val = float(np.mean((va.y - ex.predict(va.X)) ** 2))
        rows.append((degree, fit_stats(tr, ex).mse, val))
    (d1, t1, v1), (d3, t3, v3), (d9, t9, v9) = rows
    text = (f"Training MSE can only fall as the degree grows: {t1:.3g} (degree 1), {t3:.3g} (3), {t9:.3g} (9). On the "
            f"30% of rows held out it is {v1:.3g}, **{v3:.3g}**, {v9:.3g}: degree 9 bends to follow the noise of the "
            "training rows and predicts new ones worse than degree 3. Under-fitting (degree 1) and over-fitting "
            "(degree 9) both lose; the validation curve shows where to stop.")
    fig = charts.degree_figure({"degree": np.array([d1, d3, d9]), "training MSE": np.array([t1, t3, t9]),
                                "validation MSE": np.array([v1, v3, v9])}, 3)
    return Outcome(text, fig, {"validation": {d1: v1, d3: v3, d9: v9}})


def _statistics() -> Outcome:
    d = _design("tips", "tip", ("total_bill",))
    exact = fit_exact_design(d)
    s = fit_stats(d, exact)
    text = (f"Least squares in closed form: tip = {exact.intercept:.3f} + **{exact.coef[0]:.4f}** × total bill, so about "
            f"{100 * exact.coef[0]:.1f} cents per extra dollar (95% interval {s.ci_low[1]:.3f} to {s.ci_high[1]:.3f}; "
            f"t = {s.t_values[1]:.1f}, p = {s.p_values[1]:.1g}: far too large to be chance). R² = {s.r2:.2f}: the bill "
            "explains under half of how tips vary — the rest is the diner. Gradient descent heads for these same "
            "numbers; the Results page has the full table.")
    return Outcome(text, charts.fit_figure(d, None, exact), {"slope": float(exact.coef[0]), "r2": s.r2})


LESSONS: tuple[Lesson, ...] = (
    Lesson("The tutorial run", "The tutorial's 4 points; SGD, lr 0.01, 100 full-batch epochs.", "tutorial", {},
           "After 100 epochs, where will gradient descent's line be?",
           ("On the exact least-squares line", "Close to it, but not on it yet", "Far away: training fails"), 1,
           _tutorial),
    Lesson("A learning rate too large", "The same points and epochs, lr 0.2 instead of 0.01.", "tutorial",
           {"lr": 0.2}, "What does a 20× larger learning rate do?",
           ("It converges about 20× faster", "It converges a little faster", "The loss blows up"), 2, _too_large),
    Lesson("Standardize the feature", "The tutorial with standardization on and lr 0.5.", "tutorial",
           {"lr": 0.5, "standardize": True}, "With standardized x and lr 0.5, after 100 epochs the line is…",
           ("Further from the exact fit than in lesson 1", "Much closer to it than in lesson 1", "Diverged"), 1,
           _standardize),
    Lesson("Momentum and Adam race plain SGD", "Three optimizers from the same start on the tutorial's points.",
           "tutorial", {}, f"Which one first gets its {RACE_CRITERION}?",
           ("Plain SGD, lr 0.01", "SGD + momentum, lr 0.01", "Adam, lr 0.1"), 1, _race),
    Lesson("Over-fitting", "30 noisy points of a sine wave, 30% held out; exact fits of degree 1, 3 and 9.", "wave",
           {"validation": True, "val_frac": 0.3}, "Which degree predicts the held-out points best?",
           ("Degree 1: a straight line", "Degree 3", "Degree 9: it fits the training points best"), 1, _overfit,
           degree=9),
    Lesson("The exact answer and its statistics", "Restaurant tips: the tip from the total bill, solved exactly.",
           "tips", {}, "How much more do diners tip per extra dollar of bill?",
           ("About 1 cent", "About 10 cents", "About 50 cents"), 1, _statistics),
)
