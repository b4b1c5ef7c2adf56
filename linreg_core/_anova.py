"""Analysis of variance, as statsmodels' ``sm.stats.anova_lm``: one model's table of type I (sequential), II
(each term after the others but those containing it) or III (each term after all others), and the F tests that
compare nested models. Every sum of squares is a difference of residual sums of squares of column subsets,
computed from the R factor of [A | y] (one QR of the rows; each subset is then a small p × p problem)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import _dist
from ._design import Design
from ._text import _shown
from .errors import ParameterError

__all__ = ["AnovaTable", "anova", "compare_models"]

ANOVA_TYPES = (1, 2, 3)


@dataclass(frozen=True)
class AnovaTable:
    """Rows of an ANOVA table under statsmodels' column names (``df``, ``sum_sq``, ``mean_sq``, ``F``, ``PR(>F)``;
    for a comparison ``df_resid``, ``ssr``, ``df_diff``, ``ss_diff``, ``F``, ``Pr(>F)``), NaN where statsmodels
    leaves a cell empty."""

    typ: int | None  # 1, 2 or 3; None for a comparison of models
    index: list[str]  # row names: terms and "Residual", or the models' formulas
    columns: list[str]
    values: np.ndarray  # (rows, columns)

    def rows(self) -> list[dict[str, float | str]]:
        return [{"name": name, **{c: float(v) for c, v in zip(self.columns, row)}}
                for name, row in zip(self.index, self.values)]

    def text(self) -> str:
        width = max(10, *(len(n) for n in self.index))
        head = f"{'':<{width}}" + "".join(f"  {c:>12}" for c in self.columns)
        lines = [head]
        for name, row in zip(self.index, self.values):
            cells = "".join(f"  {'':>12}" if v != v else f"  {v:>12.6g}" for v in row)
            lines.append(f"{name:<{width}}{cells}")
        return "\n".join(lines)


def _terms(design: Design) -> list[tuple[str, frozenset[str], list[int]]]:
    """(name, factors, positions in params) per term of the model, in the design's order; the intercept is '1'."""
    if design.spec is not None:
        out = []
        for term, cols in design.spec.term_indices.items():
            name = str(term)
            factors = frozenset(str(f) for f in term.factors) if name != "1" else frozenset()
            out.append((name, factors, list(cols)))
        return out
    off = int(design.fit_intercept)
    return ([("1", frozenset(), [0])] if design.fit_intercept else []) + [
        (t, frozenset([t]), [off + j]) for j, t in enumerate(design.terms)]


class _Subsets:
    """Residual sums of squares (and ranks) of least-squares fits on subsets of the design's columns."""

    def __init__(self, design: Design) -> None:
        if design.X is None:
            raise ParameterError("An ANOVA table needs the rows in memory; load the file without --out-of-core.")
        n = design.n_samples
        A = np.column_stack([np.ones(n), design.X]) if design.fit_intercept else design.X
        A, y = design.whitened(A, design.y)  # WLS: as statsmodels' anova_lm of a WLS fit
        scale = np.linalg.norm(A, axis=0)
        scale[scale == 0] = 1.0
        self.scale = scale
        self.R = np.linalg.qr(np.column_stack([A / scale, y]), mode="r")  # [A | y] = Q R, columns scaled for rank
        self.p = A.shape[1]
        self.n = n
        self.tol = max(n, self.p) * np.finfo(float).eps * max(1.0, float(np.abs(self.R[0, 0])))

    def fit(self, cols: list[int]) -> tuple[float, int]:
        """(SSR, rank) of the fit on ``cols``."""
        b = self.R[:, -1]
        if not cols:
            return float(b @ b), 0
        M = self.R[:, sorted(cols)]
        u, s, vt = np.linalg.svd(M, full_matrices=False)
        rank = int(np.sum(s > self.tol * max(1.0, float(s[0]))))
        proj = u[:, :rank].T @ b
        return max(float(b @ b - proj @ proj), 0.0), rank


