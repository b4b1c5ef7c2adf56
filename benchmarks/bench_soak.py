"""Soak: a class that comes and goes. Waves of browser sessions each upload their own CSV, train, and close their
tab; the server's resident memory (RSS) is sampled after every wave, once the closed sessions have expired.
Prints RSS per wave and the growth from the first wave to the last; exits 1 past ``--margin`` MiB.

    .venv/bin/python benchmarks/bench_soak.py [--minutes 10] [--sessions 8] [--rows 200000] [--epochs 2000]

tests/test_soak.py runs a short version of the same loop in CI.
"""

from __future__ import annotations

import argparse
import sys
import time

from devtools.soak import soak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0, help="keep starting waves for this long")
    parser.add_argument("--sessions", type=int, default=8, help="browser sessions per wave")
    parser.add_argument("--rows", type=int, default=200_000, help="rows of each session's CSV")
    parser.add_argument("--epochs", type=int, default=2000)
    parser.add_argument("--margin", type=float, default=100.0, help="allowed MiB of growth, first wave to last")
    opts = parser.parse_args()
    from benchmarks._common import machine

    print(f"machine: {machine()}")
    start = time.monotonic()
    report = soak(minutes=opts.minutes, sessions=opts.sessions, rows=opts.rows, epochs=opts.epochs,
                  log=lambda line: print(line, flush=True))
    print(f"{len(report.waves)} waves of {opts.sessions} sessions in {(time.monotonic() - start) / 60:.1f} min; "
          f"RSS cold {report.cold:.0f} MiB, after wave 1 {report.waves[0]:.0f} MiB, after the last "
          f"{report.waves[-1]:.0f} MiB: growth {report.growth:+.0f} MiB (margin {opts.margin:.0f})")
    sys.exit(0 if report.growth <= opts.margin else 1)


if __name__ == "__main__":
    main()
