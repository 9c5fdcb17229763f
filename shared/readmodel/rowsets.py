"""Several row sets of one request in one statement: one round trip and one result, without a pipeline.

Each named query's rows come back as a JSON array (`json_agg`), which psycopg decodes. JSON keeps text, integers,
booleans, null and `jsonb` values as they were; a date becomes its ISO text, so the columns named in `dates` are
turned back into `date`s. Columns of other types (numeric, timestamps) would not come back as psycopg gives them:
a query with such a column stays a query of its own.

Used by the contracts' fact queries, where it took clearly less CPU than four round trips; against the
ledger's pipeline it saved nothing and cost PostgreSQL more (docs/performance.md, change 20).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

import psycopg
from psycopg.rows import DictRow


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
