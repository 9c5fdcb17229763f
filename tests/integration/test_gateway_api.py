"""The gateway against a real PostgreSQL (login limits) and real HTTP stubs playing the services.

The stubs are small Flask apps on free localhost ports with fixed answers; they record what the
gateway sent them. End-to-end tests with the real services live in tests/e2e.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from flask import Flask, Response, request
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from gateway.app import create_app
from gateway.auth import issue_token
from shared.cli.admin import create_databases
from shared.config import with_database
from shared.timeutil import today_budapest

SERVER_DSN = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5433/postgres")
GATEWAY_DSN = os.environ.get("GATEWAY_DATABASE_URL") or with_database(SERVER_DSN, "portal_gateway")
SECRET = "integration-test-secret-0123456789-abc"
INTERNAL_TOKEN = "internal-token-for-tests"
OPERATOR = {"X-Internal-Token": INTERNAL_TOKEN}  # /metrics and the /health details are for operators
SERVICES = ("contracts", "ledger", "tickets", "quota")
CSV_BODY = "call_id,opened_at,subject\r\nK-1,2026-03-01T10:00:00+01:00,Árvíztűrő\r\n"
Answer = Callable[[], Any]


class Stub:
    """A real HTTP server answering one service's internal API; records every request it gets."""

    def __init__(self, name: str) -> None:
        self.name, self.received, self.delay_s = name, [], 0.0
        self.answers: dict[str, Answer] = {
            "ready": lambda: {
                "status": "ok",
                "database": "ok",
                "kafka": "ok",
                "lag": {f"{name}.topic": {"messages": 3}},
                "rejected_events": 0,
            }
        }
        app = Flask(f"stub_{name}")
        app.add_url_rule("/<path:path>", view_func=self._handle, methods=["GET", "POST"])
        # Single-threaded: HTTP/1.0, one connection per request, so a stopped stub is really gone.
        self.server = make_server("127.0.0.1", 0, app)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def _handle(self, path: str) -> Any:
        self.received.append(
            {
                "path": path,
                "raw_uri": request.environ.get("RAW_URI"),
                "args": request.args.to_dict(),
                "json": request.get_json(silent=True),
                "headers": dict(request.headers),
            }
        )
        time.sleep(self.delay_s)
        answer = self.answers.get(path.rsplit("/", 1)[-1])
        return answer() if answer else ({"title": "Not Found", "status": 404}, 404)

    def calls(self, endpoint: str) -> list[dict[str, Any]]:
        """The recorded requests to one endpoint (last path segment)."""
        return [r for r in self.received if r["path"].rsplit("/", 1)[-1] == endpoint]

    def stop(self) -> None:
        """Shut the server down and close its socket."""
        if self.thread.is_alive():
            self.server.shutdown()
            self.thread.join()
            self.server.server_close()


def problem(status: int, title: str) -> Answer:
    """An answer that is a problem+json body."""
    return lambda: Response(
        f'{{"type":"about:blank","title":"{title}","status":{status},"detail":"x"}}',
        status=status,
        mimetype="application/problem+json",
    )


@pytest.fixture(scope="module", autouse=True)
def gateway_database() -> None:
    """The gateway database exists (idempotent)."""
    create_databases(SERVER_DSN, ["gateway"])


@pytest.fixture
def stubs() -> Iterator[dict[str, Stub]]:
    """One running stub per service."""
    running = {name: Stub(name) for name in SERVICES}
    yield running
    for stub in running.values():
        stub.stop()


@pytest.fixture
def make_client(stubs: dict[str, Stub]) -> Iterator[Callable[..., FlaskClient]]:
    """Builds gateway apps (each a separate 'worker') on the stubs; every client has its own address."""
    apps: list[Flask] = []
    address = f"10.{uuid4().int % 250}.{uuid4().int % 250}.{uuid4().int % 250}"

    def build(**settings: Any) -> FlaskClient:
        config = {
            "INTERNAL_TOKEN": INTERNAL_TOKEN,
            "GATEWAY_SECRET_KEY": SECRET,
            "DATABASE_URL": GATEWAY_DSN,
            "SERVICE_TIMEOUT_S": 1.0,
            "LOGIN_QUEUE_WAIT_S": 30.0,  # parallel logins queue for a check slot, except where a test says otherwise
            **{f"{n.upper()}_URL": s.url for n, s in stubs.items()},
            **settings,
        }
        app = create_app(config)
        apps.append(app)
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        return client

    yield build
    for app in apps:
        app.extensions["gateway"].close()


