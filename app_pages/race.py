"""Race: several optimizers and learning rates on the same data from the same start, side by side."""

from dataclasses import replace

import pandas as pd
import streamlit as st

from linreg_core import OPTIMIZERS, LinregError, epochs_to_tolerance, race
from studio import charts, controls, layers, numbers, state, stream, warmup, workload
from studio.labels import OPTIMIZER_LABELS
from studio.live import LiveRace
from studio.live_chart import figure_json, live_chart, revision
from studio.run import RaceLane, RaceRecord, RunStatus, landscape_point
from studio.text import md

ss = st.session_state


st.title("Optimizer race", anchor=False)
problem = state.problem_or_stop("trained on")
design, exact = problem.design, problem.exact
st.caption(
    f"**{md(ss.ds_name)}** · {state.rows_note(problem)} · {state.model_note(design)}. "
    "Every lane trains full batch on the same rows from the same starting parameters (seed, precision and L2 from "
    "the Train page), one epoch per lane per round. Tolerance: a lane arrives at the first epoch where its loss "
    "above the minimum has fallen to that fraction of what it was at the start."
)

c1, c2, c3 = st.columns(3)
c1.number_input("Lanes", min_value=1, max_value=state.RACE_LANES, step=1, **controls.bind("race_n"))
c2.number_input("Epochs", **controls.bind("race_epochs"))
c3.select_slider("Tolerance", options=state.RACE_TOLERANCES, **controls.bind("race_tol"), format_func=lambda v: f"{v:g}")
st.toggle("Standardize features", **controls.bind_setting("standardize"))  # (a fourth column cut it at 1024 px)
g = state.guidance(problem, ss.settings.standardize, float(ss.settings.l2))
st.caption(f"For full-batch SGD on this data the stable limit is lr < **{g.max_stable_lr:.3g}** and the fastest "
           f"fixed lr is **{g.optimal_lr:.3g}** (curvature ratio of the loss {g.condition_number:,.3g}).",
           help="Stable lr: above it plain gradient descent blows up. Curvature ratio: how many times more sharply "
                "the loss curves along its most curved direction than along its flattest; the larger, the more "
                "epochs a fixed lr needs. Tolerance: a lane has arrived when its loss above the minimum has fallen "
                "to that fraction of what it was at the start.")

lanes = []
for i in range(int(ss.race_n)):
    a, b, c = st.columns([2, 2, 1.6])
    a.selectbox(f"Lane {i + 1} optimizer", OPTIMIZERS, format_func=OPTIMIZER_LABELS.get, **controls.bind(f"race_opt_{i}"))
    b.number_input(f"Lane {i + 1} learning rate", **controls.bind(f"race_lr_{i}"))
    c.number_input(f"Lane {i + 1} batch", **controls.bind(f"race_batch_{i}"),
                   help="Rows per step: 0 is every row (full batch). Mini-batch lanes shuffle with the seed, from the "
                        "same start: batch size 1 against full batch shows the noise of stochastic steps.")
    lanes.append((ss[f"race_opt_{i}"], float(ss[f"race_lr_{i}"]), int(ss[f"race_batch_{i}"])))

b1, b2, b3 = st.columns([2, 2, 5])  # wide enough for "Start race" on a 1024 px screen
start = b1.button("Start race", type="primary", key="btn_race", width="stretch")
b2.button("Stop", key="btn_race_stop", on_click=state.stop_race, args=("by you",), width="stretch")
b3.toggle("Watch pace (about 5 s)", **controls.bind("race_watch"),
          help="Spread a fast race over about five seconds so the curves can be followed; off runs at full speed.")

status_ph = st.empty()
left, right = st.columns(2)
loss_ph, land_ph = left.empty(), right.empty()
table_ph = st.empty()
landscape = design.fit_intercept and len(design.terms) == 1
exact_fit = (exact.intercept, exact.coef)


