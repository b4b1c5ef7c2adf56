"""Charts that update in place while training: a small Streamlit component (studio/live_chart.js).

``st.plotly_chart`` replaces (remounts) its chart whenever the figure changes, so a chart redrawn several
times a second blinks and forgets the user's zoom. This component (Streamlit's components v2, no iframe)
keeps one ``<div>`` per key for the whole session and hands each new figure to ``Plotly.react``, which
updates the plot in place and keeps the zoom (``layout.uirevision``). Plotly.js itself is the copy that
ships with the plotly Python package, served on a route of the app's own (studio/server.py).

While a run trains, Plotly draws only what does not move (the data, the exact fit, the landscape); the component
draws what moves — the fitted line, the loss curve, the optimizer's path and the status line — over it, every
animation frame, from the numbers it streams from the server (``anim``, studio/stream.py). Toggles that change
only the view (``views``: log scale, residuals) are applied in the browser the moment they are clicked.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

from .plotly_js import CHART_JS_ROUTE

# The component's inline code only loads the charts' module (studio/live_chart.js with the theme's, studio/theme.py)
# from its route: inline code would travel with every chart the server sends; the module is fetched once.
_JS = """
let mod = null;
// (An absolute URL: this inline module itself is loaded from a blob: URL, against which "/…" does not resolve.)
const loading = import(new URL("__CHART_JS__", window.location.origin).href).then((m) => (mod = m));
export default function (component) {
  if (mod) return mod.default(component);
  let cleanup = null, gone = false;
  loading.then((m) => { if (!gone) cleanup = m.default(component); });
  return () => { gone = true; if (cleanup) cleanup(); };
}
""".replace("__CHART_JS__", CHART_JS_ROUTE)

_COMPONENT = st.components.v2.component("linreg_live_chart", html="<div></div>", js=_JS, isolate_styles=False)


_TICKER_JS = """
const timers = new WeakMap();
const sent = new WeakMap();
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  clearTimeout(timers.get(parentElement));
  if (data.active) {
    // Keep the period from one tick to the next, but never tick before this run has fully arrived.
    const since = performance.now() - (sent.get(parentElement) || 0);
    const wait = Math.max(30, data.every_ms - since);
    timers.set(parentElement, setTimeout(() => {
      sent.set(parentElement, performance.now());
      setTriggerValue("tick", data.seq);
    }, wait));
  }
  return () => clearTimeout(timers.get(parentElement));
}
"""

_TICKER = st.components.v2.component("linreg_ticker", html="<span></span>", js=_TICKER_JS)


def redraw_after(seconds: float | None, key: str, seq: int) -> None:
    """Rerun the fragment this is called in ``seconds`` after this run has reached the browser (never while a
    run is still going: unlike ``st.fragment(run_every=...)``, whose timer can fire mid-run, cut a full rerun
    of the page short and make Streamlit drop and remount the elements it missed). ``None``: stop.
    Call it last in the fragment, with a ``seq`` that changes every run."""
    _TICKER(data={"active": seconds is not None, "every_ms": int(1000 * (seconds or 0)), "seq": seq}, key=key,
            on_tick_change=lambda: None, height=0)


def figure_json(fig: go.Figure) -> str:
    """The figure as Plotly JSON (numpy arrays as compact base64 typed arrays)."""
    return pio.to_json(fig, validate=False)


def _ignore() -> None:
    """The events are read from the component's return value (see live_chart)."""


def revision(fig: go.Figure, *of: object) -> go.Figure:
    """Tie the chart's view state to what it shows (``of``: the data, the run). Plotly keeps the user's zoom and
    selection across redraws while ``layout.uirevision`` stays the same; a new run or new data starts them
    afresh, so a second run's axes cover its own epochs and a box that deleted points does not stay drawn."""
    fig.layout.uirevision = repr(of)
    return fig