@pytest.fixture
def client(make_client: Callable[..., FlaskClient]) -> FlaskClient:
    """A gateway client with default settings."""
    return make_client()


@pytest.fixture
def customer(stubs: dict[str, Stub]) -> dict[str, str]:
    """A customer the contracts stub knows, with a password; the code contains '/'."""
    known = {
        "customer_code": f"C/{uuid4().hex[:8]}",
        "serial_number": f"SN-{uuid4().hex[:6]}",
        "password": "correct horse",
        "name": "Példa Kft.",
    }

    def check() -> Any:
        body = request.get_json()
        valid = (body["customer_code"], body["serial_number"], body["password"]) == (
            known["customer_code"],
            known["serial_number"],
            known["password"],
        )
        return {"valid": valid, "customer_name": known["name"] if valid else None}

    stubs["contracts"].answers["check"] = check
    return known


def login(client: FlaskClient, customer: dict[str, str], **changes: Any) -> Any:
    """POST /api/v1/sessions with the customer's credentials, some changed."""
    body = {k: customer[k] for k in ("customer_code", "serial_number", "password")} | changes
    return client.post("/api/v1/sessions", json={k: v for k, v in body.items() if v is not None})


def bearer(client: FlaskClient, customer: dict[str, str]) -> dict[str, str]:
    """Authorization header of a fresh session."""
    response = login(client, customer)
    assert response.status_code == 201, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


# --- login --------------------------------------------------------------------------------------


def test_login_returns_a_token_bound_to_customer_and_serial(
    client: FlaskClient, customer: dict[str, str], stubs: dict[str, Stub]
) -> None:
    response = login(client, customer)
    body = response.get_json()
    assert response.status_code == 201
    assert (body["customer_code"], body["serial_number"], body["customer_name"]) == (
        customer["customer_code"],
        customer["serial_number"],
        "Példa Kft.",
    )
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert timedelta(minutes=29) < expires_at - datetime.now(UTC) <= timedelta(minutes=30)
    assert response.headers["Cache-Control"] == "no-store"
    sent = stubs["contracts"].calls("check")[-1]
    assert sent["json"] == {
        "customer_code": customer["customer_code"],
        "serial_number": customer["serial_number"],
        "password": "correct horse",
        "today": today_budapest().isoformat(),
    }
    assert sent["headers"]["X-Internal-Token"] == INTERNAL_TOKEN


def test_every_failed_login_is_the_same_401(client: FlaskClient, customer: dict[str, str]) -> None:
    failures = [
        login(client, customer, customer_code=f"C-{uuid4().hex[:8]}"),  # unknown customer
        login(client, customer, serial_number="SN-not-theirs"),
        login(client, customer, password="wrong"),
        login(client, customer, password=None),
    ]  # password missing
    assert [r.status_code for r in failures] == [401] * 4
    assert {r.data for r in failures} == {failures[0].data}
    assert failures[0].get_json()["title"] == "Invalid credentials"
    assert failures[0].mimetype == "application/problem+json"
    assert {r.headers["WWW-Authenticate"] for r in failures} == {'Bearer realm="portal"'}


