"""`python -m bench.servers`: what the WSGI server itself costs per request, gunicorn as the stack runs it
against Granian, and how each answers the malformed requests of tests/security/test_malformed_http.py.

Every server serves the same Flask app (`bench.servers:app`: a small JSON answer, a login-like POST, the stack's
problem handlers), 2 workers (× 4 threads where the server has threads), one after the other, alternately,
`--repeat` times; wrk with 32 connections. Per server: the median requests/s and CPU per request of its processes
(master and workers); and the same app called in-process, without any server, for what Flask and the app alone cost.
Then every malformed case is sent to each server as raw bytes: the status and the content type of the answer, or
that the connection closed without one. Writes two `table` results (`servers-cpu` and `servers-malformed-http`; with
`--name NAME`, `NAME` and `NAME-malformed-http` when not every server of the page ran). `--servers` picks variants,
the page's three by default, or others measured for docs/performance.md and not adopted: gunicorn and Granian
serving the app's answers whole (`whole_app`, change 29); gunicorn's gevent worker, as gunicorn runs it and taking
turns between connections (bench/gevent_workers.py, change 31). nginx is not a dependency of the project (Debian's
`nginx`).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask, Response, jsonify, request
from werkzeug.test import EnvironBuilder

from bench import load, report
from bench.infra import children, free_port
from shared.web.problems import register_problem_handlers


class WholeResponse(Response):
    """Change 29 (measured, not adopted: docs/performance.md): an answer whose body is in memory handed to the
    server as a list of one `bytes`, which Granian sends as one full body, instead of werkzeug's iterator, which it
    sends as a stream fed through a channel."""

    def get_app_iter(self, environ: dict[str, Any]) -> Iterable[bytes]:
        chunks = super().get_app_iter(environ)
        if self.direct_passthrough or not self.is_sequence:
            return chunks
        try:
            body = b"".join(chunks)
        finally:
            chunks.close()  # type: ignore[attr-defined]  # a ClosingIterator: the answer's close callbacks
        return [body] if body else []


def make_app(response_class: type[Response] = Response) -> Flask:
    """The measured app: a small JSON answer and a login-like POST, with the stack's problem handlers."""
    made = Flask("bench-servers")
    made.response_class = response_class
    register_problem_handlers(made)  # as every app of the stack: errors reading a body are 400 problems

    @made.get("/api/v1/quota")
    def quota() -> object:
        """The answer every measured request gets (a JSON object, like the queries' smallest)."""
        return jsonify(customer_code="C1004", minutes={"free": 600, "used": 125, "left": 475})

    @made.post("/api/v1/sessions")
    def sessions() -> object:
        """Reads the JSON body, as the gateway's login does. Under gunicorn, reading a broken chunked body raises
        (a 400 problem through the handlers); a 2xx answer only says that the request reached the application,
        with whatever body the server made of it."""
        return jsonify(received=request.get_json(silent=True) is not None), 201

    return made


app = make_app()  # werkzeug's answers: the body an iterator
whole_app = make_app(WholeResponse)  # change 29's answers: an in-memory body as a list


# A server variant: given the port to answer on and a scratch folder, the commands of its processes, the one
# on that port first (a front proxy names its upstream's port itself).
Variant = Callable[[int, Path], list[list[str]]]


def gunicorn_command(
    port: int, tmp: Path, target: str = "bench.servers:app", worker: str | None = None
) -> list[list[str]]:
    """gunicorn with the project's settings (shared/web/gunicorn_conf.py: ProblemWorker, limits, no access log);
    `worker`, another worker class in place of ProblemWorker (a gevent one: no threads)."""
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    config = ["-c", "python:shared.web.gunicorn_conf", "--workers", "2"]
    config += ["--worker-class", worker] if worker else ["--threads", "4"]
    return [[gunicorn, *config, "--bind", f"127.0.0.1:{port}", target]]


def granian_command(port: int, tmp: Path, target: str = "bench.servers:app") -> list[list[str]]:
    """Granian's WSGI interface with its defaults, the same workers and threads."""
    granian = Path(sys.executable).with_name("granian")
    granian = granian if granian.exists() else Path(shutil.which("granian") or "granian")
    options = ["--interface", "wsgi", "--workers", "2", "--blocking-threads", "4", "--no-ws"]
    return [[str(granian), *options, "--host", "127.0.0.1", "--port", str(port), target]]


