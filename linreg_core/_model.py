"""The model: one nn.Linear, exactly as in the tutorial (nn.Linear(1, 1) for one feature)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["LinearModel"]


class LinearModel(nn.Module):
    """y = x @ wᵀ + b with ``n_features`` inputs and one output."""

    def __init__(self, n_features: int, bias: bool = True) -> None:
        super().__init__()
        self.linear = nn.Linear(n_features, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)
