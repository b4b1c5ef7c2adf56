"""Small-screen layout: on a phone the sidebar covers the page, so it folds away once a page is chosen."""

from __future__ import annotations

import streamlit as st

_JS = """
export default function (component) {
  const { data } = component;
  const last = window.__linregPage;
  window.__linregPage = data.page;
  // Only right after a page change (not on every rerun: a reader may have opened the sidebar to change a setting).
  if (last === undefined || last === data.page || window.innerWidth > 640) return;
  const sidebar = document.querySelector('[data-testid="stSidebar"]');
  if (!sidebar || sidebar.dataset.collapsed !== 'false') return;
  const close = sidebar.querySelector('[data-testid="stSidebarCollapseButton"] button');
  if (close) setTimeout(() => close.click(), 0);
}
"""

_FOLD = st.components.v2.component("linreg_fold_sidebar", html="<span></span>", js=_JS)


def fold_sidebar_on_phones(page: str) -> None:
    """Call once per script run with the current page's name."""
    _FOLD(data={"page": page}, key="fold_sidebar", height=0)
