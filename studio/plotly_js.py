"""Where the live charts get plotly.js: the copy inside the plotly package, served by app.py's route (studio/server.py).

Kept apart from the component so that studio/server.py can import it before Streamlit's runtime starts.
"""

from pathlib import Path

import plotly

PLOTLY_JS = Path(plotly.__file__).with_name("package_data") / "plotly.min.js"
PLOTLY_JS_ROUTE = f"/vendor/plotly-{plotly.__version__}.min.js"  # versioned, so browsers may cache it
