"""Kudus: the lab from the 2016 MoU to the December 2017 exhibition, under the 2019 rules.

Run it from the repository root with ``python examples/kudus/run.py`` (add ``id`` for the
reasons in Indonesian). It loads ``units.csv`` and ``innovations.csv`` -- K-119, the RSUD
Loekmono Hadi's hemodialysis and mental-health services, Desa Cerdas, the Command Center
and the rest of the agencies' entries, and the non-government exhibitors' -- and runs the
lab on a fixed clock. On the way:

- Diskominfo and Disdukcapil each have two public officials but one innovation, so the
  lab cannot leave diagnose ("one public official, one innovation") until each brings a
  second: both replicate an innovation from another region;
- Disdukcapil's replica does not say how it was adapted to Kudus, so it stays in design;
- Dishub's head never signs the agreement for Bus Sekolah, so it is not launched;
- the non-government exhibitors join at the exhibition: no agreement is asked of them,
  but Polres brings no evidence for SIM Keliling and gets no booth.

`run` returns an `Outcome` so that tests and other tools can reuse the scenario.
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
from labflow import GOVERNMENT_KINDS, Actor, Diagnosis, Lab, PlanStep, Role, Unit, Verdict

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # run as a script or loaded by path: find kudus_rules beside us
    sys.path.insert(0, str(HERE))

import kudus_rules  # noqa: E402

WIB = timezone(timedelta(hours=7), "WIB")

#: Units with a second public official (a sekretaris dinas) besides their head.
TWO_OFFICIALS = ("diskominfo", "disdukcapil")
ADAPTED_REPLICA = "kudus-smart-service"
UNADAPTED_REPLICA = "dukcapil-jemput-bola"
UNSIGNED = "bus-sekolah"
NO_EVIDENCE = "sim-keliling"


class Clock:
    """A deterministic clock: each reading is a minute after the last; `jump` skips ahead."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    def jump(self, moment: datetime) -> None:
        self.now = max(self.now, moment)


@attrs.frozen
class Outcome:
    """Where the lab ended: what was launched and exhibited, what was not, and why."""

    lab: Lab
    ceremony: labflow.CeremonyResult
    exhibited: tuple[str, ...]
    blocked: Mapping[str, Verdict]  #: active innovations short of the last stage
    lab_refused: tuple[Verdict, ...] = ()  #: the lab's own refused moves, in order

    @property
    def launched(self) -> tuple[str, ...]:
        return self.ceremony.launched

    def report(self, lang: str = "en") -> str:
        lines = [
            f"{self.lab.region}: lab at {self.lab.stage}, {len(self.lab.innovations)} innovations",
            f"  launched at {self.ceremony.ceremony!r}: {len(self.launched)}",
            f"  exhibited: {len(self.exhibited)}",
        ]
        for verdict in self.lab_refused:
            lines.append("  the lab was held back:")
            lines.extend("    " + line for line in verdict.explain(lang).splitlines())
        lines.append(f"  blocked: {len(self.blocked)}")
        for verdict in self.blocked.values():
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


def cast(units: Sequence[Unit]) -> list[Actor]:
    """The secretariat, the Bupati, LAN's facilitator, a head and an innovator per unit,
    and a second official in the units of `TWO_OFFICIALS`."""
    actors = [
        Actor("sekretariat", "Sekretariat Labinov (Bappeda)", {Role.SECRETARIAT}),
        Actor("bupati", "Bupati Kudus", {Role.REGIONAL_HEAD}),
        Actor("fasilitator-lan", "Fasilitator LAN", {Role.FACILITATOR}),
    ]
    for unit in units:
        actors.append(Actor(head_of(unit.id), f"Kepala {unit.name}", {Role.UNIT_HEAD}, unit.id))
        actors.append(Actor(innovator_of(unit.id), f"Tim {unit.name}", {Role.INNOVATOR}, unit.id))
        if unit.id in TWO_OFFICIALS:
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


def run(clock: Clock | None = None, folder: Path = HERE) -> Outcome:
    """Run Kudus's lab from the MoU to the exhibition; see the module docstring."""
    clock = clock or Clock(datetime(2016, 8, 15, 8, 0, tzinfo=WIB))
    units = load_units(folder)
    kinds = {u.id: u.kind for u in units}
    lab = Lab.create(
        kudus_rules.load_policy(),
        id="labinov-kudus",
        region="Kabupaten Kudus",
        by="sekretariat",
        units=units,
        actors=cast(units),
        clock=clock,
    )
    rows = read_csv(folder / "innovations.csv")
    government = [r for r in rows if kinds[r["unit"]] in GOVERNMENT_KINDS]
    exhibitors = [r for r in rows if kinds[r["unit"]] not in GOVERNMENT_KINDS]

    # Drum-up (MoU, August 2016) and diagnose: the agencies enter their innovations.
    for row in government:
        register(lab, row)
    clock.jump(datetime(2016, 10, 3, 8, 0, tzinfo=WIB))
    lab.advance_lab(by="sekretariat")
    advance_ready(lab, "fasilitator-lan")
    refused = []
    try:
        lab.advance_lab(by="sekretariat")
    except labflow.GateRefused as exc:
        refused.append(exc.verdict)
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

    # Deliver: the launch workshop, July 2017, then implementation.
    clock.jump(datetime(2017, 7, 10, 8, 0, tzinfo=WIB))
    lab.advance_lab(by="sekretariat")
    advance_ready(lab, "fasilitator-lan")
    ready = [i.id for i in lab.innovations.values() if i.stage == "deliver"]
    ceremony = lab.launch_cohort(
        ceremony="Workshop dan Peluncuran Inovasi Kudus", innovations=ready, by="bupati"
    )
    for ident in ceremony.launched:
        unit = lab.innovation(ident).unit
        lab.attach_evidence(
            ident, title="Laporan monev", reference=f"monev/{ident}", by=innovator_of(unit)
        )

    # Display: the exhibition of 21-22 December 2017; the non-government exhibitors join.
    clock.jump(datetime(2017, 12, 21, 8, 0, tzinfo=WIB))
    lab.advance_lab(by="sekretariat")
    for row in exhibitors:
        register(lab, row)
        if row["id"] != NO_EVIDENCE:
            lab.attach_evidence(
                row["id"],
                title="Dokumentasi layanan",
                reference=f"foto/{row['id']}",
                by=innovator_of(row["unit"]),
            )
    for _ in lab.policy.stages:  # the exhibitors walk every stage to the exhibition
        advance_ready(lab, "fasilitator-lan")
    exhibited = []
    for inn in lab.innovations.values():
        if inn.stage == "display":
            booth = f"{len(exhibited) + 1:02d}"
            lab.register_exhibit(
                inn.id, event="Pameran Inovasi Kudus 2017", booth=booth, by="sekretariat"
            )
            exhibited.append(inn.id)

    last = lab.policy.stages[-1].id
    blocked = {
        i.id: lab.check(i.id) for i in lab.innovations.values() if i.active and i.stage != last
    }
    return Outcome(lab, ceremony, tuple(exhibited), blocked, tuple(refused))


def main(argv: Sequence[str] = ()) -> None:
    """Print the outcome; labflow's own audit events are filtered out, as a host would."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    lang = argv[0] if argv else "en"
    print(run().report(lang))


if __name__ == "__main__":
    main(sys.argv[1:])
