"""Exports: the standalone PyTorch script reproduces the run; CSVs are spreadsheet-safe; JSON, never pickle."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from linreg_core import (
    TrainConfig,
    build_design,
    fit_exact,
    fit_stats,
    loss_history_csv,
    model_json,
    neutralize_formulas,
    predictions_csv,
    reproduction_script,
    train,
)


def _run_script(tmp_path, source: str) -> tuple[list[float], list[float], float | None]:
    path = tmp_path / "reproduce.py"
    path.write_text(source)
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    losses = [float(ln.split("loss ")[1]) for ln in lines if ln.startswith("epoch ")]
    coef = json.loads(next(ln for ln in lines if ln.startswith("coef:")).split(": ", 1)[1])
    icpt = next(ln for ln in lines if ln.startswith("intercept:")).split(": ", 1)[1]
    return losses, coef, None if icpt == "None" else float(icpt)


@pytest.mark.parametrize("config,degree,intercept", [
    (TrainConfig(device="cpu"), 1, True),  # the tutorial itself
    (TrainConfig(device="cpu", optimizer="adam", lr=0.05, epochs=60, standardize=True, dtype="float64"), 1, True),
    (TrainConfig(device="cpu", optimizer="momentum", lr=0.01, epochs=40, batch_size=3, seed=9), 1, True),
    (TrainConfig(device="cpu", lr=0.001, epochs=30, l2=0.5, init_weight=[1.0, 0.5], init_bias=2.0), 2, True),
    (TrainConfig(device="cpu", optimizer="rmsprop", lr=0.01, epochs=30, standardize=True), 2, False),
])
def test_script_reproduces_the_run_exactly(tmp_path, config, degree, intercept):
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 3.5, 4.0, 5.5], "y": [2.0, 4.1, 5.9, 7.2, 8.1, 10.9]})
    design = build_design(df, "y", ["x"], degree=degree, fit_intercept=intercept)
    reference = TrainConfig(**{**config.to_dict(), "engine": "autograd"})
    result = train(design, reference)
    losses, coef, icpt = _run_script(tmp_path, reproduction_script(design, config))
    assert losses == result.loss_history  # the tutorial's ops with the same seed: bit-identical to the autograd run
    fast = train(design, config)  # the default engine agrees to float rounding
    np.testing.assert_allclose(losses, fast.loss_history, rtol=1e-5)
    np.testing.assert_allclose(coef, result.coef, rtol=1e-12)
    if intercept:
        assert icpt == pytest.approx(result.intercept, rel=1e-12, abs=1e-12)
    else:
        assert icpt is None


def test_script_for_large_data_reads_a_csv(tmp_path):
    df = pd.DataFrame({"x": np.arange(50.0), "y": 3 * np.arange(50.0) + 1})
    design = build_design(df, "y")
    source = reproduction_script(design, TrainConfig(device="cpu", epochs=3), max_inline_rows=10)
    assert "pd.read_csv('data.csv')" in source
    df.to_csv(tmp_path / "data.csv", index=False)
    path = tmp_path / "reproduce.py"
    path.write_text(source)
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert [float(ln.split("loss ")[1]) for ln in out.stdout.splitlines() if ln.startswith("epoch ")] == \
        train(design, TrainConfig(device="cpu", epochs=3, engine="autograd")).loss_history


def test_formula_injection_is_neutralized_in_text_columns_only():
    df = pd.DataFrame({"name": ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "ok", "\tx"], "v": [-1.0, 2, 3, 4, 5, 6]})
    out = neutralize_formulas(df)
    assert out["name"].tolist() == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)", "ok", "'\tx"]
    assert out["v"].tolist() == [-1.0, 2, 3, 4, 5, 6]  # numbers stay numbers


def test_predictions_csv_has_predictions_and_residuals():
    df = pd.DataFrame({"label": ["=cmd", "b", "c", "d"], "x": [1.0, 2.0, 3.0, 3.5], "y": [2.0, 4.0, 6.0, 7.0]})
    design = build_design(df, "y", ["x"])
    exact = fit_exact(design.X, design.y)
    back = pd.read_csv(io.BytesIO(predictions_csv(df, design, (0.5, [1.5]), exact)))
    assert list(back.columns) == ["label", "x", "y", "predicted_gd", "residual_gd", "predicted_exact", "residual_exact"]
    assert back["label"][0] == "'=cmd"
    np.testing.assert_allclose(back["predicted_gd"], 0.5 + 1.5 * df.x)
    np.testing.assert_allclose(back["predicted_exact"], 2 * df.x, atol=1e-12)
    np.testing.assert_allclose(back["residual_gd"], df.y - (0.5 + 1.5 * df.x))


def test_loss_history_csv_round_trips_exactly():
    hist = [21.61937713623047, 1e-30, 0.1]
    back = pd.read_csv(io.BytesIO(loss_history_csv(hist)), float_precision="round_trip")
    assert back["epoch"].tolist() == [1, 2, 3] and back["loss"].tolist() == hist


def test_model_json_is_plain_json_without_nan():
    df = pd.DataFrame({"x": [1.0, 2.0], "y": [2.0, 4.0]})  # n == params: statistics are NaN
    design = build_design(df, "y")
    exact = fit_exact(design.X, design.y)
    doc = json.loads(model_json(design, {"intercept": 0.1, "coef": [1.9]}, exact, fit_stats(design, exact)))
    assert doc["format"] == "linreg-studio/model@1" and doc["terms"] == ["x"]
    assert doc["gradient_descent"]["coef"] == [1.9]
    assert doc["exact"]["coef"] == pytest.approx([2.0])
    assert doc["exact"]["metrics"]["sigma2"] is None  # NaN became null: strict JSON parsers accept it


def test_hostile_column_names_cannot_inject_code_into_the_script(tmp_path):
    evil = 'y"""\nimport os; os.system("echo PWNED")  # \\'
    df = pd.DataFrame({"=cmd|' /C calc'!A0": [1.0, 2.0, 3.0, 4.0], evil: [2.0, 4.1, 6.2, 7.9]})
    design = build_design(df, evil)
    source = reproduction_script(design, TrainConfig(device="cpu", epochs=3))
    compile(source, "reproduce.py", "exec")  # still valid Python
    path = tmp_path / "reproduce.py"
    path.write_text(source)
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "PWNED" not in out.stdout  # the name stayed data, never became code
    header = predictions_csv(df, design, None, fit_exact(design.X, design.y)).decode().splitlines()[0]
    assert header.startswith("'=cmd")  # a formula in a header cell is neutralized too


