"""Big CSV uploads in a real browser: read with a progress bar and a Stop button.

A 199 MB CSV used to be read in one call with nothing on the page until it was done, and no way to stop it. The
server here reads CSVs from 1 MB with progress (LINREG_UPLOAD_PROGRESS_MB; the default is 8). The files are tens of
MB all the same: a read must last long enough for Chromium to draw the bar and for a click on Stop to land in it.
Timings go to test-artifacts/browser_upload_measurements.json, never into an assertion.
"""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from devtools.server import IDLE, ROOT

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "test-artifacts"
SERVER_ENV = {"LINREG_UPLOAD_PROGRESS_MB": "1"}  # progress shown from 1 MB, so small test files show it
CLEAN_LOG = True
MEASURED: dict[str, float] = {}
IRIS_CAPTION = "Current dataset: Iris flowers (Plotly) — 150 rows × 6 columns."


@pytest.fixture
def page(server, browser):
    """The Data page with Iris loaded (the data that must survive), on the Upload tab."""
    pg = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    pg.set_default_timeout(60_000)
    pg.goto(server)
    pg.wait_for_selector(IDLE)
    pg.get_by_test_id("stSidebarNavLink").filter(has_text="Data").click()
    pg.wait_for_selector(IDLE)
    pg.get_by_role("button", name="Iris flowers (Plotly)").click()
    expect(pg.get_by_text(IRIS_CAPTION)).to_be_visible()
    pg.get_by_test_id("stTab").filter(has_text="Upload CSV").click()
    yield pg
    pg.context.close()


def float_csv(path, megabytes: int, last: bytes = b"") -> int:
    """About ``megabytes`` MB of x,y rows of full-precision floats (one random MB, repeated), then ``last``; the
    number of rows."""
    rows = np.random.default_rng(5).standard_normal((25_600, 2))
    block = "".join(f"{a!r},{b!r}\n" for a, b in rows.tolist()).encode()
    path.write_bytes(b"x,y\n" + block * megabytes + last)
    return len(rows) * megabytes + last.count(b"\n")


def test_stop_abandons_a_big_csv_and_the_previous_data_stays(page: Page, tmp_path):
    path = tmp_path / "big.csv"
    # Text in the last row: the parser reads the file twice (the column again as text), which doubles the time
    # there is to see the bar, take its picture and press Stop.
    float_csv(path, 80, last=b"unknown,1\n")
    total = re.escape(f"{path.stat().st_size / 1e6:,.1f} MB")  # in the uploader's unit (1000s)
    t0 = time.monotonic()
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
    bar = page.get_by_test_id("stProgress")
    expect(bar).to_contain_text(re.compile(rf"^Reading big\.csv: [1-9][\d,]*\.\d MB of {total}…$"))
    MEASURED["80MB_drop_to_moving_bar_s"] = round(time.monotonic() - t0, 2)
    page.screenshot(path=str(ARTIFACTS / "upload-progress.png"))
    MEASURED["bar_in_the_picture"] = bar.inner_text()
    t1 = time.monotonic()
    page.get_by_test_id("stMain").get_by_role("button", name="Stop").click()
    stopped = page.get_by_text(re.compile(rf"^Stopped reading big\.csv after [\d,]+\.\d MB of {total}\. The previous "
                                          r"dataset is still loaded; drop the file again to load it\.$"))
    expect(stopped).to_be_visible()
    MEASURED["stop_click_to_message_s"] = round(time.monotonic() - t1, 2)
    MEASURED["stopped_at"] = stopped.inner_text()
    page.wait_for_selector(IDLE)
    expect(bar).to_have_count(0)
    expect(page.get_by_text(IRIS_CAPTION)).to_be_visible()
    expect(page.get_by_text("Ready: 150 rows, model petal_width ~ petal_length.")).to_be_visible()


def test_a_csv_over_the_threshold_shows_progress_and_loads(page: Page, tmp_path):
    path = tmp_path / "medium.csv"
    rows = float_csv(path, 30)  # Chromium showed no bar for some 12 MB reads (~0.2 s): too quick to draw
    total = f"{path.stat().st_size / 1e6:,.1f} MB"
    # The bar may be up for a fraction of a second: record every text it shows, as the DOM changes.
    page.evaluate("""() => {
        window.__bars = [];
        new MutationObserver(() => {
            for (const el of document.querySelectorAll("[data-testid='stProgress']")) {
                if (!window.__bars.includes(el.innerText)) window.__bars.push(el.innerText);
            }
        }).observe(document.body, {childList: true, subtree: true, characterData: true});
    }""")
    t0 = time.monotonic()
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
    expect(page.get_by_text(f"Loaded medium.csv: {rows:,} rows, columns x, y.")).to_be_visible()
    MEASURED["30MB_drop_to_loaded_s"] = round(time.monotonic() - t0, 2)
    page.wait_for_selector(IDLE)
    bars = page.evaluate("() => window.__bars")
    assert any(re.fullmatch(rf"Reading medium\.csv: [\d,]+\.\d MB of {re.escape(total)}…", b) for b in bars), bars
    expect(page.get_by_text(f"Current dataset: medium.csv — {rows:,} rows × 2 columns.")).to_be_visible()
    expect(page.get_by_test_id("stProgress")).to_have_count(0)


def test_leaving_the_page_mid_read_gives_the_read_up(page: Page, tmp_path):
    # Not started again behind the user's back when they come back, to replace what they have since loaded.
    path = tmp_path / "big.csv"
    float_csv(path, 80, last=b"unknown,1\n")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
    expect(page.get_by_test_id("stProgress")).to_be_visible()
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Train").click()
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_visible()
    page.wait_for_selector(IDLE)
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Data").click()
    expect(page.get_by_text(re.compile(r"^Stopped reading big\.csv after [\d,]+\.\d MB of [\d,]+\.\d MB, as the page "
                                       r"was used or left before it was read\. Drop the file again to load it\.$"))
           ).to_be_visible()
    page.wait_for_selector(IDLE)
    expect(page.get_by_text(IRIS_CAPTION)).to_be_visible()
    expect(page.get_by_test_id("stProgress")).to_have_count(0)
