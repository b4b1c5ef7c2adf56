"""Step: gradient descent one epoch (or k) at a time, with the gradient and the update laid out."""

import time

import numpy as np
import pandas as pd
import streamlit as st

from linreg_core import Callback, LinregError, StepInfo, Trainer
from studio import charts, state
from studio.labels import OPTIMIZER_LABELS
from studio.live_chart import live_chart, redraw_after, revision
from studio.pace import PACES, pace_of
from studio.text import md

ss = st.session_state
MAX_PATH = 3000
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
    b, w = tr.params()
    return (b, float(w[0])) if b is not None and len(w) == 1 else None


def _new_stepper(problem: state.Problem, config) -> dict:
    tr = Trainer(problem.design, config, problem.validation)
    pt = _path_point(tr)
    return {"key": problem.key, "config": config, "trainer": tr, "last": None, "path": [pt] if pt else None,
            "touched": 0.0,  # when last stepped (How it works shows the newer of this and the last run)
            "playing": None}  # a paced Step k under way: its start epoch, k, target epoch and start time


class _Heartbeat(Callback):
    """Touches session state every 20 ms while stepping: a point where a click (Stop, Restart, a page switch)
    interrupts a long Step k, as on the Train page."""

    def __init__(self, show=None) -> None:
        self.last = self.shown = 0.0
        self.inside_epoch = False
        self.show = show  # called a few times a second with nothing; it draws the progress

    def beat(self) -> None:
        now = time.monotonic()
        if now - self.last >= 0.02:
            ss["_heartbeat"] = ("step", now)
            self.last = now
        if self.show is not None and now - self.shown >= 0.25:
            self.show()
            self.shown = now

    def on_batch_end(self, epoch: int, rows_done: int, params) -> None:
        self.beat()  # mini-batch epochs over many rows: keep clicks working inside an epoch


def _step(k: int, progress=None) -> None:
    rec = ss.get("stepper")
    if rec is None:
        return
    tr = rec["trainer"]
    rec["touched"] = time.time()
    k = min(k, tr.config.epochs - tr.epoch)  # the last epoch that can run is the one shown up close
    start = tr.epoch
    show = None
    if progress is not None and k > 1:
        def show() -> None:
            progress.caption(f"Stepping: epoch {tr.epoch:,} ({tr.epoch - start:,} of {k:,}) · loss "
                             f"{tr.history[-1] if tr.history else float('nan'):.6g} · press Stop to pause here")
    hb = _Heartbeat(show)
    tr.batch_hooks = [hb]
    before = last_before = None  # parameters at the start of the last two fast epochs (a cheap copy of p numbers)
    try:
        for _ in range(max(0, k - 1)):  # the first k − 1 epochs fast, with their points on the path
            last_before, before = before, tr.trained_params()
            hb.inside_epoch = True
            going = tr.run_epoch()
            hb.inside_epoch = False
            if not going:
                if tr.status == "diverged" and last_before is not None and tr.epoch >= 2:
                    # The epoch that diverged made no update: the close-up is the last one that did.
                    loss, grad = tr.objective(last_before)
                    rec["last"] = StepInfo(epoch=tr.epoch - 1, loss=loss, names=tr.param_names, before=last_before,
                                           gradient=grad, after=before, lr=tr.config.lr,
                                           standardized=tr.config.standardize)
                break
            if rec["path"] is not None and len(rec["path"]) < MAX_PATH:
                rec["path"].append(_path_point(tr))
            hb.beat()
        hb.inside_epoch = True
        info = tr.step()
        hb.inside_epoch = False
    except BaseException:
        if hb.inside_epoch:  # cut inside a mini-batch epoch: the parameters moved but the epoch never finished
            tr.status = "stopped"
            tr.reason = (f"Interrupted during epoch {tr.epoch + 1:,}; the partial model is kept. "
                         "Press Restart to step again.")
        raise
    finally:
        tr.batch_hooks = []
    if info is not None:
        rec["last"] = info
        if rec["path"] is not None and len(rec["path"]) < MAX_PATH:
            rec["path"].append(_path_point(tr))


def _restart() -> None:
    ss.stepper = None


st.title("Step through training")
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
if rec is None or rec["key"] != problem.key or rec["config"] != config:
    if rec is not None:
        st.info("The data or the settings changed, so stepping starts again from epoch 0.")
    try:
        rec = ss.stepper = _new_stepper(problem, config)
    except LinregError as exc:
        ss.stepper = None
        st.error(f"Training can't start with these settings: {md(exc, 2000)}")
        st.stop()