@pytest.mark.parametrize("body", [None, "not json", "[1, 2]", '{"customer_code": "C1"}', '{"customer_code": 5}'])
def test_malformed_login_is_a_400_not_a_failed_login(
    client: FlaskClient, stubs: dict[str, Stub], body: str | None
) -> None:
    response = client.post("/api/v1/sessions", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["title"] == "Invalid request" and response.get_json()["errors"]
    assert stubs["contracts"].calls("check") == []


def test_sixth_failure_for_a_code_is_429_without_asking_contracts(
    client: FlaskClient, customer: dict[str, str], stubs: dict[str, Stub]
) -> None:
    assert [login(client, customer, password="wrong").status_code for _ in range(5)] == [401] * 5
    limited = login(client, customer)  # even the right password
    assert limited.status_code == 429
    assert limited.get_json()["title"] == "Too Many Requests"
    assert 890 <= int(limited.headers["Retry-After"]) <= 900
    assert len(stubs["contracts"].calls("check")) == 5
    metrics = client.get("/metrics", headers=OPERATOR).get_data(as_text=True)
    assert "login_failures_total 5.0" in metrics and "login_rate_limited_total 1.0" in metrics


def test_limit_holds_across_two_gateway_workers(
    make_client: Callable[..., FlaskClient], customer: dict[str, str]
) -> None:
    first, second = make_client(), make_client()
    statuses = [
        login(worker, customer, password="wrong").status_code for worker in (first, second, first, second, first)
    ]
    assert statuses == [401] * 5
    assert login(second, customer).status_code == 429
    assert login(first, customer).status_code == 429


def test_a_burst_of_parallel_guesses_gets_only_five_checks(
    make_client: Callable[..., FlaskClient], customer: dict[str, str], stubs: dict[str, Stub]
) -> None:
    workers = [make_client(), make_client()]
    statuses: list[int] = []

    def guess(n: int) -> None:
        own = workers[n % 2].application.test_client()  # a test client per thread, same address
        own.environ_base.update(workers[n % 2].environ_base)
        statuses.append(login(own, customer, password=f"guess-{n}").status_code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [401] * 5 + [429] * 7
    assert len(stubs["contracts"].calls("check")) == 5


def test_a_login_that_finds_every_check_slot_taken_gets_a_quick_429(
    make_client: Callable[..., FlaskClient], customer: dict[str, str], stubs: dict[str, Stub]
) -> None:
    client = make_client(LOGIN_CHECKS_AT_ONCE=2, LOGIN_QUEUE_WAIT_S=0.0)
    slots = client.application.extensions["gateway"].login_slots
    slots.acquire()
    slots.acquire()  # both checks of this process are busy (held here instead of by slow verifications)
    try:
        response = login(client, customer)
    finally:
        slots.release()
        slots.release()
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "1"
    assert response.get_json()["detail"].startswith("Too many logins are being checked")
    assert stubs["contracts"].calls("check") == []  # nothing checked, nothing counted
    assert [login(client, customer, password="wrong").status_code for _ in range(5)] == [401] * 5
    assert login(client, customer).status_code == 429  # the sixth failure-limit answer, not the busy one
    assert slots.taken == 0


def test_32_concurrent_logins_get_201_or_429_never_5xx(
    make_client: Callable[..., FlaskClient], customer: dict[str, str], stubs: dict[str, Stub]
) -> None:
    client = make_client(LOGIN_CHECKS_AT_ONCE=2, LOGIN_QUEUE_WAIT_S=0.05, SERVICE_TIMEOUT_S=60.0)
    slots = client.application.extensions["gateway"].login_slots
    verifying, answered = threading.Event(), stubs["contracts"].answers["check"]

    def slow_check() -> Any:
        verifying.wait(60)  # the checks in flight last until the test lets them finish
        return answered()

    stubs["contracts"].answers["check"] = slow_check
    statuses: list[int] = []

    def log_in() -> None:
        own = client.application.test_client()
        own.environ_base.update(client.environ_base)
        response = login(own, customer)
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.headers["Retry-After"] == "1"

    first = [threading.Thread(target=log_in) for _ in range(2)]
    for thread in first:
        thread.start()
    deadline = time.monotonic() + 30
    while slots.taken < 2 and time.monotonic() < deadline:
        time.sleep(0.01)  # polling for the condition, bounded
    assert slots.taken == 2
    rest = [threading.Thread(target=log_in) for _ in range(30)]
    for thread in rest:
        thread.start()
    for thread in rest:
        thread.join()
    assert sorted(statuses) == [429] * 30  # answered while the two checks still run
    verifying.set()
    for thread in first:
        thread.join()
    assert sorted(statuses) == [201] * 2 + [429] * 30
    assert len(stubs["contracts"].calls("check")) == 2


def test_success_neither_counts_nor_clears(client: FlaskClient, customer: dict[str, str]) -> None:
    assert [login(client, customer).status_code for _ in range(6)] == [201] * 6
    assert [login(client, customer, password="wrong").status_code for _ in range(5)] == [401] * 5
    assert login(client, customer).status_code == 429


def test_per_address_limit_ignores_forwarded_for_unless_trusted(
    make_client: Callable[..., FlaskClient], customer: dict[str, str]
) -> None:
    direct = make_client(LOGIN_FAILURES_PER_ADDRESS=3)
    for n in range(3):
        forged = {"X-Forwarded-For": f"192.0.2.{n}"}
        body = {"customer_code": f"C-{uuid4().hex[:8]}", "serial_number": "S", "password": "p"}
        assert direct.post("/api/v1/sessions", json=body, headers=forged).status_code == 401
    assert (
        direct.post(
            "/api/v1/sessions",
            json={"customer_code": f"C-{uuid4().hex[:8]}", "serial_number": "S"},
            headers={"X-Forwarded-For": "192.0.2.99"},
        ).status_code
        == 429
    )
    proxied = make_client(LOGIN_FAILURES_PER_ADDRESS=3, TRUST_PROXY=1)
    client_address = {"X-Forwarded-For": f"198.51.100.{uuid4().int % 250}"}
    assert (
        proxied.post("/api/v1/sessions", json={**customer, "password": "wrong"}, headers=client_address).status_code
        == 401
    )  # its own address, not the proxy's


def test_oversized_body_is_413(client: FlaskClient, stubs: dict[str, Stub]) -> None:
    response = client.post("/api/v1/sessions", data="x" * (17 * 1024), content_type="application/json")
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json" and response.get_json()["status"] == 413
    assert stubs["contracts"].received == []


# --- queries ------------------------------------------------------------------------------------


def answer_everything(stubs: dict[str, Stub]) -> None:
    """Fixed JSON answers for the five queries."""
    stubs["ledger"].answers["balance"] = lambda: {"balance": 1200, "status": "arrears"}
    stubs["tickets"].answers["support-calls"] = lambda: (
        Response(CSV_BODY, mimetype="text/csv") if request.args.get("format") == "csv" else {"total": 7}
    )
    stubs["quota"].answers["quota"] = lambda: {"used_minutes": 90}
    stubs["contracts"].answers["contract-annex"] = lambda: {"contracts": []}
    stubs["contracts"].answers["expected-fee"] = lambda: {"contracts": [{"net_total": 1}]}


QUERIES = [
    ("/api/v1/balance", "ledger", "balance", {"balance": 1200, "status": "arrears"}),
    ("/api/v1/support-calls", "tickets", "support-calls", {"total": 7}),
    ("/api/v1/quota", "quota", "quota", {"used_minutes": 90}),
    ("/api/v1/contract-annex", "contracts", "contract-annex", {"contracts": []}),
    ("/api/v1/expected-fee", "contracts", "expected-fee", {"contracts": [{"net_total": 1}]}),
]


@pytest.mark.parametrize(("path", "service", "endpoint", "expected"), QUERIES)
def test_query_asks_for_the_tokens_customer_only(
    client: FlaskClient,
    customer: dict[str, str],
    stubs: dict[str, Stub],
    path: str,
    service: str,
    endpoint: str,
    expected: dict[str, Any],
) -> None:
    answer_everything(stubs)
    headers = {**bearer(client, customer), "X-Request-ID": "req-123"}
    response = client.get(f"{path}?customer_code=C-other&serial_number=SN-other", headers=headers)
    assert response.status_code == 200 and response.get_json() == expected
    sent = stubs[service].calls(endpoint)[-1]
    code = customer["customer_code"].replace("/", "%2F")
    assert sent["raw_uri"].startswith(f"/internal/v1/customers/{code}/{endpoint}?")
    assert (sent["headers"]["X-Internal-Token"], sent["headers"]["X-Request-Id"]) == (INTERNAL_TOKEN, "req-123")
    assert "customer_code" not in sent["args"]
    assert sent["args"].get("serial_number") == (customer["serial_number"] if service == "ledger" else None)
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_dates_default_to_today_in_budapest_and_are_passed_through(
    client: FlaskClient, customer: dict[str, str], stubs: dict[str, Stub]
) -> None:
    answer_everything(stubs)
    headers = bearer(client, customer)
    client.get("/api/v1/balance", headers=headers)
    client.get("/api/v1/quota?settlement_date=2026-02-28", headers=headers)
    client.get("/api/v1/support-calls?from=2026-01-01&to=2026-01-31&q=printer&category=other&page=2", headers=headers)
    assert stubs["ledger"].calls("balance")[-1]["args"]["as_of"] == today_budapest().isoformat()
    assert stubs["quota"].calls("quota")[-1]["args"] == {"settlement_date": "2026-02-28"}
    assert stubs["tickets"].calls("support-calls")[-1]["args"] == {
        "status": "all",
        "page": "2",
        "per_page": "50",
        "category": "other",
        "from": "2026-01-01",
        "to": "2026-01-31",
        "q": "printer",
    }


@pytest.mark.parametrize("ask", [{"query_string": "format=csv"}, {"headers": {"Accept": "text/csv"}}])
def test_support_calls_csv_is_streamed_through(
    client: FlaskClient, customer: dict[str, str], stubs: dict[str, Stub], ask: dict[str, Any]
) -> None:
    answer_everything(stubs)
    headers = {**bearer(client, customer), **ask.get("headers", {})}
    response = client.get("/api/v1/support-calls", query_string=ask.get("query_string"), headers=headers)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="support-calls.csv"'
    assert response.get_data(as_text=True) == CSV_BODY
    assert stubs["tickets"].calls("support-calls")[-1]["args"]["format"] == "csv"
    response.close()


def test_a_password_change_ends_older_sessions_with_one_call_per_refresh(
    make_client: Callable[..., FlaskClient], customer: dict[str, str], stubs: dict[str, Stub]
) -> None:
    client = make_client(PASSWORD_STATE_CACHE_S=0.0)  # every query refreshes: the test needs no waiting
    answer_everything(stubs)
    headers = bearer(client, customer)
    changes: list[dict[str, str]] = [{"customer_code": "someone-else", "changed_at": "2099-01-01T00:00:00+00:00"}]
    stubs["contracts"].answers["portal-password-changes"] = lambda: {"changes": changes}
    assert client.get("/api/v1/quota", headers=headers).status_code == 200
    later = (datetime.now(UTC) + timedelta(seconds=5)).isoformat()
    changes.append({"customer_code": customer["customer_code"], "changed_at": later})
    ended = client.get("/api/v1/quota", headers=headers)
    assert ended.status_code == 401
    assert "password changed" in ended.get_json()["detail"]
    polls = stubs["contracts"].calls("portal-password-changes")
    assert len(polls) == 2 and all(p["path"] == "internal/v1/portal-password-changes" for p in polls)
    since = datetime.fromisoformat(polls[0]["args"]["since"])
    assert timedelta(minutes=30) < datetime.now(UTC) - since < timedelta(minutes=40)  # the token lifetime back
    assert stubs["contracts"].calls("portal-password") == []  # no call per customer
    stubs["contracts"].answers["portal-password-changes"] = problem(500, "Internal Server Error")
    assert client.get("/api/v1/quota", headers=headers).status_code == 401  # the last snapshot stays in use


def test_password_changes_are_polled_once_a_while_not_per_query(
    make_client: Callable[..., FlaskClient], customer: dict[str, str], stubs: dict[str, Stub]
) -> None:
    client = make_client(PASSWORD_STATE_CACHE_S=3600.0)
    answer_everything(stubs)
    stubs["contracts"].answers["portal-password-changes"] = lambda: {"changes": []}
    headers = bearer(client, customer)
    assert [client.get("/api/v1/quota", headers=headers).status_code for _ in range(5)] == [200] * 5
    assert len(stubs["contracts"].calls("portal-password-changes")) == 1


def test_queries_without_a_valid_token_are_401(
    client: FlaskClient, customer: dict[str, str], stubs: dict[str, Stub]
) -> None:
    answer_everything(stubs)
    token = bearer(client, customer)["Authorization"].removeprefix("Bearer ")
    expired, _ = issue_token(
        SECRET, customer["customer_code"], customer["serial_number"], 30, now=datetime.now(UTC) - timedelta(hours=1)
    )
    foreign, _ = issue_token("some-other-secret-0123456789-abcdefgh", customer["customer_code"], "SN", 30)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for headers in (
        {},
        {"Authorization": token},
        {"Authorization": f"Basic {token}"},
        {"Authorization": f"Bearer {expired}"},
        {"Authorization": f"Bearer {foreign}"},
        {"Authorization": f"Bearer {tampered}"},
    ):
        for path, *_ in QUERIES:
            response = client.get(path, headers=headers)
            assert (response.status_code, response.get_json()["title"]) == (401, "Unauthorized"), (path, headers)
    assert all(stub.calls(endpoint) == [] for _, name, endpoint, _ in QUERIES for stub in [stubs[name]])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("/api/v1/balance?as_of=2026-13-01", "as_of"),
        ("/api/v1/balance?as_of=20260301", "as_of"),
        ("/api/v1/quota?settlement_date=yesterday", "settlement_date"),
        ("/api/v1/contract-annex?as_of=2026-02-30", "as_of"),
        ("/api/v1/expected-fee?as_of=", "as_of"),
        ("/api/v1/support-calls?page=0", "page"),
        ("/api/v1/support-calls?page=abc", "page"),
        ("/api/v1/support-calls?per_page=201", "per_page"),
        ("/api/v1/support-calls?per_page=0", "per_page"),
        ("/api/v1/support-calls?status=pending", "status"),
        ("/api/v1/support-calls?category=x", "category"),
        ("/api/v1/support-calls?from=2026-1-5", "from"),
        ("/api/v1/support-calls?from=2026-02-01&to=2026-01-01", "to"),
    ],
)
def test_malformed_query_is_a_400_naming_the_field(
    client: FlaskClient, customer: dict[str, str], stubs: dict[str, Stub], query: str, field: str
) -> None:
    response = client.get(query, headers=bearer(client, customer))
    body = response.get_json()
    assert (response.status_code, response.mimetype, body["title"]) == (
        400,
        "application/problem+json",
        "Invalid request",
    )
    assert list(body["errors"]) == [field]
    assert all(stub.calls(e) == [] for _, name, e, _ in QUERIES for stub in [stubs[name]])


