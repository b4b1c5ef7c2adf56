"""The dashboard with a 1M-row CSV, in a real browser: upload -> exact fit -> training, live charts on vs off.

    python benchmarks/bench_app.py [--rows 1000000] [--epochs 100000]

Starts `streamlit run app.py`, drives Debian's Chromium with Playwright, and prints: the time from
choosing the file to a finished 1000-epoch run, the chart refresh rate the browser sees, and the
training throughput with live charts as a ratio of the same run with charts off.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path

import pandas as pd
from _common import line_data, machine
from playwright.sync_api import expect, sync_playwright

from devtools.server import CHROMIUM, CHROMIUM_ARGS, IDLE, set_number, streamlit_server


def run(page, epochs: int) -> tuple[float, str]:
    """Train; return (seconds the app reports for the loop, live-chart caption)."""
    page.get_by_role("button", name="Reset", exact=True).click()
    page.wait_for_selector(IDLE)
    page.get_by_role("button", name="Train", exact=True).click()
    done = page.get_by_text(re.compile(rf"Completed after {epochs:,} epochs in [\d.]+ s"))
    expect(done).to_be_visible(timeout=600_000)
    page.wait_for_selector(IDLE)
    seconds = float(re.search(r"in ([\d.]+) s", done.inner_text()).group(1))
    caption = page.get_by_text(re.compile("Live charts:"))
    return seconds, caption.inner_text() if caption.count() else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--epochs", type=int, default=100_000)
    args = ap.parse_args()
    print(f"machine: {machine()}; browser and server share it\n")
    with tempfile.TemporaryDirectory() as tmp, streamlit_server() as url, sync_playwright() as p:
        path = Path(tmp) / "big.csv"
        x, y = line_data(args.rows)
        pd.DataFrame({"x": x.round(6), "y": y.round(6)}).to_csv(path, index=False)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(120_000)
        page.goto(url)
        page.wait_for_selector(IDLE)

        t0 = time.monotonic()
        page.get_by_test_id("stSidebarNavLink").filter(has_text="Data").click()
        page.get_by_test_id("stTab").filter(has_text="Upload CSV").click()
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
        expect(page.get_by_text(re.compile(rf"Ready: {args.rows:,} rows"))).to_be_visible()
        t_loaded = time.monotonic() - t0
        page.get_by_test_id("stSidebarNavLink").filter(has_text="Train").click()
        page.wait_for_selector(IDLE)
        set_number(page, "Epochs", "1000")
        t1 = time.monotonic()
        secs, _ = run(page, 1000)
        t_train = time.monotonic() - t1
        print(f"1M-row CSV: file chosen -> data ready {t_loaded:.2f} s; Train -> 1000 epochs done {t_train:.2f} s "
              f"(loop {secs:.3f} s); total {t_loaded + t_train:.2f} s plus two clicks")

        set_number(page, "Epochs", str(args.epochs))
        live, caption = run(page, args.epochs)
        page.get_by_test_id("stCheckbox").filter(has_text="Live charts").click()
        page.wait_for_selector(IDLE)
        off, _ = run(page, args.epochs)
        print(f"{args.epochs:,} epochs on {args.rows:,} rows: live charts {live:.2f} s, charts off {off:.2f} s "
              f"-> throughput with live charts {off / live:.0%} of charts off")
        print(f"server side: {caption}")
        page.screenshot(path=str(Path(tmp).parent / "bench_app_last.png"))
        browser.close()


if __name__ == "__main__":
    main()
