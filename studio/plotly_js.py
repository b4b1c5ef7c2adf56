"""Where the live charts get plotly.js (a cartesian bundle of the version the plotly package ships) and their own code, both served by
app.py's routes (studio/server.py).

Kept apart from the component so that studio/server.py can import it before Streamlit's runtime starts.
"""

import hashlib
from pathlib import Path

import plotly

FULL_PLOTLY_JS = Path(plotly.__file__).with_name("package_data") / "plotly.min.js"
# The live charts draw only cartesian traces (scatter, heatmap): plotly.js's cartesian bundle (npm
# plotly.js-cartesian-dist-min, MIT, studio/vendor/LICENSE-plotly.js) is 1.5 MB against the full bundle's 4.8 MB, and a
# small machine parses it in a third of the time — the Train page's charts appear a second sooner. Its version is
# the one the plotly package ships (tests/test_live_chart.py checks). WebGL traces are drawn as SVG ones.
PLOTLY_JS_VERSION = "4.1.1"
PLOTLY_JS = Path(__file__).with_name("vendor") / f"plotly-cartesian-{PLOTLY_JS_VERSION}.min.js"
PLOTLY_JS_ROUTE = f"/vendor/plotly-cartesian-{PLOTLY_JS_VERSION}.min.js"  # versioned, so browsers may cache it


# The live charts' module, in parts joined in this order (names at the top level are shared across them).
CHART_JS_PARTS = ("live_chart.js", "live_layers.js", "live_component.js")


def _chart_js() -> str:
    from .theme import with_theme_js

    here = Path(__file__).parent
    js = "\n".join((here / name).read_text() for name in CHART_JS_PARTS)
    return with_theme_js(js.replace("__ROUTE__", PLOTLY_JS_ROUTE))


# The live charts' own code (studio/live_chart.js, with the theme's), served from a route of its own like plotly.js:
# a component's inline JavaScript travels with every element the server sends (~30 kB each time a chart is
# drawn), a module on a route is fetched once and cached. Its name carries a hash of its text, so a new version is
# fetched anew.
CHART_JS = _chart_js()
CHART_JS_ROUTE = f"/_linreg/live-chart-{hashlib.sha256(CHART_JS.encode()).hexdigest()[:12]}.js"
