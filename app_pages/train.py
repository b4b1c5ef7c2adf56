"""Train: choose settings, press Train, watch the loss fall and the line swing into place."""

import json
import time

import streamlit as st
from streamlit.logger import get_logger
from streamlit.runtime.scriptrunner import get_script_run_ctx

from linreg_core import LinregError
from studio import (
    charts,
    classroom,
    controls,
    devices,
    explain,
    ghosts,
    jobs,
    layers,
    lr_guidance,
    partial,
    plane,
    points,
    share,
    state,
    status,
    stream,
    sweep,
    view,
    warmup,
    workload,
)
from studio.animation import run_html
from studio.live_chart import figure_json, live_chart, live_status, redraw_after, replay_slider, revision
from studio.live_chart import preview as live_chart_preview
from studio.pace import PACES
from studio.run import RunRecord, landscape_point
from studio.settings import ADVANCED, MAIN, VALIDATION
from studio.text import md

ss = st.session_state
log = get_logger(__name__)
QUEUED_EVERY = 1.0  # seconds between redraws of a queued run's page, until its run is next
QUEUED_SOON = 0.25  # and once it is next


def _stop() -> None:
    job = jobs.job_slot().current(ss.run)
    if job is not None and job.alive:
        clicked = time.time()
        job.stop(jobs.BY_YOU)  # returns once the loop has ended (within one epoch, or one batch)
        log.info("stop: loop halted at epoch %d, last epoch ended at %.3f, stop handled at %.3f",
                 ss.run.epochs_run, ss.run.last_epoch_wall, clicked)


def _pause_or_resume(resume: bool) -> None:
    """One button, so that keyboard focus stays on it: Pause at the epoch the page shows, or Resume. ``resume``: what
    the button said when clicked (a double click on Pause must not resume what its first click paused)."""
    job = jobs.job_slot().current(ss.run)
    if job is None or resume != ss.run.paused:
        return
    if resume:
        try:
            job.resume(state.train_config())
        except LinregError as exc:
            ss._resume_msg = str(exc)
        return
    shown = ss.get("_shown_epoch")
    if ss.run.draws or ss.run.shown_epoch >= 0:  # the browser draws the run: it says which epoch it shows
        job.pause(at=stream.pressed_epoch(ss.run))
    else:
        job.pause(at=shown[1] if shown and shown[0] == ss.run.started else None)


def _stop_for_good() -> None:
    """Stop: a running run halts within an epoch; a paused one is finished where it is."""
    job = jobs.job_slot().current(ss.run)
    if job is not None and ss.run.paused:
        job.end(jobs.BY_YOU)
    else:
        _stop()


def _reset() -> None:
    jobs.job_slot().end(jobs.CHANGED)
    ss.run = None


# --- Settings (sidebar) ---------------------------------------------------------------------------
@st.fragment
def settings() -> None:
    """The sidebar's settings: a fragment, so that a change reruns only the sidebar, and the preview of the next run
    on the charts follows at once (drawn by the browser, studio/live_chart.py ``preview``); a change that the rest
    of the page shows (data, model, epochs, the view of the landscape, a run in progress) reruns the whole page."""
    st.header("Settings", anchor=False)
    controls.setting_widget("optimizer")
    st.select_slider("Learning rate (log scale)", options=controls.lr_slider_options(ss.settings.lr),
                     **controls.bind_setting("lr", widget="lr_slider"), format_func=lambda v: f"{v:g}")
    controls.setting_widget("lr")  # the box and the slider show one setting: each is set from it on every run
    lr_guidance.box()
    controls.settings_group(MAIN, after="lr")
    with st.expander(ADVANCED):  # what a first visitor need not read: device, seed, precision, momentum…
        controls.settings_group(ADVANCED, more={"device": devices.choice()})  # (no torch for a CPU-only build)
    with st.expander(VALIDATION, expanded=ss.settings.validation):
        controls.settings_group(VALIDATION)
        if not ss.sel_formula.strip():
            st.number_input("Polynomial degree", **controls.bind("sel_degree"),
                            help="Fit the target with x, x², …, x^degree of each numeric feature.")
    st.toggle("Live charts", **controls.bind("ui_live"),
              help="Animate the charts while training: your browser draws every frame from the numbers the server "
                   "streams. Off, the status line still moves and the charts show the run when it ends.")
    st.toggle("Log-scale loss", **controls.bind("ui_logy"))
    classroom.toggle()
    after_settings_change()


