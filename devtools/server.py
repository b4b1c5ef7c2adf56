"""Run the studio for real: `streamlit run app.py` (the script behind its security headers) and Debian's Chromium.

Streamlit's own e2e approach: start the server once, poll /_stcore/health until it says ok, and wait
on the app's script state (data-test-script-state) rather than sleeping.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")  # the full browser: the benchmarks' figures are its
# The test suite's browser: Debian's chromium-headless-shell, the same Chromium release (Blink, V8, the same version
# as the chromium package) built as the headless shell, which is what Playwright itself runs for headless Chromium.
# Without the full browser's window and UI layers a page load costs ~40% less CPU here (the Train page: 1.8 against
# 3.0 CPU-s), and page loads are most of what the CPU-bound suite spends. TEST_CHROMIUM=/usr/bin/chromium runs the
# suite in the full browser (it passes there too, only slower).
TEST_CHROMIUM = os.environ.get("TEST_CHROMIUM", "/usr/bin/chromium-headless-shell")
# Root needs --no-sandbox; without the networking flags Chromium keeps dialling out of a closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
RUNNING = "[data-testid='stApp'][data-test-script-state='running']"


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` in a thread of its own: in the test suite Playwright's sync API already runs an event loop
    in the main thread (the session's browser), and asyncio.run refuses to start a second one there."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(log: IO[str] | None = None, timeout: float = 90.0, extra_args: tuple[str, ...] = (),
                     root: Path = ROOT, env: dict[str, str] | None = None) -> Iterator[str]:
    """Start `streamlit run app.py` of the checkout at ``root`` (this one by default) on a free loopback port, with
    ``env`` added to this process's environment; yield its URL once /_stcore/health is ok."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(root / "app.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false", *extra_args],
        cwd=root, stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_healthy(url, timeout, proc):
            raise RuntimeError(f"streamlit at {root} did not become healthy")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


# One heavy slot and no turn-taking: the order in which queued heavy jobs get the slot is what a test checks.
ONE_HEAVY_SLOT = {"LINREG_HEAVY_SLOTS": "1", "LINREG_QUANTUM_S": "600"}


def wait_healthy(url: str, timeout: float, proc: subprocess.Popen | None = None) -> bool:
    """Poll ``url``/_stcore/health until it says ok (True), the timeout passes or ``proc`` exits (False)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return True
        except OSError:
            pass
        if (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
            return False
        time.sleep(0.2)


@contextmanager
def framing_page(app_url: str, folder: Path) -> Iterator[str]:
    """A page on another origin (another loopback port) that puts ``app_url`` in an iframe; yields its URL."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:  # the test reads the page, not the access log
            pass

    (folder / "index.html").write_text(f'<iframe id="f" src="{app_url}/" width="800" height="600"></iframe>')
    (folder / "favicon.ico").write_bytes(b"")
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{other.server_address[1]}/"
    finally:
        other.shutdown()
        other.server_close()


def assert_cannot_be_framed(browser, app_url: str, folder: Path) -> None:
    """A page on another origin frames ``app_url``: Chromium must refuse (the frame shows its error page)."""
    with framing_page(app_url, folder) as other:
        page = browser.new_page()
        page.goto(other)
        page.wait_for_load_state("load")  # fires once the frame has loaded, or failed to
        assert page.frames[1].url.startswith("chrome-error://"), page.frames[1].url
        page.close()


def go_to(page, title: str) -> None:
    """Open the page ``title`` from the sidebar as a person does, at any screen size. On a phone the sidebar folds
    away after each page change (studio/layout.py): wait until that has been decided and done, open the sidebar
    if it is folded, and only then click the link (a click racing the fold found the link slid off the screen)."""
    from playwright.sync_api import expect

    page.wait_for_selector(IDLE)
    page.wait_for_function("() => window.__linregFold !== undefined")
    if page.evaluate("() => window.__linregFold.folded"):
        page.wait_for_selector("[data-testid='stSidebar'][data-collapsed='true']", state="attached")
    if page.get_by_test_id("stSidebar").get_attribute("data-collapsed") != "false":
        page.get_by_test_id("stExpandSidebarButton").click()
    link = page.get_by_test_id("stSidebarNavLink").filter(has_text=title)
    expect(link).to_be_in_viewport()
    link.click()
    # The fold is decided as the new page's run starts (app.py, before the page itself): wait for that, then for
    # the run to end, so what follows sees the whole page.
    page.wait_for_function("t => window.__linregFold && window.__linregFold.page === t", arg=title)
    page.wait_for_selector(IDLE)


def load_noisy_line(page, points: int) -> None:
    """On the Data page, generate ``points`` rows of the noisy line, then come back to Train."""
    from playwright.sync_api import expect

    page.get_by_test_id("stSidebarNavLink").filter(has_text="Data").click()
    page.wait_for_selector(IDLE)
    page.get_by_test_id("stTab").filter(has_text="Noisy line generator").click()
    set_number(page, "Points", str(points))
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.get_by_text(f"Ready: {points:,} rows", exact=False)).to_be_visible()
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Train").click()
    page.wait_for_selector(IDLE)


