"""What every store checks before it keeps a commit, and the rows it keeps beside the events.

Private: `MemoryStore` and `SQLiteStore` share these so that they refuse the same
commits with the same sentences. Every check runs before a store writes anything,
and every refusal is a `labflow.StoreError`: a commit is kept whole or not at all,
and a bad one never reaches the caller as a raw ``TypeError``.

The list rows (unit, stage, status, launched) are not a second model of an
innovation: they are read off the innovation that ``labflow._fold`` builds, the
same fold replay uses, so a new event kind cannot make the rows drift from a
replayed lab.
"""

from __future__ import annotations

import hashlib
import json
import json.encoder
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import attrs

from labflow._fold import apply_innovation, unit_from
from labflow._registrations import Entry as Entry  # the index's chain, shared with documents
from labflow._registrations import IndexProblem as IndexProblem
from labflow._registrations import check_chain as check_chain
from labflow._registrations import check_index, index_entries
from labflow._registrations import check_listed as check_listed
from labflow._registrations import entry_hash as entry_hash
from labflow._registrations import raise_for_index as raise_for_index
from labflow._replay import LAB_KINDS, Fold, start_fold
from labflow._view import foreign_kind, unreadable
from labflow.errors import ConflictError, HistoryError, StoreError
from labflow.events import GENESIS, Event, Verification, expected_hash, verify
from labflow.lab import Lab
from labflow.model import (
    ActionPlan,
    Initiator,
    Innovation,
    Launch,
    PerformanceAgreement,
    Status,
)
from labflow.store import Append

#: What a fold function may raise on a payload it cannot read.
_UNREADABLE = (KeyError, TypeError, ValueError, AttributeError, AssertionError, IndexError)
#: What the canonical encoding raises on content that is not JSON values.
_UNENCODABLE = (TypeError, ValueError, AttributeError, RecursionError)


class Row(NamedTuple):
    """What a store keeps of an innovation for lists and reports: its stream's projection.

    A named tuple, not an attrs record: a commit builds and compares a few of them, and a
    tuple is made and compared in C.
    """

    unit: str
    stage: str
    status: str
    launched: bool


def head_of(events: Sequence[Event]) -> str:
    """The hash a new event must link to."""
    return events[-1].hash if events else GENESIS


def refuse_malformed(lab_id: str, appends: Sequence[Append]) -> None:
    """Refuse what no version can make right, before any version is read.

    A commit that names one stream twice (its versions could not both hold), an
    `Append` that is not one, an event that is not an `Event`, and a lab
    history under another name than the lab's: a store holds one history per lab.
    """
    seen: set[tuple[bool, str]] = set()
    for append in appends:
        if not isinstance(append, Append):
            raise StoreError(f"A commit takes Append records, not {type(append).__name__}.")
        if append.lab and append.subject != lab_id:
            raise StoreError(
                f"An Append with lab=True is the history of lab {lab_id!r} itself, "
                f"so its subject must be {lab_id!r}, not {append.subject!r}."
            )
        for event in append.events:
            if not isinstance(event, Event):
                raise StoreError(
                    f"The Append for {append.subject!r} holds a {type(event).__name__}, "
                    f"not an Event."
                )
        key = (append.lab, append.subject)
        if key in seen:
            raise StoreError(
                f"A commit names the history of {append.subject!r} twice; "
                f"give its events in one Append."
            )
        seen.add(key)


#: The JSON text a payload is stored as: what the canonical encoding reads back the same.
_encoder = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
# The C encoder `_encoder.encode` would build on every call, built once (as `labflow.events`
# builds its own): the same text, without the per-call set-up.
_c_make = getattr(json.encoder, "c_make_encoder", None)
_chunks = (
    _c_make(
        None, _encoder.default, json.encoder.encode_basestring, None, ":", ",", True, False, False
    )
    if _c_make is not None
    else None
)


