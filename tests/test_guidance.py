"""Learning-rate guidance: 2/λmax is the sharp stability limit of full-batch SGD, and standardization
shrinks the condition number."""

from __future__ import annotations

import numpy as np
import pytest

from linreg_core import TrainConfig, build_design, lr_guidance, train


@pytest.mark.parametrize("standardize", [False, True])
def test_two_over_lambda_max_is_the_sharp_stability_limit(multi_df, standardize):
    design = build_design(multi_df, "y", ["a", "b"])
    g = lr_guidance(design, standardize)
    cfg = dict(device="cpu", dtype="float64", epochs=3000, standardize=standardize, divergence_factor=1e12)
    below = train(design, TrainConfig(lr=0.98 * g.max_stable_lr, **cfg))
    above = train(design, TrainConfig(lr=1.02 * g.max_stable_lr, **cfg))
    assert below.status == "completed" and below.loss_history[-1] <= below.loss_history[0]
    assert above.status == "diverged"


def test_eigenvalues_match_the_hessian_computed_from_the_data(multi_df):
    design = build_design(multi_df, "y")
    g = lr_guidance(design)
    A = np.column_stack([np.ones(design.n_samples), design.X])
    lam = np.linalg.eigvalsh(2 * A.T @ A / design.n_samples)
    np.testing.assert_allclose(g.eigenvalues, lam, rtol=1e-8)
    assert g.condition_number == pytest.approx(lam[-1] / lam[0], rel=1e-8)
    assert g.optimal_lr == pytest.approx(2 / (lam[-1] + lam[0]), rel=1e-8)


def test_standardization_shrinks_the_condition_number_and_raises_the_stable_lr(multi_df):
    design = build_design(multi_df, "y")
    raw, std = lr_guidance(design, False), lr_guidance(design, True)
    assert std.condition_number < raw.condition_number / 1000
    assert std.max_stable_lr > raw.max_stable_lr


def test_optimal_lr_converges_faster_than_a_cautious_one(tutorial_df):
    design = build_design(tutorial_df, "y")
    g = lr_guidance(design)
    cfg = dict(device="cpu", dtype="float64", epochs=200)
    fast = train(design, TrainConfig(lr=g.optimal_lr, **cfg))
    slow = train(design, TrainConfig(lr=g.optimal_lr / 4, **cfg))
    assert fast.loss_history[-1] < slow.loss_history[-1]


def test_l2_raises_the_weight_curvature(tutorial_df):
    design = build_design(tutorial_df, "y")
    assert lr_guidance(design, l2=10.0).max_stable_lr < lr_guidance(design).max_stable_lr


def test_loss_grid_equals_the_mse_computed_from_the_rows(tutorial_df):
    from linreg_core import loss_grid

    design = build_design(tutorial_df, "y")
    b, w = np.linspace(-3, 3, 7), np.linspace(0, 4, 5)
    Z = loss_grid(design, b, w)
    x, y = design.X[:, 0], design.y
    expected = np.array([[np.mean((bb + ww * x - y) ** 2) for bb in b] for ww in w])
    np.testing.assert_allclose(Z, expected, rtol=1e-10, atol=1e-12)
    assert Z.min() >= 0


@pytest.mark.parametrize("data, standardize", [("tutorial_df", False), ("multi_df", True)])
def test_loss_minimum_is_below_every_trained_loss_and_reached_by_long_training(data, standardize, request):
    from linreg_core import loss_minimum

    df = request.getfixturevalue(data)
    df = df.assign(y=df.y + np.linspace(-0.3, 0.3, len(df)))  # not a perfect fit: the minimum is above 0
    design = build_design(df, "y")
    for l2 in (0.0, 0.5):
        best = loss_minimum(design, standardize, l2)
        g = lr_guidance(design, standardize, l2)
        res = train(design, TrainConfig(device="cpu", dtype="float64", lr=g.optimal_lr, epochs=20_000,
                                        standardize=standardize, l2=l2))
        assert min(res.loss_history) >= best * (1 - 1e-9)
        assert res.loss_history[-1] == pytest.approx(best, rel=1e-6)
