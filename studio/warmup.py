"""Once per server process: the imports paid up front, torch's thread policy, the import heap frozen out of the garbage
collector's way.

The Train page needs no torch until Train is pressed: the preview of the next run reproduces torch's seeded weights
in numpy (linreg_core._start), and a CPU-only build's device list is known without it (studio/devices.py). So what
the page needs is imported when `streamlit run` imports app.py, before the server listens (:func:`page_imports`),
and torch in a thread of its own once the first page has been shown (:func:`preload_in_background`); the pages that
train wait for it (:func:`torch_ready`).
"""

from __future__ import annotations

import os
import threading
import time

import streamlit as st
from streamlit.logger import get_logger

log = get_logger(__name__)
TORCH_THREADS = int(os.environ.get("LINREG_TORCH_THREADS", "1"))
FIRST_PAGE_WAIT = 10.0  # seconds torch's import waits for a first page to be shown, at most
AFTER_FIRST_PAGE = 1.0  # and then, while the browser draws it with the scripts this server sends it
_lock = threading.Lock()
_thread: threading.Thread | None = None
_imported = False
_torch_lock = threading.Lock()
_torch = threading.Event()  # torch is imported and its thread policy set
_page_shown = threading.Event()  # a script run has ended


def page_imports() -> None:
    """What the Train page's first run would otherwise pay itself (~1 s here): pandas, SciPy, plotly's figure classes
    and JSON encoder, the studio's modules, plotly.js gzipped for the browser — and what Streamlit does once per
    process in the first page's run: the emoji pattern that reads the page icon (~0.15 s) and the module-by-file
    table inspect.stack() builds (~0.09 s; Streamlit looks at the stack before it sends the first element). Once per
    process; app.py calls it when `streamlit run` imports it, before the server listens."""
    global _imported
    with _lock:
        if _imported:
            return
        _imported = True
    import importlib
    import inspect

    import plotly.io as pio

    import linreg_core._export  # noqa: F401 (the Results page's downloads; the rest through studio.state)
    import linreg_core._preview  # noqa: F401
    import linreg_core._summary  # noqa: F401

    from . import charts, classroom, layout, live_chart, memory, plane, share, state, sweep, view  # noqa: F401
    from .server import plotly_js_gzip

    plotly_js_gzip()
    pio.to_json(charts.go.Figure([{"type": t, "x": [0.0], "y": [0.0]} for t in ("scatter", "heatmap")]))
    try:
        importlib.import_module("streamlit.emojis")
    except ImportError:  # another Streamlit: its own way
        pass
    inspect.stack()


def _preload() -> None:
    """:func:`page_imports` (where app.py has not paid them: AppTest), then torch.

    - torch (~1–3 s here) with its thread policy (:func:`torch_ready`), and the first torch.optim optimizer, which
      imports torch._dynamo (~1–2 s here): no page needs them before training, and the first Train press finds them
      loaded. They wait until the first page has been shown (:func:`page_shown`; FIRST_PAGE_WAIT seconds at most):
      importing holds Python's GIL most of the time, and the first visitor's page run and the files this server
      sends it would take turns with them. A page that trains before then imports torch itself.
    - Then the seeded weights' numpy reproduction is checked against torch (linreg_core._start.matches_torch).
    - Then the ~430,000 objects the imports made are frozen out of the garbage collector's reach: each full
      collection walked them all, holding the GIL for 60–240 ms while every page, websocket and health check waited
      (docs/capacity.md). What sessions make later is collected as usual.
    """
    import gc

    started = time.perf_counter()
    page_imports()
    if _page_shown.wait(FIRST_PAGE_WAIT):
        time.sleep(AFTER_FIRST_PAGE)
    torch_ready()
    import torch

    from linreg_core._start import matches_torch

    torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    if not matches_torch():
        log.warning("torch's seeded weights differ from their numpy reproduction here: previews now ask torch")
    gc.collect()
    gc.freeze()
    log.info("warm-up done in %.1f s: torch loaded, import heap frozen", time.perf_counter() - started)


def preload_in_background() -> None:
    """Start :func:`_preload` once per process, in a thread of its own."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_preload, name="linreg-preload", daemon=True)
            _thread.start()


def page_shown() -> None:
    """app.py, once a script run has ended: torch's import may begin (see :func:`_preload`)."""
    _page_shown.set()


def torch_ready() -> None:
    """torch imported, with its thread policy set: every session trains in its own script thread, and torch's
    intra-op pool is shared by the whole process. One intra-op thread per training (LINREG_TORCH_THREADS to change
    it) keeps concurrent sessions from oversubscribing the cores. Call it before training: it returns at once where
    the preload has done it, else it waits for (or does) the import."""
    if _torch.is_set():
        return
    with _torch_lock:
        if not _torch.is_set():
            import torch

            torch.set_num_threads(max(1, TORCH_THREADS))
            _torch.set()


def torch_is_ready() -> bool:
    """Whether :func:`torch_ready` would return at once."""
    return _torch.is_set()


def trainer(*args, **kwargs):
    """linreg_core.Trainer(*args, **kwargs) once torch is ready (:func:`torch_ready`): where the Train page imports
    torch, when a run starts."""
    torch_ready()
    from linreg_core import Trainer

    return Trainer(*args, **kwargs)


@st.cache_resource(show_spinner=False)
def warm_up() -> bool:
    """Once per server process, from the first page: the preload is under way (started here where the script runs
    without `streamlit run`, as in AppTest). The page does not wait for it."""
    preload_in_background()
    return True
