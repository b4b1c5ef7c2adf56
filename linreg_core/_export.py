"""Exports that need no UI: model JSON, CSVs safe for spreadsheets, and a standalone PyTorch script."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._config import TrainConfig
from ._design import Design
from ._solver import ExactFit
from ._stats import FitStats
from ._summary import FitSummary

__all__ = ["loss_history_csv", "model_json", "neutralize_formulas", "predictions_csv", "reproduction_script",
           "spreadsheet_csv"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def json_safe(x: Any) -> Any:
    """Plain JSON values: non-finite floats become null, numpy scalars and arrays become Python ones."""
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.ndarray):
        return [json_safe(v) for v in x.tolist()]
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    return x


def _inert(text: str) -> str:
    """User text (column names) made safe inside a generated docstring: printable, no quotes or backslashes."""
    return "".join(c if c.isprintable() and c not in "\"\\" else "?" for c in text)[:200]


# A formula starter at the start of the cell or right after a line break: a reader that splits rows at a CR or LF
# inside a cell would start a new row there, with the formula as its first cell.
_FORMULA_AT_LINE_START = re.compile("(^|[\r\n])(?=[" + re.escape("".join(_FORMULA_START)) + "])")


def neutralize_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix with a quote what a spreadsheet would run as a formula (=, +, -, @, tab, CR) in text cells and
    header cells: at the start of the cell and after every line break inside it."""
    def safe(v: object) -> object:
        return _FORMULA_AT_LINE_START.sub("\\1'", v) if isinstance(v, str) else v

    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(safe)
    out.columns = [safe(str(c)) for c in out.columns]  # header cells are cells too
    return out


def spreadsheet_csv(df: pd.DataFrame) -> bytes:
    """``df`` as CSV bytes that a spreadsheet opens as data: formula starters neutralized (:func:`neutralize_formulas`)
    and RFC 4180's CRLF line ends, so that the writer quotes every cell holding a CR or an LF (with LF line ends a
    lone CR is written bare, and readers that end rows at CR split the cell there)."""
    return neutralize_formulas(df).to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def predictions_csv(data: pd.DataFrame, design: Design, gd: tuple[float | None, Sequence[float]] | None,
                    exact: ExactFit, split: Sequence[str] | None = None) -> bytes:
    """The data rows with predictions (gradient descent and exact) and residuals, as CSV bytes;
    ``split`` labels each row (e.g. "train" / "validation") in a column of that name."""
    out = data.reset_index(drop=True)
    if split is not None:
        out["split"] = list(split)
    if gd is not None:
        pred = design.X @ np.asarray(gd[1], dtype=np.float64) + (gd[0] or 0.0)
        out["predicted_gd"] = pred
        out["residual_gd"] = design.y - pred
    pred_exact = exact.predict(design.X)
    out["predicted_exact"] = pred_exact
    out["residual_exact"] = design.y - pred_exact
    return spreadsheet_csv(out)


def loss_history_csv(history: Sequence[float]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["epoch", "loss"])
    for i, v in enumerate(history, start=1):
        w.writerow([i, repr(float(v))])
    return buf.getvalue().encode("utf-8")


