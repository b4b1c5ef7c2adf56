"""UI support for the Streamlit pages: session state, presets, charts, live training.

Everything numerical lives in linreg_core; this package only adapts it to Streamlit and Plotly.
"""
