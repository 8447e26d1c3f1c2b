"""Stores on a PostgreSQL server: `PostgresStore` for threads, `AsyncPostgresStore` for asyncio.

Why PostgreSQL: a province or the national registry runs labflow behind several
web workers on several machines, which one SQLite file cannot serve. Both stores
keep `MemoryStore`'s and `SQLiteStore`'s promises on the same contract tests;
they need the optional extra ``labflow[postgres]`` (psycopg 3 and its pool).

How they keep them:

- **Isolation: READ COMMITTED with row locks**, not SERIALIZABLE. A commit locks
  the rows of the streams it names, in one order -- the lab's own first, then its
  innovations by id -- with ``SELECT ... FOR UPDATE`` (``FOR SHARE`` for a lab
  stream it only checks), then compares their versions. A second writer on the
  same stream waits for the first, then reads the version the first committed
  and gets `labflow.ConflictError`: exactly the conflicts a version check means,
  never the spurious serialisation failures SERIALIZABLE raises between writers
  of unrelated streams. Commits that touch only innovations share the lab row,
  so secretariats registering different innovations do not wait on each other.
- **Unique keys are the last line of defence**: ``(lab, is_lab, subject)`` for a
  stream and ``(stream, seq)`` for an event. Two writers creating the same stream
  cannot both succeed; the second gets `ConflictError`.
- **Events as rows** with ``at`` and ``payload`` as the exact text the hash was
  computed over (``text``, not ``jsonb``, which would reorder keys), appended with
  one ``INSERT ... SELECT FROM unnest(...)`` per commit (one round trip, whatever its
  size); projections (unit, stage, status, launched) beside each stream.
- **Schema version** in ``labflow_schema``; upgrades run on open under an
  advisory lock, and a schema from a newer labflow is refused rather than
  misread. Every table is prefixed ``labflow_`` so a shared database stays tidy.
- **Reads** run in one ``REPEATABLE READ, READ ONLY`` transaction, so a lab is
  loaded from one snapshot even while others write.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, cast

try:
    import psycopg
    import psycopg.errors
    from psycopg_pool import AsyncConnectionPool, ConnectionPool, PoolTimeout
except ImportError as exc:  # pragma: no cover - the extra is installed in the test env
    raise ImportError(
        "labflow.store.postgres needs the postgres extra: pip install 'labflow[postgres]'"
    ) from exc

from labflow.errors import CommandError, ConflictError, StoreError
from labflow.events import GENESIS, Event, Verification
from labflow.lab import Clock, Lab, replay_lab, system_clock
from labflow.requirements import Registry
from labflow.store import (
    Append,
    AsyncSession,
    InnovationRow,
    Session,
    StoreCorrupt,
    StoreMissing,
    StoreTooNew,
)
from labflow.store._common import (
    End,
    FoldCheck,
    Folds,
    Heads,
    IndexProblem,
    Row,
    Stored,
    Write,
    by_id,
    check_streams,
    encode_payload,
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

__all__ = ["SCHEMA_VERSION", "AsyncPostgresStore", "PostgresStore"]

#: The schema this labflow writes; a database at a higher version is refused.
SCHEMA_VERSION: Final = 2
#: The advisory lock key that serialises schema upgrades ("LBFW").
_UPGRADE_LOCK: Final = 0x4C424657

#: Each entry upgrades the schema from its index to the next version.
_MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    (
        """CREATE TABLE labflow_streams (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            lab text NOT NULL,
            is_lab boolean NOT NULL,
            subject text NOT NULL,
            version integer NOT NULL,
            head text NOT NULL,
            unit text,
            stage text,
            status text,
            launched boolean,
            UNIQUE (lab, is_lab, subject)
        )""",
        "CREATE INDEX labflow_streams_stage ON labflow_streams (lab, stage) WHERE NOT is_lab",
        "CREATE INDEX labflow_streams_unit ON labflow_streams (lab, unit) WHERE NOT is_lab",
        """CREATE TABLE labflow_units (
            lab text NOT NULL,
            id text NOT NULL,
            kind text NOT NULL,
            PRIMARY KEY (lab, id)
        )""",
        """CREATE TABLE labflow_events (
            stream bigint NOT NULL REFERENCES labflow_streams (id),
            seq integer NOT NULL,
            at text NOT NULL,
            actor text NOT NULL,
            kind text NOT NULL,
            payload text NOT NULL,
            prev text NOT NULL,
            hash text NOT NULL,
            PRIMARY KEY (stream, seq)
        )""",
    ),
    # 2: each lab's registration index, chained; its length and head on the lab's row.
    # The innovations already stored are indexed as the upgrade finds them (`_index_all`).
    (
        """CREATE TABLE labflow_registrations (
            lab text NOT NULL,
            seq integer NOT NULL,
            subject text NOT NULL,
            opening text NOT NULL,
            prev text NOT NULL,
            hash text NOT NULL,
            PRIMARY KEY (lab, seq)
        )""",
        "ALTER TABLE labflow_streams ADD COLUMN registered integer",
        "ALTER TABLE labflow_streams ADD COLUMN registered_head text",
    ),
)
assert len(_MIGRATIONS) == SCHEMA_VERSION

_READ = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
_SCHEMA_TABLE = "SELECT to_regclass('labflow_schema') IS NOT NULL"
_LAB_ROW = (
    "SELECT id, version, head, registered, registered_head FROM labflow_streams "
    "WHERE lab = %s AND is_lab AND subject = %s FOR {mode}"
)
_INNOVATION_ROWS = (
    "SELECT subject, id, version, head, unit, stage, status, launched FROM labflow_streams "
    "WHERE lab = %s AND NOT is_lab AND subject = ANY(%s) ORDER BY subject FOR UPDATE"
)
_CREATE_STREAMS = (
    "INSERT INTO labflow_streams (lab, is_lab, subject, version, head, unit, stage, status, "
    "launched) SELECT %s, * FROM unnest(%s::boolean[], %s::text[], %s::integer[], %s::text[], "
    "%s::text[], %s::text[], %s::text[], %s::boolean[]) "
    "ON CONFLICT (lab, is_lab, subject) DO NOTHING RETURNING is_lab, subject, id"
)
_UPDATE_STREAMS = (
    "UPDATE labflow_streams AS s SET version = v.version, head = v.head, unit = v.unit, "
    "stage = v.stage, status = v.status, launched = v.launched FROM unnest(%s::bigint[], "
    "%s::integer[], %s::text[], %s::text[], %s::text[], %s::text[], %s::boolean[]) "
    "AS v (id, version, head, unit, stage, status, launched) WHERE s.id = v.id"
)
_INSERT_EVENTS = (
    "INSERT INTO labflow_events (stream, seq, at, actor, kind, payload, prev, hash) "
    "SELECT * FROM unnest(%s::bigint[], %s::integer[], %s::text[], %s::text[], %s::text[], "
    "%s::text[], %s::text[], %s::text[])"
)
_UPSERT_UNITS = (
    "INSERT INTO labflow_units (lab, id, kind) SELECT %s, * FROM unnest(%s::text[], %s::text[]) "
    "ON CONFLICT (lab, id) DO UPDATE SET kind = excluded.kind"
)
_INSERT_ENTRIES = (
    "INSERT INTO labflow_registrations (lab, seq, subject, opening, prev, hash) "
    "SELECT %s, * FROM unnest(%s::integer[], %s::text[], %s::text[], %s::text[], %s::text[])"
)
_SET_INDEX = (
    "UPDATE labflow_streams SET registered = %s, registered_head = %s "
    "WHERE lab = %s AND is_lab AND subject = %s"
)
#: What a registration index check reads: the entries, each lab's recorded end, and the
#: first event's hash of every innovation stream ({one}: of one lab, or of every lab).
_INDEX_ROWS = (
    "SELECT lab, seq, subject, opening, prev, hash FROM labflow_registrations "
    "WHERE true {one} ORDER BY lab, seq"
)
_INDEX_ENDS = "SELECT lab, registered, registered_head FROM labflow_streams WHERE is_lab {one}"
_OPENINGS = (
    "SELECT s.lab, s.subject, e.hash FROM labflow_streams s LEFT JOIN labflow_events e "
    "ON e.stream = s.id AND e.seq = 1 WHERE NOT s.is_lab {one}"
)
_UPGRADE_OPENINGS = (
    "SELECT s.lab, s.subject, e.hash FROM labflow_streams s JOIN labflow_events e "
    "ON e.stream = s.id AND e.seq = 1 WHERE NOT s.is_lab ORDER BY s.lab, s.id"
)
_LAB_IDS = "SELECT subject FROM labflow_streams WHERE is_lab ORDER BY subject"
_HAS_LAB = "SELECT 1 FROM labflow_streams WHERE lab = %s AND is_lab"
_VERSION = "SELECT version FROM labflow_streams WHERE lab = %s AND is_lab = %s AND subject = %s"
_HISTORY = (
    "SELECT s.subject, e.seq, e.at, e.actor, e.kind, e.payload, e.prev, e.hash "
    "FROM labflow_streams s JOIN labflow_events e ON e.stream = s.id "
    "WHERE s.lab = %s AND s.is_lab = %s AND s.subject = %s ORDER BY e.seq"
)
_ALL_EVENTS = (
    "SELECT s.is_lab, s.subject, e.seq, e.at, e.actor, e.kind, e.payload, e.prev, e.hash "
    "FROM labflow_streams s JOIN labflow_events e ON e.stream = s.id WHERE s.lab = %s "
    "ORDER BY s.is_lab DESC, s.id, e.seq"
)
#: What the validating fold of a commit reads: the lab's own history and the named streams.
_FOLD_EVENTS = (
    "SELECT s.is_lab, s.subject, e.seq, e.at, e.actor, e.kind, e.payload, e.prev, e.hash "
    "FROM labflow_streams s JOIN labflow_events e ON e.stream = s.id WHERE s.lab = %s "
    "AND ((s.is_lab AND %s) OR (NOT s.is_lab AND s.subject = ANY(%s))) "
    "ORDER BY s.is_lab DESC, s.subject, e.seq"
)
#: The stored ends of streams a commit's fold reads but does not write.
_ENDS = (
    "SELECT subject, version, head FROM labflow_streams "
    "WHERE lab = %s AND NOT is_lab AND subject = ANY(%s)"
)
#: What a load reads: the lab's history, its innovations', their ends and stored rows.
_Loaded = tuple[list[Event], list[list[Event]], Heads, dict[str, Row], list[IndexProblem]]

_HEADS = (
    "SELECT is_lab, subject, version, head, unit, stage, status, launched FROM labflow_streams "
    "WHERE lab = %s"
)
_META = (
    "SELECT id, lab, is_lab, subject, version, head, unit, stage, status, launched "
    "FROM labflow_streams"
)
#: What the registry funnel reads: each lab's first event (its policy's stage ids) and its
#: innovations' rows counted by (stage, unit kind, status) -- the rows `verify_all` checks.
_FUNNEL_LABS = (
    "SELECT s.subject, e.kind, e.payload FROM labflow_streams s LEFT JOIN labflow_events e "
    "ON e.stream = s.id AND e.seq = 1 WHERE s.is_lab {one} ORDER BY s.subject"
)
_FUNNEL_COUNTS = (
    "SELECT s.lab, s.stage, u.kind, s.status, count(*) FROM labflow_streams s "
    "LEFT JOIN labflow_units u ON u.lab = s.lab AND u.id = s.unit WHERE NOT s.is_lab {one} "
    "GROUP BY s.lab, s.stage, u.kind, s.status"
)
_RANGE_ROWS = (
    "SELECT e.stream, e.seq, e.at, e.actor, e.kind, e.payload, e.prev, e.hash "
    "FROM labflow_events e {join}ORDER BY e.stream, e.seq"
)


def _redacted(url: str) -> str:
    """The URL without its password, for messages."""
    url = re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)
    return re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", url)


def _translate(exc: psycopg.Error, where: str) -> StoreError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return StoreError(f"The PostgreSQL store {where} could not be used: {text.rstrip('.')}.")


def _seconds(timeout: float) -> int:
    """libpq's ``connect_timeout``: whole seconds, at least 2 (it treats 1 as 2)."""
    return max(2, round(timeout))


