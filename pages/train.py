"""Train: choose settings, press Train, watch the loss fall and the line swing into place."""

import time

import streamlit as st
from streamlit.logger import get_logger

from linreg_core import OPTIMIZERS, LinregError, Trainer, available_devices
from studio import charts, jobs, share, state
from studio.labels import OPTIMIZER_LABELS
from studio.live_chart import figure_json, live_chart, redraw_after
from studio.run import RunRecord
from studio.text import md

ss = st.session_state
log = get_logger(__name__)
REDRAW_EVERY = 0.18  # seconds between live redraws: about five a second once a redraw's own time is counted
LANDSCAPE_EVERY = 1.0  # the heatmap costs the browser most: about once a second while running


def _lr_from_slider() -> None:
    ss.cfg_lr = ss.cfg_lr_slider


def _lr_from_input() -> None:
    ss.cfg_lr_slider = state.nearest_lr_step(ss.cfg_lr)


def _stop() -> None:
    job = jobs.job_slot().current(ss.run)
    if job is not None and job.alive:
        clicked = time.time()
        job.stop(jobs.BY_YOU)  # returns once the loop has ended (within one epoch, or one batch)
        log.info("stop: loop halted at epoch %d, last epoch ended at %.3f, stop handled at %.3f",
                 ss.run.epochs_run, ss.run.last_epoch_wall, clicked)


def _reset() -> None:
    jobs.job_slot().stop(jobs.CHANGED)
    ss.run = None


def _use_lr(value: float) -> None:
    ss.cfg_lr = float(f"{value:.3g}")
    _lr_from_input()


def _lr_guidance_box() -> None:
    """Stable and optimal lr for full-batch (momentum) SGD on this data, and a warning before a doomed run."""
    try:
        problem = state.current_problem()
    except LinregError:
        return  # the page body explains what is wrong with the data
    g = state.guidance(problem, bool(ss.cfg_standardize), float(ss.cfg_l2))
    other = state.guidance(problem, not ss.cfg_standardize, float(ss.cfg_l2))
    momentum = ss.cfg_optimizer == "momentum"
    limit = g.max_stable_lr * ((1 + ss.cfg_momentum) if momentum else 1.0)  # heavy ball: 2(1+β)/λmax
    def cond(c: float) -> str:
        return f"{c:.3g}" if c < 1e12 else "beyond 1e12 (nearly collinear columns)"

    st.caption(
        f"On this data, full-batch {'momentum ' if momentum else ''}SGD is stable below lr **{limit:.3g}**; "
        f"the fastest fixed lr is **{g.optimal_lr:.3g}** (condition number {cond(g.condition_number)}). "
        "Standardizing puts every feature on one scale, which evens out how steep the loss is along each "
        "(correlated columns, such as powers of one feature, stay uneven): "
        f"{'with' if not ss.cfg_standardize else 'without'} it the condition number would be "
        f"{cond(other.condition_number)} and the stable lr {other.max_stable_lr:.3g}."
    )
    if ss.cfg_optimizer in ("sgd", "momentum") and int(ss.cfg_batch) == 0 and ss.cfg_lr > limit:
        st.warning(f"lr {ss.cfg_lr:g} is above the stable limit {limit:.3g}: this run will diverge.")
        st.button(f"Use the fastest stable lr ({g.optimal_lr:.3g})", key="btn_lr_optimal", on_click=_use_lr,
                  args=(g.optimal_lr,))


