"""The page's Streamlit theme (light or dark, the reader's choice or their system's) for charts Streamlit does not theme.

``st.plotly_chart`` applies Streamlit's theme itself: it merges the theme into the figure's template (so the
figures of studio/charts.py keep colours out of their layout) and redraws when the theme changes. A chart that a
components-v2 component draws with plotly.js (studio/live_chart.py) gets no such help; :data:`THEME_JS` gives its
JavaScript the theme as a Plotly layout patch.

What Streamlit 1.67 gives a components-v2 component (read from its frontend, checked in Chromium):

* The theme as CSS custom properties on a wrapper element (``display: contents``) around the component, inherited by
  ``parentElement`` and everything in it: ``--st-background-color``, ``--st-text-color``, ``--st-heading-color``,
  ``--st-primary-color``, ``--st-border-color``, ``--st-font``, ``--st-chart-categorical-colors`` (comma-separated)
  and the rest of the theme's options, each ``--st-`` + the option's name in kebab case. The component's function
  gets no theme argument (only name, data, key, parentElement, setStateValue, setTriggerValue).
* When the theme changes (the reader picks Light / Dark / System in the main menu, or their system switches while
  System is picked), Streamlit calls the component's function again, with the same ``data`` and the new custom
  properties in place (after running the cleanup the previous call returned). No script rerun happens, so
  ``st.context.theme`` on the server stays stale until the next rerun: charts must not take colours from it.

JavaScript API (paste ``THEME_JS`` before a component's own code; it defines these names at the top level)::

    themeColors(element)          -> {dark, background, text, heading, primary, border, font, axis, grid, legend,
                                      categorical}: the theme where ``element`` is (inside the component)
    themeKey(element)             -> a string that changes exactly when the theme's colours or font change
    themeLayout(element, layout?) -> a nested Plotly layout patch: transparent paper and plot, fonts, title,
                                     axes (xaxis, yaxis and every xaxisN/yaxisN in ``layout``), legend, hover
                                     labels, colour bars, mode bar
    themeRelayout(element, layout?) -> the same patch as "a.b.c" keys, for Plotly.relayout
    withTheme(fig, element)       -> a copy of {data, layout} with the patch merged into the layout, trace colour
                                     bars themed, and light label boxes (annotation bgcolor) made dark on a dark page
    onThemeChange(element, callback) -> unsubscribe function; calls callback(themeLayout(element), themeKey(element))
                                     when the theme where ``element`` is changes (main menu choice, system change)

How the live chart calls it: draw ``withTheme(fig, c.div)`` instead of ``fig`` and redraw when ``themeKey`` changes,
since Streamlit calls the component again on a theme change with an unchanged figure::

    const theme = themeKey(c.div);  // after c.div is in parentElement
    if (data.figure !== c.figure || data.edit !== c.drawnEdit || theme !== c.theme) {
      c.theme = theme;
      const fig = withTheme(viewPatch(c, JSON.parse(data.figure)), c.div);
      ... Plotly.react(c.div, fig.data, fig.layout, config) ...
    }

``onThemeChange`` is the same signal without relying on Streamlit calling the component again (a chart whose
component is not re-run, a chart outside a component): ``c.unwatch = onThemeChange(c.div, () => redraw(c))``.
"""

from __future__ import annotations

import json
from typing import Literal

# Streamlit's own look for Plotly (st.plotly_chart, theme="streamlit"), which depends on whether the theme's
# background is light or dark: its gray70/gray30 axis text, gray30/gray85 grid, gray90/gray10 legend text.
STREAMLIT_CHART_COLORS: dict[Literal["light", "dark"], dict[str, str]] = {
    "light": {"axis": "#808495", "grid": "#e6eaf1", "legend": "#262730"},
    "dark": {"axis": "#e6eaf1", "grid": "#31333F", "legend": "#fafafa"},
}

