"""Recording an event: the one that would follow a history, with its schema version.

Private. Every command's event is built here (`next_event`), by the lab's commit and by
a ceremony that builds all its events before it applies any; the fold's `SCHEMA` is
the payload version it writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from labflow._frozen import freeze
from labflow.errors import InvalidCommand
from labflow.events import GENESIS, Event, make_event

__all__ = ["SCHEMA", "next_event"]

#: The payload schema version labflow writes (``"v"`` in every payload).
SCHEMA: Final = 2


def next_event(
    subject: str,
    history: Sequence[Event],
    at: datetime,
    by: str,
    kind: str,
    payload: dict[str, Any],
) -> Event:
    """The event that would follow ``history``; `InvalidCommand` if it cannot be recorded.

    The payload gets its schema version (``v``); the clock may not go back within a history.
    """
    if history and at < history[-1].at:
        raise InvalidCommand(
            f"The lab's clock reads {at.isoformat()}, before the last event of {subject} "
            f"({history[-1].at.isoformat()}); a history's times never go back.",
            f"Jam laboratorium menunjukkan {at.isoformat()}, sebelum peristiwa terakhir "
            f"{subject} ({history[-1].at.isoformat()}); waktu riwayat tidak boleh mundur.",
            code="clock.backwards",
            data={"subject": subject},
        )
    payload["v"] = SCHEMA  # the command's own dict, frozen once below (never copied twice)
    try:
        return make_event(
            subject,
            len(history) + 1,
            at,
            by,
            kind,
            freeze(payload),
            history[-1].hash if history else GENESIS,
        )
    except (TypeError, ValueError, RecursionError) as exc:
        # e.g. a number too large to write, or a value a custom requirement put in a code
        raise InvalidCommand(
            f"The {kind} event cannot be recorded: {exc}.",
            f"Peristiwa {kind} tidak dapat dicatat: {exc}.",
            code="event.unencodable",
            data={"kind": kind},
        ) from exc
