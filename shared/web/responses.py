"""Answers whose body is in memory go to the WSGI server whole, as a list of one bytes object.

Werkzeug hands every body to the server as an iterator (`ClosingIterator` over `iter_encoded()`). Granian sends an
iterator as a stream: a channel between the worker's thread and the server's, the body pulled chunk by chunk while
the GIL is held; a list it sends as one full body (`response_bytes`), and gunicorn writes a list without a
generator. A body that is a list or a tuple of chunks (every JSON answer, a problem, a PDF) is joined once here; a
generator (the CSV downloads) stays a stream, sent as it is produced.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import flask


class WholeResponse(flask.Response):
    """`flask.Response` whose in-memory body reaches the server as `[body]` (or `[]` when empty)."""

    def get_app_iter(self, environ: dict[str, Any]) -> Iterable[bytes]:
        chunks = super().get_app_iter(environ)
        if self.direct_passthrough or not self.is_sequence:
            return chunks  # a stream, or a body the server is to pass on as it is
        try:
            body = b"".join(chunks)
        finally:
            chunks.close()  # type: ignore[attr-defined]  # a ClosingIterator: the response's close callbacks
        return [body] if body else []
