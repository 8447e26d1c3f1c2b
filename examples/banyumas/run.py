"""Banyumas 2017: the lab facilitated by LAN, handed over to the region, shown at a festival.

Run it from the repository root with ``python examples/banyumas/run.py`` (add ``id`` for
the reasons in Indonesian). It loads ``units.csv`` and ``innovations.csv`` -- Gemas
Pesulan (DPU), Roadshow by Molin (DPPKBP3A), Gemma BABS (Dinkes), KRPL (Dinpertan KP),
Gendis Mamas (Dindik), Mitra Kurir Langit (Dinsospermasdes), Klinik Konsultasi
(Inspektorat), One Stop Service (Dinperkim), Seribu Bank Sampah (DLH), Kartu Rastra
(Setda), HALO (Satpol PP), Ayam Kate Mas (Dindukcapil) and the rest of the 92 shown at
the festival, plus three illustrative ideas that do not get there -- and runs the lab on a
fixed clock, to the festival of Sunday 26 November 2017 at the Alun-alun Purwokerto, opened
by the Bupati. On the way:

- after the launch LAN's mentor hands the facilitator role to the region's own team
  (`Lab.set_roles`); the mentor's later attempt to move an innovation is refused;
- Dindukcapil's head is promoted and the new head is added before the old one's role is
  revoked; Akta Lahir lewat Bidan, diagnosed late, cannot then be linked to one head and
  stays in diagnose;
- DLH's Kompos Sekolah plan carries no budget, so it is not launched;
- one BPKPAD idea is withdrawn as a duplicate.

It ends with the unit-head report Banyumas used for promotions: each head and the
innovations of theirs shown at the festival. `run` returns an `Outcome`.
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
from labflow import Actor, Diagnosis, Lab, PlanStep, Role, Unit, Verdict

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # run as a script or loaded by path: find banyumas_rules beside us
    sys.path.insert(0, str(HERE))

import banyumas_rules  # noqa: E402

WIB = timezone(timedelta(hours=7), "WIB")

LATE_DIAGNOSIS = "akta-lahir-bidan"
PROMOTED_UNIT = "dindukcapil"
NO_BUDGET = "kompos-sekolah"
WITHDRAWN = "pbb-desa-online"
FESTIVAL = "Festival Kinerja Pembangunan Kabupaten Banyumas, Alun-alun Purwokerto"
FESTIVAL_ID = "festival-kinerja-2017"


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
    """Where the lab ended: launched, exhibited, blocked and why, refusals, the heads' report."""

    lab: Lab
    ceremony: labflow.CeremonyResult
    exhibited: tuple[str, ...]
    blocked: Mapping[str, Verdict]  #: active innovations short of the last stage
    withdrawn: Mapping[str, str]  #: withdrawn innovations and the reason given
    refusals: tuple[str, ...]  #: commands refused along the way, as sentences
    heads: Mapping[str, tuple[str, ...]]  #: each unit head and their exhibited innovations

    @property
    def launched(self) -> tuple[str, ...]:
        return self.ceremony.launched

    def report(self, lang: str = "en") -> str:
        lines = [
            f"{self.lab.region}: lab at {self.lab.stage}, {len(self.lab.innovations)} innovations",
            f"  launched at {self.ceremony.ceremony!r}: {len(self.launched)}",
            f"  exhibited: {len(self.exhibited)}",
            f"  withdrawn: {len(self.withdrawn)}",
            *(f"    {ident}: {reason}" for ident, reason in self.withdrawn.items()),
            f"  refused: {len(self.refusals)}",
            *(f"    {message}" for message in self.refusals),
            f"  blocked: {len(self.blocked)}",
        ]
        for verdict in self.blocked.values():
            lines.extend("    " + line for line in verdict.explain(lang).splitlines())
        lines.append(f"  unit heads with innovations at the festival: {len(self.heads)}")
        lines.extend(f"    {head}: {', '.join(ids)}" for head, ids in list(self.heads.items())[:5])
        if len(self.heads) > 5:
            lines.append(f"    ... and {len(self.heads) - 5} more")
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


