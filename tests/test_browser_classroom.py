"""The class in front of a projector and on phones, at 1400×900, 1024×768 and a 390×844 phone: the first-visit card
leads to Lesson 1; the page's content is a few Tab presses away; Pause keeps the keyboard focus; on a phone the chart
is on screen while a run trains. Screenshots go to test-artifacts/ (93-…)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from devtools.server import IDLE, PLOT_POINT_JS, ROOT, box_select, go_to, number_box, set_number, set_speed

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "test-artifacts"
SIZES = {"1400x900": (1400, 900), "1024x768": (1024, 768), "390x844": (390, 844)}
MAX_TABS = 5
# A person's pace between key presses. Pressed back to back in a few milliseconds (faster than any hand), Chromium
# sometimes moved the focus on from a stale starting point (to the body, or past the card); at a hand's pace, never.
KEY_PACE_MS = 250

FOCUS_JS = """() => { const e = document.activeElement; const tag = e.tagName + (e.id ? "#" + e.id : "") + (e.dataset.testid ? "@" + e.dataset.testid : "");
  return {main: !!e.closest('[data-testid=stMain]'), skip: e.tagName === 'A' && /skip to main/i.test(e.innerText),
          tag, text: (e.innerText || e.getAttribute('aria-label') || '').trim().slice(0, 60)}; }"""


def fresh(browser, server: str, size: str, path: str = "/") -> Page:
    """A new visitor: a fresh context at this screen size, the page's first script run done."""
    width, height = SIZES[size]
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.set_default_timeout(60_000)
    page.goto(server + path)
    page.wait_for_selector(IDLE)
    return page


