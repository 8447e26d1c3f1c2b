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

Before building a record, labflow asks the host's logger whether its level is enabled
(structlog's ``is_enabled_for``, which its filtering and standard-library loggers have):
a host that filters labflow's levels out pays for neither the record nor the call.
structlog itself is imported when the first event is emitted, not with labflow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from labflow._catalogue import EVENT_KINDS

if TYPE_CHECKING:
    from labflow.errors import CommandError
    from labflow.events import Event
    from labflow.lab import Lab
    from labflow.model import Innovation
    from labflow.requirements import Verdict

__all__ = ["EVENT_NAMES", "logger"]

#: The logger labflow emits through: ``structlog.get_logger("labflow")``, made on first use.
#: A host may replace it (the ``labflow`` command does, to keep events off its output).
logger: Any

# `logging.INFO` and `logging.WARNING`, the levels structlog shares with the standard library
# (written out: importing `logging` is not needed to ask).
_INFO: Final = 20
_WARNING: Final = 30


def __getattr__(name: str) -> Any:
    # `logger` is made when first asked for, so that importing labflow does not import
    # structlog (and, through it, asyncio and Rich).
    if name == "logger":
        return _proxy()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _proxy() -> Any:
    try:
        return logger  # made below on first use, or set by a host
    except NameError:
        import structlog

        made = globals()["logger"] = structlog.get_logger("labflow")
        return made


def _enabled(level: int) -> Any:
    """The bound logger to emit through at ``level``, or ``None`` if the host filters it out.

    The logger is resolved once per record (a cached logger costs a call; an uncached one
    is assembled from the host's current configuration, as structlog would for any call).
    """
    bound = _proxy().bind()
    # Looked up on the class: structlog's generic `BoundLogger` turns any attribute asked of
    # an instance into a logging method, which would log a record named "is_enabled_for".
    is_enabled_for = getattr(type(bound), "is_enabled_for", None)
    if is_enabled_for is not None and not is_enabled_for(bound, level):
        return None
    return bound


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
    bound = _enabled(_INFO)
    if bound is None:
        return
    extra: dict[str, Any] = (
        {"innovation": innovation.id, "unit": innovation.unit, "stage": innovation.stage}
        if innovation is not None
        else {}
    )
    _moves(event, extra)
    bound.info(
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
    bound = _enabled(_WARNING)
    if bound is None:
        return
    bound.warning(
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
    bound = _enabled(_WARNING)
    if bound is None:
        return
    bound.warning(
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