def encode_payload(payload: Any) -> str:
    """The JSON text a payload is stored as: what the canonical encoding reads back the same."""
    if _chunks is None:  # pragma: no cover - interpreters without the C accelerator
        return _encoder.encode(payload)
    return "".join(_chunks(payload, 0))


_quote = json.encoder.encode_basestring

#: What a stored row keeps as text of each event: its time and its payload, as hashed.
Texts = list[tuple[str, str]]


def _texts(event: Event) -> tuple[str, str] | None:
    """``(time, payload)`` as a row stores them, if they give the event's hash.

    The hash is computed over the canonical bytes written out field by field -- the time
    and payload text among them, so what is stored is what was hashed, and each event is
    encoded once for the check and the write. ``None`` when the event's fields are not
    the plain types every labflow event has, or the hash does not match: the caller then
    asks `labflow.events.expected_hash` for the careful answer.
    """
    at, seq = event.at, event.seq
    if type(seq) is not int or type(at) is not datetime:
        return None
    subject, actor, kind, prev = event.subject, event.actor, event.kind, event.prev
    if not (type(subject) is type(actor) is type(kind) is type(prev) is str):
        return None
    when, body = at.isoformat(), encode_payload(event.payload)
    text = (
        f'[{_quote(subject)},{seq},"{when}",{_quote(actor)},{_quote(kind)},{body},{_quote(prev)}]'
    )
    if hashlib.sha256(text.encode()).hexdigest() != event.hash:
        return None
    return when, body


def check_append(lab_id: str, append: Append, head: str) -> Texts:
    """Refuse an `Append` whose events do not continue the stream (``head`` is its last hash).

    The versions were checked already; this makes sure no store ever keeps an
    event that would not verify: right subject and numbering, linked to the
    head, each hash recomputed (`labflow.events.expected_hash`). Returns each
    event's time and payload as the text a row stores, the very text hashed.
    """
    prev = head
    subject = lab_id if append.lab else append.subject
    texts: Texts = []
    for offset, event in enumerate(append.events, start=1):
        seq = append.expected + offset
        if event.subject != subject:
            raise StoreError(
                f"Refused to store event {event.seq} of {event.subject!r}: "
                f"it belongs to {event.subject!r}, not {subject!r}."
            )
        if event.seq != seq:
            raise StoreError(
                f"Refused to store event {event.seq} of {event.subject!r}: "
                f"it should be event {seq}."
            )
        if not isinstance(event.kind, str) or event.kind.startswith("lab.") != append.lab:
            raise StoreError(
                f"Refused to store event {event.seq} of {event.subject!r}: "
                f"a {event.kind} event in the wrong history."
            )
        if event.prev != prev:
            raise StoreError(
                f"Refused to store event {event.seq} of {event.subject!r}: "
                f"it does not link to the stored history."
            )
        try:
            found = _texts(event)
            if found is None:
                if expected_hash(event) != event.hash:
                    raise StoreError(
                        f"Refused to store event {event.seq} of {event.subject!r}: "
                        f"its content does not match its hash."
                    )
                found = (event.at.isoformat(), encode_payload(event.payload))
        except _UNENCODABLE as exc:
            raise StoreError(
                f"Refused to store event {event.seq} of {event.subject!r}: "
                f"its content is not JSON values ({exc})."
            ) from exc
        texts.append(found)
        prev = event.hash
    opening = append.lab and append.expected == 0 and append.events
    if opening and append.events[0].kind != "lab.created":
        # A rule of histories, not of storage: the same error replay gives.
        raise HistoryError(
            lab_id,
            1,
            "a lab's history must start with its lab.created event",
            "riwayat laboratorium harus diawali peristiwa lab.created",
            code="history.no_creation",
        )
    return texts


