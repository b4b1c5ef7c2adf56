"""The gradient-descent preview: the trainer's own path, computed from the moments before Train is pressed."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest
import torch

from linreg_core import (
    MAX_PREVIEW_EPOCHS,
    OPTIMIZERS,
    ParameterError,
    Preview,
    TrainConfig,
    Trainer,
    build_design,
    initial_params,
    preview_path,
    stream_design,
)

EPOCHS = 50
# Learning rates that make visible progress in 50 epochs on both datasets without diverging.
LR = {"sgd": 0.01, "momentum": 0.01, "adam": 0.05, "rmsprop": 0.01, "adagrad": 0.3}


@pytest.fixture(scope="module")
def tutorial() -> pd.DataFrame:
    return pd.DataFrame({"x": [1.0, 2.0, 3.0, 3.5], "y": [2.0, 4.0, 6.0, 7.0]})


@pytest.fixture(scope="module")
def three_features() -> pd.DataFrame:
    """300 noisy rows, three features on different scales (trainable unstandardized at small lr)."""
    rng = np.random.default_rng(11)
    n = 300
    df = pd.DataFrame({"a": rng.normal(0, 1, n), "b": rng.normal(5, 2, n), "c": rng.uniform(-3, 3, n)})
    df["y"] = 1.5 + 2.0 * df.a - 0.7 * df.b + 0.3 * df.c + rng.normal(0, 0.5, n)
    return df


def _trainer_path(design, config: TrainConfig, epochs: int = EPOCHS):
    """What the trainer does, epoch by epoch: (intercepts, coefs, history, trainer), row k = after k updates
    (a diverged run's final parameters are ``trainer.result()``'s)."""
    tr = Trainer(design, config)
    start = tr.params()
    icpts, coefs = [start[0]], [start[1]]
    for _ in range(epochs):
        going = tr.run_epoch()
        if tr.status == "diverged":  # stopped before this epoch's update
            break
        icpt, coef = tr.params()
        icpts.append(icpt)
        coefs.append(coef)
        if not going:
            break
    return icpts, np.array(coefs), np.array(tr.history), tr


def _assert_same_path(preview: Preview, design, config: TrainConfig, rtol: float, atol: float = 1e-12) -> None:
    icpts, coefs, history, _ = _trainer_path(design, config)
    assert preview.diverged_at is None
    np.testing.assert_allclose(preview.losses, history, rtol=rtol)
    np.testing.assert_allclose(preview.coefs, coefs, rtol=rtol, atol=atol)
    if design.fit_intercept:
        np.testing.assert_allclose(preview.intercepts, np.array(icpts, dtype=float), rtol=rtol, atol=atol)
    else:
        assert preview.intercepts is None


# --- the preview is the trainer's path ------------------------------------------------------------------

@pytest.mark.parametrize("l2", [0.0, 0.1], ids=["no-l2", "l2"])
@pytest.mark.parametrize("standardize", [False, True], ids=["raw", "standardized"])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("data", ["tutorial", "three_features"])
def test_preview_equals_a_float64_training_run(request, data, optimizer, standardize, l2):
    design = build_design(request.getfixturevalue(data), "y")
    config = TrainConfig(optimizer=optimizer, lr=LR[optimizer], standardize=standardize, l2=l2, seed=2,
                         dtype="float64", device="cpu", epochs=EPOCHS)
    preview = preview_path(design, config, EPOCHS)
    assert preview.coefs.shape == (EPOCHS + 1, len(design.terms)) and preview.losses.shape == (EPOCHS,)
    assert preview.intercepts.shape == (EPOCHS + 1,)
    _assert_same_path(preview, design, config, rtol=1e-9)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_preview_equals_the_autograd_reference_loop(three_features, optimizer):
    """The tutorial's forward/backward loop (engine="autograd") takes the same path as the preview."""
    design = build_design(three_features, "y")
    config = TrainConfig(optimizer=optimizer, lr=LR[optimizer], standardize=True, l2=0.05, seed=1, dtype="float64",
                         device="cpu", epochs=EPOCHS, engine="autograd")
    _assert_same_path(preview_path(design, config, EPOCHS), design, config, rtol=1e-9)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_preview_follows_a_float32_training_run_closely(tutorial, optimizer):
    """The app trains in float32 by default: the float64 preview is within float32's rounding of it."""
    design = build_design(tutorial, "y")
    config = TrainConfig(optimizer=optimizer, lr=LR[optimizer], seed=3, device="cpu", epochs=EPOCHS)
    assert config.dtype == "float32"
    _assert_same_path(preview_path(design, config, EPOCHS), design, config, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("standardize", [False, True])
def test_preview_without_intercept_and_with_polynomial_terms(tutorial, standardize):
    design = build_design(tutorial, "y", ["x"], degree=2, fit_intercept=False)
    config = TrainConfig(optimizer="momentum", lr=0.001, standardize=standardize, dtype="float64", device="cpu",
                         epochs=EPOCHS)
    preview = preview_path(design, config, EPOCHS)
    assert preview.intercepts is None and preview.coefs.shape == (EPOCHS + 1, 2)
    _assert_same_path(preview, design, config, rtol=1e-9)


def test_preview_from_a_warm_start(three_features):
    design = build_design(three_features, "y")
    config = TrainConfig(optimizer="adam", lr=0.05, standardize=True, init_weight=[1.0, -0.5, 0.2], init_bias=2.0,
                         dtype="float64", device="cpu", epochs=EPOCHS)
    preview = preview_path(design, config, EPOCHS)
    np.testing.assert_allclose(preview.coefs[0], [1.0, -0.5, 0.2], rtol=1e-12)
    assert preview.intercepts[0] == pytest.approx(2.0, rel=1e-12)
    _assert_same_path(preview, design, config, rtol=1e-9)


def test_rank_deficient_design_previews_the_autograd_fallback():
    """Duplicate columns: the trainer falls back to autograd; the preview still follows it."""
    df = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [2.0, 4, 6, 8], "y": [1.0, 2, 3, 5]})
    design = build_design(df, "y")
    config = TrainConfig(lr=0.01, dtype="float64", device="cpu", epochs=EPOCHS)
    assert Trainer(design, config).engine.name == "autograd"
    _assert_same_path(preview_path(design, config, EPOCHS), design, config, rtol=1e-9)