@pytest.mark.parametrize("size", list(SIZES))
def test_the_first_visit_card_says_what_to_do_and_leads_to_lesson_1(server, browser, size):
    page = fresh(browser, server, size)
    card = page.locator(".st-key-welcome")
    expect(card).to_be_visible()
    expect(card).to_contain_text("New here?")
    expect(card).to_be_in_viewport()  # the first screen, at every size
    page.screenshot(path=str(ARTIFACTS / f"93-first-visit-{size}.png"))
    card.get_by_role("button", name="Start Lesson 1").click()
    expect(page.get_by_role("heading", name=re.compile(r"^1\. "))).to_be_visible()
    expect(page).to_have_url(re.compile(r"/lessons"))
    page.wait_for_selector(IDLE)
    page.screenshot(path=str(ARTIFACTS / f"93-lesson-1-{size}.png"))
    # The card has done its job: back on Train it is gone.
    page.goto(page.url.split("/lessons")[0] + "/")  # (a new session: the card is back for a new visitor)
    page.wait_for_selector(IDLE)
    page.locator(".st-key-welcome").get_by_role("button", name="Close").click()
    expect(page.locator(".st-key-welcome")).to_have_count(0)
    page.wait_for_selector(IDLE)
    page.get_by_role("button", name="Train", exact=True).click()  # a rerun of the whole page, the card still gone
    page.wait_for_selector(IDLE)
    expect(page.locator(".st-key-welcome")).to_have_count(0)
    page.context.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_the_page_content_is_reached_in_at_most_five_tab_presses(server, browser, size):
    """From a fresh page, Tab (Enter on the skip link) reaches the Train button — past the first-visit card — in at
    most five presses: no chart toolbar or heading link stands in the way."""
    page = fresh(browser, server, size)
    expect(page.get_by_test_id("liveChart").first).to_be_attached()  # the page as a visitor sees it
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
    expect(page.get_by_text(re.compile(r"Completed after 100 epochs"))).to_be_visible()
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
    height = SIZES[size][1]
    fit = page.locator(".st-key-train_fit")
    box = fit.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + 0.5 * box["height"] <= height, box  # half of it at least
    for name in ("Train", "Pause", "Stop", "Reset"):  # no label cut to "P" or "Re…"
        button = page.get_by_test_id("stMain").get_by_role("button", name=name, exact=True)
        assert button.evaluate("b => b.scrollWidth <= b.clientWidth + 1"), name
    page.screenshot(path=str(ARTIFACTS / f"93-training-{size}.png"))
    expect(page.get_by_text(re.compile(r"Completed after 100 epochs"))).to_be_visible()
    page.context.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_a_reload_keeps_every_setting_and_the_data(server, browser, size):
    page = fresh(browser, server, size)
    go_to(page, "Data")
    page.get_by_role("button", name="Restaurant tips (Plotly)").click()
    expect(page.get_by_text(re.compile(r"Current dataset: Restaurant tips"))).to_be_visible()
    go_to(page, "Train")
    if page.get_by_test_id("stSidebar").get_attribute("data-collapsed") != "false":
        page.get_by_test_id("stExpandSidebarButton").click()
    set_number(page, "Epochs", "250")
    set_number(page, "Learning rate", "0.002")
    page.get_by_test_id("stSidebar").get_by_text("Standardize features").click()
    page.wait_for_selector(IDLE)
    expect(page).to_have_url(re.compile(r"std=1"))  # the address follows the session as it changes
    page.reload()
    page.wait_for_selector(IDLE)
    expect(page.get_by_text("Restaurant tips (Plotly)").first).to_be_visible()  # the data
    expect(number_box(page, "Epochs")).to_have_value("250")
    expect(number_box(page, "Learning rate")).to_have_value("0.002")
    expect(page.get_by_test_id("stSidebar").get_by_role("switch", name="Standardize features")).to_be_checked()
    page.screenshot(path=str(ARTIFACTS / f"93-after-reload-{size}.png"))
    page.context.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_the_qr_code_encodes_the_share_link(server, browser, size):
    import io

    import zxingcpp
    from PIL import Image

    page = fresh(browser, server, size)
    go_to(page, "Data")
    page.get_by_test_id("stTab").filter(has_text="Noisy line generator").click()
    set_number(page, "Points", "60")
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.get_by_text("Ready: 60 rows", exact=False)).to_be_visible()
    go_to(page, "Results")
    link = page.get_by_test_id("stCode").last.inner_text().strip()
    assert "gen=60" in link and "data=" not in link, link  # the generator's values, not 60 rows
    qr = page.get_by_test_id("stImage").last
    qr.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"93-share-qr-{size}.png"))
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.screenshot())))
    assert [r.text for r in found] == [link]  # what a phone's camera reads is the link itself
    page.context.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_the_previous_run_stays_faded_after_a_point_is_deleted_and_the_batch_size_changes(server, browser, size):
    page = fresh(browser, server, size)
    set_speed(page, "As fast as possible")
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(re.compile(r"Completed after 100 epochs"))).to_be_visible()
    page.wait_for_selector(IDLE)
    fit, loss = page.locator(".live-chart[data-key='train_fit']"), page.locator(".live-chart[data-key='train_loss']")
    expect(fit.get_by_text("previous run")).to_have_count(0)
    # Delete the point at x = 3.5: the run on four points stays, faded, beside the exact fit on three.
    page.get_by_test_id("stCheckbox").filter(has_text="Edit points on the chart").click()
    page.wait_for_selector(".live-chart[data-key='train_fit'][data-edit='on']")
    box_select(page, "train_fit", (3.3, 6.8), (3.7, 7.2), steps=8)
    expect(page.get_by_text("Deleted 1 point: 3 left.")).to_be_visible()
    page.wait_for_selector(IDLE)
    expect(fit.locator(".legendtext", has_text="previous run")).to_have_count(1)
    expect(loss.locator(".legendtext", has_text="previous run")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / f"93-previous-after-delete-{size}.png"))
    # Batch size 1 on the three points: its noisy curve over the faded full-batch one.
    page.get_by_test_id("stCheckbox").filter(has_text="Edit points on the chart").click()
    page.wait_for_selector(IDLE)
    if page.get_by_test_id("stSidebar").get_attribute("data-collapsed") != "false":
        page.get_by_test_id("stExpandSidebarButton").click()
    set_number(page, "Batch size", "1")
    if SIZES[size][0] < 640:  # a phone: the open sidebar covers the page
        page.get_by_test_id("stSidebarCollapseButton").locator("button").click()
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(re.compile(r"Completed after 100 epochs"))).to_be_visible()
    page.wait_for_selector(IDLE)
    expect(loss.locator(".legendtext", has_text="previous run")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / f"93-previous-after-batch-{size}.png"))
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
    expect(page.get_by_text(re.compile(r"Completed after 100 epochs"))).to_be_visible()
    page.wait_for_selector(IDLE)
    page.get_by_role("button", name="Exit presentation").click()
    expect(page.get_by_role("heading", name="Train")).to_be_visible()
    expect(page.get_by_test_id("stSidebar")).to_be_visible()
    expect(page).not_to_have_url(re.compile(r"present="))
    page.context.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_two_features_show_the_plane_moving_during_a_run(server, browser, size):
    """Restaurant tips with total_bill and size: the map of the plane, and gradient descent's contour lines drawn by
    the browser as the run trains — they move from frame to frame."""
    page = fresh(browser, server, size, "/?preset=tips&y=tip&x=total_bill&x=size&std=1&lr=0.1&epochs=300")
    chart = page.locator(".live-chart[data-key='train_plane']")
    expect(chart.locator(".gtitle")).to_have_text("Prediction over total_bill and size")
    page.get_by_role("button", name="Train", exact=True).click()
    lines = chart.locator("path.linreg-live[data-layer='gd_iso']")
    expect(lines).to_have_attribute("d", re.compile(r"^M"))  # drawn while training
    first = lines.get_attribute("d")
    page.wait_for_function("""([sel, d]) => { const p = document.querySelector(sel); return p && p.getAttribute('d')
        && p.getAttribute('d') !== d; }""", arg=[".live-chart[data-key='train_plane'] path[data-layer='gd_iso']", first])
    # The plane in 3-D moves too: gradient descent's plane, drawn by the browser every frame.
    solid = ".live-chart[data-key='train_plane3d'] path[data-layer='p3_gd']"
    page.wait_for_selector(solid)
    now = page.get_attribute(solid, "d")
    page.wait_for_function("([sel, d]) => document.querySelector(sel).getAttribute('d') !== d", arg=[solid, now])
    chart.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"93-plane-{size}.png"))
    expect(page.get_by_text(re.compile(r"Completed after 300 epochs"))).to_be_visible()
    page.wait_for_selector(IDLE)
    # A drag turns it: the cube's edges are drawn from another side.
    cube = ".live-chart[data-key='train_plane3d'] path[data-layer='p3_box']"
    before = page.get_attribute(cube, "d")
    stage = page.locator(".live-chart[data-key='train_plane3d']")
    stage.scroll_into_view_if_needed()
    box = stage.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 80, box["y"] + box["height"] / 2 + 20, steps=6)
    page.mouse.up()
    assert page.get_attribute(cube, "d") != before
    page.context.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_a_dragged_point_moves_the_exact_line_during_the_drag(server, browser, size):
    page = fresh(browser, server, size)
    page.get_by_test_id("stCheckbox").filter(has_text="Edit points on the chart").click()
    page.wait_for_selector(".live-chart[data-key='train_fit'][data-edit='on']")
    page.wait_for_selector(IDLE)
    exact = page.locator(".live-chart[data-key='train_fit'] .scatterlayer .trace path.js-line").first
    before = exact.get_attribute("d")
    (x0, y0) = page.evaluate(PLOT_POINT_JS, ["train_fit", 3.5, 7.0])
    (x1, y1) = page.evaluate(PLOT_POINT_JS, ["train_fit", 3.5, 3.0])
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=10)
    # Still held: the line has already moved with the point (the browser refits it; no server round trip yet).
    page.wait_for_function("""([sel, d]) => document.querySelector(sel).getAttribute('d') !== d""",
                           arg=[".live-chart[data-key='train_fit'] .scatterlayer .trace path.js-line", before])
    page.screenshot(path=str(ARTIFACTS / f"93-dragging-{size}.png"))
    page.mouse.up()
    expect(page.get_by_text(re.compile(r"Moved point 4 to \(x = 3\.\d*, y = [23]\.\d*\)"))).to_be_visible()
    page.wait_for_selector(IDLE)
    expect(page.get_by_text(re.compile(r"· 4 rows ·"))).to_be_visible()  # moved, not deleted by a selection box
    page.context.close()
