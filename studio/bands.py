"""Colour bands for a loss landscape: the contour lines of a map, drawn as a heatmap's colour scale."""

from __future__ import annotations

import numpy as np
from plotly.colors import sample_colorscale

__all__ = ["MAX_BANDS", "bands"]

MAX_BANDS = 12


def bands(z: np.ndarray) -> tuple[float, float, float, list]:
    """Colour bands for a landscape, like a map's contour lines but drawn as a heatmap (cheap to redraw): whole steps
    of 1, 2 or 5 × a power of ten, at most MAX_BANDS of them (0.5 of log₁₀ MSE: each band about 3× the one below);
    Viridis from dark (lowest) to yellow. Returns (lowest edge, highest edge, step, colour scale)."""
    finite = z[np.isfinite(z)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if hi <= lo:
        hi = lo + 1.0
    # The smallest step of 1, 2 or 5 × a power of ten that needs at most MAX_BANDS bands: 0.5 for a landscape of a
    # few decades, 0.1 for a target between 0 and 1, 1e5 for one in the millions.
    power = 10.0 ** np.floor(np.log10((hi - lo) / MAX_BANDS))
    step = next(m * power for m in (1.0, 2.0, 5.0, 10.0, 20.0)
                if np.ceil(hi / (m * power)) - np.floor(lo / (m * power)) <= MAX_BANDS)
    first, last = np.floor(lo / step) * step, np.ceil(hi / step) * step
    n = max(int(round((last - first) / step)), 1)
    last = first + n * step
    colors = sample_colorscale("Viridis", [i / max(n - 1, 1) for i in range(n)])
    scale = [[edge, c] for i, c in enumerate(colors) for edge in (i / n, (i + 1) / n)]
    return float(first), float(last), float(step), scale
