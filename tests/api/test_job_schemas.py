"""Every job kind's input as ``/openapi.json`` describes it: one valid input per kind (its
example) is accepted, and inputs made invalid from the schema alone (a number out of its
bounds, a value of the wrong type, a required field left out, an unknown kind) are answered
422 problem+json naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.jobs.kinds import KINDS
from tests.api.conftest import ClientFactory, new_key
from tests.api.test_jobs import auth

#: A role that may submit every kind.
ROLE = "admin"
#: Values of each JSON type, the first of them not of a property's types making it invalid.
OF_TYPE = (("many", {"string"}), (5, {"integer", "number"}), (["x"], {"array"}))


def input_schemas(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Kind -> the JSON schema of its input, found from ``POST /v1/jobs``'s request body."""
    schemas = document["components"]["schemas"]

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        return schemas[node["$ref"].rsplit("/", 1)[1]] if "$ref" in node else node

    body = resolve(document["paths"]["/v1/jobs"]["post"]["requestBody"]["content"][
        "application/json"]["schema"])  # fmt: skip
    assert body["discriminator"]["propertyName"] == "kind"
    found = {}
    for kind, reference in body["discriminator"]["mapping"].items():
        job = schemas[reference.rsplit("/", 1)[1]]
        found[kind] = resolve(job["properties"]["input"])
    return found


def json_types(schema: dict[str, Any]) -> set[str]:
    """The JSON types a property takes, null aside."""
    if "type" in schema:
        return {str(schema["type"])}
    return {str(t["type"]) for t in schema["anyOf"] if t.get("type", "null") != "null"}


def wrong_type(schema: dict[str, Any]) -> object:
    """A value of none of the property's types."""
    return next(value for value, types in OF_TYPE if not types & json_types(schema))


def invalid_inputs(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    """(what, input, field named) made from a kind's schema and its first example."""
    example = schema["examples"][0]
    cases = []
    for name, prop in schema["properties"].items():
        if "maximum" in prop:
            above = (
                prop["maximum"] + 1 if "integer" in json_types(prop) else prop["maximum"] * 2 + 1
            )
            cases.append((f"{name} above its maximum", {**example, name: above}, name))
            below = prop["minimum"] - 1
            cases.append((f"{name} below its minimum", {**example, name: below}, name))
        cases.append((f"{name} of the wrong type", {**example, name: wrong_type(prop)}, name))
    for name in schema.get("required", []):
        missing = {key: value for key, value in example.items() if key != name}
        cases.append((f"{name} left out", missing, name))
    return cases


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    # a hundred-odd requests in a second, beyond the default burst of a key
    return make_client(rate_limit_per_minute=100_000, rate_limit_burst=10_000)


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    return dict(client.get("/openapi.json").json())


def test_every_kind_is_documented_with_types_bounds_and_an_example(
    document: dict[str, Any],
) -> None:
    schemas = input_schemas(document)
    assert set(schemas) == set(KINDS)
    for kind, schema in schemas.items():
        assert schema["examples"], kind
        for name, prop in schema["properties"].items():
            assert prop.get("description"), (kind, name)
            assert json_types(prop), (kind, name)
            if json_types(prop) & {"number", "integer"}:
                assert "minimum" in prop and "maximum" in prop, (kind, name)


def test_inputs_made_from_the_schema_are_answered_as_the_schema_says(
    client: TestClient, document: dict[str, Any]
) -> None:
    key = auth(new_key(client, "schema", ROLE))
    for kind, schema in input_schemas(document).items():
        for example in schema["examples"]:
            answer = client.post("/v1/jobs", json={"kind": kind, "input": example}, headers=key)
            assert answer.status_code == 202, (kind, answer.text)
            client.delete(f"/v1/jobs/{answer.json()['id']}", headers=key)
        cases = invalid_inputs(schema)
        assert len(cases) >= 2, kind
        for what, job_input, name in cases:
            answer = client.post("/v1/jobs", json={"kind": kind, "input": job_input}, headers=key)
            assert answer.status_code == 422, (kind, what, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
            problem = answer.json()
            assert problem["errors"][0]["field"] == f"input.{name}", (kind, what, problem)
            assert name in problem["detail"], (kind, what, problem)
        not_an_object = client.post("/v1/jobs", json={"kind": kind, "input": []}, headers=key)
        assert not_an_object.status_code == 422
        assert not_an_object.json()["errors"][0]["field"] == "input"
    for body in ({"kind": "teleport", "input": {}}, {"input": {}}):
        answer = client.post("/v1/jobs", json=body, headers=key)
        assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "kind"
