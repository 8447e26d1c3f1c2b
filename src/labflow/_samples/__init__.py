"""The sample cohorts shipped with labflow and the ``labflow demo`` scenario.

The cohorts are the CSV files of ``examples/<region>/`` (units and innovations of
Kebumen 2016, Kudus 2017, Banyumas 2017). A wheel carries them here, in
``labflow/_samples/<region>/``, so that ``labflow demo`` works from an installed
package with no other file; in a source checkout they are read from
``examples/`` directly. They are read with `labflow.cohort`, as a user's CSV is.

The demo runs a region's lab the way the secretariat did: every idea
registered, the lab moved stage by stage, each innovation given what its gates
ask, one launch ceremony, evidence and exhibits -- with a few innovations held
back for reasons that happened in real labs (a plan its unit head never
approved, an agreement left unsigned, no written permission for a civil-servant
initiator, no evidence, an idea withdrawn).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

import attrs

from labflow.cohort import IdeaRow, read_innovations, read_units
from labflow.lab import CeremonyResult, Lab
from labflow.model import Actor, Diagnosis, Initiator, PlanStep, Role, Unit
from labflow.policy import Policy, available_presets, load_policy
from labflow.store import Append, Store

__all__ = [
    "REGIONS",
    "Cohort",
    "DemoResult",
    "Region",
    "cast",
    "load_cohort",
    "run_demo",
]

T = TypeVar("T")
#: Wraps an iterable of work with a progress display: ``progress(label, items)``.
Progress = Callable[[str, Sequence[Any]], Iterable[Any]]


def _no_progress(label: str, items: Sequence[T]) -> Iterable[T]:
    return items


@attrs.frozen
class Region:
    """A sample region: its cohort folder, preset, and the dates of its lab."""

    key: str
    name: str
    preset: str
    start: datetime
    ceremony: str
    exhibition: str


REGIONS: dict[str, Region] = {
    r.key: r
    for r in (
        Region(
            "kebumen",
            "Kabupaten Kebumen",
            "kebumen-2016",
            datetime(2016, 3, 1, 1, 0, tzinfo=UTC),
            "Peluncuran 182 Inovasi Kabupaten Kebumen",
            "Pameran Inovasi Kabupaten Kebumen",
        ),
        Region(
            "kudus",
            "Kabupaten Kudus",
            "kudus-2017",
            datetime(2017, 3, 1, 1, 0, tzinfo=UTC),
            "Peluncuran Inovasi Kabupaten Kudus",
            "Pameran Inovasi Kudus, 21-22 Desember 2017",
        ),
        Region(
            "banyumas",
            "Kabupaten Banyumas",
            "banyumas-2017",
            datetime(2017, 4, 1, 1, 0, tzinfo=UTC),
            "Peluncuran Inovasi Kabupaten Banyumas",
            "Gelar Inovasi Kabupaten Banyumas",
        ),
    )
}


# --- Reading cohorts ---------------------------------------------------------------------------


@attrs.frozen
class Cohort:
    """A sample region's units and ideas, as its CSV files list them."""

    units: tuple[Unit, ...]
    ideas: tuple[IdeaRow, ...]


def _folder(region: str) -> Traversable | Path:
    packaged = resources.files("labflow") / "_samples" / region
    if packaged.is_dir():
        return packaged
    # A source checkout (an editable install): the cohorts live in examples/.
    checkout = Path(__file__).resolve().parents[3] / "examples" / region
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"the sample cohort {region!r} is not installed")


def load_cohort(region: str) -> Cohort:
    """The units and ideas of a sample region (``kebumen``, ``kudus``, ``banyumas``)."""
    folder = _folder(region)
    units = read_units((folder / "units.csv").read_text(encoding="utf-8"), f"{region}/units.csv")
    ideas = read_innovations(
        (folder / "innovations.csv").read_text(encoding="utf-8"), f"{region}/innovations.csv"
    )
    return Cohort(tuple(units), tuple(ideas))


