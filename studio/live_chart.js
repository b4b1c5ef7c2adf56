// The studio's chart component (studio/live_chart.py): Plotly draws what does not move; while a run trains, the
// browser draws what moves (the fitted line, the loss curve, the optimizer's path) itself, every animation frame,
// from the numbers the server streams (studio/stream.py). Python never builds a figure per frame.
const ROUTE = "__ROUTE__";
const DELAY = 320;        // ms the picture runs behind the newest numbers, so that it always has the next epoch
const POLL_GAP = 90;      // ms between two requests for news at least
let plotlyLoading = null;
function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!plotlyLoading) {
    plotlyLoading = new Promise((resolve, reject) => {
      const early = document.querySelector(`script[src="${ROUTE}"]`);  // started early by studio/layout.py
      if (early) {
        early.addEventListener("load", () => resolve(window.Plotly));
        early.addEventListener("error", () => { plotlyLoading = null; early.remove(); reject(new Error("plotly.js not served")); });
        return;
      }
      const s = document.createElement("script");
      s.src = ROUTE;
      s.onload = () => resolve(window.Plotly);
      s.onerror = () => { plotlyLoading = null; reject(new Error("plotly.js not served")); };
      document.head.appendChild(s);
    });
  }
  return plotlyLoading;
}
// No "Share chart..." button: it would upload the chart, data included, to Plotly's cloud.
// A short toolbar (zoom, pan, reset, download): on a phone a full one covers the chart's title.
const TRIM = ["sendChartToCloud", "zoomIn2d", "zoomOut2d", "autoScale2d"];
const CONFIG = {responsive: true, displaylogo: false, showSendToCloud: false, plotlyServerURL: "",
                modeBarButtonsToRemove: ["lasso2d", "select2d", ...TRIM]};
// Editing points: box and lasso select the points to delete.
const EDIT_CONFIG = {...CONFIG, modeBarButtonsToRemove: TRIM};
const SVG = "http://www.w3.org/2000/svg";

// ---- numbers -----------------------------------------------------------------------------------------------
function decode(a) {  // {dtype: "f8", bdata: base64, shape: [m, p]} or a plain array
  if (!a || Array.isArray(a)) return a;
  const bin = atob(a.bdata), buf = new ArrayBuffer(bin.length), u8 = new Uint8Array(buf);
  for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
  return a.dtype === "f4" ? new Float32Array(buf) : new Float64Array(buf);
}
function g(v, digits) {  // Python's "%.{digits}g"
  if (v === null || v === undefined) return "—";
  if (!isFinite(v)) return isNaN(v) ? "nan" : (v > 0 ? "inf" : "-inf");
  if (v === 0) return "0";
  const e = Math.floor(Math.log10(Math.abs(v)));
  if (e < -4 || e >= digits) {
    let [m, x] = v.toExponential(digits - 1).split("e");
    if (m.includes(".")) m = m.replace(/0+$/, "").replace(/\.$/, "");
    const n = parseInt(x, 10);
    return `${m}e${n < 0 ? "-" : "+"}${String(Math.abs(n)).padStart(2, "0")}`;
  }
  let s = v.toFixed(Math.max(0, digits - 1 - e));
  if (s.includes(".")) s = s.replace(/0+$/, "").replace(/\.$/, "");
  return s;
}
const comma = (n) => n.toLocaleString("en-US");

// ---- a run's numbers, polled from the server ---------------------------------------------------------------
// One Stream per run (its url holds the run's token), shared by the run's charts and kept across reruns.
const streams = window.__linregStreams || (window.__linregStreams = new Map());

