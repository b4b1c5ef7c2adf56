"""The Train page's first render after the server starts, against a two-line Streamlit app measured the same way.

    .venv/bin/python benchmarks/bench_first_render.py [--runs 5] [--root PATH] [--trace FILE]

Chromium (/usr/bin/chromium) is launched once, before any server. Each round starts a fresh `streamlit run` of ours
(app.py of this checkout, or of ``--root``: another checkout, to compare two versions) and then of a two-line app
(``import streamlit as st`` / ``st.write("Hello")`` in a temporary folder), interleaved (ours, two-line, ours, …),
with devtools.server.streamlit_server's flags. As soon as /_stcore/health says ok, the page opens in a new browser
context (a first visitor's empty cache) and the time is taken from navigation start until the page is rendered:
the app idle and its content shown — for ours the Train page with every chart drawn (bench_browser's READY_JS),
for the two-line app its text. A second visit to the same server, once ours has finished its warm-up (torch's import
after the first page, studio/warmup.py), is timed the same way: what remains there is the page's own weight, not
imports. Prints each run, the fastest and the median of each, the ratio of the fastest (ours ÷ two-line app; issue 25
asks for ≤ 1.5 on the first visit), and how long each server took from `streamlit run` to healthy (ours imports what
its first page needs before it listens). ``--trace FILE`` also writes Chromium's performance trace of ours' last
first visit (open it in chrome://tracing or Perfetto). A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _common import machine
from bench_browser import READY_JS
from playwright.sync_api import sync_playwright

from devtools.server import CHROMIUM, CHROMIUM_ARGS, IDLE, ROOT, streamlit_server

TWO_LINES = 'import streamlit as st\nst.write("Hello")\n'
# The two-line app's rule: idle and its text shown (the first moment that held, ms since navigation start).
TWO_READY_JS = f"""() => {{ const ok = !!document.querySelector("{IDLE}") &&
  [...document.querySelectorAll("[data-testid=stMarkdownContainer]")].some(e => e.innerText.includes("Hello"));
  if (ok && window.__readyAt === undefined) window.__readyAt = performance.now(); return ok; }}"""
VIEWPORT = {"width": 1400, "height": 1000}  # bench_browser's
WARM = "warm-up done"  # studio/warmup.py's log line once torch is loaded (the two-line app has none to wait for)


def visit(browser, url: str, ready_js: str, trace: Path | None = None) -> float:
    """ms from navigation start until ``ready_js`` first held, in a new context (a first visitor's empty cache)."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        if trace is not None:
            browser.start_tracing(page=page, path=str(trace), screenshots=True)
        page.goto(url)
        page.wait_for_function(ready_js, timeout=90_000, polling=10)
        if trace is not None:
            browser.stop_tracing()
        return float(page.evaluate("() => window.__readyAt"))
    finally:
        context.close()


def one_server(browser, root: Path, ready_js: str, warm: str | None = None,
               trace: Path | None = None) -> tuple[float, float, float]:
    """(seconds from `streamlit run` to a healthy server, first visit ms, second visit ms) of a fresh `streamlit run`
    of ``root``/app.py. The second visit waits for the log line ``warm``, if any (at most 60 s): the end of ours'
    warm-up, torch's import, which runs after the first page and is no part of a page's weight."""
    with tempfile.TemporaryFile("w+") as log:
        t = time.perf_counter()
        with streamlit_server(log=log, root=root) as url:
            up = time.perf_counter() - t
            first = visit(browser, url, ready_js, trace)
            deadline = time.monotonic() + 60
            while warm and time.monotonic() < deadline:
                log.seek(0)
                if warm in log.read():
                    break
                time.sleep(0.2)
            second = visit(browser, url, ready_js)
    time.sleep(1.0)  # the server's exit and the CPU settle before the next one starts
    return up, first, second


def line(what: str, ours: list[float], theirs: list[float]) -> str:
    return (f"{what}: ours fastest {min(ours):.0f} ms (median {statistics.median(ours):.0f}), two-line app fastest "
            f"{min(theirs):.0f} ms (median {statistics.median(theirs):.0f}); ratio of the fastest "
            f"{min(ours) / min(theirs):.2f} (of the medians {statistics.median(ours) / statistics.median(theirs):.2f})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout whose app.py is ours (default: this one)")
    ap.add_argument("--trace", type=Path, help="write Chromium's trace of ours' last first visit here")
    args = ap.parse_args()
    warmup = args.root / "studio" / "warmup.py"  # (an older checkout warms up within its first page: no line)
    warm = WARM if warmup.is_file() and WARM in warmup.read_text() else None
    ours: list[tuple[float, float, float]] = []
    theirs: list[tuple[float, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        two = Path(tmp)
        (two / "app.py").write_text(TWO_LINES)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        print(f"machine: {machine()}; Chromium {browser.version}; browser and servers share it; ours: "
              f"{args.root.resolve()}/app.py", flush=True)
        browser.new_context().new_page().context.close()  # the browser's own first page, untimed
        for i in range(args.runs):
            last = i == args.runs - 1
            ours.append(one_server(browser, args.root.resolve(), READY_JS, warm, args.trace if last else None))
            theirs.append(one_server(browser, two, TWO_READY_JS))
            print(f"  run {i + 1}: ours {ours[-1][1]:5.0f} ms first, {ours[-1][2]:5.0f} ms warm (healthy after "
                  f"{ours[-1][0]:.1f} s);  two-line app {theirs[-1][1]:5.0f} ms first, {theirs[-1][2]:5.0f} ms warm "
                  f"(healthy after {theirs[-1][0]:.1f} s)", flush=True)
        browser.close()
    print(line("first visit after the server starts", [r[1] for r in ours], [r[1] for r in theirs]))
    print(line("second visit (warm server)", [r[2] for r in ours], [r[2] for r in theirs]))
    print(f"from `streamlit run` to a healthy server (polled every 0.2 s): ours fastest {min(r[0] for r in ours):.1f} s, "
          f"two-line app fastest {min(r[0] for r in theirs):.1f} s")


if __name__ == "__main__":
    main()
