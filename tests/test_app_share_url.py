"""The page's address follows the session (studio/share.py ``keep_in_url``): a reload — a new session opened from
that address — keeps every setting and the data, or says plainly that the data could not be kept."""

from __future__ import annotations

import pandas as pd
from app_support import address, goto, shared_app, start, texts, upload

from studio.share import qr_svg


def test_a_new_session_leaves_the_address_clean():
    assert address(start()) == {}  # nothing differs from the defaults


def test_every_changed_setting_and_the_preset_are_in_the_address_and_a_reload_keeps_them():
    at = goto(start(), "data")
    at.button(key="preset_tips").click().run()
    goto(at, "train")
    at.selectbox(key="_w_optimizer").set_value("adam").run()
    at.number_input(key="_w_lr").set_value(0.05).run()
    at.number_input(key="_w_epochs").set_value(300).run()
    at.toggle(key="_w_standardize").set_value(True).run()
    at.number_input(key="_w_seed").set_value(7).run()  # (under Advanced)
    q = address(at)
    assert q["preset"] == "tips" and q["y"] == "tip" and q["x"] == "total_bill" and "data" not in q
    assert (q["opt"], q["lr"], q["epochs"], q["std"], q["seed"]) == ("adam", "0.05", "300", "1", "7")
    again = shared_app(q)  # the reload
    s = again.session_state
    assert (s.settings.optimizer, s.settings.lr, s.settings.epochs, s.settings.standardize, s.settings.seed) == (
        "adam", 0.05, 300, True, 7)
    pd.testing.assert_frame_equal(s.ds_df, at.session_state.ds_df)
    assert (s.sel_target, list(s.sel_features)) == ("tip", ["total_bill"])


def test_a_small_edited_dataset_travels_in_the_address():
    at = goto(start(), "data")
    upload(at, "mine.csv", b"a,b\n1,2\n2,4.5\n3,6\n")
    q = address(at)
    assert "data" in q and "lost" not in q
    s = shared_app(q).session_state
    assert s.ds_df.to_dict("list") == {"a": [1, 2, 3], "b": [2.0, 4.5, 6.0]}


def test_data_too_large_for_the_address_is_named_on_reload_not_lost_quietly():
    at = goto(start(), "data")
    rows = "".join(f"{i},{i * 0.37:.6f}\n" for i in range(400))
    upload(at, "big.csv", ("x,y\n" + rows).encode())
    goto(at, "train")
    at.number_input(key="_w_lr").set_value(0.02).run()
    q = address(at)
    assert q["lost"] == "1" and "data" not in q and q["lr"] == "0.02"
    again = shared_app(q)
    assert any("could not be kept when the page was reloaded" in t and "Upload it again" in t
               for t in texts(again.warning))
    assert again.session_state.settings.lr == 0.02  # the settings are kept all the same


def test_the_lessons_address_names_the_lesson():
    at = goto(start(), "lessons")
    at.radio(key="_w_lesson").set_value(2).run()
    assert address(at)["lesson"] == "3"


def test_a_generator_link_refuses_values_its_boxes_cannot_show():
    at = shared_app({"gen": "40,2,1,1,0"})
    assert any("gen" in t and "6 numbers" in t for t in texts(at.warning))
    at = shared_app({"gen": "40,2,1,-1,0,3"})  # a negative noise
    assert any("Noise (std)" in t for t in texts(at.warning))
    assert at.session_state.ds_name.startswith("Tutorial")  # the default data stays


def test_the_share_link_has_a_qr_code_unless_it_is_too_long():
    assert qr_svg("http://localhost:8501/?preset=tips").startswith("<svg")
    assert qr_svg("http://localhost:8501/?data=" + "A" * 5000) is None
    at = goto(start(), "results")
    assert len(at.get("image")) == 1  # the QR code beside the link
