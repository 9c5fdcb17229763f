"""HTTP clients of the services' internal APIs: one per service, failures mapped to problems."""

from __future__ import annotations

import itertools
import json as jsonlib
import logging
import select
import socket
import threading
import weakref
from collections.abc import Iterator
from http.client import (
    HTTPConnection,
    HTTPException,
    HTTPResponse,
    HTTPSConnection,
    IncompleteRead,
    RemoteDisconnected,
)
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from flask import Response, g

from shared.web.observability import REQUEST_ID_HEADER
from shared.web.problems import PROBLEM_JSON, ProblemError, problem_response

log = logging.getLogger("gateway.clients")
JSON = "application/json"


class ServiceUnavailable(ProblemError):
    """A 503 problem: the service is down, timed out, failed (5xx) or refused the gateway itself."""

    def __init__(self, service: str) -> None:
        super().__init__(503, "Service Unavailable", f"The {service} service is unavailable; try again later.")
        self.service = service


def _dropped(sock: socket.socket) -> bool:
    """An idle kept-alive connection is readable only when the service closed it (or sent what it should not)."""
    poller = select.poll()
    try:
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


def customer_path(customer_code: str, query: str) -> str:
    """The internal path of a per-customer query; the code is quoted whole, '/' included."""
    return f"/internal/v1/customers/{quote(customer_code, safe='')}/{query}"


