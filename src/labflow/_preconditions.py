"""A command's preconditions judged on a live lab: what `require` raises, `allowed` lists.

Private. The catalogue declares each command's preconditions (`labflow._catalogue`);
this is the one place they are judged on a `Lab` -- a command's body refuses the first
one unmet (`require`), `Lab.allowed` lists every one (`preconditions_unmet`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from labflow._catalogue import ACTIVE, CommandSpec, Precondition, by_name
from labflow._exhibit_rules import exhibit_stage
from labflow.errors import InvalidCommand
from labflow.model import Actor, Innovation
from labflow.requirements import Unmet

if TYPE_CHECKING:
    from labflow.lab import Lab

__all__ = ["acting_on", "preconditions_unmet", "require"]


class _Facts:
    """What the catalogue's preconditions read of one subject, each fact worked out when asked."""

    __slots__ = ("innovation", "lab", "stage")

    def __init__(self, lab: Lab, innovation: Innovation | None) -> None:
        self.lab = lab
        self.innovation = innovation
        self.stage = lab.stage if innovation is None else innovation.stage

    def covers(self, step: str) -> bool:
        return step in self.lab.policy.stage(self.stage).covers

    def earlier(self) -> bool:
        return bool(self.lab._engine.returns[self.stage])

    def last(self) -> bool:
        return self.lab._engine.next[self.stage] is None

    def binding(self) -> bool:
        assert self.innovation is not None
        return self.lab._past_agreement(self.innovation)  # the lab's one answer to this

    def ceremony(self) -> bool:
        return self.lab._engine.hold_ceremony(self.stage)

    def plan_approved(self) -> bool:
        assert self.innovation is not None
        return self.lab.policy.plan_approved(self.innovation.action_plan)

    def exhibiting(self) -> bool:
        stage = exhibit_stage(self.lab.policy)
        if stage is None:
            return False
        if self.innovation is not None:
            return self.stage == stage
        return self.lab.policy.index(self.stage) >= self.lab.policy.index(stage)


def _refusal(spec: CommandSpec, pre: Precondition, facts: _Facts, subject: str) -> Unmet:
    data = {"stage": facts.stage}
    if spec.level == "innovation":
        data["innovation"] = subject
    return Unmet(
        pre.code,
        pre.message_en.format(subject=subject, stage=facts.stage),
        pre.message_id.format(subject=subject, stage=facts.stage),
        data,
    )


def preconditions_unmet(lab: Lab, spec: CommandSpec, subject: str | None) -> list[Unmet]:
    """Every precondition of ``spec`` that ``subject`` (the lab when ``None``) does not meet."""
    inn = None if subject is None else lab.innovation(subject)
    facts = _Facts(lab, inn)
    ident = lab.id if inn is None else inn.id
    return [_refusal(spec, p, facts, ident) for p in spec.preconditions if not p.holds(facts)]


def _refuse(spec: CommandSpec, pre: Precondition, facts: _Facts, subject: str) -> NoReturn:
    item = _refusal(spec, pre, facts, subject)
    raise InvalidCommand(item.message_en, item.message_id, code=item.code, data=dict(item.data))


def _spec(command: str) -> CommandSpec:
    spec = by_name(command)
    assert spec is not None, command
    return spec


def require(lab: Lab, command: str, inn: Innovation | None = None) -> None:
    """`InvalidCommand` for the first precondition of ``command`` that is not met."""
    _require(lab, _spec(command), inn)


def _require(lab: Lab, spec: CommandSpec, inn: Innovation | None) -> None:
    facts = _Facts(lab, inn)
    for pre in spec.preconditions:
        if not pre.holds(facts):
            _refuse(spec, pre, facts, lab.id if inn is None else inn.id)


def acting_on(lab: Lab, command: str, innovation_id: str, by: object) -> tuple[Innovation, Actor]:
    """The innovation an innovation command acts on and the actor acting, or the refusal.

    The prologue every innovation command shares, in the order its refusals are promised:
    the innovation exists, is active if the catalogue asks that first (`ACTIVE` among the
    command's preconditions), the actor may do ``command`` on its unit, then every other
    precondition holds.
    """
    spec = _spec(command)
    inn = lab.innovation(innovation_id)
    if not inn.active and ACTIVE in spec.preconditions:  # before the actor is even asked
        _refuse(spec, ACTIVE, _Facts(lab, inn), inn.id)
    actor = lab._authorize(command, by, inn.unit)
    _require(lab, spec, inn)
    return inn, actor
