// The studio's chart component (studio/live_chart.py): Plotly draws what does not move; while a run trains, the
// browser draws what moves (the fitted line, the loss curve, the optimizer's path) itself, every animation frame,
// from the numbers the server streams (studio/stream.py). Python never builds a figure per frame.
// Three files, joined in this order into one module by studio/plotly_js.py: this one (the numbers a run streams, the
// frame loop), live_layers.js (what the browser draws), live_component.js (the entry: one chart per key).
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

// Pause (Train) and Stop during a played Step k stop where the page is: the moment the button is pressed, the
// picture holds still and the server hears which epoch it shows (before the click reaches it).
function onPausePress(e) {
  if (e.type === "keydown" && e.key !== "Enter" && e.key !== " ") return;
  const now = performance.now();
  const btn = e.target.closest && e.target.closest(".st-key-btn_pause button, .st-key-btn_step_stop button");
  if (!btn || !/Pause|Stop/.test(btn.textContent)) return;
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

