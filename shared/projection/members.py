"""A rebuild spread over the partitions: several members of one projector group, each a process of its own.

The group gives each member whole partitions; every member writes the same read model, each batch in its own
transaction with its partitions' offsets, as members of a scaled-out projector always do (docs/operations.md).
Each member stops once every partition's stored offset reaches the end offset it saw first, whichever member
applied it. On a machine where a projector mostly waits (for PostgreSQL, for the broker), members overlap that
waiting.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
from dataclasses import dataclass, field
from types import FrameType

from shared.projection.protocol import Projection
from shared.projection.runner import Projector
from shared.projection.settings import ProjectorSettings, with_overrides
from shared.readmodel.replay_progress import ReplayProgress

log = logging.getLogger("projector")
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
# The group starts with the first member to join (the broker waits for no others: group.initial.rebalance.delay.ms
# is 0) and learns of the others when its heartbeat answers that a rebalance is on: soon, so they share early.
MEMBER_HEARTBEAT_MS = 250
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent ends


@dataclass
class MembersRun:
    """How the members ended: exit codes of those that failed, and whether a stop was asked."""

    failed: dict[str, int | None] = field(default_factory=dict)
    stopped: bool = False


class _Member(logging.Filter):
    """Names the member on each of its log lines (`"member": n`)."""

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number

    def filter(self, record: logging.LogRecord) -> bool:
        record.member = self.number
        return True


def _end_with_parent(parent: int) -> None:
    """SIGTERM when the command that started the members ends without stopping them (killed)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: a killed command leaves its members to finish their share
        return
    if os.getppid() != parent:  # it ended before the request was made
        os.kill(os.getpid(), signal.SIGTERM)


def _member(
    settings: ProjectorSettings, projection: Projection, number: int, count: int, progress: bool, parent: int
) -> None:
    """One member, in its forked process (stop signals blocked until its projector takes them)."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(_Member(number))
    projector = Projector(settings, projection)
    for sig in STOP_SIGNALS:
        signal.signal(sig, projector._stop)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # a stop asked meanwhile arrives now
    _end_with_parent(parent)
    if progress:
        projector.on_progress = ReplayProgress(settings.schema)
    log.info("member %d of %d started", number, count)
    projector.run()


def run_members(settings: ProjectorSettings, projection: Projection, count: int, progress: bool = False) -> MembersRun:
    """Run `count` members of `settings`' group until each has stopped.

    The members are forked from this process, which must hold no connection or thread yet. Each stops once every
    partition is applied up to the end offsets it first saw; metrics are not served (one port cannot take them
    all). SIGTERM and SIGINT to this process are passed on: each member finishes its batch and stops. A member
    also stops when this process is killed (Linux).
    """
    members_settings = with_overrides(
        settings,
        stop_when_caught_up=True,
        stop_at_first_ends=True,
        metrics_port=None,
        heartbeat_interval_ms=MEMBER_HEARTBEAT_MS,
    )
    context = multiprocessing.get_context("fork")
    members: list[multiprocessing.process.BaseProcess] = []
    run = MembersRun()

    def pass_on(signum: int, _frame: FrameType | None) -> None:
        run.stopped = True
        for started in members:
            if started.pid is not None and started.exitcode is None:
                os.kill(started.pid, signum)

    previous = {sig: signal.signal(sig, pass_on) for sig in STOP_SIGNALS}
    try:
        for number in range(1, count + 1):
            if run.stopped:
                break
            member = context.Process(
                target=_member,
                args=(members_settings, projection, number, count, progress, os.getpid()),
                name=f"{settings.service}-member-{number}",
            )
            # Blocked over the fork: a stop meant for the member waits until its projector can take it, and one
            # for this process until the member is in `members` to pass it on to.
            signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
            try:
                member.start()
                members.append(member)
            finally:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        for started in members:
            started.join()
    except BaseException:
        pass_on(signal.SIGTERM, None)
        for started in members:
            started.join()
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    run.failed = {ended.name: ended.exitcode for ended in members if ended.exitcode != 0}
    if run.failed:
        log.error("rebuild members failed", extra={"exit_codes": run.failed})
    log.info("rebuild members finished", extra={"members": len(members), "stopped": run.stopped})
    return run
