"""The design: a validated regression problem (y ≈ intercept + X @ coef) built from a table's columns, with its
polynomial terms, and split into training and validation rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._moments import Moments, MomentsAccumulator
from ._text import _quote_list, _shown
from .errors import (
    ColumnNotFoundError,
    ConstantFeatureError,
    DataError,
    InsufficientDataError,
    NonFiniteError,
    NonNumericError,
    ParameterError,
)

__all__ = ["Design", "aligned_column", "build_design", "cluster_groups", "drop_incomplete_rows", "numeric_columns",
           "polynomial_terms", "train_val_split", "with_weights"]

MAX_DEGREE = 20


def polynomial_terms(columns: list[str], degree: int) -> list[str]:
    """Term names in design order: for each column, x, x^2, ..., x^degree."""
    return [c if k == 1 else f"{c}^{k}" for c in columns for k in range(1, degree + 1)]


def _expand(raw: np.ndarray, degree: int) -> np.ndarray:
    if degree == 1:
        return np.ascontiguousarray(raw, dtype=np.float64)
    cols = [raw[:, j] ** k for j in range(raw.shape[1]) for k in range(1, degree + 1)]
    return np.ascontiguousarray(np.column_stack(cols), dtype=np.float64)


def formula_term(name: str) -> str:
    """A column name as a formula term (backticks when it is not a plain identifier)."""
    return name if name.isidentifier() else "`" + name.replace("`", "\\`") + "`"


def implied_formula(target: str, features: list[str], degree: int = 1, fit_intercept: bool = True) -> str:
    """The formula that ``--y/--x/--degree`` mean: ``y ~ x + I(x**2)``."""
    terms = [formula_term(f) if k == 1 else f"I({formula_term(f)}**{k})" for f in features for k in range(1, degree + 1)]
    return f"{formula_term(target)} ~ " + " + ".join(terms) + ("" if fit_intercept else " - 1")


@dataclass(frozen=True)
class Design:
    """A validated regression problem: y ≈ intercept + X @ coef."""

    X: np.ndarray | None  # (n, k) float64 design without the intercept column; None when streamed from disk
    y: np.ndarray | None  # (n,) float64 target; None when streamed from disk
    terms: list[str]  # names of the k columns of X, e.g. ["x", "x^2"]
    target: str
    features: list[str]  # raw feature columns the terms were built from
    degree: int = 1
    fit_intercept: bool = True
    # Rows left out for a blank, NaN or infinite cell (na="drop"), and the table positions of the rows kept (None:
    # every row).
    dropped_rows: int = field(default=0, compare=False)
    kept_rows: np.ndarray | None = field(default=None, compare=False, repr=False)
    # A training or validation part's positions in the design it was split from (train_val_split).
    rows: np.ndarray | None = field(default=None, compare=False, repr=False)
    # A formula's columns as fitted: each feature's kind ("number", "category", ...), every variable it reads and its
    # target side's ModelSpec — what computing its terms on new rows needs (prediction, streamed partitions).
    kinds: dict[str, str] = field(default_factory=dict, compare=False)
    variables: tuple[str, ...] = field(default=(), compare=False)
    lhs_spec: Any = field(default=None, compare=False, repr=False)
    # The sufficient statistics of a design without rows in memory (streamed, previewed); see moments().
    given_moments: Moments | None = field(default=None, compare=False, repr=False)
    # A streamed polynomial's statistics in its centred basis: (R of [B | y], centres, half-widths) (_sources.py).
    basis_moments: tuple | None = field(default=None, compare=False, repr=False)
    formula: str | None = None  # "tip ~ 1 + total_bill + C(day)" when built from a formula (see _formula.py)
    spec: Any = field(default=None, compare=False, repr=False)  # formulaic's ModelSpec of the terms, with its levels
    # A formula design's terms computed on new rows (_formula.formula_matrix), given by whoever builds one: the design
    # does not import the formula module, which builds on it.
    terms_of: Callable[[Design, pd.DataFrame, int], np.ndarray] | None = field(default=None, compare=False, repr=False)
    # Case weights of a weighted least-squares fit (statsmodels' WLS(weights=w), R's lm(weights=w)): one positive
    # number per row, each row's squared residual counted w times; None for ordinary least squares. See with_weights.
    weights: np.ndarray | None = field(default=None, compare=False, repr=False)
    # What is derived from the rows once and kept (their moments, whether the columns span the constant): a cache, not
    # part of the problem, so the only mutable part of a frozen design.
    _cache: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    @property
    def model_formula(self) -> str:
        """The formula of this model: the one given, or the one ``--y/--x/--degree`` imply."""
        if self.formula is not None:
            return self.formula
        return implied_formula(self.target, self.features, self.degree, self.fit_intercept)

    @property
    def line_feature(self) -> str | None:
        """The one numeric column the terms are built from, when there is one (the fit is then a curve in it)."""
        if len(self.features) != 1:
            return None
        if self.formula is not None and self.kinds.get(self.features[0]) != "number":
            return None
        if self.formula is not None and (not self.terms or self.terms[0] != self.features[0]):
            return None  # the charts put the first term on the x axis: it must be the column itself
        return self.features[0]

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0]) if self.X is not None else self.moments().n

    @property
    def in_memory(self) -> bool:
        return self.X is not None

    def whitened(self, A: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(A, v) with each row scaled by √w when the design is weighted: weighted least squares is ordinary least
        squares of these rows (statsmodels' wexog, wendog/wresid); unchanged without weights."""
        if self.weights is None:
            return A, v
        sw = np.sqrt(self.weights)
        return A * sw[:, None], v * sw

    def moments(self) -> Moments:
        """The sufficient statistics (R of [A | y]), computed once in row blocks and cached."""
        m = self.given_moments if self.given_moments is not None else self._cache.get("moments")
        if m is None:
            acc = MomentsAccumulator(self.X.shape[1], self.fit_intercept)
            acc.add(self.X, self.y)  # in cache-sized row blocks: no copy of X
            m = self._cache["moments"] = acc.result()
        return m

    @property
    def n_params(self) -> int:
        return len(self.terms) + int(self.fit_intercept)

    def transform(self, raw: np.ndarray) -> np.ndarray:
        """Expand raw feature values (n, len(features)) into this design's terms."""
        raw = np.asarray(raw, dtype=np.float64)
        if raw.ndim == 1:
            raw = raw.reshape(-1, 1)
        if raw.shape[1] != len(self.features):
            raise DataError(f"Expected {len(self.features)} feature columns ({_quote_list(self.features)}); got {raw.shape[1]}.")
        if self.formula is not None:
            return self.matrix(pd.DataFrame(raw, columns=self.features))
        return _expand(raw, self.degree)

    def matrix(self, df: pd.DataFrame, row_offset: int = 0) -> np.ndarray:
        """This design's terms (no intercept column) computed on new rows of a table: what predictions need.

        Missing columns, blank cells, text in a numeric column and, for formulas, category levels the fit never
        saw are refused with a message naming them.
        """
        if self.formula is not None:  # its formula says how to make the columns
            if self.terms_of is None:
                raise DataError("This design was built from a formula but does not carry how to apply it; build it "
                                "with build_formula_design.")
            return self.terms_of(self, df, row_offset)
        _check_columns(df, self.features)
        raw = np.column_stack([_numeric_column(df, f, row_offset) for f in self.features])
        finite = np.isfinite(raw).all(axis=1)
        if not finite.all():
            i = int(np.flatnonzero(~finite)[0])
            col = self.features[int(np.flatnonzero(~np.isfinite(raw[i]))[0])]
            raise NonFiniteError(f"{int((~finite).sum())} row(s) have blank, NaN or infinite values (first: row "
                                 f"{i + 1 + row_offset}, column {_shown(col)}). Fill them in or remove those rows.",
                                 rows=(np.flatnonzero(~finite) + 1 + row_offset).tolist())
        with np.errstate(over="ignore", invalid="ignore"):
            return _expand(raw, self.degree)


