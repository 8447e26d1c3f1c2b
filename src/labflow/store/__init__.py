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
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

import attrs

from labflow.errors import (
    ConflictError,
    InvalidCommand,
    StoreCorrupt,
    StoreError,
    StoreLocked,
    StoreMissing,
    StoreTooNew,
)
from labflow.events import Event, Verification
from labflow.lab import Clock, Lab, system_clock
from labflow.model import Innovation
from labflow.requirements import Registry

if TYPE_CHECKING:
    from labflow.store._async_sqlite import AsyncSQLiteStore

__all__ = [
    "Append",
    "AsyncSQLiteStore",
    "AsyncSession",
    "AsyncStore",
    "InnovationRow",
    "Session",
    "Store",
    "StoreCorrupt",
    "StoreLocked",
    "StoreMissing",
    "StoreTooNew",
    "changes",
]


def __getattr__(name: str) -> Any:
    # Imported on first use: the asyncio SQLite store builds on this module (and on sqlite3).
    if name == "AsyncSQLiteStore":
        from labflow.store._async_sqlite import AsyncSQLiteStore

        return AsyncSQLiteStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _events(value: Iterable[Event]) -> tuple[Event, ...]:
    if type(value) is tuple:  # a history's slice, as a session gives: no ABC check needed
        return value
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
        expect: Mapping[str | None, int] | None = None,
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


class _Watched(dict[str, Innovation]):
    """A session's ``lab.innovations``: the same dictionary, noting what commands reached.

    Commands reach an innovation by its id (``lab.innovations[id]``, ``.get(id)``) or
    add one (``[id] = ...``); whatever walks the whole cohort (a ceremony, the lab's
    cohort conditions) marks it all. A commit then looks only at the innovations
    reached, so its cost follows what changed, not the size of the lab.
    """

    def __init__(self, items: Mapping[str, Innovation]) -> None:
        super().__init__(items)
        self.reached: set[str] = set()
        self.whole = False

    def forget(self) -> None:
        self.reached.clear()
        self.whole = False

    def __getitem__(self, key: str) -> Innovation:
        self.reached.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.reached.add(key)
        return super().get(key, default)

    def __setitem__(self, key: str, value: Innovation) -> None:
        self.reached.add(key)
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.reached.add(key)
        super().__delitem__(key)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self.reached.add(key)
        return super().setdefault(key, default)

    def pop(self, key: str, *default: Any) -> Any:
        self.reached.add(key)
        return super().pop(key, *default)

    def __iter__(self) -> Iterator[str]:
        self.whole = True
        return super().__iter__()

    def keys(self) -> Any:
        self.whole = True
        return super().keys()

    def values(self) -> Any:
        self.whole = True
        return super().values()

    def items(self) -> Any:
        self.whole = True
        return super().items()

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.whole = True
        super().update(*args, **kwargs)

    def popitem(self) -> tuple[str, Innovation]:
        self.whole = True
        return super().popitem()

    def copy(self) -> dict[str, Innovation]:
        self.whole = True
        return dict(super().items())


def _watch(lab: Lab) -> _Watched | None:
    """Put a `_Watched` in place of ``lab.innovations``; ``None`` if the lab will not take it."""
    watched = _Watched(lab.innovations)
    lab._set_maps(lab._units, lab._actors, watched)  # the lab's own map, read-only outside
    return watched


def _changed(
    lab: Lab, before: Mapping[tuple[bool, str], int], watched: _Watched | None
) -> list[Append]:
    """`changes`, looking only at the innovations the commands reached when that is known."""
    if watched is None or lab._innovations is not watched or watched.whole:
        return changes(lab, before)
    found: list[Append] = []
    start = before.get((True, lab.id), 0)
    if len(lab.history) > start:
        found.append(Append(lab.id, start, lab.history[start:], lab=True))
    reached = [i for i in sorted(watched.reached) if dict.__contains__(watched, i)]
    new = {i for i in reached if (False, i) not in before}
    if len(new) > 1:
        # New streams in the order the lab registered them, as the store's index will list
        # them: the last entries of the dictionary, so this walks only as far as they go.
        order: list[str] = []
        for ident in reversed(dict.keys(watched)):
            if ident in new:
                order.append(ident)
                if len(order) == len(new):
                    break
        reached = [i for i in reached if i not in new] + order[::-1]
    for ident in reached:
        inn = dict.__getitem__(watched, ident)
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


