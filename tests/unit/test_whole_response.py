"""Answers with an in-memory body reach the WSGI server as one bytes object in a list (shared/web/responses.py);
streams stay streams, and the answer's close callbacks still run."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Flask, Response, jsonify, stream_with_context
from werkzeug.test import EnvironBuilder

from shared.web.problems import ProblemError, register_problem_handlers
from shared.web.responses import WholeResponse


def make_app() -> tuple[Flask, list[str]]:
    app = Flask("whole")
    app.response_class = WholeResponse
    register_problem_handlers(app)
    closed: list[str] = []

    @app.get("/json")
    def as_json() -> Response:
        response = jsonify({"balance": 12345, "codes": ["A", "B"]})
        response.call_on_close(lambda: closed.append("json"))
        return response

    @app.get("/parts")
    def parts() -> WholeResponse:
        return WholeResponse([b"one,", b"two,", b"three"], mimetype="text/plain")

    @app.get("/stream")
    def stream() -> Response:
        def lines() -> Iterator[bytes]:
            yield b"first\n"
            yield b"second\n"

        response = WholeResponse(stream_with_context(lines()), mimetype="text/csv")
        response.call_on_close(lambda: closed.append("stream"))
        return response

    @app.get("/empty")
    def empty() -> tuple[str, int]:
        return "", 204

    @app.get("/problem")
    def problem() -> None:
        raise ProblemError(400, "Bad Request", "the as_of field is not a date")

    return app, closed


def call(app: Flask, path: str, method: str = "GET") -> tuple[str, dict[str, str], object]:
    """The app as the server sees it: status, headers and what it returned (not iterated)."""
    started: dict[str, object] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> None:
        started.update(status=status, headers=dict(headers))

    result = app.wsgi_app(EnvironBuilder(path=path, method=method).get_environ(), start_response)
    return started["status"], started["headers"], result  # type: ignore[return-value]


def test_a_json_answer_is_one_bytes_object_in_a_list_and_its_close_callbacks_run() -> None:
    app, closed = make_app()
    status, headers, result = call(app, "/json")
    assert status == "200 OK"
    assert isinstance(result, list) and len(result) == 1
    assert result[0] == b'{"balance":12345,"codes":["A","B"]}\n'
    assert headers["Content-Length"] == str(len(result[0]))
    assert closed == ["json"]  # run when the body was joined: nothing of it is needed after that


def test_a_body_of_several_chunks_is_joined_in_order() -> None:
    status, headers, result = call(make_app()[0], "/parts")
    assert status == "200 OK"
    assert result == [b"one,two,three"]
    assert headers["Content-Length"] == "13"


def test_a_stream_stays_a_stream_and_closes_when_the_server_closes_it() -> None:
    app, closed = make_app()
    status, headers, result = call(app, "/stream")
    assert status == "200 OK"
    assert not isinstance(result, list)
    assert "Content-Length" not in headers
    assert next(iter(result)) == b"first\n"  # type: ignore[call-overload]
    assert closed == []
    result.close()  # type: ignore[attr-defined]
    assert closed == ["stream"]


def test_no_body_for_a_204_or_a_head_request_while_head_keeps_the_length() -> None:
    app, _ = make_app()
    assert call(app, "/empty")[0] == "204 NO CONTENT"
    assert call(app, "/empty")[2] == []
    status, headers, result = call(app, "/json", method="HEAD")
    assert status == "200 OK"
    assert result == []
    assert headers["Content-Length"] == str(len(b'{"balance":12345,"codes":["A","B"]}\n'))


def test_a_problem_answer_is_whole_too() -> None:
    status, headers, result = call(make_app()[0], "/problem")
    assert status == "400 BAD REQUEST"
    assert headers["Content-Type"] == "application/problem+json"
    assert isinstance(result, list) and b"the as_of field is not a date" in result[0]
