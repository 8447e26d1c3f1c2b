"""What the benchmarks share: a stepping clock, the cast of a lab, and filling a gate.

Imported by sibling scripts (``python benchmarks/bench_x.py`` puts this folder on the path).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import labflow
from labflow import Actor, Diagnosis, Innovation, Lab, PlanStep, Role, Unit


class Clock:
    """An aware clock that moves on by ``step`` at every reading."""

    def __init__(self, step: timedelta = timedelta(seconds=1)) -> None:
        self.now = datetime(2016, 3, 1, 8, tzinfo=UTC)
        self.step = step

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now


def cast(units: Sequence[Unit]) -> list[Actor]:
    """The secretariat, the Bupati, and a head (``kepala-``) and innovator (``staf-``) per unit."""
    return [
        Actor("sekretariat", "Sekretariat", {Role.SECRETARIAT}),
        Actor("bupati", "Bupati", {Role.REGIONAL_HEAD}),
        *(Actor(f"kepala-{u.id}", f"Kepala {u.name}", {Role.UNIT_HEAD}, u.id) for u in units),
        *(Actor(f"staf-{u.id}", f"Staf {u.name}", {Role.INNOVATOR}, u.id) for u in units),
    ]


def open_lab(lab_id: str, units: Sequence[Unit], clock: Clock) -> Lab:
    """A lan-5d lab with ``units`` and their `cast`."""
    return Lab.create(
        labflow.load_policy("lan-5d"),
        id=lab_id,
        region=lab_id.title(),
        by="sekretariat",
        units=units,
        actors=cast(units),
        clock=clock,
    )


def fill_gate(lab: Lab, inn: Innovation, target: str) -> None:
    """Record what lan-5d's gate into ``target`` asks of ``inn`` (by the `cast`)."""
    head, staff = f"kepala-{inn.unit}", f"staf-{inn.unit}"
    if target == "design":
        lab.record_diagnosis(inn.id, Diagnosis("Layanan lambat", ["Prosedur"]), by=staff)
        lab.grant_permission(inn.id, reference="800/1", by=head)
    elif target == "deliver":
        step = PlanStep("Susun SOP", "Kasubag", date(2016, 6, 1))
        lab.submit_plan(inn.id, steps=[step], by=staff)
        lab.approve_plan(inn.id, by=head)
        lab.draw_up_agreement(inn.id, regional_head="bupati", unit_head=head, by="sekretariat")
        lab.sign_agreement(inn.id, by="bupati")
        lab.sign_agreement(inn.id, by=head)
    elif target == "display":
        lab.attach_evidence(inn.id, title="SK Bupati", reference="SK-1", by=staff)