def model_json(design: Design, gd: dict[str, Any] | None, exact: ExactFit, stats: FitStats | None = None,
               summary: FitSummary | None = None) -> str:
    """A JSON description of the fitted model (never pickle): formula, terms, parameters, settings, metrics, and
    what ``predict`` needs for intervals (covariance under ``summary.cov_type``, σ², residual degrees of freedom)."""
    from ._predict import spec_state
    from ._stats import fit_stats

    stats = stats if stats is not None else fit_stats(design, exact)
    if summary is not None:
        cov, cov_type, use_t = summary.cov, summary.cov_type, summary.use_t
    else:
        cov, cov_type, use_t = exact.cov_unscaled * stats.sigma2, "nonrobust", True
    doc: dict[str, Any] = {
        "format": "linreg-studio/model@1",
        "formula": design.model_formula,
        "target": design.target,
        "features": design.features,
        "terms": design.terms,
        "degree": design.degree,
        "fit_intercept": design.fit_intercept,
        "n_samples": design.n_samples,
        "exact": {"intercept": exact.intercept, "coef": exact.coef, "condition_number": exact.condition_number,
                  "warnings": list(exact.warnings)},
        "inference": {"params": exact.params, "cov": cov, "cov_type": cov_type, "use_t": use_t,
                      "sigma2": stats.sigma2, "df_resid": design.n_samples - exact.rank,
                      "aliased": list(exact.aliased)},  # positions in params of terms R reports as NA (null here)
    }
    state = spec_state(design)
    if state is not None:
        doc["formula_state"] = state
    if gd is not None:
        doc["gradient_descent"] = gd
    if stats is not None:
        doc["exact"]["metrics"] = stats.metrics()
        doc["exact"]["table"] = stats.table()
    return json.dumps(json_safe(doc), indent=2, allow_nan=False)