def cast(units: Sequence[Unit]) -> list[Actor]:
    """The secretariat, the Bupati, LAN's mentor, the region's future facilitators, and a
    head and an innovator per unit."""
    actors = [
        Actor("sekretariat", "Sekretariat Labinov (Bapelitbang)", {Role.SECRETARIAT}),
        Actor("bupati", "Bupati Banyumas Achmad Husein", {Role.REGIONAL_HEAD}),
        Actor("mentor-lan", "Mentor LAN", {Role.FACILITATOR}),
        Actor("tim-daerah", "Tim Fasilitator Kabupaten Banyumas", set()),
    ]
    for unit in units:
        actors.append(Actor(head_of(unit.id), f"Kepala {unit.name}", {Role.UNIT_HEAD}, unit.id))
        actors.append(Actor(innovator_of(unit.id), f"Tim {unit.name}", {Role.INNOVATOR}, unit.id))
    return actors


def advance_ready(lab: Lab, by: str) -> None:
    """Move every innovation that may enter the lab's stage into it."""
    for inn in list(lab.innovations.values()):
        if lab.policy.index(inn.stage) < lab.policy.index(lab.stage) and lab.check(inn.id).ok:
            lab.advance(inn.id, by=by)


def unit_head_report(lab: Lab, innovations: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Each unit head named in the agreements of ``innovations``, with their innovations."""
    heads: dict[str, list[str]] = {}
    for ident in innovations:
        agreement = lab.innovation(ident).agreement
        if agreement is not None:
            heads.setdefault(agreement.unit_head, []).append(ident)
    return {head: tuple(ids) for head, ids in sorted(heads.items())}


def run(clock: Clock | None = None, folder: Path = HERE) -> Outcome:
    """Run Banyumas's 2017 lab from registration to the festival; see the module docstring."""
    clock = clock or Clock(datetime(2017, 2, 1, 8, 0, tzinfo=WIB))
    units = load_units(folder)
    lab = Lab.create(
        banyumas_rules.load_policy(),
        id="labinov-banyumas-2017",
        region="Kabupaten Banyumas",
        by="sekretariat",
        units=units,
        actors=cast(units),
        clock=clock,
    )
    rows = read_csv(folder / "innovations.csv")
    unit_of = {row["id"]: row["unit"] for row in rows}
    facilitator = "mentor-lan"

    # Drum-up: the ideas enter the inventory.
    for row in rows:
        lab.register(
            row["id"],
            title=row["title"],
            unit=row["unit"],
            innovators=row["innovators"].split(";"),
            problem=row["problem"],
            initiator=row["initiator"],
            by=innovator_of(row["unit"]),
        )

    # Diagnose, facilitated by LAN.
    clock.jump(datetime(2017, 3, 6, 8, 0, tzinfo=WIB))
    lab.advance_lab(by="sekretariat")
    advance_ready(lab, facilitator)
    lab.withdraw(WITHDRAWN, reason="Digabung dengan inovasi PBB Lunas Desa.", by="sekretariat")
    for n, row in enumerate(rows, 1):
        ident = row["id"]
        if ident in (WITHDRAWN, LATE_DIAGNOSIS):
            continue
        lab.record_diagnosis(
            ident, Diagnosis(row["problem"], ["SOP belum ada"]), by=innovator_of(row["unit"])
        )
        lab.grant_permission(ident, reference=f"061/{n:03d}/2017", by=head_of(row["unit"]))

    # Design: action plans with their budgets, approved by the unit heads.
    clock.jump(datetime(2017, 4, 10, 8, 0, tzinfo=WIB))
    lab.advance_lab(by="sekretariat")
    advance_ready(lab, facilitator)
    for inn in list(lab.innovations.values()):
        if inn.stage != "design":
            continue
        step = PlanStep("Uji coba dan sosialisasi", "Kepala Seksi", date(2017, 7, 31))
        budget = None if inn.id == NO_BUDGET else 15_000_000
        lab.submit_plan(inn.id, steps=[step], budget=budget, by=innovator_of(inn.unit))
        lab.approve_plan(inn.id, by=head_of(inn.unit))
        lab.draw_up_agreement(
            inn.id, regional_head="bupati", unit_head=head_of(inn.unit), by="sekretariat"
        )
        lab.sign_agreement(inn.id, by="bupati")
        lab.sign_agreement(inn.id, by=head_of(inn.unit))
    # Dindukcapil's head is promoted; the new head arrives before the old role is revoked,
    # and the late diagnosis of KTP-el Sekolah comes in only now.
    lab.add_actor(
        Actor(
            f"kepala-baru-{PROMOTED_UNIT}",
            "Kepala Dindukcapil (baru)",
            {Role.UNIT_HEAD},
            PROMOTED_UNIT,
        ),
        by="sekretariat",
    )
    row = next(r for r in rows if r["id"] == LATE_DIAGNOSIS)
    lab.record_diagnosis(
        LATE_DIAGNOSIS, Diagnosis(row["problem"], ["Jadwal"]), by=innovator_of(PROMOTED_UNIT)
    )
    lab.grant_permission(LATE_DIAGNOSIS, reference="061/late/2017", by=head_of(PROMOTED_UNIT))
    advance_ready(lab, facilitator)

    # Deliver: the launch; then LAN hands the facilitation over to the region.
    clock.jump(datetime(2017, 8, 1, 8, 0, tzinfo=WIB))
    lab.advance_lab(by="sekretariat")
    advance_ready(lab, facilitator)
    ready = [i.id for i in lab.innovations.values() if i.stage == "deliver"]
    ceremony = lab.launch_cohort(
        ceremony="Peluncuran Inovasi Kabupaten Banyumas", innovations=ready, by="bupati"
    )
    for ident in ceremony.launched:
        lab.attach_evidence(
            ident,
            title="Laporan monev",
            reference=f"monev/{ident}",
            by=innovator_of(unit_of[ident]),
        )
    lab.set_roles("mentor-lan", [], by="sekretariat")
    lab.set_roles("tim-daerah", [Role.FACILITATOR], by="sekretariat")
    refusals = []
    try:
        lab.advance(ceremony.launched[0], by="mentor-lan")
    except labflow.PermissionDenied as exc:
        refusals.append(str(exc))
    facilitator = "tim-daerah"

    # The first monev round, October 2017: the region's team records each launched
    # innovation's progress (the policy's obligation: every three months after the launch).
    clock.jump(datetime(2017, 10, 2, 8, 0, tzinfo=WIB))
    for ident in ceremony.launched:
        plan = lab.innovation(ident).action_plan
        steps = len(plan.steps) if plan is not None else 0
        lab.record_monev(
            ident,
            period="Agustus-Oktober 2017",
            indicators={"langkah_selesai": steps},
            findings="Rencana aksi berjalan sesuai jadwal.",
            follow_up="Sosialisasi kepada warga sebelum festival.",
            by=facilitator,
        )

    # Display: the festival, Sunday 26 November 2017.
    clock.jump(datetime(2017, 11, 26, 8, 0, tzinfo=WIB))
    lab.advance_lab(by="sekretariat")
    advance_ready(lab, facilitator)
    lab.open_exhibition(
        FESTIVAL_ID,
        name=FESTIVAL,
        venue="Alun-alun Purwokerto",
        starts=date(2017, 11, 26),
        ends=date(2017, 11, 26),
        by="sekretariat",
    )
    shown = [inn for inn in lab.innovations.values() if inn.stage == "display"]
    # One booth per agency showing its innovations (illustrative: the article names no booths).
    booth_of: dict[str, str] = {}
    for inn in shown:
        if inn.unit not in booth_of:
            booth_of[inn.unit] = f"Stan {len(booth_of) + 1:02d}"
            lab.add_booth(FESTIVAL_ID, booth=booth_of[inn.unit], holder=inn.unit, by="sekretariat")
    exhibited = []
    for inn in shown:
        lab.register_exhibit(
            inn.id, exhibition=FESTIVAL_ID, booth=booth_of[inn.unit], by="sekretariat"
        )
        exhibited.append(inn.id)

    last = lab.policy.stages[-1].id
    blocked = {
        i.id: lab.check(i.id) for i in lab.innovations.values() if i.active and i.stage != last
    }
    withdrawn = {
        i.id: i.history[-1].payload["reason"] for i in lab.innovations.values() if not i.active
    }
    heads = unit_head_report(lab, exhibited)
    return Outcome(lab, ceremony, tuple(exhibited), blocked, withdrawn, tuple(refusals), heads)


def main(argv: Sequence[str] = ()) -> None:
    """Print the outcome; labflow's own audit events are filtered out, as a host would."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    lang = argv[0] if argv else "en"
    print(run().report(lang))


if __name__ == "__main__":
    main(sys.argv[1:])
