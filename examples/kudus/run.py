"""Kudus: the 2016-17 lab under its 2017 rules, and the 2019 rules as a separate scenario.

Run it from the repository root with ``python examples/kudus/run.py`` (add ``id`` for the
reasons in Indonesian; ``2019`` for the 2019 scenario). It loads ``units.csv``,
``innovations.csv`` and ``booths.csv``.

``run()`` -- the lab from the MoU (August 2016) to the exhibition of 21-22 December 2017,
under the ``kudus-2017`` rules plus Kudus's own rule that a replicated innovation must say
how it was adapted to Kudus (the Head of LAN praised Kudus for exactly that):

- drum-up, diagnose, design and deliver run as four separate stages; the launch workshop
  is held on 26 July 2017;
- Disdukcapil's Dukcapil Jemput Bola, a replica that does not say how it fits Kudus, stays
  in design; Dishub's head never signs the agreement for Bus Sekolah, so it is not
  launched; Disdukcapil brings no evidence for Akta Sebelum Pulang, so it is not shown --
  each unit still has its booth, with its other innovations;
- Desa Cerdas and the Command Center are launched at the exhibition itself, as the
  sources announce;
- the exhibition (an exhibition of the lab, held at the pendopo's grounds) fills 30 booths
  (RSUD Loekmono Hadi's shows K-119, hemodialysis and mental-health care); the community,
  private, academic and vertical exhibitors are registered for the exhibition only -- no
  lab lifecycle, never launched by the Bupati -- and show their work at their booths; the
  live services the sources list (SIM online, at the police's booth, among them) are
  offered at the booths of ``booths.csv``.

``run_2019()`` -- the rules announced on Monday 2 December 2019 (preset ``kudus-2019``):
every agency enters its innovation data, and "one public official, one innovation". Satpol
PP enters its data late and Diskominfo and DPMPTSP have two officials but one innovation
each, so the lab cannot leave diagnose until they catch up.

Both return an outcome so that tests and other tools can reuse the scenario.
"""

from __future__ import annotations

import csv
import logging
import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import attrs
import structlog

import labflow
import labflow.views
from labflow import (
    GOVERNMENT_KINDS,
    Actor,
    Diagnosis,
    Exhibitor,
    Lab,
    PlanStep,
    Role,
    Unit,
    Verdict,
)

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # run as a script or loaded by path: find kudus_rules beside us
    sys.path.insert(0, str(HERE))

import kudus_rules  # noqa: E402

WIB = timezone(timedelta(hours=7), "WIB")

ADAPTED_REPLICA = "kudus-smart-service"
UNADAPTED_REPLICA = "dukcapil-jemput-bola"
UNSIGNED = "bus-sekolah"
NO_EVIDENCE = "akta-sebelum-pulang"
#: Announced to be launched at the exhibition itself (ANTARA and GNFI, December 2017).
LAUNCHED_AT_EXHIBITION = ("desa-cerdas", "command-center")
WORKSHOP = "Workshop dan Peluncuran Inovasi Kabupaten Kudus"
EXHIBITION = "Pameran Inovasi Pelayanan Publik Kabupaten Kudus, 21-22 Desember 2017"
EXHIBITION_ID = "pameran-inovasi-2017"
VENUE = "Halaman Pendopo Kabupaten Kudus"
EXHIBITION_LAUNCH = "Peluncuran Desa Cerdas dan Command Center, Pameran Inovasi Kudus"

#: 2019: units with a second public official (a sekretaris dinas) besides their head.
TWO_OFFICIALS = ("diskominfo", "dpmptsp")
#: 2019: the agency that enters its innovation data late.
LATE_ENTRY = "satpol-pp"