class Answer:
    """A service's answer: status, headers and the body (read whole, or streamed with `iter_content`).

    Closing it gives its connection back to the client when the body was read to its end, else closes it.
    """

    def __init__(
        self, client: ServiceClient, conn: HTTPConnection, raw: HTTPResponse, stream: bool, keep: bool
    ) -> None:
        self.client, self.raw, self.keep = client, raw, keep
        self.conn: HTTPConnection | None = conn
        self.status_code = raw.status
        self.reason = raw.reason
        self.headers = raw.headers
        self._complete = False  # the body read to its end, nothing left on the connection
        self._content: bytes | None = None
        if not stream:
            self._content = raw.read()  # a body cut short raises IncompleteRead (a 503 in ServiceClient.send)
            self._complete = True
            self.close()

    @property
    def ok(self) -> bool:
        return self.status_code < 400

    @property
    def content(self) -> bytes:
        """The whole body (the rest of a streamed one); ServiceUnavailable when it cannot be read to its end."""
        if self._content is None:
            try:
                self._content = self.raw.read()
                self._complete = True
            except (HTTPException, OSError):
                raise ServiceUnavailable(self.client.name) from None
            finally:
                self.close()
        return self._content

    def json(self) -> Any:
        """The body as JSON; ValueError if it is not."""
        return jsonlib.loads(self.content)

    def iter_content(self, chunk_size: int) -> Iterator[bytes]:
        """The body in pieces of up to `chunk_size` bytes, each as it arrives; IncompleteRead if it is cut short."""
        while chunk := self.raw.read1(chunk_size):
            yield chunk
        if self.raw.length:  # Content-Length announced more than came
            raise IncompleteRead(b"", self.raw.length)
        self.raw.close()  # read1 leaves a Content-Length body open at its end: http.client sends no next request
        self._complete = True

    def body_stream(self, chunk_size: int) -> Iterator[bytes]:
        """The body as `iter_content` gives it, its first piece read now: a service that fails before its first
        byte is a ServiceUnavailable (a 503 problem), not an error once the answer has begun."""
        pieces = self.iter_content(chunk_size)
        try:
            first = next(pieces, b"")
        except (HTTPException, OSError):
            self.close()
            raise ServiceUnavailable(self.client.name) from None
        return itertools.chain((first,), pieces)

    def close(self) -> None:
        """Give the connection back (body read to its end, kept alive) or close it."""
        conn, self.conn = self.conn, None
        if conn is not None:
            self.client.release(conn, reusable=self.keep and self._complete and not self.raw.will_close)

    def __enter__(self) -> Answer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ServiceClient:
    """Calls one service with the internal token, the request id and the configured timeouts.

    http.client directly, one keep-alive connection per thread: with urllib3's pool the gateway took more CPU
    per query (docs/performance.md, change 21), and with requests' per-call preparation, before that, a third
    more. No retries but one: a GET on a kept-alive connection that the service closed meanwhile is
    sent once more on a new connection. No proxy, no cookies.
    """

    def __init__(self, name: str, base_url: str, internal_token: str, timeout: tuple[float, float]) -> None:
        self.name, self.base_url = name, base_url.rstrip("/")
        url = urlsplit(self.base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"{name}: not an http(s) URL: {base_url!r}")
        self.scheme, self.host, self.port = url.scheme, url.hostname, url.port
        self.prefix = url.path
        self.timeout = timeout
        self.internal_token = internal_token
        self._idle = threading.local()  # the thread's kept-alive connection, when it is not in use
        self._lock = threading.Lock()
        self._open: weakref.WeakSet[HTTPConnection] = weakref.WeakSet()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        stream: bool = False,
        timeout: tuple[float, float] | None = None,
    ) -> Answer:
        """The service's answer below 500; ServiceUnavailable for anything that is the service's fault."""
        answer = self.send(method, path, params=params, json=json, stream=stream, timeout=timeout)
        if answer.status_code >= 500 or answer.status_code in (401, 403):
            # 401/403 mean the gateway's own internal token is wrong: not the caller's business.
            log.error("service answered %s", answer.status_code, extra={"service": self.name, "path": path})
            answer.close()
            raise ServiceUnavailable(self.name)
        return answer

    def send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        stream: bool = False,
        timeout: tuple[float, float] | None = None,
        request_id: str | None = None,
        keep_alive: bool = True,
    ) -> Answer:
        """Any answer of the service; ServiceUnavailable when it is unreachable or too slow.

        `keep_alive=False`: the connection is closed after the answer (a thread of its own that ends soon).
        """
        if request_id is None:  # outside a request (health probes) the caller passes it
            request_id = g.get("request_id", "")
        headers = {"X-Internal-Token": self.internal_token, REQUEST_ID_HEADER: request_id}
        body = None
        if json is not None:
            body = jsonlib.dumps(json).encode()
            headers["Content-Type"] = JSON
        url = self.prefix + path + ("?" + urlencode(params) if params else "")
        connect_s, read_s = timeout or self.timeout
        conn, reused = self._acquire(connect_s)
        try:
            try:
                raw = self._exchange(conn, method, url, body, headers, read_s)
            except (RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                if not (reused and method == "GET"):
                    raise
                # the service closed the kept-alive connection between our check and the request: once more
                conn.close()
                conn = self._new_connection(connect_s)
                raw = self._exchange(conn, method, url, body, headers, read_s)
            return Answer(self, conn, raw, stream, keep_alive)
        except (HTTPException, OSError) as exc:
            conn.close()
            log.warning("service call failed", extra={"service": self.name, "path": path, "error": str(exc)})
            raise ServiceUnavailable(self.name) from None
        except BaseException:
            conn.close()
            raise

    @staticmethod
    def _exchange(
        conn: HTTPConnection,
        method: str,
        url: str,
        body: bytes | None,
        headers: dict[str, str],
        read_s: float,
    ) -> HTTPResponse:
        if conn.sock is None:  # a new connection: its timeout is the connect timeout (_new_connection)
            conn.connect()
        assert conn.sock is not None
        conn.sock.settimeout(read_s)
        conn.request(method, url, body=body, headers=headers)
        return conn.getresponse()

    def _acquire(self, connect_s: float) -> tuple[HTTPConnection, bool]:
        """The thread's idle connection if the service has not closed it, else a new one (not yet connected)."""
        conn: HTTPConnection | None = getattr(self._idle, "conn", None)
        self._idle.conn = None
        if conn is not None:
            if conn.sock is not None and not _dropped(conn.sock):
                return conn, True
            conn.close()
        return self._new_connection(connect_s), False

    def _new_connection(self, connect_s: float) -> HTTPConnection:
        kind = HTTPSConnection if self.scheme == "https" else HTTPConnection
        conn = kind(self.host, self.port, timeout=connect_s)
        with self._lock:
            self._open.add(conn)
        return conn

    def release(self, conn: HTTPConnection, reusable: bool) -> None:
        """Keep a connection whose answer was read to the end as the thread's idle one; close any other."""
        if reusable and getattr(self._idle, "conn", None) is None:
            self._idle.conn = conn
        else:
            conn.close()

    def relay(self, path: str, params: dict[str, Any]) -> Response:
        """GET a JSON query and hand its answer (or its 4xx problem) on unchanged."""
        answer = self.request("GET", path, params=params)
        if answer.ok:
            return Response(answer.content, status=200, mimetype=JSON)
        return relay_problem(answer)

    def close(self) -> None:
        """Close every connection (the worker is stopping)."""
        with self._lock:
            conns = list(self._open)
        for conn in conns:
            conn.close()


def relay_problem(answer: Answer) -> Response:
    """A service's 4xx answer as the gateway's answer: its problem body if it has one."""
    if answer.headers.get("Content-Type", "").startswith((PROBLEM_JSON, JSON)):
        return Response(answer.content, status=answer.status_code, mimetype=PROBLEM_JSON)
    return problem_response(answer.status_code, answer.reason or "Error")


def build_clients(settings: dict[str, Any]) -> dict[str, ServiceClient]:
    """One client per service, from the settings."""
    timeout = (settings["SERVICE_CONNECT_TIMEOUT_S"], settings["SERVICE_TIMEOUT_S"])
    return {
        name: ServiceClient(name, settings[f"{name.upper()}_URL"], settings["INTERNAL_TOKEN"], timeout)
        for name in ("contracts", "ledger", "tickets", "quota")
    }