THEME_JS = r"""
// ---- studio/theme.py THEME_JS: the Streamlit theme where an element is, as a Plotly layout patch ----------------
const linregTheme = (() => {
  const CHART = __CHART_COLORS__;
  const TRANSPARENT = "rgba(0,0,0,0)";
  const FALLBACK = {light: {background: "#ffffff", text: "#2F2D2B"}, dark: {background: "#171614", text: "#EDEBE8"}};
  const parsed = new Map();
  let ctx = null;

  function rgba(color) {  // [r, g, b, a] (0..255, 0..1) of any CSS colour, or null when it is not one
    if (!color) return null;
    if (parsed.has(color)) return parsed.get(color);
    ctx = ctx || document.createElement("canvas").getContext("2d");
    let out = null;
    for (const sentinel of ["#010203", "#030201"]) {  // an invalid colour leaves the sentinel in place
      ctx.fillStyle = sentinel;
      ctx.fillStyle = color;
      const v = ctx.fillStyle;
      if (v === sentinel) { out = null; continue; }
      if (v[0] === "#") out = [1, 3, 5].map((i) => parseInt(v.slice(i, i + 2), 16)).concat(1);
      else { const n = v.slice(v.indexOf("(") + 1, -1).split(",").map(Number); out = [n[0], n[1], n[2], n.length > 3 ? n[3] : 1]; }
      break;
    }
    parsed.set(color, out);
    return out;
  }
  function luminance(c) {  // WCAG relative luminance of [r, g, b, a]
    const [r, g, b] = c.slice(0, 3).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  }
  function fade(color, alpha) {
    const c = rgba(color);
    return c ? `rgba(${c[0]},${c[1]},${c[2]},${alpha})` : color;
  }
  function systemDark() { return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches; }

  function themeColors(element) {
    const app = document.querySelector('[data-testid="stApp"]');
    const at = element && element.isConnected ? element : app || document.documentElement;
    const css = getComputedStyle(at);
    const prop = (name) => css.getPropertyValue(name).trim();
    const appCss = app ? getComputedStyle(app) : null;
    let background = prop("--st-background-color");
    let bg = rgba(background);
    if (!bg || bg[3] === 0) {  // not inside a component: the app's own background, else the system's preference
      background = appCss ? appCss.backgroundColor : "";
      bg = rgba(background);
    }
    if (!bg || bg[3] === 0) { background = FALLBACK[systemDark() ? "dark" : "light"].background; bg = rgba(background); }
    const dark = !(luminance(bg) > 0.5);  // Streamlit's own rule: a theme is light when its background's is above 0.5
    const base = CHART[dark ? "dark" : "light"];
    const text = prop("--st-text-color") || (appCss && appCss.color) || FALLBACK[dark ? "dark" : "light"].text;
    return {
      dark, background, text,
      heading: prop("--st-heading-color") || text,
      primary: prop("--st-primary-color"),
      border: prop("--st-border-color") || base.grid,
      font: prop("--st-font") || css.fontFamily,
      axis: base.axis, grid: base.grid, legend: base.legend,
      categorical: prop("--st-chart-categorical-colors").split(",").map((s) => s.trim()).filter(Boolean),
    };
  }
  function themeKey(element) {
    const t = themeColors(element);
    return [t.dark, t.background, t.text, t.heading, t.border, t.font].join("|");
  }
  function themeLayout(element, layout) {
    const t = themeColors(element);
    // Colours only: nothing here turns a part on (a minor.gridcolor would: Plotly then draws the minor grid).
    const axis = (k) => {
      const a = {gridcolor: t.grid, linecolor: t.grid, zerolinecolor: t.grid, tickcolor: t.grid,
                 tickfont: {color: t.axis}, title: {font: {color: t.axis}}};
      const minor = layout && layout[k] && layout[k].minor;
      if (minor && minor.showgrid) a.minor = {gridcolor: t.grid};
      return a;
    };
    const patch = {
      paper_bgcolor: TRANSPARENT, plot_bgcolor: TRANSPARENT,  // the page (or the sidebar) shows through
      font: {color: t.axis, family: t.font},
      title: {font: {color: t.heading}},
      legend: {bgcolor: TRANSPARENT, font: {color: t.legend}, title: {font: {color: t.axis}}},
      hoverlabel: {bgcolor: t.background, bordercolor: t.border, font: {color: t.text}},
      modebar: {bgcolor: TRANSPARENT, color: fade(t.axis, 0.7), activecolor: t.text},
      xaxis: axis("xaxis"), yaxis: axis("yaxis"),
    };
    for (const k of Object.keys(layout || {})) {
      if (/^[xy]axis\d+$/.test(k)) patch[k] = axis(k);
      if (/^coloraxis\d*$/.test(k)) patch[k] = {colorbar: colorbar(t)};
    }
    return patch;
  }
  function colorbar(t) {
    return {tickfont: {color: t.axis}, title: {font: {color: t.axis}}, outlinecolor: TRANSPARENT};
  }
  function merge(target, patch) {  // a copy of target with patch merged in (objects deeply, the rest replaced)
    const out = Array.isArray(target) ? target.slice() : {...(target || {})};
    for (const [k, v] of Object.entries(patch)) {
      const isObj = v && typeof v === "object" && !Array.isArray(v);
      const old = out[k];
      out[k] = isObj && old && typeof old === "object" && !Array.isArray(old) ? merge(old, v) : isObj ? merge({}, v) : v;
    }
    return out;
  }
  function flatten(patch, prefix = "", out = {}) {
    for (const [k, v] of Object.entries(patch)) {
      if (v && typeof v === "object" && !Array.isArray(v)) flatten(v, prefix + k + ".", out);
      else out[prefix + k] = v;
    }
    return out;
  }
  function themeRelayout(element, layout) { return flatten(themeLayout(element, layout)); }
  function withTheme(fig, element) {
    const t = themeColors(element);
    const layout = merge(fig.layout || {}, themeLayout(element, fig.layout));
    // A label's light box keeps it readable where curves cross it; on a dark page, a box of the page's colour does.
    if (t.dark && Array.isArray(layout.annotations)) {
      layout.annotations = layout.annotations.map((a) => {
        const box = rgba(a && a.bgcolor);
        if (!box || box[3] === 0 || luminance(box) < 0.6) return a;
        const b = rgba(t.background);
        const label = {...a, bgcolor: `rgba(${b[0]},${b[1]},${b[2]},${box[3]})`};
        const ink = rgba(a.font && a.font.color);
        if (ink && luminance(ink) < 0.15) label.font = {...a.font, color: t.text};  // dark ink on the new dark box
        return label;
      });
    }
    const data = (fig.data || []).map((trace) => {
      if (!trace) return trace;
      let out = trace;
      if (trace.colorbar) out = {...out, colorbar: merge(trace.colorbar, colorbar(t))};
      if (trace.marker && trace.marker.colorbar) out = {...out, marker: {...trace.marker, colorbar: merge(trace.marker.colorbar, colorbar(t))}};
      return out;
    });
    return {...fig, data, layout};
  }
  function onThemeChange(element, callback) {
    let last = themeKey(element), queued = false;
    const check = () => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => {  // after Streamlit has restyled the page
        queued = false;
        const key = themeKey(element);
        if (key !== last) { last = key; callback(themeLayout(element), key); }
      });
    };
    const media = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
    if (media) media.addEventListener("change", check);
    // Streamlit restyles the app root and each component's theme wrapper (new CSS classes) when the theme changes.
    const observer = new MutationObserver(check);
    const watch = (el) => { if (el) observer.observe(el, {attributes: true, attributeFilter: ["class", "style"]}); };
    watch(document.querySelector('[data-testid="stApp"]'));
    for (let el = element && element.parentElement; el; el = el.parentElement) {
      if (getComputedStyle(el).display === "contents" && getComputedStyle(el).getPropertyValue("--st-background-color")) watch(el);
      if (el.dataset && el.dataset.testid === "stApp") break;
    }
    return () => { if (media) media.removeEventListener("change", check); observer.disconnect(); };
  }
  return {themeColors, themeKey, themeLayout, themeRelayout, withTheme, onThemeChange};
})();
const { themeColors, themeKey, themeLayout, themeRelayout, withTheme, onThemeChange } = linregTheme;
// ---- end of THEME_JS -------------------------------------------------------------------------------------------
""".replace("__CHART_COLORS__", json.dumps(STREAMLIT_CHART_COLORS))


def with_theme_js(js: str) -> str:
    """A component's JavaScript module with :data:`THEME_JS` before it, so that it can call ``themeLayout`` & co.
    (``THEME_JS`` has no ``import``/``export``: it goes anywhere before the code that uses it)."""
    return THEME_JS + "\n" + js
