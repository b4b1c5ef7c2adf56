"""Limits on what an upload may be, checked before the data is read, and a CSV read with progress.

- A table wider than MAX_COLUMNS (10,000) is refused from a CSV's header line or a Parquet file's footer: a 2-row
  Parquet file of 100,000 columns used to keep the page busy for over 80 s and leave the server ~940 MiB larger.
- An upload holds at most MAX_CELLS rows × columns, CSV or Parquet; a Parquet file's footer gives both, so a few
  hundred kB that decompress to gigabytes are refused unread.
- ``progress`` follows the parser through the bytes and may stop it; the table is the one a plain read gives.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_data import SIZE_CASES, _big

from linreg_core import DataError, LinregError, _csv, _sources, load_sources, read_csv, read_upload, stream_design
from linreg_core._cli import main
from linreg_core._csv import MAX_CELLS, MAX_COLUMNS


def wide_csv(columns: int, rows: int = 2) -> bytes:
    header = ",".join(f"c{i}" for i in range(columns)).encode()
    return header + b"\n" + b"".join(",".join(str(r + i) for i in range(columns)).encode() + b"\n"
                                     for r in range(rows))


def wide_parquet(columns: int, index: bool = False) -> bytes:
    """A 2-row Parquet file of ``columns`` float columns (with pandas' stored index when ``index``)."""
    if index:
        df = pd.DataFrame(np.arange(2 * columns, dtype=float).reshape(2, columns), index=[7, 8],
                          columns=[f"c{i}" for i in range(columns)])
        buf = io.BytesIO()
        df.to_parquet(buf)
        return buf.getvalue()
    col = pa.array([0.0, 0.5])
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_arrays([col] * columns, names=[f"c{i}" for i in range(columns)]), buf)
    return buf.getvalue()


@pytest.fixture
def unread(monkeypatch):
    """Reading any data (not the footer or header) fails the test."""
    def fail(*args, **kwargs):
        raise AssertionError("the data was read")

    monkeypatch.setattr(_sources.pd, "read_parquet", fail)
    monkeypatch.setattr(_csv, "_parse", fail)


def width_message(columns: int, fmt: str, what: str = "This file") -> str:
    save = "to_csv('smaller.csv', index=False)" if fmt == "csv" else "to_parquet('smaller.parquet')"
    return (f"{what} has {columns:,} columns; the studio reads at most {MAX_COLUMNS:,}. Keep the columns you need "
            f"and load that file instead (in pandas: df[['x', 'y']].{save}).")


# --------------------------------------------------------------------------- the column limit


def test_a_csv_wider_than_the_limit_is_refused_from_its_header(unread):
    with pytest.raises(DataError) as exc:
        read_upload(wide_csv(MAX_COLUMNS + 1), "wide.csv")
    assert str(exc.value) == width_message(MAX_COLUMNS + 1, "csv")


def test_a_csv_at_the_limit_loads():
    df = read_upload(wide_csv(MAX_COLUMNS), "edge.csv")
    assert df.shape == (2, MAX_COLUMNS)


def test_a_100000_column_parquet_is_refused_from_its_footer(monkeypatch, unread):
    data = wide_parquet(100_000)

    def no_pyarrow(*args, **kwargs):  # not even the footer's full parse (~0.5 s and ~300 MB at this width)
        raise AssertionError("pyarrow parsed the footer")

    monkeypatch.setattr(pq, "ParquetFile", no_pyarrow)
    with pytest.raises(DataError) as exc:
        read_upload(data, "wide.parquet")
    assert str(exc.value) == width_message(100_000, "parquet")


def test_parquet_width_at_the_limit_counts_the_columns_pandas_gives():
    # pandas stores a frame's index as one more column in the file: the limit counts the frame's columns
    assert read_upload(wide_parquet(MAX_COLUMNS, index=True), "w.parquet").shape == (2, MAX_COLUMNS)


def test_parquet_one_column_over_the_limit_is_refused_from_its_footer(unread):
    with pytest.raises(DataError) as exc:
        read_upload(wide_parquet(MAX_COLUMNS + 1, index=True), "w.parquet")
    assert str(exc.value) == width_message(MAX_COLUMNS + 1, "parquet")


