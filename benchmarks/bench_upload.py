"""What a big upload costs: a 199 MB numeric CSV and a 2-row Parquet file of 100,000 columns.

    python benchmarks/bench_upload.py [--root DIR ...] [--mb 199] [--out test-artifacts/upload_measurements.json]

For each ``--root`` (a checkout of the studio; default this one: pass an older checkout too, e.g. one made with
``git archive``, for a before/after on the same machine), in this order:

- library: ``read_upload`` of each file in a fresh process, its wall time and peak memory (VmHWM, reset first);
- browser: ``streamlit run app.py`` and Debian's Chromium drop each file on the Data page; the time from the drop
  to the page's verdict (loaded or refused), when a progress bar first showed, and the server's memory before,
  at its peak and after.

The CSV is ``--mb`` million bytes (Streamlit's uploader counts 1000s outside Windows: 199 MB is under its 200 MB
limit there, 199 MiB is not) of random full-precision floats in 5 columns, made under /tmp and deleted after.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from devtools.server import CHROMIUM, CHROMIUM_ARGS, IDLE, free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[1]

LIBRARY = """
import json, sys, time
sys.path.insert(0, {root!r})  # the checkout under test (--root)
from linreg_core import LinregError, read_upload

def status(key):
    with open("/proc/self/status") as fh:
        return next(int(ln.split()[1]) * 1024 for ln in fh if ln.startswith(key))

data = open({path!r}, "rb").read()
with open("/proc/self/clear_refs", "w") as fh:  # the peak (VmHWM) from here
    fh.write("5")
before = status("VmRSS:")
t = time.perf_counter()
try:
    df = read_upload(data, {name!r}, max_bytes=200 * 2**20)
    verdict = "loaded %d x %d" % df.shape
except LinregError as exc:
    verdict = "refused: " + str(exc)[:80]
print(json.dumps({{"seconds": round(time.perf_counter() - t, 2), "peak_extra_mib": (status("VmHWM:") - before) >> 20,
                  "verdict": verdict}}))
"""


def make_csv(path: Path, size: int) -> None:
    """``size`` bytes of 5 columns of random floats written in full (repr), whole lines only."""
    rng = np.random.default_rng(0)
    block = ("\n".join(",".join(repr(float(v)) for v in row) for row in rng.standard_normal((20_000, 5))) + "\n").encode()
    header = b"x1,x2,x3,x4,y\n"
    with open(path, "wb") as fh:
        fh.write(header)
        left = size - len(header)
        while left > 0:
            part = block if len(block) <= left else block[:block.rfind(b"\n", 0, left) + 1]
            if not part:
                break
            fh.write(part)
            left -= len(part)


def make_wide_parquet(path: Path, columns: int = 100_000) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({f"c{i}": pa.array([float(i), i + 0.5]) for i in range(columns)}), path)


def memory(pid: int) -> dict[str, int]:
    with open(f"/proc/{pid}/status") as fh:
        return {ln.split(":")[0]: int(ln.split()[1]) >> 10 for ln in fh if ln.startswith(("VmRSS", "VmHWM"))}


def library(root: Path, path: Path) -> dict:
    code = LIBRARY.format(root=str(root), path=str(path), name=path.name)
    return json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def browser(root: Path, paths: list[Path], limit_s: float) -> dict[str, dict]:
    from playwright.sync_api import sync_playwright

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(root / "app.py"), "--server.headless", "true", "--server.port",
         str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false"], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    out = {}
    try:
        if not wait_healthy(url, 90, server):
            raise RuntimeError("streamlit did not become healthy")
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for path in paths:
                page = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                page.set_default_timeout(limit_s * 1000)
                page.goto(url)
                page.wait_for_selector(IDLE)
                page.get_by_test_id("stSidebarNavLink").filter(has_text="Data").click()
                page.wait_for_selector(IDLE)
                page.get_by_test_id("stTab").filter(has_text="Upload CSV").click()
                with open(f"/proc/{server.pid}/clear_refs", "w") as fh:
                    fh.write("5")
                before = memory(server.pid)["VmRSS"]
                t = time.monotonic()
                page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
                progress = verdict = None
                while verdict is None and time.monotonic() - t < limit_s:
                    if progress is None and page.get_by_test_id("stProgress").count():
                        progress = round(time.monotonic() - t, 2)
                    text = page.inner_text("body")
                    m = re.search(r"(Loaded \S+: [\d,]+ rows|Could not load [^:]+: [^.;]*)", text)
                    verdict = m.group(1) if m else None
                    time.sleep(0.05)
                page.wait_for_selector(IDLE)
                after = memory(server.pid)
                out[path.name] = {"seconds_to_verdict": round(time.monotonic() - t, 2), "first_progress_s": progress,
                                  "verdict": verdict or f"none within {limit_s:g} s", "server_rss_before_mib": before,
                                  "server_rss_peak_mib": after["VmHWM"], "server_rss_after_mib": after["VmRSS"]}
                page.context.close()
            chromium.close()
    finally:
        server.terminate()
        server.wait(10)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", action="append", type=Path, help="a checkout of the studio (repeatable)")
    ap.add_argument("--mb", type=float, default=199.0, help="the CSV's size in millions of bytes")
    ap.add_argument("--limit-s", type=float, default=300.0, help="give up on a browser upload after this long")
    ap.add_argument("--out", type=Path, default=ROOT / "test-artifacts" / "upload_measurements.json")
    args = ap.parse_args()
    roots = args.root or [ROOT]
    results: dict = {"machine": f"{os.cpu_count()} cores", "csv_bytes": int(args.mb * 1e6)}
    with tempfile.TemporaryDirectory() as tmp:
        csv, wide = Path(tmp) / f"big{args.mb:g}.csv", Path(tmp) / "wide.parquet"
        make_csv(csv, int(args.mb * 1e6))
        make_wide_parquet(wide)
        for root in roots:
            res = {"library": {p.name: library(root, p) for p in (csv, wide)},
                   "browser": browser(root, [csv, wide], args.limit_s)}
            results[str(root)] = res
            print(json.dumps({str(root): res}, indent=2), flush=True)
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
