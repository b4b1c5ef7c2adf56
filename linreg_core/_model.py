"""The model: one nn.Linear, exactly as in the tutorial (nn.Linear(1, 1) for one feature)."""

from __future__ import annotations

import warnings

import torch
from torch import nn

__all__ = ["LinearModel"]


class LinearModel(nn.Module):
    """y = x @ wᵀ + b with ``n_features`` inputs and one output."""

    def __init__(self, n_features: int, bias: bool = True) -> None:
        super().__init__()
        with warnings.catch_warnings():  # y ~ 1 (the null model) has no inputs: torch warns that a (1, 0) weight
            warnings.filterwarnings("ignore", "Initializing zero-element tensors", UserWarning)  # has nothing to init
            self.linear = nn.Linear(n_features, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)
