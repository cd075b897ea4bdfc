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


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": ProblemDocument.model_json_schema()}},
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
