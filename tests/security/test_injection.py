"""SQL, JSON and Unicode tricks in every parameter and field: a 400 or a correct (empty) answer, never a 5xx;
a body over the limit: 413."""

from __future__ import annotations

import http.client
import json
from urllib.parse import quote, urlsplit

import pytest
import requests

from tests.support.events import customer_code
from tests.support.fixtures import login

TRICKS = [
    "' OR '1'='1",
    "'; DROP TABLE invoice; --",
    "1; SELECT pg_sleep(5)--",
    '" OR ""="',
    "%",
    "_",
    "%%",
    "\\",
    "\\'",
    "%' OR 1=1 --",
    "*",
    "NULL",
    "null",
    "None",
    "undefined",
    "true",
    "[]",
    "{}",
    '{"$gt": ""}',
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "${jndi:ldap://x}",
    "{{7*7}}",
    "\x00",
    "a\x00b",
    "\x1b[31m",
    "\r\nX-Injected: 1",
    "\u202e\u0041\u0042",
    "\ufeff",
    "\u200b",
    "𝕏😀",
    "\ud800",
    "Ａ１",
    "١٢٣",
    "ǅ",
    "ß" * 300,
    "x" * 10_000,
    "-1",
    "0",
    "1e9",
    "99999999999999999999999",
    "1.5",
    "0x10",
    " 1",
    "１",
    "2026-02-30",
    "0000-01-01",
    "0001-01-01",
    "9999-12-31",
    "2026-1-1",
    "2026-01-01T00:00:00",
    "20260101",
    "2026-W01-1",
    "",
]
PARAMETERS = {
    "balance": ["as_of"],
    "quota": ["settlement_date"],
    "contract-annex": ["as_of"],
    "expected-fee": ["as_of"],
    "support-calls": ["status", "category", "from", "to", "q", "page", "per_page", "format"],
}
ACCEPTABLE = {200, 400, 404, 414}  # 414: gunicorn's request line limit (4 KiB)
# What a URL can carry (a lone surrogate cannot be written as UTF-8: it goes in JSON bodies, and as raw bytes).
URL_TRICKS = [t for t in TRICKS if t != "\ud800"]


