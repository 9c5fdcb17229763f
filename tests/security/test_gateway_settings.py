"""Settings the documentation promises, checked on real gateway processes (gunicorn, as the stack starts them):
a signing key under 32 bytes stops the gateway at start; the default per-address login limit is 30 failures."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import requests

from tests.support.events import customer_code
from tests.support.infra import ROOT
from tests.support.system import GUNICORN_CONF, free_port


def test_a_signing_key_under_32_bytes_stops_the_gateway_at_start(system, tmp_path):
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    for key in ("k" * 31, "é" * 15):  # 31 characters; 15 characters but 30 bytes
        proc = subprocess.run(
            [
                gunicorn,
                "-c",
                GUNICORN_CONF,
                "--workers",
                "1",
                "--bind",
                f"127.0.0.1:{free_port()}",
                "gateway.app:create_app()",
            ],
            cwd=ROOT,
            env={**system.env, "GATEWAY_SECRET_KEY": key},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode != 0
        # One line says why (shared/web/gunicorn_conf.py checks before any worker starts), not a traceback.
        errors = [
            line
            for line in (proc.stdout + proc.stderr).splitlines()
            if '"level": "error"' in line or "[ERROR]" in line or "Traceback" in line
        ]
        assert len(errors) == 1 and "GATEWAY_SECRET_KEY must be at least 32 bytes long" in errors[0], errors
    url = system.start_gateway("gateway-32-byte-key", GATEWAY_SECRET_KEY="k" * 32)  # exactly 32 bytes: starts
    try:
        assert requests.get(f"{url}/health/live", timeout=10).status_code == 200
    finally:
        system.stop("gateway-32-byte-key")


def test_the_default_per_address_limit_is_30_failures(system, customers, make_database, record):
    """The system's gateway raises the limit (every test logs in from 127.0.0.1); this one keeps the default."""
    url = system.start_gateway(
        "gateway-default-limit",
        LOGIN_FAILURES_PER_ADDRESS="",
        GATEWAY_DATABASE_URL=make_database(f"addr_{uuid.uuid4().hex[:6]}"),
    )
    try:
        # Each failure names another (unknown) customer, so the per-code limit (5) never applies.
        answers = [
            requests.post(
                f"{url}/api/v1/sessions", timeout=15, json={"customer_code": customer_code(), "serial_number": "SN-X"}
            ).status_code
            for _ in range(30)
        ]
        assert answers == [401] * 30
        a = customers["a"]
        limited = requests.post(
            f"{url}/api/v1/sessions", timeout=15, json={"customer_code": a["code"], "serial_number": a["serials"][0]}
        )
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0  # the right credentials too
    finally:
        system.stop("gateway-default-limit")
    record(failures_allowed=30, then=limited.status_code)
