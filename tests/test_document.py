"""linreg_core._document: the summary as one document in text, HTML, LaTeX and Markdown (issue 23, item 5), with the
dependent variable and n in its header as statsmodels' res.summary() shows them, every data name escaped."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import plotly.express as px
import pytest
import statsmodels.formula.api as smf

from linreg_core import ParameterError, build_formula_design, fit_exact_design, fit_summary, summary_document
from linreg_core._cli import main

TIPS = px.data.tips()


def _document(df: pd.DataFrame, formula: str, fmt: str, **kwargs) -> str:
    design = build_formula_design(df, formula)
    exact = fit_exact_design(design)
    return summary_document(design, exact, fit_summary(design, exact, **kwargs), fmt)


def test_the_text_summary_carries_statsmodels_header_and_numbers():
    formula = "tip ~ total_bill + C(day)"
    text = _document(TIPS, formula, "text", cov_type="HC1")
    ref = smf.ols(formula, TIPS).fit(cov_type="HC1")
    assert text.splitlines()[0].strip() == "OLS Regression Results"
    for label, value in (("Dep. Variable:", "tip"), ("No. Observations:", "244"), ("Df Residuals:", "239"),
                         ("Df Model:", "4"), ("Covariance Type:", "HC1"), ("R-squared:", f"{ref.rsquared:.3f}"),
                         ("AIC:", f"{ref.aic:.4g}")):
        assert re.search(re.escape(label) + r"\s+" + re.escape(value) + r"(\s|$)", text), label
    row = next(line for line in text.splitlines() if line.startswith("total_bill"))
    assert row.split()[1:4] == [f"{ref.params['total_bill']:.4f}", f"{ref.bse['total_bill']:.3g}",
                                f"{ref.tvalues['total_bill']:.3f}"]
    assert " z " in text and "P>|z|" in text  # robust covariance: z, as statsmodels


@pytest.mark.parametrize("fmt", ["html", "latex", "markdown", "text"])
def test_every_format_escapes_the_data_s_names(fmt):
    df = pd.DataFrame({"y <b>&_$%|": np.arange(12.0) + np.r_[0.3, -0.2] .repeat(6), "x": np.arange(12.0) ** 1.5})
    doc = _document(df, "`y <b>&_$%|` ~ x", fmt)
    raw = "y <b>&_$%|"
    if fmt == "html":
        assert raw not in doc and "y &lt;b&gt;&amp;_$%|" in doc and "<b>" not in doc
    elif fmt == "latex":
        assert r"y \textless{}b\textgreater{}\&\_\$\%\textbar{}" in doc
        assert doc.count(r"\begin{tabular}") == doc.count(r"\end{tabular}") == 3
    elif fmt == "markdown":
        assert r"y <b>&\_$%\|" in doc  # a pipe would end the table cell; _ would start emphasis
    else:
        assert raw in doc


def test_aliased_terms_are_na_in_the_document():
    doc = _document(TIPS, "tip ~ C(day)*C(time)", "markdown")
    assert r"| C(day)[T.Sat]:C(time)[T.Lunch] | NA | NA | NA | NA | NA | NA |" in doc
    assert "Note: Aliased terms" in doc


def test_an_unknown_format_is_refused_in_sklearn_words():
    design = build_formula_design(TIPS, "tip ~ total_bill")
    exact = fit_exact_design(design)
    with pytest.raises(ParameterError, match="The 'fmt' parameter must be one of 'text', 'html', 'latex', "
                                             "'markdown'. Got 'pdf' instead."):
        summary_document(design, exact, fit_summary(design, exact), "pdf")


def test_the_command_line_writes_each_format(tmp_path, capsys):
    path = tmp_path / "tips.csv"
    TIPS.to_csv(path, index=False)
    for fmt, start in (("text", " "), ("html", '<table class="simpletable">'), ("latex", r"\begin{center}"),
                       ("markdown", "**OLS Regression Results**")):
        assert main(["fit", str(path), "--formula", "tip ~ total_bill", "--summary-format", fmt]) == 0
        out = capsys.readouterr().out
        assert out.startswith(start) and "epoch" not in out  # the document alone
    assert main(["fit", str(path), "--formula", "tip ~ total_bill", "--summary-format", "html", "--json"]) == 2
    assert "--summary-format prints the summary document alone" in capsys.readouterr().err
