"""Thread policy: several sessions training at once, with torch's intra-op pool at 1 thread vs all cores.

    python benchmarks/bench_concurrency.py [--sessions 4]

Each 'session' is a Python thread (as Streamlit runs each session's script) training a 1M-row
mini-batch run. Prints the wall time for all of them and the slowest/fastest ratio for each policy.
"""

from __future__ import annotations

import argparse
import os
import threading
import time

import pandas as pd
import torch
from _common import line_data, machine

from linreg_core import TrainConfig, build_design, train


def run_sessions(n_sessions: int, threads: int, design) -> tuple[float, list[float]]:
    torch.set_num_threads(threads)
    times: list[float] = [0.0] * n_sessions

    def one(i: int) -> None:
        t = time.perf_counter()
        train(design, TrainConfig(device="cpu", epochs=5, batch_size=65_536, lr=0.01, seed=i))
        times[i] = time.perf_counter() - t

    workers = [threading.Thread(target=one, args=(i,)) for i in range(n_sessions)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return time.perf_counter() - t0, times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=4)
    args = ap.parse_args()
    print(f"machine: {machine()}\n")
    x, y = line_data(1_000_000)
    design = build_design(pd.DataFrame({"x": x, "y": y}), "y")
    train(design, TrainConfig(device="cpu", epochs=1, batch_size=4096))  # warm-up
    for threads in (1, os.cpu_count() or 1):
        wall, times = run_sessions(args.sessions, threads, design)
        print(f"{args.sessions} concurrent sessions, torch threads = {threads}: all done in {wall:.2f} s; "
              f"slowest/fastest session {max(times) / min(times):.2f}")


if __name__ == "__main__":
    main()
