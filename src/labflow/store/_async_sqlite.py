"""The SQLite store for asyncio hosts: `SQLiteStore` in a worker thread of its own.

An asyncio web host must not block its event loop on a disk write or a replay,
and an `sqlite3` connection belongs to the thread that opened it. So the store
is opened *in* one dedicated worker thread and every call runs there, one at a
time; the event loop only awaits. One thread is enough: SQLite takes one writer
at a time anyway, and a replay holds the interpreter's lock whichever thread
runs it. The promises are `SQLiteStore`'s, unchanged -- the same file, schema,
checks and errors -- so the shared store tests run against this store as well.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from labflow.errors import StoreError
from labflow.events import Event, Verification
from labflow.lab import Clock, Lab, system_clock
from labflow.requirements import Registry
from labflow.store import Append, AsyncSession, InnovationRow
from labflow.store.sqlite import SQLiteStore

if TYPE_CHECKING:
    from labflow.store.checkpoint import Checkpoint, CheckpointReport

__all__ = ["AsyncSQLiteStore"]

T = TypeVar("T")


class AsyncSQLiteStore:
    """A `labflow.store.AsyncStore` on one SQLite file, for asyncio hosts.

    Open it with ``store = await AsyncSQLiteStore.connect(path)`` (or ``async
    with``); every method is a coroutine, and ``store.session(lab_id)`` is an
    ``async with`` unit of work (`labflow.store.AsyncSession`). The options are
    `SQLiteStore`'s. Calls run one at a time in the store's own worker thread;
    a call whose caller is cancelled still finishes there (a commit is written
    whole or not at all, as ever). Other processes -- the ``labflow`` command,
    a batch job -- may use the same file meanwhile.
    """

    def __init__(self, store: SQLiteStore, worker: ThreadPoolExecutor) -> None:
        """Use `connect`: the store must be opened in the worker thread that will use it."""
        given: object = store  # a host's value: say what to do, never AttributeError
        if not isinstance(given, SQLiteStore) or not isinstance(worker, ThreadPoolExecutor):
            raise StoreError(
                "Open an AsyncSQLiteStore with `await AsyncSQLiteStore.connect(path)`; "
                "it opens the database in the worker thread that will use it."
            )
        self._store = store
        self._worker = worker
        self._closed = False
        self.path = store.path
        #: opened with ``mode=ro``: it reads and verifies, and refuses every commit
        self.read_only = store.read_only

    @classmethod
    async def connect(
        cls,
        path: str | os.PathLike[str],
        *,
        create: bool = False,
        timeout: float = 5.0,
        durable: bool = False,
        read_only: bool | None = None,
    ) -> AsyncSQLiteStore:
        """Open (or, with ``create=True``, create) the database at ``path`` in a new worker."""
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="labflow-sqlite")
        opening = functools.partial(
            SQLiteStore,
            path,
            create=create,
            timeout=timeout,
            durable=durable,
            read_only=read_only,
        )
        try:
            store = await asyncio.get_running_loop().run_in_executor(worker, opening)
        except BaseException:
            worker.shutdown(wait=False)
            raise
        return cls(store, worker)

    async def _run(self, call: Callable[[], T]) -> T:
        if self._closed:
            raise StoreError(f"This store of {self.path} is closed.")
        return await asyncio.get_running_loop().run_in_executor(self._worker, call)

    async def lab_ids(self) -> list[str]:
        return await self._run(self._store.lab_ids)

    async def commit(self, lab_id: str, appends: Sequence[Append]) -> None:
        await self._run(functools.partial(self._store.commit, lab_id, appends))

    async def version(self, lab_id: str, subject: str | None = None) -> int:
        return await self._run(functools.partial(self._store.version, lab_id, subject))

    async def history(self, lab_id: str, subject: str | None = None) -> list[Event]:
        return await self._run(functools.partial(self._store.history, lab_id, subject))

    async def histories(self, lab_id: str) -> list[list[Event]]:
        """Every innovation history of a lab, by innovation id."""
        return await self._run(lambda: list(self._store.histories(lab_id)))

    async def verify_all(
        self, lab_id: str | None = None, *, workers: int | None = None
    ) -> dict[str, tuple[Verification, ...]]:
        return await self._run(functools.partial(self._store.verify_all, lab_id, workers=workers))

    async def innovations(
        self,
        lab_id: str,
        *,
        stage: str | None = None,
        unit: str | None = None,
        unit_kind: str | None = None,
        status: str | None = None,
    ) -> list[InnovationRow]:
        return await self._run(
            functools.partial(
                self._store.innovations,
                lab_id,
                stage=stage,
                unit=unit,
                unit_kind=unit_kind,
                status=status,
            )
        )

    async def load(
        self, lab_id: str, *, registry: Registry | None = None, clock: Clock = system_clock
    ) -> Lab:
        return await self._run(
            functools.partial(self._store.load, lab_id, registry=registry, clock=clock)
        )

    def session(
        self,
        lab_id: str,
        *,
        registry: Registry | None = None,
        clock: Clock = system_clock,
        strict: bool = False,
        expect: Mapping[str | None, int] | None = None,
    ) -> AsyncSession:
        return AsyncSession(
            self, lab_id, registry=registry, clock=clock, strict=strict, expect=expect
        )

    async def checkpoint(self, key: object, *, labs: Sequence[str] | None = None) -> Checkpoint:
        """A signed `labflow.store.checkpoint.Checkpoint` of every stream, as it is now."""
        from labflow.store.checkpoint import make_checkpoint_async

        return await make_checkpoint_async(self, key, labs=labs)

    async def verify_checkpoint(self, checkpoint: Checkpoint, key: object) -> CheckpointReport:
        """Whether every history ``checkpoint`` sealed is still an unchanged prefix of what is
        stored (`labflow.store.checkpoint.verify_checkpoint_async`)."""
        from labflow.store.checkpoint import verify_checkpoint_async

        return await verify_checkpoint_async(self, checkpoint, key)

    async def close(self) -> None:
        """Close the database in its thread, then end the thread; closing twice is harmless."""
        if self._closed:
            return
        try:
            await self._run(self._store.close)
        finally:
            self._closed = True
            self._worker.shutdown(wait=False)

    async def __aenter__(self) -> AsyncSQLiteStore:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
