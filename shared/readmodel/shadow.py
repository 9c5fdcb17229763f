"""Rebuild without downtime: fill a shadow schema with a second consumer group, switch, drop the old one.

    python -m services.<name>.projector --rebuild-shadow [--grace-seconds 30] [--processes N]

The live projector and API keep working on the live schema meanwhile. Once the shadow has
applied everything it fetched from every partition, one transaction locks the pointer
(waiting for a live batch in flight), checks that the shadow is at least as far as the live
schema on every partition, carries over the dead letters' republished marks and moves the
pointer and the projection version. API connections read the pointer at every checkout; live
projectors see it in their next batch (or within a second when idle) and continue in the new
schema from its stored offsets (shared.readmodel.follow) - those of another projection version wait
instead. After a grace period for requests still reading the old schema, it is dropped.
"""

from __future__ import annotations

import logging
import time

import psycopg

from shared.projection import bookkeeping
from shared.projection.members import run_members
from shared.projection.protocol import Projection
from shared.projection.runner import Projector
from shared.projection.settings import ProjectorSettings, with_overrides
from shared.readmodel import connections as db
from shared.readmodel import pointer
from shared.readmodel.replay_progress import ReplayProgress
from shared.retry import retry

log = logging.getLogger("rebuild")


class Switcher:
    """The shadow projector's caught-up hook: make the shadow live when it is not behind the live schema."""

    def __init__(self, settings: ProjectorSettings, old: str, shadow: str) -> None:
        self.settings, self.old, self.shadow = settings, old, shadow
        self.switched = False

    def __call__(self) -> bool:
        def attempt() -> bool:
            with db.connect(self.settings.database_url, "public") as conn:
                return pointer.switch(
                    conn, self.settings.schema, self.old, self.shadow, self.settings.projection_version
                )

        self.switched = retry(attempt, on=psycopg.OperationalError, what="database", logger=log)
        if not self.switched:
            log.info("the live projector is ahead of the shadow; applying more before switching")
        return self.switched


def prepare(settings: ProjectorSettings) -> tuple[str, str]:
    """(live schema, new shadow schema), the shadow created with the read model's and runtime DDL."""
    with db.connect(settings.database_url, "public") as conn:
        old = pointer.ensure_pointer(conn, settings.schema, settings.projection_version)
        shadow = pointer.shadow_name(settings.schema)
        if shadow == old:
            raise SystemExit(f"{shadow} is live already; wait a second and start the rebuild again")
        db.ensure_schema(conn, settings.ddl, shadow)
        db.ensure_schema(conn, bookkeeping.RUNTIME_DDL, shadow)
    return old, shadow


def rebuild_shadow(
    settings: ProjectorSettings, projection: Projection, grace_s: float = 30.0, processes: int = 1
) -> str:
    """Build the read model again beside the live one, switch to it, drop the old one; the new schema.

    With `processes` > 1 the shadow is first filled by that many members of one group, each a process of its
    own (shared.projection.members), until every partition is applied; then one member, as with a single
    process, applies what arrived meanwhile and switches.
    """
    started = time.monotonic()
    old, shadow = prepare(settings)
    log.info("building shadow read model", extra={"schema": shadow, "live_schema": old})
    builder = with_overrides(
        settings,
        schema=shadow,
        group_id=f"{settings.group}.rebuild.{shadow}",
        follow_pointer=False,
        publish_dead_letters=False,
        stop_when_caught_up=True,
        metrics_port=None,
    )
    if processes > 1:
        log.info("filling the shadow with %d members", processes, extra={"schema": shadow})
        try:
            members = run_members(
                with_overrides(builder, group_id=f"{builder.group}.members"), projection, processes, True
            )
        except BaseException:
            drop(settings, shadow)
            raise
        if members.stopped:
            drop(settings, shadow)
            raise SystemExit(f"rebuild stopped before the switch; {old} stays live, {shadow} was dropped")
        if members.failed:  # what they left is applied by the one member below, from the stored offsets
            log.warning("members failed; one member goes on filling the shadow", extra={"exit_codes": members.failed})
    switcher = Switcher(settings, old, shadow)
    projector = Projector(builder, projection, on_caught_up=switcher)
    projector.on_progress = ReplayProgress(shadow)
    projector.run()
    if not switcher.switched:
        drop(settings, shadow)
        raise SystemExit(f"rebuild stopped before the switch; {old} stays live, {shadow} was dropped")
    log.info(
        "read model switched",
        extra={"schema": shadow, "previous_schema": old, "seconds": round(time.monotonic() - started, 1)},
    )
    time.sleep(grace_s)  # requests that read the pointer just before the switch finish in the old schema
    drop(settings, old)
    log.info("old read model dropped", extra={"schema": old})
    return shadow


def drop(settings: ProjectorSettings, schema: str) -> None:
    """Drop a schema that is not live."""
    with db.connect(settings.database_url, "public") as conn:
        pointer.drop_schema(conn, settings.schema, schema)
