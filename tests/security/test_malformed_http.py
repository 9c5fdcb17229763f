"""Malformed HTTP against the gateway as the fixtures start it (gunicorn with shared/web/gunicorn_conf.py):
a broken request line, header, transfer coding or chunked body, and oversized request lines or headers, get a
4xx problem+json answer, never a 5xx and never gunicorn's HTML page (docs/decisions.md, "Malformed HTTP").

Raw sockets: an HTTP client library would refuse to send most of these."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import pytest

GET = b"GET /api/v1/quota HTTP/1.1\r\nHost: portal\r\n"
POST = b"POST /api/v1/sessions HTTP/1.1\r\nHost: portal\r\nContent-Type: application/json\r\n"

# name -> (raw request, expected status)
CASES: dict[str, tuple[bytes, int]] = {
    "transfer coding chunked, gzip": (GET + b"Transfer-Encoding: chunked, gzip\r\n\r\n", 400),
    "transfer coding gzip alone": (POST + b"Transfer-Encoding: gzip\r\n\r\n", 400),
    "transfer coding garbage": (GET + b"Transfer-Encoding: \x01\x02garbage\r\n\r\n", 400),
    "transfer coding identity": (POST + b"Transfer-Encoding: identity\r\n\r\n", 400),
    "chunked twice": (POST + b"Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400),
    "Content-Length and Transfer-Encoding": (
        POST + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    ),
    "Content-Length not a number": (POST + b"Content-Length: abc\r\n\r\n", 400),
    "Content-Length negative": (POST + b"Content-Length: -1\r\n\r\n", 400),
    "two different Content-Lengths": (POST + b"Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400),
    "chunk size not hex": (POST + b"Transfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n", 400),
    "chunk without its terminator": (POST + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n", 400),
    "header name with a space": (GET + b"Bad Header: 1\r\n\r\n", 400),
    "header without a colon": (GET + b"nocolon\r\n\r\n", 400),
    "header name not a token": (GET + b"X-(A): 1\r\n\r\n", 400),
    "NUL in a header value": (GET + b"X-A: a\x00b\r\n\r\n", 400),
    "obsolete line folding": (GET + b"X-A: 1\r\n  folded\r\n\r\n", 400),
    "request line garbage": (b"GARBAGE\r\n\r\n", 400),
    "request line with bare LF": (b"GET /api/v1/quota HTTP/1.1\nHost: portal\n\n", 400),
    "unknown HTTP version": (b"GET /api/v1/quota HTTP/9.9\r\nHost: portal\r\n\r\n", 400),
    "not HTTP at all": (b"GET /api/v1/quota SPDY/1.0\r\nHost: portal\r\n\r\n", 400),
    "method with a bracket": (b"G(T /api/v1/quota HTTP/1.1\r\nHost: portal\r\n\r\n", 400),
    "target with a space": (b"GET /api/v1/ quota HTTP/1.1\r\nHost: portal\r\n\r\n", 400),
    "request line over 4 KiB": (b"GET /api/v1/quota?x=" + b"a" * 5000 + b" HTTP/1.1\r\nHost: portal\r\n\r\n", 414),
    "a header over 8 KiB": (GET + b"X-Big: " + b"a" * 9000 + b"\r\n\r\n", 431),
    "more than 100 headers": (GET + b"".join(b"X-H%d: 1\r\n" % i for i in range(150)) + b"\r\n", 431),
    "unknown expectation": (POST + b"Expect: 200-ok\r\nContent-Length: 2\r\n\r\n{}", 417),
}


def exchange(url: str, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are; (status, headers, body) of the answer."""
    host = urlsplit(url)
    with socket.create_connection((host.hostname, host.port), timeout=10) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head, "the connection closed without an answer"
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split(" ")[1]), {k.lower(): v for k, v in headers.items()}, body


@pytest.mark.parametrize("case", list(CASES))
def test_malformed_requests_get_a_4xx_problem(gateway, case):
    raw, expected = CASES[case]
    status, headers, body = exchange(gateway, raw)
    assert status == expected, (status, body[:300])
    assert headers["content-type"] == "application/problem+json", headers
    problem = json.loads(body)
    assert problem["status"] == status and problem["title"] and problem["detail"]
    assert b"<html" not in body.lower()


def test_the_gateway_still_answers_after_the_malformed_requests(gateway):
    status, headers, body = exchange(gateway, b"GET /health/live HTTP/1.1\r\nHost: portal\r\nConnection: close\r\n\r\n")
    assert status == 200, body