def after_settings_change() -> None:
    """At the end of the settings: the next run's preview, and on a rerun of the settings alone, a whole-page rerun
    when the rest of the page must follow."""
    try:
        problem = state.current_problem(trainable=True)
    except LinregError:
        return  # the page body says what is wrong with the data
    run = ss.run if state.run_matches(problem) else None
    config = state.train_config()
    pv = view.next_run_preview(problem, run, config)
    ctx = get_script_run_ctx()
    alone = ctx is not None and bool(ctx.fragment_ids_this_run)  # this fragment rerun on its own
    if alone and (ss.get("_drawn_view") != view.page_view(problem, run, config, pv) or
                  (run is not None and (run.running or run.paused))):
        st.rerun()  # the whole page: it shows something that changed (or a run takes the new setting)
    if alone:  # (a full run's address is app.py's, kept before this page ran: once per run is enough)
        share.keep_in_url(key="address_settings")
    landscape_here = problem.design.fit_intercept and len(problem.design.terms) == 1
    loss_layers, land_layers = layers.preview_layers(pv, landscape_here)
    live_chart_preview("train_preview", {"train_loss": loss_layers, "train_land": land_layers},
                       explain.preview_note(pv, config) if pv is not None else "")


with st.sidebar:
    settings()


# --- Data guard -------------------------------------------------------------------------------------
present = classroom.presenting()
if present:
    classroom.styles()
else:
    st.title("Train", anchor=False)
share.show_notice()
problem = state.problem_or_stop("trained on")

design, exact, validation = problem.design, problem.exact, problem.validation
if not present:
    st.caption(f"**{md(ss.ds_name)}** · {state.rows_note(problem)} · {state.model_note(design)}")
    st.page_link("app_pages/data.py", label="Change data or columns", icon=":material/table:")

run: RunRecord | None = ss.run if state.run_matches(problem) else None
if run is not None and run.running and run.config != state.train_config():
    # The sidebar shows what runs: a new lr, optimizer, momentum, epochs or tolerance is taken at once (marked
    # on the loss chart); any other change ends the run it no longer describes.
    changeable, fixed = jobs.changes_between(run.config, state.train_config())
    job = jobs.job_slot().current(run)
    if job is not None and not fixed:
        try:
            job.change_course(state.train_config())
        except LinregError as exc:
            ss._resume_msg = str(exc)
    else:
        jobs.job_slot().stop(jobs.CHANGED)

# One feature with an intercept: two parameters, so the whole loss surface fits in a picture.
landscape = design.fit_intercept and len(design.terms) == 1
two_features = not landscape and plane.is_plane(design)  # a plane over them: its map (studio/plane.py)
more_features = not landscape and not two_features and partial.applies(design)  # one feature's line at a time
exact_fit = (exact.intercept, exact.coef)