def lane_table(rec: RaceRecord) -> pd.DataFrame:
    rows = []
    for lane, cfg in zip(rec.lanes, rec.configs):
        h = lane.history
        hit = epochs_to_tolerance(h, rec.min_loss, rec.tol) if h else None
        rows.append({"lane": lane.label, "optimizer": OPTIMIZER_LABELS[lane.optimizer], "lr": lane.lr,
                     "batch": f"{cfg.batch_size:,}" if cfg.batch_size else "full",
                     "status": lane.status, "epochs to tolerance": hit, "final loss": h[-1] if h else None,
                     "loss − minimum": (h[-1] - rec.min_loss) if h else None})
    df = pd.DataFrame(rows)
    hits = pd.to_numeric(df["epochs to tolerance"], errors="coerce").astype(float)
    df["epochs to tolerance"] = hits.astype("Int64")
    df["rank"] = hits.rank(method="min").astype("Int64")  # lanes that never got there have no rank
    return df


def shown_table(df: pd.DataFrame) -> pd.DataFrame:
    """The lane table as a reader sees it: words, not "None", where a lane has no number."""
    out = df.astype({"epochs to tolerance": object, "rank": object})
    out["epochs to tolerance"] = [f"{int(v):,}" if pd.notna(v) else "not reached" for v in df["epochs to tolerance"]]
    out["rank"] = [str(int(v)) if pd.notna(v) else "—" for v in df["rank"]]
    return out


def min_loss_text(value: float) -> str:
    # An exact fit's minimum of ~1e-32 is float64 noise: it is 0 (every point on the line).
    shown = numbers.loss(problem.stats, value)
    return "0 (every point on the line)" if shown == 0.0 else f"{shown:.6g}"


def race_chart(where, fig, chart: str, key: str, anim: dict | None = None) -> None:
    """One of the race's charts, drawn by the studio's chart component (studio/live_chart.py): while the race runs,
    the browser draws the lanes over it every frame from the race's stream; then the final figure takes its place,
    with its own axes (a view state of its own: ``key`` names the race and the phase)."""
    revision(fig, problem.key, key)
    with where:
        live_chart(figure_json(fig), key=key, chart=chart, height=int(fig.layout.height or 440), anim=anim)


def draw_live(rec: RaceRecord) -> None:
    """The race has started (its minimum and the lanes' start are known): the charts' fixed parts, once; the lanes
    move in the browser, from the race's stream (studio/live.py RaceStream)."""
    lanes = [(ln.label, ln.color) for ln in rec.lanes]
    start_loss = rec.start_loss
    url = stream.url(rec.stream)
    fig = charts.race_figure([(n, c, []) for n, c in lanes], rec.min_loss, rec.tol, rec.epochs,
                             start_loss=start_loss)
    race_chart(loss_ph, fig, "race_loss", f"race_loss_live_{id(rec)}",
               {"stream": url, "layers": layers.race_layers(lanes, rec.min_loss, start_loss), "grow": True})
    if landscape:  # framed on where the lanes will go: each lane's first epochs, computed exactly (as on Train)
        start = rec.lanes[0].path[0] if rec.lanes[0].path else None
        box = [pt for cfg in rec.configs for pt in layers.path_box(
            (start[0], [start[1]]) if start else None, exact_fit, state.preview(problem, cfg))]
        fig = charts.landscape_figure(design, exact_fit, [], paths=[(n, c, []) for n, c in lanes], view=box,
                                      moving=True)
        race_chart(land_ph, fig, "race_land", f"race_land_live_{id(rec)}",
                   {"stream": url, "layers": layers.race_landscape_layers(lanes)})


def draw(rec: RaceRecord) -> None:
    """The round and the lane table (a few times a second while the race runs); the final charts once it has
    ended."""
    n = rec.round
    rec.draws = rec.draws + 1
    status_ph.markdown(f"**Round {n:,} / {rec.epochs:,}** · {len(rec.lanes)} lanes · minimum loss "
                       f"**{min_loss_text(rec.min_loss)}**",
                       help="The lowest loss any run can reach on this data (the exact least-squares fit's); each "
                            "curve shows how far above it a lane is.")
    running = rec.running
    if not running:
        race_chart(loss_ph, charts.race_figure([(ln.label, ln.color, ln.history) for ln in rec.lanes],
                                               rec.min_loss, rec.tol), "race_loss", f"race_loss_{id(rec)}")
        if landscape:
            paths = [(ln.label, ln.color, ln.path or []) for ln in rec.lanes]
            frame = [ln.label for ln in rec.lanes if ln.status != RunStatus.DIVERGED]
            race_chart(land_ph, charts.landscape_figure(design, exact_fit, [], paths=paths, frame=frame),
                       "race_land", f"race_land_{id(rec)}")
    # The table costs the browser most: about once a second while racing, always at the end.
    heavy = not running or rec.draws % 5 == 1
    if heavy:
        table_ph.dataframe(shown_table(lane_table(rec)), hide_index=True, width="stretch",
                           column_config={"lr": st.column_config.NumberColumn(format="%.4g"),
                                          "final loss": st.column_config.NumberColumn(format="%.6g"),
                                          "loss − minimum": st.column_config.NumberColumn(format="%.3e")})