#: At most this many streams in a session's ``expect``: a page shows a few, never thousands.
EXPECT_LIMIT = 10_000


def _expected(lab_id: str, expect: object) -> dict[tuple[bool, str], int]:
    """A session's ``expect`` as stream keys, or `InvalidCommand` saying what is wrong.

    Keys are innovation ids, and ``None`` for the lab's own history (as in
    `Store.version`); values are versions, whole numbers from 0.
    """
    if expect is None:
        return {}
    if not isinstance(expect, Mapping):
        raise InvalidCommand(
            f"A session's expect maps innovation ids (None for the lab) to the versions "
            f"a page was rendered from, not {type(expect).__name__}."
        )
    if len(expect) > EXPECT_LIMIT:
        raise InvalidCommand(f"A session expects at most {EXPECT_LIMIT} versions.")
    found: dict[tuple[bool, str], int] = {}
    for subject, version in expect.items():
        if subject is not None and not isinstance(subject, str):
            raise InvalidCommand(
                f"A session's expect is keyed by innovation ids (or None for the lab), "
                f"not {type(subject).__name__}."
            )
        if type(version) is not int or version < 0:
            raise InvalidCommand(
                f"The version expected of {subject if subject is not None else lab_id!r:.80} "
                f"must be a whole number from 0, not {version!r:.40}."
            )
        found[(True, lab_id) if subject is None else (False, subject)] = version
    return found


def _check_expected(
    before: Mapping[tuple[bool, str], int], expected: Mapping[tuple[bool, str], int]
) -> None:
    """`ConflictError` for the first stream loaded at another version than the page saw."""
    for key in sorted(expected):
        found = before.get(key, 0)
        if found != expected[key]:
            raise ConflictError(key[1], expected[key], found)


def _pending(
    lab: Lab,
    before: Mapping[tuple[bool, str], int],
    strict: bool,
    watched: _Watched | None = None,
    expected: Mapping[tuple[bool, str], int] | None = None,
) -> list[Append]:
    """What a session on ``lab``, loaded at the versions ``before``, would commit now."""
    appends = _changed(lab, before, watched)
    if not any(a.lab for a in appends):
        # The roster (actors and roles), units and the lab's stage are in the lab's own
        # history, and every command was authorised against them: always in the read set.
        appends.append(Append(lab.id, before.get((True, lab.id), 0), (), lab=True))
    if strict or _advances(appends):
        # Pure version checks for every stream read but not written.
        written = {(a.lab, a.subject) for a in appends}
        appends += [
            Append(subject, version, (), lab=is_lab)
            for (is_lab, subject), version in before.items()
            if (is_lab, subject) not in written
        ]
    if expected:
        # The streams the page was rendered from: still at those versions when this commits.
        written = {(a.lab, a.subject) for a in appends}
        appends += [
            Append(subject, before.get((is_lab, subject), 0), (), lab=is_lab)
            for (is_lab, subject) in sorted(expected)
            if (is_lab, subject) not in written
        ]
    return appends


def _advance(
    before: dict[tuple[bool, str], int], appends: Sequence[Append], watched: _Watched | None
) -> None:
    """After a commit of ``appends``: the versions the session now stands on."""
    for append in appends:
        before[(append.lab, append.subject)] = append.expected + len(append.events)
    if watched is not None:
        watched.forget()