class Stream {
  constructor(url) {
    this.url = url;
    this.e = []; this.t = []; this.b = []; this.w = []; this.loss = []; this.val = [];
    this.lanes = [];         // a race: per lane {b, w, loss}, aligned with e
    this.status = "running"; this.epochsRun = 0; this.total = 0; this.rowsDone = 0;
    this.offset = null;     // local ms − server ms, the smallest seen (the least delayed answer)
    this.views = new Set();
    this.polling = false; this.shown = -1; this.frozen = null; this.ended = false; this.trigger = null;
    this.replayI = null;     // replaying a run that has ended: the index of the recorded epoch on screen
    this.fullFetched = false;
    const inline = window.__linregInline && window.__linregInline[url];  // an exported file: the numbers are in it
    if (inline) { this.merge(inline); this.fullFetched = true; }
  }
  merge(inc) {
    if (!inc || !inc.e) return;
    const local = performance.now();
    const off = local - inc.now * 1000;
    if (this.offset === null || off < this.offset) this.offset = off;
    let last = this.e.length ? this.e[this.e.length - 1] : -1;
    if (inc.status === "running" && this.status !== "running") {  // resumed: the pause is no part of the film
      this.frozen = null; this.ended = false; this.resumed = true;
    }
    if (inc.epochs_run < last) {  // paused and taken back to the epoch the page showed: forget what came after
      let k = this.e.length;
      while (k > 0 && this.e[k - 1] > inc.epochs_run) k--;
      for (const a of this.columns()) a.length = Math.min(a.length, k);
      last = k ? this.e[k - 1] : -1;
    }
    for (let i = 0; i < inc.e.length; i++) {
      if (inc.e[i] <= last) continue;
      const t = inc.t[i] * 1000, n = this.t.length;
      if (this.resumed && n) {  // close the gap the pause left in the server's clock
        const shift = t - this.t[n - 1] - 100;
        if (shift > 0) { for (let k = 0; k < n; k++) this.t[k] += shift; if (this.play) this.play += shift; }
        this.resumed = false;
      }
      this.e.push(inc.e[i]); this.t.push(t);
      this.b.push(inc.b ? inc.b[i] : null); this.w.push(inc.w[i]);
      this.loss.push(inc.loss[i]); this.val.push(inc.val ? inc.val[i] : null);
      (inc.lanes || []).forEach((L, k) => {
        const lane = this.lanes[k] || (this.lanes[k] = {b: [], w: [], loss: []});
        lane.b.push(L.b[i]); lane.w.push(L.w[i]); lane.loss.push(L.loss[i]);
      });
      last = inc.e[i];
    }
    this.status = inc.status; this.epochsRun = inc.epochs_run; this.total = inc.total; this.rowsDone = inc.rows_done;
    for (const v of this.views) v.dirty = true;
  }
  get running() { return this.status === "running"; }
  columns() {  // every array aligned with the recorded epochs
    return [this.e, this.t, this.b, this.w, this.loss, this.val, ...this.lanes.flatMap((L) => [L.b, L.w, L.loss])];
  }
  of(lane) {  // the numbers of one race lane, or the run's own
    return lane === undefined || lane === null ? this : this.lanes[lane] || {b: [], w: [], loss: []};
  }
  // The epoch on screen at local time `now` (fractional between two recorded epochs), and where it falls. The
  // picture plays the run on the server's clock, DELAY behind its newest numbers; it starts at epoch 0 however late
  // the page came, and catches up by playing faster (at most 3×) until it is DELAY behind again; once the run has
  // ended, it plays on to the end at 3×.
  at(now, hold = false) {
    const n = this.e.length;
    if (!n) return null;
    if (this.replayI !== null && !this.running) {  // a replay: the slider's epoch, where it stays
      const i = Math.min(this.replayI, n - 1);
      return {i, f: 0, E: this.e[i], caughtUp: true};
    }
    if (this.frozen && now < this.frozenUntil) return this.frozen;
    if (hold) this.lastNow = now;  // a chart is still being laid out: the film starts when all can show it
    // In the server's clock; a run that has ended plays on to its end without waiting.
    const target = this.running ? now - DELAY - (this.offset || 0) : Infinity;
    if (this.play === null || this.play === undefined) this.play = this.t[0];
    else {
      const dt = Math.min(100, now - (this.lastNow || now));
      const behind = Math.min(target, this.t[n - 1] + DELAY) - this.play;
      // A run that has ended has no news to wait for: its last DELAY ms play at the catch-up's 3×, as the line settles.
      this.play += dt * (!this.running ? 3 : behind > 60 ? 1 + Math.min(2, behind / 1500) : 1);
    }
    this.lastNow = now;
    if (this.play > target) this.play = target;
    const T = this.play;
    let i;
    if (T >= this.t[n - 1]) i = n - 1;
    else if (T <= this.t[0]) i = 0;
    else {
      let lo = 0, hi = n - 1;
      while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (this.t[mid] <= T) lo = mid; else hi = mid - 1; }
      i = lo;
    }
    let f = 0;
    if (i < n - 1) f = Math.min(1, Math.max(0, (T - this.t[i]) / Math.max(1e-6, this.t[i + 1] - this.t[i])));
    const E = i < n - 1 ? this.e[i] + f * (this.e[i + 1] - this.e[i]) : this.e[i];
    // Once the run has ended, the last epoch is shown as soon as the picture gets there (no more waiting for news).
    if (!this.running && i === n - 1) return {i, f: 0, E, caughtUp: true};
    return {i, f, E, caughtUp: false};
  }
  params(pos, lane) {  // (intercept, coef) at `pos`, between recorded epochs i and i + 1 (of a race lane)
    const {i, f} = pos, S = this.of(lane), w0 = S.w[i];
    if (w0 === undefined) return null;
    if (!f || i + 1 >= S.w.length) return [S.b[i], w0];
    const w1 = S.w[i + 1], b0 = S.b[i], b1 = S.b[i + 1];
    return [b0 === null ? null : b0 + f * (b1 - b0), w0.map((v, k) => v + f * (w1[k] - v))];
  }
  async poll() {
    if (this.polling || !this.running) return;
    this.polling = true;
    let fails = 0;
    try {
      while (this.views.size && this.running) {
        const t0 = performance.now();
        const last = this.e.length ? this.e[this.e.length - 1] : -1;
        try {
          const r = await fetch(`${this.url}?from=${last}&shown=${this.shown}`, {cache: "no-store"});
          if (r.status === 404) { this.status = "gone"; break; }
          this.merge(await r.json());
          fails = 0;
        } catch (err) {
          if (++fails > 50) break;  // the server is gone: the page's own reconnect message says so
        }
        const wait = POLL_GAP - (performance.now() - t0);
        if (wait > 0) await new Promise((res) => setTimeout(res, wait));
      }
    } finally {
      this.polling = false;
    }
    if (document.hidden) this.finish();  // no frames are drawn in a hidden tab: end the run's picture now
    ensureLoop();
  }
  tellShown(epoch) {  // Pause pressed: the server stops at the epoch the page shows
    this.shown = epoch;
    fetch(`${this.url}?from=${1e15}&shown=${epoch}&press=1&wait=0`, {cache: "no-store", keepalive: true}).catch(() => {});
  }
  // ---- the replay of a run that has ended (the Replay slider, studio/live_chart.py's replay_slider) ----------
  // Its numbers are those this page streamed while it watched the run, or (a page that did not watch it all:
  // `count`, the recorded epochs, differs) all of them, asked for once from the stream route (from=-1).
  enterReplay(count) {
    if (this.running) return;
    if (this.e.length !== count && !this.fullFetched) {
      this.fullFetched = true;
      fetch(`${this.url}?from=-1&wait=0`, {cache: "no-store"}).then((r) => (r.ok ? r.json() : null)).then((inc) => {
        if (!inc || !inc.e) return;
        for (const a of this.columns()) a.length = 0;
        this.merge(inc);
        this.replayI = this.e.length - 1;
        ensureLoop();
      }).catch(() => {});
    }
    if (this.replayI === null || this.replayI >= this.e.length) this.replayI = Math.max(0, this.e.length - 1);
  }
  seek(i) {  // the slider moved: every view of this run draws recorded epoch i now, in this event (no frame wait)
    this.replayI = Math.max(0, Math.min(i, this.e.length - 1));
    const pos = this.at(performance.now());
    if (!pos) return;
    for (const v of this.views) { v.lastE = pos.E; v.dirty = false; v.draw(this, pos); }
  }
  finish() {  // the run has ended and its last epoch is on screen: ask the page for its final look, once
    if (this.ended || this.running) return;
    this.ended = true;
    if (this.trigger) this.trigger();
  }
}