def _unreachable(exc: psycopg.Error, where: str) -> StoreMissing:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    reason = lines[0].rsplit(" failed: ", 1)[-1] if lines else type(exc).__name__
    reason = re.sub(r"^(FATAL|ERROR):\s*", "", reason)
    return StoreMissing(f"The PostgreSQL store {where} cannot be reached: {reason.rstrip('.')}.")


def _deadlock(exc: psycopg.Error, appends: Sequence[Append]) -> ConflictError | None:
    """A deadlock or serialisation failure between two commits is a conflict on a stream."""
    if isinstance(exc, psycopg.errors.DeadlockDetected | psycopg.errors.SerializationFailure):
        first = next(iter(appends), None)
        if first is not None:
            return ConflictError(first.subject, first.expected, -1)
    return None


def _event(row: Sequence[Any], where: str) -> Event:
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
            f"Event {seq} of {subject!r} in {where} cannot be read ({exc})."
        ) from exc


def _ends(
    check: FoldCheck,
    appends: Sequence[Append],
    lab_row: Sequence[Any] | None,
    stored: Mapping[tuple[bool, str], Stored],
) -> tuple[End | None, dict[str, End], list[str]]:
    """The stored ends a commit's fold needs that the rows it locked give, and the
    subjects whose ends must still be read (`_ENDS`)."""
    lab_end: End | None = (lab_row[1], lab_row[2]) if lab_row is not None else None
    written = {a.subject for a in appends if not a.lab}
    ends: dict[str, End] = {}
    missing = []
    for subject in check.subjects:
        known = stored.get((False, subject))
        if known is not None:
            ends[subject] = (known.version, known.head)
        elif subject not in written:
            missing.append(subject)
    return lab_end, ends, missing


