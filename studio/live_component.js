// Part of the live charts' module (studio/live_chart.js says how it is joined): the component's entry.

// Plotly's toolbar buttons (download, zoom, pan, reset: four per chart) out of the Tab order: a keyboard user reaches
// the page's controls without passing through a dozen of them; the mouse still uses them.
function untab(div) {
  for (const b of div.querySelectorAll(".modebar-btn")) b.tabIndex = -1;
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
    if (!c.anim.status.replay) unhideStatus(c);  // a run again (Train pressed after a replay): this line shows
    if (c.statusUrl !== url) {  // another run's numbers: none of the last run's stay on screen until its own come
      c.statusUrl = url;
      for (const el of c.status.querySelectorAll("strong, span")) el.textContent = "";
      c.status.style.visibility = "hidden";
    }
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
  c.dragSpec = data.drag || null;  // a point may be dragged, the exact line following it (studio/points.py)
  // Editing on a phone: a finger drags a point, not the page; the 3-D plane turns sideways and scrolls upward.
  c.div.style.touchAction = data.edit ? "none" : (data.anim && data.anim.rotate) ? "pan-y" : "";
  if (data.anim && data.anim.rotate && !c.rotating) { c.rotating = true; rotatable(c); }
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
      untab(c.div);
      if (!c.afterplot) {  // zoom, resize, a toggled axis: the moving parts follow the new axes
        c.afterplot = true;
        c.div.on("plotly_afterplot", () => {
          untab(c.div);  // (Plotly may have made its toolbar again)
          if (c.anim) drawLayers(c, c.lastPos && c.lastPos.stream, c.lastPos && c.lastPos.pos);
        });
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

// A trace's values as drawn: gd.data may hold them still encoded ({dtype, bdata}); Plotly's full data has arrays.
function full(div, index) {
  return (div._fullData || []).find((t) => t.index === index) || null;
}
function toData(div, clientX, clientY) {
  const fl = div._fullLayout, box = div.getBoundingClientRect(), size = fl._size;
  return [fl.xaxis.p2d(clientX - box.left - size.l), fl.yaxis.p2d(clientY - box.top - size.t)];
}
function nearestPoint(div, clientX, clientY, within) {  // the data point (trace 0) under the pointer, if any
  const fl = div._fullLayout, t = full(div, 0);
  if (!fl || !fl.xaxis || !t || !t.x) return null;
  const box = div.getBoundingClientRect(), size = fl._size;
  const px = clientX - box.left - size.l, py = clientY - box.top - size.t;
  const xs = Array.from(t.x), ys = Array.from(t.y);
  let best = null, bestD = within;
  for (let k = 0; k < xs.length; k++) {
    const d = Math.hypot(fl.xaxis.d2p(xs[k]) - px, fl.yaxis.d2p(ys[k]) - py);
    if (d <= bestD) { best = k; bestD = d; }
  }
  return best === null ? null : {row: best, xs, ys, x: xs[best], y: ys[best], moved: false, frame: 0};
}
function dragFrame(c, g) {  // the point where the pointer is, and the exact line through the points as they are now
  const div = c.div;
  g.xs[g.row] = g.x;
  g.ys[g.row] = g.y;
  let n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (let k = 0; k < g.xs.length; k++) {
    const x = g.xs[k], y = g.ys[k];
    if (!isFinite(x) || !isFinite(y)) continue;
    n++; sx += x; sy += y; sxx += x * x; sxy += x * y;
  }
  let b = 0, w = 0;
  if (c.dragSpec.intercept) {
    const vxx = sxx - sx * sx / n;
    if (n < 2 || !(vxx > 0)) return;
    w = (sxy - sx * sy / n) / vxx;
    b = (sy - w * sx) / n;
  } else if (sxx > 0) w = sxy / sxx;
  const ie = div.data.findIndex((t) => t.name === "exact least squares");
  const idx = [0], xu = [g.xs.slice()], yu = [g.ys.slice()];
  if (ie >= 0) {
    const gx = Array.from(full(div, ie).x);
    idx.push(ie); xu.push(gx); yu.push(gx.map((x) => b + w * x));
  }
  window.Plotly.restyle(div, {x: xu, y: yu}, idx);
}

// The 3-D plane (studio/plane.py): a drag turns it (left-right about the vertical, up-down tilts it).
function rotatable(c) {
  let from = null;
  c.div.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    from = [e.clientX, e.clientY];
    c.div.setPointerCapture(e.pointerId);
  });
  c.div.addEventListener("pointermove", (e) => {
    if (!from) return;
    const r = c.rot || (c.rot = {yaw: -0.7, pitch: 0.35});
    r.yaw += (e.clientX - from[0]) * 0.01;
    r.pitch = Math.max(-1.4, Math.min(1.4, r.pitch + (e.clientY - from[1]) * 0.01));
    from = [e.clientX, e.clientY];
    const p = c.lastPos || {};
    drawLayers(c, p.stream, p.pos);
  });
  const end = () => { from = null; };
  c.div.addEventListener("pointerup", end);
  c.div.addEventListener("pointercancel", end);
}

