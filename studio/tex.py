"""LaTeX for equations with live numbers: column names, numbers, fitted equations, vectors."""

from __future__ import annotations

from collections.abc import Sequence

from .text import tex


def name(term: str) -> str:
    """A term such as ``total_bill^2`` as upright LaTeX with a real exponent; any other character of a
    (user-chosen) column name is escaped, so a name can never inject a command."""
    base, caret, power = term.rpartition("^")
    if caret and power.isdigit() and base:
        return tex(base) + f"^{{{power}}}"
    return tex(term)


def num(v: float, digits: int = 6) -> str:
    mant, _, exp = f"{v:.{digits}g}".partition("e")
    return mant + (rf" \times 10^{{{int(exp)}}}" if exp else "")


def equation(target: str, intercept: float | None, coef: Sequence[float], terms: Sequence[str], digits: int = 6) -> str:
    """target-hat = b + w1·t1 + ..., with the original column names."""
    parts = [num(intercept, digits)] if intercept is not None else []
    for c, t in zip(coef, terms):
        if c != c:  # an aliased term (NaN): not part of the fit
            continue
        sign = "-" if c < 0 else "+"
        parts.append(f"{sign} {num(abs(c), digits)}\\,{name(t)}" if parts else f"{num(c, digits)}\\,{name(t)}")
    return r"\widehat{" + name(target) + "} = " + " ".join(parts)


def column(values: Sequence[float], digits: int = 4) -> str:
    return r"\begin{pmatrix}" + r" \\ ".join(num(v, digits) for v in values) + r"\end{pmatrix}"