def test_streamed_design_previews_out_of_core_training(three_features, tmp_path):
    """A file read with --out-of-core keeps only its moments: the preview needs nothing more."""
    path = tmp_path / "rows.csv"
    three_features.to_csv(path, index=False)
    design = stream_design(path, "y", chunk_rows=70)
    assert design.X is None
    config = TrainConfig(optimizer="rmsprop", lr=0.01, standardize=True, dtype="float64", device="cpu", epochs=EPOCHS)
    _assert_same_path(preview_path(design, config, EPOCHS), design, config, rtol=1e-9)


# --- divergence ------------------------------------------------------------------------------------------

def _diverged_epoch(trainer: Trainer) -> int:
    return int(re.search(r"in epoch (\d+)", trainer.reason).group(1))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("lr,optimizer", [(10.0, "sgd"), (0.5, "sgd"), (0.3, "momentum"), (2.0, "momentum")])
def test_diverging_lr_stops_at_the_epoch_the_trainer_reports(tutorial, lr, optimizer, dtype):
    design = build_design(tutorial, "y")
    config = TrainConfig(optimizer=optimizer, lr=lr, dtype=dtype, device="cpu", epochs=1000)
    icpts, coefs, history, tr = _trainer_path(design, config, 1000)
    preview = preview_path(design, config, 1000)
    assert tr.status == "diverged"
    assert preview.diverged_at == _diverged_epoch(tr)
    # The arrays stop where the trainer does: its history, and its final parameters as the last row.
    rtol = 1e-9 if dtype == "float64" else 1e-4
    np.testing.assert_allclose(preview.losses, history, rtol=rtol)
    result = tr.result()
    np.testing.assert_allclose(preview.coefs[-1], result.coef, rtol=rtol)
    assert preview.intercepts[-1] == pytest.approx(result.intercept, rel=rtol)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")  # the trainer's own arithmetic overflows
