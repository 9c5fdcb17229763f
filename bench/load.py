"""Benchmark 3: the five queries, login and /health/live under 32 concurrent clients, driven by wrk."""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import NamedTuple

import requests

from bench.infra import cpu_seconds
from gateway.auth import issue_token
from tests.support.system import SECRET_KEY

LUA = r"""
local items, tags, n, method, path, body_tpl = {}, {}, 0, "GET", "/", nil
function init(args)
  method, path = args[1], args[2]
  for line in io.lines(args[3]) do
    local item, tag = line:match("^([^\t]*)\t?(.*)$")  -- a GET's token, then the ETag to send back, if any
    items[#items + 1], tags[#items + 1] = item, tag
  end
  n = math.random(#items)
end
function request()
  n = n % #items + 1
  if method == "POST" then
    return wrk.format("POST", path, {["Content-Type"] = "application/json"}, items[n])
  end
  if tags[n] ~= "" then
    return wrk.format("GET", path, {["Authorization"] = "Bearer " .. items[n], ["If-None-Match"] = tags[n]})
  end
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. items[n]})
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"statuses":{%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout, statuses()))
end
"""
# Counting each answer's status costs wrk a Lua call per response: only where the statuses matter (login).
COUNT_STATUSES = r"""
threads = {}
counts = {}
function setup(thread) table.insert(threads, thread) end
function response(status, headers, body) counts[status] = (counts[status] or 0) + 1 end
function statuses()
  local total, parts = {}, {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do total[status] = (total[status] or 0) + n end
  end
  for status, n in pairs(total) do parts[#parts + 1] = string.format('"%d":%d', status, n) end
  return table.concat(parts, ",")
end
"""
NO_STATUSES = 'function statuses() return "" end\n'


def queries(today: date) -> dict[str, str]:
    """Name -> public path of each measured query."""
    day = today.isoformat()
    return {
        "balance": f"/api/v1/balance?as_of={day}",
        "support-calls": "/api/v1/support-calls",
        "quota": f"/api/v1/quota?settlement_date={day}",
        "contract-annex": f"/api/v1/contract-annex?as_of={day}",
        "expected-fee": f"/api/v1/expected-fee?as_of={day}",
        "invoices": f"/api/v1/invoices?as_of={day}",
    }


def mint(logins: list[dict]) -> list[str]:
    """A gateway token per login (as POST /sessions would issue), valid for two hours."""
    return [issue_token(SECRET_KEY, row["customer_code"], row["serial_number"], 120)[0] for row in logins]


