"""Every store the shared store tests run against, as fixtures' factories.

PostgreSQL runs only against a real server: ``LABFLOW_TEST_POSTGRES_URL`` names
it (``.ci/postgres.sh start`` starts one). Without it the PostgreSQL tests are
skipped with that reason -- unless ``LABFLOW_REQUIRE_POSTGRES=1`` (set by CI),
which turns the skip into a failure, so CI cannot pass without them. Each test
gets its own PostgreSQL schema, dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest

from labflow.events import Event, Verification
from labflow.lab import Clock, Lab, system_clock
from labflow.requirements import Registry
from labflow.store import Append, InnovationRow, Session

T = TypeVar("T")

KINDS = ["memory", "sqlite", "async-sqlite", "postgres", "async-postgres"]
SQL_KINDS = ["sqlite", "postgres"]


def postgres_url() -> str:
    """The test server's URL, or skip (fail under ``LABFLOW_REQUIRE_POSTGRES=1``)."""
    url = os.environ.get("LABFLOW_TEST_POSTGRES_URL")
    if url:
        return url
    reason = "no PostgreSQL server: set LABFLOW_TEST_POSTGRES_URL (see .ci/postgres.sh)"
    if os.environ.get("LABFLOW_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL tests are required here, but {reason}")
    pytest.skip(reason)


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A connection string to a fresh, empty schema of the test server; dropped afterwards."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    url = postgres_url()
    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")  # type: ignore[arg-type]
    try:
        yield make_conninfo(url, options=f"-c search_path={name}")
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {name} CASCADE")  # type: ignore[arg-type]


class SyncOverAsync:
    """An `AsyncStore` driven from synchronous tests: every coroutine run on one private loop.

    The shared contract tests call it as a `Store`; `Session` then loads and
    commits through the async store's coroutines.
    """

    def __init__(self, opening: Callable[[], Awaitable[Any]]) -> None:
        self._loop = asyncio.new_event_loop()
        self.inner: Any = self._run(opening())  # AsyncSQLiteStore.connect(...) or the like
        self.path = self.inner.path

    def _run(self, work: Awaitable[T]) -> T:
        return self._loop.run_until_complete(work)

    def lab_ids(self) -> list[str]:
        return self._run(self.inner.lab_ids())

    def commit(self, lab_id: str, appends: Sequence[Append]) -> None:
        self._run(self.inner.commit(lab_id, appends))

    def version(self, lab_id: str, subject: str | None = None) -> int:
        return self._run(self.inner.version(lab_id, subject))

    def history(self, lab_id: str, subject: str | None = None) -> list[Event]:
        return self._run(self.inner.history(lab_id, subject))

    def histories(self, lab_id: str) -> Iterator[list[Event]]:
        return iter(self._run(self.inner.histories(lab_id)))

    def verify_all(
        self, lab_id: str | None = None, *, workers: int | None = None
    ) -> dict[str, tuple[Verification, ...]]:
        return self._run(self.inner.verify_all(lab_id, workers=workers))

    def innovations(self, lab_id: str, **filters: str | None) -> list[InnovationRow]:
        return self._run(self.inner.innovations(lab_id, **filters))

    def load(
        self, lab_id: str, *, registry: Registry | None = None, clock: Clock = system_clock
    ) -> Lab:
        return self._run(self.inner.load(lab_id, registry=registry, clock=clock))

    def session(
        self,
        lab_id: str,
        *,
        registry: Registry | None = None,
        clock: Clock = system_clock,
        strict: bool = False,
        expect: Mapping[str | None, int] | None = None,
    ) -> Session:
        return Session(self, lab_id, registry=registry, clock=clock, strict=strict, expect=expect)

    def close(self) -> None:
        self._run(self.inner.close())
        self._loop.close()


@contextmanager
def open_store(kind: str, tmp_path: Any) -> Iterator[Any]:
    """A fresh, empty store of ``kind`` (one of `KINDS`), closed afterwards."""
    from labflow.store.memory import MemoryStore
    from labflow.store.sqlite import SQLiteStore

    if kind == "memory":
        store: Any = MemoryStore()
    elif kind == "sqlite":
        store = SQLiteStore(tmp_path / "lab.db", create=True)
    elif kind == "async-sqlite":
        from labflow.store import AsyncSQLiteStore

        store = SyncOverAsync(lambda: AsyncSQLiteStore.connect(tmp_path / "lab.db", create=True))
    else:
        with postgres_schema() as url:
            if kind == "postgres":
                from labflow.store.postgres import PostgresStore

                store = PostgresStore(url, create=True)
            else:
                from labflow.store.postgres import AsyncPostgresStore

                store = SyncOverAsync(lambda: AsyncPostgresStore.connect(url, create=True))
            try:
                yield store
            finally:
                store.close()
        return
    try:
        yield store
    finally:
        store.close()
