"""Dark theme, in Chromium: the charts follow Streamlit's theme — the reader's system preference (prefers-color-scheme)
until they pick Light or Dark in the main menu — and no chart is a white box on a dark page. Screenshots of each
case go to test-artifacts/theme-*.png, to look at."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from devtools.server import IDLE, ROOT, free_port, wait_healthy
from studio.theme import STREAMLIT_CHART_COLORS, THEME_JS

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "test-artifacts"
PLOTLY_CHARTS = '[data-testid="stPlotlyChart"] .js-plotly-plot'

# Colours as [r, g, b, a] through the browser's own parser (a canvas), so any CSS colour form compares.
RGBA_JS = """
const __ctx = document.createElement('canvas').getContext('2d');
const rgba = (c) => {
  if (!c || c === 'none') return null;
  __ctx.fillStyle = '#010203'; __ctx.fillStyle = c; const v = __ctx.fillStyle;
  if (v[0] === '#') return [1, 3, 5].map(i => parseInt(v.slice(i, i + 2), 16)).concat(1);
  const n = v.slice(v.indexOf('(') + 1, -1).split(',').map(Number); return [n[0], n[1], n[2], n.length > 3 ? n[3] : 1];
};"""

# Each Plotly chart's painted background (layout, the SVG's own background, the plot area's rect) and its text fills
# (each text's fill with its fill-opacity, which Plotly uses for a colour's alpha).
CHARTS_JS = """(selector) => {""" + RGBA_JS + """
  const fill = (el) => {  // Plotly paints alpha as fill-opacity beside an opaque fill
    const st = getComputedStyle(el), c = rgba(st.fill);
    return c && [c[0], c[1], c[2], c[3] * Number(st.fillOpacity)];
  };
  return [...document.querySelectorAll(selector)].map(g => {
    const L = g._fullLayout, svg = g.querySelector('.main-svg'), rect = g.querySelector('.bglayer rect.bg');
    const texts = [...g.querySelectorAll('.gtitle, .xtick text, .ytick text, .g-xtitle text, .g-ytitle text, .legendtext')]
      .filter(t => t.textContent.trim());
    return {
      title: g.querySelector('.gtitle') ? g.querySelector('.gtitle').textContent : '?',
      paper: rgba(L.paper_bgcolor), plot: rgba(L.plot_bgcolor), font: rgba(L.font.color),
      svg: rgba(getComputedStyle(svg).backgroundColor), rect: rect ? fill(rect) : null,
      texts: texts.map(t => [t.textContent.slice(0, 30), fill(t)]),
    };
  });
}"""

APP_BG_JS = "() => { " + RGBA_JS + " return rgba(getComputedStyle(document.querySelector('[data-testid=stApp]')).backgroundColor); }"


def luminance(c: list[float]) -> float:
    """WCAG relative luminance of [r, g, b, ...] (0..255)."""
    def lin(v: float) -> float:
        v /= 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])


def painted(c: list[float] | None, page_bg: list[float]) -> list[float]:
    """What a (possibly transparent) fill shows over the page: the page's colour where it is transparent."""
    if c is None or c[3] == 0:
        return page_bg
    a = c[3]
    return [a * c[i] + (1 - a) * page_bg[i] for i in range(3)] + [1]


def pixels(png: bytes, skip: dict | None = None) -> tuple[float, float]:
    """(median luminance, share of near-white pixels) of a screenshot, less the box ``skip`` (x, y, width, height
    in the screenshot's pixels) if given."""
    px = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.float64)
    keep = np.ones(px.shape[:2], dtype=bool)
    if skip is not None:
        x0, y0 = max(int(skip["x"]), 0), max(int(skip["y"]), 0)
        keep[y0:y0 + int(np.ceil(skip["height"])) + 1, x0:x0 + int(np.ceil(skip["width"])) + 1] = False
    px = px[keep]
    lum = (0.2126 * px[..., 0] + 0.7152 * px[..., 1] + 0.0722 * px[..., 2]) / 255
    return float(np.median(lum)), float(np.all(px >= 248, axis=-1).mean())


# Where a chart's heatmap paints its own colours (a loss landscape's bands, yellow at the top of Viridis), relative to
# the chart's element: the data, not a background, so not part of the white-box check.
HEATMAP_BOX_JS = """el => { const hm = el.querySelector('.hm image, .heatmaplayer image');
  if (!hm) return null; const a = el.getBoundingClientRect(), b = hm.getBoundingClientRect();
  return {x: b.left - a.left, y: b.top - a.top, width: b.width, height: b.height}; }"""


