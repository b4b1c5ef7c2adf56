"""An analyst's fit at scale, start to finish: 2,000,000 rows × 12 columns with categoricals and an interaction
(38 parameters), `python -m linreg_core fit DATA --formula F --method exact --json` against the statsmodels script
that does the same — read the CSV with pandas, `smf.ols(F, df).fit()`, and the same statistics (coefficients, SEs,
t, p, intervals, R², F, log-likelihood, AIC/BIC, omnibus, Jarque–Bera, Durbin–Watson, condition number) as JSON.

Each tool runs as a fresh process, interleaved (A B A B …); for each the wall time and the peak resident memory
(the child's own maxrss from wait4) are printed, then the ratios. Ours also prints VIF per term, which the
statsmodels script does not compute (its `variance_inflation_factor` refits once per column). The first run's
results of both are compared: the largest relative difference of the coefficients and standard errors is printed.

    .venv/bin/python benchmarks/bench_analyst_scale.py [--rows 2000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
from _common import machine, run_process

ROOT = Path(__file__).resolve().parents[1]
FORMULA = "y ~ x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + C(region) + C(g1) * C(g2) + x1:C(g2)"
N_PARAMS = 38  # 1 + 8 numbers + 7 regions + 4 + 3 groups + 12 group pairs + 3 slopes of x1 by g2

STATSMODELS = r"""
import json, sys
import numpy as np, pandas as pd, statsmodels.formula.api as smf
from statsmodels.stats.stattools import durbin_watson, jarque_bera, omni_normtest
df = pd.read_csv(sys.argv[1])
res = smf.ols(sys.argv[2], df).fit()
ci = res.conf_int()
omni, omni_p = omni_normtest(res.resid)
jb, jb_p, skew, kurt = jarque_bera(res.resid)
print(json.dumps({
    "names": list(res.params.index), "coef": res.params.tolist(), "std_err": res.bse.tolist(),
    "t": res.tvalues.tolist(), "p": res.pvalues.tolist(), "ci_low": ci[0].tolist(), "ci_high": ci[1].tolist(),
    "r2": res.rsquared, "adj_r2": res.rsquared_adj, "f": res.fvalue, "f_p": res.f_pvalue, "llf": res.llf,
    "aic": res.aic, "bic": res.bic, "omnibus": omni, "omnibus_p": omni_p, "jb": jb, "jb_p": jb_p, "skew": skew,
    "kurtosis": kurt, "durbin_watson": durbin_watson(res.resid), "condition_number": res.condition_number,
}))
"""


def make_data(path: Path, n: int, seed: int = 0) -> None:
    """Eight numbers with six significant digits, three categories (8, 5 and 4 levels) and a target with an
    interaction, written with Arrow's CSV writer (fast, shortest round-trip digits)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    cols: dict[str, object] = {}
    xs = [np.round(rng.normal(10 * j, 1 + j, n), 4) for j in range(1, 9)]
    region = rng.integers(0, 8, n)
    g1, g2 = rng.integers(0, 5, n), rng.integers(0, 4, n)
    y = 3.0 + sum((0.5 - 0.1 * j) * x for j, x in enumerate(xs)) + 0.7 * region + 0.3 * g1 * g2 + 0.2 * xs[0] * g2
    y = np.round(y + rng.normal(0, 2.0, n), 4)
    cols["y"] = y
    for j, x in enumerate(xs, 1):
        cols[f"x{j}"] = x
    cols["region"] = np.array(["north", "south", "east", "west", "centre", "coast", "hills", "islands"])[region]
    cols["g1"] = np.array(["a", "b", "c", "d", "e"])[g1]
    cols["g2"] = np.array(["low", "mid", "high", "top"])[g2]
    pacsv.write_csv(pa.table(cols), path, pacsv.WriteOptions(quoting_style="none"))


def compare(ours: bytes, theirs: bytes) -> str:
    a, b = json.loads(ours), json.loads(theirs)
    table = a["summary"]["table"]
    if len(table) != N_PARAMS or len(b["coef"]) != N_PARAMS:
        raise SystemExit(f"expected {N_PARAMS} parameters, got {len(table)} and {len(b['coef'])}")
    ours_by = {}
    for row in table:
        ours_by["Intercept" if row["name"] == "intercept" else row["name"]] = row
    worst = 0.0
    for name, c, se in zip(b["names"], b["coef"], b["std_err"]):
        row = ours_by[name]  # the term names are statsmodels' own
        worst = max(worst, abs(row["coef"] - c) / max(abs(c), 1e-300), abs(row["std_err"] - se) / se)
    s = a["summary"]
    for k_ours, k_theirs in (("r2", "r2"), ("f_statistic", "f"), ("llf", "llf"), ("durbin_watson", "durbin_watson"),
                             ("jarque_bera", "jb"), ("omnibus", "omnibus")):
        value = a["exact"]["metrics"]["r2"] if k_ours == "r2" else s[k_ours]
        worst = max(worst, abs(value - b[k_theirs]) / abs(b[k_theirs]))
    return f"{worst:.1e}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "analyst.csv"
        make_data(data, args.rows)
        ours = [sys.executable, "-m", "linreg_core", "fit", str(data), "--formula", FORMULA, "--method", "exact",
                "--json"]
        theirs = [sys.executable, "-c", STATSMODELS, str(data), FORMULA]
        a, b = [], []
        for i in range(args.runs):
            a.append(run_process(ours, ROOT))
            b.append(run_process(theirs, ROOT))
            if i == 0:
                agreement = compare(a[0][2], b[0][2])
        size = data.stat().st_size
    print(f"machine: {machine()}")
    print(f"{args.rows:,} rows × 12 columns ({size / 2**20:.0f} MiB of CSV), {N_PARAMS} parameters: {FORMULA!r}")
    print(f"{args.runs} interleaved runs each, median wall seconds and peak RSS:")
    med = statistics.median
    print(f"  linreg_core fit --method exact --json   {med(r[0] for r in a):7.2f} s  {med(r[1] for r in a):7.0f} MiB")
    print(f"  pandas + smf.ols + statistics            {med(r[0] for r in b):7.2f} s  {med(r[1] for r in b):7.0f} MiB")
    print(f"  statsmodels / linreg_core: wall {med(y[0] / x[0] for x, y in zip(a, b)):.1f}×, "
          f"peak memory {med(y[1] / x[1] for x, y in zip(a, b)):.2f}×")
    print(f"  largest relative difference (coefficients, SEs, R², F, llf, DW, JB, omnibus): {agreement}")


if __name__ == "__main__":
    main()
