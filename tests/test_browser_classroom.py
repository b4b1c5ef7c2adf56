"""The class in front of a projector and on phones, at 1400×900, 1024×768 and a 390×844 phone: the first-visit card
leads to Lesson 1; the page's content is a few Tab presses away; Pause keeps the keyboard focus; on a phone the chart
is on screen while a run trains; presentation mode fills a projector. Screenshots go to test-artifacts/ (93-…)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from devtools.server import CLASS_SIZES as SIZES
from devtools.server import IDLE, ROOT, set_number
from devtools.server import new_visitor as fresh

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "test-artifacts"
MAX_TABS = 5
# A person's pace between key presses. Pressed back to back in a few milliseconds (faster than any hand), Chromium
# sometimes moved the focus on from a stale starting point (to the body, or past the card); at a hand's pace, never.
KEY_PACE_MS = 250

FOCUS_JS = """() => { const e = document.activeElement; const tag = e.tagName + (e.id ? "#" + e.id : "") + (e.dataset.testid ? "@" + e.dataset.testid : "");
  return {main: !!e.closest('[data-testid=stMain]'), skip: e.tagName === 'A' && /skip to main/i.test(e.innerText),
          tag, text: (e.innerText || e.getAttribute('aria-label') || '').trim().slice(0, 60)}; }"""


@pytest.mark.parametrize("size", list(SIZES))
def test_a_first_visitor_finds_train_in_five_tab_presses_and_the_card_leads_to_lesson_1(server, browser, size):
    """A fresh page opens on the first-visit card, in the first screen. From there, Tab (Enter on the skip link)
    reaches the Train button — past the card — in at most five presses: no chart toolbar or heading link stands in
    the way; Enter trains, and the card has done its job. A new visitor's card leads to Lesson 1."""
    page = fresh(browser, server, size)
    card = page.locator(".st-key-welcome")
    expect(card).to_contain_text("New here?")
    expect(card).to_be_in_viewport()  # the first screen, at every size
    expect(page.get_by_test_id("liveChart").first).to_be_attached()  # the page as a visitor sees it
    page.screenshot(path=str(ARTIFACTS / f"93-first-visit-{size}.png"))
    presses, seen = 0, []
    while presses < MAX_TABS:
        page.keyboard.press("Tab")
        page.wait_for_timeout(KEY_PACE_MS)
        presses += 1
        focus = page.evaluate(FOCUS_JS)
        seen.append(focus)
        if focus["skip"]:
            page.keyboard.press("Enter")  # "Skip to main content": the first stop, as on most sites
            page.wait_for_timeout(KEY_PACE_MS)
        elif focus["main"] and focus["text"].endswith("Train"):
            break
    assert focus["main"] and focus["text"].endswith("Train"), seen
    page.keyboard.press("Enter")  # the keyboard alone starts a run
    expect(page.get_by_role("button", name="Pause")).to_be_enabled()
    expect(card).to_have_count(0)  # trained: the card is gone
    page.goto(server + "/")  # a new visitor (a new session): the card again, and its way to Lesson 1
    page.locator(".st-key-welcome").get_by_role("button", name="Start Lesson 1").click()
    expect(page.get_by_role("heading", name=re.compile(r"^1\. "))).to_be_visible()
    expect(page).to_have_url(re.compile(r"/lessons"))
    page.wait_for_selector(IDLE)
    page.screenshot(path=str(ARTIFACTS / f"93-lesson-1-{size}.png"))
    page.context.close()


def test_pause_keeps_the_keyboard_focus_on_the_button(server, browser):
    page = fresh(browser, server, "1400x900")
    set_number(page, "Epochs", "100000")
    page.wait_for_selector(IDLE)
    page.get_by_role("button", name="Train", exact=True).click()
    pause = page.get_by_role("button", name="Pause")
    expect(pause).to_be_enabled()
    pause.focus()
    page.keyboard.press("Space")
    resume = page.get_by_role("button", name="Resume")
    expect(resume).to_be_visible()
    page.wait_for_selector(IDLE)
    expect(resume).to_be_focused()  # the same button, now Resume: Space again resumes
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name="Pause")).to_be_focused()
    page.get_by_test_id("stMain").get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_text(re.compile(r"Stopped by you at epoch"))).to_be_visible()
    page.context.close()


@pytest.mark.parametrize("size", ["1024x768", "390x844"])
def test_the_charts_are_on_screen_while_a_run_trains(server, browser, size):
    """A 3.6 s run ends before a student scrolls to it: the fitted line and the loss must be in the first screen,
    with every control label whole."""
    page = fresh(browser, server, size)  # at Watch, the default speed
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_role("button", name="Pause")).to_be_enabled()  # running
    # The first-visit card goes with the first Train (Streamlit removes it as that rerun ends, a moment later).
    expect(page.locator(".st-key-welcome")).to_have_count(0)
    height = SIZES[size][1]
    fit = page.locator(".st-key-train_fit")
    box = fit.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + 0.5 * box["height"] <= height, box  # half of it at least
    for name in ("Train", "Pause", "Stop", "Reset"):  # no label cut to "P" or "Re…"
        button = page.get_by_test_id("stMain").get_by_role("button", name=name, exact=True)
        assert button.evaluate("b => b.scrollWidth <= b.clientWidth + 1"), name
    page.screenshot(path=str(ARTIFACTS / f"93-training-{size}.png"))
    page.get_by_test_id("stMain").get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_text(re.compile(r"Stopped by you at epoch"))).to_be_visible()
    page.context.close()


def test_presentation_mode_fills_a_projectors_screen_with_large_text(server, browser):
    """At 1024×768 the three charts sit side by side in the first screen — the landscape too — with tick labels a
    class can read, every control whole; Exit presentation brings the sidebar back."""
    page = fresh(browser, server, "1024x768", "/?present=1")
    expect(page.get_by_test_id("stSidebar")).to_be_hidden()
    expect(page.get_by_role("heading", name="Train")).to_have_count(0)
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_role("button", name="Pause")).to_be_enabled()  # running
    for key in ("train_fit", "train_loss", "train_land"):
        box = page.locator(f".live-chart[data-key='{key}']").bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 768, (key, box)
    sizes = page.evaluate("""() => [...document.querySelectorAll('.live-chart .xtick text, .live-chart .ytick text')]
        .map(t => parseFloat(getComputedStyle(t).fontSize))""")
    assert sizes and min(sizes) >= 15, sizes  # (about 10 px outside presentation mode)
    for name in ("Train", "Pause", "Stop", "Reset", "Exit presentation"):
        button = page.get_by_test_id("stMain").get_by_role("button", name=name, exact=True)
        assert button.evaluate("b => b.scrollWidth <= b.clientWidth + 1"), name
    page.screenshot(path=str(ARTIFACTS / "93-presentation-1024x768.png"))
    page.get_by_test_id("stMain").get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_text(re.compile(r"Stopped by you at epoch"))).to_be_visible()
    page.wait_for_selector(IDLE)
    page.get_by_role("button", name="Exit presentation").click()
    expect(page.get_by_role("heading", name="Train")).to_be_visible()
    expect(page.get_by_test_id("stSidebar")).to_be_visible()
    expect(page).not_to_have_url(re.compile(r"present="))
    page.context.close()
