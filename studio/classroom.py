"""The Train page for a class: the first visitor's card, and presentation mode for a projector.

Presentation mode (``ui_present``; ``?present=1`` in a link) is the Train page with large text, the three charts side
by side filling the screen (a 1024×768 projector shows the landscape without scrolling), the controls in one row and
the sidebar out of the way: a teacher sets the settings first, then presents; *Exit presentation* brings it all back.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

__all__ = ["HEIGHT", "exit_button", "figure", "first_visit_card", "presenting", "styles", "toggle"]

HEIGHT = 470  # px: a chart's height in presentation mode (768 − the controls and the status line, with room)
FONT, TITLE_FONT, AXIS_FONT = 16, 19, 17  # px: tick labels ~10 px by default were unreadable from the back of a room

_STYLES = """<style>
[data-testid="stSidebar"], [data-testid="stExpandSidebarButton"], [data-testid="stSidebarCollapsedControl"] {
  display: none !important; }
[data-testid="stMainBlockContainer"] { padding-top: 3.6rem;  /* (under the header, whose menu takes clicks) */ padding-left: 1.5rem; padding-right: 1.5rem;
  max-width: none; }
.st-key-train_controls button p { font-size: 1.15rem; }  /* one row with Speed at 1024 px */
.st-key-train_head p, .st-key-train_head span { font-size: 1.3rem; }
</style>"""


def presenting() -> bool:
    return bool(st.session_state.get("ui_present"))


def styles() -> None:
    """Call once per script run of the Train page while presenting (st.html with only a style block adds nothing)."""
    st.html(_STYLES)
    from linreg_core import LinregError

    from . import state

    try:
        state.current_problem(trainable=True)
    except LinregError:  # the page stops at its data guard, before the controls' Exit button: the way out is here
        exit_button(st)


def figure(fig: go.Figure) -> go.Figure:
    """``fig`` as a projector shows it: taller, with large text."""
    fig.update_layout(height=HEIGHT, font={"size": FONT}, title={"font": {"size": TITLE_FONT}},
                      xaxis={"title": {"font": {"size": AXIS_FONT}}}, yaxis={"title": {"font": {"size": AXIS_FONT}}})
    return fig


def _set(on: bool) -> None:
    st.session_state.ui_present = on


def toggle() -> None:
    """The sidebar's way in (the sidebar is a fragment: the whole page reruns, presenting)."""
    if st.button("Presentation mode", key="btn_present", icon=":material/present_to_all:",
                 help="For a projector: large text, the charts side by side filling the screen, the sidebar hidden "
                      "(Exit presentation, beside Train, brings it back). A link with ?present=1 opens in it."):
        _set(True)
        st.rerun(scope="app")


def exit_button(container) -> None:
    """The way out, in the controls' row (the sidebar is hidden). A rerun of the whole page: the row is in a fragment,
    and the title and the sidebar outside it come back."""
    if container.button("Exit presentation", key="btn_present_exit", icon=":material/close_fullscreen:"):
        _set(False)
        st.rerun(scope="app")


def first_visit_card() -> None:
    """Until the visitor trains or closes it: what the Train page does, in plain words, and the way to Lesson 1."""
    ss = st.session_state
    box = st.container(key="welcome_box")  # always there, empty once closed: the elements below keep their place
    if ss.ui_welcomed or ss.runs or presenting():  # (and the charts are not mounted afresh, which would blink)
        return
    with box.container(border=True, key="welcome"):
        st.markdown("**New here?** Gradient descent fits a line to points by taking small steps downhill on the "
                    "*loss* — the average squared distance from the points to the line. Press **Train** and watch "
                    "the line swing into place while the loss falls, or take Lesson 1: five minutes, guided.")
        c1, c2 = st.columns([1, 1], width=420)
        if c1.button("Start Lesson 1", type="primary", icon=":material/menu_book:", key="btn_welcome_lesson",
                     width="stretch"):
            ss.update(ui_welcomed=True, lesson=0)
            st.switch_page("app_pages/lessons.py")
        c2.button("Close", key="btn_welcome_close", on_click=lambda: ss.update(ui_welcomed=True), width="stretch")
