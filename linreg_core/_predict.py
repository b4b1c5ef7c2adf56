"""Prediction on new rows from a saved model JSON, with confidence and prediction intervals (as statsmodels'
``get_prediction``): the JSON carries the formula, its category levels and transform state, the parameters,
their covariance, σ² and the residual degrees of freedom. JSON only — a model file is data, never code."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import _dist
from ._design import Design
from ._formula import MAX_MODEL_COLUMNS, formula_matrix
from ._text import _shown
from .errors import DataError, FormulaError, ParameterError

__all__ = ["INTERVALS", "SavedModel", "load_model", "spec_state"]

INTERVALS = ("confidence", "prediction")
FORMAT = "linreg-studio/model@1"


def _tag(o: Any) -> Any:
    """formulaic's transform state as JSON: dicts may have number keys and hold numpy values."""
    if isinstance(o, dict):
        return {"__dict__": [[_tag(k), _tag(v)] for k, v in o.items()]}
    if isinstance(o, np.ndarray):
        return {"__array__": o.tolist()}
    if isinstance(o, (np.floating, np.integer, np.bool_)):
        return o.item()
    if isinstance(o, (list, tuple)):
        return [_tag(v) for v in o]
    if isinstance(o, (str, int, float, bool)) or o is None:
        return o
    raise TypeError(type(o).__name__)


def _untag(o: Any) -> Any:
    if isinstance(o, dict) and "__dict__" in o:
        return {_untag(k): _untag(v) for k, v in o["__dict__"]}
    if isinstance(o, dict) and "__array__" in o:
        return np.asarray(o["__array__"], dtype=np.float64)
    if isinstance(o, list):
        return [_untag(v) for v in o]
    return o


def spec_state(design: Design) -> dict[str, Any] | None:
    """What rebuilds a formula design's terms on new rows: its formula, each factor's kind and levels, the
    state of stateful transforms (``scale(x)``, ``poly(x, 2)``) and each column's kind."""
    if design.spec is None:
        return None
    spec = design.spec
    factors = {}
    for name, (kind, state) in spec.encoder_state.items():
        entry: dict[str, Any] = {"kind": getattr(kind, "value", str(kind))}
        if "categories" in state:
            entry["categories"] = _tag(list(state["categories"]))
        factors[str(name)] = entry
    rhs = str(spec.formula) + ("" if design.fit_intercept else " - 1")
    return {"rhs": rhs, "factors": factors, "transform_state": _tag(dict(spec.transform_state)),
            "kinds": dict(design.kinds)}


def _spec_from_state(state: dict[str, Any]) -> Any:
    from formulaic import ModelSpec
    from formulaic.parser.types.factor import Factor

    from ._formula import _parse
    from ._formula_limits import _bounded_materializer, _check_saved_state

    # The same checks as a typed formula (a model file must not run code), and the terms in the order saved (patsy's,
    # or an older file's): formulaic would otherwise sort them by degree.
    rhs = _parse(f"y ~ {state['rhs']}", ordering="none").rhs
    _check_saved_state(state)  # nor make prediction build a bigger matrix than fitting could
    encoder = {}
    for name, entry in state["factors"].items():
        kind = Factor.Kind(entry["kind"])
        encoder[name] = (kind, {"categories": _untag(entry["categories"])} if "categories" in entry else {})
    return ModelSpec(formula=rhs, ensure_full_rank=True, transform_state=_untag(state["transform_state"]),
                     encoder_state=encoder, materializer=_bounded_materializer())