def _fold_query(
    lab_id: str, lab: bool, subjects: list[str] | None
) -> tuple[str, tuple[Any, ...]] | None:
    """What a commit's fold must read (`FoldCheck.wants`), as a query; ``None``: nothing."""
    if subjects is None:
        return _ALL_EVENTS, (lab_id,)
    if not lab and not subjects:
        return None
    return _FOLD_EVENTS, (lab_id, lab, subjects)


def _fold_rows(
    rows: Iterable[Sequence[Any]], where: str
) -> tuple[list[Event], dict[str, list[Event]]]:
    """Rows of `_FOLD_EVENTS` or `_ALL_EVENTS` as the lab's events and each stream's."""
    own: list[Event] = []
    histories: dict[str, list[Event]] = {}
    for row in rows:
        event = _event(row[1:], where)
        if row[0]:
            own.append(event)
        else:
            histories.setdefault(event.subject, []).append(event)
    return own, histories


def _grouped(rows: Iterable[Sequence[Any]], where: str) -> tuple[list[Event], list[list[Event]]]:
    """Split rows of `_ALL_EVENTS` into the lab's own history and each innovation's."""
    own: list[Event] = []
    others: list[list[Event]] = []
    current: str | None = None
    for row in rows:
        event = _event(row[1:], where)
        if row[0]:
            own.append(event)
            continue
        if event.subject != current:
            current = event.subject
            others.append([])
        others[-1].append(event)
    return own, others


def _heads(found: Sequence[Sequence[Any]]) -> tuple[Heads, dict[str, Row]]:
    """Each stream's recorded end, and each innovation's stored row, from rows of `_HEADS`."""
    heads = {(bool(r[0]), r[1]): (r[2], r[3]) for r in found}
    return heads, {r[1]: Row(r[4], r[5], r[6], bool(r[7])) for r in found if not r[0]}


def _projections(meta_rows: Iterable[Sequence[Any]]) -> dict[int, Row]:
    """The stored rows of the innovation streams among rows of `_META`."""
    return {r[0]: Row(r[6], r[7], r[8], bool(r[9])) for r in meta_rows if not r[2]}


def _replayed(
    lab_id: str, where: str, loaded: _Loaded, registry: Registry | None, clock: Clock
) -> Lab:
    """The lab from what a load read, once its chains, ends and stored rows all verify."""
    own, others, heads, rows, problems = loaded
    verify_loaded(own, others, heads)
    raise_for_index(problems)
    try:
        lab = replay_lab(own, others, registry=registry, clock=clock)
    except CommandError as exc:
        raise StoreCorrupt(f"The lab {lab_id!r} in {where} cannot be replayed: {exc}") from exc
    verify_rows(lab, rows)
    return lab


def _stored(
    lab_row: Sequence[Any] | None, rows: Iterable[Sequence[Any]], lab_id: str
) -> dict[tuple[bool, str], Stored]:
    found: dict[tuple[bool, str], Stored] = {}
    if lab_row is not None:
        found[(True, lab_id)] = Stored(lab_row[0], lab_row[1], lab_row[2], None)
    for r in rows:
        found[(False, r[0])] = Stored(r[1], r[2], r[3], Row(r[4], r[5], r[6], bool(r[7])))
    return found


