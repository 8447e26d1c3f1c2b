"""Plain-Python fixtures shared by the unit tests: a small lab on a fixed clock, and refusals.

`make_lab` opens a lab with a known cast (two agencies, a clinic, a community
group; a secretariat, the Bupati, a facilitator, an auditor, and a head and an
innovator per government unit). `prepare` records exactly what a stage's gate
in the bundled presets asks for, and `bring_to` walks the whole lab and its
innovations forward. `refused` asserts that a command raises *and* that the
lab, every innovation, their histories and versions are exactly as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

import labflow as lf
from labflow import Actor, Role, Unit

START = datetime(2016, 5, 1, 8, 0, tzinfo=UTC)


class FixedClock:
    """A deterministic clock: each reading is one ``step`` after the last, from ``start``."""

    def __init__(self, start: datetime = START, step: timedelta = timedelta(minutes=1)) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now

    def set(self, moment: datetime) -> None:
        """The next reading is ``moment``."""
        self.now = moment - self.step


UNITS = (
    Unit("bag-tapem", "Bagian Tata Pemerintahan", "agency"),
    Unit("dinkes", "Dinas Kesehatan", "agency"),
    Unit("pkm-gombong", "UPT Puskesmas Gombong", "clinic"),
    Unit("komunitas", "Komunitas Peduli Kebumen", "community"),
)
GOVERNMENT_UNITS = ("bag-tapem", "dinkes", "pkm-gombong")

ACTORS = (
    Actor("sekretariat", "Sekretariat Labinov", {Role.SECRETARIAT}),
    Actor("bupati", "Bupati Kebumen", {Role.REGIONAL_HEAD}),
    Actor("fasilitator", "Fasilitator LAN", {Role.FACILITATOR}),
    Actor("inspektorat", "Inspektorat", {Role.AUDITOR}),
    Actor("kabag-tapem", "Kabag Tapem", {Role.UNIT_HEAD}, "bag-tapem"),
    Actor("staf-tapem", "Staf Tapem", {Role.INNOVATOR}, "bag-tapem"),
    Actor("kadinkes", "Kepala Dinas Kesehatan", {Role.UNIT_HEAD}, "dinkes"),
    Actor("staf-dinkes", "Staf Dinkes", {Role.INNOVATOR}, "dinkes"),
    Actor("kapus", "Kepala Puskesmas Gombong", {Role.UNIT_HEAD}, "pkm-gombong"),
    Actor("staf-pkm", "Staf Puskesmas", {Role.INNOVATOR}, "pkm-gombong"),
    Actor("warga", "Warga Komunitas", {Role.INNOVATOR}, "komunitas"),
)

#: The head and an innovator of each unit.
HEAD = {"bag-tapem": "kabag-tapem", "dinkes": "kadinkes", "pkm-gombong": "kapus"}
STAFF = {"bag-tapem": "staf-tapem", "dinkes": "staf-dinkes", "pkm-gombong": "staf-pkm"}


def make_lab(
    policy: str | lf.Policy = "lan-5d",
    *,
    units: Iterable[Unit] = UNITS,
    actors: Iterable[Actor] = ACTORS,
    clock: FixedClock | None = None,
    lab_id: str = "kebumen",
) -> lf.Lab:
    """A lab on the given policy (a preset name or a Policy) with the standard cast."""
    loaded = lf.load_policy(policy) if isinstance(policy, str) else policy
    return lf.Lab.create(
        loaded,
        id=lab_id,
        region="Kabupaten Kebumen",
        by="sekretariat",
        units=units,
        actors=actors,
        clock=clock or FixedClock(),
    )


def register(lab: lf.Lab, innovation_id: str, unit: str = "bag-tapem", **kw: Any) -> lf.Event:
    """Register an idea of ``unit``, by its innovator, with sensible defaults."""
    args: dict[str, Any] = {
        "title": f"Inovasi {innovation_id}",
        "unit": unit,
        "innovators": ["Tim Inovasi"],
        "problem": "Layanan lambat",
        "by": STAFF.get(unit, "sekretariat"),
    }
    args.update(kw)
    return lab.register(innovation_id, **args)


def cohort(lab: lf.Lab) -> list[str]:
    """Register one innovation in each government unit (what the cohort conditions ask)."""
    ids = [f"ino-{unit}" for unit in GOVERNMENT_UNITS]
    for ident, unit in zip(ids, GOVERNMENT_UNITS, strict=True):
        register(lab, ident, unit)
    return ids


def plan_steps() -> list[lf.PlanStep]:
    return [lf.PlanStep("Susun SOP", "Kasubag", date(2016, 6, 1))]


def prepare(lab: lf.Lab, innovation_id: str, stage: str) -> None:
    """Record what the presets' gate of ``stage`` asks of the innovation (if not done yet)."""
    inn = lab.innovation(innovation_id)
    head = HEAD[inn.unit]
    staff = STAFF[inn.unit]
    if stage == "design":
        if inn.diagnosis is None:
            lab.record_diagnosis(innovation_id, lf.Diagnosis("Antre lama", ["SOP"]), by=staff)
        if inn.permission is None:
            lab.grant_permission(innovation_id, reference="800/1", by=head)
    elif stage == "deliver":
        if inn.action_plan is None:
            lab.submit_plan(innovation_id, steps=plan_steps(), by=staff)
        if not lab.innovation(innovation_id).action_plan.approved:  # type: ignore[union-attr]
            lab.approve_plan(innovation_id, by=head)
        if inn.agreement is None:
            lab.draw_up_agreement(
                innovation_id, regional_head="bupati", unit_head=head, by="sekretariat"
            )
            lab.sign_agreement(innovation_id, by="bupati")
            lab.sign_agreement(innovation_id, by=head)
    elif stage == "display":
        if not inn.evidence:
            lab.attach_evidence(innovation_id, title="SK", reference="doc-1", by=staff)
    elif stage == "documentation":
        if inn.exhibit is None:
            lab.register_exhibit(innovation_id, event="Expo", by=staff)
        if len(lab.innovation(innovation_id).evidence) < 2:
            lab.attach_evidence(innovation_id, title="Data", reference="doc-2", by=staff)


