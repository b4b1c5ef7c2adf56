"""Datasets a user can start from without a file: the tutorial, a generator, real data shipped with Plotly."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    target: str
    features: tuple[str, ...]


def tutorial() -> pd.DataFrame:
    """The PyTorch tutorial's four points."""
    return pd.DataFrame({"x": [1.0, 2.0, 3.0, 3.5], "y": [2.0, 4.0, 6.0, 7.0]})


def noisy_line(n: int = 100, slope: float = 2.0, intercept: float = 1.0, noise: float = 1.0,
               outliers: float = 0.0, seed: int = 0, x_min: float = 0.0, x_max: float = 10.0) -> pd.DataFrame:
    """y = intercept + slope·x + N(0, noise²); a fraction ``outliers`` of rows get a ±10·noise kick."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(x_min, x_max, n)
    y = intercept + slope * x + rng.normal(0.0, noise, n)
    k = int(round(outliers * n))
    if k:
        idx = rng.choice(n, size=k, replace=False)
        y[idx] += rng.choice([-1.0, 1.0], size=k) * 10.0 * max(noise, 1e-9) * rng.uniform(1.0, 2.0, k)
    return pd.DataFrame({"x": np.round(x, 6), "y": np.round(y, 6)})


def wave(n: int = 30, noise: float = 0.25, seed: int = 1) -> pd.DataFrame:
    """sin(2πx) + N(0, noise²) on [0, 1]: a straight line underfits it, degree 3 fits, degree 9 chases the noise."""
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0.0, 1.0, n))
    y = np.sin(2 * np.pi * x) + rng.normal(0.0, noise, n)
    return pd.DataFrame({"x": np.round(x, 6), "y": np.round(y, 6)})


GENERATOR = ("gen_n", "gen_slope", "gen_intercept", "gen_noise", "gen_outliers", "gen_seed")  # its session keys


def generated(values: tuple) -> tuple[pd.DataFrame, str]:
    """The noisy line the Data page's generator makes from ``values`` (in :data:`GENERATOR`'s order), and its name."""
    n, slope, intercept, noise, outliers, seed = values
    df = noisy_line(int(n), float(slope), float(intercept), float(noise), float(outliers) / 100.0, int(seed))
    return df, f"Noisy line (n={int(n)}, slope {slope:g}, intercept {intercept:g})"


def _plotly(name: str) -> pd.DataFrame:
    import plotly.express as px  # ships these datasets inside the package: no network needed

    return getattr(px.data, name)()


PRESETS: dict[str, Preset] = {
    "tutorial": Preset("Tutorial: 4 points", "x = [1, 2, 3, 3.5], y = [2, 4, 6, 7] — the PyTorch tutorial's data.",
                       "y", ("x",)),
    "wave": Preset("Noisy wave: under- and over-fitting", "30 points of sin(2πx) plus noise: with a validation "
                   "split, compare polynomial degrees 1, 3 and 9.", "y", ("x",)),
    "tips": Preset("Restaurant tips (Plotly)", "244 restaurant bills: predict the tip from the total bill.",
                   "tip", ("total_bill",)),
    "iris": Preset("Iris flowers (Plotly)", "150 iris flowers: petal width from petal length.",
                   "petal_width", ("petal_length",)),
    "gapminder": Preset("Gapminder life expectancy (Plotly)", "1,704 country-years: life expectancy by year.",
                        "lifeExp", ("year",)),
}


def load_preset(key: str) -> pd.DataFrame:
    if key == "tutorial":
        return tutorial()
    if key == "wave":
        return wave()
    return _plotly(key)
