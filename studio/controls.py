"""Widgets bound to the session: a widget's value outlives its page.

The training settings are one record, ``st.session_state.settings`` (:class:`studio.settings.Settings`); the other
choices live under plain session keys (``sel_``, ``ui_``, ``race_``…). No widget owns either: each widget gets a
``_w_`` twin through :func:`bind` or :func:`bind_setting`. Streamlit drops a widget's state when its page is not
shown, so the twin is reloaded from the record or the plain key before every render and copied back on change
(Streamlit's documented pattern for keeping widget values across pages).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from . import fields
from . import settings as settings_
from .settings import Settings

LR_STEPS = [round(m * 10.0**e, 12) for e in range(-6, 2) for m in (1, 2, 5)] + [100.0]


def lr_slider_options(lr: float) -> list[float]:
    """The log slider's steps with ``lr`` among them: the slider and the typed box always show the same rate."""
    return sorted({*LR_STEPS, float(lr)})


def bind(name: str, on_change: Callable[[], None] | None = None) -> dict[str, Any]:
    """Widget kwargs (key, on_change) that keep ``st.session_state[name]`` as the persistent value.

    A number setting with a :class:`~studio.fields.Field` also gets its bounds and format, and a typed value
    is stored as the widget shows it (so what runs is what the sidebar shows).
    """
    ss = st.session_state
    wkey = "_w_" + name
    ss[wkey] = ss[name]
    spec = fields.field(name)

    def store() -> None:
        ss[name] = spec.snap(ss[wkey]) if spec is not None else ss[wkey]
        if on_change is not None:
            on_change()

    return {"key": wkey, "on_change": store, **(spec.widget() if spec is not None else {})}


def bind_setting(name: str, on_change: Callable[[], None] | None = None, widget: str | None = None) -> dict[str, Any]:
    """Widget kwargs (key, on_change, a number's bounds, help) that keep the setting ``name`` of the session's
    :class:`~studio.settings.Settings` as the persistent value. ``widget``: the widget's own name, when two widgets
    show one setting (the learning rate's slider and box); its key is ``_w_`` + that name."""
    ss = st.session_state
    wkey = "_w_" + (widget or name)
    ss[wkey] = getattr(ss.settings, name)
    spec = settings_.spec(name)

    def store() -> None:
        value = ss[wkey]
        setattr(ss.settings, name, spec.field.snap(value) if spec.field is not None else value)
        if on_change is not None:
            on_change()

    kwargs: dict[str, Any] = {"key": wkey, "on_change": store}
    if widget is None:  # the setting's own widget: its help and bounds (another view of it brings its own)
        kwargs.update(help=spec.help, **(spec.field.widget() if spec.field is not None else {}))
    return kwargs


def setting_widget(name: str, on_change: Callable[[], None] | None = None, **more: Any) -> None:
    """The widget of setting ``name`` as its :class:`~studio.settings.Spec` says: a toggle for on/off, a select box
    for a choice, a number box (a slider when its values sit on steps) for a number. ``more``: the widget's other
    arguments (the device's options, which the page knows)."""
    spec = settings_.spec(name)
    default = Settings.__dataclass_fields__[name].default
    kwargs = {**bind_setting(name, on_change), **more}
    if isinstance(default, bool):
        st.toggle(spec.label, **kwargs)
    elif spec.choices or "options" in more:
        names = spec.names or {}
        kwargs.setdefault("options", spec.choices)
        kwargs.setdefault("format_func", lambda v: names.get(v, v))
        st.selectbox(spec.label, **kwargs)
    elif spec.field is not None and spec.field.on_steps:
        st.slider(spec.label, **kwargs)
    else:
        st.number_input(spec.label, **kwargs)


def settings_group(group: str, after: str | None = None, more: dict[str, dict[str, Any]] | None = None) -> None:
    """Every setting of ``group`` that is shown now, in the record's order (studio/settings.py); ``after``: only
    those that come after this one (the page drew the ones before it itself); ``more``: a setting's other widget
    arguments (the device's options, which the page knows)."""
    current = st.session_state.settings
    names = settings_.in_group(group)
    for name in names[names.index(after) + 1:] if after else names:
        shown_if = settings_.spec(name).shown_if
        if shown_if is None or getattr(current, shown_if):
            setting_widget(name, **(more or {}).get(name, {}))
