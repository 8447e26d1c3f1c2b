"""The invariants of the design, checked around every command on one lab.

`Checks.attempt` runs one move and checks what it did (or did not do) against
invariants 1, 2, 3 and 7; `Checks.state` checks the whole lab (3, 4 and 7).
The checks restate the rules independently of the code under test -- a lax
requirement function or a permissive role check is caught, not trusted.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

import attrs
from hypothesis import note
from hypothesis import strategies as st

from labflow._fold import apply_innovation
from labflow.errors import CommandError, HistoryError, InvariantViolation
from labflow.events import Event, make_event
from labflow.lab import CeremonyResult, Lab, replay_lab
from labflow.model import Actor, Innovation, Unit, UnitKind
from labflow.requirements import Registry
from labflow.testing._cast import permitted
from labflow.testing._clock import StepClock
from labflow.testing._moves import Draw, Move


def require(condition: object, number: int, message: str) -> None:
    if not condition:
        raise InvariantViolation(number, message)


def agreement_passed(lab: Lab, inn: Innovation) -> bool:
    """Whether ``inn`` stands at or past a stage whose gate demands its signed agreement.

    Read from the policy's gates and the unit's kind, apart from `Lab`, so that the
    check does not trust the code it checks. From there on a signed agreement is
    binding: ``draw_up_agreement`` may not replace it.
    """
    unit = lab.units.get(inn.unit)
    for stage in lab.policy.stages[1 : lab.policy.index(inn.stage) + 1]:
        for spec in lab.policy.gates.get(stage.id, ()):
            if spec.name != "agreement_signed":
                continue
            if spec.applies_to is None or (unit is not None and unit.kind in spec.applies_to):
                return True
    return False


@attrs.frozen
class Snapshot:
    """Everything a command may change, copied deeply enough to see any change."""

    stage: str
    units: dict[str, Unit]
    actors: dict[str, Actor]
    history: tuple[Event, ...]
    innovations: dict[str, Innovation]

    @classmethod
    def of(cls, lab: Lab) -> Snapshot:
        return cls(
            lab.stage,
            dict(lab.units),
            dict(lab.actors),
            tuple(lab.history),
            dict(lab.innovations),  # frozen records: holding them keeps them as they were
        )


def difference(before: Snapshot, after: Snapshot) -> str:
    """Where two snapshots differ, in a few words (for failure messages)."""
    parts = []
    if before.stage != after.stage:
        parts.append(f"lab stage {before.stage} -> {after.stage}")
    if before.units != after.units:
        parts.append("units")
    if before.actors != after.actors:
        parts.append("actors")
    if before.history != after.history:
        parts.append(f"lab history ({len(before.history)} -> {len(after.history)} events)")
    for key in sorted(before.innovations.keys() | after.innovations.keys()):
        old, new = before.innovations.get(key), after.innovations.get(key)
        if old != new:
            if old is None or new is None:
                parts.append(f"innovation {key} {'appeared' if old is None else 'vanished'}")
                continue
            fields = [
                f.name
                for f in attrs.fields(Innovation)
                if getattr(old, f.name) != getattr(new, f.name)
            ]
            parts.append(f"innovation {key}: {', '.join(fields)}")
    return "; ".join(parts) or "nothing visible"


def appended(before: Snapshot, lab: Lab) -> dict[str, list[Event]]:
    """The events a command appended, per subject; every old history must be a prefix."""
    new: dict[str, list[Event]] = {}
    old_lab = len(before.history)
    require(tuple(lab.history[:old_lab]) == before.history, 2, "the lab's history was rewritten")
    if len(lab.history) > old_lab:
        new[lab.id] = list(lab.history[old_lab:])
    for key, old in before.innovations.items():
        inn = lab.innovations.get(key)
        require(inn is not None, 2, f"the innovation {key} vanished")
        assert inn is not None
        require(
            inn.history[: len(old.history)] == old.history, 2, f"the history of {key} was rewritten"
        )
        if len(inn.history) > len(old.history):
            new[key] = list(inn.history[len(old.history) :])
    for key in lab.innovations.keys() - before.innovations.keys():
        new[key] = list(lab.innovations[key].history)
    return new


@attrs.frozen
class Outcome:
    accepted: bool
    result: object = None
    error: CommandError | None = None


class Checks:
    """The invariants of the design, checked around every command on one lab."""

    def __init__(self, lab: Lab, registry: Registry, clock: StepClock) -> None:
        self.lab = lab
        self.policy = lab.policy
        self.registry = registry
        self.clock = clock
        self.document = lab.policy.to_dict()
        #: stage -> the unit kinds its agreement gate applies to (None: every kind)
        self.agreement_gates: dict[str, list[frozenset[UnitKind] | None]] = {}
        for stage, specs in lab.policy.gates.items():
            for spec in specs:
                if spec.name == "agreement_signed":
                    self.agreement_gates.setdefault(stage, []).append(spec.applies_to)

    # commands -------------------------------------------------------------------------

    def attempt(self, move: Move) -> Outcome:
        """Run ``move`` and check invariants 1, 2, 3 and 7 on what it did (or did not do)."""
        lab = self.lab
        note(f"{move.label}")
        before = Snapshot.of(lab)
        allowed = permitted(lab, move.command, move.by, move.unit)
        try:
            result = move.run()
        except CommandError as exc:
            note(f"  refused: {type(exc).__name__}: {str(exc).splitlines()[0]}")
            after = Snapshot.of(lab)
            require(
                after == before,
                1,
                f"{move.label} was refused ({type(exc).__name__}) but changed "
                f"{difference(before, after)}",
            )
            return Outcome(False, error=exc)
        require(
            allowed,
            7,
            f"{move.label} was accepted from {move.by!r}, who holds no role the policy allows "
            f"for {move.command!r} in unit {move.unit!r}",
        )
        new = appended(before, lab)
        if move.command == "launch_cohort":
            assert isinstance(result, CeremonyResult)
            ceremony = new.pop(lab.id, [])
            require(
                [e.kind for e in ceremony] == ["lab.ceremony_held"],
                2,
                f"a launch ceremony appended {[e.kind for e in ceremony]} to the lab's history",
            )
            require(
                set(new) == set(result.launched)
                and all(
                    [e.kind for e in events] == ["innovation.launched"] for events in new.values()
                ),
                2,
                f"the ceremony launched {sorted(result.launched)} but appended "
                f"{ {k: [e.kind for e in v] for k, v in new.items()} }",
            )
        else:
            count = sum(len(events) for events in new.values())
            require(count == 1, 2, f"{move.label} was accepted and appended {count} events")
        for subject, events in new.items():
            for event in events:
                self.event(event, before.innovations.get(subject), before, move)
        self.state()
        return Outcome(True, result=result)

    def event(self, event: Event, inn: Innovation | None, before: Snapshot, move: Move) -> None:
        """Invariants 2, 3 and 7 of one accepted event, against the state before it."""
        policy = self.policy
        p = event.payload
        require(
            event.actor == move.by,
            7,
            f"{event.kind} is recorded as by {event.actor!r}, not {move.by!r}",
        )
        if event.kind == "lab.advanced":
            nxt = policy.next_stage(before.stage)
            require(
                p["from"] == before.stage and nxt is not None and p["to"] == nxt.id,
                2,
                f"the lab moved {p['from']} -> {p['to']}, not one stage on from {before.stage}",
            )
        if inn is None:
            return
        if event.kind == "innovation.advanced":
            nxt = policy.next_stage(inn.stage)
            require(inn.active, 3, f"the withdrawn {inn.id} advanced")
            require(
                p["from"] == inn.stage and nxt is not None and p["to"] == nxt.id,
                2,
                f"{inn.id} moved {p['from']} -> {p['to']}, not one stage on from {inn.stage}",
            )
            assert nxt is not None
            if not policy.self_paced:
                require(
                    policy.index(nxt.id) <= policy.index(before.stage),
                    3,
                    f"{inn.id} entered {nxt.id} ahead of its lab (at {before.stage})",
                )
            found = self.lab.gate_unmet(inn, nxt, event.at)
            require(
                not found,
                3,
                f"{inn.id} entered {nxt.id} with unmet requirements {[u.code for u in found]}",
            )
            self.agreement(inn, nxt.id)
        elif event.kind == "innovation.returned":
            require(
                p["from"] == inn.stage and policy.index(p["to"]) < policy.index(inn.stage),
                2,
                f"{inn.id} was returned {p['from']} -> {p['to']}, which is not backwards",
            )
        elif event.kind == "innovation.launched":
            self.launch(inn)
            require(inn.launch is None, 3, f"{inn.id} was launched twice")
        elif event.kind == "innovation.agreement_signed":
            agreement = inn.agreement
            require(
                agreement is not None
                and event.actor in (agreement.regional_head, agreement.unit_head)
                and not agreement.signed_by(event.actor),
                7,
                f"{event.actor!r} signed the agreement of {inn.id} without being an unsigned party",
            )
        elif event.kind == "innovation.plan_approved":
            plan = inn.action_plan
            require(
                plan is not None and plan.submitted_by != event.actor,
                7,
                f"{event.actor!r} approved an action plan of {inn.id} they submitted (or none)",
            )

    def agreement(self, inn: Innovation, stage: str) -> None:
        """Invariant 3: entering an agreement stage needs both parties' signatures."""
        unit = self.lab.units.get(inn.unit)
        for applies_to in self.agreement_gates.get(stage, ()):
            if applies_to is not None and (unit is None or unit.kind not in applies_to):
                continue
            agreement = inn.agreement
            head = self.lab.actors.get(agreement.unit_head) if agreement else None
            require(
                agreement is not None
                and agreement.signed_by(agreement.regional_head)
                and agreement.signed_by(agreement.unit_head)
                and head is not None
                and head.unit == inn.unit,
                3,
                f"{inn.id} entered {stage} without a performance agreement signed by the "
                f"regional head and the head of {inn.unit}: {agreement!r}",
            )

    def launch(self, inn: Innovation) -> None:
        """Invariant 3: nothing is launched without an action plan approved by another."""
        plan = inn.action_plan
        require(
            plan is not None
            and plan.approved_by is not None
            and plan.approved_by != plan.submitted_by,
            3,
            f"{inn.id} was launched without an action plan approved by someone else: {plan!r}",
        )
        steps = self.policy.approval
        require(
            plan is not None
            and len(plan.approvals) >= len(steps)
            and all(
                a.by != plan.submitted_by and not a.roles.isdisjoint(s.roles)
                for a, s in zip(plan.approvals, steps, strict=False)
            ),
            3,
            f"{inn.id} was launched before every approval step was done by someone it names: "
            f"{plan!r}",
        )
        require(
            self.policy.launches_at(inn.stage),
            3,
            f"{inn.id} was launched at {inn.stage}, which does not cover deliver",
        )

    # the whole state ------------------------------------------------------------------

    def state(self) -> None:
        """Invariants 3, 4 and 7 of the whole lab: replay, chains, every history's gates."""
        lab = self.lab
        for verification in lab.verify():
            require(verification.ok, 4, f"a history does not verify: {verification}")
        for inn in lab.innovations.values():
            self.history(inn)
            if not self.policy.self_paced:
                require(
                    self.policy.index(inn.stage) <= self.policy.index(lab.stage),
                    3,
                    f"{inn.id} is at {inn.stage}, ahead of its lab at {lab.stage}",
                )
            if inn.agreement is not None:
                parties = {inn.agreement.regional_head, inn.agreement.unit_head}
                strangers = [s.signer for s in inn.agreement.signatures if s.signer not in parties]
                require(not strangers, 7, f"{strangers} signed the agreement of {inn.id}")
        # Last: the kit's own readings name a broken rule more precisely than replay does.
        try:
            replayed = replay_lab(
                lab.history,
                [i.history for i in lab.innovations.values()],
                registry=self.registry,
                clock=lab.clock,
            )
        except HistoryError as exc:
            raise InvariantViolation(4, f"replay refuses the lab's own history: {exc}") from exc
        require(replayed == lab, 4, "replaying the histories does not give the lab's state")

    def history(self, inn: Innovation) -> None:
        """Invariant 3 over a whole history: fold it and look at every gate as it was passed,
        and at every state it went through."""
        state: Innovation | None = None
        for event in inn.history:
            if state is not None and event.kind == "innovation.advanced":
                self.agreement(state, event.payload["to"])
            if state is not None and event.kind == "innovation.launched":
                self.launch(state)
            state = apply_innovation(state, event)
            self.binding(state)

    def binding(self, inn: Innovation) -> None:
        """Invariant 3 at rest: past its agreement gate an innovation holds a complete agreement.

        Passing the gate needs both signatures; since a signed agreement is binding from
        then on (it cannot be redrawn, which would clear them), they must stay -- on the
        agreement, or, while an amendment awaits its signatures, on the version it amends.
        """
        if agreement_passed(self.lab, inn):
            agreement = inn.agreement
            signed = agreement is not None and (
                agreement.complete
                or (
                    bool(agreement.earlier)
                    and {s.signer for s in agreement.earlier[-1].signatures}
                    >= {agreement.regional_head, agreement.unit_head}
                )
            )
            require(
                signed,
                3,
                f"{inn.id} is at {inn.stage}, past its agreement gate, without an agreement "
                f"signed by both parties: {agreement!r}",
            )

    def unchanged_policy(self) -> None:
        require(
            self.lab.policy.to_dict() == self.document, 1, "the lab's policy changed during the run"
        )


