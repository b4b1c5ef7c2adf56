"""Scaling: one Parquet dataset (default 20 million rows × 10 feature columns + y, in 40 files) fitted three ways —
(a) in memory, (b) one file at a time on this machine (--out-of-core), (c) a local Dask cluster of 2 worker
processes (--backend dask) — each as its own `python -m linreg_core fit ... --method exact --json` process, so wall
time and peak memory (the largest process, workers included) are measured the same way. Prints rows/s, peak RSS
and the largest coefficient difference from the in-memory fit (they must agree to 1e-10).

    .venv/bin/python benchmarks/bench_scaling.py [--rows 20000000] [--files 40] [--dir /tmp/linreg-scaling]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import machine

FEATURES = [f"x{i}" for i in range(10)]


def generate(folder: Path, rows: int, files: int, seed: int = 0) -> None:
    """The dataset, written file by file (never all in memory): y = X·w + 3 + noise, columns of mixed scales."""
    folder.mkdir(parents=True, exist_ok=True)
    if len(list(folder.glob("*.parquet"))) == files:
        return
    rng = np.random.default_rng(seed)
    w = rng.normal(size=10)
    scales = np.logspace(-1, 1, 10)  # a tenth to ten: columns of different units, a well-posed fit
    per = rows // files
    for i in range(files):
        n = per + (1 if i < rows % files else 0)
        X = rng.normal(size=(n, 10)) * scales + np.arange(10)
        df = pd.DataFrame(X, columns=FEATURES)
        df["y"] = X @ w + 3.0 + rng.normal(size=n)
        df.to_parquet(folder / f"part-{i:03d}.parquet")


def run(args: list[str]) -> tuple[float, float, float, dict]:
    """(seconds, peak RSS of the largest process, peak RSS of all its processes together — MiB, sampled every
    50 ms —, the JSON) of one CLI run in a fresh process tree."""
    import psutil

    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "linreg_core", "fit", *args, "--method", "exact", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    root, largest, total = psutil.Process(proc.pid), 0, 0
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            rss = [p.memory_info().rss for p in tree]
        except psutil.Error:
            rss = [0]
        largest, total = max(largest, max(rss)), max(total, sum(rss))
        time.sleep(0.05)
    out = proc.stdout.read()
    seconds = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"fit {' '.join(args)} failed (exit {proc.returncode})")
    return seconds, largest / 2**20, total / 2**20, json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--dir", default="/tmp/linreg-scaling")
    opts = parser.parse_args()
    folder = Path(opts.dir) / f"{opts.rows}x10"
    t = time.perf_counter()
    generate(folder, opts.rows, opts.files)
    size = sum(f.stat().st_size for f in folder.glob("*.parquet")) / 2**20
    print(f"machine: {machine()}")
    print(f"data: {opts.rows:,} rows x 11 columns in {opts.files} Parquet files, {size:,.0f} MiB "
          f"(ready in {time.perf_counter() - t:.0f} s)")
    glob = str(folder / "*.parquet")
    common = [glob, "--y", "y", *[a for f in FEATURES for a in ("--x", f)]]
    modes = {"in memory": [], "out of core (one file at a time)": ["--out-of-core"],
             "Dask local cluster, 2 workers": ["--backend", "dask"]}
    results = {}
    for name, extra in modes.items():
        seconds, largest, total, out = run(common + extra)
        results[name] = (seconds, largest, total, np.array([out["intercept"], *out["coef"]]))
    ref = results["in memory"][3]
    print(f"{'mode':<34} {'seconds':>8} {'rows/s':>12} {'largest process MiB':>20} {'all processes MiB':>18} "
          f"{'max rel. coef diff':>19}")
    for name, (seconds, largest, total, params) in results.items():
        diff = float(np.max(np.abs(params - ref) / np.abs(ref)))
        print(f"{name:<34} {seconds:>8.1f} {opts.rows / seconds:>12,.0f} {largest:>20,.0f} {total:>18,.0f} "
              f"{diff:>19.2e}")
        assert diff < 1e-10, f"{name} disagrees with the in-memory fit: {diff:.2e}"
    print("(memory: resident set size sampled every 50 ms over the command's process tree — the CLI and, with "
          "Dask, the scheduler, nannies and workers it starts)")


if __name__ == "__main__":
    main()
