"""The security issue in a real browser: what Chromium draws from hostile names, framing by another site,
the tables' CSV export, numbers typed into the table, and Stop with live charts on.

Hostile names arrive the way an attacker would send them: in a share link's data and name. Each page is
rendered twice, with the hostile names and with plain ones, and the two pages must have the same elements;
no link may leave the app, no image, KaTeX rule or Plotly link may appear, and the browser must not ask any
host but the app's for anything.
"""

from __future__ import annotations

import base64
import re
import statistics
import urllib.request
import zlib
from collections import Counter
from urllib.parse import urlencode, urlsplit

import pandas as pd
import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from devtools.server import (
    IDLE,
    ROOT,
    assert_cannot_be_framed,
    load_noisy_line,
    run_async,
    set_number,
)
from studio.text import clip

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "test-artifacts"
MEASURED: dict[str, object] = {}

PHISH = "**URGENT** [Log in again](https://evil.example/login) :smile:"
HOSTILE_FEATURE = ("[click](https://evil.example/x) ![p](http://evil.example/p.png) <b>bold</b>"
                   "<a href=https://evil.example>a</a> :red[alert] :material/home: www.evil.example")
HOSTILE_TARGET = (r"y}\rule{2000px}{2000px}\mathrm{ $\rule{900px}{900px}$ ![n](http://evil.example/name.png)"
                  " <img src=http://evil.example/i.png> <i>t</i> a@evil.example")
PAGES = ["Train", "Step", "Race", "Data", "Results", "How it works"]
HEADINGS = {"Step": "Step through training", "Race": "Optimizer race"}  # the others' heading is their name

# Elements whose number must not depend on the names (KaTeX and Plotly internals are counted separately:
# their span and tick counts follow the text's length).
STRUCTURE_JS = """() => {
  // The main area, where the names are shown (links and images are looked for in the whole document).
  const roots = [document.querySelector("[data-testid='stMain']")];
  const counts = {};
  // Whether the run's "Live charts: N redraws" line shows depends on timing (a 100-epoch run may end before
  // the first redraw): leave its element out, with the KaTeX and Plotly internals.
  const timing = new Set(Array.from(document.querySelectorAll("[data-testid='stElementContainer']"))
    .filter(c => c.innerText.startsWith('Live charts:')));
  const skip = (el) => el.closest('.katex, .js-plotly-plot, [data-testid="stDataFrame"], [data-testid="stCode"]')
    || Array.from(timing).some(c => c === el || c.contains(el));
  for (const root of roots) if (root) for (const el of root.querySelectorAll('*')) {
    if (skip(el)) continue;
    counts[el.tagName] = (counts[el.tagName] || 0) + 1;
  }
  const origin = location.origin;
  const links = Array.from(document.querySelectorAll('a[href]')).map(a => a.href).filter(h => !h.startsWith(origin));
  return {counts, outside_links: links,
          // (the share link's QR code on Results is the app's own st.image, not a name's: left out)
          images: Array.from(document.querySelectorAll('img')).filter(i => !i.closest('[data-testid=stImage]'))
            .map(i => i.src),
          katex_rules: document.querySelectorAll('.katex .rule').length,
          katex_errors: document.querySelectorAll('.katex-error').length,
          plot_links: document.querySelectorAll('.js-plotly-plot svg a').length,
          plot_styled: document.querySelectorAll('.js-plotly-plot .g-xtitle tspan[style], .js-plotly-plot .g-ytitle tspan[style]').length,
          x_titles: Array.from(document.querySelectorAll('.js-plotly-plot .g-xtitle text')).map(t => t.textContent),
          text: document.body.innerText.replaceAll('\u2060', '')};  // (invisible joiners: studio/text.py)
}"""


def share_link(url: str, df: pd.DataFrame, target: str, feature: str, name: str) -> str:
    data = base64.urlsafe_b64encode(zlib.compress(df.to_csv(index=False).encode())).decode()
    return f"{url}/?{urlencode({'data': data, 'name': name, 'y': target, 'x': feature})}"


