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
import multiprocessing
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

from labflow.errors import CommandError, StoreError
from labflow.events import GENESIS, Event, Verification
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
)
from labflow.store._common import (
    End,
    Entry,
    FoldCheck,
    Folds,
    Heads,
    IndexProblem,
    Row,
    Stored,
    Texts,
    Write,
    by_id,
    check_chain,
    check_listed,
    check_streams,
    index_all,
    index_problems,
    new_entries,
    opening_stages,
    plan,
    raise_for_index,
    refuse_malformed,
    verify_loaded,
    verify_rows,
    with_index_problems,
)
from labflow.store._verify import check_rows

if TYPE_CHECKING:
    from labflow.store.checkpoint import Checkpoint, CheckpointReport

__all__ = ["APPLICATION_ID", "PARALLEL_FROM", "SCHEMA_VERSION", "SQLiteStore"]

#: ``PRAGMA application_id`` of a labflow database ("LBFW").
APPLICATION_ID: Final = 0x4C424657
#: The schema this labflow writes; files with a higher ``user_version`` are refused.
SCHEMA_VERSION: Final = 2

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
    # 2: each lab's registration index, chained; its length and head on the lab's row.
    # The innovations already stored are indexed as the upgrade finds them (`_index_all`).
    (
        """CREATE TABLE registrations (
            lab TEXT NOT NULL,
            seq INTEGER NOT NULL,
            subject TEXT NOT NULL,
            opening TEXT NOT NULL,
            prev TEXT NOT NULL,
            hash TEXT NOT NULL,
            PRIMARY KEY (lab, seq)
        ) WITHOUT ROWID""",
        "ALTER TABLE streams ADD COLUMN registered INTEGER",
        "ALTER TABLE streams ADD COLUMN registered_head TEXT",
    ),
)
assert len(_MIGRATIONS) == SCHEMA_VERSION


#: Below this many events `SQLiteStore.verify_all` stays in the calling process: starting
#: workers costs about half a second, which a small store verifies in.
PARALLEL_FROM: Final = 200_000

_STREAM_META = (
    "SELECT id, subject, version, head, is_lab, unit, stage, status, launched, lab "
    "FROM streams WHERE id BETWEEN ? AND ?"
)
#: What a verifier sends back per stream: lab, is lab's own, subject, events seen, ok, first
#: bad seq, reason, and the hash of its first event (of a sound first row, else ``None``) --
#: named, so the calling process need not list every stream's names itself.
_Named = tuple[str, bool, str, int, bool, int | None, str | None, str | None]
#: The stream rows a commit reads, by how many innovations it names (0 to 500).
_STREAM_ROWS: Final = tuple(
    "SELECT is_lab, subject, id, version, head, unit, stage, status, launched, registered, "
    "registered_head FROM streams WHERE "
    f"(lab = ? AND is_lab = 0 AND subject IN ({','.join('?' * n)})) "
    "OR (lab = ? AND is_lab = 1 AND subject = ?)"
    for n in range(501)
)
_RANGE_ROWS = (
    "SELECT stream, seq, at, actor, kind, payload, prev, hash FROM events "
    "WHERE stream BETWEEN ? AND ? ORDER BY stream, seq"
)


def _verify_range(conn: sqlite3.Connection, lo: int, hi: int, lab_id: str | None) -> list[_Named]:
    """Verify the streams with ids in ``[lo, hi]`` (of one lab, if given) in one snapshot,
    each named, with the hash of its first event for the registration index."""
    sql = _STREAM_META
    args: list[Any] = [lo, hi]
    if lab_id is not None:
        sql, args = sql + " AND lab = ?", [lo, hi, lab_id]
    found = conn.execute(sql, args).fetchall()
    meta = {r[0]: (r[1], r[2], r[3]) for r in found}
    rows = {r[0]: Row(r[5], r[6], r[7], bool(r[8])) for r in found if not r[4]}
    firsts: dict[int, str] = {}
    checked = check_rows(iter(conn.execute(_RANGE_ROWS, (lo, hi))), meta, rows, firsts)
    names = {r[0]: (r[9], bool(r[4]), r[1]) for r in found}
    return [
        (*names[stream], length, ok, seq, reason, firsts.get(stream))
        for stream, length, ok, seq, reason in checked
    ]


