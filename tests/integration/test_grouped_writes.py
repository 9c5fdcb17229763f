"""A statement's rows sent as one JSON set give exactly the table that sending them row by row gives.

On the real PostgreSQL, in a scratch schema with a table like the read models' (a unique key, an `arrival` serial,
dates, times with zones, JSON documents, NULLs, text that JSON must escape). The same rows, with keys repeated
within the batch and keys stored before, go once through `GroupedWrites` as one batch and once one row per batch
(the row statement); the tables, serials included, must be equal.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg.types.json import Jsonb

from shared.projection import writes as writes_module
from shared.projection.writes import GroupedWrites, Insert, replace_others
from tests.support.readmodel import scratch_schema

DDL = """
CREATE TABLE IF NOT EXISTS doc (
    doc_id     text PRIMARY KEY,
    owner      text NOT NULL,
    issued_on  date NOT NULL,
    seen_at    timestamptz,
    amount     bigint NOT NULL,
    pages      integer,
    paid       boolean,
    note       text,
    facts      jsonb,
    arrival    bigserial NOT NULL
);
CREATE TABLE IF NOT EXISTS doc_log (
    arrival   bigserial PRIMARY KEY,
    doc_id    text NOT NULL,
    owner     text NOT NULL,
    note      text
);
"""
COLUMNS = ("doc_id", "owner", "issued_on", "seen_at", "amount", "pages", "paid", "note", "facts")
KEEP_FIRST = Insert("doc", COLUMNS, key=("doc_id",), on_conflict="DO NOTHING")
KEEP_LAST = Insert("doc", COLUMNS, key=("doc_id",), on_conflict=replace_others(COLUMNS, ("doc_id",)))
ADD_UP = Insert("doc", COLUMNS, key=("doc_id",), on_conflict="DO UPDATE SET amount = doc.amount + EXCLUDED.amount")
RENEW = Insert("doc", COLUMNS, key=("doc_id",), on_conflict="DO UPDATE SET note = EXCLUDED.note, arrival = DEFAULT")
APPEND = Insert("doc_log", ("doc_id", "owner", "note"))
NOTES = [None, "", "árvíztűrő tükörfúrógép", 'quote " and \\ backslash', "line\nbreak\ttab", "emoji 🧾", "'; --"]


class _Note(str):
    """A str subclass: not among the types a set carries, so its chunk goes row by row."""


@pytest.fixture
def schemas(tmp_path: Path) -> Iterator[tuple[psycopg.Connection, psycopg.Connection]]:
    ddl = tmp_path / "schema.sql"
    ddl.write_text(DDL)
    with scratch_schema(ddl) as row_by_row, scratch_schema(ddl) as grouped:
        yield row_by_row, grouped


def make_rows(seed: int, count: int, keys: int, distinct: bool = False) -> list[dict[str, Any]]:
    """Rows over the keys D0000… up to `keys` (repeating when count > keys, unless `distinct`), every column varied."""
    rng = random.Random(seed)
    zones = [UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5, minutes=-30))]
    ids = rng.sample(range(keys), count) if distinct else [rng.randrange(keys) for _ in range(count)]
    rows = []
    for n in range(count):
        rows.append(
            {
                "doc_id": f"D{ids[n]:04d}",
                "owner": rng.choice(["C1001", "C1002", "Kovács Kft."]),
                "issued_on": date(2026, 1, 1) + timedelta(days=rng.randrange(400)),
                "seen_at": rng.choice(
                    [None, datetime(2026, 3, 1, 8, 30, 15, rng.randrange(10**6), tzinfo=rng.choice(zones))]
                ),
                "amount": rng.randrange(-(10**12), 10**12),
                "pages": rng.choice([None, 0, rng.randrange(-(2**31), 2**31)]),
                "paid": rng.choice([None, True, False]),
                "note": rng.choice(NOTES),
                "facts": rng.choice([None, Jsonb({"n": n, "list": [1, "két", None], "nested": {"x": 1.5}})]),
                "unused": object(),  # named parameters the statement does not take are left alone
            }
        )
    return rows


def table(conn: psycopg.Connection, name: str) -> list[tuple[Any, ...]]:
    with conn.cursor(row_factory=psycopg.rows.tuple_row) as cur:
        return cur.execute(f"SELECT * FROM {name} ORDER BY arrival").fetchall()  # noqa: S608 - the test's own names


def write(conn: psycopg.Connection, batches: list[list[tuple[Insert, dict[str, Any]]]]) -> int:
    """Each batch in a transaction, as the projector does; how many statements went as sets."""
    sets = 0
    for batch in batches:
        grouped = GroupedWrites()
        for insert, row in batch:
            grouped.execute(insert, row)
        with conn.transaction(), conn.cursor() as cur, conn.pipeline():
            sets += grouped.flush(cur)
    return sets


def both_ways(
    schemas: tuple[psycopg.Connection, psycopg.Connection], rows: list[tuple[Insert, dict[str, Any]]]
) -> tuple[int, int]:
    """Write the rows one per batch and all in one batch; the set counts of each way."""
    row_by_row, grouped = schemas
    return write(row_by_row, [[row] for row in rows]), write(grouped, [rows])


@pytest.mark.parametrize(
    "insert", [KEEP_FIRST, KEEP_LAST, ADD_UP, RENEW], ids=["do-nothing", "replace", "add", "renew-serial"]
)
def test_one_set_equals_row_by_row_with_keys_stored_before(
    schemas: tuple[psycopg.Connection, psycopg.Connection], insert: Insert
) -> None:
    before = make_rows(seed=1, count=30, keys=30, distinct=True)
    for conn in schemas:  # keys stored by earlier batches, some of which the set meets again
        write(conn, [[(insert, row) for row in before]])
    # a keyed update may not touch a row twice in one statement: distinct keys for the set, repeats for DO NOTHING
    if insert.updates:
        rows = [(insert, row) for row in make_rows(seed=2, count=60, keys=90, distinct=True)]
    else:
        rows = [(insert, row) for row in make_rows(seed=2, count=200, keys=60)]  # two chunks, keys repeated
        assert len({row["doc_id"] for _, row in rows}) < len(rows)
    assert {row["doc_id"] for row in before} & {row["doc_id"] for _, row in rows}  # conflicts with stored rows

    assert both_ways(schemas, rows) == (0, 1)
    expected, got = table(schemas[0], "doc"), table(schemas[1], "doc")
    assert len(expected) == len({row["doc_id"] for row in before} | {row["doc_id"] for _, row in rows})
    assert got == expected


def test_repeated_keys_of_an_update_go_row_by_row(schemas: tuple[psycopg.Connection, psycopg.Connection]) -> None:
    rows = [(KEEP_LAST, row) for row in make_rows(seed=3, count=100, keys=20)]
    assert both_ways(schemas, rows) == (0, 0)  # a set would fail: ON CONFLICT DO UPDATE cannot touch a row twice
    assert table(schemas[1], "doc") == table(schemas[0], "doc")
    assert len(table(schemas[0], "doc")) == len({row["doc_id"] for _, row in rows})


def test_plain_inserts_and_keyed_ones_in_one_batch(schemas: tuple[psycopg.Connection, psycopg.Connection]) -> None:
    docs = make_rows(seed=4, count=50, keys=25)
    rows: list[tuple[Insert, dict[str, Any]]] = []
    for doc in docs:
        rows += [(KEEP_FIRST, doc), (APPEND, doc)]
    assert both_ways(schemas, rows) == (0, 2)
    for name in ("doc", "doc_log"):
        assert table(schemas[1], name) == table(schemas[0], name)
    assert [row[1:] for row in table(schemas[1], "doc_log")] == [(d["doc_id"], d["owner"], d["note"]) for d in docs]


def test_few_rows_go_row_by_row(schemas: tuple[psycopg.Connection, psycopg.Connection]) -> None:
    few = [(APPEND, row) for row in make_rows(seed=5, count=writes_module.SET_MIN_ROWS - 1, keys=100)]
    enough = [(APPEND, row) for row in make_rows(seed=6, count=writes_module.SET_MIN_ROWS, keys=100)]
    assert write(schemas[1], [few]) == 0
    assert write(schemas[1], [enough]) == 1
    assert len(table(schemas[1], "doc_log")) == len(few) + len(enough)


SECONDS_OFFSET = timezone(timedelta(hours=1, seconds=30))  # msgspec would write +01:00


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("facts", Jsonb(None)),
        ("amount", Decimal("12.5")),  # row by row: rounded to 13; in a set: not a bigint
        ("amount", 12.0),
        ("note", _Note("subclass")),
        ("seen_at", datetime(2026, 3, 1, 8, 30, 15, tzinfo=SECONDS_OFFSET)),
        ("seen_at", datetime(1880, 3, 1, 8, 30, 15, tzinfo=ZoneInfo("Europe/Budapest"))),  # +01:16:20 then
    ],
    ids=["json-null", "decimal", "float", "str-subclass", "offset-seconds", "budapest-1880"],
)
def test_from_a_value_json_would_not_carry_the_rows_go_row_by_row(
    schemas: tuple[psycopg.Connection, psycopg.Connection],
    monkeypatch: pytest.MonkeyPatch,
    column: str,
    value: Any,
) -> None:
    docs = make_rows(seed=7, count=250, keys=250, distinct=True)
    docs[120][column] = value  # in the second chunk: the first goes as a set, the second and third row by row
    sent: list[bool] = []  # per chunk the grouped side tried: whether it went as a set
    as_json = Insert.as_json

    def spied(self: Insert, rows: list[tuple[Any, ...]]) -> str | None:
        chunk = as_json(self, rows)
        sent.append(chunk is not None)
        return chunk

    monkeypatch.setattr(Insert, "as_json", spied)
    assert both_ways(schemas, [(KEEP_FIRST, doc) for doc in docs]) == (0, 1)
    assert sent == [True, False]
    expected = table(schemas[0], "doc")
    assert table(schemas[1], "doc") == expected
    assert len(expected) == 250
    if column == "facts":
        with schemas[1].cursor(row_factory=psycopg.rows.tuple_row) as cur:  # jsonb 'null' as row by row, not NULL
            stored = cur.execute("SELECT facts IS NULL, facts::text FROM doc WHERE doc_id = %s", (docs[120]["doc_id"],))
            assert stored.fetchone() == (False, "null")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Insert("t", ("a", "b"), key=("a",)), "a key needs its on_conflict"),
        (lambda: Insert("t", ("a", "b"), on_conflict="DO NOTHING"), "a key needs its on_conflict"),
        (lambda: Insert("t", ("a", "b"), key=("c",), on_conflict="DO NOTHING"), "must be among the columns"),
        (lambda: Insert("t", ("a",), key=("a",), on_conflict="DELETE"), "DO NOTHING or DO UPDATE SET"),
    ],
)
def test_a_malformed_declaration_is_refused(make: Callable[[], Insert], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_the_statements() -> None:
    assert KEEP_FIRST.row_sql == (
        'INSERT INTO "doc" ("doc_id", "owner", "issued_on", "seen_at", "amount", "pages", "paid", "note", "facts")'
        ' VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT ("doc_id") DO NOTHING'
    )
    assert APPEND.set_sql == (
        'INSERT INTO "doc_log" ("doc_id", "owner", "note") SELECT "doc_id", "owner", "note"'
        ' FROM json_populate_recordset(NULL::"doc_log", %s::json) WITH ORDINALITY AS r ORDER BY r.ordinality'
    )
    assert KEEP_LAST.on_conflict.startswith('DO UPDATE SET "owner" = EXCLUDED."owner", ')
    assert '"doc_id" = EXCLUDED' not in KEEP_LAST.on_conflict
    assert APPEND.values(("D1", "C1", None)) == ("D1", "C1", None)
    assert APPEND.values({"note": "n", "owner": "C1", "doc_id": "D1", "other": 1}) == ("D1", "C1", "n")
    assert Insert("one", ("a",)).values({"a": 5, "b": 6}) == (5,)
    with pytest.raises(ValueError, match="2 values for 3 columns"):
        APPEND.values(("D1", "C1"))


def test_a_set_names_each_value_by_its_column_whatever_the_name() -> None:
    odd = Insert("t", ("_private", "class", "two words", "ékezet", "f0"))
    rows = [
        ("x", 1, None, True, Jsonb({"k": [1, "két", None]})),
        ("y", -(2**62), date(2026, 11, 26), False, "f0"),
    ]
    got = json.loads(odd.as_json(rows) or "null")
    assert got == [
        {"_private": "x", "class": 1, "two words": None, "ékezet": True, "f0": {"k": [1, "két", None]}},
        {"_private": "y", "class": -(2**62), "two words": "2026-11-26", "ékezet": False, "f0": "f0"},
    ]
    when = datetime(2026, 3, 1, 8, 30, 15, 5, tzinfo=timezone(timedelta(hours=-5, minutes=-30)))
    assert json.loads(Insert("t", ("at",)).as_json([(when,)]) or "null") == [{"at": "2026-03-01T08:30:15.000005-05:30"}]
    assert odd.as_json([("x", 1, None, True)]) is None  # a row short of a value: no set
    for zone in (
        SECONDS_OFFSET,
        timezone(-timedelta(hours=1, seconds=30)),
        timezone(timedelta(hours=1, microseconds=250)),
    ):
        assert Insert("t", ("at",)).as_json([(datetime(2026, 3, 1, 8, 30, tzinfo=zone),)]) is None
