"""An innovation's own records: registered or replicated, diagnosed, evidence, permission,
attributes.

Private. Like every command module (`labflow._plan`, `labflow._agreement`,
`labflow._moves`, `labflow._launch`, `labflow._roster`, `labflow._exhibitions`,
`labflow._monev`), it holds the commands' bodies -- `labflow.Lab`'s command methods
and `Lab.send` call them: each authorises the actor, refuses bad input or an unmet
precondition with labflow's own error, and hands its payload to the lab's ``_commit``
(or ``_commit_lab`` / ``_open``), which records and applies the event -- and their
replay checks, which the validating fold finds through the catalogue. These commands
need none beyond what every event gets, but for the attributes' values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from labflow._attributes import attribute_problems
from labflow._fold import (
    diagnosis_payload,
    replication_payload,
)
from labflow._inputs import ident as _ident
from labflow._inputs import initiator as _initiator
from labflow._inputs import text as _text
from labflow._inputs import texts as _texts
from labflow._preconditions import acting_on
from labflow._view import View, refuse
from labflow.errors import InvalidCommand, NotFound
from labflow.events import Event
from labflow.model import (
    Diagnosis,
    Initiator,
    Innovation,
    Replication,
)

if TYPE_CHECKING:
    from labflow._replay import Fold
    from labflow.lab import Lab


def _check_opening(lab: Lab, command: str, innovation_id: str, unit: str, by: str) -> None:
    """What every command that opens an innovation checks first: a new id, an allowed actor,
    a unit of the lab."""
    _ident(innovation_id, "innovation id")
    lab._authorize(command, by, _ident(unit, "unit id"))
    if innovation_id in lab.innovations:
        raise InvalidCommand(
            f"The innovation {innovation_id!r} is already registered.",
            f"Inovasi {innovation_id!r} sudah terdaftar.",
            code="innovation.exists",
            data={"innovation": innovation_id},
        )
    if unit not in lab.units:
        raise NotFound("unit", str(unit), where=f"lab {lab.id!r}")


def register(
    lab: Lab,
    innovation_id: str,
    *,
    title: str,
    unit: str,
    innovators: Sequence[str],
    problem: str,
    initiator: Initiator | str = Initiator.ASN,
    by: str,
    attributes: Mapping[str, Any] | None = None,
) -> Event:
    _check_opening(lab, "register", innovation_id, unit, by)
    payload: dict[str, Any] = {
        "lab": lab.id,
        "title": _text(title, "title"),
        "unit": unit,
        "innovators": list(_texts(innovators, "innovators")),
        "problem": _text(problem, "problem"),
        "initiator": _initiator(initiator, lab.policy).value,
        "stage": lab.policy.stages[0].id,
    }
    values = attribute_values(lab, attributes)
    if values:
        payload["attributes"] = values
    return lab._open(innovation_id, by, "innovation.registered", payload)


def replicate(
    lab: Lab,
    innovation_id: str,
    *,
    origin: str,
    unit: str,
    adaptation: str,
    by: str,
    origin_region: str | None = None,
    title: str | None = None,
    innovators: Sequence[str] = (),
    problem: str | None = None,
    initiator: Initiator | str = Initiator.ASN,
) -> Event:
    _check_opening(lab, "replicate", innovation_id, unit, by)
    _text(origin, "origin", empty=False)
    _text(adaptation, "adaptation")
    if origin_region is None or origin_region == lab.region:
        source = lab.innovation(origin)
        if source.launch is None:
            raise InvalidCommand(
                f"{origin} has not been launched; only launched ones replicate.",
                f"{origin} belum diluncurkan; hanya inovasi yang sudah diluncurkan "
                "yang dapat direplikasi.",
                code="replication.origin_not_launched",
                data={"origin": origin},
            )
        if source.unit == unit:
            raise InvalidCommand(
                f"{origin} already belongs to {unit}; replicate it elsewhere.",
                f"{origin} sudah milik {unit}; replikasikan di unit lain.",
                code="replication.same_unit",
                data={"origin": origin, "unit": unit},
            )
        replication = Replication(lab.region, origin, adaptation, source.title)
        title = source.title if title is None else title
        problem = source.problem if problem is None else problem
    else:
        _text(origin_region, "origin region", empty=False)
        if title is None or problem is None:
            raise InvalidCommand(
                "A replica of another region's innovation needs its title and problem.",
                "Replika inovasi daerah lain memerlukan judul dan masalahnya.",
                code="replication.needs_title",
            )
        replication = Replication(origin_region, origin, adaptation, title)
    payload: dict[str, Any] = {
        "lab": lab.id,
        "title": _text(title, "title"),
        "unit": unit,
        "innovators": list(_texts(innovators, "innovators")),
        "problem": _text(problem, "problem"),
        "initiator": _initiator(initiator, lab.policy).value,
        "stage": lab.policy.stages[0].id,
        "replication": replication_payload(replication),
    }
    return lab._open(innovation_id, by, "innovation.replicated", payload)


def record_diagnosis(lab: Lab, innovation_id: str, diagnosis: Diagnosis, *, by: str) -> Event:
    inn, _ = acting_on(lab, "record_diagnosis", innovation_id, by)
    if not isinstance(diagnosis, Diagnosis):
        raise InvalidCommand(
            "A diagnosis must be a labflow.Diagnosis.",
            "Diagnosis harus berupa labflow.Diagnosis.",
            code="input.not_diagnosis",
        )
    _text(diagnosis.problem, "diagnosis problem")
    _texts(diagnosis.root_causes, "root causes")
    _text(diagnosis.readiness, "readiness")
    return lab._commit(inn, by, "innovation.diagnosis_recorded", diagnosis_payload(diagnosis))


def grant_permission(lab: Lab, innovation_id: str, *, reference: str, by: str) -> Event:
    inn, _ = acting_on(lab, "grant_permission", innovation_id, by)
    payload = {"reference": _text(reference, "reference", empty=False)}
    return lab._commit(inn, by, "innovation.permission_granted", payload)


def attach_evidence(lab: Lab, innovation_id: str, *, title: str, reference: str, by: str) -> Event:
    inn, _ = acting_on(lab, "attach_evidence", innovation_id, by)
    payload = {
        "title": _text(title, "title", empty=False),
        "reference": _text(reference, "reference", empty=False),
    }
    return lab._commit(inn, by, "innovation.evidence_attached", payload)


def set_attributes(
    lab: Lab, innovation_id: str, *, attributes: Mapping[str, Any], by: str
) -> Event:
    """Set or change attributes the policy declares; ``None`` clears one."""
    inn, _ = acting_on(lab, "set_attributes", innovation_id, by)
    clean = _checked_attributes(lab, attributes, at_least_one=True)
    return lab._commit(inn, by, "innovation.attributes_set", {"attributes": clean})


def attribute_values(lab: Lab, values: Mapping[str, Any] | None) -> dict[str, Any]:
    """``values`` checked against the policy's declared attributes; `InvalidCommand` if not."""
    if values is None:
        return {}
    clean = _checked_attributes(lab, values)
    return {k: v for k, v in clean.items() if v is not None}


