"""What the current model allows: the target a typed formula names, and whether gradient descent can be trained
on it (not with aliased terms, which have no single answer, nor with weights, a different objective)."""

from __future__ import annotations

from typing import Protocol

import streamlit as st

from linreg_core import DataError, Design, ExactFit, RankDeficientError


class Problem(Protocol):
    """What the guards read of the current model (``state.Problem``): its design and exact fit."""

    design: Design
    exact: ExactFit


def formula_target(formula: str) -> str | None:
    """The column a formula's left side names ('tip' in 'tip ~ x', 'my col' in '`my col` ~ x'), or None when there
    is no formula or its left side is an expression (np.log(tip))."""
    lhs, tilde, _ = formula.partition("~")
    lhs = lhs.strip()
    if not tilde or not lhs:
        return None
    if len(lhs) > 1 and lhs[0] == lhs[-1] == "`":
        return lhs[1:-1].replace("\\`", "`")
    return lhs if lhs.isidentifier() else None


def aliased_terms(problem: Problem) -> list[str]:
    """The model's aliased terms (R's NA): linear combinations of the terms before them."""
    names = (["intercept"] if problem.design.fit_intercept else []) + list(problem.design.terms)
    return [names[j] for j in problem.exact.aliased]


def refuse_untrainable(problem: Problem) -> None:
    """Raise the reason gradient descent cannot meet this problem's exact fit, if there is one."""
    if problem.design.weights is not None:
        raise DataError(
            f"the model is weighted by {st.session_state.get('sel_weights')!r}: the exact fit minimises the weighted "
            "sum of squares, while gradient descent here minimises the plain mean squared error, so the two would "
            "not meet. Results shows the weighted fit; set Weights to none on the Data page to train.")
    aliased = aliased_terms(problem)
    if aliased:
        one = len(aliased) == 1
        raise RankDeficientError(
            f"the model has {'an aliased term' if one else 'aliased terms'}, {', '.join(repr(a) for a in aliased)}: "
            f"{'it is a combination' if one else 'each is a combination'} of the terms before it, so many parameter "
            "values fit equally well and gradient descent has no single answer to converge to. Remove "
            f"{'it' if one else 'them'} from the model to train; Results shows the exact fit with "
            f"{'it' if one else 'them'} marked aliased, as R's lm does.",
            rank=problem.exact.rank, n_params=problem.design.n_params, dependent=aliased)
