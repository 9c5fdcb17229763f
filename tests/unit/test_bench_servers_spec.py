"""`bench.compare_queries --before-servers/--after-servers`: which API runs under which server."""

from __future__ import annotations

import argparse

import pytest

from bench.compare_queries import servers_spec
from bench.infra import STACK_SERVERS
from tests.support.system import SERVICES


def test_services_names_the_four_apis_and_the_gateway_stays_apart() -> None:
    chosen = servers_spec("services=granian, gateway=nginx+granian")
    assert chosen == {**dict.fromkeys(SERVICES, "granian"), "gateway": "nginx+granian"}


def test_nothing_is_the_stack_as_it_runs() -> None:
    assert servers_spec("") == {}
    assert servers_spec(" , ") == {}
    assert STACK_SERVERS == {**dict.fromkeys(SERVICES, "granian"), "gateway": "gunicorn"}


def test_one_service_and_a_later_choice_overrides_an_earlier_one() -> None:
    assert servers_spec("ledger=granian") == {"ledger": "granian"}
    assert servers_spec("services=granian,quota=nginx+granian")["quota"] == "nginx+granian"


@pytest.mark.parametrize("text", ["services", "gunicorn", "services=uwsgi", "billing=granian", "gateway=", "=granian"])
def test_a_spec_it_cannot_read_is_refused_with_what_it_takes(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="expected API=SERVER"):
        servers_spec(text)