def test_loss_overflowing_to_inf_is_left_out_like_the_trainer(tutorial):
    """A non-finite loss is not recorded; the last row goes back to the parameters of the last finite one."""
    design = build_design(tutorial, "y")
    config = TrainConfig(lr=1e140, dtype="float64", device="cpu", epochs=100, divergence_factor=1e300)
    _, _, history, tr = _trainer_path(design, config, 100)
    preview = preview_path(design, config, 100)
    assert "infinite" in tr.reason or "NaN" in tr.reason
    assert preview.diverged_at == _diverged_epoch(tr) == len(history) + 1
    assert np.all(np.isfinite(preview.losses)) and np.all(np.isfinite(preview.coefs))
    np.testing.assert_allclose(preview.losses, history, rtol=1e-9)
    np.testing.assert_allclose(preview.coefs[-1], tr.result().coef, rtol=1e-9)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
def test_last_update_overflowing_keeps_the_parameters_before_it(tutorial):
    design = build_design(tutorial, "y")
    config = TrainConfig(lr=1e307, dtype="float64", device="cpu", epochs=1)
    result = Trainer(design, config).run()
    preview = preview_path(design, config, 1)
    assert result.status == "diverged" and preview.diverged_at == 1
    np.testing.assert_allclose(preview.losses, result.loss_history, rtol=1e-12)
    np.testing.assert_allclose(preview.coefs, [result.coef], rtol=1e-12)


def test_a_stable_lr_does_not_diverge(tutorial):
    preview = preview_path(build_design(tutorial, "y"), TrainConfig(lr=0.05), 2000)
    assert preview.diverged_at is None and preview.losses[-1] < 1e-6 * preview.losses[0]


# --- moments only: the cost does not depend on the rows -----------------------------------------------------

@pytest.mark.parametrize("standardize", [False, True])
def test_identical_moments_give_identical_previews(three_features, standardize):
    design = build_design(three_features, "y")
    moments_only = dataclasses.replace(design, X=None, y=None, given_moments=design.moments())
    config = TrainConfig(optimizer="adam", lr=0.05, standardize=standardize, l2=0.01)
    a = preview_path(design, config, EPOCHS)
    for other in (preview_path(moments_only, config, EPOCHS), preview_path(design.moments(), config, EPOCHS)):
        assert np.array_equal(a.losses, other.losses)
        assert np.array_equal(a.coefs, other.coefs) and np.array_equal(a.intercepts, other.intercepts)


def test_repeating_every_row_changes_nothing(three_features):
    """100 rows, and the same rows 10,000 times (a million): same MSE, same gradients, same preview."""
    small = three_features.iloc[:100]
    big = pd.concat([small] * 10_000, ignore_index=True)
    config = TrainConfig(optimizer="momentum", lr=0.01, standardize=True)
    a = preview_path(build_design(small, "y"), config, EPOCHS)
    b = preview_path(build_design(big, "y"), config, EPOCHS)
    np.testing.assert_allclose(b.losses, a.losses, rtol=1e-9)
    np.testing.assert_allclose(b.coefs, a.coefs, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b.intercepts, a.intercepts, rtol=1e-9, atol=1e-12)


# --- the starting point ------------------------------------------------------------------------------------

@pytest.mark.parametrize("settings", [
    dict(seed=0), dict(seed=5, dtype="float64"), dict(seed=7, standardize=True),
    dict(init_weight=[1.5, 0.0, -2.0], standardize=True), dict(init_bias=0.3, standardize=True),
    dict(init_bias=0.3, init_weight=[2.0, 1.0, 0.5], dtype="float64"),
])
def test_initial_params_are_where_the_trainer_starts(three_features, settings):
    design = build_design(three_features, "y")
    config = TrainConfig(device="cpu", **settings)
    info = Trainer(design, config).start_info()
    icpt, coef = initial_params(design, config)
    assert icpt == pytest.approx(info.initial_intercept, rel=1e-12)
    np.testing.assert_allclose(coef, info.initial_coef, rtol=1e-12)
    if dict(settings) == dict(seed=0):  # the model's own weights, bit for bit, without torch (linreg_core._start)
        from linreg_core._start import seeded_linear_init

        torch.manual_seed(0)
        model = torch.nn.Linear(3, 1)
        drawn = seeded_linear_init(0, 3, True)
        assert drawn is None or (drawn[0].tolist() == model.weight.detach().reshape(-1).tolist()
                                 and drawn[1] == float(model.bias.detach()[0]))


