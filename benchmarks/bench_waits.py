"""Where users wait, side by side with what they would otherwise use (issue 25): each row times ours and the anchor
interleaved (ours, anchor, ours, …) and prints the fastest of each, their ratio (ours ÷ anchor: < 1 is faster) and,
where it matters, memory (of whole processes: our largest peak against the anchor's smallest).

    .venv/bin/python benchmarks/bench_waits.py [--runs 5] [--only csv,cli,solver,ooc] [--ooc-rows 20000000]

- csv: ``read_csv`` of 1e6 rows × 10 numbers written with 17 significant digits (195 MiB), against
  ``pyarrow.csv.read_csv`` (an Arrow table), the same plus ``.to_pandas()``, and pandas' C parser (default
  converter; with ``float_precision="round_trip"``, the one that gives correctly rounded values, too). Our values
  are checked bit for bit against the round-trip parser's.
- cli: ``python -m linreg_core fit DATA --y y --method exact --json`` on that file against a pandas + statsmodels
  script that prints the same statistics as JSON (``bench_analyst_scale.STATSMODELS``): wall time and peak RSS of
  each fresh process.
- solver: ``fit_exact(X, y)`` against ``numpy.linalg.lstsq`` of ``[1, X]`` at 1e6×10, 1e5×100 and 2e4×500, with
  the peak memory each allocates beyond its inputs (tracemalloc, as a multiple of the data's bytes); and
  ``build_design`` + ``fit_exact_design`` + ``fit_stats`` from a DataFrame against ``sm.OLS(y, add_constant(X))``
  + standard errors, t, p, intervals, R², adjusted R², F from the same DataFrame. One BLAS thread each
  (``OPENBLAS_NUM_THREADS=1``, set before numpy loads).
- ooc: ``fit FILES --out-of-core --method exact --json`` on 20M rows × 10 features in 40 Parquet files (1.8 GB in
  /tmp/linreg-scaling, made once by bench_scaling.py's generator) against a script fitting
  ``dask.array.linalg.lstsq`` (threaded scheduler, the files' row counts from their footers) of the same files:
  each a fresh process on every core, wall time and peak RSS.

The Train page's first render against a two-line Streamlit app is ``benchmarks/bench_first_render.py``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # the solver rows: one thread each (before numpy loads)
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402 (the thread settings above come first)
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from _common import machine, run_process  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout under test

# Every core for the whole-process rows (the solver rows' one-thread setting is this process's, not theirs).
ALL_CORES = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                              "MKL_NUM_THREADS")}

DASK_LSTSQ = r"""
import glob, json, sys
import dask, dask.array as da, numpy as np, pandas as pd, pyarrow.parquet as pq
dask.config.set(scheduler="threads")
files = sorted(glob.glob(sys.argv[1]))
names = pq.ParquetFile(files[0]).schema_arrow.names
features = [c for c in names if c != "y"]
def load(path):  # [1, X, y] of one file
    df = pd.read_parquet(path, columns=features + ["y"])
    return np.column_stack([np.ones(len(df)), df.to_numpy(dtype=np.float64)])
parts = [da.from_delayed(dask.delayed(load)(f), shape=(pq.ParquetFile(f).metadata.num_rows, len(features) + 2),
                         dtype=np.float64) for f in files]
