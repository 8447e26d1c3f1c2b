"""structlog emission: every applied event and every refused attempt, under stable names.

labflow never configures structlog. It logs through ``structlog.get_logger("labflow")``
and the host decides where the events go (see ``docs/audit.md``). Applied events
are logged at ``info`` as ``labflow.<kind>`` (``labflow.innovation.advanced``);
refusals at ``warning`` as ``labflow.gate.refused`` (a gate had unmet
requirements) or ``labflow.command.refused`` (anything else).

Every record carries ``lab``, ``region``, ``policy`` and ``actor``; applied
events add ``subject``, ``seq``, ``hash`` and, for innovations, ``innovation``,
``unit`` and ``stage``; moves add ``from_stage`` and ``to_stage``; returns and
withdrawals add ``reason``. Refusals add ``command``, ``subject`` and either
``target`` and ``reasons`` (the unmet codes) or ``error`` and ``reason``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog

from labflow._catalogue import EVENT_KINDS

if TYPE_CHECKING:
    from labflow.errors import CommandError
    from labflow.events import Event
    from labflow.lab import Lab
    from labflow.model import Innovation
    from labflow.requirements import Verdict

__all__ = ["EVENT_NAMES", "logger"]

logger = structlog.get_logger("labflow")

#: Every event name labflow emits: one per event kind of the command catalogue, two refusals.
EVENT_NAMES: tuple[str, ...] = (
    "labflow.command.refused",
    "labflow.gate.refused",
    *("labflow." + kind for kind in EVENT_KINDS),
)


def _moves(event: Event, extra: dict[str, Any]) -> None:
    payload = event.payload
    if "from" in payload:
        extra["from_stage"] = payload["from"]
        extra["to_stage"] = payload["to"]
    if "reason" in payload:
        extra["reason"] = payload["reason"]


def applied(lab: Lab, event: Event, innovation: Innovation | None = None) -> None:
    """Emit one applied event."""
    extra: dict[str, Any] = (
        {"innovation": innovation.id, "unit": innovation.unit, "stage": innovation.stage}
        if innovation is not None
        else {}
    )
    _moves(event, extra)
    logger.info(
        "labflow." + event.kind,
        lab=lab.id,
        region=lab.region,
        policy=lab.policy.id,
        actor=event.actor,
        subject=event.subject,
        seq=event.seq,
        hash=event.hash,
        **extra,
    )


def gate_refused(lab: Lab, command: str, actor: str, verdict: Verdict) -> None:
    """Emit a refusal whose gate had unmet requirements."""
    logger.warning(
        "labflow.gate.refused",
        lab=lab.id,
        region=lab.region,
        policy=lab.policy.id,
        actor=actor,
        command=command,
        subject=verdict.subject,
        target=verdict.target,
        reasons=list(verdict.codes),
    )


def command_refused(
    lab: Lab, command: str, actor: str, subject: str | None, error: CommandError
) -> None:
    """Emit any other refusal: a missing role, an unknown id, a malformed command."""
    logger.warning(
        "labflow.command.refused",
        lab=lab.id,
        region=lab.region,
        policy=lab.policy.id,
        actor=actor,
        command=command,
        subject=subject,
        error=type(error).__name__,
        reason=str(error),
    )