// ---- the frame loop -------------------------------------------------------------------------------------------
let looping = false;
function ensureLoop() {
  if (looping) return;
  looping = true;
  requestAnimationFrame(frame);
}
function frame(now) {
  let again = false;
  for (const s of streams.values()) {
    if (!s.views.size) continue;
    let ready = true;
    for (const v of s.views) if (!v.drawn) ready = false;
    const pos = s.at(now, !ready);
    if (pos) {
      for (const v of s.views) {
        if (v.lastE === pos.E && !v.dirty) continue;  // nothing new to show (a paced run's wait)
        v.lastE = pos.E; v.dirty = false;
        v.draw(s, pos);
      }
      if (pos.caughtUp && !s.running) s.finish();
      else again = true;
    } else again = true;
  }
  if (again) requestAnimationFrame(frame);
  else looping = false;
}

// Pause stops where the page is: the moment the button is pressed, the picture holds still and the server hears
// which epoch it shows (before the click reaches it).
function onPausePress(e) {
  if (e.type === "keydown" && e.key !== "Enter" && e.key !== " ") return;
  const now = performance.now();
  const btn = e.target.closest && e.target.closest(".st-key-btn_pause button");
  if (!btn || !/Pause/.test(btn.textContent)) return;
  for (const s of streams.values()) {
    if (!s.views.size || !s.running) continue;
    if (s.frozen && now < s.frozenUntil) continue;  // the press before this click has told the server already
    const pos = s.at(now);
    if (!pos) continue;
    s.frozen = {...pos, f: 0, E: s.e[pos.i], caughtUp: pos.caughtUp};
    s.frozenUntil = performance.now() + 2000;  // a press that never became a click lets the picture go on
    s.tellShown(s.e[pos.i]);
  }
}
if (!window.__linregPauseHook) {
  window.__linregPauseHook = true;
  document.addEventListener("pointerdown", onPausePress, true);
  document.addEventListener("keydown", onPausePress, true);
  document.addEventListener("click", onPausePress, true);  // a click with no press before it (a script's, a test's)
}

// ---- views of the page's toggles, applied in the browser at once -----------------------------------------------
const charts = window.__linregLiveCharts || (window.__linregLiveCharts = new Map());
function keyOf(el) {
  const host = el.closest && el.closest("[class*='st-key-']");
  if (!host) return null;
  const m = /(?:^|\s)st-key-(\S+)/.exec(host.className);
  return m ? m[1] : null;
}
if (!window.__linregToggleHook) {
  window.__linregToggleHook = true;
  document.addEventListener("change", (e) => {
    if (!e.target || e.target.type !== "checkbox") return;
    const key = keyOf(e.target);
    if (!key) return;
    for (const c of charts.values()) {
      const v = (c.views || []).find((x) => x.key === key);
      if (v) setView(c, key, e.target.checked);
    }
  }, true);
}
function viewPatch(c, fig) {  // the figure as the toggles say, before Plotly draws it
  for (const v of c.views || []) {
    const on = c.on[v.key];
    if (v.layout) Object.assign(fig.layout, v.layout[on ? 1 : 0]);
    if (v.traces) for (const k of v.traces) if (fig.data[k]) fig.data[k].visible = on;
  }
  return fig;
}
function setView(c, key, on) {
  if (c.on[key] === on) return;
  c.on[key] = on;
  const v = c.views.find((x) => x.key === key);
  if (!window.Plotly || !c.drawn) return;
  if (v.layout) {  // the toggled axis in the page's theme too
    const patch = JSON.parse(JSON.stringify(v.layout[on ? 1 : 0]));
    window.Plotly.relayout(c.div, withTheme({data: [], layout: patch}, c.div).layout);
  }
  if (v.traces) {
    const held = c.replayHidden ? v.traces.filter((k) => c.replayHidden.idx.includes(k)) : [];
    for (const k of held) c.replayHidden.was[c.replayHidden.idx.indexOf(k)] = on;  // shown again at the end
    const rest = v.traces.filter((k) => !held.includes(k));
    if (rest.length) window.Plotly.restyle(c.div, {visible: on}, rest);
  }
  if (v.traces && c.replayHidden) drawLayers(c, c.lastPos ? c.lastPos.stream : null, c.lastPos ? c.lastPos.pos : null);
  if (v.layer) drawLayers(c, c.lastPos ? c.lastPos.stream : null, c.lastPos ? c.lastPos.pos : null);
}

