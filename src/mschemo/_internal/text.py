"""How messages show what a person gave: a value quoted short, a list cut after a few items, and a
whole message bounded in length, so that an error never echoes a large input back."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

__all__ = ["short", "quote", "shown", "listing", "bounded", "QUOTE_LIMIT", "MAX_MESSAGE"]

#: the most characters of a value a message quotes (longer values end in '...')
QUOTE_LIMIT = 60
#: the most characters of a message an interface prints or answers
MAX_MESSAGE = 300


def short(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``value`` as text on one line, cut to its first ``limit`` characters and '...'."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[:limit].rstrip() + "..."


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``value`` in single quotes, on one line, at most ``limit`` characters of it.

    >>> quote("12 mg/m2  over\\n30 min")
    "'12 mg/m2 over 30 min'"
    >>> quote("x" * 100, limit=5)
    "'xxxxx...'"
    """
    return f"'{short(value, limit)}'"


def shown(value: object, limit: int = QUOTE_LIMIT) -> str:
    """Text quoted as :func:`quote` does; any other value as Python writes it, cut the same way.

    >>> shown("abc"), shown(5), shown([1, 2])
    ("'abc'", '5', '[1, 2]')
    """
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = cast(Any, value).item()            # np.int64(1) -> 1 (hasattr above)
    return quote(value, limit) if isinstance(value, str) else short(repr(value), limit)


def listing(items: Iterable[object], most: int = 8, limit: int = 30) -> str:
    """The first ``most`` items joined by ', ' (each cut to ``limit`` characters), then how many in all.

    >>> listing(["a", "b", "c"], most=2)
    'a, b, ... (3 in all)'
    """
    items = list(items)
    shown = ", ".join(short(x, limit) for x in items[:most])
    return shown if len(items) <= most else f"{shown}, ... ({len(items):,} in all)"


def bounded(message: str, limit: int = MAX_MESSAGE) -> str:
    """``message`` on one line; when longer than ``limit``, its middle is cut (the start says what is
    wrong, the end says the fix).

    >>> len(bounded("a " * 400 + "fix it.")) <= 300
    True
    """
    text = " ".join(str(message).split())
    if len(text) <= limit:
        return text
    tail = limit // 3
    head = limit - tail - len(" [...] ")
    return text[:head].rstrip() + " [...] " + text[-tail:].lstrip()
