"""Reliability in a real browser: Stop inside a long epoch, refresh / page switch / new settings mid-run,
Train pressed twice, and the upload limit. Orphaned work is detected from the server log, where every
run logs its start and its end (the end is logged in a `finally`, so an interrupted loop logs it too).
"""

from __future__ import annotations

import re
import time

import pytest
from conftest import server_log
from playwright.sync_api import Page, expect

from devtools.server import IDLE, ROOT, load_noisy_line, number_box, set_number, set_speed, streamlit_server

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "test-artifacts"
LOG = server_log(__name__)
MEASURED: dict[str, float] = {}


def open_page(browser, url: str) -> Page:
    pg = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    pg.set_default_timeout(60_000)
    # What the page's scripts reported, kept for a failure's artifact (a blank page has nothing else to say).
    pg.reports = []
    pg.on("pageerror", lambda e: pg.reports.append(f"{time.time():.3f} pageerror: {e}"))
    pg.on("console", lambda m: m.type in ("error", "warning") and pg.reports.append(
        f"{time.time():.3f} console.{m.type}: {m.text}"))
    pg.on("crash", lambda _: pg.reports.append(f"{time.time():.3f} the page's renderer crashed"))
    pg.on("framenavigated", lambda f: f == pg.main_frame and pg.reports.append(f"{time.time():.3f} navigated: {f.url}"))
    pg.goto(url)
    pg.wait_for_selector(IDLE)
    expect(pg.get_by_role("button", name="Train", exact=True)).to_be_visible()
    return pg


@pytest.fixture
def page(server, browser):
    pg = open_page(browser, server)
    yield pg
    pg.context.close()


def long_run(page: Page) -> None:
    """Start a tutorial run that lasts well beyond the test's actions (300,000 epochs at lr 1e-4)."""
    set_number(page, "Learning rate", "0.0001")
    expect(page.get_by_test_id("stSlider").filter(has_text="Learning rate")).to_contain_text("0.0001")
    set_number(page, "Epochs", "300000")
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(re.compile(r"Epoch [\d,]+ / 300,000"))).to_be_visible()


def runs_in_log() -> tuple[list[str], list[str]]:
    text = LOG.read_text()
    return re.findall(r"run ([0-9a-f]+) started", text), re.findall(r"run ([0-9a-f]+) ended", text)


def wait_all_runs_ended(deadline_s: float = 60.0) -> float:
    """Poll the server log until every started run has logged its end; return how long that took."""
    t0 = time.monotonic()
    while True:
        started, ended = runs_in_log()
        if set(started) <= set(ended):
            return time.monotonic() - t0
        if time.monotonic() - t0 > deadline_s:
            pytest.fail(f"runs still going (orphaned work): {sorted(set(started) - set(ended))}")
        time.sleep(0.05)  # polling the log file, not waiting for an outcome


def test_stop_inside_the_first_epoch_of_a_million_row_minibatch_run(page: Page):
    load_noisy_line(page, 1_000_000)
    set_number(page, "Batch size", "1")  # a million optimizer steps per epoch: the epoch lasts about a minute
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(re.compile(r"\(epoch 1: [\d,]+ / 1,000,000 rows\)"))).to_be_visible()
    page.evaluate("""() => document.addEventListener('click', () => { window.__clickedAt = Date.now() / 1000; },
                                                     {capture: true, once: true})""")
    page.get_by_test_id("stMain").get_by_role("button", name="Stop", exact=True).click()
    clicked = page.evaluate("() => window.__clickedAt")
    # A wait on the page, not a time limit: on a loaded 2-core machine the click itself can take seconds to
    # reach the server while Chromium renders the live charts (the measured figure is recorded below).
    expect(page.get_by_text(re.compile(r"Stopped by you at epoch 0;"))).to_be_visible(timeout=60_000)
    page.wait_for_selector(IDLE)
    halted = re.findall(r"last epoch ended at ([\d.]+)", LOG.read_text())
    MEASURED["minibatch_1M_stop_click_to_loop_halt_seconds"] = round(float(halted[-1]) - clicked, 3)
    wait_all_runs_ended()
    # the partial model of the unfinished first epoch is kept and shown
    expect(page.get_by_text(re.compile(r"gap to exact"))).to_be_visible()


