"""What a lab secretariat reports: the cohort funnel, compliance, overdue work, blocked innovations.

Reports read a `Lab` and change nothing. They are plain records with a
``to_dict`` (JSON-ready) so the ``labflow report --json`` output and a host's
dashboard share one shape. "Blocked" is computed, not stored: it depends on
the lab's stage, the policy and the clock, so it is asked of `Lab.check` at
the moment of the report -- one moment for the whole report: ``now`` if given,
else one reading of the lab's clock, for overdue deadlines and blocked alike.
"""

from __future__ import annotations

import csv
import inspect
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from labflow._exhibition_view import exhibition_report
from labflow._gate_rules import latest_entry, review_overdue
from labflow._guards import need
from labflow._monev import MonevDue, MonevReport, monev_report
from labflow._text import neutral_cell
from labflow.errors import InvalidCommand, NotFound, StoreError
from labflow.events import Verification
from labflow.lab import Lab
from labflow.model import Innovation, Unit
from labflow.requirements import Verdict
from labflow.store import InnovationRow, Store
from labflow.store._common import stage_ids

__all__ = [
    "Blocked",
    "Funnel",
    "MonevDue",
    "MonevReport",
    "Overdue",
    "OverdueReview",
    "Report",
    "blocked",
    "exhibition",
    "funnel",
    "funnel_of_rows",
    "html",
    "innovations_csv",
    "merge_funnels",
    "monev",
    "overdue",
    "overdue_reviews",
    "registry_funnel",
    "report",
    "units_without",
]

#: Unmet codes that only say "wait": the innovation is not held up by anything of its own.
_WAITING = frozenset({"lab.behind", "stage.final"})


@attrs.frozen
class Funnel:
    """How many active innovations stand at each stage, per unit kind; and how many withdrew.

    ``reached[stage]`` counts the active innovations at that stage *or past it*:
    the funnel's narrowing, stage by stage.
    """

    stages: tuple[str, ...]
    at: Mapping[str, Mapping[str, int]]  #: stage -> unit kind -> count
    reached: Mapping[str, int]
    withdrawn: int
    total: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "stages": list(self.stages),
            "at": {s: dict(k) for s, k in self.at.items()},
            "reached": dict(self.reached),
            "withdrawn": self.withdrawn,
            "total": self.total,
        }


def _kind(lab: Lab, inn: Innovation) -> str:
    unit = lab.units.get(inn.unit)
    return unit.kind.value if unit is not None else "unknown"


def _need_lab(lab: object) -> None:
    """Reports read a `Lab`; anything else is the host's mistake, said in labflow's words."""
    need(lab, Lab, "a labflow.Lab", "A report")


def funnel(lab: Lab) -> Funnel:
    """Count the cohort by stage and unit kind."""
    _need_lab(lab)
    return _tally(
        lab.policy.stage_ids,
        ((i.stage, _kind(lab, i), i.active) for i in lab.innovations.values()),
        len(lab.innovations),
    )


def _tally(stages: Sequence[str], counts: Iterable[tuple[str, str, bool]], total: int) -> Funnel:
    """A funnel from ``(stage, unit kind, active)`` triples."""
    at: dict[str, dict[str, int]] = {s: {} for s in stages}
    withdrawn = 0
    for stage, kind, active in counts:
        if not active:
            withdrawn += 1
            continue
        kinds = at[stage]
        kinds[kind] = kinds.get(kind, 0) + 1
    return _shaped(stages, at, withdrawn, total)


def _shaped(
    stages: Sequence[str], at: Mapping[str, Mapping[str, int]], withdrawn: int, total: int
) -> Funnel:
    """The funnel of active counts ``at[stage][unit kind]``: ``reached`` added up from the end."""
    reached: dict[str, int] = {}
    running = 0
    for stage in reversed(stages):
        running += sum(at[stage].values())
        reached[stage] = running
    return Funnel(
        tuple(stages),
        {s: dict(sorted(at[s].items())) for s in stages},
        {s: reached[s] for s in stages},
        withdrawn,
        total,
    )


