"""linreg_core._prefetch: streaming on every core keeps the order, the first error and bounded memory."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest

from linreg_core import build_design, fit_exact_design
from linreg_core._prefetch import ordered_map, prefetched
from linreg_core._sources import SourceSpec, stream_sources
from linreg_core.errors import DataError


def test_ordered_map_keeps_the_order_and_bounds_what_is_in_flight():
    """Results come back in the input's order whatever finishes first, and no more than workers + 1 items are
    started ahead of the one the consumer waits for (each holds a file's rows)."""
    started, lock, running, peak = [], threading.Lock(), [0], [0]

    def work(i: int) -> int:
        with lock:
            started.append(i)
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02 if i % 2 else 0.001)  # the odd ones finish last
        with lock:
            running[0] -= 1
        return i * i

    out = []
    for value in ordered_map(work, range(12), workers=2):
        out.append(value)
        assert len(started) <= len(out) + 2  # workers + 1 in flight at most
    assert out == [i * i for i in range(12)]
    assert peak[0] == 2  # both threads did work at once


def test_ordered_map_raises_the_first_error_in_order_and_starts_nothing_after():
    def work(i: int) -> int:
        if i == 3:
            time.sleep(0.05)
            raise ValueError("three")
        if i == 4:
            raise ValueError("four")  # fails sooner, but comes later
        return i

    seen = []
    with pytest.raises(ValueError, match="three"):
        for value in ordered_map(work, range(100), workers=2):
            seen.append(value)
    assert seen == [0, 1, 2]


def test_prefetched_runs_ahead_in_a_thread_and_raises_at_the_place_of_the_error():
    produced, closed = [], []

    def chunks():
        try:
            for i in range(5):
                produced.append((i, threading.current_thread().name))
                if i == 3:
                    raise DataError("chunk 3 is bad")
                yield i
        finally:
            closed.append(True)

    got = []
    with pytest.raises(DataError, match="chunk 3"):
        for item in prefetched(chunks()):
            got.append(item)
    assert got == [0, 1, 2] and closed == [True]
    assert all(name == "linreg-prefetch" for _, name in produced)


def test_prefetched_stops_the_producer_when_the_consumer_stops_early():
    closed = []

    def endless():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.append(True)

    for item in prefetched(endless(), depth=2):
        if item == 10:
            break
    assert closed == [True]  # its file would be closed, the thread gone


def test_several_files_stream_to_the_in_memory_fit_and_name_the_first_bad_file(tmp_path):
    rng = np.random.default_rng(3)
    frames = []
    for i in range(7):
        x = rng.normal(size=(2_000 + 37 * i, 3))
        df = pd.DataFrame(x, columns=["a", "b", "c"])
        df["y"] = x @ [1.0, -2.0, 0.5] + 4.0 + rng.normal(size=len(df))
        df.to_parquet(tmp_path / f"part-{i}.parquet")
        frames.append(df)
    files = sorted(str(p) for p in tmp_path.glob("*.parquet"))
    streamed = fit_exact_design(stream_sources(files, SourceSpec("y", None)))
    whole = fit_exact_design(build_design(pd.concat(frames, ignore_index=True), "y"))
    np.testing.assert_allclose(streamed.params, whole.params, rtol=1e-12)
    np.testing.assert_allclose(streamed.cov_unscaled, whole.cov_unscaled, rtol=1e-10)
    # Files 2 and 5 have a blank: the message names file 2, as reading one file at a time would.
    for bad in (5, 2):
        broken = frames[bad].copy()
        broken.loc[10, "b"] = np.nan
        broken.to_parquet(tmp_path / f"part-{bad}.parquet")
    with pytest.raises(DataError, match=r"^part-2\.parquet: .*row 11"):
        stream_sources(files, SourceSpec("y", None))
