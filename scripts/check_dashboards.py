#!/usr/bin/env python3
"""Check every panel query of the Grafana dashboards in ops/grafana/dashboards with promtool.

Each panel must have at least one PromQL target; the expressions are written as recording rules into a
temporary rule file and `promtool check rules` parses them (a typo, an unknown function or a bad matcher
fails `make lint`).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

DASHBOARDS = Path(__file__).resolve().parents[1] / "ops" / "grafana" / "dashboards"


def rules_of(dashboard: dict) -> list[dict]:
    """One recording rule per panel target: `dashboard:<uid>:panel<id>_<refId>`."""
    uid = re.sub(r"[^a-zA-Z0-9_]", "_", dashboard["uid"])
    rules = []
    for panel in dashboard["panels"]:
        targets = [t for t in panel.get("targets", []) if t.get("expr")]
        if not targets:
            raise SystemExit(f"{dashboard['uid']}: panel {panel['id']} ({panel.get('title')}) has no PromQL target")
        for target in targets:
            rules.append({"record": f"dashboard:{uid}:panel{panel['id']}_{target['refId']}", "expr": target["expr"]})
    return rules


def main() -> int:
    files = sorted(DASHBOARDS.glob("*.json"))
    if not files:
        raise SystemExit(f"no dashboards in {DASHBOARDS}")
    groups = [{"name": path.stem, "rules": rules_of(json.loads(path.read_text()))} for path in files]
    with tempfile.TemporaryDirectory() as tmp:
        rule_file = Path(tmp) / "dashboards.rules.yml"
        rule_file.write_text(json.dumps({"groups": groups}, indent=2))  # JSON is YAML
        result = subprocess.run(["promtool", "check", "rules", str(rule_file)], capture_output=True, text=True)
    sys.stdout.write(result.stdout.replace(str(rule_file), "dashboard queries"))
    sys.stderr.write(result.stderr)
    count = sum(len(g["rules"]) for g in groups)
    if result.returncode == 0:
        print(f"{count} panel queries of {len(files)} dashboard(s) are valid PromQL")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
