"""Derived data, computed once and kept beside what it is derived from — never inside it.

- :func:`session_cached`: per session, for one key or a few (the current dataset and settings): guidance, previews,
  summaries, the editor's table. It replaces the hand-rolled ``(key, value)`` pairs pages kept in session state.
- :func:`derived`: per object (a design), while the object lives: chart samples, ranges and layers, which the UI
  once wrote into the library's frozen design.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import streamlit as st

T = TypeVar("T")
_MISSING = object()
_by_owner: dict[int, dict[str, Any]] = {}


def session_cached(name: str, key: Hashable, make: Callable[[], T], keep: int = 1) -> T:
    """``make()`` computed once per ``key`` and kept in this session under ``name``; the ``keep`` newest keys stay
    (1: only the current one). An exception from ``make`` is not kept: the next call tries again."""
    cache: dict = st.session_state.setdefault(name, {})
    if key in cache:
        return cache[key]
    value = make()
    cache[key] = value
    while len(cache) > keep:
        del cache[next(iter(cache))]  # the oldest
    return value


def derived(owner: object, name: str, make: Callable[[], T]) -> T:
    """``make()`` computed once for ``owner`` and ``name``, kept while ``owner`` lives (and dropped with it)."""
    slot = _by_owner.get(id(owner))
    if slot is None:
        slot = _by_owner[id(owner)] = {}
        weakref.finalize(owner, _by_owner.pop, id(owner), None)
    value = slot.get(name, _MISSING)
    if value is _MISSING:
        value = slot[name] = make()
    return value


def known(owner: object, name: str, default: Any = None) -> Any:
    """What :func:`derived` keeps for ``owner`` under ``name``, or ``default`` (nothing is computed)."""
    return _by_owner.get(id(owner), {}).get(name, default)
