"""What one projector process needs."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from shared.readmodel import connections as db

log = logging.getLogger("projector")


@dataclass
class ProjectorSettings:
    """Everything one projector process needs.

    `schema` is the read model's name: the live projector writes the schema the pointer
    (shared.readmodel.pointer) names for it. A shadow rebuild writes `schema` itself (follow_pointer off).
    """

    service: str
    database_url: str
    bootstrap_servers: str
    topics: list[str]
    ddl: Path
    schema: str = db.READ_MODEL_SCHEMA
    group_id: str = ""
    topic_prefix: str = ""
    batch_size: int = 1000
    poll_timeout_ms: int = 200
    # A member that died without leaving holds its partitions this long; Kafka's 45 s default stalled
    # a restarted projector (its group waited for the dead member) for most of a minute.
    session_timeout_ms: int = 10_000
    # How often the consumer tells the group it is alive; a rebalance (a member joining) reaches this member
    # with the answer to one. kafka-python's default; a rebuild's members (shared.projection.members) ask
    # sooner, so that members started together split the partitions within a moment.
    heartbeat_interval_ms: int = 3_000
    max_backoff_s: float = 10.0
    # A partition that waited this long without progress makes the consumer be made again
    # (shared.projection.stall). A batch takes well under a second, and a member that died holds its
    # partitions for one session timeout (10 s) before the group moves them.
    stall_s: float = 30.0
    # A fault point for the tests (PROJECTOR_HOLD_AT): once a batch would bring the sum of the stored offsets
    # to this, the projector logs "holding before the commit" inside that batch's transaction and waits there
    # for SIGKILL, SIGUSR1 (go on) or SIGTERM (stop, the batch rolled back). Once per process; 0: never.
    hold_at: int = 0
    stop_when_caught_up: bool = False
    # With stop_when_caught_up, for the members of a spread rebuild (shared.projection.members): stop once every
    # partition's stored offset reaches the end offset this member saw first, not the end of the moment (which
    # keeps moving while events arrive; what comes later is the shadow's switching member's to apply).
    stop_at_first_ends: bool = False
    follow_pointer: bool = True
    projection_version: int = 1  # bump (VERSION in the service's projection.py) when a change needs a rebuild
    publish_dead_letters: bool = True
    metrics_port: int | None = None

    @property
    def group(self) -> str:
        """The consumer group: CONSUMER_GROUP, else `<prefix><service>`."""
        return self.group_id or f"{self.topic_prefix}{self.service}"


def with_overrides(settings: ProjectorSettings, **changes: Any) -> ProjectorSettings:
    """A copy of the settings with some fields changed."""
    return replace(settings, **changes)