def _numeric_column(df: pd.DataFrame, col: str, row_offset: int = 0) -> np.ndarray:
    s = df[col]
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=np.float64)
    if pd.api.types.is_numeric_dtype(s):
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    coerced = pd.to_numeric(s.astype("string").str.strip(), errors="coerce")
    bad = s.notna().to_numpy() & coerced.isna().to_numpy()
    # Blank strings are missing values, reported with the NaN rows, not as text.
    blank = s.astype("string").str.strip().fillna("").eq("").to_numpy()
    bad &= ~blank
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        value = str(s.iloc[i])
        row = row_offset + i + 1
        if bad.sum() * 2 > int((~blank).sum()):  # mostly text: a category column, not a typo
            raise NonNumericError(
                f"Column {_shown(col)} holds text such as {_shown(value)} (row {row}), not numbers. To use it as "
                f"categories, name it in a formula: --formula 'y ~ x + {col}' on the command line, or the "
                "formula box on the Data page.", column=col, row=row, value=value)
        raise NonNumericError(
            f"Column {_shown(col)} has a non-numeric value {_shown(value)} at row {row}. "
            f"Expected numbers only; fix or remove that row ({int(bad.sum())} such cell(s) in this column).",
            column=col, row=row, value=value,
        )
    return coerced.to_numpy(dtype=np.float64, na_value=np.nan)