// ---- what moves: drawn over the Plotly plot area, in its axes' coordinates -----------------------------------
function overlay(c) {
  let svg = c.svg;
  if (!svg) {
    svg = c.svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "linreg-overlay");
    svg.style.cssText = "position:absolute;left:0;top:0;pointer-events:none;overflow:hidden;z-index:1";
    const defs = document.createElementNS(SVG, "defs"), clip = document.createElementNS(SVG, "clipPath");
    c.clipId = `linreg-clip-${Math.random().toString(36).slice(2)}`;
    clip.setAttribute("id", c.clipId);
    c.clipRect = document.createElementNS(SVG, "rect");
    clip.appendChild(c.clipRect); defs.appendChild(clip); svg.appendChild(defs);
    c.g = document.createElementNS(SVG, "g");
    c.g.setAttribute("clip-path", `url(#${c.clipId})`);
    svg.appendChild(c.g);
    c.paths = new Map();
  }
  if (svg.parentNode !== c.div) c.div.appendChild(svg);
  return svg;
}
function pathEl(c, name, style) {
  let p = c.paths.get(name);
  if (!p) {
    p = document.createElementNS(SVG, "path");
    p.setAttribute("class", "js-line linreg-live");
    p.dataset.layer = name;
    for (const [k, val] of Object.entries(style)) if (val !== undefined && val !== null) p.setAttribute(k, val);
    c.g.appendChild(p);
    c.paths.set(name, p);
  }
  return p;
}
function axes(c) {
  const fl = c.div._fullLayout;
  if (!fl || !fl.xaxis || !fl.yaxis) return null;
  const xa = fl.xaxis, ya = fl.yaxis;
  const W = fl.width, H = fl.height;
  if (c.svg.getAttribute("width") != W) { c.svg.setAttribute("width", W); c.svg.setAttribute("height", H); }
  c.clipRect.setAttribute("x", xa._offset); c.clipRect.setAttribute("y", ya._offset);
  c.clipRect.setAttribute("width", xa._length); c.clipRect.setAttribute("height", ya._length);
  const logy = ya.type === "log";
  return {
    x: (v) => xa._offset + xa.c2p(v),
    y: logy ? (v) => (v > 0 ? ya._offset + ya.l2p(Math.log10(v)) : NaN) : (v) => ya._offset + ya.l2p(v),
    ya, logy,
  };
}
function line(ax, xs, ys, n) {  // an SVG path through (xs[k], ys[k]); gaps where a value cannot be drawn
  let d = "", pen = false;
  for (let k = 0; k < n; k++) {
    const X = ax.x(xs[k]), Y = ax.y(ys[k]);
    if (!isFinite(X) || !isFinite(Y) || Math.abs(Y) > 1e6) { pen = false; continue; }
    d += (pen ? "L" : "M") + X.toFixed(1) + "," + Y.toFixed(1);
    pen = true;
  }
  return d;
}
function dots(ax, xs, ys, n, r) {
  let d = "";
  for (let k = 0; k < n; k++) {
    const X = ax.x(xs[k]), Y = ax.y(ys[k]);
    if (!isFinite(X) || !isFinite(Y) || Math.abs(Y) > 1e6) continue;
    d += `M${(X - r).toFixed(1)},${Y.toFixed(1)}a${r},${r} 0 1,0 ${2 * r},0a${r},${r} 0 1,0 ${-2 * r},0`;
  }
  return d;
}
function linear(M, shape, b, w) {  // b + M·w for each row of M (m × p, row-major)
  const [m, p] = shape, out = new Float64Array(m);
  for (let r = 0; r < m; r++) {
    let s = b || 0;
    for (let k = 0; k < p; k++) s += M[r * p + k] * w[k];
    out[r] = s;
  }
  return out;
}
// The moving parts' numbers at `pos` of `stream` (or, with no stream, the layer's own fixed numbers).
// A race lane's layer (L.lane) reads that lane's numbers, and may draw the loss above the minimum (L.minus, at
// least L.floor: a log axis has no 0).
function series(stream, pos, of, L = {}) {
  const xs = [], ys = [];
  if (!stream) return [xs, ys];
  const S = stream.of(L.lane), src = of === "val" ? S.val : S.loss;
  const y = L.minus === undefined ? (v) => v : (v) => Math.max(v - L.minus, L.floor || 0);
  for (let k = 0; k <= pos.i; k++) if (stream.e[k] >= 1 && src[k] !== null) { xs.push(stream.e[k]); ys.push(y(src[k])); }
  if (pos.f && pos.i + 1 < stream.e.length && src[pos.i] !== null && src[pos.i + 1] !== null) {
    xs.push(pos.E); ys.push(y(src[pos.i] + pos.f * (src[pos.i + 1] - src[pos.i])));
  }
  return [xs, ys];
}
function grow(c, ax, ys, always = false) {  // a loss above (or, on a log axis, below) the planned range: widen it
  if (!(c.anim.grow || always) || !ys.length) return;
  let hi = -Infinity, lo = Infinity;
  for (const v of ys) if (isFinite(v)) { if (v > hi) hi = v; if (v < lo) lo = v; }
  if (!isFinite(hi)) return;
  const r = ax.ya.range, top = ax.logy ? Math.pow(10, r[1]) : r[1], bottom = ax.logy ? Math.pow(10, r[0]) : r[0];
  if (hi <= top && (!ax.logy || lo >= bottom || lo <= 0)) return;
  if (c.growing) return;
  c.growing = true;
  const range = ax.logy ? [Math.log10(Math.min(bottom, lo > 0 ? lo : bottom)) - 0.1, Math.log10(Math.max(top, hi)) + 0.1]
                        : [bottom, Math.max(top, hi) * 1.08];
  window.Plotly.relayout(c.div, {"yaxis.range": range}).finally(() => { c.growing = false; });
}
// The preview of the next run (dotted), per chart key: sent by the settings' own component (studio/live_chart.py
// `preview`), so that a change of the learning rate redraws it without a rerun of the page.
function previewLayers(c) {
  const p = window.__linregPreview;
  return (p && p[c.div.dataset.key]) || [];
}
function drawLayers(c, stream, pos) {
  if (!c.drawn || c.status) { if (c.status && c.anim) drawStatus(c, stream, pos); return; }
  if (!c.anim) c.anim = {layers: []};
  overlay(c);
  const ax = axes(c);
  if (!ax) return;
  c.lastPos = {stream, pos};
  const A = c.anim;
  // Replaying a run that has ended: at its last epoch the figure shows it all, as after a run; elsewhere the layers
  // draw the replayed epoch over the figure, whose own such traces (A.hide) are hidden meanwhile.
  const live = stream && pos && !(A.replay && pos.i === stream.e.length - 1);
  if (A.replay) replayTraces(c, !!live);
  let bw = null;
  if (live) bw = stream.params(pos);
  else if (A.params) bw = A.params;
  const layers = live ? A.layers : A.layers.concat(previewLayers(c));  // no preview over a moving run
  const names = new Set(layers.map((L) => L.name));
  for (const [name, el] of c.paths) if (!names.has(name)) { el.remove(); c.paths.delete(name); }  // a layer no longer drawn
  for (const L of layers) {
    const el = pathEl(c, L.name, L.style);
    const hidden = (L.toggle && !c.on[L.toggle]) || (L.live && !live) || (L.fixed && live && !A.replay);
    if (hidden) { if (el.getAttribute("d")) el.setAttribute("d", ""); continue; }
    let d = "";
    if (L.kind === "series") {
      const [xs, ys] = L.fixed ? [L.x, L.y] : series(stream, pos, L.of, L);
      if (!L.fixed || L.grow) grow(c, ax, ys, !!L.grow);
      d = line(ax, xs, ys, xs.length);
      if (L.dots && xs.length <= L.dots) d += dots(ax, xs, ys, xs.length, 3);
    } else if (L.kind === "path") {  // the optimizer's path on the landscape: (intercept, first slope)
      let xs, ys;
      if (L.fixed) { xs = L.x; ys = L.y; } else {
        xs = []; ys = [];
        const S = stream.of(L.lane), at = L.lane === undefined ? bw : stream.params(pos, L.lane);
        for (let k = 0; k <= pos.i && k < S.w.length; k++) { xs.push(S.b[k]); ys.push(S.w[k][0]); }
        if (pos.f && at) { xs.push(at[0]); ys.push(at[1][0]); }
      }
      d = line(ax, xs, ys, xs.length);
      if (xs.length <= 80) d += dots(ax, xs, ys, xs.length, 2);
    } else if (L.kind === "marker") {  // the replay's marker on the loss curve, at the replayed epoch
      const y = (L.of === "val" ? stream.val : stream.loss)[pos.i];
      if (stream.e[pos.i] >= 1 && y !== null) d = dots(ax, [stream.e[pos.i]], [y], 1, L.r || 6);
    } else if (L.kind === "now") {
      const at = L.lane === undefined ? bw : live && stream.params(pos, L.lane);
      if (at) d = dots(ax, [at[0]], [at[1][0]], 1, 5.5);
    } else if (L.kind === "curve" && bw) {  // the fitted curve on a grid: y = b + M·w
      const M = L._M || (L._M = decode(L.M));
      d = line(ax, L.x, linear(M, L.shape, bw[0], bw[1]), L.x.length);
    } else if (L.kind === "points" && bw) {  // predicted vs actual
      const M = L._M || (L._M = decode(L.M));
      d = dots(ax, L.x, linear(M, L.shape, bw[0], bw[1]), L.x.length, L.r || 2.5);
    } else if (L.kind === "segments" && bw) {  // residuals: from each point to the line
      const M = L._M || (L._M = decode(L.M)), pred = linear(M, L.shape, bw[0], bw[1]);
      for (let k = 0; k < L.x.length; k++) {
        const X = ax.x(L.x[k]), Y0 = ax.y(L.y0[k]), Y1 = ax.y(pred[k]);
        if (isFinite(X) && isFinite(Y0) && isFinite(Y1)) d += `M${X.toFixed(1)},${Y0.toFixed(1)}V${Y1.toFixed(1)}`;
      }
    }
    if (el.getAttribute("d") !== d) el.setAttribute("d", d);
  }
}

