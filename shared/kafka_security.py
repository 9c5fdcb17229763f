"""Kafka security: the client settings of this process, and who may do what on the broker.

`client_kwargs()` turns the settings (KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD[_FILE],
KAFKA_SSL_CAFILE) into kafka-python keyword arguments; every KafkaProducer, KafkaConsumer and KafkaAdminClient
of the project is made with them. `PRINCIPALS` is the one table of principals and their ACLs: `grant()` creates
the ACLs from it (scripts/infra.sh, and the tests for their topic prefix), and docs/security.md's table is
printed from it (`python -m shared.kafka_security`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared import config
from shared.events.topics import dead_letter, physical
from shared.kafka_calls import normalise_connection_errors

MECHANISM = "SCRAM-SHA-512"
BROKER = "broker"  # the broker's own principal (inter-broker and controller listeners): a super user
OPERATOR = "operator"  # admin CLIs, topic and ACL creation, dead letters, replays: a super user (docs/security.md)
SUPER_USERS = (BROKER, OPERATOR)

# The topics each service's projector reads (services/<name>/projection.py; a unit test keeps them equal).
SERVICE_TOPICS: dict[str, tuple[str, ...]] = {
    "contracts": ("contracts",),
    "ledger": ("invoices", "payments", "license-codes"),
    "tickets": ("support-calls",),
    "quota": ("invoices", "support-calls", "contracts"),
}


@dataclass(frozen=True)
class Principal:
    """One Kafka user and what it may do (catalog topic names; the prefix is applied by `grant`)."""

    name: str
    who: str
    writes: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    describes: tuple[str, ...] = ()
    group: str = ""  # consumer groups starting with `<prefix><group>` (a rebuild's group is `<group>.rebuild.*`)
    proof: tuple[str, ...] = field(default=())  # tests that show a refusal or a permission


def _principals() -> list[Principal]:
    p = Principal
    t = "tests/security/test_least_privilege.py::"
    producers = t + "test_each_producer_writes_only_its_topic"
    system = "tests/e2e, tests/reliability (tests/support/system.py starts each process as its principal)"
    table = [
        p(
            OPERATOR,
            "operators: portal-admin, publish and dead-letter CLIs, topic and ACL creation (super user)",
            proof=("every test's own Kafka client (tests/support/infra.py)",),
        ),
        p("billing", "billing system", writes=("invoices",), proof=(producers,)),
        p(
            "bank",
            "bank reconciliation",
            writes=("payments",),
            proof=(producers, t + "test_a_producer_without_credentials_is_refused"),
        ),
        p("helpdesk", "helpdesk system", writes=("support-calls",), proof=(producers,)),
        p("contract-admin", "contract administration", writes=("contracts",), proof=(producers,)),
        p("licensing", "licensing system", writes=("license-codes",), proof=(producers,)),
        p(
            "portal",
            "the gateway: customer actions (support calls, password events)",
            writes=("support-calls", "contracts"),
            proof=(
                t + "test_the_portal_may_publish_its_events",
                t + "test_the_portal_may_not_publish_a_payment",
                t + "test_the_portal_may_not_read_topics",
                system,
            ),
        ),
    ]
    for service, topics in SERVICE_TOPICS.items():
        proof: tuple[str, ...] = (system,)
        if service == "tickets":
            proof = (t + "test_the_tickets_projector_may_not_read_payments", system)
        table.append(
            p(
                f"projector-{service}",
                f"{service} projector: reads its topics in its group, writes their dead letters",
                writes=tuple(dead_letter(topic) for topic in topics),
                reads=topics,
                group=service,
                proof=proof,
            )
        )
        # the lag in /health/ready: end offsets, and the timestamp of the first record not applied yet (no group)
        table.append(
            p(
                f"api-{service}",
                f"{service} API: its topics' end offsets and times for the lag",
                reads=topics,
                proof=(system,),
            )
        )
    return table


PRINCIPALS: dict[str, Principal] = {principal.name: principal for principal in _principals()}


def client_kwargs() -> dict[str, Any]:
    """kafka-python keyword arguments of this process's Kafka security settings (none for PLAINTEXT).

    Every client is made with these, so this is also where the clients' connection errors are made retriable
    (shared.kafka_calls.normalise_connection_errors), before any client connects."""
    normalise_connection_errors()
    protocol = config.get("KAFKA_SECURITY_PROTOCOL").upper()
    if protocol == "PLAINTEXT":
        return {}
    if protocol not in ("SASL_SSL", "SSL", "SASL_PLAINTEXT"):
        raise config.MissingSetting(
            f"KAFKA_SECURITY_PROTOCOL must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got {protocol!r}"
        )
    kwargs: dict[str, Any] = {"security_protocol": protocol}
    if protocol.startswith("SASL"):
        username, password = config.get("KAFKA_SASL_USERNAME"), config.get("KAFKA_SASL_PASSWORD")
        if not username or not password:
            raise config.MissingSetting(
                f"KAFKA_SECURITY_PROTOCOL={protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or _FILE)"
            )
        kwargs |= {"sasl_mechanism": MECHANISM, "sasl_plain_username": username, "sasl_plain_password": password}
    if protocol.endswith("SSL"):
        cafile = config.get("KAFKA_SSL_CAFILE")
        if cafile:
            kwargs["ssl_cafile"] = cafile
        kwargs["ssl_check_hostname"] = True
    return kwargs


def acls(prefix: str = "") -> list[Any]:
    """The ACLs of every principal for the topics and groups of `prefix` (kafka-python ACL objects)."""
    from kafka.admin import ACL, ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourcePattern, ResourceType

    def allow(user: str, op: ACLOperation, kind: ResourceType, name: str, pattern=ACLResourcePatternType.LITERAL):  # noqa: ANN001, ANN202
        return ACL(f"User:{user}", "*", op, ACLPermissionType.ALLOW, ResourcePattern(kind, name, pattern))

    out = []
    for principal in PRINCIPALS.values():
        for topic in principal.writes:
            out += [
                allow(principal.name, op, ResourceType.TOPIC, physical(topic, prefix))
                for op in (ACLOperation.WRITE, ACLOperation.DESCRIBE)
            ]
        for topic in principal.reads:
            out += [
                allow(principal.name, op, ResourceType.TOPIC, physical(topic, prefix))
                for op in (ACLOperation.READ, ACLOperation.DESCRIBE)
            ]
        for topic in principal.describes:
            out.append(allow(principal.name, ACLOperation.DESCRIBE, ResourceType.TOPIC, physical(topic, prefix)))
        if principal.group:
            out.append(
                allow(
                    principal.name,
                    ACLOperation.READ,
                    ResourceType.GROUP,
                    f"{prefix}{principal.group}",
                    ACLResourcePatternType.PREFIXED,
                )
            )
    return out


def grant(admin: Any, prefix: str = "") -> int:
    """Create the ACLs of `prefix` through an admin client (idempotent: the broker keeps one copy); their count."""
    wanted = acls(prefix)
    result = admin.create_acls(wanted)
    if result.get("failed"):
        raise RuntimeError(f"creating Kafka ACLs failed: {result['failed'][:3]}")
    return len(wanted)


def markdown_table() -> str:
    """Principal → what it may do → the tests that prove it (docs/security.md)."""
    lines = ["| principal | who | may | proved by |", "|---|---|---|---|"]
    for p in PRINCIPALS.values():
        may = []
        if p.name in SUPER_USERS:
            may.append("everything (super user)")
        if p.writes:
            may.append("write " + ", ".join(f"`{t}`" for t in p.writes))
        if p.reads:
            may.append("read " + ", ".join(f"`{t}`" for t in p.reads))
        if p.group:
            may.append(f"consumer groups `{p.group}*`")
        if p.describes:
            may.append("describe " + ", ".join(f"`{t}`" for t in p.describes))
        proof = "<br>".join(f"`{test}`" for test in p.proof) or "—"
        lines.append(f"| `{p.name}` | {p.who} | {'; '.join(may)} | {proof} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