class Clock:
    """A deterministic clock: each reading is ten seconds after the last, so that a morning's
    work stays within the morning; `jump` skips ahead."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=10)
        return self.now

    def jump(self, moment: datetime) -> None:
        self.now = max(self.now, moment)


@attrs.frozen
class Outcome:
    """Where the 2017 lab ended: launched, exhibited and at which booth, blocked and why."""

    lab: Lab
    ceremony: labflow.CeremonyResult
    launched_at_exhibition: tuple[str, ...]
    exhibited: tuple[str, ...]
    #: each booth and what it shows: the lab's innovations exhibited at it, then the titles
    #: an outside exhibitor shows there
    booths: Mapping[str, tuple[str, ...]]
    services: Mapping[str, tuple[str, ...]]  #: each booth and the live services offered there
    blocked: Mapping[str, Verdict]  #: active innovations short of the last stage

    @property
    def launched(self) -> tuple[str, ...]:
        return self.ceremony.launched

    def report(self, lang: str = "en") -> str:
        lines = [
            f"{self.lab.region}: lab at {self.lab.stage}, {len(self.lab.innovations)} innovations",
            f"  launched at {self.ceremony.ceremony!r}: {len(self.launched)}",
            f"  launched at the exhibition: {', '.join(self.launched_at_exhibition)}",
            f"  exhibited: {len(self.exhibited)} at {len(self.booths)} booths",
            f"  live services: {', '.join(s for ss in self.services.values() for s in ss)}",
            f"  blocked: {len(self.blocked)}",
        ]
        for verdict in self.blocked.values():
            lines.extend("    " + line for line in verdict.explain(lang).splitlines())
        return "\n".join(lines)


@attrs.frozen
class Outcome2019:
    """Where the 2019 lab ended, and the refusal that held it at diagnose."""

    lab: Lab
    lab_refused: tuple[Verdict, ...]  #: the lab's own refused moves, in order

    def report(self, lang: str = "en") -> str:
        lines = [
            f"{self.lab.region} 2019: lab at {self.lab.stage}, "
            f"{len(self.lab.innovations)} innovations entered"
        ]
        for verdict in self.lab_refused:
            lines.append("  the lab was held back:")
            lines.extend("    " + line for line in verdict.explain(lang).splitlines())
        return "\n".join(lines)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def load_units(folder: Path = HERE) -> list[Unit]:
    return [Unit(row["id"], row["name"], row["kind"]) for row in read_csv(folder / "units.csv")]


def head_of(unit: str) -> str:
    return f"kepala-{unit}"


def innovator_of(unit: str) -> str:
    return f"inovator-{unit}"


def advance_ready(lab: Lab, by: str) -> None:
    """Move every innovation that may enter the lab's stage into it."""
    for inn in list(lab.innovations.values()):
        if lab.policy.index(inn.stage) < lab.policy.index(lab.stage) and lab.check(inn.id).ok:
            lab.advance(inn.id, by=by)


def cast(units: Sequence[Unit], regent: str, officials: Sequence[str] = ()) -> list[Actor]:
    """The secretariat (Bagian Tata Pemerintahan), the regent, LAN's facilitator, a head and an
    innovator per unit, and a second official in the units of ``officials``."""
    actors = [
        Actor("sekretariat", "Bagian Tata Pemerintahan Setda Kudus", {Role.SECRETARIAT}),
        Actor("bupati", regent, {Role.REGIONAL_HEAD}),
        Actor("fasilitator-lan", "Fasilitator LAN", {Role.FACILITATOR}),
    ]
    for unit in units:
        actors.append(Actor(head_of(unit.id), f"Kepala {unit.name}", {Role.UNIT_HEAD}, unit.id))
        actors.append(Actor(innovator_of(unit.id), f"Tim {unit.name}", {Role.INNOVATOR}, unit.id))
        if unit.id in officials:
            actors.append(
                Actor(f"sekretaris-{unit.id}", f"Sekretaris {unit.name}", {"official"}, unit.id)
            )
    return actors


def register(lab: Lab, row: Mapping[str, str]) -> None:
    lab.register(
        row["id"],
        title=row["title"],
        unit=row["unit"],
        innovators=row["innovators"].split(";"),
        problem=row["problem"],
        initiator=row["initiator"],
        by=innovator_of(row["unit"]),
    )


def replicate_smart_service(lab: Lab) -> None:
    """Diskominfo's replica of Yogyakarta's JSS, adapted to Kudus (illustrative)."""
    lab.replicate(
        ADAPTED_REPLICA,
        origin="jss",
        origin_region="Kota Yogyakarta",
        title="Kudus Smart Service",
        problem="Warga harus mendatangi banyak kantor untuk layanan yang berbeda-beda.",
        innovators=["Kabid Aplikasi Informatika"],
        unit="diskominfo",
        adaptation="Satu aplikasi layanan warga Kudus yang terhubung dengan Command Center.",
        by=innovator_of("diskominfo"),
    )


