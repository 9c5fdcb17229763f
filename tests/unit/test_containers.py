"""The testcontainers set-up of tests/support/infra.py, against a stub Docker Engine API (no Docker here).

The stub answers the few calls testcontainers makes to create, start and wait for a container, and
records the create request: what a real engine would be asked to run.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support import infra

CONTAINER_ID = "c0ffee" * 10 + "abcd"


class StubEngine(BaseHTTPRequestHandler):
    """Just enough of the Docker Engine API (v1.44) for testcontainers' start() of one container."""

    created: list[dict] = []
    calls: list[str] = []

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def _answer(self, status: int, body: object = None, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if raw is not None else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.calls.append(f"GET {self.path}")
        path = self.path.split("?")[0]
        if path.endswith("/version"):
            self._answer(200, {"ApiVersion": "1.44", "Version": "25.0.0", "Os": "linux"})
        elif path.endswith("/_ping"):
            self._answer(200, raw=b"OK")
        elif "/images/" in path and path.endswith("/json"):
            self._answer(
                200,
                {
                    "Id": "sha256:" + "1" * 64,
                    "RepoTags": [self.created[-1]["Image"] if self.created else "apache/kafka:4.1.1"],
                },
            )
        elif path.endswith(f"/containers/{CONTAINER_ID}/json"):
            bindings = self.created[-1]["HostConfig"]["PortBindings"]
            self._answer(
                200,
                {
                    "Id": CONTAINER_ID,
                    "Name": "/stub",
                    "State": {"Status": "running", "Running": True},
                    "Config": {"Tty": True, "Image": self.created[-1]["Image"]},
                    "NetworkSettings": {"Ports": bindings, "Gateway": "", "IPAddress": "172.17.0.2"},
                },
            )
        elif path.endswith(f"/containers/{CONTAINER_ID}/logs"):
            self._answer(200, raw=b"[KafkaRaftServer nodeId=1] Kafka Server started\n")
        else:
            self._answer(404, {"message": f"not stubbed: {path}"})

    def do_POST(self) -> None:  # noqa: N802
        self.calls.append(f"POST {self.path}")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?")[0]
        if path.endswith("/containers/create"):
            self.created.append(json.loads(body))
            self._answer(201, {"Id": CONTAINER_ID, "Warnings": []})
        elif path.endswith(f"/containers/{CONTAINER_ID}/start"):
            self._answer(204)
        else:
            self._answer(404, {"message": f"not stubbed: {path}"})


@pytest.fixture
def engine(monkeypatch) -> Iterator[type[StubEngine]]:
    """A stub engine on a local port, DOCKER_HOST pointing at it, Ryuk (the reaper container) off."""
    from testcontainers.core.config import testcontainers_config

    StubEngine.created, StubEngine.calls = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), StubEngine)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{server.server_address[1]}")
    monkeypatch.delenv("TC_HOST", raising=False)
    monkeypatch.setattr(testcontainers_config, "ryuk_disabled", True)
    try:
        yield StubEngine
    finally:
        server.shutdown()
        server.server_close()


def test_kafka_is_the_apache_image_in_kraft_mode_advertised_on_its_published_port(engine):
    container = infra.kafka_container(19092, docker_client_kw={"version": "1.44"})
    container.start()  # create, start, then wait for the broker's "Kafka Server started" in its logs
    [created] = engine.created
    env = dict(item.split("=", 1) for item in created["Env"])
    assert created["Image"] == "apache/kafka:4.1.1"
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@localhost:9093"
    assert env["KAFKA_LISTENERS"] == "PLAINTEXT://0.0.0.0:9092,CONTROLLER://localhost:9093"
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://127.0.0.1:19092"  # where clients reconnect
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"  # topics come from shared.cli.admin, as in production
    assert env["KAFKA_MESSAGE_MAX_BYTES"] == "4194304"  # as scripts/kafka/server.properties
    assert created["ExposedPorts"] == {"9092/tcp": {}}
    assert created["HostConfig"]["PortBindings"] == {"9092/tcp": [{"HostIp": "", "HostPort": "19092"}]}
    assert "Cmd" not in created or created["Cmd"] is None  # the image's own start script
    assert any(call.startswith(f"POST /v1.44/containers/{CONTAINER_ID}/start") for call in engine.calls)
    assert any(f"/containers/{CONTAINER_ID}/logs" in call for call in engine.calls)


def test_every_server_setting_of_the_local_broker_is_given_to_the_container():
    properties = (infra.ROOT / "scripts" / "kafka" / "server.properties").read_text()
    names = {line.split("=", 1)[0] for line in properties.splitlines() if "=" in line and not line.startswith("#")}
    # the listeners, log directory and advertised address differ by design: set per container above
    per_container = {"listeners", "advertised.listeners", "log.dirs", "controller.quorum.voters", "log.retention.hours"}
    # TLS, SASL and ACLs are the local stack's (docs/security.md); a throwaway test container stays plaintext
    security = {n for n in names if n.startswith(("sasl.", "ssl.", "listener.name."))}
    security |= {"authorizer.class.name", "allow.everyone.if.no.acl.found", "super.users"}
    expected = {"KAFKA_" + name.upper().replace(".", "_") for name in names - per_container - security}
    assert expected <= set(infra.KAFKA_SETTINGS), expected - set(infra.KAFKA_SETTINGS)


def test_postgres_container_settings_and_url(engine):
    container = infra.postgres_container(docker_client_kw={"version": "1.44"})
    container._configure()  # what start() applies before creating the container
    assert container.image == "postgres:16"
    assert container.env == {"POSTGRES_USER": "portal", "POSTGRES_PASSWORD": "portal", "POSTGRES_DB": "postgres"}
    assert container.ports == {"5432": None}
    assert container.driver == ""  # a plain postgresql:// URL, as psycopg takes it