def test_service_problems_are_passed_through(
    client: FlaskClient, customer: dict[str, str], stubs: dict[str, Stub]
) -> None:
    stubs["quota"].answers["quota"] = problem(404, "No support year")
    stubs["contracts"].answers["contract-annex"] = problem(404, "No contract")
    headers = bearer(client, customer)
    quota = client.get("/api/v1/quota", headers=headers)
    annex = client.get("/api/v1/contract-annex", headers=headers)
    assert (quota.status_code, quota.get_json()["title"]) == (404, "No support year")
    assert (annex.status_code, annex.get_json()["title"]) == (404, "No contract")
    assert annex.mimetype == "application/problem+json"


def test_a_stopped_service_fails_only_its_queries(
    client: FlaskClient, customer: dict[str, str], stubs: dict[str, Stub]
) -> None:
    answer_everything(stubs)
    headers = bearer(client, customer)
    stubs["ledger"].stop()
    response = client.get("/api/v1/balance", headers=headers)
    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    assert response.get_json()["title"] == "Service Unavailable" and "ledger" in response.get_json()["detail"]
    for path, service, _, expected in QUERIES:
        if service != "ledger":
            assert client.get(path, headers=headers).get_json() == expected


def test_slow_failing_or_refusing_services_are_503(
    make_client: Callable[..., FlaskClient], customer: dict[str, str], stubs: dict[str, Stub]
) -> None:
    client = make_client(SERVICE_TIMEOUT_S=0.3)
    answer_everything(stubs)
    headers = bearer(client, customer)
    stubs["tickets"].delay_s = 1.0
    stubs["quota"].answers["quota"] = problem(500, "Internal Server Error")
    stubs["contracts"].answers["expected-fee"] = problem(401, "Unauthorized")  # our internal token refused
    # The stub answers 200 after 1 s: a 503 means the gateway's 0.3 s timeout fired.
    assert client.get("/api/v1/support-calls", headers=headers).status_code == 503
    assert client.get("/api/v1/quota", headers=headers).get_json()["detail"].startswith("The quota service")
    assert client.get("/api/v1/expected-fee", headers=headers).status_code == 503


