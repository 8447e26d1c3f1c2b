"""National reporting: the Indeks Inovasi Daerah export and the KIPP eligibility report.

A region reports its innovations to Kemendagri's Indeks Inovasi Daerah (IID,
PP 38/2017) and enters the best in KemenPAN-RB's competition (KIPP / SINOVIK).
Both ask for facts the lab already holds -- who owns an innovation, when its
trial and its implementation started, its evidence, whether it is a
replication -- and for attributes the policy declares (jenis, bentuk, urusan,
goals, benefits, results, the design text). `iid` reads them off a lab at one
moment, maps the lab's stages onto the index's (as the policy's
``[national_index]`` says, never by guessing) and lists, for each innovation,
everything the index would find missing, in English and Indonesian: the index
leaves a region unscored on an innovation without evidence, so a secretariat
wants to know before it submits. `kipp` says which innovations may enter KIPP
(in use for at least the policy's number of years, the innovator team on
record) and which compete as replications.

`to_csv` writes the entries with the index form's column names; cells that a
spreadsheet would run as a formula are neutralised.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final

import attrs

from labflow._attributes import INDEX_STAGES, NationalIndex
from labflow._guards import need, need_all
from labflow.errors import InvalidCommand
from labflow.lab import Lab
from labflow.model import Initiator, Innovation
from labflow.requirements import Unmet, unmet

__all__ = [
    "INITIATOR_LABELS",
    "IidEntry",
    "KippEntry",
    "entered",
    "iid",
    "kipp",
    "to_csv",
    "to_json",
]

#: How the index names each kind of initiator (PP 38/2017).
INITIATOR_LABELS: Final[Mapping[str, str]] = {
    Initiator.REGIONAL_HEAD.value: "Kepala Daerah",
    Initiator.DPRD.value: "Anggota DPRD",
    Initiator.ASN.value: "ASN",
    "perangkat_daerah": "Perangkat Daerah",
    Initiator.COMMUNITY.value: "Masyarakat",
}
#: The index's own names of its stages.
STAGE_LABELS: Final[Mapping[str, str]] = {
    "inisiatif": "Inisiatif",
    "uji_coba": "Uji coba",
    "penerapan": "Penerapan",
}
_DAYS_PER_YEAR: Final = 365.25


def entered(innovation: Innovation, stage: str) -> datetime | None:
    """When ``innovation`` last entered ``stage``: its registration for the stage it started
    at, else its latest move (advance or return) into it; ``None`` if it never did."""
    need(innovation, Innovation, "a labflow.Innovation", "exports.entered")
    found: datetime | None = None
    for event in innovation.history:
        payload = event.payload
        opened = event.kind in ("innovation.registered", "innovation.replicated")
        moved = event.kind in ("innovation.advanced", "innovation.returned")
        if (opened and payload.get("stage") == stage) or (moved and payload.get("to") == stage):
            found = event.at
    return found


def _unmet(item: Unmet) -> dict[str, str]:
    return {"code": item.code, "en": item.message_en, "id": item.message_id}


@attrs.frozen
class IidEntry:
    """One innovation as the Indeks Inovasi Daerah asks for it, and what it still lacks."""

    innovation: str
    title: str
    unit: str
    unit_name: str
    region: str
    initiator: str
    stage: str  #: the index stage: inisiatif, uji_coba or penerapan
    lab_stage: str
    trial_start: date | None
    implementation_start: date | None
    attributes: Mapping[str, Any]
    design_words: int
    evidence: int
    replication: bool
    missing: tuple[Unmet, ...]

    @property
    def ready(self) -> bool:
        """Whether the index would find nothing missing."""
        return not self.missing

    def to_dict(self) -> dict[str, Any]:
        return {
            "innovation": self.innovation,
            "title": self.title,
            "unit": self.unit,
            "unit_name": self.unit_name,
            "region": self.region,
            "initiator": self.initiator,
            "stage": self.stage,
            "lab_stage": self.lab_stage,
            "trial_start": self.trial_start.isoformat() if self.trial_start else None,
            "implementation_start": (
                self.implementation_start.isoformat() if self.implementation_start else None
            ),
            "attributes": dict(self.attributes),
            "design_words": self.design_words,
            "evidence": self.evidence,
            "replication": self.replication,
            "ready": self.ready,
            "missing": [
                {"code": u.code, "en": u.message_en, "id": u.message_id} for u in self.missing
            ],
        }


def _mapping(lab: Lab) -> NationalIndex:
    need(lab, Lab, "a labflow.Lab", "labflow.exports")
    index = lab.policy.national_index
    if index is None:
        raise InvalidCommand(
            f"The policy {lab.policy.id!r} has no [national_index] table: it does not say how "
            "its stages map onto the index's stages.",
            f"Kebijakan {lab.policy.id!r} tidak memiliki tabel [national_index]: tidak disebutkan "
            "bagaimana tahapnya dipetakan ke tahap indeks.",
            code="export.no_mapping",
            data={"policy": lab.policy.id},
        )
    return index


def _first_entry(inn: Innovation, stages: Iterable[str]) -> datetime | None:
    moments = [m for m in (entered(inn, s) for s in stages) if m is not None]
    return min(moments) if moments else None


def _local_date(moment: datetime | None, lab: Lab) -> date | None:
    return None if moment is None else moment.astimezone(lab.policy.zone).date()


def _words(value: Any) -> int:
    return len(value.split()) if isinstance(value, str) else 0


def iid(lab: Lab, now: datetime | None = None) -> tuple[IidEntry, ...]:
    """Every active innovation of ``lab`` as an index entry, sorted by id.

    ``now`` is accepted for symmetry with the reports and must be aware; entries
    depend on the history only. `InvalidCommand` if the policy has no mapping.
    """
    if now is not None and (not isinstance(now, datetime) or now.tzinfo is None):
        raise InvalidCommand(
            "An export's now must be a timezone-aware datetime.",
            "Waktu ekspor harus datetime yang memiliki zona waktu.",
            code="export.naive_now",
        )
    index = _mapping(lab)
    policy = lab.policy
    in_stage = {s: [p for p in policy.stage_ids if index.stages[p] == s] for s in INDEX_STAGES}
    entries = []
    for inn in sorted(lab.innovations.values(), key=lambda i: i.id):
        if not inn.active:
            continue
        unit = lab.units.get(inn.unit)
        values = {name: inn.attributes.get(name) for name in policy.attributes}
        missing: list[Unmet] = []
        for name in index.required:
            definition = policy.attributes[name]
            value = values.get(name)
            if value is None or (isinstance(value, str) and not value.strip()):
                missing.append(
                    unmet(
                        "iid.attribute_missing",
                        f"{definition.label_en} is not given.",
                        f"{definition.label_id} belum diisi.",
                        attribute=name,
                    )
                )
            elif definition.min_words and _words(value) < definition.min_words:
                missing.append(
                    unmet(
                        "iid.too_short",
                        f"{definition.label_en} has {_words(value)} words; the index asks for "
                        f"at least {definition.min_words}.",
                        f"{definition.label_id} berisi {_words(value)} kata; indeks meminta "
                        f"sekurang-kurangnya {definition.min_words}.",
                        attribute=name,
                        words=_words(value),
                        min=definition.min_words,
                    )
                )
        if not inn.evidence:
            missing.append(
                unmet(
                    "iid.no_evidence",
                    "No supporting evidence is attached: the index leaves the region unscored "
                    "on this innovation.",
                    "Belum ada bukti dukung: indeks tidak memberi nilai daerah untuk inovasi ini.",
                )
            )
        if inn.initiator is Initiator.ASN and inn.permission is None:
            missing.append(
                unmet(
                    "iid.no_permission",
                    "The civil-servant initiator has no written permission from the unit head.",
                    "Inisiator ASN belum memiliki izin tertulis dari kepala unit.",
                )
            )
        design = next(
            (values[n] for n, d in policy.attributes.items() if d.min_words and n in values), None
        )
        entries.append(
            IidEntry(
                inn.id,
                inn.title,
                inn.unit,
                unit.name if unit is not None else inn.unit,
                lab.region,
                INITIATOR_LABELS.get(inn.initiator.value, inn.initiator.value),
                index.stages[inn.stage],
                inn.stage,
                _local_date(_first_entry(inn, in_stage["uji_coba"]), lab),
                _local_date(_first_entry(inn, in_stage["penerapan"]), lab),
                values,
                _words(design),
                len(inn.evidence),
                inn.replication is not None,
                tuple(missing),
            )
        )
    return tuple(entries)


@attrs.frozen
class KippEntry:
    """Whether an innovation may enter KIPP, as an original or a replication, and why not."""

    innovation: str
    title: str
    unit: str
    group: str  #: ``original`` or ``replication`` (KIPP judges replications apart)
    in_use_since: date | None
    years_in_use: float
    team: tuple[str, ...]
    reasons: tuple[Unmet, ...]

    @property
    def eligible(self) -> bool:
        return not self.reasons

    def to_dict(self) -> dict[str, Any]:
        return {
            "innovation": self.innovation,
            "title": self.title,
            "unit": self.unit,
            "group": self.group,
            "in_use_since": self.in_use_since.isoformat() if self.in_use_since else None,
            "years_in_use": round(self.years_in_use, 2),
            "team": list(self.team),
            "eligible": self.eligible,
            "reasons": [
                {"code": u.code, "en": u.message_en, "id": u.message_id} for u in self.reasons
            ],
        }


def kipp(lab: Lab, now: datetime | None = None) -> tuple[KippEntry, ...]:
    """Every active innovation's KIPP eligibility at ``now`` (default: the lab's clock).

    In use means since it entered a stage the policy maps to *penerapan*; the
    policy's ``kipp_min_years`` sets how long (KIPP: at least one year).
    """
    index = _mapping(lab)
    moment = lab.now() if now is None else now
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise InvalidCommand(
            "A report's now must be a timezone-aware datetime.",
            "Waktu laporan harus datetime yang memiliki zona waktu.",
            code="export.naive_now",
        )
    implementing = [s for s in lab.policy.stage_ids if index.stages[s] == "penerapan"]
    found = []
    for inn in sorted(lab.innovations.values(), key=lambda i: i.id):
        if not inn.active:
            continue
        since = _first_entry(inn, implementing)
        years = max((moment - since).days / _DAYS_PER_YEAR, 0.0) if since else 0.0
        reasons: list[Unmet] = []
        if since is None:
            reasons.append(
                unmet(
                    "kipp.not_in_use",
                    "The innovation has not reached implementation (penerapan).",
                    "Inovasi belum sampai tahap penerapan.",
                )
            )
        elif years < index.kipp_min_years:
            reasons.append(
                unmet(
                    "kipp.too_recent",
                    f"In use for {years:.1f} years; KIPP asks for at least {index.kipp_min_years}.",
                    f"Baru diterapkan {years:.1f} tahun; KIPP meminta sekurang-kurangnya "
                    f"{index.kipp_min_years} tahun.",
                    years=round(years, 2),
                    min=index.kipp_min_years,
                )
            )
        team = tuple(t for t in inn.innovators if t.strip())
        if not team:
            reasons.append(
                unmet(
                    "kipp.no_team",
                    "No innovator or team is on record.",
                    "Belum ada inovator atau tim yang tercatat.",
                )
            )
        found.append(
            KippEntry(
                inn.id,
                inn.title,
                inn.unit,
                "replication" if inn.replication is not None else "original",
                _local_date(since, lab),
                years,
                team,
                tuple(reasons),
            )
        )
    return tuple(found)


#: The CSV columns, named as the index's form names them.
_COLUMNS: Final = (
    ("innovation", "id_inovasi"),
    ("title", "nama_inovasi"),
    ("unit_name", "perangkat_daerah"),
    ("region", "pemerintah_daerah"),
    ("initiator", "inisiator"),
    ("stage", "tahapan"),
    ("trial_start", "tanggal_uji_coba"),
    ("implementation_start", "tanggal_penerapan"),
    ("evidence", "jumlah_bukti_dukung"),
    ("replication", "replikasi"),
)
#: What a spreadsheet would run as a formula when a cell starts with it.
_FORMULA: Final = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    text = value.isoformat() if isinstance(value, date) else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def to_csv(entries: Sequence[IidEntry], lab: Lab) -> str:
    """The entries as CSV with the index form's column names, one attribute a column (the
    index's required ones first, in the policy's order), the lab stage's Indonesian label,
    and the missing items (Indonesian) in the last column."""
    need_all(entries, IidEntry, "IidEntry records", "exports.to_csv")
    index = _mapping(lab)
    policy = lab.policy
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    names = [*index.required, *(n for n in policy.attributes if n not in index.required)]
    writer.writerow([head for _, head in _COLUMNS] + names + ["tahap_lab", "kekurangan"])
    for entry in entries:
        row = [_cell(getattr(entry, field)) for field, _ in _COLUMNS]
        if entry.stage in STAGE_LABELS:
            row[5] = STAGE_LABELS[entry.stage]
        row += [_cell(entry.attributes.get(n)) for n in names]
        row.append(_cell(policy.stage(entry.lab_stage).label_id))
        row.append(_cell("; ".join(u.message_id for u in entry.missing)))
        writer.writerow(row)
    return buffer.getvalue()


def to_json(entries: Sequence[IidEntry | KippEntry]) -> str:
    """The entries as a JSON array (UTF-8 text, keys as in `IidEntry.to_dict`)."""
    need_all(entries, (IidEntry, KippEntry), "IidEntry or KippEntry records", "exports.to_json")
    return json.dumps([e.to_dict() for e in entries], ensure_ascii=False, indent=2)