def test_refresh_during_training_leaves_no_orphaned_run(server, browser):
    page = open_page(browser, server)
    long_run(page)
    page.reload()
    page.wait_for_selector(IDLE)
    MEASURED["refresh_to_run_ended_seconds"] = round(wait_all_runs_ended(), 3)
    # The new session has no run, keeps the settings (the page's address carries them) and works.
    expect(number_box(page, "Epochs")).to_have_value("300000")
    set_number(page, "Epochs", "100")
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(re.compile(r"Completed after 100 epochs"))).to_be_visible()
    page.context.close()


def test_page_switch_during_training_pauses_the_run_and_resume_goes_on(page: Page):
    long_run(page)
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Results").click()
    expect(page.get_by_role("heading", name="Results", exact=True)).to_be_visible()
    MEASURED["page_switch_to_run_paused_seconds"] = round(wait_all_runs_ended(), 3)
    expect(page.get_by_text(re.compile(r"Gradient descent \(paused"))).to_be_visible()
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Train").click()
    try:
        expect(page.get_by_text(re.compile(r"Paused at epoch [\d,]+ when you left the Train page"))).to_be_visible()
    except AssertionError:  # seen twice in parallel runs on a loaded machine: keep what the page showed
        page.screenshot(path=str(ARTIFACTS / "failed-page-switch.png"))
        state = page.evaluate("""() => ({url: location.href, html: document.body.innerHTML.length,
            app: document.querySelector("[data-testid='stApp']")?.getAttribute("data-test-script-state")})""")
        (ARTIFACTS / "failed-page-switch.txt").write_text(
            f"{state}\n{time.time():.3f} body text:\n{page.inner_text('body')}\n\nreports:\n" + "\n".join(page.reports))
        raise
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_role("button", name="Pause")).to_be_enabled()  # running again, from where it was
    page.get_by_test_id("stMain").get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_text(re.compile(r"Stopped by you at epoch"))).to_be_visible()
    page.wait_for_selector(IDLE)
    wait_all_runs_ended()


def test_changing_settings_mid_run_stops_it_and_keeps_the_partial_model(page: Page):
    long_run(page)
    page.get_by_test_id("stSidebar").get_by_text("Advanced", exact=True).click()  # (where the seed is)
    seed = number_box(page, "Seed")
    seed.fill("7")
    seed.press("Enter")
    expect(page.get_by_text(re.compile(r"Stopped at epoch [\d,]+: training was interrupted"))).to_be_visible()
    page.wait_for_selector(IDLE)
    wait_all_runs_ended()


def test_train_pressed_twice_runs_once_to_the_end(page: Page):
    set_speed(page, "As fast as possible")
    set_number(page, "Epochs", "20000")
    # The page has taken the new epochs (its preview says so) before the two clicks: on a loaded machine the wait for
    # an idle page can end before the settings' rerun has begun, and a click into that rerun was lost once.
    expect(page.get_by_text(re.compile(r"of 20,000 epochs\)"))).to_be_visible()
    page.wait_for_selector(IDLE)
    train = page.get_by_role("button", name="Train", exact=True)
    train.click()
    train.click()  # the second click restarts the run; the first must not linger or clash
    expect(page.get_by_text(re.compile(r"Completed after 20,000 epochs"))).to_be_visible(timeout=120_000)
    page.wait_for_selector(IDLE)
    assert page.get_by_test_id("stException").count() == 0
    wait_all_runs_ended()


def test_upload_over_the_limit_is_refused_with_a_message(browser, tmp_path):
    big = tmp_path / "big.csv"
    big.write_text("x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(150_000)))  # ~1.9 MB
    with open(ARTIFACTS / "limit-server.log", "w") as log, \
            streamlit_server(log, extra_args=("--server.maxUploadSize", "1")) as url:
        page = open_page(browser, url)
        page.get_by_test_id("stSidebarNavLink").filter(has_text="Data").click()
        page.wait_for_selector(IDLE)
        page.get_by_test_id("stTab").filter(has_text="Upload CSV").click()
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(big))
        expect(page.get_by_text(re.compile(r"(must be 1\.0MB or smaller|over the 1 MB limit)"))).to_be_visible()
        assert "Tutorial: 4 points" in page.inner_text("body")  # the previous data is still loaded
        page.context.close()
