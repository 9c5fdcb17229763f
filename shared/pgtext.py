"""Text a PostgreSQL text column can hold: no U+0000 (NUL), no lone surrogate (UTF-8 cannot write one)."""

from __future__ import annotations


def unstorable_char(value: str) -> str | None:
    """The first character of `value` that PostgreSQL text cannot hold (a NUL before any surrogate), or None."""
    if "\x00" in value:
        return "\x00"
    if value.isascii():
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return value[exc.start]
    return None


def escape_unstorable(text: str) -> str:
    """`text` with each such character written as an escape (`\\x00`, `\\udxxx`), for a record shown to people."""
    if unstorable_char(text) is None:
        return text
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")
