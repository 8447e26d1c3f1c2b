"""Where labs are kept: the `Store` protocol, its shared records, and the unit of work.

A store keeps histories, not states: each lab has its own history and one per
innovation, and a lab is loaded by replaying them (`labflow.replay_lab`). Every
history is a *stream* with a version -- the number of events it holds -- and
writers use **optimistic concurrency**: a write names the version it expects
each stream to be at, and a store that finds another version raises
`labflow.ConflictError` and writes nothing. A version counter, not a state
comparison, so a stage that goes A -> B -> A still conflicts.

A write is a `commit` of several `Append` records -- every stream a command
touched -- and is atomic: a launch ceremony (one event per launched innovation
plus the lab's own) is stored whole or not at all.

Hosts usually work through `Session`, which loads a lab, lets the code run
commands on it, and commits exactly the events those commands appended::

    with store.session("kebumen") as lab:
        lab.advance("muttu-1000", by="sekretariat")

The protocol is small and SQL-free so that a PostgreSQL store can follow
`MemoryStore` and `SQLiteStore` on the same contract tests
(``tests/test_store.py``); SQLite-only SQL stays in ``labflow.store.sqlite``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Protocol, cast, runtime_checkable

import attrs

from labflow.errors import InvalidCommand, StoreError
from labflow.events import Event, Verification
from labflow.lab import Clock, Lab, system_clock
from labflow.requirements import Registry

__all__ = [
    "Append",
    "InnovationRow",
    "Session",
    "Store",
    "StoreCorrupt",
    "StoreLocked",
    "StoreMissing",
    "StoreTooNew",
    "changes",
]


class StoreMissing(StoreError):
    """There is no store where one was expected (a database file that does not exist)."""


class StoreCorrupt(StoreError):
    """The store exists but cannot be read as a labflow store (corrupt, or something else)."""


class StoreTooNew(StoreError):
    """The store was written by a newer labflow, with a schema this version does not know."""


class StoreLocked(StoreError):
    """Another process holds the store's write lock for longer than this one would wait."""


def _events(value: Iterable[Event]) -> tuple[Event, ...]:
    given: object = value  # built by hosts too: say what is wrong, never TypeError
    if isinstance(given, str | bytes) or not isinstance(given, Iterable):
        raise StoreError(f"An Append holds a list of events, not {type(given).__name__}.")
    return cast(tuple[Event, ...], tuple(given))  # each one is checked by the commit


@attrs.frozen
class Append:
    """New events for one stream, and the version the writer expects the stream to be at.

    ``lab=True`` means the lab's own history (whose subject is the lab's id);
    otherwise the stream is the innovation ``subject`` of the lab. An `Append`
    with no events only asserts that the stream is still at ``expected``.
    """

    subject: str
    expected: int
    events: tuple[Event, ...] = attrs.field(converter=_events)
    lab: bool = False


@attrs.frozen
class InnovationRow:
    """What a store knows about an innovation without replaying it: for lists and reports."""

    id: str
    unit: str
    unit_kind: str | None
    stage: str
    status: str  #: ``active`` or ``withdrawn``
    launched: bool
    version: int


@runtime_checkable
class Store(Protocol):
    """What labflow needs from storage. Every method raises `StoreError` if storage fails."""

    def lab_ids(self) -> list[str]:
        """The ids of every lab kept, sorted."""
        ...

    def commit(self, lab_id: str, appends: Sequence[Append]) -> None:
        """Append every `Append` atomically, or raise and write nothing.

        Raises `ConflictError` naming the first stream found at another version
        than expected; an `Append` with no events is that check alone, made in
        the same transaction as the writes. Any other refusal -- events that do
        not continue their stream, a payload replay could not read, a lab history
        under another subject than ``lab_id`` -- is a `StoreError`, raised before
        anything is written. The first commit of a lab must include its own
        history from the ``lab.created`` event (``Append(lab_id, 0, ..., lab=True)``).
        """
        ...

    def version(self, lab_id: str, subject: str | None = None) -> int:
        """A stream's version: the lab's own (``subject=None``) or an innovation's; 0 if absent."""
        ...

    def history(self, lab_id: str, subject: str | None = None) -> list[Event]:
        """A stream's events in order: the lab's own (``subject=None``) or an innovation's."""
        ...

    def histories(self, lab_id: str) -> Iterator[list[Event]]:
        """Every innovation history of a lab, one at a time, by innovation id."""
        ...

    def verify_all(
        self, lab_id: str | None = None, *, workers: int | None = None
    ) -> dict[str, tuple[Verification, ...]]:
        """Verify every history of every lab (or of ``lab_id``), without loading labs.

        Returns, per lab id (sorted), one `Verification` per history: the lab's
        own first, then its innovations by id -- for a sound lab, exactly what
        ``load(lab_id).verify()`` gives. A history must also end at the version
        and head the store recorded, so one cut short is found. ``workers`` is a
        hint: a store may verify in several processes. `StoreError` for an
        unknown ``lab_id``.
        """
        ...

    def innovations(
        self,
        lab_id: str,
        *,
        stage: str | None = None,
        unit: str | None = None,
        unit_kind: str | None = None,
        status: str | None = None,
    ) -> list[InnovationRow]:
        """The lab's innovations matching every filter given, by id."""
        ...

    def load(
        self, lab_id: str, *, registry: Registry | None = None, clock: Clock = system_clock
    ) -> Lab:
        """Rebuild the lab from its histories; `StoreError` if there is no such lab."""
        ...

    def session(
        self,
        lab_id: str,
        *,
        registry: Registry | None = None,
        clock: Clock = system_clock,
        strict: bool = False,
    ) -> Session:
        """A unit of work on one lab (see `Session`)."""
        ...

    def close(self) -> None:
        """Release the store's resources; it cannot be used afterwards."""
        ...