TAMPERINGS: Final = ("edit", "edit and rehash", "delete", "insert", "forge", "reorder")


def tamper(history: list[Event], how: str, draw: Draw) -> str:
    """Tamper with ``history`` in place; return what was done."""
    i = draw(st.integers(0, len(history) - 1))
    event = history[i]
    if how == "reorder" and len(history) < 2:
        how = "delete"
    if how in ("edit", "edit and rehash"):
        field = draw(st.sampled_from(["actor", "kind", "payload", "at"]))
        changed: Any = {
            "actor": event.actor + "-palsu",
            "kind": event.kind + "-palsu",
            "payload": {**event.payload, "dipalsukan": True},
            "at": event.at + timedelta(seconds=1),
        }[field]
        forged = attrs.evolve(event, **{field: changed})
        if how == "edit and rehash":
            forged = make_event(
                forged.subject,
                forged.seq,
                forged.at,
                forged.actor,
                forged.kind,
                forged.payload,
                forged.prev,
            )
        history[i] = forged
        return f"{how} the {field} of event {i + 1}"
    if how == "delete":
        del history[i]
        return f"delete event {i + 1}"
    if how == "insert":
        history.insert(i, history[draw(st.integers(0, len(history) - 1))])
        return f"insert a copy of an event at {i + 1}"
    if how == "forge":
        forged = make_event(
            event.subject, i + 1, event.at, "pemalsu", event.kind, dict(event.payload), event.prev
        )
        history.insert(i, forged)
        return f"insert a well-linked forged event at {i + 1}"
    j = draw(st.integers(0, len(history) - 1).filter(lambda j: j != i))
    history[i], history[j] = history[j], history[i]
    return f"swap events {i + 1} and {j + 1}"