def bring_to(
    lab: lf.Lab, stage: str, ids: Iterable[str] | None = None, *, launch: bool = True
) -> None:
    """Move the lab and the innovations ``ids`` (default: all) forward to ``stage``.

    At the stage covering *deliver* they are launched at one ceremony, unless ``launch``
    is false and ``stage`` is that stage.
    """
    chosen = list(lab.innovations) if ids is None else list(ids)
    target = lab.policy.index(stage)
    while lab.policy.index(lab.stage) < target:
        nxt = lab.policy.stages[lab.policy.index(lab.stage) + 1].id
        for ident in chosen:
            prepare(lab, ident, nxt)
        lab.advance_lab(by="sekretariat")
        for ident in chosen:
            lab.advance(ident, by="sekretariat")
        if "deliver" in lab.policy.stage(nxt).covers and (launch or nxt != stage):
            lab.launch_cohort(ceremony="Peluncuran", by="bupati", innovations=chosen)


def snapshot(lab: lf.Lab) -> dict[str, Any]:
    """Everything a refusal must leave alone, copied so later changes cannot alias it."""
    return {
        "stage": lab.stage,
        "version": lab.version,
        "history": tuple(lab.history),
        "units": dict(lab.units),
        "actors": dict(lab.actors),
        "innovations": {k: (v, v.version) for k, v in lab.innovations.items()},
    }


@contextmanager
def refused(
    lab: lf.Lab, error: type[BaseException], match: str | None = None
) -> Iterator[pytest.ExceptionInfo[BaseException]]:
    """Expect ``error`` from the block, and that the lab is exactly as before."""
    before = snapshot(lab)
    with pytest.raises(error, match=match) as info:
        yield info
    assert snapshot(lab) == before


def body(event: lf.Event) -> dict[str, Any]:
    """An event's payload without its schema version and the lab version it saw.

    Asserts the payload is of the current schema and, for an innovation's event,
    records a lab version.
    """
    payload = dict(event.payload)
    assert payload.pop("v") == 2
    if event.kind.startswith("innovation."):
        assert isinstance(payload.pop("lab_v"), int)
    return payload
