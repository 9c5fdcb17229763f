"""Flask's JSON answers encoded by orjson: the values Flask's own provider writes, with less CPU per answer."""

from __future__ import annotations

import dataclasses
import decimal
from datetime import date
from typing import Any

import orjson
from flask import Flask, Response
from flask.json.provider import DefaultJSONProvider
from werkzeug.http import http_date

# orjson writes dates and timestamps itself (ISO 8601); passed through, they reach _default and come out as
# Flask writes them (an HTTP date). Our answers carry ISO strings already (shared/web/jsonready.py).
# Non-string keys are turned into strings, as json.dumps does.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    """What orjson does not write itself, as Flask's provider writes it."""
    if isinstance(value, date):
        return http_date(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class OrjsonProvider(DefaultJSONProvider):
    """Compact answers (Flask's separators, its closing newline), keys in the order given, UTF-8 unescaped.

    `dumps` with arguments orjson lacks (an indent, sorted keys) goes to Flask's own encoder; reading JSON
    (`loads`) stays Flask's. A value orjson refuses (an integer beyond 64 bits) is encoded by Flask's too.
    A float NaN or infinity becomes `null` (json.dumps would write `NaN`, which is not JSON).
    """

    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs:
            return super().dumps(obj, **kwargs)
        return self._encode(obj).decode()

    def response(self, *args: Any, **kwargs: Any) -> Response:
        body = self._encode(self._prepare_response_obj(args, kwargs)) + b"\n"
        return self._app.response_class(body, mimetype=self.mimetype)

    def _encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(obj, default=_default, option=_OPTIONS)
        except orjson.JSONEncodeError as exc:  # a TypeError, as json.dumps raises for what it cannot encode
            if "Integer exceeds 64-bit range" not in str(exc):
                raise
            return super().dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def use_orjson(app: Flask) -> None:
    """Answer with OrjsonProvider (before any request)."""
    app.json_provider_class = OrjsonProvider
    app.json = OrjsonProvider(app)
