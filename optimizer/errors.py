"""Exceptions of the optimizer; bad input is a ``ValueError`` that names the field."""

from __future__ import annotations


class ShudaoError(Exception):
    """Root of Shudao's own exceptions."""


class InvalidInputError(ShudaoError, ValueError):
    """An argument is invalid; the message names the field, the value and what is allowed.

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
        super().__init__(f"{field}: got {value!r}; expected {allowed}")
