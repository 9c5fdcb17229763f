"""A batch's writes: each statement's rows collected, then sent at once, as JSON sets when they are many.

A projection declares each of its writes as an `Insert` (a table, the columns, and what a conflict on a unique key
does). `GroupedWrites` stands in for the cursor its handlers are given and collects the rows per `Insert`; `flush`
sends them. A few rows go as an `executemany` of the row statement (one Bind/Execute per row); more go as
`INSERT … SELECT … FROM json_populate_recordset(NULL::<table>, <json>) WITH ORDINALITY ORDER BY ordinality`, one per
chunk of rows: one parameter, read by PostgreSQL into the table's own column types, the rows in their order, so
every default (the `arrival` serials) is drawn in the same order as row by row.

A statement goes row by row instead when it updates on a conflict and a key repeats within the batch (one statement
may not update a row twice); from the chunk with a value JSON would not carry as the row statement's parameter does
(`_json_value`), its rows go row by row. `DO NOTHING` needs no such care: a key repeated in one statement is skipped as it would
be row by row, its serial drawn all the same. `tests/integration/test_grouped_writes.py` checks both ways give the
same table on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain, starmap
from operator import itemgetter
from typing import Any

import msgspec
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

# From this many rows a statement goes as JSON sets instead of one execute per row: about where a set took no longer
# than the rows (docs/performance.md, change 22). Sets of at most SET_CHUNK_ROWS rows, so that PostgreSQL works on
# one while the next is encoded.
SET_MIN_ROWS = 8
SET_CHUNK_ROWS = 100


@dataclass(frozen=True, eq=False)  # eq=False: hashed by identity, the key of a batch's row lists
class Insert:
    """An INSERT of one row into `table`; with `key`, `on_conflict` says what a row whose key exists does.

    `on_conflict` is `"DO NOTHING"` or `"DO UPDATE SET …"` (see `replace_others`); without `key` there is none.
    """

    table: str
    columns: tuple[str, ...]
    key: tuple[str, ...] = ()
    on_conflict: str = ""
    row_sql: str = field(init=False, repr=False)
    set_sql: str = field(init=False, repr=False)
    key_at: tuple[int, ...] = field(init=False, repr=False)  # the key columns' places in a row
    pick: Any = field(init=False, repr=False)  # named parameters -> the row's values in column order
    row_object: Any = field(init=False, repr=False)  # a row's values -> a msgspec Struct written as a JSON object

    @classmethod
    def replacing(cls, table: str, columns: tuple[str, ...], key: tuple[str, ...]) -> Insert:
        """Keyed by `key`: a later row with the same key replaces every other column (`replace_others`)."""
        return cls(table, columns, key=key, on_conflict=replace_others(columns, key))

    def __post_init__(self) -> None:
        if bool(self.key) != bool(self.on_conflict):
            raise ValueError(f"{self.table}: a key needs its on_conflict, and on_conflict a key")
        if not set(self.key) <= set(self.columns):
            raise ValueError(f"{self.table}: the key {self.key} must be among the columns")
        if self.on_conflict and not self.on_conflict.startswith(("DO NOTHING", "DO UPDATE SET ")):
            raise ValueError(f"{self.table}: on_conflict is DO NOTHING or DO UPDATE SET …, not {self.on_conflict!r}")
        table = sql.Identifier(self.table)
        columns = sql.SQL(", ").join(map(sql.Identifier, self.columns))
        conflict: sql.Composable = sql.SQL("")
        if self.key:
            keys = sql.SQL(", ").join(map(sql.Identifier, self.key))
            # on_conflict is the projection's own constant (checked above), never an event's value
            conflict = sql.SQL(" ON CONFLICT ({}) ").format(keys) + sql.SQL(self.on_conflict)  # type: ignore[arg-type]
        row = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            table, columns, sql.SQL(", ").join(sql.Placeholder() * len(self.columns))
        )
        many = sql.SQL(
            "INSERT INTO {table} ({columns}) SELECT {columns} FROM json_populate_recordset(NULL::{table}, %s::json)"
            " WITH ORDINALITY AS r ORDER BY r.ordinality"
        ).format(table=table, columns=columns)
        object.__setattr__(self, "row_sql", (row + conflict).as_string())
        object.__setattr__(self, "set_sql", (many + conflict).as_string())
        object.__setattr__(self, "key_at", tuple(self.columns.index(name) for name in self.key))
        pick = itemgetter(*self.columns)
        object.__setattr__(self, "pick", pick if len(self.columns) > 1 else lambda params: (pick(params),))
        # fields named f0, f1… (any column name is a JSON key, not every one a Python name), written as the columns
        names = {f"f{n}": column for n, column in enumerate(self.columns)}
        object.__setattr__(self, "row_object", msgspec.defstruct(f"{self.table}_row", list(names), rename=names))

    @property
    def updates(self) -> bool:
        """True when a conflicting row changes the stored one (DO UPDATE)."""
        return self.on_conflict.startswith("DO UPDATE")

    def values(self, params: Mapping[str, Any] | Sequence[Any]) -> tuple[Any, ...]:
        """One row's values in column order, from named parameters (others ignored) or a sequence in that order."""
        if isinstance(params, Mapping):
            return self.pick(params)
        if len(params) != len(self.columns):
            raise ValueError(f"{self.table}: {len(params)} values for {len(self.columns)} columns")
        return tuple(params)

    def goes_as_set(self, rows: list[tuple[Any, ...]]) -> bool:
        """True when these rows may go as one statement: enough of them, and no key twice if conflicts update."""
        if len(rows) < SET_MIN_ROWS:
            return False
        if not self.updates:
            return True
        return len({tuple(row[i] for i in self.key_at) for row in rows}) == len(rows)

    def as_json(self, rows: list[tuple[Any, ...]]) -> str | None:
        """The rows as `set_sql`'s parameter, a JSON array of objects named by column; None when a value has no JSON
        form PostgreSQL would read as the row statement's parameter (see `SET_TYPES` and `_json_value`)."""
        types = set(map(type, chain.from_iterable(rows)))
        if not types <= SET_TYPES or (datetime in types and not _minute_offsets(rows)):
            return None
        try:
            return _ENCODER.encode(list(starmap(self.row_object, rows))).decode()
        except (TypeError, ValueError, OverflowError, msgspec.EncodeError):
            return None


