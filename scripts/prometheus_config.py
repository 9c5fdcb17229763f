#!/usr/bin/env python3
"""Prometheus configuration for processes on this machine (`make run`, the end-to-end tests).

    scripts/prometheus_config.py --gateway 127.0.0.1:8080 --service contracts=127.0.0.1:8081 \
        --projector contracts=127.0.0.1:9101 ... [--interval 15s] > prometheus.yml

The jobs and labels are those of ops/prometheus/prometheus.yml (docker compose), so the same alert
rules (ops/prometheus/alerts.yml, loaded here by absolute path) apply: job `services` for the internal
APIs, `projectors` for the projectors' metrics ports, `gateway`; every target carries `service`.
The output is JSON, which is YAML too.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

RULES = Path(__file__).resolve().parents[1] / "ops" / "prometheus" / "alerts.yml"


def render(
    gateway: str,
    services: dict[str, str],
    projectors: dict[str, str],
    interval: str = "15s",
    rules: Path = RULES,
    token_file: str | None = None,
) -> dict:
    """The configuration as a dict: one static target per process, labelled with its service.

    The gateway's /metrics needs the internal token: Prometheus sends it from `token_file` as a bearer token.
    """

    def job(name: str, targets: dict[str, str]) -> dict:
        return {
            "job_name": name,
            "static_configs": [
                {"targets": [address], "labels": {"service": service}} for service, address in targets.items()
            ],
        }

    gateway_job = job("gateway", {"gateway": gateway})
    if token_file:
        gateway_job["authorization"] = {"type": "Bearer", "credentials_file": token_file}
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": [str(rules)],
        "scrape_configs": [job("services", services), job("projectors", projectors), gateway_job],
    }


def _pairs(values: list[str]) -> dict[str, str]:
    pairs = {}
    for value in values:
        name, sep, address = value.partition("=")
        if not sep or not name or not address:
            raise argparse.ArgumentTypeError(f"expected NAME=HOST:PORT, got {value!r}")
        pairs[name] = address
    return pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gateway", required=True, metavar="HOST:PORT")
    parser.add_argument("--service", action="append", default=[], metavar="NAME=HOST:PORT", help="an internal API")
    parser.add_argument(
        "--projector", action="append", default=[], metavar="NAME=HOST:PORT", help="a projector's metrics port"
    )
    parser.add_argument("--interval", default="15s", help="scrape and rule evaluation interval")
    parser.add_argument("--token-file", help="file holding the internal token, sent to the gateway's /metrics")
    args = parser.parse_args(argv)
    try:
        config = render(
            args.gateway, _pairs(args.service), _pairs(args.projector), args.interval, token_file=args.token_file
        )
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    json.dump(config, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