// The replay empties the figure's traces that its layers draw (by name or legend group: a path's numbered first
// epochs too) while it is off the last epoch, and gives them their points back there. Emptied, not hidden: one
// blank point keeps a trace's legend entry as it was (a hidden trace leaves the legend). The axes keep their ranges.
function replayTraces(c, hide) {
  if (!window.Plotly || !c.div.data) return;
  if (hide && !c.replayHidden) {
    const names = c.anim.hide || [];
    const idx = [];
    c.div.data.forEach((t, k) => { if (names.includes(t.name) || names.includes(t.legendgroup)) idx.push(k); });
    c.replayHidden = {idx, x: idx.map((k) => c.div.data[k].x), y: idx.map((k) => c.div.data[k].y)};
    if (!idx.length) return;
    const fl = c.div._fullLayout;
    const keep = {"xaxis.range": fl.xaxis.range.slice(), "yaxis.range": fl.yaxis.range.slice()};
    const blank = idx.map(() => [null]);
    window.Plotly.update(c.div, {x: blank, y: blank}, keep, idx);
  } else if (!hide && c.replayHidden) {
    const {idx, x, y} = c.replayHidden;
    c.replayHidden = null;
    if (idx.length) window.Plotly.restyle(c.div, {x, y}, idx);
  }
}