#: Per lab with an index: its chain's problems, and what it lists (innovation -> first
#: event's hash).
_Chains = dict[str, tuple[list[IndexProblem], dict[str, str]]]


def _index_chains(
    conn: sqlite3.Connection, lab_id: str | None, reached: Mapping[str, int | None]
) -> _Chains:
    """Check every lab's registration index as a chain (or ``lab_id``'s), in one snapshot.

    What each lists is cut at ``reached`` (lab -> its length when the streams were
    listed): innovations registered since are not compared with streams not listed."""
    one, args = ("AND lab = ?", [lab_id]) if lab_id is not None else ("", [])
    ends = {
        r[0]: (r[1], r[2])
        for r in conn.execute(
            "SELECT lab, registered, registered_head FROM streams WHERE is_lab = 1 "
            f"AND registered IS NOT NULL {one}",
            args,
        )
    }
    entries: dict[str, list[Entry]] = {lab: [] for lab in ends}
    for lab, *entry in conn.execute(
        "SELECT lab, seq, subject, opening, prev, hash FROM registrations "
        f"WHERE 1 {one} ORDER BY lab, seq",
        args,
    ):
        if lab in entries:
            entries[lab].append(cast(Entry, tuple(entry)))
    found: _Chains = {}
    for lab, end in ends.items():
        problems, listed = check_chain(lab, entries[lab], end)
        upto = reached.get(lab) or 0
        found[lab] = problems, {s: o for s, (n, o) in listed.items() if n <= upto}
    return found


def _worker_connection(path: str) -> sqlite3.Connection:
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    return sqlite3.connect(uri, uri=True, isolation_level=None)


def _verify_in_worker(path: str, lo: int, hi: int, lab_id: str | None) -> list[_Named]:
    """A worker process's share of `SQLiteStore.verify_all`: its own read-only connection."""
    conn = _worker_connection(path)
    try:
        conn.execute("BEGIN")
        try:
            return _verify_range(conn, lo, hi, lab_id)
        finally:
            conn.execute("COMMIT")
    finally:
        conn.close()


def _chains_in_worker(path: str, lab_id: str | None, reached: Mapping[str, int | None]) -> _Chains:
    """The registration indexes' chains, checked in a worker beside the streams' ranges."""
    conn = _worker_connection(path)
    try:
        conn.execute("BEGIN")
        try:
            return _index_chains(conn, lab_id, reached)
        finally:
            conn.execute("COMMIT")
    finally:
        conn.close()


