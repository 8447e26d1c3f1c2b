"""The registration index: every innovation a lab ever registered, chained like events.

Each innovation has its own history, so deleting one whole -- every event of it --
leaves every remaining chain sound. A lab therefore keeps, beside its histories, an
index with one entry per innovation it registered, in registration order: the
innovation, the hash of its history's first event, and the link and hash of a chain
(SHA-256 over the canonical JSON ``[lab, seq, innovation, opening, prev]``), with the
index's length and head recorded apart from the entries. The stores keep it in their
tables and lab documents carry it (``registrations``); both check it with the functions
here, so an index written into a document is the chain a store keeps, entry for entry
(importing the document gives the store the document's index).

Private, and pure: the chain, its checks and the shape documents write it in; no I/O.
"""

from __future__ import annotations

import hashlib
import json.encoder
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from labflow.errors import HistoryError
from labflow.events import GENESIS

__all__ = [
    "End",
    "Entry",
    "IndexProblem",
    "Registration",
    "Registrations",
    "check_chain",
    "check_index",
    "check_listed",
    "entry_hash",
    "index_data",
    "index_entries",
    "raise_for_index",
]

#: One entry of a lab's registration index: ``(seq, subject, opening, prev, hash)`` -- the
#: innovation, the hash of its history's first event, and the chain's link and own hash.
Entry = tuple[int, str, str, str, str]
#: Where an index ends: ``(length, head hash)``; ``(0, GENESIS)`` when it is empty.
End = tuple[int, str]

_quote = json.encoder.encode_basestring


def entry_hash(lab_id: str, seq: int, subject: str, opening: str, prev: str) -> str:
    """The hash of a registration entry: SHA-256 over its canonical JSON, as events are."""
    text = f"[{_quote(lab_id)},{seq},{_quote(subject)},{_quote(opening)},{_quote(prev)}]"
    return hashlib.sha256(text.encode()).hexdigest()


def index_entries(
    lab_id: str, end: End, registered: Sequence[tuple[str, str]]
) -> tuple[list[Entry], End]:
    """The entries that register ``(subject, opening hash)`` pairs after the index's ``end``
    (its length and head), and the index's new end."""
    count, head = end
    entries: list[Entry] = []
    for subject, opening in registered:
        count += 1
        digest = entry_hash(lab_id, count, subject, opening, head)
        entries.append((count, subject, opening, head, digest))
        head = digest
    return entries, (count, head)