# --- Settings (sidebar) ---------------------------------------------------------------------------
with st.sidebar:
    st.header("Settings")
    devices = dict(available_devices())
    st.selectbox("Device", ["auto", *devices], **state.bind("cfg_device"),
                 format_func=lambda d: "auto (best available)" if d == "auto" else devices[d],
                 help="Only devices PyTorch can use on this server are listed.")
    st.selectbox("Optimizer", OPTIMIZERS, **state.bind("cfg_optimizer"), format_func=OPTIMIZER_LABELS.get)
    st.select_slider("Learning rate (log scale)", options=state.LR_STEPS, **state.bind("cfg_lr_slider", _lr_from_slider),
                     format_func=lambda v: f"{v:g}")
    st.number_input("Learning rate", **state.bind("cfg_lr", _lr_from_input),
                    help="Type any value; the slider above snaps to the nearest step.")
    _lr_guidance_box()
    st.number_input("Epochs", **state.bind("cfg_epochs"))
    st.number_input("Batch size (0 = full batch)", **state.bind("cfg_batch"),
                    help="Rows per step. 0 uses every row each step, as the tutorial does.")
    st.toggle("Standardize features", **state.bind("cfg_standardize"),
              help="Train on (x − mean) / std; coefficients are reported in the original units.")
    st.number_input("Seed", **state.bind("cfg_seed"),
                    help="Seeds the initial weights and the mini-batch shuffling.")
    with st.expander("Advanced"):
        st.selectbox("Precision", ["float32", "float64"], **state.bind("cfg_dtype"))
        st.number_input("Momentum (SGD + momentum)", **state.bind("cfg_momentum"))
        st.number_input("Stop when loss changes less than (relative, 0 = off)", **state.bind("cfg_tol"))
    with st.expander("Validation and model", expanded=bool(ss.cfg_val)):
        st.toggle("Hold out a validation set", **state.bind("cfg_val"),
                  help="Train on part of the rows and draw the MSE on the rest each epoch: a validation curve "
                       "that rises while the training loss falls is over-fitting.")
        if ss.cfg_val:
            st.slider("Validation share", **state.bind("cfg_val_frac"))
            st.number_input("Split seed", **state.bind("cfg_val_seed"),
                            help="Which rows are held out; the same seed gives the same split.")
        if len(ss.sel_features) == 1:
            st.number_input("Polynomial degree", **state.bind("sel_degree"),
                            help=f"Fit {md(ss.sel_target)} with x, x², …, x^degree of {md(ss.sel_features[0])}.")
        st.number_input("L2 penalty", **state.bind("cfg_l2"),
                        help="Adds l2·‖w‖² to the loss (ridge): smaller weights, a smoother fit.")
    st.toggle("Live charts", **state.bind("ui_live"), help="Redraw the charts about five times a second while training.")
    st.toggle("Log-scale loss", **state.bind("ui_logy"))

# --- Data guard -------------------------------------------------------------------------------------
st.title("Train")
share.show_notice()
problem = state.problem_or_stop("trained on")

design, exact, validation = problem.design, problem.exact, problem.validation
st.caption(
    f"**{md(ss.ds_name)}** · {state.rows_note(problem)} · {state.model_note(design)}"
)
st.page_link("pages/data.py", label="Change data or columns", icon=":material/table:")

run: RunRecord | None = ss.run if state.run_matches(problem) else None
if run is not None and run.running and run.config != state.train_config():
    # The sidebar shows what runs: a changed setting ends the run it no longer describes.
    jobs.job_slot().stop(jobs.CHANGED)

# One feature with an intercept: two parameters, so the whole loss surface fits in a picture.
landscape = design.fit_intercept and len(design.terms) == 1
exact_fit = (exact.intercept, exact.coef)


def status_line(run: RunRecord) -> str:
    n, total = run.epochs_run, run.config.epochs
    params = ", ".join(f"{md(t)} {c:.4g}" for t, c in zip(design.terms, run.coef or []))
    b = f"intercept {run.intercept:.4g}, " if run.intercept is not None else ""
    loss = f"{run.final_loss:.6g}" if run.history else "—"
    inside = f" (epoch {n + 1:,}: {run.rows_done:,} / {design.n_samples:,} rows)" if run.rows_done and run.running else ""
    return (f"**Epoch {n:,} / {total:,}**{inside} &nbsp;·&nbsp; loss **{loss}** &nbsp;·&nbsp; {b}{params} "
            f"&nbsp;·&nbsp; gap to exact **{state.gap(run.params, exact):.3g}**")


def draw(run: RunRecord | None) -> None:
    """The status line and the charts, from the record. The charts update in place (live_chart); with live
    charts off they are redrawn only when the run ends, and the landscape about once a second."""
    t0 = time.monotonic()
    running = run is not None and run.running
    if run is None:
        st.info("Press **Train** to fit the line by gradient descent. The dashed line is the exact least-squares fit.")
        history, val, params, span, path = [], [] if validation is not None else None, None, int(ss.cfg_epochs), []
    else:
        with run.lock:  # one consistent snapshot of what the job has recorded
            st.markdown(status_line(run))
            history, val = list(run.history), list(run.val_history) if validation is not None else None
            params, path = run.params if run.has_model else None, list(run.path or [])
        # While running, the x axis spans every planned epoch so progress shows; afterwards, what ran.
        span = run.config.epochs if running else None
        if params is not None and path and path[-1] != (params[0], params[1][0]):
            path.append((params[0], params[1][0]))
    fresh = not running or bool(ss.ui_live)
    left, right = st.columns(2)
    with left:
        chart("train_loss", lambda: charts.loss_figure(history, ss.ui_logy, problem.stats.mse, span, val), run, fresh)
    with right:
        chart("train_fit", lambda: charts.fit_figure(design, params, exact, validation), run, fresh)
    if landscape:
        chart("train_land", lambda: charts.landscape_figure(design, exact_fit, path), run, fresh, LANDSCAPE_EVERY)
    if running and fresh:
        run.draws += 1
        run.draw_seconds += time.monotonic() - t0