def numeric_columns(df: pd.DataFrame) -> list[str]:
    """Columns whose values are all numbers (missing cells allowed)."""
    out = []
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_bool_dtype(s):
            continue
        if pd.api.types.is_numeric_dtype(s):
            out.append(str(c))
    return out


def drop_incomplete_rows(df: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, int]:
    """Drop rows with blank, NaN or infinite values in ``columns``; return (df, rows dropped)."""
    vals = df[columns].apply(pd.to_numeric, errors="coerce")
    ok = np.isfinite(vals.to_numpy(dtype=np.float64, na_value=np.nan)).all(axis=1)
    return df.loc[ok].reset_index(drop=True), int((~ok).sum())


def _check_columns(df: pd.DataFrame, names: list[str]) -> None:
    cols = [str(c) for c in df.columns]
    for name in names:
        if name not in cols:
            shown = _quote_list(cols) if len(cols) <= 30 else f"{_quote_list(cols[:20])}, … ({len(cols)} columns)"
            raise ColumnNotFoundError(f"Column {_shown(name)} not found. Available columns: {shown}.")


# Squares of values beyond ~1e154 overflow float64 (and below ~1e-154 underflow to 0): the loss, R² and
# standard errors would be inf or 0. Say so and how to fix it, rather than return nonsense.
_MAX_MAGNITUDE = 1e150
_MIN_MAGNITUDE = 1e-150


def _check_degree(degree: object) -> None:
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or not 1 <= degree <= MAX_DEGREE:
        raise ParameterError(f"The 'degree' parameter must be an int in [1, {MAX_DEGREE}]. Got {degree!r} instead.")


def _check_magnitude(name: str, big: float) -> None:
    """Refuse a column whose largest absolute value ``big`` squares to overflow or underflow."""
    if big > _MAX_MAGNITUDE:
        raise DataError(
            f"Column {_shown(name)} has values as large as {big:.3g}; their squares overflow double precision. "
            f"Rescale the column (e.g. divide it by 1e{int(np.log10(big)) - 3}) and try again."
        )
    if 0.0 < big < _MIN_MAGNITUDE:
        raise DataError(
            f"Column {_shown(name)} has values no larger than {big:.3g}; their squares underflow to zero in double "
            f"precision. Rescale the column (e.g. multiply it by 1e{-int(np.log10(big)) - 3}) and try again."
        )


