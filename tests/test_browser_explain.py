"""Issue 6 in a real browser: the race runs live, Step shows the gradient, validation draws two curves,
How it works shows the live objects. Screenshots go to test-artifacts/ (60-… .png) for a person to look at."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from devtools.server import IDLE, ROOT, RUNNING, set_number, set_speed, settle

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def page(server, browser) -> Page:
    context = browser.new_context(viewport={"width": 1400, "height": 2000})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    pg.goto(server)
    pg.wait_for_selector(IDLE)
    yield pg
    context.close()


def goto(page: Page, nav: str, heading: str) -> None:
    page.get_by_test_id("stSidebarNavLink").filter(has_text=nav).click()
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    page.wait_for_selector(IDLE)


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


TRACE_LENGTHS_JS = """(title) => {
    const p = Array.from(document.querySelectorAll('.js-plotly-plot'))
        .find(p => p.layout && p.layout.title && p.layout.title.text.includes(title) && p._fullData);
    return p ? p._fullData.filter(t => t.type === 'scatter').map(t => t._length || 0) : null; }"""


# While a race runs, the browser draws each lane's curve itself (studio/live_chart.js), over the chart's fixed parts:
# the length of each lane's drawn path.
LANE_PATHS_JS = """(key) => {
    const div = document.querySelector(`.live-chart[data-key=${key}]`);
    if (!div) return null;
    const lanes = Array.from(div.querySelectorAll('path.linreg-live')).filter(p => /^(lane|path)\\d/.test(p.dataset.layer));
    return lanes.length ? lanes.map(p => (p.getAttribute('d') || '').length) : null; }"""


# Every animation frame while a race runs: the script's state and each lane's drawn path on both charts, kept when
# they change. Read once the race has ended, so a busy machine that draws few frames cannot miss the growth between
# two reads of its own.
RACE_SAMPLER_JS = f"""() => {{ const paths = {LANE_PATHS_JS}; window.__race = [];
  let last = null;
  const tick = () => {{
    const running = !!document.querySelector("[data-testid='stApp'][data-test-script-state='running']");
    const loss = paths('race_loss'), land = paths('race_land');
    const key = JSON.stringify([running, loss, land]);
    if (key !== last) {{ window.__race.push({{running, loss, land}}); last = key; }}
    if (!window.__raceDone) requestAnimationFrame(tick);
  }};
  tick(); }}"""


def test_race_curves_grow_live_and_the_table_names_the_winner(page: Page):
    goto(page, "Race", "Optimizer race")
    set_number(page, "Lanes", "3")
    set_number(page, "Epochs", "3000")
    expect(page.get_by_test_id("stCheckbox").filter(has_text="Watch pace")).to_be_visible()
    page.evaluate(RACE_SAMPLER_JS)
    page.get_by_role("button", name="Start race").click()
    page.wait_for_selector(RUNNING)
    # A moment of the race on screen for the screenshot: each lane's curve well under way.
    page.wait_for_function(f"() => {{ const l = ({LANE_PATHS_JS})('race_loss');"
                           " return l && l.length === 3 && Math.min(...l) > 400; }")
    shot(page, "60-race-live.png")
    expect(page.get_by_text("reached the tolerance first")).to_be_visible()
    page.wait_for_selector(IDLE)
    samples = page.evaluate("() => { window.__raceDone = true; return window.__race; }")
    live = [s for s in samples if s["running"] and s["loss"] and len(s["loss"]) == 3 and min(s["loss"]) > 0]
    assert len(live) >= 3, samples  # the lanes were redrawn while the race ran, not only once at its end
    for lane in range(3):  # each lane's curve grew while the race ran
        lengths = [s["loss"][lane] for s in live]
        assert max(lengths) > lengths[0], (lane, lengths)
    assert any(s["land"] and len(s["land"]) == 3 and min(s["land"]) > 0 for s in live)  # a path per lane too
    expect(page.get_by_text("Round 3,000 / 3,000")).to_be_visible()
    landscape = page.evaluate(f"({TRACE_LENGTHS_JS})('Loss landscape')")
    assert landscape and len(landscape) >= 6  # a path and a "now" marker per lane, and the exact minimum
    shot(page, "61-race-finished.png")


def test_step_mode_shows_gradient_and_update(page: Page):
    goto(page, "Step", "Step through training")
    expect(page.get_by_text("Epoch 0 / 100")).to_be_visible()
    page.get_by_role("button", name="Step 1 epoch").click()
    page.wait_for_selector(IDLE)
    expect(page.get_by_text("Epoch 1 / 100")).to_be_visible()
    expect(page.get_by_text("Epoch 1 up close")).to_be_visible()
    grid = page.get_by_test_id("stDataFrame")
    expect(grid).to_be_visible()
    set_number(page, "Epochs per click", "10")
    page.get_by_role("button", name="Step 10 epochs").click()
    # The browser plays the ten epochs (its own status line), then reruns the page, whose status line takes its
    # place: once the epoch up close is the last one (the film has ended and the rerun drawn it), one line.
    expect(page.get_by_text("Epoch 11 up close")).to_be_visible()
    page.wait_for_selector(IDLE)
    expect(page.get_by_test_id("liveStatus")).to_have_count(0)
    expect(page.get_by_text("Epoch 11 / 100")).to_be_visible()
    expect(page.get_by_text("Plain SGD: the update is exactly −lr × gradient.")).to_be_visible()
    # The start and one point per epoch (waited for: the chart is replaced just after the script ends).
    page.wait_for_function(f"() => {{ const l = ({TRACE_LENGTHS_JS})('Loss landscape'); return l && l[0] === 12; }}")
    shot(page, "62-step.png")


def test_validation_split_draws_training_and_validation_curves(page: Page):
    goto(page, "Data", "Data")
    page.get_by_role("button", name="Noisy wave: under- and over-fitting").click()
    # Wait for the click's own effect, not only for an idle page: on a busy machine the idle state can be read before
    # the click's rerun starts, and a page change sent then replaced the rerun that carried the click (one loaded run).
    expect(page.get_by_text("Current dataset: Noisy wave")).to_be_visible()
    page.wait_for_selector(IDLE)
    goto(page, "Train", "Train")
    page.get_by_test_id("stExpander").filter(has_text="Validation and model").locator("summary").click()
    settle(page, page.get_by_test_id("stCheckbox").filter(has_text="Hold out a validation set").click)
    expect(page.get_by_text("24 training rows + 6 validation rows")).to_be_visible()
    set_number(page, "Polynomial degree", "3")
    settle(page, page.get_by_test_id("stCheckbox").filter(has_text="Standardize features").click)
    set_number(page, "Learning rate", "0.2")
    set_number(page, "Epochs", "3000")
    # The curves are the point here, not watching them grow: the run at full speed.
    set_speed(page, "As fast as possible")
    page.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_selector(IDLE)
    expect(page.get_by_text("Completed", exact=False).first).to_be_visible()
    expect(page.get_by_text("Validation MSE", exact=False).first).to_be_visible()
    shot(page, "63-validation.png")
    names = page.wait_for_function("""() => { const names = Array.from(document.querySelectorAll('.js-plotly-plot'))
        .filter(p => p.layout && p.layout.title && p.layout.title.text.includes('Loss (MSE)') && p._fullData)
        .flatMap(p => p._fullData.filter(t => t._length > 0).map(t => t.name));
        return names.includes('validation MSE') ? names : null; }""").json_value()
    assert "training loss" in names and "validation MSE" in names
    expect(page.get_by_text("Exact fit by polynomial degree")).to_be_visible()
    shot(page, "63-validation.png")


def test_how_it_works_shows_the_live_objects(page: Page):
    goto(page, "How it works", "How it works")
    expect(page.get_by_text("Linear(in_features=1, out_features=1, bias=True)")).to_be_visible()
    expect(page.get_by_text("lr: 0.01").first).to_be_visible()
    expect(page.locator(".katex").first).to_be_visible()  # the equations are rendered, not shown as source
    shot(page, "64-how-it-works.png")


def test_race_stop_keeps_the_curves_so_far(page: Page):
    goto(page, "Race", "Optimizer race")
    settle(page, page.get_by_test_id("stCheckbox").filter(has_text="Watch pace").click)  # full speed: a long race
    set_number(page, "Epochs", "200000")
    page.get_by_role("button", name="Start race").click()
    page.wait_for_selector(RUNNING)
    page.wait_for_function(f"() => {{ const l = ({LANE_PATHS_JS})('race_loss');"
                           " return l && l.length > 0 && Math.min(...l) > 0; }")
    page.get_by_test_id("stMain").get_by_role("button", name="Stop").click()
    page.wait_for_selector(IDLE)
    expect(page.get_by_text("Stopped by you at round")).to_be_visible(timeout=30_000)
    text = page.get_by_text("Stopped by you at round").inner_text()
    stopped_at = int(text.split("round ")[1].split(";")[0].replace(",", ""))
    assert 0 < stopped_at < 200_000
    # The curves so far stay on the page (drawn by Plotly once the page has ended: waited for).
    page.wait_for_function(f"() => {{ const l = ({TRACE_LENGTHS_JS})('Loss above the minimum');"
                           " return l && l.length > 0 && Math.min(...l) > 1; }")
    expect(page.get_by_test_id("stDataFrame")).to_contain_text("stopped")
    shot(page, "65-race-stopped.png")


def test_leaving_the_race_page_stops_the_race_and_says_so(page: Page):
    goto(page, "Race", "Optimizer race")
    set_number(page, "Epochs", "100000")  # with Watch pace on: about five seconds
    page.get_by_role("button", name="Start race").click()
    page.wait_for_selector(RUNNING)
    expect(page.get_by_text(re.compile(r"Round [\d,]+ / 100,000"))).to_be_visible()
    goto(page, "Train", "Train")
    goto(page, "Race", "Optimizer race")
    expect(page.get_by_text("Stopped when you left the page or changed a setting at round")).to_be_visible(timeout=30_000)
    text = page.get_by_text("Stopped when you left the page").inner_text()
    assert int(text.split("round ")[1].split(";")[0].replace(",", "")) < 100_000
    expect(page.get_by_test_id("stDataFrame")).to_contain_text("stopped")


def test_stop_cuts_a_long_step_and_stepping_goes_on(page: Page):
    set_number(page, "Epochs", "1000000")
    goto(page, "Step", "Step through training")
    set_number(page, "Epochs per click", "100000")
    page.get_by_role("button", name="Step 100,000 epochs").click()
    # Played at the Watch pace: the browser draws the epochs as their time comes, its status line with them.
    status = page.get_by_test_id("liveStatus")
    expect(status).to_contain_text(re.compile(r"Epoch [1-9][\d,]* / 1,000,000"))
    page.wait_for_function("() => { const s = document.querySelector('[data-testid=liveStatus]');"
                           " const m = s && s.innerText.match(/Epoch ([\\d,]+) \\//); return m && +m[1].replace(/,/g, '') >= 20; }")
    page.get_by_test_id("stMain").get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_test_id("liveStatus")).to_have_count(0)
    page.wait_for_selector(IDLE)
    text = page.get_by_text(re.compile(r"Epoch [\d,]+ / 1,000,000")).inner_text()
    done = int(re.search(r"Epoch ([\d,]+) /", text).group(1).replace(",", ""))
    assert 20 <= done < 100_000, text  # stopped where the page was, not run to the end
    expect(page.get_by_text(f"Epoch {done:,} up close")).to_be_visible()
    page.get_by_role("button", name="Step 1 epoch").click()
    page.wait_for_selector(IDLE)
    expect(page.get_by_text(f"Epoch {done + 1:,} / 1,000,000")).to_be_visible()


# Float64 noise of an exact fit as a reader would see it: 10^{-15} in KaTeX's source, 10−15 as KaTeX or a Plotly
# log axis draws it (digits in separate spans, joined here), 10⁻¹⁵ in text, 2.7e-15, or an SI tick like −1.5f.
NOISE = re.compile(r"(?:10\^\{-|10[−-]|[0-9.][eE][−-])(?:1[3-9]|[2-9][0-9]|[0-9]{3})(?![0-9])|10⁻[¹²³⁴⁵⁶⁷⁸⁹][⁰¹²³⁴⁵⁶⁷⁸⁹]")
SI_TINY = re.compile(r"^[−-]?[0-9.]+[fapzy]$")  # Plotly's femto, atto, pico, zepto, yocto tick labels
# Text nodes in document order, into shadow roots too (the live charts are a component that may render in one).
TEXT_NODES_JS = """() => { const out = [];
    const visit = (root) => {
        const walk = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
        for (let n = walk.currentNode; n; n = walk.nextNode()) {
            if (n.nodeType === Node.TEXT_NODE) {
                if (!['SCRIPT', 'STYLE'].includes(n.parentNode.nodeName)) out.push(n.nodeValue);
            } else if (n.shadowRoot) visit(n.shadowRoot);
        }
    };
    visit(document.body);
    return out; }"""


def noise_on(page: Page) -> list[str]:
    """Every piece of float64 noise in the page's rendered text: HTML, KaTeX (its HTML and its TeX source) and the
    charts' SVG labels."""
    nodes = [t.strip() for t in page.evaluate(TEXT_NODES_JS)]
    return NOISE.findall("".join(nodes)) + [t for t in nodes if SI_TINY.match(t)]


