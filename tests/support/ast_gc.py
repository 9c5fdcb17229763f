"""CPython 3.11: no garbage collection inside `ast.parse` in the test process.

In CPython 3.11 an `ast.parse` that runs while another one in the same thread is building its result corrupts
the outer one's recursion count, which then fails with `SystemError: AST constructor recursion depth mismatch`
(python/cpython#106905; 3.12.1 and 3.13.0 do not fail so). A garbage collection during the outer parse can run
such an inner one from a finalizer, e.g. one that formats a traceback (3.11 parses source lines for its caret
anchors); the suite leaves kafka-python's failed sockets to the collector. Which finalizer it was is not known,
but a stressed run of the suite failed this way inside Hypothesis, which parses a lambda's source to describe
a strategy. `tests/unit/test_ast_gc.py`
reproduces the nesting and checks that this guard prevents it.
"""

from __future__ import annotations

import ast
import gc
import sys
from typing import Any

_PARSE = ast.parse


def parse_without_gc(*args: Any, **kwargs: Any) -> Any:
    """`ast.parse` with the cyclic garbage collector paused: no finalizer can run a nested parse meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _PARSE(*args, **kwargs)
    finally:
        if enabled:
            gc.enable()


def install() -> None:
    """Guard `ast.parse` on the interpreters that need it."""
    if sys.version_info < (3, 12):
        ast.parse = parse_without_gc
