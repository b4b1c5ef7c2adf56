"""Load test in a real browser: 8 sessions upload, configure and train at the same time on one server.

One `streamlit run app.py` server and one Chromium; each session is its own browser context (its own
cookies, its own Streamlit session). Playwright's sync API is single-threaded, so the sessions are
driven by interleaving: every page is sent the same step before any page is waited on, and the 8 Train
clicks go out back to back so the 8 runs overlap on the server. Every wait is on the page's own state,
never a sleep.

Checks: the runs really overlapped (timed in the browsers, on this machine's clock); each session
trained on its own data (caption, fitted slope and intercept, downloaded predictions); nothing raised.
Figures go to test-artifacts/load_measurements.json.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from datetime import datetime
from pathlib import Path

import pytest
from conftest import server_log
from playwright.sync_api import Page, expect

from devtools.server import IDLE, ROOT, number_box, set_number, set_speed, settings_link, settle

pytestmark = [pytest.mark.e2e, pytest.mark.perf]

ARTIFACTS = ROOT / "test-artifacts"
LOG = server_log(__name__)
SESSIONS = 8
ROWS = 300
EPOCHS = 3000
LR = "0.1"
TIMEOUT_MS = 180_000
DONE = f"Completed after {EPOCHS:,} epochs"
PHASES: dict[str, float] = {}  # seconds each step took, for the measurements file

# Set in each page just before Train: when the browser dispatched the click, and when the completion
# message first appeared in the DOM (Date.now(), the same wall clock for every page).
WATCH = """(done) => {
    window.__clickedAt = null; window.__doneAt = null;
    document.addEventListener('click', () => { window.__clickedAt = window.__clickedAt || Date.now() / 1000; },
                              {capture: true, once: true});
    const seen = () => {
        if (window.__doneAt === null && document.body.textContent.includes(done)) {
            window.__doneAt = Date.now() / 1000;
            obs.disconnect();
        }
    };
    const obs = new MutationObserver(seen);
    obs.observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def slope(i: int) -> float:
    return float(i + 2)


def intercept(i: int) -> float:
    return 10.0 * i


def session_rows(i: int) -> list[tuple[float, float]]:
    """x = k/8 and noise = m/1024: every value is a short exact binary fraction, so CSV round trips are exact."""
    rows = []
    for k in range(ROWS):
        x = k / 8
        noise = ((k * 37 + i) % 11 - 5) / 1024
        rows.append((x, intercept(i) + slope(i) * x + noise))
    return rows


def write_csv(path: Path, rows: list[tuple[float, float]]) -> None:
    path.write_text("x,y\n" + "".join(f"{x!r},{y!r}\n" for x, y in rows))


@pytest.fixture(scope="module", autouse=True)
def patient_expect():
    """8 sessions share 2 cores here: give expect() the same generous timeout as the pages, then restore it."""
    before = getattr(expect, "_timeout", None)
    expect.set_options(timeout=TIMEOUT_MS)
    yield
    expect.set_options(timeout=before)


@pytest.fixture
def pages(server, browser):
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
                for _ in range(SESSIONS)]
    t = time.monotonic()
    pgs = [c.new_page() for c in contexts]
    for pg in pgs:
        pg.set_default_timeout(TIMEOUT_MS)
        # A share link with the settings: in the session before any click, as a class handed one link has them,
        # instead of 24 settings reruns on a machine the 8 tabs already fill.
        pg.goto(settings_link(server, standardize=True, epochs=EPOCHS, lr=LR), wait_until="commit")
    for pg in pgs:
        pg.wait_for_selector(IDLE)
        expect(pg.get_by_role("button", name="Train", exact=True)).to_be_visible()
    PHASES["open_pages"] = round(time.monotonic() - t, 2)
    yield pgs
    for c in contexts:
        c.close()


def click_nav(page: Page, title: str) -> None:
    page.get_by_test_id("stSidebarNavLink").filter(has_text=title).click()


def arrived(page: Page, title: str) -> None:
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
    page.wait_for_selector(IDLE)


def goto_all(pages: list[Page], title: str) -> None:
    for pg in pages:
        click_nav(pg, title)
    for pg in pages:
        arrived(pg, title)


def no_exception(pages: list[Page], where: str) -> None:
    for i, pg in enumerate(pages):
        assert pg.get_by_test_id("stException").count() == 0, f"session {i}: exception shown on {where}"


def peak_overlap(starts: list[float], ends: list[float]) -> int:
    """Most intervals [start, end) open at one moment."""
    events = sorted([(e, -1) for e in ends] + [(b, 1) for b in starts])  # an end sorts before a start at a tie
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


def server_runs(log: str) -> list[tuple[float, float]]:
    """(start, end) of each training run, from the Train page's "run <id> started / ended at epoch" log lines.

    Lines are paired in log order, so an id reused after its run was freed still pairs correctly.
    """
    line = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) .*?\brun ([0-9a-f]+) (started:|ended at epoch)", re.M)
    open_runs: dict[str, float] = {}
    runs = []
    for stamp, run_id, what in line.findall(log):
        t = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").timestamp()
        if what == "started:":
            open_runs[run_id] = t
        elif run_id in open_runs:
            runs.append((open_runs.pop(run_id), t))
    return runs