def replace_others(columns: Iterable[str], key: Iterable[str]) -> str:
    """`DO UPDATE SET` every column but the key to the new row's value: the later row of a key wins."""
    keys = set(key)
    sets = [sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(name)) for name in columns if name not in keys]
    return (sql.SQL("DO UPDATE SET ") + sql.SQL(", ").join(sets)).as_string()


# The types of a row's values a JSON set carries as the row statement's parameters do: msgspec writes dates and
# times as RFC 3339 (every time column of the read models is timestamptz or date; offsets of whole minutes only:
# `_minute_offsets`), a JSON document as itself (`_json_value`). Any other type (a Decimal, a float, bytes, a subclass
# of a carried type…) and the chunk goes row by row. Inside a JSON document msgspec writes what psycopg's json.dumps
# writes for plain JSON values; for what json.dumps refuses (NaN, a Decimal…) it writes a value where row by row the
# batch fails. The documents are built from decoded events, whose schemas hold no float and no such value.
SET_TYPES = frozenset({str, int, bool, type(None), date, datetime, Jsonb})


def _minute_offsets(rows: list[tuple[Any, ...]]) -> bool:
    """True when every time among the rows is naive or has an offset of whole minutes: msgspec writes an offset as
    hours and minutes only (Budapest's before 1890 was +01:16:20), where the row statement sends the exact instant."""
    offsets = {value.utcoffset() for value in chain.from_iterable(rows) if type(value) is datetime}
    return all(offset is None or not (offset.seconds % 60 or offset.microseconds) for offset in offsets)


def _json_value(value: Any) -> Any:
    """A JSON document as itself; a JSON document that is null has no form PostgreSQL would read back as the row
    statement's parameter gives it (jsonb 'null', where JSON null in a set is SQL NULL): TypeError, row by row."""
    if isinstance(value, Jsonb) and value.obj is not None:
        return value.obj
    raise TypeError(f"no JSON form for {type(value).__name__}")


_ENCODER = msgspec.json.Encoder(enc_hook=_json_value)


# `column = ANY_OF_JSON_LIST` with `json_list(values)` as its parameter: psycopg adapts a Python list as an array one
# element at a time in Python, and a batch's ids are a thousand of them; the array built from one JSON text is still
# looked up through the column's index.
ANY_OF_JSON_LIST = "ANY(ARRAY(SELECT json_array_elements_text(%s::json)))"


def json_list(values: Sequence[Any]) -> str:
    """A list of strings (or of lists of them) as one JSON parameter (`ANY_OF_JSON_LIST`, `json_array_elements`)."""
    return _ENCODER.encode(values).decode()


class GroupedWrites:
    """Stands in for a cursor: collects each `Insert`'s rows, in order; `flush` sends each statement's rows at once."""

    def __init__(self) -> None:
        self._rows: dict[Insert, list[tuple[Any, ...]]] = {}

    def execute(self, insert: Insert, params: Mapping[str, Any] | Sequence[Any]) -> None:
        """Add one row."""
        self._rows.setdefault(insert, []).append(insert.values(params))

    def executemany(self, insert: Insert, params_seq: Iterable[Mapping[str, Any] | Sequence[Any]]) -> None:
        """Add rows."""
        self._rows.setdefault(insert, []).extend(map(insert.values, params_seq))

    def flush(self, cur: psycopg.Cursor[Any]) -> int:
        """Send every statement's rows in one pipeline, statements in the order they first appeared; how many
        statements went as sets."""
        with cur.connection.pipeline():
            sets = sum(_send(cur, insert, rows) for insert, rows in self._rows.items() if rows)
        self._rows.clear()
        return sets


def _send(cur: psycopg.Cursor[Any], insert: Insert, rows: list[tuple[Any, ...]]) -> bool:
    """Send one statement's rows: as sets when they may go so, else (or from a chunk JSON cannot carry) row by row;
    True when some went as sets."""
    sent = 0
    if insert.goes_as_set(rows):
        while sent < len(rows):  # PostgreSQL works on one chunk while the next is encoded
            chunk = insert.as_json(rows[sent : sent + SET_CHUNK_ROWS])
            if chunk is None:
                break  # a value JSON would not carry: this chunk and the rest row by row, still in order
            cur.execute(insert.set_sql, (chunk,))
            sent += SET_CHUNK_ROWS
    if sent < len(rows):
        cur.executemany(insert.row_sql, rows[sent:])
    return sent > 0
