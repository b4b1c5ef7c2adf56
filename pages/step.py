"""Step: gradient descent one epoch (or k) at a time, with the gradient and the update laid out."""

import time

import numpy as np
import pandas as pd
import streamlit as st

from linreg_core import LinregError, Trainer
from studio import charts, state
from studio.labels import OPTIMIZER_LABELS

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
            "touched": 0.0}  # when last stepped (How it works shows the newer of this and the last run)


def _step(k: int) -> None:
    rec = ss.get("stepper")
    if rec is None:
        return
    tr = rec["trainer"]
    rec["touched"] = time.time()
    k = min(k, tr.config.epochs - tr.epoch)  # the last epoch that can run is the one shown up close
    for _ in range(max(0, k - 1)):  # the first k − 1 epochs fast, with their points on the path
        if not tr.run_epoch():
            break
        if rec["path"] is not None and len(rec["path"]) < MAX_PATH:
            rec["path"].append(_path_point(tr))
    info = tr.step()
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
    f"**{ss.ds_name}** · {state.rows_note(problem)} · optimizer **{OPTIMIZER_LABELS[config.optimizer]}**, lr **{config.lr:g}**, "
    f"{'full batch' if config.batch_size == 0 else f'batch {config.batch_size:,}'}, {config.dtype}, "
    f"standardize {'on' if config.standardize else 'off'}, L2 {config.l2:g}, up to {config.epochs:,} epochs."
)
st.page_link("pages/train.py", label="Change the settings on the Train page", icon=":material/tune:")

rec = ss.get("stepper")
if rec is None or rec["key"] != problem.key or rec["config"] != config:
    if rec is not None:
        st.info("The data or the settings changed, so stepping starts again from epoch 0.")
    try:
        rec = ss.stepper = _new_stepper(problem, config)
    except LinregError as exc:
        ss.stepper = None
        st.error(f"Training can't start with these settings: {exc}")
        st.stop()
tr: Trainer = rec["trainer"]

b1, b2, b3, b4 = st.columns([1, 1, 1, 1], vertical_alignment="bottom")
b1.button("Step 1 epoch", type="primary", key="btn_step1", on_click=_step, args=(1,), width="stretch",
          disabled=tr.done)
b2.number_input("Epochs per click (k)", min_value=1, max_value=100_000, step=1, **state.bind("step_k"))
b3.button(f"Step {int(ss.step_k):,} epochs", key="btn_stepk", on_click=_step, args=(int(ss.step_k),), width="stretch",
          disabled=tr.done)
b4.button("Restart", key="btn_step_restart", on_click=_restart, width="stretch")

loss_now, grad_now = tr.objective()
b, w = tr.params()
val_note = f" · validation MSE **{state.validation_mse(validation, (b, w)):.6g}**" if validation is not None else ""
st.markdown(f"**Epoch {tr.epoch:,} / {config.epochs:,}** · loss now **{loss_now:.6g}** · ‖gradient‖ "
            f"**{np.linalg.norm(grad_now):.3g}**{val_note} · gap to exact "
            f"**{state.gap({'intercept': b, 'coef': w.tolist()}, exact):.3g}**")
if tr.status == "diverged":
    st.error(f"**Training diverged.** {tr.reason}")
elif tr.done:
    st.success(" ".join(filter(None, [f"**{tr.status.capitalize()}** after {tr.epoch:,} epochs.", tr.reason,
                                      "Press Restart to step again."])))

info = rec["last"]
if info is None and tr.epoch == 0:
    st.info("Press **Step 1 epoch**: the table will show the parameters before the step, the gradient of the loss "
            "there, the update the optimizer made, and the parameters after.")
elif info is not None:
    space = "standardized units (what the optimizer works in)" if info.standardized else "the data's units"
    st.subheader(f"Epoch {info.epoch:,} up close")
    if info.epoch != tr.epoch:
        st.caption(f"The last epoch with an update: epoch {tr.epoch:,} ended training before updating the parameters.")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(info.sgd_update != 0, info.update / info.sgd_update, np.nan)
    table = pd.DataFrame({
        "parameter": info.names, "before": info.before, "gradient ∂L/∂θ": info.gradient, "−lr × gradient": info.sgd_update,
        "update Δθ": info.update, "update ÷ (−lr × gradient)": ratio, "after": info.after,
    })
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.6g") for c in table.columns[1:]})
    after_loss = tr.history[info.epoch] if len(tr.history) > info.epoch else loss_now
    st.markdown(f"Loss before the update **{info.loss:.6g}**, after **{after_loss:.6g}** "
                f"({after_loss - info.loss:+.3g}). Parameters in {space}. "
                f"{EXPLAIN_MINIBATCH if config.batch_size else EXPLAIN[config.optimizer]}")

left, right = st.columns(2)
left.plotly_chart(charts.loss_figure(tr.history, ss.ui_logy, problem.stats.mse, None,
                                     tr.val_history if validation is not None else None),
                  key=f"step_loss_{tr.epoch}", width="stretch")
right.plotly_chart(charts.fit_figure(design, (b, w.tolist()), (exact.intercept, exact.coef), validation),
                   key=f"step_fit_{tr.epoch}", width="stretch")
if rec["path"] is not None:
    st.plotly_chart(charts.landscape_figure(design, (exact.intercept, exact.coef), rec["path"]),
                    key=f"step_land_{tr.epoch}", width="stretch")