// Point editing (studio/points.py): a click on the plot area (not a drag, not the toolbar) sends its data
// coordinates; a box or lasso selection sends the indices of the selected points of trace 0.
function listen(c) {
  const div = c.div;
  let down = null;
  div.addEventListener("pointerdown", (e) => { down = [e.clientX, e.clientY]; }, true);
  div.addEventListener("click", (e) => {
    if (c.pressedPoint) { c.pressedPoint = false; return; }  // a press on a point is a drag's, moved or not
    if (!c.edit || !down || Math.hypot(e.clientX - down[0], e.clientY - down[1]) > 4) return;
    if (e.target.closest && e.target.closest(".modebar, .legend, .updatemenu-container")) return;
    const fl = div._fullLayout;
    if (!fl || !fl.xaxis || !fl.yaxis) return;
    const box = div.getBoundingClientRect(), size = fl._size;
    const px = e.clientX - box.left - size.l, py = e.clientY - box.top - size.t;
    if (px < 0 || py < 0 || px > size.w || py > size.h) return;
    c.send("click", {x: fl.xaxis.p2d(px), y: fl.yaxis.p2d(py), at: Date.now()});
  });
  // Drag a point (trace 0) and the exact least-squares line follows it while it moves, computed here from the points'
  // sums (Seeing Theory's habit); on release the server takes the point's new place. A press on a point is the
  // drag's, not the selection box's: the pointerdown is cancelled, so Plotly never sees its mousedown.
  div.addEventListener("pointerdown", (e) => {
    if (!c.edit || !c.dragSpec || e.button !== 0) return;
    const hit = nearestPoint(div, e.clientX, e.clientY, 10);
    if (!hit) return;
    e.preventDefault();
    e.stopPropagation();
    c.dragging = hit;
    div.setPointerCapture(e.pointerId);
  }, true);
  div.addEventListener("pointermove", (e) => {
    const g = c.dragging;
    if (!g) return;
    e.preventDefault();
    e.stopPropagation();
    [g.x, g.y] = toData(div, e.clientX, e.clientY);
    g.moved = true;
    if (!g.frame) g.frame = requestAnimationFrame(() => { g.frame = 0; if (c.dragging === g) dragFrame(c, g); });
  }, true);
  const drop = (e) => {
    const g = c.dragging;
    if (!g) return;
    c.dragging = null;
    c.pressedPoint = true;  // the click that follows is this press's, not a new point
    e.stopPropagation();
    if (g.moved) c.send("drag", {row: g.row, x: g.x, y: g.y, at: Date.now()});
  };
  div.addEventListener("pointerup", drop, true);
  div.addEventListener("pointercancel", drop, true);
  div.on("plotly_selected", (ev) => {
    if (!c.edit || !ev || !ev.points) return;
    const rows = ev.points.filter((p) => p.curveNumber === 0).map((p) => p.pointIndex);
    if (rows.length) c.send("select", {rows, at: Date.now()});
  });
}