# --- Projections: what lists and reports read without replaying ----------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _stand_in(subject: str, row: Row) -> Innovation:
    """An innovation carrying what ``row`` records, for the fold to continue from.

    The fields a row does not keep are placeholders, there only so that every
    fold function has something to fold into (an approval needs a plan, a
    signature an agreement); nothing is read back from them.
    """
    return Innovation(
        id=subject,
        title="",
        unit=row.unit,
        innovators=(),
        problem="",
        initiator=Initiator.COMMUNITY,
        stage=row.stage,
        status=Status(row.status),
        action_plan=ActionPlan((), "", _EPOCH),
        agreement=PerformanceAgreement("", "", "", _EPOCH),
        launch=Launch(_EPOCH, "", "") if row.launched else None,
    )


def project(append: Append, row: Row | None) -> Row:
    """The row of an innovation stream after ``append`` (``row`` is the stored one, if any).

    Each event is applied with `labflow._fold.apply_innovation`, the function
    replay uses, so the row follows the fold; a payload the fold cannot read is
    refused here, before the store writes anything.
    """
    try:
        inn = None if row is None else _stand_in(append.subject, row)
    except ValueError as exc:  # a status no labflow writes: the row was edited
        raise StoreError(f"The stored row of {append.subject!r} cannot be read ({exc}).") from exc
    for event in append.events:
        try:
            inn = apply_innovation(inn, event)
        except _UNREADABLE as exc:  # an event no command could have written
            unreadable(event, exc)
    if inn is None:  # an empty Append of a stream that has no events
        raise StoreError(f"There is no innovation {append.subject!r} to list.")
    return Row(inn.unit, inn.stage, inn.status.value, inn.launch is not None)


def units_of(append: Append) -> list[tuple[str, str]]:
    """The ``(unit id, unit kind)`` pairs a lab `Append` brings in, read as replay reads them.

    A lab event of an unknown kind, or whose units replay could not read, is
    refused; so is a ``lab.created`` whose policy names no stages.
    """
    found: list[tuple[str, str]] = []
    for event in append.events:
        if event.kind not in LAB_KINDS:
            foreign_kind(event, lab=True)
        try:
            if event.kind == "lab.created":
                stage_ids(event)
                units = [unit_from(u) for u in event.payload["units"]]
            elif event.kind == "lab.unit_added":
                units = [unit_from(event.payload["unit"])]
            else:
                continue
        except _UNREADABLE as exc:
            unreadable(event, exc)
        found.extend((u.id, u.kind.value) for u in units)
    return found


def stage_ids(created: Event) -> tuple[str, ...]:
    """The stage ids, in order, of the policy a ``lab.created`` event carries.

    Only the ids: reading them needs no requirement registry, so a lab whose
    policy uses privately registered requirements still reports.
    """
    return stage_ids_of(created.payload)


def stage_ids_of(payload: Mapping[str, Any]) -> tuple[str, ...]:
    """`stage_ids` from a ``lab.created`` payload."""
    stages = payload["policy"]["stages"]
    ids = tuple(s["id"] for s in stages)
    if not ids or not all(isinstance(i, str) for i in ids) or len(set(ids)) != len(ids):
        raise ValueError("its policy's stages are not distinct ids")
    return ids


def opening_stages(lab_id: str, kind: str, payload: str) -> tuple[str, ...]:
    """The stage ids of the policy in a lab's first event as stored (its kind and payload
    text), or `StoreError` saying why not: what a SQL store's funnel reads of a history."""
    if kind != "lab.created":
        raise StoreError(f"The history of lab {lab_id!r} does not start with lab.created.")
    try:
        return stage_ids_of(json.loads(payload))
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"The lab.created event of {lab_id!r} is malformed ({exc}).") from exc


# --- Planning a commit: the checks every store makes under its lock --------------------------


@attrs.frozen
class Stored:
    """What a store holds of one stream when a commit reads it under its lock."""

    id: Any  #: the store's own key for the stream
    version: int
    head: str
    row: Row | None  #: the projection of an innovation stream; ``None`` for a lab's own
    #: a lab's own stream: its registration index's length and head (``None``: it has none)
    index: tuple[int, str] | None = None


class Write(NamedTuple):
    """One checked `Append` with events, and what the store must write beside them."""

    append: Append
    stored: Stored | None  #: ``None``: the stream is new
    row: Row | None  #: the innovation's projection after the append
    units: tuple[tuple[str, str], ...]  #: ``(unit id, kind)`` a lab append brings in