def _stream_values(write: Write) -> tuple[Any, ...]:
    """``(version, head, unit, stage, status, launched)`` of a stream after ``write``."""
    last = write.append.events[-1]
    row = write.row
    if row is None:
        return (last.seq, last.hash, None, None, None, None)
    return (last.seq, last.hash, row.unit, row.stage, row.status, row.launched)


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows turned into columns, for ``unnest``: one array parameter per column."""
    return [[r[i] for r in rows] for i in range(width)] if rows else [[] for _ in range(width)]


class _Plan:
    """A commit's statements, worked out from the checked writes (shared by both stores)."""

    def __init__(self, lab_id: str, writes: Sequence[Write]) -> None:
        self.lab_id = lab_id
        # The lab's stream first, then the innovations in the order the commit registers
        # them: stream ids follow registration, as the index does, and a load reads by id.
        new = sorted((w for w in writes if w.stored is None), key=lambda w: not w.append.lab)
        self.new = new
        self.create: list[Any] = [
            lab_id,
            *_columns([(w.append.lab, w.append.subject, *_stream_values(w)) for w in new], 8),
        ]
        updated = [(w.stored.id, *_stream_values(w)) for w in writes if w.stored is not None]
        self.update: list[Any] = _columns(updated, 7)
        self.units: list[Any] = [
            lab_id,
            *_columns([u for w in writes for u in w.units], 2),
        ]
        self.has_units = any(w.units for w in writes)
        self.writes = writes

    def ids(self, returned: Iterable[Sequence[Any]]) -> dict[tuple[bool, str], Any]:
        """The ids of the new streams, or `ConflictError` if another writer created one first."""
        ids = {(bool(r[0]), r[1]): r[2] for r in returned}
        for w in self.new:
            if (w.append.lab, w.append.subject) not in ids:
                raise ConflictError(w.append.subject, 0, 1)
        return ids

    def events(self, ids: dict[tuple[bool, str], Any]) -> Iterator[tuple[Any, ...]]:
        for w in self.writes:
            a = w.append
            stream = w.stored.id if w.stored is not None else ids[(a.lab, a.subject)]
            for e in a.events:
                yield (
                    stream,
                    e.seq,
                    e.at.isoformat(),
                    e.actor,
                    e.kind,
                    encode_payload(e.payload),
                    e.prev,
                    e.hash,
                )


def _lab_mode(lab_id: str, appends: Sequence[Append]) -> str:
    """``UPDATE`` when the commit writes the lab's own row -- its history, or its registration
    index, for a new innovation -- and ``SHARE`` when it only checks it."""
    writes_lab = any(
        a.events and (a.lab or a.expected == 0) for a in appends
    )  # an innovation Append from version 0 is a new stream: the index grows
    return "UPDATE" if writes_lab else "SHARE"


def _index_steps(
    lab_id: str, lab_row: Sequence[Any] | None, writes: Sequence[Write]
) -> list[tuple[str, Sequence[Any]]]:
    """The statements that add a commit's new innovations to the lab's registration index
    (and give a new lab its empty one)."""
    if lab_row is None:
        end: End | None = (0, GENESIS)
    else:
        end = (lab_row[3], lab_row[4]) if lab_row[3] is not None else None
    entries, new_end = new_entries(lab_id, writes, end)
    steps: list[tuple[str, Sequence[Any]]] = []
    if entries:
        steps.append((_INSERT_ENTRIES, [lab_id, *_columns(entries, 5)]))
    if new_end is not None and (entries or lab_row is None):
        steps.append((_SET_INDEX, (*new_end, lab_id, lab_id)))
    return steps


def _index_queries(lab_id: str | None) -> list[tuple[str, tuple[Any, ...]]]:
    """The three reads of `index_problems`, for one lab or for every lab."""
    one, args = ("AND lab = %s", (lab_id,)) if lab_id is not None else ("", ())
    return [
        (_INDEX_ROWS.format(one=one), args),
        (_INDEX_ENDS.format(one=one), args),
        (_OPENINGS.format(one=one.replace("lab", "s.lab")), args),
    ]


def _index_all_steps(
    labs: Sequence[Sequence[Any]], openings: Sequence[Sequence[Any]]
) -> list[tuple[str, Sequence[Any]]]:
    """The upgrade to schema 2: index every lab's stored innovations as found."""
    entries, ends = index_all([r[0] for r in labs], openings)
    steps: list[tuple[str, Sequence[Any]]] = []
    for lab, n, head in ends:
        mine = [e[1:] for e in entries if e[0] == lab]
        if mine:
            steps.append((_INSERT_ENTRIES, [lab, *_columns(mine, 5)]))
        steps.append((_SET_INDEX, (n, head, lab, lab)))
    return steps


def _creates_lab(appends: Sequence[Append]) -> bool:
    return any(a.lab and a.expected == 0 and a.events for a in appends)


def _verification_results(
    checked: Iterable[tuple[int, int, bool, int | None, str | None]],
    names: dict[int, tuple[str, bool, str]],
    index: Mapping[str, Sequence[IndexProblem]],
) -> dict[str, tuple[Verification, ...]]:
    results: dict[str, list[tuple[bool, str, Verification]]] = {}
    for stream, length, ok, seq, reason in checked:
        lab, is_lab, subject = names[stream]
        results.setdefault(lab, []).append(
            (not is_lab, subject, Verification(subject, length, ok, seq, reason))
        )
    for lab, problems in index.items():
        if lab in results:
            results[lab] = with_index_problems(results[lab], problems)
    return {
        lab: tuple(v for _, _, v in sorted(found, key=lambda f: (f[0], f[1])))
        for lab, found in sorted(results.items())
    }


def _innovation_query(
    lab_id: str,
    stage: str | None,
    unit: str | None,
    unit_kind: str | None,
    status: str | None,
) -> tuple[str, list[Any]]:
    sql = [
        "SELECT s.subject, s.unit, u.kind, s.stage, s.status, s.launched, s.version "
        "FROM labflow_streams s LEFT JOIN labflow_units u ON u.lab = s.lab AND u.id = s.unit "
        "WHERE s.lab = %s AND NOT s.is_lab"
    ]
    args: list[Any] = [lab_id]
    for column, value in (
        ("s.stage", stage),
        ("s.unit", unit),
        ("u.kind", unit_kind),
        ("s.status", status),
    ):
        if value is not None:
            sql.append(f"AND {column} = %s")
            args.append(value)
    sql.append("ORDER BY s.subject")
    return " ".join(sql), args