def _checked_columns(df: pd.DataFrame, target: str, features: list[str] | None,
                     row_offset: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The feature names and the (rows, features) and (rows,) float arrays, checked cell by cell."""
    return _checked_ranges(df, target, features, row_offset)[:3]


def _checked_ranges(df: pd.DataFrame, target: str, features: list[str] | None,
                    row_offset: int) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_checked_columns` and each feature's least and largest value."""
    _check_columns(df, [target])
    if features is None:
        features = [c for c in numeric_columns(df) if c != target]
        if not features:
            raise DataError(
                f"No numeric feature columns besides the target {_shown(target)}. "
                f"Available columns: {_quote_list([str(c) for c in df.columns])}. Name the feature columns explicitly."
            )
    features = [str(f) for f in features]
    if not features:
        raise DataError("No feature columns were chosen. Pick at least one feature column.")
    _check_columns(df, features)
    if target in features:
        raise DataError(f"Column {_shown(target)} is the target and cannot also be a feature. Remove it from the features.")
    if len(set(features)) != len(features):
        dup = sorted({f for f in features if features.count(f) > 1})
        raise DataError(f"Feature column(s) {_quote_list(dup)} chosen more than once. Choose each column once.")

    cols = [_numeric_column(df, f, row_offset) for f in features]
    y = _numeric_column(df, target, row_offset)
    # Each column's least and largest value, from the contiguous columns before they are stacked (no n × k
    # temporaries, no strided passes): NaN and ±inf show in them, and they give the magnitude check and, to
    # build_design, which features are constant.
    lo = np.array([c.min() if len(c) else 0.0 for c in cols])
    hi = np.array([c.max() if len(c) else 0.0 for c in cols])
    raw = np.column_stack(cols)
    del cols
    if not (np.isfinite(lo).all() and np.isfinite(hi).all() and np.isfinite(y).all()):
        finite = np.isfinite(raw).all(axis=1) & np.isfinite(y)
        rows = (np.flatnonzero(~finite) + 1 + row_offset).tolist()
        block = np.column_stack([raw, y])[rows[0] - 1 - row_offset]
        col = (features + [target])[int(np.flatnonzero(~np.isfinite(block))[0])]
        raise NonFiniteError(
            f"{len(rows)} row(s) have blank, NaN or infinite values in the selected columns "
            f"(first: row {rows[0]}, column {_shown(col)}). Remove those rows or fill in the values.",
            rows=rows,
        )

    y_peak = float(np.max(np.abs(y))) if len(y) else 0.0
    for name, big in zip([*features, target], [*np.maximum(np.abs(lo), np.abs(hi)).tolist(), y_peak]):
        _check_magnitude(name, big)

    return features, raw, y, lo, hi


def _constant_feature(name: str, value: float) -> ConstantFeatureError:
    return ConstantFeatureError(f"Feature {_shown(name)} is constant (every row is {value:g}), so its slope cannot be "
                                "estimated. Remove it from the features.")


def build_design(
    df: pd.DataFrame,
    target: str,
    features: list[str] | None = None,
    degree: int = 1,
    fit_intercept: bool = True,
    *,
    row_offset: int = 0,
    na: str = "error",
) -> Design:
    """Validate ``df`` and build the design for ``target ~ features`` (polynomial in each feature).

    ``features=None`` takes every numeric column but the target. ``na='drop'`` leaves out rows with a
    blank, NaN or infinite cell in those columns (``design.dropped_rows`` says how many);
    ``'error'`` names the first. Raises a :class:`~linreg_core.errors.DataError` subclass naming the problem.
    """
    _check_degree(degree)
    degree = int(degree)
    if na not in ("error", "drop"):
        raise ParameterError(f"The 'na' parameter must be one of 'error', 'drop'. Got {na!r} instead.")
    dropped, kept = 0, None
    if na == "drop":
        df, dropped, kept = _drop_blank_rows(df, target, features)
    features, raw, y, lo, hi = _checked_ranges(df, target, features, row_offset)
    terms = polynomial_terms(features, degree)
    n, p = len(y), len(terms) + int(fit_intercept)
    if n < p:
        shown = _quote_list(terms) if len(terms) <= 8 else f"{_quote_list(terms[:5])}, … ({len(terms)} terms)"
        what = ("the intercept and " if fit_intercept else "") + f"term(s) {shown}"
        raise InsufficientDataError(
            f"{n} row(s) are too few to fit {p} parameters ({what}). "
            f"Add rows, use fewer features or a lower degree (at least {p} rows are needed)."
        )
    if fit_intercept and n > 1:
        constant = lo == hi
        if constant.any():
            j = int(np.flatnonzero(constant)[0])
            raise _constant_feature(features[j], raw[0, j])
    with np.errstate(over="ignore", invalid="ignore"):
        X = _expand(raw, degree)
    if degree > 1 and not np.isfinite(X).all():  # degree 1: X is the checked columns themselves
        raise NonFiniteError(
            f"Raising the features to degree {degree} overflows float64 (values too large). "
            "Use a lower degree or rescale the column (e.g. divide by 1000)."
        )
    if degree > 1:
        for j, term in enumerate(terms):
            big = float(np.max(np.abs(X[:, j])))
            if big > _MAX_MAGNITUDE:
                raise DataError(f"Term {_shown(term)} reaches {big:.3g}; its square overflows double precision. "
                                "Use a lower degree or rescale the column first.")
    return Design(X=X, y=np.ascontiguousarray(y), terms=terms, target=target, features=features,
                  degree=degree, fit_intercept=fit_intercept, dropped_rows=dropped, kept_rows=kept)


def _drop_blank_rows(df: pd.DataFrame, target: str,
                     features: list[str] | None) -> tuple[pd.DataFrame, int, np.ndarray | None]:
    """Rows with a blank, NaN or infinite cell in the model's columns left out (text typos are still errors)."""
    _check_columns(df, [target, *(features or [])])
    cols = [target, *(features if features is not None else [c for c in numeric_columns(df) if c != target])]
    bad = np.zeros(len(df), dtype=bool)
    for c in dict.fromkeys(cols):
        s = df[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            bad |= ~np.isfinite(s.to_numpy(dtype=np.float64, na_value=np.nan))
        else:
            text = s.astype("string").str.strip()
            bad |= (text.isna() | text.eq("") | text.str.lower().isin(["nan", "inf", "-inf", "+inf"])).to_numpy()
    if bad.all():
        raise InsufficientDataError(f"Every row has a blank cell in the model's columns ({_quote_list(cols)}): "
                                    "no rows are left.")
    if not bad.any():
        return df, 0, None
    return df.loc[~bad].reset_index(drop=True), int(bad.sum()), np.flatnonzero(~bad)


def train_val_split(design: Design, val_fraction: float = 0.2, seed: int = 0) -> tuple[Design, Design]:
    """A seeded random split of the rows into a training and a validation design (same terms).

    The training part keeps at least one row more than there are parameters, so its exact fit and
    statistics exist; the validation part gets at least one row.
    """
    if design.X is None:
        raise DataError("A validation split needs the rows in memory; this design was streamed from disk.")
    ok = isinstance(val_fraction, (int, float)) and not isinstance(val_fraction, bool) and 0 < val_fraction < 1
    if not ok:
        raise ParameterError(f"The 'val_fraction' parameter must be a float in (0, 1). Got {val_fraction!r} instead.")
    n = design.n_samples
    n_val = min(max(1, round(n * val_fraction)), n - design.n_params - 1)
    if n_val < 1:
        raise InsufficientDataError(
            f"{n} rows are too few to hold out validation rows: the training part needs at least "
            f"{design.n_params + 1} rows for {design.n_params} parameters. Add rows, use fewer terms, or turn the split off."
        )
    order = np.random.default_rng(seed).permutation(n)
    val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])

    def part(idx: np.ndarray) -> Design:
        return Design(design.X[idx], design.y[idx], list(design.terms), design.target, list(design.features),
                      design.degree, design.fit_intercept, rows=idx, kinds=design.kinds, variables=design.variables,
                      lhs_spec=design.lhs_spec, formula=design.formula, spec=design.spec, terms_of=design.terms_of,
                      weights=None if design.weights is None else design.weights[idx])

    return part(train_idx), part(val_idx)


