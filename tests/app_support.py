"""Shared AppTest machinery for the dashboard tests: the user-action helpers."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from linreg_core import LinregError, TrainConfig, build_design, read_csv, train
from studio.run import RunRecord

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TUTORIAL = pd.DataFrame({"x": [1.0, 2.0, 3.0, 3.5], "y": [2.0, 4.0, 6.0, 7.0]})


def start(pace: str = "asap") -> AppTest:
    """A new session. Its runs train as fast as possible unless a test is about pacing: the default *Watch*
    pace (studio/pace.py) would spend seconds per run waiting, and waiting changes no number."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["ui_pace"] = pace
    at.run()
    assert not at.exception
    return at


def shared_app(query: dict[str, str]) -> AppTest:
    """A new session opened through a share link carrying ``query``."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["ui_pace"] = "asap"
    at.query_params.update(query)
    at.run()
    assert not at.exception
    return at


def goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception
    return at


def plain(markdown: str) -> str:
    """Markdown source as the reader sees the text: backslash escapes and invisible word joiners
    (studio/text.py) removed."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace("\u2060", "")


def texts(elements) -> list[str]:
    return [plain(e.value) for e in elements]


def chart_specs(at: AppTest) -> list[dict]:
    """Every Plotly figure on the page: st.plotly_chart's and the live charts' (studio/live_chart.py)."""
    specs = [json.loads(el.proto.spec) for el in at.get("plotly_chart")]
    for el in at.get("bidi_component"):
        if el.proto.component_name.endswith("linreg_live_chart"):
            data = json.loads(el.proto.json)
            if not data.get("figure"):  # the live status line
                continue
            fig = json.loads(data["figure"])
            for view in data.get("views", []):  # the page's toggles, as the browser applies them
                if "layout" in view:
                    fig["layout"].update(view["layout"][1 if view["on"] else 0])
                for k in view.get("traces", []):
                    fig["data"][k]["visible"] = view["on"]
            specs.append(fig)
    return specs


def address(at: AppTest) -> dict[str, str | list[str]]:
    """The query of the page's address as the app last set it (studio/share.py ``keep_in_url``, through
    studio/layout.py's component, which replaces the browser's history entry): what a reload opens a new session
    with. A repeated key comes as a list."""
    from urllib.parse import parse_qs

    sent = [json.loads(el.proto.json) for el in at.get("bidi_component")
            if el.proto.component_name.endswith("linreg_fold_sidebar")]
    query = next((d["address"] for d in reversed(sent) if "address" in d), "")
    return {k: v[0] if len(v) == 1 else v for k, v in parse_qs(query).items()}


def figures(at: AppTest) -> dict[str, dict]:
    """Plotly figures on the page, by title."""
    return {spec["layout"]["title"]["text"]: spec for spec in chart_specs(at)}


def trace_values(trace: dict, axis: str) -> np.ndarray:
    """A trace's x or y values; Plotly 6+ ships numpy arrays as {"dtype", "bdata"}."""
    v = trace.get(axis, [])
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
    return np.asarray(v, dtype=np.float64)


def traces(fig: dict) -> dict[str, dict]:
    return {t.get("name"): t for t in fig["data"]}


def download(at: AppTest, stores: list[MemoryMediaFileStorage], key: str) -> bytes:
    """A download button's payload; a deferred one (data given as a callable) is generated as a click would."""
    button = at.download_button(key=key)
    url = button.proto.url
    if button.proto.deferred_file_id:
        url = stores[-1].managers[-1].execute_deferred(button.proto.deferred_file_id)
    return stores[-1].get_file(url.rsplit("/", 1)[1]).content


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="csv_upload").set_value((name, data, "text/csv")).run()
    assert not at.exception
    return at


def edit_table(at: AppTest, edits: dict) -> AppTest:
    """Send a data_editor edit the way the browser does: as the editor's widget state, so on_change runs.

    Seeding ``at.session_state["editor_<v>"]`` (the documented AppTest route) changes the widget's value but
    never fires its on_change callback, and the Data page applies edits only in that callback.
    """
    editor = at.data_editor(key=f"editor_{at.session_state.ds_version}")
    states = at._tree.get_widget_states()
    states.widgets.append(WidgetState(id=editor.proto.id, string_value=json.dumps(edits)))
    at._run(states)
    assert not at.exception
    return at


def train_clicked(at: AppTest) -> RunRecord:
    """Press Train, wait for the background job to end, and show the page as it is then."""
    at.button(key="btn_train").click().run()
    assert not at.exception
    return finish_run(at)


def finish_run(at: AppTest) -> RunRecord:
    run = at.session_state.run
    if run is not None:
        assert run.finished.wait(120), "the training job did not end"
        at.run()
        assert not at.exception
    return run


def library_history(df: pd.DataFrame, target: str, features: list[str] | None = None, **config) -> list[float]:
    return train(build_design(df, target, features), TrainConfig(device="cpu", **config)).loss_history


def library_error(data: bytes) -> str:
    with pytest.raises(LinregError) as info:
        read_csv(data)
    return str(info.value)