tr: Trainer = rec["trainer"]



def _stop_playing() -> None:
    """Stop: a played Step k ends after the epoch it is at (a synchronous one is cut by the heartbeat)."""
    rec = ss.get("stepper")
    if rec is not None:
        rec["playing"] = None


def _advance(rec: dict, progress) -> None:
    """A paced Step k: run the epochs that are due by now (studio/pace.py), keeping the last one for the
    close-up. Each rerun of the fragment advances it; the redraw ticker brings the next rerun."""
    play, tr = rec["playing"], rec["trainer"]
    pace = pace_of(ss.ui_pace)
    if pace.start_rate is None:  # switched to As fast as possible mid-play: the rest at once
        due = play["target"]
    else:
        due = play["start"] + pace.epochs_by(time.monotonic() - play["t0"])
    due = min(due, play["target"])
    if due >= play["target"]:
        rec["playing"] = None
        _step(play["target"] - tr.epoch, progress)  # the last epoch (and any left) with its close-up
        progress.empty()
        return
    while tr.epoch < due and tr.run_epoch():
        if rec["path"] is not None and len(rec["path"]) < MAX_PATH:
            rec["path"].append(_path_point(tr))
    if tr.done:
        rec["playing"] = None
    else:
        progress.caption(f"Stepping: epoch {tr.epoch:,} ({tr.epoch - play['start']:,} of {play['k']:,}) · loss "
                         f"{tr.history[-1] if tr.history else float('nan'):.6g} · press Stop to pause here")


@st.fragment
def step_area() -> None:
    """The buttons, the epoch up close and the charts: a fragment, so that a paced Step k redraws only this."""
    rec = ss.get("stepper")
    if rec is None:  # Restart was pressed (its callback ran before this fragment run)
        rec = ss.stepper = _new_stepper(problem, config)
    tr: Trainer = rec["trainer"]
    b1, b2, b3, b4, b5 = st.columns([1, 1, 1, 1, 1], vertical_alignment="bottom")
    step1 = b1.button("Step 1 epoch", type="primary", key="btn_step1", width="stretch", disabled=tr.done)
    b2.number_input("Epochs per click (k)", **state.bind("step_k"))
    stepk = b3.button(f"Step {int(ss.step_k):,} epochs", key="btn_stepk", width="stretch", disabled=tr.done)
    b4.button("Stop", key="btn_step_stop", width="stretch", on_click=_stop_playing,
              help="Stops a long Step k between epochs; stepping can go on from there.")
    b5.button("Restart", key="btn_step_restart", on_click=_restart, width="stretch")
    st.segmented_control("Speed of Step k", list(PACES), format_func=lambda p: PACES[p].label, required=True,
                         **state.bind("ui_pace"),
                         help="Watch and Fast play the k epochs so you see the line move; As fast as possible "
                              "jumps to the end. The numbers are the same at every speed (the Train page's setting).")
    progress = st.empty()
    k = 1 if step1 else int(ss.step_k)
    if stepk and k > 1 and pace_of(ss.ui_pace).start_rate is not None:
        rec["playing"] = {"start": tr.epoch, "k": k, "target": min(tr.epoch + k, config.epochs), "t0": time.monotonic()}
    elif step1 or stepk:
        # Step in the fragment body, below the buttons (not in a callback): the heartbeat lets Stop, Restart or a
        # page switch cut a long Step k, and the buttons are live while it runs.
        rec["playing"] = None
        _step(k, progress)
        progress.empty()
        if tr.done:
            st.rerun()  # draw the step buttons disabled
    if rec.get("playing"):
        _advance(rec, progress)
        if tr.done:
            st.rerun()  # draw the step buttons disabled
    body(rec)
    ss._step_redraws = ss.get("_step_redraws", 0) + 1
    redraw_after(0.06 if rec.get("playing") else None, "step_ticker", ss._step_redraws)


def body(rec: dict) -> None:
    tr: Trainer = rec["trainer"]
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

    info = rec["last"]
    if info is None and tr.epoch == 0:
        st.info("Press **Step 1 epoch**: the table will show the parameters before the step, the gradient of the loss "
                "there, the update the optimizer made, and the parameters after.")
    elif info is not None and not rec.get("playing"):
        space = "standardized units (what the optimizer works in)" if info.standardized else "the data's units"
        st.subheader(f"Epoch {info.epoch:,} up close")
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
    if rec["path"] is not None:
        live_chart(revision(charts.landscape_figure(design, (exact.intercept, exact.coef), rec["path"]), *view),
                   key="step_land")


step_area()