def run(clock: Clock | None = None, folder: Path = HERE) -> Outcome:
    """Run Kudus's 2016-17 lab from the MoU to the exhibition; see the module docstring."""
    clock = clock or Clock(datetime(2016, 8, 15, 8, 0, tzinfo=WIB))
    every = load_units(folder)
    kinds = {u.id: u.kind for u in every}
    units = [u for u in every if u.kind in GOVERNMENT_KINDS]
    outside = [u for u in every if u.kind not in GOVERNMENT_KINDS]
    lab = Lab.create(
        kudus_rules.load_policy(),
        id="labinov-kudus",
        region="Kabupaten Kudus",
        by="sekretariat",
        units=units,
        actors=cast(units, "Bupati Kudus Musthofa Wardoyo"),
        clock=clock,
    )
    rows = read_csv(folder / "innovations.csv")
    government = [r for r in rows if kinds[r["unit"]] in GOVERNMENT_KINDS]
    exhibitors = [r for r in rows if kinds[r["unit"]] not in GOVERNMENT_KINDS]

    # Drum-up (MoU with LAN, August 2016): the agencies' ideas enter the inventory, two of
    # them replicas of other regions' innovations.
    for row in government:
        register(lab, row)
    replicate_smart_service(lab)
    lab.replicate(
        UNADAPTED_REPLICA,
        origin="jemput-bola",
        origin_region="Kabupaten Banyuwangi",
        title="Dukcapil Jemput Bola",
        problem="Warga lanjut usia sulit datang ke kantor untuk merekam KTP elektronik.",
        innovators=["Kabid Pelayanan Pendaftaran Penduduk"],
        unit="disdukcapil",
        adaptation="Petugas datang dengan mobil layanan keliling seperti di daerah asal.",
        by=innovator_of("disdukcapil"),
    )

    # Diagnose.
    clock.jump(datetime(2016, 10, 3, 8, 0, tzinfo=WIB))
    lab.advance_lab(by="sekretariat")
    advance_ready(lab, "fasilitator-lan")
    for n, inn in enumerate(list(lab.innovations.values()), 1):
        diagnosis = Diagnosis(inn.problem, ["Layanan belum terpadu"], "siap")
        lab.record_diagnosis(inn.id, diagnosis, by=innovator_of(inn.unit))
        lab.grant_permission(inn.id, reference=f"070/{n:03d}/2016", by=head_of(inn.unit))

    # Design: action plans, approved by the unit heads; agreements signed before delivery.
    clock.jump(datetime(2017, 2, 6, 8, 0, tzinfo=WIB))
    lab.advance_lab(by="sekretariat")
    advance_ready(lab, "fasilitator-lan")
    for inn in list(lab.innovations.values()):
        step = PlanStep("Uji coba layanan", "Kepala Bidang", date(2017, 6, 30))
        lab.submit_plan(inn.id, steps=[step], budget=50_000_000, by=innovator_of(inn.unit))
        lab.approve_plan(inn.id, by=head_of(inn.unit))
        lab.draw_up_agreement(
            inn.id, regional_head="bupati", unit_head=head_of(inn.unit), by="sekretariat"
        )
        lab.sign_agreement(inn.id, by="bupati")
        if inn.id != UNSIGNED:
            lab.sign_agreement(inn.id, by=head_of(inn.unit))

    # Deliver: the launch workshop of 26 July 2017, then implementation. Desa Cerdas and the
    # Command Center wait for the exhibition.
    clock.jump(datetime(2017, 7, 24, 8, 0, tzinfo=WIB))
    lab.advance_lab(by="sekretariat")
    advance_ready(lab, "fasilitator-lan")
    ready = [
        i.id
        for i in lab.innovations.values()
        if i.stage == "deliver" and i.id not in LAUNCHED_AT_EXHIBITION
    ]
    clock.jump(datetime(2017, 7, 26, 9, 0, tzinfo=WIB))
    ceremony = lab.launch_cohort(ceremony=WORKSHOP, innovations=ready, by="bupati")
    for ident in ceremony.launched:
        if ident == NO_EVIDENCE:
            continue
        unit = lab.innovation(ident).unit
        lab.attach_evidence(
            ident, title="Laporan monev", reference=f"monev/{ident}", by=innovator_of(unit)
        )

    # Display: the exhibition opens on Thursday 21 December 2017 in the pendopo's grounds.
    clock.jump(datetime(2017, 12, 21, 8, 0, tzinfo=WIB))
    lab.advance_lab(by="sekretariat")
    lab.open_exhibition(
        EXHIBITION_ID,
        name=EXHIBITION,
        venue=VENUE,
        starts=date(2017, 12, 21),
        ends=date(2017, 12, 22),
        by="sekretariat",
    )
    # The exhibitors from outside government take part in the exhibition only: registered
    # for it, each with a booth showing its work and offering its live services; they have
    # no lab lifecycle (no stages, no launch, no agreement).
    for unit in outside:
        lab.register_exhibitor(
            EXHIBITION_ID, exhibitor=Exhibitor(unit.id, unit.name, unit.kind), by="sekretariat"
        )
    shown_by = {}
    for row in exhibitors:
        shown_by.setdefault(row["unit"], []).append(row["title"])
    booth_rows = read_csv(folder / "booths.csv")
    for row in booth_rows:
        lab.add_booth(
            EXHIBITION_ID,
            booth=row["booth"],
            holder=row["unit"],
            services=[s.strip() for s in row["services"].split(";") if s.strip()],
            showcases=shown_by.get(row["unit"], []),
            by="sekretariat",
        )
    for ident in LAUNCHED_AT_EXHIBITION:
        lab.record_launch(ident, ceremony=EXHIBITION_LAUNCH, exhibition=EXHIBITION_ID, by="bupati")
        unit = lab.innovation(ident).unit
        lab.attach_evidence(
            ident, title="Berita acara peluncuran", reference=f"ba/{ident}", by=innovator_of(unit)
        )
    advance_ready(lab, "fasilitator-lan")
    booth_of = {row["unit"]: row["booth"] for row in booth_rows}
    exhibited = []
    for inn in lab.innovations.values():
        if inn.stage == "display":
            booth = booth_of[inn.unit]
            lab.register_exhibit(inn.id, exhibition=EXHIBITION_ID, booth=booth, by="sekretariat")
            exhibited.append(inn.id)
    view = labflow.views.exhibition(lab, EXHIBITION_ID)
    booths = {b.id: (*b.innovations, *b.showcases) for b in view.booths}
    services = {b.id: b.services for b in view.booths if b.services}
    # Friday 22 December 2017, end of the afternoon: the exhibition closes.
    clock.jump(datetime(2017, 12, 22, 16, 0, tzinfo=WIB))
    lab.close_exhibition(EXHIBITION_ID, by="sekretariat")

    last = lab.policy.stages[-1].id
    blocked = {
        i.id: lab.check(i.id) for i in lab.innovations.values() if i.active and i.stage != last
    }
    return Outcome(
        lab,
        ceremony,
        LAUNCHED_AT_EXHIBITION,
        tuple(exhibited),
        dict(sorted(booths.items())),
        services,
        blocked,
    )