SEEDS = [0, 1, 5, 123, 2**31, 2**32 - 1, 2**40 + 7]
REPRODUCE = """
import sys, warnings
import numpy as np, torch
from linreg_core._start import fused_rounding, seeded_linear_init
warnings.simplefilter("ignore")  # (torch on a (1, 0) weight)
bad = []
for seed in range(200):
    for k in (0, 1, 2, 3, 5, 10, 33):
        for bias in (True, False):
            torch.manual_seed(seed)
            lin = torch.nn.Linear(k, 1, bias=bias)
            w, b = seeded_linear_init(seed, k, bias)
            if not (np.array_equal(w, lin.weight.detach().numpy().ravel()) and
                    b == (None if lin.bias is None else float(lin.bias.detach()[0]))):
                bad.append((seed, k, bias))
print(fused_rounding(), len(bad), bad[:3])
"""


@pytest.mark.parametrize("k", [0, 1, 2, 3, 7, 40])
@pytest.mark.parametrize("bias", [True, False])
def test_seeded_weights_are_torchs_bit_for_bit_without_torch(k, bias):
    """The preview's start needs no torch: nn.Linear's seeded initialisation is reproduced in numpy, exactly."""
    from linreg_core._start import seeded_linear_init

    for seed in SEEDS:
        drawn = seeded_linear_init(seed, k, bias)
        if drawn is None:
            pytest.skip("this machine's rounding of torch's draws is not known: the preview asks torch")
        torch.manual_seed(seed)
        lin = torch.nn.Linear(k, 1, bias=bias)
        np.testing.assert_array_equal(drawn[0], lin.weight.detach().numpy().reshape(-1).astype(np.float64))
        assert drawn[1] == (None if lin.bias is None else float(lin.bias.detach()[0]))