def funnel_of_rows(stages: Sequence[str], rows: Sequence[InnovationRow]) -> Funnel:
    """The funnel of a lab from a store's rows (`Store.innovations`), without replaying it.

    ``stages`` are the lab's policy's stage ids in order. A row whose stage the
    policy does not know is refused rather than miscounted.
    """
    given: tuple[object, object] = (stages, rows)  # a host's values, typed or not
    if any(isinstance(g, str) or not isinstance(g, Sequence) for g in given):
        raise InvalidCommand("A funnel needs the policy's stage ids, in order, and the rows.")
    if not all(isinstance(s, str) for s in stages) or not all(
        isinstance(r, InnovationRow) for r in rows
    ):
        raise InvalidCommand(
            "A funnel needs stage ids (texts) and labflow.store.InnovationRow rows."
        )
    known = set(stages)
    for row in rows:
        if row.stage not in known:
            raise StoreError(
                f"The innovation {row.id!r} stands at {row.stage!r}, "
                f"which is not a stage of its lab's policy."
            )
    return _tally(
        stages,
        ((r.stage, r.unit_kind or "unknown", r.status != "withdrawn") for r in rows),
        len(rows),
    )


def _funnel_of_counts(
    lab_id: str, stages: Sequence[str], rows: Iterable[tuple[str, str | None, str, int]]
) -> Funnel:
    """`funnel_of_rows` from ``(stage, unit kind, status, count)`` rows a store counted."""
    at: dict[str, dict[str, int]] = {s: {} for s in stages}
    withdrawn = total = 0
    for stage, kind, status, count in rows:
        if stage not in at:
            raise StoreError(
                f"Innovations of lab {lab_id!r} stand at {stage!r}, "
                f"which is not a stage of its lab's policy."
            )
        total += count
        if status == "withdrawn":
            withdrawn += count
            continue
        kinds = at[stage]
        name = kind or "unknown"
        kinds[name] = kinds.get(name, 0) + count
    return _shaped(stages, at, withdrawn, total)


def merge_funnels(funnels: Iterable[Funnel]) -> Funnel:
    """One funnel for many labs: counts added stage by stage (stages in order of first sight).

    Labs on different policies merge by stage id; ``reached`` is each lab's own
    (its policy's order) added up, so it stays "at that stage or past it".
    """
    if not isinstance(funnels, Iterable):
        raise InvalidCommand("merge_funnels() needs a list of labflow.reports.Funnel.")
    funnels = list(funnels)
    if not all(isinstance(f, Funnel) for f in funnels):
        raise InvalidCommand("merge_funnels() needs a list of labflow.reports.Funnel.")
    stages: dict[str, None] = {}
    at: dict[str, dict[str, int]] = {}
    reached: dict[str, int] = {}
    withdrawn = total = 0
    for one in funnels:
        for stage in one.stages:
            stages.setdefault(stage)
            kinds = at.setdefault(stage, {})
            for kind, count in one.at[stage].items():
                kinds[kind] = kinds.get(kind, 0) + count
            reached[stage] = reached.get(stage, 0) + one.reached[stage]
        withdrawn += one.withdrawn
        total += one.total
    return Funnel(
        tuple(stages),
        {s: dict(sorted(at[s].items())) for s in stages},
        {s: reached[s] for s in stages},
        withdrawn,
        total,
    )


