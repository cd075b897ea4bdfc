"""Exceptions of the optimizer; bad input is a ``ValueError`` that names the field."""

from __future__ import annotations

import reprlib

#: The longest quote of a bad value in an error message, in characters.
QUOTE_CHARS = 80
_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother = 2, QUOTE_CHARS, QUOTE_CHARS
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = _SHORT.maxfrozenset = 6


def quoted(value: object) -> str:
    """``repr(value)`` when short; else its first :data:`QUOTE_CHARS` characters, ``...`` and
    the length. Nested lists and mappings are quoted without rendering them whole.

    Examples
    --------
    >>> quoted("lol")
    "'lol'"
    >>> text = quoted("lol " * 250)
    >>> text[:12], text[-25:], len(text)
    ("'lol lol lol", "l '... (1,000 characters)", 104)
    >>> text = quoted([["lol"] * 9] * 9)
    >>> text[:50], text[-12:]
    ("[['lol', 'lol', 'lol', 'lol', 'lol', 'lol', ...], ", '... (9 items)')
    """
    if isinstance(value, str) and len(value) > QUOTE_CHARS:
        return f"{value[:QUOTE_CHARS]!r}... ({len(value):,} characters)"
    try:
        text = _SHORT.repr(value)
    except ValueError:  # an integer longer than Python prints
        text = f"<{type(value).__name__}>"
    if len(text) <= QUOTE_CHARS:
        return text
    size = len(value) if isinstance(value, list | tuple | dict | set | frozenset) else None
    return text[:QUOTE_CHARS] + "..." + (f" ({size:,} items)" if size is not None else "")


def clipped(text: str) -> str:
    """``text`` when short; else its first :data:`QUOTE_CHARS` characters, ``...`` and the
    length (for prose, where :func:`quoted` would add quotes and escapes).

    Examples
    --------
    >>> clipped("found unhashable key")
    'found unhashable key'
    >>> clipped("x" * 500)[-24:]
    'xxxx... (500 characters)'
    """
    if len(text) <= QUOTE_CHARS:
        return text
    return f"{text[:QUOTE_CHARS]}... ({len(text):,} characters)"


class ShudaoError(Exception):
    """Root of Shudao's own exceptions."""


class InvalidInputError(ShudaoError, ValueError):
    """An argument is invalid; the message names the field, the value and what is allowed.

    The value is quoted by :func:`quoted`: a long one by its first characters and its length.

    Examples
    --------
    >>> err = InvalidInputError("weight_kg", -5, "a number > 0")
    >>> str(err)
    'weight_kg: got -5; expected a number > 0'
    >>> err.field
    'weight_kg'
    """

    def __init__(self, field: str, value: object, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field}: got {quoted(value)}; expected {allowed}")