def test_the_limit_holds_for_the_command_line_and_for_folders(tmp_path, capsys):
    wide = MAX_COLUMNS + 1
    (tmp_path / "a").mkdir()
    csv_path = tmp_path / "a" / "wide.csv"
    csv_path.write_bytes(wide_csv(wide))
    pq_path = tmp_path / "wide.parquet"
    pq_path.write_bytes(wide_parquet(wide))
    expected = {str(csv_path): width_message(wide, "csv"),
                str(pq_path): width_message(wide, "parquet", f"The Parquet file {str(pq_path)!r}")}
    for path, message in expected.items():
        for extra in ([], ["--out-of-core"]):
            code = main(["fit", path, "--y", "c0", *extra])
            out = capsys.readouterr()
            assert code == 2 and out.out == ""
            assert out.err.strip() == f"error: {message}"  # one line, no traceback
    with pytest.raises(DataError) as exc:
        load_sources(str(tmp_path / "a"))  # a server data folder: the message names the file
    assert str(exc.value) == f"wide.csv: {width_message(wide, 'csv')}"
    with pytest.raises(DataError) as exc:
        stream_design(csv_path, "c0")
    assert str(exc.value) == width_message(wide, "csv")


def test_a_header_longer_than_16_mib_counts_what_it_saw(unread):
    # 1,000,000 names on a first line of 20 MB: the first 64 KiB, read as CSV, hold only ~3,300 of them
    data = b",".join(b"column_%012d" % i for i in range(1_000_000)) + b"\n1\n"
    with pytest.raises(DataError, match=r"^This file has at least [\d,]+ columns; the studio reads at most 10,000\."):
        read_csv(data)


# --------------------------------------------------------------------------- the cell budget


def test_a_small_parquet_file_of_60_million_cells_is_refused_unread(unread):
    col = pa.array(np.zeros(1_000_000))
    table = pa.table({f"c{i}": col for i in range(10)})
    buf = io.BytesIO()
    with pq.ParquetWriter(buf, table.schema) as writer:
        for _ in range(6):
            writer.write_table(table)
    data = buf.getvalue()
    assert len(data) < 1_000_000  # compresses to almost nothing
    with pytest.raises(DataError) as exc:
        read_upload(data, "bomb.parquet", max_bytes=200 * 2**20)
    assert str(exc.value) == (
        f"This file has 6,000,000 rows × 10 columns = 60,000,000 cells; an upload holds at most {MAX_CELLS:,}. Upload "
        "a sample or fewer columns, or fit it from the command line (python -m linreg_core fit FILE --out-of-core).")


def test_csv_and_parquet_uploads_share_the_cell_budget():
    df = pd.DataFrame({"x": np.arange(60.0), "y": np.arange(60.0) * 2})
    buf = io.BytesIO()
    df.to_parquet(buf)
    for data, name in ((df.to_csv(index=False).encode(), "d.csv"), (buf.getvalue(), "d.parquet")):
        assert read_upload(data, name, max_cells=120).shape == (60, 2)
        with pytest.raises(DataError, match=r"^This file has 60 rows × 2 columns = 120 cells; an upload holds at "
                                            r"most 119\."):
            read_upload(data, name, max_cells=119)


def test_a_parquet_file_bigger_than_the_free_memory_is_refused_unread(tmp_path, monkeypatch, unread):
    path = tmp_path / "big.parquet"
    pd.DataFrame({"x": np.arange(100_000.0), "y": np.ones(100_000)}).to_parquet(path)
    monkeypatch.setattr(_sources, "_available_memory", lambda: 1_000_000)
    with pytest.raises(DataError, match=r"holds 100,000 rows × 2 columns: loading it needs about 3\.1 MB of memory "
                                        r"and only 1\.0 MB is free\. Split it into smaller Parquet files"):
        _sources.read_file(str(path))


# --------------------------------------------------------------------------- progress