def check_dark_charts(page: Page, selector: str, name: str) -> list[dict]:
    """Every chart under ``selector``: a dark (or transparent, over the dark page) background, light text, and on
    screen no white box (its pixels: mostly dark, almost none near-white)."""
    page_bg = page.evaluate(APP_BG_JS)
    assert luminance(page_bg) < 0.05, f"the page is not dark: {page_bg}"
    charts = page.evaluate(CHARTS_JS, selector)
    assert charts, f"no chart on {name}"
    for c in charts:
        for part in ("paper", "plot", "svg", "rect"):
            shown = painted(c[part], page_bg)
            assert luminance(shown) < 0.1, f"{c['title']}: {part} background {c[part]} is light on a dark page"
        assert luminance(c["font"]) > 0.3, f"{c['title']}: font colour {c['font']} is dark on a dark page"
        assert c["texts"], f"{c['title']}: no text found"
        dark_text = [(t, f) for t, f in c["texts"] if luminance(f) < 0.3]
        assert not dark_text, f"{c['title']}: dark text on a dark page: {dark_text[:5]}"
    for i, el in enumerate(page.locator(selector).all()):
        median, white = pixels(el.screenshot(), el.evaluate(HEATMAP_BOX_JS))  # (less a heatmap's own colours)
        assert median < 0.25 and white < 0.01, f"{name} chart {i}: median luminance {median:.2f}, {white:.1%} near-white"
    return charts


def check_light_charts(page: Page, selector: str, name: str) -> None:
    page_bg = page.evaluate(APP_BG_JS)
    assert luminance(page_bg) > 0.9, f"the page is not light: {page_bg}"
    charts = page.evaluate(CHARTS_JS, selector)
    assert charts, f"no chart on {name}"
    for c in charts:
        for part in ("paper", "plot", "svg", "rect"):
            assert luminance(painted(c[part], page_bg)) > 0.8, f"{c['title']}: {part} background {c[part]} is dark"
        light_text = [(t, f) for t, f in c["texts"] if luminance(f) > 0.6]
        assert c["texts"] and not light_text, f"{c['title']}: light text on a light page: {light_text[:5]}"
    for i, el in enumerate(page.locator(selector).all()):
        median, _ = pixels(el.screenshot())
        assert median > 0.8, f"{name} chart {i}: median luminance {median:.2f} on a light page"


def open_page(browser, url: str, scheme: str, path: str = "") -> tuple:
    context = browser.new_context(color_scheme=scheme, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url + path)
    page.wait_for_selector(IDLE)
    return context, page


def test_a_dark_system_with_no_choice_made_gets_dark_results_charts(browser, server):
    """A reader whose system is dark opens Results (the default data loaded): a dark page, and each
    st.plotly_chart figure on it transparent over it with light text."""
    context, page = open_page(browser, server, "dark", "/results")
    expect(page.get_by_role("heading", name="Results", exact=True)).to_be_visible()
    expect(page.locator(PLOTLY_CHARTS + " .main-svg").first).to_be_attached()
    page.wait_for_timeout(500)  # Plotly's last layout pass
    assert page.evaluate("() => localStorage.getItem('stActiveTheme-/-v2')") in (None, '"System"')  # no choice made
    charts = check_dark_charts(page, PLOTLY_CHARTS, "Results")
    # Streamlit's dark chart colours, as studio/theme.py spells them out for the live charts.
    assert luminance(charts[0]["font"]) == pytest.approx(luminance([0xE6, 0xEA, 0xF1]), abs=1e-3)
    page.screenshot(path=str(ARTIFACTS / "theme-dark-results.png"), full_page=True)
    context.close()


def test_a_light_system_keeps_the_results_charts_light(browser, server):
    context, page = open_page(browser, server, "light", "/results")
    expect(page.locator(PLOTLY_CHARTS + " .main-svg").first).to_be_attached()
    page.wait_for_timeout(500)
    check_light_charts(page, PLOTLY_CHARTS, "Results")
    page.screenshot(path=str(ARTIFACTS / "theme-light-results.png"), full_page=True)
    context.close()


LIVE = ".live-chart[data-key='{}']"
LIVE_KEYS = ("train_fit", "train_loss", "train_land")

