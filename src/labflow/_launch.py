"""Launching: one innovation (`record_launch`) or a whole ceremony (`launch_cohort`).

Private. The bodies run the commands on a live lab; the replay checks re-judge their
recorded events in the validating fold (`labflow._replay.Fold`, which finds them
through the catalogue): a launch only with the launch gate met as of its moment (an
approved plan always), at an open exhibition only where the policy allows it, and a
ceremony only at the stage the policy holds it, listing launches it recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from labflow import audit
from labflow._exhibitions import check_launch_at, launch_refusal
from labflow._fold import apply_innovation, apply_lab
from labflow._gates import launch_verdict
from labflow._inputs import ident as _ident
from labflow._inputs import text as _text
from labflow._inputs import texts as _texts
from labflow._preconditions import require
from labflow._record import next_event
from labflow._view import View, refuse
from labflow.errors import GateRefused
from labflow.events import Event
from labflow.model import Innovation
from labflow.requirements import Verdict

if TYPE_CHECKING:
    from labflow._replay import Fold
    from labflow.lab import Lab

__all__ = ["CeremonyResult", "launch_cohort", "record_launch", "replay_ceremony", "replay_launch"]


@attrs.frozen
class CeremonyResult:
    """What a launch ceremony did: the innovations launched, and why the others were not."""

    ceremony: str
    launched: tuple[str, ...]
    refused: Mapping[str, Verdict]
    events: tuple[Event, ...]


def record_launch(
    lab: Lab, innovation_id: str, *, ceremony: str, by: str, exhibition: str | None = None
) -> Event:
    inn = lab.innovation(innovation_id)
    lab._authorize("record_launch", by, inn.unit)
    _text(ceremony, "ceremony", empty=False)
    payload: dict[str, Any] = {"ceremony": ceremony}
    if exhibition is not None:
        payload["exhibition"] = _ident(exhibition, "exhibition id")
        check_launch_at(lab, exhibition)
    now = lab.now()
    verdict = lab._check_launch(inn, now)
    if not verdict.ok:
        raise GateRefused(verdict)
    return lab._commit(inn, by, "innovation.launched", payload, now)


def launch_cohort(
    lab: Lab, *, ceremony: str, by: str, innovations: Iterable[str] | None = None
) -> CeremonyResult:
    lab._authorize("launch_cohort", by, None)
    _text(ceremony, "ceremony", empty=False)
    require(lab, "launch_cohort")
    if innovations is None:
        candidates = [i for i in lab.innovations.values() if i.active and i.launch is None]
    else:
        ids = _texts(innovations, "innovation ids")
        candidates = [lab.innovation(i) for i in dict.fromkeys(ids)]
    now = lab.now()
    verdicts = {inn.id: lab._check_launch(inn, now) for inn in candidates}
    ready = [inn for inn in candidates if verdicts[inn.id].ok]
    refused = {k: v for k, v in verdicts.items() if not v.ok}
    summary = {
        "ceremony": ceremony,
        "launched": [inn.id for inn in ready],
        "refused": {k: list(v.codes) for k, v in refused.items()},
    }
    # Every event is built -- one clock reading, every encoding done -- before any is
    # applied, so nothing that can fail comes after the first launch: nothing partial.
    launched = {"ceremony": ceremony, "lab_v": len(lab.history)}
    launches = [
        (inn, next_event(inn.id, inn.history, now, by, "innovation.launched", launched))
        for inn in ready
    ]
    held = next_event(lab.id, lab.history, now, by, "lab.ceremony_held", summary)
    for inn, event in launches:
        applied = lab._put(apply_innovation(inn, event))
        audit.applied(lab, event, applied)
    apply_lab(lab, held)
    audit.applied(lab, held)
    events = (*(event for _, event in launches), held)
    return CeremonyResult(ceremony, tuple(i.id for i in ready), refused, events)


# --- Replay -----------------------------------------------------------------------------------


def replay_launch(fold: Fold, inn: Innovation, event: Event, view: View, schema: int) -> None:
    """Launched with the launch gate met as of its moment, where the policy allows it.

    Its actor's permission is judged by the fold: one who may only hold ceremonies
    launches only at a ceremony that lists it.
    """
    refusal = launch_refusal(view.exhibitions, fold.policy, event.payload.get("exhibition"))
    if refusal is not None:
        refuse(event, "history.exhibition", refusal[1], refusal[2], refusal=refusal[0])
    verdict = launch_verdict(view, inn, event.at)
    if not verdict.ok:
        refuse(
            event,
            "history.gate",
            f"it was launched with {', '.join(verdict.codes)} unmet",
            f"diluncurkan padahal {', '.join(verdict.codes)} belum terpenuhi",
            codes=list(verdict.codes),
        )


def replay_ceremony(fold: Fold, event: Event, view: View, check: bool, schema: int) -> View:
    """A ceremony at the stage the policy holds one; what it lists is judged once every
    stream is folded (`labflow._replay.Fold.after`)."""
    p = event.payload
    if check and not fold.policy.launches_at(view.stage):
        refuse(
            event,
            "history.ceremony_stage",
            f"a launch ceremony is held at the launch stage, not at {view.stage!r}",
            f"upacara peluncuran diadakan di tahap peluncuran, bukan di {view.stage!r}",
        )
    if not isinstance(p["launched"], list) or not isinstance(p["ceremony"], str):
        raise TypeError("a ceremony lists the innovations it launched")
    fold.held.update((subject, event.at, event.actor) for subject in p["launched"])
    return view