def reads(data: bytes, monkeypatch, block: int) -> tuple[object, list[tuple[int, int]]]:
    """read_csv(data) with progress told every ``block`` bytes: the frame or (error type, message), and the reports."""
    monkeypatch.setattr(_csv, "_PROGRESS_BLOCK", block)
    told: list[tuple[int, int]] = []
    try:
        return read_csv(data, progress=lambda done, total: told.append((done, total))), told
    except LinregError as exc:
        return (type(exc).__name__, str(exc)), told


def plain(data: bytes) -> object:
    try:
        return read_csv(data)
    except LinregError as exc:
        return type(exc).__name__, str(exc)


def assert_same(got: object, want: object) -> None:
    if isinstance(want, tuple):
        assert got == want  # the same error, word for word
    else:
        assert isinstance(got, pd.DataFrame), got
        pd.testing.assert_frame_equal(got, want, check_exact=True)


@pytest.mark.parametrize("size", ["small", "big"])
@pytest.mark.parametrize("data", SIZE_CASES.values(), ids=SIZE_CASES.keys())
def test_reading_with_progress_gives_the_same_table_or_error(data, size, monkeypatch):
    data = _big(data) if size == "big" else data
    got, told = reads(data, monkeypatch, 4096)
    assert_same(got, plain(data))
    if isinstance(got, pd.DataFrame):
        done = [d for d, _ in told]
        assert done == sorted(done) and told[-1] == (len(data), len(data))
        assert len(told) > (len(data) // 4096 if size == "big" else 0)


_CELL = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-2**70, max_value=2**70).map(str),
    st.sampled_from(["", " ", "NA", "nan", "True", "false", "0x1F", "1e5", "1,5", "2024-01-02", '"3"', "é", "日本",
                     "😀x"]),
    st.text(alphabet="abcé日😀 .-", max_size=6),
)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.lists(_CELL, min_size=3, max_size=3), min_size=1, max_size=30),
       sep=st.sampled_from([",", ";", "\t"]), block=st.integers(min_value=1, max_value=64),
       bom=st.booleans())
def test_progress_in_tiny_blocks_never_changes_the_table(rows, sep, block, bom):
    # Blocks of 1-64 bytes split multi-byte characters, quotes and lines at every place.
    text = sep.join(["a", "b é", "c"]) + "\n" + "".join(sep.join(r) + "\n" for r in rows)
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode()
    with pytest.MonkeyPatch.context() as mp:
        got, _ = reads(data, mp, block)
    assert_same(got, plain(data))


def test_a_column_that_turns_to_text_late_is_read_twice_with_progress(monkeypatch):
    # The parser types a big file in blocks of rows: a column of numbers, then text, is read again as text.
    data = b"x,y\n" + b"1.5,2\n" * 2_000_000 + b"abc,3\n"
    got, told = reads(data, monkeypatch, 1 << 18)
    assert_same(got, plain(data))
    done = [d for d, _ in told]
    assert sum(b < a for a, b in zip(done, done[1:])) == 1  # both passes are followed to the end
    assert done[-1] == len(data)


class Interrupt(BaseException):
    """What Streamlit raises at a Streamlit call when a click asks for a rerun (not an Exception)."""


def test_progress_may_abandon_the_read():
    data = b"x,y\n" + b"1.25,2\n" * 400_000
    told = []

    def stop_at_the_third(done, total):
        told.append(done)
        if len(told) == 3:
            raise Interrupt

    with pytest.raises(Interrupt):  # passed through the parser as it is, not turned into a DataError
        read_upload(data, "big.csv", progress=stop_at_the_third)
    assert len(told) == 3 and told[-1] < len(data)


@pytest.mark.parametrize("pandas_meta", [b"[1]", b"{not json", b'{"index_columns": 5}'], ids=["list", "bad-json", "int"])
def test_a_parquet_file_with_crafted_pandas_metadata_is_one_sentence(pandas_meta):
    """The footer's pandas metadata is JSON its writer chose: anything but what pandas writes is refused, not a crash."""
    table = pa.table({"x": [1.0, 2.0, 3.0], "y": [2.0, 4.0, 6.5]}).replace_schema_metadata({b"pandas": pandas_meta})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    try:
        df = read_upload(buf.getvalue(), "crafted.parquet")
    except DataError as exc:
        assert "crafted.parquet" in str(exc)
    else:
        assert list(df.columns) == ["x", "y"]