def test_the_credentials_check_has_its_own_read_timeout(
    make_client: Callable[..., FlaskClient], customer: dict[str, str], stubs: dict[str, Stub]
) -> None:
    stubs["contracts"].delay_s = 1.0  # a verification on a busy machine: longer than a query may take
    patient = make_client(SERVICE_TIMEOUT_S=0.2, LOGIN_CHECK_TIMEOUT_S=30.0)
    assert login(patient, customer).status_code == 201
    hasty = make_client(SERVICE_TIMEOUT_S=30.0, LOGIN_CHECK_TIMEOUT_S=0.2)
    assert login(hasty, customer).status_code == 503


def test_login_with_contracts_down_is_503_and_not_a_failure(
    client: FlaskClient, customer: dict[str, str], stubs: dict[str, Stub]
) -> None:
    stubs["contracts"].stop()
    assert [login(client, customer, password="wrong").status_code for _ in range(6)] == [503] * 6


# --- documentation and operations ---------------------------------------------------------------


def test_openapi_document_lists_the_operations(client: FlaskClient) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    operations = {(path, method) for path, item in doc["paths"].items() for method in item if method != "parameters"}
    assert doc["openapi"] == "3.1.0"
    assert operations == {
        ("/api/v1/sessions", "post"),
        ("/api/v1/balance", "get"),
        ("/api/v1/support-calls", "get"),
        ("/api/v1/quota", "get"),
        ("/api/v1/contract-annex", "get"),
        ("/api/v1/expected-fee", "get"),
        ("/api/v1/invoices", "get"),
        ("/api/v1/statements/settlement-sheet", "get"),
        ("/api/v1/payment-qr.png", "get"),
        ("/api/v1/payment-qr.svg", "get"),
        ("/api/v1/support-calls/{call_id}", "get"),
        ("/api/v1/support-calls", "post"),
        ("/api/v1/support-calls/{call_id}/replies", "post"),
        ("/api/v1/portal-password", "put"),
        ("/api/v1/portal-password", "delete"),
    }
    keys = [p for p in doc["paths"]["/api/v1/support-calls"]["post"]["parameters"] if p["in"] == "header"]
    assert [(p["name"], p["required"]) for p in keys] == [("Idempotency-Key", True)]
    params = {p["name"] for p in doc["paths"]["/api/v1/support-calls"]["get"]["parameters"]}
    assert params == {"status", "category", "from", "to", "q", "page", "per_page", "format", "lang"}
    assert doc["paths"]["/api/v1/balance"]["get"]["security"] == [{"bearerAuth": []}]