# THEME_JS as the live chart will use it: the chart's current figure through withTheme, drawn with Plotly.react.
THEMED_REDRAW_JS = "(async () => {" + THEME_JS + """
  const out = {};
  const lines = (div) => ['.gridlayer path', '.minor-gridlayer path', '.zerolinelayer path', 'path.xlines-above',
                          'path.ylines-above', '.colorbar'].map(s => div.querySelectorAll(s).length).join(',');
  for (const key of %s) {
    const div = document.querySelector(`.live-chart[data-key='${key}']`);
    const before = lines(div);
    const fig = withTheme({data: div.data, layout: div.layout}, div);
    await window.Plotly.react(div, fig.data, fig.layout);
    out[key] = {key: themeKey(div), dark: themeColors(div).dark, relayout: Object.keys(themeRelayout(div, div.layout)).length,
                before, after: lines(div)};
  }
  return out;
})()"""


def test_the_train_pages_live_charts_are_no_white_box_and_theme_js_themes_them(browser, server):
    """The live charts (a components-v2 component drawing with plotly.js, which Streamlit does not theme): on a dark
    page their transparent background shows the page; redrawn through THEME_JS's withTheme they take the theme's
    text and grid colours."""
    context, page = open_page(browser, server, "dark")
    for key in LIVE_KEYS:
        expect(page.locator(LIVE.format(key) + " .main-svg").first).to_be_attached()
    page.wait_for_timeout(500)
    selector = ", ".join(LIVE.format(k) for k in LIVE_KEYS)
    page.screenshot(path=str(ARTIFACTS / "theme-dark-train-as-sent.png"), full_page=True)
    for c in page.evaluate(CHARTS_JS, selector):  # as charts.py sends them: nothing light painted
        for part in ("paper", "plot", "svg", "rect"):
            assert c[part] is None or c[part][3] == 0 or luminance(c[part]) < 0.1, (c["title"], part, c[part])
    result = page.evaluate(THEMED_REDRAW_JS % list(LIVE_KEYS))
    assert all(r["dark"] and r["relayout"] > 10 for r in result.values()), result
    assert all(r["before"] == r["after"] for r in result.values()), f"theming drew other lines: {result}"  # colours only
    charts = check_dark_charts(page, selector, "Train")
    dark_axis = STREAMLIT_CHART_COLORS["dark"]["axis"]
    assert all(luminance(c["font"]) == pytest.approx(luminance([int(dark_axis[i:i + 2], 16) for i in (1, 3, 5)]), abs=1e-3)
               for c in charts)
    page.screenshot(path=str(ARTIFACTS / "theme-dark-train-themed.png"), full_page=True)
    context.close()


