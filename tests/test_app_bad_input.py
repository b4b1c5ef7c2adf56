"""Streamlit AppTest tests for bad input: every way a user can hand the dashboard data or settings it cannot use.

Each case drives the app as a user would (an upload on the Data page, a widget, or a crafted session value) and
checks that (1) nothing raises, (2) exactly one error is shown and it is the library's message, which says what
is wrong and how to fix it, (3) a refused upload keeps the previous dataset, and (4) the app is still usable:
the tutorial preset loads and trains to completion.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import streamlit.config
from app_support import (
    goto,
    library_error,
    plain,
    start,
    texts,
    train_clicked,
    upload,
)
from streamlit.testing.v1 import AppTest

from linreg_core import LinregError, TrainConfig, build_design, fit_exact_design, read_csv

IRIS = "Iris flowers (Plotly)"
IRIS_READY = "Ready: 150 rows, model petal_width ~ petal_length."


# --- helpers -----------------------------------------------------------------------------------------


def design_error(df: pd.DataFrame, target: str, features: list[str], degree: int = 1, intercept: bool = True) -> str:
    """The message the library gives for this column choice (what the Data page builds: design, then exact fit)."""
    with pytest.raises(LinregError) as info:
        fit_exact_design(build_design(df, target, features, degree, intercept))
    return str(info.value)


def data_page_with_iris() -> AppTest:
    """The Data page with Iris loaded: a dataset distinct from the tutorial, to see that it survives."""
    at = goto(start(), "data")
    at.button(key="preset_iris").click().run()
    assert not at.exception
    assert at.session_state.ds_name == IRIS
    return at


def upload_refused(at: AppTest, name: str, data: bytes, message: str) -> None:
    """The upload is refused with ``message`` and the dataset loaded before it stays, page by page."""
    before = at.session_state.ds_df.copy()
    version = at.session_state.ds_version
    upload(at, name, data)
    ss = at.session_state
    assert texts(at.error) == [f"Could not load **{name}**: {message} The previous dataset is still loaded."]
    assert ss.ds_name == IRIS
    assert ss.ds_version == version
    pd.testing.assert_frame_equal(ss.ds_df, before)
    assert texts(at.success) == [IRIS_READY]
    goto(at, "train")
    assert plain(at.caption[0].value).startswith(f"**{IRIS}** · 150 rows")
    goto(at, "data")


def upload_and_only_error(at: AppTest, name: str, data: bytes) -> str:
    """Upload a file that loads but cannot be fitted: it becomes the dataset, and one error says why."""
    upload(at, name, data)
    assert at.session_state.ds_name == name
    errors = texts(at.error)
    assert len(errors) == 1, errors
    assert not any(s.startswith("Ready") for s in texts(at.success))
    return errors[0]


def assert_still_usable(at: AppTest) -> None:
    """Whatever went before, the tutorial preset loads and trains to completion without an error."""
    goto(at, "data")
    at.button(key="preset_tutorial").click().run()
    assert not at.exception
    assert not at.error
    assert texts(at.success) == ["Ready: 4 rows, model y ~ x."]
    goto(at, "train")
    run = train_clicked(at)
    assert run.status == "completed", run.reason
    assert not at.error
    assert plain(at.success[0].value).startswith("**Completed** after")


def csv_bytes(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode()


# --- 1/2. Too few rows -------------------------------------------------------------------------------


def test_one_data_row_is_too_few():
    data = b"x,y\n1,2\n"
    at = goto(start(), "data")
    message = upload_and_only_error(at, "one.csv", data)
    assert message == design_error(read_csv(data), "y", ["x"])
    assert "1 row(s) are too few to fit 2 parameters" in message
    assert "at least 2 rows are needed" in message  # ...and how to fix it
    goto(at, "train")
    assert texts(at.error) == [f"The current data can't be trained on: {message}"]
    assert not [b for b in at.button if b.key == "btn_train"]
    assert_still_usable(at)


def test_polynomial_degree_needs_a_row_per_parameter():
    data = b"x,y\n1,2\n2,3\n3,5\n"
    at = goto(start(), "data")
    upload(at, "three.csv", data)
    assert texts(at.success)[-1] == "Ready: 3 rows, model y ~ x."
    at.number_input(key="_w_sel_degree").set_value(3).run()
    assert not at.exception
    assert at.session_state.sel_degree == 3
    message = design_error(read_csv(data), "y", ["x"], degree=3)
    assert texts(at.error) == [message]
    assert "3 row(s) are too few to fit 4 parameters" in message
    assert "'x', 'x^2', 'x^3'" in message  # names the terms
    assert "at least 4 rows are needed" in message and "lower degree" in message
    # Back to a degree the data supports: ready again, on the same data.
    at.number_input(key="_w_sel_degree").set_value(2).run()
    assert not at.exception and not at.error
    assert texts(at.success) == ["Ready: 3 rows, model y ~ x + x^2."]
    assert_still_usable(at)


# --- 3/4/13. Unidentifiable models: constant, duplicate, collinear columns; too high a degree ------------


def test_constant_feature_is_named():
    data = b"x,y\n5,1\n5,2\n5,3\n5,4\n"
    at = goto(start(), "data")
    message = upload_and_only_error(at, "flat.csv", data)
    assert message == design_error(read_csv(data), "y", ["x"])
    assert "Feature 'x' is constant (every row is 5)" in message
    assert "Remove it from the features" in message
    assert_still_usable(at)


# each: the data, and the column R's lm reports as NA (the later of the dependent ones)
DEPENDENT = {
    "duplicate column": (pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 6.0], "b": [1.0, 2.0, 3.0, 4.0, 6.0],
                                       "y": [1.0, 3.0, 2.0, 5.0, 4.0]}), "b"),
    "c = 2a + b": (pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 6.0, 7.0], "b": [0.0, 1.0, 5.0, 2.0, 2.0, 9.0],
                                 "c": [2.0, 5.0, 11.0, 10.0, 14.0, 23.0], "y": [1.0, 3.0, 2.0, 5.0, 4.0, 8.0]}), "c"),
}


@pytest.mark.parametrize("case", list(DEPENDENT))
def test_linearly_dependent_columns_are_fitted_as_r_does_and_named(case):
    """The Data page accepts the model and names the aliased column; Results shows the exact fit with that row
    marked aliased; the training pages ask to remove it first (gradient descent has no single answer)."""
    df, aliased = DEPENDENT[case]
    features = [c for c in df.columns if c != "y"]
    at = goto(start(), "data")
    upload(at, "dependent.csv", csv_bytes(df))
    assert at.session_state.sel_features == features
    assert not at.error
    assert texts(at.success)[-1].startswith(f"Ready: {len(df)} rows")
    warning = texts(at.warning)[-1]
    assert warning.startswith(f"Aliased term '{aliased}': it is a combination of the terms before it")
    assert "remove it from the model" in warning
    goto(at, "results")
    assert not at.error
    coef = next(d.value for d in at.dataframe if aliased in list(d.value.index))
    assert list(coef.loc[aliased]) == ["aliased"] * len(coef.columns)
    expected = fit_exact_design(build_design(df, "y", [c for c in features if c != aliased]))
    assert float(coef.loc["a", "exact coef"]) == pytest.approx(expected.coef[0], rel=1e-5)  # shown to 6 digits
    for page in ("train", "step", "race"):
        goto(at, page)
        assert texts(at.error) == [
            f"The current data can't be trained on: the model has an aliased term, '{aliased}': it is a combination "
            "of the terms before it, so many parameter values fit equally well and gradient descent has no single "
            "answer to converge to. Remove it from the model to train; Results shows the exact fit with it marked "
            "aliased, as R's lm does."]
    # Removing the named column fixes it.
    goto(at, "data")
    at.multiselect(key="_w_sel_features").set_value([c for c in features if c != aliased]).run()
    assert not at.exception and not at.error and not at.warning
    goto(at, "train")
    assert not at.error
    assert_still_usable(at)


def test_degree_too_high_for_the_distinct_values_is_rank_deficient():
    """6 rows but only 3 distinct x: degree 4 has 5 parameters and rows enough, yet only 3 are identifiable."""
    data = b"x,y\n1,1\n1,2\n2,4\n2,5\n3,9\n3,8\n"
    at = goto(start(), "data")
    upload(at, "three_values.csv", data)
    at.number_input(key="_w_sel_degree").set_value(4).run()
    assert not at.exception
    message = design_error(read_csv(data), "y", ["x"], degree=4)
    assert texts(at.error) == [message]
    assert "rank deficient (rank 3 < 5 parameters)" in message
    assert "'x' has only 3 distinct values, so a polynomial of degree at most 2 can be fitted" in message
    assert "Lower the polynomial degree" in message
    goto(at, "train")
    assert texts(at.error) == [f"The current data can't be trained on: {message}"]
    goto(at, "data")
    at.number_input(key="_w_sel_degree").set_value(2).run()
    assert not at.exception and not at.error
    assert texts(at.success) == ["Ready: 6 rows, model y ~ x + x^2."]
    assert_still_usable(at)


# --- 5-8/10. Files that are not (usable) CSV: refused, the previous dataset kept -------------------------

REFUSED = {
    "non-UTF-8": ("latin1.csv", b"x,y\n1,2\n\xff\xfe,3\n", ["not valid UTF-8", "byte 0xff at position 8",
                                                            "Save it as 'CSV UTF-8'"]),
    "binary": ("blob.csv", b"\x00\x01\x02binary\x00", ["looks binary", "Expected a text CSV file"]),
    "excel": ("data.xlsx.csv", b"PK\x03\x04" + bytes(200), ["Excel workbook", "Save it as CSV"]),
    "ragged comma": ("ragged.csv", b"x,y\n1,2\n2,4,9\n3,6\n", ["Row 2 (line 3 of the file) has 3 fields but the header has 2",
                                                                 "comma-separated"]),
    "ragged semicolon": ("ragged.csv", b"x;y\n1;2\n2;4\n3;6\n4;8;1;2\n", ["Row 4 (line 5 of the file) has 4 fields but the header has 2",
                                                                         "semicolon-separated"]),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_unreadable_file_is_refused_and_the_previous_dataset_kept(case):
    name, data, phrases = REFUSED[case]
    message = library_error(data)
    for phrase in phrases:
        assert phrase in message
    at = data_page_with_iris()
    upload_refused(at, name, data, message)
    assert_still_usable(at)


@pytest.fixture
def upload_limit_1mb():
    """server.maxUploadSize = 1 (MB) for one test, restored afterwards."""
    before = streamlit.config.get_option("server.maxUploadSize")
    streamlit.config.set_option("server.maxUploadSize", 1)
    yield
    streamlit.config.set_option("server.maxUploadSize", before)


def test_file_over_the_upload_limit_is_refused(upload_limit_1mb):
    rows = 100_000
    data = b"x,y\n" + b"".join(b"%d.25,%d.75\n" % (i, 7 * i % 1000) for i in range(rows))
    assert 1.4 * 2**20 < len(data) < 1.6 * 2**20
    with pytest.raises(LinregError) as info:
        read_csv(data, max_bytes=2**20)
    message = str(info.value)
    assert "The file is 1.5 MB, over the 1 MB limit" in message and "smaller sample" in message
    at = data_page_with_iris()
    upload_refused(at, "big.csv", data, message)
    assert_still_usable(at)


# --- 9. A very wide file -----------------------------------------------------------------------------


WIDE_COLUMNS = [f"c{j}" for j in range(9_999)] + ["y"]


def wide_csv() -> bytes:
    """5 rows of 10,000 numeric columns: c0..c9998 and y (about 200 kB)."""
    values = np.random.default_rng(0).integers(0, 100, size=(5, len(WIDE_COLUMNS)))
    return (",".join(WIDE_COLUMNS) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in values)).encode()


def test_ten_thousand_columns_preselect_twenty_features_and_show_a_preview():
    at = goto(start(), "data")
    upload(at, "wide.csv", wide_csv())
    ss = at.session_state
    assert ss.ds_name == "wide.csv"
    assert ss.ds_df.shape == (5, 10_000)
    assert ss.sel_target == "y"
    assert ss.sel_features == WIDE_COLUMNS[:20]  # at most 20 features preselected, not 9,999
    assert texts(at.info) == ["This data has 10,000 numeric columns; the first 20 were chosen as features. "
                              "Pick the ones you want above."]
    # 5 rows cannot fit 20 features: one error, naming a few terms and the count rather than all of them.
    errors = texts(at.error)
    assert len(errors) == 1 and "5 row(s) are too few to fit 21 parameters" in errors[0]
    assert "(20 terms)" in errors[0] and len(errors[0]) < 400
    # A read-only preview of the first 50 columns instead of a 10,000-column editor.
    assert not at.data_editor
    assert len(at.dataframe) == 1 and at.dataframe[0].value.shape[1] == 50
    # Choosing a few features makes it fit.
    at.multiselect(key="_w_sel_features").set_value(WIDE_COLUMNS[:2]).run()
    assert not at.exception and not at.error
    assert texts(at.success) == ["Ready: 5 rows, model y ~ c0 + c1."]
    assert_still_usable(at)


def test_ten_thousand_columns_give_short_messages():
    """Every message after the upload is short enough to read: none lists thousands of column names."""
    at = goto(start(), "data")
    upload(at, "wide.csv", wide_csv())
    messages = [(kind, text) for kind in ("error", "warning", "success", "info") for text in texts(getattr(at, kind))]
    assert messages
    for kind, text in messages:
        assert len(text) < 400, f"{kind} message of {len(text):,} characters: {text[:150]} … {text[-60:]}"
    assert_still_usable(at)


# --- 11. Magnitudes beyond what double precision can square --------------------------------------------

MAGNITUDES = {
    "huge": (b"x,y\n1e300,1\n2e300,2\n3e300,4\n4e300,3\n", "divide it by 1e297"),
    "tiny": (b"x,y\n1e-300,1\n2e-300,2\n3e-300,4\n4e-300,3\n", "multiply it by 1e"),
}


@pytest.mark.parametrize("case", list(MAGNITUDES))
def test_extreme_magnitudes_say_how_to_rescale(case):
    data, advice = MAGNITUDES[case]
    at = goto(start(), "data")
    message = upload_and_only_error(at, f"{case}.csv", data)
    assert message == design_error(read_csv(data), "y", ["x"])
    assert message.startswith("Column 'x' has values")
    assert advice in message and "Rescale the column" in message
    goto(at, "train")
    assert texts(at.error) == [f"The current data can't be trained on: {message}"]
    assert_still_usable(at)


# --- 12. The target chosen as a feature --------------------------------------------------------------


def test_choosing_the_only_feature_as_target_swaps_the_two():
    """Changing the target loses no column: the old target becomes a feature, and the page says so."""
    at = goto(start(), "data")
    at.selectbox(key="_w_sel_target").set_value("x").run()
    assert not at.exception
    ss = at.session_state
    assert ss.sel_target == "x" and ss.sel_features == ["y"]
    assert "**y** was the target and is now a feature; **x** is the target." in [c.value for c in at.caption]
    assert not at.error and texts(at.success) == ["Ready: 4 rows, model x ~ y."]
    at.multiselect(key="_w_sel_features").set_value([]).run()
    assert texts(at.error) == ["No feature columns were chosen. Pick at least one feature column."]
    assert_still_usable(at)


def test_choosing_a_feature_as_target_keeps_the_other_features():
    at = goto(start(), "data")
    upload(at, "three.csv", b"a,b,y\n1,0,1\n2,1,3\n3,5,2\n4,2,5\n6,2,4\n")
    assert at.session_state.sel_features == ["a", "b"]
    at.selectbox(key="_w_sel_target").set_value("a").run()
    assert not at.exception
    ss = at.session_state
    assert ss.sel_target == "a"
    assert ss.sel_features == ["b", "y"]  # the old target joins the features: no column lost silently
    assert not at.error
    assert texts(at.success) == ["Ready: 5 rows, model a ~ b + y."]
    goto(at, "train")
    assert train_clicked(at).status == "completed"
    assert_still_usable(at)


# --- 14. Blank, NaN and infinite cells ---------------------------------------------------------------

MISSING = {
    "blank": (b"x,y\n1,2\n2,\n3,6\n4,8\n5,10\n", 1, "row 2, column 'y'"),
    "NaN": (b"x,y\n1,2\nNaN,4\n3,6\n4,8\n5,10\n", 1, "row 2, column 'x'"),
    "inf": (b"x,y\n1,2\n2,4\n3,inf\n4,-inf\n5,10\n6,12\n", 2, "row 3, column 'y'"),
    "all three": (b"x,y\n1,2\n,4\n3,nan\n4,8\ninf,10\n6,12\n7,14\n", 3, "row 2, column 'x'"),
}


@pytest.mark.parametrize("case", list(MISSING))
def test_incomplete_rows_are_counted_and_can_be_dropped(case):
    data, bad, first = MISSING[case]
    df = read_csv(data)
    at = goto(start(), "data")
    message = upload_and_only_error(at, "gaps.csv", data)
    assert message == design_error(df, "y", ["x"])
    assert message.startswith(f"{bad} row(s) have blank, NaN or infinite values")
    assert f"(first: {first})" in message and "Remove those rows or fill in the values" in message
    button = at.button(key="btn_drop")
    assert button.label == f"Drop the {bad} incomplete row(s)"
    button.click().run()
    assert not at.exception and not at.error
    ss = at.session_state
    assert len(ss.ds_df) == len(df) - bad
    assert np.isfinite(ss.ds_df[["x", "y"]].to_numpy(dtype=np.float64)).all()
    assert ss.ds_name == f"gaps.csv ({bad} incomplete rows dropped)"
    assert texts(at.success) == [f"Ready: {len(df) - bad} rows, model y ~ x."]
    assert not [b for b in at.button if b.key == "btn_drop"]
    assert_still_usable(at)


# --- 15/16. Training settings ------------------------------------------------------------------------

CRAFTED = {
    # lr is validated before epochs: the first invalid setting is reported.
    "lr -0.1 and epochs 0": ({"lr": -0.1, "epochs": 0}, "The 'lr' parameter must be a float > 0. Got -0.1 instead."),
    "epochs 0": ({"epochs": 0}, "The 'epochs' parameter must be an int in [1, 10000000]. Got 0 instead."),
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_invalid_training_settings_from_a_crafted_session_are_refused(case):
    settings, message = CRAFTED[case]
    with pytest.raises(LinregError) as info:
        TrainConfig(**{"lr": settings.get("lr", 0.01), "epochs": settings.get("epochs", 100)}).validate()
    assert str(info.value) == message
    at = start()
    for key, value in settings.items():
        setattr(at.session_state.settings, key, value)  # bypasses the widgets' limits, as a crafted session could
    at.button(key="btn_train").click().run()
    assert not at.exception
    assert texts(at.error) == [message]
    assert not at.success
    assert at.session_state.run is None
    # Valid settings through the widgets, and it trains.
    at.number_input(key="_w_lr").set_value(0.01).run()
    at.number_input(key="_w_epochs").set_value(100).run()
    assert not at.exception
    assert (at.session_state.settings.lr, at.session_state.settings.epochs) == (0.01, 100)
    assert train_clicked(at).status == "completed"
    assert not at.error
    assert_still_usable(at)


def test_a_learning_rate_that_diverges_keeps_finite_parameters():
    at = start()
    at.number_input(key="_w_lr").set_value(10.0).run()
    assert not at.exception
    run = train_clicked(at)
    assert run.status == "diverged"
    errors = texts(at.error)
    assert len(errors) == 1
    assert "diverged" in errors[0] and "smaller learning rate" in errors[0]
    assert not at.success
    assert run.coef is not None and all(math.isfinite(c) for c in run.coef)
    assert run.intercept is not None and math.isfinite(run.intercept)
    assert run.history and all(math.isfinite(v) for v in run.history)
    # A smaller learning rate trains.
    at.number_input(key="_w_lr").set_value(0.01).run()
    assert train_clicked(at).status == "completed"
    assert not at.error
    assert_still_usable(at)


@pytest.mark.parametrize("degree", [6, 10])
def test_a_high_degree_polynomial_of_years_is_ill_conditioned_not_dependent(degree):
    """Gapminder: life expectancy by year, 12 distinct years. Raw powers of 1952..2007 are nearly collinear in
    float64, but a degree-10 polynomial is well defined: the app fits it, and says how far to trust it."""
    at = goto(start(), "data")
    at.button(key="preset_gapminder").click().run()
    at.number_input(key="_w_sel_degree").set_value(degree).run()
    assert not at.exception and not at.error
    assert any(s.startswith("Ready: 1,704 rows") for s in texts(at.success))
    goto(at, "results")
    assert not at.error
    notes = " ".join(texts(at.warning))
    assert "ill-conditioned" in notes.lower() and "significant digits" in notes, notes
    exact = at.session_state._problem[1].exact
    assert exact.rank == degree + 1
