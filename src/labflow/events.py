"""Events and the hash chain that makes a history tamper-evident.

Every accepted command appends one `Event` to the history of its subject (an
innovation or a lab). Each event carries the hash of the one before it and its
own SHA-256 over a canonical encoding, so `verify` finds any edit, deletion,
insertion or reordering and names the first event that is wrong. A history cut
short at its end still chains; pass the head hash the host kept (``head=``) to
catch that too.

The canonical encoding is JSON of ``[subject, seq, at, actor, kind, payload,
prev]`` with sorted keys, no insignificant white space, UTF-8 and no NaN --
stable across Python versions and easy to reproduce in any other language.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import attrs

from labflow._frozen import freeze
from labflow.errors import HistoryError, InvalidCommand

__all__ = [
    "GENESIS",
    "Event",
    "Verification",
    "canonical_bytes",
    "expected_hash",
    "make_event",
    "verify",
]

#: The ``prev`` of the first event of every history.
GENESIS: Final = "0" * 64


def _unencodable(value: object) -> object:
    raise TypeError(f"{type(value).__name__} is not a JSON value")


# The C encoder that ``json.dumps(x, sort_keys=True, separators=(",", ":"),
# ensure_ascii=False, allow_nan=False)`` builds on every call, built once: it is the
# largest single cost of a command. No circularity markers: payloads are trees.
_stdlib_encode = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode
_c_encoder = getattr(json.encoder, "c_make_encoder", None)
_chunks = (
    _c_encoder(
        None, _unencodable, json.encoder.encode_basestring, None, ":", ",", True, False, False
    )
    if _c_encoder is not None
    else None
)


def _encode(value: object) -> str:
    if _chunks is None:  # pragma: no cover - interpreters without the C accelerator
        return _stdlib_encode(value)
    return "".join(_chunks(value, 0))


# One JSON string, quoted and escaped as the encoder above writes it (the C version if any).
_quote = json.encoder.encode_basestring


class Uncanonical(InvalidCommand, ValueError):
    """An event whose content has no canonical encoding (not JSON, a number past 64 bits...).

    A `ValueError` too, for callers that turn encoding failures into their own error.
    """


@attrs.frozen(eq=True, weakref_slot=False)  # no weak references: 8 bytes less per event
class Event:
    """One accepted change: who did what to which subject, when, chained to the one before."""

    subject: str  #: the innovation's or the lab's id
    seq: int  #: 1 for the first event; equal to the subject's version after it
    at: datetime
    actor: str
    kind: str  #: e.g. ``innovation.advanced``; the audit event is ``labflow.`` + kind
    #: JSON values only: str, int, bool, None, lists, dicts -- held read-only (`FrozenMap`)
    payload: Mapping[str, Any] = attrs.field(converter=freeze)
    prev: str
    hash: str


def canonical_bytes(
    subject: str,
    seq: int,
    at: datetime,
    actor: str,
    kind: str,
    payload: Mapping[str, Any],
    prev: str,
) -> bytes:
    """The exact bytes an event's hash is computed over; `Uncanonical` if there are none."""
    try:
        if (
            type(seq) is int
            and type(at) is datetime
            and type(subject) is str
            and type(actor) is str
            and type(kind) is str
            and type(prev) is str
        ):
            # The shape every event has, written field by field: the same bytes as encoding
            # the list below, without the encoder walking it (``test_events`` holds them equal).
            return (
                f'[{_quote(subject)},{seq},"{at.isoformat()}",{_quote(actor)},'
                f"{_quote(kind)},{_encode(payload)},{_quote(prev)}]"
            ).encode()
        return _encode([subject, seq, at.isoformat(), actor, kind, payload, prev]).encode()
    except (TypeError, ValueError, AttributeError, RecursionError) as exc:
        raise Uncanonical(f"The event cannot be encoded canonically: {exc}.") from exc


def make_event(
    subject: str,
    seq: int,
    at: datetime,
    actor: str,
    kind: str,
    payload: Mapping[str, Any],
    prev: str,
) -> Event:
    """Build the next event of a chain, computing its hash."""
    digest = hashlib.sha256(canonical_bytes(subject, seq, at, actor, kind, payload, prev))
    return Event(subject, seq, at, actor, kind, payload, prev, digest.hexdigest())


@attrs.frozen
class Verification:
    """The result of verifying one history: `ok`, or the first bad event and why."""

    subject: str
    length: int
    ok: bool
    seq: int | None = None  #: the first event that does not verify
    reason: str | None = None

    def raise_for_problem(self) -> None:
        """Raise `HistoryError` if the history did not verify."""
        if not self.ok:
            raise HistoryError(self.subject, self.seq, self.reason or "unknown problem")


def expected_hash(event: Event) -> str:
    """The hash ``event`` must carry: SHA-256 over its canonical bytes.

    Raises `Uncanonical` (a `ValueError` too) when its content is not canonically
    encodable -- callers turn that into their own error.
    """
    if not isinstance(event, Event):
        raise Uncanonical(f"Only a labflow.Event has a hash, not a {type(event).__name__}.")
    return hashlib.sha256(
        canonical_bytes(
            event.subject,
            event.seq,
            event.at,
            event.actor,
            event.kind,
            event.payload,
            event.prev,
        )
    ).hexdigest()


def _problem(event: Event, position: int, subject: str, prev: str) -> str | None:
    """Why ``event`` cannot stand at ``position`` after ``prev``, or ``None`` if it can."""
    given: object = event  # a host's list may hold anything
    if not isinstance(given, Event):
        return f"it is a {type(given).__name__}, not a labflow.Event"
    if event.subject != subject:
        return f"it belongs to {event.subject!r}, not {subject!r}"
    if event.seq != position:
        return f"it says it is event {event.seq}, but it stands at {position}"
    if event.prev != prev:
        return "it does not link to the event before it"
    try:
        expected = expected_hash(event)
    except (TypeError, ValueError, AttributeError, RecursionError) as exc:
        return f"it cannot be encoded canonically ({exc})"
    if event.hash != expected:
        return "its content does not match its hash"
    return None


def verify(history: Sequence[Event], *, head: str | None = None) -> Verification:
    """Check a history's chain: order, links, hashes, one subject; and its head if given."""
    given: object = history  # hosts pass what they loaded: say what is wrong, never TypeError
    if not isinstance(given, Sequence) or isinstance(given, str | bytes):
        raise HistoryError("a history", None, f"a list of events, not {type(given).__name__}")
    if head is not None and not isinstance(head, str):
        raise HistoryError("a history", None, "the expected head must be a hash (a string)")
    first = history[0] if history else None
    subject = first.subject if isinstance(first, Event) else "an empty history"
    length = len(history)
    prev = GENESIS
    for position, event in enumerate(history, start=1):
        problem = _problem(event, position, subject, prev)
        if problem is not None:
            return Verification(subject, length, False, position, problem)
        prev = event.hash
    if head is not None and prev != head:
        return Verification(subject, length, False, length, "it does not end at the expected head")
    return Verification(subject, length, True)
