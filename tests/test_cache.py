"""studio/cache.py: derived data computed once, kept beside its owner (never inside it), and dropped with it."""

from __future__ import annotations

import gc
import types

import pytest

from studio import cache


class Owner:  # stands for a Design: any object that can be weakly referenced
    pass


def test_derived_data_is_computed_once_per_owner_and_name_and_goes_with_its_owner():
    calls = []
    a, b = Owner(), Owner()
    assert cache.derived(a, "rows", lambda: calls.append("a") or [1, 2]) == [1, 2]
    assert cache.derived(a, "rows", lambda: calls.append("again") or [3]) == [1, 2]  # kept
    assert cache.derived(b, "rows", lambda: calls.append("b") or [9]) == [9]  # per owner
    assert cache.known(a, "rows") == [1, 2] and cache.known(a, "other", "none") == "none"
    assert calls == ["a", "b"] and not hasattr(a, "extra")  # nothing written into the owner
    key = id(a)
    del a
    gc.collect()
    assert key not in cache._by_owner  # dropped with its owner


def test_session_cached_keeps_the_newest_keys_and_does_not_keep_a_failure(monkeypatch):
    monkeypatch.setattr(cache, "st", types.SimpleNamespace(session_state={}))
    calls = []

    def make(v):
        return lambda: calls.append(v) or v * 10

    assert cache.session_cached("_x", 1, make(1), keep=2) == 10
    assert cache.session_cached("_x", 2, make(2), keep=2) == 20
    assert cache.session_cached("_x", 1, make(1), keep=2) == 10  # still there
    assert cache.session_cached("_x", 3, make(3), keep=2) == 30  # pushes out the oldest (1)
    assert cache.session_cached("_x", 1, make(1), keep=2) == 10
    assert calls == [1, 2, 3, 1]

    def boom():
        raise ValueError("no")

    with pytest.raises(ValueError):
        cache.session_cached("_y", "k", boom)
    assert cache.session_cached("_y", "k", lambda: "ok") == "ok"
