"""Shared fixtures: the tutorial's data, a small multi-feature problem, one Chromium and one app server per module.

Tiers (markers, registered in pyproject.toml): ``e2e`` — a real browser against `streamlit run app.py`; ``perf`` —
load, soak, deployment and measurement tests that start servers and drive many sessions. The fast tier is
``pytest -m "not e2e and not perf"``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
TUTORIAL_X = [1.0, 2.0, 3.0, 3.5]
TUTORIAL_Y = [2.0, 4.0, 6.0, 7.0]


@pytest.fixture
def tutorial_df() -> pd.DataFrame:
    return pd.DataFrame({"x": TUTORIAL_X, "y": TUTORIAL_Y})


@pytest.fixture
def tutorial_csv(tmp_path) -> str:
    path = tmp_path / "tutorial.csv"
    path.write_text("x,y\n" + "".join(f"{a},{b}\n" for a, b in zip(TUTORIAL_X, TUTORIAL_Y)))
    return str(path)


@pytest.fixture
def multi_df() -> pd.DataFrame:
    """Three features on very different scales, with noise: needs standardization to train fast."""
    rng = np.random.default_rng(7)
    n = 200
    df = pd.DataFrame({
        "a": rng.normal(0, 1, n),
        "b": rng.normal(50, 10, n),
        "c": rng.uniform(-1000, 1000, n),
    })
    df["y"] = 3.0 + 2.0 * df.a - 0.5 * df.b + 0.01 * df.c + rng.normal(0, 0.1, n)
    return df


# tests/app_support.py holds the shared AppTest helpers; rewrite its asserts so a failing check shows its values.
pytest.register_assert_rewrite("app_support")


@pytest.fixture(scope="module")
def browser():
    """A Debian Chromium, driven by Playwright, for each browser test module: started in about a second, and what a
    module leaves behind in it (8 tabs of a load test, waves of uploads) cannot reach the next module."""
    from playwright.sync_api import expect, sync_playwright

    from devtools.server import CHROMIUM_ARGS, TEST_CHROMIUM, watch_messages

    if not Path(TEST_CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {TEST_CHROMIUM}: run scripts/test.sh, which installs Debian's "
                    "chromium-headless-shell.")
    # Waits on page state, not time limits: on a loaded 2-core CI machine Chromium can take seconds to
    # render live charts and deliver a click, so give expect() more than its 5 s default.
    expect.set_options(timeout=30_000)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=TEST_CHROMIUM, args=CHROMIUM_ARGS)
        watch_messages(b)  # for devtools.server.settle
        yield b
        b.close()


def _short(module: str) -> str:
    """A test module's name without its package: ``test_browser_live``."""
    return module.rpartition(".")[2]


def server_log(module: str) -> Path:
    """Where the ``server`` fixture writes the log of test module ``module`` (its ``__name__``)."""
    return ARTIFACTS / f"{_short(module).removeprefix('test_')}-server.log"


@pytest.fixture(scope="module")
def server(request):
    """`streamlit run app.py`, started once per test module and polled healthy (Streamlit's own e2e fixture); yields
    its URL. What a module defines configures it: ``SERVER_ENV`` (environment variables for the server),
    ``MEASURED`` (a dict of figures, written to test-artifacts/<module>_measurements.json at the end) and
    ``CLEAN_LOG = True`` (the server's log must hold no traceback at the end)."""
    from devtools.server import streamlit_server

    module = request.module
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = server_log(module.__name__)
    with open(log_path, "w") as log:
        try:
            # Unbuffered: some tests read the log while the server runs.
            env = {"PYTHONUNBUFFERED": "1", **getattr(module, "SERVER_ENV", {})}
            with streamlit_server(log, env=env) as url:
                yield url
        except RuntimeError as exc:  # it did not start: say where its log is
            pytest.fail(f"{exc}; see {log_path}")
    measured = getattr(module, "MEASURED", None)
    if measured:
        (ARTIFACTS / f"{_short(module.__name__).removeprefix('test_')}_measurements.json").write_text(json.dumps(measured, indent=2))
    if getattr(module, "CLEAN_LOG", False):
        assert "Traceback" not in log_path.read_text(), f"the server logged a traceback: {log_path}"


# Parallel runs (pytest-xdist, as scripts/test.sh runs them): each module's tests stay on one worker, so a module's
# server starts once; the modules that crowd the machine with browser sessions (8 tabs, waves of tabs) share one
# group, so they never run at the same time as each other, and it goes first: it is the longest, and started last it
# would run alone at the end. The tests that each start a server of their own (a fresh server per page opened first)
# are a group each. (xdist's own ``xdist_group`` marks do not work with pytest 9, which no longer lets a plugin rename
# a test: the scheduler below groups by the tests' names instead.)
CROWD = {"test_load", "test_soak"}
OWN_SERVER_EACH = {"test_browser_first_visit"}


def group_of(nodeid: str) -> str:
    """The xdist work unit of test ``nodeid``: its module's file, "crowd", or the test itself."""
    file = nodeid.split("::", 1)[0]
    module = Path(file).stem
    return "crowd" if module in CROWD else nodeid if module in OWN_SERVER_EACH else file


def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class ByGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

    config.option.loadscopereorder = False  # the order below, not the most tests first
    return ByGroup(config, log)


def pytest_collection_modifyitems(config, items) -> None:
    """The longest work first, so that no long module is left to run alone at the end: the crowd, then the modules
    with browser or load tests, then the rest (library and AppTest modules: many short tests that fill the gaps)."""
    slow = {_short(i.module.__name__) for i in items if i.get_closest_marker("e2e") or i.get_closest_marker("perf")}

    def rank(item) -> int:
        module = _short(item.module.__name__)
        return 0 if module in CROWD else 1 if module in slow else 2

    items.sort(key=rank)  # stable: within a rank the files keep their order
