"""The sample cohorts shipped with labflow and the ``labflow demo`` scenario.

The cohorts are the CSV files of ``examples/<region>/`` (units and innovations of
Kebumen 2016, Kudus 2017, Banyumas 2017; Kudus also lists its exhibition booths).
A wheel carries them here, in ``labflow/_samples/<region>/``, so that ``labflow
demo`` works from an installed package with no other file; in a source checkout
they are read from ``examples/`` directly. They are read with `labflow.cohort`, as
a user's CSV is.

The demo runs a region's lab the way the secretariat did, on the dates and with the
headline numbers the source articles report (``examples/<region>/README.md`` lists
them and which details are illustrative): Kebumen launches all 182 innovations at one
ceremony and signs the performance agreements right after it; Kudus launches at its
July 2017 workshop, launches Desa Cerdas and the Command Center at the December 2017
exhibition, and fills 30 booths, the non-government exhibitors joining only for the
exhibition; Banyumas shows 92 innovations at its festival of 26 November 2017. Every
ceremony and exhibit happens in local working hours (WIB). A few innovations are held
back for reasons that happen in real labs, only where the story allows it: after the
launch in Kebumen (an agreement left unsigned, no evidence), before the exhibition in
Kudus, and among ideas beyond the 92 shown in Banyumas.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

import attrs

from labflow.cohort import IdeaRow, read_innovations, read_units
from labflow.lab import CeremonyResult, Lab
from labflow.model import Actor, Diagnosis, Exhibitor, PlanStep, Role, Unit
from labflow.policy import Policy, available_presets, load_policy
from labflow.store import Append, Store

__all__ = [
    "REGIONS",
    "WIB",
    "WORKING_HOURS",
    "Cohort",
    "DemoResult",
    "Region",
    "cast",
    "load_booths",
    "load_cohort",
    "run_demo",
]

T = TypeVar("T")
#: Wraps an iterable of work with a progress display: ``progress(label, items)``.
Progress = Callable[[str, Sequence[Any]], Iterable[Any]]

#: Western Indonesian Time, the local time of the three sample regions.
WIB = timezone(timedelta(hours=7), "WIB")
#: The local working day: ceremonies, exhibits and the secretariat's work happen within it.
WORKING_HOURS = (time(7, 0), time(17, 0))


def _no_progress(label: str, items: Sequence[T]) -> Iterable[T]:
    return items


def _wib(year: int, month: int, day: int, hour: int = 8) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=WIB)


@attrs.frozen
class Region:
    """A sample region: its cohort folder, preset, and the dates and events of its lab.

    ``stages`` gives the local morning on which the lab enters each later stage;
    ``faults`` the innovations the demo holds back and how (see `FAULTS`);
    ``launched_at_exhibition`` the innovations launched at the exhibition rather than the
    ceremony; ``agreements_at_launch`` signs the performance agreements right after the
    ceremony; ``exhibitors_join_at_display`` registers the non-government units' entries
    only when the exhibition opens, and never launches them.
    """

    key: str
    name: str
    preset: str
    start: datetime
    stages: Mapping[str, datetime]
    ceremony_at: datetime
    ceremony: str
    exhibition: str
    #: the exhibition's id, venue and days (first, last) as the lab records it
    exhibition_id: str
    venue: str
    days: tuple[date, date]
    faults: Mapping[str, str] = attrs.field(factory=dict)
    launched_at_exhibition: tuple[str, ...] = ()
    exhibition_launch: str = ""
    agreements_at_launch: bool = False
    exhibitors_join_at_display: bool = False


REGIONS: dict[str, Region] = {
    r.key: r
    for r in (
        Region(
            "kebumen",
            "Kabupaten Kebumen",
            "kebumen-2016",
            _wib(2016, 3, 1),
            {"design": _wib(2016, 4, 4), "deliver": _wib(2016, 5, 30), "display": _wib(2016, 9, 1)},
            _wib(2016, 6, 8, 9),
            "Peluncuran 182 Inovasi Kabupaten Kebumen, Pendopo Rumah Dinas Bupati",
            "Pameran Inovik Kabupaten Kebumen",
            "pameran-inovik-2016",
            "Kabupaten Kebumen",  # the sources name no venue
            (date(2016, 9, 1), date(2016, 9, 1)),
            faults={"kredit-musim-tanam": "unsigned", "aset-tertib": "no_evidence"},
            agreements_at_launch=True,
        ),
        Region(
            "kudus",
            "Kabupaten Kudus",
            "kudus-2017",
            _wib(2016, 8, 15),
            {
                "diagnose": _wib(2016, 10, 3),
                "design": _wib(2017, 2, 6),
                "deliver": _wib(2017, 7, 24),
                "display": _wib(2017, 12, 21),
            },
            _wib(2017, 7, 26, 9),
            "Workshop dan Peluncuran Inovasi Kabupaten Kudus",
            "Pameran Inovasi Pelayanan Publik Kabupaten Kudus, 21-22 Desember 2017",
            "pameran-inovasi-2017",
            "Halaman Pendopo Kabupaten Kudus",
            (date(2017, 12, 21), date(2017, 12, 22)),
            faults={"bus-sekolah": "unsigned", "akta-sebelum-pulang": "no_evidence"},
            launched_at_exhibition=("desa-cerdas", "command-center"),
            exhibition_launch="Peluncuran Desa Cerdas dan Command Center, Pameran Inovasi Kudus",
            exhibitors_join_at_display=True,
        ),
        Region(
            "banyumas",
            "Kabupaten Banyumas",
            "banyumas-2017",
            _wib(2017, 2, 1),
            {
                "diagnose": _wib(2017, 3, 6),
                "design": _wib(2017, 4, 10),
                "deliver": _wib(2017, 8, 1),
                "display": _wib(2017, 11, 26),
            },
            _wib(2017, 8, 8, 9),
            "Peluncuran Inovasi Kabupaten Banyumas",
            "Festival Kinerja Pembangunan Kabupaten Banyumas, Alun-alun Purwokerto",
            "festival-kinerja-2017",
            "Alun-alun Purwokerto",
            (date(2017, 11, 26), date(2017, 11, 26)),
            faults={
                "pbb-desa-online": "withdrawn",
                "kompos-sekolah": "unapproved",
                "akta-lahir-bidan": "no_permission",
            },
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


def load_booths(region: str) -> dict[str, str]:
    """Each holder's booth at the region's exhibition, where ``booths.csv`` lists them.

    A booth belongs to one unit or outside exhibitor and shows all of its exhibited work
    (Kudus: RSUD Loekmono Hadi's booth showed K-119, hemodialysis and mental-health care).
    Empty for a region whose sources say nothing about its booths.
    """
    return {holder: booth for holder, (booth, _) in _booth_rows(region).items()}


def _booth_rows(region: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Each holder's booth and the live services offered at it, in ``booths.csv`` order."""
    path = _folder(region) / "booths.csv"
    if not path.is_file():
        return {}
    rows = csv.DictReader(path.read_text(encoding="utf-8").splitlines())
    return {
        row["unit"]: (row["booth"], tuple(x.strip() for x in row["services"].split(";") if x))
        for row in rows
    }


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
    """Readings ten seconds apart within a working day, jumped to each event of the lab."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=10)
        return self.now

    def jump(self, moment: datetime) -> None:
        self.now = max(self.now, moment)


@attrs.frozen
class DemoResult:
    lab: Lab
    policy: Policy
    ceremony: CeremonyResult | None
    faults: dict[str, str]


#: Why an innovation is held back, keyed by what the demo leaves undone.
FAULTS = ("unapproved", "no_permission", "unsigned", "no_evidence", "withdrawn")


def run_demo(
    store: Store, region: str = "kebumen", *, progress: Progress = _no_progress
) -> DemoResult:
    """Create the region's lab in ``store`` and run it from registration to display."""
    where = REGIONS[region]
    cohort = load_cohort(region)
    booths = _booth_rows(region)
    policy = load_policy(where.preset if where.preset in available_presets() else "lan-5d")
    clock = _PhaseClock(where.start)
    # Exhibitors from outside government take part in the exhibition only: not units of the lab.
    outside = [
        u for u in cohort.units if where.exhibitors_join_at_display and not u.kind.government
    ]
    members = [u for u in cohort.units if u not in outside]
    lab = Lab.create(
        policy,
        id=region,
        region=where.name,
        by="sekretariat",
        units=members,
        actors=cast(members, where.name.replace("Kabupaten ", "")),
        clock=clock,
    )
    store.commit(lab.id, [Append(lab.id, 0, lab.history, lab=True)])
    faults = dict(where.faults)
    ideas = {i.id: i for i in cohort.ideas}
    late = [i for i in cohort.ideas if i.unit in {u.id for u in outside}]
    session = store.session(lab.id, clock=clock, registry=policy.registry)
    ceremony: CeremonyResult | None = None
    with session as lab:

        def done() -> None:
            session.commit()  # one transaction per command, as a secretariat would work

        def register(ideas_: Sequence[IdeaRow], label: str) -> None:
            for idea in progress(label, ideas_):
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

        register([i for i in cohort.ideas if i not in late], "Registering ideas")

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
                    if code == "action_plan.not_approved" and fault != "unapproved":
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
            clock.jump(where.stages[nxt.id])
            label = nxt.label_id if nxt.label_id else nxt.id
            for ident in progress(f"Preparing: {label}", active()):
                if ident in where.launched_at_exhibition and "display" in nxt.covers:
                    continue  # launched at the exhibition, not before it
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
            if policy.launches_at(nxt.id):
                ready = [
                    i
                    for i in active()
                    if lab.innovation(i).stage == nxt.id and i not in where.launched_at_exhibition
                ]
                for ident in progress("Preparing the launch", ready):
                    fulfil(ident, lab.check_launch(ident).codes)
                clock.jump(where.ceremony_at)
                ceremony = lab.launch_cohort(
                    ceremony=where.ceremony, by="bupati", innovations=ready
                )
                done()
                if where.agreements_at_launch:  # signed right after the ceremony
                    for ident in progress("Signing the agreements", ceremony.launched):
                        codes = lab.check(ident).codes
                        fulfil(ident, [c for c in codes if c.startswith("agreement.")])
        # The exhibition opens: its booths, what is launched there, and the exhibitors from
        # outside government, who take part in the exhibition only (never launched by the
        # regent, no lab lifecycle).
        clock.jump(datetime.combine(where.days[0], WORKING_HOURS[0], WIB))
        show = where.exhibition_id
        lab.open_exhibition(
            show,
            name=where.exhibition,
            venue=where.venue,
            starts=where.days[0],
            ends=where.days[1],
            by="sekretariat",
        )
        done()
        for unit in progress("Registering exhibitors", outside):
            exhibitor = Exhibitor(unit.id, unit.name, unit.kind)
            lab.register_exhibitor(show, exhibitor=exhibitor, by="sekretariat")
            done()
        shown_by: dict[str, list[str]] = {}
        for idea in late:
            shown_by.setdefault(idea.unit, []).append(idea.title)
        holders = {**dict.fromkeys(booths), **dict.fromkeys(u.id for u in members)}
        shown_units = {lab.innovation(i).unit for i in active()}
        for holder in progress("Adding booths", list(holders)):
            if holder not in booths and holder not in shown_units:
                continue  # a unit with nothing to show has no booth
            booth, services = booths.get(holder, (f"Stan {holder}", ()))
            lab.add_booth(
                show,
                booth=booth,
                holder=holder,
                services=services,
                showcases=shown_by.get(holder, ()),
                by="sekretariat",
            )
            done()
        for ident in where.launched_at_exhibition:
            fulfil(ident, lab.check_launch(ident).codes)
            lab.record_launch(ident, ceremony=where.exhibition_launch, exhibition=show, by="bupati")
            done()
            fulfil(ident, lab.check(ident).codes)
            lab.advance(ident, by="sekretariat")
            done()
        stands = {holder: booth for holder, (booth, _) in booths.items()}
        for ident in progress("Registering exhibits", active()):
            inn = lab.innovation(ident)
            if "display" in policy.stage(inn.stage).covers and inn.exhibit is None:
                lab.register_exhibit(
                    ident,
                    exhibition=show,
                    booth=stands.get(inn.unit, f"Stan {inn.unit}"),
                    by=innovator_of(inn.unit),
                )
                done()
    return DemoResult(lab, policy, ceremony, faults)
