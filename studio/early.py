"""What the page that opens on Train or Step asks for first, at the top of index.html's head (studio/server.py's
EarlyAssets), measured with benchmarks/bench_first_render.py:

- plotly.js, requested before Streamlit's own scripts and at high priority (an ``async`` script is low priority, and
  was fetched after all of them): it arrives while those still download and is parsed while the page has nothing
  else to do, instead of after them, when it held up the page's websocket by ~0.25 s;
- the live charts' module (a ``modulepreload``), needed by the first chart;
- the chunks of Streamlit's front end that the Train page's elements load lazily (its widgets, page links, st.html,
  components v2: 44 small files), asked for a moment after the page's own first requests (its health check, its
  configuration, its websocket) have gone out, so that they arrive while the page's first run is still on its way
  rather than one round trip after each element. In the head itself they held up Streamlit's own scripts instead.

The chunks' names carry hashes of Streamlit's build: they are read from that build — its index.html and the entry
script's table of lazy imports (``import(`./Selectbox.<hash>.js`),__vite__mapDeps([i, …])``) — when the server
starts. A build laid out otherwise preloads none of them, and loads them as before.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import streamlit

from .plotly_js import CHART_JS_ROUTE, PLOTLY_JS_ROUTE

STATIC = Path(streamlit.__file__).parent / "static"
# Streamlit's element chunks the Train page's first run shows: its widgets, page links, st.html, components v2.
CHUNKS = ("BidiComponent", "Button", "ButtonGroup", "Checkbox", "Html", "NumberInput", "PageLink", "Selectbox", "Slider")
CHUNKS_AFTER_MS = 150  # after DOMContentLoaded: the page's health check, configuration and websocket go first

_PRELOAD_JS = """<script>document.addEventListener("DOMContentLoaded", () => setTimeout(() => {
  for (const href of __FILES__) {
    const l = document.createElement("link");
    l.rel = "modulepreload"; l.crossOrigin = ""; l.href = href;
    document.head.appendChild(l);
  }
}, __AFTER__));</script>"""


def streamlit_chunks(names: tuple[str, ...] = CHUNKS, static: Path = STATIC) -> list[str]:
    """The ``./static/js/…`` files of the lazily loaded chunks ``names`` and of those they import, less those
    index.html loads anyway; [] where Streamlit's build cannot be read so."""
    try:
        page = (static / "index.html").read_text()
        entry = re.search(r'src="\./static/js/(index\.[\w-]+\.js)"', page)
        js = (static / "static" / "js" / entry.group(1)).read_text() if entry else ""
        table = re.search(r"m\.f=\[(.*?)\]", js)
        files = json.loads(f"[{table.group(1)}]") if table else []
        found = []
        for m in re.finditer(r"""import\([`'"]\./((\w+)\.[\w-]+\.js)[`'"]\),__vite__mapDeps\(\[([\d,]*)\]""", js):
            if m.group(2) in names:
                found += [m.group(1), *(files[int(i)].removeprefix("./") for i in m.group(3).split(",") if i)]
    except (OSError, ValueError, IndexError):
        return []
    loaded = set(re.findall(r"\./static/js/([\w.-]+\.js)", page))
    return [f"./static/js/{f}" for f in dict.fromkeys(found) if f not in loaded and re.fullmatch(r"[\w.-]+\.js", f)]


def head_tags() -> bytes:
    """The tags that go first in index.html's head."""
    tags = [f'<script src="{PLOTLY_JS_ROUTE}" async fetchpriority="high"></script>',
            f'<link rel="modulepreload" href="{CHART_JS_ROUTE}">']
    if chunks := streamlit_chunks():
        tags.append(_PRELOAD_JS.replace("__FILES__", json.dumps(chunks)).replace("__AFTER__", str(CHUNKS_AFTER_MS)))
    return "".join(tags).encode()