// ---- the status line ------------------------------------------------------------------------------------------
function drawStatus(c, stream, pos, bw) {
  const S = c.anim.status;
  if (!stream || !pos) return;
  const i = pos.i, epoch = stream.e[i];
  const loss = stream.loss[i];
  const [b, w] = [stream.b[i], stream.w[i]];
  stream.shown = epoch;
  const replay = S.replay && i < stream.e.length - 1;
  if (S.replay) replayStatus(c, replay);
  const key = `${epoch}|${stream.rowsDone}|${stream.status}|${replay}`;
  if (c.statusKey === key) return;
  c.statusKey = key;
  if (S.replay && !replay) {  // at the last epoch the page's own status line speaks: this one says nothing
    for (const el of c.status.querySelectorAll("strong, span")) el.textContent = "";
    return;
  }
  let gap = 0;
  const gd = (S.exact_b !== null ? [b] : []).concat(w);
  const ex = (S.exact_b !== null ? [S.exact_b] : []).concat(S.exact_w);
  for (let k = 0; k < ex.length; k++) gap = Math.max(gap, Math.abs(gd[k] - ex[k]));
  const inside = stream.rowsDone && stream.running && i === stream.e.length - 1  // inside the newest epoch
    ? ` (epoch ${comma(stream.epochsRun + 1)}: ${comma(stream.rowsDone)} / ${comma(S.rows)} rows)` : "";
  const q = (sel) => c.status.querySelector(sel);
  q(".head").textContent = replay ? `Replay: epoch ${comma(epoch)} of ${comma(stream.epochsRun)}`  // as train.py's
    : `Epoch ${comma(epoch)} / ${comma(stream.total || S.total)}${inside}`;
  q(".loss").textContent = loss === null ? "—" : g(loss, 6);
  const icpt = b !== null && b !== undefined ? `intercept ${g(b, 4)}, ` : "";
  q(".params").textContent = icpt + S.terms.map((t, k) => `${t} ${g(w[k], 4)}`).join(", ");
  q(".gap").textContent = g(gap, 3);
}

// Replaying: this status line takes the place of the page's own (a markdown in the same container, with its help)
// while the replay is off the last epoch; at the last epoch the page's own is shown, as after a run.
function replayStatus(c, replay) {
  const box = c.div.closest(".st-key-train_head") || c.div.closest("[data-testid=stVerticalBlock]");
  const mine = c.div.closest("[data-testid=stElementContainer]");
  if (!box) return;
  for (const el of box.querySelectorAll("[data-testid=stElementContainer]")) {
    const show = el === mine ? replay : (el.querySelector("[data-testid=stMarkdown]") ? !replay : null);
    if (show !== null && (el.style.display === "none") === show) el.style.display = show ? "" : "none";
  }
}

