"""Memory a closed tab gives back. When a session ends (its tab closed and the reconnect window passed), Streamlit
drops its state; a collection then frees the session's arrays and frames, and glibc's ``malloc_trim`` returns the
freed pages to the operating system — without it glibc keeps them in its arenas for reuse, and the server's RSS
only ever grows (measured in docs/capacity.md)."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
import threading

import streamlit as st

_DELAY_S = 1.0  # one trim for a wave of tabs closing together
_lock = threading.Lock()
_timer: threading.Timer | None = None
_libc = ctypes.CDLL(ctypes.util.find_library("c")) if sys.platform.startswith("linux") else None
trims = 0  # how many times memory was handed back (for the tests)


def release_now() -> None:
    """Collect garbage, then hand freed heap pages back to the OS (glibc only; elsewhere a collection)."""
    global trims
    gc.collect()
    if _libc is not None and hasattr(_libc, "malloc_trim"):
        _libc.malloc_trim(0)
    pa = sys.modules.get("pyarrow")  # Parquet reads allocate from Arrow's own pool, which keeps freed pages
    if pa is not None:
        pa.default_memory_pool().release_unused()
    trims += 1


def _session_ended(_token: object) -> None:
    global _timer
    with _lock:
        if _timer is not None:
            _timer.cancel()
        _timer = threading.Timer(_DELAY_S, release_now)
        _timer.daemon = True
        _timer.start()


@st.cache_resource(scope="session", on_release=_session_ended, show_spinner=False)
def session_token() -> object:
    """Call once per script run: its release, when the session ends, schedules the memory hand-back."""
    return object()
