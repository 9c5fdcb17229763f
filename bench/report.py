"""The generated parts of docs/performance.md, from the committed results in bench/results/.

Every benchmark writes its figures as one JSON file, `bench/results/<date>-<name>.json`; this module renders
every table of the page from those files, between markers:

    <!-- generated:NAME -->  ...  <!-- /generated:NAME -->

`python -m bench.report` rewrites the page; `--check` only says whether it is current (a unit test checks the
same). The hand-written text between the generated parts carries no figures.

Kinds of result files:
- `bench`: one `python -m bench` run (the whole results: projection, freshness, queries, CPU, memory, plans);
- `bench-summary`: an earlier full run of which only the summary figures were kept (transcribed);
- `table`: any other table with its columns and rows (`bench.compare`, `bench.crc`, earlier sessions' tables);
- `publisher`: one `python -m bench.publisher` run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "performance.md"
QUERY_TARGET = (300.0, 100.0)
TARGET_QUERIES = ("balance", "support-calls", "quota", "contract-annex", "expected-fee")  # the five
NOT_QUERIES = ("health/live", "login")
CPU_GROUPS = ("gateway", "services", "postgres", "projectors", "kafka")
MARKER = re.compile(r"<!-- generated:(?P<name>[\w:.-]+) -->\n.*?<!-- /generated:(?P=name) -->", re.S)

Result = dict[str, Any]


# --- the result files ---------------------------------------------------------------------------


def code_version() -> str:
    """The commit the figures were measured with (`-dirty` when the tree had changes; `BENCH_CODE` when the run
    is made from an exported copy of the tree, e.g. `git archive HEAD`, so that edits meanwhile do not mix in)."""
    if os.environ.get("BENCH_CODE"):
        return os.environ["BENCH_CODE"]
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def save(folder: Path, name: str, result: Result) -> Path:
    """Write one result file, `<date>-<name>.json` (a number appended if the name is taken)."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{result['when'][:10]}-{name}"
    path, n = folder / f"{stem}.json", 2
    while path.exists():
        path, n = folder / f"{stem}-{n}.json", n + 1
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def load_all(folder: Path = RESULTS) -> list[Result]:
    """Every committed result, oldest first (by `when`, then file name); each knows its file name."""
    results = []
    for path in sorted(folder.glob("*.json")):
        result = json.loads(path.read_text(encoding="utf-8"))
        result["file"] = path.name
        results.append(result)
    return sorted(results, key=lambda r: (r["when"], r["file"]))


def latest_bench(results: list[Result]) -> Result | None:
    """The run the page's latest figures and targets come from: the newest full-size `bench` run, else the newest."""
    runs = [r for r in results if r["kind"] == "bench"]
    full = [r for r in runs if r.get("name") == "full"]
    return (full or runs)[-1] if runs else None


# --- formatting ---------------------------------------------------------------------------------


def _ok(flag: bool) -> str:
    return "yes" if flag else "**no**"


def _span(values: list[float], fmt: str = "{:,.0f}") -> str:
    """'a–b' of the smallest and the largest (one value: itself)."""
    if not values:
        return "-"
    low, high = fmt.format(min(values)), fmt.format(max(values))
    return low if low == high else f"{low}–{high}"


