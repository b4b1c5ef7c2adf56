"""The plain-language messages of the exact solver: how many digits an ill-conditioned fit keeps and why, which
terms are aliased, and which columns make a design rank deficient."""

from __future__ import annotations

from math import floor, log10
from typing import Protocol

import numpy as np

from .errors import RankDeficientError


class _Basis(Protocol):
    """What a note says of the polynomial basis a fit was computed in (``_solver.PolyBasis``)."""

    degree: int
    fit_intercept: bool
    centres: tuple[float, ...]
    half_widths: tuple[float, ...]
    condition_number: float

_EPS = float(np.finfo(np.float64).eps)


def _rank_error(rank: int, p: int, dependent: list[str], why: str = "") -> RankDeficientError:
    what = ", ".join(repr(d) for d in dependent)
    verb = "is a linear combination" if len(dependent) == 1 else "are linear combinations"
    if why:
        return RankDeficientError(
            f"The design is rank deficient (rank {rank} < {p} parameters): {why}; {what} {verb} of the other "
            "columns. Lower the polynomial degree or add rows with other values of the feature.",
            rank=rank, n_params=p, dependent=dependent,
        )
    return RankDeficientError(
        f"The design is rank deficient (rank {rank} < {p} parameters): {what} {verb} "
        "of the other columns (a duplicate, collinear or constant column). "
        "Remove the dependent column(s) or lower the polynomial degree.",
        rank=rank, n_params=p, dependent=dependent,
    )


def _aliased_note(aliased: list[str], rank: int, p: int) -> str:
    one = len(aliased) == 1
    it, its = ("it", "its coefficient is") if one else ("them", "their coefficients are")
    return (f"Aliased term{'' if one else 's'} {', '.join(repr(a) for a in aliased)}: "
            f"{'it is' if one else 'each is'} a linear combination of the terms before it (a duplicate column, or a "
            f"combination of categories with no rows), so {its} not estimable: reported as aliased (NA in R's lm, "
            f"null in JSON). The other terms are fitted without {it}; the degrees of freedom use the rank, {rank} of "
            f"{p} parameters. Remove {it} from the model to silence this note.")



def _digits(rel_err: float) -> int:
    """Significant digits left at a relative error (0 to 15)."""
    if not rel_err > 0:
        return 15
    return int(min(15, max(0, floor(-log10(rel_err)))))


def _sci(v: float) -> str:
    return "infinite" if not np.isfinite(v) else f"{v:.2g}"


def _general_note(cond: float, weakest: str, fit_intercept: bool) -> str:
    digits = _digits(_EPS * cond)
    cols = "the intercept and every column" if fit_intercept else "every column"
    fitted = ("Fitted values, residuals and R² remain accurate." if digits >= 6 else
              f"Fitted values, residuals and R² keep only about {digits} significant digits as well.")
    if weakest == "intercept":
        near = ("The intercept is the column closest to a linear combination of the others: some feature's values "
                "lie far from zero relative to their spread (as years do).")
        fix = "centre and scale the features (subtract the mean, divide by the spread)"
    else:
        near = f"{weakest!r} is the column closest to a linear combination of the others."
        fix = (f"drop a near-duplicate column (such as {weakest!r}) or centre and scale the features "
               "(subtract the mean, divide by the spread)")
    return (
        f"Ill-conditioned design: the column-scaled design ({cols} divided by its length) has condition number "
        f"{_sci(cond)}, so the coefficients keep roughly {digits} of float64's 16 significant digits, and small "
        f"changes in the data can move them a lot. {near} {fitted} To fix it, {fix}; for a polynomial, lower the degree."
    )


def _shifted(name: str, m: float, h: float) -> str:
    centred = name if m == 0 else f"{name} − {m:.6g}" if m > 0 else f"{name} + {-m:.6g}"
    return f"({centred}) / {h:.6g}"


def _polynomial_note(cond: float, basis: _Basis, features: list[str], terms: list[str],
                     coef_digits: int, raw_eval_digits: int) -> str:
    K = basis.degree
    one = len(features) == 1
    raw = (f"{terms[0]}, …, {terms[K - 1]}" if K > 2 else ", ".join(terms)) if one else \
        f"the powers 1 to {K} of {', '.join(repr(f) for f in features[:-1])} and {features[-1]!r}"
    us = [_shifted(f, m, h) for f, m, h in zip(features, basis.centres, basis.half_widths)]
    of = f"u = {us[0]}" if one else \
        f"{'its' if not basis.fit_intercept else 'each'} centred and scaled feature, {' and '.join(us)}"
    times = "" if basis.fit_intercept else f"{features[0] if one else 'each feature'} times "
    poly = f"{times}Chebyshev polynomials of {of}"
    fitted = ("fitted values, residuals and R² remain accurate" if basis.condition_number < 1e8 else
              f"fitted values, residuals and R² keep about {_digits(_EPS * basis.condition_number)} digits")
    cancel = ""
    if raw_eval_digits < 12:
        term = f"coef·{features[0]}^k" if one else "coef·term"
        kept = f"only about {raw_eval_digits} significant digits" if raw_eval_digits else "no correct digits"
        cancel = (f" But the raw terms cancel: computing intercept + Σ {term} in float64 keeps {kept} of the "
                  "predictions, so predict with ExactFit.predict (it evaluates in the centred basis).")
    return (
        f"Ill-conditioned design: the column-scaled raw design ({'intercept, ' if basis.fit_intercept else ''}{raw}, "
        f"each column divided by its length) has condition number {_sci(cond)}: the raw powers are nearly "
        f"collinear in float64 although the model has full rank. The fit was computed in an equivalent, "
        f"well-conditioned basis ({poly}; condition number {_sci(basis.condition_number)}) "
        f"and mapped to the raw-power coefficients, which keep about {coef_digits} significant digits; {fitted}."
        f"{cancel} For stable, readable coefficients, centre and scale the feature{'' if one else 's'} "
        f"(use {' and '.join(us)} in place of {' and '.join(features)}) or lower the degree."
    )