def chart(key: str, make, run: RunRecord | None, fresh: bool, every: float = 0.0) -> None:
    """Draw chart ``key`` from ``make()`` — or resend its last figure when nothing it shows has changed, when
    live charts are off (``fresh`` False) or, while running, when it was drawn less than ``every`` seconds ago.

    A fragment run must emit every element it keeps, and a resent figure costs nothing: the browser skips it.
    Reusing the figure also keeps the page's full runs short, which matters: a redraw tick that arrives
    during a full run cuts the fragment's part of it short, and Streamlit then drops the elements it missed.
    """
    cache = ss.setdefault("_charts", {})
    base = (problem.key, id(run), bool(ss.ui_logy))  # what the figure is of
    state_now = (run.status, run.epochs_run, run.rows_done) if run is not None else None
    last, now = cache.get(key), time.monotonic()
    if (last is None or last[2] != base
            or (fresh and last[3] != state_now and (run is None or not run.running or now - last[0] >= every))):
        last = cache[key] = (now, figure_json(make()), base, state_now)
    live_chart(last[1], key=key)


def outcome(run: RunRecord) -> None:
    """How the run ended, the validation MSE, the cost of watching, and where to go next."""
    if run.status == "diverged":
        st.error(f"**Training diverged.** {run.reason}")
    elif run.status == "stopped":
        st.warning(run.reason)
    else:
        msg = f"**{run.status.capitalize()}** after {run.epochs_run:,} epochs in {run.train_seconds:.3f} s on {run.device}."
        if run.reason:
            msg += f" {run.reason}"
        st.success(msg)
    if validation is not None and run.val_history:
        gd_val = state.validation_mse(validation, run.params)
        ex_val = state.validation_mse(validation, exact)
        best = min(range(len(run.val_history)), key=run.val_history.__getitem__) + 1
        st.markdown(
            f"**Validation MSE** on {state.plural(validation.n_samples, 'held-out row')}: gradient descent **{gd_val:.4g}**, "
            f"exact fit **{ex_val:.4g}** (training MSE of the exact fit: {problem.stats.mse:.4g}). "
            f"The validation curve was lowest at epoch {best:,}."
        )
    if run.draws:
        rate = run.draws / run.train_seconds if run.train_seconds > 0 else 0.0
        cost = run.draw_seconds / run.train_seconds if run.train_seconds > 0 else 0.0
        st.caption(f"Live charts: {run.draws} redraws, {rate:.1f} per second, drawing took {cost:.0%} of the time.")
    st.page_link("pages/results.py", label="See the full results, statistics and downloads", icon=":material/analytics:")


def start_training() -> None:
    config = state.train_config()
    try:
        trainer = Trainer(design, config, validation)
    except LinregError as exc:
        st.error(md(exc, 2000))
        return
    run = state.new_run(problem, config, trainer.start_info())
    jobs.job_slot().start(jobs.TrainingJob(run, trainer))


@st.fragment
def live_area() -> None:
    """The buttons, the status line, the charts and the outcome: a fragment that reruns itself five times a
    second while the run trains (the rest of the page stays). The buttons live here so that a click reruns
    only this fragment, never the whole page mid-redraw."""
    b1, b2, b3, _ = st.columns([1, 1, 1, 5])
    train_clicked = b1.button("Train", type="primary", key="btn_train", width="stretch")
    b2.button("Stop", key="btn_stop", on_click=_stop, width="stretch")
    b3.button("Reset", key="btn_reset", on_click=_reset, width="stretch")
    if train_clicked:
        start_training()
    current = ss.run if state.run_matches(problem) else None
    draw(current)
    if current is not None and not current.running:
        outcome(current)
    ss._redraws = ss.get("_redraws", 0) + 1
    redraw_after(REDRAW_EVERY if current is not None and current.running else None, "train_ticker", ss._redraws)


live_area()

sweep = state.degree_sweep(problem)
if sweep is not None:
    with st.expander("Validation curve by polynomial degree", expanded=True):
        st.plotly_chart(charts.degree_figure(sweep, state.degree_of(ss)), key="degree_sweep", width="stretch")
        st.caption("Exact least-squares fits on the same training rows. Training MSE can only fall as the degree "
                   f"grows; {state.sweep_verdict(sweep)}")
st.page_link("pages/step.py", label="Step through training one epoch at a time", icon=":material/step:")
st.page_link("pages/race.py", label="Race optimizers on this data", icon=":material/sports_score:")