class Session:
    """A unit of work: load a lab, run commands on it, commit what they appended.

    On leaving the ``with`` block normally, every event appended since loading
    is committed in one atomic `Store.commit`, each stream expected at the
    version it was loaded at; if another writer moved one on, `ConflictError`
    is raised and nothing is written. If the block raises, nothing is written.

    By default only the streams the session wrote are checked, and the lab's
    own history -- its roster of actors and roles, its units and stage, which
    authorised every command -- so two secretaries registering different
    innovations do not conflict, but a command by an actor whose roles were
    changed after the session loaded does (`ConflictError`). A decision
    that read the cohort needs more: with ``strict=True`` every stream the
    session loaded -- the lab's own and each innovation's -- must still be at the
    version it was loaded at, checked in the same atomic commit as the writes
    (an empty `Append` per stream read). A commit that advances the lab
    (``lab.advanced``: `Lab.advance_lab` read every innovation for the cohort
    conditions) is strict whatever ``strict`` says. Strict does not see an
    innovation registered after the session loaded (no stream of it was read),
    and it protects the decision, not the future: once committed, the cohort may
    change again.

    ``expect`` holds the versions a page (or any earlier read) was rendered from:
    innovation ids, and ``None`` for the lab's own history, each mapped to the
    version the user saw (`labflow.views.InnovationView.version`). A session whose
    lab loads with any of them at another version raises `ConflictError` on
    entering, before a command runs; and each is checked again in the same atomic
    commit as the writes, so a stale tab or a double-submitted form is a conflict,
    never a second move::

        with store.session("kebumen", expect={"muttu-1000": 4}) as lab:
            lab.advance("muttu-1000", by="sekretariat")

    An id the lab does not hold is at version 0. A malformed ``expect`` is
    `InvalidCommand`, raised when the session is made.
    """

    def __init__(
        self,
        store: Store,
        lab_id: str,
        *,
        registry: Registry | None = None,
        clock: Clock = system_clock,
        strict: bool = False,
        expect: Mapping[str | None, int] | None = None,
    ) -> None:
        self.store = store
        self.lab_id = lab_id
        self._registry = registry
        self._clock = clock
        self._strict = strict
        self._expected = _expected(lab_id, expect)
        self._lab: Lab | None = None
        self._before: dict[tuple[bool, str], int] = {}
        self._watched: _Watched | None = None
        self._committed: list[Event] = []

    @property
    def committed(self) -> tuple[Event, ...]:
        """The events this session committed, in commit order."""
        return tuple(self._committed)

    @property
    def lab(self) -> Lab:
        if self._lab is None:
            raise StoreError("The session has not been entered; use it in a with block.")
        return self._lab

    def __enter__(self) -> Lab:
        lab = self.store.load(self.lab_id, registry=self._registry, clock=self._clock)
        before = _versions(lab)
        _check_expected(before, self._expected)  # a stale page: no lab to run a command on
        lab._hooks.hold()  # subscriptions hear of moves once they are committed
        self._lab, self._before = lab, before
        self._watched = _watch(lab)
        return lab

    def pending(self) -> list[Append]:
        """What would be committed now."""
        return _pending(self.lab, self._before, self._strict, self._watched, self._expected)

    def commit(self) -> tuple[Event, ...]:
        """Commit what was appended so far; the session can go on afterwards."""
        appends = self.pending()
        if any(a.events for a in appends):
            self.store.commit(self.lab_id, appends)
        _advance(self._before, appends, self._watched)
        done = tuple(e for a in appends for e in a.events)
        self._committed += done  # a list: a session committing one command at a time is O(N)
        self.lab._hooks.flush()
        return done

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        elif self._lab is not None:
            self._lab._hooks.drop()