def _checked_attributes(
    lab: Lab, values: Mapping[str, Any], *, at_least_one: bool = False
) -> dict[str, Any]:
    """``values`` of declared attributes, of their types and allowed values, text by the text
    rule (``None`` kept: it clears one); every problem in one `InvalidCommand`."""
    clean, problems = attribute_problems(lab.policy.attributes, values)
    if at_least_one and not problems and not clean:
        problems = [("", "Name at least one attribute to set.", "Sebutkan minimal satu atribut.")]
    if problems:
        raise InvalidCommand(
            " ".join(en for _, en, _ in problems),
            " ".join(id_ for _, _, id_ in problems),
            code="command.attributes",
            data={"attributes": [key for key, _, _ in problems]},
        )
    for key, value in clean.items():
        if isinstance(value, str):
            _text(value, f"attribute {key}")
    return clean


# --- Replay -----------------------------------------------------------------------------------


def replay_set_attributes(
    fold: Fold, inn: Innovation, event: Event, view: View, schema: int
) -> None:
    """Set attributes are ones the policy declares, of their type and allowed values."""
    values = event.payload["attributes"]
    clean, problems = attribute_problems(fold.policy.attributes, values)
    if problems or not clean:
        found = [key for key, _, _ in problems]
        named = ", ".join(found)
        refuse(
            event,
            "history.attributes",
            f"it sets attributes the policy does not allow ({named or 'none'})",
            f"menetapkan atribut yang tidak diizinkan kebijakan ({named or 'tidak ada'})",
            attributes=found,
        )