def matrix(a: Any) -> dict[str, Any]:
    """A float64 matrix for the browser (base64, as Plotly sends typed arrays): exact, and a fraction of JSON's size."""
    a = np.ascontiguousarray(a, dtype="<f8")
    return {"dtype": "f8", "bdata": base64.b64encode(a.tobytes()).decode(), "shape": list(a.shape)}


def live_status(key: str, anim: dict[str, Any], status: dict[str, Any]) -> None:
    """The status line of a training run, drawn by the browser every frame from the run's stream (``anim``); when
    the run has ended and its last epoch is on screen, it reruns the fragment it is in once."""
    replay = bool(anim.get("replay"))  # a run that has ended, replayed: it needs no rerun at its end
    _COMPONENT(data={"key": key, "anim": {**anim, "trigger": not replay}, "status": status}, key=key,
               on_ended_change=_ignore, on_click_change=_ignore, on_select_change=_ignore, height="content")


def replay_slider(key: str, anim: dict[str, Any], label: str, help: str = "") -> None:
    """A slider over the recorded epochs of a run that has ended (``anim``: its stream, ``replay``): the browser
    answers every move itself, redrawing the charts and the status line that replay the same run, with no rerun."""
    _COMPONENT(data={"key": key, "anim": anim, "slider": {"label": label, "help": help}}, key=key,
               on_ended_change=_ignore, on_click_change=_ignore, on_select_change=_ignore, height="content")


def preview(key: str, layers: dict[str, list[dict[str, Any]]], note: str) -> None:
    """The next run's preview: ``layers`` per chart key, which the page's live charts draw over their figures (the
    charts may come later in the page: the browser keeps them for them), and ``note`` in words, here. Rendered by
    the settings' fragment, so that a change of the learning rate redraws the preview without a rerun of the page."""
    _COMPONENT(data={"key": key, "preview": layers, "note": note}, key=key, on_click_change=_ignore,
               on_select_change=_ignore, on_ended_change=_ignore, height="content")


def live_chart(fig: go.Figure | str, key: str, height: int | None = None, edit: bool = False,
               anim: dict[str, Any] | None = None, views: list[dict[str, Any]] | None = None,
               chart: str | None = None, drag: dict[str, Any] | None = None) -> dict:
    """Draw ``fig`` (or its JSON) into the chart ``key``; a later call with the same key updates it in place.
    Give the figure a :func:`revision` so that the view state (zoom, selection) belongs to one run or dataset.

    ``anim``: what the browser draws over the figure (studio/charts.py's ``*_layers``), and the run it streams, if
    any. ``views``: toggles the browser applies itself, each ``{"key": widget key, "on": its value, "layout":
    [layout patch off, on]}`` or ``"traces": [indices shown when on]``.

    Call it once per script or fragment run per key (Streamlit refuses a key twice in one run): redraw
    by re-running a fragment, not by calling it in a loop — or, to redraw a chart later in the same run (a race that
    ends), with a new ``key`` and the same ``chart``: the browser's chart, which the new element takes over in place. With ``edit``, a click on the plot area and a box
    or lasso selection rerun the script (or fragment) once, and the returned dict carries them:
    ``{"click": {"x", "y"} | None, "select": {"rows": [indices into trace 0]} | None}``. ``drag`` (with ``edit``):
    a point of trace 0 may be dragged, the figure's "exact least squares" line following it, refitted in the browser
    (``{"intercept": bool}``: a straight line, with or without an intercept); the drop comes back as
    ``"drag": {"row", "x", "y"}``.
    """
    text = fig if isinstance(fig, str) else figure_json(fig)
    if height is None:
        height = int(fig.layout.height or 360) if isinstance(fig, go.Figure) else 360
    data = {"figure": text, "key": chart or key, "height": height, "edit": edit, "anim": anim, "views": views or [],
            "drag": drag if edit else None}
    result = _COMPONENT(data=data, key=key, on_click_change=_ignore, on_select_change=_ignore, on_ended_change=_ignore,
                        on_drag_change=_ignore)
    return {"click": result.get("click"), "select": result.get("select"), "drag": result.get("drag")}
