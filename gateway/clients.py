"""HTTP clients of the services' internal APIs: one per service, failures mapped to problems."""

from __future__ import annotations

import json as jsonlib
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import urllib3
from flask import Response, g
from urllib3.exceptions import HTTPError

from shared.web.observability import REQUEST_ID_HEADER
from shared.web.problems import PROBLEM_JSON, ProblemError, problem_response

log = logging.getLogger("gateway.clients")
JSON = "application/json"


class ServiceUnavailable(ProblemError):
    """A 503 problem: the service is down, timed out, failed (5xx) or refused the gateway itself."""

    def __init__(self, service: str) -> None:
        super().__init__(503, "Service Unavailable", f"The {service} service is unavailable; try again later.")
        self.service = service


def customer_path(customer_code: str, query: str) -> str:
    """The internal path of a per-customer query; the code is quoted whole, '/' included."""
    return f"/internal/v1/customers/{quote(customer_code, safe='')}/{query}"


class Answer:
    """A service's answer: status, headers and the body (read whole, or streamed with `iter_content`)."""

    def __init__(self, raw: urllib3.BaseHTTPResponse) -> None:
        self.raw = raw
        self.status_code = raw.status
        self.reason = raw.reason
        self.headers = raw.headers

    @property
    def ok(self) -> bool:
        return self.status_code < 400

    @property
    def content(self) -> bytes:
        return self.raw.data

    def json(self) -> Any:
        """The body as JSON; ValueError if it is not."""
        return jsonlib.loads(self.content)

    def iter_content(self, chunk_size: int) -> Iterator[bytes]:
        """The body in chunks, as it arrives."""
        yield from self.raw.stream(chunk_size)

    def close(self) -> None:
        """Give the connection back to the pool; one whose body was not read to the end is closed first."""
        if not self.raw.isclosed():  # type: ignore[attr-defined]  # urllib3's HTTPResponse has it
            self.raw.close()
        self.raw.release_conn()

    def __enter__(self) -> Answer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ServiceClient:
    """Calls one service with the internal token, the request id and the configured timeouts.

    urllib3 directly, not requests: requests' per-call preparation (settings merge, hooks, cookies) was
    about a third of the gateway's CPU per query (docs/performance.md). One keep-alive pool per service,
    shared by the worker's threads; no retries (a failed call is a 503 at once), no proxy, no cookies.
    """

    def __init__(
        self, name: str, base_url: str, internal_token: str, timeout: tuple[float, float], pool_size: int = 32
    ) -> None:
        self.name, self.base_url = name, base_url.rstrip("/")
        self.timeout = urllib3.Timeout(connect=timeout[0], read=timeout[1])
        self.internal_token = internal_token
        self.pool = urllib3.connection_from_url(self.base_url, maxsize=pool_size, block=False, retries=False)
        self.prefix = urllib3.util.parse_url(self.base_url).path or ""

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
    ) -> Answer:
        """Any answer of the service; ServiceUnavailable when it is unreachable or too slow."""
        if request_id is None:  # outside a request (health probes) the caller passes it
            request_id = g.get("request_id", "")
        headers = {"X-Internal-Token": self.internal_token, REQUEST_ID_HEADER: request_id}
        body = None
        if json is not None:
            body = jsonlib.dumps(json).encode()
            headers["Content-Type"] = JSON
        url = self.prefix + path + ("?" + urlencode(params) if params else "")
        try:
            raw = self.pool.urlopen(
                method,
                url,
                body=body,
                headers=headers,
                retries=False,
                redirect=False,
                timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]) if timeout else self.timeout,
                preload_content=not stream,
            )
        except (HTTPError, OSError) as exc:
            log.warning("service call failed", extra={"service": self.name, "path": path, "error": str(exc)})
            raise ServiceUnavailable(self.name) from None
        return Answer(raw)

    def relay(self, path: str, params: dict[str, Any]) -> Response:
        """GET a JSON query and hand its answer (or its 4xx problem) on unchanged."""
        answer = self.request("GET", path, params=params)
        if answer.ok:
            return Response(answer.content, status=200, mimetype=JSON)
        return relay_problem(answer)

    def close(self) -> None:
        """Close the pooled connections."""
        self.pool.close()


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
