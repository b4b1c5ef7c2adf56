"""What a formula may cost (linreg_core/_formula_limits.py, the MAX_* limits): hostile formulas of each kind are
refused in one sentence, before the work they ask for is done, from every entry point of the library and the command
line — and formulas within the limits still work.

Each refusal is checked to come *before* the costly step (formulaic's parse and expansion, or the evaluation on
rows) by making that step fail the test if it is reached. Timings are recorded, never asserted, in
test-artifacts/formula-limits-library.json.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import formulaic
import numpy as np
import pandas as pd
import pytest

from linreg_core import (
    DataError,
    FormulaError,
    InsufficientDataError,
    build_formula_design,
    fit_exact_design,
    formula_variables,
    load_model,
    model_json,
)
from linreg_core import _formula as F
from linreg_core._cli import main

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
TIMES: dict[str, float] = {}

# One hostile formula of each kind the issue names, on the tutorial's columns x and y, with a phrase of its refusal.
# All are refused before formulaic parses them.
HOSTILE = {
    "huge power": ("y ~ I(9**9**9)", "at most 1,000 bits"),
    "huge power (issue 26)": ("y ~ I(10**10**6)", "at most 1,000 bits"),
    "text repeated": ("y ~ I('a'*10**9)", "builds text"),
    "text repeated (issue 26)": ("y ~ I('a'*3)", "builds text"),
    "spline df": ("y ~ bs(x, df=10**6)", "bs()'s df must be a whole number from 1 to 100"),
    "poly degree": ("y ~ poly(x, 10**6)", "poly()'s degree must be a whole number from 1 to 20"),
    "power of a sum of seven terms": ("y ~ (x + I(x**2) + I(x**3) + I(x**4) + I(x**5) + I(x**6) + I(x**7))**7",
                                      "over the limit of 20,000 products"),
    "deep power": ("y ~ (x + I(x**2))**50", "over the limit of 20,000 products"),
    "huge exponent": ("y ~ x**100000000000", "over the limit of 20,000 products"),
    "several parts": ("y ~ x | I(x)", "several parts separated by '|'"),
    "list repeated": ("y ~ np.minimum(x, [[0]]*10**6)", "builds a list"),
    "list broadcast": ("y ~ np.minimum(x, [[0], [1], [2]])", "lists may only give"),
    "long formula": ("y ~ x" + " + x" * 2000, "over the limit of 5,000 characters"),
    "nested": ("y ~ I(" + "-" * 2000 + "x)", "nests its terms too deeply"),
}


def one_sentence(message: str) -> bool:
    """One sentence: no sentence ends inside it (quoted formulas and terms, which may hold anything, left out)."""
    bare = re.sub(r"'[^']*'|\"[^\"]*\"", "''", message)
    return bare.endswith(".") and not re.search(r"[.!?]\s+[A-Z]", bare) and "\n" not in message


@pytest.fixture(scope="module", autouse=True)
def record_times():
    yield
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "formula-limits-library.json"
    path.write_text(json.dumps({k: round(v, 4) for k, v in TIMES.items()}, indent=2))


@pytest.fixture
def unparsed(monkeypatch):
    """formulaic must not parse (and so expand) the formula: refusals come first."""
    def refuse(*args, **kwargs):
        raise AssertionError("formulaic parsed a formula that should have been refused first")
    monkeypatch.setattr(formulaic, "Formula", refuse)


@pytest.fixture
def unevaluated(monkeypatch):
    """No term may be computed on the rows: refusals from counting come first."""
    def refuse(*args, **kwargs):
        raise AssertionError("the formula was evaluated on the rows")
    monkeypatch.setattr(F, "_materialize", refuse)


def timed(key: str, fn, *args):
    start = time.perf_counter()
    try:
        return fn(*args)
    finally:
        TIMES[key] = time.perf_counter() - start


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_a_hostile_formula_is_one_sentence_before_formulaic_parses_it(kind, tutorial_df, unparsed):
    formula, phrase = HOSTILE[kind]
    with pytest.raises(FormulaError) as info:
        timed(f"build_formula_design: {kind}", build_formula_design, tutorial_df, formula)
    assert phrase in str(info.value)
    assert one_sentence(str(info.value)), str(info.value)
    with pytest.raises(FormulaError, match=re.escape(phrase)):  # the check every entry point starts with
        formula_variables(formula)


def test_a_constant_is_folded_only_when_its_size_is_known_to_fit(tutorial_df):
    # 2**999 is allowed and computed; 2**1000 and 9**9**9 are refused by their size, before Python computes them
    assert build_formula_design(tutorial_df, "y ~ x + I(x * 2**999 / 2**999)").terms == ["x", "I(x * 2 ** 999 / 2 ** 999)"]
    with pytest.raises(FormulaError, match="more than 1,000 bits"):
        build_formula_design(tutorial_df, "y ~ x + I(x * 2**1000)")
    with pytest.raises(FormulaError, match="1,000 bits"):
        build_formula_design(tutorial_df, "y ~ x + I(x * (3 << 10**9))")
    with pytest.raises(FormulaError, match="too large for a float"):
        build_formula_design(tutorial_df, "y ~ x + I(x * 10.0**400)")
    with pytest.raises(FormulaError, match="divides by zero"):
        build_formula_design(tutorial_df, "y ~ x + I(x + 1 / (1 - 1))")


@pytest.fixture
def shop() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 3000
    return pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n),
                         "day": rng.choice(["Thu", "Fri", "Sat", "Sun"], n),
                         "code": [f"c{i % 1200}" for i in range(n)]})


@pytest.mark.parametrize(("formula", "phrase"), [
    ("y ~ x + I(day * 1000000)", "computes with a text column"),
    ("y ~ x + np.maximum(day, day) + I(C(day) * 1000000)", "computes with a text column"),
    ("I(day * 3) ~ x", "computes with a text column"),  # the target's code is checked too
    ("y ~ code", "makes at least 1,200 model columns"),  # 1,200 levels of text: over 1,000 columns
    ("y ~ C(x)", "makes at least 3,000 model columns"),  # every number its own level
    ("y ~ day:code", "over the limit of 1,000 columns"),
    ("y ~ x:I(x+1):I(x+2):I(x+3):I(x+4):I(x+5):I(x+6)", "limit of 6 factors in one interaction"),
])
def test_columns_and_text_are_counted_on_the_rows_before_any_term_is_computed(shop, unevaluated, formula, phrase):
    with pytest.raises(FormulaError) as info:
        timed(f"counted: {formula}", build_formula_design, shop, formula)
    assert phrase in str(info.value) and one_sentence(str(info.value)), str(info.value)


def test_comparing_text_and_text_columns_as_categories_still_work(shop):
    assert build_formula_design(shop, "y ~ x + I(day == 'Sat')").terms == ["x", "I(day == 'Sat')"]
    assert build_formula_design(shop, "y ~ x + C(day, contr.treatment('Sun'))").terms == [
        "C(day, contr.treatment('Sun'))[T.Fri]", "C(day, contr.treatment('Sun'))[T.Sat]",
        "C(day, contr.treatment('Sun'))[T.Thu]", "x"]  # patsy's order: the categorical term first


def test_the_column_limit_is_exact_for_one_category(shop):
    fits = shop.assign(g=[f"g{i % 1000}" for i in range(len(shop))])  # 999 dummies + intercept = 1,000 columns
    assert len(build_formula_design(fits, "y ~ g").terms) == 999
    over = shop.assign(g=[f"g{i % 1001}" for i in range(len(shop))])
    with pytest.raises(FormulaError, match="makes at least 1,001 model columns .*over the limit of 1,000 columns"):
        build_formula_design(over, "y ~ g")


def test_a_design_over_the_byte_limit_is_refused_from_rows_times_columns(unevaluated):
    rows = 1_100_000  # × 250 columns × 8 bytes = 2.2 GB, over 2 GB; a categorical column costs little to hold
    df = pd.DataFrame({"y": np.zeros(rows), "g": pd.Categorical.from_codes(np.arange(rows) % 251,
                                                                          [f"g{i}" for i in range(251)])})
    with pytest.raises(FormulaError) as info:
        timed("design bytes: 1.1M rows x C(g) of 251 levels", build_formula_design, df, "y ~ g")
    message = str(info.value)
    assert "1,100,000 rows × 251 columns" in message and "over the 2.0 GB limit on a model matrix" in message
    assert one_sentence(message)


def test_a_design_that_would_not_fit_in_free_memory_is_refused_before_it_is_built(shop, unevaluated, monkeypatch):
    from linreg_core import _csv_input as _csv

    monkeypatch.setattr(_csv, "_available_memory", lambda: 200_000)  # 3,000 rows × 3 columns × 8 × 4 = 288,000
    with pytest.raises(FormulaError) as info:
        build_formula_design(shop, "y ~ x + I(x**2)")
    assert "building it needs about" in str(info.value) and "is free" in str(info.value)
    assert one_sentence(str(info.value))


def test_more_terms_than_columns_allowed_are_refused_after_parsing(unevaluated):
    import itertools

    names = ["".join(t) for t in itertools.islice(itertools.product("abcdefghij", repeat=3), 1000)]
    formula = "y ~ " + "+".join(names)  # 1,000 terms and the intercept: 1,001 columns
    assert len(formula) < 5000
    df = pd.DataFrame({n: [1.0] for n in ["y", *names]})
    with pytest.raises(FormulaError, match="has 1,001 terms, over the limit of 1,000 columns in a model"):
        build_formula_design(df, formula)


def test_levels_computed_from_the_rows_are_counted_before_they_are_encoded(shop, monkeypatch):
    # C() of a computed expression: its levels are only known once it is evaluated; the bounded materializer
    # counts them before formulaic encodes thousands of dummy columns
    import formulaic.transforms.contrasts as contrasts

    def refuse(*args, **kwargs):
        raise AssertionError("the categories were encoded")
    monkeypatch.setattr(contrasts, "encode_contrasts", refuse)
    with pytest.raises(FormulaError) as info:
        timed("while building: C(np.round(x * 1000))", build_formula_design, shop, "y ~ C(np.round(x * 1000))")
    assert "alone has" in str(info.value) and "over the limit of 1,000 columns" in str(info.value)
    assert one_sentence(str(info.value))


def test_too_few_rows_for_the_columns_is_said_before_computing(tutorial_df, unevaluated):
    with pytest.raises(InsufficientDataError, match="4 row.s. are too few to fit 9 parameters"):
        build_formula_design(tutorial_df, "y ~ bs(x, df=8)")


@pytest.mark.parametrize("formula", [
    "y ~ (x + np.log(x) + np.sqrt(x))**2",
    "y ~ poly(x, 3) + np.log(x)",
    "y ~ bs(x, df=5)",
    "y ~ I(`x` ** 2) + Q('x')",  # a backticked name may be computed with
    "y ~ I(x**2 * 2**-3) + np.clip(x, 2, 4)",
])
def test_formulas_within_the_limits_still_fit(formula):
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"x": rng.uniform(1, 5, 60)})
    df["y"] = 2 * df.x + rng.normal(size=60)
    design = build_formula_design(df, formula)
    assert fit_exact_design(design).params.shape == (design.n_params,)


# --------------------------------------------------------------------------- model files


@pytest.fixture(scope="module")
def saved() -> dict:
    """A real model file, with a spline's knots and a category's levels in its formula state."""
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"x": rng.uniform(0, 10, 80), "day": rng.choice(["a", "b", "c"], 80)})
    df["y"] = df.x + rng.normal(size=80)
    design = build_formula_design(df, "y ~ bs(x, df=4) + C(day)")
    return json.loads(model_json(design, None, fit_exact_design(design)))


@pytest.mark.parametrize("kind", ["huge power", "text repeated", "spline df", "power of a sum of seven terms",
                                  "several parts", "list repeated"])
def test_a_model_file_with_a_hostile_formula_is_refused_before_formulaic_parses_it(saved, kind, unparsed):
    doc = json.loads(json.dumps(saved))
    doc["formula_state"]["rhs"] = HOSTILE[kind][0].split("~", 1)[1]
    with pytest.raises(FormulaError) as info:
        timed(f"load_model: {kind}", load_model, json.dumps(doc))
    assert HOSTILE[kind][1] in str(info.value) and one_sentence(str(info.value))


@pytest.mark.parametrize(("change", "phrase"), [
    (lambda d: d["formula_state"]["factors"]["C(day)"].update(categories=[f"l{i}" for i in range(5000)]),
     "5,000 categories, over the limit of 1,000 columns"),
    (lambda d: d["formula_state"]["transform_state"]["__dict__"][0][1]["__dict__"].append(
        ["knots", list(range(100_000))]), "a list of 100,000 values"),
    (lambda d: d.update(terms=[f"t{i}" for i in range(2000)]), "2,000 terms, over the limit of 1,000"),
])
def test_a_model_file_cannot_make_prediction_build_more_than_fitting_could(saved, change, phrase):
    doc = json.loads(json.dumps(saved))
    change(doc)
    with pytest.raises(FormulaError) as info:
        load_model(json.dumps(doc))
    assert phrase in str(info.value) and one_sentence(str(info.value)), str(info.value)


def test_a_model_file_nested_100000_deep_is_one_sentence():
    with pytest.raises(DataError) as info:
        load_model("[" * 100_000 + "]" * 100_000)
    assert "nests lists or objects deeper" in str(info.value) and one_sentence(str(info.value))


# --------------------------------------------------------------------------- the command line


def run_cli(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_fit_formula_refuses_each_kind_in_one_line_with_exit_2(kind, tutorial_csv, capsys):
    formula, phrase = HOSTILE[kind]
    code, out, err = timed(f"cli fit: {kind}", run_cli,
                           ["fit", tutorial_csv, "--formula", formula, "--method", "exact"], capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ") and phrase in err
    assert "internal error" not in err and "Traceback" not in err


@pytest.mark.parametrize("kind", ["huge power", "text repeated", "several parts", "power of a sum of seven terms"])
def test_predict_refuses_a_hostile_model_file_in_one_line_with_exit_2(saved, kind, tmp_path, capsys):
    doc = json.loads(json.dumps(saved))
    doc["formula_state"]["rhs"] = HOSTILE[kind][0].split("~", 1)[1]
    model = tmp_path / "model.json"
    model.write_text(json.dumps(doc))
    rows = tmp_path / "rows.csv"
    rows.write_text("x,day\n1,a\n")
    code, out, err = run_cli(["predict", str(model), str(rows)], capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and HOSTILE[kind][1] in err and "internal error" not in err


def test_predict_refuses_a_model_file_nested_100000_deep(tmp_path, capsys):
    model = tmp_path / "deep.json"
    model.write_text("[" * 100_000 + "]" * 100_000)
    rows = tmp_path / "rows.csv"
    rows.write_text("x\n1\n")
    code, out, err = run_cli(["predict", str(model), str(rows)], capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "nests lists or objects deeper" in err and "internal error" not in err


def test_the_program_refuses_9_to_the_9_to_the_9_and_exits(tutorial_csv):
    """The issue's example, as a real process: it once ran until killed, holding the interpreter's lock."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "linreg_core", "fit", tutorial_csv, "--formula", "y ~ I(9**9**9)"],
                          capture_output=True, text=True, timeout=120)
    TIMES["process: fit --formula 'y ~ I(9**9**9)' (with Python's start)"] = time.perf_counter() - start
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "at most 1,000 bits" in proc.stderr


@pytest.mark.parametrize(("formula", "phrase"), [
    ("y ~ x**²", "must be a positive integer"),  # '²'.isdigit() is True, but int('²') fails
    ("y ~ (x + I(x**2))^¹", "must be a positive integer"),
    ("y ~ x + np.sqrt(x, where=False)", "the keyword 'where='"),  # uninitialised memory in the column
    ("y ~ np.log(x, out=y)", "the keyword 'out='"),  # would overwrite a column of the data in place
])
def test_superscript_powers_and_numpys_writing_keywords_are_one_sentence(formula, phrase):
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 3.5, 5.0], "y": [2.0, 4.0, 6.0, 7.0, 9.0]})
    with pytest.raises(FormulaError, match=re.escape(phrase)):
        build_formula_design(df, formula)