def draw(run: RunRecord | None, running: bool, edit: bool, streaming: bool) -> tuple | None:
    """The status line and the charts, from the record. ``streaming``: the run
    trains and the browser draws it, every frame, from the numbers it streams (studio/stream.py); the server
    sends the figures' fixed parts once. Otherwise the charts show the record as it is now (a run that has ended,
    is paused or queued). ``running``: the run's state when this fragment run began (it may end meanwhile: the
    browser reruns the fragment once it has shown the end). A run that has ended is replayed in the browser: the
    replay slider (:func:`replay_slider`) moves the same layers the browser draws while a run trains, and the status
    line, with no rerun. Returns (the run, the epoch) the status line shows."""
    # What is said above the charts goes in one container, so the charts keep their place in the page whatever is
    # said: an element that moves is mounted afresh, and a chart mounted afresh blinks.
    head = st.container(key="train_head")  # (the replay hides its status line here while it shows its own)
    replaying = replayable(run, running)
    status_info = None if run is None else {
        "terms": list(design.terms), "total": run.config.epochs, "rows": design.n_samples,
        "exact_b": exact.intercept, "exact_w": [float(v) for v in exact.coef]}
    if run is None:
        head.info("Press **Train** to fit the line by gradient descent. The dashed line is the exact least-squares fit.")
        history, val, params, span, path, changes = [], [] if validation is not None else None, None, int(ss.settings.epochs), [], []
        shown = None
    elif streaming:
        seed = stream.increment(run, -1) if len(run.snapshots) <= SEED_SNAPSHOTS else None  # (takes the lock)
        with run.lock:
            changes = [(c.epoch, c.describe()) for c in run.changes]
            path = run.path()
        anim = {"stream": stream.url(run), "seed": seed}
        with head:
            live_status("train_status", anim, status_info)
        history, val, params, span, shown = [], [] if validation is not None else None, None, run.config.epochs, None
    else:
        with run.lock:  # one consistent snapshot of what the job has recorded
            head.markdown(status.status_line(run, design, exact), help=status.STATUS_HELP)
            shown = (run.started, run.epochs_run)
            history, val = list(run.history), list(run.val_history) if validation is not None else None
            changes = [(c.epoch, c.describe()) for c in run.changes]
            params, path = run.params if run.has_model else None, run.path() if landscape else []
            count = len(run.snapshots)
        if replaying:  # the replay's status line, shown by the browser in place of the one above while it replays
            with head:
                live_status("train_status", replay_anim(run, count), status_info)
        # While running (or paused), the x axis spans every planned epoch so progress shows; afterwards, what ran.
        span = run.config.epochs if running or run.paused else None
        now = landscape_point(*params) if params is not None and landscape else None
        if now is not None and (not path or path[-1] != now):
            path.append(now)
    merged: dict[int, str] = {}
    for epoch, text in changes:  # several settings changed at one Resume: one mark
        merged[epoch] = f"{merged[epoch]}; {text}" if epoch in merged else text
    moving = streaming and bool(ss.ui_live)  # live charts off: the status line moves, the charts show the end
    config = state.train_config()
    # Before Train, or with new settings after a run: where the next run would go (the settings draw it on the charts).
    pv = view.next_run_preview(problem, run, config)
    ss._drawn_view = shown_view = view.page_view(problem, run, config, pv)
    live = {"stream": stream.url(run)} if moving else replay_anim(run, count) if replaying else None

    def anim(drawn_over, hide: list[str] = (), **more) -> dict | None:
        if moving:
            return {**live, "layers": drawn_over(), **more}
        if replaying:  # the moving layers at the replayed epoch, over the figure with its own such traces hidden
            return {**live, "layers": drawn_over(), "hide": list(hide), **more}
        return None

    ghost = ghosts.previous_run(ss.runs, run, design)  # the run before, faded under this one: before and after
    state_key = ((len(run.history), run.status) if run is not None and not streaming else None, id(ghost))
    # The fitted line first: on a phone the columns stack, and the line swinging into place is what to see. Presenting:
    # the three charts side by side, no captions (the teacher speaks).
    cols = st.columns(3 if present and (landscape or two_features or more_features) else 2)
    left, right, caption = cols[0], cols[1], (lambda _: None) if present else st.caption
    with right:
        y_span = view.start_loss_span(problem, run) if streaming else shown_view[3]

        def loss(log_y: bool):
            return ghosts.add_pinned(ghosts.add_to_loss(charts.loss_figure(
                history, log_y, problem.stats.mse, span, val, sorted(merged.items()), y_span=y_span), ghost), pins)

        loss_layers = layers.replay_loss_layers if replaying else lambda: layers.loss_layers(validation is not None, span)
        pins = ghosts.pinned(ss.runs, ss.ui_pinned, run)  # runs the learner pinned, their curves beside this one
        chart("train_loss", loss, run, (state_key, moving, tuple(merged), y_span, tuple(id(r) for _, r in pins)),
              views=[("ui_logy", "layout")],
              anim=anim(loss_layers, grow=True))
        caption(explain.LOSS_CAPTION)
    with left:
        def fit(_):
            return ghosts.add_to_fit(charts.fit_figure(design, params, exact, validation, edit=edit,
                                                       residuals=bool(ss.ui_residuals), moving=moving), design, ghost)

        events = chart("train_fit", fit, run, (state_key, edit, moving), edit=edit, drag=points.drag_spec(problem),
                       views=[("ui_residuals", "layer" if moving else "traces")],
                       anim=anim(lambda: layers.fit_layers(design, validation), hide=layers.FIT_MOVING_TRACES[
                           design.line_feature is not None]))
        caption(explain.FIT_CAPTION if design.line_feature is not None else explain.PREDICTED_CAPTION)
        if edit and (events["click"] or events["select"] or events["drag"]):
            msg = points.apply(events)
            if msg:
                ss._points_msg = msg
                st.rerun()  # the whole page: the exact fit, the guidance and the landscape follow the new points
    if landscape:
        box = list(shown_view[4])

        def land(_):
            return ghosts.add_to_landscape(charts.landscape_figure(design, exact_fit, [] if moving else path, view=box,
                                                                   moving=moving), ghost)

        with cols[2] if len(cols) == 3 else st.container():
            chart("train_land", land, run, (state_key, moving, tuple(box)),
                  anim=anim(layers.landscape_layers, hide=["optimizer path", "now"]))
            caption(explain.LANDSCAPE_CAPTION)
    elif two_features:  # the plane in 3-D (a drag turns it) beside its map; presenting, the map alone
        here = [cols[2]] if len(cols) == 3 else st.columns(2)
        if len(here) == 2:
            with here[0]:
                p3 = plane.plane3d_layers(design, exact)
                chart("train_plane3d", lambda _: plane.plane3d_figure(design), run, (state_key, moving),
                      anim=anim(lambda: p3, rotate=True) or {"layers": p3, "params": params, "rotate": True})
                caption(explain.PLANE3D_CAPTION)
        with here[-1]:
            chart("train_plane", lambda _: plane.plane_figure(design, exact, params, moving=moving), run,
                  (state_key, moving), anim=anim(lambda: plane.plane_layers(design), hide=["gradient descent"]))
            caption(explain.PLANE_CAPTION)
    elif more_features:
        with cols[2] if len(cols) == 3 else st.container():
            if ss.get("ui_pd_feature") not in design.features:
                ss.ui_pd_feature = design.features[0]
            feature = st.selectbox("Partial dependence on", design.features, **controls.bind("ui_pd_feature"), width=320)
            chart("train_partial", lambda _: partial.partial_figure(design, feature, exact, params, moving=moving),
                  run, (state_key, moving, feature),
                  anim=anim(lambda: partial.partial_layers(design, feature), hide=["gradient descent"]))
            caption(explain.PARTIAL_CAPTION)
    return shown


