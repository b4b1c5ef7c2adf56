"""Step: gradient descent one epoch (or k) at a time, with the gradient and the update laid out."""

import time

import numpy as np
import pandas as pd
import streamlit as st

from linreg_core import Callback, LinregError, Trainer
from studio import charts, controls, layers, state, stream, warmup
from studio.labels import OPTIMIZER_LABELS
from studio.live_chart import live_chart, live_status, revision
from studio.pace import PACES, pace_of
from studio.run import StepRecord, landscape_point
from studio.text import md

warmup.torch_ready()  # this page trains as it opens: torch and its thread policy first
ss = st.session_state
MAX_PATH = 3000
FILM_EARLY = 500  # a played Step k's first epochs, every one of them; then about FILM_POINTS in all
FILM_POINTS = 3000
EXPLAIN = {
    "sgd": "Plain SGD: the update is exactly −lr × gradient.",
    "momentum": "SGD + momentum: the update is −lr × gradient plus momentum × the previous update, so it keeps "
                "speed along directions where the gradient keeps its sign.",
    "adam": "Adam: the update is lr × a running mean of the gradient divided by a running RMS of it, so every "
            "parameter moves about lr per step whatever the size of its gradient.",
    "rmsprop": "RMSprop: the update is −lr × gradient divided by a running RMS of the gradient: steep directions "
               "are slowed, flat ones sped up.",
    "adagrad": "Adagrad: the update is −lr × gradient divided by the root of all squared gradients so far: "
               "steps shrink as training goes on.",
}

EXPLAIN_MINIBATCH = ("With mini-batches an epoch takes several optimizer steps, each on its own batch's gradient: the "
                     "gradient shown is the full-batch one at the start of the epoch and the update is the net change "
                     "over the epoch, so their ratio is not 1 even for plain SGD.")


def _path_point(tr: Trainer) -> tuple[float, float] | None:
    return landscape_point(*tr.params())


def _new_stepper(problem: state.Problem, config) -> StepRecord:
    tr = Trainer(problem.design, config, problem.validation)
    pt = _path_point(tr)
    return StepRecord(problem.key, config, tr, [pt] if pt else None)


class _Recorder(Callback):
    """Hears each fast epoch of a Step k (Trainer.step): puts its point on the path, hands the trainer to ``record``,
    and touches session state every 20 ms — a point where a click (Stop, Restart, a page switch) interrupts a long
    Step k, as on the Train page — also inside long mini-batch epochs. ``show`` draws the progress a few times a
    second."""

    def __init__(self, rec: StepRecord, record=None, show=None) -> None:
        self.rec, self.record, self.show = rec, record, show
        self.last = self.shown = 0.0

    def beat(self) -> None:
        now = time.monotonic()
        if now - self.last >= 0.02:
            ss["_heartbeat"] = ("step", now)
            self.last = now
        if self.show is not None and now - self.shown >= 0.25:
            self.show()
            self.shown = now

    def on_epoch_end(self, event) -> None:
        if not self.rec.trainer.done:  # an epoch that ended training (it diverged) adds no point
            recorded(self.rec, self.record)
        self.beat()

    def on_batch_end(self, epoch: int, rows_done: int, params) -> None:
        self.beat()


def recorded(rec: StepRecord, record=None) -> None:
    """The trainer's epoch just ended: its point on the path, and ``record(trainer)`` if given."""
    if rec.path is not None and len(rec.path) < MAX_PATH:
        rec.path.append(_path_point(rec.trainer))
    if record is not None:
        record(rec.trainer)


def _step(k: int, progress=None, record=None) -> None:
    """``k`` epochs now (Trainer.step), the last one up close; ``record(trainer)``, if given, after each of them."""
    rec = ss.get("stepper")
    if rec is None:
        return
    tr = rec.trainer
    rec.touched = time.time()
    k = min(k, tr.config.epochs - tr.epoch)  # the last epoch that can run is the one shown up close
    start = tr.epoch
    show = None
    if progress is not None and k > 1:
        def show() -> None:
            progress.caption(f"Stepping: epoch {tr.epoch:,} ({tr.epoch - start:,} of {k:,}) · loss "
                             f"{tr.history[-1] if tr.history else float('nan'):.6g} · press Stop to pause here")
    info = tr.step(k, [_Recorder(rec, record, show)])  # (a run it ends says "Press Restart" below its reason: body())
    if info is not None:
        rec.last = info
        if info.epoch == tr.epoch:  # the last epoch ran up close (not a close-up of an earlier one)
            recorded(rec, record)