def raw_get(gateway: str, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    """A GET with the path sent byte for byte (invalid UTF-8 escapes included)."""
    conn = http.client.HTTPConnection(urlsplit(gateway).netloc, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_tricks_in_every_query_parameter_are_400_or_a_correct_answer(gateway, customers, record):
    a = customers["a"]
    auth = login(gateway, a["code"], a["serials"][0])
    seen: dict[int, int] = {}
    wrong = []
    for endpoint, names in PARAMETERS.items():
        for name in names:
            for trick in URL_TRICKS:
                response = requests.get(f"{gateway}/api/v1/{endpoint}", params={name: trick}, headers=auth, timeout=30)
                seen[response.status_code] = seen.get(response.status_code, 0) + 1
                if response.status_code not in ACCEPTABLE:
                    wrong.append((endpoint, name, trick[:40], response.status_code, response.text[:200]))
                elif response.status_code == 400 and name not in response.json().get("errors", {}):
                    wrong.append((endpoint, name, trick[:40], "400 without the field", response.text[:200]))
                elif endpoint == "support-calls" and name == "q" and response.status_code == 200:
                    calls = response.json()["calls"]
                    if not all(trick.casefold() in c["subject"].casefold() for c in calls):
                        wrong.append((endpoint, name, trick[:40], "q matched", [c["subject"] for c in calls]))
            for raw in ("%ff", "%ed%a0%80", "%c0%af", "%00", "a%00b", "%25", "%2e%2e%2f"):
                status, body = raw_get(gateway, f"/api/v1/{endpoint}?{name}={raw}", auth)
                seen[status] = seen.get(status, 0) + 1
                if status not in ACCEPTABLE:
                    wrong.append((endpoint, name, raw, status, body[:200]))
    record(requests=sum(seen.values()), statuses=seen)
    assert not wrong, "\n".join(map(str, wrong))


def test_sql_wildcards_in_q_are_literal(gateway, customers):
    a = customers["a"]
    auth = login(gateway, a["code"], a["serials"][0])
    every = requests.get(f"{gateway}/api/v1/support-calls", headers=auth, timeout=10).json()
    assert every["total"] == 3
    for trick in ("%", "_", "' OR '1'='1", "%' OR 1=1 --", "\\"):
        body = requests.get(f"{gateway}/api/v1/support-calls", params={"q": trick}, headers=auth, timeout=10).json()
        assert (body["total"], body["calls"]) == (0, []), trick
    found = requests.get(f"{gateway}/api/v1/support-calls", params={"q": "NYOMTAT"}, headers=auth, timeout=10).json()
    assert [c["call_id"] for c in found["calls"]] == [f"{a['code']}-H1"]


LOGIN_FIELDS = ("customer_code", "serial_number", "password")


def test_tricks_in_every_login_field_are_400_or_401(gateway, customers, record):
    t = customers["t"]
    base = {"customer_code": t["code"], "serial_number": t["serials"][0], "password": "rossz"}
    seen: dict[int, int] = {}
    for field in LOGIN_FIELDS:
        for trick in [*TRICKS, 0, 1.5, True, None, [], {}, ["a"], {"$ne": ""}, "x" * 300]:
            body = {**base, field: trick}
            if field == "customer_code":
                body[field] = trick if not isinstance(trick, str) else f"{trick}"
            response = requests.post(f"{gateway}/api/v1/sessions", json=body, timeout=30)
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            assert response.status_code in (400, 401, 429), (
                field,
                repr(trick)[:40],
                response.status_code,
                response.text[:300],
            )
    record(requests=sum(seen.values()), statuses=seen)


def post_raw(gateway: str, body: bytes, content_type: str = "application/json", **headers: str) -> requests.Response:
    return requests.post(
        f"{gateway}/api/v1/sessions", data=body, headers={"Content-Type": content_type, **headers}, timeout=30
    )


def test_malformed_json_bodies_are_400(gateway, record):
    code = customer_code()
    bodies = [
        b"",
        b"{",
        b"nul",
        b"[]",
        b"[1,2]",
        b'"text"',
        b"42",
        b"null",
        b"true",
        b"\xff\xfe{}",
        b'{"customer_code": "' + code.encode() + b'", "serial_number": "S", "customer_code": {"a": 1}}',
        b'{"customer_code": NaN, "serial_number": "S"}',
        b'{"customer_code": 1e400, "serial_number": "S"}',
        b'{"customer_code": "\\ud800", "serial_number": "S"}',
        b'{"customer_code": "a\\u0000b", "serial_number": "S"}',
        b"[" * 5000 + b"]" * 5000,
        b'{"a":' * 2000 + b"1" + b"}" * 2000,
        b'{"customer_code": ' + b"1" * 4301 + b', "serial_number": "S"}',  # over CPython's int digits limit
        json.dumps({"customer_code": code, "serial_number": "S"}).encode("utf-16"),
        b'{"customer_code": "' + code.encode() + b'", "serial_number": "S"} trailing',
    ]
    statuses = []
    for body in bodies:
        response = post_raw(gateway, body)
        statuses.append(response.status_code)
        assert response.status_code in (400, 401), (body[:60], response.status_code, response.text[:300])
        assert response.headers["Content-Type"].startswith("application/problem+json")
    for content_type in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=utf-16",
        "application/xml",
    ):
        response = post_raw(gateway, json.dumps({"customer_code": code, "serial_number": "S"}).encode(), content_type)
        statuses.append(response.status_code)
        assert response.status_code in (400, 401, 415), (content_type, response.status_code, response.text[:300])
    record(bodies=len(statuses), statuses=sorted(set(statuses)))


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_over_the_limit_is_413(gateway, chunked):
    body = json.dumps({"customer_code": customer_code(), "serial_number": "S", "password": "x" * 20_000}).encode()
    if chunked:  # no Content-Length: the limit must hold while the body is read
        response = requests.post(
            f"{gateway}/api/v1/sessions",
            data=iter([body[:8000], body[8000:]]),
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
    else:
        response = post_raw(gateway, body)
    assert response.status_code == 413, response.text[:300]
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_tricks_in_the_path_and_the_method_are_never_5xx(gateway, customers):
    a = customers["a"]
    auth = login(gateway, a["code"], a["serials"][0])
    for trick in URL_TRICKS[:40]:
        status, body = raw_get(gateway, f"/api/v1/{quote(trick, safe='')}", auth)
        assert status in (400, 404, 405, 414), (trick[:40], status, body[:200])
    for method in ("PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND"):
        response = requests.request(method, f"{gateway}/api/v1/balance", headers=auth, timeout=10)
        assert response.status_code in (200, 204, 405), (method, response.status_code)
