"""The public OpenAPI document: complete for client generators and linters, and compatible with v1 as published.

`data/openapi-v1-baseline.json` is the document as first published (OpenAPI 3.0.3); the current one may
add to it but not take away: every operation, parameter, response and property stays, with its type
and whether it may be null.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.openapi_document import document
from shared.web.problems import PROBLEM_JSON

BASELINE = json.loads((Path(__file__).parent / "data" / "openapi-v1-baseline.json").read_text())
DOC = document()
METHODS = {"get", "put", "post", "delete", "patch"}
OPERATIONS = [
    (path, method, op) for path, item in DOC["paths"].items() for method, op in item.items() if method in METHODS
]


def _walk(node, found: list) -> list:  # noqa: ANN001
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            _walk(value, found)
    elif isinstance(node, list):
        for value in node:
            _walk(value, found)
    return found


def test_document_level_fields():
    assert DOC["openapi"] == "3.1.0"
    assert DOC["servers"] == [{"url": "/", "description": "The gateway serving this document"}]
    assert DOC["info"]["description"] and DOC["info"]["contact"]["email"]


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=[f"{m} {p}" for p, m, _ in OPERATIONS])
def test_every_operation_has_an_id_a_description_and_problem_json_errors(path, method, operation):
    assert operation["operationId"][0].islower() and operation["operationId"].isalnum()
    assert len(operation["description"]) > 40
    for status, response in operation["responses"].items():
        if status == "default":
            response = DOC["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
        elif int(status) < 400:
            continue
        assert list(response["content"]) == [PROBLEM_JSON], (status, response)
        assert response["content"][PROBLEM_JSON]["schema"] == {"$ref": "#/components/schemas/Problem"}
    if "401" in operation["responses"]:
        assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]
    if "429" in operation["responses"]:
        assert operation["responses"]["429"]["headers"]["Retry-After"]["schema"]["type"] == "integer"


PUBLISHED_IDS = ["createSession", "getBalance", "getContractAnnex", "getExpectedFee", "getQuota", "getSupportCalls"]


def test_operation_ids_are_the_published_names():
    ids = [op["operationId"] for _, _, op in OPERATIONS]
    assert len(ids) == len(set(ids))
    assert set(PUBLISHED_IDS) <= set(ids)  # published ids never change; new operations add theirs


def test_nullables_are_written_the_openapi_3_1_way():
    nodes = _walk(DOC, [])
    assert not [n for n in nodes if "nullable" in n]
    codes = DOC["components"]["schemas"]["Balance"]["properties"]["codes"]
    assert codes == {"anyOf": [{"$ref": "#/components/schemas/LicenseCodes"}, {"type": "null"}]}


def _types(schema: dict) -> tuple[set, bool]:
    """(types or refs, may be null) of a property, in either OpenAPI version's notation."""
    if "anyOf" in schema:
        refs = {s.get("$ref") or s.get("type") for s in schema["anyOf"]}
        return refs - {"object", "null"}, "null" in refs or any(s.get("nullable") for s in schema["anyOf"])
    kinds = schema.get("type", schema.get("$ref"))
    kinds = set(kinds) if isinstance(kinds, list) else {kinds}
    return kinds - {"null"}, "null" in kinds or bool(schema.get("nullable"))


def test_everything_published_in_v1_is_still_there():
    for path, item in BASELINE["paths"].items():
        for method, old in item.items():
            new = DOC["paths"][path][method]
            assert set(old["responses"]) <= set(new["responses"]), (path, method)
            for status, response in old["responses"].items():
                assert set(response.get("content", {})) - {"application/json"} <= set(
                    new["responses"][status].get("content", {}) or {PROBLEM_JSON}
                ), (path, method, status)
            old_params = {(p["name"], p["in"], p.get("required", False)) for p in old.get("parameters", [])}
            new_params = {(p["name"], p["in"], p.get("required", False)) for p in new.get("parameters", [])}
            assert old_params <= new_params, (path, method)
            assert all(not required for _, _, required in new_params - old_params), (path, method)
            assert old.get("security") == new.get("security")
    for name, old in BASELINE["components"]["schemas"].items():
        if name == "PaginationMetadata":  # flask-smorest's pagination header schema, referenced by nothing
            continue
        new = DOC["components"]["schemas"][name]
        assert set(new.get("required", [])) == set(old.get("required", [])), name
        for prop, old_schema in old["properties"].items():
            assert _types(new["properties"][prop]) == _types(old_schema), (name, prop)
            assert new["properties"][prop].get("enum") == old_schema.get("enum"), (name, prop)
