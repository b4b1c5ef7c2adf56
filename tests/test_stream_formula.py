"""Formulas with --out-of-core (linreg_core._stream.stream_formula_design, and a folder of files): the category levels
first, then the rows chunk by chunk into the R factor — the same fit as the rows in memory."""

from __future__ import annotations

import json

import numpy as np
import plotly.express as px
import pytest

from linreg_core._cli import main

FORMULA = "tip ~ total_bill * C(day) + smoker + C(size) + time"


def _fit(capsys, *args: str) -> tuple[int, dict | None, str]:
    code = main(["fit", *args, "--method", "exact", "--json"])
    out = capsys.readouterr()
    return code, json.loads(out.out) if code == 0 else None, out.err


@pytest.fixture
def tips_csv(tmp_path):
    path = tmp_path / "tips.csv"
    px.data.tips().to_csv(path, index=False)
    return str(path)


def _same_fit(a: dict, b: dict) -> None:
    assert a["terms"] == b["terms"] and a["n_samples"] == b["n_samples"]
    np.testing.assert_allclose(a["exact"]["coef"], b["exact"]["coef"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a["exact"]["intercept"], b["exact"]["intercept"], rtol=1e-10)
    for row_a, row_b in zip(a["exact"]["table"], b["exact"]["table"]):
        assert row_a["name"] == row_b["name"]
        np.testing.assert_allclose(row_a["std_err"], row_b["std_err"], rtol=1e-9)
    np.testing.assert_allclose(a["exact"]["metrics"]["r2"], b["exact"]["metrics"]["r2"], rtol=1e-12)


def test_a_formula_streamed_in_chunks_fits_as_in_memory(tips_csv, capsys):
    """Plotly's tips in chunks of 50 rows (Friday and parties of 5 or 6 are missing from some chunks): the terms,
    coefficients, standard errors and R² of the fit with the rows in memory."""
    code, streamed, err = _fit(capsys, tips_csv, "--formula", FORMULA, "--out-of-core", "--chunk-rows", "50")
    assert code == 0, err
    _, whole, _ = _fit(capsys, tips_csv, "--formula", FORMULA)
    _same_fit(streamed, whole)
    assert "C(day)[T.Sat]" in streamed["terms"] and "total_bill:C(day)[T.Sun]" in streamed["terms"]
    assert streamed["summary"] is None  # moments only: the residual tests need the rows in memory


def test_a_folder_of_files_streams_a_formula_one_file_at_a_time(tmp_path, capsys):
    """Three files, one without any Friday: every file is encoded with the levels of all of them."""
    tips = px.data.tips()
    folder = tmp_path / "parts"
    folder.mkdir()
    no_friday = tips[tips["day"] != "Fri"]
    for i, part in enumerate([tips.iloc[:80], no_friday.iloc[80:160], tips.iloc[160:]]):
        part.to_csv(folder / f"part{i}.csv", index=False)
    code, streamed, err = _fit(capsys, str(folder), "--formula", FORMULA, "--out-of-core")
    assert code == 0, err
    _, whole, _ = _fit(capsys, str(folder), "--formula", FORMULA)
    _same_fit(streamed, whole)


def test_blank_cells_are_named_by_their_row_in_the_file_or_left_out(tmp_path, capsys):
    tips = px.data.tips()
    tips.loc[[10, 180], "smoker"] = None
    path = tmp_path / "gaps.csv"
    tips.to_csv(path, index=False)
    code, _, err = _fit(capsys, str(path), "--formula", FORMULA, "--out-of-core", "--chunk-rows", "50")
    assert code != 0 and "first: row 11" in err and "Traceback" not in err
    code, streamed, err = _fit(capsys, str(path), "--formula", FORMULA, "--out-of-core", "--chunk-rows", "50",
                               "--na", "drop")
    assert code == 0, err
    _, whole, _ = _fit(capsys, str(path), "--formula", FORMULA, "--na", "drop")
    assert streamed["rows_dropped"] == whole["rows_dropped"] == 2
    _same_fit(streamed, whole)


@pytest.mark.parametrize("args,message", [
    (["-"], "save standard input or the pipe to a file"),
    ([None, "--formula", "tip ~ scale(total_bill)"], "learns its centre or scale from the data"),
])
def test_what_streaming_cannot_do_with_a_formula_is_one_sentence(tips_csv, capsys, args, message):
    args = [tips_csv if a is None else a for a in args]
    if "--formula" not in args:
        args += ["--formula", FORMULA]
    code, _, err = _fit(capsys, *args, "--out-of-core")
    assert code != 0 and message in err and "Traceback" not in err