def open_session(browser, link: str, outside: list[str]) -> Page:
    """A browser session that opened ``link``; any request it makes to another host is added to ``outside``."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    host = urlsplit(link).netloc
    context.on("request", lambda r: outside.append(r.url) if urlsplit(r.url).netloc not in (host, "") else None)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(link)
    page.wait_for_selector(IDLE)
    return page


def visit(page: Page, page_title: str, label: str) -> dict:
    """Open ``page_title`` (Train: press Train) and read what the page shows once it has stopped changing."""
    if page_title != "Train":
        page.get_by_test_id("stSidebarNavLink").filter(has_text=page_title).click()
        expect(page.get_by_role("heading", name=HEADINGS.get(page_title, page_title), exact=True)).to_be_visible()
    else:
        page.get_by_role("button", name="Train", exact=True).click()
        expect(page.get_by_text(re.compile(r"Completed after 100 epochs"))).to_be_visible()
    page.wait_for_selector(IDLE)
    if page_title == "How it works":
        expect(page.locator(".katex").nth(4)).to_be_visible()  # KaTeX renders lazily
    if page_title in ("Train", "Step"):
        page.wait_for_selector(".js-plotly-plot .g-xtitle")
    # Elements keep appearing for a moment after the script ends (tooltips, lazy charts): take the page once
    # three looks 300 ms apart agree. That also gives images or fonts a hostile name asked for time to be requested.
    page.wait_for_function("() => !document.querySelector(\"[data-testid='stSkeleton']\")"
                           " && document.querySelector(\"[data-testid='stApp']\").dataset.testScriptState === 'notRunning'")
    looks = [page.evaluate(STRUCTURE_JS)]
    while len(looks) < 3 or any(look["counts"] != looks[-1]["counts"] for look in looks[-3:]):
        page.wait_for_timeout(300)
        looks.append(page.evaluate(STRUCTURE_JS))
    page.screenshot(path=str(ARTIFACTS / f"70-{label}-{page_title.lower().replace(' ', '-')}.png"), full_page=True)
    return looks[-1]


@pytest.fixture(scope="module")
def shared_sessions(server, browser):
    """Two sessions kept for all the pages: one opened a share link with hostile names, one the same points with
    plain names. Each page's test takes both there and compares (after Train, both hold the same run)."""
    points = {"a": [1.0, 2.0, 3.0, 3.5], "b": [2.0, 4.0, 6.0, 7.0]}
    hostile = pd.DataFrame({HOSTILE_FEATURE: points["a"], HOSTILE_TARGET: points["b"]})
    plain = pd.DataFrame({"feature": points["a"], "target": points["b"]})
    outside: list[str] = []
    bad = open_session(browser, share_link(server, hostile, HOSTILE_TARGET, HOSTILE_FEATURE, PHISH), outside)
    good = open_session(browser, share_link(server, plain, "target", "feature", "Shared data"), outside)
    yield bad, good, outside
    bad.context.close()
    good.context.close()


@pytest.mark.parametrize("page_title", PAGES)
def test_hostile_names_in_a_share_link_render_as_text(shared_sessions, page_title):
    hostile_page, plain_page, outside = shared_sessions
    bad = visit(hostile_page, page_title, "hostile")
    good = visit(plain_page, page_title, "plain")
    assert outside == [], f"requests to other hosts: {outside}"
    assert bad["outside_links"] == [] and bad["images"] == []
    assert bad["katex_rules"] == 0 and bad["katex_errors"] == 0
    assert bad["plot_links"] == 0 and bad["plot_styled"] == good["plot_styled"]
    diff = {tag: (bad["counts"].get(tag, 0), good["counts"].get(tag, 0))
            for tag in set(bad["counts"]) | set(good["counts"]) if bad["counts"].get(tag) != good["counts"].get(tag)}
    assert diff == {}, f"elements the hostile names added or removed (hostile, plain): {diff}"
    if page_title in ("Train", "Step", "Race", "Data", "How it works"):
        assert PHISH in bad["text"]  # the name reads exactly as it was given
    if page_title in ("Train", "Step"):
        assert clip(HOSTILE_FEATURE) in bad["x_titles"]  # Plotly shows the tags as text (long names clipped)
    MEASURED.setdefault("hostile_pages_checked", []).append(page_title)


