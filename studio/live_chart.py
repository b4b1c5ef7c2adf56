"""Charts that update in place while training: a small Streamlit component that calls ``Plotly.react``.

``st.plotly_chart`` replaces (remounts) its chart whenever the figure changes, so a chart redrawn several
times a second blinks and forgets the user's zoom. This component (Streamlit's components v2, no iframe)
keeps one ``<div>`` per key for the whole session and hands each new figure to ``Plotly.react``, which
updates the plot in place and keeps the zoom (``layout.uirevision``). Plotly.js itself is the copy that
ships with the plotly Python package, served on a route of the app's own (studio/server.py).
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

from .plotly_js import PLOTLY_JS_ROUTE

_JS = """
const ROUTE = "__ROUTE__";
let plotlyLoading = null;
function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!plotlyLoading) {
    plotlyLoading = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = ROUTE;
      s.onload = () => resolve(window.Plotly);
      s.onerror = () => { plotlyLoading = null; reject(new Error("plotly.js not served")); };
      document.head.appendChild(s);
    });
  }
  return plotlyLoading;
}
// No "Share chart..." button: it would upload the chart, data included, to Plotly's cloud.
// A short toolbar (zoom, pan, reset, download): on a phone a full one covers the chart's title.
const TRIM = ["sendChartToCloud", "zoomIn2d", "zoomOut2d", "autoScale2d"];
const CONFIG = {responsive: true, displaylogo: false, showSendToCloud: false, plotlyServerURL: "",
                modeBarButtonsToRemove: ["lasso2d", "select2d", ...TRIM]};
// Editing points: box and lasso select the points to delete.
const EDIT_CONFIG = {...CONFIG, modeBarButtonsToRemove: TRIM};

// Point editing (studio/points.py): a click on the plot area (not a drag, not the toolbar) sends its data
// coordinates; a box or lasso selection sends the indices of the selected points of trace 0.
function listen(c) {
  const div = c.div;
  let down = null;
  div.addEventListener("pointerdown", (e) => { down = [e.clientX, e.clientY]; }, true);
  div.addEventListener("click", (e) => {
    if (!c.edit || !down || Math.hypot(e.clientX - down[0], e.clientY - down[1]) > 4) return;
    if (e.target.closest && e.target.closest(".modebar, .legend, .updatemenu-container")) return;
    const fl = div._fullLayout;
    if (!fl || !fl.xaxis || !fl.yaxis) return;
    const box = div.getBoundingClientRect(), size = fl._size;
    const px = e.clientX - box.left - size.l, py = e.clientY - box.top - size.t;
    if (px < 0 || py < 0 || px > size.w || py > size.h) return;
    c.send("click", {x: fl.xaxis.p2d(px), y: fl.yaxis.p2d(py), at: Date.now()});
  });
  div.on("plotly_selected", (ev) => {
    if (!c.edit || !ev || !ev.points) return;
    const rows = ev.points.filter((p) => p.curveNumber === 0).map((p) => p.pointIndex);
    if (rows.length) c.send("select", {rows, at: Date.now()});
  });
}
// One chart element per key for the whole page: if Streamlit remounts the component (a full rerun that a
// redraw tick cut short can drop an element and add it back), the new mount adopts the chart already drawn
// instead of drawing it again from nothing, so the reader never sees it blink.
const charts = window.__linregLiveCharts || (window.__linregLiveCharts = new Map());

export default function (component) {
  const { data, parentElement } = component;
  let c = charts.get(data.key);
  if (!c) {
    const div = document.createElement("div");
    div.className = "live-chart";
    div.dataset.testid = "liveChart";
    div.dataset.key = data.key;
    c = { div, figure: null, owner: null, edit: false, listening: false, send: () => {} };
    charts.set(data.key, c);
  }
  if (c.owner !== parentElement) {
    parentElement.appendChild(c.div);  // moves it here if an older mount still holds it
    c.owner = parentElement;
  }
  c.div.style.height = data.height + "px";
  c.edit = !!data.edit;
  c.send = (name, value) => component.setTriggerValue(name, value);  // the newest mount's channel
  if (data.figure !== c.figure || data.edit !== c.drawnEdit) {  // an unchanged figure costs the browser nothing
    c.figure = data.figure;
    c.drawnEdit = data.edit;
    const fig = JSON.parse(data.figure);
    loadPlotly().then((Plotly) => Plotly.react(c.div, fig.data, fig.layout, data.edit ? EDIT_CONFIG : CONFIG)).then(() => {
      if (data.edit && !c.listening) { c.listening = true; listen(c); }
      c.div.dataset.edit = data.edit ? "on" : "off";  // drawn in this mode: what a test waits for before clicking
    }).catch(() => {
      c.div.textContent = "This chart could not load plotly.js from the studio's server. Start the studio with: streamlit run app.py";
    });
  }
  return () => {
    if (c.owner !== parentElement) return;  // a newer mount has adopted the chart
    c.owner = null;
    setTimeout(() => {  // not adopted by a new mount soon: the chart is gone for good
      if (c.owner === null && charts.get(data.key) === c) {
        if (window.Plotly) window.Plotly.purge(c.div);
        c.div.remove();
        charts.delete(data.key);
      }
    }, 2000);
  };
}
""".replace("__ROUTE__", PLOTLY_JS_ROUTE)

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


def live_chart(fig: go.Figure | str, key: str, height: int | None = None, edit: bool = False) -> dict:
    """Draw ``fig`` (or its JSON) into the chart ``key``; a later call with the same key updates it in place.
    Give the figure a :func:`revision` so that the view state (zoom, selection) belongs to one run or dataset.

    Call it once per script or fragment run per key (Streamlit refuses a key twice in one run): redraw
    by re-running a fragment, not by calling it in a loop. With ``edit``, a click on the plot area and a box
    or lasso selection rerun the script (or fragment) once, and the returned dict carries them:
    ``{"click": {"x", "y"} | None, "select": {"rows": [indices into trace 0]} | None}``.
    """
    text = fig if isinstance(fig, str) else figure_json(fig)
    if height is None:
        height = int(fig.layout.height or 360) if isinstance(fig, go.Figure) else 360
    result = _COMPONENT(data={"figure": text, "key": key, "height": height, "edit": edit}, key=key,
                        on_click_change=_ignore, on_select_change=_ignore)
    return {"click": result.get("click"), "select": result.get("select")}
