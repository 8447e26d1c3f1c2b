"""Checking stored rows without building events: shared by the SQL stores.

Private. A store that keeps events as rows ``(stream, seq, at, actor, kind,
payload, prev, hash)`` -- ``at`` as ISO 8601 text and ``payload`` as the exact
JSON text the hash covers -- verifies them here, streaming, one stream after
another; the SQLite and PostgreSQL stores write that text with `encode_payload`.
"""

from __future__ import annotations

import hashlib
import json
import json.encoder
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from json.scanner import make_scanner
from typing import Any, cast

from labflow._fold import INNOVATION_KINDS, OPENING_KINDS, apply_innovation
from labflow.events import GENESIS, Event, canonical_bytes
from labflow.model import Status
from labflow.store._common import Row

#: What a verifier sends back per stream: id, events seen, ok, first bad seq, reason.
Checked = tuple[int, int, bool, int | None, str | None]


def check_rows(
    rows: Iterator[tuple[Any, ...]],
    meta: dict[int, tuple[str, int, str]],
    projections: Mapping[int, Row] | None = None,
    firsts: dict[int, str] | None = None,
) -> list[Checked]:
    """Verify streams from their rows ``(stream, seq, at, actor, kind, payload, prev, hash)``.

    Rows come ordered by stream and seq, straight from the primary key; no `Event` is
    built. A stored row keeps ``at`` and ``payload`` as the very text its hash covers, so
    each hash is first recomputed over that text as stored, without parsing it
    (`_raw_bytes`); only a row whose text does not give its hash is decoded and
    re-encoded as `labflow.verify` would (`canonical_bytes`), which tells an edited row
    from one merely stored in another spelling and names why. ``meta`` maps a stream id
    to its subject, stored version and head, which the chain's end must match. Only
    streams in ``meta`` are checked.

    ``projections`` maps an innovation stream to the row the store keeps for lists and
    reports (unit, stage, status, launched); a stream whose chain verifies is then
    folded again into a row (`_RowFold`: the opening event as `labflow._fold` applies
    it, then the events that move, withdraw, reinstate or launch it) and a row that
    differs is reported, so an edited projection is found like an edited event.

    ``firsts``, if given, receives each stream's first event's hash (of a sound first row),
    which a store's registration index recorded.
    """
    projections = projections or {}
    found: list[Checked] = []
    sha256, text = hashlib.sha256, json.encoder.encode_basestring
    current = -1
    subject = prev = opening = ""
    position = 0
    bad: tuple[int, str] | None = None
    skip = True
    seen: set[int] = set()
    rowfold: _RowFold | None = None

    def finish() -> None:
        _, version, head = meta[current]
        if bad is not None:
            found.append((current, position, False, bad[0], bad[1]))
        elif position != version or prev != head:
            found.append(
                (current, position, False, position, "it does not end at the expected head")
            )
        elif rowfold is not None and position:
            problem = rowfold.problem(projections[current])
            found.append((current, position, problem is None, None, problem))
        else:
            found.append((current, position, True, None, None))

    for stream, seq, at, actor, kind, payload, link, digest in rows:
        if stream != current:
            if current in meta:
                finish()
            current, position, prev, bad = stream, 0, GENESIS, None
            rowfold = None
            skip = stream not in meta
            if not skip:
                seen.add(stream)
                subject = meta[stream][0]
                opening = f"[{text(subject)},"
                if stream in projections:
                    rowfold = _RowFold(subject)
        if skip:  # a stream not asked for, or already found bad
            continue
        position += 1
        if seq != position:
            bad = (position, f"it says it is event {seq}, but it stands at {position}")
            skip = True
            continue
        if link != prev:
            bad = (position, "it does not link to the event before it")
            skip = True
            continue
        try:
            # Times, kinds and hashes need no escaping as labflow writes them; a row where
            # they would simply does not match here, and is decoded below.
            raw = f'{opening}{seq},"{at}",{text(actor)},"{kind}",{payload},"{link}"]'
        except TypeError:  # an actor that is not text: the careful way says why
            raw = ""
        if sha256(raw.encode()).hexdigest() != digest:
            problem = _canonical_problem(subject, seq, at, actor, kind, payload, link, digest)
            if problem is not None:
                bad = (position, problem)
                skip = True
                continue
        if rowfold is not None and (kind not in _ROW_KEEPS or not rowfold.stage):
            rowfold.apply(seq, at, actor, kind, payload, link, digest)
        if position == 1 and firsts is not None:
            firsts[stream] = digest
        prev = digest
    if current in meta:
        finish()
    for stream in meta.keys() - seen:  # a stream row whose events are all gone
        current, position, prev, bad, rowfold = stream, 0, GENESIS, None, None
        finish()
    return found


#: The decoder's own scanner (C): what `json.loads` calls, without the wrappers around it.
_scan: Callable[[str, int], tuple[Any, int]] = make_scanner(cast(Any, json.JSONDecoder()))


def _loads(text: str) -> Any:
    """`json.loads` for a payload as labflow stores it, without its wrappers' cost.

    The decoder's scanner reads the value at the start; a text it does not read whole
    (surrounding space, a second value, nothing readable) goes to `json.loads`, which gives
    the answer -- or the error -- it always gave.
    """
    try:
        value, end = _scan(text, 0)
    except (StopIteration, ValueError, TypeError):
        return json.loads(text)
    if end != len(text):
        return json.loads(text)
    return value