def _funnel_queries(lab_ids: Sequence[str] | None) -> list[tuple[str, tuple[Any, ...]]]:
    one, args = ("AND s.lab = ANY(%s)", (list(lab_ids),)) if lab_ids is not None else ("", ())
    return [(_FUNNEL_LABS.format(one=one), args), (_FUNNEL_COUNTS.format(one=one), args)]


def _funnel_found(
    labs: Iterable[Sequence[Any]], counts: Iterable[Sequence[Any]]
) -> dict[str, tuple[tuple[str, ...], list[tuple[str, str | None, str, int]]]]:
    """Per lab: its stage ids (from its first event, which must be ``lab.created``) and its
    counted rows."""
    found: dict[str, tuple[tuple[str, ...], list[tuple[str, str | None, str, int]]]] = {
        lab: (opening_stages(lab, kind or "", payload or ""), []) for lab, kind, payload in labs
    }
    for lab, stage, unit_kind, status, count in counts:
        if lab in found:
            found[lab][1].append((stage, unit_kind, status, int(count)))
    return found


def _rows_to_innovations(rows: Iterable[Sequence[Any]]) -> list[InnovationRow]:
    return [InnovationRow(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6]) for r in rows]


def _schema_problem(found: int | None, create: bool, where: str) -> StoreError | None:
    if found is None and not create:
        return StoreMissing(f"There is no labflow store in {where}; create one first.")
    if found is not None and found > SCHEMA_VERSION:
        return StoreTooNew(
            f"The store in {where} was written by a newer labflow (schema {found}; this one "
            f"reads up to {SCHEMA_VERSION}). Upgrade labflow."
        )
    return None


def _upgrade_statements(current: int) -> list[str]:
    statements: list[str] = []
    if current == 0:
        statements.append("CREATE TABLE IF NOT EXISTS labflow_schema (version integer NOT NULL)")
    for version in range(current, SCHEMA_VERSION):
        statements.extend(_MIGRATIONS[version])
    return statements


# --- The store for threads ---------------------------------------------------------------------


def _need_url(url: object, pool_size: object, timeout: object) -> None:
    """A store is opened on a connection URL (or conninfo text), a pool of 1 to 1,000
    connections and a timeout of seconds; anything else is refused before connecting."""
    if not isinstance(url, str) or not url.strip() or "\x00" in url:
        raise StoreError(
            f"A PostgreSQL store needs a connection URL (postgresql://...), "
            f"not {type(url).__name__}."
        )
    if type(pool_size) is not int or not 1 <= pool_size <= 1000:
        raise StoreError("A PostgreSQL store's pool_size is a whole number from 1 to 1000.")
    if type(timeout) not in (int, float) or not 0 < cast(float, timeout) < 1e6:
        raise StoreError("A PostgreSQL store's timeout is a positive number of seconds.")


