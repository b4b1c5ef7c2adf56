"""Watching a run in a real browser: paced, smooth live charts (measured every animation frame), Pause →
change lr → Resume, the replay slider, the animated HTML export played offline, and points added and deleted
by clicking the charts."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from devtools.server import IDLE, PLOT_POINT_JS, ROOT, box_select, set_number, set_speed
from linreg_core import TrainConfig, Trainer, build_design, fit_exact_design

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "test-artifacts"
TUTORIAL = pd.DataFrame({"x": [1.0, 2.0, 3.0, 3.5], "y": [2.0, 4.0, 6.0, 7.0]})  # the page's tutorial data
MEASURED: dict[str, object] = {}

# Sampled every animation frame: what the loss and fit charts show (their drawn lines), whether a chart that
# had been painted is missing or blank, and whether a chart element was replaced (remounted).
PROBE_JS = r"""() => {
  const keys = ['train_loss', 'train_fit'];
  const probe = window.__probe = {states: [], blank: 0, frames: 0, remounts: 0, painted: {}, nodes: {}, last: null};
  const tick = () => {
    probe.frames++;
    const live = document.querySelector('[data-testid=liveStatus]');
    const early = live && !/^Epoch ([2-9]|\d\d)/.test(live.textContent);  // the loss curve starts at epoch 1
    const sig = keys.map(k => {
      const div = document.querySelector(`.live-chart[data-key='${k}']`);
      // Plotly's lines, and the moving ones the studio draws over them while a run trains (path.linreg-live).
      const lines = div ? [...div.querySelectorAll('.scatterlayer path.js-line, path.linreg-live')].map(e => e.getAttribute('d'))
                            .filter(d => d) : [];
      if (early && k === 'train_loss' && !lines.length) return 'no loss yet';
      if (!div || !lines.length) { if (probe.painted[k]) probe.blank++; return 'none'; }
      if (probe.nodes[k] && probe.nodes[k] !== div) probe.remounts++;
      probe.nodes[k] = div; probe.painted[k] = true;
      return lines.join('|');
    }).join('#');
    if (sig !== probe.last && !sig.includes('none')) {
      const st = document.querySelector('[data-testid=liveStatus]');
      const m = st && /^Epoch ([\d,]+)/.exec(st.textContent);
      probe.states.push(performance.now()); probe.last = sig;
      if (m && probe.firstEpoch === undefined) probe.firstEpoch = Number(m[1].replace(/,/g, ''));
    }
    probe.raf = requestAnimationFrame(tick);
  };
  tick();
}"""
PROBE_RESULT_JS = """() => { const p = window.__probe; cancelAnimationFrame(p.raf);
  return {states: p.states, blank: p.blank, frames: p.frames, remounts: p.remounts, firstEpoch: p.firstEpoch}; }"""


# While the replay slider is scrubbed: each input event's settle (its timestamp to the next animation frame, by when
# the browser has drawn it) and every change of the app's script state (a rerun would show as "running").
# Per chart (fit, landscape): [whether every trace the replay's layers draw is emptied (a blank point each), whether
# each of them that has a legend entry is in the drawn legend].
MOVING_TRACES_JS = """() => ['train_fit', 'train_land'].map(k => {
    const d = document.querySelector(`.live-chart[data-key='${k}']`);
    const moving = d._fullData.filter(t => ['gradient descent', 'optimizer path', 'now'].includes(t.name));
    const legend = [...d.querySelectorAll('.legend .legendtext')].map(e => e.textContent);
    return [moving.length > 0 && moving.every(t => Array.from(t.x).every(v => v === null)),
            moving.filter(t => t.showlegend).every(t => legend.includes(t.name))]; })"""
SCRUB_PROBE_JS = r"""() => {
  const app = document.querySelector('[data-testid=stApp]');
  const probe = window.__scrub = {settle: [], runs: 0, states: []};
  probe.observer = new MutationObserver(() => {
    const state = app.getAttribute('data-test-script-state');
    probe.states.push(state);
    if (state === 'running') probe.runs++;
  });
  probe.observer.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  document.querySelector('[data-testid=liveReplay] input[type=range]').addEventListener('input', (e) => {
    const t0 = e.timeStamp;
    requestAnimationFrame(() => probe.settle.push(performance.now() - t0));
  });
}"""


@pytest.fixture
def page(server, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    pg.goto(server)
    pg.wait_for_selector(IDLE)
    expect(pg.locator(".live-chart[data-key='train_fit'] .scatterlayer path.js-line").first).to_be_attached()
    yield pg
    context.close()


def finished(page: Page, text: str = r"Completed after") -> None:
    expect(page.get_by_text(re.compile(text))).to_be_visible(timeout=120_000)
    page.wait_for_selector(IDLE)


def status(page: Page) -> str:
    return page.get_by_test_id("stMarkdown").filter(has_text=re.compile(r"Epoch|Replay|Paused")).first.inner_text()


def test_the_default_run_plays_in_many_states_and_ends_on_the_tutorial_loss(page: Page):
    """Watch pace (the default), the tutorial's 100 epochs: the charts move through at least ten distinct
    states spread over at least 1.5 s, no painted chart ever goes blank, and the run ends where the tutorial does."""
    page.evaluate(PROBE_JS)
    page.get_by_role("button", name="Train", exact=True).click()
    page.mouse.move(150, 990)  # over the sidebar: no tooltip or chart toolbar in the picture
    page.wait_for_timeout(1200)  # a screenshot mid-run, for the README and for looking at
    page.screenshot(path=str(ARTIFACTS / "80-train-watch-mid-run.png"))
    finished(page, r"Completed after 100 epochs")
    probe = page.evaluate(PROBE_RESULT_JS)
    states = probe["states"]
    span = (states[-1] - states[0]) / 1000
    MEASURED["watch_tutorial_states"] = len(states)
    MEASURED["watch_tutorial_span_seconds"] = round(span, 2)
    MEASURED["watch_tutorial_states_per_second"] = round((len(states) - 1) / span, 1) if span else None
    MEASURED["watch_tutorial_blank_frames"] = probe["blank"]
    MEASURED["watch_tutorial_first_epoch_shown"] = probe["firstEpoch"]
    MEASURED["watch_tutorial_longest_still_ms"] = round(max(b - a for a, b in zip(states, states[1:])))
    assert len(states) >= 10 and span >= 1.5, (len(states), span)
    assert probe["firstEpoch"] == 0, probe["firstEpoch"]  # the run is seen from its initial line
    assert probe["blank"] == 0 and probe["remounts"] == 0, probe
    assert "loss 0.108823" in status(page)
    page.screenshot(path=str(ARTIFACTS / "81-train-watch-done.png"))


def test_a_100000_epoch_run_redraws_in_place_without_a_blank_frame(page: Page):
    set_number(page, "Epochs", "100000")
    set_speed(page, "Fast")  # about six seconds for 100,000 epochs
    page.evaluate(PROBE_JS)
    page.get_by_role("button", name="Train", exact=True).click()
    finished(page, r"Completed after 100,000 epochs")
    probe = page.evaluate(PROBE_RESULT_JS)
    states = probe["states"]
    span = (states[-1] - states[0]) / 1000
    rate = (len(states) - 1) / span
    MEASURED["fast_100k_states_per_second"] = round(rate, 1)
    MEASURED["fast_100k_blank_frames"] = probe["blank"]
    MEASURED["fast_100k_frames_sampled"] = probe["frames"]
    MEASURED["fast_100k_remounts"] = probe["remounts"]
    assert probe["blank"] == 0 and probe["remounts"] == 0, probe
    assert rate >= 3, rate


def test_pause_change_lr_and_resume_marks_the_change(page: Page):
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Epoch [1-9]\d* / 100"))).to_be_visible()
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_text(re.compile(r"Paused at epoch \d+\. Resume goes on"))).to_be_visible()
    page.wait_for_selector(IDLE)
    paused_at = int(re.search(r"Paused at epoch (\d+) /", status(page)).group(1))
    set_number(page, "Learning rate", "0.05")
    expect(page.get_by_text("Resume will apply: lr 0.01 → 0.05.")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "82-train-paused.png"))
    page.get_by_role("button", name="Resume").click()
    finished(page, r"Completed after 100 epochs")
    mark = page.locator(".live-chart[data-key='train_loss'] .annotation-text", has_text="lr 0.01 → 0.05")
    expect(mark).to_be_visible()
    MEASURED["paused_at_epoch"] = paused_at
    page.screenshot(path=str(ARTIFACTS / "83-train-resumed-with-new-lr.png"))


def test_replay_and_the_animated_export_that_plays_offline(page: Page, browser, tmp_path):
    set_speed(page, "As fast as possible")
    page.get_by_role("button", name="Train", exact=True).click()
    finished(page, r"Completed after 100 epochs")
    # A run this short ends while its first redraw is being built: every chart must still end on the final model
    # (the landscape once kept a figure of epoch 6 under the final state's name).
    # (Plotly draws the final figures after the page's run has ended: read until it has, for up to 30 s.)
    said, now = status(page), None
    for _ in range(300):
        now = page.evaluate("""() => { const d = document.querySelector(".live-chart[data-key='train_land']");
            const t = d && d._fullData && d._fullData.find(t => t.name === 'now');
            return t ? [Number(t.x[0]), Number(t.y[0])] : null; }""")
        if now and f"intercept {now[0]:.4g}, x {now[1]:.4g}" in said:
            break
        page.wait_for_timeout(100)
    assert now and f"intercept {now[0]:.4g}, x {now[1]:.4g}" in said, (now, said)
    # The replay is the browser's (studio/live_chart.js): the slider moves the same layers that draw a run as it
    # trains, and the status line, with no script rerun. Counted from here: every change of the app's script state.
    page.evaluate(SCRUB_PROBE_JS)
    fit_line = ".live-chart[data-key='train_fit'] .scatterlayer .trace:last-child path.js-line"
    final_line = page.locator(fit_line).get_attribute("d")
    layer = ".live-chart[data-key='{}'] path.linreg-live[data-layer='{}']"
    fit_layer, marker = layer.format("train_fit", "gd"), layer.format("train_loss", "marker")
    handle = page.get_by_test_id("liveReplay").get_by_role("slider", name="Replay: scrub through the epochs")
    expect(handle).to_have_attribute("aria-valuetext", "epoch 100")
    handle.focus()
    page.keyboard.press("Home")
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    live = page.get_by_test_id("liveStatus")
    design = build_design(TUTORIAL, "y", ["x"])
    tr, exact = Trainer(design, TrainConfig(device="auto")), fit_exact_design(design)
    losses = tr.run(10).loss_history
    b, (w,) = tr.params()
    gap = max(abs(b - exact.intercept), abs(w - exact.coef[0]))  # as train.py's status_line says it
    expect(live).to_have_text(re.compile(rf"^Replay: epoch 10 of 100\s+·\s+loss {losses[9]:.6g}\s+·\s+intercept {b:.4g}, "
                                         rf"x {w:.4g}\s+·\s+gap to exact {gap:.3g}$"))
    expect(page.get_by_test_id("stMarkdown").filter(has_text=re.compile(r"^Epoch 100 / 100"))).to_be_hidden()
    at10 = {"line": page.locator(fit_layer).get_attribute("d"), "marker": page.locator(marker).get_attribute("d")}
    assert at10["line"] and at10["marker"] and at10["line"] != final_line
    # The static gradient-descent line is emptied while replaying (the layer draws it); the landscape's path too. Their
    # legend entries stay (a hidden trace would leave the legend, and the reader with no key to the moving line).
    assert page.evaluate(MOVING_TRACES_JS) == [[True, True]] * 2
    page.keyboard.press("ArrowLeft")
    expect(live).to_have_text(re.compile(rf"^Replay: epoch 9 of 100\s+·\s+loss {losses[8]:.6g}\s+·"))
    assert page.locator(fit_layer).get_attribute("d") != at10["line"]
    assert page.locator(marker).get_attribute("d") != at10["marker"]  # the marker moved to epoch 9
    for _ in range(30):  # a quick scrub, every key an input event
        page.keyboard.press("ArrowRight")
    expect(live).to_have_text(re.compile(r"^Replay: epoch 39 of 100\s"))
    page.mouse.move(150, 990)
    live.scroll_into_view_if_needed()  # the status line and the charts in the picture
    page.locator(".st-key-train_head").evaluate("(el) => el.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(ARTIFACTS / "84-train-replay.png"))
    page.keyboard.press("End")  # the last epoch: the page as after the run
    expect(page.get_by_test_id("stMarkdown").filter(has_text=re.compile(r"^Epoch 100 / 100"))).to_be_visible()
    expect(live).to_be_hidden()
    assert page.locator(fit_layer).get_attribute("d") == "" and page.locator(fit_line).get_attribute("d") == final_line
    assert page.evaluate(MOVING_TRACES_JS) == [[False, True]] * 2  # their points back, the legend as it was
    probe = page.evaluate("() => { window.__scrub.observer.disconnect(); return window.__scrub; }")
    settle = sorted(probe["settle"])
    MEASURED["replay_steps"] = len(settle)
    MEASURED["replay_step_settle_ms_median"] = round(settle[len(settle) // 2], 1)
    MEASURED["replay_step_settle_ms_max"] = round(settle[-1], 1)
    MEASURED["replay_script_reruns"] = probe["runs"]
    assert len(settle) == 1 + 10 + 1 + 30 + 1, settle  # Home, 10 →, 1 ←, 30 →, End: an input event each
    assert probe["runs"] == 0 and probe["states"] == [], probe  # no rerun: the server heard nothing

    with page.expect_download() as info:
        page.get_by_role("button", name="Download this run as an animated HTML file").click()
    path = tmp_path / "run.html"
    info.value.save_as(path)
    # Offline: any request that is not the file itself fails.
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    requests: list[str] = []
    context.route(re.compile(r"^(?!file:).*"), lambda route: (requests.append(route.request.url), route.abort()))
    film = context.new_page()
    film.goto(path.as_uri())
    # The same charts as the page's replay, drawn by the same code: the final look first, then Play from epoch 0.
    film.wait_for_function("() => document.querySelectorAll('.live-chart.js-plotly-plot').length === 3")
    line = film.get_by_test_id("liveStatus")
    expect(line).to_contain_text("Epoch 100 / 100")
    expect(line).to_contain_text("loss 0.108823")  # the tutorial's last loss, as the page said it
    film.get_by_test_id("replayPlay").click()
    film.wait_for_function("() => { const m = document.querySelector('[data-testid=liveStatus]').innerText"
                           ".match(/Epoch ([\\d,]+) \\//); return m && +m[1].replace(/,/g, '') > 0; }")
    moving = film.evaluate("() => (document.querySelector(\".live-chart[data-key=fit] path.linreg-live[data-layer=gd]\")"
                           " || {getAttribute: () => ''}).getAttribute('d')")
    assert moving, "the fitted line is drawn by the replay's layer while it plays"
    film.screenshot(path=str(ARTIFACTS / "85-exported-animation.png"))
    expect(line).to_contain_text("Epoch 100 / 100", timeout=20_000)  # played to the end
    assert requests == []
    context.close()


EXACT_LINE = ".scatterlayer .trace path.js-line"


def test_click_adds_a_point_and_a_box_deletes_points(page: Page):
    page.get_by_test_id("stCheckbox").filter(has_text="Edit points on the chart").click()
    page.wait_for_selector(IDLE)
    chart = "train_fit"
    # The script is done before the chart has been redrawn in edit mode: a click before that is a plain click.
    page.wait_for_selector(f".live-chart[data-key='{chart}'][data-edit='on']")
    before = page.locator(f".live-chart[data-key='{chart}'] {EXACT_LINE}").first.get_attribute("d")
    x, y = page.evaluate(PLOT_POINT_JS, [chart, 1.5, 6.0])
    page.mouse.click(x, y)
    expect(page.get_by_text(re.compile(r"Added the point \(x = 1\.[45]\d*, y = [56][\d.]*\): 5 points now"))).to_be_visible()
    page.wait_for_selector(IDLE)
    expect(page.get_by_text(re.compile(r"· 5 rows ·"))).to_be_visible()
    page.wait_for_function(f"(d) => document.querySelector(\".live-chart[data-key='{chart}'] {EXACT_LINE}\")"
                           ".getAttribute('d') !== d", arg=before)  # the exact fit moved to the new point
    page.screenshot(path=str(ARTIFACTS / "86-point-added.png"))
    # A box around the points at x = 1 and x = 1.5 (drawn from below-left to above-right) deletes both.
    box_select(page, chart, (0.9, 1.9), (1.7, 6.5))
    expect(page.get_by_text("Deleted 2 points: 3 left.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"· 3 rows ·"))).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "87-points-deleted.png"))
    # The Data page shows the same points, and a click there adds one too.
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Data").click()
    page.wait_for_selector(IDLE)
    expect(page.locator(".live-chart[data-key='data_points'] .scatterlayer .point")).to_have_count(3)
    page.wait_for_selector(".live-chart[data-key='data_points'][data-edit='on']")
    x, y = page.evaluate(PLOT_POINT_JS, ["data_points", 2.5, 5.0])
    page.mouse.click(x, y)
    expect(page.get_by_text(re.compile(r"Added the point .*: 4 points now"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"4 rows × 2 columns"))).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "88-data-points.png"))


LOSS_X_RANGE_JS = """() => document.querySelector(".live-chart[data-key='train_loss']")._fullLayout.xaxis.range"""


def test_every_new_run_draws_the_loss_over_its_own_epochs(page: Page):
    """Train twice, then after deleting a point, then with batch size 1: each completed run's loss chart spans
    all its epochs (the second run once kept the first one's early axis, epochs -1…6)."""
    def train_and_check(what: str) -> None:
        # Reset first: the last run's "Completed after 100 epochs" must not stand for this one's.
        page.get_by_role("button", name="Reset", exact=True).click()
        expect(page.get_by_text("to fit the line by gradient descent")).to_be_visible()
        page.wait_for_selector(IDLE)
        page.get_by_role("button", name="Train", exact=True).click()
        finished(page, r"Completed after 100 epochs")
        page.wait_for_function(f"() => {{ const r = ({LOSS_X_RANGE_JS})(); return r[0] <= 1 && r[1] >= 100; }}")
        lo, hi = page.evaluate(LOSS_X_RANGE_JS)
        MEASURED[f"loss_axis_after_{what}"] = [lo, hi]
        assert lo <= 1 and 100 <= hi <= 110, (what, lo, hi)

    set_speed(page, "As fast as possible")
    train_and_check("first_run")
    train_and_check("second_run")
    page.get_by_test_id("stCheckbox").filter(has_text="Edit points on the chart").click()
    page.wait_for_selector(".live-chart[data-key='train_fit'][data-edit='on']")
    box_select(page, "train_fit", (0.9, 1.9), (1.1, 2.1), steps=8)
    expect(page.get_by_text("Deleted 1 point: 3 left.")).to_be_visible()
    page.wait_for_selector(IDLE)
    train_and_check("a_deleted_point")
    set_number(page, "Batch size", "1")
    train_and_check("batch_size_1")
    page.screenshot(path=str(ARTIFACTS / "89-second-run-axes.png"))


SELECTION_JS = """() => { const d = document.querySelector(".live-chart[data-key='train_fit']");
  return {boxes: (d._fullLayout.selections || []).length, outlines: d.querySelectorAll('.select-outline').length,
          greyed: d.data.filter(t => Array.isArray(t.selectedpoints)).length}; }"""
TICKS_JS = """() => [...document.querySelectorAll('.live-chart .xtick text, .live-chart .ytick text')].map(e => e.textContent)"""


def test_a_box_delete_clears_its_selection_and_every_tick_is_short(page: Page):
    page.get_by_role("button", name="Train", exact=True).click()
    finished(page, r"Completed after 100 epochs")
    page.get_by_test_id("stCheckbox").filter(has_text="Edit points on the chart").click()
    page.wait_for_selector(".live-chart[data-key='train_fit'][data-edit='on']")
    box_select(page, "train_fit", (0.9, 1.9), (2.1, 4.5))
    expect(page.get_by_text("Deleted 2 points: 2 left.")).to_be_visible()
    page.wait_for_selector(IDLE)
    # The remaining points are drawn plainly (not greyed as unselected) and the box is gone.
    page.wait_for_function(f"() => {{ const s = ({SELECTION_JS})(); return !s.boxes && !s.outlines && !s.greyed; }}")
    ticks = page.evaluate(TICKS_JS)
    assert ticks and all(len(t) <= 8 for t in ticks), ticks  # no raw 0.11768847400108173318
    page.screenshot(path=str(ARTIFACTS / "89-box-deleted.png"))


# Between two redraws (the script idle: the last redraw's messages have all arrived), read the epoch the status line
# shows and press Pause in the same task, so no redraw can come between what is read and the press.
PRESS_PAUSE_BETWEEN_REDRAWS_JS = """() => new Promise(resolve => {
  const tick = () => {
    const idle = document.querySelector("[data-testid='stApp'][data-test-script-state='notRunning']");
    const live = document.querySelector('[data-testid=liveStatus]');  // the status line the browser draws
    const text = live && /^Epoch \\d+ \\//.test(live.innerText) ? live.innerText : null;
    const button = [...document.querySelectorAll('[data-testid=stButton] button')]
      .find(b => b.innerText.trim().endsWith('Pause'));
    if (idle && text && button && !button.disabled) {
      button.focus();
      button.click();
      resolve(Number(text.match(/^Epoch (\\d+)/)[1]));
    } else requestAnimationFrame(tick);
  };
  tick();
})"""


def test_pause_stops_at_the_epoch_on_the_page_and_keeps_the_focus(page: Page):
    """At Watch the loop runs a redraw or two ahead of the page (more on a busy machine): Pause takes the run
    back to the epoch the page shows, so it pauses where the learner pressed it, and the button keeps the focus."""
    shown_and_paused = []
    # 2,000 epochs, not the tutorial's 100: with the whole suite loading the machine, a 100-epoch Watch run could end
    # before the press reached the server, and there was nothing left to pause (one full run).
    set_number(page, "Epochs", "2000")
    for _ in range(3):
        page.get_by_role("button", name="Train", exact=True).click()
        expect(page.get_by_text("Stopped by you")).to_have_count(0)  # the new run's page, not the last one's
        expect(page.get_by_test_id("liveStatus")).to_have_text(re.compile(r"^Epoch [1-9]\d* / 2,000"))
        shown = page.evaluate(PRESS_PAUSE_BETWEEN_REDRAWS_JS)
        expect(page.get_by_text(re.compile(r"Paused at epoch \d+\. Resume goes on"))).to_be_visible()
        paused = int(re.search(r"Paused at epoch (\d+) /", status(page)).group(1))
        shown_and_paused.append((shown, paused))
        focused = page.evaluate("() => document.activeElement.innerText")
        assert "Resume" in focused, focused  # the same button, now Resume, still has the keyboard focus
        assert shown is not None and 0 <= paused - shown <= 1, (shown, paused)
        page.keyboard.press("Enter")  # Resume from the keyboard
        expect(page.get_by_role("button", name="Pause")).to_be_enabled()
        page.get_by_test_id("stMain").get_by_role("button", name="Stop", exact=True).click()
        expect(page.get_by_text(re.compile(r"Stopped by you at epoch \d+"))).to_be_visible()
        page.wait_for_selector(IDLE)
    MEASURED["pause_shown_vs_paused_epochs"] = shown_and_paused


# From the moment Train is pressed: every status line the browser draws that a person can see, as its epoch.
SHOWN_STATUS_JS = """() => { window.__shown = []; const tick = () => {
    const live = document.querySelector('[data-testid=liveStatus]');
    const head = live && live.querySelector('.head');
    const m = head && live.offsetParent !== null && getComputedStyle(live.firstChild).visibility !== 'hidden'
      && /^Epoch ([\\d,]+) \\//.exec(head.textContent);
    if (m) window.__shown.push(Number(m[1].replace(/,/g, '')));
    if (!window.__shownDone) requestAnimationFrame(tick);
  }; tick(); }"""


def test_train_again_after_stop_shows_the_new_run_and_none_of_the_old(page: Page):
    """Train, Stop, Train again at once (a learner trying again): the new run's status line is on screen while it
    trains — it was hidden once, by the replay of the stopped run — and it never shows the stopped run's epoch."""
    set_number(page, "Epochs", "2000")
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_test_id("liveStatus")).to_have_text(re.compile(r"^Epoch ([2-9]\d|\d{3,}) / 2,000"))
    page.get_by_test_id("stMain").get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_text(re.compile(r"Stopped by you at epoch \d+"))).to_be_visible()
    stopped = int(re.search(r"Stopped by you at epoch (\d+)", page.get_by_text(re.compile("Stopped by you")).first.inner_text()).group(1))
    page.wait_for_selector(IDLE)
    page.evaluate(SHOWN_STATUS_JS)
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_test_id("liveStatus")).to_be_visible()
    expect(page.get_by_test_id("liveStatus")).to_have_text(re.compile(r"^Epoch [1-9]\d* / 2,000"))
    shown = page.evaluate("() => { window.__shownDone = true; return window.__shown; }")
    assert shown and shown[0] < stopped, (shown[:5], stopped)  # the first line seen is the new run's, from its start
    page.get_by_test_id("stMain").get_by_role("button", name="Stop", exact=True).click()
    page.wait_for_selector(IDLE)
