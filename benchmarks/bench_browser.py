"""What a learner feels in the browser: live-chart smoothness, bytes on the wire, and how fast clicks settle.

    .venv/bin/python benchmarks/bench_browser.py --tries 5 [--url http://127.0.0.1:8501] [--only a,b] [--json out.json]

Drives headless Chromium (Playwright) against `streamlit run app.py` (started here unless --url is given) and
measures only from the outside — the DOM, animation frames and the network (CDP) — so it keeps working when
the live charts are redrawn another way. A chart frame "changed" when the `d` of every `path.js-line` in
stMain, plus the `transform` of scatter point markers, differs from the previous animation frame. Canvas charts
are not seen: hashing `canvas.toDataURL()` every frame would itself slow the page down too much.
Measurements: tutorial_watch, fast_100k, lr_slider, log_toggle, page_switch, train_page_open (see each one).
A benchmark, not a test: nothing is asserted; a failed try prints why and the next one runs.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import statistics
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from playwright.sync_api import sync_playwright

from devtools.server import CHROMIUM, CHROMIUM_ARGS, IDLE, set_number, streamlit_server

VIEWPORT = {"width": 1400, "height": 1000}
CAP_MS, QUIET_MS = 3000, 300  # settle: give up after CAP_MS; settled once QUIET_MS pass with the app idle and no mutation

# Every chart div: the live-chart component's, else any Plotly div in the main area.
CHARTS_JS = """() => { let d = [...document.querySelectorAll('[data-testid=liveChart]')];
  if (!d.length) d = [...document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')]; return d; }"""
# The app idle and every chart drawn; the first moment that held is kept (ms since navigation start).
READY_JS = f"""() => {{ const d = ({CHARTS_JS})();
  const ok = !!document.querySelector("{IDLE}") && d.length > 0 && d.every(e => e.querySelector('svg.main-svg'));
  if (ok && window.__readyAt === undefined) window.__readyAt = performance.now(); return ok; }}"""
NOT_READY_JS = f"""() => {{ const d = ({CHARTS_JS})(), app = document.querySelector('[data-testid=stApp]');
  const err = document.querySelector('[data-testid=stException]');
  return `script state ${{app && app.getAttribute('data-test-script-state')}}, ${{d.length}} charts, `
    + `${{d.filter(e => e.querySelector('svg.main-svg')).length}} drawn${{err ? '; exception: ' + err.innerText.slice(0, 200) : ''}}`; }}"""
# The status line: from the text "Epoch N / M" (or "Paused at epoch N / M") up to the element that also says its loss.
STATUS_JS = """() => { const main = document.querySelector('[data-testid=stMain]');
  const w = main && document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  for (let n = w && w.nextNode(); n; n = w.nextNode()) {
    if (!/^(Paused at epoch|Epoch) [\\d,]+ \\/ /.test(n.nodeValue)) continue;
    let e = n.parentElement;
    for (let k = 0; k < 4 && e.parentElement && !/\\bloss\\b/.test(e.textContent); k++) e = e.parentElement;
    return /\\bloss\\b/.test(e.textContent) ? e.textContent : n.parentElement.textContent; }
  return null; }"""
# Every animation frame: a signature of the drawn lines; on a change, the time and the status line's text.
FRAMES_JS = """() => { const p = window.__frames = {changes: [], last: null, stop: false}, status = __STATUS__;
  const sig = (main, s = '') => { if (!main) return s;
    for (const e of main.querySelectorAll('path.js-line')) s += (e.getAttribute('d') || '') + '|';
    for (const e of main.querySelectorAll('.trace.scatter path.point')) s += (e.getAttribute('transform') || '') + ';';
    return s; };
  const tick = () => { if (p.stop) return;
    const s = sig(document.querySelector('[data-testid=stMain]'));
    if (p.last !== null && s !== p.last) p.changes.push([performance.now(), status()]);
    p.last = s; requestAnimationFrame(tick); };
  requestAnimationFrame(tick); }""".replace("__STATUS__", STATUS_JS)
FRAMES_STOP_JS = "() => { const p = window.__frames; p.stop = true; return p.changes; }"
# Settle probe: the first keydown/pointerdown after arming (capture phase: before the app's handlers) starts the
# clock; it times the last DOM mutation inside stMain or the sidebar, and the script state's flip back to idle.
ARM_JS = """() => {
  if (window.__settleObs) window.__settleObs.disconnect();
  const s = window.__settle = {t0: null, last: null, ran: false, idleAt: null, mutations: 0};
  const area = '[data-testid=stMain], [data-testid=stSidebar]';
  if (!window.__settleListen) {
    window.__settleListen = () => { const z = window.__settle; if (z.t0 === null) z.t0 = performance.now(); };
    for (const ev of ['keydown', 'pointerdown', 'mousedown']) window.addEventListener(ev, window.__settleListen, true);
  }
  const obs = window.__settleObs = new MutationObserver(records => {
    if (s.t0 === null) return;
    for (const r of records) {
      if (r.attributeName === 'data-test-script-state') s.ran = true;
      const e = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      if (e && e.closest && e.closest(area)) { s.last = performance.now(); s.mutations++; }
    }
    if (s.ran && s.idleAt === null && document.querySelector("__IDLE__")) s.idleAt = performance.now();
  });
  obs.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
}""".replace("__IDLE__", IDLE)
# The server has answered: the script state was seen to flip back to notRunning, or (when React batched the flip
# away, as it does on a busy main thread) a websocket message arrived after the action. Then the app must be
# idle and QUIET_MS must pass with no mutation and no message.
DONE_JS = """const ws = window.__wsLast > s.t0 ? window.__wsLast : null;
  const done = s.idleAt !== null || ws !== null, doneAt = Math.max(s.idleAt || 0, ws || 0);"""
SETTLED_JS = f"""() => {{ const s = window.__settle; if (s.t0 === null) return false;
  const now = performance.now(); if (now - s.t0 > {CAP_MS}) return true; {DONE_JS}
  return done && !!document.querySelector("{IDLE}") && now - Math.max(s.last || 0, doneAt) >= {QUIET_MS}; }}"""
# Before the app loads: note when each websocket message arrives.
WS_HOOK_JS = """(() => { const W = window.WebSocket; window.__wsLast = null;
  window.WebSocket = class extends W { constructor(...a) { super(...a);
    this.addEventListener('message', () => { window.__wsLast = performance.now(); }); } }; })();"""
SETTLE_RESULT_JS = f"""() => {{ const s = window.__settle; window.__settleObs.disconnect(); {DONE_JS}
  const capped = !done || performance.now() - s.t0 > {CAP_MS};
  return {{settle_ms: s.last === null ? null : Math.min(s.last - s.t0, {CAP_MS}), answered_ms: done ? doneAt - s.t0 : null,
           mutations: s.mutations, capped}}; }}"""


def why(exc: Exception) -> str:
    return f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:200]}"


