"""Monitoring and evaluation (monev) of launched innovations: the command and its report.

Private. A monev record is an event of the innovation's own history
(``innovation.monitored``): the period it covers, indicators with values, the findings and
the follow-up. The policy's obligation (`labflow._monev_rules.MonevRules`: every N months
after the launch) is judged by `labflow._cadence`, which any other recurring obligation
(an agreement's review cycle) counts with as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from labflow._inputs import text as _text
from labflow._monev_rules import MONEV_KIND, monev_records, monev_refusal, monev_windows
from labflow._preconditions import acting_on
from labflow._view import View, refuse
from labflow.errors import InvalidCommand
from labflow.events import Event
from labflow.model import Innovation

if TYPE_CHECKING:
    from labflow._replay import Fold
    from labflow.lab import Lab

__all__ = ["MonevDue", "MonevReport", "monev_report", "record_monev", "replay_monev"]


def record_monev(
    lab: Lab,
    innovation_id: str,
    *,
    period: str,
    indicators: Mapping[str, float],
    findings: str,
    by: str,
    follow_up: str = "",
) -> Event:
    inn, _ = acting_on(lab, "record_monev", innovation_id, by)
    if not isinstance(indicators, Mapping):
        raise InvalidCommand(
            "The indicators must be a mapping of names to numbers.",
            "Indikator harus berupa pemetaan nama ke bilangan.",
            code="input.indicators",
        )
    values = dict(indicators)
    for name in values:
        _text(name, "indicator name", empty=False)
    payload: dict[str, Any] = {
        "period": _text(period, "period", empty=False),
        "indicators": values,
        "findings": _text(findings, "findings"),
        "follow_up": _text(follow_up, "follow-up"),
    }
    refusal = monev_refusal(lab.policy, inn, payload)
    if refusal is not None:
        raise InvalidCommand(refusal[1], refusal[2], code=refusal[0], data={"innovation": inn.id})
    return lab._commit(inn, by, MONEV_KIND, payload)


@attrs.frozen
class MonevDue:
    """One launched innovation under the monev obligation: what is due, overdue, found last."""

    innovation: str
    unit: str
    launched_at: datetime
    records: int
    overdue: tuple[datetime, ...]  #: the due moments of the closed windows with no record
    next_due: datetime | None  #: the due moment of the open window, if it has no record yet
    latest_period: str | None
    latest_findings: str | None
    latest_follow_up: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "innovation": self.innovation,
            "unit": self.unit,
            "launched_at": self.launched_at.isoformat(),
            "records": self.records,
            "overdue": [d.isoformat() for d in self.overdue],
            "next_due": None if self.next_due is None else self.next_due.isoformat(),
            "latest_period": self.latest_period,
            "latest_findings": self.latest_findings,
            "latest_follow_up": self.latest_follow_up,
        }


@attrs.frozen
class MonevReport:
    """Every active launched innovation's monev standing at one moment, overdue ones first."""

    at: datetime
    enforce: str | None  #: the policy's ``[monev] enforce``, or ``None`` without an obligation
    items: tuple[MonevDue, ...]

    @property
    def overdue(self) -> tuple[MonevDue, ...]:
        return tuple(i for i in self.items if i.overdue)

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "enforce": self.enforce,
            "items": [i.to_dict() for i in self.items],
        }


def monev_report(lab: Lab, now: datetime | None = None) -> MonevReport:
    """Monev due and overdue, and the latest findings, of every active launched innovation.

    Without a ``[monev]`` obligation in the policy nothing is due; the latest records are
    listed all the same.
    """
    from labflow.reports import _moment  # one moment for the report, as every report reads

    moment = _moment(lab, now)
    rules = lab.policy.monev
    items = []
    for inn in lab.innovations.values():
        if not inn.active or inn.launch is None:
            continue
        records = monev_records(inn)
        windows = monev_windows(rules, inn, moment) if rules is not None else ()
        late = tuple(w.due for w in windows if not w.done and w.due < moment)
        current = [w for w in windows if w.due >= moment and not w.done]
        last = records[-1] if records else None
        items.append(
            MonevDue(
                inn.id,
                inn.unit,
                inn.launch.at,
                len(records),
                late,
                current[0].due if current else None,
                None if last is None else last.period,
                None if last is None else last.findings,
                None if last is None else last.follow_up,
            )
        )
    items.sort(key=lambda i: (not i.overdue, i.overdue[:1], i.innovation))
    return MonevReport(moment, None if rules is None else rules.enforce, tuple(items))


def replay_monev(fold: Fold, inn: Innovation, event: Event, view: View, schema: int) -> None:
    """A monev record the command would have taken: of a launched innovation, a new period."""
    refusal = monev_refusal(fold.policy, inn, event.payload)
    if refusal is not None:
        refuse(event, "history.monev", refusal[1], refusal[2], refusal=refusal[0])
