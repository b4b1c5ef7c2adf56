"""Train: choose settings, press Train, watch the loss fall and the line swing into place."""

import time

import streamlit as st
from streamlit.logger import get_logger

from linreg_core import OPTIMIZERS, LinregError, available_devices, train
from linreg_core._data import MAX_DEGREE
from studio import charts, share, state
from studio.labels import OPTIMIZER_LABELS
from studio.live import LiveTraining

ss = st.session_state
log = get_logger(__name__)


def _lr_from_slider() -> None:
    ss.cfg_lr = ss.cfg_lr_slider


def _lr_from_input() -> None:
    ss.cfg_lr_slider = state.nearest_lr_step(ss.cfg_lr)


def _stop() -> None:
    was_running = bool(ss.run) and ss.run["status"] == "running"
    state.mark_interrupted()
    if was_running:  # (the run's lock in mark_interrupted froze it: no epoch lands after this)
        run = ss.run
        run["reason"] = f"Stopped by you at epoch {run['epochs_run']:,}; the partial model and history are kept."
        log.info("stop: loop halted at epoch %d, last epoch ended at %.3f, stop handled at %.3f",
                 run["epochs_run"], run.get("last_epoch_wall", 0.0), time.time())


def _reset() -> None:
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
    st.number_input("Learning rate", min_value=1e-9, max_value=1e3, format="%.6g", step=None, **state.bind("cfg_lr", _lr_from_input),
                    help="Type any value; the slider above snaps to the nearest step.")
    _lr_guidance_box()
    st.number_input("Epochs", min_value=1, max_value=1_000_000, step=100, **state.bind("cfg_epochs"))
    st.number_input("Batch size (0 = full batch)", min_value=0, max_value=10_000_000, step=1, **state.bind("cfg_batch"),
                    help="Rows per step. 0 uses every row each step, as the tutorial does.")
    st.toggle("Standardize features", **state.bind("cfg_standardize"),
              help="Train on (x − mean) / std; coefficients are reported in the original units.")
    st.number_input("Seed", min_value=0, max_value=2**31 - 1, step=1, **state.bind("cfg_seed"),
                    help="Seeds the initial weights and the mini-batch shuffling.")
    with st.expander("Advanced"):
        st.selectbox("Precision", ["float32", "float64"], **state.bind("cfg_dtype"))
        st.number_input("Momentum (SGD + momentum)", min_value=0.0, max_value=0.999, step=0.05, **state.bind("cfg_momentum"))
        st.number_input("Stop when loss changes less than (relative, 0 = off)", min_value=0.0, max_value=1.0,
                        **state.bind("cfg_tol"), format="%.2g")
    with st.expander("Validation and model", expanded=bool(ss.cfg_val)):
        st.toggle("Hold out a validation set", **state.bind("cfg_val"),
                  help="Train on part of the rows and draw the MSE on the rest each epoch: a validation curve "
                       "that rises while the training loss falls is over-fitting.")
        if ss.cfg_val:
            st.slider("Validation share", min_value=0.05, max_value=0.5, step=0.05, **state.bind("cfg_val_frac"),
                      format="%.2f")
            st.number_input("Split seed", min_value=0, max_value=2**31 - 1, step=1, **state.bind("cfg_val_seed"),
                            help="Which rows are held out; the same seed gives the same split.")
        if len(ss.sel_features) == 1:
            st.number_input("Polynomial degree", min_value=1, max_value=MAX_DEGREE, step=1, **state.bind("sel_degree"),
                            help=f"Fit {ss.sel_target} with x, x², …, x^degree of {ss.sel_features[0]}.")
        st.number_input("L2 penalty", min_value=0.0, max_value=1e6, step=0.01, **state.bind("cfg_l2"), format="%.6g",
                        help="Adds l2·‖w‖² to the loss (ridge): smaller weights, a smoother fit.")
    st.toggle("Live charts", **state.bind("ui_live"), help="Redraw the charts about five times a second while training.")
    st.toggle("Log-scale loss", **state.bind("ui_logy"))

# --- Data guard -------------------------------------------------------------------------------------
st.title("Train")
share.show_notice()
problem = state.problem_or_stop("trained on")

design, exact, validation = problem.design, problem.exact, problem.validation
st.caption(
    f"**{ss.ds_name}** · {state.rows_note(problem)} · {design.target} ~ {' + '.join(design.terms)}"
    f"{'' if design.fit_intercept else ' (no intercept)'}"
)
st.page_link("pages/data.py", label="Change data or columns", icon=":material/table:")

b1, b2, b3, _ = st.columns([1, 1, 1, 5])
train_clicked = b1.button("Train", type="primary", key="btn_train", width="stretch")
b2.button("Stop", key="btn_stop", on_click=_stop, width="stretch")
b3.button("Reset", key="btn_reset", on_click=_reset, width="stretch")

status_ph = st.empty()
left, right = st.columns(2)
loss_ph, fit_ph = left.empty(), right.empty()
# One feature with an intercept: two parameters, so the whole loss surface fits in a picture.
landscape = design.fit_intercept and len(design.terms) == 1
land_ph = st.empty() if landscape else None
exact_fit = (exact.intercept, exact.coef)