def registry_funnel(
    store: Store,
    lab_ids: Iterable[str] | None = None,
    *,
    checked: Mapping[str, Sequence[Verification]] | None = None,
) -> Funnel:
    """The funnel by stage and unit kind over every lab of a store (or those given).

    Counted from the store's rows (`Store.innovations`; on SQLite and PostgreSQL one
    grouped query), not by replaying labs. Each lab's stage order is read from the
    policy in its ``lab.created`` event -- the stage ids alone, so no requirement
    registry is needed and a lab whose policy uses privately registered requirements
    counts like any other.

    The rows are counted only for labs whose every history verified, rows included
    (`Store.verify_all` folds each history into its row again): ``checked`` is the
    answer of a ``verify_all`` the caller has just made, and without it the funnel
    verifies the labs itself first. A lab with a history or row that failed is refused
    with `HistoryError` naming it -- a report never counts an edited row -- and a lab
    ``checked`` does not cover with `StoreError`.
    """
    if not isinstance(store, Store) or inspect.iscoroutinefunction(store.verify_all):
        raise InvalidCommand(
            f"registry_funnel() reads a labflow Store (not an asyncio one), "
            f"not {type(store).__name__}."
        )
    if lab_ids is not None and (isinstance(lab_ids, str) or not isinstance(lab_ids, Iterable)):
        raise InvalidCommand("registry_funnel() takes a list of lab ids.")
    wanted = None if lab_ids is None else list(lab_ids)
    if wanted is not None and not all(isinstance(i, str) for i in wanted):
        raise InvalidCommand("registry_funnel() takes a list of lab ids.")
    if checked is not None and not isinstance(checked, Mapping):
        raise InvalidCommand("registry_funnel()'s checked is what Store.verify_all() returned.")
    if checked is None:
        checked = (
            store.verify_all()
            if wanted is None
            else {lab_id: store.verify_all(lab_id)[lab_id] for lab_id in wanted}
        )
    counts = getattr(store, "_funnel_counts", None)
    if counts is not None:  # a SQL store counts its rows itself: one query, no histories
        found = counts(wanted)
        _refuse_unverified(found, checked)
        return merge_funnels(
            _funnel_of_counts(lab_id, stages, rows) for lab_id, (stages, rows) in found.items()
        )
    labs = store.lab_ids() if wanted is None else wanted
    _refuse_unverified(labs, checked)
    funnels = []
    for lab_id in labs:
        created = store.history(lab_id)[:1]
        if not created or created[0].kind != "lab.created":
            raise StoreError(f"The history of lab {lab_id!r} does not start with lab.created.")
        try:
            stages = stage_ids(created[0])
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreError(f"The lab.created event of {lab_id!r} is malformed ({exc}).") from exc
        funnels.append(funnel_of_rows(stages, store.innovations(lab_id)))
    return merge_funnels(funnels)


def _refuse_unverified(labs: Iterable[str], checked: Mapping[str, Sequence[Verification]]) -> None:
    """`HistoryError` for the first lab with a failed history or row, `StoreError` for a lab
    the verification did not cover: the funnel counts verified rows only."""
    for lab_id in labs:
        results = checked.get(lab_id)
        if results is None:
            raise StoreError(
                f"The lab {lab_id!r} was not verified with the others: verify the store "
                f"again (Store.verify_all) before counting it."
            )
        if not isinstance(results, Sequence) or not all(
            isinstance(r, Verification) for r in results
        ):
            raise InvalidCommand("registry_funnel()'s checked is what Store.verify_all() returned.")
        for result in results:
            result.raise_for_problem()


def units_without(lab: Lab, stage: str, *, government_only: bool = True) -> list[Unit]:
    """The units with no active innovation at or past ``stage`` ("one agency, one innovation").

    Non-government units (community groups, universities, ...) take part by
    choice, so they are left out unless ``government_only`` is false. `NotFound`
    if ``stage`` is not a stage of the lab's policy.
    """
    _need_lab(lab)
    if not isinstance(stage, str) or not lab.policy.has_stage(stage):
        raise NotFound("stage", str(stage), where=f"policy {lab.policy.id!r}")
    target = lab.policy.index(stage)
    reached = {
        inn.unit
        for inn in lab.innovations.values()
        if inn.active and lab.policy.index(inn.stage) >= target
    }
    return [
        unit
        for unit in sorted(lab.units.values(), key=lambda u: u.id)
        if unit.id not in reached and (unit.kind.government or not government_only)
    ]


@attrs.frozen
class Overdue:
    """An active innovation that had to enter ``stage`` by ``deadline`` and has not."""

    innovation: str
    unit: str
    at_stage: str
    stage: str
    deadline: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "innovation": self.innovation,
            "unit": self.unit,
            "at_stage": self.at_stage,
            "stage": self.stage,
            "deadline": self.deadline.isoformat(),
        }


