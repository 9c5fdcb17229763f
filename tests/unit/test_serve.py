"""shared/web/serve.py, the services' Granian launcher: its arguments and the metrics directory it prepares."""

from __future__ import annotations

import argparse

import pytest

from shared.web import serve


def test_bind_is_gunicorn_s_host_and_port() -> None:
    assert serve.parse_bind("127.0.0.1:8081") == ("127.0.0.1", 8081)
    assert serve.parse_bind("0.0.0.0:8000") == ("0.0.0.0", 8000)


@pytest.mark.parametrize("text", ["8000", ":8000", "localhost:", "localhost:http", "localhost:0", "h:65536"])
def test_a_bind_it_cannot_read_is_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="expected HOST:PORT"):
        serve.parse_bind(text)


def test_an_app_written_as_a_call_is_a_factory() -> None:
    assert serve.target("services.ledger.app:create_app()") == ("services.ledger.app:create_app", True)
    assert serve.target("bench.servers:app") == ("bench.servers:app", False)


def test_the_given_metrics_directory_is_emptied_of_an_earlier_run(tmp_path, monkeypatch) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_123.db").write_bytes(b"old")
    (directory / "keep.txt").write_text("not prometheus_client's")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    assert serve.metrics_directory() == str(directory)
    assert sorted(p.name for p in directory.iterdir()) == ["keep.txt"]


def test_without_one_a_directory_is_made_and_set(monkeypatch) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")  # empty is unset; monkeypatch restores the variable after
    made = serve.metrics_directory()
    try:
        assert serve.os.environ["PROMETHEUS_MULTIPROC_DIR"] == made
        assert "portal-metrics-" in made
    finally:
        serve.os.rmdir(made)
