"""Small-screen layout: on a phone the sidebar covers the page, so it folds away once a page is chosen. And the
page-wide bits: styles, the theme menu, early loading of the live charts' code."""

from __future__ import annotations

import streamlit as st

_JS = """
export default function (component) {
  const { data } = component;
  if (data.address !== undefined) {  // the page's address, kept in step with the session (studio/share.py)
    // Replaced, not pushed: the Back button still leaves the page instead of stepping through every setting changed.
    const want = data.address ? "?" + data.address : "";
    if (location.search !== want) history.replaceState(history.state, "", location.pathname + want + location.hash);
    return;
  }
  // A page with live charts: start fetching (and parsing) plotly.js and the charts' module while the page's script
  // still runs, rather than when its first chart arrives (studio/live_chart.js waits for this same script tag).
  for (const src of data.scripts || []) {
    if (document.querySelector(`script[src="${src}"]`)) continue;
    const s = document.createElement("script");
    s.src = src;
    s.async = true;
    s.onerror = () => s.remove();  // the chart itself tries again, and says so if it cannot
    document.head.appendChild(s);
  }
  for (const href of data.modules || []) {
    if (document.querySelector(`link[href="${href}"]`)) continue;
    const l = document.createElement("link");
    l.rel = "modulepreload";
    l.href = href;
    document.head.appendChild(l);
  }
  if (data.page === undefined) return;  // only loading the live charts' code early
  const last = window.__linregPage;
  window.__linregPage = data.page;
  // Only right after a page change (not on every rerun: a reader may have opened the sidebar to change a setting).
  // window.__linregFold says once this page's decision is made (and acted on): what a test waits for before it
  // reaches for the sidebar again, instead of racing the fold.
  const decided = (folded) => { window.__linregFold = {page: data.page, folded}; };
  if (last === data.page) return;  // a rerun of the same page: that decision stands
  if (last === undefined || window.innerWidth > 640) return decided(false);
  const sidebar = document.querySelector('[data-testid="stSidebar"]');
  if (!sidebar || sidebar.dataset.collapsed !== 'false') return decided(false);
  const close = sidebar.querySelector('[data-testid="stSidebarCollapseButton"] button');
  if (!close) return decided(false);
  setTimeout(() => { close.click(); decided(true); }, 0);
}
"""

_FOLD = st.components.v2.component("linreg_fold_sidebar", html="<span></span>", js=_JS)


def set_address(query: str, key: str) -> None:
    """Make ``query`` (url-encoded) the query string of the page's address, replacing the history entry rather than
    adding one (``st.query_params`` adds one per change: Back would step through every setting instead of leaving).
    ``key``: one per place that calls it in a script run."""
    _FOLD(data={"address": query}, key=key, height=0)


def fold_sidebar_on_phones(page: str) -> None:
    """Call once per script run with the current page's name."""
    _FOLD(data={"page": page}, key="fold_sidebar", height=0)


LIVE_CHART_PATHS = ("", "step")  # the pages (URL paths) with live charts: Train (the default page) and Step


def load_live_charts_early() -> None:
    """Call first thing in a script run: on a page with live charts, the browser starts fetching and parsing
    plotly.js (3.6 MB: about a second of a small machine's CPU) and the charts' module while the page's script
    still runs, rather than when its first chart arrives (studio/live_chart.js waits for the same script tag)."""
    from urllib.parse import urlsplit

    from .plotly_js import CHART_JS_ROUTE, PLOTLY_JS_ROUTE

    path = urlsplit(st.context.url or "").path.strip("/").split("/")[-1]
    if path in LIVE_CHART_PATHS:
        _FOLD(data={"scripts": [PLOTLY_JS_ROUTE], "modules": [CHART_JS_ROUTE]}, key="load_live_charts", height=0)


# A fitted equation with many terms (dummy columns of a formula) is wider than the page: KaTeX clips it at the right
# edge. Let it scroll sideways inside its own box instead, with the scrollbar visible.
_STYLES = """<style>
[data-testid="stMarkdownContainer"] .katex-display { overflow-x: auto; overflow-y: hidden; padding-bottom: 6px;
  scrollbar-width: thin; scrollbar-color: rgba(128, 128, 128, 0.55) rgba(128, 128, 128, 0.12); }  /* light or dark page */
/* Train's controls: Pause as wide as Resume (the buttons beside it stay put); on a phone, narrower padding so that
   Train, Pause, Stop and Reset share one line above the charts. */
.st-key-btn_pause button { min-width: 6.9rem; }
@media (max-width: 640px) { .st-key-train_controls button { padding-left: 0.55rem; padding-right: 0.55rem; }
  .st-key-btn_pause button { min-width: 6.2rem; } }
</style>"""


def page_styles() -> None:
    """Call once per script run: the app's few style rules (st.html with only a style block adds no element)."""
    st.html(_STYLES)


ABOUT = ("**Linear Regression Studio** — gradient descent fitting a line, live, beside the exact least-squares fit.\n\n"
         "Theme: this menu's System / Light / Dark; System follows your device's light or dark setting.")


def theme_menu() -> None:
    """Call once per script run (after ``st.set_page_config``): shows Streamlit's main menu (⋮, top right), whose
    System / Light / Dark items are the studio's theme chooser. With ``client.toolbarMode = "minimal"`` Streamlit
    shows that menu only when the app names a menu item of its own; this names one, About. (The choice is the
    browser's: Streamlit keeps it in localStorage and applies it without a rerun.)"""
    st.set_page_config(menu_items={"About": ABOUT})