SEED_SNAPSHOTS = 64  # a run this young comes with its numbers, so that its first frame needs no request


def chart(key: str, make, run: RunRecord | None, of: tuple, views: list[tuple[str, str]] = (), anim: dict | None = None,
          edit: bool = False, drag: dict | None = None) -> dict:
    """Draw chart ``key`` from ``make(log_y)`` — or resend its last figure when what it shows (``of``) has not changed.
    ``views``: (widget key, how) for the toggles the browser applies itself: "layout" (the figure made with the
    toggle off and on, and the layout that differs), "traces" (traces named like the toggle's subject, shown or
    hidden) or "layer" (a layer the browser draws). ``anim``: what the browser draws over the figure while a run
    trains (studio/live_chart.py).

    A fragment run must emit every element it keeps, and a resent figure costs nothing: the browser skips it.
    Reusing the figure also keeps the page's reruns short: a toggle or a slider answers at once.
    """
    cache = ss.setdefault("_charts", {})
    base = (problem.key, id(run), run.started if run is not None else None, of, present)  # what the figure is of
    if present:
        make = (lambda plain: lambda log_y: classroom.figure(plain(log_y)))(make)
    last = cache.get(key)
    if last is None or last[1] != base:
        fig = revision(make(False), problem.key, run.started if run is not None else None)  # a new run: fresh axes
        patches = {}
        for widget, how in views:
            if how == "layout":  # the parts of the layout that differ with the toggle off and on
                off, on = json.loads(figure_json(fig))["layout"], json.loads(figure_json(make(True)))["layout"]
                parts = (("yaxis", {}), ("annotations", []), ("shapes", []))
                patches[widget] = [{k: off.get(k, d) for k, d in parts}, {k: on.get(k, d) for k, d in parts}]
            elif how == "traces":
                patches[widget] = [i for i, t in enumerate(fig.data) if t.name == "residuals"]
        last = cache[key] = (figure_json(fig), base, int(fig.layout.height or 360), patches)
    text, _, height, patches = last
    shown_views = []
    for widget, how in views:
        v = {"key": widget, "on": bool(ss[widget])}
        if how == "layout":
            v["layout"] = patches[widget]
        elif how == "traces":
            v["traces"] = patches[widget]
        else:
            v["layer"] = True
        shown_views.append(v)
    return live_chart(text, key=key, height=height, edit=edit, anim=anim, views=shown_views, drag=drag)