def _moment(lab: Lab, now: datetime | None) -> datetime:
    """The moment a report reads the lab at: ``now``, or the lab's clock read once."""
    _need_lab(lab)
    if now is None:
        return lab.now()
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise InvalidCommand("A report's now must be a timezone-aware datetime.")
    return now


def overdue(lab: Lab, now: datetime | None = None) -> list[Overdue]:
    """Every active innovation behind a passed deadline of the policy (`Policy.timing`:
    absolute ones, and those counted from an event that has happened), earliest first."""
    moment = _moment(lab, now)
    found: list[Overdue] = []
    for stage, rule in lab.policy.timing.items():
        if not lab.policy.has_stage(stage):
            continue
        target = lab.policy.index(stage)
        for inn in lab.innovations.values():
            if not inn.active or lab.policy.index(inn.stage) >= target:
                continue
            due = latest_entry(lab, inn, rule)
            if due is not None and due < moment:
                found.append(Overdue(inn.id, inn.unit, inn.stage, stage, due))
    found.sort(key=lambda o: (o.deadline, o.stage, o.innovation))
    return found


@attrs.frozen
class Blocked:
    """An active innovation held up by unmet requirements of its own, with the verdict."""

    innovation: str
    unit: str
    stage: str
    verdict: Verdict

    def to_dict(self) -> dict[str, Any]:
        return {
            "innovation": self.innovation,
            "unit": self.unit,
            "stage": self.stage,
            "target": self.verdict.target,
            "unmet": [
                {"code": u.code, "en": u.message("en"), "id": u.message("id")}
                for u in self.verdict.unmet
            ],
        }


def blocked(lab: Lab, now: datetime | None = None) -> list[Blocked]:
    """Every active innovation whose next move is held up by more than waiting for the lab.

    An innovation at the lab's stage that has done all its gate asks is not
    blocked (it moves when the lab does), nor is one at the last stage. ``now``
    (default: the lab's clock) is the moment the requirements are checked at.
    """
    _need_lab(lab)
    if now is not None:
        # The same lab, read at ``now``: a view with a fixed clock, not a changed lab.
        moment = _moment(lab, now)
        lab = lab._copy(lambda: moment)
    found: list[Blocked] = []
    for inn in sorted(lab.innovations.values(), key=lambda i: i.id):
        if not inn.active:
            continue
        verdict = lab.check(inn.id)
        own = tuple(u for u in verdict.unmet if u.code not in _WAITING)
        if own:
            found.append(Blocked(inn.id, inn.unit, inn.stage, attrs.evolve(verdict, unmet=own)))
    return found


@attrs.frozen
class Report:
    """Everything ``labflow report`` prints, in one record."""

    lab: str
    region: str
    policy: str
    stage: str
    funnel: Funnel
    #: stage -> the government units with no active innovation at or past it
    units_without: Mapping[str, tuple[str, ...]]
    overdue: tuple[Overdue, ...]
    blocked: tuple[Blocked, ...]
    #: performance agreements whose review is overdue (`overdue_reviews`)
    overdue_reviews: tuple[OverdueReview, ...] = ()
    #: launched innovations with a monev window closed without a record (`monev`)
    overdue_monev: tuple[MonevDue, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "lab": self.lab,
            "region": self.region,
            "policy": self.policy,
            "stage": self.stage,
            "funnel": self.funnel.to_dict(),
            "units_without": {s: list(u) for s, u in self.units_without.items()},
            "overdue": [o.to_dict() for o in self.overdue],
            "blocked": [b.to_dict() for b in self.blocked],
            "overdue_reviews": [o.to_dict() for o in self.overdue_reviews],
            "overdue_monev": [m.to_dict() for m in self.overdue_monev],
        }