def run_2019(clock: Clock | None = None, folder: Path = HERE) -> Outcome2019:
    """The 2019 rules: every agency enters its data; one public official, one innovation."""
    # The socialisation at the Command Center, Monday 2 December 2019, morning.
    clock = clock or Clock(datetime(2019, 12, 2, 8, 0, tzinfo=WIB))
    units = [u for u in load_units(folder) if u.kind in GOVERNMENT_KINDS]
    ids = {u.id for u in units}
    lab = Lab.create(
        labflow.load_policy("kudus-2019"),
        id="labinov-kudus-2019",
        region="Kabupaten Kudus",
        by="sekretariat",
        units=units,
        actors=cast(units, "Plt Bupati Kudus HM Hartopo", TWO_OFFICIALS),
        clock=clock,
    )
    rows = [r for r in read_csv(folder / "innovations.csv") if r["unit"] in ids]
    for row in rows:
        if row["unit"] != LATE_ENTRY:
            register(lab, row)
    lab.advance_lab(by="sekretariat")
    advance_ready(lab, "sekretariat")
    refused = []
    try:
        lab.advance_lab(by="sekretariat")
    except labflow.GateRefused as exc:
        refused.append(exc.verdict)

    # The following weeks (illustrative): the late agency enters its data, and the units
    # with a second official each bring a second innovation.
    clock.jump(datetime(2020, 1, 6, 8, 0, tzinfo=WIB))
    for row in rows:
        if row["unit"] == LATE_ENTRY:
            register(lab, row)
    replicate_smart_service(lab)
    lab.register(
        "izin-online-24-jam",
        title="Izin Online 24 Jam",
        unit="dpmptsp",
        innovators=["Sekretaris DPMPTSP"],
        problem="Pemohon izin hanya dapat mengajukan berkas pada jam kerja di kantor.",
        initiator="asn",
        by=innovator_of("dpmptsp"),
    )
    advance_ready(lab, "sekretariat")
    lab.advance_lab(by="sekretariat")
    return Outcome2019(lab, tuple(refused))


def main(argv: Sequence[str] = ()) -> None:
    """Print the outcome; labflow's own audit events are filtered out, as a host would."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    lang = next((a for a in argv if a in ("en", "id")), "en")
    print(run_2019().report(lang) if "2019" in argv else run().report(lang))


if __name__ == "__main__":
    main(sys.argv[1:])