def test_no_page_shows_float64_noise_after_the_tutorial_run(page: Page):
    """Issue 20 item 4: the tutorial's y = 2x is fit exactly, leaving an intercept of 2.7e-15 and an MSE of 1.2e-30
    in float64; every page shows them as 0, KaTeX included, and Results says the residuals are all 0."""
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text("Completed after 100 epochs", exact=False)).to_be_visible()
    page.wait_for_selector(IDLE)
    assert noise_on(page) == []
    for nav, heading in (("Step", "Step through training"), ("Race", "Optimizer race"), ("Data", "Data"),
                         ("Results", "Results"), ("How it works", "How it works"), ("Lessons", "Lessons")):
        goto(page, nav, heading)
        if nav in ("Step", "Race", "Data", "Results"):  # charts: their axes' labels are part of what is checked
            page.wait_for_selector(".js-plotly-plot .xtick", state="attached")
        if nav == "How it works":
            expect(page.locator(".katex").filter(has_text="MSE")).to_be_visible()
        if nav == "Lessons":  # lesson 1's answer quotes the exact fit too
            page.get_by_test_id("stRadio").filter(has_text="Predict").get_by_text("Close to it").click()
            page.wait_for_selector(IDLE)
            page.get_by_role("button", name="Run it").click()
            expect(page.get_by_text("from the exact fit y = 2·x", exact=False)).to_be_visible()
        assert noise_on(page) == [], nav
    # Results after the run: the exact fit's residuals are drawn at 0 beside the run's real ones.
    goto(page, "Results", "Results")
    exact = page.wait_for_function("""() => { const p = Array.from(document.querySelectorAll('.js-plotly-plot'))
        .find(p => p.layout && p.layout.title && p.layout.title.text.includes('Residuals') && p._fullData);
        const t = p && p._fullData.find(t => t.name === 'exact least squares');
        return t ? Array.from(t.y) : null; }""").json_value()
    assert len(exact) == 4 and set(exact) == {0}
    # With no run, the residuals are all 0 in words instead of a chart of rounding noise on a femto axis.
    goto(page, "Train", "Train")
    page.get_by_role("button", name="Reset", exact=True).click()
    page.wait_for_selector(IDLE)
    goto(page, "Results", "Results")
    expect(page.get_by_text("Every residual is 0 to the data's precision: the line passes through every point.")
           ).to_be_visible()
    assert page.evaluate("() => Array.from(document.querySelectorAll('.js-plotly-plot')).filter(p => "
                         "p.layout && p.layout.title && p.layout.title.text.includes('Residuals')).length") == 0
    assert noise_on(page) == []
    shot(page, "66-results-perfect-fit.png")
