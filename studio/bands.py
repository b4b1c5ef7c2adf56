"""Colour bands for a loss landscape: the contour lines of a map, drawn as a heatmap's colour scale."""

from __future__ import annotations

import numpy as np
from plotly.colors import sample_colorscale

__all__ = ["MAX_BANDS", "bands"]

MAX_BANDS = 12


def bands(z: np.ndarray) -> tuple[float, float, float, list]:
    """Colour bands for a landscape, like a map's contour lines but drawn as a heatmap (cheap to redraw): whole steps
    of 0.5 (of log₁₀ MSE: each band about 3× the one below), or 1, 2, 5… when more than MAX_BANDS would be needed;
    Viridis from dark (lowest) to yellow. Returns (lowest edge, highest edge, step, colour scale)."""
    finite = z[np.isfinite(z)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    for step in (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0):
        first, last = np.floor(lo / step) * step, np.ceil(hi / step) * step
        if (last - first) / step <= MAX_BANDS:
            break
    else:  # a linear scale with a huge range: ten bands of whatever size it takes
        step = (hi - lo) / 10 or 1.0
        first, last = lo, lo + 10 * step
    n = max(int(round((last - first) / step)), 1)
    last = first + n * step
    colors = sample_colorscale("Viridis", [i / max(n - 1, 1) for i in range(n)])
    scale = [[edge, c] for i, c in enumerate(colors) for edge in (i / n, (i + 1) / n)]
    return float(first), float(last), float(step), scale