def test_another_site_cannot_frame_the_app(server, browser, tmp_path):
    with urllib.request.urlopen(server, timeout=10) as response:
        headers = response.headers
    assert headers.get("X-Frame-Options") == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in headers.get("Content-Security-Policy", "")
    assert headers.get("Referrer-Policy") == "no-referrer"
    assert_cannot_be_framed(browser, server, tmp_path)


def test_tables_offer_no_csv_export_of_planted_formulas(server, browser):
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [2.0, 4.0, 7.0], "note": ["=cmd|' /C calc'!A0", "@SUM(A1)", "ok"]})
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(share_link(server, df, "y", "x", "planted"))
    page.wait_for_selector(IDLE)
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Data").click()
    expect(page.get_by_role("heading", name="Data", exact=True)).to_be_visible()
    page.wait_for_selector(IDLE)
    # The points chart above the table drawn first: drawn later, it moves the table out from under the mouse.
    page.locator(".live-chart[data-key='data_points'] .main-svg").first.wait_for()
    grid = page.get_by_test_id("stDataFrame").first
    grid.hover()
    toolbar = page.get_by_test_id("stElementToolbar").first
    expect(toolbar).to_be_visible()
    labels = [b.get_attribute("aria-label") or "" for b in toolbar.get_by_role("button").all()]
    assert labels and not any("download" in label.lower() for label in labels), labels
    page.close()


FOCUSED_JS = "(document.activeElement && document.activeElement.id)"


def type_into_first_y_cell(page: Page, text: str) -> None:
    # The points chart above the table draws after the page: wait for it, or the table moves under the click.
    page.locator(".live-chart[data-key='data_points'] .main-svg").first.wait_for()
    # An edit remounts the table (a new editor key) and a rerun can repaint it between the click and the key: find
    # the table again each try, and check that the focused cell really is row 1, column y (glide's accessible cell
    # ids are glide-cell-<col>-<row>, col 0 the row marker) before typing.
    for _ in range(8):
        page.wait_for_selector(IDLE)
        grid = page.get_by_test_id("stDataFrame").first
        grid.scroll_into_view_if_needed()
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 100, box["y"] + 35 + 17)  # row 1, column x (below the 35 px header)
        try:  # the grid has taken the click (on a busy machine it can take seconds) before the key goes to it
            page.wait_for_function(f"() => {FOCUSED_JS} === 'glide-cell-1-0'", timeout=10_000)
            page.keyboard.press("ArrowRight")  # column y
            page.wait_for_function(f"() => {FOCUSED_JS} === 'glide-cell-2-0'", timeout=10_000)
            break
        except PlaywrightTimeoutError:
            continue
    else:
        raise AssertionError("could not focus row 1, column y of the Data table")
    page.keyboard.press("Enter")  # open the cell's editor
    page.wait_for_selector("textarea.gdg-input, input.gdg-input")
    page.keyboard.press("Control+A")
    page.keyboard.type(text, delay=30)
    page.keyboard.press("Enter")
    page.wait_for_timeout(200)
    page.wait_for_selector(IDLE)


Y_CELLS = ("() => Array.from(document.querySelectorAll(\"[data-testid='stDataFrame'] [role=gridcell]\"))"
           ".map(e => e.innerText).filter((_, i) => i % 2 === 1)")



