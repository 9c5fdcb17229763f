"""The guard of tests/support/ast_gc.py: a parse nested in another by a finalizer no longer breaks the outer one."""

from __future__ import annotations

import ast
import gc
import sys
from pathlib import Path

import pytest

from tests.support import ast_gc


class ParsesWhenCollected:
    """Garbage only the cyclic collector frees; its finalizer parses, as a traceback being formatted does."""

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        ast_gc._PARSE("total = (1 + 2) * prices[3]")


def parse_among_garbage(parse) -> int:  # noqa: ANN001
    """SystemErrors of `parse` over a large module while the collector frees such garbage."""
    source = Path(ast.__file__).read_text(encoding="utf-8")
    thresholds = gc.get_threshold()
    gc.set_threshold(10, 1, 1)
    failures = 0
    try:
        for _ in range(30):
            for _ in range(50):
                ParsesWhenCollected()
            try:
                parse(source)
            except SystemError:
                failures += 1
    finally:
        gc.set_threshold(*thresholds)
        gc.collect()
    return failures


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="CPython 3.12 and later count per call: nothing to guard")
def test_the_fault_is_real_without_the_guard():
    assert parse_among_garbage(ast_gc._PARSE) > 0


def test_no_parse_fails_with_the_guard():
    assert ast.parse is ast_gc.parse_without_gc or sys.version_info >= (3, 12)
    assert parse_among_garbage(ast.parse) == 0
