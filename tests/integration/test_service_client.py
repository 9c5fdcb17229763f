"""The gateway's client of a service's API (gateway/clients.py) against a real HTTP/1.1 server on a socket:
keep-alive per thread, a connection the service closed, timeouts, refusals, 5xx, streamed bodies."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.client import IncompleteRead
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import Flask

from gateway import clients
from gateway.clients import ServiceClient, ServiceUnavailable
from gateway.routes.queries import csv_download
from tests.support.procs import wait_for


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.connections = 0
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.open_sockets: list[socket.socket] = []
        self.proceed = threading.Event()  # a chunked answer's second chunk waits for it

    def process_request(self, request, client_address) -> None:  # noqa: ANN001 - socketserver's signature
        self.connections += 1
        self.open_sockets.append(request)
        super().process_request(request, client_address)

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001 - a client closing a half-read answer
        pass

    def close_idle_connections(self) -> None:
        """The service ends every kept-alive connection, as a restarted or idle-timing-out server does."""
        for sock in self.open_sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    server: Server

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append((self.command, self.path, dict(self.headers), body))
        path = self.path.removeprefix("/base")
        if path.startswith("/slow"):
            time.sleep(3)
        if path.startswith("/fail"):
            self._send(500, b'{"status": 500}')
        elif path.startswith("/missing"):
            self._send(404, b'{"status": 404, "title": "Not Found"}', "application/problem+json")
        elif path.startswith("/big"):
            self._send(200, b"x" * 200_000, "text/csv")
        elif path.startswith("/chunked"):
            self._head(200, {"Content-Type": "text/csv", "Transfer-Encoding": "chunked"})
            self.wfile.write(b"5\r\nfirst\r\n")
            self.wfile.flush()
            self.server.proceed.wait(timeout=5)
            self.wfile.write(b"6\r\nsecond\r\n0\r\n\r\n")
        elif path.startswith("/short-before-any-byte"):
            self._head(200, {"Content-Type": "text/csv", "Content-Length": "1000"})
            self.close_connection = True
        elif path.startswith("/short"):
            self._head(200, {"Content-Length": "1000"})
            self.wfile.write(b"only a part")
            self.close_connection = True
        elif path.startswith("/until-close"):  # no length, not chunked: the body ends when the connection does
            self._head(200, {"Content-Type": "text/plain"})
            self.wfile.write(b"all of it")
            self.close_connection = True
        elif path.startswith("/trailer"):  # a chunk extension and trailer fields, which the body does not include
            self._head(200, {"Content-Type": "text/csv", "Transfer-Encoding": "chunked", "X-Part": "a"})
            self.wfile.write(b"3;name=value\r\nabc\r\n0\r\nX-Checksum: 1\r\nX-More: 2\r\n\r\n")
        elif path.startswith("/repeated"):
            self._head(204, {"X-Part": "a", "x-part": "b"})
        elif path.startswith("/bad-chunk"):  # a size int(…, 16) would take, negative
            self._head(200, {"Content-Type": "text/csv", "Transfer-Encoding": "chunked"})
            self.wfile.write(b"-5\r\nfirst\r\n0\r\n\r\n")
        elif path.startswith("/bad-length"):  # a digit that is not 0-9
            self._head(200, {"Content-Length": "\u00b2"})
            self.wfile.write(b"ab")
        elif path.startswith("/overlong"):  # more than the Content-Length says, in the same write
            self._head(200, {"Content-Type": "application/json", "Content-Length": "2"})
            self.wfile.write(b'{}HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"stale!!"')
        elif path.startswith("/garbage"):
            self.wfile.write(b"NOT HTTP AT ALL\r\n\r\n")
            self.close_connection = True
        elif path.startswith("/close"):
            self._head(200, {"Content-Length": "2", "Connection": "close"})
            self.wfile.write(b"{}")
            self.close_connection = True
        else:
            self._send(200, json.dumps({"path": self.path}).encode())

    def _head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self._head(status, {"Content-Type": kind, "Content-Length": str(len(body))})
        self.wfile.write(body)

    do_GET = do_POST = _answer  # noqa: N815 - http.server's names


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running
    running.shutdown()
    running.server_close()


@pytest.fixture
def client(server: Server) -> Iterator[ServiceClient]:
    host, port = server.server_address[:2]
    made = ServiceClient("ledger", f"http://{host}:{port}/base", "token-" + "t" * 26, (1.0, 1.0))
    with Flask(__name__).test_request_context():
        yield made
    made.close()


def test_answers_come_over_one_kept_alive_connection_with_token_and_request_id(server, client) -> None:
    for n in range(5):
        answer = client.request("GET", "/internal/v1/x", params={"n": n, "q": "á b"})
        assert answer.status_code == 200 and answer.json() == {"path": f"/base/internal/v1/x?n={n}&q=%C3%A1+b"}
    assert server.connections == 1
    headers = server.requests[0][2]
    assert headers["X-Internal-Token"] == "token-" + "t" * 26 and "X-Request-ID" in headers
    assert headers["Accept-Encoding"] == "identity"  # no content coding the gateway would relay undecoded


def test_a_json_body_is_sent_as_json(server, client) -> None:
    answer = client.request("POST", "/internal/v1/act", json={"a": 1})
    assert answer.status_code == 200
    method, _, headers, body = server.requests[-1]
    assert (method, headers["Content-Type"], json.loads(body)) == ("POST", "application/json", {"a": 1})


def test_a_connection_the_service_closed_is_replaced_without_a_failure(server, client) -> None:
    assert client.request("GET", "/one").status_code == 200
    server.close_idle_connections()
    idle = client._idle.conn  # this thread's kept-alive connection
    wait_for(lambda: clients._dropped(idle.sock))  # the close has reached the client
    assert client.request("GET", "/two").json() == {"path": "/base/two"}
    assert server.connections == 2


def test_a_get_is_sent_again_when_the_close_comes_after_the_check(server, client, monkeypatch) -> None:
    assert client.request("GET", "/one").status_code == 200
    server.close_idle_connections()
    dropped = clients._dropped
    wait_for(lambda: dropped(client._idle.conn.sock))
    monkeypatch.setattr(clients, "_dropped", lambda sock: False)  # the check saw nothing: the close came after it
    assert client.request("GET", "/two").json() == {"path": "/base/two"}
    assert server.connections == 2
    assert client.request("GET", "/three").status_code == 200
    server.close_idle_connections()
    wait_for(lambda: dropped(client._idle.conn.sock))
    with pytest.raises(ServiceUnavailable):
        client.request("POST", "/act", json={"a": 1})  # never sent twice: it may have been done
    assert [r[1] for r in server.requests].count("/base/act") == 0


def test_each_thread_keeps_its_own_connection(server, client) -> None:
    answers: list[int] = []

    def ask() -> None:
        with Flask(__name__).test_request_context():
            answers.extend(client.request("GET", "/t").status_code for _ in range(3))

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 9
    assert server.connections == 3


def test_refused_slow_and_failing_services_are_503_problems(server, client) -> None:
    with pytest.raises(ServiceUnavailable):
        client.request("GET", "/fail")
    with pytest.raises(ServiceUnavailable):
        client.request("GET", "/slow")  # the read timeout is 1 s, the answer takes 3 s
    assert client.request("GET", "/after").status_code == 200  # the timed-out connection is not reused
    with socket.socket() as bound:  # a port held but not listening: every connection is refused
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        with pytest.raises(ServiceUnavailable):
            ServiceClient("ledger", f"http://127.0.0.1:{port}", "t" * 32, (1.0, 1.0)).request("GET", "/x")


def test_a_4xx_problem_is_the_callers_answer(client) -> None:
    answer = client.request("GET", "/missing")
    assert (answer.status_code, answer.headers["Content-Type"]) == (404, "application/problem+json")
    assert answer.json()["status"] == 404


def test_a_streamed_body_comes_whole_and_a_half_read_one_is_not_reused(server, client) -> None:
    with client.request("GET", "/big", stream=True) as answer:
        assert b"".join(answer.iter_content(16 * 1024)) == b"x" * 200_000
    assert client.request("GET", "/next").status_code == 200
    assert server.connections == 1  # read to the end: kept
    with client.request("GET", "/big", stream=True) as answer:
        assert 1 <= len(next(answer.iter_content(1024))) <= 1024
    assert client.request("GET", "/after").status_code == 200
    assert server.connections == 2  # half read: closed, a new one made


def test_only_http_urls_are_accepted() -> None:
    with pytest.raises(ValueError, match="http"):
        ServiceClient("ledger", "ftp://host/x", "t" * 32, (1.0, 1.0))


def test_a_chunked_body_is_passed_on_chunk_by_chunk(server, client) -> None:
    with client.request("GET", "/chunked", stream=True) as answer:
        pieces = answer.iter_content(16 * 1024)
        assert next(pieces) == b"first"  # before the service sends the rest: not held back to fill 16 KiB
        server.proceed.set()
        assert b"".join(pieces) == b"second"
    assert client.request("GET", "/next").status_code == 200
    assert server.connections == 1  # read to its end: kept


def test_a_body_cut_short_is_an_error_not_a_short_answer(server, client) -> None:
    with pytest.raises(ServiceUnavailable):
        client.request("GET", "/short")
    with client.request("GET", "/short", stream=True) as answer, pytest.raises(IncompleteRead):
        b"".join(answer.iter_content(64))
    assert client.request("GET", "/after").status_code == 200
    assert server.connections == 3  # neither cut connection was kept


def test_connection_close_is_honoured_and_a_probe_keeps_no_connection(server, client) -> None:
    assert client.request("GET", "/close").status_code == 200
    assert client.request("GET", "/next").status_code == 200
    assert server.connections == 2
    assert client.send("GET", "/probe", request_id="r", keep_alive=False).status_code == 200
    assert client.request("GET", "/next").status_code == 200
    assert server.connections == 3  # the probe took the kept connection and closed it; /next made a new one


def test_a_csv_download_whose_service_fails_before_its_first_byte_is_a_503_problem(client) -> None:
    with pytest.raises(ServiceUnavailable):
        csv_download(client, "/short-before-any-byte", {})
    response = csv_download(client, "/big", {})
    assert b"".join(response.response) == b"x" * 200_000
    response.close()


def test_a_body_up_to_the_close_comes_whole_and_its_connection_is_not_kept(server, client) -> None:
    answer = client.request("GET", "/until-close")
    assert (answer.status_code, answer.content) == (200, b"all of it")
    assert client.request("GET", "/next").status_code == 200
    assert server.connections == 2


def test_chunk_extensions_and_trailers_are_read_past_and_the_connection_kept(server, client) -> None:
    answer = client.request("GET", "/trailer")
    assert (answer.content, answer.headers["x-part"], answer.headers.get("Content-Type")) == (b"abc", "a", "text/csv")
    assert client.request("GET", "/next").status_code == 200
    assert server.connections == 1


def test_an_answer_without_a_body_keeps_its_connection_and_repeated_fields_are_joined(server, client) -> None:
    answer = client.request("GET", "/repeated")
    assert (answer.status_code, answer.content, answer.headers.get("X-PART")) == (204, b"", "a, b")
    assert "x-Part" in answer.headers and answer.headers.get("X-Missing") == ""
    assert client.request("GET", "/next").status_code == 200
    assert server.connections == 1


@pytest.mark.parametrize("path", ["/garbage", "/bad-chunk", "/bad-length"])
def test_an_answer_that_is_not_http_is_a_503_problem(server, client, path) -> None:
    with pytest.raises(ServiceUnavailable):
        client.request("GET", path)
    assert client.request("GET", "/after").status_code == 200
    assert server.connections == 2


def test_a_line_break_in_a_header_field_is_never_sent(server, client) -> None:
    with pytest.raises(ValueError, match="line break"):
        client.send("GET", "/x", request_id="a\r\nX-Injected: 1")
    assert server.requests == []


def test_an_https_service_is_called_over_tls_with_its_certificate_checked(tmp_path, monkeypatch) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"]
        + ["-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    running = Server()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    running.socket = context.wrap_socket(running.socket, server_side=True)
    threading.Thread(target=running.serve_forever, daemon=True).start()
    port = running.server_address[1]
    try:
        with Flask(__name__).test_request_context():
            untrusted = ServiceClient("ledger", f"https://localhost:{port}", "t" * 32, (1.0, 1.0))
            with pytest.raises(ServiceUnavailable):  # a certificate no CA of the machine signed
                untrusted.request("GET", "/x")
            monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # read when the client makes its TLS context
            trusting = ServiceClient("ledger", f"https://localhost:{port}", "t" * 32, (1.0, 1.0))
            for n in range(2):
                assert trusting.request("GET", f"/tls{n}").json() == {"path": f"/tls{n}"}
            trusting.close()
        assert [r[1] for r in running.requests] == ["/tls0", "/tls1"]
        assert running.requests[0][2]["Host"] == f"localhost:{port}"
    finally:
        running.shutdown()
        running.server_close()


def test_bytes_beyond_an_answers_end_never_become_the_next_answer(server, client) -> None:
    assert client.request("GET", "/overlong").json() == {}
    for n in range(3):  # not the stale answer the service wrote after the body
        assert client.request("GET", f"/next{n}").json() == {"path": f"/base/next{n}"}


def test_a_space_or_control_character_in_the_path_is_never_sent(server, client) -> None:
    for path in ("/a b", "/a\x00b", "/a\x7fb"):
        with pytest.raises(ServiceUnavailable):
            client.request("GET", path)
    assert server.requests == []
