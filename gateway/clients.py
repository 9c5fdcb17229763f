"""HTTP clients of the services' internal APIs: one per service, failures mapped to problems."""

from __future__ import annotations

import itertools
import json as jsonlib
import logging
import re
import select
import socket
import ssl
import threading
import weakref
from collections.abc import Iterator
from http.client import BadStatusLine, HTTPException, IncompleteRead, InvalidURL, LineTooLong, RemoteDisconnected
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from flask import Response, g

from shared.web.observability import REQUEST_ID_HEADER
from shared.web.problems import PROBLEM_JSON, ProblemError, problem_response

log = logging.getLogger("gateway.clients")
JSON = "application/json"
MAX_LINE = 65_536  # a status or header line, or a chunk's size line, longer than this is not an answer
MAX_HEADERS = 100
NO_BODY = frozenset({204, 304})
DIGITS = re.compile(r"[0-9]{1,18}")  # str.isdigit would take other digits, "²" among them; and no huge lengths
TARGET_REFUSED = re.compile(r"[\x00-\x20\x7f]")  # as http.client refuses a request target
CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")


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


class Headers:
    """An answer's header fields by case-insensitive name (a repeated field's values joined with ', ')."""

    def __init__(self, fields: dict[str, str]) -> None:
        self._fields = fields  # lower-case names

    def get(self, name: str, default: str = "") -> str:
        return self._fields.get(name.lower(), default)

    def __getitem__(self, name: str) -> str:
        return self._fields[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._fields


class Connection:
    """One HTTP/1.1 connection to a service, written and read by hand.

    The request goes out in one send; the answer's status line and header fields are split here, and its body
    read by its Content-Length, in chunks, or up to the close. `http.client` assembled the request field by field
    and ran the `email` parser over every answer's fields: this takes clearly less CPU per call
    (docs/performance.md, change 27).
    """

    def __init__(self, host: str, port: int, connect_s: float, tls: ssl.SSLContext | None) -> None:
        self.host, self.port, self.connect_s, self.tls = host, port, connect_s, tls
        self.host_header = host if ":" not in host else f"[{host}]"
        if port != (443 if tls else 80):
            self.host_header += f":{port}"
        self.sock: socket.socket | None = None
        self._reader: Any = None  # the current answer's buffered reader: a new one for each answer

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=self.connect_s)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self.sock = sock

    def close(self) -> None:
        sock, reader, self.sock, self._reader = self.sock, self._reader, None, None
        if reader is not None:
            reader.close()
        if sock is not None:
            sock.close()

    def exchange(self, method: str, target: str, fields: dict[str, str], body: bytes | None, read_s: float) -> Raw:
        """Send one request and read the answer's head; its body is left to the returned `Raw`."""
        if self.sock is None:
            self.connect()
        assert self.sock is not None
        self.sock.settimeout(read_s)
        if TARGET_REFUSED.search(target):
            raise InvalidURL(f"a control character or space in the request target: {target!r}")
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host_header}", "Accept-Encoding: identity"]
        lines += [f"{name}: {value}" for name, value in fields.items()]
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        if any("\r" in line or "\n" in line for line in lines):
            raise ValueError("a line break in the request line or a header field")  # as http.client refuses it
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.sock.sendall(head + body if body else head)
        # A reader of its own for each answer, as http.client has: what a service sent beyond an answer's end and
        # the old reader holds is dropped with it, and what is still on the socket makes the connection readable
        # while idle (`_dropped`), so it is not used again. One reader for the connection's life would hand such
        # bytes to the next answer.
        if self._reader is not None:
            self._reader.close()
        self._reader = self.sock.makefile("rb")
        return self._answer(method)

    def _line(self) -> bytes:
        line: bytes = self._reader.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise LineTooLong("answer line")
        return line

    def _answer(self, method: str) -> Raw:
        first = self._line()
        if not first:
            raise RemoteDisconnected("the service closed the connection without an answer")
        version, _, rest = first.decode("latin-1").rstrip("\r\n").partition(" ")
        code, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/1.") or not DIGITS.fullmatch(code) or len(code) != 3:
            raise BadStatusLine(first.decode("latin-1", "replace"))
        fields: dict[str, str] = {}
        for _ in range(MAX_HEADERS + 1):
            line = self._line()
            if line in (b"\r\n", b"\n"):
                break
            if not line:
                raise IncompleteRead(b"")
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon:
                raise HTTPException(f"a header line without a colon: {line!r}")
            key, value = name.strip().lower(), value.strip()
            fields[key] = f"{fields[key]}, {value}" if key in fields else value
        else:
            raise HTTPException(f"more than {MAX_HEADERS} header fields")
        status = int(code)
        keep = version == "HTTP/1.1"
        tokens = {token.strip().lower() for token in fields.get("connection", "").split(",")}
        will_close = "close" in tokens or (not keep and "keep-alive" not in tokens)
        if status < 200:  # nothing here asks for an interim answer (no Expect: 100-continue)
            raise HTTPException(f"an interim answer: {status}")
        if method == "HEAD" or status in NO_BODY:
            return Raw(status, reason, Headers(fields), self._reader, 0, False, will_close)
        if "chunked" in fields.get("transfer-encoding", "").lower():
            return Raw(status, reason, Headers(fields), self._reader, None, True, will_close)
        if "content-length" in fields:
            length = fields["content-length"]
            if not DIGITS.fullmatch(length):
                raise HTTPException(f"a Content-Length that is not a length: {length!r}")
            return Raw(status, reason, Headers(fields), self._reader, int(length), False, will_close)
        return Raw(status, reason, Headers(fields), self._reader, None, False, True)  # the body ends at the close


