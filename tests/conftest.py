"""Shared fixtures: the tutorial's data and a small multi-feature problem."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

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


@pytest.fixture(scope="session")
def browser():
    """One Debian Chromium, driven by Playwright, for every browser test module."""
    from playwright.sync_api import expect, sync_playwright

    from studio.testing import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run scripts/test.sh, which installs Debian's chromium.")
    # Waits on page state, not time limits: on a loaded 2-core CI machine Chromium can take seconds to
    # render live charts and deliver a click, so give expect() more than its 5 s default.
    expect.set_options(timeout=30_000)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