def test_numbers_typed_into_the_table_are_stored_as_typed(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server)
    page.wait_for_selector(IDLE)
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Data").click()
    page.wait_for_selector(IDLE)
    type_into_first_y_cell(page, "1e5")
    page.wait_for_function(Y_CELLS + ".join('|').startsWith('100000|4|6|7')")
    refused = page.get_by_text(re.compile(r"Row 1, column y: '1e400' is beyond double precision"))
    for attempt in range(3):
        # The stored edit remounts the table; on a loaded machine that can land after the next edit was typed into
        # the old one, which then never reaches the server: type it again into the table on screen.
        type_into_first_y_cell(page, "1e400")
        try:
            expect(refused).to_be_visible(timeout=20_000)
            break
        except AssertionError:
            if attempt == 2:
                raise
    page.wait_for_function(Y_CELLS + ".join('|').startsWith('100000|4|6|7')")  # the refused edit changed nothing
    page.screenshot(path=str(ARTIFACTS / "71-table-1e400-refused.png"), full_page=True)
    page.close()


def test_stop_with_live_charts_is_prompt_and_redraws_in_place(server, browser):
    """100,000 rows, batch size 1, a million epochs, live charts on: Stop three times. The figures are
    measured and recorded (no wall-clock bound); the charts must not be remounted by the Stop."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    page.goto(server)
    page.wait_for_selector(IDLE)
    load_noisy_line(page, 100_000)
    set_number(page, "Batch size", "1")
    set_number(page, "Epochs", "1000000")
    latencies = []
    for _ in range(3):
        page.get_by_role("button", name="Train", exact=True).click()
        expect(page.get_by_text(re.compile(r"Stopped by you"))).to_have_count(0)
        expect(page.get_by_text(re.compile(r"\(epoch 1: [\d,]+ / 100,000 rows\)"))).to_be_visible()
        # Tag the live charts' elements: after the Stop they must be the same elements (updated in place).
        page.evaluate("() => document.querySelectorAll('.live-chart').forEach((el, i) => el.__tag = 'chart' + i)")
        page.evaluate("() => document.addEventListener('click', () => { window.__clickedAt = Date.now() / 1000; },"
                      " {capture: true, once: true})")
        page.get_by_test_id("stMain").get_by_role("button", name="Stop", exact=True).click()
        shown_at = page.evaluate("""() => new Promise(done => { const check = () => {
            const app = document.querySelector("[data-testid='stApp']");
            if (app.dataset.testScriptState === 'notRunning' && document.body.innerText.includes('Stopped by you at epoch'))
              done(Date.now() / 1000); else requestAnimationFrame(check); }; check(); })""")
        latencies.append(round(shown_at - page.evaluate("() => window.__clickedAt"), 3))
        tags = page.evaluate("() => Array.from(document.querySelectorAll('.live-chart')).map(el => el.__tag || null)")
        assert tags and all(tags), f"a chart was remounted by the Stop: {tags}"
        said = page.get_by_text(re.compile(r"Stopped by you at epoch")).inner_text()
        counter = page.get_by_text(re.compile(r"Epoch [\d,]+ / 1,000,000")).inner_text()
        assert re.search(r"epoch ([\d,]+);", said).group(1) == re.search(r"Epoch ([\d,]+) /", counter).group(1)
    MEASURED["stop_100k_rows_batch_1_click_to_message_seconds"] = latencies
    MEASURED["stop_100k_rows_batch_1_median_seconds"] = statistics.median(latencies)
    page.screenshot(path=str(ARTIFACTS / "72-stop-live-charts.png"), full_page=True)
    page.close()


def test_no_page_requests_outside_hosts_in_normal_use(server, browser):
    """A plain session on every page, training on the way: the browser only ever talks to the app."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    hosts: Counter = Counter()
    context.on("request", lambda r: hosts.update([urlsplit(r.url).netloc]))
    page = context.new_page()
    page.goto(server)
    page.wait_for_selector(IDLE)
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(re.compile(r"Completed after 100 epochs"))).to_be_visible()
    for title in PAGES[1:]:
        page.get_by_test_id("stSidebarNavLink").filter(has_text=title).click()
        page.wait_for_selector(IDLE)
    context.close()
    assert set(hosts) - {urlsplit(server).netloc, ""} == set(), hosts
    MEASURED["requests_by_host"] = dict(hosts)


