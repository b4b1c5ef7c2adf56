"""A scikit-learn-style estimator over the library: fit(X, y) / predict(X) / score(X, y).

It follows scikit-learn's estimator conventions: every parameter is an explicit keyword of ``__init__`` stored as
given (validated in ``fit``, not before), ``get_params``/``set_params`` make it clonable
(``type(est)(**est.get_params())``), what ``fit`` learns ends in ``_``, and ``predict`` before ``fit`` raises
:class:`~linreg_core.errors.NotFittedError`. It does not inherit from scikit-learn (which the library does not need).
"""

from __future__ import annotations

import inspect
from dataclasses import fields
from typing import Any

import numpy as np
import pandas as pd

from ._callbacks import Callback, TrainResult
from ._config import TrainConfig
from ._design import Design, build_design
from ._solver import ExactFit, fit_exact_design
from ._trainer import train
from .errors import NotFittedError, ParameterError

__all__ = ["LinearRegressor"]

_DEFAULT = TrainConfig()


class LinearRegressor:
    """Linear regression by gradient descent (``method="gd"``, PyTorch, the :class:`TrainConfig` parameters) or
    exactly (``method="exact"``, least squares), on ``degree`` powers of each feature.

    ``LinearRegressor(lr=0.05, epochs=500, optimizer="adam").fit(X, y).predict(X_new)``
    """

    def __init__(self, method: str = "gd", degree: int = 1, fit_intercept: bool = True, *,
                 optimizer: str = _DEFAULT.optimizer, lr: float = _DEFAULT.lr, epochs: int = _DEFAULT.epochs,
                 batch_size: int = _DEFAULT.batch_size, momentum: float = _DEFAULT.momentum, l2: float = _DEFAULT.l2,
                 standardize: bool = _DEFAULT.standardize, seed: int = _DEFAULT.seed, dtype: str = _DEFAULT.dtype,
                 device: str = _DEFAULT.device, tol: float | None = _DEFAULT.tol, engine: str = _DEFAULT.engine) -> None:
        self.method, self.degree, self.fit_intercept = method, degree, fit_intercept
        self.optimizer, self.lr, self.epochs, self.batch_size = optimizer, lr, epochs, batch_size
        self.momentum, self.l2, self.standardize, self.seed = momentum, l2, standardize, seed
        self.dtype, self.device, self.tol, self.engine = dtype, device, tol, engine

    # -- scikit-learn's parameter protocol ------------------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters as set now (``deep`` is accepted for scikit-learn; there are no nested
        estimators)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> LinearRegressor:
        """Set parameters by name; an unknown name is refused with the valid ones."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ParameterError(f"Invalid parameter {name!r} for LinearRegressor. Valid parameters are: "
                                     f"{', '.join(valid)}.")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.get_params().items() if v != inspect.signature(self.__init__).parameters[k].default}
        return f"LinearRegressor({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    # -- fit / predict --------------------------------------------------------------------------------
    @property
    def config(self) -> TrainConfig:
        """The training configuration the parameters make (validated by ``fit``)."""
        names = {f.name for f in fields(TrainConfig)}
        return TrainConfig(**{k: v for k, v in self.get_params().items() if k in names})

    def _design(self, X: Any, y: Any) -> Design:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X.reshape(-1, 1)
        if X.ndim != 2:
            raise ParameterError(f"X must be a 2-D array of shape (n_samples, n_features). Got {X.ndim} dimensions.")
        names = [f"x{j}" for j in range(X.shape[1])] if X.shape[1] > 1 else ["x"]
        df = pd.DataFrame(X, columns=names)
        y = np.asarray(y, dtype=np.float64).ravel()
        if len(y) != len(df):
            raise ParameterError(f"X and y must have the same number of rows. Got {len(df)} and {len(y)}.")
        df["y"] = y
        return build_design(df, "y", names, self.degree, self.fit_intercept)

    def fit(self, X: Any, y: Any, callbacks: list[Callback] | None = None) -> LinearRegressor:
        """Fit on ``X`` (n_samples × n_features) and ``y``; returns the estimator."""
        if self.method not in ("gd", "exact"):
            raise ParameterError(f"The 'method' parameter must be 'gd' or 'exact'. Got {self.method!r} instead.")
        config = self.config.validate()
        self.design_ = self._design(X, y)
        self.n_features_in_ = len(self.design_.features)
        # polynomials: a well-conditioned basis; dependent columns refused (a scikit-learn coef_ has no NaN)
        self.exact_: ExactFit = fit_exact_design(self.design_, singular_ok=False)
        self.result_: TrainResult | None = None
        if self.method == "exact":
            self.intercept_, self.coef_ = self.exact_.intercept, self.exact_.coef
        else:
            self.result_ = train(self.design_, config, callbacks or [])
            self.intercept_, self.coef_ = self.result_.intercept, self.result_.coef
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions for the rows of ``X``."""
        if not hasattr(self, "coef_"):
            raise NotFittedError("This LinearRegressor instance is not fitted yet. Call 'fit' with appropriate "
                                 "arguments before using this estimator.")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X.reshape(-1, 1)
        if X.shape[1] != self.n_features_in_:
            raise ParameterError(f"X has {X.shape[1]} features, but LinearRegressor is expecting "
                                 f"{self.n_features_in_} features as input.")
        terms = self.design_.transform(X)
        if self.method == "exact":
            return self.exact_.predict(terms)
        return terms @ self.coef_ + (self.intercept_ or 0.0)

    def score(self, X: Any, y: Any) -> float:
        """R² of the predictions for ``X`` against ``y`` (scikit-learn's RegressorMixin.score)."""
        y = np.asarray(y, dtype=np.float64).ravel()
        resid = y - self.predict(X)
        total = float(((y - y.mean()) ** 2).sum())
        return 1.0 - float(resid @ resid) / total if total > 0 else float("nan")