def write_measurements(measured: dict) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "load_measurements.json").write_text(json.dumps(measured, indent=2))


def parse_csv(text: str) -> list[tuple[float, float]]:
    reader = csv.DictReader(io.StringIO(text))
    return [(float(r["x"]), float(r["y"])) for r in reader]


def test_eight_concurrent_sessions_train_in_isolation(pages: list[Page], tmp_path):
    data = [session_rows(i) for i in range(SESSIONS)]
    files = []
    for i, rows in enumerate(data):
        files.append(tmp_path / f"session_{i}.csv")
        write_csv(files[-1], rows)

    t = time.monotonic()

    def phase(name: str) -> None:
        nonlocal t
        PHASES[name] = round(time.monotonic() - t, 2)
        t = time.monotonic()

    # --- Upload: every page gets its file before any page is waited on ----------------------------------
    for pg in pages:
        click_nav(pg, "Data")
    for pg, f in zip(pages, files):
        arrived(pg, "Data")
        pg.get_by_test_id("stTab").filter(has_text="Upload CSV").click()
        pg.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(f))
    for i, pg in enumerate(pages):
        expect(pg.get_by_text(f"Loaded session_{i}.csv")).to_be_visible()
        expect(pg.get_by_text(re.compile(rf"Ready: {ROWS} rows, model y ~ x"))).to_be_visible()
        pg.wait_for_selector(IDLE)
    no_exception(pages, "Data")
    phase("upload")

    # --- Settings on Train --------------------------------------------------------------------------
    goto_all(pages, "Train")
    for pg in pages:
        # The link's settings survived the upload, and Fast (60 epochs a second at first) plays each run's picture
        # in about 3.4 s: every run still lasts past the last of the 8 clicks, without 8 tabs drawing 11 s films.
        expect(pg.get_by_test_id("stCheckbox").filter(has_text="Standardize features").locator("input")).to_be_checked()
        expect(number_box(pg, "Epochs")).to_have_value(str(EPOCHS))
        expect(pg.get_by_test_id("stSlider").filter(has_text="Learning rate")).to_contain_text(LR)
        set_speed(pg, "Fast")
    for i, pg in enumerate(pages):
        caption = pg.get_by_test_id("stCaptionContainer").filter(has_text="rows").first.inner_text()
        assert f"session_{i}.csv" in caption and f"{ROWS} rows" in caption, (i, caption)

    phase("settings")

    # --- Train: 8 clicks back to back, then wait for each -------------------------------------------
    for pg in pages:
        pg.evaluate(WATCH, DONE)
    for pg in pages:
        pg.get_by_role("button", name="Train", exact=True).click()
    done_msgs = []
    for pg in pages:
        done = pg.get_by_text(re.compile(rf"{DONE} in [\d.]+ s"))
        expect(done).to_be_visible(timeout=TIMEOUT_MS)
        pg.wait_for_selector(IDLE)
        done_msgs.append(done.inner_text())
    clicked = [pg.evaluate("() => window.__clickedAt") for pg in pages]
    finished = [pg.evaluate("() => window.__doneAt") for pg in pages]
    assert None not in clicked and None not in finished, (clicked, finished)
    seconds = [float(re.search(r"in ([\d.]+) s", m).group(1)) for m in done_msgs]
    phase("train")

    t0 = min(clicked)
    measured: dict = {
        "sessions": SESSIONS,
        "rows_per_session": ROWS,
        "epochs": EPOCHS,
        "first_click_to_last_completion_seconds": round(max(finished) - t0, 3),
        "last_click_after_first_seconds": round(max(clicked) - t0, 3),
        "first_completion_after_first_click_seconds": round(min(finished) - t0, 3),
        "peak_runs_in_progress": peak_overlap(clicked, finished),
        "runs_in_progress_at_last_click": sum(c <= max(clicked) < d for c, d in zip(clicked, finished)),
        "train_seconds_reported": seconds,
        "train_seconds_max_over_min": round(max(seconds) / min(seconds), 3),
        "per_session": [{"session": i, "clicked_at": round(c - t0, 3), "completed_visible_at": round(d - t0, 3),
                         "train_seconds": s} for i, (c, d, s) in enumerate(zip(clicked, finished, seconds))],
        "phase_seconds": PHASES,
    }
    # The server's own view, where the app logs each run's start and end (checked only while it logs them).
    runs = server_runs(LOG.read_text())
    measured["server_peak_runs_in_progress"] = (peak_overlap([a for a, _ in runs], [b for _, b in runs])
                                                if len(runs) == SESSIONS else None)
    write_measurements(measured)

    # Overlap: at some moment at least 2 runs were in progress at once (browser: click -> completion shown).
    assert measured["peak_runs_in_progress"] >= 2, measured
    if measured["server_peak_runs_in_progress"] is not None:
        assert measured["server_peak_runs_in_progress"] >= 2, measured

    # --- Isolation: each session's status line shows its own line ------------------------------------
    no_exception(pages, "Train")
    for i, pg in enumerate(pages):
        caption = pg.get_by_test_id("stCaptionContainer").filter(has_text="rows").first.inner_text()
        assert f"session_{i}.csv" in caption and f"{ROWS} rows" in caption, (i, caption)
        status = (pg.get_by_test_id("stMarkdownContainer").filter(has_text=re.compile(rf"Epoch {EPOCHS:,} / {EPOCHS:,}"))
                  .first.inner_text())
        m = re.search(r"intercept ([-+0-9.eE]+), x ([-+0-9.eE]+)", status)
        assert m, (i, status)
        b0, b1 = float(m.group(1)), float(m.group(2))
        assert abs(b1 - slope(i)) <= 1e-2, (i, status)
        assert abs(b0 - intercept(i)) <= 1e-1, (i, status)

    # --- Isolation: each session's predictions download holds exactly its own data -------------------
    goto_all(pages, "Results")
    no_exception(pages, "Results")
    for i, pg in enumerate(pages):
        expect(pg.get_by_text(re.compile(rf"Gradient descent \(completed, {EPOCHS:,} epochs"))).to_be_visible()
        with pg.expect_download() as dl:
            pg.get_by_role("button", name="Predictions (CSV)").click()
        text = Path(dl.value.path()).read_text()
        assert text.splitlines()[0].startswith("x,y,"), (i, text.splitlines()[0])
        assert parse_csv(text) == data[i], f"session {i}: downloaded predictions are not session_{i}.csv"

    phase("checks_and_downloads")
    write_measurements(measured)

    log = LOG.read_text()
    assert "Traceback" not in log, log
    assert "Uncaught app" not in log, log


