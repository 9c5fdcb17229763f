"""gunicorn's worker, answering the requests gunicorn itself refuses with problem+json instead of HTML.

gunicorn parses the request line and the headers before the application sees anything: a malformed
request line, header or transfer coding, or a request line / header block over the limits, is answered
by the worker's `handle_error`, with a text/html page (and 501 for an unknown transfer coding). The
worker below answers the same refusals as `application/problem+json`, always with a 4xx: the request is
the client's fault, never the server's. An error of the application itself stays a 500 (Flask's own
handlers answer those, so this path is reached only by a crash outside them). docs/decisions.md.
"""

from __future__ import annotations

import json
import socket
import time
from datetime import datetime

from gunicorn import util
from gunicorn.glogging import Logger
from gunicorn.http import errors
from gunicorn.http.wsgi import Response, default_environ
from gunicorn.workers.gthread import ThreadWorker

# (status, title) per refusal; every other parse error is a 400 Bad Request.
REFUSALS: list[tuple[type[Exception], int, str]] = [
    (errors.LimitRequestLine, 414, "URI Too Long"),
    (errors.LimitRequestHeaders, 431, "Request Header Fields Too Large"),
    (errors.ExpectationFailed, 417, "Expectation Failed"),
    (errors.ForbiddenProxyRequest, 403, "Forbidden"),
]
APPLICATION_ERRORS = (errors.InvalidResponseHeader, errors.InvalidResponseHeaderName)


def classify(exc: BaseException) -> tuple[int, str, str]:
    """(status, title, detail) of the answer to an exception raised while gunicorn handled a request."""
    if isinstance(exc, errors.ParseException) and not isinstance(exc, APPLICATION_ERRORS):
        for kind, status, title in REFUSALS:
            if isinstance(exc, kind):
                return status, title, _detail(exc)
        # UnsupportedTransferCoding included (gunicorn's 501): the client sent what the server does not take.
        return 400, "Bad Request", _detail(exc)
    return 500, "Internal Server Error", "The server failed to answer this request."


def _detail(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 200 else text[:200] + "…"


def problem_response(status: int, title: str, detail: str) -> bytes:
    """A complete HTTP/1.1 answer with a problem+json body; the connection is closed after it."""
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()
    head = (
        f"HTTP/1.1 {status} {title}\r\nConnection: close\r\nContent-Type: application/problem+json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class ProblemRefusals:
    """gunicorn's `handle_error` answering with problem+json: mixed into a worker class before gunicorn's own
    (the threaded one below; bench/gevent_workers.py mixes it into gunicorn's gevent worker)."""

    log: Logger
    cfg: object

    def handle_error(self, req, client, addr, exc):  # noqa: ANN001, ANN201 - gunicorn's signature
        started = datetime.now()
        addr = addr or ("", -1)
        status, title, detail = classify(exc)
        if status < 500:
            self.log.warning("Refused a malformed request from ip=%s: %s", addr[0], exc)
        else:
            self.log.exception("Error handling request %s", getattr(req, "uri", "(no URI read)"))
        try:
            util.write_nonblock(client, problem_response(status, title, detail))
            linger(client)
        except Exception:  # noqa: BLE001 - the client may be gone already
            self.log.debug("Failed to send error message.")
        if req is not None:  # the access log line, as gunicorn writes it for its own refusals
            try:
                environ = default_environ(req, client, self.cfg)
                environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = addr[0], str(addr[1])
                resp = Response(req, client, self.cfg)
                resp.status, resp.response_length = f"{status} {title}", len(detail)
                self.log.access(resp, req, environ, datetime.now() - started)
            except Exception:  # noqa: BLE001 - a half-parsed request may lack what the access log reads
                self.log.debug("Failed to log a refused request.")


class ProblemWorker(ProblemRefusals, ThreadWorker):
    """gunicorn's threaded worker (`--threads`), with problem+json refusals."""


def linger(client: socket.socket, seconds: float = 0.5, most: int = 64 * 1024) -> None:
    """Close our side for writing and read what the client still sends, briefly, before the socket is closed.

    The refusal is written before the rest of the request was read; closing a socket with unread data makes
    the kernel send a reset, which can destroy the answer before the client reads it (a "lingering close",
    as other HTTP servers do). Bounded: at most `seconds` and `most` bytes.
    """
    client.shutdown(socket.SHUT_WR)
    client.settimeout(seconds)
    deadline, read = time.monotonic() + seconds, 0
    try:
        while read < most and time.monotonic() < deadline:
            chunk = client.recv(16 * 1024)
            if not chunk:
                return
            read += len(chunk)
    except OSError:
        return


class NoAccessLog(Logger):
    """gunicorn's logger without the access log: the application logs one JSON line per request itself.

    gunicorn turns its access log on whenever a `logconfig_dict` is given and then, for every request, builds
    the log atoms and an INFO record that no handler takes (about 2% of a worker's CPU under load).
    """

    def access(self, resp: object, req: object, environ: object, request_time: object) -> None:
        return None
