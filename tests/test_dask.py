"""The Dask backend and multi-file inputs: a local `distributed` cluster (2 worker processes) gives the in-memory
answer — exact fit, statistics, full-batch loss history — on CSV and Parquet globs, keeps NIST digits on an
ill-conditioned polynomial, survives a killed worker, and names a bad partition file."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import types
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.express as px
import pytest

from linreg_core import (
    DataError,
    TrainConfig,
    build_design,
    build_formula_design,
    fit_exact_design,
    fit_stats,
    read_csv,
    train,
)
from linreg_core._cli import main
from linreg_core._dask import dask_design
from linreg_core._sources import SourceSpec, resolve_sources, stream_sources

distributed = pytest.importorskip("distributed")  # in requirements.txt: never skipped in CI

FEATURES = ["x0", "x1", "x2", "x3"]


@pytest.fixture(scope="module", autouse=True)
def plain_main():
    """Worker processes are spawned, and spawn re-runs the parent's __main__ by its path. After an AppTest in the
    same pytest process, that is the Streamlit app script (which cannot run there): a bare module stands in while
    this module's clusters run. (`python -m linreg_core` has a proper __main__; the app uses threaded workers.)"""
    saved = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    yield
    sys.modules["__main__"] = saved


@pytest.fixture(scope="module")
def cluster(plain_main):
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as c:
        yield c


def _data(n: int = 30_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)) * [1.0, 10.0, 0.1, 1000.0] + [0.0, 50.0, 1.0, 1e4]
    df = pd.DataFrame(X, columns=FEATURES)
    df["y"] = X @ [2.0, -0.3, 7.0, 0.001] + 3.0 + rng.normal(size=n)
    return df


@pytest.fixture(scope="module")
def parts(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("parts")
    df = _data()
    for i, chunk in enumerate(np.array_split(df, 6)):
        chunk.to_csv(folder / f"part-{i}.csv", index=False)
        chunk.to_parquet(folder / f"part-{i}.parquet")
    return folder, df


def _close(a, b, rtol=1e-10):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=rtol, atol=0)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_dask_fit_statistics_and_training_equal_the_in_memory_run(cluster, parts, fmt):
    folder, df = parts
    design = dask_design(str(folder / f"*.{fmt}"), "y", FEATURES, scheduler=cluster.scheduler_address)
    reference = build_design(df, "y", FEATURES)
    assert design.n_samples == len(df) and design.X is None  # only the R factor came back
    ours, ref = fit_exact_design(design), fit_exact_design(reference)
    _close(ours.params, ref.params)
    _close(ours.cov_unscaled, ref.cov_unscaled, rtol=1e-9)
    s1, s2 = fit_stats(design, ours), fit_stats(reference, ref)
    for key in ("mse", "r2", "adj_r2"):
        _close(s1.metrics()[key], s2.metrics()[key])
    _close([r["std_err"] for r in s1.table()], [r["std_err"] for r in s2.table()], rtol=1e-9)
    config = TrainConfig(optimizer="adam", lr=0.05, epochs=60, standardize=True, dtype="float64")
    _close(train(design, config).loss_history, train(reference, config).loss_history)


def test_a_formula_with_categories_and_blank_rows_under_dask(cluster, tmp_path):
    tips = px.data.tips()
    tips["total_bill"] = tips["total_bill"].where(tips.index % 17 != 5)
    for i, chunk in enumerate(np.array_split(tips, 4)):  # the first file has no Thursday: levels come from all files
        chunk.to_csv(tmp_path / f"tips-{i}.csv", index=False)
    formula = "tip ~ total_bill + C(day) + smoker + C(size)"
    design = dask_design(str(tmp_path / "*.csv"), formula=formula, na="drop", scheduler=cluster.scheduler_address)
    reference = build_formula_design(tips, formula, na="drop")
    assert design.terms == reference.terms and "C(day)[T.Thur]" in design.terms
    assert design.dropped_rows == reference.dropped_rows == 15
    _close(fit_exact_design(design).params, fit_exact_design(reference).params)


def test_an_ill_conditioned_polynomial_keeps_the_certified_digits(cluster, tmp_path):
    from test_solver import DATA, FILIP_COEF, correct_digits

    filip = read_csv(DATA / "nist_filip.csv")
    for i, chunk in enumerate(np.array_split(filip, 5)):
        chunk.to_csv(tmp_path / f"filip-{i}.csv", index=False)
    design = dask_design(str(tmp_path / "*.csv"), "y", ["x"], degree=10, scheduler=cluster.scheduler_address)
    in_memory = correct_digits(fit_exact_design(build_design(filip, "y", ["x"], degree=10)).params, FILIP_COEF)
    on_dask = correct_digits(fit_exact_design(design).params, FILIP_COEF)
    assert on_dask >= 7 and in_memory >= 7  # NIST's bar for Filip, the hardest certified linear problem
    assert on_dask >= in_memory - 1.5, (on_dask, in_memory)