def outcome(run: RunRecord) -> None:
    """How the run ended (or that it is paused, and what Resume will change), the validation MSE, the cost of
    watching, replay and export, and where to go next (the words: studio/status.py)."""
    if run.paused:
        st.info(run.reason or "Paused.")
        for note in status.resume_notes(run, state.train_config()):
            st.caption(note)
    else:
        kind, text = status.ending(run)
        getattr(st, kind)(text)
    if note := status.far_from_exact(problem, run):
        st.info(note)
    if note := status.validation_note(problem, run):
        st.markdown(note)
    if note := status.watching_note(run):
        st.caption(note)
    if len(run.snapshots) > 1 and not run.paused:
        st.download_button("Download this run as an animated HTML file", data=lambda: run_html(design, exact, run, validation),
                           file_name="linreg-run.html", mime="text/html", key="dl_run_html", on_click="ignore",
                           icon=":material/movie:",
                           help="The line and the loss, epoch by epoch, with play/pause and a slider. One file that "
                                "opens in any browser, offline.")
    st.page_link("app_pages/results.py", label="See the full results, statistics and downloads", icon=":material/analytics:")


def start_training() -> None:
    config = state.train_config()
    try:
        trainer = warmup.trainer(design, config, validation)  # torch is imported for training, not before
    except LinregError as exc:
        st.error(md(exc, 2000))
        return
    run = state.new_run(problem, config, trainer.start_info())
    jobs.job_slot().start(jobs.TrainingJob(run, trainer))


def replayable(run: RunRecord | None, running: bool) -> bool:
    """Whether ``run`` has ended (not paused) with epochs to replay."""
    return run is not None and not running and not run.paused and len(run.snapshots) >= 2


def replay_anim(run: RunRecord, count: int) -> dict:
    """The browser's replay of a run that has ended: its numbers (streamed once, from the stream route, unless the
    page already holds all ``count`` recorded epochs), drawn at the epoch the replay slider is on."""
    return {"stream": stream.url(run), "replay": True, "count": count}


def replay_epoch(run: RunRecord | None, running: bool) -> None:
    """The replay slider under a run that has ended: answered in the browser (studio/live_chart.js), no rerun."""
    if replayable(run, running):
        replay_slider("train_replay", replay_anim(run, len(run.snapshots)), "Replay: scrub through the epochs",
                      "The line, the loss marker and the landscape point show the model after that epoch (every "
                      "epoch early on, then evenly spaced ones). Arrow keys step, Home and End jump.")


@st.fragment
def live_area() -> None:
    """The buttons, the status line, the charts and the outcome: a fragment, so that a click on its buttons or
    toggles reruns only this part of the page. While a run trains, the browser draws it (studio/live_chart.js)
    and reruns this fragment once, when it has shown the run's end. In turns (workload.page_turn), one to start the
    run and one to draw: a class whose runs start or end together gets its runs started, then its pages drawn, one
    by one, and the server stays responsive meanwhile."""
    classroom.first_visit_card()  # (here: a Train click reruns this fragment alone, and the card goes with it)
    # One row that wraps: every label whole at any width (columns cut "Pause" to "P" at 1024 px), and on a phone four
    # buttons in one line instead of four full-width rows above the chart.
    # (studio/layout.py's styles: Pause as wide as Resume, so nothing moves when it turns into Resume)
    row = st.container(horizontal=True, vertical_alignment="bottom", gap="xsmall", key="train_controls")
    with workload.page_turn():  # a short turn to start the run; the drawing takes another (below)
        if row.button("Train", type="primary", key="btn_train", icon=":material/model_training:",
                      on_click=lambda: ss.update(ui_welcomed=True),
                      help="Start a fresh run from the initial weights with the sidebar's settings."):
            start_training()  # before the other buttons, so that Pause is live in this very run
    current = ss.run if state.run_matches(problem) else None
    paused = current is not None and current.paused
    row.button("Resume" if paused else "Pause", key="btn_pause", on_click=_pause_or_resume, args=(paused,),
               icon=":material/play_arrow:" if paused else ":material/pause:",
               disabled=current is None or not (current.running or paused))
    row.button("Stop", key="btn_stop", on_click=_stop_for_good, icon=":material/stop:")
    row.button("Reset", key="btn_reset", on_click=_reset, icon=":material/restart_alt:")
    if present:
        classroom.exit_button(row)
    row.segmented_control("Speed", list(PACES), format_func=lambda k: PACES[k].label, required=True,
                          **controls.bind("ui_pace"),
                          help="Watch and Fast wait between epochs so you see the early ones, where the line moves "
                               "most; the numbers are the same at every speed. You can change it during a run.")
    with workload.page_turn():  # (the run has started: its time does not wait for this turn)
        rest_of_live_area(current)


