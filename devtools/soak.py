"""The soak loop shared by benchmarks/bench_soak.py and tests/test_soak.py: waves of real browser sessions on one
server — each uploads its own CSV, trains, and closes its tab — with the server's RSS sampled after each wave once
the closed sessions have expired (``server.disconnectedSessionTTL``, shortened here so a wave's sessions are gone
within seconds, as they are 120 s after a tab closes by default)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .server import CHROMIUM, CHROMIUM_ARGS, IDLE, number_box, set_speed, settings_link, streamlit_server

TTL_S = 3  # how long a closed tab's session is kept for a reconnect, in the soak (Streamlit's default: 120 s)


@dataclass
class SoakReport:
    cold: float  # MiB before any session
    waves: list[float] = field(default_factory=list)  # MiB after each wave's sessions expired

    @property
    def growth(self) -> float:
        """MiB from after the first wave to after the last: what a class that comes and goes leaves behind."""
        return self.waves[-1] - self.waves[0] if self.waves else 0.0


def _server_process(url: str):
    import psutil

    port = url.rsplit(":", 1)[1]
    for proc in psutil.Process().children(recursive=True):
        try:
            if "streamlit" in " ".join(proc.cmdline()) and port in " ".join(proc.cmdline()):
                return proc
        except psutil.Error:
            continue
    raise RuntimeError("the streamlit server process was not found")


def _settled_rss(proc, seconds: float) -> float:
    """The server's RSS in MiB once it has been quiet for a moment: the lowest of samples over ``seconds``."""
    end, low = time.monotonic() + seconds, float("inf")
    while time.monotonic() < end:
        low = min(low, proc.memory_info().rss / 2**20)
        time.sleep(0.25)
    return low


def _csv(rows: int, slope: float, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 10, rows)
    y = slope * x + 1.0 + rng.normal(size=rows)
    return ("x,y\n" + "\n".join(f"{a:.6f},{b:.6f}" for a, b in zip(x, y)) + "\n").encode()


def soak(minutes: float | None = None, waves: int | None = None, sessions: int = 4, rows: int = 50_000,
         epochs: int = 2000, log: Callable[[str], None] = lambda line: None, browser: Any = None) -> SoakReport:
    """Run waves until ``waves`` are done or ``minutes`` have passed; return the RSS figures. ``browser``: a running
    Playwright browser (the tests' session one), else Chromium is started here."""
    with contextlib.ExitStack() as stack:
        if browser is None:
            from playwright.sync_api import sync_playwright

            pw = stack.enter_context(sync_playwright())
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        return _soak(browser, minutes, waves, sessions, rows, epochs, log)


def _soak(browser: Any, minutes: float | None, waves: int | None, sessions: int, rows: int, epochs: int,
          log: Callable[[str], None]) -> SoakReport:
    from playwright.sync_api import expect

    with streamlit_server(extra_args=("--server.disconnectedSessionTTL", str(TTL_S))) as url:
        server = _server_process(url)
        report = SoakReport(cold=_settled_rss(server, 2.0))
        log(f"cold: {report.cold:.0f} MiB")
        end = time.monotonic() + (minutes or 0) * 60
        wave = 0
        while (waves is not None and wave < waves) or (waves is None and time.monotonic() < end):
            contexts, pages = [], []
            for _ in range(sessions):  # every page gets each step before any page is waited on: they overlap
                ctx = browser.new_context(viewport={"width": 1200, "height": 900})
                page = ctx.new_page()
                page.set_default_timeout(300_000)
                page.goto(settings_link(url, standardize=True, epochs=epochs))
                contexts.append(ctx)
                pages.append(page)
            for page in pages:
                page.wait_for_selector(IDLE)
                page.get_by_test_id("stSidebarNavLink").filter(has_text="Data").click()
            for i, page in enumerate(pages):
                page.wait_for_selector(IDLE)
                page.get_by_test_id("stTab").filter(has_text="Upload CSV").click()
                page.get_by_test_id("stFileUploaderDropzoneInput").first.set_input_files(
                    {"name": f"wave{wave}-s{i}.csv", "mimeType": "text/csv",
                     "buffer": _csv(rows, 1.0 + i + wave, seed=wave * 100 + i)})
            for page in pages:
                expect(page.get_by_text("Loaded wave")).to_be_visible(timeout=300_000)
                page.get_by_test_id("stSidebarNavLink").filter(has_text="Train").click()
                expect(page.get_by_role("heading", name="Train", exact=True)).to_be_visible()
                set_speed(page, "As fast as possible")
                expect(number_box(page, "Epochs")).to_have_value(str(epochs))
            for page in pages:
                page.get_by_role("button", name="Train", exact=True).click()
            for page in pages:
                expect(page.get_by_text(f"Completed after {epochs:,} epochs")).to_be_visible(timeout=300_000)
            for ctx in contexts:
                ctx.close()
            time.sleep(TTL_S + 2)  # the closed sessions expire
            report.waves.append(_settled_rss(server, 3.0))
            log(f"wave {wave + 1}: {report.waves[-1]:.0f} MiB")
            wave += 1
        return report