def test_health_reports_each_service(make_client: Callable[..., FlaskClient], stubs: dict[str, Stub]) -> None:
    client = make_client(LAG_DEGRADED_MESSAGES=1000)
    healthy = client.get("/health", headers=OPERATOR).get_json()
    assert healthy["status"] == "ok"
    assert healthy["services"]["ledger"] == {
        "status": "ok",
        "lag": {"ledger.topic": {"messages": 3}},
        "database": "ok",
        "kafka": "ok",
        "rejected_events": 0,
    }
    stubs["quota"].answers["ready"] = lambda: {
        "status": "ok",
        "database": "ok",
        "kafka": "ok",
        "lag": {"quota.topic": {"messages": 1001}},
        "rejected_events": 2,
    }
    degraded = client.get("/health", headers=OPERATOR).get_json()
    assert (degraded["status"], degraded["services"]["quota"]["status"]) == ("degraded", "degraded")
    stubs["tickets"].answers["ready"] = lambda: (
        {"status": "down", "database": "down", "kafka": "ok", "lag": {}, "rejected_events": None},
        503,
    )
    stubs["contracts"].stop()
    down = client.get("/health", headers=OPERATOR).get_json()
    assert down["status"] == "down"
    assert {name: s["status"] for name, s in down["services"].items()} == {
        "contracts": "down",
        "ledger": "ok",
        "tickets": "down",
        "quota": "degraded",
    }
    assert down["services"]["tickets"]["database"] == "down"
    assert down["services"]["contracts"]["lag"] is None


