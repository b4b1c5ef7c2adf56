"""linreg_core: exact and gradient-descent linear regression on PyTorch, UI-free.

>>> from linreg_core import read_csv, build_design, fit_exact, train, TrainConfig
"""

from ._callbacks import Callback, EpochEvent, HistoryRecorder, TrainStart
from ._config import OPTIMIZERS, TrainConfig
from ._data import (
    Design,
    build_design,
    drop_incomplete_rows,
    load_design,
    numeric_columns,
    polynomial_terms,
    read_csv,
    stream_design,
    train_val_split,
)
from ._device import available_devices, resolve_device
from ._estimator import LinearRegressor
from ._export import loss_history_csv, model_json, neutralize_formulas, predictions_csv, reproduction_script
from ._guidance import LrGuidance, loss_grid, loss_minimum, lr_guidance
from ._model import LinearModel
from ._moments import Moments, MomentsAccumulator
from ._race import RaceCallback, RaceLane, RaceResult, epochs_to_tolerance, race
from ._solver import ExactFit, fit_exact, fit_exact_design, fit_exact_moments
from ._stats import FitStats, fit_stats
from ._trainer import StepInfo, Trainer, TrainResult, build_optimizer, train
from .errors import (
    ColumnNotFoundError,
    ConstantFeatureError,
    DataError,
    DeviceError,
    EmptyDataError,
    InsufficientDataError,
    LinregError,
    NonFiniteError,
    NonNumericError,
    ParameterError,
    RankDeficientError,
)

__version__ = "0.1.0"

__all__ = [
    "OPTIMIZERS",
    "Callback",
    "ColumnNotFoundError",
    "ConstantFeatureError",
    "DataError",
    "Design",
    "DeviceError",
    "EmptyDataError",
    "EpochEvent",
    "ExactFit",
    "FitStats",
    "HistoryRecorder",
    "InsufficientDataError",
    "LinearModel",
    "LinearRegressor",
    "LinregError",
    "LrGuidance",
    "Moments",
    "MomentsAccumulator",
    "NonFiniteError",
    "NonNumericError",
    "ParameterError",
    "RaceCallback",
    "RaceLane",
    "RaceResult",
    "RankDeficientError",
    "StepInfo",
    "TrainConfig",
    "TrainResult",
    "TrainStart",
    "Trainer",
    "available_devices",
    "build_design",
    "build_optimizer",
    "drop_incomplete_rows",
    "epochs_to_tolerance",
    "fit_exact",
    "fit_exact_design",
    "fit_exact_moments",
    "fit_stats",
    "load_design",
    "loss_grid",
    "loss_history_csv",
    "loss_minimum",
    "lr_guidance",
    "model_json",
    "neutralize_formulas",
    "numeric_columns",
    "polynomial_terms",
    "predictions_csv",
    "race",
    "read_csv",
    "reproduction_script",
    "resolve_device",
    "stream_design",
    "train",
    "train_val_split",
]
