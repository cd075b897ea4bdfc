"""Numbers in request bodies: JSON numbers only.

Pydantic's lax mode reads ``true`` as 1 and ``"12"`` as 12; a client sending either has a bug
that the service should name rather than book. Integers stay welcome where a float is expected
(``"weight_kg": 800``), and ``12.0`` where an integer is (JSON has one number type).
"""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError


def _json_number_only(value: object) -> object:
    """``value`` unless it is a boolean or text, which lax validation would take as a number.

    >>> _json_number_only(800)
    800
    >>> try:
    ...     _json_number_only(False)
    ... except PydanticCustomError as error:
    ...     print(error)
    expected a JSON number; got false
    """
    if isinstance(value, bool | str):
        raise PydanticCustomError(
            "number_type", "expected a JSON number; got {got}", {"got": json.dumps(value)[:40]}
        )
    return value


#: Put last in an ``Annotated`` number type, after its ``Field`` constraints (placed before
#: them, pydantic applies the constraints in Python and writes ``ge``/``le`` into the schema
#: instead of ``minimum``/``maximum``).
JSON_NUMBER = BeforeValidator(_json_number_only)
#: A float field that takes integers but neither booleans nor numeric text (constraints go in
#: the field's ``Field(...)`` default).
Float = Annotated[float, JSON_NUMBER]
#: An integer field that takes ``12`` and ``12.0`` but neither booleans nor numeric text.
Int = Annotated[int, JSON_NUMBER]
