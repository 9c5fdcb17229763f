"""Several row sets of one request in one statement: one round trip and one result, without a pipeline.

Two ways: `RowSets` (each query's rows as a JSON array, any columns) and `TypedUnion` (plain rows of one
`UNION ALL`, each query's columns placed by type, made into the query's dataclass).

In `RowSets` each named query's rows come back as a JSON array (`json_agg`), which psycopg decodes. JSON keeps text, integers,
booleans, null and `jsonb` values as they were; a date becomes its ISO text, so the columns named in `dates` are
turned back into `date`s. Columns of other types (numeric, timestamps) would not come back as psycopg gives them:
a query with such a column stays a query of its own.

`RowSets` is used by the contracts' fact queries, where it took clearly less CPU than four round trips; against
the ledger's pipeline it saved nothing and cost PostgreSQL more (docs/performance.md, change 20). The ledger's
four fact queries use `TypedUnion` (change 26).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date
from operator import itemgetter
from typing import Any

import psycopg
from psycopg.rows import DictRow, tuple_row


class RowSets:
    """Named queries fetched together: `fetch(conn, params)` -> {name: [row as a dict, ...]}."""

    def __init__(self, queries: Mapping[str, str], dates: Collection[str]) -> None:
        for name in queries:
            if not name.isidentifier():
                raise ValueError(f"a row set's name must be an identifier: {name!r}")
        self.queries = dict(queries)
        self.dates = frozenset(dates)
        self.statement = "SELECT " + ", ".join(
            f"(SELECT coalesce(json_agg(r), '[]'::json) FROM ({query}\n) r) AS \"{name}\""
            for name, query in queries.items()
        )

    def fetch(self, conn: psycopg.Connection[DictRow], params: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
        row = conn.execute(self.statement, params).fetchone()
        assert row is not None  # a SELECT without FROM has exactly one row
        return {name: self._typed(row[name]) for name in self.queries}

    def _typed(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not rows:
            return rows
        keys = self.dates.intersection(rows[0])
        for found in rows:
            for key in keys:
                if (text := found[key]) is not None:
                    found[key] = date.fromisoformat(text)
        return rows


class TypedUnion:
    """Named queries whose rows become objects of one type each, fetched as one `UNION ALL` of plain rows.

    One round trip and one result, and psycopg's work for one statement instead of one per query: for the
    ledger's four fact queries well under half of a pipeline's client CPU (docs/performance.md, change 26), where
    `RowSets` saved nothing at the ledger's API (change 20). Each query's columns are named as its type's fields. `slots` are
    the SQL types of the union's columns after the first, the number of the query; `kinds[name]` is the query,
    its type (called with the fields in their order) and, for each field in that order, its slot. A slot's type
    must be its field's column type in every query that uses it; a slot a query leaves empty is a typed NULL.
    """

    def __init__(self, slots: Sequence[str], kinds: Mapping[str, tuple[str, type[Any], Sequence[int]]]) -> None:
        self.kinds = dict(kinds)
        self.names = list(kinds)
        self.makers: list[tuple[Callable[..., Any], Callable[[tuple[Any, ...]], tuple[Any, ...]]]] = []
        branches = []
        for number, (name, (query, kind, places)) in enumerate(kinds.items()):
            names = [field.name for field in dataclasses.fields(kind)]
            if (
                len(places) != len(names)
                or len(set(places)) != len(places)
                or not set(places) <= set(range(len(slots)))
            ):
                raise ValueError(f"{name}: one distinct slot of {len(slots)} for each of the {len(names)} fields")
            column = {slot: names[at] for at, slot in enumerate(places)}
            values = [
                f'q."{column[slot]}"' if slot in column else f"NULL::{sql_type}" for slot, sql_type in enumerate(slots)
            ]
            branches.append(f"SELECT {number} AS kind, {', '.join(values)} FROM ({query}\n) AS q")
            columns = [slot + 1 for slot in places]
            pick = itemgetter(*columns) if len(columns) > 1 else lambda row, at=columns[0]: (row[at],)
            self.makers.append((kind, pick))
        self.statement = "\nUNION ALL\n".join(branches)

    def fetch(self, conn: psycopg.Connection[Any], params: Mapping[str, Any]) -> dict[str, list[Any]]:
        """{name: [object, ...]} in the order of `kinds`; every name present."""
        found: list[list[Any]] = [[] for _ in self.names]
        makers = self.makers
        for row in conn.cursor(row_factory=tuple_row).execute(self.statement, params).fetchall():
            make, pick = makers[row[0]]
            found[row[0]].append(make(*pick(row)))
        return dict(zip(self.names, found, strict=True))