NGINX = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    large_client_header_buffers 4 8k;
    upstream app {{ server 127.0.0.1:{upstream}; keepalive 32; }}
    server {{
        listen 127.0.0.1:{port};
        if ($http_expect !~* "^(100-continue)?$") {{ rewrite ^ /problem/417 last; }}
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # no proxy_intercept_errors: an error_page here would replace the server's (nginx's refusal of a
            # broken chunked body is made here), and the application's own 4xx problems must pass unchanged
        }}
        error_page 400 501 505 =400 /problem/400;
        error_page 414 =414 /problem/414;
        error_page 494 =431 /problem/431;
{problems}
    }}
}}
"""


PROBLEMS = {400: "Bad Request", 414: "URI Too Long", 431: "Request Header Fields Too Large", 417: "Expectation Failed"}


def _problem_location(status: int, title: str) -> str:
    body = json.dumps(
        {"type": "about:blank", "title": title, "status": status, "detail": "Refused by the front proxy."}
    )
    return (
        f"        location = /problem/{status} {{ internal; default_type application/problem+json; "
        f"return {status} '{body}'; }}"
    )


def nginx_command(port: int, upstream: int, tmp: Path) -> list[str]:
    """nginx (Debian's) on `port`, refusing malformed HTTP with problem+json, passing the rest to `upstream`."""
    config = tmp / f"nginx-{port}.conf"
    problems = "\n".join(_problem_location(status, title) for status, title in PROBLEMS.items())
    config.write_text(NGINX.format(tmp=tmp, port=port, upstream=upstream, problems=problems))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    return [nginx, "-e", str(tmp / "nginx-error.log"), "-c", str(config)]


def nginx_granian_command(port: int, tmp: Path) -> list[list[str]]:
    """nginx in front, refusing malformed HTTP with problem+json; Granian behind it on loopback."""
    upstream = free_port()
    return [nginx_command(port, upstream, tmp), *granian_command(upstream, tmp)]


SERVERS: dict[str, Variant] = {
    "gunicorn (the stack's settings)": gunicorn_command,
    "Granian (WSGI)": granian_command,
    "nginx in front of Granian": nginx_granian_command,
}
# Measured on request only (`--servers`): the app's answers handed over whole (change 29, not adopted).
WHOLE = {
    "gunicorn (the stack's settings), answers whole (change 29)": partial(
        gunicorn_command, target="bench.servers:whole_app"
    ),
    "Granian (WSGI), answers whole (change 29)": partial(granian_command, target="bench.servers:whole_app"),
}
# Measured on request only: gunicorn's gevent worker (change 31, not adopted), as gunicorn runs it and taking turns.
GEVENT = {
    "gunicorn, gevent worker (change 31)": partial(gunicorn_command, worker="bench.gevent_workers.ProblemGeventWorker"),
    "gunicorn, gevent worker taking turns (change 31)": partial(
        gunicorn_command, worker="bench.gevent_workers.TurnsGeventWorker"
    ),
}
VARIANTS = {**SERVERS, **WHOLE, **GEVENT}


class Server:
    """One server variant's processes, answering on a free port; stopped on exit."""

    def __init__(self, variant: Variant, tmp: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(report.ROOT)}
        commands = variant(self.port, tmp)
        self.procs: list[subprocess.Popen] = []
        log = tmp / "servers.log"
        try:
            with log.open("ab") as out:
                for command in reversed(commands):  # the upstream first
                    self.procs.append(
                        subprocess.Popen(
                            command,
                            cwd=report.ROOT,
                            env=env,
                            stdout=out,
                            stderr=subprocess.STDOUT,
                            start_new_session=True,
                        )
                    )
            self._wait_answering(log, deadline=time.monotonic() + 30)
        except BaseException:
            self.__exit__()
            raise

    def _wait_answering(self, log: Path, deadline: float) -> None:
        while True:
            try:
                if requests.get(f"{self.url}/api/v1/quota", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            gone = [proc.args[0] for proc in self.procs if proc.poll() is not None]  # type: ignore[index]
            if gone or time.monotonic() > deadline:
                raise SystemExit(f"{', '.join(gone) or 'the server'} did not start or stopped; see {log}")
            time.sleep(0.1)

    def pids(self) -> list[int]:
        return [pid for proc in self.procs for pid in (proc.pid, *children(proc.pid))]

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError):  # already gone (reaped by poll())
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def in_process(calls: int) -> float:
    """CPU µs per request of the same app called in this process, without a server or a socket: what Flask and
    the app themselves cost."""
    environ = EnvironBuilder(path="/api/v1/quota", headers={"Authorization": "Bearer -"}).get_environ()

    def start_response(status: str, headers: list, exc_info: object = None) -> None:
        return None

    started = time.process_time()
    for _ in range(calls):
        for _chunk in app.wsgi_app(dict(environ), start_response):
            pass
    return (time.process_time() - started) * 1e6 / calls


def exchange(url: str, raw: bytes, wait: float = 5) -> str:
    """Send the bytes as they are and read one answer (the connection stays open for writing, as a client's
    does): 'status content-type', or that the server closed the connection or said nothing within `wait` s."""
    host = urlsplit(url)
    with socket.create_connection((host.hostname, host.port), timeout=wait) as sock:
        data = b""
        with contextlib.suppress(OSError):  # a server may answer and close before it has read everything
            sock.sendall(raw)
        try:
            while not _complete(data) and (chunk := sock.recv(65536)):
                data += chunk
        except TimeoutError:
            if not data:
                return f"no answer in {wait:.0f} s"
        except OSError:
            pass
    head = data.partition(b"\r\n\r\n")[0].decode("latin-1")
    if not head:
        return "closed, no answer"
    lines = head.split("\r\n")
    headers = {k.lower(): v for k, _, v in (line.partition(": ") for line in lines[1:])}
    kind = headers.get("content-type", "").split(";")[0]
    body = int(headers.get("content-length", "-1") or -1)
    return f"{lines[0].split(' ')[1]} {kind or ('empty' if body == 0 else 'no type')}"


def _complete(data: bytes) -> bool:
    """Whether `data` holds a whole answer with a Content-Length."""
    head, found, body = data.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip() or 0)
    return False


