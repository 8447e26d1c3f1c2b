"""Checking stored rows without building events: shared by the SQL stores.

Private. A store that keeps events as rows ``(stream, seq, at, actor, kind,
payload, prev, hash)`` -- ``at`` as ISO 8601 text and ``payload`` as the exact
JSON text the hash covers -- verifies them here, streaming, one stream after
another; the SQLite and PostgreSQL stores write that text with `encode_payload`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from labflow.events import GENESIS, canonical_bytes

#: The JSON text a payload is stored as: what the canonical encoding reads back the same.
encode_payload = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode

#: What a verifier sends back per stream: id, events seen, ok, first bad seq, reason.
Checked = tuple[int, int, bool, int | None, str | None]


def check_rows(
    rows: Iterator[tuple[Any, ...]], meta: dict[int, tuple[str, int, str]]
) -> list[Checked]:
    """Verify streams from their rows ``(stream, seq, at, actor, kind, payload, prev, hash)``.

    Rows come ordered by stream and seq, straight from the primary key; no
    `Event` is built. Each hash is recomputed exactly as `labflow.verify` does
    over the decoded event (`canonical_bytes`), so the two agree event for
    event; ``meta`` maps a stream id to its subject, stored version and head,
    which the chain's end must match. Only streams in ``meta`` are checked.
    """
    found: list[Checked] = []
    sha256, loads, parse = hashlib.sha256, json.loads, datetime.fromisoformat
    current = -1
    subject = prev = ""
    position = 0
    bad: tuple[int, str] | None = None
    seen: set[int] = set()

    def finish() -> None:
        _, version, head = meta[current]
        if bad is not None:
            found.append((current, position, False, bad[0], bad[1]))
        elif position != version or prev != head:
            found.append(
                (current, position, False, position, "it does not end at the expected head")
            )
        else:
            found.append((current, position, True, None, None))

    for stream, seq, at, actor, kind, payload, link, digest in rows:
        if stream != current:
            if current in meta:
                finish()
            current, position, prev, bad = stream, 0, GENESIS, None
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
            data = canonical_bytes(subject, seq, parse(at), actor, kind, loads(payload), link)
        except (TypeError, ValueError, AttributeError, RecursionError) as exc:
            bad = (position, f"it cannot be read ({exc})")
            continue
        if sha256(data).hexdigest() != digest:
            bad = (position, "its content does not match its hash")
            continue
        prev = digest
    if current in meta:
        finish()
    for stream in meta.keys() - seen:  # a stream row whose events are all gone
        current, position, prev, bad = stream, 0, GENESIS, None
        finish()
    return found
