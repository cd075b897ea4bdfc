"""Exceptions of the optimizer; bad input is a ``ValueError`` that names the field.

Every exception class of Shudao derives from :class:`ShudaoError` (defined in
:mod:`network_data.errors`, the package that imports no other). Every invalid value, wherever
it was given (a solver's argument, a CSV cell, a job input, a ledger request), is one
:class:`InvalidInputError` carrying the field, the value and what is allowed; the service
answers it 422 naming the field, the CLI prints it, a job stores it as its error.
"""

from __future__ import annotations

import reprlib

from network_data.errors import ShudaoError

__all__ = ["InvalidInputError", "ShudaoError", "clipped", "quoted"]

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


class InvalidInputError(ShudaoError, ValueError):
    """An argument is invalid; the message names the field, the value and what is allowed.

    The value is quoted by :func:`quoted`: a long one by its first characters and its length.
    ``message`` replaces the words after the field when "got VALUE; expected ALLOWED" would
    not say what is wrong (a missing column, a range the wrong way round); ``field``,
    ``value`` and ``allowed`` are kept all the same.

    Examples
    --------
    >>> err = InvalidInputError("weight_kg", -5, "a number > 0")
    >>> str(err)
    'weight_kg: got -5; expected a number > 0'
    >>> err.field, err.message
    ('weight_kg', 'got -5; expected a number > 0')
    >>> str(InvalidInputError("last_week", "2026-W01", "first_week or after",
    ...                       message="2026-W01 is before first_week 2026-W02"))
    'last_week: 2026-W01 is before first_week 2026-W02'
    """

    def __init__(
        self, field: str, value: object, allowed: str, *, message: str | None = None
    ) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        self.message = f"got {quoted(value)}; expected {allowed}" if message is None else message
        super().__init__(f"{field}: {self.message}")

    def at(self, field: str) -> InvalidInputError:
        """The same problem on another field (where the caller gave the value).

        Examples
        --------
        >>> str(InvalidInputError("start", "x", "a time").at("input.start"))
        "input.start: got 'x'; expected a time"
        """
        return InvalidInputError(field, self.value, self.allowed, message=self.message)
