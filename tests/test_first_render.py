"""The Train page's first render imports no torch (issue 25): torch takes seconds to import and only training needs it.

Each test runs a fresh interpreter (this one has torch loaded by other tests) with the app in AppTest, and reports
what it saw as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

TESTS = Path(__file__).resolve().parent

PROBE = """
import json, sys, time
import studio.warmup as warmup
{setup}
from streamlit.testing.v1 import AppTest

APP = {app!r}


def finish_run(at):  # (tests/app_support.py's, which imports the library's trainer)
    run = at.session_state.run
    assert run.finished.wait(120), "the training job did not end"
    at.run()
    return run


out = {{}}
at = AppTest.from_file(APP, default_timeout=60)
at.session_state["ui_pace"] = "asap"
at.run()
out["exceptions"] = [str(e.value) for e in at.exception]
out["torch_after_first_run"] = "torch" in sys.modules
out["trainer_modules"] = sorted(m for m in sys.modules if m in ("linreg_core._trainer", "linreg_core._engines",
                                                                   "linreg_core._model", "linreg_core._device"))
out["devices"] = list(at.selectbox(key="_w_device").options)
out["preview_drawn"] = at.session_state["_previews"] is not None and len(at.session_state["_previews"]) > 0
{after}
print("RESULT " + json.dumps(out))
"""

TRAIN_TWICE = """
runs = []
for _ in range(2):
    at.button(key="btn_train").click().run()
    run = finish_run(at)
    runs.append((run.status, run.epochs_run, len(run.history)))
import torch
out["runs"] = runs
out["torch_threads"] = torch.get_num_threads()
out["exceptions_after"] = [str(e.value) for e in at.exception]
"""


def probe(setup: str, after: str) -> dict:
    code = PROBE.format(app=str(TESTS.parent / "app.py"), setup=textwrap.dedent(setup), after=textwrap.dedent(after))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=TESTS.parent)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def test_the_train_pages_first_run_imports_no_torch_and_train_still_works_twice():
    # The preload imports what the page imports, never torch: whatever torch is loaded, the page loaded it.
    seen = probe("warmup._preload = warmup.page_imports", TRAIN_TWICE)
    assert seen["exceptions"] == [] and seen["exceptions_after"] == []
    assert seen["torch_after_first_run"] is False
    assert seen["trainer_modules"] == []
    assert seen["devices"] == ["auto (best available)", "CPU (1 threads)"]  # what it listed with torch loaded
    assert seen["preview_drawn"]
    assert seen["runs"] == [["completed", 100, 100], ["completed", 100, 100]]
    assert seen["torch_threads"] == 1  # the thread policy, set by the Train press itself


def test_torch_is_preloaded_after_the_first_page_with_its_thread_policy():
    after = """
    out["torch_ready_at_once"] = warmup.torch_is_ready()
    deadline = time.monotonic() + 120
    while not warmup.torch_is_ready() and time.monotonic() < deadline:
        time.sleep(0.05)
    import torch
    out["torch_threads"] = torch.get_num_threads()
    """
    seen = probe("warmup.AFTER_FIRST_PAGE = 0.5", after)
    assert seen["exceptions"] == []
    assert seen["torch_after_first_run"] is False and seen["torch_ready_at_once"] is False
    assert seen["torch_threads"] == 1
