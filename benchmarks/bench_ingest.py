"""CSV ingest and the 1M-row pipeline: upload -> exact fit -> 1000 full-batch epochs.

    python benchmarks/bench_ingest.py [--rows 1000000]

Prints, side by side in one process: pandas' default read_csv against linreg_core.read_csv (the same C
parser at every size, with correctly rounded numbers and the input checks), the peak memory of each load
as a multiple of the file size, and the wall time of the whole pipeline in the library and through the
CLI (in memory and --out-of-core).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from _common import best_of, line_data, machine

PEAK = """
import sys
sys.path.insert(0, {root!r})  # the checkout under test
import pandas as pd
from linreg_core import read_csv

def status(key):
    with open("/proc/self/status") as fh:
        return next(int(ln.split()[1]) * 1024 for ln in fh if ln.startswith(key))

with open("/proc/self/clear_refs", "w") as fh:  # reset the peak (VmHWM) to the current size
    fh.write("5")
before = status("VmRSS:")
df = {call}
print(status("VmHWM:") - before)
"""


def peak_bytes(call: str, path: Path) -> int:
    code = PEAK.format(root=str(Path(__file__).resolve().parents[1]), call=call.format(path=str(path)))
    return int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    from linreg_core import TrainConfig, build_design, fit_exact_design, fit_stats, read_csv, train

    print(f"machine: {machine()}\n")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        x, y = line_data(args.rows)
        pd.DataFrame({"x": x.round(6), "y": y.round(6)}).to_csv(path, index=False)
        size = path.stat().st_size
        print(f"file: {args.rows:,} rows, {size / 2**20:.1f} MiB")

        t_base, _ = best_of(lambda: pd.read_csv(path), 3)
        t_ours, df = best_of(lambda: read_csv(path), 3)
        print(f"read_csv: pandas default {t_base:.3f} s, ours {t_ours:.3f} s -> {t_base / t_ours:.1f}x")
        base_mem, ours_mem = peak_bytes("pd.read_csv({path!r})", path), peak_bytes("read_csv({path!r})", path)
        print(f"peak memory of the load: pandas default {base_mem / size:.1f}x the file, ours {ours_mem / size:.1f}x")

        def pipeline():
            design = build_design(read_csv(path), "y")
            exact = fit_exact_design(design)
            fit_stats(design, exact)
            return train(design, TrainConfig(epochs=1000))

        t_pipe, res = best_of(pipeline, 1)
        print(f"library: read + exact fit + stats + 1000 full-batch epochs = {t_pipe:.2f} s "
              f"(training loop {res.train_seconds:.3f} s, engine {res.engine})")
        for extra in ([], ["--out-of-core"]):
            cmd = [sys.executable, "-m", "linreg_core", "fit", str(path), "--y", "y", "--epochs", "1000", "--json", *extra]
            t = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True, cwd=Path(__file__).resolve().parents[1])
            label = "CLI --out-of-core" if extra else "CLI (in memory)"
            print(f"{label}: whole command incl. Python start and imports = {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()
