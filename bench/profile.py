"""`python -m bench.profile --pid PID --seconds 15 --id NAME`: where a running process spends its CPU.

Samples the process (and its children, e.g. gunicorn's workers) with py-spy (`pip install py-spy`; not a
dependency of the project) and writes a `table` result to bench/results/: the share of the samples whose
innermost frame is in each library or in the project's own code, and the functions with the most samples of
their own. Idle threads are not sampled, so the shares are of CPU time. docs/performance.md shows the table
where it names `table:<NAME>`.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench import report

FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^:]*)(?::\d+)?\)$")
PROJECT = ("gateway", "services", "shared")


def area(file: str) -> str:
    """The library (its top-level package or module; py-spy names files from there) or our code a file is in."""
    parts = Path(file).parts
    if "site-packages" in parts:
        parts = parts[parts.index("site-packages") + 1 :]
    if not parts or file.startswith("<"):
        return "other"
    top = parts[0].removesuffix(".py")
    return f"our code ({top})" if top in PROJECT else top


def summarise(raw: str, top: int) -> tuple[int, Counter[str], Counter[str]]:
    """Samples in all, samples per area of the innermost frame, samples per innermost function."""
    areas: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        leaf = stack.split(";")[-1]
        match = FRAME.match(leaf)
        function, file = (match["function"], match["file"]) if match else (leaf, "")
        if leaf.startswith("process ") and not match:  # --subprocesses' root frame alone: no Python frame
            function, file = "(no Python frame: native code)", "<native>"
        n = int(count)
        total += n
        areas[area(file)] += n
        functions[f"{function} ({area(file)})"] += n
    return total, areas, functions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n")[0])
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--id", required=True, help="result id: the page shows it where it names table:<id>")
    parser.add_argument("--what", required=True, help="what was profiled, for the table's introduction")
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--gil", action="store_true", help="only samples of threads holding the GIL (Python CPU)")
    parser.add_argument("--results", type=Path, default=report.RESULTS)
    args = parser.parse_args(argv)
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "profile.txt"
        subprocess.run(
            [spy, "record", "--pid", str(args.pid), "--subprocesses", "--duration", str(args.seconds), "--rate", "200"]
            + ["--format", "raw", "--output", str(out), "--nonblocking"]
            + (["--gil"] if args.gil else []),
            check=True,
            capture_output=True,
        )
        total, areas, functions = summarise(out.read_text(), args.top)
    if not total:
        raise SystemExit("py-spy took no samples")
    rows = [["where the CPU went (innermost frame)", name, n / total * 100] for name, n in areas.most_common(10)]
    rows += [
        ["function with the most own samples", name, n / total * 100] for name, n in functions.most_common(args.top)
    ]
    result = {
        "kind": "table",
        "id": args.id,
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "code": report.code_version(),
        "intro": f"py-spy{' --gil (threads holding the GIL only)' if args.gil else ''}, {args.seconds} s at 200 "
        f"samples/s, {total:,} samples: {args.what}.",
        "columns": ["", "library or function", "% of samples"],
        "formats": [None, None, "{:.1f}"],
        "align": ["---", "---", "---:"],
        "rows": rows,
    }
    path = report.save(args.results, args.id, result)
    print("\n".join(report.table_section(result)))
    print(f"results in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