M = da.concatenate(parts, axis=0)
coef = da.linalg.lstsq(M[:, :-1], M[:, -1])[0].compute()
print(json.dumps({"intercept": float(coef[0]), "coef": coef[1:].tolist()}))
"""


def side_by_side(ours: Callable[[], object], theirs: Callable[[], object], runs: int) -> tuple[float, float]:
    """Fastest wall seconds of each over ``runs`` interleaved rounds."""
    a, b = [], []
    for _ in range(runs):
        t = time.perf_counter()
        ours()
        a.append(time.perf_counter() - t)
        t = time.perf_counter()
        theirs()
        b.append(time.perf_counter() - t)
    return min(a), min(b)


def extra_bytes(fn: Callable[[], object]) -> int:
    """Peak bytes ``fn`` allocates beyond what was live before it (numpy's buffers are traced)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - before


def row(what: str, ours: float, anchor: str, theirs: float, note: str = "") -> None:
    print(f"  {what:<44} ours {ours:8.3f} s   {anchor:<34} {theirs:8.3f} s   ratio {ours / theirs:5.2f}  {note}")


def make_csv(path: Path, rows: int = 1_000_000) -> None:
    """Nine features and y = X·w + noise, every value with 17 significant digits (what numpy would save)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, 9))
    y = X @ np.arange(1.0, 10.0) + rng.standard_normal(rows)
    cols = {f"x{j}": X[:, j] for j in range(9)} | {"y": y}
    pacsv.write_csv(pa.table(cols), path, pacsv.WriteOptions(quoting_style="none"))


def bench_csv(path: Path, runs: int) -> None:
    import pandas as pd
    import pyarrow.csv as pacsv

    from linreg_core import read_csv

    size = path.stat().st_size / 2**20
    print(f"read_csv: {path.name}, 1,000,000 rows × 10 numbers, {size:.0f} MiB")
    ours, arrow = side_by_side(lambda: read_csv(path), lambda: pacsv.read_csv(path), runs)
    row("read_csv -> DataFrame", ours, "pyarrow.csv.read_csv -> Table", arrow)
    _, arrow_pd = side_by_side(lambda: None, lambda: pacsv.read_csv(path).to_pandas(), runs)
    row("", ours, "pyarrow.csv + .to_pandas()", arrow_pd)
    _, pandas_c = side_by_side(lambda: None, lambda: pd.read_csv(path), max(2, runs // 2))
    row("", ours, "pandas.read_csv (C, default)", pandas_c)
    _, pandas_rt = side_by_side(lambda: None, lambda: pd.read_csv(path, float_precision="round_trip"), 2)
    row("", ours, "pandas.read_csv (C, round_trip)", pandas_rt)
    df, ref = read_csv(path), pd.read_csv(path, float_precision="round_trip")
    same = all(np.array_equal(df[c].to_numpy().view(np.int64), ref[c].to_numpy().view(np.int64)) for c in ref)
    print(f"  values bit-identical to pandas' round-trip parser (every cell): {same}")
    if not same:
        raise SystemExit("read_csv's values differ from round-trip parsing")


def bench_cli(path: Path, runs: int) -> None:
    from bench_analyst_scale import STATSMODELS

    formula = "y ~ " + " + ".join(f"x{j}" for j in range(9))
    ours = [sys.executable, "-m", "linreg_core", "fit", str(path), "--y", "y", "--method", "exact", "--json"]
    theirs = [sys.executable, "-c", STATSMODELS, str(path), formula]
    print(f"fit --method exact --json on {path.name} (whole process, every core), against pandas + statsmodels:")
    a, b = [], []
    for _ in range(runs):
        a.append(run_process(ours, ROOT, ALL_CORES)[:2])
        b.append(run_process(theirs, ROOT, ALL_CORES)[:2])
    t_a, t_b = min(x[0] for x in a), min(x[0] for x in b)
    m_a, m_b = max(x[1] for x in a), min(x[1] for x in b)  # memory: our largest peak against their smallest
    row("fit --method exact --json", t_a, "pandas + smf.ols + statistics", t_b,
        f"peak {m_a:,.0f} vs {m_b:,.0f} MiB ({m_a / m_b:.2f})")


def bench_solver(runs: int) -> None:
    print("Exact least squares in memory (one BLAS thread each):")
    for n, k in ((1_000_000, 10), (100_000, 100), (20_000, 500)):
        solver_case(n, k, runs)


def solver_case(n: int, k: int, runs: int) -> None:
    import pandas as pd
    import statsmodels.api as sm

    from linreg_core import build_design, fit_exact, fit_exact_design, fit_stats

    rng = np.random.default_rng(k)
    X = rng.standard_normal((n, k))
    y = X @ rng.standard_normal(k) + rng.standard_normal(n)
    data = X.nbytes + y.nbytes

    def lstsq() -> object:
        return np.linalg.lstsq(np.column_stack([np.ones(n), X]), y, rcond=None)

    ours, theirs = side_by_side(lambda: fit_exact(X, y), lstsq, runs)
    mem_ours, mem_theirs = extra_bytes(lambda: fit_exact(X, y)) / data, extra_bytes(lstsq) / data
    row(f"fit_exact {n:,}×{k}", ours, "numpy.linalg.lstsq([1, X], y)", theirs,
        f"extra memory {mem_ours:.2f}× vs {mem_theirs:.2f}× the data")
    names = [f"x{j}" for j in range(k)]
    df = pd.DataFrame(X, columns=names)
    df["y"] = y

    def ours_stats() -> object:
        design = build_design(df, "y", names)
        return fit_stats(design, fit_exact_design(design))

    def statsmodels() -> object:
        res = sm.OLS(df["y"], sm.add_constant(df[names])).fit()
        return res.bse, res.tvalues, res.pvalues, res.conf_int(), res.rsquared, res.rsquared_adj, res.fvalue

    ours, theirs = side_by_side(ours_stats, statsmodels, runs)
    stats = ours_stats()
    res = sm.OLS(df["y"], sm.add_constant(df[names])).fit()
    agree = max(float(np.max(np.abs(stats.params - res.params.to_numpy()) / np.abs(res.params.to_numpy()))),
                float(np.max(np.abs(stats.std_err - res.bse.to_numpy()) / res.bse.to_numpy())))
    row(f"  + build_design + fit_stats {n:,}×{k}", ours, "statsmodels OLS fit + statistics", theirs,
        f"coefficients and SEs agree to {agree:.1e}")


def bench_ooc(rows: int, runs: int) -> None:
    import json

    from bench_scaling import generate

    folder = Path("/tmp/linreg-scaling") / f"{rows}x10"
    generate(folder, rows, 40)
    files = str(folder / "*.parquet")
    size = sum(f.stat().st_size for f in folder.glob("*.parquet")) / 2**30
    print(f"--out-of-core: {rows:,} rows × 10 features + y in 40 Parquet files ({size:.1f} GiB), every core:")
    ours = [sys.executable, "-m", "linreg_core", "fit", files, "--y", "y", "--out-of-core", "--method", "exact",
            "--json"]
    theirs = [sys.executable, "-c", DASK_LSTSQ, files]
    a, b = [], []
    for _ in range(runs):
        a.append(run_process(ours, ROOT, ALL_CORES))
        b.append(run_process(theirs, ROOT, ALL_CORES))
    t_a, t_b = min(x[0] for x in a), min(x[0] for x in b)
    m_a, m_b = max(x[1] for x in a), min(x[1] for x in b)
    out, ref = json.loads(a[0][2]), json.loads(b[0][2])
    p, q = np.array([out["intercept"], *out["coef"]]), np.array([ref["intercept"], *ref["coef"]])
    row("fit --out-of-core --method exact --json", t_a, "dask.array.linalg.lstsq (threads)", t_b,
        f"peak {m_a:,.0f} vs {m_b:,.0f} MiB; coefficients agree to {float(np.max(np.abs(p - q) / np.abs(q))):.1e}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", default="csv,cli,solver,ooc")
    ap.add_argument("--ooc-rows", type=int, default=20_000_000)
    args = ap.parse_args()
    only = set(args.only.split(","))
    print(f"machine: {machine()}; fastest of {args.runs} interleaved runs each\n")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "numbers.csv"
        if only & {"csv", "cli"}:
            make_csv(path)
        if "csv" in only:
            bench_csv(path, args.runs)
            print()
        if "cli" in only:
            bench_cli(path, args.runs)
            print()
    if "solver" in only:
        bench_solver(args.runs)
        print()
    if "ooc" in only:
        bench_ooc(args.ooc_rows, args.runs)


if __name__ == "__main__":
    main()
