"""The checks every command's input passes: free text, identifiers, units and actors.

Private. A host builds a command's arguments from its users' input; each check here
refuses a wrong value with labflow's own `InvalidCommand`, naming the field in English
and Indonesian, before anything is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from labflow import _text as _rules
from labflow._gates import unit_kind_refused
from labflow.errors import InvalidCommand, NotFound
from labflow.model import Actor, Initiator, Unit

if TYPE_CHECKING:
    from labflow.lab import Lab
    from labflow.policy import Policy

__all__ = [
    "check_new_actor",
    "check_new_unit",
    "check_roles",
    "field_id",
    "ident",
    "initiator",
    "text",
    "texts",
]


#: The Indonesian for the fields `_text` and `_ident` name in their refusals.
_FIELDS_ID: Final = {
    "lab id": "ID laboratorium",
    "region": "daerah",
    "actor id": "ID pelaku",
    "unit id": "ID unit",
    "innovation id": "ID inovasi",
    "unit name": "nama unit",
    "actor name": "nama pelaku",
    "title": "judul",
    "problem": "masalah",
    "innovators": "inovator",
    "origin": "asal",
    "adaptation": "adaptasi",
    "origin region": "daerah asal",
    "diagnosis problem": "masalah diagnosis",
    "root causes": "akar masalah",
    "readiness": "kesiapan",
    "step description": "uraian langkah",
    "person responsible": "penanggung jawab",
    "stakeholders": "pemangku kepentingan",
    "documents": "dokumen",
    "regional head": "kepala daerah",
    "unit head": "kepala unit",
    "terms": "ketentuan",
    "reference": "rujukan",
    "ceremony": "upacara",
    "event": "acara",
    "booth": "stan",
    "reason": "alasan",
    "roles": "peran",
    "innovation ids": "ID inovasi",
    "booth holder": "pemilik stan",
    "exhibition id": "ID pameran",
    "exhibition name": "nama pameran",
    "exhibitor id": "ID peserta pameran",
    "exhibitor name": "nama peserta pameran",
    "finding": "temuan",
    "findings": "temuan",
    "indicator name": "nama indikator",
    "period": "periode",
    "services": "layanan",
    "showcases": "yang ditampilkan",
    "stage": "tahap",
    "venue": "tempat",
}


def field_id(what: str) -> str:
    return _FIELDS_ID.get(what, what)


def text(value: object, what: str, *, empty: bool = True) -> str:
    # the one free-text rule, with the field named in both languages
    return _rules.check_text(value, what, empty=empty, what_id=field_id(what))


def texts(value: object, what: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidCommand(
            f"The {what} must be a list of texts.",
            f"{field_id(what).capitalize()} harus berupa daftar teks.",
            code="input.not_texts",
            data={"field": what},
        )
    items = tuple(value)
    for item in items:
        text(item, what)
    return items


def ident(value: object, what: str) -> str:
    return _rules.check_ident(value, what, what_id=field_id(what))  # the one identifier rule


def initiator(value: Initiator | str, policy: Policy) -> Initiator:
    allowed = policy.settings.initiators
    try:
        if Initiator(value) in allowed:
            return Initiator(value)
    except ValueError:
        pass
    shown = ", ".join(sorted(i.value for i in allowed))
    raise InvalidCommand(
        f"{value!r} is not an initiator this policy knows (one of {shown}).",
        f"{value!r} bukan inisiator yang dikenal kebijakan ini (salah satu dari {shown}).",
        code="input.initiator",
    )


def check_new_unit(lab: Lab, unit: object) -> Unit:
    if not isinstance(unit, Unit):
        raise InvalidCommand(
            f"A unit must be a labflow.Unit, not {type(unit).__name__}.",
            f"Unit harus berupa labflow.Unit, bukan {type(unit).__name__}.",
            code="input.not_unit",
        )
    ident(unit.id, "unit id")
    text(unit.name, "unit name", empty=False)
    if unit.kind not in lab.policy.settings.unit_kinds:
        raise InvalidCommand(*unit_kind_refused(lab.policy, unit), code="unit.kind_not_allowed")
    if unit.id in lab.units:
        raise InvalidCommand(
            f"The unit {unit.id!r} is already part of the lab.",
            f"Unit {unit.id!r} sudah terdaftar di laboratorium.",
            code="unit.exists",
            data={"unit": unit.id},
        )
    return unit


def check_new_actor(lab: Lab, actor: object) -> Actor:
    if not isinstance(actor, Actor):
        raise InvalidCommand(
            f"An actor must be a labflow.Actor, not {type(actor).__name__}.",
            f"Pelaku harus berupa labflow.Actor, bukan {type(actor).__name__}.",
            code="input.not_actor",
        )
    ident(actor.id, "actor id")
    text(actor.name, "actor name", empty=False)
    if actor.id in lab.actors:
        raise InvalidCommand(
            f"The actor {actor.id!r} is already part of the lab.",
            f"Pelaku {actor.id!r} sudah terdaftar di laboratorium.",
            code="actor.exists",
            data={"actor": actor.id},
        )
    check_roles(lab, actor.roles)
    if actor.unit is not None and ident(actor.unit, "unit id") not in lab.units:
        raise NotFound("unit", str(actor.unit), where=f"lab {lab.id!r}")
    return actor


def check_roles(lab: Lab, roles: Iterable[str]) -> None:
    unknown = sorted(r for r in roles if r not in lab.policy.roles)
    if unknown:
        raise InvalidCommand(
            f"The roles {unknown} are not roles of the policy {lab.policy.id!r}.",
            f"Peran {unknown} tidak dikenal dalam kebijakan {lab.policy.id!r}.",
            code="roles.unknown",
            data={"roles": unknown},
        )