def check_streams(
    lab_id: str, appends: Sequence[Append], stored: Mapping[tuple[bool, str], Stored]
) -> list[Texts]:
    """Check every `Append` against the stored streams, writing nothing.

    ``stored`` maps ``(is_lab, subject)`` to what the store read, under its lock, of the
    streams ``appends`` name (absent: no such stream). The first stream at another version
    than expected raises `ConflictError`; a chain that does not link raises `StoreError`.
    A store then runs the validating fold (`check_fold`) and only then `plan`. Returns,
    per `Append`, the time and payload text of its events as a row stores them.
    """
    texts: list[Texts] = []
    for append in appends:
        found = stored.get((append.lab, append.subject))
        version = found.version if found is not None else 0
        if version != append.expected:
            raise ConflictError(append.subject, append.expected, version)
        texts.append(check_append(lab_id, append, found.head if found is not None else GENESIS))
    return texts


def plan(
    lab_id: str,
    appends: Sequence[Append],
    stored: Mapping[tuple[bool, str], Stored],
    rows: Mapping[str, Row] | None = None,
) -> list[Write]:
    """The writes of appends `check_streams` and the validating fold accepted: each stream's
    new events with the rows they project (``rows``: the fold's, by innovation, when it has
    them). What comes back is written without another check."""
    writes: list[Write] = []
    for append in appends:
        if not append.events:
            continue
        found = stored.get((append.lab, append.subject))
        if append.lab:
            writes.append(Write(append, found, None, tuple(units_of(append))))
        else:
            row = rows.get(append.subject) if rows is not None else None
            if row is None:
                row = project(append, found.row if found is not None else None)
            writes.append(Write(append, found, row, ()))
    return writes


# --- Verified loads ------------------------------------------------------------------------

#: What a store recorded of each stream's end: ``(is_lab, subject) -> (version, head)``.
Heads = Mapping[tuple[bool, str], tuple[int, str]]


def by_id(histories: Iterable[list[Event]]) -> list[list[Event]]:
    """Innovation histories by innovation id (what `Store.histories` promises), from the
    order a load reads them in: the order the innovations were registered, the lab's own."""
    return sorted(histories, key=lambda h: h[0].subject)


def verify_loaded(
    own: Sequence[Event], others: Sequence[Sequence[Event]], heads: Heads | None = None
) -> None:
    """Refuse a lab whose histories do not verify, naming the first event that fails.

    Every chain is checked (numbering, links, hashes); with ``heads``, each must also
    end at the version and head the store recorded, and every recorded stream must
    have come back with its events. Raises `HistoryError`, which nothing reads past:
    a store never hands out a lab it could not verify, so no command builds on one.
    """
    seen: set[tuple[bool, str]] = set()
    for is_lab, history in ((True, own), *((False, h) for h in others)):
        if not history:
            continue
        key = (is_lab, history[0].subject)
        seen.add(key)
        end = heads.get(key) if heads is not None else None
        result = verify(history, head=end[1] if end is not None else None)
        if result.ok and end is not None and end[0] != len(history):
            result = Verification(
                result.subject,
                len(history),
                False,
                len(history),
                "it does not end at the expected head",
            )
        result.raise_for_problem()
    for _, subject in sorted(set(heads or ()) - seen, key=lambda k: (not k[0], k[1])):
        raise HistoryError(subject, None, "its stored events are gone")


