"""Linear restrictions on the coefficients, tested as statsmodels' ``res.f_test('x1 = 0, x2 = x3')`` tests them:
F = (Rβ − q)ᵀ (R V Rᵀ)⁻¹ (Rβ − q) / r with V the summary's covariance (classical or robust)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from . import _dist
from ._summary import FitSummary
from ._text import _shown
from .errors import ParameterError

__all__ = ["FTest", "f_test", "linear_restrictions"]

_NUMBER = re.compile(r"(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


@dataclass(frozen=True)
class FTest:
    """The F test of ``restrictions`` (r rows of Rβ = q)."""

    restrictions: str
    F: float
    p: float
    df_num: int
    df_denom: int

    def as_dict(self) -> dict[str, float | int | str]:
        return {"restrictions": self.restrictions, "F": self.F, "p": self.p, "df_num": self.df_num,
                "df_denom": self.df_denom}


def _split(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` outside brackets (a term such as C(x, Treatment('a'))[T.b] holds commas)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _word_goes_on(text: str, end: int, name: str) -> bool:
    """Whether a name matched at ``end`` is only the start of a longer word ('size' in 'sizes')."""
    return end < len(text) and (name[-1].isalnum() or name[-1] == "_") and (text[end].isalnum() or text[end] in "_.")


def _side(text: str, names: list[str], whole: str) -> tuple[np.ndarray, float]:
    """(coefficients on the parameters, constant) of one side of a restriction: a sum of [number *] name terms and
    numbers."""
    by_length = sorted(names, key=len, reverse=True)  # x^2 before x
    coef, const = np.zeros(len(names)), 0.0
    i, sign, factor, name, expect_term = 0, 1.0, 1.0, None, True

    def bad(why: str) -> ParameterError:
        return ParameterError(f"Could not read the restriction {_shown(whole)}: {why}. Write e.g. "
                              "--test 'x1 = 0, x2 = x3' or '2*x1 - x2 = 1', with the terms as the summary names them.")

    def close() -> None:
        nonlocal const, sign, factor, name
        if name is None:
            const += sign * factor
        else:
            coef[names.index(name)] += sign * factor
        sign, factor, name = 1.0, 1.0, None

    seen_any = False
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        if not expect_term and text[i] in "+-":
            close()
            sign, expect_term = (1.0 if text[i] == "+" else -1.0), True
            i += 1
            continue
        if expect_term and text[i] in "+-" and not seen_any:  # a leading sign
            sign, i = (1.0 if text[i] == "+" else -1.0), i + 1
            continue
        if not expect_term and text[i] == "*":
            expect_term = True
            i += 1
            continue
        if not expect_term:
            raise bad(f"expected + - or * at {_shown(text[i:i + 20])}")
        match = next((n for n in by_length if text.startswith(n, i) and not _word_goes_on(text, i + len(n), n)), None)
        if match is not None:
            if name is not None:
                raise bad("a restriction is linear: two terms cannot multiply")
            name, i = match, i + len(match)
        else:
            number = _NUMBER.match(text, i)
            if number is None:
                word = re.match(r"[^\s+*=-]+", text[i:])
                raise bad(f"{_shown(word.group(0) if word else text[i:i + 40])} is not a term of the model (its terms: "
                          f"{', '.join(map(repr, names[:12]))}{', …' if len(names) > 12 else ''})")
            factor *= float(number.group(0))
            i = number.end()
        expect_term, seen_any = False, True
    if expect_term:
        raise bad("a side is empty or ends with an operator")
    close()
    return coef, const


def linear_restrictions(text: str, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(R, q) of ``text``, comma-separated restrictions such as 'x1 = 0, x2 = x3' (a restriction without '=' means
    '= 0', as in patsy) on the parameters ``names`` ('intercept' and 'Intercept' both name the intercept)."""
    names = list(names)
    aliases = {"Intercept": "intercept"} if "intercept" in names else {}
    rows, q = [], []
    for part in _split(text, ","):
        if not part.strip():
            raise ParameterError(f"Could not read the restrictions {_shown(text)}: one of them is empty.")
        sides = _split(part, "=")
        if len(sides) > 2:
            raise ParameterError(f"Could not read the restriction {_shown(part.strip())}: it has more than one '='.")
        for alias, name in aliases.items():
            sides = [re.sub(rf"(?<![\w.]){alias}(?![\w.])", name, s) for s in sides]
        left, lc = _side(sides[0], names, part.strip())
        right, rc = _side(sides[1], names, part.strip()) if len(sides) == 2 else (np.zeros(len(names)), 0.0)
        rows.append(left - right)
        q.append(rc - lc)
    R = np.array(rows)
    if np.linalg.matrix_rank(R) < len(R):
        raise ParameterError(f"The restrictions {_shown(text)} repeat each other (one follows from the others); give "
                             "each once.")
    return R, np.array(q)


def f_test(summary: FitSummary, restrictions: str) -> FTest:
    """The F test of ``restrictions`` on the summarised fit, with its covariance (statsmodels' ``f_test``)."""
    R, q = linear_restrictions(restrictions, summary.names)
    used = np.any(R != 0, axis=0)
    aliased = [n for n, u, b in zip(summary.names, used, summary.params) if u and not np.isfinite(b)]
    if aliased:
        raise ParameterError(f"{', '.join(map(repr, aliased))} {'is' if len(aliased) == 1 else 'are'} aliased (not "
                             "estimable), so a restriction on it cannot be tested. Leave it out of --test.")
    keep = np.isfinite(summary.params)
    R, b, V = R[:, keep], summary.params[keep], summary.cov[np.ix_(keep, keep)]
    d = R @ b - q
    r = len(d)
    F = float(d @ np.linalg.solve(R @ V @ R.T, d)) / r
    df_denom = int(summary.f_df_denom if summary.f_df_denom is not None else summary.df_resid)
    return FTest(restrictions, F, float(_dist.f_sf(F, r, df_denom)), r, df_denom)
