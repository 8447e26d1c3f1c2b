"""Recurring obligations: the windows of "every N months after an event, until an end".

Private. Monitoring (monev, every N months after the launch) and the review of a
performance agreement (every four months after the launch, in a provincial variant) are
the same kind of obligation: from a start, one window after another of a whole number of
calendar months, each of which must hold at least one record. One function computes the
windows and one judges them, so that every cadence a policy declares is counted the same
way; months are added with `labflow._policy_time.add_months` (the 31st of a short month is its
last day), as relative deadlines count them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Final

import attrs

from labflow._policy_time import add_months

__all__ = ["MAX_WINDOWS", "Window", "judge", "windows"]

#: Windows computed at most: a cadence of one month over 100 years, never unbounded.
MAX_WINDOWS: Final = 1200


@attrs.frozen
class Window:
    """One period of a cadence: it ends at ``due``; ``done`` when a record falls within it."""

    index: int  #: 1 for the first window after the start
    opens: datetime
    due: datetime
    done: bool = False


def windows(
    start: datetime, every_months: int, now: datetime, *, until_months: int | None = None
) -> tuple[Window, ...]:
    """The windows from ``start`` that have opened by ``now``, one every ``every_months``.

    With ``until_months`` the cadence ends that many months after ``start``: no window
    opens after it. ``every_months`` below 1 gives none.
    """
    if every_months < 1 or now < start:
        return ()
    end = add_months(start, until_months) if until_months is not None else None
    found: list[Window] = []
    opens = start
    for index in range(1, MAX_WINDOWS + 1):
        if opens > now or (end is not None and opens >= end):
            break
        due = add_months(start, every_months * index)
        found.append(Window(index, opens, due))
        opens = due
    return tuple(found)


def judge(
    start: datetime,
    every_months: int,
    now: datetime,
    records: Iterable[datetime],
    *,
    until_months: int | None = None,
) -> tuple[Window, ...]:
    """`windows`, each marked ``done`` when one of ``records`` (moments) falls within it.

    A window holds a record made after it opens and no later than its due moment. A window
    not done whose due moment is before ``now`` is overdue; the last one not done and not
    yet due is what is due next.
    """
    times = sorted(records)
    out = []
    for window in windows(start, every_months, now, until_months=until_months):
        done = any(window.opens < t <= window.due for t in times)
        out.append(attrs.evolve(window, done=done) if done else window)
    return tuple(out)