def _ranges(sizes: Sequence[tuple[int, int]], parts: int) -> list[tuple[int, int]]:
    """Cut streams ``(id, events)``, by id, into at most ``parts`` runs of about equal events."""
    total = sum(n for _, n in sizes)
    share = max(1, -(-total // parts))
    ranges: list[tuple[int, int]] = []
    start, held = sizes[0][0], 0
    for ident, n in sizes:
        held += n
        if held >= share:
            ranges.append((start, ident))
            start, held = ident + 1, 0
    if held or not ranges:
        ranges.append((start, sizes[-1][0]))
    return ranges


def _chunks(items: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    """``items`` in runs of at most ``size``: SQLite caps the parameters of one statement."""
    for at in range(0, len(items), size):
        yield items[at : at + size]


def _index_all(conn: sqlite3.Connection) -> None:
    """Index every lab's stored innovations, in the order their streams were created: the
    upgrade of a file from before registration indexes (it vouches for what it finds)."""
    labs = [r[0] for r in conn.execute("SELECT subject FROM streams WHERE is_lab = 1")]
    entries, ends = index_all(
        labs,
        conn.execute(
            "SELECT s.lab, s.subject, e.hash FROM streams s CROSS JOIN events e "
            "ON e.stream = s.id AND e.seq = 1 WHERE s.is_lab = 0 ORDER BY s.lab, s.id"
        ).fetchall(),
    )
    conn.executemany(
        "INSERT INTO registrations (lab, seq, subject, opening, prev, hash) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        entries,
    )
    conn.executemany(
        "UPDATE streams SET registered = ?, registered_head = ? WHERE lab = ? AND is_lab = 1",
        [(n, head, lab) for lab, n, head in ends],
    )


def _read_index(conn: sqlite3.Connection, lab_id: str | None) -> dict[str, list[IndexProblem]]:
    """What is wrong with every lab's registration index (or ``lab_id``'s), by lab."""
    one, args = ("AND lab = ?", [lab_id]) if lab_id is not None else ("", [])
    return index_problems(
        conn.execute(
            "SELECT lab, seq, subject, opening, prev, hash FROM registrations "
            f"WHERE 1 {one} ORDER BY lab, seq",
            args,
        ),
        conn.execute(
            f"SELECT lab, registered, registered_head FROM streams WHERE is_lab = 1 {one}", args
        ).fetchall(),
        conn.execute(
            "SELECT s.lab, s.subject, e.hash FROM streams s LEFT JOIN events e "
            f"ON e.stream = s.id AND e.seq = 1 WHERE s.is_lab = 0 {one.replace('lab', 's.lab')}",
            args,
        ).fetchall(),
    )


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
    return StoreError(f"The database {path} could not be used: {text.rstrip('.')}.")


class SQLiteStore:
    """A `labflow.store.Store` in one SQLite file.

    ``create=False`` (the default) refuses a path where no file exists, so a
    typo never silently starts an empty lab. ``timeout`` is how long a writer
    waits for another's lock before `StoreLocked`. ``durable=True`` syncs every
    commit to disk (``synchronous=FULL``); the default (``NORMAL``) is safe
    against a crashed process and keeps the database consistent through a power
    cut, which may lose only the last commits.

    A store belongs to the thread that opened it: `sqlite3` connections are
    not shared between threads, and a store used from another thread raises
    `StoreError` saying so. A threaded host (a web server's worker threads)
    opens one store per thread or per request -- opening costs a millisecond or
    so -- and SQLite's locking and the stores' version checks keep them apart.

    ``read_only=True`` opens the file with ``mode=ro``: it loads, lists and verifies,
    and every commit is refused with `StoreError`. A file this process may not write
    is opened that way by default (``read_only=None``), so an archived or
    write-protected copy can still be verified.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        create: bool = False,
        timeout: float = 5.0,
        durable: bool = False,
        read_only: bool | None = None,
    ) -> None:
        given: object = path  # a host's value: say what is wrong, never TypeError
        if not isinstance(given, str | os.PathLike) or "\x00" in str(os.fspath(given)):
            raise StoreError(f"A database path must be a file name, not {type(given).__name__}.")
        wait: object = timeout
        if type(wait) not in (int, float) or not 0 <= cast(float, wait) < 1e9:
            raise StoreError(f"A store's timeout is a number of seconds, not {wait!r:.40}.")
        self.path = os.fspath(path)
        self._thread = threading.get_ident()
        memory = self.path == ":memory:"
        try:
            if not memory and not create and not Path(self.path).is_file():
                raise StoreMissing(f"There is no labflow database at {self.path}.")
            if read_only is None:  # a file this process may not write is opened to read it
                read_only = not memory and not create and not os.access(self.path, os.W_OK)
        except OSError as exc:  # a name too long, a folder it may not look into, ...
            raise StoreError(
                f"The database {self.path[:200]} cannot be opened: {exc.strerror or exc}."
            ) from exc
        if read_only and (create or memory):
            raise StoreError("A read-only store cannot be created, nor kept in memory.")
        #: opened with ``mode=ro``: it reads and verifies, and refuses every commit
        self.read_only = read_only
        self._folds = Folds()
        try:
            if read_only:
                uri = Path(self.path).resolve().as_uri() + "?mode=ro"
                self._conn = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
            else:
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
        #: whether the file keeps registration indexes (schema 2 on); a read-only store
        #: reads a file from before them as it is, without the index's checks
        self.indexed = user_version >= 2 or not self.read_only
        if self.read_only:
            if user_version < 1:
                raise StoreError(
                    f"The database {self.path} needs an upgrade to schema {SCHEMA_VERSION}, "
                    f"which a read-only store cannot make."
                )
            return
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
                if version == 1:
                    _index_all(conn)
            conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def _connection(self) -> sqlite3.Connection:
        """The store's connection, refused to any thread but the one that opened it."""
        if threading.get_ident() != self._thread:
            raise StoreError(
                f"This SQLiteStore of {self.path} was opened in another thread; "
                f"open one store per thread (or per request) instead of sharing one."
            )
        return self._conn

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        """One transaction: ``BEGIN IMMEDIATE`` for writes, a snapshot for reads."""
        conn = self._connection()
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
        """Check every `Append`, then write them all with a handful of statements.

        A ceremony of a thousand innovations is one lookup of its streams (in
        chunks), one ``executemany`` per table, and no statement per stream: the
        checks and the projections run first, in Python, under the write lock,
        and nothing is written until all passed. An `Append` with no events is
        checked with the others and writes nothing.
        """
        refuse_malformed(lab_id, appends)
        if self.read_only:
            raise StoreError(f"The database {self.path} was opened read-only; nothing was written.")
        with self._transaction(write=True) as conn:
            stored = self._stream_rows(conn, lab_id, appends)
            lab = stored.get((True, lab_id))
            if lab is None and not any(a.lab and a.expected == 0 and a.events for a in appends):
                raise StoreError(f"There is no lab {lab_id!r} in {self.path}.")
            texts = check_streams(lab_id, appends, stored)
            check = self._check_fold(conn, lab_id, appends, lab, stored)
            writes = plan(lab_id, appends, stored, check.rows())
            texts_of = {id(a): t for a, t in zip(appends, texts, strict=True)}
            self._write(conn, lab_id, writes, texts_of, lab)
        check.keep()

    def _check_fold(
        self,
        conn: sqlite3.Connection,
        lab_id: str,
        appends: Sequence[Append],
        lab: Stored | None,
        stored: Mapping[tuple[bool, str], Stored],
    ) -> FoldCheck:
        """Run the validating fold over the new events, reading only what the fold this
        store kept from its last commit does not hold at the stored versions and heads."""
        check = self._folds.begin(lab_id, appends)
        lab_end: End | None = (lab.version, lab.head) if lab is not None else None
        ends: dict[str, End] = {}
        missing = []
        for subject in check.subjects:
            known = stored.get((False, subject))
            if known is not None:
                ends[subject] = (known.version, known.head)
            elif not any(not a.lab and a.subject == subject for a in appends):
                missing.append(subject)
        for chunk in _chunks(missing):
            marks = ",".join("?" * len(chunk))
            ends.update(
                (r[0], (r[1], r[2]))
                for r in conn.execute(
                    "SELECT subject, version, head FROM streams "
                    f"WHERE lab = ? AND is_lab = 0 AND subject IN ({marks})",
                    [lab_id, *chunk],
                )
            )
        read_lab, subjects = check.wants(lab_end, ends)
        query = (
            "SELECT s.is_lab, s.subject, e.seq, e.at, e.actor, e.kind, e.payload, e.prev, "
            "e.hash FROM streams s JOIN events e ON e.stream = s.id WHERE s.lab = ? AND {} "
            "ORDER BY s.is_lab DESC, s.subject, e.seq"
        )
        rows: list[tuple[Any, ...]] = []
        if subjects is None:
            rows = list(self._all_events(conn, lab_id))
        else:
            if read_lab:
                rows = conn.execute(query.format("s.is_lab = 1"), (lab_id,)).fetchall()
            for chunk in _chunks(subjects):
                marks = ",".join("?" * len(chunk))
                where = f"s.is_lab = 0 AND s.subject IN ({marks})"
                rows += conn.execute(query.format(where), [lab_id, *chunk]).fetchall()
        own: list[Event] = []
        histories: dict[str, list[Event]] = {}
        for row in rows:
            event = self._event(row[1:])
            if row[0]:
                own.append(event)
            else:
                histories.setdefault(event.subject, []).append(event)
        check.run(own, histories)
        return check

    def _stream_rows(
        self, conn: sqlite3.Connection, lab_id: str, appends: Sequence[Append]
    ) -> dict[tuple[bool, str], Stored]:
        """What is stored of the lab's own stream and of the streams ``appends`` name,
        read in chunks of 500 (the lab's row comes with the first)."""
        rows: dict[tuple[bool, str], Stored] = {}
        subjects = [a.subject for a in appends if not a.lab]
        for at in range(0, max(1, len(subjects)), 500):
            chunk = subjects[at : at + 500]
            for r in conn.execute(
                _STREAM_ROWS[len(chunk)], [lab_id, *chunk, lab_id, lab_id if at == 0 else None]
            ):
                if r[0]:
                    index = (r[9], r[10]) if r[9] is not None else None
                    rows[(True, r[1])] = Stored(r[2], r[3], r[4], None, index)
                else:
                    row = Row(r[5], r[6], r[7], bool(r[8]))
                    rows[(False, r[1])] = Stored(r[2], r[3], r[4], row)
        return rows

    def _write(
        self,
        conn: sqlite3.Connection,
        lab_id: str,
        writes: Sequence[Write],
        texts: Mapping[int, Texts],
        lab: Stored | None,
    ) -> None:
        """Write checked appends with their projected rows and units, in bulk.

        ``texts`` holds, per `Append` (by ``id``), its events' time and payload text as
        `check_streams` hashed them. A stream whose row the append leaves as it was
        gets its version and head only, so the indexes on the row are not rewritten.
        Each new innovation stream is added to the lab's registration index (``lab``: the
        lab's stored row; ``None`` when this commit creates the lab).
        """
        if not writes:
            return
        entries, index_end = new_entries(
            lab_id, writes, lab.index if lab is not None else (0, GENESIS)
        )
        next_id = 0
        if any(w.stored is None for w in writes):
            next_id = conn.execute("SELECT coalesce(max(id), 0) FROM streams").fetchone()[0] + 1
        created: list[tuple[Any, ...]] = []
        updated: list[tuple[Any, ...]] = []
        moved: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        units: list[tuple[str, str, str]] = []
        for write in writes:
            append, projection = write.append, write.row
            if write.stored is None:
                stream = next_id
                next_id += 1
            else:
                stream = write.stored.id
            events.extend(
                (stream, e.seq, when, e.actor, e.kind, body, e.prev, e.hash)
                for e, (when, body) in zip(append.events, texts[id(append)], strict=True)
            )
            units.extend((lab_id, u, k) for u, k in write.units)
            last = append.events[-1]
            if write.stored is not None and write.stored.row == projection:
                moved.append((last.seq, last.hash, stream))
                continue
            values = (
                last.seq,
                last.hash,
                *(
                    (None, None, None, None)
                    if projection is None
                    else (
                        projection.unit,
                        projection.stage,
                        projection.status,
                        int(projection.launched),
                    )
                ),
            )
            if write.stored is None:
                index = (index_end if append.lab else None) or (None, None)
                created.append((stream, lab_id, int(append.lab), append.subject, *values, *index))
            else:
                updated.append((*values, stream))
        if created:
            conn.executemany(
                "INSERT INTO streams (id, lab, is_lab, subject, version, head, unit, stage, "
                "status, launched, registered, registered_head) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                created,
            )
        if updated:
            conn.executemany(
                "UPDATE streams SET version = ?, head = ?, unit = ?, stage = ?, status = ?, "
                "launched = ? WHERE id = ?",
                updated,
            )
        if moved:
            conn.executemany("UPDATE streams SET version = ?, head = ? WHERE id = ?", moved)
        conn.executemany(
            "INSERT INTO events (stream, seq, at, actor, kind, payload, prev, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            events,
        )
        if units:
            conn.executemany("INSERT OR REPLACE INTO units (lab, id, kind) VALUES (?, ?, ?)", units)
        if entries:
            conn.executemany(
                "INSERT INTO registrations (lab, seq, subject, opening, prev, hash) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(lab_id, *e) for e in entries],
            )
            if lab is not None:
                conn.execute(
                    "UPDATE streams SET registered = ?, registered_head = ? WHERE id = ?",
                    (*cast(End, index_end), lab.id),
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
                "ORDER BY s.is_lab DESC, s.id, e.seq",
                (lab_id,),
            )
        )

    def _grouped(
        self, lab_id: str
    ) -> tuple[list[Event], list[list[Event]], Heads, dict[str, Row], list[IndexProblem]]:
        own: list[Event] = []
        others: list[list[Event]] = []
        current: str | None = None
        with self._transaction(write=False) as conn:
            self._require_lab(conn, lab_id)
            found = conn.execute(
                "SELECT is_lab, subject, version, head, unit, stage, status, launched "
                "FROM streams WHERE lab = ?",
                (lab_id,),
            ).fetchall()
            heads = {(bool(r[0]), r[1]): (r[2], r[3]) for r in found}
            rows = {r[1]: Row(r[4], r[5], r[6], bool(r[7])) for r in found if not r[0]}
            for row in self._all_events(conn, lab_id):
                event = self._event(row[1:])
                if row[0]:
                    own.append(event)
                    continue
                if event.subject != current:
                    current = event.subject
                    others.append([])
                others[-1].append(event)
            problems = self._index_problems(conn, lab_id).get(lab_id, [])
        return own, others, heads, rows, problems

    def _index_problems(
        self, conn: sqlite3.Connection, lab_id: str | None
    ) -> dict[str, list[IndexProblem]]:
        """What is wrong with each lab's registration index (or ``lab_id``'s), by lab."""
        return _read_index(conn, lab_id) if self.indexed else {}

    def histories(self, lab_id: str) -> Iterator[list[Event]]:
        yield from by_id(self._grouped(lab_id)[1])

    def verify_all(
        self, lab_id: str | None = None, *, workers: int | None = None
    ) -> dict[str, tuple[Verification, ...]]:
        """Verify every history of every lab (or of ``lab_id``) without loading a lab.

        Rows are streamed in primary-key order and each hash recomputed as
        `labflow.verify` would; a stream must also end at its stored version and
        head, so a history cut short is found too. A large store is cut into
        ranges of streams verified by ``workers`` processes (default: one per
        core), each in its own read snapshot. A store under `PARALLEL_FROM`
        events, or in memory, is verified in this process; so is any store when
        ``workers=1``, and when other threads are running in this process:
        forking a threaded process copies locks other threads may hold, which can
        hang the workers (a web server's thread pool is enough).
        """
        with self._transaction(write=False) as conn:
            if lab_id is not None:
                self._require_lab(conn, lab_id)
            args = [lab_id] if lab_id is not None else []
            # The streams as they are now, by id and length, to cut into ranges: ids only
            # grow, so a stream created after this moment is in no range. Their names come
            # back with the workers' results.
            sizes: list[tuple[int, int]] = conn.execute(
                "SELECT id, version FROM streams"
                + (" WHERE lab = ?" if lab_id is not None else "")
                + " ORDER BY id",
                args,
            ).fetchall()
            events = sum(n for _, n in sizes)
            # How far each index reached when the streams above were listed: innovations
            # registered after this moment are not checked against them.
            registered = (
                {
                    r[0]: r[1]
                    for r in conn.execute(
                        "SELECT subject, registered FROM streams WHERE is_lab = 1"
                        + (" AND lab = ?" if lab_id is not None else ""),
                        args,
                    )
                }
                if self.indexed
                else {}
            )
            count = workers if workers is not None else (os.cpu_count() or 1)
            local = (
                count <= 1
                or events < PARALLEL_FROM
                or self.path == ":memory:"
                or "fork" not in multiprocessing.get_all_start_methods()
                or threading.active_count() > 1
            )
            checked: list[_Named] = []
            chains: _Chains = {}
            if sizes and local:
                checked = _verify_range(conn, sizes[0][0], sizes[-1][0], lab_id)
                chains = _index_chains(conn, lab_id, registered) if self.indexed else {}
        if sizes and not local:
            try:
                checked, chains = self._verify_in_workers(sizes, count, lab_id, registered)
            except (OSError, BrokenProcessPool):
                # No processes to be had here: the same work, in this process.
                with self._transaction(write=False) as conn:
                    checked = _verify_range(conn, sizes[0][0], sizes[-1][0], lab_id)
                    chains = _index_chains(conn, lab_id, registered) if self.indexed else {}
        results: dict[str, list[tuple[bool, str, Verification]]] = {}
        openings: dict[str, dict[str, str | None]] = {}
        for lab, is_lab, subject, length, ok, seq, reason, first in checked:
            results.setdefault(lab, []).append(
                (not is_lab, subject, Verification(subject, length, ok, seq, reason))
            )
            if not is_lab:
                openings.setdefault(lab, {})[subject] = first
        for lab, (problems, listed) in chains.items():
            if lab not in results:
                continue
            if not problems:
                problems = check_listed(listed, openings.get(lab, {}))
            if problems:
                results[lab] = with_index_problems(results[lab], problems)
        return {
            lab: tuple(v for _, _, v in sorted(found, key=lambda f: (f[0], f[1])))
            for lab, found in sorted(results.items())
        }

    def _verify_in_workers(
        self,
        sizes: Sequence[tuple[int, int]],
        count: int,
        lab_id: str | None,
        registered: Mapping[str, int | None],
    ) -> tuple[list[_Named], _Chains]:
        """Share `verify_all` out to ``count`` forked processes, by ranges of stream ids,
        with the registration indexes' chains checked by one of them meanwhile.

        Forked, not spawned: a spawned worker re-imports the host's main module,
        which a host script without an ``if __name__ == "__main__"`` guard cannot
        survive. Each worker opens its own read-only connection.
        """
        checked: list[_Named] = []
        chains: _Chains = {}
        context = multiprocessing.get_context("fork")
        try:
            with ProcessPoolExecutor(count, mp_context=context) as pool:
                index = (
                    pool.submit(_chains_in_worker, self.path, lab_id, registered)
                    if self.indexed
                    else None
                )
                futures = [
                    pool.submit(_verify_in_worker, self.path, lo, hi, lab_id)
                    for lo, hi in _ranges(sizes, count * 4)
                ]
                for future in futures:
                    checked.extend(future.result())
                if index is not None:
                    chains = index.result()
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc
        return checked, chains

    def _funnel_counts(
        self, lab_ids: Sequence[str] | None
    ) -> dict[str, tuple[tuple[str, ...], list[tuple[str, str | None, str, int]]]]:
        """Per lab: its policy's stage ids and its innovations counted by (stage, unit kind,
        status), read from the rows `verify_all` checks -- for `labflow.reports.registry_funnel`,
        which needs no history but the first event of each lab's own."""
        with self._transaction(write=False) as conn:
            if lab_ids is not None:
                for lab_id in lab_ids:
                    self._require_lab(conn, lab_id)
            found: dict[str, tuple[tuple[str, ...], list[tuple[str, str | None, str, int]]]] = {}
            for lab, kind, payload in conn.execute(
                # LEFT JOIN: from the few lab rows to their first events, never a scan of
                # every event; a lab whose first event is gone is refused, not left out.
                "SELECT s.subject, e.kind, e.payload FROM streams s LEFT JOIN events e "
                "ON e.stream = s.id AND e.seq = 1 WHERE s.is_lab = 1 ORDER BY s.subject"
            ):
                if lab_ids is None or lab in lab_ids:
                    found[lab] = (opening_stages(lab, kind or "", payload or ""), [])
            for lab, stage, unit_kind, status, count in conn.execute(
                # The table in its own order: the stage index would cost a lookup a row.
                "SELECT s.lab, s.stage, u.kind, s.status, count(*) FROM streams s NOT INDEXED "
                "LEFT JOIN units u ON u.lab = s.lab AND u.id = s.unit WHERE s.is_lab = 0 "
                "GROUP BY s.lab, s.stage, u.kind, s.status"
            ):
                if lab in found:
                    found[lab][1].append((stage, unit_kind, status, count))
        return found

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
        own, others, heads, rows, problems = self._grouped(lab_id)
        verify_loaded(own, others, heads)
        raise_for_index(problems)
        try:
            lab = replay_lab(own, others, registry=registry, clock=clock)
        except CommandError as exc:
            raise StoreCorrupt(
                f"The lab {lab_id!r} in {self.path} cannot be replayed: {exc}"
            ) from exc
        verify_rows(lab, rows)
        return lab

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

    def checkpoint(self, key: object, *, labs: Sequence[str] | None = None) -> Checkpoint:
        """A signed `labflow.store.checkpoint.Checkpoint` of every stream, as it is now."""
        from labflow.store.checkpoint import make_checkpoint

        return make_checkpoint(self, key, labs=labs)

    def verify_checkpoint(self, checkpoint: Checkpoint, key: object) -> CheckpointReport:
        """Whether every history ``checkpoint`` sealed is still an unchanged prefix of what is
        stored (`labflow.store.checkpoint.verify_checkpoint`); ``key`` as it takes it."""
        from labflow.store.checkpoint import verify_checkpoint

        return verify_checkpoint(self, checkpoint, key)

    def close(self) -> None:
        self._connection().close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
