"""Compute-device selection: never a silent fallback."""

from __future__ import annotations

import re

import torch

from .errors import DeviceError, ParameterError

__all__ = ["available_devices", "resolve_device"]


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps and mps.is_available())


def available_devices() -> list[tuple[str, str]]:
    """(device string, human label) for every device usable here; CPU first."""
    out = [("cpu", f"CPU ({torch.get_num_threads()} threads)")]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            out.append((f"cuda:{i}", f"CUDA {i}: {torch.cuda.get_device_name(i)}"))
    if _mps_available():
        out.append(("mps", "Apple MPS"))
    return out


def resolve_device(spec: str, dtype: torch.dtype = torch.float32) -> torch.device:
    """Map "auto", "cpu", "cuda", "cuda:N" or "mps" to a torch.device that exists here."""
    s = str(spec).strip().lower()
    if s == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda:0")
        if _mps_available() and dtype != torch.float64:
            return torch.device("mps")
        return torch.device("cpu")
    if s == "cpu":
        return torch.device("cpu")
    m = re.fullmatch(r"cuda(?::(\d+))?", s)
    if m:
        if not torch.cuda.is_available():
            build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
            raise DeviceError(
                f"Device {spec!r} was requested but no CUDA GPU is available (PyTorch {torch.__version__}, {build}). "
                "Use device 'cpu' or 'auto'."
            )
        idx = int(m.group(1) or 0)
        count = torch.cuda.device_count()
        if idx >= count:
            raise DeviceError(f"Device {spec!r} was requested but only {count} CUDA device(s) exist (cuda:0 to cuda:{count - 1}).")
        return torch.device(f"cuda:{idx}")
    if s == "mps":
        if not _mps_available():
            raise DeviceError(f"Device {spec!r} was requested but Apple MPS is not available on this machine. Use 'cpu' or 'auto'.")
        if dtype == torch.float64:
            raise DeviceError("Apple MPS does not support float64. Use dtype float32 or device 'cpu'.")
        return torch.device("mps")
    raise ParameterError(f"The 'device' parameter must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'. Got {spec!r} instead.")
