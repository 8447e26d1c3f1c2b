"""An innovation's moves -- advance, return, withdraw, reinstate -- and the lab's advance.

Private. The bodies run the commands on a live lab (`advance` is the hot path); the
``replay_*`` checks re-judge their recorded events in the validating fold
(`labflow._replay.Fold`, which finds them through the catalogue): one stage at a time
in the policy's order from the stage the subject was at, the gate's built-in
requirements met as of the event's own time, the gate recorded as the policy had it,
and a lab move's cohort conditions held on the innovations at the versions it counted.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NoReturn

import attrs

from labflow._authority import authorize
from labflow._frozen import FrozenList
from labflow._gates import advance_unmet, lab_verdict, unit_kind
from labflow._inputs import text as _text
from labflow._monev_rules import MONEV_REQUIREMENT, monev_up_to_date
from labflow._preconditions import acting_on
from labflow._registry import run_all
from labflow._view import View, gate_record, refuse
from labflow.errors import ConflictError, GateRefused, InvalidCommand
from labflow.events import Event
from labflow.model import Innovation
from labflow.requirements import CohortContext, GateContext, Verdict

if TYPE_CHECKING:
    from labflow._replay import Fold
    from labflow.lab import Lab

__all__ = [
    "advance",
    "advance_lab",
    "gate",
    "reinstate",
    "replay_advance",
    "replay_advance_lab",
    "replay_reinstate",
    "replay_return",
    "return_to",
    "withdraw",
]


def advance(lab: Lab, innovation_id: str, *, by: str) -> Event:
    # The hot path: the authority and the gate called directly, not through `Lab`'s methods.
    inn = lab.innovation(innovation_id)
    authorize(lab, "advance", by, inn.unit)
    now = lab.now()
    target, found = advance_unmet(lab, lab._engine, inn, None, now)
    if found:
        raise GateRefused(Verdict(inn.id, "advance", target, tuple(found)))
    payload = {"from": inn.stage, "to": target, "gate": gate(lab, target, inn.unit)}
    return lab._commit(inn, by, "innovation.advanced", payload, now)


def gate(lab: Lab, stage: str, unit: str) -> list[str]:
    """The requirements of ``stage``'s gate that apply to ``unit``: what an advance passed.

    One read-only list per (stage, unit kind), shared by every advance that records it.
    """
    kind = unit_kind(lab.units.get(unit))
    names = lab._gates.get((stage, kind))
    if names is None:
        names = lab._gates[(stage, kind)] = FrozenList(gate_record(lab.policy, stage, kind))
    return names


def return_to(lab: Lab, innovation_id: str, stage: str, *, reason: str, by: str) -> Event:
    inn, _ = acting_on(lab, "return", innovation_id, by)
    target = lab.policy.stage(stage)
    if target.id not in lab._engine.returns[inn.stage]:
        raise InvalidCommand(
            f"{inn.id} is at {inn.stage}; it can only return to an earlier stage.",
            f"{inn.id} berada di {inn.stage}; hanya dapat dikembalikan ke tahap sebelumnya.",
            code="return.not_earlier",
            data={"innovation": inn.id, "stage": inn.stage, "target": target.id},
        )
    payload = {
        "from": inn.stage,
        "to": target.id,
        "reason": _text(reason, "reason", empty=False),
    }
    return lab._commit(inn, by, "innovation.returned", payload)


def withdraw(lab: Lab, innovation_id: str, *, reason: str, by: str) -> Event:
    inn, _ = acting_on(lab, "withdraw", innovation_id, by)
    payload = {"reason": _text(reason, "reason", empty=False)}
    return lab._commit(inn, by, "innovation.withdrawn", payload)


def reinstate(lab: Lab, innovation_id: str, *, reason: str, by: str) -> Event:
    inn, _ = acting_on(lab, "reinstate", innovation_id, by)
    payload = {"reason": _text(reason, "reason", empty=False)}
    return lab._commit(inn, by, "innovation.reinstated", payload)


def advance_lab(lab: Lab, *, by: str, expect: str | None = None) -> Event:
    lab._authorize("advance_lab", by, None)
    if expect is not None:
        seen = lab.policy.stage(_text(expect, "stage", empty=False)).id
        if seen != lab.stage:  # the lab moved since the caller looked: do not move it twice
            raise ConflictError(lab.id, seen, lab.stage)
    now = lab.now()
    target = lab._engine.advance_lab(
        lab.stage,
        lambda spec, to: not run_all((spec,), CohortContext(lab, lab.policy.stage(to), now)),
    )
    if target is None:
        raise GateRefused(lab._check_lab(now))
    # What the decision counted, so that replay can judge it on the same cohort.
    counted = {i.id: len(i.history) for i in lab.innovations.values()}
    payload = {"from": lab.stage, "to": target, "cohort": counted}
    return lab._commit_lab(by, "lab.advanced", payload, now)


# --- Replay -----------------------------------------------------------------------------------


def replay_advance(fold: Fold, inn: Innovation, event: Event, view: View, schema: int) -> None:
    p = event.payload
    if p["from"] != inn.stage or p["to"] != fold.engine.next[inn.stage]:
        _bad_move(event, inn, "advance")
    target, found = advance_unmet(view, fold.engine, inn, None, event.at)
    if any(s.name == MONEV_REQUIREMENT for s in fold.policy.gates.get(target, ())):
        # a requirement of labflow's own outside the trusted set: judged here too
        found = [
            *found,
            *monev_up_to_date(GateContext(inn, view, fold.policy.stage(target), event.at)),
        ]
    if found:
        codes = [u.code for u in found]
        refuse(
            event,
            "history.gate",
            f"it entered {target!r} with {', '.join(codes)} unmet",
            f"memasuki {target!r} padahal {', '.join(codes)} belum terpenuhi",
            codes=codes,
        )
    if schema >= 2:
        unit = view.units.get(inn.unit)
        expected = gate_record(fold.policy, target, unit.kind if unit else None)
        if p["gate"] != expected:
            refuse(
                event,
                "history.gate_record",
                f"it records the gate {p['gate']!r}, but the policy's gate was {expected!r}",
                f"mencatat gerbang {p['gate']!r}, padahal gerbang kebijakan {expected!r}",
            )


def replay_return(fold: Fold, inn: Innovation, event: Event, view: View, schema: int) -> None:
    p = event.payload
    if p["from"] != inn.stage or p["to"] not in fold.engine.returns[inn.stage]:
        _bad_move(event, inn, "return")


def replay_reinstate(fold: Fold, inn: Innovation, event: Event, view: View, schema: int) -> None:
    if inn.active:
        refuse(event, "history.not_withdrawn", "it was not withdrawn", "belum ditarik")


def _bad_move(event: Event, inn: Innovation, how: str) -> NoReturn:
    p = event.payload
    refuse(
        event,
        "history.stage_order",
        f"it moves ({how}) from {p['from']!r} to {p['to']!r}, but the innovation was at "
        f"{inn.stage!r}",
        f"berpindah ({how}) dari {p['from']!r} ke {p['to']!r}, padahal inovasi berada di "
        f"{inn.stage!r}",
        stage=inn.stage,
    )


def replay_advance_lab(fold: Fold, event: Event, view: View, check: bool, schema: int) -> View:
    """The lab moves one stage on, its cohort conditions held on what the move counted."""
    p = event.payload
    nxt = fold.engine.next[view.stage]
    if p["from"] != view.stage or nxt is None or p["to"] != nxt:
        refuse(
            event,
            "history.stage_order",
            f"the lab moves from {view.stage!r} only to {nxt!r}, "
            f"not from {p['from']!r} to {p['to']!r}",
            f"laboratorium dari {view.stage!r} hanya dapat maju ke {nxt!r}, "
            f"bukan dari {p['from']!r} ke {p['to']!r}",
            stage=view.stage,
        )
    if check and schema >= 2:
        _cohort_held(fold, event, view, p["cohort"])
    entered = MappingProxyType({**view.entered, nxt: event.at})
    return attrs.evolve(view, stage=nxt, entered=entered)


def _cohort_held(fold: Fold, event: Event, view: View, counted: Any) -> None:
    """The cohort conditions held on the innovations at the versions the move counted."""
    if not isinstance(counted, dict):
        raise TypeError("lab.advanced records the cohort it counted")
    seq = len(fold.views)
    cohort: dict[str, Innovation] = {}
    for subject, version in counted.items():
        stream = fold.streams.get(subject)
        if stream is None or not isinstance(version, int) or version > stream.end:
            refuse(
                event,
                "history.cohort",
                f"it counted {subject!r} at version {version!r}, which that history never reached",
                f"menghitung {subject!r} pada versi {version!r}, yang tidak pernah dicapai",
                innovation=subject,
            )
        fold.fold_stream(subject, version, seq - 1)
        if stream.pos != version or stream.inn is None:
            refuse(
                event,
                "history.cohort",
                f"it counted {subject!r} at version {version}, but an earlier lab event "
                f"already saw it at version {stream.pos}",
                f"menghitung {subject!r} pada versi {version}, padahal peristiwa "
                f"sebelumnya sudah melihat versi {stream.pos}",
                innovation=subject,
            )
        cohort[subject] = stream.inn
    seen = attrs.evolve(view, innovations=MappingProxyType(cohort))
    verdict = lab_verdict(seen, fold.engine, event.at)
    if not verdict.ok:
        refuse(
            event,
            "history.cohort",
            f"the lab left {view.stage!r} although its cohort conditions were unmet "
            f"({', '.join(verdict.codes)})",
            f"laboratorium meninggalkan {view.stage!r} padahal syarat kohort belum "
            f"terpenuhi ({', '.join(verdict.codes)})",
            codes=list(verdict.codes),
        )