# A page of its own with the studio's config: layout.theme_menu(), one chart of studio/charts.py, and a
# components-v2 component that runs THEME_JS and records what it reports.
HARNESS = '''
import numpy as np
import streamlit as st
from studio import charts, layout, theme

st.set_page_config(page_title="theme", layout="wide")
layout.theme_menu()
sweep = {"degree": np.arange(1, 7), "training MSE": np.array([9.0, 4, 2, 1.5, 1.2, 1.0]),
         "validation MSE": np.array([9.5, 4.5, 2.4, 2.2, 2.6, 3.1])}
st.plotly_chart(charts.degree_figure(sweep, 2), key="sweep", width="stretch")
PROBE = theme.with_theme_js("""
export default function (component) {
  const { parentElement } = component;
  const p = window.__themeProbe || (window.__themeProbe = {calls: 0, changes: []});
  let box = parentElement.querySelector(".theme-probe");
  if (!box) { box = document.createElement("div"); box.className = "theme-probe"; parentElement.appendChild(box); }
  p.calls += 1;
  p.colors = themeColors(box);
  p.layout = themeLayout(box, {xaxis2: {}, coloraxis: {}});
  p.relayout = themeRelayout(box);
  if (!p.unwatch) p.unwatch = onThemeChange(box, (patch, key) => p.changes.push({key, font: patch.font.color}));
  box.textContent = "theme: " + themeKey(box);
}
""")
st.components.v2.component("theme_probe", html="<div></div>", js=PROBE, isolate_styles=False)(
    data={}, key="probe", height="content")
'''


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    ARTIFACTS.mkdir(exist_ok=True)
    script = tmp_path_factory.mktemp("theme") / "harness.py"
    script.write_text(HARNESS)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with open(ARTIFACTS / "theme-harness.log", "w") as log:
        proc = subprocess.Popen(  # the studio's .streamlit/config.toml: Streamlit reads the working directory's
            [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true", "--server.port",
             str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            assert wait_healthy(url, 90, proc), Path(log.name).read_text()[-2000:]
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def probe(page: Page) -> dict:
    return page.evaluate("() => { const p = window.__themeProbe; return p && {calls: p.calls, colors: p.colors, "
                         "layout: p.layout, relayout: p.relayout, changes: p.changes} }")


def choose(page: Page, label: str) -> None:
    """Pick ``label`` (System, Light, Dark) in Streamlit's main menu, as a reader does."""
    item = page.get_by_test_id(f"stMainMenuItem-theme-{label}")
    if not item.is_visible():
        page.get_by_test_id("stMainMenuButton").click()
    item.click()
    expect(item).to_have_attribute("aria-checked", "true")
    page.keyboard.press("Escape")


def test_the_main_menu_offers_system_light_dark_and_charts_and_theme_js_follow_the_choice(browser, harness):
    context, page = open_page(browser, harness, "dark")
    page.wait_for_function("() => window.__themeProbe && window.__themeProbe.calls > 0")
    expect(page.locator(PLOTLY_CHARTS + " .main-svg").first).to_be_attached()
    page.wait_for_timeout(500)
    check_dark_charts(page, PLOTLY_CHARTS, "harness, system dark")
    p = probe(page)
    assert p["colors"]["dark"] and p["colors"]["primary"].lower() == "#e4572e"  # config's [theme.dark]
    assert p["layout"]["paper_bgcolor"] == "rgba(0,0,0,0)" and p["layout"]["font"]["color"] == "#e6eaf1"
    assert p["layout"]["xaxis2"]["gridcolor"] == "#31333F" and p["layout"]["coloraxis"]["colorbar"]["tickfont"]
    assert p["relayout"]["xaxis.tickfont.color"] == "#e6eaf1" and p["relayout"]["hoverlabel.bgcolor"]

    page.get_by_test_id("stMainMenuButton").click()
    for label, checked in (("System", "true"), ("Light", "false"), ("Dark", "false")):
        expect(page.get_by_test_id(f"stMainMenuItem-theme-{label}")).to_have_attribute("aria-checked", checked)
    page.screenshot(path=str(ARTIFACTS / "theme-menu.png"))
    page.keyboard.press("Escape")

    calls = p["calls"]
    choose(page, "Light")  # on a dark system
    page.wait_for_function("n => window.__themeProbe.calls > n", arg=calls)  # Streamlit ran the component again
    page.wait_for_function("() => window.__themeProbe.changes.length >= 1")  # and onThemeChange saw it
    page.wait_for_timeout(500)
    check_light_charts(page, PLOTLY_CHARTS, "harness, Light chosen")
    p = probe(page)
    assert not p["colors"]["dark"] and p["layout"]["font"]["color"] == "#808495" and p["changes"][-1]["font"] == "#808495"
    assert page.evaluate("() => localStorage.getItem('stActiveTheme-/-v2')") == '"Light"'
    page.screenshot(path=str(ARTIFACTS / "theme-chose-light-on-dark-system.png"))

    page.reload()  # the choice is kept
    page.wait_for_selector(IDLE)
    page.wait_for_function("() => window.__themeProbe && window.__themeProbe.calls > 0")
    expect(page.locator(PLOTLY_CHARTS + " .main-svg").first).to_be_attached()
    page.wait_for_timeout(500)
    check_light_charts(page, PLOTLY_CHARTS, "harness, Light kept after a reload")

    choose(page, "System")  # back to the system's dark
    page.wait_for_function("() => window.__themeProbe.colors.dark === true")
    page.wait_for_timeout(500)
    check_dark_charts(page, PLOTLY_CHARTS, "harness, System chosen")

    page.emulate_media(color_scheme="light")  # the system turns light while System is chosen
    page.wait_for_function("() => window.__themeProbe.colors.dark === false")
    page.wait_for_function("() => window.__themeProbe.changes.some(c => c.font === '#808495')")
    page.wait_for_timeout(500)
    check_light_charts(page, PLOTLY_CHARTS, "harness, system turned light")

    choose(page, "Dark")  # on a light system
    page.wait_for_function("() => window.__themeProbe.colors.dark === true")
    page.wait_for_timeout(500)
    check_dark_charts(page, PLOTLY_CHARTS, "harness, Dark chosen on a light system")
    page.screenshot(path=str(ARTIFACTS / "theme-chose-dark-on-light-system.png"))
    context.close()