def machine() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            model = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), "?")
    except OSError:
        model = "?"
    return f"{model}, nproc {len(os.sched_getaffinity(0))}"


class Net:
    """Bytes the page receives, from CDP: websocket frames (payload bytes; binary frames come base64-encoded) and
    HTTP (encoded bytes per request: loadingFinished's total, or the dataReceived chunks of one still streaming)."""

    def __init__(self, page):
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.reset()
        self.cdp.on("Network.webSocketFrameReceived", self._ws)
        self.cdp.on("Network.dataReceived", self._chunk)
        self.cdp.on("Network.loadingFinished", lambda e: self.done.__setitem__(e["requestId"], e["encodedDataLength"]))

    def reset(self) -> None:
        self.ws, self.partial, self.done = 0, {}, {}

    def _ws(self, e) -> None:
        data = e["response"].get("payloadData", "")
        self.ws += len(base64.b64decode(data)) if e["response"].get("opcode") == 2 else len(data.encode())

    def _chunk(self, e) -> None:
        self.partial[e["requestId"]] = self.partial.get(e["requestId"], 0) + e.get("encodedDataLength", 0)

    def http(self) -> int:
        return sum(self.done.get(r, self.partial.get(r, 0)) for r in set(self.partial) | set(self.done))


def fresh_page(browser, url: str, path: str = "/"):
    """A new context and page on ``path``, with a CDP byte counter; returns (context, page, net, ms to ready)."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(WS_HOOK_JS)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        net = Net(page)
        page.goto(url.rstrip("/") + path)
        page.wait_for_function(READY_JS, timeout=30_000)
        return context, page, net, page.evaluate("() => window.__readyAt")
    except Exception as exc:  # say what was missing: the app idle, the charts, or an exception on the page
        try:
            state = page.evaluate(NOT_READY_JS)
        except Exception as inner:
            state = why(inner)
        context.close()
        raise RuntimeError(f"page not ready ({why(exc)}): {state}") from exc


def frame_stats(changes: list, seconds: float, ws: int, http: int) -> dict:
    """Changed frames over their span (first to last change), and bytes received per second of the window."""
    times = [t for t, _ in changes]
    span = (times[-1] - times[0]) / 1000 if len(times) > 1 else 0.0
    gaps = [b - a for a, b in zip(times, times[1:])]
    return {"changed_frames": len(times), "span_s": round(span, 2),
            "frames_per_s": round((len(times) - 1) / span, 1) if span else None,
            "max_gap_ms": round(max(gaps)) if gaps else None,
            "ws_kB_per_s": round(ws / 1000 / seconds, 1), "http_kB_per_s": round(http / 1000 / seconds, 1),
            "ws_kB": round(ws / 1000, 1), "http_kB": round(http / 1000, 1), "window_s": round(seconds, 2)}


def speed(page, label: str) -> None:
    radio = page.get_by_test_id("stButtonGroup").get_by_role("radio", name=label, exact=True)
    if radio.get_attribute("aria-checked") != "true":
        radio.click()
        page.wait_for_selector(IDLE)


def tutorial_watch(browser, url: str) -> dict:
    """Train the tutorial at Watch pace (100 epochs) and watch it to the end (Completed, or 20 s)."""
    context, page, net, _ = fresh_page(browser, url)
    try:
        speed(page, "Watch")
        page.evaluate(FRAMES_JS)
        net.reset()
        t0 = time.perf_counter()
        page.get_by_role("button", name="Train", exact=True).click()
        done = page.locator("[data-testid=stMain]").get_by_text(re.compile(r"Completed after"))
        while not done.count() and time.perf_counter() - t0 < 20:
            page.wait_for_timeout(200)
        if completed := bool(done.count()):
            page.wait_for_selector(IDLE, timeout=10_000)  # the window: click to idle after the end
        seconds, ws, http = time.perf_counter() - t0, net.ws, net.http()
        page.wait_for_timeout(300)  # the last redraw's frame
        changes = page.evaluate(FRAMES_STOP_JS)
        shown = [i for i, (_, text) in enumerate(changes) if text]  # changed frames with a status line
        epoch = re.search(r"Epoch ([\d,]+) /", changes[shown[0]][1]) if shown else None
        loss = re.search(r"loss\s*([-\d.eE+]+|—)", page.evaluate(STATUS_JS) or "")
        return {**frame_stats(changes, seconds, ws, http), "completed": completed,
                "first_epoch": int(epoch.group(1).replace(",", "")) if epoch else None,
                "frames_before_status": shown[0] if shown else None,
                "final_loss": loss.group(1) if loss else None}
    finally:
        context.close()


def fast_100k(browser, url: str, window_s: float = 8.0) -> dict:
    """100,000 epochs at Fast pace: the first ``window_s`` seconds of the run, then Stop."""
    context, page, net, _ = fresh_page(browser, url)
    try:
        set_number(page, "Epochs", "100000")
        speed(page, "Fast")
        page.evaluate(FRAMES_JS)
        net.reset()
        t0 = time.perf_counter()
        page.get_by_role("button", name="Train", exact=True).click()
        page.wait_for_timeout(window_s * 1000)
        seconds, ws, http = time.perf_counter() - t0, net.ws, net.http()
        stats = frame_stats(page.evaluate(FRAMES_STOP_JS), seconds, ws, http)
        epoch = re.search(r"Epoch ([\d,]+) /", page.evaluate("() => window.__frames.changes.at(-1)?.[1] || ''"))
        page.get_by_role("button", name="Stop", exact=True).click()
        page.wait_for_selector(IDLE, timeout=15_000)
        return {**stats, "epoch_at_end": int(epoch.group(1).replace(",", "")) if epoch else None}
    finally:
        context.close()


def settle(page, action: Callable[[], None]) -> dict:
    """Arm the settle probe, do ``action``, wait until settled (or capped); return its timings (ms)."""
    page.evaluate(ARM_JS)
    action()
    page.wait_for_function(SETTLED_JS, timeout=CAP_MS + 10_000)
    r = page.evaluate(SETTLE_RESULT_JS)
    return {k: round(v) if isinstance(v, float) else v for k, v in r.items()}


def attempt(fn: Callable[[], dict]) -> dict:
    try:
        return fn()
    except Exception as exc:  # a benchmark reports and goes on
        return {"error": why(exc)}


def per_try(fn: Callable) -> Callable:
    """A measure whose every try is ``fn(browser, url)`` on pages of its own."""
    return lambda browser, url, tries: [attempt(lambda: fn(browser, url)) for _ in range(tries)]


def interaction(actions: Callable[[int], list[tuple[str, Callable]]]) -> Callable:
    """A measure over one fresh page: try ``i`` runs every (name, action) of ``actions(i)`` in turn, settling each."""
    def one(page, i: int) -> dict:
        row = {"capped": False}
        for name, act in actions(i):
            r = settle(page, lambda act=act: act(page))
            row[f"{name}_ms"], row[f"{name}_answered_ms"] = r["settle_ms"], r["answered_ms"]
            row["capped"] |= r["capped"]
        return row

    def measure(browser, url: str, tries: int) -> list[dict]:
        context, page, _, _ = fresh_page(browser, url)
        try:
            return [attempt(lambda i=i: one(page, i)) for i in range(tries)]
        finally:
            context.close()
    return measure


def press(key: str) -> Callable:
    def act(page) -> None:
        page.get_by_test_id("stSidebar").get_by_test_id("stSlider").filter(
            has_text="Learning rate (log scale)").get_by_role("slider").focus()
        page.keyboard.press(key)
    return act


def nav(title: str) -> Callable:
    return lambda page: page.get_by_test_id("stSidebarNav").locator("a").filter(has_text=title).first.click()


def train_page_open(browser, url: str) -> dict:
    """A new context (cold cache) opens /: ms from navigation start until every chart has drawn and the app is idle."""
    t0 = time.perf_counter()
    context, _, net, ready = fresh_page(browser, url)
    context.close()
    return {"ready_ms": round(ready), "wall_ms": round((time.perf_counter() - t0) * 1000),
            "http_kB": round(net.http() / 1000, 1), "ws_kB": round(net.ws / 1000, 1)}


MEASURES: dict[str, Callable] = {  # in the order they run
    "tutorial_watch": per_try(tutorial_watch),
    "fast_100k": per_try(fast_100k),
    # One key press per try, alternating right and left so the value stays near the default.
    "lr_slider": interaction(lambda i: [("settle", press("ArrowRight" if i % 2 == 0 else "ArrowLeft"))]),
    "log_toggle": interaction(lambda i: [("settle", lambda page: page.get_by_test_id("stSidebar")
                                          .get_by_text("Log-scale loss", exact=True).click())]),
    # One round trip per try: Train -> Data, then Data -> Train.
    "page_switch": interaction(lambda i: [("to_data", nav("Data")), ("to_train", nav("Train"))]),
    "train_page_open": per_try(train_page_open),
}
ORDER = list(MEASURES)


def summarize(rows: list[dict]) -> dict:
    """Per metric: the median of the numbers (None for text) and every try's value."""
    keys = [k for k in dict.fromkeys(k for r in rows for k in r) if k != "error"]
    out = {}
    for k in keys:
        vals = [r.get(k) for r in rows if "error" not in r]
        nums = [v for v in vals if isinstance(v, (int, float)) and not isinstance(v, bool)]
        out[k] = {"median": round(statistics.median(nums), 1) if nums else None, "tries": vals}
    if errors := [r["error"] for r in rows if "error" in r]:
        out["errors"] = errors
    return out