class PostgresStore:
    """A `labflow.store.Store` on a PostgreSQL server, through a pool of connections.

    ``url`` is a libpq connection string (``postgresql://user@host/db``).
    ``create=False`` refuses a database that holds no labflow store yet, so a
    wrong URL never silently starts an empty one; ``create=True`` creates the
    tables. ``pool_size`` connections are shared by every thread of the process,
    so one store may serve a threaded web server; ``timeout`` bounds how long
    opening waits for the server.
    """

    def __init__(
        self, url: str, *, create: bool = False, pool_size: int = 4, timeout: float = 10.0
    ) -> None:
        _need_url(url, pool_size, timeout)
        self.url = url
        #: where the store is, for messages: the URL without its password
        self.path = _redacted(url)
        self._folds = Folds()
        try:  # one plain connection first: an unreachable server is one sentence, at once
            psycopg.connect(url, connect_timeout=_seconds(timeout)).close()
        except psycopg.Error as exc:
            raise _unreachable(exc, self.path) from exc
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max(1, pool_size),
            kwargs={"autocommit": True},
            open=False,
            timeout=timeout,
        )
        try:
            self._pool.open(wait=True, timeout=timeout)
        except PoolTimeout as exc:
            self._pool.close()
            raise StoreError(
                f"The PostgreSQL server at {self.path} could not be reached within {timeout} s."
            ) from exc
        try:
            self._open(create=create)
        except BaseException:
            self._pool.close()
            raise

    def _open(self, *, create: bool) -> None:
        with self._transaction(read=True) as cur:
            found = None
            if cur.execute(_SCHEMA_TABLE).fetchone()[0]:  # type: ignore[index]
                row = cur.execute("SELECT max(version) FROM labflow_schema").fetchone()
                found = row[0] if row is not None and row[0] is not None else 0
        problem = _schema_problem(found, create, self.path)
        if problem is not None:
            raise problem
        if found is None or found < SCHEMA_VERSION:
            self._upgrade()

    def _upgrade(self) -> None:
        with self._transaction(read=False) as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_UPGRADE_LOCK,))
            current = 0
            if cur.execute(_SCHEMA_TABLE).fetchone()[0]:  # type: ignore[index]
                row = cur.execute("SELECT max(version) FROM labflow_schema").fetchone()
                current = row[0] if row is not None and row[0] is not None else 0
            if current >= SCHEMA_VERSION:
                return  # another process upgraded meanwhile
            for statement in _upgrade_statements(current):
                cur.execute(statement)
            if current <= 1:
                labs = cur.execute("SELECT subject FROM labflow_streams WHERE is_lab").fetchall()
                openings = cur.execute(_UPGRADE_OPENINGS).fetchall()
                for step in _index_all_steps(labs, openings):
                    cur.execute(*step)
            cur.execute("DELETE FROM labflow_schema")
            cur.execute("INSERT INTO labflow_schema (version) VALUES (%s)", (SCHEMA_VERSION,))

    @contextmanager
    def _transaction(self, *, read: bool) -> Iterator[psycopg.Cursor[Any]]:
        """One transaction on a pooled connection: a read-only snapshot, or a write."""
        try:
            with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                if read:
                    cur.execute(_READ)
                yield cur
        except psycopg.Error as exc:
            raise _translate(exc, self.path) from exc
        except PoolTimeout as exc:
            raise StoreError(f"No connection to {self.path} became free in time.") from exc

    # --- writing ----------------------------------------------------------------------------

    def commit(self, lab_id: str, appends: Sequence[Append]) -> None:
        """Lock the named streams in one order, check them, then write in a few statements."""
        refuse_malformed(lab_id, appends)
        check: FoldCheck | None = None
        try:
            with self._transaction(read=False) as cur:
                cur.execute(_LAB_ROW.format(mode=_lab_mode(lab_id, appends)), (lab_id, lab_id))
                lab_row = cur.fetchone()
                if lab_row is None and not _creates_lab(appends):
                    raise StoreError(f"There is no lab {lab_id!r} in {self.path}.")
                subjects = sorted(a.subject for a in appends if not a.lab)
                rows = cur.execute(_INNOVATION_ROWS, (lab_id, subjects)).fetchall()
                stored = _stored(lab_row, rows, lab_id)
                check_streams(lab_id, appends, stored)
                if not any(a.events for a in appends):
                    return
                check = self._folds.begin(lab_id, appends)
                lab_end, ends, missing = _ends(check, appends, lab_row, stored)
                if missing:
                    found = cur.execute(_ENDS, (lab_id, missing)).fetchall()
                    ends.update((r[0], (r[1], r[2])) for r in found)
                query = _fold_query(lab_id, *check.wants(lab_end, ends))
                read = cur.execute(*query).fetchall() if query is not None else []
                check.run(*_fold_rows(read, self.path))
                writes = plan(lab_id, appends, stored, check.rows())
                steps = _Plan(lab_id, writes)
                returned = (
                    cur.execute(_CREATE_STREAMS, steps.create).fetchall() if steps.new else []
                )
                ids = steps.ids(returned)
                if steps.update[0]:
                    cur.execute(_UPDATE_STREAMS, steps.update)
                cur.execute(_INSERT_EVENTS, _columns(list(steps.events(ids)), 8))
                if steps.has_units:
                    cur.execute(_UPSERT_UNITS, steps.units)
                for statement in _index_steps(lab_id, lab_row, writes):
                    cur.execute(*statement)
            if check is not None:  # committed: the next commit may fold on top of it
                check.keep()
        except StoreError as exc:
            cause = exc.__cause__
            if isinstance(cause, psycopg.Error):
                conflict = _deadlock(cause, appends)
                if conflict is not None:
                    raise conflict from cause
            raise

    # --- reading ----------------------------------------------------------------------------

    def lab_ids(self) -> list[str]:
        with self._transaction(read=True) as cur:
            return [r[0] for r in cur.execute(_LAB_IDS).fetchall()]

    def version(self, lab_id: str, subject: str | None = None) -> int:
        with self._transaction(read=True) as cur:
            row = cur.execute(
                _VERSION, (lab_id, subject is None, lab_id if subject is None else subject)
            ).fetchone()
        return int(row[0]) if row is not None else 0

    def _require_lab(self, cur: psycopg.Cursor[Any], lab_id: str) -> None:
        if cur.execute(_HAS_LAB, (lab_id,)).fetchone() is None:
            raise StoreError(f"There is no lab {lab_id!r} in {self.path}.")

    def history(self, lab_id: str, subject: str | None = None) -> list[Event]:
        with self._transaction(read=True) as cur:
            self._require_lab(cur, lab_id)
            rows = cur.execute(
                _HISTORY, (lab_id, subject is None, lab_id if subject is None else subject)
            ).fetchall()
        return [_event(r, self.path) for r in rows]

    def _grouped(self, lab_id: str) -> _Loaded:
        with self._transaction(read=True) as cur:
            self._require_lab(cur, lab_id)
            heads, rows = _heads(cur.execute(_HEADS, (lab_id,)).fetchall())
            own, others = _grouped(cur.execute(_ALL_EVENTS, (lab_id,)), self.path)
            index = [cur.execute(*q).fetchall() for q in _index_queries(lab_id)]
            problems = index_problems(*index).get(lab_id, [])
            return own, others, heads, rows, problems

    def histories(self, lab_id: str) -> Iterator[list[Event]]:
        yield from by_id(self._grouped(lab_id)[1])

    def verify_all(
        self, lab_id: str | None = None, *, workers: int | None = None
    ) -> dict[str, tuple[Verification, ...]]:
        """Verify every history in one snapshot, rows streamed in key order; no ``workers``."""
        with self._transaction(read=True) as cur:
            if lab_id is not None:
                self._require_lab(cur, lab_id)
                meta_rows = cur.execute(_META + " WHERE lab = %s", (lab_id,)).fetchall()
            else:
                meta_rows = cur.execute(_META).fetchall()
            meta = {r[0]: (r[3], r[4], r[5]) for r in meta_rows}
            rows = _projections(meta_rows)
            names = {r[0]: (r[1], bool(r[2]), r[3]) for r in meta_rows}
            join = (
                "JOIN labflow_streams s ON s.id = e.stream WHERE s.lab = %s "
                if lab_id is not None
                else ""
            )
            checked = check_rows(
                cur.stream(_RANGE_ROWS.format(join=join), (lab_id,) if lab_id else ()),
                meta,
                rows,
            )
            index = [cur.execute(*q).fetchall() for q in _index_queries(lab_id)]
        return _verification_results(checked, names, index_problems(*index))

    def innovations(
        self,
        lab_id: str,
        *,
        stage: str | None = None,
        unit: str | None = None,
        unit_kind: str | None = None,
        status: str | None = None,
    ) -> list[InnovationRow]:
        sql, args = _innovation_query(lab_id, stage, unit, unit_kind, status)
        with self._transaction(read=True) as cur:
            self._require_lab(cur, lab_id)
            return _rows_to_innovations(cur.execute(sql, args).fetchall())

    def _funnel_counts(
        self, lab_ids: Sequence[str] | None
    ) -> dict[str, tuple[tuple[str, ...], list[tuple[str, str | None, str, int]]]]:
        """Per lab: its policy's stage ids and its innovations counted by (stage, unit kind,
        status), read in one snapshot from the rows `verify_all` checks -- for
        `labflow.reports.registry_funnel`, which needs no history but each lab's first event."""
        with self._transaction(read=True) as cur:
            if lab_ids is not None:
                for lab_id in lab_ids:
                    self._require_lab(cur, lab_id)
            labs, counts = (cur.execute(*q).fetchall() for q in _funnel_queries(lab_ids))
        return _funnel_found(labs, counts)

    def load(
        self, lab_id: str, *, registry: Registry | None = None, clock: Clock = system_clock
    ) -> Lab:
        return _replayed(lab_id, self.path, self._grouped(lab_id), registry, clock)

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
        self._pool.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- The store for asyncio ---------------------------------------------------------------------


