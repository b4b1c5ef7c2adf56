"""A class that comes and goes (issue 14): waves of browser sessions upload, train and close on one server, and
its memory returns to where the first wave left it; 30 runs in one session leave memory flat. The long soak is
benchmarks/bench_soak.py (figures in docs/capacity.md); this is its bounded version."""

from __future__ import annotations

import gc

import psutil
import pytest
from app_support import goto, start, train_clicked

from devtools.soak import soak
from studio import memory

pytestmark = [pytest.mark.e2e, pytest.mark.perf]

SOAK_MARGIN_MIB = 30  # growth allowed from the first wave to the last (glibc keeps some slack in its arenas)
RUNS_MARGIN_MIB = 20


def test_waves_of_sessions_give_their_memory_back(browser):
    report = soak(waves=2, sessions=3, rows=50_000, epochs=2000, browser=browser)
    assert report.waves[0] > report.cold  # the sessions did load data and torch
    assert report.growth <= SOAK_MARGIN_MIB, report


def test_thirty_runs_in_one_session_keep_memory_flat():
    at = goto(start(), "data")
    at.number_input(key="_w_gen_n").set_value(200_000)
    at.button(key="btn_generate").click().run()
    goto(at, "train")
    at.number_input(key="_w_epochs").set_value(200).run()
    me = psutil.Process()

    def settled() -> float:
        gc.collect()
        memory.release_now()  # what a server does between sessions: count what is still referenced
        return me.memory_info().rss / 2**20

    sizes = []
    for i in range(30):
        assert train_clicked(at).status in ("completed", "diverged")
        if i in (4, 29):
            sizes.append(settled())
    assert len(at.session_state.runs) == 20  # the session keeps its last 20 runs, no more
    assert sizes[1] - sizes[0] <= RUNS_MARGIN_MIB, sizes


def test_a_closed_session_schedules_the_hand_back():
    before = memory.trims
    memory._session_ended(object())
    import time

    deadline = time.monotonic() + 10
    while memory.trims == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert memory.trims == before + 1