def show(name: str, summary: dict, seconds: float) -> None:
    print(f"\n{name}  ({seconds:.0f} s)")
    for k, v in summary.items():
        if k == "errors":
            for e in v:
                print(f"  FAILED TRY: {e}")
            continue
        med = "" if v["median"] is None else f"{v['median']:g}"
        print(f"  {k:<22} {med:>10}   tries: {', '.join(str(x) for x in v['tries'])}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a running studio; otherwise one is started here")
    ap.add_argument("--tries", type=int, default=5)
    ap.add_argument("--only", help=f"comma list of: {', '.join(ORDER)}")
    ap.add_argument("--json", help="also write the figures to this path")
    args = ap.parse_args()
    names = [n.strip() for n in args.only.split(",")] if args.only else ORDER
    if unknown := [n for n in names if n not in ORDER]:
        ap.error(f"unknown measure(s): {', '.join(unknown)}")
    t_all = time.perf_counter()
    report = {"machine": machine(), "tries": args.tries, "results": {}, "seconds": {}}
    with ExitStack() as stack:
        url = args.url or stack.enter_context(streamlit_server())
        p = stack.enter_context(sync_playwright())
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        stack.callback(browser.close)
        report["chromium"], report["url"] = browser.version, url
        where = "the --url server, if that runs here" if args.url else "the server it starts"
        print(f"machine: {report['machine']}; headless Chromium {browser.version}, sharing it with {where}")
        print(f"server: {url}; {args.tries} tries each; settle cap {CAP_MS} ms, quiet window {QUIET_MS} ms")
        for name in names:
            t = time.perf_counter()
            try:
                rows = MEASURES[name](browser, url, args.tries)
            except Exception as exc:  # the page its tries share did not open
                rows = [{"error": why(exc)}]
            report["results"][name] = summary = summarize(rows)
            if name == "page_switch":  # both directions together
                both = [r[k] for r in rows for k in ("to_data_ms", "to_train_ms") if r.get(k) is not None]
                summary["overall_ms"] = {"median": statistics.median(both) if both else None, "tries": both}
            report["seconds"][name] = round(time.perf_counter() - t, 1)
            show(name, summary, report["seconds"][name])
    report["total_seconds"] = round(time.perf_counter() - t_all, 1)
    print(f"\ntotal {report['total_seconds']:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
