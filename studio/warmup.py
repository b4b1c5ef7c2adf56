"""Once per server process, before the first page: the thread policy, the imports paid up front, the import heap
frozen out of the garbage collector's way."""

from __future__ import annotations

import os
import threading

import streamlit as st

TORCH_THREADS = int(os.environ.get("LINREG_TORCH_THREADS", "1"))


def _preload() -> None:
    import plotly.io as pio
    import torch

    from . import charts

    torch.set_num_threads(max(1, TORCH_THREADS))
    torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    pio.to_json(charts.go.Figure([{"type": t, "x": [0.0], "y": [0.0]} for t in ("scatter", "heatmap")]))


def preload_in_background() -> None:
    """Start the imports :func:`warm_up` pays (torch, torch._dynamo, plotly's figure classes: ~4 s on a small
    machine) when the server starts, in a thread of their own, so that the first visitor's page does not wait for
    them. The first page's :func:`warm_up` then finds them done (or waits for the rest on the import lock)."""
    threading.Thread(target=_preload, name="linreg-preload", daemon=True).start()


@st.cache_resource(show_spinner=False)
def warm_up() -> bool:
    """Once per server process.

    - Thread policy: every session trains in its own script thread, and torch's intra-op pool is shared
      by the whole process. One intra-op thread per training (LINREG_TORCH_THREADS to change it) keeps
      concurrent sessions from oversubscribing the cores, so one user cannot starve the rest.
    - The first torch.optim optimizer imports torch._dynamo (~2 s here): pay it at start-up, not on a
      user's first Train.
    - Then the ~430,000 objects the imports made (torch, pandas, SciPy, plotly's figure classes) are frozen
      out of the garbage collector's reach: each full collection walked them all, holding the GIL for 60–240 ms
      while every page, websocket and health check waited (docs/capacity.md). What sessions make later is
      collected as usual.
    """
    import gc

    _preload()
    gc.collect()
    gc.freeze()
    return True