def verify_rows(lab: Lab, rows: Mapping[str, Row]) -> None:
    """Refuse a replayed lab whose stored rows (what lists and reports read) differ from it.

    ``rows`` maps an innovation id to the row the store keeps; each must be what the
    replayed innovation gives. Raises `HistoryError` naming the first that differs.
    """
    for ident in sorted(rows):
        inn = lab.innovations.get(ident)
        stored = rows[ident]
        if inn is None:
            raise HistoryError(ident, None, "it has a stored row but no history")
        expected = Row(inn.unit, inn.stage, inn.status.value, inn.launch is not None)
        if stored != expected:
            differs = [
                f"{name} {getattr(stored, name)!r} where its history gives "
                f"{getattr(expected, name)!r}"
                for name in ("unit", "stage", "status", "launched")
                if getattr(stored, name) != getattr(expected, name)
            ]
            raise HistoryError(ident, None, "its stored row says " + ", ".join(differs))


# --- The validating fold: what commands could have produced ---------------------------------


def fold_needs(appends: Sequence[Append]) -> tuple[bool, set[str]]:
    """Which stored innovation streams the validating fold must read for ``appends``.

    ``(True, ...)`` when the commit moves the lab (its cohort conditions are judged on
    every innovation); otherwise the streams written, those a ceremony lists, and the origin
    of a replica.
    """
    subjects: set[str] = set()
    for append in appends:
        if append.lab:
            if any(e.kind == "lab.advanced" for e in append.events):
                return True, subjects
            for event in append.events:
                launched = (
                    event.payload.get("launched") if event.kind == "lab.ceremony_held" else None
                )
                if isinstance(launched, list):
                    subjects.update(s for s in launched if isinstance(s, str))
        elif append.events:
            subjects.add(append.subject)
            first = append.events[0]
            if append.expected == 0 and first.kind == "innovation.replicated":
                replication = first.payload.get("replication")
                origin = (
                    replication.get("origin_innovation") if isinstance(replication, dict) else None
                )
                if isinstance(origin, str):
                    subjects.add(origin)
    return False, subjects


# --- The fold a store carries from commit to commit -----------------------------------------

#: A stream's stored end: ``(version, head hash)``.
End = tuple[int, str]


def _new_events(appends: Sequence[Append]) -> tuple[Sequence[Event], dict[str, Sequence[Event]]]:
    """A commit's new lab events and new events per innovation, checked readable as
    `fold_lab` checks what it verifies (a payload that is not an object is refused)."""
    own: Sequence[Event] = ()
    new: dict[str, Sequence[Event]] = {}
    for append in appends:
        for event in append.events:
            if not isinstance(event.payload, Mapping):
                raise HistoryError(
                    str(event.subject),
                    event.seq,
                    "its kind is not text or its payload is not an object",
                    "jenisnya bukan teks atau muatannya bukan objek",
                    code="history.unreadable",
                )
        if append.lab:
            own = append.events
        elif append.events:
            new[append.subject] = append.events
    return own, new


def _verified(subject: str, events: Sequence[Event], end: End | None) -> Sequence[Event]:
    """Stored events whose chain verifies and ends where the store recorded, else refused."""
    outcome = verify(events, head=end[1] if end is not None else None)
    if outcome.ok and end is not None and end[0] != len(events):
        outcome = Verification(subject, len(events), False, len(events), "it is cut short")
    if not outcome.ok:
        raise HistoryError(
            outcome.subject,
            outcome.seq,
            outcome.reason or "it does not verify",
            code="history.chain",
        )
    return events


class Folds:
    """The validated folds a store keeps between its commits: one per lab, a few labs.

    A commit then folds only its new events on top of what the last commit of this store
    left (`labflow._replay.Fold.resume`), instead of re-reading and re-folding the lab's
    history and every stream it touches. What is kept is trusted only as far as the store
    vouches for it under the commit's lock: the lab's and each stream's stored ``(version,
    head)`` must be exactly the kept fold's, or that part is read and folded again -- so
    another process's writes, or a history rewritten under the store, are never folded
    over. A commit that moves the lab, one that creates it, and any commit after a refusal
    or a failed write fold from the stored histories, as before.
    """

    def __init__(self, labs: int = 8) -> None:
        self._labs: OrderedDict[str, Fold] = OrderedDict()
        self._size = labs
        self._lock = threading.Lock()

    def begin(self, lab_id: str, appends: Sequence[Append]) -> FoldCheck:
        """Start the validating fold of a commit (the store holds its lock from here on)."""
        everything, subjects = fold_needs(appends)
        if any(a.lab and a.expected == 0 and a.events for a in appends):
            everything = True  # a new lab: nothing to carry forward
        with self._lock:
            kept = self._labs.pop(lab_id, None)
        return FoldCheck(self, lab_id, appends, everything, subjects, kept)

    def keep(self, lab_id: str, fold: Fold) -> None:
        with self._lock:
            self._labs[lab_id] = fold
            self._labs.move_to_end(lab_id)
            while len(self._labs) > self._size:
                self._labs.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._labs.clear()


