"""The one training configuration, validated with scikit-learn-style messages."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from .errors import ParameterError

__all__ = ["OPTIMIZERS", "TrainConfig"]

OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop", "adagrad")
DTYPES = ("float32", "float64")
ENGINES = ("auto", "stats", "autograd")
MAX_EPOCHS = 10_000_000


@dataclass
class TrainConfig:
    # optimizer: plain SGD (the tutorial's), SGD with momentum, Adam, RMSprop or Adagrad
    optimizer: str = "sgd"
    # step size; the tutorial uses 0.01
    lr: float = 0.01
    # number of passes over the data; the tutorial runs 100
    epochs: int = 100
    # rows per step; 0 = full batch (every row each step, as the tutorial)
    batch_size: int = 0
    # momentum coefficient used by optimizer="momentum"
    momentum: float = 0.9
    # L2 penalty added to the loss: l2 * ‖w‖² (slopes only, in the space trained in)
    l2: float = 0.0
    # train on standardized features; coefficients are reported in original units
    standardize: bool = False
    # seeds the initial weights (nn.Linear's default init) and mini-batch shuffling
    seed: int = 0
    # "float32" (the tutorial's) or "float64"
    dtype: str = "float32"
    # "auto" (CUDA, then MPS, then CPU), "cpu", "cuda", "cuda:N" or "mps"
    device: str = "auto"
    # warm start in original units: one weight per term, and the bias
    init_weight: list[float] | None = None
    init_bias: float | None = None
    # stop with status "converged" when the loss changes by less than tol (relative)
    tol: float | None = None
    # stop with status "diverged" when the loss exceeds this multiple of the first loss
    divergence_factor: float = 1e6
    # "auto": full batch uses the sufficient-statistics engine (O(p²) per epoch, same trajectory),
    # mini-batch the autograd loop; "stats" or "autograd" force one (autograd is the reference)
    engine: str = "auto"

    def to_dict(self) -> dict:
        return asdict(self)

    def validate(self) -> TrainConfig:
        """Raise :class:`ParameterError` for the first invalid setting; return self."""
        if self.optimizer not in OPTIMIZERS:
            raise ParameterError(
                f"The 'optimizer' parameter must be one of {', '.join(map(repr, OPTIMIZERS))}. Got {self.optimizer!r} instead."
            )
        _positive_float("lr", self.lr)
        _int_in("epochs", self.epochs, 1, MAX_EPOCHS)
        _int_in("batch_size", self.batch_size, 0, 2**62)
        _int_in("seed", self.seed, 0, 2**63 - 1)
        _float_in("momentum", self.momentum, 0.0, 1.0, open_high=True)
        _float_in("l2", self.l2, 0.0, math.inf, open_high=True)
        if self.dtype not in DTYPES:
            raise ParameterError(f"The 'dtype' parameter must be 'float32' or 'float64'. Got {self.dtype!r} instead.")
        if self.dtype == "float32" and self.lr > FLOAT32_MAX:  # torch's optimizer cannot even hold it
            raise ParameterError(f"The 'lr' parameter must be a float > 0 and at most {FLOAT32_MAX:.4g} with float32 "
                                 f"precision. Got {self.lr!r} instead.")
        if not isinstance(self.device, str) or not self.device.strip():
            raise ParameterError(f"The 'device' parameter must be a non-empty string. Got {self.device!r} instead.")
        if self.engine not in ENGINES:
            raise ParameterError(f"The 'engine' parameter must be one of {', '.join(map(repr, ENGINES))}. Got {self.engine!r} instead.")
        if self.tol is not None:
            _positive_float("tol", self.tol)
        _positive_float("divergence_factor", self.divergence_factor)
        if self.init_bias is not None:
            _finite("init_bias", self.init_bias)
        if self.init_weight is not None:
            for w in self.init_weight:
                _finite("init_weight", w)
        return self


FLOAT32_MAX = 3.4028234663852886e38  # the largest float32


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _positive_float(name: str, v: object) -> None:
    if not _is_number(v) or not math.isfinite(v) or v <= 0:
        raise ParameterError(f"The {name!r} parameter must be a float > 0. Got {v!r} instead.")


# A starting weight or bias beyond this squares past float64 in the loss: training would only report nan.
MAX_INIT = 1e150


def _finite(name: str, v: object) -> None:
    if not _is_number(v) or not math.isfinite(v) or abs(v) > MAX_INIT:
        raise ParameterError(f"The {name!r} parameter must be a finite float with |value| <= {MAX_INIT:g}. "
                             f"Got {v!r} instead.")


def _float_in(name: str, v: object, lo: float, hi: float, open_high: bool = False) -> None:
    ok = _is_number(v) and lo <= v and (v < hi if open_high else v <= hi) and not math.isnan(v)
    if not ok:
        bracket = ")" if open_high else "]"
        raise ParameterError(f"The {name!r} parameter must be a float in [{lo:g}, {hi:g}{bracket}. Got {v!r} instead.")


def _int_in(name: str, v: object, lo: int, hi: int) -> None:
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise ParameterError(f"The {name!r} parameter must be an int in [{lo}, {hi}]. Got {v!r} instead.")
