"""linreg_core._csv_arrow: a large plain CSV is parsed by Arrow, and the table is the one pandas' reader gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_data import SIZE_CASES, _big

import linreg_core._csv_arrow as arrow
from linreg_core import read_csv
from linreg_core.errors import LinregError


def _read(data: bytes, min_bytes: int, monkeypatch):
    monkeypatch.setattr(arrow, "MIN_BYTES", min_bytes)
    try:
        return read_csv(data)
    except LinregError as exc:
        return type(exc).__name__, str(exc)


@pytest.mark.parametrize("data", SIZE_CASES.values(), ids=SIZE_CASES.keys())
def test_every_reading_decision_is_the_same_with_arrow(data, monkeypatch, tmp_path):
    """The cases that pin down how cells are read (hexadecimal, huge integers, spaces, dates, booleans with gaps,
    duplicate and empty names, ragged rows, bad bytes…): Arrow enabled for every size gives pandas' table or error,
    whether it parses the bytes or reads the file itself."""
    for i, sample in enumerate((data, _big(data))):
        path = tmp_path / f"sample{i}.csv"
        path.write_bytes(sample)
        reference = _read(sample, 1 << 40, monkeypatch)
        for ours in (_read(sample, 0, monkeypatch), _read(path, 0, monkeypatch), _read(str(path), 1 << 40, monkeypatch)):
            if isinstance(reference, tuple):
                assert ours == reference  # the same error, word for word
            else:
                pd.testing.assert_frame_equal(ours, reference, check_exact=True)


@pytest.mark.parametrize("given", ["bytes", "path"])
def test_a_large_plain_file_is_parsed_by_arrow_bit_for_bit(given, monkeypatch, tmp_path):
    """Every number of a 5 MiB file of random 17-digit values equals Python's float() of its text, the text columns
    are text, every array is writable, and Arrow (not pandas) did the parsing — of the bytes, or reading the file."""
    rng = np.random.default_rng(7)
    n = 60_000
    values = rng.standard_normal((n, 3)) * 10.0 ** rng.integers(-30, 30, (n, 3))
    texts = [[repr(float(v)) for v in row] for row in values]
    words = rng.choice(["north", "south", "east"], n)
    data = ("a,b,c,region\n" + "\n".join(f"{r[0]},{r[1]},{r[2]},{w}" for r, w in zip(texts, words)) + "\n").encode()
    assert len(data) > arrow.MIN_BYTES
    calls = []
    reader = "parse_with_arrow" if given == "bytes" else "read_file_with_arrow"
    real = getattr(arrow, reader)
    monkeypatch.setattr(f"linreg_core._csv.{reader}", lambda *a: calls.append(1) or real(*a))
    monkeypatch.setattr("linreg_core._csv._parse", lambda *a, **k: pytest.fail("pandas parsed it"))
    path = tmp_path / "values.csv"
    path.write_bytes(data)
    df = read_csv(data if given == "bytes" else path)
    assert calls and df is not None
    for j, name in enumerate("abc"):
        assert df[name].dtype == np.float64 and df[name].to_numpy().flags.writeable
        assert df[name].tolist() == [float(r[j]) for r in texts]
    assert df["region"].tolist() == words.tolist()


def test_arrow_hands_back_what_only_pandas_reads_right():
    """A file Arrow would read differently is None here, so pandas reads it: integers past int64, hexadecimal, text
    after a space (pandas skips it), and a boolean column with a blank."""
    head = b"x,y\n" + b"1.5,2\n" * 1_000_000
    whole = b"x,y\n" + b"1,2\n" * 1_200_000
    for data in (whole + b"9223372036854775808,4\n", whole + b"123456789012345678901234567,4\n", head + b"0x10,4\n"):
        assert arrow.parse_with_arrow(data, ",") is None, data[-30:]
    # Beside numbers with a fraction, a huge integer is a float to pandas too: Arrow's table is kept.
    assert arrow.parse_with_arrow(head + b"9223372036854775808,4\n", ",") is not None
    assert arrow.parse_with_arrow(b"g,y\n" + b"a,2\n" * 1_500_000 + b" b,3\n", ",") is None
    assert arrow.parse_with_arrow(b"f,y\n" + b"True,2\n" * 600_000 + b",3\n", ",") is None
    assert arrow.parse_with_arrow(head + b"2.5,4\n", ",") is not None


def test_a_file_arrow_would_read_differently_is_read_by_pandas(tmp_path):
    """Read from a file, what Arrow reads differently is handed to pandas too: hexadecimal in an integer column (found
    in the file's bytes, since the table says 16), a NUL byte inside a text cell, bytes that are not UTF-8."""
    head = b"x,y\n" + b"1,2\n" * 1_500_000
    cases = {b"0x10,4\n": "'0x10'", b"a\x00b,4\n": "NUL bytes", b"\xff,4\n": "not valid UTF-8"}
    for tail, said in cases.items():
        path = tmp_path / "f.csv"
        path.write_bytes(head + tail)
        assert arrow.read_file_with_arrow(str(path), ",") is None, tail
        try:
            df = read_csv(path)
        except LinregError as exc:
            assert said in str(exc), (tail, str(exc))
        else:
            assert df["x"].dtype == object and df["x"].iloc[-1] == "0x10", tail  # pandas keeps it as text
    path.write_bytes(head + b"2,4\n")
    assert arrow.read_file_with_arrow(str(path), ",") is not None
