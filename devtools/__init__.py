"""What the tests and benchmarks use to drive the studio from outside, kept out of the product packages.

- :mod:`devtools.server`: `streamlit run app.py` started once and polled healthy, Chromium's path and flags, waits on
  the app's script state.
- :mod:`devtools.protocol`: sessions that speak the browser's own websocket protocol (the load benchmark's tabs).
- :mod:`devtools.soak`: waves of real browser sessions with the server's memory sampled after each.
"""