def changes(lab: Lab, before: Mapping[tuple[bool, str], int]) -> list[Append]:
    """The `Append` records for what ``lab`` appended since the versions in ``before``.

    ``before`` maps ``(is_lab, subject)`` to the version seen when the lab was
    loaded; innovations not in it are new (version 0). Commands only ever
    append, so the new events are the tail of each history past that version.
    """
    if not isinstance(lab, Lab) or not isinstance(before, Mapping):
        raise InvalidCommand("changes() needs a labflow.Lab and the versions it was loaded at.")
    found: list[Append] = []
    start = before.get((True, lab.id), 0)
    if len(lab.history) > start:
        found.append(Append(lab.id, start, lab.history[start:], lab=True))
    for inn in lab.innovations.values():
        start = before.get((False, inn.id), 0)
        if len(inn.history) > start:
            found.append(Append(inn.id, start, inn.history[start:]))
    return found


def _versions(lab: Lab) -> dict[tuple[bool, str], int]:
    """Every stream's version in ``lab``, keyed as `changes` expects."""
    seen = {(True, lab.id): len(lab.history)}
    seen.update(((False, i.id), len(i.history)) for i in lab.innovations.values())
    return seen


def _advances(appends: Sequence[Append]) -> bool:
    """Whether ``appends`` move the lab to another stage: a decision on the whole cohort."""
    return any(a.lab and any(e.kind == "lab.advanced" for e in a.events) for a in appends)


class Session:
    """A unit of work: load a lab, run commands on it, commit what they appended.

    On leaving the ``with`` block normally, every event appended since loading
    is committed in one atomic `Store.commit`, each stream expected at the
    version it was loaded at; if another writer moved one on, `ConflictError`
    is raised and nothing is written. If the block raises, nothing is written.

    By default only the streams the session wrote are checked, so two
    secretaries registering different innovations do not conflict. A decision
    that read the cohort needs more: with ``strict=True`` every stream the
    session loaded -- the lab's own and each innovation's -- must still be at the
    version it was loaded at, checked in the same atomic commit as the writes
    (an empty `Append` per stream read). A commit that advances the lab
    (``lab.advanced``: `Lab.advance_lab` read every innovation for the cohort
    conditions) is strict whatever ``strict`` says. Strict does not see an
    innovation registered after the session loaded (no stream of it was read),
    and it protects the decision, not the future: once committed, the cohort may
    change again.
    """

    def __init__(
        self,
        store: Store,
        lab_id: str,
        *,
        registry: Registry | None = None,
        clock: Clock = system_clock,
        strict: bool = False,
    ) -> None:
        self.store = store
        self.lab_id = lab_id
        self._registry = registry
        self._clock = clock
        self._strict = strict
        self._lab: Lab | None = None
        self._before: dict[tuple[bool, str], int] = {}
        #: the events committed when the block ended, in commit order
        self.committed: tuple[Event, ...] = ()

    @property
    def lab(self) -> Lab:
        if self._lab is None:
            raise StoreError("The session has not been entered; use it in a with block.")
        return self._lab

    def __enter__(self) -> Lab:
        self._lab = self.store.load(self.lab_id, registry=self._registry, clock=self._clock)
        self._before = _versions(self._lab)
        return self._lab

    def pending(self) -> list[Append]:
        """What would be committed now."""
        appends = changes(self.lab, self._before)
        if self._strict or _advances(appends):
            # Pure version checks for every stream read but not written.
            written = {(a.lab, a.subject) for a in appends}
            appends += [
                Append(subject, version, (), lab=is_lab)
                for (is_lab, subject), version in self._before.items()
                if (is_lab, subject) not in written
            ]
        return appends

    def commit(self) -> tuple[Event, ...]:
        """Commit what was appended so far; the session can go on afterwards."""
        appends = self.pending()
        if any(a.events for a in appends):
            self.store.commit(self.lab_id, appends)
        self._before = _versions(self.lab)
        done = tuple(e for a in appends for e in a.events)
        self.committed += done
        return done

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