if start:
    base = replace(state.train_config(), batch_size=0, epochs=int(ss.race_epochs), tol=None)
    configs = [replace(base, optimizer=o, lr=lr, batch_size=bs) for o, lr, bs in lanes]
    rec = RaceRecord(problem.key, int(ss.race_epochs), float(ss.race_tol),
                     [RaceLane(f"{i + 1}: {OPTIMIZER_LABELS[o]} lr {lr:g}" + (f", batch {bs:,}" if bs else ""), o, lr,
                               charts.LANE_COLORS[i]) for i, (o, lr, bs) in enumerate(lanes)], configs)
    ss.race = rec
    live = LiveRace(rec, draw, pace=5.0 if ss.race_watch else 0.0, started=draw_live)
    # Unwatched, the race trains as fast as it can: a long one takes turns with the other heavy work.
    heavy = not ss.race_watch and workload.heavy(design.n_samples, int(ss.race_epochs) * len(configs),
                                                 len(design.terms))
    warmup.torch_ready()  # torch's thread policy before the first epoch
    try:
        with workload.heavy_work(heavy, "your race"):
            result = race(design, configs, tol=float(ss.race_tol), callback=live)
    except LinregError as exc:
        ss.race = None
        st.error(f"The race could not start: {md(exc, 2000)}")
        st.stop()
    with rec.lock:
        if rec.running:
            rec.status = RunStatus.COMPLETED
            rec.round = max(len(lane.result.loss_history) for lane in result.lanes)
            for lane, res in zip(rec.lanes, result.lanes):
                lane.status, lane.reason = RunStatus(res.result.status), res.result.reason
                if lane.path is not None:
                    lane.path.append(landscape_point(res.result.intercept, res.result.coef))

rec = ss.get("race")
if rec is None or rec.key != problem.key:
    status_ph.info("Choose the lanes and press **Start race**. Every lane starts from the same parameters.")
    race_chart(loss_ph, charts.race_figure([], 0.0, float(ss.race_tol), int(ss.race_epochs)), "race_loss",
               "race_loss_idle")
    if landscape:
        race_chart(land_ph, charts.landscape_figure(design, exact_fit, []), "race_land", "race_land_idle")
else:
    draw(rec)
    df = lane_table(rec)
    reached = df.dropna(subset=["epochs to tolerance"]).sort_values("epochs to tolerance")
    if rec.status == RunStatus.STOPPED:
        how = "by you" if rec.stopped_why == "by you" else "when you left the page or changed a setting"
        st.warning(f"Stopped {how} at round {rec.round:,}; the curves so far are kept.")
    if len(reached):
        win = reached.iloc[0]
        st.success(f"**{win['lane']}** reached the tolerance first, in {int(win['epochs to tolerance']):,} epochs.")
    elif rec.status == RunStatus.COMPLETED:
        st.info("No lane reached the tolerance in time: add epochs, raise the learning rates or standardize.")
    for lane in rec.lanes:
        if lane.status == RunStatus.DIVERGED:
            st.error(f"Lane **{lane.label}** diverged: {lane.reason}")
        elif rec.status == RunStatus.COMPLETED and lane.optimizer in ("adam", "rmsprop") and len(lane.history) > 10:
            h = lane.history
            low = min(h)
            excess_low, excess_end = low - rec.min_loss, h[-1] - rec.min_loss
            if excess_end > 100 * max(excess_low, problem.stats.loss_floor):
                st.info(f"Lane **{md(lane.label)}**: the loss came within {excess_low:.3g} of the minimum, then "
                        f"rose again to {excess_end:.3g} above it. {OPTIMIZER_LABELS[lane.optimizer]} with a "
                        "fixed lr keeps taking steps of about lr even at the minimum, so it hovers around it; "
                        "a smaller lr settles closer.")
