"""The first visitor after a restart, in a real browser: every page's link opened first on a freshly started
server, and `streamlit run app.py` — the Streamlit way of starting an app — serving the whole studio (its
security headers, the plotly.js the live charts draw with, the charts drawn)."""

from __future__ import annotations

import re
import urllib.request

import pytest
from playwright.sync_api import expect

from devtools.server import IDLE, ROOT, streamlit_server

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "test-artifacts"

# (path a teacher or a bookmark may hand out, the page's heading)
# ("/", the Train page, is the first visit of test_streamlit_run_app_py_sends_the_security_headers_and_draws_the_charts.)
PAGES = [
    ("/step", "Step through training"),
    ("/race", "Optimizer race"),
    ("/data", "Data"),
    ("/results", "Results"),
    ("/how_it_works", "How it works"),
    ("/lessons", "Lessons"),
    ("/lessons?lesson=3", "3. Standardize the feature"),
]


@pytest.mark.parametrize(("path", "heading"), PAGES, ids=[p for p, _ in PAGES])
def test_each_page_opened_first_on_a_fresh_server_draws_without_an_error(browser, path, heading):
    """A new server, a new session, and this link is the first thing it serves (no visit to / before)."""
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / "first-visit-server.log", "a") as log, streamlit_server(log) as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(url + path)
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        page.wait_for_selector(IDLE)
        expect(page.get_by_test_id("stException")).to_have_count(0)
        if "lesson=3" in path:
            expect(page.get_by_role("radio", name="3. Standardize the feature")).to_be_checked()
        name = re.sub(r"\W+", "-", path).strip("-") or "train"
        page.screenshot(path=str(ARTIFACTS / f"first-visit-{name}.png"))
        context.close()


def test_streamlit_run_app_py_sends_the_security_headers_and_draws_the_charts(browser):
    """devtools.server.streamlit_server runs exactly `streamlit run app.py`, as README command 1 does."""
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / "first-visit-server.log", "a") as log, streamlit_server(log) as url:
        with urllib.request.urlopen(url + "/") as r:
            headers = {k.lower(): v for k, v in r.headers.items()}
        assert headers["x-frame-options"] == "SAMEORIGIN"
        assert "frame-ancestors 'self'" in headers["content-security-policy"]
        assert headers["referrer-policy"] == "no-referrer" and headers["x-content-type-options"] == "nosniff"
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(url)  # the first visit of this server: the Train page
        expect(page.get_by_role("heading", name="Train", exact=True)).to_be_visible()
        page.wait_for_selector(IDLE)
        expect(page.get_by_test_id("stException")).to_have_count(0)
        for key in ("train_fit", "train_loss", "train_land"):  # drawn by plotly.js from the app's own route
            expect(page.locator(f".live-chart[data-key='{key}'] .main-svg").first).to_be_attached()
        expect(page.locator(".live-chart[data-key='train_fit'] .scatterlayer path.js-line").first).to_be_attached()
        expect(page.get_by_text("could not load plotly.js")).to_have_count(0)
        page.screenshot(path=str(ARTIFACTS / "first-visit-streamlit-run-app.png"))
        page.close()