def head_of(unit: str) -> str:
    return f"kepala-{unit}"


def innovator_of(unit: str) -> str:
    return f"inovator-{unit}"


def cast(units: Iterable[Unit], region: str = "") -> list[Actor]:
    """The demo's people: the secretariat, the regional head, a facilitator, an auditor,
    and a head and an innovator for every unit."""
    people = [
        Actor("sekretariat", "Sekretariat Laboratorium Inovasi", {Role.SECRETARIAT}),
        Actor("bupati", f"Bupati {region}".strip(), {Role.REGIONAL_HEAD}),
        Actor("fasilitator", "Fasilitator LAN", {Role.FACILITATOR}),
        Actor("inspektorat", "Inspektorat", {Role.AUDITOR}),
    ]
    for unit in units:
        people.append(Actor(head_of(unit.id), f"Kepala {unit.name}", {Role.UNIT_HEAD}, unit.id))
        people.append(
            Actor(innovator_of(unit.id), f"Inovator {unit.name}", {Role.INNOVATOR}, unit.id)
        )
    return people


# --- The demo ----------------------------------------------------------------------------------


class _PhaseClock:
    """Readings a few minutes apart, jumped forward at each phase of the lab."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=3)
        return self.now

    def jump(self, days: int) -> None:
        self.now += timedelta(days=days)


@attrs.frozen
class DemoResult:
    lab: Lab
    policy: Policy
    ceremony: CeremonyResult | None
    faults: dict[str, str]


#: Why an innovation is held back, keyed by what the demo leaves undone.
FAULTS = ("unapproved", "no_permission", "unsigned", "no_evidence", "withdrawn")


def _faults(cohort: Cohort) -> dict[str, str]:
    """Hold back some innovations -- never a government unit's first, so that the cohort
    conditions ("one agency, one innovation") still hold."""
    chosen: dict[str, str] = {}
    seen = {u.id for u in cohort.units if not u.kind.government}
    for n, idea in enumerate(cohort.ideas):
        if idea.unit not in seen:
            seen.add(idea.unit)
            continue
        fault = {3: "unapproved", 7: "no_permission", 11: "unsigned", 15: "no_evidence"}.get(n % 19)
        if n % 29 == 21:
            fault = "withdrawn"
        if fault == "no_permission" and idea.initiator is not Initiator.ASN:
            fault = None
        if fault is not None:
            chosen[idea.id] = fault
    return chosen


def run_demo(
    store: Store, region: str = "kebumen", *, progress: Progress = _no_progress
) -> DemoResult:
    """Create the region's lab in ``store`` and run it from registration to display."""
    where = REGIONS[region]
    cohort = load_cohort(region)
    policy = load_policy(where.preset if where.preset in available_presets() else "lan-5d")
    clock = _PhaseClock(where.start)
    lab = Lab.create(
        policy,
        id=region,
        region=where.name,
        by="sekretariat",
        units=cohort.units,
        actors=cast(cohort.units, where.name.replace("Kabupaten ", "")),
        clock=clock,
    )
    store.commit(lab.id, [Append(lab.id, 0, lab.history, lab=True)])
    faults = _faults(cohort)
    ideas = {i.id: i for i in cohort.ideas}
    session = store.session(lab.id, clock=clock, registry=policy.registry)
    ceremony: CeremonyResult | None = None
    with session as lab:

        def done() -> None:
            session.commit()  # one transaction per command, as a secretariat would work

        for idea in progress("Registering ideas", cohort.ideas):
            lab.register(
                idea.id,
                title=idea.title,
                unit=idea.unit,
                innovators=idea.innovators,
                problem=idea.problem,
                initiator=idea.initiator,
                by=innovator_of(idea.unit),
            )
            done()

        def fulfil(ident: str, codes: Iterable[str]) -> None:
            inn = lab.innovation(ident)
            fault = faults.get(ident)
            head, staff = head_of(inn.unit), innovator_of(inn.unit)
            idea = ideas[ident]
            for code in codes:
                if code in ("diagnosis.missing", "diagnosis.too_few_causes"):
                    diagnosis = Diagnosis(
                        idea.problem,
                        ["Prosedur manual", "Data tidak terintegrasi", "Koordinasi lemah"],
                        "Pimpinan unit mendukung; SDM perlu pendampingan.",
                    )
                    lab.record_diagnosis(ident, diagnosis, by=staff)
                elif code == "permission.missing" and fault != "no_permission":
                    lab.grant_permission(ident, reference=f"800/{len(lab.history)}", by=head)
                elif code in ("action_plan.missing", "action_plan.too_few_steps") or (
                    code == "action_plan.not_approved" and inn.action_plan is None
                ):
                    due = lab.now().date()
                    steps = [
                        PlanStep(text, "Ketua tim inovasi", due + timedelta(days=30 * (k + 1)))
                        for k, text in enumerate(
                            ("Menyusun SOP", "Uji coba layanan", "Sosialisasi kepada warga")
                        )
                    ]
                    lab.submit_plan(ident, steps=steps, budget=25_000_000, by=staff)
                    done()
                    if code == "action_plan.not_approved":
                        lab.approve_plan(ident, by=head)
                elif code == "action_plan.not_approved" and fault != "unapproved":
                    lab.approve_plan(ident, by=head)
                elif code == "agreement.missing":
                    lab.draw_up_agreement(
                        ident, regional_head="bupati", unit_head=head, by="sekretariat"
                    )
                    lab.sign_agreement(ident, by="bupati")
                    if fault != "unsigned":
                        lab.sign_agreement(ident, by=head)
                elif code == "agreement.unsigned.regional_head":
                    lab.sign_agreement(ident, by="bupati")
                elif code == "agreement.unsigned.unit_head" and fault != "unsigned":
                    lab.sign_agreement(ident, by=head)
                elif code == "evidence.too_few" and fault != "no_evidence":
                    for k in range(2):
                        lab.attach_evidence(
                            ident,
                            title=("SK Kepala Unit", "Laporan pelaksanaan")[k],
                            reference=f"{ident}/bukti-{k + 1}",
                            by=staff,
                        )
                else:
                    continue
                done()

        def active() -> list[str]:
            return [i.id for i in lab.innovations.values() if i.active]

        while "display" not in policy.stage(lab.stage).covers:
            nxt = policy.stages[policy.index(lab.stage) + 1]
            clock.jump(40)
            label = nxt.label_id if nxt.label_id else nxt.id
            for ident in progress(f"Preparing: {label}", active()):
                fulfil(ident, lab.check(ident).codes)
                if faults.get(ident) == "withdrawn" and "design" in nxt.covers:
                    lab.withdraw(
                        ident,
                        reason="Digabung dengan inovasi lain di unit yang sama.",
                        by="sekretariat",
                    )
                    done()
            lab.advance_lab(by="sekretariat")
            done()
            for ident in progress(f"Advancing to {nxt.id}", active()):
                if lab.check(ident).ok:
                    lab.advance(ident, by="sekretariat")
                    done()
            if "deliver" in nxt.covers:
                ready = [i for i in active() if lab.innovation(i).stage == nxt.id]
                for ident in progress("Preparing the launch", ready):
                    fulfil(ident, lab.check_launch(ident).codes)
                clock.jump(7)
                ceremony = lab.launch_cohort(
                    ceremony=where.ceremony, by="bupati", innovations=ready
                )
                done()
        for ident in progress("Registering exhibits", active()):
            inn = lab.innovation(ident)
            if "display" in policy.stage(inn.stage).covers and inn.exhibit is None:
                booth = f"Stan {len(lab.history) % 97 + 1}"
                lab.register_exhibit(
                    ident, event=where.exhibition, booth=booth, by=innovator_of(inn.unit)
                )
                done()
    return DemoResult(lab, policy, ceremony, faults)