@pytest.mark.parametrize("capability", ["default", ""], ids=["torch-default-kernel", "this-machine"])
def test_seeded_weights_follow_the_kernel_torch_picks(capability):
    """torch's default CPU kernel rounds x·(high − low) + low twice, its AVX2/AVX-512 ones once (an FMA): the
    reproduction follows the one torch runs here, also when ATEN_CPU_CAPABILITY forces the default one."""
    import os
    import subprocess
    import sys

    from linreg_core._start import fused_rounding

    if fused_rounding() is None:
        pytest.skip("not x86-64 Linux: the preview asks torch")
    env = {**os.environ, "ATEN_CPU_CAPABILITY": capability} if capability else dict(os.environ)
    out = subprocess.run([sys.executable, "-c", REPRODUCE], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    fused, bad = out.stdout.split()[:2]
    assert bad == "0", out.stdout
    if capability == "default":
        assert fused == "False"


def test_a_machine_whose_rounding_is_unknown_asks_torch(three_features, monkeypatch):
    import linreg_core._start as start

    design = build_design(three_features, "y")
    config = TrainConfig(seed=3, init_bias=0.5, standardize=True, device="cpu")
    reproduced = initial_params(design, config)
    monkeypatch.setattr(start, "_fused", None)
    assert start.seeded_linear_init(3, 3, True) is None
    assert initial_params(design, config) == reproduced  # torch's own, the same numbers
    assert start.matches_torch()  # nothing to check: torch is asked


def test_start_from_the_trainer_gives_the_same_preview(three_features):
    design = build_design(three_features, "y")
    config = TrainConfig(optimizer="rmsprop", lr=0.01, standardize=True, seed=9, dtype="float64", device="cpu")
    info = Trainer(design, config).start_info()
    given = preview_path(design, config, EPOCHS, start=(info.initial_intercept, info.initial_coef))
    derived = preview_path(design, config, EPOCHS)
    np.testing.assert_allclose(given.losses, derived.losses, rtol=1e-12)
    np.testing.assert_allclose(given.coefs, derived.coefs, rtol=1e-12)


def test_a_chosen_start_is_row_zero(tutorial):
    preview = preview_path(build_design(tutorial, "y"), TrainConfig(standardize=True), 3, start=(1.0, [0.5]))
    assert preview.intercepts[0] == pytest.approx(1.0) and preview.coefs[0] == pytest.approx([0.5])
    assert preview.losses[0] == pytest.approx(np.mean((1.0 + 0.5 * np.array([1, 2, 3, 3.5]) - [2, 4, 6, 7]) ** 2))


def test_preview_leaves_torch_random_state_alone(tutorial):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    preview_path(build_design(tutorial, "y"), TrainConfig(seed=4), 5)
    initial_params(build_design(tutorial, "y"), TrainConfig(seed=4))
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("start,phrase", [
    ((0.0, [1.0, 2.0]), "The 'start' coefficients must be 1 finite value(s), one per term."),
    ((None, [1.0]), "The 'start' intercept must be a finite intercept. Got None instead."),
    ((float("nan"), [1.0]), "The 'start' intercept must be a finite intercept. Got nan instead."),
    ((0.0, [float("inf")]), "The 'start' coefficients must be 1 finite value(s)"),
])
def test_a_bad_start_is_refused(tutorial, start, phrase):
    with pytest.raises(ParameterError, match=re.escape(phrase)):
        preview_path(build_design(tutorial, "y"), TrainConfig(), 5, start=start)


def test_a_start_with_an_intercept_is_refused_without_one(tutorial):
    design = build_design(tutorial, "y", fit_intercept=False)
    with pytest.raises(ParameterError, match=re.escape("must be None (the model has no intercept). Got 1.0 instead.")):
        preview_path(design, TrainConfig(), 5, start=(1.0, [2.0]))


# --- what has no preview, and the arguments ---------------------------------------------------------------

def test_mini_batch_training_has_no_preview(three_features):
    design = build_design(three_features, "y")
    assert preview_path(design, TrainConfig(batch_size=32), EPOCHS) is None
    # A batch as large as the data is full batch, for the trainer and the preview alike.
    full = preview_path(design, TrainConfig(batch_size=0), EPOCHS)
    whole = preview_path(design, TrainConfig(batch_size=len(three_features)), EPOCHS)
    assert np.array_equal(full.losses, whole.losses)


def test_zero_epochs_is_just_the_start(tutorial):
    preview = preview_path(build_design(tutorial, "y"), TrainConfig(), 0)
    assert preview.coefs.shape == (1, 1) and preview.intercepts.shape == (1,) and preview.losses.shape == (0,)
    assert preview.diverged_at is None


@pytest.mark.parametrize("epochs", [-1, MAX_PREVIEW_EPOCHS + 1, 2.5, True, "50", None])
def test_epochs_are_validated_with_sklearn_style_messages(tutorial, epochs):
    expected = f"The 'epochs' parameter must be an int in [0, 10000]. Got {epochs!r} instead."
    with pytest.raises(ParameterError, match=re.escape(expected)):
        preview_path(build_design(tutorial, "y"), TrainConfig(), epochs)


def test_the_config_is_validated_like_the_trainer_does(tutorial):
    with pytest.raises(ParameterError, match=re.escape("The 'lr' parameter must be a float > 0. Got -0.1 instead.")):
        preview_path(build_design(tutorial, "y"), TrainConfig(lr=-0.1), 5)
    with pytest.raises(ParameterError, match="one value per term"):
        preview_path(build_design(tutorial, "y"), TrainConfig(init_weight=[1.0, 2.0]), 5)


def test_data_must_be_a_design_or_moments(tutorial):
    with pytest.raises(ParameterError, match="must be a Design or Moments. Got DataFrame instead."):
        preview_path(tutorial, TrainConfig(), 5)


def test_preview_is_frozen(tutorial):
    preview = preview_path(build_design(tutorial, "y"), TrainConfig(), 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        preview.diverged_at = 1


def test_preview_arrays_are_read_only(tutorial):
    """A UI caches previews between reruns: nobody can change one in place."""
    preview = preview_path(build_design(tutorial, "y"), TrainConfig(), 3)
    for a in (preview.intercepts, preview.coefs, preview.losses):
        with pytest.raises(ValueError, match="read-only"):
            a[0] = 0.0