FILM_BUDGET = 0.4  # s of training per part of a played Step k: a click waits for a part at most (a fragment runs on)


def _film(rec: StepRecord) -> None:
    """The next part of a played Step k (``rec.plan``): its epochs are trained now — as many as FILM_BUDGET
    allows, so that Stop, which waits for this fragment run, is heard within it — then the browser plays them at
    the pace, drawing every frame from their numbers as it draws a Train run (studio/stream.py ``Film``). The film's
    last frame reruns this fragment: for the next part, or the epoch up close."""
    tr: Trainer = rec.trainer
    plan = rec.plan
    first, target, pace = plan["start"], plan["target"], pace_of(ss.ui_pace)
    start = tr.epoch
    every = max(1, (target - first) // FILM_POINTS)
    cols: dict[str, list] = {"e": [], "t": [], "b": [], "w": [], "loss": [], "val": []}

    def add(epoch: int, when: float, b: float | None, w: list[float]) -> None:
        h, v = tr.history, tr.val_history
        for name, value in (("e", epoch), ("t", when), ("b", b), ("w", w),
                            ("loss", h[epoch - 1] if 0 < epoch <= len(h) else None),
                            ("val", v[epoch - 1] if 0 < epoch <= len(v) else None)):
            cols[name].append(value)

    # The epochs before this part are on screen from its start (the path from the record, the loss from the history).
    b0, w0 = tr.params()
    path = rec.path or []
    for e in range(0, start, max(1, start // FILM_POINTS)):
        pt = path[e] if e < len(path) else None
        add(e, 0.0, pt[0] if pt else b0, [pt[1]] if pt else [float(v) for v in w0])
    add(start, 0.0, b0, [float(v) for v in w0])
    offset = pace.seconds_to(start - first)  # the pace goes on where the previous part ended

    def record(trainer: Trainer) -> None:
        e = trainer.epoch
        if e - first <= FILM_EARLY or (e - first) % every == 0 or e >= target or trainer.done:
            b, w = trainer.params()
            add(e, pace.seconds_to(e - first) - offset, b, [float(v) for v in w])

    rec.film_from = (start, tr.checkpoint(), rec.last)  # where Stop takes the trainer back to
    deadline, n = time.monotonic() + FILM_BUDGET, 8
    while tr.epoch < target and not tr.done:
        _step(min(n, target - tr.epoch), None, record)  # (a part is short: no progress line)
        if time.monotonic() > deadline:
            break
        n *= 2
    if tr.epoch >= target or tr.done:
        rec.plan = None  # the last part: its last epoch is the one up close
    t0 = time.monotonic()  # the schedule starts once the epochs are computed
    rec.playing = rec.film = stream.Film(cols["e"], [t0 + t for t in cols["t"]], cols["b"], cols["w"], cols["loss"],
                                               cols["val"] if validation is not None else None, tr.config.epochs)


def _rewind_to(rec: StepRecord, shown: int) -> None:
    """Stop during a played Step k: the trainer goes back to the epoch the page showed (the same numbers again)."""
    start, checkpoint, last_before = rec.film_from or (None, None, None)
    tr: Trainer = rec.trainer
    if start is None or not start <= shown < tr.epoch:
        return
    tr.rewind(checkpoint)
    rec.last = tr.step(shown - start) if shown > start else last_before
    if rec.path is not None:
        del rec.path[shown + 1:]


def _restart() -> None:
    ss.stepper = None


st.title("Step through training", anchor=False)
problem = state.problem_or_stop("trained on")
design, exact, validation = problem.design, problem.exact, problem.validation
config = state.train_config()
st.caption(
    f"**{md(ss.ds_name)}** · {state.rows_note(problem)} · optimizer **{OPTIMIZER_LABELS[config.optimizer]}**, lr **{config.lr:g}**, "
    f"{'full batch' if config.batch_size == 0 else f'batch {config.batch_size:,}'}, {config.dtype}, "
    f"standardize {'on' if config.standardize else 'off'}, L2 {config.l2:g}, up to {config.epochs:,} epochs."
)
st.page_link("app_pages/train.py", label="Change the settings on the Train page", icon=":material/tune:")

rec = ss.get("stepper")
if rec is None or rec.key != problem.key or rec.config != config:
    if rec is not None:
        st.info("The data or the settings changed, so stepping starts again from epoch 0.")
    try:
        rec = ss.stepper = _new_stepper(problem, config)
    except LinregError as exc:
        ss.stepper = None
        st.error(f"Training can't start with these settings: {md(exc, 2000)}")
        st.stop()
tr: Trainer = rec.trainer



def _stop_playing() -> None:
    """Stop: a played Step k stops at the epoch the page shows (a synchronous one is cut by the heartbeat)."""
    rec = ss.get("stepper")
    if rec is None:
        return
    film = rec.playing
    rec.playing = rec.plan = None
    if film is not None and film.status == "running":
        film.stopped = True
        shown = stream.pressed_epoch(film) if film.draws else None  # the browser draws it: the epoch it showed
        _rewind_to(rec, max(shown if shown is not None else film.shown_epoch, rec.film_from[0]))


@st.fragment
def step_area() -> None:
    """The buttons, the epoch up close and the charts: a fragment, so that a paced Step k redraws only this."""
    rec = ss.get("stepper")
    if rec is None:  # Restart was pressed (its callback ran before this fragment run)
        rec = ss.stepper = _new_stepper(problem, config)
    tr: Trainer = rec.trainer
    row = st.container(horizontal=True, vertical_alignment="bottom", gap="xsmall")  # wraps: no label cut at 1024 px
    step1 = row.button("Step 1 epoch", type="primary", key="btn_step1", disabled=tr.done)
    row.number_input("Epochs per click (k)", **controls.bind("step_k"), width=150)
    stepk = row.button(f"Step {int(ss.step_k):,} epochs", key="btn_stepk", disabled=tr.done)
    row.button("Stop", key="btn_step_stop", on_click=_stop_playing, icon=":material/stop:",
               help="Stops a long Step k between epochs; stepping can go on from there.")
    row.button("Restart", key="btn_step_restart", on_click=_restart, icon=":material/restart_alt:")
    st.segmented_control("Speed of Step k", list(PACES), format_func=lambda p: PACES[p].label, required=True,
                         **controls.bind("ui_pace"),
                         help="Watch and Fast play the k epochs so you see the line move; As fast as possible "
                              "jumps to the end. The numbers are the same at every speed (the Train page's setting).")
    progress = st.empty()
    k = 1 if step1 else int(ss.step_k)
    if stepk and k > 1 and pace_of(ss.ui_pace).start_rate is not None:
        rec.plan = {"start": tr.epoch, "target": min(tr.epoch + k, config.epochs)}
        _film(rec)
    elif step1 or stepk:
        # Step in the fragment body, below the buttons (not in a callback): the heartbeat lets Stop, Restart or a
        # page switch cut a long Step k, and the buttons are live while it runs.
        rec.playing = None
        _step(k, progress)
        progress.empty()
        if tr.done:
            st.rerun()  # draw the step buttons disabled
    film = rec.playing
    if film is not None and pace_of(ss.ui_pace).start_rate is None:
        film.end_now()  # switched to As fast as possible: the film's rest at once (and the plan's rest below)
    if film is not None and film.status != "running":
        rec.playing = None  # the page has played it to its end
        if rec.plan:  # the next part of a long Step k
            if pace_of(ss.ui_pace).start_rate is None:
                _step(rec.plan["target"] - tr.epoch, progress)
                rec.plan = None
                progress.empty()
            else:
                _film(rec)
    body(rec)


def body(rec: StepRecord) -> None:
    tr: Trainer = rec.trainer
    film = rec.playing
    if film is not None:  # a played Step k: the browser draws it, the status line too, and reruns this at its end
        played(rec, film)
        return
    loss_now, grad_now = tr.objective()
    b, w = tr.params()
    val_note = f" · validation MSE **{state.validation_mse(validation, (b, w)):.6g}**" if validation is not None else ""
    after = f"after epoch {tr.epoch:,}'s update" if tr.epoch else "at the start"
    st.markdown(f"**Epoch {tr.epoch:,} / {config.epochs:,}** · loss now ({after}) **{loss_now:.6g}** · ‖gradient‖ "
                f"**{np.linalg.norm(grad_now):.3g}**{val_note} · gap to exact "
                f"**{state.gap((b, w.tolist()), exact):.3g}**",
                help="Loss now: the loss at the current parameters. The loss curve's points are each epoch's loss "
                     "before its update (as the tutorial prints it), so its last point is one update behind. "
                     "‖gradient‖: how steep the loss is here (0 at the minimum). Gap to exact: the largest "
                     "difference between a parameter now and the exact least-squares one.")
    if tr.status == "diverged":
        st.error(f"**Training diverged.** {tr.reason}")
    elif tr.done:
        st.success(" ".join(filter(None, [f"**{tr.status.capitalize()}** after {tr.epoch:,} epochs.", tr.reason,
                                          "Press Restart to step again."])))

    info = rec.last
    if info is None and tr.epoch == 0:
        st.info("Press **Step 1 epoch**: the table will show the parameters before the step, the gradient of the loss "
                "there, the update the optimizer made, and the parameters after.")
    elif info is not None and not rec.playing:
        space = "standardized units (what the optimizer works in)" if info.standardized else "the data's units"
        st.subheader(f"Epoch {info.epoch:,} up close", anchor=False)
        if info.epoch != tr.epoch:
            st.caption(f"The last epoch with an update: epoch {tr.epoch:,} ended training before updating the parameters.")
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(info.sgd_update != 0, info.update / info.sgd_update, np.nan)
        table = pd.DataFrame({
            "parameter": info.names, "before": info.before, "gradient ∂L/∂θ": info.gradient,
            "−lr × gradient": info.sgd_update, "update Δθ": info.update, "update ÷ (−lr × gradient)": ratio,
            "after": info.after,
        })
        st.dataframe(table, hide_index=True, width="stretch",
                     column_config={c: st.column_config.NumberColumn(format="%.6g") for c in table.columns[1:]})
        after_loss = tr.history[info.epoch] if len(tr.history) > info.epoch else loss_now
        st.markdown(f"Loss before the update **{info.loss:.6g}**, after **{after_loss:.6g}** "
                    f"({after_loss - info.loss:+.3g}). Parameters in {space}. "
                    f"{EXPLAIN_MINIBATCH if config.batch_size else EXPLAIN[config.optimizer]}")

    # Charts that update in place (studio/live_chart.py): a played Step k redraws them without a blink.
    view = (problem.key, id(tr))  # a restart or new data: fresh axes
    left, right = st.columns(2)
    with left:
        live_chart(revision(charts.loss_figure(tr.history, ss.ui_logy, problem.stats.mse, None,
                                               tr.val_history if validation is not None else None), *view),
                   key="step_loss")
    with right:
        live_chart(revision(charts.fit_figure(design, (b, w.tolist()), exact, validation), *view), key="step_fit")
    if rec.path is not None:
        live_chart(revision(charts.landscape_figure(design, (exact.intercept, exact.coef), rec.path), *view),
                   key="step_land")


def played(rec: StepRecord, film: stream.Film) -> None:
    """A played Step k on the page: the charts' fixed parts, with the browser drawing the epochs over them at the
    pace from the film's numbers (the same layers and code as a Train run's)."""
    url = stream.url(film)
    # What is due already (the epochs before it, and its start) comes with the page: its first frame needs no request.
    live_status("step_status", {"stream": url, "seed": film.increment(-1, stream.MAX_FLOATS)}, {
        "terms": list(design.terms), "total": config.epochs, "rows": design.n_samples,
        "exact_b": exact.intercept, "exact_w": [float(v) for v in exact.coef]})
    view = (problem.key, id(rec.trainer), "film", id(film))  # its own axes, fixed for the whole film
    span = rec.plan["target"] if rec.plan else film.total  # a long Step k's whole span, part after part
    seen = [v for v in film.loss + (film.val or []) if v is not None and np.isfinite(v)]
    y_span = (min(seen), max(seen)) if seen else None
    left, right = st.columns(2)
    with left:
        fig = charts.loss_figure([], ss.ui_logy, problem.stats.mse, span, [] if validation is not None else None,
                                 y_span=y_span)
        live_chart(revision(fig, *view), key="step_loss",
                   anim={"stream": url, "layers": layers.loss_layers(validation is not None, span), "grow": True})
    with right:
        live_chart(revision(charts.fit_figure(design, None, exact, validation, moving=True), *view), key="step_fit",
                   anim={"stream": url, "layers": layers.fit_layers(design, validation)})
    if rec.path is not None:
        pts = [(b, w[0]) for b, w in zip(film.b, film.w) if b is not None and len(w) == 1 and np.isfinite([b, w[0]]).all()]
        box = [(min(p[0] for p in pts), min(p[1] for p in pts)), (max(p[0] for p in pts), max(p[1] for p in pts))] if pts else []
        fig = charts.landscape_figure(design, (exact.intercept, exact.coef), [], view=box, moving=True)
        live_chart(revision(fig, *view), key="step_land", anim={"stream": url, "layers": layers.landscape_layers()})


step_area()
