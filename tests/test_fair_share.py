"""Heavy slots are shared between clients, on a real server (one heavy slot, as on a 2-core machine).

Two clients, for real: sessions that speak the browser's protocol (devtools/protocol.py's ``Tab``) from two loopback
addresses, 127.0.0.2 and 127.0.0.3 (Linux answers all of 127.0.0.0/8, and Streamlit keys a visitor by the
address the connection comes from). The first client starts five million-epoch runs: one trains, four queue,
told their places in order. The second client's heavy run is then told it has one job ahead (the one training),
not five; it gets the slot as soon as that one stops, ahead of the first client's queued runs, and completes
while those still have not trained an epoch. The quantum is set out of reach here so the order alone is
checked; tests/test_workload.py checks that the slot changes hands after one quantum.
"""

from __future__ import annotations

import asyncio
import re

import pytest
from conftest import server_log

from devtools.protocol import Tab, _heavy_setup
from devtools.server import ONE_HEAVY_SLOT, run_async

pytestmark = pytest.mark.perf

LOG = server_log(__name__)
SERVER_ENV = ONE_HEAVY_SLOT
MANY, OTHER = "127.0.0.2", "127.0.0.3"
RUNS = 5  # the first client's heavy runs
TRAINING = re.compile(r"\*\*Epoch [1-9][\d,]* / 1,000,000\*\*")
QUEUED = re.compile(r"Queued: (\d+) heavy jobs? ahead of your run\.")
DONE = re.compile(r"Completed\W* after 3,000 epochs")
STOPPED = re.compile(r"Stopped by you at epoch ([\d,]+)")


async def seen(tab: Tab, pattern: re.Pattern, since: int = 0, timeout: float = 120.0) -> re.Match:
    """The first of the tab's alerts and markdown from its ``since``-th on that matches ``pattern``, once it comes."""
    end = asyncio.get_running_loop().time() + timeout
    while True:
        for _, text in tab.texts[since:]:
            if m := pattern.search(text):
                return m
        assert asyncio.get_running_loop().time() < end, f"never saw {pattern.pattern!r}: {tab.texts[-5:]}"
        await asyncio.sleep(0.05)


async def scenario(url: str) -> None:
    many = [Tab(url, source=MANY) for _ in range(RUNS)]
    other = Tab(url, source=OTHER)
    tabs = [*many, other]
    await asyncio.gather(*(t.open() for t in tabs))
    try:
        await asyncio.gather(*(_heavy_setup(t, 2000, 1_000_000) for t in many), _heavy_setup(other, 2000, 3000))
        # The first client's runs, one after another: the first trains, the others queue in order of arrival.
        await many[0].click("btn_train")
        await seen(many[0], TRAINING)
        for i, tab in enumerate(many[1:], start=1):
            mark = len(tab.texts)
            await tab.click("btn_train")
            assert int((await seen(tab, QUEUED, mark))[1]) == i
        # The other client's heavy run: only the run that holds the slot is ahead of it.
        marks = [len(t.texts) for t in many]
        await other.click("btn_train")
        assert (await seen(other, QUEUED))[0] == "Queued: 1 heavy job ahead of your run."
        # ...and it went ahead of each queued run of the first client: the next one now has 2 jobs ahead.
        await seen(many[1], re.compile(r"Queued: 2 heavy jobs ahead of your run\."), marks[1])
        # The slot frees: it goes to the other client, whose run completes while the first client's still wait.
        await many[0].click("btn_stop")
        await seen(other, DONE)
        stops = []
        for tab in reversed(many[1:]):  # the last queued first, so none of them gets the slot meanwhile
            mark = len(tab.texts)
            await tab.click("btn_stop")
            stops.append(int((await seen(tab, STOPPED, mark))[1].replace(",", "")))
        # The first queued one may have got the slot once the other client's run was done; the rest never did.
        assert stops[:-1] == [0] * (RUNS - 2)
    finally:
        await asyncio.gather(*(t.close() for t in tabs), return_exceptions=True)
    for tab in tabs:
        assert tab.error is None or "close" in str(tab.error).lower(), tab.error


def test_with_one_client_holding_many_heavy_runs_another_clients_heavy_run_is_next(server):
    run_async(scenario(server))
    text = LOG.read_text()
    assert "Traceback" not in text, text
