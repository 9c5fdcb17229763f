#!/usr/bin/env python3
"""Validate docker-compose.yml against the Compose Specification's JSON schema (no Docker needed).

The schema is ops/compose/compose-spec.json, from github.com/compose-spec/compose-spec (schema/,
Apache License 2.0). Also checks that every file or directory the compose file mounts from the
repository exists.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema_rs
import yaml

ROOT = Path(__file__).resolve().parents[1]


def problems(compose_file: Path) -> list[str]:
    """What is wrong with the compose file: schema violations and missing mounted paths."""
    compose = yaml.safe_load(compose_file.read_text())  # merge keys (<<) resolved as compose does
    schema = json.loads((ROOT / "ops" / "compose" / "compose-spec.json").read_text())
    found = [
        f"{'/'.join(map(str, error.instance_path)) or '(top)'}: {error.message}"
        for error in jsonschema_rs.validator_for(schema).iter_errors(compose)
    ]
    for name, service in (compose.get("services") or {}).items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source", "")
            if source.startswith(".") and not (compose_file.parent / source).exists():
                found.append(f"services/{name}/volumes: {source} does not exist")
    return found


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    compose_file = Path(args[0]) if args else ROOT / "docker-compose.yml"
    found = problems(compose_file)
    for line in found:
        print(f"{compose_file.name}: {line}", file=sys.stderr)
    if not found:
        print(f"{compose_file.name} is valid against the Compose Specification")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
