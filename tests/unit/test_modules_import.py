"""Every module of the project imports: a name removed in one place and still imported in another (a benchmark,
a script) fails here, not at its first run."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("shared", "services", "gateway", "bench", "demo")


def modules() -> list[str]:
    found = []
    for package in PACKAGES:
        found.append(package)
        for info in pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}."):
            if not info.name.endswith(".__main__"):  # a program: importing it runs it
                found.append(info.name)
    return sorted(found)


def test_the_packages_have_modules() -> None:
    assert {"bench.plans", "gateway.clients", "services.ledger.queries", "shared.readmodel.rowsets"} <= set(modules())


@pytest.mark.parametrize("name", modules())
def test_module_imports(name: str) -> None:
    assert importlib.import_module(name).__name__ == name