class Raw:
    """An answer as read off its connection: status, reason, header fields and the body still to read.

    `length` is what is left of a Content-Length body (None: chunked, or up to the close). Reading raises
    IncompleteRead when the connection ends before the body does.
    """

    def __init__(
        self,
        status: int,
        reason: str,
        headers: Headers,
        reader: Any,
        length: int | None,
        chunked: bool,
        will_close: bool,
    ) -> None:
        self.status, self.reason, self.headers, self.will_close = status, reason, headers, will_close
        self._reader, self.length, self._chunked = reader, length, chunked
        self._chunk_left = 0
        self.done = length == 0

    def read(self) -> bytes:
        """The rest of the body."""
        if self.length is not None and not self._chunked:
            data: bytes = self._reader.read(self.length) if self.length else b""
            if len(data) < self.length:
                raise IncompleteRead(data, self.length - len(data))
            self.length, self.done = 0, True
            return data
        parts = []
        while piece := self.read1(65_536):
            parts.append(piece)
        return b"".join(parts)

    def read1(self, size: int) -> bytes:
        """Up to `size` bytes of the body as they arrive, b"" at its end."""
        if self.done:
            return b""
        if self._chunked:
            return self._read_chunked(size)
        want = size if self.length is None else min(size, self.length)
        data: bytes = self._reader.read1(want)
        if self.length is None:
            self.done = not data
            return data
        if not data:
            raise IncompleteRead(b"", self.length)
        self.length -= len(data)
        self.done = self.length == 0
        return data

    def _read_chunked(self, size: int) -> bytes:
        if self._chunk_left == 0:
            line = self._reader.readline(MAX_LINE + 1)
            if not line.endswith(b"\n") or len(line) > MAX_LINE:
                raise IncompleteRead(b"")
            text = line.split(b";", 1)[0].strip()
            if not CHUNK_SIZE.fullmatch(text):  # int(…, 16) alone would take a sign, "0x" or "_"
                raise HTTPException(f"a chunk size that is not hexadecimal: {text!r}")
            self._chunk_left = int(text, 16)
            if self._chunk_left == 0:  # the last chunk: skip any trailer fields up to the empty line
                while (trailer := self._reader.readline(MAX_LINE + 1)) not in (b"\r\n", b"\n"):
                    if not trailer.endswith(b"\n"):
                        raise IncompleteRead(b"")
                self.done = True
                return b""
        data: bytes = self._reader.read1(min(size, self._chunk_left))
        if not data:
            raise IncompleteRead(b"", self._chunk_left)
        self._chunk_left -= len(data)
        if self._chunk_left == 0 and self._reader.readline(MAX_LINE + 1) not in (b"\r\n", b"\n"):
            raise IncompleteRead(b"")
        return data


class Answer:
    """A service's answer: status, headers and the body (read whole, or streamed with `iter_content`).

    Closing it gives its connection back to the client when the body was read to its end, else closes it.
    """

    def __init__(self, client: ServiceClient, conn: Connection, raw: Raw, stream: bool, keep: bool) -> None:
        self.client, self.raw, self.keep = client, raw, keep
        self.conn: Connection | None = conn
        self.status_code = raw.status
        self.reason = raw.reason
        self.headers = raw.headers
        self._content: bytes | None = None
        if not stream:
            self._content = raw.read()  # a body cut short raises IncompleteRead (a 503 in ServiceClient.send)
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
            self.client.release(conn, reusable=self.keep and self.raw.done and not self.raw.will_close)

    def __enter__(self) -> Answer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ServiceClient:
    """Calls one service with the internal token, the request id and the configured timeouts.

    Its own HTTP/1.1 `Connection`, one kept alive per thread: with http.client the gateway took more CPU per
    query (docs/performance.md, change 27), with urllib3's pool more still (change 21), and with requests'
    per-call preparation, before that, a third more. No retries but one: a GET on a kept-alive connection that
    the service closed meanwhile is sent once more on a new connection. No proxy, no cookies.
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
        self._open: weakref.WeakSet[Connection] = weakref.WeakSet()
        self._tls = ssl.create_default_context() if url.scheme == "https" else None
        if self._tls is not None:
            self._tls.set_alpn_protocols(["http/1.1"])  # as HTTPSConnection offers

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
                raw = conn.exchange(method, url, headers, body, read_s)
            except (RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                if not (reused and method == "GET"):
                    raise
                # the service closed the kept-alive connection between our check and the request: once more
                conn.close()
                conn = self._new_connection(connect_s)
                raw = conn.exchange(method, url, headers, body, read_s)
            return Answer(self, conn, raw, stream, keep_alive)
        except (HTTPException, OSError) as exc:
            conn.close()
            log.warning("service call failed", extra={"service": self.name, "path": path, "error": str(exc)})
            raise ServiceUnavailable(self.name) from None
        except BaseException:
            conn.close()
            raise

    def _acquire(self, connect_s: float) -> tuple[Connection, bool]:
        """The thread's idle connection if the service has not closed it, else a new one (not yet connected)."""
        conn: Connection | None = getattr(self._idle, "conn", None)
        self._idle.conn = None
        if conn is not None:
            if conn.sock is not None and not _dropped(conn.sock):
                return conn, True
            conn.close()
        return self._new_connection(connect_s), False

    def _new_connection(self, connect_s: float) -> Connection:
        port = self.port or (443 if self._tls else 80)
        conn = Connection(self.host, port, connect_s, self._tls)
        with self._lock:
            self._open.add(conn)
        return conn

    def release(self, conn: Connection, reusable: bool) -> None:
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
