"""Streamlit AppTest tests for uploads that the parser used to read differently by size.

A CSV whose header names a column twice used to load under 1 MiB with the second column silently renamed
('y.1'), and from 1 MiB up with both columns named 'y' (then every page failed). Now both sizes are refused
with one message, and the dataset loaded before stays, page by page.
"""

from __future__ import annotations

import pandas as pd
import pytest
from app_support import (
    goto,
    start,
    texts,
    upload,
)

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
