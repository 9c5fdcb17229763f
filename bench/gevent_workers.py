"""Change 31 of docs/performance.md (measured, not adopted): gunicorn's gevent worker in place of its threaded one.

One process serves many connections as greenlets, switching only where a greenlet waits for I/O; no thread per
connection and no GIL handover between threads. `python -m bench.servers --servers ...` measures both classes
below against the stack's ProblemWorker. gunicorn loads the class in its master; the gevent worker
monkey-patches the standard library in each worker process it forks, when that worker starts.
"""

from __future__ import annotations

import gevent
from gunicorn.workers.ggevent import GeventWorker

from shared.web.http_server import ProblemRefusals


class ProblemGeventWorker(ProblemRefusals, GeventWorker):
    """gunicorn's gevent worker as gunicorn runs it, answering gunicorn's own refusals with problem+json like the
    stack's threaded worker (the same `handle_error`)."""


class TurnsGeventWorker(ProblemGeventWorker):
    """The gevent worker taking turns: after each answer, the connection's greenlet lets every other ready one run.

    A kept-alive client that sends its next request at once finds it already read when its greenlet asks for it,
    so that greenlet never waits and the others do: the plain worker's p99 in bench.servers. Yielding after each
    answer serves the ready connections in turn.
    """

    def handle_request(self, listener_name, req, sock, addr):  # noqa: ANN001, ANN201 - gunicorn's signature
        result = super().handle_request(listener_name, req, sock, addr)
        gevent.sleep(0)  # to the back of the hub's queue: the other ready greenlets first
        return result
