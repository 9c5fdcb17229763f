"""A rebuild spread over the partitions: several members of one projector group, each a process of its own.

The group gives each member whole partitions; every member writes the same read model, each batch in its own
transaction with its partitions' offsets, as members of a scaled-out projector always do (docs/operations.md).
Each member stops once every partition's stored offset reaches its end offset, whichever member applied it.
On a machine where a projector mostly waits (for PostgreSQL, for the broker), members overlap that waiting.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from types import FrameType

from shared.projection.protocol import Projection
from shared.projection.runner import Projector
from shared.projection.settings import ProjectorSettings, with_overrides
from shared.readmodel.replay_progress import ReplayProgress

log = logging.getLogger("projector")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# The group starts with the first member to join (the broker waits for no others: group.initial.rebalance.delay.ms
# is 0) and learns of the others when its heartbeat answers that a rebalance is on: soon, so they share early.
MEMBER_HEARTBEAT_MS = 250


class _Member(logging.Filter):
    """Names the member on each of its log lines (`"member": n`)."""

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number

    def filter(self, record: logging.LogRecord) -> bool:
        record.member = self.number
        return True


def _member(settings: ProjectorSettings, projection: Projection, number: int, progress: bool) -> None:
    """One member, in its forked process: a projector until every partition is applied (or asked to stop)."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(_Member(number))
    projector = Projector(settings, projection)
    if progress:
        projector.on_progress = ReplayProgress(settings.schema)
    projector.run()


def run_members(settings: ProjectorSettings, projection: Projection, count: int, progress: bool = False) -> bool:
    """Run `count` members of `settings`' group until each has stopped; True when every one ended well.

    The members are forked from this process, which must hold no connection or thread yet. They stop once
    every partition is applied (`stop_when_caught_up`); metrics are not served (one port cannot take them
    all). SIGTERM and SIGINT to this process are passed on: each member finishes its batch and stops, and the
    run counts as not ended well.
    """
    members_settings = with_overrides(
        settings, stop_when_caught_up=True, metrics_port=None, heartbeat_interval_ms=MEMBER_HEARTBEAT_MS
    )
    context = multiprocessing.get_context("fork")
    members: list[multiprocessing.process.BaseProcess] = []
    asked: list[int] = []

    def pass_on(signum: int, _frame: FrameType | None) -> None:
        asked.append(signum)
        for started in members:
            if started.pid is not None and started.exitcode is None:
                os.kill(started.pid, signum)

    previous = {sig: signal.signal(sig, pass_on) for sig in STOP_SIGNALS}
    try:
        for number in range(1, count + 1):
            if asked:
                break
            member = context.Process(
                target=_member,
                args=(members_settings, projection, number, progress),
                name=f"{settings.service}-member-{number}",
            )
            member.start()
            members.append(member)
        if asked:  # a stop that came while members were being started reaches every one started
            pass_on(asked[0], None)
        for started in members:
            started.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    failed = {ended.name: ended.exitcode for ended in members if ended.exitcode != 0}
    if failed:
        log.error("rebuild members failed", extra={"exit_codes": failed})
    log.info("rebuild members finished", extra={"members": len(members), "stopped": bool(asked)})
    return not failed and not asked and len(members) == count