def _canonical_problem(
    subject: str, seq: int, at: Any, actor: Any, kind: Any, payload: Any, link: str, digest: str
) -> str | None:
    """Why a row whose stored text does not hash to its hash fails, decoded as
    `labflow.verify` reads an event; ``None`` if its content, encoded canonically, does."""
    try:
        data = canonical_bytes(
            subject, seq, datetime.fromisoformat(at), actor, kind, json.loads(payload), link
        )
    except (TypeError, ValueError, AttributeError, RecursionError) as exc:
        return f"it cannot be read ({exc})"
    if hashlib.sha256(data).hexdigest() != digest:
        return "its content does not match its hash"
    return None


class _RowFold:
    """An innovation's stored row (unit, stage, status, launched) folded from its events.

    The same row `labflow.store._common.project` folds, reading only the events that
    change it: a registration gives the unit and stage it records (what `labflow._fold`
    reads from it for the row), a replication is applied by `labflow._fold.apply_innovation`
    itself; the last move gives the stage (its payload decoded once, at the end), a
    withdrawal or reinstatement the status, a launch the flag. Every other event leaves the
    row as it was, so its payload is not even decoded. The row is checked, not the history:
    a history that could not be replayed is what loads and the commit-time fold refuse.
    """

    __slots__ = ("failed", "launched", "moved", "stage", "status", "subject", "unit")

    def __init__(self, subject: str) -> None:
        self.subject = subject
        self.failed: str | None = None
        # The row as folded so far (no `Row` per event: most events change one field).
        self.unit = self.stage = self.status = ""
        self.launched = False
        #: the payload of the last move not yet read: only the last one gives the stage
        self.moved = ""

    def _settle(self) -> None:
        """Read the stage from the last move, once (a move's payload says where it went)."""
        if self.moved:
            self.stage, self.moved = _loads(self.moved)["to"], ""
            if not isinstance(self.stage, str) or not self.stage:
                raise ValueError("a move names no stage")

    @property
    def row(self) -> Row | None:
        """The row folded so far; ``None`` before the opening event."""
        if self.failed is None:
            try:
                self._settle()
            except (KeyError, TypeError, ValueError) as exc:
                self.failed = f"its history cannot be folded into a row ({exc!r})"
        return Row(self.unit, self.stage, self.status, self.launched) if self.stage else None

    def apply(
        self, seq: int, at: str, actor: str, kind: str, payload: str, link: str, digest: str
    ) -> None:
        if self.failed is not None:
            return
        try:
            if not self.stage and kind == "innovation.registered":
                # The opening as `labflow._fold` reads it for the row: its unit and stage.
                opening = _loads(payload)
                unit, stage = opening["unit"], opening["stage"]
                if not isinstance(unit, str) or not isinstance(stage, str) or not stage:
                    raise ValueError("its registration names no unit or stage")
                self.unit, self.stage = unit, stage
                self.status, self.launched = Status.ACTIVE.value, False
            elif self.stage and kind in OPENING_KINDS:
                raise ValueError(f"{kind!r} is not an event an innovation can apply")
            elif not self.stage:
                event = Event(
                    self.subject, seq, datetime.fromisoformat(at), actor, kind,
                    json.loads(payload), link, digest,
                )  # fmt: skip
                inn = apply_innovation(None, event)
                self.unit, self.stage = inn.unit, inn.stage
                self.status, self.launched = inn.status.value, inn.launch is not None
                if not self.stage:
                    raise ValueError("its innovation stands at no stage")
            elif kind not in INNOVATION_KINDS:
                raise ValueError(f"{kind!r} is not an event an innovation can apply")
            elif kind in _MOVES:
                self.moved = payload  # read at the end, or before an event that needs it
            elif kind == "innovation.withdrawn":
                self.status = Status.WITHDRAWN.value
            elif kind == "innovation.reinstated":
                self.status = Status.ACTIVE.value
            elif kind == "innovation.launched":
                _loads(payload)["ceremony"]  # read as the fold reads it
                self.launched = True
        except (KeyError, TypeError, ValueError, AttributeError, AssertionError) as exc:
            self.failed = f"its history cannot be folded into a row ({exc!r})"

    def problem(self, stored: Row) -> str | None:
        """Why the stored row differs from the folded one, if it does."""
        expected = self.row  # settles the last move first, which may fail
        if self.failed is not None:
            return self.failed
        if expected is None or expected == stored:
            return None
        differs = [
            f"{name} {getattr(stored, name)!r} where its history gives {getattr(expected, name)!r}"
            for name in ("unit", "stage", "status", "launched")
            if getattr(stored, name) != getattr(expected, name)
        ]
        return "its stored row says " + ", ".join(differs)


_MOVES = frozenset({"innovation.advanced", "innovation.returned"})
#: Innovation events that leave a row as it was: `_RowFold.apply` would do nothing with them.
_ROW_KEEPS = (
    INNOVATION_KINDS
    - OPENING_KINDS
    - _MOVES
    - {"innovation.withdrawn", "innovation.reinstated", "innovation.launched"}
)