def test_gateway_liveness_readiness_and_metrics(client: FlaskClient) -> None:
    assert client.get("/health/live").get_json() == {"status": "ok", "service": "gateway"}
    ready = client.get("/health/ready")
    assert (ready.status_code, ready.get_json()["database"]) == (200, "ok")
    metrics = client.get("/metrics", headers=OPERATOR)
    assert metrics.mimetype == "text/plain"
    assert 'http_requests_total{endpoint="/health/ready",method="GET",status="200"} 1.0' in metrics.get_data(
        as_text=True
    )


def test_metrics_and_health_details_need_the_internal_token(client: FlaskClient) -> None:
    for headers in (
        {},
        {"X-Internal-Token": "wrong"},
        {"Authorization": "Bearer wrong"},
        {"X-Internal-Token": INTERNAL_TOKEN[:-1]},
        {"Authorization": f"Basic {INTERNAL_TOKEN}"},
    ):
        metrics = client.get("/metrics", headers=headers)
        assert (metrics.status_code, metrics.mimetype) == (401, "application/problem+json"), headers
        assert "http_requests_total" not in metrics.get_data(as_text=True)
        public = client.get("/health", headers=headers).get_json()
        assert set(public) == {"status"}, headers
    for headers in (OPERATOR, {"Authorization": f"Bearer {INTERNAL_TOKEN}"}):
        assert client.get("/metrics", headers=headers).status_code == 200
        assert set(client.get("/health", headers=headers).get_json()) == {"status", "services"}
