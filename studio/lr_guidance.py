"""The Train sidebar's note on the learning rate: where this data's stable limit is, why, and a warning (with the
fastest stable rate one click away) before a run that would diverge."""

from __future__ import annotations

import streamlit as st

from linreg_core import LinregError

from . import explain, state

__all__ = ["box"]


def _use_lr(value: float) -> None:
    st.session_state.settings.lr = float(f"{value:.3g}")


def box() -> None:
    """Stable and optimal lr for full-batch (momentum) SGD on this data, and a warning before a doomed run."""
    try:
        problem = state.current_problem(trainable=True)
    except LinregError:
        return  # the page body explains what is wrong with the data
    ss = st.session_state
    cfg = ss.settings
    g = state.guidance(problem, cfg.standardize, float(cfg.l2))
    other = state.guidance(problem, not cfg.standardize, float(cfg.l2))
    momentum = cfg.optimizer == "momentum"
    limit = g.max_stable_lr * ((1 + cfg.momentum) if momentum else 1.0)  # heavy ball: 2(1+β)/λmax

    # The numbers a first visitor can use in one line; why, for whoever opens it.
    with st.expander(f"Stable below lr **{limit:.3g}** here · why?"):
        st.caption(
            explain.guidance_caption(g, float(cfg.momentum) if momentum else None),  # true for these numbers
            help="Stable lr: the largest learning rate for which plain full-batch gradient descent does not blow up "
                 "(2 / the largest curvature of the loss). Curvature ratio: the condition number of the loss's "
                 "Hessian (XᵀX/n); the larger it is, the more epochs a fixed lr needs.")
        with_, without = (g, other) if cfg.standardize else (other, g)
        st.caption(explain.standardizing_note(problem.design, with_, without))
    if cfg.optimizer in ("sgd", "momentum") and int(cfg.batch_size) == 0 and cfg.lr > limit:
        st.warning(f"lr {cfg.lr:g} is above the stable limit {limit:.3g}: this run will diverge.")
        st.button(f"Use the fastest stable lr ({g.optimal_lr:.3g})", key="btn_lr_optimal", on_click=_use_lr,
                  args=(g.optimal_lr,))