def screen(
    gateway: str, tokens: list[str], paths: dict[str, str], tags: dict[str, list[str]] | None = None
) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Per query, the tokens it answers 200 for; and how many answered otherwise (e.g. 404 no support year).
    `tags`, when given, gets per query the ETag of each of those answers ("" for none), in the same order."""
    ok: dict[str, list[str]] = {name: [] for name in paths}
    other = dict.fromkeys(paths, 0)
    session = requests.Session()
    for token in tokens:
        for name, path in paths.items():
            answer = session.get(gateway + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
            if answer.status_code == 200:
                ok[name].append(token)
                if tags is not None:
                    tags.setdefault(name, []).append(answer.headers.get("ETag", ""))
            else:
                other[name] += 1
    return ok, other


def wrk(
    base: str,
    method: str,
    path: str,
    items: list[str],
    seconds: int,
    connections: int = 32,
    threads: int = 2,
    count_statuses: bool = False,
) -> dict:
    """One wrk run; requests/s, p50/p99 in ms and error counts (non-2xx included); with `count_statuses`, how
    many answers had each status."""
    with tempfile.TemporaryDirectory() as tmp:
        script, data = Path(tmp) / "bench.lua", Path(tmp) / "items.txt"
        script.write_text(LUA + (COUNT_STATUSES if count_statuses else NO_STATUSES))
        data.write_text("\n".join(items) + "\n")
        out = subprocess.run(
            [
                "wrk",
                "-t",
                str(threads),
                "-c",
                str(connections),
                "-d",
                f"{seconds}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                base,
                "--",
                method,
                path,
                str(data),
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        )
    line = next((x for x in out.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result: {out.stdout}\n{out.stderr}")
    raw = json.loads(line.removeprefix("WRKJSON "))
    errors = raw["connect"] + raw["read"] + raw["write"] + raw["status"] + raw["timeout"]
    return {
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50": raw["p50_us"] / 1000,
        "p99": raw["p99_us"] / 1000,
        "max": raw["max_us"] / 1000,
        "errors": errors,
        "requests": raw["requests"],
        "status_errors": raw["status"],
        **({"statuses": {k: raw["statuses"][k] for k in sorted(raw["statuses"])}} if count_statuses else {}),
    }


def login_bodies(logins: list[dict]) -> list[str]:
    """JSON bodies of POST /api/v1/sessions for the logins."""
    bodies = []
    for row in logins:
        body = {"customer_code": row["customer_code"], "serial_number": row["serial_number"]}
        if row["password"]:
            body["password"] = row["password"]
        bodies.append(json.dumps(body))
    return bodies


def measured(groups: Callable[[], dict[str, list[int]]] | None, run: Callable[[], dict]) -> dict:
    """One wrk run, and the CPU microseconds per request each process group spent meanwhile."""
    pids = groups() if groups else {}
    before = {name: cpu_seconds(group) for name, group in pids.items()}
    figures = run()
    requests = max(figures["requests"], 1)
    figures["cpu_us"] = {name: (cpu_seconds(group) - before[name]) * 1e6 / requests for name, group in pids.items()}
    return figures


class Load(NamedTuple):
    """One measured load: wrk's method, path and items (tokens or bodies), and what the screening found."""

    method: str
    path: str
    items: list[str]
    count_statuses: bool = False
    screening: dict[str, int] | None = None  # queries: tokens that answered 200, and the others


def plan(
    gateway: str, logins: list[dict], today: date, login: bool = True, revalidate: bool = False
) -> dict[str, Load]:
    """Name -> load of /health/live, every query (the tokens screened against `gateway`) and, with `login`, the
    logins; in the order they are measured. With `revalidate`, each query also as `<query> again`: every request
    sends back the ETag its token's answer had in the screening (`If-None-Match`), as a portal asking again
    (a gateway that gave no ETag gets none back, and answers in full)."""
    paths = queries(today)
    tags: dict[str, list[str]] = {}
    tokens, screened = screen(gateway, mint(logins), paths, tags)
    loads = {"health/live": Load("GET", "/health/live", ["-"])}
    for name, path in paths.items():
        screening = {"customers": len(tokens[name]), "not_200_in_screening": screened[name]}
        loads[name] = Load("GET", path, tokens[name], screening=screening)
        if revalidate:
            again = [f"{token}\t{tag}" for token, tag in zip(tokens[name], tags.get(name, []), strict=True)]
            loads[f"{name} again"] = Load("GET", path, again, screening=screening)
    if login:
        loads["login"] = Load("POST", "/api/v1/sessions", login_bodies(logins), count_statuses=True)
    return loads


def measure(
    gateway: str,
    load: Load,
    seconds: int,
    connections: int = 32,
    groups: Callable[[], dict[str, list[int]]] | None = None,
) -> dict:
    """One load's wrk figures, with the CPU per request of each process group of `groups`, when given."""
    figures = measured(
        groups,
        lambda: wrk(
            gateway, load.method, load.path, load.items, seconds, connections, count_statuses=load.count_statuses
        ),
    )
    return {**figures, **(load.screening or {})}


def run(
    gateway: str,
    logins: list[dict],
    today: date,
    seconds: int,
    connections: int = 32,
    groups: Callable[[], dict[str, list[int]]] | None = None,
    login: bool = True,
) -> dict[str, dict]:
    """Every query, login and /health/live, one after the other; per name the wrk figures (with the CPU per
    request of each process group of `groups`, when given)."""
    return {
        name: measure(gateway, load, seconds, connections, groups)
        for name, load in plan(gateway, logins, today, login).items()
    }