def rest_of_live_area(current: RunRecord | None) -> None:
    """The live area below its buttons: the status line, the charts, the outcome."""
    # One reading of the run's state for this whole fragment run: the job may end it at any moment.
    running = current is not None and current.running
    said = st.container()  # messages, in a place of their own: the charts below keep theirs (no remount, no blink)
    if running:
        current.pace = ss.ui_pace  # the job reads it between epochs
    if "_resume_msg" in ss:
        said.error(md(ss.pop("_resume_msg"), 2000))
    if "_points_msg" in ss:
        st.toast(ss.pop("_points_msg"))
    box = st.container()  # the status line and the charts, drawn once the replay slider below is read
    slot = jobs.job_slot()  # this session's: it also names the session to the redraw budget
    ahead = slot.job.queued_behind if running and slot.current(current) is not None else None
    # A run that trains streams its numbers to the browser, which draws every frame and reruns this fragment once
    # when it has shown the end; only a queued run's page is rerun on a timer, to show its place in the queue.
    streaming = running and ahead is None
    every = None if ahead is None else QUEUED_EVERY if ahead > workload.GATE.slots else QUEUED_SOON
    replay_epoch(current, running)
    why_not = points.why_not_editable(problem)
    edit = not running and why_not is None and bool(ss.ui_edit_points)
    with box:
        if ahead is not None:
            said.info(workload.queue_note(ahead), icon=":material/hourglass_top:")
        shown = draw(current, running, edit, streaming)
    t1, t2 = st.columns(2)
    if design.line_feature is not None:
        t1.toggle("Show residuals", **controls.bind("ui_residuals"),
                  help="Draw each point's residual — its vertical distance to the line — as a dotted segment: least "
                       "squares makes the sum of their squares as small as it can be.")
    if not running:
        t2.toggle("Edit points on the chart", **controls.bind("ui_edit_points"), disabled=why_not is not None,
                  help=why_not or "Click the fitted-line chart to add a point; drag a box (or choose Lasso in the "
                                  "chart's toolbar) around points to delete them. The exact fit follows at once; a "
                                  "paused run ends, since it trained on the old points.")
    if len(ss.runs) > 1:
        starts = [r.started for r in ss.runs]
        ss.ui_pinned = [s for s in ss.ui_pinned if s in starts]  # (a run past the session's last 20 is gone)
        st.multiselect("Pin runs to compare their loss curves", starts,
                       format_func=lambda s, runs=list(ss.runs): ghosts.pin_label(runs, s), **controls.bind("ui_pinned"),
                       help="Each pinned run's loss curve is drawn dashed on the loss chart, named by its number "
                            "(Results lists every run of this session).")
    if current is not None and not running:
        outcome(current)
    ss._redraws = ss.get("_redraws", 0) + 1
    ss._shown_epoch = shown  # a run that is not streaming: the epoch its status line shows
    redraw_after(every, "train_ticker", ss._redraws)


live_area()

swept = sweep.degree_sweep(problem)
if swept is not None:
    with st.expander("Validation curve by polynomial degree", expanded=True):
        st.plotly_chart(charts.degree_figure(swept, state.degree_of(ss)), key="degree_sweep", width="stretch")
        st.caption("Exact least-squares fits on the same training rows. Training MSE can only fall as the degree "
                   f"grows; {sweep.sweep_verdict(swept)}")
st.page_link("app_pages/step.py", label="Step through training one epoch at a time", icon=":material/step:")
st.page_link("app_pages/race.py", label="Race optimizers on this data", icon=":material/sports_score:")
