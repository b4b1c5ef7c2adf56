"""The compute devices the Train page's settings offer (linreg_core.available_devices), without waiting for torch's
import where its build has no GPU to find: a CPU-only build on Linux or Windows offers the CPU alone, with the
thread count the studio gives torch (studio/warmup.py). Other builds wait for torch, which lists what it finds."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

from . import warmup

_cpu_only: bool | None = None


def options() -> dict[str, str]:
    """{device string: label}, CPU first, as linreg_core.available_devices gives them once torch is loaded."""
    if not warmup.torch_is_ready() and cpu_only_build():
        return {"cpu": f"CPU ({max(1, warmup.TORCH_THREADS)} threads)"}  # available_devices's label
    warmup.torch_ready()
    from linreg_core import available_devices

    return dict(available_devices())


def cpu_only_build() -> bool:
    """Whether the installed torch can only compute on the CPU: built for neither CUDA nor ROCm (its torch/version.py,
    read, not imported), and not on macOS (Apple's MPS). False where that cannot be read."""
    global _cpu_only
    if _cpu_only is None:
        _cpu_only = sys.platform != "darwin" and _no_gpu_in_build()
    return _cpu_only


def _no_gpu_in_build() -> bool:
    try:
        spec = importlib.util.find_spec("torch")  # (finds the package; imports nothing)
        tree = ast.parse(Path(spec.origin).with_name("version.py").read_text())
    except Exception:  # no torch, an unusual layout: torch itself will say
        return False
    values = {}
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else getattr(node, "target", None)
        if isinstance(target, ast.Name) and getattr(node, "value", None) is not None:
            values[target.id] = node.value
    return all(isinstance(values.get(k), ast.Constant) and values[k].value is None for k in ("cuda", "hip"))


def choice() -> dict:
    """The device setting's widget arguments (studio/controls.py's ``more``): "auto" first, then :func:`options`."""
    found = options()
    return {"options": ["auto", *found], "format_func": lambda d: "auto (best available)" if d == "auto" else found[d]}
