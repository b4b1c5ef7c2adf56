"""Load: 1, 8, 16 and 32 sessions press Train at once on one server (each speaks the browser's protocol:
devtools/protocol.py). Prints, per level, p50/p95/max of the time from each session's Train click to its final chart
(and, for the paced tutorial, its paced time and how many sessions came later than that + 1 s), the health
endpoint's latency meanwhile, how many sessions were told the server was busy, the CPU the server used, and the
bytes each session received per second over the websocket and over the stream route its live charts poll.

    .venv/bin/python benchmarks/bench_load.py [--sessions 1 8 16 32] [--scenario tutorial heavy]
                                              [--rows 200000] [--epochs 2000] [--replicas 1] [--root DIR]
                                              [--json FILE] [-- server options]

"tutorial": the default data and settings (Watch pace). "heavy": each session generates --rows rows on the Data page and
trains --epochs epochs, standardized, as fast as possible. Extra arguments after -- go to `streamlit run`;
LINREG_* variables in the environment reach the server (e.g. LINREG_HEAVY_SLOTS). --root serves the app of another
checkout (e.g. `git archive <commit> | tar -x -C DIR`) with the same sessions, to measure code before a change.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from devtools.protocol import run_levels
from devtools.server import ROOT, streamlit_server


def server_at(root: Path, extra_args: tuple[str, ...]):
    """`streamlit run app.py` of the checkout at ``root``."""
    return streamlit_server(extra_args=extra_args, root=root.resolve())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 8, 16, 32])
    parser.add_argument("--scenario", nargs="+", choices=["tutorial", "heavy"], default=["tutorial", "heavy"])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--epochs", type=int, default=2000)
    parser.add_argument("--replicas", type=int, default=1, help="servers, sessions spread evenly over them")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose app.py is served")
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    parser.add_argument("server_args", nargs="*", help="after --: options for `streamlit run`")
    opts = parser.parse_args()
    from benchmarks._common import machine

    print(f"machine: {machine()}; app: {opts.root}", flush=True)
    with contextlib.ExitStack() as stack:
        urls = [stack.enter_context(server_at(opts.root, tuple(opts.server_args))) for _ in range(opts.replicas)]
        levels = run_levels(urls, opts.scenario, opts.sessions, opts.rows, opts.epochs,
                            log=lambda line: print(line, flush=True),
                            root=None if opts.root.resolve() == ROOT else str(opts.root))
    print("\n| run | sessions | Train → final chart p50 / p95 / max (s) | paced (s), later than paced + 1 s "
          "| health p50 / p95 / max (ms) | told busy | CPU server / tabs "
          "| per session p50: websocket / stream (kB/s) |\n|---|---|---|---|---|---|---|---|")
    for level in levels:
        r = level.row()
        paced = f"{r['paced_s']:.2f}, {r['later_than_paced_plus_1s']}/{r['sessions']}" if r["paced_s"] is not None else "—"
        print(f"| {r['scenario']} | {r['sessions']} | {r['p50_s']:.2f} / {r['p95_s']:.2f} / {r['max_s']:.2f} | {paced} "
              f"| {r['health_p50_ms']:.0f} / {r['health_p95_ms']:.0f} / {r['health_max_ms']:.0f} "
              f"| {r['told_busy']}/{r['sessions']} | {r['server_cpu']:.0%} / {r['client_cpu']:.0%} "
              f"| {r['ws_kB_s_p50']:.1f} / {r['stream_kB_s_p50']:.1f} |")
    if opts.json:
        opts.json.write_text(json.dumps({"machine": machine(), "app": str(opts.root), "command": sys.argv,
                                         "levels": [lv.as_dict() for lv in levels]}, indent=2))


if __name__ == "__main__":
    main()
