"""The regression summary as a document, as statsmodels' ``res.summary()`` lays it out — a header (dependent
variable, model, observations, degrees of freedom, covariance, fit statistics), the coefficient table and the
residual diagnostics — written as plain text, HTML, LaTeX or Markdown."""

from __future__ import annotations

import html
import math

import numpy as np

from ._design import Design
from ._solver import ExactFit
from ._stats import fit_stats
from ._summary import FitSummary
from .errors import ParameterError

__all__ = ["SUMMARY_FORMATS", "summary_document"]

SUMMARY_FORMATS = ("text", "html", "latex", "markdown")


def _num(v: float, spec: str = ".4g") -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def _blocks(design: Design, exact: ExactFit, s: FitSummary) -> tuple[str, list[tuple[str, str]], list[str],
                                                                      list[list[str]], list[tuple[str, str]], list[str]]:
    stats = fit_stats(design, exact)
    weighted = design.weights is not None
    title = ("WLS" if weighted else "OLS") + " Regression Results"
    header = [
        ("Dep. Variable", design.target), ("R-squared", _num(stats.r2, ".3f")),
        ("Model", "WLS" if weighted else "OLS"), ("Adj. R-squared", _num(stats.adj_r2, ".3f")),
        ("Method", "Least Squares"), ("F-statistic", _num(s.f_statistic, ".4g")),
        ("No. Observations", f"{design.n_samples:,}"), ("Prob (F-statistic)", _num(s.f_pvalue, ".3g")),
        ("Df Residuals", str(s.df_resid)), ("Log-Likelihood", _num(s.llf, ".5g")),
        ("Df Model", str(s.df_model)), ("AIC", _num(s.aic, ".4g")),
        ("Covariance Type", s.cov_type), ("BIC", _num(s.bic, ".4g")),
    ]
    stat = "t" if s.use_t else "z"
    half = s.alpha / 2
    columns = ["", "coef", "std err", stat, f"P>|{stat}|", f"[{half:g}", f"{1 - half:g}]"]
    rows = []
    for name, c, se, z, p, lo, hi in zip(s.names, s.params, s.std_err, s.stat, s.p_values, s.ci_low, s.ci_high):
        if not np.isfinite(c):  # aliased: R's NA
            rows.append([name, "NA", "NA", "NA", "NA", "NA", "NA"])
        else:
            rows.append([name, _num(c, ".4f" if abs(c) >= 1e-3 else ".4e"), _num(se, ".3g"), _num(z, ".3f"),
                         _num(p, ".3f"), _num(lo, ".3f"), _num(hi, ".3f")])
    diagnostics = [
        ("Omnibus", _num(s.omnibus, ".3f")), ("Durbin-Watson", _num(s.durbin_watson, ".3f")),
        ("Prob(Omnibus)", _num(s.omnibus_pvalue, ".3f")), ("Jarque-Bera (JB)", _num(s.jarque_bera, ".3f")),
        ("Skew", _num(s.skew, ".3f")), ("Prob(JB)", _num(s.jb_pvalue, ".3g")),
        ("Kurtosis", _num(s.kurtosis, ".3f")), ("Cond. No.", _num(s.condition_number, ".3g")),
    ]
    return title, header, columns, rows, diagnostics, list(exact.warnings)


def _pairs(items: list[tuple[str, str]]) -> list[tuple[str, str, str, str]]:
    return [(*items[i], *(items[i + 1] if i + 1 < len(items) else ("", ""))) for i in range(0, len(items), 2)]


def _text(title, header, columns, rows, diagnostics, notes) -> str:
    name_w = max(10, *(len(r[0]) for r in rows))
    width = max(78, name_w + 11 * (len(columns) - 1))
    rule, thin = "=" * width, "-" * width
    out = [title.center(width), rule]
    for a, b, c, d in _pairs(header):
        out.append(f"{a + ':':<20}{b:>18}   {c + ':':<20}{d:>17}")
    out.append(rule)
    out.append(f"{'':<{name_w}}" + "".join(f"{c:>11}" for c in columns[1:]))
    out.append(thin)
    out += [f"{r[0]:<{name_w}}" + "".join(f"{v:>11}" for v in r[1:]) for r in rows]
    out.append(rule)
    for a, b, c, d in _pairs(diagnostics):
        out.append(f"{a + ':':<20}{b:>18}   {c + ':':<20}{d:>17}")
    out.append(rule)
    out += [f"Note: {n}" for n in notes]
    return "\n".join(out)