def _cell(value: Any, fmt: str | None) -> str:
    if value is None:
        return "-"
    if fmt:
        return fmt.format(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


# --- summaries: one shape for full runs and transcribed ones ------------------------------------


def summary(result: Result) -> Result:
    """The figures the targets and the history compare, as ranges over the services and the issue's five
    queries, from a `bench` run or a `bench-summary` file (which stores this shape)."""
    if result["kind"] == "bench-summary":
        return result["summary"]
    large, small = result["results"]["large"], result["results"]["small"]
    queries, live = large["queries"], large["queries"]["health/live"]["rps"]
    named = [q for n, q in queries.items() if n in TARGET_QUERIES]
    growth = [q["p50"] / small["queries"][n]["p50"] for n, q in queries.items() if n in TARGET_QUERIES]
    cpu = [sum(q["cpu_us"].values()) / 1000 for q in named if q.get("cpu_us")]
    python_cpu = [(q["cpu_us"]["gateway"] + q["cpu_us"]["services"]) / 1000 for q in named if q.get("cpu_us")]
    statuses = {int(k): v for k, v in (queries.get("login", {}).get("statuses") or {}).items()}
    memory = [p["peak_rss_mb"] for p in large["projection"].values()] + list(large.get("memory", {}).values())
    members = [p["members"] for p in large["projection"].values() if "members" in p]
    memory += [m["peak_rss_mb"] for m in members]

    def span(values: list[float]) -> list[float] | None:
        return [min(values), max(values)] if values else None

    return {
        "events": large["data"]["events"],
        "customers": large["data"]["customers"],
        "rates": {s: p["rate"] for s, p in large["projection"].items()},
        "ratio": span([p["ratio"] for p in large["projection"].values()]),
        # the rebuilds by several members of one group (bench --members), when the run had them for every service
        "members_ratio": span([m["ratio"] for m in members]) if len(members) == len(large["projection"]) else None,
        "members": members[0]["processes"] if members else None,
        "freshness_p99_s": (large.get("freshness") or {}).get("p99"),
        "rps": span([q["rps"] for q in named]),
        "p99": span([q["p99"] for q in named]),
        "live_ratio": span([q["rps"] / live for q in named]),
        # Runs before the CPU groups were scoped counted every PostgreSQL and Kafka process on the machine (other
        # users' too, even those that exited meanwhile): only their own processes' figures mean anything.
        "cpu_ms": span(cpu) if result.get("cpu_scope") == "own" else None,
        "python_cpu_ms": span(python_cpu),
        "cpu_all_servers": result.get("cpu_scope") != "own",
        "errors": sum(q["errors"] for q in named),
        "growth_max": max(growth) if growth else None,
        "login": {
            "answers": sum(statuses.values()),
            "ok": sum(v for k, v in statuses.items() if k < 300),
            "busy": statuses.get(429, 0),
            "server_errors": sum(v for k, v in statuses.items() if k >= 500),
        }
        if statuses
        else {},
        "memory_max_mb": max(memory),
        "projector_peak_mb": max(p["peak_rss_mb"] for p in large["projection"].values()),
    }


def _range(values: list[float] | None, fmt: str = "{:,.0f}") -> str:
    """'a–b' (one value when both round alike; '-' when not measured)."""
    return "-" if not values else _span(list(values), fmt)


def _logins(login: Result) -> str:
    if login.get("answers_503") is not None:
        return f"{login['answers_503']} of {login['answers']:,} answered 503"
    if not login:
        return "-"
    return f"{login['ok']:,} 2xx, {login['busy']:,} 429, {login['server_errors']:,} 5xx, of {login['answers']:,}"


def _cpu(s: Result) -> str:
    if s.get("cpu_all_servers") and s.get("python_cpu_ms"):
        return (
            f"gateway + services alone {_range(s['python_cpu_ms'], '{:.2f}')} ms (this run's PostgreSQL and Kafka "
            "columns counted every such process of the shared machine: not usable)"
        )
    return f"{_range(s['cpu_ms'], '{:.2f}')} ms"


def _rebuild_ratio(s: Result) -> str:
    """The rebuilds' ratio to the bare consumer: by the members of one group when the run had them (`--processes`,
    as `--rebuild-shadow --processes N` rebuilds), with the one-process figure beside it."""
    one = _range(s["ratio"], "{:.2f}")
    if not s.get("members_ratio"):
        return one
    return f"{_range(s['members_ratio'], '{:.2f}')} with {s['members']} members of one group (one process: {one})"


def _queries(s: Result) -> str:
    return f"{_range(s['rps'])} requests/s, p99 {_range(s['p99'])} ms"


# --- the generated sections ---------------------------------------------------------------------


def targets_section(results: list[Result]) -> list[str]:
    """Issue 19's table: what | now (the baseline run) | target | measured (the latest full run) | met."""
    baseline = next((r for r in results if r.get("baseline")), None)
    latest = latest_bench(results)
    if baseline is None or latest is None:
        return ["(no baseline or no bench run committed yet)"]
    now, got = summary(baseline), summary(latest)
    rows = [
        ("each projector's rebuild ÷ a bare consumer of the same topics", _range(now["ratio"], "{:.2f}"), "≥ 0.5",
         _rebuild_ratio(got), (got.get("members_ratio") or got["ratio"])[0] >= 0.5),
        ("each query, 32 clients", _queries(now), "≥ 1,500 requests/s, p99 ≤ 50 ms", _queries(got),
         got["rps"][0] >= 1500 and got["p99"][1] <= 50),
        ("each query's requests/s ÷ gateway `/health/live`", _range(now["live_ratio"], "{:.2f}"), "≥ 0.25",
         _range(got["live_ratio"], "{:.2f}"), got["live_ratio"][0] >= 0.25),
        ("CPU per query, all processes", f"{_range(now['cpu_ms'], '{:.1f}')} ms", "≤ 1.2 ms", _cpu(got),
         bool(got["cpu_ms"] or got["python_cpu_ms"]) and (got["cpu_ms"] or got["python_cpu_ms"])[1] <= 1.2),
        ("logins, 32 concurrent clients", _logins(now["login"]), "no 5xx; a login that cannot be served soon gets "
         "a quick 429 with `Retry-After`", _logins(got["login"]), got["login"].get("server_errors") == 0),
        ("memory per process", f"≤ {now['memory_max_mb']:.0f} MB", "still ≤ 300 MB",
         f"≤ {got['memory_max_mb']:.0f} MB", got["memory_max_mb"] <= 300),
    ]  # fmt: skip
    lines = [
        f"Now: {baseline['label']}. Measured: `bench/results/{latest['file']}` ({latest['when']}, "
        f"{got['events']:,} events / {got['customers']:,} customers, code {latest['code']}, "
        f"1-min load average {latest['load_average']['before'][0]:.1f} before and "
        f"{latest['load_average']['after'][0]:.1f} after; machine shared: {latest['machine'].get('shared', '?')}). "
        f"Queries: the issue's five ({', '.join(TARGET_QUERIES)}).",
        "",
        "| what | now | target | measured | met |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {what} | {n} | {target} | {m} | {_ok(met)} |" for what, n, target, m, met in rows]
    return lines


def history_section(results: list[Result]) -> list[str]:
    """Every committed full run, oldest first."""
    lines = [
        "| when | run | code | events | projectors ev/s (contracts / ledger / tickets / quota) | ÷ bare | "
        "÷ bare, members | freshness p99 ms | queries req/s | queries p99 ms | CPU ms per query | p50 growth (max) | "
        "logins | projector peak MB | load before / after |",
        "|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    runs = [r for r in results if r["kind"] in ("bench", "bench-summary")]
    for result in runs:
        s = summary(result)
        rates = " / ".join(f"{s['rates'][n]:,.0f}" for n in ("contracts", "ledger", "tickets", "quota"))
        load = result.get("load_average")
        loads = "-" if not load else f"{load['before'][0]:.1f} / {load['after'][0]:.1f}"
        fresh = s["freshness_p99_s"]
        freshness = "-" if fresh is None else f"{fresh * 1000:.0f}"
        growth = "-" if s["growth_max"] is None else f"{s['growth_max']:.2f}"
        lines.append(
            f"| {result['when'][:10]} | {result.get('label') or result['name']} | {result.get('code', '-')} | "
            f"{s['events']:,} | {rates} | {_range(s['ratio'], '{:.2f}')} | {_members(s)} | {freshness} | "
            f"{_range(s['rps'])} | "
            f"{_range(s['p99'])} | {_range(s['cpu_ms'], '{:.1f}')} | {growth} | {_logins(s['login'])} | "
            f"{s['projector_peak_mb']:.0f} | {loads} |"
        )
    notes = [r["note"] for r in runs if r.get("note")]
    return lines + ([""] + [f"- {note}" for note in notes] if notes else [])


def _members(s: Result) -> str:
    return "-" if not s.get("members_ratio") else f"{_range(s['members_ratio'], '{:.2f}')} ({s['members']})"


def table_head(columns: Sequence[str], formats: Sequence[str | None], align: Sequence[str] | None = None) -> list[str]:
    """A table's header and alignment lines: the first column left, the others right, unless `align` says."""
    align = align or ["---:" if f or i else "---" for i, f in enumerate(formats)]
    return ["| " + " | ".join(columns) + " |", "|" + "|".join(align) + "|"]


def table_row(row: Sequence[Any], formats: Sequence[str | None]) -> str:
    """One line of a table, each value in its column's format."""
    return "| " + " | ".join(_cell(v, f) for v, f in zip(row, formats, strict=True)) + " |"


def table_section(result: Result) -> list[str]:
    """A `table` result: optional intro, the table, optional note."""
    formats = result.get("formats") or [None] * len(result["columns"])
    lines = []
    if result.get("intro"):
        lines += [result["intro"], ""]
    lines += table_head(result["columns"], formats, result.get("align"))
    lines += [table_row(row, formats) for row in result["rows"]]
    if result.get("note"):
        lines += ["", result["note"]]
    return lines


def publisher_section(r: Result) -> list[str]:
    """A `publisher` result (`python -m bench.publisher`)."""
    limit = r.get("limit_mb", 100)
    ok = "yes" if r["peak_rss_mb"] <= limit and r["arrived"] == r["events"] else "**no**"
    return [
        f"{r['when']}, {r['cpus']} CPUs shared with other work, Python {r['python']}, the local single-broker Kafka.",
        f"`{r['module']}` streamed a file of synthetic `payment.received` events (one JSON line each) to a "
        "3-partition topic with acks=all; peak RSS is the child process's `ru_maxrss`.",
        "",
        f"| events | file MB | seconds | events/s | peak RSS MB | ≤ {limit} MB and all arrived | in the topic |",
        "|---:|---:|---:|---:|---:|---|---:|",
        f"| {r['events']:,} | {r['file_mb']:,.0f} | {r['seconds']:,.1f} | {r['rate']:,.0f} | {r['peak_rss_mb']:,.0f} "
        f"| {ok} | {r['arrived']:,} |",
        "",
        f"Its output: `{r['summary']}`; last progress line: `{r['progress']}`.",
    ]


def projection_rows(results: dict) -> list[str]:
    rows = [
        "| size | service | events | projector ev/s (median) | runs | incl. start-up | bare consumer ev/s | "
        "ratio | ratio, reading free | ≥10k/s | ≥0.5 | rejected |",
        "|---|---|---:|---:|---|---:|---:|---:|---:|---|---|---:|",
    ]
    for size, result in results.items():
        for service, p in result["projection"].items():
            rows.append(
                f"| {size} | {service} | {p['events']:,} | {p['rate']:,.0f} | {p['rates']} | "
                f"{p['wall_rate']:,.0f} | {p['bare']:,.0f} | {p['ratio']:.2f} | {_reading_free(p)} | "
                f"{_ok(p['rate'] >= 10_000)} | {_ok(p['ratio'] >= 0.5)} | {p['rejected']} |"
                + (" broker lost during a run" if p.get("disturbed") else "")
            )
    rows += [
        "",
        '"Ratio, reading free": the ratio the projector would reach if reading the topics cost it nothing, its '
        "time per event less the bare consumer's (projector ev/s ÷ (bare − projector ev/s)); no faster Kafka "
        "client can take a projector beyond it.",
    ]
    return rows


def members_rows(results: dict) -> list[str]:
    """The rebuilds by several members of one group, beside the one-process rebuilds of the same run."""
    found = [(size, service, p) for size, r in results.items() for service, p in r["projection"].items()]
    found = [(size, service, p) for size, service, p in found if "members" in p]
    if not found:
        return []
    rows = [
        "",
        f"Each rebuild again with {found[0][2]['members']['processes']} members of one group "
        "(`--until-caught-up --processes N`, as `--rebuild-shadow --processes N` fills its shadow: each member a "
        "process of its own, whole partitions each), after the one-process rebuild of the same attempt:",
        "",
        "| size | service | members ev/s (median) | runs | ratio to the bare consumer | ÷ one process | "
        "peak RSS MB per process | ≥0.5 |",
        "|---|---|---:|---|---:|---:|---:|---|",
    ]
    for size, service, p in found:
        m = p["members"]
        rows.append(
            f"| {size} | {service} | {m['rate']:,.0f} | {m['rates']} | {m['ratio']:.2f} | {m['rate'] / p['rate']:.2f} "
            f"| {m['peak_rss_mb']:.0f} | {_ok(m['ratio'] >= 0.5)} |"
            + (" broker lost during a run" if m.get("disturbed") else "")
        )
    return rows


def _reading_free(p: dict) -> str:
    """The bare consumer's time per event taken off the projector's, as a ratio to the bare consumer."""
    spare = p["bare"] - p["rate"]
    return f"{p['rate'] / spare:.2f}" if spare > 0 else "-"


def query_rows(results: dict) -> list[str]:
    rows = [
        "| query | req/s (small) | p50 ms (small) | p99 ms (small) | req/s | p50 ms | p99 ms | errors small / large | "
        "rps ratio to /health/live | p50 growth | targets met |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    small, large = results["small"]["queries"], results["large"]["queries"]
    live = large["health/live"]["rps"]
    for name, q in large.items():
        s = small[name]
        growth = q["p50"] / s["p50"] if s["p50"] else float("nan")
        met = (
            "-"
            if name in NOT_QUERIES
            else _ok(q["rps"] >= QUERY_TARGET[0] and q["p99"] <= QUERY_TARGET[1] and q["errors"] == 0 and growth <= 1.5)
        )
        rows.append(
            f"| {name} | {s['rps']:.0f} | {s['p50']:.1f} | {s['p99']:.1f} | {q['rps']:.0f} | "
            f"{q['p50']:.1f} | {q['p99']:.1f} | {s['errors']} / {q['errors']} | {q['rps'] / live:.2f} | {growth:.2f} | {met} |"
        )
    return rows


def login_rows(results: dict) -> list[str]:
    """The answers' statuses of the login run in each size (counted by wrk)."""
    rows = ["| size | answers | 201 | 401 | 429 | 5xx | other |", "|---|---:|---:|---:|---:|---:|---:|"]
    for size in ("small", "large"):
        statuses = {int(k): v for k, v in (results[size]["queries"].get("login", {}).get("statuses") or {}).items()}
        if not statuses:
            continue
        known = statuses.get(201, 0) + statuses.get(401, 0) + statuses.get(429, 0)
        errors = sum(v for k, v in statuses.items() if k >= 500)
        rows.append(
            f"| {size} | {sum(statuses.values()):,} | {statuses.get(201, 0):,} | {statuses.get(401, 0):,} | "
            f"{statuses.get(429, 0):,} | {errors:,} | {sum(statuses.values()) - known - errors:,} |"
        )
    return rows if len(rows) > 2 else []


def cpu_rows(results: dict) -> list[str]:
    """CPU microseconds per request of each process group, large run."""
    rows = [
        "| query | " + " | ".join(f"{g} µs" for g in CPU_GROUPS) + " | total µs |",
        "|---|" + "---:|" * (len(CPU_GROUPS) + 1),
    ]
    for name, q in results["large"]["queries"].items():
        cpu = q.get("cpu_us") or {}
        if cpu:
            rows.append(
                f"| {name} | "
                + " | ".join(f"{cpu.get(g, 0):,.0f}" for g in CPU_GROUPS)
                + f" | {sum(cpu.values()):,.0f} |"
            )
    return rows


def memory_rows(results: dict) -> list[str]:
    rows = ["| process | peak RSS MB (large run) | ≤300 MB |", "|---|---:|---|"]
    large = results["large"]
    peaks = {f"{s}-projector (rebuild)": p["peak_rss_mb"] for s, p in large["projection"].items()}
    peaks.update(
        {
            f"{s}-projector (rebuild, {p['members']['processes']} members: the largest)": p["members"]["peak_rss_mb"]
            for s, p in large["projection"].items()
            if "members" in p
        }
    )
    peaks.update({f"{name} (system, during 2-3)": mb for name, mb in large["memory"].items()})
    rows += [f"| {name} | {mb:.0f} | {_ok(mb <= 300)} |" for name, mb in sorted(peaks.items())]
    return rows


def table(results: dict) -> str:
    """Plain-text summary for the console."""
    lines = ["", "Projection (events/s):"]
    lines += projection_rows(results)
    lines += members_rows(results)
    fresh = results["large"].get("freshness")
    if fresh:
        lines += [
            "",
            f"Freshness: {fresh['rate']:.0f} ev/s for {fresh['seconds']:.0f}s, {fresh['probes']} probes, "
            f"p50 {fresh['p50']:.3f}s p99 {fresh['p99']:.3f}s max {fresh['max']:.3f}s missed {fresh['missed']}",
        ]
    lines += ["", "Queries (32 clients):"] + query_rows(results) + ["", "Logins:"] + login_rows(results)
    lines += ["", "CPU per request:"] + cpu_rows(results) + ["", "Memory:"] + memory_rows(results)
    return "\n".join(lines)


def latest_section(all_results: list[Result]) -> list[str]:
    """The whole of the latest full run: machine, data sets, the five benchmarks, the plans."""
    run = latest_bench(all_results)
    if run is None:
        return ["(no bench run committed yet)"]
    results = run["results"]
    large, small = results["large"], results["small"]
    fresh = large.get("freshness")
    lines = [
        f"From `bench/results/{run['file']}` (code {run['code']}). Command: `{run['command']}`",
        "",
        "| machine | |",
        "|---|---|",
    ]
    lines += [f"| {key} | {value} |" for key, value in run["machine"].items()]
    for size, data in (("large", large["data"]), ("small", small["data"])):
        lines.append(
            f"\n{size}: {data['events']:,} events, {data['customers']:,} customers ({data['active']:,} with the "
            f"full demo history), published at {results[size]['publish']['rate']:,.0f} events/s."
        )
    lines += ["", "### 1. Projection throughput (rebuild from scratch; median of the runs)", ""]
    lines += projection_rows(results)
    lines += members_rows(results)
    lines += ["", "### 2. Freshness (payments published, visible in the gateway's `GET /api/v1/balance`)", ""]
    if fresh:
        lines += [
            f"{fresh['events']:,} payments at {fresh['rate']:.0f}/s for {fresh['seconds']:.0f} s; "
            f"{fresh['probes']} probed (polled every 20 ms through the gateway): p50 **{fresh['p50']:.3f} s**, "
            f"p99 **{fresh['p99']:.3f} s**, max {fresh['max']:.3f} s, never seen {fresh['missed']}. "
            f"p99 ≤ 1 s: {_ok(fresh['p99'] is not None and fresh['p99'] <= 1)}. Projector poll timeout "
            "(`PROJECTOR_POLL_TIMEOUT_MS`) 200 ms, the default."
        ]
    lines += ["", "### 3-4. Queries through the gateway, 32 concurrent clients (wrk), and growth small → large", ""]
    lines += query_rows(results)
    if login_rows(results):
        lines += ["", "Login answers by status (wrk counted every answer's status):", ""] + login_rows(results)
    if len(cpu_rows(results)) > 2:
        lines += [
            "",
            "CPU per request during each query's run (large data set; user + system time of the process "
            "groups from `/proc/<pid>/stat`, divided by the requests wrk counted; wrk's own excluded):",
            "",
        ]
        lines += cpu_rows(results)
        if run.get("cpu_scope") != "own":
            lines += [
                "",
                "In this run the postgres and kafka groups were every PostgreSQL and Kafka process of the machine, "
                "other sessions' too (some exited during a measurement, hence negative figures): those columns and "
                "the total are not usable; the bench now counts only its own servers.",
            ]
    for size in ("small", "large"):
        if results[size].get("outages"):
            lines += [
                "",
                f"Kafka or PostgreSQL went away during the {size} run (restarted by another user of the "
                f"machine); errors and tail latencies around then are not the system's own: "
                + ", ".join(results[size]["outages"]),
            ]
    lines += ["", "### 5. Memory", ""] + memory_rows(results)
    lines += ["", "### Query plans (large data set, one active customer)", ""]
    for label, plan in large["plans"].items():
        lines += [f"**{label}**", "", "```", plan, "```", ""]
    return lines[:-1] if lines[-1] == "" else lines


# --- the page -----------------------------------------------------------------------------------


def renderer(name: str, results: list[Result]) -> list[str]:
    """The lines of one generated section."""
    sections: dict[str, Callable[[list[Result]], list[str]]] = {
        "targets": targets_section,
        "history": history_section,
        "latest": latest_section,
    }
    if name in sections:
        return sections[name](results)
    kind, _, wanted = name.partition(":")
    matching = [r for r in results if r["kind"] == kind and r.get("id") == wanted]
    if not matching:
        raise KeyError(f"docs/performance.md names a generated section {name!r} that no result file gives")
    result = matching[-1]
    return table_section(result) if kind == "table" else publisher_section(result)


def generate(text: str, results: list[Result]) -> str:
    """The page with every generated section rendered again from the results."""

    def fill(match: re.Match[str]) -> str:
        name = match["name"]
        body = "\n".join(renderer(name, results))
        return f"<!-- generated:{name} -->\n{body}\n<!-- /generated:{name} -->"

    return MARKER.sub(fill, text)


def write_doc(path: Path = DOC, folder: Path = RESULTS) -> bool:
    """Rewrite the page's generated sections from the results in `folder`; whether anything changed."""
    text = path.read_text(encoding="utf-8")
    new = generate(text, load_all(folder))
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def median(values: list[float]) -> float:
    """The median (for the scripts that write `table` results)."""
    return statistics.median(values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether the page is current (exit 1 if not)")
    parser.add_argument("--doc", type=Path, default=DOC)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.check:
        text = args.doc.read_text(encoding="utf-8")
        current = generate(text, load_all(args.results)) == text
        print(f"{args.doc} is {'current' if current else 'NOT current: run python -m bench.report'}")
        return 0 if current else 1
    changed = write_doc(args.doc, args.results)
    print(f"{args.doc} {'rewritten' if changed else 'already current'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
