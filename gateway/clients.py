"""HTTP clients of the services' internal APIs: one per service, failures mapped to problems."""

from __future__ import annotations

import logging
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import quote

import requests
from flask import Response, g
from requests.adapters import HTTPAdapter

from shared.observability import REQUEST_ID_HEADER
from shared.problems import PROBLEM_JSON, ProblemError, problem_response

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


class ServiceClient:
    """Calls one service with the internal token, the request id and the configured timeouts."""

    def __init__(self, name: str, base_url: str, internal_token: str, timeout: tuple[float, float]) -> None:
        self.name, self.base_url, self.timeout = name, base_url.rstrip("/"), timeout
        self.internal_token = internal_token
        self.session = pooled_session()

    def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None, stream: bool = False
    ) -> requests.Response:
        """The service's answer below 500; ServiceUnavailable for anything that is the service's fault."""
        answer = self.send(method, path, params=params, json=json, stream=stream)
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
    ) -> requests.Response:
        """Any answer of the service; ServiceUnavailable when it is unreachable or too slow."""
        if request_id is None:  # outside a request (health probes) the caller passes it
            request_id = g.get("request_id", "")
        headers = {"X-Internal-Token": self.internal_token, REQUEST_ID_HEADER: request_id}
        try:
            return self.session.request(
                method,
                self.base_url + path,
                params=params,
                json=json,
                headers=headers,
                stream=stream,
                timeout=timeout or self.timeout,
            )
        except requests.RequestException as exc:
            log.warning("service call failed", extra={"service": self.name, "path": path, "error": str(exc)})
            raise ServiceUnavailable(self.name) from None

    def relay(self, path: str, params: dict[str, Any]) -> Response:
        """GET a JSON query and hand its answer (or its 4xx problem) on unchanged."""
        answer = self.request("GET", path, params=params)
        if answer.ok:
            return Response(answer.content, status=200, mimetype=JSON)
        return relay_problem(answer)

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()


def pooled_session(size: int = 32) -> requests.Session:
    """A session safe to share across threads: pooled keep-alive connections, no cookie state."""
    session = requests.Session()
    session.trust_env = False  # internal calls never go through an environment proxy
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def relay_problem(answer: requests.Response) -> Response:
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
