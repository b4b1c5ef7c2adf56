"""Sufficient statistics: one pass in chunks gives the exact fit, statistics and training of the full data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from linreg_core import (
    MomentsAccumulator,
    NonNumericError,
    TrainConfig,
    build_design,
    fit_exact,
    fit_exact_design,
    fit_stats,
    read_csv,
    stream_design,
    train,
)
from linreg_core._cli import main


@pytest.fixture
def big_csv(tmp_path):
    rng = np.random.default_rng(3)
    n = 30_011
    x1, x2 = rng.uniform(-5, 5, n), rng.normal(100, 10, n)
    y = 1.5 - 2.0 * x1 + 0.3 * x2 + rng.normal(0, 0.5, n)
    df = pd.DataFrame({"x1": x1, "x2": x2, "y": y})
    path = tmp_path / "big.csv"
    df.to_csv(path, index=False)
    return path, df


def test_accumulated_r_matches_one_qr_and_moments_match_numpy():
    rng = np.random.default_rng(0)
    X, y = rng.normal(3, 2, (1000, 3)), rng.normal(size=1000)
    blocks = MomentsAccumulator.from_blocks(((X[i:i + 97], y[i:i + 97]) for i in range(0, 1000, 97)), 3)
    whole = MomentsAccumulator.from_blocks([(X, y)], 3)
    # R is unique up to the signs of its rows
    np.testing.assert_allclose(np.abs(blocks.R), np.abs(whole.R), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(blocks.x_mean, X.mean(0), rtol=1e-12)
    np.testing.assert_allclose(blocks.x_std, X.std(0), rtol=1e-10)
    assert blocks.y_ss == pytest.approx(((y - y.mean()) ** 2).sum(), rel=1e-10)
    theta, sse = blocks.solve()
    A = np.column_stack([np.ones(1000), X])
    ref, res, *_ = np.linalg.lstsq(A, y, rcond=None)
    np.testing.assert_allclose(theta, ref, rtol=1e-10)
    assert sse == pytest.approx(res[0], rel=1e-10)


def test_streamed_design_gives_the_in_memory_exact_fit_and_stats(big_csv):
    path, df = big_csv
    streamed = stream_design(path, "y", chunk_rows=4096)
    memory = build_design(df, "y")
    assert streamed.X is None and streamed.n_samples == len(df) and streamed.terms == ["x1", "x2"]
    a, b = fit_exact_design(streamed), fit_exact(memory.X, memory.y)
    np.testing.assert_allclose(a.params, b.params, rtol=1e-10)
    sa, sb = fit_stats(streamed, a), fit_stats(memory, b)
    for key in ("mse", "r2", "adj_r2", "sigma2"):
        assert sa.metrics()[key] == pytest.approx(sb.metrics()[key], rel=1e-9)
    np.testing.assert_allclose(sa.std_err, sb.std_err, rtol=1e-8)
    assert np.isnan(sa.mae)  # needs the rows


def test_streamed_training_equals_in_memory_training(big_csv):
    path, df = big_csv
    cfg = TrainConfig(device="cpu", dtype="float64", epochs=200, lr=0.1, standardize=True)
    a = train(stream_design(path, "y", chunk_rows=5000), cfg)
    b = train(build_design(df, "y"), cfg)
    np.testing.assert_allclose(a.loss_history, b.loss_history, rtol=1e-9)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-9)


def test_streamed_polynomial_and_errors_count_rows_over_the_whole_file(tmp_path):
    rows = [f"{x},{1 + x * x}" for x in range(100)]
    rows[73] = "7,oops"
    path = tmp_path / "bad.csv"
    path.write_text("x,y\n" + "\n".join(rows) + "\n")
    with pytest.raises(NonNumericError) as err:
        stream_design(path, "y", chunk_rows=10)
    assert err.value.row == 74 and "row 74" in str(err.value)
    path.write_text("x,y\n" + "\n".join(f"{x},{1 + 2 * x + x * x}" for x in range(100)) + "\n")
    exact = fit_exact_design(stream_design(path, "y", degree=2, chunk_rows=7))
    np.testing.assert_allclose(exact.params, [1.0, 2.0, 1.0], rtol=1e-9)


def test_streamed_minibatch_is_refused_with_a_clear_message(big_csv):
    path, _ = big_csv
    with pytest.raises(Exception, match="Mini-batch training needs the rows in memory"):
        train(stream_design(path, "y"), TrainConfig(device="cpu", batch_size=64))


def test_cli_out_of_core_matches_in_memory(big_csv, capsys):
    path, _ = big_csv
    args = ["fit", str(path), "--y", "y", "--json", "--device", "cpu", "--epochs", "50", "--standardize", "--lr", "0.1"]
    assert main(args) == 0
    mem = json.loads(capsys.readouterr().out)
    assert main([*args, "--out-of-core", "--chunk-rows", "3000"]) == 0
    ooc = json.loads(capsys.readouterr().out)
    np.testing.assert_allclose(ooc["exact"]["coef"], mem["exact"]["coef"], rtol=1e-10)
    np.testing.assert_allclose(ooc["loss_history"], mem["loss_history"], rtol=1e-6)
    assert ooc["engine"] == mem["engine"] == "stats"
    assert ooc["metrics"]["mae"] is None and mem["metrics"]["mae"] > 0


def test_big_files_read_back_exactly_with_the_same_errors(tmp_path, big_csv):
    path, df = big_csv
    assert path.stat().st_size > 1 << 20  # over 1 MiB, where an earlier reader switched parsers
    back = read_csv(path)
    np.testing.assert_allclose(back.to_numpy(), df.to_numpy(), rtol=1e-15)
    raw = path.read_bytes()
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + raw)
    assert list(read_csv(bom).columns) == ["x1", "x2", "y"]
    lines = raw.decode().splitlines()
    lines[20_000] += ",9"
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("\n".join(lines) + "\n")
    with pytest.raises(Exception, match=r"Row 20000 \(line 20001 of the file\) has 4 fields but the header has 3"):
        read_csv(ragged)


def test_out_of_core_judges_constant_columns_and_row_counts_on_the_whole_file(tmp_path, capsys):
    # Chunks of 5,000 rows: the last chunk has 1 row, and 'g' is constant within the last two chunks — the whole
    # file is a fine problem, as it is in memory (randhie's hlthg once failed this way, and a 500,001-row file).
    rng = np.random.default_rng(4)
    n = 10_001
    df = pd.DataFrame({"a": rng.normal(size=n), "g": (rng.random(n) < 0.3).astype(float)})
    df.loc[5_000:, "g"] = 0.0  # constant in the second chunk and in the 1-row last one, not in the file
    df["y"] = 2 * df.a - df.g + rng.normal(size=n)
    path = tmp_path / "chunks.csv"
    df.to_csv(path, index=False)
    streamed = stream_design(path, "y", ["a", "g"], chunk_rows=5_000)
    assert streamed.n_samples == n
    np.testing.assert_allclose(fit_exact_design(streamed).params,
                               fit_exact_design(build_design(df, "y", ["a", "g"])).params, rtol=1e-10)
    assert main(["fit", str(path), "--y", "y", "--out-of-core", "--chunk-rows", "5000", "--method", "exact"]) == 0
    df["g"] = 1.0  # constant in every chunk: refused, by name, once
    df.to_csv(path, index=False)
    with pytest.raises(Exception, match="Feature 'g' is constant"):
        stream_design(path, "y", ["a", "g"], chunk_rows=5_000)