// The Replay slider: a range input over the run's recorded epochs; each move is drawn at once by every view of the
// run (Stream.seek). Native keyboard support: arrows step one recorded epoch, Home and End jump, PageUp/Down.
function replaySlider(c, spec) {
  if (!c.slider) {
    c.div.className = "live-replay";
    c.div.dataset.testid = "liveReplay";
    const label = document.createElement("label");
    label.style.cssText = "display:flex;justify-content:space-between;font-size:0.875rem;margin-bottom:0.25rem";
    const name = document.createElement("span"), value = document.createElement("span");
    label.append(name, value);
    const input = document.createElement("input");
    input.type = "range"; input.min = "0"; input.step = "1";
    input.style.cssText = "width:100%;accent-color:var(--st-primary-color, #e4572e);cursor:pointer";  // the theme's colour
    input.id = `linreg-replay-${Math.random().toString(36).slice(2)}`;
    label.htmlFor = input.id;
    // Play: the recorded epochs one after another, as the run went (dense early on, where the line moves most).
    const play = document.createElement("button");
    play.type = "button"; play.dataset.testid = "replayPlay"; play.textContent = "▶ Play";
    play.style.cssText = "margin-top:0.4rem;padding:0.25rem 0.75rem;border-radius:0.5rem;cursor:pointer;font:inherit;" +
      "border:1px solid var(--st-border-color, rgba(128,128,128,0.4));background:transparent;color:inherit";
    c.div.append(label, input, play);
    c.slider = {input, name, value, play, timer: null};
    const stop = () => { clearInterval(c.slider.timer); c.slider.timer = null; play.textContent = "▶ Play"; };
    input.addEventListener("input", () => { stop(); if (c.stream) c.stream.seek(Number(input.value)); });
    play.addEventListener("click", () => {
      const s = c.stream;
      if (!s || c.slider.timer) { stop(); return; }
      const n = s.e.length, per = Math.max(16, Math.min(60, 6000 / Math.max(1, n)));  // about 6 s, a frame per step
      let i = s.replayI === null || s.replayI >= n - 1 ? 0 : s.replayI;
      play.textContent = "❚❚ Pause";
      s.seek(i);
      c.slider.timer = setInterval(() => {
        i = Math.min(n - 1, i + Math.max(1, Math.round(n / 360)));
        s.seek(i);
        if (i >= n - 1) stop();
      }, per);
    });
  }
  c.slider.name.textContent = spec.label;
  c.slider.input.setAttribute("aria-label", spec.label);
  c.slider.input.title = spec.help || "";
  c.drawn = true;
  c.anim = {layers: []};
  c.draw = (stream, pos) => {  // the slider follows the stream's replayed epoch (and its number of epochs)
    const n = stream.e.length, el = c.slider.input;
    if (el.max !== String(n - 1)) el.max = String(n - 1);
    if (el.value !== String(pos.i)) el.value = String(pos.i);
    const text = `epoch ${comma(pos.E)}`;
    if (c.slider.value.textContent !== text) { c.slider.value.textContent = text; el.setAttribute("aria-valuetext", text); }
  };
}

