"""The PyTorch trainer: the tutorial's trajectory, convergence, stop, divergence, devices."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest
import torch

from linreg_core import (
    Callback,
    DeviceError,
    HistoryRecorder,
    ParameterError,
    TrainConfig,
    Trainer,
    build_design,
    fit_exact,
    resolve_device,
    train,
)


def _tutorial_loop(x, y, lr, epochs, seed, dtype=torch.float32):
    """The tutorial, written out plainly: nn.Linear(1,1), MSELoss, SGD, full batch."""
    torch.manual_seed(seed)
    model = torch.nn.Linear(1, 1).to(dtype)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    xt = torch.tensor(x, dtype=dtype).reshape(-1, 1)
    yt = torch.tensor(y, dtype=dtype).reshape(-1, 1)
    losses = []
    for _ in range(epochs):
        loss = torch.nn.functional.mse_loss(model(xt), yt)
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return losses, model.weight.item(), model.bias.item()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_full_batch_trajectory_equals_plain_autograd_loop(tutorial_df, dtype):
    design = build_design(tutorial_df, "y")
    res = train(design, TrainConfig(device="cpu", dtype=dtype, seed=3, engine="autograd"))
    ref, w, b = _tutorial_loop(tutorial_df.x.tolist(), tutorial_df.y.tolist(), 0.01, 100, 3,
                               torch.float64 if dtype == "float64" else torch.float32)
    np.testing.assert_allclose(res.loss_history, ref, rtol=1e-6)
    assert res.coef[0] == pytest.approx(w, rel=1e-6)
    assert res.intercept == pytest.approx(b, rel=1e-6)
    assert res.status == "completed" and res.epochs_run == 100 and len(res.loss_history) == 100


def test_tutorial_defaults_converge_to_exact_with_more_epochs(tutorial_df):
    design = build_design(tutorial_df, "y")
    exact = fit_exact(design.X, design.y)
    res = train(design, TrainConfig(device="cpu", dtype="float64", epochs=20_000, lr=0.05))
    assert res.coef[0] == pytest.approx(exact.coef[0], abs=1e-6)
    assert res.intercept == pytest.approx(exact.intercept, abs=1e-5)
    assert res.loss_history[-1] < 1e-10


# RMSprop with a fixed lr hovers within about lr of the minimum, hence its looser tolerance.
@pytest.mark.parametrize("optimizer,lr,epochs,rtol", [("sgd", 0.1, 600, 2e-3), ("momentum", 0.05, 400, 2e-3),
                                                      ("adam", 0.05, 3000, 2e-3), ("rmsprop", 0.01, 5000, 1.5e-2),
                                                      ("adagrad", 2.0, 2000, 2e-3)])
def test_standardized_multifeature_converges_to_exact(multi_df, optimizer, lr, epochs, rtol):
    design = build_design(multi_df, "y")
    exact = fit_exact(design.X, design.y)
    res = train(design, TrainConfig(device="cpu", dtype="float64", optimizer=optimizer, lr=lr, epochs=epochs,
                                    standardize=True))
    assert res.status == "completed"
    # coefficients come back in the original units of each column
    np.testing.assert_allclose(res.coef, exact.coef, rtol=rtol, atol=1e-4)
    assert res.intercept == pytest.approx(exact.intercept, rel=rtol)


def test_minibatch_is_seeded_and_converges(multi_df):
    design = build_design(multi_df, "y")
    exact = fit_exact(design.X, design.y)
    cfg = TrainConfig(device="cpu", dtype="float64", batch_size=16, lr=0.02, epochs=150, standardize=True, seed=5)
    a, b = train(design, cfg), train(design, cfg)
    assert a.loss_history == b.loss_history
    np.testing.assert_allclose(a.coef, exact.coef, rtol=2e-2, atol=2e-3)
    c = train(design, TrainConfig(**{**cfg.to_dict(), "seed": 6}))
    assert c.loss_history != a.loss_history


def test_warm_start_in_original_units(tutorial_df):
    design = build_design(tutorial_df, "y")
    rec = HistoryRecorder()
    res = train(design, TrainConfig(device="cpu", dtype="float64", init_weight=[2.0], init_bias=0.0, standardize=True), [rec])
    # started at the exact solution, so the first loss is ~0 and it stays there
    assert rec.start.initial_coef == pytest.approx([2.0]) and rec.start.initial_intercept == pytest.approx(0.0, abs=1e-12)
    assert res.loss_history[0] == pytest.approx(0.0, abs=1e-20)
    assert res.coef[0] == pytest.approx(2.0, abs=1e-9)


def test_l2_shrinks_the_slope(tutorial_df):
    design = build_design(tutorial_df, "y")
    plain = train(design, TrainConfig(device="cpu", dtype="float64", epochs=3000, lr=0.05))
    ridge = train(design, TrainConfig(device="cpu", dtype="float64", epochs=3000, lr=0.05, l2=1.0))
    assert abs(ridge.coef[0]) < abs(plain.coef[0]) - 0.1


def test_events_carry_epoch_loss_and_params(tutorial_df):
    design = build_design(tutorial_df, "y")
    rec = HistoryRecorder()
    res = train(design, TrainConfig(device="cpu", epochs=7), [rec])
    assert [e.epoch for e in rec.events] == list(range(1, 8))
    assert [e.loss for e in rec.events] == res.loss_history
    assert rec.events[-1].coef == pytest.approx(res.coef.tolist())
    assert rec.events[-1].intercept == pytest.approx(res.intercept)
    assert all(isinstance(e.loss, float) for e in rec.events)
    assert rec.result is res


def test_callback_should_stop_stops_within_one_epoch(tutorial_df):
    class StopAt(Callback):
        def on_epoch_end(self, event):
            if event.epoch == 5:
                self.should_stop = True

    res = train(build_design(tutorial_df, "y"), TrainConfig(device="cpu", epochs=1000), [StopAt()])
    assert res.status == "stopped" and res.epochs_run == 5 and len(res.loss_history) == 5


def test_stop_flag_stops_a_minibatch_run_mid_epoch(multi_df):
    stop = threading.Event()

    class Trip(Callback):
        def on_epoch_end(self, event):
            stop.set()

    res = train(build_design(multi_df, "y"), TrainConfig(device="cpu", epochs=50, batch_size=8, standardize=True), [Trip()], stop=stop)
    assert res.status == "stopped" and res.epochs_run == 1
    assert np.all(np.isfinite(res.coef))


def test_stop_before_first_epoch_keeps_initial_model(tutorial_df):
    stop = threading.Event()
    stop.set()
    res = train(build_design(tutorial_df, "y"), TrainConfig(device="cpu"), stop=stop)
    assert res.status == "stopped" and res.epochs_run == 0 and res.loss_history == []


@pytest.mark.parametrize("engine", ["stats", "autograd"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_divergence_is_detected_and_last_finite_params_kept(tutorial_df, dtype, engine):
    rec = HistoryRecorder()
    res = train(build_design(tutorial_df, "y"), TrainConfig(device="cpu", lr=10.0, epochs=1000, dtype=dtype, engine=engine),
                [rec])
    assert res.status == "diverged"
    assert res.epochs_run < 20
    assert "learning rate" in res.reason and "smaller" in res.reason
    assert np.all(np.isfinite(res.coef)) and np.isfinite(res.intercept)
    assert all(np.isfinite(res.loss_history))


def test_convergence_tolerance(tutorial_df):
    res = train(build_design(tutorial_df, "y"), TrainConfig(device="cpu", dtype="float64", lr=0.05, epochs=100_000, tol=1e-9))
    assert res.status == "converged" and res.epochs_run < 100_000


@pytest.mark.parametrize("field,value,phrase", [
    ("lr", -0.1, "The 'lr' parameter must be a float > 0. Got -0.1 instead."),
    ("lr", 0.0, "'lr' parameter must be a float > 0"),
    ("epochs", 0, "'epochs' parameter must be an int"),
    ("epochs", 10**12, "'epochs' parameter must be an int"),
    ("optimizer", "lbfgs", "'optimizer' parameter must be one of"),
    ("dtype", "float16", "'dtype' parameter"),
    ("batch_size", -1, "'batch_size'"),
    ("momentum", 1.5, "'momentum'"),
])
def test_invalid_settings_are_rejected_with_sklearn_style_messages(tutorial_df, field, value, phrase):
    with pytest.raises(ParameterError, match=phrase.replace("(", r"\(").replace(".", r"\.")):
        train(build_design(tutorial_df, "y"), TrainConfig(**{field: value}))


def test_init_weight_length_must_match_terms(tutorial_df):
    with pytest.raises(ParameterError, match="one value per term"):
        train(build_design(tutorial_df, "y"), TrainConfig(device="cpu", init_weight=[1.0, 2.0]))


def test_auto_device_picks_what_exists():
    dev = resolve_device("auto")
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert dev.type == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on machines without CUDA")
@pytest.mark.parametrize("spec", ["cuda", "cuda:0", "cuda:3"])
def test_unavailable_cuda_is_a_clear_error_not_a_fallback(tutorial_df, spec):
    with pytest.raises(DeviceError, match="no CUDA GPU is available"):
        train(build_design(tutorial_df, "y"), TrainConfig(device=spec))


def test_unknown_device_is_a_parameter_error():
    with pytest.raises(ParameterError, match="'device' parameter must be"):
        resolve_device("tpu")


# --- the sufficient-statistics engine against the autograd reference --------------------------------------

ENGINE_CASES = [
    dict(optimizer="sgd", lr=0.01),
    dict(optimizer="momentum", lr=0.01, standardize=True),
    dict(optimizer="adam", lr=0.05, standardize=True, l2=0.1),
    dict(optimizer="rmsprop", lr=0.01, standardize=True),
    dict(optimizer="adagrad", lr=0.5, standardize=True, init_weight=[1.0, -0.5, 0.001], init_bias=2.0),
]


@pytest.mark.parametrize("case", ENGINE_CASES, ids=[c["optimizer"] for c in ENGINE_CASES])
def test_stats_engine_matches_autograd_in_float64(multi_df, case):
    design = build_design(multi_df, "y")
    if not case.get("standardize"):
        design = build_design(multi_df, "y", ["a"])
    cfg = dict(device="cpu", dtype="float64", epochs=300, **case)
    ref = train(design, TrainConfig(engine="autograd", **cfg))
    fast = train(design, TrainConfig(engine="stats", **cfg))
    assert ref.engine == "autograd" and fast.engine == "stats"
    np.testing.assert_allclose(fast.loss_history, ref.loss_history, rtol=1e-5)
    np.testing.assert_allclose(fast.coef, ref.coef, rtol=1e-6, atol=1e-9)
    assert fast.intercept == pytest.approx(ref.intercept, rel=1e-6, abs=1e-9)


def test_stats_engine_matches_the_float32_tutorial_loop(tutorial_df):
    res = train(build_design(tutorial_df, "y"), TrainConfig(device="cpu", seed=3))
    ref, w, b = _tutorial_loop(tutorial_df.x.tolist(), tutorial_df.y.tolist(), 0.01, 100, 3)
    assert res.engine == "stats"  # full batch picks it automatically
    np.testing.assert_allclose(res.loss_history, ref, rtol=1e-5)
    assert res.coef[0] == pytest.approx(w, rel=1e-5) and res.intercept == pytest.approx(b, rel=1e-5)


def test_stats_engine_without_intercept_and_polynomial(tutorial_df):
    design = build_design(tutorial_df, "y", ["x"], degree=2, fit_intercept=False)
    cfg = dict(device="cpu", dtype="float64", epochs=200, lr=0.001)
    ref = train(design, TrainConfig(engine="autograd", **cfg))
    fast = train(design, TrainConfig(**cfg))
    assert fast.engine == "stats" and fast.intercept is None
    np.testing.assert_allclose(fast.loss_history, ref.loss_history, rtol=1e-9)


def test_stats_engine_loss_stays_accurate_near_a_perfect_fit(tutorial_df):
    """The loss is (ρ² + ‖R(θ − θ*)‖²)/N, not θᵀGθ − 2θᵀh + yᵀy: no cancellation when the fit is perfect."""
    design = build_design(tutorial_df, "y")
    cfg = dict(device="cpu", dtype="float64", epochs=3000, lr=0.05)
    ref = train(design, TrainConfig(engine="autograd", **cfg))
    fast = train(design, TrainConfig(**cfg))
    assert ref.loss_history[-1] < 1e-20
    # θᵀGθ − 2θᵀh + yᵀy would bottom out near eps·yᵀy/N ≈ 1e-15 (or go negative); ours follows the loss down.
    assert 0 <= fast.loss_history[-1] < 1e-20
    # Where float64 itself resolves the residuals (loss > 1e-16), both paths agree tightly.
    ref_h, fast_h = np.array(ref.loss_history), np.array(fast.loss_history)
    resolved = ref_h > 1e-16
    assert resolved.sum() > 500
    np.testing.assert_allclose(fast_h[resolved], ref_h[resolved], rtol=1e-5)


def test_rank_deficient_design_falls_back_to_autograd():
    df = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [2.0, 4, 6, 8], "y": [1.0, 2, 3, 5]})
    res = train(build_design(df, "y"), TrainConfig(device="cpu", epochs=5))
    assert res.engine == "autograd" and len(res.loss_history) == 5


def test_stats_engine_needs_full_batch(tutorial_df):
    with pytest.raises(ParameterError, match="full-batch"):
        train(build_design(tutorial_df, "y"), TrainConfig(device="cpu", engine="stats", batch_size=2))


def test_stats_engine_stops_cooperatively(tutorial_df):
    class StopAt(Callback):
        def on_epoch_end(self, event):
            self.should_stop = event.epoch == 3

    res = train(build_design(tutorial_df, "y"), TrainConfig(device="cpu", epochs=100), [StopAt()])
    assert res.engine == "stats" and res.status == "stopped" and res.epochs_run == 3


@pytest.mark.parametrize("optimizer,l2", [("sgd", 0.0), ("adam", 0.1), ("momentum", 0.0)])
def test_direct_minibatch_matches_autograd_minibatch(multi_df, optimizer, l2):
    design = build_design(multi_df, "y")
    cfg = dict(device="cpu", dtype="float64", epochs=20, batch_size=32, lr=0.01, standardize=True, optimizer=optimizer,
               l2=l2, seed=4)
    ref = train(design, TrainConfig(engine="autograd", **cfg))
    fast = train(design, TrainConfig(**cfg))
    assert ref.engine == "autograd" and fast.engine == "direct"
    np.testing.assert_allclose(fast.loss_history, ref.loss_history, rtol=1e-9)
    np.testing.assert_allclose(fast.coef, ref.coef, rtol=1e-9)


# --- Trainer: the same loop one epoch at a time (step mode) -------------------------------------------

@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_stepping_one_epoch_at_a_time_follows_train_exactly(multi_df, optimizer):
    design = build_design(multi_df, "y")
    cfg = TrainConfig(device="cpu", dtype="float64", optimizer=optimizer, lr=0.05, epochs=40, standardize=True)
    whole = train(design, cfg)
    tr = Trainer(design, cfg)
    infos = [tr.step() for _ in range(10)]
    tr.step(5)  # five more, inspecting the last
    rest = tr.run()
    assert [i.epoch for i in infos] == list(range(1, 11))
    assert rest.loss_history == whole.loss_history  # the optimizer's state (Adam moments) survives between calls
    np.testing.assert_array_equal(rest.coef, whole.coef)
    assert rest.status == "completed" and tr.done and tr.step() is None


def test_a_step_of_k_tells_its_callbacks_each_fast_epoch_and_changes_no_number(multi_df):
    design = build_design(multi_df, "y")
    cfg = TrainConfig(device="cpu", dtype="float64", lr=0.05, epochs=40, standardize=True)
    whole = train(design, cfg)
    heard = []

    class Listen(Callback):
        def on_epoch_end(self, event):
            heard.append((event.epoch, event.loss))

    tr = Trainer(design, cfg)
    tr.step(3)
    info = tr.step(7, [Listen()])
    assert [e for e, _ in heard] == [4, 5, 6, 7, 8, 9] and info.epoch == 10  # the last one is shown up close
    assert [v for _, v in heard] == whole.loss_history[3:9]
    assert tr.run().loss_history == whole.loss_history


def test_a_step_whose_fast_epochs_diverge_shows_the_last_epoch_that_made_an_update(tutorial_df):
    tr = Trainer(build_design(tutorial_df, "y"), TrainConfig(device="cpu", dtype="float64", lr=0.5, epochs=100))
    info = tr.step(100)
    assert tr.status == "diverged" and info is not None and info.epoch == tr.epoch - 1
    assert info.loss == tr.history[info.epoch - 1]  # that epoch's loss, before its update
    np.testing.assert_allclose(info.update, info.sgd_update, rtol=1e-12)


def test_an_exception_inside_a_minibatch_epoch_of_a_step_stops_the_run_and_says_where(multi_df):
    class Interrupt(Callback):
        def on_batch_end(self, epoch, rows_done, params):
            if epoch == 3 and rows_done >= 100:
                raise KeyboardInterrupt  # what a UI's interruption looks like from inside the loop

    tr = Trainer(build_design(multi_df, "y"), TrainConfig(device="cpu", batch_size=20, epochs=10, standardize=True))
    with pytest.raises(KeyboardInterrupt):
        tr.step(5, [Interrupt()])
    assert tr.status == "stopped" and tr.reason == "Interrupted during epoch 3; the partial model is kept."
    assert tr.done and tr.step() is None


def test_step_reports_the_autograd_gradient_and_the_sgd_update(tutorial_df):
    design = build_design(tutorial_df, "y")
    tr = Trainer(design, TrainConfig(device="cpu", dtype="float64", lr=0.01, seed=3))
    info = tr.step()
    # The same gradient by autograd on the rows, at the parameters before the step.
    b, w = (torch.tensor(info.before[0], requires_grad=True, dtype=torch.float64),
            torch.tensor(info.before[1], requires_grad=True, dtype=torch.float64))
    x, y = torch.tensor(tutorial_df.x.values), torch.tensor(tutorial_df.y.values)
    loss = torch.mean((w * x + b - y) ** 2)
    loss.backward()
    assert info.names == ["intercept", "x"]
    np.testing.assert_allclose(info.gradient, [b.grad.item(), w.grad.item()], rtol=1e-12)
    assert info.loss == pytest.approx(loss.item(), rel=1e-12) == tr.history[0]
    np.testing.assert_allclose(info.update, info.sgd_update, rtol=1e-12)  # plain SGD: Δθ = −lr·∇L


def test_adam_update_is_not_minus_lr_times_gradient(multi_df):
    tr = Trainer(build_design(multi_df, "y"), TrainConfig(device="cpu", dtype="float64", optimizer="adam", lr=0.1,
                                                          standardize=True))
    info = tr.step()
    # Adam's first step moves every parameter by about lr, whatever the size of its gradient.
    np.testing.assert_allclose(np.abs(info.update), 0.1, rtol=1e-6)
    assert not np.allclose(info.update, info.sgd_update)


def test_validation_loss_is_the_mse_on_the_held_out_rows(multi_df):
    from linreg_core import train_val_split

    design = build_design(multi_df, "y")
    tr_d, va_d = train_val_split(design, 0.25, seed=1)
    assert tr_d.n_samples + va_d.n_samples == design.n_samples and va_d.n_samples == 50
    assert not set(tr_d.rows) & set(va_d.rows)
    rec = HistoryRecorder()
    res = train(tr_d, TrainConfig(device="cpu", dtype="float64", lr=0.1, epochs=30, standardize=True), [rec],
                validation=va_d)
    assert len(res.val_loss_history) == len(res.loss_history) == 30
    assert [e.val_loss for e in rec.events] == res.val_loss_history
    # Full batch: each epoch's losses are taken before its update, so epoch k's validation loss is at the
    # parameters after epoch k−1. Check the last one against the rows, with a one-epoch-shorter run.
    prev = train(tr_d, TrainConfig(device="cpu", dtype="float64", lr=0.1, epochs=29, standardize=True))
    mse = float(np.mean((va_d.y - prev.predict(va_d.X)) ** 2))
    assert res.val_loss_history[-1] == pytest.approx(mse, rel=1e-9)
    assert train_val_split(design, 0.25, seed=1)[1].rows.tolist() == va_d.rows.tolist()
    assert train_val_split(design, 0.25, seed=2)[1].rows.tolist() != va_d.rows.tolist()


@pytest.mark.parametrize("frac", [0, 1, -0.1, "0.2", True])
def test_bad_validation_fraction_is_rejected(tutorial_df, frac):
    from linreg_core import train_val_split

    with pytest.raises(ParameterError, match="'val_fraction' parameter must be a float in \\(0, 1\\)"):
        train_val_split(build_design(tutorial_df, "y"), frac)


def test_too_few_rows_to_hold_out_is_a_clear_error(tutorial_df):
    from linreg_core import InsufficientDataError, train_val_split

    with pytest.raises(InsufficientDataError, match="too few to hold out"):
        train_val_split(build_design(tutorial_df.iloc[:3], "y"), 0.5)


# --- Trainer.change: a change of course between epochs --------------------------------------------------

def _tutorial_loop_with_switch(x, y, epochs, switch_at, first, then):
    """The tutorial loop that swaps its optimizer (``first``/``then`` build one from the parameters) after
    ``switch_at`` epochs: the reference a change of course must follow."""
    torch.manual_seed(0)
    model = torch.nn.Linear(1, 1)
    opt = first(model.parameters())
    xt, yt = torch.tensor(x).float().reshape(-1, 1), torch.tensor(y).float().reshape(-1, 1)
    losses = []
    for epoch in range(epochs):
        if epoch == switch_at:
            opt = then(model.parameters(), opt)
        loss = torch.nn.functional.mse_loss(model(xt), yt)
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return losses


def _set_lr(lr):
    def then(params, opt):
        for g in opt.param_groups:
            g["lr"] = lr
        return opt
    return then


@pytest.mark.parametrize("engine", ["stats", "autograd"])
def test_changing_lr_mid_run_follows_a_loop_that_changes_lr_at_that_epoch(tutorial_df, engine):
    design = build_design(tutorial_df, "y")
    tr = Trainer(design, TrainConfig(device="cpu", engine=engine))
    tr.run(30)
    made = tr.change(lr=0.05)
    result = tr.run()
    ref = _tutorial_loop_with_switch(tutorial_df.x.tolist(), tutorial_df.y.tolist(), 100, 30,
                                     lambda p: torch.optim.SGD(p, lr=0.01), _set_lr(0.05))
    np.testing.assert_allclose(result.loss_history, ref, rtol=1e-5)
    assert result.loss_history[:30] == train(design, TrainConfig(device="cpu", engine=engine, epochs=30)).loss_history
    assert [(c.epoch, c.setting, c.old, c.new) for c in made] == [(30, "lr", 0.01, 0.05)]
    assert tr.changes == made and made[0].describe() == "lr 0.01 → 0.05"
    assert result.config.lr == 0.05 and result.status == "completed"


def test_changing_the_optimizer_starts_it_fresh_on_the_same_model(tutorial_df):
    design = build_design(tutorial_df, "y")
    tr = Trainer(design, TrainConfig(device="cpu", epochs=60, engine="autograd"))  # float32 like the reference
    tr.run(20)
    (made,) = tr.change(optimizer="adam", lr=0.1)[:1]
    result = tr.run()
    ref = _tutorial_loop_with_switch(tutorial_df.x.tolist(), tutorial_df.y.tolist(), 60, 20,
                                     lambda p: torch.optim.SGD(p, lr=0.01), lambda p, _: torch.optim.Adam(p, lr=0.1))
    np.testing.assert_allclose(result.loss_history, ref, rtol=1e-6)
    assert [c.setting for c in tr.changes] == ["lr", "optimizer"]
    assert tr.changes[1].describe() == "optimizer sgd → adam (optimizer state reset)" and made.epoch == 20


def test_more_epochs_reopen_a_completed_run_and_fewer_than_run_are_refused(tutorial_df):
    design = build_design(tutorial_df, "y")
    tr = Trainer(design, TrainConfig(device="cpu", epochs=10))
    assert tr.run().status == "completed"
    tr.change(epochs=25)
    assert not tr.done and tr.run().epochs_run == 25
    with pytest.raises(ParameterError, match=r"at least the 25 epochs already run\. Got 5 instead"):
        tr.change(epochs=5)
    with pytest.raises(ParameterError, match=r"'batch_size' setting cannot change during a run"):
        tr.change(batch_size=2)
    with pytest.raises(ParameterError, match=r"'lr' parameter must be a float > 0\. Got -0\.1 instead"):
        tr.change(lr=-0.1)
    assert tr.change(lr=0.01) == [] and tr.config.epochs == 25  # nothing changed, nothing recorded


def test_between_waits_change_no_number_and_are_not_training_time(tutorial_df):
    design = build_design(tutorial_df, "y")
    plain = Trainer(design, TrainConfig(device="cpu")).fit()
    waits = []
    paced = Trainer(design, TrainConfig(device="cpu")).fit([HistoryRecorder()],
                                                           between=lambda epoch: waits.append(epoch) or time.sleep(0.002))
    assert paced.loss_history == plain.loss_history
    np.testing.assert_array_equal(paced.coef, plain.coef)
    assert waits == list(range(1, 100))  # after every epoch but the last
    assert paced.train_seconds < 0.1  # 99 waits of 2 ms (≥ 0.198 s) are left out of the training time


@pytest.mark.parametrize("config", [
    TrainConfig(epochs=60, lr=0.01),  # the tutorial: SGD, the stats engine
    TrainConfig(epochs=60, optimizer="momentum", lr=0.005),  # momentum's velocity is state
    TrainConfig(epochs=60, optimizer="adam", lr=0.05, engine="autograd"),  # Adam's moments and step count
    TrainConfig(epochs=60, lr=0.001, batch_size=1),  # the shuffling generator is state
], ids=["sgd", "momentum", "adam", "minibatch"])
def test_rewind_to_a_checkpoint_replays_the_same_numbers(tutorial_df, config):
    """Pause at the epoch a page shows: the run went on a few epochs past it, rewinds there, and every later
    epoch is the number an uninterrupted run computes."""
    design = build_design(tutorial_df, target="y", features=["x"])
    straight = Trainer(design, config)
    straight.run()
    tr = Trainer(design, config)
    tr.run(20)
    cp = tr.checkpoint()
    tr.run(7)
    tr.should_stop = lambda: True
    tr.run_epoch()  # stopped, as a paused UI run is
    tr.should_stop = None
    tr.rewind(cp)
    assert tr.epoch == 20 and tr.history == straight.history[:20]
    assert tr.status == "stopped"  # still paused: resume() goes on
    tr.resume()
    tr.run()
    assert tr.history == straight.history
    np.testing.assert_array_equal(tr.result().coef, straight.result().coef)


def test_rewind_refuses_a_checkpoint_from_before_a_change_of_course(tutorial_df):
    tr = Trainer(build_design(tutorial_df, target="y", features=["x"]), TrainConfig(epochs=50))
    tr.run(10)
    cp = tr.checkpoint()
    tr.run(5)
    tr.change(lr=0.05)
    with pytest.raises(ParameterError, match="not an earlier state of this run"):
        tr.rewind(cp)
