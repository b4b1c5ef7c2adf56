"""An analyst's small fit from the shell, start to finish: `python -m linreg_core fit DATA --formula F --method exact`
against the statsmodels script that does the same (read the CSV, smf.ols, print the summary), each a fresh process.

The exact path imports no PyTorch, so the command's time is Python, numpy, pandas, scipy and formulaic starting up.
Prints the median wall time of each over interleaved runs (A B A B …) and their ratio pair by pair.

    .venv/bin/python benchmarks/bench_small_fit.py [--runs 7] [--rows 21]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import plotly.express as px
from _common import machine, run_process

ROOT = Path(__file__).resolve().parents[1]
FORMULA = "tip ~ total_bill + C(day)"
STATSMODELS = ("import sys, pandas as pd, statsmodels.formula.api as smf; "
               "print(smf.ols(sys.argv[2], pd.read_csv(sys.argv[1])).fit().summary())")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--rows", type=int, default=21)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "tips.csv"
        px.data.tips().head(args.rows).to_csv(data, index=False)
        ours = [sys.executable, "-m", "linreg_core", "fit", str(data), "--formula", FORMULA, "--method", "exact"]
        theirs = [sys.executable, "-c", STATSMODELS, str(data), FORMULA]
        run_process(ours, ROOT), run_process(theirs, ROOT)  # warm the file cache
        a, b = [], []
        for _ in range(args.runs):
            a.append(run_process(ours, ROOT)[0])
            b.append(run_process(theirs, ROOT)[0])
    print(f"machine: {machine()}")
    print(f"{args.rows}-row fit of {FORMULA!r}, {args.runs} interleaved runs, median wall seconds:")
    print(f"  linreg_core fit --method exact   {statistics.median(a):.3f} s")
    print(f"  statsmodels script (smf.ols)     {statistics.median(b):.3f} s")
    print(f"  ratio linreg_core / statsmodels  {statistics.median(x / y for x, y in zip(a, b)):.2f}")


if __name__ == "__main__":
    main()
