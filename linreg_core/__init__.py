"""linreg_core: exact and gradient-descent linear regression on PyTorch, UI-free.

>>> from linreg_core import read_csv, build_design, fit_exact, train, TrainConfig
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (this module must load instantly)
__version__ = "0.1.0"

# Public names are imported on first use (PEP 562): `import linreg_core` then costs nothing, so the
# command line can take over Ctrl-C before torch loads (~2 s), and `from linreg_core import X` is unchanged.
_EXPORTS = {
    **dict.fromkeys(["Callback", "Change", "EpochEvent", "HistoryRecorder", "StepInfo", "TrainResult", "TrainStart"],
                    "_callbacks"),
    **dict.fromkeys(["build_optimizer"], "_engines"),
    **dict.fromkeys(["OPTIMIZERS", "TrainConfig"], "_config"),
    **dict.fromkeys(["read_csv"], "_csv"),
    **dict.fromkeys(["Design", "build_design", "drop_incomplete_rows", "numeric_columns", "polynomial_terms",
                     "train_val_split",
    "variance_inflation", "with_weights", "cluster_groups"], "_design"),
    **dict.fromkeys(["load_design", "stream_design"], "_stream"),
    **dict.fromkeys(["available_devices", "resolve_device"], "_device"),
    **dict.fromkeys(["DATE_ACTIONS", "NA_ACTIONS", "build_formula_design", "formula_term", "formula_variables",
                     "implied_formula"], "_formula"),
    **dict.fromkeys(["INTERVALS", "SavedModel", "load_model"], "_predict"),
    **dict.fromkeys(["MAX_PREVIEW_EPOCHS", "Preview", "initial_params", "preview_path"], "_preview"),
    **dict.fromkeys(["load_sources", "read_upload", "resolve_sources", "stream_sources"], "_sources"),
    **dict.fromkeys(["dask_design", "dask_sample"], "_dask"),
    **dict.fromkeys(["LinearRegressor"], "_estimator"),
    **dict.fromkeys(["AnovaTable", "anova", "compare_models"], "_anova"),
    **dict.fromkeys(["SUMMARY_FORMATS", "summary_document"], "_document"),
    **dict.fromkeys(["FTest", "f_test", "linear_restrictions"], "_wald"),
    **dict.fromkeys([
        "loss_history_csv", "model_json", "neutralize_formulas", "predictions_csv", "reproduction_script",
        "spreadsheet_csv",
    ], "_export"),
    **dict.fromkeys(["LrGuidance", "loss_grid", "loss_minimum", "lr_guidance"], "_guidance"),
    **dict.fromkeys(["LinearModel"], "_model"),
    **dict.fromkeys(["Moments", "MomentsAccumulator"], "_moments"),
    **dict.fromkeys(["RaceCallback", "RaceLane", "RaceResult", "epochs_to_tolerance", "race"], "_race"),
    **dict.fromkeys(["ExactFit", "fit_exact", "fit_exact_design", "fit_exact_moments"], "_solver"),
    **dict.fromkeys(["FitStats", "fit_stats"], "_stats"),
    **dict.fromkeys(["COV_TYPES", "FitSummary", "Influence", "fit_influence", "fit_summary", "variance_inflation"],
                    "_summary"),
    **dict.fromkeys(["Checkpoint", "Trainer", "train"], "_trainer"),
    **dict.fromkeys([
        "ColumnNotFoundError", "ConstantFeatureError", "DataError", "DeviceError", "EmptyDataError", "FormulaError",
        "InsufficientDataError", "LinregError", "NonFiniteError", "NonNumericError", "NotFittedError", "ParameterError",
        "RankDeficientError"
    ], "errors"),
}


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from ._anova import AnovaTable, anova, compare_models
    from ._callbacks import Callback, Change, EpochEvent, HistoryRecorder, StepInfo, TrainResult, TrainStart
    from ._config import OPTIMIZERS, TrainConfig
    from ._csv import read_csv
    from ._dask import dask_design, dask_sample
    from ._design import (
        Design,
        build_design,
        cluster_groups,
        drop_incomplete_rows,
        numeric_columns,
        polynomial_terms,
        train_val_split,
        with_weights,
    )
    from ._device import available_devices, resolve_device
    from ._document import SUMMARY_FORMATS, summary_document
    from ._engines import build_optimizer
    from ._estimator import LinearRegressor
    from ._export import (
        loss_history_csv,
        model_json,
        neutralize_formulas,
        predictions_csv,
        reproduction_script,
        spreadsheet_csv,
    )
    from ._formula import (
        DATE_ACTIONS,
        NA_ACTIONS,
        build_formula_design,
        formula_term,
        formula_variables,
        implied_formula,
    )
    from ._guidance import LrGuidance, loss_grid, loss_minimum, lr_guidance
    from ._model import LinearModel
    from ._moments import Moments, MomentsAccumulator
    from ._predict import INTERVALS, SavedModel, load_model
    from ._preview import MAX_PREVIEW_EPOCHS, Preview, initial_params, preview_path
    from ._race import RaceCallback, RaceLane, RaceResult, epochs_to_tolerance, race
    from ._solver import ExactFit, fit_exact, fit_exact_design, fit_exact_moments
    from ._sources import load_sources, read_upload, resolve_sources, stream_sources
    from ._stats import FitStats, fit_stats
    from ._stream import load_design, stream_design
    from ._summary import COV_TYPES, FitSummary, Influence, fit_influence, fit_summary, variance_inflation
    from ._trainer import Checkpoint, Trainer, train
    from ._wald import FTest, f_test, linear_restrictions
    from .errors import (
        ColumnNotFoundError,
        ConstantFeatureError,
        DataError,
        DeviceError,
        EmptyDataError,
        FormulaError,
        InsufficientDataError,
        LinregError,
        NonFiniteError,
        NonNumericError,
        NotFittedError,
        ParameterError,
        RankDeficientError,
    )

__all__ = [
    "AnovaTable",
    "COV_TYPES",
    "Callback",
    "Change",
    "Checkpoint",
    "ColumnNotFoundError",
    "ConstantFeatureError",
    "DATE_ACTIONS",
    "DataError",
    "Design",
    "DeviceError",
    "EmptyDataError",
    "EpochEvent",
    "ExactFit",
    "FTest",
    "FitStats",
    "FitSummary",
    "FormulaError",
    "HistoryRecorder",
    "INTERVALS",
    "Influence",
    "InsufficientDataError",
    "LinearModel",
    "LinearRegressor",
    "LinregError",
    "LrGuidance",
    "MAX_PREVIEW_EPOCHS",
    "Moments",
    "MomentsAccumulator",
    "NA_ACTIONS",
    "NonFiniteError",
    "NonNumericError",
    "NotFittedError",
    "OPTIMIZERS",
    "ParameterError",
    "Preview",
    "RaceCallback",
    "RaceLane",
    "RaceResult",
    "RankDeficientError",
    "SUMMARY_FORMATS",
    "SavedModel",
    "StepInfo",
    "TrainConfig",
    "TrainResult",
    "TrainStart",
    "Trainer",
    "anova",
    "available_devices",
    "build_design",
    "build_formula_design",
    "build_optimizer",
    "cluster_groups",
    "compare_models",
    "dask_design",
    "dask_sample",
    "drop_incomplete_rows",
    "epochs_to_tolerance",
    "f_test",
    "fit_exact",
    "fit_exact_design",
    "fit_exact_moments",
    "fit_influence",
    "fit_stats",
    "fit_summary",
    "formula_term",
    "formula_variables",
    "implied_formula",
    "initial_params",
    "linear_restrictions",
    "load_design",
    "load_model",
    "load_sources",
    "loss_grid",
    "loss_history_csv",
    "loss_minimum",
    "lr_guidance",
    "model_json",
    "neutralize_formulas",
    "numeric_columns",
    "polynomial_terms",
    "predictions_csv",
    "preview_path",
    "race",
    "read_csv",
    "read_upload",
    "reproduction_script",
    "resolve_device",
    "resolve_sources",
    "spreadsheet_csv",
    "stream_design",
    "stream_sources",
    "summary_document",
    "train",
    "train_val_split",
    "variance_inflation",
    "with_weights",
]
