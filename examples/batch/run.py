"""A batch job: import a region's cohort from CSV, run it to the launch ceremony and the
festival, and write the national index export and the KIPP report.

    python examples/batch/run.py OUT_DIR

writes ``OUT_DIR/lab.db`` (the SQLite store), ``iid.csv`` and ``iid.json`` (the Indeks
Inovasi Daerah export) and ``kipp.json`` (KIPP eligibility). The cohort is six of the
innovations Banyumas showed at its festival on 26 November 2017 (Radar Banyumas); their
index attributes (jenis, bentuk, goals, ...) and every date but the festival's are
illustrative. Two innovations are left without evidence, so the export says what the
index would miss and they never reach the festival.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import attrs
import structlog

import labflow as lf
from labflow import cohort, exports
from labflow.store import Append
from labflow.store.sqlite import SQLiteStore

HERE = Path(__file__).resolve().parent
LAB = "banyumas-batch"
WIB = timedelta(hours=7)
#: Innovations whose evidence never came in: they stay on trial (uji coba).
NO_EVIDENCE = ("gendis-mamas", "halo")


def at(day: date, hour: int = 9) -> datetime:
    """A moment in local working hours (WIB), as the store keeps it: in UTC."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - WIB


class Clock:
    """The batch's clock: each reading a minute after the last, from the day it is set to."""

    def __init__(self) -> None:
        self.now = at(date(2017, 3, 1))

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    def day(self, day: date) -> None:
        self.now = at(day)


@attrs.frozen
class Result:
    lab: lf.Lab
    iid: tuple[exports.IidEntry, ...]
    kipp: tuple[exports.KippEntry, ...]


def head(unit: str) -> str:
    return f"kepala-{unit}"


def innovator(unit: str) -> str:
    return f"inovator-{unit}"


def run(out: Path) -> Result:
    """Run the whole job into ``out`` (created if missing); returns what it wrote."""
    out.mkdir(parents=True, exist_ok=True)
    policy = lf.load_policy("lan-5d")
    units = cohort.read_units((HERE / "units.csv").read_text(encoding="utf-8"), "units.csv")
    ideas = cohort.read_innovations(
        (HERE / "innovations.csv").read_text(encoding="utf-8"), "innovations.csv"
    )
    actors = [
        lf.Actor("sekretariat", "Sekretariat Laboratorium Inovasi", {lf.Role.SECRETARIAT}),
        lf.Actor("bupati", "Bupati Banyumas", {lf.Role.REGIONAL_HEAD}),
    ]
    for unit in units:
        actors.append(lf.Actor(head(unit.id), f"Kepala {unit.name}", {lf.Role.UNIT_HEAD}, unit.id))
        actors.append(
            lf.Actor(innovator(unit.id), f"Inovator {unit.name}", {lf.Role.INNOVATOR}, unit.id)
        )
    clock = Clock()
    (out / "lab.db").unlink(missing_ok=True)
    with SQLiteStore(out / "lab.db", create=True) as store:
        lab = lf.Lab.create(
            policy,
            id=LAB,
            region="Kabupaten Banyumas",
            by="sekretariat",
            units=units,
            actors=actors,
            clock=clock,
        )
        store.commit(lab.id, [Append(lab.id, 0, lab.history, lab=True)])
        with store.session(LAB, clock=clock) as lab:
            for idea in ideas:
                lab.register(
                    idea.id,
                    title=idea.title,
                    unit=idea.unit,
                    innovators=idea.innovators,
                    problem=idea.problem,
                    initiator=idea.initiator,
                    attributes=idea.attributes(policy),
                    by=innovator(idea.unit),
                )
            ids = [idea.id for idea in ideas]
            unit_of = {idea.id: idea.unit for idea in ideas}

            clock.day(date(2017, 4, 3))  # diagnose
            lab.advance_lab(by="sekretariat")
            for ident in ids:
                lab.advance(ident, by="sekretariat")
                diagnosis = lf.Diagnosis(
                    lab.innovation(ident).problem,
                    ["Prosedur manual", "Koordinasi antarunit lemah", "Data belum terpadu"],
                    "Pimpinan unit mendukung.",
                )
                lab.record_diagnosis(ident, diagnosis, by=innovator(unit_of[ident]))
                lab.grant_permission(ident, reference=f"800/{ident}", by=head(unit_of[ident]))

            clock.day(date(2017, 5, 8))  # design: action plans and performance agreements
            lab.advance_lab(by="sekretariat")
            for ident in ids:
                unit = unit_of[ident]
                lab.advance(ident, by="sekretariat")
                steps = [
                    lf.PlanStep("Menyusun SOP", "Ketua tim", date(2017, 6, 1)),
                    lf.PlanStep("Uji coba layanan", "Ketua tim", date(2017, 8, 1)),
                ]
                lab.submit_plan(ident, steps=steps, budget=25_000_000, by=innovator(unit))
                lab.approve_plan(ident, by=head(unit))
                lab.draw_up_agreement(
                    ident, regional_head="bupati", unit_head=head(unit), by="sekretariat"
                )
                lab.sign_agreement(ident, by="bupati")
                lab.sign_agreement(ident, by=head(unit))

            clock.day(date(2017, 7, 17))  # deliver: one launch ceremony
            lab.advance_lab(by="sekretariat")
            for ident in ids:
                lab.advance(ident, by="sekretariat")
            lab.launch_cohort(ceremony="Peluncuran Inovasi Banyumas", by="bupati", innovations=ids)
            for ident in ids:
                if ident not in NO_EVIDENCE:
                    lab.attach_evidence(
                        ident,
                        title="Laporan pelaksanaan",
                        reference=f"LAP/{ident}",
                        by=innovator(unit_of[ident]),
                    )

            clock.day(date(2017, 11, 26))  # display: the festival at the Alun-alun Purwokerto
            lab.advance_lab(by="sekretariat")
            for ident in ids:
                if lab.check(ident).ok:
                    lab.advance(ident, by="sekretariat")
        lab = store.load(LAB)
        if not all(v.ok for v in store.verify_all(LAB)[LAB]):
            raise SystemExit("a history does not verify")

    iid = exports.iid(lab)
    kipp = exports.kipp(lab, at(date(2018, 12, 3)))
    (out / "iid.csv").write_text(exports.to_csv(iid, lab), encoding="utf-8")
    (out / "iid.json").write_text(exports.to_json(iid) + "\n", encoding="utf-8")
    (out / "kipp.json").write_text(exports.to_json(kipp) + "\n", encoding="utf-8")
    return Result(lab, iid, kipp)


def main(argv: list[str]) -> int:
    # The batch job is the host: its audit events go nowhere but warnings.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    out = Path(argv[0]) if argv else Path("batch-out")
    result = run(out)
    ready = sum(e.ready for e in result.iid)
    eligible = sum(e.eligible for e in result.kipp)
    print(f"{len(result.iid)} innovations exported to {out / 'iid.csv'}; {ready} complete.")
    for entry in result.iid:
        for item in entry.missing:
            print(f"  {entry.innovation}: {item.message_id}")
    print(f"{eligible} eligible for KIPP ({out / 'kipp.json'}).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