// ---- the component ----------------------------------------------------------------------------------------------
export default function (component) {
  const { data, parentElement } = component;
  let c = charts.get(data.key);
  if (!c) {
    const div = document.createElement("div");
    div.className = "live-chart";
    div.dataset.testid = "liveChart";
    div.dataset.key = data.key;
    div.style.position = "relative";
    c = { div, figure: null, owner: null, edit: false, listening: false, send: () => {}, on: {}, views: [] };
    charts.set(data.key, c);
  }
  if (c.owner !== parentElement) {
    parentElement.appendChild(c.div);  // moves it here if an older mount still holds it
    c.owner = parentElement;
  }
  c.send = (name, value) => component.setTriggerValue(name, value);  // the newest mount's channel
  c.views = data.views || [];

  // A run streaming its numbers: join (or start) its stream; the first numbers come with the data.
  const url = data.anim && data.anim.stream;
  if (c.stream && c.stream.url !== url) { c.stream.views.delete(c); c.stream = null; }
  if (url) {
    let s = streams.get(url);
    if (!s) { s = new Stream(url); streams.set(url, s); }
    if (data.anim.seed) s.merge(data.anim.seed);
    s.views.add(c);
    c.stream = s;
    if (data.anim.trigger) s.trigger = () => component.setTriggerValue("ended", url);
    if (data.anim.replay) s.enterReplay(data.anim.count);
    c.draw = (stream, pos) => drawLayers(c, stream, pos);
    s.poll();
    ensureLoop();
  }
  for (const [u, s] of streams) if (!s.views.size && !s.running) streams.delete(u);
  c.anim = data.anim || null;

  if (data.preview !== undefined) {  // the next run's preview: drawn over the page's charts, and said in words
    window.__linregPreview = data.preview;
    c.div.className = "live-preview";
    c.div.dataset.testid = "livePreview";
    c.div.style.cssText = "font-size:0.875rem;opacity:0.75;line-height:1.4";
    c.div.textContent = data.note || "";
    for (const other of charts.values()) {
      if (other !== c && other.drawn && !other.status) {
        drawLayers(other, other.lastPos && other.lastPos.stream, other.lastPos && other.lastPos.pos);
      }
    }
    return cleanup(c, parentElement, data.key);
  }

  if (data.status !== undefined) {  // a status line, not a chart
    c.div.className = "live-status";
    c.div.dataset.testid = "liveStatus";
    if (!c.status) {
      c.status = document.createElement("p");
      // The same words and emphasis as the status line the page shows once the run has ended (train.py).
      c.status.innerHTML = '<strong class="head"></strong> &nbsp;·&nbsp; loss <strong class="loss"></strong> &nbsp;·&nbsp; ' +
        '<span class="params"></span> &nbsp;·&nbsp; gap to exact <strong class="gap"></strong>';
      c.status.style.margin = "0 0 0.5rem 0";
      c.div.appendChild(c.status);
    }
    c.anim = {layers: [], status: {...data.status, replay: !!(data.anim && data.anim.replay)}};
    c.drawn = true;
    c.draw = (stream, pos) => drawStatus(c, stream, pos);
    c.statusKey = null;  // a rerun may have drawn the page's own status line afresh: say again which one shows
    if (c.anim.status.replay) {  // drawn now; hidden until the replay's numbers are here
      const pos = c.stream && c.stream.at(performance.now());
      if (pos) c.draw(c.stream, pos); else replayStatus(c, false);
    }
    return cleanup(c, parentElement, data.key);
  }
  if (data.slider !== undefined) {  // the Replay slider, not a chart
    replaySlider(c, data.slider);
    if (c.stream) { const pos = c.stream.at(performance.now()); if (pos) c.draw(c.stream, pos); }
    return cleanup(c, parentElement, data.key);
  }

  c.div.style.height = data.height + "px";
  c.edit = !!data.edit;
  // An unchanged figure costs the browser nothing; Streamlit calls again with the same one when the theme changes.
  const theme = themeKey(c.div);
  if (data.figure !== c.figure || data.edit !== c.drawnEdit || theme !== c.theme) {
    c.figure = data.figure;
    c.drawnEdit = data.edit;
    c.theme = theme;
    c.drawn = false;
    for (const v of c.views) c.on[v.key] = v.on;
    const fig = withTheme(viewPatch(c, JSON.parse(data.figure)), c.div);
    for (const t of fig.data) if (t.type === "scattergl") t.type = "scatter";  // the cartesian bundle has no WebGL
    loadPlotly().then((Plotly) => Plotly.react(c.div, fig.data, fig.layout, data.edit ? EDIT_CONFIG : CONFIG)).then(() => {
      if (data.edit && !c.listening) { c.listening = true; listen(c); }
      if (!c.afterplot) {  // zoom, resize, a toggled axis: the moving parts follow the new axes
        c.afterplot = true;
        c.div.on("plotly_afterplot", () => { if (c.anim) drawLayers(c, c.lastPos && c.lastPos.stream, c.lastPos && c.lastPos.pos); });
      }
      c.drawn = true;
      c.replayHidden = null;  // the new figure's traces are as it says
      c.div.dataset.edit = data.edit ? "on" : "off";  // drawn in this mode: what a test waits for before clicking
      if (!c.anim && c.svg) { for (const p of c.paths.values()) p.remove(); c.paths.clear(); }  // Plotly draws it all now
      drawLayers(c, c.stream, c.stream ? c.stream.at(performance.now(), true) : null);
    }).catch(() => {
      c.div.textContent = "This chart could not load plotly.js from the studio's server. Start the studio with: streamlit run app.py";
    });
  } else if (c.drawn) {
    for (const v of c.views) setView(c, v.key, v.on);  // the server's word is the latest: it follows the same toggles
    if (!c.anim && c.svg) { for (const p of c.paths.values()) p.remove(); c.paths.clear(); }
    drawLayers(c, c.stream, c.stream ? c.stream.at(performance.now(), true) : null);
  }
  return cleanup(c, parentElement, data.key);
}

function cleanup(c, parentElement, key) {
  return () => {
    if (c.owner !== parentElement) return;  // a newer mount has adopted the chart
    c.owner = null;
    setTimeout(() => {  // not adopted by a new mount soon: the chart is gone for good
      if (c.owner === null && charts.get(key) === c) {
        if (c.stream) c.stream.views.delete(c);
        if (window.Plotly && !c.status) window.Plotly.purge(c.div);
        c.div.remove();
        charts.delete(key);
      }
    }, 2000);
  };
}

// Point editing (studio/points.py): a click on the plot area (not a drag, not the toolbar) sends its data
// coordinates; a box or lasso selection sends the indices of the selected points of trace 0.
function listen(c) {
  const div = c.div;
  let down = null;
  div.addEventListener("pointerdown", (e) => { down = [e.clientX, e.clientY]; }, true);
  div.addEventListener("click", (e) => {
    if (!c.edit || !down || Math.hypot(e.clientX - down[0], e.clientY - down[1]) > 4) return;
    if (e.target.closest && e.target.closest(".modebar, .legend, .updatemenu-container")) return;
    const fl = div._fullLayout;
    if (!fl || !fl.xaxis || !fl.yaxis) return;
    const box = div.getBoundingClientRect(), size = fl._size;
    const px = e.clientX - box.left - size.l, py = e.clientY - box.top - size.t;
    if (px < 0 || py < 0 || px > size.w || py > size.h) return;
    c.send("click", {x: fl.xaxis.p2d(px), y: fl.yaxis.p2d(py), at: Date.now()});
  });
  div.on("plotly_selected", (ev) => {
    if (!c.edit || !ev || !ev.points) return;
    const rows = ev.points.filter((p) => p.curveNumber === 0).map((p) => p.pointIndex);
    if (rows.length) c.send("select", {rows, at: Date.now()});
  });
}