def versions() -> str:
    """The servers' versions (their answers to malformed HTTP depend on them)."""
    found = [f"gunicorn {importlib.metadata.version('gunicorn')}", f"Flask {importlib.metadata.version('flask')}"]
    try:
        found.append(f"Granian {importlib.metadata.version('granian')}")
    except importlib.metadata.PackageNotFoundError:
        pass
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    with contextlib.suppress(OSError):
        said = subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr.strip()
        found.append(said.removeprefix("nginx version: ").replace("/", " "))
    return ", ".join(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.servers", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--results", type=Path, default=report.RESULTS)
    parser.add_argument("--servers", nargs="+", choices=list(VARIANTS), default=list(SERVERS), help="(default: 3)")
    parser.add_argument("--name", default="servers-cpu", help="the CPU table's result id")
    args = parser.parse_args(argv)
    from tests.security.test_malformed_http import CASES

    servers = {name: VARIANTS[name] for name in args.servers}
    load_before = os.getloadavg()
    figures: dict[str, list[dict]] = {name: [] for name in servers}
    answers: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-servers-") as tmp:
        for attempt in range(args.repeat):
            for name, command in servers.items():
                with Server(command, Path(tmp)) as server:
                    run = load.measured(
                        lambda server=server: {"server": server.pids()},
                        lambda server=server: load.wrk(server.url, "GET", "/api/v1/quota", ["-"], args.seconds),
                    )
                    if run["errors"]:  # fast error answers would pass for a fast server
                        raise SystemExit(f"{name}: {run['errors']} of {run['requests']} requests failed")
                    figures[name].append(run)
                    if attempt == 0:
                        answers[name] = {case: exchange(server.url, raw) for case, (raw, _) in CASES.items()}
        alone = [in_process(20_000) for _ in range(args.repeat)]
    load_after = os.getloadavg()
    used = versions()
    common = {
        "kind": "table",
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "code": report.code_version(),
        "load_average": {"before": list(load_before), "after": list(load_after)},
    }
    cpu = {
        **common,
        "id": args.name,
        "intro": (
            f"`python -m bench.servers`: the same small Flask app under each server, 2 workers × 4 threads, wrk "
            f"32 connections, {args.seconds} s, the servers alternately, median of {args.repeat}; CPU of the "
            f"server's processes ({used}). 1-min load average {load_before[0]:.1f} before, {load_after[0]:.1f} after."
            + (
                " The gevent workers: 2 workers, each serving its connections as greenlets (up to gunicorn's "
                "default of 1,000) in place of threads."
                if set(servers) & set(GEVENT)
                else ""
            )
        ),
        "columns": [
            "server",
            "requests/s",
            "p50 ms",
            "p99 ms",
            "CPU µs per request",
            f"÷ {next(iter(servers)).split(' (')[0]}",
        ],
        "formats": [None, "{:,.0f}", "{:,.1f}", "{:,.1f}", "{:,.0f}", "{:.2f}"],
        "rows": [],
    }
    base = None
    for name, runs in figures.items():
        rps = statistics.median(r["rps"] for r in runs)
        us = statistics.median(r["cpu_us"]["server"] for r in runs)
        base = base or us
        p50, p99 = (statistics.median(r[key] for r in runs) for key in ("p50", "p99"))
        cpu["rows"].append([name, rps, p50, p99, us, us / base])
    us = statistics.median(alone)
    cpu["rows"].append(["none: the app called in-process (one thread, no socket)", None, None, None, us, us / base])
    malformed = {
        **common,
        # the page's table of every server keeps its id; a choice of servers writes one of its own
        "id": "servers-malformed-http" if servers == SERVERS else f"{args.name}-malformed-http",
        "intro": "`python -m bench.servers`: each case of tests/security/test_malformed_http.py sent as raw bytes; "
        f"the status and content type of the answer ({used}).",
        "columns": ["malformed request", "the contract asks", *servers],
        "align": ["---"] * (2 + len(servers)),
        "rows": [
            [case, f"{expected} application/problem+json", *(answers[name][case] for name in servers)]
            for case, (_, expected) in CASES.items()
        ],
    }
    for result in (cpu, malformed):
        path = report.save(args.results, result["id"], result)
        print(f"\n{path}\n" + "\n".join(report.table_section(result)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
