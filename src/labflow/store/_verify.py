"""Checking stored rows without building events: shared by the SQL stores.

Private. A store that keeps events as rows ``(stream, seq, at, actor, kind,
payload, prev, hash)`` -- ``at`` as ISO 8601 text and ``payload`` as the exact
JSON text the hash covers -- verifies them here, streaming, one stream after
another; the SQLite and PostgreSQL stores write that text with `encode_payload`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from labflow.errors import StoreError
from labflow.events import GENESIS, Event, canonical_bytes
from labflow.store import Append
from labflow.store._common import Row, project

#: The JSON text a payload is stored as: what the canonical encoding reads back the same.
encode_payload = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode

#: What a verifier sends back per stream: id, events seen, ok, first bad seq, reason.
Checked = tuple[int, int, bool, int | None, str | None]


def check_rows(
    rows: Iterator[tuple[Any, ...]],
    meta: dict[int, tuple[str, int, str]],
    projections: Mapping[int, Row] | None = None,
) -> list[Checked]:
    """Verify streams from their rows ``(stream, seq, at, actor, kind, payload, prev, hash)``.

    Rows come ordered by stream and seq, straight from the primary key; no
    `Event` is built. Each hash is recomputed exactly as `labflow.verify` does
    over the decoded event (`canonical_bytes`), so the two agree event for
    event; ``meta`` maps a stream id to its subject, stored version and head,
    which the chain's end must match. Only streams in ``meta`` are checked.

    ``projections`` maps an innovation stream to the row the store keeps for lists
    and reports (unit, stage, status, launched); a stream whose chain verifies is
    then folded again (`labflow.store._common.project`, the fold replay uses) and a
    row that differs is reported, so an edited projection is found like an edited event.
    """
    projections = projections or {}
    found: list[Checked] = []
    sha256, loads, parse = hashlib.sha256, json.loads, datetime.fromisoformat
    current = -1
    subject = prev = ""
    position = 0
    bad: tuple[int, str] | None = None
    seen: set[int] = set()
    events: list[Event] = []

    def finish() -> None:
        _, version, head = meta[current]
        if bad is not None:
            found.append((current, position, False, bad[0], bad[1]))
        elif position != version or prev != head:
            found.append(
                (current, position, False, position, "it does not end at the expected head")
            )
        elif current in projections and events:
            problem = _projection_problem(subject, events, projections[current])
            found.append((current, position, problem is None, None, problem))
        else:
            found.append((current, position, True, None, None))

    for stream, seq, at, actor, kind, payload, link, digest in rows:
        if stream != current:
            if current in meta:
                finish()
            current, position, prev, bad = stream, 0, GENESIS, None
            events = []
            if stream in meta:
                seen.add(stream)
                subject = meta[stream][0]
        if bad is not None or current not in meta:
            continue
        position += 1
        if seq != position:
            bad = (position, f"it says it is event {seq}, but it stands at {position}")
            continue
        if link != prev:
            bad = (position, "it does not link to the event before it")
            continue
        try:
            moment, content = parse(at), loads(payload)
            data = canonical_bytes(subject, seq, moment, actor, kind, content, link)
        except (TypeError, ValueError, AttributeError, RecursionError) as exc:
            bad = (position, f"it cannot be read ({exc})")
            continue
        if sha256(data).hexdigest() != digest:
            bad = (position, "its content does not match its hash")
            continue
        if current in projections:
            events.append(Event(subject, seq, moment, actor, kind, content, link, digest))
        prev = digest
    if current in meta:
        finish()
    for stream in meta.keys() - seen:  # a stream row whose events are all gone
        current, position, prev, bad, events = stream, 0, GENESIS, None, []
        finish()
    return found


def _projection_problem(subject: str, events: list[Event], stored: Row) -> str | None:
    """Why the stored row of an innovation differs from its verified history, if it does."""
    try:
        expected = project(Append(subject, 0, tuple(events)), None)
    except StoreError as exc:
        return f"its history cannot be folded into a row ({exc})"
    if expected == stored:
        return None
    differs = [
        f"{name} {getattr(stored, name)!r} where its history gives {getattr(expected, name)!r}"
        for name in ("unit", "stage", "status", "launched")
        if getattr(stored, name) != getattr(expected, name)
    ]
    return "its stored row says " + ", ".join(differs)
