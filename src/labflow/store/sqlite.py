"""The embedded default `Store`: one SQLite file, standard library `sqlite3`, WAL.

Why SQLite: a lab secretariat has one machine and no database administrator;
a single file it can copy is the right unit. Why these choices:

- **WAL** journal: readers never block the writer, and a process killed in the
  middle of a write leaves the last committed state (SQLite replays or drops
  the log on the next open).
- **One transaction per command**, begun with ``BEGIN IMMEDIATE`` so the write
  lock is taken before the versions are read: two writers cannot both read
  version *n* and both write *n+1*. The loser waits (``timeout``), then finds
  the version moved and gets `labflow.ConflictError`.
- **Events as rows** ``(stream, seq, at, actor, kind, payload, prev, hash)``,
  ``at`` as ISO 8601 text and ``payload`` as JSON text, exactly what the hash
  was computed over; the primary key ``(stream, seq)`` is the last line of
  defence against a lost update. A stream row keeps each history's version,
  head hash and the projection lists and reports query (unit, stage, status),
  with indexes for them.
- **Schema version** in ``PRAGMA user_version`` and the file marked as labflow's
  with ``PRAGMA application_id``; upgrades are applied on open, and a file from
  a newer labflow is refused rather than misread.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from labflow.errors import CommandError, ConflictError, StoreError
from labflow.events import GENESIS, Event
from labflow.lab import Clock, Lab, replay_lab, system_clock
from labflow.requirements import Registry
from labflow.store import (
    Append,
    InnovationRow,
    Session,
    StoreCorrupt,
    StoreLocked,
    StoreMissing,
    StoreTooNew,
    check_append,
    project_innovation,
    project_units,
)

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "SQLiteStore"]

#: ``PRAGMA application_id`` of a labflow database ("LBFW").
APPLICATION_ID: Final = 0x4C424657
#: The schema this labflow writes; files with a higher ``user_version`` are refused.
SCHEMA_VERSION: Final = 1

#: Each entry upgrades the schema from its index to the next version.
_MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    (
        """CREATE TABLE streams (
            id INTEGER PRIMARY KEY,
            lab TEXT NOT NULL,
            is_lab INTEGER NOT NULL,
            subject TEXT NOT NULL,
            version INTEGER NOT NULL,
            head TEXT NOT NULL,
            unit TEXT,
            stage TEXT,
            status TEXT,
            launched INTEGER,
            UNIQUE (lab, is_lab, subject)
        )""",
        "CREATE INDEX streams_stage ON streams (lab, stage) WHERE is_lab = 0",
        "CREATE INDEX streams_unit ON streams (lab, unit) WHERE is_lab = 0",
        """CREATE TABLE units (
            lab TEXT NOT NULL,
            id TEXT NOT NULL,
            kind TEXT NOT NULL,
            PRIMARY KEY (lab, id)
        ) WITHOUT ROWID""",
        "CREATE INDEX units_kind ON units (lab, kind)",
        """CREATE TABLE events (
            stream INTEGER NOT NULL REFERENCES streams (id),
            seq INTEGER NOT NULL,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL,
            prev TEXT NOT NULL,
            hash TEXT NOT NULL,
            PRIMARY KEY (stream, seq)
        ) WITHOUT ROWID""",
    ),
)
assert len(_MIGRATIONS) == SCHEMA_VERSION

_json = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


def _translate(exc: sqlite3.Error, path: str) -> StoreError:
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
        return StoreLocked(
            f"The database {path} is locked by another process; try again in a moment."
        )
    if isinstance(exc, sqlite3.DatabaseError) and (
        "not a database" in text or "malformed" in text or "corrupt" in text
    ):
        return StoreCorrupt(f"The database {path} is corrupt or not a labflow database ({text}).")
    return StoreError(f"The database {path} could not be used: {text}.")


class SQLiteStore:
    """A `labflow.store.Store` in one SQLite file.

    ``create=False`` (the default) refuses a path where no file exists, so a
    typo never silently starts an empty lab. ``timeout`` is how long a writer
    waits for another's lock before `StoreLocked`. ``durable=True`` syncs every
    commit to disk (``synchronous=FULL``); the default (``NORMAL``) is safe
    against a crashed process and keeps the database consistent through a power
    cut, which may lose only the last commits.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        create: bool = False,
        timeout: float = 5.0,
        durable: bool = False,
    ) -> None:
        self.path = os.fspath(path)
        memory = self.path == ":memory:"
        if not memory and not create and not Path(self.path).is_file():
            raise StoreMissing(f"There is no labflow database at {self.path}.")
        try:
            self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc
        try:
            self._open(create=create, durable=durable)
        except BaseException:
            self._conn.close()
            raise

    def _open(self, *, create: bool, durable: bool) -> None:
        conn = self._conn
        try:
            application_id = conn.execute("PRAGMA application_id").fetchone()[0]
            user_version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc
        if application_id != APPLICATION_ID and (tables or user_version):
            raise StoreCorrupt(f"{self.path} is an SQLite database, but not a labflow one.")
        if application_id != APPLICATION_ID and not create:
            raise StoreCorrupt(f"{self.path} is not a labflow database.")
        if user_version > SCHEMA_VERSION:
            raise StoreTooNew(
                f"The database {self.path} was written by a newer labflow (schema "
                f"{user_version}; this one reads up to {SCHEMA_VERSION}). Upgrade labflow."
            )
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc
        if user_version < SCHEMA_VERSION:
            self._upgrade()

    def _upgrade(self) -> None:
        with self._transaction(write=True) as conn:
            # Re-read under the write lock: another process may have upgraded meanwhile.
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            for version in range(current, SCHEMA_VERSION):
                for statement in _MIGRATIONS[version]:
                    conn.execute(statement)
            conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        """One transaction: ``BEGIN IMMEDIATE`` for writes, a snapshot for reads."""
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise _translate(exc, self.path) from exc
            raise

    # --- writing ----------------------------------------------------------------------------

    def commit(self, lab_id: str, appends: Sequence[Append]) -> None:
        with self._transaction(write=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM streams WHERE lab = ? AND is_lab = 1", (lab_id,)
            ).fetchone()
            if exists is None and not any(a.lab and a.expected == 0 and a.events for a in appends):
                raise StoreError(f"There is no lab {lab_id!r} in {self.path}.")
            for append in appends:
                self._append(conn, lab_id, append)

    def _append(self, conn: sqlite3.Connection, lab_id: str, append: Append) -> None:
        row = conn.execute(
            "SELECT id, version, head, unit, stage, status, launched FROM streams "
            "WHERE lab = ? AND is_lab = ? AND subject = ?",
            (lab_id, int(append.lab), append.subject),
        ).fetchone()
        found = row[1] if row is not None else 0
        if found != append.expected:
            raise ConflictError(append.subject, append.expected, found)
        check_append(lab_id, append, row[2] if row is not None else GENESIS)
        if not append.events:
            return
        if row is None:
            stream = conn.execute(
                "INSERT INTO streams (lab, is_lab, subject, version, head) VALUES (?, ?, ?, 0, ?)",
                (lab_id, int(append.lab), append.subject, GENESIS),
            ).lastrowid
            projection: dict[str, Any] = {}
        else:
            stream = row[0]
            projection = {"unit": row[3], "stage": row[4], "status": row[5], "launched": row[6]}
        conn.executemany(
            "INSERT INTO events (stream, seq, at, actor, kind, payload, prev, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    stream,
                    e.seq,
                    e.at.isoformat(),
                    e.actor,
                    e.kind,
                    _json(e.payload),
                    e.prev,
                    e.hash,
                )
                for e in append.events
            ],
        )
        last = append.events[-1]
        if append.lab:
            units = [(lab_id, u, k) for e in append.events for u, k in project_units(e)]
            conn.executemany("INSERT OR REPLACE INTO units (lab, id, kind) VALUES (?, ?, ?)", units)
            conn.execute(
                "UPDATE streams SET version = ?, head = ? WHERE id = ?",
                (last.seq, last.hash, stream),
            )
            return
        for event in append.events:
            project_innovation(projection, event)
        conn.execute(
            "UPDATE streams SET version = ?, head = ?, unit = ?, stage = ?, status = ?, "
            "launched = ? WHERE id = ?",
            (
                last.seq,
                last.hash,
                projection.get("unit"),
                projection.get("stage"),
                projection.get("status"),
                int(bool(projection.get("launched"))),
                stream,
            ),
        )

    # --- reading ----------------------------------------------------------------------------

    def lab_ids(self) -> list[str]:
        with self._transaction(write=False) as conn:
            rows = conn.execute(
                "SELECT subject FROM streams WHERE is_lab = 1 ORDER BY subject"
            ).fetchall()
        return [r[0] for r in rows]

    def version(self, lab_id: str, subject: str | None = None) -> int:
        with self._transaction(write=False) as conn:
            row = conn.execute(
                "SELECT version FROM streams WHERE lab = ? AND is_lab = ? AND subject = ?",
                (lab_id, int(subject is None), lab_id if subject is None else subject),
            ).fetchone()
        return row[0] if row is not None else 0

    def _require_lab(self, conn: sqlite3.Connection, lab_id: str) -> None:
        found = conn.execute(
            "SELECT 1 FROM streams WHERE lab = ? AND is_lab = 1", (lab_id,)
        ).fetchone()
        if found is None:
            raise StoreError(f"There is no lab {lab_id!r} in {self.path}.")

    def history(self, lab_id: str, subject: str | None = None) -> list[Event]:
        with self._transaction(write=False) as conn:
            self._require_lab(conn, lab_id)
            rows = conn.execute(
                "SELECT s.subject, e.seq, e.at, e.actor, e.kind, e.payload, e.prev, e.hash "
                "FROM streams s JOIN events e ON e.stream = s.id "
                "WHERE s.lab = ? AND s.is_lab = ? AND s.subject = ? ORDER BY e.seq",
                (lab_id, int(subject is None), lab_id if subject is None else subject),
            ).fetchall()
        return [self._event(r) for r in rows]

    def _event(self, row: tuple[Any, ...]) -> Event:
        subject, seq, at, actor, kind, payload, prev, digest = row
        try:
            return Event(
                subject,
                seq,
                datetime.fromisoformat(at),
                actor,
                kind,
                json.loads(payload),
                prev,
                digest,
            )
        except (TypeError, ValueError) as exc:
            raise StoreCorrupt(
                f"Event {seq} of {subject!r} in {self.path} cannot be read ({exc})."
            ) from exc

    def _all_events(self, conn: sqlite3.Connection, lab_id: str) -> Iterator[tuple[Any, ...]]:
        return iter(
            conn.execute(
                "SELECT s.is_lab, s.subject, e.seq, e.at, e.actor, e.kind, e.payload, e.prev, "
                "e.hash FROM streams s JOIN events e ON e.stream = s.id WHERE s.lab = ? "
                "ORDER BY s.is_lab DESC, s.subject, e.seq",
                (lab_id,),
            )
        )

    def _grouped(self, lab_id: str) -> tuple[list[Event], list[list[Event]]]:
        own: list[Event] = []
        others: list[list[Event]] = []
        current: str | None = None
        with self._transaction(write=False) as conn:
            self._require_lab(conn, lab_id)
            for row in self._all_events(conn, lab_id):
                event = self._event(row[1:])
                if row[0]:
                    own.append(event)
                    continue
                if event.subject != current:
                    current = event.subject
                    others.append([])
                others[-1].append(event)
        return own, others

    def histories(self, lab_id: str) -> Iterator[list[Event]]:
        yield from self._grouped(lab_id)[1]

    def innovations(
        self,
        lab_id: str,
        *,
        stage: str | None = None,
        unit: str | None = None,
        unit_kind: str | None = None,
        status: str | None = None,
    ) -> list[InnovationRow]:
        sql = [
            "SELECT s.subject, s.unit, u.kind, s.stage, s.status, s.launched, s.version "
            "FROM streams s LEFT JOIN units u ON u.lab = s.lab AND u.id = s.unit "
            "WHERE s.lab = ? AND s.is_lab = 0"
        ]
        args: list[Any] = [lab_id]
        for column, value in (
            ("s.stage", stage),
            ("s.unit", unit),
            ("u.kind", unit_kind),
            ("s.status", status),
        ):
            if value is not None:
                sql.append(f"AND {column} = ?")
                args.append(value)
        sql.append("ORDER BY s.subject")
        with self._transaction(write=False) as conn:
            self._require_lab(conn, lab_id)
            rows = conn.execute(" ".join(sql), args).fetchall()
        return [InnovationRow(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6]) for r in rows]

    def load(
        self, lab_id: str, *, registry: Registry | None = None, clock: Clock = system_clock
    ) -> Lab:
        own, others = self._grouped(lab_id)
        try:
            return replay_lab(own, others, registry=registry, clock=clock)
        except CommandError as exc:
            raise StoreCorrupt(
                f"The lab {lab_id!r} in {self.path} cannot be replayed: {exc}"
            ) from exc

    def session(
        self,
        lab_id: str,
        *,
        registry: Registry | None = None,
        clock: Clock = system_clock,
        strict: bool = False,
    ) -> Session:
        return Session(self, lab_id, registry=registry, clock=clock, strict=strict)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