def test_a_killed_worker_does_not_change_the_answer(tmp_path):
    df = _data(n=400_000, seed=3)
    for i, chunk in enumerate(np.array_split(df, 40)):
        chunk.to_csv(tmp_path / f"p{i:02d}.csv", index=False)
    expected = fit_exact_design(build_design(df, "y", FEATURES)).params
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as cl, distributed.Client(cl) as client:
        pids = client.run(os.getpid)
        result: dict = {}
        job = threading.Thread(target=lambda: result.update(
            design=dask_design(str(tmp_path / "*.csv"), "y", FEATURES, scheduler=cl.scheduler_address)))
        job.start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # wait until some partitions are done, then kill a worker mid-fit
            done = sum(ts.state == "memory" for ts in cl.scheduler.tasks.values())
            if done >= 2:
                break
            time.sleep(0.01)
        pending = sum(ts.state != "memory" for ts in cl.scheduler.tasks.values())
        victim = next(iter(pids.values()))
        os.kill(victim, signal.SIGKILL)
        job.join(180)
        assert pending > 0  # the kill came before the end
        assert "design" in result, "the fit did not finish after the worker was killed"
    _close(fit_exact_design(result["design"]).params, expected)


def test_a_bad_partition_file_is_named(cluster, tmp_path):
    df = _data(n=100)
    df.iloc[:50].to_parquet(tmp_path / "a.parquet")
    (tmp_path / "b.parquet").write_bytes(b"PAR1 this is not a parquet file")
    with pytest.raises(DataError, match=r"Could not read the Parquet file '.*b\.parquet'"):
        dask_design(str(tmp_path / "*.parquet"), "y", FEATURES, scheduler=cluster.scheduler_address)
    df.iloc[:50].to_csv(tmp_path / "c.csv", index=False)
    bad = df.iloc[50:].astype(object)
    bad.iloc[3, 1] = "oops"
    bad.to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(DataError, match=r"^d\.csv: Column 'x1' has a non-numeric value 'oops' at row 4"):
        dask_design(str(tmp_path / "*.csv"), "y", FEATURES, scheduler=cluster.scheduler_address)


def test_whole_data_checks_see_every_partition(tmp_path):
    # A feature constant within the last file only, and a last file of 1 row: judged on all files, both are fine.
    df = _data(n=5001)
    df.loc[4000:, "x2"] = 1.5
    for i, (a, b) in enumerate([(0, 4000), (4000, 5000), (5000, 5001)]):
        df.iloc[a:b].to_parquet(tmp_path / f"q{i}.parquet")
    design = stream_sources(resolve_sources(str(tmp_path / "*.parquet")), SourceSpec("y", FEATURES))
    _close(fit_exact_design(design).params, fit_exact_design(build_design(df, "y", FEATURES)).params)
    df.iloc[:, 2] = 1.5  # constant everywhere: refused, by name
    for i, (a, b) in enumerate([(0, 4000), (4000, 5000), (5000, 5001)]):
        df.iloc[a:b].to_parquet(tmp_path / f"q{i}.parquet")
    with pytest.raises(DataError, match="Feature 'x2' is constant"):
        stream_sources(resolve_sources(str(tmp_path / "*.parquet")), SourceSpec("y", FEATURES))


def test_cli_reads_a_parquet_glob_on_a_cluster_and_a_folder_in_memory(cluster, parts, capsys):
    folder, df = parts
    ref = fit_exact_design(build_design(df, "y", FEATURES)).params
    assert main(["fit", str(folder / "*.parquet"), "--y", "y", "--method", "exact", "--backend", "dask",
                 "--scheduler", cluster.scheduler_address, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    _close([out["intercept"], *out["coef"]], ref)
    assert main(["fit", str(folder / "*.csv"), "--y", "y", "--method", "exact", "--json"]) == 0
    _close([json.loads(capsys.readouterr().out)["intercept"]], ref[:1])


@pytest.mark.parametrize(("args", "message"), [
    (["--backend", "dask", "--batch-size", "32"], "mini-batch training over a cluster is not supported"),
    (["--scheduler", "tcp://127.0.0.1:1"], "--scheduler is for --backend dask"),
    (["--backend", "dask", "--scheduler", "tcp://127.0.0.1:9"], "Could not reach the Dask scheduler"),
])
def test_cli_dask_mistakes_are_one_sentence(parts, capsys, args, message):
    folder, _ = parts
    assert main(["fit", str(folder / "*.parquet"), "--y", "y", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_cli_shows_progress_on_stderr_and_stays_quiet_with_json(cluster, parts, capsys):
    folder, _ = parts
    args = ["fit", str(folder / "*.parquet"), "--y", "y", "--method", "exact", "--backend", "dask",
            "--scheduler", cluster.scheduler_address]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert f"Dask: 6 file(s) on scheduler {cluster.scheduler_address}" in err
    assert "6/6 partitions" in err
    assert main([*args, "--json"]) == 0
    assert capsys.readouterr().err == ""
