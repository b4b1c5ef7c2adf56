"""Streamlit AppTest tests for uploads that the parser used to read differently by size.

A CSV whose header names a column twice used to load under 1 MiB with the second column silently renamed
('y.1'), and from 1 MiB up with both columns named 'y' (then every page failed). Now both sizes are refused
with one message, and the dataset loaded before stays, page by page.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from app_support import (
    goto,
    plain,
    start,
    texts,
    upload,
)

from linreg_core import read_csv, read_upload

IRIS = "Iris flowers (Plotly)"
ONE_MIB = 1 << 20


def duplicate_header_csv(size: str) -> bytes:
    rows = b"".join(b"%d.5,%d,%d.25\n" % (i, 2 * i + 1, 3 * i) for i in range(20))
    if size == "big":
        rows *= ONE_MIB // len(rows) + 1
    return b"x,y,y\n" + rows


@pytest.mark.parametrize("size", ["small", "big"])
def test_duplicate_header_is_refused_and_the_previous_data_stays(size):
    data = duplicate_header_csv(size)
    assert (len(data) >= ONE_MIB) == (size == "big")
    at = goto(start(), "data")
    at.button(key="preset_iris").click().run()
    assert not at.exception and at.session_state.ds_name == IRIS
    before = at.session_state.ds_df.copy()

    upload(at, "dup.csv", data)
    assert texts(at.error) == [
        "Could not load **dup.csv**: The header names column 'y' twice (columns 2 and 3). Give every column a "
        "unique name and load the file again. The previous dataset is still loaded."
    ]
    assert at.session_state.ds_name == IRIS
    pd.testing.assert_frame_equal(at.session_state.ds_df, before)
    for page in ("train", "results", "how_it_works", "data"):
        goto(at, page)  # asserts no exception element
        assert not at.exception, page
    assert not at.error  # the refusal was said once, on the page where the file was dropped
    assert texts(at.success) == ["Ready: 150 rows, model petal_width ~ petal_length."]


def test_a_parquet_upload_loads_like_a_csv(tmp_path):
    import plotly.express as px

    tips = px.data.tips()
    path = tmp_path / "tips.parquet"
    tips.to_parquet(path)
    at = upload(goto(start(), "data"), "tips.parquet", path.read_bytes())
    assert texts(at.success)[0].startswith("Loaded **tips.parquet**: 244 rows")
    pd.testing.assert_frame_equal(at.session_state.ds_df, tips)
    upload(at, "broken.parquet", b"PAR1 not really")
    assert "Could not read 'broken.parquet' as Parquet" in at.error[0].value
    assert len(at.session_state.ds_df) == 244  # the loaded data stays


# --------------------------------------------------------------------------- limits, and big files read with progress


def test_a_100000_column_parquet_is_refused_unread_and_the_previous_data_stays(monkeypatch):
    from test_uploads import wide_parquet, width_message

    from linreg_core import _sources

    data = wide_parquet(100_000)  # 2 rows; loading it used to take over 80 s and ~940 MiB of the server

    def fail(*args, **kwargs):
        raise AssertionError("the data was read")

    monkeypatch.setattr(_sources.pd, "read_parquet", fail)
    at = goto(start(), "data")
    at.button(key="preset_iris").click().run()
    before = at.session_state.ds_df.copy()
    upload(at, "wide.parquet", data)
    assert texts(at.error) == [f"Could not load **wide.parquet**: {width_message(100_000, 'parquet')} The previous "
                               "dataset is still loaded."]
    assert at.session_state.ds_name == IRIS
    pd.testing.assert_frame_equal(at.session_state.ds_df, before)


@pytest.fixture
def read_with_progress(monkeypatch):
    """Every CSV upload takes the big-file path: read in the page with a progress bar and a Stop button. Yields
    the progress reports of each read."""
    from studio import uploads

    reads: list[list[tuple[int, int]]] = []

    def reporting(*args, progress=None, **kwargs):
        told = []
        reads.append(told)
        return read_upload(*args, progress=lambda *a: (told.append(a), progress(*a)), **kwargs)

    monkeypatch.setattr(uploads, "PROGRESS_MB", 0.0)
    monkeypatch.setattr(uploads, "read_upload", reporting)
    return reads


def tricky_csv(rows: int = 3000) -> bytes:
    rng = np.random.default_rng(3)
    x = rng.standard_normal(rows) * 10.0 ** rng.integers(-30, 30, rows)
    lines = [f"{v!r},{i % 7 or ''},{'é日' if i % 5 else 'NA'},{'0x1F' if i == rows // 2 else i}"
             for i, v in enumerate(x.tolist())]
    return ("x, y ,label,code\n" + "\n".join(lines) + "\n").encode()


def test_a_csv_read_with_progress_loads_what_a_plain_read_loads(read_with_progress):
    data = tricky_csv()
    at = goto(start(), "data")
    upload(at, "tricky.csv", data)
    assert texts(at.success)[0] == "Loaded **tricky.csv**: 3,000 rows, columns x, y, label, code."
    assert at.session_state.ds_name == "tricky.csv"
    pd.testing.assert_frame_equal(at.session_state.ds_df, read_csv(data), check_exact=True)
    assert plain(at.caption[0].value).startswith("Current dataset: **tricky.csv** — 3,000 rows × 4 columns")
    assert not at.get("progress") and "_upload_pending" not in at.session_state  # the page drawn again, whole
    assert len(read_with_progress) == 1 and read_with_progress[0][-1] == (len(data), len(data))


def test_a_csv_refused_while_read_with_progress_keeps_the_previous_data(read_with_progress):
    data = tricky_csv() + b"1,2,3,4,5\n"
    at = goto(start(), "data")
    at.button(key="preset_iris").click().run()
    before = at.session_state.ds_df.copy()
    upload(at, "ragged.csv", data)
    assert len(read_with_progress) == 1 and read_with_progress[0]  # read with progress, and refused
    assert texts(at.error) == [
        "Could not load **ragged.csv**: Row 3001 (line 3002 of the file) has 5 fields but the header has 4. Every row "
        "needs the same number of comma-separated values. The previous dataset is still loaded."]
    assert at.session_state.ds_name == IRIS
    pd.testing.assert_frame_equal(at.session_state.ds_df, before)
