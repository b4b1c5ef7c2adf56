"""One client's many heavy runs and another client's one: how long does the other client's run take?

    .venv/bin/python benchmarks/bench_fair_share.py [--runs 8 24] [--root DIR] [--json FILE]

One server with one heavy slot (LINREG_HEAVY_SLOTS=1, as on a 2-core machine) and the default quantum (5 s;
LINREG_QUANTUM_S in the environment overrides it). Sessions speak the browser's protocol (devtools/protocol.py) from
two loopback addresses, so the server sees two clients: 127.0.0.2 starts --runs runs of 1,000,000 epochs on
2,000 rows, as fast as possible (one trains, the rest queue); then 127.0.0.3 presses Train on the issue's run,
200,000 rows × 2,000 epochs standardized (0.31 s alone). Printed: that run's time from the Train click to its
final chart, alone and behind the first client's runs, and the queue notice it was shown.

--root: serve the app from another checkout (e.g. `git archive <commit> | tar -x -C DIR`) to measure the code
before a change with the same sessions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from devtools.protocol import Tab, _heavy_setup
from devtools.server import ROOT, free_port, wait_healthy

MANY, OTHER = "127.0.0.2", "127.0.0.3"


async def until(cond, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise TimeoutError(what)
        await asyncio.sleep(0.05)


async def measure(url: str, runs: int) -> dict:
    many = [Tab(url, source=MANY) for _ in range(runs)]
    other = Tab(url, source=OTHER)
    tabs = [*many, other]
    await asyncio.gather(*(t.open() for t in tabs))
    try:
        await asyncio.gather(*(_heavy_setup(t, 2000, 1_000_000) for t in many), _heavy_setup(other, 200_000, 2000))
        other.watch()  # its run on an idle server first
        await other.rerun(fragment=other.fragment["btn_train"], trigger="btn_train", wait=False)
        await until(lambda: other.done is not None, 300, "the run alone did not finish")
        alone = other.done - other.clicked
        for tab in many:  # the first client's runs, clicked back to back
            tab.watch()
            await tab.rerun(fragment=tab.fragment["btn_train"], trigger="btn_train", wait=False)
        await until(lambda: sum(t.busy is not None for t in many) >= runs - 1, 300, "the runs did not queue")
        other.watch()
        await other.rerun(fragment=other.fragment["btn_train"], trigger="btn_train", wait=False)
        await until(lambda: other.done is not None, 1800, "the other client's run did not finish")
        behind = other.done - other.clicked
        for tab in many:
            await tab.click("btn_stop")
        return {"one_client_runs": runs, "other_alone_s": round(alone, 2), "other_behind_them_s": round(behind, 2),
                "other_told": other.busy, "one_client_told": sorted({t.busy for t in many if t.busy})[:3]}
    finally:
        await asyncio.gather(*(t.close() for t in tabs), return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, nargs="+", default=[8])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose app.py is served")
    parser.add_argument("--json", type=Path, help="also write the measurements here")
    opts = parser.parse_args()
    from benchmarks._common import machine

    print(f"machine: {machine()}; app: {opts.root}", flush=True)
    env = {**os.environ, "LINREG_HEAVY_SLOTS": "1"}
    out = []
    for runs in opts.runs:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
             str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false"], cwd=opts.root, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            if not wait_healthy(url, 90, proc):
                raise RuntimeError("streamlit did not become healthy")
            row = asyncio.run(measure(url, runs))
        finally:
            proc.terminate()
            proc.wait(30)
        row["quantum_s"] = float(os.environ.get("LINREG_QUANTUM_S", 5.0))
        out.append(row)
        print(f"{runs} runs from one client: the other client's run took {row['other_behind_them_s']:.2f} s from "
              f"Train to its final chart ({row['other_alone_s']:.2f} s alone); told {row['other_told']!r}", flush=True)
    if opts.json:
        opts.json.write_text(json.dumps({"machine": machine(), "app": str(opts.root), "levels": out}, indent=2) + "\n")


if __name__ == "__main__":
    main()