def index_data(lab_id: str, registered: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The index registering ``(subject, opening hash)`` pairs, in order, as a lab document
    writes it (plain data, the shape of `Registrations`)."""
    entries, (length, head) = index_entries(lab_id, (0, GENESIS), registered)
    return {
        "length": length,
        "head": head,
        "entries": [
            {"seq": seq, "subject": subject, "opening": opening, "prev": prev, "hash": digest}
            for seq, subject, opening, prev, digest in entries
        ],
    }


@attrs.frozen
class IndexProblem:
    """What is wrong with a lab's registration index, and which history it concerns."""

    subject: str  #: the lab's id for the index itself, else the innovation's
    lab: bool  #: whether it concerns the index (the lab's own history) itself
    reason: str
    reason_id: str  #: the same in Indonesian
    #: the entry of the index where the chain breaks or repeats, counted from 1 (0: none)
    entry: int = 0
    repeated: bool = False  #: whether that entry repeats an innovation listed before


@attrs.frozen
class Registration:
    """One entry of a lab's registration index, as a lab document writes it."""

    seq: int  #: its place in the index, counted from 1: the order of registration
    subject: str  #: the innovation registered
    opening: str  #: the hash of the innovation's first event
    prev: str  #: the hash of the entry before (`labflow.GENESIS` for the first)
    hash: str  #: SHA-256 of ``[lab, seq, subject, opening, prev]`` as canonical JSON

    def entry(self) -> Entry:
        """The entry as the chain functions take it."""
        return (self.seq, self.subject, self.opening, self.prev, self.hash)


@attrs.frozen
class Registrations:
    """A lab's registration index, as a lab document writes it: entries, length and head."""

    length: int  #: how many innovations the lab registered
    head: str  #: the hash of the last entry (`labflow.GENESIS` when there is none)
    entries: tuple[Registration, ...]


def check_chain(
    lab_id: str, entries: Sequence[Entry], end: End
) -> tuple[list[IndexProblem], dict[str, tuple[int, str]]]:
    """Check a lab's registration index as a chain ending at ``end`` (its recorded length
    and head). Returns its problems, and what it lists: innovation -> (entry, opening)."""
    head, position = GENESIS, 0
    listed: dict[str, tuple[int, str]] = {}
    for seq, subject, opening, prev, digest in entries:
        position += 1
        if (
            seq != position
            or prev != head
            or entry_hash(lab_id, seq, subject, opening, prev) != digest
        ):
            return [
                IndexProblem(
                    lab_id,
                    True,
                    f"its registration index breaks at entry {position}",
                    f"indeks pendaftarannya rusak pada entri ke-{position}",
                    position,
                )
            ], listed
        if subject in listed:
            return [
                IndexProblem(
                    lab_id,
                    True,
                    f"its registration index lists {subject!r} twice",
                    f"indeks pendaftarannya mencantumkan {subject!r} dua kali",
                    position,
                    repeated=True,
                )
            ], listed
        listed[subject] = (seq, opening)
        head = digest
    if (position, head) != tuple(end):
        return [
            IndexProblem(
                lab_id,
                True,
                "its registration index does not end at its recorded head",
                "indeks pendaftarannya tidak berakhir pada ujung yang tercatat",
            )
        ], listed
    return [], listed


def check_listed(
    listed: Mapping[str, str], openings: Mapping[str, str | None]
) -> list[IndexProblem]:
    """The innovations a sound index lists (innovation -> first event's hash) against those
    stored: ``openings`` maps every innovation stream of the lab to the hash of its first
    stored event (``None``: none)."""
    if listed == openings:  # the usual answer, found by one comparison
        return []
    found: list[IndexProblem] = []
    for subject in sorted(listed.keys() | openings.keys()):
        if subject not in openings or openings[subject] is None:
            reason = "it is in the lab's registration index, but its history is gone"
            reason_id = "ia tercatat di indeks pendaftaran laboratorium, tetapi riwayatnya hilang"
        elif subject not in listed:
            reason = "it is not in the lab's registration index"
            reason_id = "ia tidak tercatat di indeks pendaftaran laboratorium"
        elif openings[subject] != listed[subject]:
            reason = "its first event is not the one the lab's registration index recorded"
            reason_id = "peristiwa pertamanya bukan yang tercatat di indeks pendaftaran"
        else:
            continue
        found.append(IndexProblem(subject, False, reason, reason_id))
    return found


def check_index(
    lab_id: str,
    entries: Sequence[Entry],
    end: End | None,
    openings: Mapping[str, str | None],
) -> list[IndexProblem]:
    """Every problem of a lab's registration index against the histories stored.

    ``entries`` are the index in order; ``end`` the length and head the store recorded
    (``None``: a lab stored before the index, which has none to check); ``openings`` maps
    every innovation stream of the lab to the hash of its first stored event (``None`` if
    it has none). An innovation deleted with its row is still listed by the index; one
    inserted is missing from it; one replaced carries another first event.
    """
    if end is None:
        return []
    problems, listed = check_chain(lab_id, entries, end)
    return problems or check_listed({s: o for s, (_, o) in listed.items()}, openings)


def raise_for_index(problems: Sequence[IndexProblem]) -> None:
    """`HistoryError` for the first problem of a lab's registration index, if any."""
    for problem in problems:
        raise HistoryError(
            problem.subject, None, problem.reason, problem.reason_id, code="history.index"
        )