def test_protocol_sessions_drive_the_real_app_as_chromium_does(server, browser):
    """benchmarks/bench_load.py's sessions (devtools/protocol.py) speak the browser's protocol: the same run through one
    of them and through a Chromium tab ends on the same status line, and the protocol session's figures are whole."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from devtools.protocol import Tab, _heavy_setup, measure

    def elsewhere(fn, *args):  # Playwright's sync API owns this thread's event loop: asyncio runs in another
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(fn, *args).result()

    async def protocol_run() -> tuple[str, str]:
        tab = Tab(server)
        await tab.open()
        try:
            await _heavy_setup(tab, 2000, 300)
            tab.watch()
            await tab.click("btn_train")

            async def final() -> None:
                while tab.done is None:
                    await asyncio.sleep(0.05)
                await tab.finished.wait()

            try:
                await asyncio.wait_for(final(), TIMEOUT_MS / 1000)
            except TimeoutError:
                pytest.fail(f"the protocol session never got its final chart: {tab.where()}")
            lines = [t for _, t in tab.texts if "Epoch 300 / 300" in t]
            # The last is the server's own status line, from the rerun the status component's "ended" asked for;
            # a run that streamed also left the line the component painted at its last epoch before it.
            painted = lines[-2] if tab.traffic["ended"] else lines[-1]
            return lines[-1], painted
        finally:
            await tab.close()

    line, painted = elsewhere(lambda: asyncio.run(protocol_run()))
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server)
    page.wait_for_selector(IDLE)
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Data").click()
    page.wait_for_selector(IDLE)
    page.get_by_test_id("stTab").filter(has_text="Noisy line generator").click()
    set_number(page, "Points", "2000")
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.get_by_text("Ready: 2,000 rows", exact=False)).to_be_visible()
    click_nav(page, "Train")
    arrived(page, "Train")
    set_speed(page, "As fast as possible")
    set_number(page, "Epochs", "300")
    settle(page, page.get_by_test_id("stCheckbox").filter(has_text="Standardize features").click)
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(re.compile(r"Completed\W* after 300 epochs"))).to_be_visible()
    shown = page.get_by_test_id("stMarkdownContainer").filter(has_text="Epoch 300 / 300").first.inner_text()
    page.close()
    def plain(text: str) -> str:
        return re.sub(r"\s+", " ", text.replace("**", "").replace("&nbsp;", " ").replace("\xa0", " "))

    loss = re.compile(r"loss ([-+0-9.e]+) · intercept ([-+0-9.e]+), x ([-+0-9.e]+)")
    assert loss.search(plain(line)).groups() == loss.search(plain(shown)).groups(), (line, shown)
    assert plain(painted) == plain(line), (painted, line)  # what the browser paints at the end is what it ends on

    # The tutorial, paced: the browser draws it from the stream (no ticker) and asks for the final chart once.
    level = elsewhere(measure, server, "tutorial", 2)
    assert len(level.click_to_final) == 2 and all(s > 0 for s in level.click_to_final)
    assert level.health and level.health_failures == 0
    for traffic in level.traffic:
        assert traffic["ended"] == 1 and traffic["ticks"] == 0 and traffic["stream_requests"] > 0, level.traffic
        assert traffic["ws_bytes"] > 0 and traffic["stream_bytes"] > 0, level.traffic
    assert min(level.click_to_final) >= level.paced_seconds, (level.click_to_final, level.paced_seconds)