def report(lab: Lab, now: datetime | None = None) -> Report:
    """The whole report: funnel, compliance up to the lab's stage, overdue deadlines, blocked
    innovations, and the agreement reviews and monev rounds the policy asks for and are late.

    Everything is read at one moment: ``now`` if given, else the lab's clock read once.
    """
    moment = _moment(lab, now)
    upto = lab.policy.index(lab.stage)
    return Report(
        lab.id,
        lab.region,
        lab.policy.id,
        lab.stage,
        funnel(lab),
        {
            s.id: tuple(u.id for u in units_without(lab, s.id))
            for s in lab.policy.stages[1 : upto + 1]
        },
        tuple(overdue(lab, moment)),
        tuple(blocked(lab, moment)),
        tuple(overdue_reviews(lab, moment)),
        monev_report(lab, moment).overdue,
    )


def html(
    lab: Lab,
    *,
    lang: str = "id",
    now: datetime | None = None,
    verifications: Sequence[Verification] | None = None,
) -> str:
    """The report as one self-contained HTML page (inline SVG charts, no scripts or fonts).

    Needs Jinja2, which the ``cli`` extra brings. ``verifications`` (from `Lab.verify`
    or `Store.verify_all`) put the verification result on the page.
    """
    from labflow._html import render_report

    _need_lab(lab)
    return render_report(lab, lang=lang, now=now, verifications=verifications)


#: The columns of `innovations_csv`, in order.
_CSV_COLUMNS: tuple[str, ...] = (
    "id",
    "title",
    "unit",
    "unit_kind",
    "stage",
    "status",
    "launched",
    "version",
    "head",
)


def innovations_csv(lab: Lab) -> str:
    """The lab's innovations as CSV (one row each, by id), safe to open in a spreadsheet.

    A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return would be read by a spreadsheet as a formula (or a command); it is
    written with a leading ``'``, which spreadsheets show as text.
    """
    _need_lab(lab)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_CSV_COLUMNS)
    for inn in sorted(lab.innovations.values(), key=lambda i: i.id):
        unit = lab.units.get(inn.unit)
        writer.writerow(
            [
                *map(neutral_cell, (inn.id, inn.title, inn.unit)),
                unit.kind.value if unit else "",
                neutral_cell(inn.stage),
                inn.status.value,
                inn.launch.at.isoformat() if inn.launch else "",
                inn.version,
                inn.history[-1].hash,
            ]
        )
    return buffer.getvalue()


@attrs.frozen
class OverdueReview:
    """An active innovation whose performance agreement owes review ``number`` since ``due``."""

    innovation: str
    unit: str
    stage: str
    number: int
    due: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "innovation": self.innovation,
            "unit": self.unit,
            "stage": self.stage,
            "number": self.number,
            "due": self.due.isoformat(),
        }


def overdue_reviews(lab: Lab, now: datetime | None = None) -> list[OverdueReview]:
    """Every active innovation whose agreement review is overdue under the policy's review
    cycle (``[agreement.review]``), the longest overdue first; empty for a policy with none.

    Listed whether the cycle is enforced at the gates or by reports only: after the last
    stage no gate is left to hold an innovation, and a report is where it shows.
    """
    moment = _moment(lab, now)
    if lab.policy.review is None:
        return []
    found: list[OverdueReview] = []
    for inn in lab.innovations.values():
        if not inn.active:
            continue
        owed = review_overdue(lab, inn, moment)
        if owed is not None:
            found.append(OverdueReview(inn.id, inn.unit, inn.stage, *owed))
    found.sort(key=lambda o: (o.due, o.innovation))
    return found


def exhibition(lab: Lab, exhibition_id: str, lang: str = "en") -> str:
    """An exhibition's booths as a secretariat lists them: each booth's holder (an outside
    exhibitor marked so), what it shows and its live services (``lang``: ``en`` or ``id``)."""
    _need_lab(lab)
    return exhibition_report(lab, exhibition_id, lang)


def monev(lab: Lab, now: datetime | None = None) -> MonevReport:
    """Monitoring (monev) of every active launched innovation at one moment: the records so
    far, the windows of the policy's ``[monev]`` obligation that closed without one
    (overdue), the one due next, and the latest findings and follow-up."""
    return monev_report(lab, now)