class AsyncPostgresStore:
    """A `labflow.store.AsyncStore` on a PostgreSQL server, for asyncio hosts.

    Open it with ``store = await AsyncPostgresStore.connect(url)`` (or ``async
    with``); every method is a coroutine, and ``store.session(lab_id)`` is an
    ``async with`` unit of work (`labflow.store.AsyncSession`). It writes and
    reads exactly the tables `PostgresStore` does, so both may serve one database.
    """

    def __init__(self, url: str, *, pool_size: int = 4, timeout: float = 10.0) -> None:
        _need_url(url, pool_size, timeout)
        self.url = url
        self.path = _redacted(url)
        self._folds = Folds()
        self._timeout = timeout
        self._pool = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=max(1, pool_size),
            kwargs={"autocommit": True},
            open=False,
            timeout=timeout,
        )

    @classmethod
    async def connect(
        cls, url: str, *, create: bool = False, pool_size: int = 4, timeout: float = 10.0
    ) -> AsyncPostgresStore:
        """Open the pool and check (or, with ``create=True``, create) the schema."""
        store = cls(url, pool_size=pool_size, timeout=timeout)
        try:
            probe = await psycopg.AsyncConnection.connect(url, connect_timeout=_seconds(timeout))
            await probe.close()
        except psycopg.Error as exc:
            raise _unreachable(exc, store.path) from exc
        try:
            await store._pool.open(wait=True, timeout=timeout)
        except PoolTimeout as exc:
            await store._pool.close()
            raise StoreError(
                f"The PostgreSQL server at {store.path} could not be reached within {timeout} s."
            ) from exc
        try:
            await store._open(create=create)
        except BaseException:
            await store._pool.close()
            raise
        return store

    async def _open(self, *, create: bool) -> None:
        async with self._transaction(read=True) as cur:
            found = None
            await cur.execute(_SCHEMA_TABLE)
            if (await cur.fetchone())[0]:  # type: ignore[index]
                await cur.execute("SELECT max(version) FROM labflow_schema")
                row = await cur.fetchone()
                found = row[0] if row is not None and row[0] is not None else 0
        problem = _schema_problem(found, create, self.path)
        if problem is not None:
            raise problem
        if found is None or found < SCHEMA_VERSION:
            async with self._transaction(read=False) as cur:
                await cur.execute("SELECT pg_advisory_xact_lock(%s)", (_UPGRADE_LOCK,))
                current = 0
                await cur.execute(_SCHEMA_TABLE)
                if (await cur.fetchone())[0]:  # type: ignore[index]
                    await cur.execute("SELECT max(version) FROM labflow_schema")
                    row = await cur.fetchone()
                    current = row[0] if row is not None and row[0] is not None else 0
                if current < SCHEMA_VERSION:
                    for statement in _upgrade_statements(current):
                        await cur.execute(statement)
                    if current <= 1:
                        await cur.execute("SELECT subject FROM labflow_streams WHERE is_lab")
                        labs = await cur.fetchall()
                        await cur.execute(_UPGRADE_OPENINGS)
                        openings = await cur.fetchall()
                        for step in _index_all_steps(labs, openings):
                            await cur.execute(*step)
                    await cur.execute("DELETE FROM labflow_schema")
                    await cur.execute(
                        "INSERT INTO labflow_schema (version) VALUES (%s)", (SCHEMA_VERSION,)
                    )

    @asynccontextmanager
    async def _transaction(self, *, read: bool) -> AsyncIterator[psycopg.AsyncCursor[Any]]:
        try:
            async with (
                self._pool.connection() as conn,
                conn.transaction(),
                conn.cursor() as cur,
            ):
                if read:
                    await cur.execute(_READ)
                yield cur
        except psycopg.Error as exc:
            raise _translate(exc, self.path) from exc
        except PoolTimeout as exc:
            raise StoreError(f"No connection to {self.path} became free in time.") from exc

    async def commit(self, lab_id: str, appends: Sequence[Append]) -> None:
        """As `PostgresStore.commit`: lock, check, then write in a few statements."""
        refuse_malformed(lab_id, appends)
        check: FoldCheck | None = None
        try:
            async with self._transaction(read=False) as cur:
                await cur.execute(
                    _LAB_ROW.format(mode=_lab_mode(lab_id, appends)), (lab_id, lab_id)
                )
                lab_row = await cur.fetchone()
                if lab_row is None and not _creates_lab(appends):
                    raise StoreError(f"There is no lab {lab_id!r} in {self.path}.")
                subjects = sorted(a.subject for a in appends if not a.lab)
                await cur.execute(_INNOVATION_ROWS, (lab_id, subjects))
                rows = await cur.fetchall()
                stored = _stored(lab_row, rows, lab_id)
                check_streams(lab_id, appends, stored)
                if not any(a.events for a in appends):
                    return
                check = self._folds.begin(lab_id, appends)
                lab_end, ends, missing = _ends(check, appends, lab_row, stored)
                if missing:
                    await cur.execute(_ENDS, (lab_id, missing))
                    ends.update((r[0], (r[1], r[2])) for r in await cur.fetchall())
                query = _fold_query(lab_id, *check.wants(lab_end, ends))
                read: list[Any] = []
                if query is not None:
                    await cur.execute(*query)
                    read = await cur.fetchall()
                check.run(*_fold_rows(read, self.path))
                writes = plan(lab_id, appends, stored, check.rows())
                steps = _Plan(lab_id, writes)
                returned: list[Any] = []
                if steps.new:
                    await cur.execute(_CREATE_STREAMS, steps.create)
                    returned = await cur.fetchall()
                ids = steps.ids(returned)
                if steps.update[0]:
                    await cur.execute(_UPDATE_STREAMS, steps.update)
                await cur.execute(_INSERT_EVENTS, _columns(list(steps.events(ids)), 8))
                if steps.has_units:
                    await cur.execute(_UPSERT_UNITS, steps.units)
                for statement in _index_steps(lab_id, lab_row, writes):
                    await cur.execute(*statement)
            if check is not None:  # committed: the next commit may fold on top of it
                check.keep()
        except StoreError as exc:
            cause = exc.__cause__
            if isinstance(cause, psycopg.Error):
                conflict = _deadlock(cause, appends)
                if conflict is not None:
                    raise conflict from cause
            raise

    async def lab_ids(self) -> list[str]:
        async with self._transaction(read=True) as cur:
            await cur.execute(_LAB_IDS)
            return [r[0] for r in await cur.fetchall()]

    async def version(self, lab_id: str, subject: str | None = None) -> int:
        async with self._transaction(read=True) as cur:
            await cur.execute(
                _VERSION, (lab_id, subject is None, lab_id if subject is None else subject)
            )
            row = await cur.fetchone()
        return int(row[0]) if row is not None else 0

    async def _require_lab(self, cur: psycopg.AsyncCursor[Any], lab_id: str) -> None:
        await cur.execute(_HAS_LAB, (lab_id,))
        if await cur.fetchone() is None:
            raise StoreError(f"There is no lab {lab_id!r} in {self.path}.")

    async def history(self, lab_id: str, subject: str | None = None) -> list[Event]:
        async with self._transaction(read=True) as cur:
            await self._require_lab(cur, lab_id)
            await cur.execute(
                _HISTORY, (lab_id, subject is None, lab_id if subject is None else subject)
            )
            rows = await cur.fetchall()
        return [_event(r, self.path) for r in rows]

    async def _grouped(self, lab_id: str) -> _Loaded:
        async with self._transaction(read=True) as cur:
            await self._require_lab(cur, lab_id)
            await cur.execute(_HEADS, (lab_id,))
            heads, rows = _heads(await cur.fetchall())
            await cur.execute(_ALL_EVENTS, (lab_id,))
            own, others = _grouped(await cur.fetchall(), self.path)
            index = []
            for query in _index_queries(lab_id):
                await cur.execute(*query)
                index.append(await cur.fetchall())
            problems = index_problems(*index).get(lab_id, [])
            return own, others, heads, rows, problems

    async def histories(self, lab_id: str) -> list[list[Event]]:
        """Every innovation history of a lab, by innovation id."""
        return by_id((await self._grouped(lab_id))[1])

    async def verify_all(
        self, lab_id: str | None = None, *, workers: int | None = None
    ) -> dict[str, tuple[Verification, ...]]:
        async with self._transaction(read=True) as cur:
            if lab_id is not None:
                await self._require_lab(cur, lab_id)
                await cur.execute(_META + " WHERE lab = %s", (lab_id,))
            else:
                await cur.execute(_META)
            meta_rows = await cur.fetchall()
            meta = {r[0]: (r[3], r[4], r[5]) for r in meta_rows}
            rows = _projections(meta_rows)
            names = {r[0]: (r[1], bool(r[2]), r[3]) for r in meta_rows}
            join = (
                "JOIN labflow_streams s ON s.id = e.stream WHERE s.lab = %s "
                if lab_id is not None
                else ""
            )
            await cur.execute(
                _RANGE_ROWS.format(join=join),
                (lab_id,) if lab_id else (),
            )
            checked = check_rows(iter(await cur.fetchall()), meta, rows)
            index = []
            for query in _index_queries(lab_id):
                await cur.execute(*query)
                index.append(await cur.fetchall())
        return _verification_results(checked, names, index_problems(*index))

    async def innovations(
        self,
        lab_id: str,
        *,
        stage: str | None = None,
        unit: str | None = None,
        unit_kind: str | None = None,
        status: str | None = None,
    ) -> list[InnovationRow]:
        sql, args = _innovation_query(lab_id, stage, unit, unit_kind, status)
        async with self._transaction(read=True) as cur:
            await self._require_lab(cur, lab_id)
            await cur.execute(sql, args)
            return _rows_to_innovations(await cur.fetchall())

    async def load(
        self, lab_id: str, *, registry: Registry | None = None, clock: Clock = system_clock
    ) -> Lab:
        return _replayed(lab_id, self.path, await self._grouped(lab_id), registry, clock)

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
        await self._pool.close()

    async def __aenter__(self) -> AsyncPostgresStore:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
