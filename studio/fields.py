"""The number settings' bounds and display precision, in one place for the widgets and for share links.

A widget can only show values inside its bounds and at its precision: a value set from elsewhere (a share
link, a re-opened run) that it cannot show would run while the sidebar shows something else. So the
widgets take their bounds from here, values typed into them are snapped to what they show, and a share
link's value is accepted only if :meth:`Field.problem` finds nothing wrong with it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from linreg_core._design import MAX_DEGREE

_INT = re.compile(r"[+-]?\d{1,12}")
_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?")


@dataclass(frozen=True)
class Field:
    label: str  # the widget's label, which messages name
    lo: float
    hi: float
    integer: bool = False
    fmt: str | None = None  # printf format the widget displays a float with
    step: float | None = None  # the widget's step
    on_steps: bool = False  # a slider: values sit on lo + k·step

    def widget(self) -> dict[str, Any]:
        """Keyword arguments for st.number_input / st.slider."""
        if self.integer:
            return {"min_value": int(self.lo), "max_value": int(self.hi), "step": int(self.step or 1)}
        return {"min_value": float(self.lo), "max_value": float(self.hi), "format": self.fmt, "step": self.step}

    def snap(self, value: float) -> float:
        """``value`` as the widget shows it (e.g. lr 0.1234567 shown as 0.123457 runs as 0.123457)."""
        if self.integer:
            return int(value)
        return float(self.fmt % value) if self.fmt else float(value)

    def parse(self, text: str) -> int | float:
        """A number from a share link (never evaluated): ValueError unless it is a plain decimal number."""
        text = text.strip()
        if not (_INT if self.integer else _FLOAT).fullmatch(text):
            raise ValueError(text)
        return int(text) if self.integer else float(text)

    def problem(self, value: float) -> str | None:
        """Why the widget could not show ``value``, or None."""
        if not math.isfinite(value) or not self.lo <= value <= self.hi:
            return f"it must be {self.describe()}"
        if not self.integer and self.snap(value) != value:
            return f"the box shows it as {self.fmt % value}, so it must be given as that"
        if self.on_steps:
            k = (value - self.lo) / self.step
            if abs(k - round(k)) > 1e-9:
                return f"it must be a multiple of {self.step:g}"
        return None

    def describe(self) -> str:
        if self.integer:
            return f"a whole number from {int(self.lo):,} to {int(self.hi):,}"
        return f"a number from {self.lo:g} to {self.hi:g}"


# The other number choices (the training settings' bounds are in their record, studio/settings.py).
FIELDS: dict[str, Field] = {
    "sel_degree": Field("Polynomial degree", 1, MAX_DEGREE, integer=True),
    # the noisy-line generator on the Data page (a share link carries these instead of the rows it makes)
    "gen_n": Field("Points", 2, 1_000_000, integer=True, step=50),
    "gen_slope": Field("Slope", -1e6, 1e6, fmt="%.6g", step=0.5),
    "gen_intercept": Field("Intercept", -1e6, 1e6, fmt="%.6g", step=0.5),
    "gen_noise": Field("Noise (std)", 0.0, 1e6, fmt="%.6g", step=0.25),
    "gen_outliers": Field("Outliers (%)", 0.0, 50.0, fmt="%.6g", step=1.0),
    "gen_seed": Field("Generator seed", 0, 2**31 - 1, integer=True),
    "race_epochs": Field("Race epochs", 1, 200_000, integer=True, step=100),
    "race_lr": Field("Race lane learning rate", 1e-9, 1e3, fmt="%.6g"),
    "race_batch": Field("Race lane batch size", 0, 10_000_000, integer=True),
    "step_k": Field("Epochs per click (k)", 1, 100_000, integer=True),
}


def field(name: str) -> Field | None:
    """The field for a session key (race lanes share theirs: race_lr_0 … race_lr_5, race_batch_0 …)."""
    lane = next((k for k in ("race_lr", "race_batch") if name.startswith(k + "_")), None)
    return FIELDS.get(name) or (FIELDS[lane] if lane else None)
