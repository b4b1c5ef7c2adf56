"""A scikit-learn-style estimator over the library: fit(X, y) / predict(X)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ._callbacks import Callback
from ._config import TrainConfig
from ._design import Design, build_design
from ._solver import ExactFit, fit_exact_design
from ._trainer import TrainResult, train
from .errors import LinregError, ParameterError

__all__ = ["LinearRegressor"]


class LinearRegressor:
    """Linear regression by gradient descent (``method="gd"``) or exactly (``method="exact"``).

    Keyword arguments are :class:`TrainConfig` fields, e.g.
    ``LinearRegressor(lr=0.05, epochs=500, optimizer="adam").fit(X, y)``.
    """

    def __init__(self, method: str = "gd", degree: int = 1, fit_intercept: bool = True, **config: Any) -> None:
        if method not in ("gd", "exact"):
            raise ParameterError(f"The 'method' parameter must be 'gd' or 'exact'. Got {method!r} instead.")
        self.method = method
        self.degree = degree
        self.fit_intercept = fit_intercept
        try:
            self.config = replace(TrainConfig(), **config)
        except TypeError as exc:
            raise ParameterError(f"Unknown training parameter: {exc}.") from None

    def _design(self, X: Any, y: Any) -> Design:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X.reshape(-1, 1)
        names = [f"x{j}" for j in range(X.shape[1])] if X.shape[1] > 1 else ["x"]
        df = pd.DataFrame(X, columns=names)
        df["y"] = np.asarray(y, dtype=np.float64).ravel()
        return build_design(df, "y", names, self.degree, self.fit_intercept)

    def fit(self, X: Any, y: Any, callbacks: list[Callback] | None = None) -> LinearRegressor:
        self.design_ = self._design(X, y)
        self.exact_: ExactFit = fit_exact_design(self.design_)  # polynomials: a well-conditioned basis
        self.result_: TrainResult | None = None
        if self.method == "exact":
            self.intercept_, self.coef_ = self.exact_.intercept, self.exact_.coef
        else:
            self.result_ = train(self.design_, self.config, callbacks or [])
            self.intercept_, self.coef_ = self.result_.intercept, self.result_.coef
        return self

    def predict(self, X: Any) -> np.ndarray:
        if not hasattr(self, "coef_"):
            raise LinregError("This LinearRegressor instance is not fitted yet. Call 'fit' with appropriate arguments first.")
        terms = self.design_.transform(np.asarray(X, dtype=np.float64))
        if self.method == "exact":
            return self.exact_.predict(terms)
        return terms @ self.coef_ + (self.intercept_ or 0.0)
