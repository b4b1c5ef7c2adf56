"""Streamlit AppTest tests for the dashboard: every page and the user flows between them.

Each test drives the app as a user would (buttons, sidebar widgets, uploads, page switches) and checks what
the user sees (messages, charts, tables, downloads) plus the session-state run record behind them.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import zlib
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pytest
import streamlit.testing.v1.app_test as app_test_module
import torch
from app_support import (
    TUTORIAL,
    chart_specs,
    download,
    edit_table,
    figures,
    goto,
    library_error,
    library_history,
    plain,
    shared_app,
    start,
    texts,
    trace_values,
    traces,
    train_clicked,
    upload,
)
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from linreg_core import NonNumericError, TrainConfig, build_design, lr_guidance, read_csv, train

# --- fixtures ----------------------------------------------------------------------------------------


@pytest.fixture
def media(monkeypatch) -> list[MemoryMediaFileStorage]:
    """Keep every run's in-memory media store so download-button payloads can be read back.

    AppTest builds a fresh MemoryMediaFileStorage per run and drops it afterwards; this records them.
    """
    stores: list[MemoryMediaFileStorage] = []

    class RecordingStorage(MemoryMediaFileStorage):
        def __init__(self, media_endpoint: str) -> None:
            super().__init__(media_endpoint)
            stores.append(self)

    class RecordingManager(app_test_module.MediaFileManager):  # deferred downloads live in the run's manager
        def __init__(self, storage: MemoryMediaFileStorage) -> None:
            super().__init__(storage)
            storage.managers = [*getattr(storage, "managers", []), self]

    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", RecordingStorage)
    monkeypatch.setattr(app_test_module, "MediaFileManager", RecordingManager)
    return stores


# --- 1. Train page: the tutorial ---------------------------------------------------------------------


def test_app_opens_on_train_with_the_tutorial_and_its_settings():
    at = start()
    ss = at.session_state
    assert texts(at.title) == ["Train"]
    assert ss.ds_name == "Tutorial: 4 points"
    pd.testing.assert_frame_equal(ss.ds_df, TUTORIAL)
    assert (ss.sel_target, ss.sel_features, ss.sel_degree, ss.sel_intercept) == ("y", ["x"], 1, True)
    # The sidebar shows the tutorial's settings: SGD, lr 0.01, 100 epochs, full batch, no standardization.
    assert at.selectbox(key="_w_optimizer").value == "sgd"
    assert at.number_input(key="_w_lr").value == 0.01
    assert at.select_slider(key="_w_lr_slider").value == 0.01
    assert at.number_input(key="_w_epochs").value == 100
    assert at.number_input(key="_w_batch_size").value == 0
    assert at.toggle(key="_w_standardize").value is False
    assert "y ~ x" in plain(at.caption[0].value)
    # Before training: an invitation, an empty loss curve and the data with the exact line only.
    assert any("Press **Train**" in v for v in texts(at.info))
    figs = figures(at)
    assert not np.isfinite(trace_values(traces(figs["Loss (MSE) per epoch"])["gradient descent"], "y")).any()  # a legend entry
    shown = {k for k, t in traces(figs["Data and fitted line"]).items() if t.get("visible", True)}
    assert shown == {"data", "exact least squares"}  # (the residuals are there, hidden, for the browser to toggle)
    assert ss.run is None


def test_train_reproduces_the_tutorial():
    at = start()
    run = train_clicked(at)
    expected = library_history(TUTORIAL, "y")
    assert run.status == "completed"
    assert run.epochs_run == 100
    assert len(run.history) == 100
    assert run.history[0] == expected[0]
    np.testing.assert_allclose(run.history, expected, rtol=1e-6)
    assert run.config.optimizer == "sgd" and run.config.lr == 0.01 and run.config.batch_size == 0
    assert not at.error
    assert len(at.success) == 1 and plain(at.success[0].value).startswith("**Completed** after 100 epochs")
    assert len(chart_specs(at)) == 3  # loss, fit, and the loss landscape (one feature with an intercept)
    figs = figures(at)
    land = traces(figs["Loss landscape (log₁₀ MSE)"])
    path = np.column_stack([trace_values(land["optimizer path"], "x"), trace_values(land["optimizer path"], "y")])
    assert len(path) == 101  # the start and every epoch of a short run
    np.testing.assert_allclose(path[-1], [run.intercept, run.coef[0]], rtol=1e-6)
    np.testing.assert_allclose(
        [trace_values(land["exact minimum"], "x")[0], trace_values(land["exact minimum"], "y")[0]], [0.0, 2.0],
        atol=1e-9)
    loss_y = trace_values(traces(figs["Loss (MSE) per epoch"])["gradient descent"], "y")
    assert len(loss_y) == 100
    np.testing.assert_allclose(loss_y, run.history)
    fit = traces(figs["Data and fitted line"])
    assert {"data", "exact least squares", "gradient descent"} <= set(fit)
    np.testing.assert_allclose(trace_values(fit["data"], "y"), TUTORIAL.y)
    # The status line shows the epoch counter and the final loss (as markdown or as st.metric tiles).
    status = " ".join([*texts(at.markdown), *(f"{m.label} {m.value}" for m in at.metric)])
    assert "100 / 100" in status
    assert f"{run.history[-1]:.6g}" in status


# --- 2/3. Settings flow into training and persist across pages ----------------------------------------


def test_sidebar_settings_flow_into_training():
    at = start()
    at.number_input(key="_w_epochs").set_value(300).run()
    at.selectbox(key="_w_optimizer").set_value("adam").run()
    at.number_input(key="_w_lr").set_value(0.05).run()
    assert not at.exception
    run = train_clicked(at)
    cfg = run.config
    assert (cfg.optimizer, cfg.lr, cfg.epochs) == ("adam", 0.05, 300)
    assert run.status == "completed"
    assert len(run.history) == 300
    assert run.history == pytest.approx(library_history(TUTORIAL, "y", optimizer="adam", lr=0.05, epochs=300),
                                           rel=1e-6)
    assert plain(at.success[0].value).startswith("**Completed** after 300 epochs")


def test_learning_rate_slider_and_box_stay_in_step():
    at = start()
    at.select_slider(key="_w_lr_slider").set_value(0.1).run()
    assert at.session_state.settings.lr == 0.1
    assert at.number_input(key="_w_lr").value == 0.1
    at.number_input(key="_w_lr").set_value(0.03).run()
    assert at.session_state.settings.lr == 0.03
    # The slider shows the typed rate itself (it joins the log steps), never a nearby step that would not run.
    slider = at.select_slider(key="_w_lr_slider")
    assert slider.value == 0.03 and slider.options[slider.options.index('0.03') - 1: ][:3] == ['0.02', '0.03', '0.05']
    assert train_clicked(at).config.lr == 0.03


def test_the_fastest_stable_lr_button_sets_the_slider_and_the_box_alike():
    at = start()
    at.number_input(key="_w_lr").set_value(0.5).run()  # above the tutorial's stable limit 0.134
    at.button(key="btn_lr_optimal").click().run()
    assert at.session_state.settings.lr == 0.132
    assert at.number_input(key="_w_lr").value == 0.132
    assert at.select_slider(key="_w_lr_slider").value == 0.132


def test_standardizing_is_explained_as_it_really_acts_on_polynomial_terms():
    """Powers of one feature stay correlated: on the noisy wave at degree 3, standardizing lowers the stable lr
    (0.649 → 0.341) while the curvature ratio stays in the thousands, and the sidebar must say so (and what
    helps) instead of claiming it evens out the steepness."""
    at = goto(start(), "data")
    at.button(key="preset_wave").click().run()
    at.number_input(key="_w_sel_degree").set_value(3).run()
    goto(at, "train")
    caption = " ".join(texts(at.sidebar.caption))
    assert "stable lr 0.649 → 0.341" in caption and "but the lr must be smaller" in caption
    assert "stays a narrow valley — x, x², x³, … of one feature stay strongly correlated" in caption
    assert "Adam or RMSprop" in caption and "lower degree" in caption and "evens out" not in caption


def test_a_run_far_from_the_exact_fit_says_why_and_what_to_try():
    at = start()
    run = train_clicked(at)  # the tutorial: 100 epochs at lr 0.01 end 0.877 from the exact fit
    note = next(t for t in texts(at.info) if t.startswith("**Still"))
    assert note.startswith(f"**Still {state_gap(run):.3g} from the exact fit after 100 epochs** (the largest "
                           "difference between a parameter and the exact least-squares one")
    assert "Both the lr and the curvature hold it back: lr 0.01 is 13.2× below the fastest fixed lr, 0.132" in note
    assert "the loss curves 60× more sharply" in note
    assert "a larger lr (up to 0.132" in note and "more epochs than 100" in note
    assert "standardizing the features" in note and "Adam" in note
    at.sidebar.number_input(key="_w_epochs").set_value(20000).run()
    at.sidebar.number_input(key="_w_lr").set_value(0.1).run()
    train_clicked(at)
    assert not any(t.startswith("**Still") for t in texts(at.info))  # converged: nothing to explain


def state_gap(run) -> float:
    return max(abs(run.intercept - 0.0), abs(run.coef[0] - 2.0))


def test_learning_rate_survives_a_trip_to_another_page():
    at = start()
    at.number_input(key="_w_lr").set_value(0.05).run()
    goto(at, "data")
    assert texts(at.title) == ["Data"]
    goto(at, "train")
    assert at.number_input(key="_w_lr").value == 0.05
    assert at.select_slider(key="_w_lr_slider").value == 0.05
    assert at.session_state.settings.lr == 0.05
    assert train_clicked(at).config.lr == 0.05


SIDEBAR_CHANGES = {  # settings (studio/settings.py) and view choices (session keys)
    "optimizer": "momentum", "lr": 0.02, "epochs": 250, "batch_size": 2, "standardize": True,
    "seed": 7, "dtype": "float64", "momentum": 0.5, "l2": 0.25, "tol": 0.001,
    "ui_live": False, "ui_logy": True,
}


def sidebar_values(at) -> dict:
    """Each of SIDEBAR_CHANGES's names' value in the session now ("<missing>" if it has none)."""
    ss, out = at.session_state, {}
    for name in SIDEBAR_CHANGES:
        if name.startswith("ui_"):
            out[name] = ss[name] if name in ss else "<missing>"
        else:
            out[name] = getattr(ss.settings, name) if "settings" in ss else "<missing>"
    return out


def test_every_sidebar_setting_survives_a_trip_to_another_page():
    at = start()
    keyed = {getattr(w, "key", None): w for w in at.sidebar}
    for name, value in SIDEBAR_CHANGES.items():
        widget = keyed.get(f"_w_{name}", keyed.get(name))
        widget.set_value(value).run()
        keyed = {getattr(w, "key", None): w for w in at.sidebar}
    assert not at.exception
    assert sidebar_values(at) == SIDEBAR_CHANGES
    goto(at, "data")
    goto(at, "results")
    goto(at, "train")
    assert sidebar_values(at) == SIDEBAR_CHANGES
    cfg = train_clicked(at).config
    assert (cfg.optimizer, cfg.lr, cfg.epochs, cfg.batch_size, cfg.standardize, cfg.seed, cfg.dtype, cfg.momentum,
            cfg.l2, cfg.tol) == ("momentum", 0.02, 250, 2, True, 7, "float64", 0.5, 0.25, 0.001)


def test_column_choice_survives_a_trip_to_another_page():
    at = goto(start(), "data")
    at.number_input(key="_w_sel_degree").set_value(2).run()
    at.toggle(key="_w_sel_intercept").set_value(False).run()
    goto(at, "train")
    assert "y ~ x + x^2 (no intercept)" in plain(at.caption[0].value)
    goto(at, "data")
    assert at.number_input(key="_w_sel_degree").value == 2
    assert at.toggle(key="_w_sel_intercept").value is False
    assert plain(at.success[0].value) == "Ready: 4 rows, model y ~ x + x^2 (no intercept)."


# --- 4/5. Presets and the generator ------------------------------------------------------------------

PRESET_EXPECT = {
    "tips": ("Restaurant tips (Plotly)", 244, "tip", ["total_bill"]),
    "iris": ("Iris flowers (Plotly)", 150, "petal_width", ["petal_length"]),
    "gapminder": ("Gapminder life expectancy (Plotly)", 1704, "lifeExp", ["year"]),
    "tutorial": ("Tutorial: 4 points", 4, "y", ["x"]),
}


def test_preset_buttons_load_their_datasets():
    at = goto(start(), "data")
    for key, (name, rows, target, features) in PRESET_EXPECT.items():
        version = at.session_state.ds_version
        at.button(key=f"preset_{key}").click().run()
        assert not at.exception
        ss = at.session_state
        assert ss.ds_name == name
        assert len(ss.ds_df) == rows
        assert ss.ds_version == version + 1
        assert (ss.sel_target, ss.sel_features) == (target, features)
        assert at.selectbox(key="_w_sel_target").value == target
        assert at.multiselect(key="_w_sel_features").value == features
        assert texts(at.success) == [f"Ready: {rows:,} rows, model {target} ~ {' + '.join(features)}."]
        assert plain(at.caption[0].value).startswith(f"Current dataset: **{name}** — {rows:,} rows")
        assert len(at.data_editor(key=f"editor_{ss.ds_version}").value) == rows


def test_train_on_tips():
    at = goto(start(), "data")
    at.button(key="preset_tips").click().run()
    goto(at, "train")
    assert "tip ~ total_bill" in plain(at.caption[0].value)
    at.toggle(key="_w_standardize").set_value(True).run()
    run = train_clicked(at)
    tips = at.session_state.ds_df
    assert run.status == "completed"
    assert run.dataset == "Restaurant tips (Plotly)"
    assert run.history == pytest.approx(library_history(tips, "tip", ["total_bill"], standardize=True), rel=1e-6)
    assert plain(at.success[0].value).startswith("**Completed** after 100 epochs")
    fit = traces(figures(at)["Data and fitted line"])
    assert len(trace_values(fit["data"], "x")) == 244


def test_generator_makes_n_rows_and_is_reproducible_by_seed():
    at = goto(start(), "data")

    def generate(n: int, seed: int) -> pd.DataFrame:
        at.number_input(key="_w_gen_n").set_value(n)
        at.number_input(key="_w_gen_seed").set_value(seed)
        at.button(key="btn_generate").click().run()
        assert not at.exception
        return at.session_state.ds_df.copy()

    first = generate(37, 5)
    assert len(first) == 37 and list(first.columns) == ["x", "y"]
    assert at.session_state.ds_name == "Noisy line (n=37, slope 2, intercept 1)"
    assert (at.session_state.sel_target, at.session_state.sel_features) == ("y", ["x"])
    assert texts(at.success) == ["Ready: 37 rows, model y ~ x."]
    other = generate(37, 6)
    assert not other.equals(first)
    again = generate(37, 5)
    pd.testing.assert_frame_equal(again, first)
    # slope 2, intercept 1, noise 1: the exact fit lands near the generating line.
    goto(at, "results")
    coef = at.dataframe[1].value
    assert coef.loc["x", "exact coef"] == pytest.approx(2.0, abs=0.3)


# --- 6/7. Uploads, bad files, incomplete rows --------------------------------------------------------


def test_upload_valid_csv_replaces_the_dataset():
    at = goto(start(), "data")
    upload(at, "points.csv", b"x,y\n0,1\n1,3\n2,5\n3,7.5\n")
    ss = at.session_state
    assert ss.ds_name == "points.csv"
    pd.testing.assert_frame_equal(ss.ds_df, pd.DataFrame({"x": [0, 1, 2, 3], "y": [1.0, 3.0, 5.0, 7.5]}))
    assert (ss.sel_target, ss.sel_features) == ("y", ["x"])
    assert texts(at.success) == ["Loaded **points.csv**: 4 rows, columns x, y.", "Ready: 4 rows, model y ~ x."]
    assert not at.error
    goto(at, "train")
    assert plain(at.caption[0].value).startswith("**points.csv** · 4 rows · y ~ x")
    assert train_clicked(at).status == "completed"


def test_upload_semicolon_csv_with_decimal_commas():
    at = goto(start(), "data")
    upload(at, "europe.csv", b"a;b;y\n1,5;2;3,25\n2,5;1;4,5\n3;7;1\n4;3;2\n")
    ss = at.session_state
    assert ss.ds_name == "europe.csv"
    assert ss.ds_df["a"].tolist() == [1.5, 2.5, 3.0, 4.0]
    assert ss.ds_df["y"].tolist() == [3.25, 4.5, 1.0, 2.0]
    # every numeric column but the target becomes a feature, as in the library
    assert (ss.sel_target, ss.sel_features) == ("y", ["a", "b"])
    assert texts(at.success) == ["Loaded **europe.csv**: 4 rows, columns a, b, y.", "Ready: 4 rows, model y ~ a + b."]


BAD_FILES = {
    "empty": ("empty.csv", b""),
    "header only": ("header.csv", b"x,y\n"),
    "ragged": ("ragged.csv", b"x,y\n1,2\n2,4,9\n3,6\n"),
    "excel": ("book.csv", b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00xl/workbook.xml"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_upload_shows_the_library_message_and_keeps_the_previous_data(case):
    name, data = BAD_FILES[case]
    at = goto(start(), "data")
    at.button(key="preset_iris").click().run()
    before = at.session_state.ds_df.copy()
    upload(at, name, data)
    ss = at.session_state
    assert texts(at.error) == [f"Could not load **{name}**: {library_error(data)} The previous dataset is still loaded."]
    assert ss.ds_name == "Iris flowers (Plotly)"
    pd.testing.assert_frame_equal(ss.ds_df, before)
    assert texts(at.success) == ["Ready: 150 rows, model petal_width ~ petal_length."]
    goto(at, "train")
    assert plain(at.caption[0].value).startswith("**Iris flowers (Plotly)** · 150 rows")


def test_upload_with_a_non_numeric_cell_names_the_bad_cell():
    """A typo in the target column must be reported as such (column, row, value), with the columns kept y ~ x."""
    data = b"x,y\n1,2\n2,abc\n3,4\n4,5\n"
    with pytest.raises(NonNumericError) as info:
        build_design(read_csv(data), "y", ["x"])
    at = goto(start(), "data")
    upload(at, "typo.csv", data)
    assert not at.exception
    ss = at.session_state
    assert (ss.sel_target, ss.sel_features) == ("y", ["x"])
    assert str(info.value) in texts(at.error)


def test_blank_cell_offers_to_drop_the_incomplete_row():
    at = goto(start(), "data")
    upload(at, "gaps.csv", b"x,y\n1,2\n2,\n3,6\n4,8\n5,10\n")
    errors = texts(at.error)
    assert len(errors) == 1 and "1 row(s)" in errors[0] and "row 2" in errors[0] and "'y'" in errors[0]
    assert at.button(key="btn_drop").label == "Drop the 1 incomplete row(s)"
    assert not any(s.startswith("Ready") for s in texts(at.success))
    # Train and Results refuse the data and point back to the Data page.
    goto(at, "train")
    assert plain(at.error[0].value).startswith("The current data can't be trained on: 1 row(s)")
    assert not [b for b in at.button if b.key == "btn_train"]
    goto(at, "results")
    assert plain(at.error[0].value).startswith("The current data can't be fitted: 1 row(s)")
    goto(at, "data")
    at.button(key="btn_drop").click().run()
    assert not at.exception
    ss = at.session_state
    assert ss.ds_df["x"].tolist() == [1, 3, 4, 5]
    assert ss.ds_name == "gaps.csv (1 incomplete rows dropped)"
    assert not at.error
    assert texts(at.success) == ["Ready: 4 rows, model y ~ x."]
    assert not [b for b in at.button if b.key == "btn_drop"]
    goto(at, "train")
    assert train_clicked(at).status == "completed"


def test_dropping_incomplete_rows_keeps_the_model_choice():
    """Dropping rows is a data fix: the chosen degree and intercept must stay as the user set them."""
    at = goto(start(), "data")
    upload(at, "gaps.csv", b"x,y\n1,2\n2,\n3,6\n4,8\n5,11\n")
    at.number_input(key="_w_sel_degree").set_value(2).run()
    at.toggle(key="_w_sel_intercept").set_value(False).run()
    at.button(key="btn_drop").click().run()
    assert not at.exception
    assert (at.session_state.sel_degree, at.session_state.sel_intercept) == (2, False)
    assert texts(at.success) == ["Ready: 4 rows, model y ~ x + x^2 (no intercept)."]


# --- 8. The data editor ------------------------------------------------------------------------------


@pytest.mark.parametrize("typed,stored", [("1e5", 100000.0), ("1.5e3", 1500.0), (" -2.5E-3 ", -0.0025), ("7", 7.0)])
def test_numbers_typed_in_scientific_notation_are_stored_as_typed(typed, stored):
    at = goto(start(), "data")
    edit_table(at, {"edited_rows": {0: {"y": typed}}, "added_rows": [], "deleted_rows": []})
    assert at.session_state.ds_df["y"].tolist() == [stored, 4.0, 6.0, 7.0]
    assert not at.error


@pytest.mark.parametrize("typed,phrase", [
    ("1e400", "Row 1, column y: '1e400' is beyond double precision"),
    ("-1e999", "Row 1, column y: '-1e999' is beyond double precision"),
    ("abc", "Row 1, column y: 'abc' is not a number."),
    ("3,5", "is not a number. Use a dot as the decimal separator."),
    ("inf", "Row 1, column y: 'inf' is not a number."),
])
def test_a_typed_cell_that_is_not_a_finite_number_is_refused_and_the_data_kept(typed, phrase):
    at = goto(start(), "data")
    edit_table(at, {"edited_rows": {0: {"y": typed}}, "added_rows": [], "deleted_rows": []})
    assert any(phrase in e for e in texts(at.error)), texts(at.error)
    assert at.session_state.ds_df["y"].tolist() == [2.0, 4.0, 6.0, 7.0]  # nothing was applied
    assert at.session_state.ds_name == "Tutorial: 4 points"
    edit_table(at, {"edited_rows": {}, "added_rows": [{"x": "5", "y": typed}], "deleted_rows": []})
    assert any(phrase.replace("Row 1", "Row 5") in e for e in texts(at.error)), texts(at.error)
    assert len(at.session_state.ds_df) == 4


def test_editing_the_table_changes_what_trains():
    at = goto(start(), "data")
    at.toggle(key="_w_sel_intercept").set_value(False).run()
    edit_table(at, {"edited_rows": {0: {"y": 10.0}}, "added_rows": [{"x": 5.0, "y": 11.0}], "deleted_rows": [1]})
    ss = at.session_state
    edited = pd.DataFrame({"x": [1.0, 3.0, 3.5, 5.0], "y": [10.0, 6.0, 7.0, 11.0]})
    pd.testing.assert_frame_equal(ss.ds_df, edited)
    assert ss.ds_name == "Tutorial: 4 points (edited)"
    assert ss.sel_intercept is False  # the model choice survives an edit
    assert texts(at.success) == ["Ready: 4 rows, model y ~ x (no intercept)."]
    # Numbers are edited as text (the grid's number editor would drop the "e" of 1e5): shown as typed.
    shown = at.data_editor(key=f"editor_{ss.ds_version}").value
    assert shown.to_dict("list") == {"x": ["1", "3", "3.5", "5"], "y": ["10", "6", "7", "11"]}
    goto(at, "train")
    run = train_clicked(at)
    expected = train(build_design(edited, "y", ["x"], fit_intercept=False), TrainConfig(device="cpu")).loss_history
    assert run.history == pytest.approx(expected, rel=1e-6)
    assert run.intercept is None
    assert run.dataset == "Tutorial: 4 points (edited)"


def test_clearing_a_cell_in_the_editor_leads_to_the_drop_button():
    at = goto(start(), "data")
    edit_table(at, {"edited_rows": {2: {"x": None}}, "added_rows": [], "deleted_rows": []})
    assert "row 3" in plain(at.error[0].value) and "'x'" in plain(at.error[0].value)
    at.button(key="btn_drop").click().run()
    assert not at.exception
    assert at.session_state.ds_df["x"].tolist() == [1.0, 2.0, 3.5]
    assert texts(at.success) == ["Ready: 3 rows, model y ~ x."]


# --- 9/10. Divergence, reset, results ----------------------------------------------------------------


def test_too_large_a_learning_rate_diverges_with_advice():
    at = start()
    at.number_input(key="_w_lr").set_value(10.0).run()
    run = train_clicked(at)
    assert run.status == "diverged"
    assert run.epochs_run < 100
    errors = texts(at.error)
    assert len(errors) == 1
    assert "diverged" in errors[0] and "smaller learning rate" in errors[0]
    assert not at.success
    goto(at, "results")  # a diverged run still has a results page
    assert not at.error
    assert plain(at.markdown[0].value).startswith("**Gradient descent** (diverged")


def test_stop_after_a_finished_run_keeps_it():
    at = start()
    train_clicked(at)
    at.button(key="btn_stop").click().run()
    assert not at.exception
    assert at.session_state.run.status == "completed"
    assert plain(at.success[0].value).startswith("**Completed**")


def test_reset_clears_the_run():
    at = start()
    train_clicked(at)
    at.button(key="btn_reset").click().run()
    assert not at.exception
    assert at.session_state.run is None
    assert not at.success
    assert any("Press **Train**" in v for v in texts(at.info))
    assert "gradient descent" not in traces(figures(at)["Data and fitted line"])
    goto(at, "results")
    assert texts(at.info)[0] == ("No gradient-descent run on this data yet — showing the exact least-squares fit. "
                                 "Train on the Train page to compare.")


def test_a_perfect_fit_reads_as_zero_error_not_floating_point_noise():
    """The tutorial's points lie on y = 2x: the exact intercept is 2.7e-15 and the MSE 1.2e-30 in float64 — noise,
    shown as 0 — and with no residual variance t and p are not defined (—), not t = 2.5e15, p = 1.6e-31."""
    at = goto(start(), "results")
    metrics, coef = at.dataframe[0].value, at.dataframe[1].value
    assert metrics.loc["MSE", "exact least squares"] == 0.0 and metrics.loc["MAE", "exact least squares"] == 0.0
    assert coef.loc["intercept", "exact coef"] == 0.0 and coef.loc["x", "exact coef"] == pytest.approx(2.0)
    assert (coef["std err"] == 0.0).all() and (coef["t"] == "not defined").all() and (coef["P>|t|"] == "not defined").all()
    assert at.latex[0].value.split() == ["$$", r"\widehat{\text{y}}", "=", r"2\,\text{x}", "$$"]  # not 2.66454 × 10^{-15} + 2 x
    assert any(t.startswith("Every point lies on the fitted line") for t in texts(at.info))
    caption = " ".join(texts(at.caption))
    assert "Condition number of the column-scaled design matrix" in caption and "curvature ratio" in caption
    # Noisy data keeps its statistics: the tips fit has real t and p values.
    goto(at, "data")
    at.button(key="preset_tips").click().run()
    coef = goto(at, "results").dataframe[1].value
    assert coef["t"].map(lambda v: isinstance(v, float)).all() and (coef["std err"] > 0).all()
    assert not any(t.startswith("Every point lies") for t in texts(at.info))


def test_results_without_a_run_show_the_exact_fit(media):
    at = goto(start(), "results")
    assert texts(at.title) == ["Results"]
    assert len(at.info) == 3  # no run yet; a perfect fit; its residuals, all 0, in words instead of a chart
    assert texts(at.markdown) == ["**Exact least squares**"]
    assert r"\widehat{\text{y}} = " in at.latex[0].value and r"2\,\text{x}" in at.latex[0].value
    metrics, coef = at.dataframe[0].value, at.dataframe[1].value
    assert list(metrics.columns) == ["exact least squares"]
    assert metrics.loc["R²", "exact least squares"] == pytest.approx(1.0)
    assert "gradient descent" not in coef.columns
    assert coef.loc["x", "exact coef"] == pytest.approx(2.0)
    assert set(figures(at)) == {"Data and fitted line"}
    assert texts(at.info)[2] == "Every residual is 0 to the data's precision: the line passes through every point."
    assert [b.key for b in at.download_button] == ["dl_pred", "dl_loss", "dl_model", "dl_script", "dl_summary"]
    assert at.download_button(key="dl_loss").proto.disabled
    model = json.loads(download(at, media, "dl_model"))
    assert model["terms"] == ["x"] and "gradient_descent" not in model
    summary = download(at, media, "dl_summary").decode()  # the statsmodels-style document, text by default
    assert "Dep. Variable:" in summary and "No. Observations:" in summary and "\nx " in summary
    at.selectbox(key="res_summary_format").set_value("latex").run()
    assert download(at, media, "dl_summary").decode().startswith("\\begin{center}")


def test_results_after_training(media):
    at = start()
    run = train_clicked(at)
    goto(at, "results")
    assert [t[:40] for t in texts(at.info)] == ["Every point lies on the fitted line: the"] and not at.error
    assert plain(at.markdown[0].value) == "**Gradient descent** (completed, 100 epochs, sgd, lr 0.01)"
    assert len(at.latex) == 2
    metrics, coef = at.dataframe[0].value, at.dataframe[1].value
    assert list(metrics.columns) == ["gradient descent", "exact least squares"]
    assert list(metrics.index) == ["MSE", "RMSE", "MAE", "R²", "adjusted R²"]
    assert metrics.loc["MSE", "gradient descent"] > metrics.loc["MSE", "exact least squares"]
    assert list(coef.index) == ["intercept", "x"]
    assert list(coef.columns[:3]) == ["gradient descent", "gap", "exact coef"]
    assert coef.loc["x", "gradient descent"] == pytest.approx(run.coef[0])
    assert coef.loc["intercept", "gradient descent"] == pytest.approx(run.intercept)
    figs = figures(at)
    assert set(traces(figs["Residuals vs fitted"])) == {"gradient descent", "exact least squares"}
    assert len(trace_values(traces(figs["Loss (MSE) per epoch"])["gradient descent"], "y")) == 100
    buttons = at.download_button
    assert [b.key for b in buttons] == ["dl_pred", "dl_loss", "dl_model", "dl_script", "dl_summary"]
    assert not any(b.proto.disabled for b in buttons)
    model = json.loads(download(at, media, "dl_model"))
    assert model["terms"] == ["x"] and model["target"] == "y"
    assert model["gradient_descent"]["epochs_run"] == 100
    assert model["gradient_descent"]["coef"] == pytest.approx(run.coef)
    assert model["gradient_descent"]["final_loss"] == pytest.approx(run.history[-1])
    loss_rows = list(csv.reader(io.StringIO(download(at, media, "dl_loss").decode())))
    assert loss_rows[0] == ["epoch", "loss"] and len(loss_rows) == 101
    assert float(loss_rows[1][1]) == run.history[0]
    preds = pd.read_csv(io.BytesIO(download(at, media, "dl_pred")))
    assert list(preds.columns) == ["x", "y", "predicted_gd", "residual_gd", "predicted_exact", "residual_exact"]
    assert len(preds) == 4
    script = download(at, media, "dl_script").decode()
    assert "lr=0.01" in script and "epochs=100" in script
    compile(script, "reproduce_run.py", "exec")


def test_results_ignore_a_run_on_other_data():
    at = start()
    train_clicked(at)
    goto(at, "data")
    at.button(key="preset_iris").click().run()
    goto(at, "results")
    assert len(at.info) == 1 and plain(at.info[0].value).startswith("No gradient-descent run on this data yet")
    assert list(at.dataframe[0].value.columns) == ["exact least squares"]


# --- 11. How it works --------------------------------------------------------------------------------


def test_how_it_works_page_renders_and_reflects_the_settings():
    at = start()
    at.selectbox(key="_w_optimizer").set_value("adam").run()
    at.number_input(key="_w_lr").set_value(0.05).run()
    at.number_input(key="_w_epochs").set_value(300).run()
    goto(at, "how_it_works")
    assert texts(at.title) == ["How it works"]
    formulas = texts(at.latex)
    assert any(r"\hat{y} = X w + b" in v for v in formulas)
    assert any(r"R \hat\beta = Q^\top y" in v for v in formulas)
    code = "\n".join(c.value for c in at.code)
    assert "nn.Linear(k, 1)" in code
    assert "torch.optim.Adam(model.parameters(), lr=0.05)" in code and "Adam (" in code  # tutorial code + live repr
    assert "for epoch in range(1, 300 + 1):" in code
    assert any(r"\eta = 0.05" in v for v in formulas)
    md = " ".join(texts(at.markdown))
    assert "**300** epochs" in md


# --- 12. Devices --------------------------------------------------------------------------------------


def test_device_choices_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    at = start()
    device = at.selectbox(key="_w_device")
    assert device.value == "auto"
    assert len(device.options) == 2
    assert device.options[0] == "auto (best available)"
    assert device.options[1].startswith("CPU")
    assert not any("CUDA" in o or "cuda" in o for o in device.options)
    device.set_value("cpu").run()
    assert at.session_state.settings.device == "cpu"
    run = train_clicked(at)
    assert run.config.device == "cpu" and run.device == "cpu"
    assert "on cpu" in plain(at.success[0].value)


# --- 13. Several features, polynomials ---------------------------------------------------------------


def test_two_features_show_predicted_vs_actual():
    at = goto(start(), "data")
    at.button(key="preset_iris").click().run()
    at.multiselect(key="_w_sel_features").set_value(["petal_length", "sepal_length"]).run()
    assert not at.exception
    assert not at.number_input(key="_w_sel_degree").disabled  # as the CLI's --degree: every numeric feature
    at.number_input(key="_w_sel_degree").set_value(2).run()
    assert texts(at.success) == ["Ready: 150 rows, model petal_width ~ petal_length + petal_length^2 + sepal_length "
                                 "+ sepal_length^2."]
    at.number_input(key="_w_sel_degree").set_value(1).run()
    assert texts(at.success) == ["Ready: 150 rows, model petal_width ~ petal_length + sepal_length."]
    goto(at, "train")
    assert "petal_width ~ petal_length + sepal_length" in plain(at.caption[0].value)
    run = train_clicked(at)
    assert run.status == "completed" and len(run.coef) == 2
    figs = figures(at)
    assert "Predicted vs actual" in figs
    assert {"perfect fit", "exact least squares", "gradient descent"} <= set(traces(figs["Predicted vs actual"]))


def test_polynomial_degree_three_shows_its_terms():
    at = goto(start(), "data")
    at.button(key="preset_iris").click().run()
    at.number_input(key="_w_sel_degree").set_value(3).run()
    assert not at.exception
    assert texts(at.success) == [
        "Ready: 150 rows, model petal_width ~ petal_length + petal_length^2 + petal_length^3."]
    goto(at, "train")
    assert "petal_width ~ petal_length + petal_length^2 + petal_length^3" in plain(at.caption[0].value)
    at.toggle(key="_w_standardize").set_value(True).run()
    run = train_clicked(at)
    assert len(run.coef) == 3
    fit = traces(figures(at)["Data and fitted line"])
    assert len(trace_values(fit["exact least squares"], "x")) == 200  # a smooth curve, not a 2-point line
    goto(at, "results")
    assert list(at.dataframe[1].value.index) == ["intercept", "petal_length", "petal_length^2", "petal_length^3"]


def test_lr_guidance_warns_before_a_run_that_would_diverge_and_offers_the_optimal_lr():
    at = start()
    g = lr_guidance(build_design(TUTORIAL, "y"))
    caption = " ".join(texts(at.sidebar.caption))
    assert f"{g.max_stable_lr:.3g}" in caption and f"{g.optimal_lr:.3g}" in caption
    assert "**60×** more sharply along its most curved direction than along its flattest (its curvature ratio)" in caption
    assert "steep" not in caption  # curvature is how sharply the loss bends, not how steep it is
    assert "curvature ratio 60 → 1 and the stable lr 0.134 → 1: fewer epochs are needed at the best lr." in caption
    assert not at.sidebar.warning
    at.number_input(key="_w_lr").set_value(0.5).run()
    assert "this run will diverge" in at.sidebar.warning[0].value
    at.button(key="btn_lr_optimal").click().run()
    assert at.session_state.settings.lr == pytest.approx(g.optimal_lr, rel=1e-2)
    assert not at.sidebar.warning
    run = train_clicked(at)
    assert run.status == "completed" and run.history[-1] < 1e-3 * run.history[0]


def test_runs_table_compares_this_sessions_runs_and_reopens_settings():
    at = start()
    first = train_clicked(at)
    at.selectbox(key="_w_optimizer").set_value("adam").run()
    at.number_input(key="_w_lr").set_value(0.05).run()
    second = train_clicked(at)
    goto(at, "results")
    table = at.dataframe[-1].value
    assert table["run"].tolist() == [2, 1]  # newest first
    assert table["optimizer"].tolist() == ["adam", "sgd"]
    assert table["final loss"].tolist() == pytest.approx([second.history[-1], first.history[-1]])
    assert all(table["gap to exact"] > 0)
    at.selectbox(key="reopen_pick").set_value(1).run()
    at.button(key="btn_reopen").click().run()
    assert (at.session_state.settings.optimizer, at.session_state.settings.lr) == ("sgd", 0.01)
    goto(at, "train")
    assert at.selectbox(key="_w_optimizer").value == "sgd"


def test_share_link_restores_settings_and_data_in_a_new_session():
    at = goto(start(), "data")
    at.number_input(key="_w_gen_n").set_value(40)
    at.number_input(key="_w_gen_seed").set_value(3)
    at.button(key="btn_generate").click().run()
    goto(at, "train")
    at.selectbox(key="_w_optimizer").set_value("adam").run()
    at.number_input(key="_w_lr").set_value(0.05).run()
    at.toggle(key="_w_standardize").set_value(True).run()
    goto(at, "results")
    url = at.code[-1].value
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    # The generator's values, not its 40 rows: a link a class can type or scan
    assert query["gen"] == "40,2,1,1,0,3" and "data" not in query and query["opt"] == "adam"
    assert len(url) < 120 and "gen=40,2,1,1,0,3" in url, url  # (and what a new session has already is left out)
    shared = shared_app(query)  # a new session opened from the link
    ss = shared.session_state
    assert (ss.settings.optimizer, ss.settings.lr, ss.settings.standardize) == ("adam", 0.05, True)
    pd.testing.assert_frame_equal(ss.ds_df, at.session_state.ds_df, check_dtype=False)  # the same rows, made again
    assert ss.gen_n == 40 and ss.gen_seed == 3  # and the generator's boxes show what made them
    assert any("Loaded the setup in this page's link" in s for s in texts(shared.success))
    assert train_clicked(shared).status == "completed"


@pytest.mark.parametrize("query,phrase", [
    ({"data": "!!not-base64!!"}, "shared data could not be read"),
    ({"data": base64.urlsafe_b64encode(zlib.compress(b"x,y\n" + b"1,2\n" * 100_000)).decode()}, "larger than a share link"),
    ({"lr": "abc"}, "Ignored the shared setting lr='abc'"),
    ({"lr": "-1"}, "Ignored the shared setting lr='-1': Learning rate: it must be a number from 1e-09 to 1000."),
    ({"opt": "__import__('os')"}, "Ignored the shared setting opt=\"__import__('os')\": choose one of sgd, momentum"),
])
def test_hostile_share_links_are_refused_with_a_message(query, phrase):
    at = shared_app(query)
    assert any(phrase in w for w in texts(at.warning)), texts(at.warning)
    assert at.session_state.settings.lr > 0 and at.session_state.ds_name == "Tutorial: 4 points"
    assert train_clicked(at).status == "completed"