def test_a_formula_after_a_line_break_inside_a_cell_is_inert_too():
    """A reader that splits rows at a CR or LF inside a cell starts a new row there: a formula starter after any
    line break gets the quote as well as one at the start (in data cells and header cells)."""
    import csv

    hostile = ["\r=2+2", "ok\n+SUM(A1)", "a\r\n@cmd", "x\r\r-1", "plain\ntext"]
    df = pd.DataFrame({"label": hostile, "x": [1.0, 2.0, 3.0, 3.5, 5.0], "y\r=HYPERLINK(1)": [2.0, 4.0, 6.0, 7.0, 9.5]})
    design = build_design(df, "y\r=HYPERLINK(1)", ["x"])
    written = predictions_csv(df, design, (0.5, [1.5]), fit_exact(design.X, design.y)).decode()
    rows = list(csv.reader(io.StringIO(written, newline="")))
    texts = rows[0] + [row[0] for row in rows[1:]]  # the header and the text column (numbers stay numbers)
    for cell in texts:
        for line in re.split(r"[\r\n]", cell):
            assert not line.startswith(("=", "+", "-", "@", "\t")), repr(cell)
    assert len(rows) == 6 and rows[0][0] == "label" and rows[0][2] == "y\r'=HYPERLINK(1)"  # one row per data row
    assert [r[0] for r in rows[1:]] == ["'\r'=2+2", "ok\n'+SUM(A1)", "a\r\n'@cmd", "x\r'\r'-1", "plain\ntext"]