def anova(design: Design, typ: int = 1) -> AnovaTable:
    """One model's ANOVA table of type ``typ`` (1, 2 or 3), as ``sm.stats.anova_lm(res, typ=typ)``: a row per term
    (type III also the intercept's) and the residual row. Terms are grouped as the formula writes them (C(day) is one
    row of 3 degrees of freedom)."""
    if typ not in ANOVA_TYPES:
        raise ParameterError(f"The 'typ' parameter must be 1, 2 or 3. Got {typ!r} instead.")
    subsets = _Subsets(design)
    terms = _terms(design)
    every = [c for _, _, cols in terms for c in cols]
    ssr_full, rank_full = subsets.fit(every)
    df_resid = subsets.n - rank_full
    sigma2 = ssr_full / df_resid if df_resid > 0 else math.nan
    index, sums, dfs = [], [], []
    shown = terms if typ == 3 else [t for t in terms if t[0] != "1"]
    before: list[int] = [c for name, _, cols in terms if name == "1" for c in cols]
    for name, factors, cols in shown:
        if typ == 1:
            ssr0, r0 = subsets.fit(before)
            before = before + cols
            ssr1, r1 = subsets.fit(before)
        elif typ == 2:  # leave out the terms that contain this one (its interactions) from both fits
            containers = [c for n2, f2, c2 in terms if n2 != name and factors < f2 for c in c2]
            kept = [c for c in every if c not in containers]
            ssr0, r0 = subsets.fit([c for c in kept if c not in cols])
            ssr1, r1 = subsets.fit(kept)
        else:
            ssr0, r0 = subsets.fit([c for c in every if c not in cols])
            ssr1, r1 = ssr_full, rank_full
        index.append("Intercept" if name == "1" else name)
        sums.append(ssr0 - ssr1)
        dfs.append(r1 - r0)
    sums, dfs = np.array(sums), np.array(dfs, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        F = sums / dfs / sigma2
        p = _dist.f_sf(F, dfs, df_resid)
    nan = math.nan
    if typ == 1:
        columns = ["df", "sum_sq", "mean_sq", "F", "PR(>F)"]
        values = np.column_stack([dfs, sums, sums / np.where(dfs > 0, dfs, np.nan), F, p])
        residual = [df_resid, ssr_full, sigma2, nan, nan]
    else:
        columns = ["sum_sq", "df", "F", "PR(>F)"]
        values = np.column_stack([sums, dfs, F, p])
        residual = [ssr_full, df_resid, nan, nan]
    return AnovaTable(typ, [*index, "Residual"], columns, np.vstack([values, residual]))


def compare_models(designs: list[Design]) -> AnovaTable:
    """The F tests between nested models fitted to the same rows, smallest first, as ``anova_lm(m1, m2, ...)``: each
    row's F compares it with the row before, scaled by the largest model's residual variance."""
    if len(designs) < 2:
        raise ParameterError("Comparing models needs at least two formulas (--formula F1 --formula F2).")
    n = {d.n_samples for d in designs}
    if len(n) > 1:
        raise ParameterError(f"The models were fitted to different rows ({', '.join(map(str, sorted(n)))}): compare "
                             "models on the same rows (blank cells in a column only one model uses drop rows there).")
    fits = []
    for d in designs:
        subsets = _Subsets(d)
        ssr, rank = subsets.fit(list(range(subsets.p)))
        fits.append((ssr, d.n_samples - rank))
    for (_, df0), (_, df1), d in zip(fits, fits[1:], designs[1:]):
        if df1 > df0:
            raise ParameterError(f"Give the models smallest first: {_shown(d.model_formula)} has fewer parameters than "
                                 "the one before it.")
    ssr = np.array([f[0] for f in fits])
    df_resid = np.array([f[1] for f in fits], dtype=float)
    scale = ssr[-1] / df_resid[-1]
    df_diff = np.concatenate([[0.0], -np.diff(df_resid)])  # (statsmodels: 0 in the first row, its other cells empty)
    ss_diff = np.concatenate([[np.nan], -np.diff(ssr)])
    with np.errstate(divide="ignore", invalid="ignore"):
        F = ss_diff / df_diff / scale
        p = _dist.f_sf(F, df_diff, df_resid)
    values = np.column_stack([df_resid, ssr, df_diff, ss_diff, F, p])
    return AnovaTable(None, [d.model_formula for d in designs], ["df_resid", "ssr", "df_diff", "ss_diff", "F", "Pr(>F)"],
                      values)
