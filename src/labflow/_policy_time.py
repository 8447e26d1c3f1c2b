"""Time in policies: calendar months, local offsets and deadlines.

Split from `labflow.policy` so that everything about *when* (absolute and relative
deadlines, the policy's local offset, adding calendar months) lives in one place; the
policy records and the loader import it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs

if TYPE_CHECKING:
    from labflow._policy_records import RequirementSpec

_MONTHS_EN: Final = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_MONTHS_ID: Final = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus ``months`` calendar months (the 31st of a short month is its last day)."""
    year, month = divmod(moment.month - 1 + months, 12)
    year += moment.year
    day = moment.day
    while True:
        try:
            return moment.replace(year=year, month=month + 1, day=day)
        except ValueError:
            day -= 1


@attrs.frozen
class Deadline:
    """When an innovation must (at the latest) or may (at the earliest) enter a stage.

    Either absolute (``by``) or relative to an event (``after``): the innovation's launch
    (``"launch"``), the innovation entering a stage (``"stage:<id>"``) or the lab entering
    one (``"lab:<id>"``), with a window (``within_*``: at the latest) and a minimum
    duration (``min_*``: at the earliest). ``enforce`` says whether the stage's gate refuses
    a late or early entry (``"gate"``) or reports only list it (``"report"``).
    """

    stage: str
    enforce: Literal["gate", "report"]
    by: datetime | None = None
    after: str | None = None
    within_months: int = 0
    within_days: int = 0
    min_months: int = 0
    min_days: int = 0

    @property
    def has_window(self) -> bool:
        return bool(self.within_months or self.within_days)

    @property
    def has_minimum(self) -> bool:
        return bool(self.min_months or self.min_days)

    def latest(self, start: datetime | None) -> datetime | None:
        """The last moment to enter the stage, given when the event happened (if relative)."""
        if self.by is not None:
            return self.by
        if start is None or not self.has_window:
            return None
        return add_months(start, self.within_months) + timedelta(days=self.within_days)

    def earliest(self, start: datetime | None) -> datetime | None:
        """The first moment the stage may be entered, given when the event happened."""
        if start is None or not self.has_minimum:
            return None
        return add_months(start, self.min_months) + timedelta(days=self.min_days)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.by is not None:
            data["by"] = self.by.isoformat()
        if self.after is not None:
            data["after"] = self.after
        for key in ("within_months", "within_days", "min_months", "min_days"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        data["enforce"] = self.enforce
        return data


_OFFSET = re.compile(r"^[+-](\d\d):(\d\d)$")


def _moment(value: Any, offset: timezone) -> datetime | None:
    """A deadline as an aware date-time: a bare date means the end of that day, local time."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=offset)
    if isinstance(value, date):
        return datetime.combine(value, time.max, tzinfo=offset)
    return None


def _offset(text: str) -> timezone | None:
    match = _OFFSET.match(text)
    if not match:
        return None
    hours, minutes = int(match[1]), int(match[2])
    delta = timedelta(hours=hours, minutes=minutes)
    if delta >= timedelta(hours=24):
        return None
    return timezone(-delta if text[0] == "-" else delta) if delta else UTC


_DEADLINE_CHECK: Final = "deadline_not_passed"


def _checks_deadline(gate: Iterable[RequirementSpec]) -> bool:
    return any(spec.name == _DEADLINE_CHECK for spec in gate)


def _plain_deadline(deadline: Deadline, gate: Iterable[RequirementSpec]) -> bool:
    """Whether a deadline is written as a bare date: absolute and enforced by the gate's
    own ``deadline_not_passed``."""
    return (
        deadline.by is not None
        and deadline.enforce == "gate"
        and any(spec.name == _DEADLINE_CHECK for spec in gate)
    )


@attrs.frozen
class ReviewCycle:
    """How often each performance agreement is reviewed (``[agreement.review]``).

    A review is due every ``every_months`` calendar months after an event: the
    innovation's launch (``"launch"``), the innovation entering a stage (``"stage:<id>"``)
    or the lab entering one (``"lab:<id>"``) -- the *k*-th review by the *k*-th due date,
    counting the reviews recorded since that event -- until an end: ``times`` reviews, a
    stage the innovation enters (``until_stage``), or a moment (``until``). Only holders
    of ``roles`` review, within the owning unit if ``same_unit``. ``enforce`` says whether
    an overdue review holds the innovation at its next gate (``"gate"``) or is listed by
    the reports only (``"report"``).
    """

    every_months: int
    after: str
    enforce: Literal["gate", "report"]
    roles: frozenset[str] = frozenset()
    same_unit: bool = False
    times: int | None = None
    until_stage: str | None = None
    until: datetime | None = None

    def due(self, number: int, start: datetime) -> datetime | None:
        """When review ``number`` (1 for the first) is due, or ``None`` past the cycle's end."""
        if self.times is not None and number > self.times:
            return None
        moment = add_months(start, number * self.every_months)
        if self.until is not None and moment > self.until:
            return None
        return moment

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"every_months": self.every_months, "after": self.after}
        if self.times is not None:
            data["times"] = self.times
        if self.until_stage is not None:
            data["until"] = f"stage:{self.until_stage}"
        if self.until is not None:
            data["until"] = self.until.isoformat()
        if self.roles:
            data["roles"] = sorted(self.roles)
        data["same_unit"] = self.same_unit
        data["enforce"] = self.enforce
        return data
