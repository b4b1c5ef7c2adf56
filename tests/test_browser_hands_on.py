"""Hands on the model, at 1400×900, 1024×768 and a 390×844 phone: a reload keeps the settings and the data, the
share link's QR code reads back as the link, the previous run stays faded after a point is deleted and after the batch
size changes, two features show the plane (in 3-D and as a map) moving during a run, and a dragged point moves the
exact line while it is dragged. Screenshots go to test-artifacts/ (93-…)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from devtools.server import CLASS_SIZES as SIZES
from devtools.server import IDLE, PLOT_POINT_JS, ROOT, box_select, go_to, number_box, set_number, set_speed
from devtools.server import new_visitor as fresh

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "test-artifacts"


@pytest.mark.parametrize("size", list(SIZES))
def test_a_reload_keeps_every_setting_and_the_data(server, browser, size):
    page = fresh(browser, server, size)
    go_to(page, "Data")
    page.get_by_role("button", name="Restaurant tips (Plotly)").click()
    expect(page.get_by_text(re.compile(r"Current dataset: Restaurant tips"))).to_be_visible()
    go_to(page, "Train")
    if page.get_by_test_id("stSidebar").get_attribute("data-collapsed") != "false":
        page.get_by_test_id("stExpandSidebarButton").click()
    entries = page.evaluate("history.length")
    set_number(page, "Epochs", "250")
    set_number(page, "Learning rate", "0.002")
    page.get_by_test_id("stSidebar").get_by_text("Standardize features").click()
    page.wait_for_selector(IDLE)
    expect(page).to_have_url(re.compile(r"std=1"))  # the address follows the session as it changes
    assert page.evaluate("history.length") == entries  # replaced, not pushed: Back still leaves the page
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

    page = fresh(browser, server, size, "/results?gen=60,2,1,1,0,0")  # (the generator's link opens Results)
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
    # A drag turns it (while it trains, too): the cube's edges are drawn from another side.
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