def _markdown(title, header, columns, rows, diagnostics, notes) -> str:
    def cell(v: str) -> str:
        return v.replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")

    out = [f"**{title}**", "", "| | | | |", "|---|---:|---|---:|"]
    out += [f"| {cell(a)} | {cell(b)} | {cell(c)} | {cell(d)} |" for a, b, c, d in _pairs(header)]
    out += ["", "| " + " | ".join(cell(c) for c in columns) + " |", "|---" + "|---:" * (len(columns) - 1) + "|"]
    out += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    out += ["", "| | | | |", "|---|---:|---|---:|"]
    out += [f"| {cell(a)} | {cell(b)} | {cell(c)} | {cell(d)} |" for a, b, c, d in _pairs(diagnostics)]
    out += [f"\nNote: {cell(n)}" for n in notes]
    return "\n".join(out)


def _html(title, header, columns, rows, diagnostics, notes) -> str:
    e = html.escape

    def table(body: list[list[str]], head: list[str] | None = None, caption: str | None = None) -> str:
        parts = ['<table class="simpletable">']
        if caption:
            parts.append(f"<caption>{e(caption)}</caption>")
        if head:
            parts.append("<tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{e(v)}</td>" for v in r) + "</tr>" for r in body]
        return "\n".join(parts) + "\n</table>"

    out = [table([list(p) for p in _pairs(header)], caption=title), table(rows, head=columns),
           table([list(p) for p in _pairs(diagnostics)])]
    out += [f"<p>Note: {e(n)}</p>" for n in notes]
    return "\n".join(out)


_LATEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
          "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}",
          "|": r"\textbar{}"}


def _tex(v: str) -> str:
    return "".join(_LATEX.get(ch, ch) for ch in v)


def _latex(title, header, columns, rows, diagnostics, notes) -> str:
    out = [r"\begin{center}", r"\begin{tabular}{lclc}", r"\toprule",
           r"\multicolumn{4}{c}{" + _tex(title) + r"} \\", r"\midrule"]
    out += [" & ".join(_tex(v) + (":" if i % 2 == 0 and v else "") for i, v in enumerate(p)) + r" \\"
            for p in _pairs(header)]
    out += [r"\bottomrule", r"\end{tabular}", r"\begin{tabular}{l" + "c" * (len(columns) - 1) + "}", r"\toprule"]
    out.append(" & ".join(r"\textbf{" + _tex(c) + "}" if c else "" for c in columns) + r" \\")
    out.append(r"\midrule")
    out += [" & ".join(_tex(v) for v in r) + r" \\" for r in rows]
    out += [r"\bottomrule", r"\end{tabular}", r"\begin{tabular}{lclc}", r"\toprule"]
    out += [" & ".join(_tex(v) + (":" if i % 2 == 0 and v else "") for i, v in enumerate(p)) + r" \\"
            for p in _pairs(diagnostics)]
    out += [r"\bottomrule", r"\end{tabular}", r"\end{center}"]
    out += [r"\noindent Note: " + _tex(n) + r"\\" for n in notes]
    return "\n".join(out)


def summary_document(design: Design, exact: ExactFit, summary: FitSummary, fmt: str = "text") -> str:
    """The summary of the exact fit as a document in ``fmt`` ('text', 'html', 'latex' or 'markdown'); every name and
    value from the data is escaped for its format."""
    if fmt not in SUMMARY_FORMATS:
        raise ParameterError(f"The 'fmt' parameter must be one of {', '.join(map(repr, SUMMARY_FORMATS))}. "
                             f"Got {fmt!r} instead.")
    return {"text": _text, "html": _html, "latex": _latex, "markdown": _markdown}[fmt](*_blocks(design, exact, summary))