class FoldCheck:
    """One commit's validating fold: what to read (`wants`), the fold (`run`), then `keep`.

    In three steps so that a store reads what is missing in its own way (a cursor, an
    awaited query) while holding its lock::

        check = folds.begin(lab_id, appends)
        lab_end, ends = <the stored (version, head) of the lab and of check.subjects>
        lab, subjects = check.wants(lab_end, ends)
        check.run(<the lab's events if lab>, <the events of subjects; all if None>)
        <write>; check.keep()  # once the write is committed
    """

    def __init__(
        self,
        folds: Folds,
        lab_id: str,
        appends: Sequence[Append],
        everything: bool,
        subjects: set[str],
        kept: Fold | None,
    ) -> None:
        self._folds = folds
        self.lab_id = lab_id
        self.appends = appends
        #: whether every stream of the lab must be read (``wants`` then asks for all)
        self.everything = everything
        #: the innovation streams the fold needs besides the lab's own
        self.subjects = sorted(subjects)
        self._kept = kept
        self._ends: Mapping[str, End] = {}
        self._lab_end: End | None = None
        self._fold: Fold | None = None

    def wants(self, lab_end: End | None, ends: Mapping[str, End]) -> tuple[bool, list[str] | None]:
        """What must be read, given the stored ends: ``(the lab's events?, streams)``.

        ``ends`` maps each of `subjects` that is stored to its stored ``(version, head)``.
        Streams ``None`` means every stream of the lab.
        """
        self._lab_end, self._ends = lab_end, ends
        kept = self._kept
        if self.everything or kept is None or (kept.version, kept.head) != lab_end:
            self._kept = None
            return True, None if self.everything else [s for s in self.subjects if s in ends]
        return False, [s for s in self.subjects if s in ends and kept.end(s) != ends[s]]

    def run(self, own: Sequence[Event], stored: Mapping[str, Sequence[Event]]) -> None:
        """Refuse, with `labflow.HistoryError`, appends commands could not have produced.

        ``own`` and ``stored`` are what `wants` asked for. The kept events were checked
        when they were committed, so only the new ones are judged -- against the lab as
        their events say they saw it.
        """
        new_own, new = _new_events(self.appends)
        kept = self._kept
        if kept is not None:
            for subject, events in stored.items():
                _verified(subject, events, self._ends.get(subject))
            for subject in self.subjects:
                if subject not in self._ends:  # not stored (any more): nothing kept counts
                    kept.streams.pop(subject, None)
            kept.resume(new_own, new, stored)
            self._fold = kept
            return
        check_from: dict[str | None, int] = {None: len(own)}
        histories = []
        for subject in sorted(set(stored) | set(new)):
            before = stored.get(subject, ())
            check_from[subject] = len(before)
            histories.append([*before, *new.get(subject, ())])
        self._fold = start_fold(
            [*own, *new_own], histories, strict_policy=False, check_from=check_from
        )

    def rows(self) -> dict[str, Row]:
        """The rows (projections) of the innovations the commit writes, from the fold."""
        found: dict[str, Row] = {}
        if self._fold is None:
            return found
        for append in self.appends:
            inn = self._fold.innovation(append.subject) if not append.lab else None
            if inn is not None and append.events:
                found[append.subject] = Row(
                    inn.unit, inn.stage, inn.status.value, inn.launch is not None
                )
        return found

    def keep(self) -> None:
        """Keep the fold for the next commit: call once the commit's writes are committed."""
        if self._fold is not None:
            self._folds.keep(self.lab_id, self._fold)
            self._fold = None