# Every page the tests open counts the messages its app's websocket receives (``watch_messages``): the server
# answers each rerun with messages and a "script finished" one last, so an action has been dealt with once messages
# have come after it, none for a moment, and the app is idle. The app's script state alone cannot say so: it can
# still read idle before an action's rerun has started, and a fragment's short rerun may never show as running.
_COUNT_MESSAGES_JS = """(() => {
  const W = window.WebSocket, seen = window.__linregWs = {received: 0, last: 0, mark: 0};
  window.WebSocket = class extends W {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", () => { seen.received++; seen.last = performance.now(); });
    }
  };
})();"""
_ARM_JS = "() => { const w = window.__linregWs; if (!w) return false; w.mark = w.received; return true; }"
_SETTLED_JS = """() => { const w = window.__linregWs;
  return w.received > w.mark && performance.now() - w.last > 300 &&
    document.querySelector("[data-testid='stApp']").dataset.testScriptState === 'notRunning'; }"""


def watch_messages(browser) -> None:
    """Make every page ``browser`` opens count its websocket messages, for :func:`settle`."""
    new_context, new_page = browser.new_context, browser.new_page

    def counting_context(*args: Any, **kwargs: Any):
        context = new_context(*args, **kwargs)
        context.add_init_script(_COUNT_MESSAGES_JS)
        return context

    def counting_page(*args: Any, **kwargs: Any):
        page = new_page(*args, **kwargs)
        page.add_init_script(_COUNT_MESSAGES_JS)
        return page

    browser.new_context, browser.new_page = counting_context, counting_page


def settle(page, action: Callable[[], Any]) -> None:
    """Do ``action`` (a click, a typed value) that makes the app rerun, and return once the server has answered it
    and gone quiet, the app idle. (A page not opened through :func:`watch_messages` waits for the idle state only.)"""
    page.wait_for_selector(IDLE)
    armed = page.evaluate(_ARM_JS)
    action()
    if armed:
        page.wait_for_function(_SETTLED_JS)
    else:
        page.wait_for_selector(IDLE)


def set_speed(page, label: str) -> None:
    """Choose the Train page's speed (Watch, Fast, As fast as possible) and wait until the app has taken it."""
    settle(page, page.get_by_test_id("stButtonGroup").get_by_role("radio", name=label, exact=True).click)


def settings_link(url: str, **values: Any) -> str:
    """``url`` as a share link that opens with these settings (fields of ``studio.settings.Settings``, by their share
    parameters): a page starts configured, without a settings rerun per setting."""
    from urllib.parse import urlencode

    from studio import settings

    query = {settings.spec(name).share: ("1" if v else "0") if isinstance(v, bool) else str(v)
             for name, v in values.items()}
    return f"{url}/?{urlencode(query)}"


def number_box(page, label: str):
    """The input of the number box labelled ``label``."""
    return page.get_by_test_id("stNumberInput").filter(has_text=label).locator("input")


def set_number(page, label: str, value: str) -> None:
    """Type into the number input labelled ``label``, press Enter, wait for the rerun it starts to end, check the
    value. A value the box already holds starts no rerun: it is left as it is."""
    from playwright.sync_api import expect

    box = number_box(page, label)
    page.wait_for_selector(IDLE)
    try:
        same = float(box.input_value()) == float(value)
    except ValueError:
        same = False
    if not same:
        settle(page, lambda: (box.fill(value), box.press("Enter")))
        expect(box).to_have_value(value)


# Where data point (x, y) of live chart ``key`` is on the screen (it scrolls the chart into view first).
PLOT_POINT_JS = """([key, x, y]) => {
  const div = document.querySelector(`.live-chart[data-key='${key}']`), fl = div._fullLayout;
  div.scrollIntoView({block: 'center'});
  const box = div.getBoundingClientRect();
  return [box.left + fl._size.l + fl.xaxis.d2p(x), box.top + fl._size.t + fl.yaxis.d2p(y)]; }"""


def box_select(page, chart: str, corner: tuple[float, float], opposite: tuple[float, float], steps: int = 12) -> None:
    """Drag a selection box on ``chart`` between two data points (x, y): in edit mode it deletes what it holds."""
    (x0, y0), (x1, y1) = page.evaluate(PLOT_POINT_JS, [chart, *corner]), page.evaluate(PLOT_POINT_JS, [chart, *opposite])
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=steps)
    page.mouse.up()


# A laptop, a 1024×768 projector and a phone: the screens a class uses (tests/test_browser_classroom.py and
# tests/test_browser_hands_on.py check each at all three).
CLASS_SIZES = {"1400x900": (1400, 900), "1024x768": (1024, 768), "390x844": (390, 844)}


def new_visitor(browser, server: str, size: str, path: str = "/"):
    """A new visitor: a fresh browser context at ``size`` (a key of :data:`CLASS_SIZES`) on ``server`` + ``path``,
    the page's first script run done."""
    width, height = CLASS_SIZES[size]
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.set_default_timeout(60_000)
    page.goto(server + path)
    page.wait_for_selector(IDLE)
    return page
