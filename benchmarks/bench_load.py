"""Load: 1, 8, 16 and 32 sessions press Train at once on one server (each speaks the browser's protocol:
studio/load.py). Prints, per level, p50/p95/max of
the time from each session's Train click to its final chart, the health endpoint's latency
meanwhile, how many sessions were told the server was busy, and the CPU the server used.

    .venv/bin/python benchmarks/bench_load.py [--sessions 1 8 16 32] [--scenario tutorial heavy]
                                              [--rows 200000] [--epochs 2000] [--json FILE] [-- server options]

"tutorial": the default data and settings (Watch pace). "heavy": each session generates --rows rows on the Data page and
trains --epochs epochs, standardized, as fast as possible. Extra arguments after -- go to `streamlit run`;
LINREG_* variables in the environment reach the server (e.g. LINREG_HEAVY_SLOTS).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.load import run_levels  # noqa: E402
from studio.testing import streamlit_server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 8, 16, 32])
    parser.add_argument("--scenario", nargs="+", choices=["tutorial", "heavy"], default=["tutorial", "heavy"])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--epochs", type=int, default=2000)
    parser.add_argument("--replicas", type=int, default=1, help="servers, sessions spread evenly over them")
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    parser.add_argument("server_args", nargs="*", help="after --: options for `streamlit run`")
    opts = parser.parse_args()
    from benchmarks._common import machine

    print(f"machine: {machine()}", flush=True)
    with contextlib.ExitStack() as stack:
        urls = [stack.enter_context(streamlit_server(extra_args=tuple(opts.server_args))) for _ in range(opts.replicas)]
        levels = run_levels(urls, opts.scenario, opts.sessions, opts.rows, opts.epochs,
                            log=lambda line: print(line, flush=True))
    print("\n| run | sessions | Train → final chart p50 / p95 / max (s) | health p50 / p95 / max (ms) | told busy "
          "| CPU server / tabs |\n|---|---|---|---|---|---|")
    for level in levels:
        r = level.row()
        print(f"| {r['scenario']} | {r['sessions']} | {r['p50_s']:.2f} / {r['p95_s']:.2f} / {r['max_s']:.2f} "
              f"| {r['health_p50_ms']:.0f} / {r['health_p95_ms']:.0f} / {r['health_max_ms']:.0f} "
              f"| {r['told_busy']}/{r['sessions']} | {r['server_cpu']:.0%} / {r['client_cpu']:.0%} |")
    if opts.json:
        opts.json.write_text(json.dumps([lv.as_dict() for lv in levels], indent=2))


if __name__ == "__main__":
    main()
