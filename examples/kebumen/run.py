"""Kebumen 2016: the whole Inovik lab, from registration to the exhibition, on a fixed clock.

Run it from the repository root with ``python examples/kebumen/run.py`` (add ``id`` for
the reasons in Indonesian). It loads the cohort in ``units.csv`` and ``innovations.csv``
(182 innovations of the Setda's bagian, the agencies, 32 UPT Puskesmas, three districts,
the RSUD and the BUMD) and walks the lab through Tahap I to IV as the source tells it: the
Bupati launches all 182 at one ceremony (the gong, at the Pendopo Rumah Dinas Bupati), and
the performance agreements are signed right after it. Only after the launch does the story
leave room for innovations to fall behind, and the script prints them with their reasons:

- the director of PD BPR BKK does not sign the agreement for Kredit Musim Tanam, and the
  head of Puskesmas Buayan signs TOGA Keluarga's six weeks late -- both stay in Tahap III,
  because in Kebumen nothing reaches display without both signatures, given at the launch;
- DPPKAD never attaches evidence that Aset Tertib works, so it is not exhibited.

The dates are illustrative except the year (2016) and the order of events; see README.md.

`run` returns an `Outcome` (the lab, the ceremony, who got where and why not) so that
tests and other tools can reuse the scenario.
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
if str(HERE) not in sys.path:  # run as a script or loaded by path: find kebumen_rules beside us
    sys.path.insert(0, str(HERE))

import kebumen_rules  # noqa: E402

WIB = timezone(timedelta(hours=7), "WIB")

UNSIGNED = "kredit-musim-tanam"
SIGNED_LATE = "toga-keluarga"
NO_EVIDENCE = "aset-tertib"


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
    """Where the lab ended: what was launched and exhibited, what was not, and why."""

    lab: Lab
    ceremony: labflow.CeremonyResult
    exhibited: tuple[str, ...]
    blocked: Mapping[str, Verdict]  #: active innovations short of the last stage
    withdrawn: Mapping[str, str]  #: withdrawn innovations and the reason given

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
            f"  blocked: {len(self.blocked)}",
        ]
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


def cast(units: Sequence[Unit]) -> list[Actor]:
    """The secretariat, the Bupati, LAN's facilitator, and a head and an innovator per unit."""
    actors = [
        Actor("sekretariat", "Sekretariat Inovik", {Role.SECRETARIAT}),
        Actor("bupati", "Bupati Kebumen Mohammad Yahya Fuad", {Role.REGIONAL_HEAD}),
        Actor("fasilitator-lan", "Fasilitator LAN", {Role.FACILITATOR}),
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


def run(clock: Clock | None = None, folder: Path = HERE) -> Outcome:
    """Run Kebumen's 2016 lab from registration to display; see the module docstring."""
    clock = clock or Clock(datetime(2016, 2, 1, 8, 0, tzinfo=WIB))
    units = load_units(folder)
    lab = Lab.create(
        kebumen_rules.load_policy(),
        id="inovik-kebumen-2016",
        region="Kabupaten Kebumen",
        by="sekretariat",
        units=units,
        actors=cast(units),
        clock=clock,
    )
    rows = read_csv(folder / "innovations.csv")
    unit_of = {row["id"]: row["unit"] for row in rows}

    # Tahap I: drum-up and diagnose, one stage: ideas enter the inventory and are diagnosed.
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
    for n, row in enumerate(rows, 1):
        ident, unit = row["id"], row["unit"]
        diagnosis = Diagnosis(row["problem"], ["Proses masih manual"], "siap")
        lab.record_diagnosis(ident, diagnosis, by=innovator_of(unit))
        if row["initiator"] == "asn":
            lab.grant_permission(ident, reference=f"800/{n:03d}/2016", by=head_of(unit))

    # Tahap II: design, an action plan per innovation, approved by the unit head.
    clock.jump(datetime(2016, 4, 4, 8, 0, tzinfo=WIB))
    lab.advance_lab(by="sekretariat")
    advance_ready(lab, "fasilitator-lan")
    for inn in list(lab.innovations.values()):
        if inn.stage == "design" and inn.active:
            step = PlanStep("Susun SOP dan uji coba layanan", "Kepala Seksi", date(2016, 6, 1))
            lab.submit_plan(inn.id, steps=[step], budget=25_000_000, by=innovator_of(inn.unit))
            lab.approve_plan(inn.id, by=head_of(inn.unit))

    # Tahap III: one launch ceremony for all 182, then the agreements signed at once.
    clock.jump(datetime(2016, 5, 30, 8, 0, tzinfo=WIB))
    lab.advance_lab(by="sekretariat")
    advance_ready(lab, "fasilitator-lan")
    clock.jump(datetime(2016, 6, 8, 9, 0, tzinfo=WIB))
    ready = [i.id for i in lab.innovations.values() if i.stage == "deliver" and i.active]
    ceremony = lab.launch_cohort(
        ceremony="Peluncuran 182 Inovasi Kabupaten Kebumen, Pendopo Rumah Dinas Bupati",
        innovations=ready,
        by="bupati",
    )
    for ident in ceremony.launched:
        lab.draw_up_agreement(
            ident, regional_head="bupati", unit_head=head_of(unit_of[ident]), by="sekretariat"
        )
        lab.sign_agreement(ident, by="bupati")
        if ident not in (UNSIGNED, SIGNED_LATE):
            lab.sign_agreement(ident, by=head_of(unit_of[ident]))
    clock.jump(datetime(2016, 7, 20, 9, 0, tzinfo=WIB))
    lab.sign_agreement(SIGNED_LATE, by=head_of(unit_of[SIGNED_LATE]))
    for ident in ceremony.launched:
        if ident == NO_EVIDENCE:
            continue
        lab.attach_evidence(
            ident,
            title="Laporan monev",
            reference=f"monev/{ident}",
            by=innovator_of(unit_of[ident]),
        )

    # Tahap IV: display.
    clock.jump(datetime(2016, 9, 1, 8, 0, tzinfo=WIB))
    lab.advance_lab(by="sekretariat")
    advance_ready(lab, "fasilitator-lan")
    exhibited = []
    for booth, inn in enumerate(lab.innovations.values(), 1):
        if inn.stage == "display" and inn.active:
            lab.register_exhibit(
                inn.id, event="Pameran Inovik Kebumen 2016", booth=str(booth), by="sekretariat"
            )
            exhibited.append(inn.id)

    last = lab.policy.stages[-1].id
    blocked = {
        i.id: lab.check(i.id) for i in lab.innovations.values() if i.active and i.stage != last
    }
    withdrawn = {
        i.id: i.history[-1].payload["reason"] for i in lab.innovations.values() if not i.active
    }
    return Outcome(lab, ceremony, tuple(exhibited), blocked, withdrawn)


def main(argv: Sequence[str] = ()) -> None:
    """Print the outcome; labflow's own audit events are filtered out, as a host would."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    lang = argv[0] if argv else "en"
    print(run().report(lang))


if __name__ == "__main__":
    main(sys.argv[1:])
