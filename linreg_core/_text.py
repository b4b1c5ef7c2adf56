"""Message helpers shared by the library's modules: a user's value quoted short, a list of names, a size in MB."""

from __future__ import annotations

_SHOWN_CHARS = 60  # a user value quoted in a message is cut to this: a 50 kB cell must not make a 50 kB error


def _shown(value: object) -> str:
    """``repr`` of a user value (cell, column name) for a message, cut to a readable length."""
    text = str(value)
    if len(text) <= _SHOWN_CHARS:
        return repr(text)
    return f"{text[:_SHOWN_CHARS]!r}… ({len(text):,} characters)"


def _quote_list(names: list[str]) -> str:
    return ", ".join(_shown(str(n)) for n in names)


def _mb(n: float) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.1f} MB"
