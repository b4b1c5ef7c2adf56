// Part of the live charts' module (studio/live_chart.js says how it is joined): the views of the page's toggles,
// what moves over a plot, the status line and the replay.

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
    } else if (L.kind === "plane3d") {  // the plane in 3-D: the cube, the points, a plane (its own or the run's)
      d = plane3d(c, ax, L, L.params || bw);
    } else if (L.kind === "isolines" && bw) {  // a plane's contour lines, b + w1·x1 + w2·x2 = c, inside its box
      const [lo1, hi1, lo2, hi2] = L.box, b = bw[0] || 0, w1 = bw[1][0], w2 = bw[1][1];
      const inBox = ([p, q]) => p >= lo1 - 1e-9 && p <= hi1 + 1e-9 && q >= lo2 - 1e-9 && q <= hi2 + 1e-9;
      for (const c of L.levels) {
        const pts = [];
        if (Math.abs(w2) > 1e-300) for (const x1 of [lo1, hi1]) pts.push([x1, (c - b - w1 * x1) / w2]);
        if (Math.abs(w1) > 1e-300) for (const x2 of [lo2, hi2]) pts.push([(c - b - w2 * x2) / w1, x2]);
        const ins = pts.filter(inBox).sort((u, v) => u[0] - v[0] || u[1] - v[1]);
        if (ins.length >= 2) d += line(ax, [ins[0][0], ins[ins.length - 1][0]], [ins[0][1], ins[ins.length - 1][1]], 2);
      }
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

// ---- the plane in 3-D (studio/plane.py) ------------------------------------------------------------------------
// The cube [-1, 1]³ that x1, x2 and y span (L.norm: middle and half-range of each), turned by c.rot (a drag on the
// chart turns it: studio/live_component.js) and seen from the front without perspective, as SVG paths: no WebGL.
const PIXELS = {x: (v) => v, y: (v) => v};  // an "axes" for points given in pixels
function turn(c, u, v, h) {
  const r = c.rot || (c.rot = {yaw: -0.7, pitch: 0.35});
  const cy = Math.cos(r.yaw), sy = Math.sin(r.yaw), cp = Math.cos(r.pitch), sp = Math.sin(r.pitch);
  return [u * cy - v * sy, h * cp + (u * sy + v * cy) * sp];
}
function plane3d(c, ax, L, bw) {
  const [m1, s1, m2, s2, my, sy] = L.norm;
  const P = (u, v, h) => { const [X, Y] = turn(c, u, v, h); return [ax.x(X), ax.y(Y)]; };
  const f = (p) => p[0].toFixed(1) + "," + p[1].toFixed(1);
  let d = "";
  if (L.part === "box") {
    const E = [[-1, -1, -1], [1, -1, -1], [1, 1, -1], [-1, 1, -1], [-1, -1, 1], [1, -1, 1], [1, 1, 1], [-1, 1, 1]];
    const edges = [[0, 1], [1, 2], [2, 3], [3, 0], [4, 5], [5, 6], [6, 7], [7, 4], [0, 4], [1, 5], [2, 6], [3, 7]];
    for (const [a, b] of edges) d += "M" + f(P(...E[a])) + "L" + f(P(...E[b]));
    labels3d(c, L.names, [P(1.3, -1, -1), P(-1, 1.3, -1), P(-1, -1, 1.22)]);
  } else if (L.part === "points") {
    const [x1, x2, y] = L.pts, Xs = [], Ys = [];
    for (let k = 0; k < y.length; k++) {
      const [X, Y] = P((x1[k] - m1) / s1, (x2[k] - m2) / s2, (y[k] - my) / sy);
      Xs.push(X); Ys.push(Y);
    }
    d = dots(PIXELS, Xs, Ys, Xs.length, 3);  // (already on the screen: the plot's axes are not theirs)
  } else if (L.part === "plane" && bw) {
    const b = bw[0] || 0, w1 = bw[1][0], w2 = bw[1][1];
    const corner = (u, v) => P(u, v, (b + w1 * (m1 + u * s1) + w2 * (m2 + v * s2) - my) / sy);
    const pts = [corner(-1, -1), corner(1, -1), corner(1, 1), corner(-1, 1)];
    if (pts.every((p) => isFinite(p[0]) && isFinite(p[1]) && Math.abs(p[1]) < 1e6)) d = "M" + pts.map(f).join("L") + "Z";
  }
  return d;
}
function labels3d(c, names, at) {  // the axes' names at the cube's far ends (names and colour as they are now)
  if (!c.labels3d) {
    c.labels3d = names.map(() => {
      const t = document.createElementNS(SVG, "text");
      t.setAttribute("font-size", "13");
      t.setAttribute("text-anchor", "middle");
      c.g.appendChild(t);
      return t;
    });
  }
  if (c.labelsTheme !== c.theme) {  // the theme's colour, read once per theme (not every animation frame)
    c.labelsTheme = c.theme;
    const color = themeColors(c.div).axis;
    for (const t of c.labels3d) t.setAttribute("fill", color);
  }
  c.labels3d.forEach((t, k) => {
    if (t.textContent !== names[k]) t.textContent = names[k];
    t.setAttribute("x", at[k][0].toFixed(1));
    t.setAttribute("y", at[k][1].toFixed(1));
  });
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
  c.status.style.visibility = "";  // (hidden at a mount, which clears statusKey, until its run's numbers are here)
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
  c.hid = c.hid || new Set();
  for (const el of box.querySelectorAll("[data-testid=stElementContainer]")) {
    const show = el === mine ? replay : (el.querySelector("[data-testid=stMarkdown]") ? !replay : null);
    if (show === null) continue;
    if (show) c.hid.delete(el); else c.hid.add(el);
    if ((el.style.display === "none") === show) el.style.display = show ? "" : "none";
  }
}

// A run's live status line after a replay: Streamlit keeps an element's node across reruns (keyed, it can move to
// where the page's own line was), and with it what the replay hid — show again all it hid.
function unhideStatus(c) {
  if (!c.hid) return;
  for (const el of c.hid) el.style.display = "";
  c.hid.clear();
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