def reproduction_script(design: Design, config: TrainConfig, max_inline_rows: int = 20_000) -> str:
    """A standalone script (torch + numpy only) that reproduces this run, following the tutorial's steps.

    Full-batch runs reproduce the loss history exactly (same seed, same ops);
    mini-batch runs reproduce the shuffling too. Data up to ``max_inline_rows``
    rows is written into the script; larger data is read from ``data.csv``.
    """
    k = design.X.shape[1]
    formula = design.formula is not None  # its terms (dummies, transforms) are written out as they are
    raw_cols = len(design.features)
    raw = design.X if formula else np.column_stack([design.X[:, i * design.degree] for i in range(raw_cols)])
    if design.n_samples <= max_inline_rows:
        rows = ",\n    ".join("[" + ", ".join(repr(float(v)) for v in r) + "]" for r in raw)
        ys = ",\n    ".join(repr(float(v)) for v in design.y)
        data_src = f"raw = np.array([\n    {rows},\n])\ny = np.array([\n    {ys},\n])\n"
    else:
        cols = ", ".join(repr(c) for c in (design.terms if formula else design.features))
        data_src = (
            "import pandas as pd  # the data has too many rows to inline; export it as data.csv beside this script\n"
            + ("# (for a formula: one column per term of the design, as Results → Predictions lists them)\n"
               if formula else "") +
            f"df = pd.read_csv('data.csv')\nraw = df[[{cols}]].to_numpy(dtype=np.float64)\n"
            f"y = df[{design.target!r}].to_numpy(dtype=np.float64)\n"
        )
    dtype = "torch.float64" if config.dtype == "float64" else "torch.float32"
    opt = {
        "sgd": f"torch.optim.SGD(model.parameters(), lr={config.lr!r})",
        "momentum": f"torch.optim.SGD(model.parameters(), lr={config.lr!r}, momentum={config.momentum!r})",
        "adam": f"torch.optim.Adam(model.parameters(), lr={config.lr!r})",
        "rmsprop": f"torch.optim.RMSprop(model.parameters(), lr={config.lr!r})",
        "adagrad": f"torch.optim.Adagrad(model.parameters(), lr={config.lr!r})",
    }[config.optimizer]
    if config.standardize:
        center = "X.mean(axis=0)" if design.fit_intercept else "np.zeros(X.shape[1])"
        scale_src = (
            f"mean = {center}\nscale = np.sqrt(((X - mean) ** 2).mean(axis=0))\nscale[~(scale > 0)] = 1.0\n"
        )
    else:
        scale_src = "mean = np.zeros(X.shape[1])\nscale = np.ones(X.shape[1])\n"
    init = ""
    if config.init_weight is not None or config.init_bias is not None:
        w = f"np.array({list(map(float, config.init_weight))!r})" if config.init_weight is not None else "None"
        b = repr(float(config.init_bias)) if config.init_bias is not None else "None"
        init = (
            "# warm start, given in original units, converted to the trained (scaled) space\n"
            "with torch.no_grad():\n"
            f"    w0, b0 = {w}, {b}\n"
            "    cur_w = model.linear.weight.detach().double().numpy().ravel() / scale\n"
            "    cur_b = model.linear.bias.item() - cur_w @ mean if model.linear.bias is not None else None\n"
            "    w0 = cur_w if w0 is None else w0\n"
            "    b0 = cur_b if b0 is None else b0\n"
            "    model.linear.weight.copy_(torch.as_tensor(w0 * scale, dtype=DTYPE).reshape(1, -1))\n"
            "    if model.linear.bias is not None:\n"
            "        model.linear.bias.fill_(float(b0 + w0 @ mean))\n"
        )
    l2 = f" + {config.l2!r} * model.linear.weight.pow(2).sum()" if config.l2 > 0 else ""
    full = config.batch_size == 0 or config.batch_size >= design.n_samples
    if full:
        loop = (
            "for epoch in range(EPOCHS):\n"
            f"    loss = criterion(model(X_t), y_t){l2}  # 3. forward pass and loss\n"
            "    print(f'epoch {epoch + 1}, loss {loss.item()}')\n"
            "    optimizer.zero_grad()  # 4. backward pass and update\n"
            "    loss.backward()\n"
            "    optimizer.step()\n"
        )
    else:
        loop = (
            "gen = torch.Generator().manual_seed(SEED)\n"
            "n = X_t.shape[0]\n"
            "for epoch in range(EPOCHS):\n"
            "    perm = torch.randperm(n, generator=gen)\n"
            "    total = 0.0\n"
            f"    for start in range(0, n, {config.batch_size}):\n"
            f"        idx = perm[start:start + {config.batch_size}]\n"
            f"        loss = criterion(model(X_t[idx]), y_t[idx]){l2}\n"
            "        optimizer.zero_grad()\n"
            "        loss.backward()\n"
            "        optimizer.step()\n"
            "        total += loss.item() * len(idx)\n"
            "    print(f'epoch {epoch + 1}, loss {total / n}')\n"
        )
    terms = design.terms
    term_src = (
        f"X = raw  # the terms of {_inert(design.formula)}, computed by the studio\n" if formula
        else "X = raw\n" if design.degree == 1
        else f"X = np.column_stack([raw[:, j] ** p for j in range(raw.shape[1]) for p in range(1, {design.degree} + 1)])\n"
    )
    model_text = _inert(f"{design.target} ~ {' + '.join(terms)}")
    return f'''"""Reproduces a Linear Regression Studio run: {model_text}.

Settings: optimizer={config.optimizer}, lr={config.lr!r}, epochs={config.epochs}, batch_size={config.batch_size},
standardize={config.standardize}, l2={config.l2!r}, seed={config.seed}, dtype={config.dtype}.
Run with: python this_script.py   (needs torch and numpy)
"""
import numpy as np
import torch
from torch import nn

SEED = {config.seed}
EPOCHS = {config.epochs}
DTYPE = {dtype}

# 1. data
{data_src}{term_src}{scale_src}X_t = torch.as_tensor((X - mean) / scale, dtype=DTYPE)
y_t = torch.as_tensor(y, dtype=DTYPE).reshape(-1, 1)


# 2. model: nn.Linear inside an nn.Module
class LinearModel(nn.Module):
    def __init__(self, n_features):
        super().__init__()
        self.linear = nn.Linear(n_features, 1, bias={design.fit_intercept})

    def forward(self, x):
        return self.linear(x)


torch.manual_seed(SEED)
model = LinearModel({k}).to(DTYPE)
{init}criterion = nn.MSELoss()
optimizer = {opt}

# 3-4. training loop
{loop}
# 5. parameters in the original units of the data
w = model.linear.weight.detach().double().numpy().ravel() / scale
b = model.linear.bias.item() - w @ mean if model.linear.bias is not None else None
print("terms:", {terms!r})
print("coef:", w.tolist())
print("intercept:", b)

# 6. predictions
with torch.no_grad():
    pred = model(X_t).double().numpy().ravel()
print("first predictions:", pred[:5].tolist())
'''
