"""Where a run starts, and when it has gone wrong, without torch.

nn.Linear's seeded initialisation reproduced bit for bit in numpy, so that a preview of a run
(linreg_core.preview_path) needs no torch: torch.manual_seed(seed) starts the standard MT19937 from
``seed & 0xFFFFFFFF``; nn.Linear(k, 1) then draws its weight with kaiming_uniform_(a=√5), U(−1/√k, 1/√k), and its
bias from the same range, in that order, each a float32 ``x * (high - low) + low`` of ``x`` = the draw's low 24 bits
· 2⁻²⁴. The last step is rounded once where torch's CPU kernel was compiled with FMA (its AVX2 and AVX-512 builds)
and twice where not (its default one): :func:`fused_rounding` says which kernel this machine runs, or None where
that is not known here (then the trainer's own torch is asked, see linreg_core._preview). tests/test_preview.py
checks the reproduction against torch on this machine.

Also the checks of a configured start, and the divergence test the trainer and the preview share.
"""

from __future__ import annotations

import math
import os
import platform

import numpy as np

from ._config import TrainConfig
from ._design import Design
from .errors import ParameterError

_UNCHECKED = object()
_fused: object = _UNCHECKED  # fused_rounding()'s answer, once known


def fused_rounding() -> bool | None:
    """Whether torch's uniform_ rounds ``x * (high - low) + low`` once (an FMA) on this machine: the kernel torch
    picks is its AVX2 or AVX-512 one where the CPU has AVX2 and FMA (both fuse), its default one elsewhere
    (separate roundings) or where ATEN_CPU_CAPABILITY=default says so. None off x86-64 Linux: not known here."""
    global _fused
    if _fused is _UNCHECKED:
        _fused = _cpu_fuses()
    return _fused  # type: ignore[return-value]


def _cpu_fuses() -> bool | None:
    if platform.system() != "Linux" or platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    forced = os.environ.get("ATEN_CPU_CAPABILITY", "").strip().lower()
    if forced:
        return forced != "default"
    try:
        with open("/proc/cpuinfo") as fh:
            flags = next((line.split(":", 1)[1].split() for line in fh if line.startswith("flags")), [])
    except OSError:
        return None
    return "avx2" in flags and "fma" in flags


def forget_rounding() -> None:
    """Ask torch from now on (a check against torch found the reproduction off on this machine)."""
    global _fused
    _fused = None


def seeded_linear_init(seed: int, n_features: int, bias: bool) -> tuple[np.ndarray, float | None] | None:
    """nn.Linear(n_features, 1, bias)'s weight (as float64 values of its float32 ones) and bias right after
    torch.manual_seed(seed) — or None where this machine's rounding is not known (:func:`fused_rounding`)."""
    fused = fused_rounding()
    if fused is None:
        return None
    state = np.random.RandomState(seed & 0xFFFFFFFF).get_state()  # init_genrand(seed), as torch's mt19937
    mt = np.random.MT19937()
    mt.state = {"bit_generator": "MT19937", "state": {"key": state[1], "pos": state[2]}}
    raw = mt.random_raw(n_features + int(bias))
    # kaiming_uniform_(a=√5): gain √(2 / (1 + a²)), bound √3 · gain / √fan_in; a (1, 0) weight draws nothing
    w_bound = math.sqrt(3.0) * (math.sqrt(2.0 / (1 + math.sqrt(5) ** 2)) / math.sqrt(n_features)) if n_features else 0.0
    w = _uniform_f32(raw[:n_features], -w_bound, w_bound, fused).astype(np.float64)
    if not bias:
        return w, None
    b_bound = 1 / math.sqrt(n_features) if n_features > 0 else 0
    return w, float(_uniform_f32(raw[n_features:], -b_bound, b_bound, fused)[0])


def _uniform_f32(raw: np.ndarray, low: float, high: float, fused: bool) -> np.ndarray:
    """torch's float32 uniform_(low, high) of the MT19937 outputs ``raw`` (see the module's docstring)."""
    lo, hi = np.float32(low), np.float32(high)
    x = (raw & 0xFFFFFF).astype(np.float32) * np.float32(2.0**-24)  # exact: 24 bits times a power of two
    span = hi - lo  # rounded to float32, as in the kernel
    if not fused:
        return x * span + lo  # numpy rounds the product, then the sum
    # One rounding of the exact x·span + lo: the product is exact in float64 (24 + 24 bits) and the sum's float64
    # rounding error is recovered (Knuth's TwoSum); it only matters where the sum sits exactly halfway between two
    # float32s, where it says on which side the exact value lies.
    p, lo64 = x.astype(np.float64) * np.float64(span), np.float64(lo)
    s = p + lo64
    b = s - p
    err = (p - (s - b)) + (lo64 - b)
    f = s.astype(np.float32)  # to nearest, ties to even
    up, down = np.nextafter(f, np.float32(np.inf)), np.nextafter(f, np.float32(-np.inf))
    f64, r = f.astype(np.float64), s - f.astype(np.float64)
    to_up = (r == (up.astype(np.float64) - f64) / 2) & (err > 0)
    to_down = (r == (down.astype(np.float64) - f64) / 2) & (err < 0)
    return np.where(to_up, up, np.where(to_down, down, f))


def matches_torch(cases: tuple[tuple[int, int, bool], ...] = ((0, 1, True), (0, 3, True), (7, 5, False),
                                                              (2**40 + 3, 17, True))) -> bool:
    """Whether :func:`seeded_linear_init` gives torch's own weights for ``cases`` (seed, features, bias) — where
    torch is imported anyway; the global generator is left as it was. Where it does not, torch is asked from now on."""
    import torch

    from ._model import LinearModel
    from ._scaling import _params

    for seed, k, bias in cases:
        ours = seeded_linear_init(seed, k, bias)
        if ours is None:
            return True  # torch is asked already
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = LinearModel(k, bias=bias)
        w, b = _params(model)
        if not (np.array_equal(ours[0], w) and ours[1] == b):
            forget_rounding()
            return False
    return True


def _check_init(design: Design, config: TrainConfig) -> None:
    k = len(design.terms)
    if config.init_weight is not None and len(config.init_weight) != k:
        raise ParameterError(
            f"The 'init_weight' parameter must have one value per term ({k}: {', '.join(design.terms)}). "
            f"Got {len(config.init_weight)} value(s) instead."
        )
    if config.init_bias is not None and not design.fit_intercept:
        raise ParameterError("The 'init_bias' parameter cannot be set when fitting without an intercept.")


def _divergence(value: float, history: list[float], factor: float) -> str | None:
    """A reason template if ``value`` shows divergence, else None."""
    advice = "The learning rate is too large for this data: try a smaller learning rate or turn on standardization."
    if not math.isfinite(value):
        return "The loss became " + ("NaN" if math.isnan(value) else "infinite") + " in epoch {epoch}. " + advice
    if history and value > factor * max(history[0], np.finfo(np.float64).tiny):
        return f"The loss grew to {value:.3g}, over {factor:g}× the first epoch's {history[0]:.3g}, in epoch {{epoch}}. " + advice
    return None
