"""gunicorn's logger as the stack configures it (shared/web/gunicorn_conf.py): no access log lines are built."""

from __future__ import annotations

import importlib

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger

from shared.web.http_server import NoAccessLog


def test_the_configuration_names_the_logger_without_access_log(monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))  # the module would make a folder otherwise
    conf = importlib.import_module("shared.web.gunicorn_conf")
    cfg = Config()
    cfg.set("logger_class", conf.logger_class)
    cfg.set("logconfig_dict", conf.logconfig_dict)
    assert cfg.logger_class is NoAccessLog


def test_no_access_line_is_built_although_a_log_configuration_turns_gunicorn_s_on(monkeypatch):
    cfg = Config()
    cfg.set("logconfig_dict", {"version": 1, "disable_existing_loggers": False})
    built: list[object] = []
    monkeypatch.setattr(Logger, "atoms", lambda self, *args: built.append(args) or {})
    Logger(cfg).access(None, None, {}, None)
    assert len(built) == 1  # gunicorn's own logger builds the line's atoms for every request
    NoAccessLog(cfg).access(None, None, {}, None)
    assert len(built) == 1


@pytest.fixture(autouse=True)
def _quiet_root_logging():
    """Logger(cfg) configures logging from the dict; put the root logger's handlers back afterwards."""
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:], root.level = handlers, level
