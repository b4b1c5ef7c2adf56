"""A finished run as one self-contained HTML file that replays it: the fitted line, the loss curve and the path on
the landscape, epoch by epoch, with Play and a slider — drawn by the same code as the live charts on the Train
page (studio/live_chart.js, its layers from studio/charts.py), from the run's numbers written into the file. Plotly.js
and that code are inlined, so the file opens offline."""

from __future__ import annotations

import html
import json
from typing import Any

from linreg_core import Design, ExactFit

from . import charts, layers, stream
from .labels import OPTIMIZER_LABELS
from .live_chart import figure_json
from .plotly_js import CHART_JS, PLOTLY_JS
from .run import RunRecord
from .text import plot

INLINE = "inline:run"  # the stream "address" the file's charts read their numbers from (no server behind it)
_EXPORT = "export default function (component)"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<style>
  :root { color-scheme: light dark; }
  body { font-family: "Source Sans Pro", system-ui, sans-serif; margin: 1.5rem auto; max-width: 1200px; padding: 0 1rem;
         background: #ffffff; color: #2F2D2B; }
  @media (prefers-color-scheme: dark) { body { background: #171614; color: #EDEBE8; } }
  h1 { font-size: 1.4rem; margin: 0 0 0.25rem; } .note { opacity: 0.75; font-size: 0.875rem; margin: 0 0 1rem; }
  .row { display: flex; flex-wrap: wrap; gap: 1rem; } .row > div { flex: 1 1 460px; min-width: 0; }
</style>
<script>__PLOTLY__</script>
</head><body>
<h1>__TITLE__</h1>
<p class="note">__NOTE__</p>
<div id="status"></div>
<div id="replay"></div>
<div class="row"><div id="fit"></div><div id="loss"></div></div>
<div id="land"></div>
<script>window.__linregInline = {"__INLINE__": __NUMBERS__};</script>
<script>
__CHART__
const specs = __SPECS__;
for (const [id, data] of specs) {
  chartComponent({data, parentElement: document.getElementById(id), setTriggerValue: () => {}});
}
</script>
</body></html>
"""


def run_specs(design: Design, exact: ExactFit, run: RunRecord, validation: Design | None = None) -> list[tuple[str, dict]]:
    """What the file mounts, element by element: (its place, the component's data) — the page's replay of a run
    that has ended (app_pages/train.py): its final figures, the layers that move over them, the status line and
    the slider, all reading :data:`INLINE`."""
    count = len(run.snapshots)
    replay = {"stream": INLINE, "replay": True, "count": count}
    params = (run.intercept, list(run.coef))
    one = design.line_feature is not None
    specs: list[tuple[str, dict]] = [
        ("status", {"key": "status", "anim": {"stream": INLINE}, "status": {
            "terms": list(design.terms), "total": run.config.epochs, "rows": design.n_samples,
            "exact_b": exact.intercept, "exact_w": [float(v) for v in exact.coef]}}),
        ("replay", {"key": "replay", "anim": replay, "slider": {
            "label": "Replay: the model after each epoch",
            "help": "Play, or drag: the line, the loss marker and the landscape point show the model after that epoch."}}),
    ]
    fit = charts.fit_figure(design, params, exact, validation)
    specs.append(("fit", _chart("fit", fit, {**replay, "layers": layers.fit_layers(design, validation),
                                              "hide": layers.FIT_MOVING_TRACES[one]})))
    loss = charts.loss_figure(run.history, False, None, None, run.val_history if validation is not None else None)
    specs.append(("loss", _chart("loss", loss, {**replay, "layers": layers.replay_loss_layers()})))
    if design.fit_intercept and len(design.terms) == 1:
        land = charts.landscape_figure(design, (exact.intercept, exact.coef), run.path())
        specs.append(("land", _chart("land", land, {**replay, "layers": layers.landscape_layers(),
                                                    "hide": ["optimizer path", "now"]})))
    return specs


def _chart(key: str, fig: Any, anim: dict) -> dict:
    return {"figure": figure_json(fig), "key": key, "height": int(fig.layout.height or 380), "edit": False,
            "anim": anim, "views": []}


def run_html(design: Design, exact: ExactFit, run: RunRecord, validation: Design | None = None) -> str:
    """The run as a standalone HTML page (~1.7 MB: plotly.js's cartesian bundle is inside, no network needed)."""
    assert CHART_JS.count(_EXPORT) == 1  # the component's entry, called directly here (a classic script)
    title = (f"{plot(run.dataset)}: {OPTIMIZER_LABELS.get(run.config.optimizer, run.config.optimizer)}, "
             f"lr {run.config.lr:g}, {run.epochs_run:,} epochs ({run.status})")
    note = (f"Final loss {run.final_loss:.6g}. Press Play, or drag the slider (arrow keys step): the fitted line, the "
            "loss marker and the landscape point show the model after that epoch — every epoch early on, then evenly "
            "spaced ones. Made by Linear Regression Studio.")
    numbers = stream._json_safe(stream.increment(run, -1))
    numbers["status"] = "completed" if run.status == "running" else run.status

    def js(value: Any) -> str:  # JSON inside a <script>: no "</" can end it early
        return json.dumps(value, separators=(",", ":")).replace("</", "<\\/")

    page = PAGE.replace("__TITLE__", html.escape(title)).replace("__NOTE__", html.escape(note))
    page = page.replace("__INLINE__", INLINE).replace("__NUMBERS__", js(numbers))
    page = page.replace("__SPECS__", js(run_specs(design, exact, run, validation)))
    page = page.replace("__CHART__", CHART_JS.replace(_EXPORT, "function chartComponent(component)"))
    return page.replace("__PLOTLY__", PLOTLY_JS.read_text())  # last: the big texts are not searched again