@dataclass(frozen=True)
class SavedModel:
    """A fitted model read back from its JSON: ``predict(rows)`` gives the exact fit's predictions and intervals."""

    design: Design  # rows not kept: terms, formula and levels only
    params: np.ndarray  # intercept first (when fitted), then one per term
    cov: np.ndarray  # covariance of params under cov_type
    cov_type: str
    use_t: bool
    sigma2: float
    df_resid: int

    @property
    def formula(self) -> str:
        return self.design.model_formula

    def predict(self, rows: pd.DataFrame, interval: str | None = None, alpha: float = 0.05) -> pd.DataFrame:
        """Columns ``prediction`` and, with ``interval`` 'confidence' (of the mean) or 'prediction' (of a new
        observation), ``lower`` and ``upper`` at level 1 − alpha."""
        if interval is not None and interval not in INTERVALS:
            raise ParameterError(f"The 'interval' parameter must be one of 'confidence', 'prediction'. "
                                 f"Got {interval!r} instead.")
        ok = isinstance(alpha, (int, float)) and not isinstance(alpha, bool) and 0 < alpha < 1
        if not ok:
            raise ParameterError(f"The 'alpha' parameter must be a float in (0, 1). Got {alpha!r} instead.")
        X = self.design.matrix(rows)
        A = np.column_stack([np.ones(len(X)), X]) if self.design.fit_intercept else X
        mean = A @ self.params  # an aliased term's weight is 0 here (load_model): it takes no part, as in R
        out = pd.DataFrame({"prediction": mean})
        if interval is None:
            return out
        var = np.einsum("ij,jk,ik->i", A, self.cov, A)
        if interval == "prediction":
            var = var + self.sigma2
        q = _dist.t_ppf(1 - alpha / 2, self.df_resid) if self.use_t else _dist.norm_ppf(1 - alpha / 2)
        half = q * np.sqrt(np.clip(var, 0, None))
        out["lower"], out["upper"] = mean - half, mean + half
        return out


def _bad(why: str) -> DataError:
    return DataError(f"This is not a model file saved by Linear Regression Studio: {why}; export one with "
                     "'python -m linreg_core fit DATA --save-model model.json' or Results → Model (JSON).")


def load_model(text: str | bytes) -> SavedModel:
    """Read a model JSON (``model_json`` / ``fit --save-model``); every problem is one sentence."""
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError) as e:
        raise _bad(f"it is not valid JSON ({e})") from None
    except RecursionError:  # [[[[… nested past the reader's limit
        raise _bad("it nests lists or objects deeper than Python's JSON reader can follow") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _bad(f"its 'format' is not {FORMAT!r}")
    inf = doc.get("inference")
    if not isinstance(inf, dict):
        raise DataError("This model file has no 'inference' section (parameters, covariance, σ²): it was saved by an "
                        "older version. Fit and export the model again.")
    try:
        fit_intercept = bool(doc["fit_intercept"])
        terms = [str(t) for t in doc["terms"]]
        if len(terms) > MAX_MODEL_COLUMNS:
            raise FormulaError(f"This model file has {len(terms):,} terms, over the limit of {MAX_MODEL_COLUMNS:,} "
                               "columns in a model; fit a smaller model.")
        features = [str(f) for f in doc["features"]]
        params = np.asarray(inf["params"], dtype=np.float64)
        cov = np.asarray(inf["cov"], dtype=np.float64)
        p = len(terms) + int(fit_intercept)
        if params.shape != (p,) or cov.shape != (p, p):
            raise ValueError(f"{p} parameters expected, found {params.shape} and a {cov.shape} covariance")
        state = doc.get("formula_state")
        spec = _spec_from_state(state) if state else None
        design = Design(X=None, y=None, terms=terms, target=str(doc["target"]), features=features,
                        degree=int(doc.get("degree", 1)), fit_intercept=fit_intercept,
                        kinds=dict(state.get("kinds", {})) if state else {},
                        formula=str(doc["formula"]) if state else None, spec=spec,
                        terms_of=formula_matrix if state else None)
        sigma2 = float(inf["sigma2"]) if inf.get("sigma2") is not None else math.nan
        aliased = [int(j) for j in inf.get("aliased", [])]
        if any(not 0 <= j < p for j in aliased):
            raise ValueError(f"an aliased position is outside the {p} parameters")
        # An aliased term (R's NA, null in the file) has no coefficient and no variance: it takes no part.
        params[aliased] = 0.0
        cov[aliased, :] = 0.0
        cov[:, aliased] = 0.0
        model = SavedModel(design, params, cov, str(inf.get("cov_type", "nonrobust")), bool(inf.get("use_t", True)),
                           sigma2, int(inf["df_resid"]))
    except FormulaError:
        raise
    except (KeyError, TypeError, ValueError) as e:
        raise _bad(f"a field is missing or malformed ({_shown(str(e))})") from None
    except RecursionError:  # a formula state nested nearly as deep as the reader allows
        raise _bad("its formula state nests deeper than a model file can") from None
    if not np.isfinite(params).all():
        raise DataError("The model file's parameters are not all finite numbers; fit and export the model again.")
    return model
