"""Tests for reading CSV (linreg_core._csv) and building designs (linreg_core._design): validation, messages, limits."""

from __future__ import annotations

import io
import os
import resource
import sys
import types

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes

from linreg_core import (
    Design,
    build_design,
    drop_incomplete_rows,
    fit_exact_design,
    polynomial_terms,
    read_csv,
    stream_design,
)
from linreg_core.errors import (
    ColumnNotFoundError,
    ConstantFeatureError,
    DataError,
    EmptyDataError,
    InsufficientDataError,
    LinregError,
    NonFiniteError,
    NonNumericError,
    ParameterError,
)

SIMPLE_CSV = b"x,y\n1,2\n2,4.5\n3,5.5\n4,8\n"


def _frame(**cols: list) -> pd.DataFrame:
    return pd.DataFrame(cols)


# --------------------------------------------------------------------------- sources


def _assert_simple(df: pd.DataFrame) -> None:
    assert list(df.columns) == ["x", "y"]
    np.testing.assert_array_equal(df["x"].to_numpy(dtype=float), [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(df["y"].to_numpy(dtype=float), [2.0, 4.5, 5.5, 8.0])


def test_read_csv_from_str_path(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(SIMPLE_CSV)
    _assert_simple(read_csv(str(path)))


def test_read_csv_from_pathlike(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(SIMPLE_CSV)
    _assert_simple(read_csv(path))


def test_read_csv_from_bytes_and_bytearray():
    _assert_simple(read_csv(SIMPLE_CSV))
    _assert_simple(read_csv(bytearray(SIMPLE_CSV)))


def test_read_csv_from_binary_file_object():
    _assert_simple(read_csv(io.BytesIO(SIMPLE_CSV)))


def test_read_csv_from_text_file_object():
    _assert_simple(read_csv(io.StringIO(SIMPLE_CSV.decode())))


def test_read_csv_from_stdin_dash(monkeypatch):
    fake_stdin = types.SimpleNamespace(buffer=io.BytesIO(SIMPLE_CSV))
    monkeypatch.setattr(sys, "stdin", fake_stdin)
    _assert_simple(read_csv("-"))


# --------------------------------------------------------------------------- delimiters / encoding


def test_sniffs_comma():
    df = read_csv(b"a,b,c\n1,2,3\n4,5,6\n")
    assert list(df.columns) == ["a", "b", "c"]
    np.testing.assert_array_equal(df.to_numpy(dtype=float), [[1, 2, 3], [4, 5, 6]])


def test_sniffs_semicolon_with_dot_decimals():
    df = read_csv(b"a;b;c\n1.5;2;3\n4;5.25;6\n")
    assert list(df.columns) == ["a", "b", "c"]
    np.testing.assert_array_equal(df.to_numpy(dtype=float), [[1.5, 2, 3], [4, 5.25, 6]])


def test_sniffs_semicolon_with_decimal_commas():
    df = read_csv(b"x;y\n1,5;2,5\n3,25;4\n-0,5;1,5e3\n")
    assert list(df.columns) == ["x", "y"]
    assert pd.api.types.is_float_dtype(df["x"])
    assert pd.api.types.is_numeric_dtype(df["y"])
    np.testing.assert_array_equal(df["x"].to_numpy(), [1.5, 3.25, -0.5])
    np.testing.assert_array_equal(df["y"].to_numpy(dtype=float), [2.5, 4.0, 1500.0])


def test_semicolon_decimal_commas_single_data_row():
    df = read_csv(b"x;y\n1,5;2,5\n")
    assert list(df.columns) == ["x", "y"]
    np.testing.assert_array_equal(df.to_numpy(dtype=float), [[1.5, 2.5]])


def test_semicolon_decimal_comma_file_builds_a_design():
    design = build_design(read_csv(b"x;y\n1,5;2,5\n2,5;4,5\n3,5;7,0\n"), "y")
    assert design.features == ["x"]
    np.testing.assert_array_equal(design.X[:, 0], [1.5, 2.5, 3.5])
    np.testing.assert_array_equal(design.y, [2.5, 4.5, 7.0])


def test_sniffs_tab():
    df = read_csv(b"a\tb\n1.5\t2\n3\t4.5\n")
    assert list(df.columns) == ["a", "b"]
    np.testing.assert_array_equal(df.to_numpy(dtype=float), [[1.5, 2], [3, 4.5]])


def test_utf8_bom_is_dropped_from_first_column_name():
    df = read_csv(b"\xef\xbb\xbfx,y\n1,2\n3,4\n")
    assert list(df.columns) == ["x", "y"]
    assert df.columns[0] == "x"  # no '\ufeffx'
    design = build_design(df, "y", ["x"])
    assert design.features == ["x"]


def test_header_whitespace_is_stripped():
    df = read_csv(b"x , y\n1, 2\n3, 4\n")
    assert list(df.columns) == ["x", "y"]
    np.testing.assert_array_equal(df["y"].to_numpy(dtype=float), [2.0, 4.0])


# --------------------------------------------------------------------------- reading errors


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(DataError, match="not found") as exc:
        read_csv(str(missing))
    assert "nope.csv" in str(exc.value)


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(DataError, match="folder"):
        read_csv(str(tmp_path))


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(EmptyDataError, match="empty"):
        read_csv(path)


def test_whitespace_only_file():
    with pytest.raises(EmptyDataError, match="empty"):
        read_csv(b"   \n\n \t \n")


@pytest.mark.parametrize("sep", [b",", b";", b"\t"], ids=["comma", "semicolon", "tab"])
def test_header_only_names_the_columns(sep):
    with pytest.raises(EmptyDataError) as exc:
        read_csv(b"height" + sep + b"weight\n")
    msg = str(exc.value)
    assert "'height', 'weight'" in msg
    assert "no data rows" in msg


@pytest.mark.parametrize(
    ("raw", "line"),
    [
        (b"x,y\n1,2\n3,4,5\n6,7\n", 3),
        (b"x,y\n1,2\n3,4\n5,6\n7,8,9\n", 5),
    ],
)
def test_ragged_rows_name_the_line(raw, line):
    with pytest.raises(DataError) as exc:
        read_csv(raw)
    msg = str(exc.value)
    assert f"Row {line - 1} (line {line} of the file)" in msg
    assert "3 fields" in msg
    assert "header has 2" in msg


def test_every_row_with_one_extra_field_is_ragged_not_an_index():
    # pandas would silently turn the first column into the row index here,
    # shifting every value one column to the left.
    with pytest.raises(DataError) as exc:
        read_csv(b"x,y\n1,2,3\n4,5,6\n")
    assert "Row 1 (line 2 of the file)" in str(exc.value)
    assert "header has 2" in str(exc.value)


def test_trailing_delimiter_does_not_shift_columns():
    # Exports often end every data line with a delimiter. Either refuse the file
    # or keep x and y in their own columns -- never move y's values into x.
    try:
        df = read_csv(b"x,y\n1,2,\n3,4,\n5,7,\n")
    except DataError:
        return
    np.testing.assert_array_equal(df["x"].to_numpy(dtype=float), [1.0, 3.0, 5.0])
    np.testing.assert_array_equal(df["y"].to_numpy(dtype=float), [2.0, 4.0, 7.0])


@pytest.mark.parametrize("signature", [b"PK\x03\x04\x14\x00\x06\x00", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"])
def test_excel_workbook_is_recognised(signature):
    with pytest.raises(DataError, match="Excel"):
        read_csv(signature + b"\x00" * 40 + b"rest of workbook")


def test_binary_with_nul_bytes():
    with pytest.raises(DataError) as exc:
        read_csv(b"x,y\n1,\x00\x002\n3,4\n")
    assert "binary" in str(exc.value)
    assert "NUL" in str(exc.value)


def test_non_utf8_bytes():
    with pytest.raises(DataError) as exc:
        read_csv(b"x,y\n\xff\xfe,1\n")
    msg = str(exc.value)
    assert "UTF-8" in msg
    assert "0xff" in msg


def test_all_library_errors_share_the_base_class():
    with pytest.raises(LinregError):
        read_csv(b"")
    with pytest.raises(ValueError):
        read_csv(b"")


# --------------------------------------------------------------------------- build_design errors


def test_column_not_found_exact_message():
    df = _frame(x=[1.0, 2.0, 3.0], y=[1.0, 2.0, 4.0])
    with pytest.raises(ColumnNotFoundError) as exc:
        build_design(df, "price")
    assert str(exc.value) == "Column 'price' not found. Available columns: 'x', 'y'."


def test_feature_not_found():
    df = _frame(x=[1.0, 2.0, 3.0], y=[1.0, 2.0, 4.0])
    with pytest.raises(ColumnNotFoundError) as exc:
        build_design(df, "y", ["x", "size"])
    assert str(exc.value) == "Column 'size' not found. Available columns: 'x', 'y'."


def test_non_numeric_cell_reports_1_based_data_row_and_column():
    rows = [f"{i},{2 * i}" for i in range(1, 17)] + ["abc,34", "18,36"]
    df = read_csv(("x,y\n" + "\n".join(rows) + "\n").encode())
    with pytest.raises(NonNumericError) as exc:
        build_design(df, "y", ["x"])
    err = exc.value
    assert err.row == 17
    assert err.column == "x"
    assert err.value == "abc"
    assert "'abc'" in str(err)
    assert "row 17" in str(err)
    assert "'x'" in str(err)


def test_non_numeric_target_cell():
    df = read_csv(b"x,y\n1,2\n2,3\n3,oops\n")
    with pytest.raises(NonNumericError) as exc:
        build_design(df, "y", ["x"])
    assert exc.value.row == 3
    assert exc.value.column == "y"


def test_nan_inf_and_blank_cells_raise_non_finite_with_rows():
    df = read_csv(b"x,y\n1,2\nnan,3\n4,inf\n5,\n6,7\n8,9\n")
    with pytest.raises(NonFiniteError) as exc:
        build_design(df, "y", ["x"])
    err = exc.value
    assert err.rows == [2, 3, 4]
    assert "3 row(s)" in str(err)
    assert "row 2" in str(err)


def test_non_finite_from_dataframe_with_negative_inf():
    df = _frame(x=[1.0, 2.0, -np.inf, 4.0, 5.0], y=[1.0, 2.0, 3.0, 4.0, np.nan])
    with pytest.raises(NonFiniteError) as exc:
        build_design(df, "y", ["x"])
    assert exc.value.rows == [3, 5]
    assert "2 row(s)" in str(exc.value)


def test_fewer_rows_than_parameters():
    df = _frame(x=[1.0, 2.0, 3.0], y=[1.0, 4.0, 9.0])
    with pytest.raises(InsufficientDataError) as exc:
        build_design(df, "y", ["x"], degree=3)
    msg = str(exc.value)
    assert "3 row(s)" in msg
    assert "4 parameters" in msg


def test_exactly_as_many_rows_as_parameters_is_allowed():
    df = _frame(x=[1.0, 2.0, 3.0], y=[1.0, 4.0, 9.0])
    design = build_design(df, "y", ["x"], degree=2)
    assert design.n_params == design.n_samples == 3


def test_constant_feature():
    df = _frame(x=[1.0, 2.0, 3.0, 4.0], k=[5.0, 5.0, 5.0, 5.0], y=[1.0, 2.0, 3.0, 5.0])
    with pytest.raises(ConstantFeatureError) as exc:
        build_design(df, "y", ["x", "k"])
    assert "'k'" in str(exc.value)
    assert "constant" in str(exc.value)


def test_target_also_chosen_as_feature():
    df = _frame(x=[1.0, 2.0, 3.0], y=[1.0, 2.0, 4.0])
    with pytest.raises(DataError) as exc:
        build_design(df, "y", ["x", "y"])
    assert "'y' is the target" in str(exc.value)


def test_duplicate_feature():
    df = _frame(x=[1.0, 2.0, 3.0], z=[0.0, 1.0, 0.0], y=[1.0, 2.0, 4.0])
    with pytest.raises(DataError) as exc:
        build_design(df, "y", ["x", "z", "x"])
    assert "'x'" in str(exc.value)
    assert "more than once" in str(exc.value)


def test_no_numeric_features():
    df = _frame(name=["a", "b", "c"], y=[1.0, 2.0, 3.0])
    with pytest.raises(DataError) as exc:
        build_design(df, "y")
    msg = str(exc.value)
    assert "No numeric feature columns" in msg
    assert "'name'" in msg


def test_empty_feature_list():
    df = _frame(x=[1.0, 2.0, 3.0], y=[1.0, 2.0, 4.0])
    with pytest.raises(DataError, match="No feature columns"):
        build_design(df, "y", [])


@pytest.mark.parametrize("degree", [0, 21, -1, 2.0, 1.5, "2", True, None])
def test_bad_degree(degree):
    df = _frame(x=[1.0, 2.0, 3.0, 4.0], y=[1.0, 2.0, 4.0, 3.0])
    with pytest.raises(ParameterError) as exc:
        build_design(df, "y", ["x"], degree=degree)
    msg = str(exc.value)
    assert "'degree'" in msg
    assert "[1, 20]" in msg
    assert repr(degree) in msg


def test_degree_20_and_numpy_int_are_accepted():
    x = np.linspace(-1.0, 1.0, 25)
    df = _frame(x=x, y=x**3)
    assert build_design(df, "y", ["x"], degree=20).X.shape == (25, 20)
    assert build_design(df, "y", ["x"], degree=np.int64(2)).terms == ["x", "x^2"]


def test_degree_overflow_raises_non_finite():
    df = _frame(x=[1e100, 2e100, 3e100, 4e100, 5e100, 6e100], y=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    with pytest.raises(NonFiniteError) as exc:
        build_design(df, "y", ["x"], degree=4)
    assert "degree 4" in str(exc.value)
    assert "overflow" in str(exc.value)


# --------------------------------------------------------------------------- design contents


def test_default_features_are_numeric_columns_but_target_and_text_is_ignored():
    df = read_csv(b"a,name,y,b\n1,foo,2,5\n2,bar,3,3\n4,baz,7,1\n5,qux,8,0\n")
    design = build_design(df, "y")
    assert design.features == ["a", "b"]
    assert design.terms == ["a", "b"]
    assert design.target == "y"
    np.testing.assert_array_equal(design.X, [[1, 5], [2, 3], [4, 1], [5, 0]])
    np.testing.assert_array_equal(design.y, [2, 3, 7, 8])
    assert design.X.dtype == np.float64
    assert design.y.dtype == np.float64


def test_default_features_skip_boolean_columns():
    df = _frame(x=[1.0, 2.0, 3.0, 5.0], flag=[True, False, True, False], y=[1.0, 3.0, 2.0, 4.0])
    assert build_design(df, "y").features == ["x"]


def test_polynomial_terms_names():
    assert polynomial_terms(["x"], 3) == ["x", "x^2", "x^3"]
    assert polynomial_terms(["a", "b"], 2) == ["a", "a^2", "b", "b^2"]
    assert polynomial_terms(["x"], 1) == ["x"]


def test_polynomial_design_columns():
    x = np.array([-2.0, -0.5, 0.0, 1.0, 1.5, 3.0])
    df = _frame(x=x, y=np.sin(x))
    design = build_design(df, "y", ["x"], degree=3)
    assert design.terms == ["x", "x^2", "x^3"]
    assert design.degree == 3
    np.testing.assert_array_equal(design.X[:, 0], x)
    np.testing.assert_array_equal(design.X[:, 1], x**2)
    np.testing.assert_array_equal(design.X[:, 2], x**3)
    np.testing.assert_array_equal(design.y, np.sin(x))
    assert design.n_samples == 6
    assert design.n_params == 4


def test_two_feature_polynomial_design_order():
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    b = np.array([2.0, -1.0, 0.5, 3.0, 1.0, 0.0])
    design = build_design(_frame(a=a, b=b, y=a + b), "y", ["b", "a"], degree=2)
    assert design.terms == ["b", "b^2", "a", "a^2"]
    np.testing.assert_array_equal(design.X, np.column_stack([b, b**2, a, a**2]))


def test_no_intercept_design_n_params():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    design = build_design(_frame(x=x, y=2 * x), "y", ["x"], degree=2, fit_intercept=False)
    assert design.fit_intercept is False
    assert design.X.shape == (4, 2)
    assert design.n_params == 2
    with_intercept = build_design(_frame(x=x, y=2 * x), "y", ["x"], degree=2)
    assert with_intercept.n_params == 3


def test_no_intercept_design_allows_constant_feature_and_n_equal_k():
    df = _frame(k=[2.0, 2.0], y=[1.0, 3.0])
    design = build_design(df, "y", ["k"], fit_intercept=False)
    assert design.n_params == 1
    with pytest.raises(ConstantFeatureError):
        build_design(_frame(k=[2.0, 2.0, 2.0], y=[1.0, 3.0, 4.0]), "y", ["k"])


def test_design_transform_expands_new_values():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    design = build_design(_frame(x=x, y=x**2), "y", ["x"], degree=3)
    new = np.array([2.0, -3.0, 0.5])
    np.testing.assert_array_equal(design.transform(new), np.column_stack([new, new**2, new**3]))
    np.testing.assert_array_equal(design.transform(new.reshape(-1, 1)), design.transform(new))
    np.testing.assert_array_equal(design.transform(x), design.X)


def test_design_transform_two_features_and_wrong_width():
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 7.0])
    b = np.array([0.0, 1.0, 0.0, 2.0, 1.0, 3.0])
    design = build_design(_frame(a=a, b=b, y=a - b), "y", ["a", "b"], degree=2)
    new = np.array([[2.0, 3.0], [-1.0, 0.5]])
    expected = np.column_stack([new[:, 0], new[:, 0] ** 2, new[:, 1], new[:, 1] ** 2])
    np.testing.assert_array_equal(design.transform(new), expected)
    with pytest.raises(DataError) as exc:
        design.transform(np.ones((2, 3)))
    assert "Expected 2 feature columns" in str(exc.value)
    assert "'a', 'b'" in str(exc.value)


def test_design_is_a_frozen_dataclass():
    design = build_design(_frame(x=[1.0, 2.0, 3.0], y=[1.0, 2.0, 4.0]), "y", ["x"])
    assert isinstance(design, Design)
    with pytest.raises(AttributeError):
        design.degree = 2  # type: ignore[misc]


# --------------------------------------------------------------------------- drop_incomplete_rows


def test_drop_incomplete_rows_returns_count_dropped():
    df = read_csv(b"x,y,note\n1,2,a\nnan,3,b\n4,inf,c\n5,,d\n6,7,\n8,9,e\n")
    clean, dropped = drop_incomplete_rows(df, ["x", "y"])
    assert dropped == 3
    assert len(clean) == 3
    np.testing.assert_array_equal(clean["x"].to_numpy(dtype=float), [1.0, 6.0, 8.0])
    np.testing.assert_array_equal(clean["y"].to_numpy(dtype=float), [2.0, 7.0, 9.0])
    assert list(clean.index) == [0, 1, 2]
    design = build_design(clean, "y", ["x"])
    assert design.n_samples == 3


def test_drop_incomplete_rows_treats_text_as_incomplete_and_ignores_other_columns():
    df = _frame(x=["1", "two", "3", "4"], y=[1.0, 2.0, np.nan, 4.0], other=[np.nan, 1.0, 2.0, 3.0])
    clean, dropped = drop_incomplete_rows(df, ["x", "y"])
    assert dropped == 2
    assert list(clean["x"]) == ["1", "4"]


def test_drop_incomplete_rows_nothing_to_drop():
    df = _frame(x=[1.0, 2.0], y=[3.0, 4.0])
    clean, dropped = drop_incomplete_rows(df, ["x", "y"])
    assert dropped == 0
    pd.testing.assert_frame_equal(clean, df)


# --------------------------------------------------------------------------- property: round trip

_NAMES = ["a", "b", "c", "d"]
_FINITE = st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=False, width=64)


@st.composite
def _finite_frames(draw) -> pd.DataFrame:
    n_cols = draw(st.integers(min_value=1, max_value=4))
    cols = [column(name, elements=_FINITE, dtype=float) for name in _NAMES[:n_cols]]
    return draw(data_frames(cols, index=range_indexes(min_size=1, max_size=20)))


@pytest.mark.parametrize("sep", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
@settings(max_examples=50, deadline=None)
@given(df=_finite_frames())
def test_roundtrip_finite_floats(sep, df):
    text = df.to_csv(index=False, sep=sep)
    back = read_csv(text.encode("utf-8"))
    assert list(back.columns) == list(df.columns)
    assert back.shape == df.shape
    np.testing.assert_allclose(back.to_numpy(dtype=np.float64), df.to_numpy(dtype=np.float64), rtol=1e-12, atol=0)


@pytest.mark.parametrize("values,phrase", [
    ([1e300, 2e300, 3e300, 4e300], "divide it by 1e297"),
    ([1e-300, 2e-300, 3e-300, 5e-300], "multiply it by 1e296"),
])
def test_huge_and_tiny_magnitudes_are_refused_with_the_fix(values, phrase):
    with pytest.raises(DataError) as exc:
        build_design(_frame(x=values, y=[1.0, 2.0, 3.0, 5.0]), "y", ["x"])
    assert "Column 'x'" in str(exc.value) and phrase in str(exc.value)


def test_polynomial_terms_too_large_name_the_term():
    with pytest.raises(DataError, match=r"Term 'x\^2' reaches 1.6e\+201"):
        build_design(_frame(x=[1e100, 2e100, 3e100, 4e100], y=[1.0, 2.0, 3.0, 4.0]), "y", ["x"], degree=2)


def test_large_but_safe_magnitudes_still_fit():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0]) * 1e140
    design = build_design(_frame(x=x, y=3e-130 * x + 7.0), "y", ["x"])
    from linreg_core import fit_exact
    exact = fit_exact(design.X, design.y)
    # y ~ 1e11 carries ~1e-5 of rounding, so that is all the intercept can resolve
    assert exact.coef[0] == pytest.approx(3e-130, rel=1e-9) and exact.intercept == pytest.approx(7.0, abs=1e-4)


def test_max_bytes_refuses_big_input_with_the_way_out():
    with pytest.raises(DataError, match=r"over the 0 MB limit.*--out-of-core"):
        read_csv(b"x,y\n" + b"1,2\n" * 1000, max_bytes=100)


def test_one_row_is_too_few_for_a_line():
    with pytest.raises(InsufficientDataError, match=r"1 row\(s\) are too few to fit 2 parameters.*at least 2 rows"):
        build_design(read_csv(b"x,y\n1,2\n"), "y")


# --------------------------------------------------------------------------- one behaviour whatever the size

ONE_MIB = 1 << 20


def _big(data: bytes) -> bytes:
    """``data`` with its data rows repeated until the file is over 1 MiB (the old parser switch)."""
    header, body = data.split(b"\n", 1)
    return header + b"\n" + body * (ONE_MIB // len(body) + 1)


def _outcome(data: bytes, tmp_path, name: str):
    """What read_csv gives for ``data`` as bytes and as a file: the frame, or the error's type and message."""
    path = tmp_path / name
    path.write_bytes(data)
    results = []
    for source in (data, path):
        try:
            results.append(read_csv(source))
        except LinregError as exc:
            results.append((type(exc).__name__, str(exc)))
    return results


SIZE_CASES = {
    "hex": b"x,y\n0x10,1\n2,3\n",
    "exponent": b"x,y\n1e5,1\n2.5E-3,3\n",
    "infinities": b"x,y\ninf,1\n-inf,3\nInfinity,4\n",
    "missing_tokens": b"x,y\nnan,1\nNA,3\nnull,4\n,5\nNaN,6\nN/A,7\n",
    "spaces_around_numbers": b"x,y\n 1 ,1\n2  ,3\n",
    "decimal_commas": b"x;y\n1,5;1\n-2,25;3\n",
    "thousands_separators": b"x;y\n1.000,5;1\n2;3\n",
    "quoted_thousands": b'x,y\n"1,000",1\n"2,500",3\n',
    "iso_dates": b"d,y\n2024-01-02,1\n2024-01-03,3\n",
    "iso_datetimes": b"d,y\n2024-01-02T10:00:00,1\n2024-01-03 11:30:00,3\n",
    "booleans": b"x,y,f\n1,2,True\n2,3,False\n",
    "bool_with_gap": b"x,y,f\n1,2,True\n2,3,\n",
    "int_beyond_int64": b"x,y\n9223372036854775808,1\n2,3\n",
    "int_beyond_uint64": b"x,y\n99999999999999999999,1\n2,3\n",
    "quoted_numbers": b'x,y\n"1",1\n"2.5",3\n',
    "digits_beyond_double": b"x,y\n0.1,1\n-0.009324338361103024,2\n1.7976931348623157e308,3\n5e-324,4\n",
    "text_column": b"name,y\nfoo,1\nbar,2\n",
    "empty_header_name": b",y\n1,2\n3,4\n",
    "trailing_delimiters": b"x,y,\n1,2,\n3,4,\n",
    "bom_and_tabs": b"\xef\xbb\xbfx\ty\n1\t2\n3\t4\n",
    "duplicate_header": b"x,x,y\n1,2,3\n4,5,6\n",
    "duplicate_after_strip": b"x, y,y \n1,2,3\n4,5,6\n",
    "ragged_row": b"x,y\n1,2\n3,4,5\n",
    "nul_byte": b"x,y\n1,2\n3,\x004\n",
    "not_utf8": b"x,y\n1,2\n\xff,3\n",
}


@pytest.mark.parametrize("data", SIZE_CASES.values(), ids=SIZE_CASES.keys())
def test_small_and_big_files_are_read_the_same_way(tmp_path, data):
    big = _big(data)
    assert len(big) >= ONE_MIB
    outcomes = _outcome(data, tmp_path, "small.csv") + _outcome(big, tmp_path, "big.csv")
    first = outcomes[0]
    for other in outcomes[1:]:
        if isinstance(first, tuple):
            assert other == first  # the same error, word for word
        else:
            assert isinstance(other, pd.DataFrame), other
            pd.testing.assert_frame_equal(other.head(len(first)), first, check_exact=True)


def test_reading_cells_the_same_way_at_every_size():
    # the decisions behind the equal frames above, spelled out
    df = read_csv(SIZE_CASES["hex"])
    assert df["x"].tolist() == ["0x10", "2"]  # text, so the fit names the cell
    assert read_csv(SIZE_CASES["iso_dates"])["d"].tolist() == ["2024-01-02", "2024-01-03"]
    assert read_csv(SIZE_CASES["booleans"])["f"].dtype == bool
    assert read_csv(SIZE_CASES["int_beyond_uint64"])["x"].dtype == object
    assert read_csv(SIZE_CASES["missing_tokens"])["x"].isna().all()
    assert read_csv(SIZE_CASES["empty_header_name"]).columns.tolist() == ["Unnamed: 0", "y"]
    exact = read_csv(SIZE_CASES["digits_beyond_double"])["x"].tolist()
    assert exact == [0.1, -0.009324338361103024, 1.7976931348623157e308, 5e-324]  # correctly rounded


def test_a_column_that_turns_to_text_late_in_a_big_file_is_text_throughout():
    # The parser types a big file in blocks of rows; the column must not come back half floats, half strings.
    data = b"x,y\n" + b"1.5,2\n" * 200_000 + b"abc,3\n"
    x = read_csv(data)["x"]
    assert x.map(type).eq(str).all()
    assert x.iloc[0] == "1.5" and x.iloc[-1] == "abc"
    with pytest.raises(NonNumericError, match="'abc' at row 200001"):
        build_design(read_csv(data), "y", ["x"])


@pytest.mark.parametrize("header,message", [
    (b"x,x,y", "The header names column 'x' twice (columns 1 and 2)."),
    (b"x,y,y", "The header names column 'y' twice (columns 2 and 3)."),
    (b"y, x,x ,x", "The header names column 'x' 3 times (columns 2, 3 and 4)."),
])
@pytest.mark.parametrize("size", ["small", "big"])
def test_duplicate_header_names_are_refused(header, message, size, tmp_path):
    data = header + b"\n" + b",".join([b"1"] * (header.count(b",") + 1)) + b"\n"
    data = _big(data) if size == "big" else data
    expected = f"{message} Give every column a unique name and load the file again."
    with pytest.raises(DataError) as exc:
        read_csv(data)
    assert str(exc.value) == expected
    path = tmp_path / "dup.csv"
    path.write_bytes(data)
    with pytest.raises(DataError) as exc:
        stream_design(path, "y")
    assert str(exc.value) == expected


def test_stream_design_reads_decimal_commas_like_read_csv(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_bytes(b"x;y\n1,5;2\n2,5;4\n3,5;7\n")
    streamed = stream_design(path, "y", chunk_rows=2)
    design = build_design(read_csv(path), "y")
    np.testing.assert_allclose(fit_exact_design(streamed).params, fit_exact_design(design).params, rtol=1e-12)


# --------------------------------------------------------------------------- inputs that are not plain files


def test_closed_stdin_is_a_data_error(monkeypatch):
    monkeypatch.setattr(sys, "stdin", None)
    with pytest.raises(DataError, match=r"^Standard input is closed, so there is no data to read from '-'\."):
        read_csv("-")


def test_nul_bytes_after_the_head_name_their_offset(tmp_path):
    data = b"x,y\n" + b"1,2\n" * 50_000 + b"3,\x00\n"
    path = tmp_path / "late.csv"
    path.write_bytes(data)
    for source in (data, path):
        with pytest.raises(DataError) as exc:
            read_csv(source)
        assert str(exc.value) == ("The file looks binary (it contains NUL bytes at byte 200,006), not CSV text. "
                                  "Expected a text CSV file.")


def test_sparse_hole_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "holey.csv"
    path.write_bytes(b"x,y\n1,2\n2,4\n3,7\n")
    os.truncate(path, 2**31)  # a 2 GB file that costs no disk: the rest reads as NUL bytes
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for read in (read_csv, lambda p: stream_design(p, "y")):
        with pytest.raises(DataError, match=r"contains NUL bytes at byte 16\)"):
            read(path)
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024 < 2**28


def test_file_clearly_too_big_for_free_memory_is_refused(tmp_path, monkeypatch):
    import linreg_core._csv_input as data

    path = tmp_path / "big.csv"
    path.write_bytes(b"x,y\n" + b"1,2\n" * 300_000)
    monkeypatch.setattr(data, "_available_memory", lambda: 2**21)
    with pytest.raises(DataError) as exc:
        read_csv(path)
    assert str(exc.value) == (
        f"The file {str(path)!r} is 1.1 MB: loading it needs about 3.4 MB of memory and only 2.0 MB is free. "
        "Stream it instead (python -m linreg_core fit FILE --out-of-core keeps only its sufficient statistics), "
        "or use a smaller sample.")
    assert stream_design(path, "y", ["x"], fit_intercept=False).n_samples == 300_000  # streaming still works


# --------------------------------------------------------------------------- long values in messages


def test_long_cells_and_names_are_shortened_in_messages():
    cell, name = "q" * 50_000, "n" * 50_000
    with pytest.raises(NonNumericError) as exc:
        build_design(read_csv(f"x,y\n1,2\n{cell},3\n4,5\n".encode()), "y", ["x"])
    assert str(exc.value) == (f"Column 'x' has a non-numeric value '{'q' * 60}'… (50,000 characters) at row 2. "
                              "Expected numbers only; fix or remove that row (1 such cell(s) in this column).")
    assert exc.value.value == cell  # the attribute keeps the whole value
    with pytest.raises(ColumnNotFoundError) as exc:
        build_design(read_csv(f"{name},y\n1,2\n2,3\n".encode()), "z")
    assert str(exc.value) == f"Column 'z' not found. Available columns: '{'n' * 60}'… (50,000 characters), 'y'."


def test_stream_design_checks_the_whole_problem_not_each_chunk(tmp_path):
    # A last chunk of one row, and chunks in which x happens to be constant, are fine: only the whole file counts.
    path = tmp_path / "sorted.csv"
    path.write_text("x,y\n1,1\n1,2\n2,3\n2,5\n3,6\n")
    streamed = stream_design(path, "y", chunk_rows=2)
    np.testing.assert_allclose(fit_exact_design(streamed).params,
                               fit_exact_design(build_design(read_csv(path), "y")).params, rtol=1e-12)
    path.write_text("x,z,y\n1,4,1\n2,4,2\n3,4,4\n")
    with pytest.raises(ConstantFeatureError) as exc:
        stream_design(path, "y", chunk_rows=2)
    assert str(exc.value) == str(pytest.raises(ConstantFeatureError, build_design, read_csv(path), "y").value)


def test_duplicate_name_far_along_a_header_longer_than_the_sniffed_head(tmp_path):
    names = ["a" * 70_000] + [f"col{i}" for i in range(1, 1000)]  # a ~77 kB header line, within MAX_COLUMNS
    names[-1] = "col5"
    data = (",".join(names) + "\n" + ",".join(["1"] * len(names)) + "\n").encode()
    path = tmp_path / "wide.csv"
    path.write_bytes(data)
    message = ("The header names column 'col5' twice (columns 6 and 1000). Give every column a unique name and "
               "load the file again.")
    for read in (lambda: read_csv(data), lambda: stream_design(path, "col1")):
        with pytest.raises(DataError) as exc:
            read()
        assert str(exc.value) == message
