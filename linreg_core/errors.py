"""One exception hierarchy for everything linreg_core raises on purpose.

Every message says what was wrong, what was expected and what was found, so a
UI can show ``str(err)`` as is and a CLI can print it as one sentence.
"""

from __future__ import annotations

__all__ = [
    "ColumnNotFoundError",
    "ConstantFeatureError",
    "DataError",
    "DeviceError",
    "EmptyDataError",
    "FormulaError",
    "InsufficientDataError",
    "LinregError",
    "NonFiniteError",
    "NonNumericError",
    "NotFittedError",
    "ParameterError",
    "RankDeficientError",
]


class LinregError(Exception):
    """Base class: catch this to handle every expected failure of linreg_core."""


class DataError(LinregError, ValueError):
    """The data cannot be used as given (file, columns or values)."""


class EmptyDataError(DataError):
    """The file is empty, has no header, or has a header but no data rows."""


class ColumnNotFoundError(DataError):
    """A requested column is not in the data."""


class NonNumericError(DataError):
    """A cell that must be a number is not one."""

    def __init__(self, message: str, *, column: str, row: int, value: str) -> None:
        super().__init__(message)
        self.column = column
        self.row = row  # 1-based data row (the header is row 0)
        self.value = value


class NonFiniteError(DataError):
    """Blank, NaN or infinite values where finite numbers are needed."""

    def __init__(self, message: str, *, rows: list[int] | None = None) -> None:
        super().__init__(message)
        self.rows = rows or []  # 1-based data rows that hold such values


class FormulaError(DataError):
    """A model formula cannot be read or applied (syntax, unknown column or function, unusable category)."""


class InsufficientDataError(DataError):
    """Fewer rows than the model has parameters."""


class ConstantFeatureError(DataError):
    """A feature takes one value only, so its slope cannot be identified."""


class RankDeficientError(DataError):
    """Columns of the design are linearly dependent (duplicates, collinearity)."""

    def __init__(self, message: str, *, rank: int, n_params: int, dependent: list[str]) -> None:
        super().__init__(message)
        self.rank = rank
        self.n_params = n_params
        self.dependent = dependent


class ParameterError(LinregError, ValueError):
    """A setting is out of range or of the wrong type."""


class DeviceError(LinregError, RuntimeError):
    """The requested compute device does not exist on this machine."""


class NotFittedError(LinregError, ValueError, AttributeError):
    """An estimator was asked to predict before it was fitted (scikit-learn's NotFittedError is both too)."""