@runtime_checkable
class AsyncStore(Protocol):
    """`Store` for asyncio hosts: the same methods and promises, each a coroutine.

    ``session`` is not a coroutine: it returns an `AsyncSession` to use with
    ``async with``. `AsyncSQLiteStore` (an SQLite file, run in a worker thread)
    and `labflow.store.postgres.AsyncPostgresStore` are two.
    """

    async def lab_ids(self) -> list[str]:
        """As `Store.lab_ids`."""
        ...

    async def commit(self, lab_id: str, appends: Sequence[Append]) -> None:
        """As `Store.commit`."""
        ...

    async def version(self, lab_id: str, subject: str | None = None) -> int:
        """As `Store.version`."""
        ...

    async def history(self, lab_id: str, subject: str | None = None) -> list[Event]:
        """As `Store.history`."""
        ...

    async def histories(self, lab_id: str) -> list[list[Event]]:
        """Every innovation history of a lab, by innovation id (a list, not an iterator)."""
        ...

    async def verify_all(
        self, lab_id: str | None = None, *, workers: int | None = None
    ) -> dict[str, tuple[Verification, ...]]:
        """As `Store.verify_all`."""
        ...

    async def innovations(
        self,
        lab_id: str,
        *,
        stage: str | None = None,
        unit: str | None = None,
        unit_kind: str | None = None,
        status: str | None = None,
    ) -> list[InnovationRow]:
        """As `Store.innovations`."""
        ...

    async def load(
        self, lab_id: str, *, registry: Registry | None = None, clock: Clock = system_clock
    ) -> Lab:
        """As `Store.load`."""
        ...

    def session(
        self,
        lab_id: str,
        *,
        registry: Registry | None = None,
        clock: Clock = system_clock,
        strict: bool = False,
        expect: Mapping[str | None, int] | None = None,
    ) -> AsyncSession:
        """A unit of work on one lab, for ``async with`` (see `AsyncSession`)."""
        ...

    async def close(self) -> None:
        """As `Store.close`."""
        ...


class AsyncSession:
    """`Session` for an `AsyncStore`: ``async with store.session(lab_id) as lab: ...``.

    Loading and committing await the store; the commands in between are the
    lab's ordinary (synchronous, in-memory) methods. The same checks are
    committed as a `Session` would: the streams written, every stream read when
    strict or when the lab advances, the lab's own history always, and the
    versions given in ``expect`` (checked on entering too, as `Session` does).
    """

    def __init__(
        self,
        store: AsyncStore,
        lab_id: str,
        *,
        registry: Registry | None = None,
        clock: Clock = system_clock,
        strict: bool = False,
        expect: Mapping[str | None, int] | None = None,
    ) -> None:
        self.store = store
        self.lab_id = lab_id
        self._registry = registry
        self._clock = clock
        self._strict = strict
        self._expected = _expected(lab_id, expect)
        self._lab: Lab | None = None
        self._before: dict[tuple[bool, str], int] = {}
        self._watched: _Watched | None = None
        self._committed: list[Event] = []

    @property
    def committed(self) -> tuple[Event, ...]:
        """The events this session committed, in commit order."""
        return tuple(self._committed)

    @property
    def lab(self) -> Lab:
        if self._lab is None:
            raise StoreError("The session has not been entered; use it in an async with block.")
        return self._lab

    async def __aenter__(self) -> Lab:
        lab = await self.store.load(self.lab_id, registry=self._registry, clock=self._clock)
        before = _versions(lab)
        _check_expected(before, self._expected)  # a stale page: no lab to run a command on
        lab._hooks.hold()  # subscriptions hear of moves once they are committed
        self._lab, self._before = lab, before
        self._watched = _watch(lab)
        return lab

    def pending(self) -> list[Append]:
        """What would be committed now."""
        return _pending(self.lab, self._before, self._strict, self._watched, self._expected)

    async def commit(self) -> tuple[Event, ...]:
        """Commit what was appended so far; the session can go on afterwards."""
        appends = self.pending()
        if any(a.events for a in appends):
            await self.store.commit(self.lab_id, appends)
        _advance(self._before, appends, self._watched)
        done = tuple(e for a in appends for e in a.events)
        self._committed += done  # a list: a session committing one command at a time is O(N)
        self.lab._hooks.flush()
        return done

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            await self.commit()
        elif self._lab is not None:
            self._lab._hooks.drop()
