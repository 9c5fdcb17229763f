"""Answers tagged by the read model's position: an `ETag` on each, and `304 Not Modified` for `If-None-Match`.

A service's answers change only when its projector commits (or a rebuild's switch makes another schema live), and
a projector stores each topic partition's next offset in `projector_offsets` in the same transaction as its rows.
So the live schema's name and those offsets, read before the answer's data, together with the request's path and
query string and what turns rows into answers (the code and the settings), make a validator that is never stale:

- an answer tagged with position P was computed from data at least as new as P;
- a request that reads position P again sees no commit after P, so the answer it would give is the one tagged P.

Read after the data instead, the position could tag an older answer with a newer position, and a client holding
it would be told `304` for ever after; `tagged_answer` therefore reads it first, on the request's connection.

The partition, not the customer, is the unit: a commit to a partition changes the tag of every customer on it.
A hit still costs the request its server and Flask layers, its argument parsing and the position's statement; it
saves the answer's statements, the rules and the JSON. docs/api.md says how a client uses it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from flask import Flask, Response, current_app, g, request
from psycopg.rows import DictRow

# One row: the live schema (the connection's search_path points at it) by name and oid (a plain rebuild drops the
# schema and makes a new one of the same name, which may come to the same offsets from other code), and every
# partition's next offset.
POSITION = (
    "SELECT current_schema() || '#' || (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) AS schema, "
    "coalesce(string_agg(topic || '/' || partition || '/' || next_offset, ' ' ORDER BY topic, partition), '') "
    "AS offsets FROM projector_offsets"
)
SECRET_MARKS = ("TOKEN", "PASSWORD", "SECRET", "DATABASE_URL", "KEY")
ROOT = Path(__file__).resolve().parents[2]


class NotModified(Exception):
    """The request's `If-None-Match` names the answer it would get: a `304` with that tag."""

    def __init__(self, tag: str) -> None:
        super().__init__(tag)
        self.tag = tag


def code_and_settings(service: str, config: Mapping[str, Any]) -> str:
    """A digest of what turns rows into answers: the service's and shared code, and its settings without secrets.

    The same in every worker process of one deployment; another deployment's code or settings give another one, so
    an answer cached under the old code is never confirmed by the new.
    """
    digest = hashlib.sha256(service.encode())
    for folder in (ROOT / "services" / service, ROOT / "shared"):
        for path in sorted(folder.rglob("*.py")):
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    settings = {
        key: value for key, value in config.items() if key.isupper() and not any(m in key for m in SECRET_MARKS)
    }
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def answer_tag(salt: str, schema: str, offsets: str, path: str, query: bytes) -> str:
    """The strong entity tag (quoted) of the answer to `path?query` at one position of one read model."""
    digest = hashlib.sha256(salt.encode())
    for part in (schema.encode(), offsets.encode(), path.encode(), query):
        digest.update(b"\0" + part)
    return f'"{digest.hexdigest()[:32]}"'


@contextmanager
def tagged_answer(conn: psycopg.Connection[DictRow]) -> Iterator[psycopg.Connection[DictRow]]:
    """The connection for a GET's whole answer, its position read first, in a statement of its own; the tag goes to
    `g.answer_tag`, and a request whose `If-None-Match` names it gets `NotModified` before any data is read.

    (Sent in a pipeline with the answer's own statement, the position cost the services and PostgreSQL more CPU
    than its round trip: docs/performance.md, change 36.)
    """
    g.answer_tag = _tag_of(conn.execute(POSITION).fetchone())
    condition = request.if_none_match
    # `*` matches any answer that exists: the view finds out (a 404 is not one), and `_tag` turns its 200 to a 304
    if condition and not condition.star_tag and condition.contains_weak(g.answer_tag.strip('"')):
        raise NotModified(g.answer_tag)  # weak comparison, as RFC 9110 asks for If-None-Match
    yield conn


def _tag_of(row: DictRow | None) -> str:
    assert row is not None  # an aggregate without GROUP BY has one row
    salt = current_app.config["ANSWER_TAG_SALT"]
    return answer_tag(salt, row["schema"], row["offsets"], request.path, request.query_string)


def register_validators(app: Flask, service: str) -> None:
    """Tag a GET's `200` answer when its view read the position; answer `NotModified` with a bodiless `304`."""
    app.config["ANSWER_TAG_SALT"] = code_and_settings(service, app.config)

    @app.errorhandler(NotModified)
    def _not_modified(exc: NotModified) -> Response:
        return Response(status=304, headers={"ETag": exc.tag})

    @app.after_request
    def _tag(response: Response) -> Response:
        tag = g.get("answer_tag")
        if not tag or response.status_code != 200 or request.method != "GET":
            return response
        if request.if_none_match.star_tag:
            return _not_modified(NotModified(tag))
        response.headers["ETag"] = tag
        return response