# --- The registration index: every innovation a lab ever registered, chained -----------------
# (the chain itself and its checks are in `labflow._registrations`)


def with_index_problems(
    found: Sequence[tuple[bool, str, Verification]], problems: Sequence[IndexProblem]
) -> list[tuple[bool, str, Verification]]:
    """A lab's verifications ``(is innovation, subject, result)`` with its index's problems
    added: the history concerned fails with the index's reason (the lab's own for the index
    itself), and an innovation the index lists but the store lost gets a failed result of
    its own."""
    results = list(found)
    where = {(is_inn, subject): k for k, (is_inn, subject, _) in enumerate(results)}
    for problem in problems:
        key = (not problem.lab, problem.subject)
        at = where.get(key)
        if at is None:
            where[key] = len(results)
            failed = Verification(problem.subject, 0, False, None, problem.reason)
            results.append((*key, failed))
        elif results[at][2].ok:
            length = results[at][2].length
            failed = Verification(problem.subject, length, False, None, problem.reason)
            results[at] = (*key, failed)
    return results


def index_problems(
    entry_rows: Iterable[Sequence[Any]],
    end_rows: Iterable[Sequence[Any]],
    opening_rows: Iterable[Sequence[Any]],
) -> dict[str, list[IndexProblem]]:
    """`check_index` for every lab read: ``entry_rows`` ``(lab, seq, subject, opening, prev,
    hash)`` in order, ``end_rows`` ``(lab, length, head)`` from each lab's own row (length
    ``None``: no index), ``opening_rows`` ``(lab, innovation, first event's hash or None)``."""
    entries: dict[str, list[Entry]] = {}
    for lab, seq, subject, opening, prev, digest in entry_rows:
        entries.setdefault(lab, []).append((seq, subject, opening, prev, digest))
    ends: dict[str, End | None] = {
        lab: (length, head) if length is not None else None for lab, length, head in end_rows
    }
    openings: dict[str, dict[str, str | None]] = {}
    for lab, subject, opening in opening_rows:
        openings.setdefault(lab, {})[subject] = opening
    found: dict[str, list[IndexProblem]] = {}
    for lab, end in ends.items():
        problems = check_index(lab, entries.get(lab, []), end, openings.get(lab, {}))
        if problems:
            found[lab] = problems
    return found


def index_all(
    labs: Iterable[str], opening_rows: Iterable[Sequence[Any]]
) -> tuple[list[tuple[Any, ...]], list[tuple[str, int, str]]]:
    """Index every lab's stored innovations (the upgrade of a store from before the index):
    ``opening_rows`` ``(lab, innovation, first event's hash)`` in the order the streams
    were stored. Returns the entries ``(lab, seq, subject, opening, prev, hash)`` and each
    lab's end ``(lab, length, head)``."""
    found: dict[str, list[tuple[str, str]]] = {lab: [] for lab in labs}
    for lab, subject, opening in opening_rows:
        found.setdefault(lab, []).append((subject, opening))
    rows: list[tuple[Any, ...]] = []
    ends: list[tuple[str, int, str]] = []
    for lab, registered in found.items():
        entries, end = index_entries(lab, (0, GENESIS), registered)
        rows += [(lab, *e) for e in entries]
        ends.append((lab, *end))
    return rows, ends


def new_entries(
    lab_id: str, writes: Sequence[Write], end: End | None
) -> tuple[list[Entry], End | None]:
    """The registration entries of the innovation streams ``writes`` create, after the
    lab's index ``end`` (``None``: a lab without an index gets none), and its new end."""
    registered = [
        (w.append.subject, w.append.events[0].hash)
        for w in writes
        if w.stored is None and not w.append.lab
    ]
    if end is None or not registered:
        return [], end
    return index_entries(lab_id, end, registered)
