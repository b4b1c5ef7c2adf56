"""Uploads on the Data page. A small file is read in the uploader's callback. A big CSV is read in the page instead,
with a progress bar and a Stop button: a click interrupts the script at its next Streamlit call (runner.fastReruns),
which the progress report makes every 256 KiB, and the dataset loaded before stays untouched.

``LINREG_UPLOAD_PROGRESS_MB`` sets the size (MB) from which a CSV upload is read with progress (default 8).
"""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from linreg_core import LinregError, read_upload
from linreg_core._sources import is_parquet
from studio import state
from studio.text import md, md_list
from studio.workload import _setting

PROGRESS_MB = _setting("LINREG_UPLOAD_PROGRESS_MB", 8.0)
REDRAW_S = 0.1  # the bar's pace: the parser reports far more often


def _limit() -> int:
    return int(st.get_option("server.maxUploadSize")) * 2**20


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"  # the uploader's own unit beside it (Streamlit counts 1000s except on Windows)


def _loaded(df: pd.DataFrame, name: str) -> None:
    state.set_dataset(df, name)
    cols = [str(c) for c in df.columns]
    shown = md_list(cols) if len(cols) <= 20 else f"{md_list(cols[:10])}, … {md(cols[-1])} ({len(cols):,} in all)"
    st.session_state._upload_msg = ("success", f"Loaded **{md(name)}**: {len(df):,} rows, columns {shown}.")


def _refused(name: str, exc: LinregError) -> None:
    st.session_state._upload_msg = ("error", f"Could not load **{md(name)}**: {md(exc, 2000)} The previous dataset "
                                             "is still loaded.")


def _finish_switch() -> None:
    """A big CSV was read in full but the switch to it was cut short (a click interrupts at any Streamlit call,
    session-state writes included): make it the dataset, so the data is either the old or the new one."""
    ss = st.session_state
    if "_upload_read" in ss:
        _loaded(*ss._upload_read)
        del ss._upload_read


def uploaded() -> None:
    """The uploader's on_change: read the file now, or leave a big CSV to :func:`read_pending`."""
    ss = st.session_state
    _finish_switch()
    for key in ("_upload_pending", "_upload_stop", "_upload_done"):
        ss.pop(key, None)
    up = ss.csv_upload
    if up is None:
        return
    up.seek(0)
    head = up.read(4)
    if up.size >= PROGRESS_MB * 2**20 and not is_parquet(head, up.name):
        ss._upload_pending = (up.file_id, up.name, up.size, False)  # False: not started
        return
    try:
        df = read_upload(up.getvalue(), up.name, max_bytes=_limit())
    except LinregError as exc:
        _refused(up.name, exc)
    else:
        _loaded(df, up.name)


def _stop() -> None:
    st.session_state._upload_stop = True


def settle() -> str | None:
    """At the top of the Data page: end a big CSV's read that was cut short; what to say above the tabs, if any.

    The read happens in the run that follows the upload (:func:`read_pending`). Cut short - by Stop, by anything
    else done on the page meanwhile, or by leaving it - it is given up, not started again behind the user's back;
    and a read that was complete when its switch to the new dataset was cut short is finished
    (:func:`_finish_switch`), so the data is either the old or the new.
    """
    ss = st.session_state
    if "_upload_read" in ss:
        _finish_switch()
        ss.pop("_upload_pending", None)
    pending = ss.get("_upload_pending")
    stopped = ss.pop("_upload_stop", False)  # left over when the click came after the read ended
    if pending is None or not (pending[3] or stopped):
        return None
    name, size = pending[1:3]
    del ss._upload_pending
    done, total = ss.pop("_upload_done", (0, size))
    text = f"Stopped reading **{md(name)}** after {_mb(done)} of {_mb(total)}"
    if stopped:  # said in the Upload tab, where Stop was
        ss._upload_msg = ("info", f"{text}. The previous dataset is still loaded; drop the file again to load it.")
        return None
    # Another widget or page meanwhile (which may have changed the dataset): said above the tabs, which open on
    # Presets when the page is opened again.
    return f"{text}, as the page was used or left before it was read. Drop the file again to load it."


def read_pending() -> None:
    """In the Upload tab: read the big CSV :func:`uploaded` left, with a progress bar and a Stop button; then show
    the page again. Every step survives the script being cut short at any Streamlit call (see :func:`settle`)."""
    ss = st.session_state
    pending = ss.get("_upload_pending")
    up = ss.get("csv_upload")
    if pending is None or up is None or up.file_id != pending[0]:
        ss.pop("_upload_pending", None)
        return
    file_id, name, size, _ = pending
    ss._upload_pending = (file_id, name, size, True)  # started: a later run that finds it so gives it up
    data = up.getvalue()
    bar = st.progress(0.0, text=f"Reading {md(name)}: {_mb(0)} of {_mb(len(data))}…")
    st.button("Stop", key="btn_upload_stop", on_click=_stop, icon=":material/stop:")
    shown = time.monotonic()

    def progress(done: int, total: int) -> None:
        nonlocal shown
        ss._upload_done = (done, total)  # a Streamlit call: where a Stop click interrupts the read
        if time.monotonic() - shown >= REDRAW_S:
            bar.progress(done / total, text=f"Reading {md(name)}: {_mb(done)} of {_mb(total)}…")
            shown = time.monotonic()

    try:
        df = read_upload(data, name, max_bytes=_limit(), progress=progress)
    except LinregError as exc:
        _refused(name, exc)
        del ss._upload_pending
    else:
        ss._upload_read = (df, name)
        _loaded(df, name)
        del ss._upload_pending  # first: a click between the two must not leave a read that looks stopped
        del ss._upload_read
    ss.pop("_upload_done", None)
    st.rerun()  # from the top: the page above was drawn with the old dataset
