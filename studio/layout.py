"""Small-screen layout: on a phone the sidebar covers the page, so it folds away once a page is chosen."""

from __future__ import annotations

import streamlit as st

_JS = """
export default function (component) {
  const { data } = component;
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


def fold_sidebar_on_phones(page: str) -> None:
    """Call once per script run with the current page's name."""
    _FOLD(data={"page": page}, key="fold_sidebar", height=0)


# A fitted equation with many terms (dummy columns of a formula) is wider than the page: KaTeX clips it at the right
# edge. Let it scroll sideways inside its own box instead, with the scrollbar visible.
_STYLES = """<style>
[data-testid="stMarkdownContainer"] .katex-display { overflow-x: auto; overflow-y: hidden; padding-bottom: 6px;
  scrollbar-width: thin; scrollbar-color: rgba(47, 45, 43, 0.45) rgba(47, 45, 43, 0.06); }
</style>"""


def page_styles() -> None:
    """Call once per script run: the app's few style rules (st.html with only a style block adds no element)."""
    st.html(_STYLES)