def aligned_column(design: Design, df: pd.DataFrame, column: str, what: str) -> pd.Series:
    """``df[column]`` on the design's rows (those ``na='drop'`` kept), for weights or cluster groups (``what``)."""
    if column not in df.columns:
        raise ColumnNotFoundError(f"The {what} column {_shown(column)} is not a column. Available columns: "
                                  f"{_quote_list(list(map(str, df.columns)))}.")
    values = df[column].reset_index(drop=True)
    if design.kept_rows is not None:
        values = values.iloc[design.kept_rows].reset_index(drop=True)
    if len(values) != design.n_samples:
        raise DataError(f"The {what} column {_shown(column)} has {len(values):,} rows for a design of "
                        f"{design.n_samples:,}; it needs the table the design was built from.")
    return values


def _row_number(design: Design, i: int) -> int:
    return int(design.kept_rows[i]) + 1 if design.kept_rows is not None else i + 1


def with_weights(design: Design, df: pd.DataFrame, column: str) -> Design:
    """``design`` weighted by ``df[column]`` (the table it was built from; rows left out by ``na='drop'`` are left
    out of the weights too). Each weight must be a finite number > 0; every problem is one sentence naming the row."""
    from dataclasses import replace

    values = aligned_column(design, df, column, "weights")
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~(np.isfinite(numbers) & (numbers > 0))
    if bad.any():
        i = int(np.argmax(bad))
        cell = values.iloc[i]
        what = "is blank" if pd.isna(cell) else f"is {_shown(str(cell))}"
        raise DataError(f"The weights column {_shown(column)} {what} at row {_row_number(design, i)} "
                        f"({int(bad.sum()):,} such row(s)): every weight must be a number greater than 0. Fix those "
                        "cells or leave the rows out.")
    return replace(design, weights=np.ascontiguousarray(numbers))


def cluster_groups(design: Design, df: pd.DataFrame, column: str) -> np.ndarray:
    """Each design row's cluster, from ``df[column]`` (any labels: numbers or text), as integer codes for
    cluster-robust standard errors. A blank label is refused, naming the row."""
    values = aligned_column(design, df, column, "groups")
    blank = values.isna().to_numpy()
    if blank.any():
        i = int(np.argmax(blank))
        raise DataError(f"The groups column {_shown(column)} is blank at row {_row_number(design, i)} "
                        f"({int(blank.sum()):,} such row(s)): every row needs its cluster. Fill those cells or leave "
                        "the rows out.")
    return pd.factorize(values, sort=True)[0]