def test_another_clients_clear_cache_message_leaves_a_run_going(server, browser):
    """Any browser can send Streamlit's clear_cache message, and Streamlit clears every cache of the process for
    it, session-scoped resources too: each session's run was stopped ("the browser tab was closed"). The app's
    own middleware drops the message, so a run ends only by its own session's actions."""
    import asyncio

    from streamlit.proto.BackMsg_pb2 import BackMsg
    from websockets.asyncio.client import connect

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    page.goto(server)
    page.wait_for_selector(IDLE)
    set_number(page, "Epochs", "400")  # at Watch: about 8 s
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Epoch [1-9]\d* / 400"))).to_be_visible()

    async def attack() -> None:
        ws_url = server.replace("http://", "ws://") + "/_stcore/stream"
        async with connect(ws_url, subprotocols=["streamlit"], origin=server) as ws:
            msg = BackMsg()
            msg.clear_cache = True
            await ws.send(msg.SerializeToString())
            await asyncio.sleep(1.0)  # the server has read it (a websocket delivers in order) before this closes

    run_async(attack())
    expect(page.get_by_text(re.compile(r"Completed after 400 epochs"))).to_be_visible(timeout=120_000)
    expect(page.get_by_text(re.compile("browser tab was closed"))).to_have_count(0)
    page.close()


@pytest.mark.parametrize("name", ["iris.species", "iris\nspecies"], ids=["dot", "newline"])
def test_a_text_column_named_with_a_dot_or_a_newline_trains_with_live_charts(server, browser, name):
    """Such a name once made every live redraw fail (stuck at 'Epoch 2 / 100' while the run finished): the
    formula lost its quotes when the design was applied to new rows."""
    import plotly.express as px

    df = px.data.iris()[["sepal_length", "petal_width", "species"]].rename(columns={"species": name})
    data = base64.urlsafe_b64encode(zlib.compress(df.to_csv(index=False).encode())).decode()
    link = f"{server}/?{urlencode({'data': data, 'name': 'iris', 'y': 'sepal_length', 'x': ['petal_width', name]}, doseq=True)}"
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    page.goto(link)
    page.wait_for_selector(IDLE)
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Epoch [1-9]\d* / 100"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"Completed after 100 epochs"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Epoch 100 / 100"))).to_be_visible()  # the live area kept up to the end
    expect(page.locator(".live-chart[data-key='train_fit'] .scatterlayer .trace").first).to_be_attached()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.close()


def test_a_crafted_widget_value_gets_one_sentence_not_an_error_box(server):
    """A client speaking Streamlit's protocol sends the log-lr slider a number where Streamlit expects one of its
    options: Streamlit's own reading of the value fails before the page runs. The app answers in one sentence."""
    import asyncio

    from devtools.protocol import Tab
    from studio.server import REFUSED_REQUEST

    async def crafted() -> tuple[list[str], list[str]]:
        tab = Tab(server)
        await tab.open()
        errors: list[str] = []
        seen = tab._delta

        def spy(delta) -> None:
            if delta.WhichOneof("type") == "new_element" and delta.new_element.WhichOneof("type") == "exception":
                errors.append(delta.new_element.exception.type)
            seen(delta)

        tab._delta = spy
        tab.set("_w_lr_slider", double_value=-1.0)
        await asyncio.wait_for(tab.rerun(), 60)
        await tab.close()
        return errors, [text for _, text in tab.texts]

    errors, texts = run_async(crafted())
    assert errors == [] and REFUSED_REQUEST in texts, (errors, texts[-3:])
