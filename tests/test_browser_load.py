"""A busy server says so, in real browser tabs (one server with one heavy slot, as on a 2-core machine).

Tab A starts a long heavy run and holds the slot; tab B's heavy run is told it is queued behind it; tab C's
tutorial run (light) goes at once and completes while A still trains and B still waits; tab D's 150,000-row
dataset waits for its exact fit with a notice. Stopping A lets B train; stopping B lets D's data through.
Every wait is on the page's own state.
"""

from __future__ import annotations

import re

import pytest
from conftest import server_log
from playwright.sync_api import Page, expect

from devtools.server import IDLE, ONE_HEAVY_SLOT, load_noisy_line, set_number, set_speed

pytestmark = pytest.mark.e2e

LOG = server_log(__name__)
SERVER_ENV = ONE_HEAVY_SLOT
QUEUED_RUN = re.compile(r"Queued: 1 heavy job ahead of your run\.")
QUEUED_DATA = re.compile(r"Queued: \d heavy jobs? ahead of the exact fit of your data\.")


def open_tab(browser, url: str) -> Page:
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.wait_for_selector(IDLE)
    return page


def heavy_run_ready(page: Page) -> None:
    """2,000 points, a million epochs as fast as possible: a heavy run that trains until stopped."""
    load_noisy_line(page, 2000)
    set_speed(page, "As fast as possible")
    set_number(page, "Epochs", "1000000")


def test_a_busy_server_queues_heavy_work_says_so_and_lets_light_runs_through(server, browser):
    a, b, c, d = (open_tab(browser, server) for _ in range(4))
    for page in (a, b):
        heavy_run_ready(page)

    a.get_by_role("button", name="Train", exact=True).click()
    expect(a.get_by_text(re.compile(r"Epoch [1-9][\d,]* / 1,000,000"))).to_be_visible()
    expect(a.get_by_text(QUEUED_RUN)).to_have_count(0)  # A holds the slot

    b.get_by_role("button", name="Train", exact=True).click()
    expect(b.get_by_text(QUEUED_RUN)).to_be_visible()
    assert "It starts by itself" in b.get_by_text(QUEUED_RUN).inner_text()
    expect(b.get_by_text(re.compile(r"Epoch 0 / 1,000,000"))).to_be_visible()  # nothing trained while queued
    b.screenshot(path=str(LOG.parent / "94-queued-run.png"))

    # A light run is not queued behind them: the tutorial completes while A trains and B waits.
    c.get_by_role("button", name="Train", exact=True).click()
    expect(c.get_by_text(re.compile(r"Completed\W* after 100 epochs"))).to_be_visible()
    expect(c.get_by_text(re.compile("Queued:"))).to_have_count(0)
    expect(b.get_by_text(QUEUED_RUN)).to_be_visible()
    assert a.get_by_role("button", name="Pause").is_enabled()  # A still running

    # Heavy data waits too: a 150,000-row dataset's exact fit queues behind the runs, with a notice.
    d.get_by_test_id("stSidebarNavLink").filter(has_text="Data").click()
    d.wait_for_selector(IDLE)
    d.get_by_test_id("stTab").filter(has_text="Noisy line generator").click()
    set_number(d, "Points", "150000")
    d.get_by_role("button", name="Generate", exact=True).click()
    expect(d.get_by_text(QUEUED_DATA)).to_be_visible()
    d.screenshot(path=str(LOG.parent / "95-queued-data.png"))

    # A stops: B leaves the queue and trains.
    a.get_by_test_id("stMain").get_by_role("button", name="Stop", exact=True).click()
    expect(a.get_by_text(re.compile(r"Stopped by you at epoch"))).to_be_visible()
    expect(b.get_by_text(QUEUED_RUN)).to_have_count(0)
    expect(b.get_by_text(re.compile(r"Epoch [1-9][\d,]* / 1,000,000"))).to_be_visible()
    expect(d.get_by_text(QUEUED_DATA)).to_be_visible()  # still behind B's run

    # B stops: D's data goes through.
    b.get_by_test_id("stMain").get_by_role("button", name="Stop", exact=True).click()
    expect(b.get_by_text(re.compile(r"Stopped by you at epoch"))).to_be_visible()
    expect(d.get_by_text("Ready: 150,000 rows", exact=False)).to_be_visible()
    expect(d.get_by_text(QUEUED_DATA)).to_have_count(0)
    for page in (a, b, c, d):
        assert page.get_by_test_id("stException").count() == 0
        page.context.close()
    text = LOG.read_text()
    assert "Traceback" not in text, text