def draw(run: dict) -> None:
    """Redraw the status line and both charts from the run record (unique keys: each draw is new)."""
    n = run["epochs_run"]
    total = run["config"].epochs
    params = ", ".join(f"{t} {c:.4g}" for t, c in zip(design.terms, run["coef"] or []))
    b = f"intercept {run['intercept']:.4g}, " if run["intercept"] is not None else ""
    loss = f"{run['history'][-1]:.6g}" if run["history"] else "—"
    rows = run.get("rows_done", 0)
    inside = f" (epoch {n + 1:,}: {rows:,} / {design.n_samples:,} rows)" if rows and run["status"] == "running" else ""
    status_ph.markdown(
        f"**Epoch {n:,} / {total:,}**{inside} &nbsp;·&nbsp; loss **{loss}** &nbsp;·&nbsp; {b}{params} "
        f"&nbsp;·&nbsp; gap to exact **{state.gap(run, exact):.3g}**"
    )
    # While running, the x axis spans every planned epoch so progress shows; afterwards, what ran.
    span = total if run["status"] == "running" else None
    loss_ph.plotly_chart(charts.loss_figure(run["history"], ss.ui_logy, problem.stats.mse, span,
                                            run["val_history"] if validation is not None else None),
                         key=f"loss_{id(run)}_{n}_{run['draws']}", width="stretch")
    fit_ph.plotly_chart(charts.fit_figure(design, (run["intercept"], run["coef"]), exact_fit, validation),
                        key=f"fit_{id(run)}_{n}_{run['draws']}", width="stretch")
    # The landscape is the heaviest chart to render: about once a second while running, always at the end.
    if land_ph is not None and (run["status"] != "running" or run["draws"] % 5 == 0):
        path = run.get("path", [])
        if path and path[-1] != (run["intercept"], run["coef"][0]):
            path = [*path, (run["intercept"], run["coef"][0])]
        land_ph.plotly_chart(charts.landscape_figure(design, exact_fit, path), key=f"land_{id(run)}_{n}_{run['draws']}",
                             width="stretch")


if train_clicked:
    config = state.train_config()
    run = state.new_run(problem, config)
    live = LiveTraining(run, draw if ss.ui_live else None)
    log.info("run %x started: %d epochs on %d rows", id(run), config.epochs, design.n_samples)
    try:
        result = train(design, config, [live], validation=validation)
    except LinregError as exc:
        ss.run = None
        st.error(str(exc))
        st.stop()
    finally:  # also when Streamlit interrupts the loop (Stop, page switch, closed tab): no orphaned work
        log.info("run %x ended at epoch %d", id(run), run["epochs_run"])
    with run["lock"]:
        owned = run["status"] == "running"
        if owned:
            run.update(status=result.status, reason=result.reason, device=result.device,
                       train_seconds=result.train_seconds, intercept=result.intercept, coef=result.coef.tolist(),
                       epochs_run=result.epochs_run)
    if not owned:
        st.stop()  # another script run (Stop, a page switch) took over this run: it owns the page now

run = ss.run if state.run_matches(problem) else None
if run is None:
    status_ph.info("Press **Train** to fit the line by gradient descent. The dashed line is the exact least-squares fit.")
    loss_ph.plotly_chart(charts.loss_figure([], ss.ui_logy, problem.stats.mse, int(ss.cfg_epochs),
                                            [] if validation is not None else None), key="loss_idle", width="stretch")
    fit_ph.plotly_chart(charts.fit_figure(design, None, exact_fit, validation), key="fit_idle", width="stretch")
    if land_ph is not None:
        land_ph.plotly_chart(charts.landscape_figure(design, exact_fit, []), key="land_idle", width="stretch")
else:
    draw(run)
    if run["status"] == "diverged":
        st.error(f"**Training diverged.** {run['reason']}")
    elif run["status"] == "stopped":
        st.warning(run["reason"])
    else:
        msg = f"**{run['status'].capitalize()}** after {run['epochs_run']:,} epochs in {run['train_seconds']:.3f} s on {run['device']}."
        if run["reason"]:
            msg += f" {run['reason']}"
        st.success(msg)
    if validation is not None and run["val_history"]:
        gd_val = state.validation_mse(validation, (run["intercept"], run["coef"]))
        ex_val = state.validation_mse(validation, exact_fit)
        best = min(range(len(run["val_history"])), key=run["val_history"].__getitem__) + 1
        st.markdown(
            f"**Validation MSE** on {state.plural(validation.n_samples, 'held-out row')}: gradient descent **{gd_val:.4g}**, "
            f"exact fit **{ex_val:.4g}** (training MSE of the exact fit: {problem.stats.mse:.4g}). "
            f"The validation curve was lowest at epoch {best:,}."
        )
    if run["draws"]:
        rate = run["draws"] / run["train_seconds"] if run["train_seconds"] > 0 else 0.0
        share = run["draw_seconds"] / run["train_seconds"] if run["train_seconds"] > 0 else 0.0
        st.caption(f"Live charts: {run['draws']} redraws, {rate:.1f} per second, drawing took {share:.0%} of the time.")
    st.page_link("pages/results.py", label="See the full results, statistics and downloads", icon=":material/analytics:")

sweep = state.degree_sweep(problem)
if sweep is not None:
    with st.expander("Validation curve by polynomial degree", expanded=True):
        st.plotly_chart(charts.degree_figure(sweep, state.degree_of(ss)), key="degree_sweep", width="stretch")
        st.caption("Exact least-squares fits on the same training rows. Training MSE can only fall as the degree "
                   f"grows; {state.sweep_verdict(sweep)}")
st.page_link("pages/step.py", label="Step through training one epoch at a time", icon=":material/step:")
st.page_link("pages/race.py", label="Race optimizers on this data", icon=":material/sports_score:")
