"""The problem document (RFC 9457) every error answers with, for the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class FieldError(BaseModel):
    field: str
    message: str


class ProblemDocument(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema with its ``#/$defs/...`` references replaced by the definitions.

    A schema placed inside an OpenAPI document resolves ``#/...`` against the document's root,
    where pydantic's ``$defs`` are not: left as they are, the references dangle.

    Examples
    --------
    >>> inline_refs(ProblemDocument.model_json_schema())["properties"]["errors"]["anyOf"][0][
    ...     "items"]["required"]
    ['field', 'message']
    """
    definitions = schema.get("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(definitions[node["$ref"].rsplit("/", 1)[1]])
            return {k: inline(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    inlined: dict[str, Any] = inline(schema)
    return inlined


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": inline_refs(ProblemDocument.model_json_schema())}
        },
    }


#: Error responses every route may give, documented once for the whole app.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem("The body could not be read (not UTF-8 JSON)"),
    401: _problem("Missing, unknown or revoked API key"),
    403: _problem("The key's role may not do this"),
    404: _problem("Not found, or not your organisation's"),
    413: _problem("Request body too large"),
    422: _problem("Invalid request; `errors` lists the fields"),
    429: _problem("Rate limit reached; see Retry-After"),
}
