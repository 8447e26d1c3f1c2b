"""The policy compiled into `transitions` machines, once per policy: the one source of legal moves.

Each policy gets two machines, built on first use and kept with the policy (`engine_for`).
Neither has a model attached (``model=None``): transitions never sets an attribute on an
innovation or a lab, and no transitions type appears in labflow's public API. A trigger
runs on a private slotted `_Token` that exists for that one call.

* The **innovation machine** holds an innovation's whole lifecycle: a state per stage and
  `WITHDRAWN`; ``advance`` from each stage to the next, with one condition per requirement
  of the gate it crosses, named after that requirement; ``return_to_<stage>`` from each
  stage to every earlier one; ``withdraw`` from every stage; and ``reinstate`` from
  `WITHDRAWN` back to each stage. transitions keeps no memory of where a model came from,
  so ``reinstate`` is one transition per stage, each with the condition
  ``withdrawn_from_<stage>``, and the token carries the stage the innovation left. One
  withdrawn state (rather than one per stage) keeps the graph -- and its diagram -- to the
  shape the domain speaks of: an innovation is withdrawn, and reinstated where it was.
* The **lab machine** holds the lab's own lifecycle: ``advance`` from each stage to the
  next, with the cohort conditions of the stage it enters as its conditions, and
  ``hold_ceremony``, an internal transition (no state left or entered) at each stage that
  covers *deliver*: where the launch ceremony is held. A lab moves a handful of times in
  its life, so `Engine.advance_lab` and `Engine.hold_ceremony` decide through transitions'
  own trigger.

What an innovation command needs on its hot path -- the next stage, the allowed returns,
the triggers of each state -- is compiled off the innovation machine's transitions into
plain dictionaries when the engine is built (`Engine.next`, `Engine.returns`,
`Engine.triggers`): a trigger costs tens of microseconds, several times labflow's whole
check of a gate. ``tests/test_engine.py`` proves the tables give the machine's own answers
for every bundled and example policy. The innovation machine's trigger runs only to report
a move already applied to the hosts that subscribed to it (`labflow._hooks`): each state's
enter and exit callbacks are the machine's, and they call the host's.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Final

from labflow.errors import HistoryError

if TYPE_CHECKING:
    from transitions import EventData, Machine

    from labflow.events import Event
    from labflow.policy import Policy, RequirementSpec, Stage

__all__ = [
    "ADVANCE",
    "HOLD_CEREMONY",
    "REINSTATE",
    "WITHDRAW",
    "WITHDRAWN",
    "Engine",
    "Notify",
    "engine_for",
    "return_trigger",
]

ADVANCE: Final = "advance"
#: The lab machine's internal transition (no state change) at each stage covering *deliver*.
HOLD_CEREMONY: Final = "hold_ceremony"
WITHDRAW: Final = "withdraw"
REINSTATE: Final = "reinstate"
RETURN_PREFIX: Final = "return_to_"
#: The state of a withdrawn innovation. Not a valid stage id (those start with a letter or a
#: digit), so no policy's stage can take its name.
WITHDRAWN: Final = "(withdrawn)"

#: Whether a requirement holds for a move into a stage: ``met(spec, stage)``.
Met = Callable[["RequirementSpec", str], bool]
#: What a machine's state callbacks report: ``notify(when, state, source, dest)``, with
#: ``when`` ``"exit"`` or ``"enter"``.
Notify = Callable[[str, str, str, str], None]


def return_trigger(stage: str) -> str:
    """The trigger that sends an innovation back to ``stage``."""
    return f"{RETURN_PREFIX}{stage}"


def _applied(spec: RequirementSpec, stage: str) -> bool:
    """The answer for a move already applied: its event records that it passed the gate."""
    return True


class _Token:
    """The model one trigger runs on: a state, and what its conditions and callbacks read."""

    __slots__ = ("met", "notify", "state", "was_at")

    def __init__(
        self,
        state: str,
        met: Met = _applied,
        was_at: str | None = None,
        notify: Notify | None = None,
    ) -> None:
        self.state = state
        self.met = met
        self.was_at = was_at
        self.notify = notify


class _Requirement:
    """A transition condition named after a requirement; it asks the token whether it holds."""

    def __init__(self, spec: RequirementSpec, stage: str) -> None:
        self.__name__ = spec.name
        self.spec = spec
        self.stage = stage

    def __call__(self, event: EventData) -> bool:
        token: _Token = event.model  # type: ignore[assignment]
        return token.met(self.spec, self.stage)

    def __repr__(self) -> str:
        return f"<condition {self.__name__} into {self.stage}>"


class _WasAt:
    """The condition of reinstating into ``stage``: the innovation was withdrawn from it."""

    def __init__(self, stage: str) -> None:
        self.__name__ = f"withdrawn_from_{stage}"
        self.stage = stage

    def __call__(self, event: EventData) -> bool:
        token: _Token = event.model  # type: ignore[assignment]
        return token.was_at == self.stage


def _report(when: str, event: EventData) -> None:
    token: _Token = event.model  # type: ignore[assignment]
    move, state = event.transition, event.state
    if token.notify is not None and move is not None and state is not None:
        token.notify(when, state.name, move.source, str(move.dest))


def _left(event: EventData) -> None:
    _report("exit", event)


def _entered(event: EventData) -> None:
    _report("enter", event)


def _machine(states: Iterable[str], initial: str, edges: list[dict[str, Any]]) -> Machine:
    # imported with the first machine, not with labflow: `import labflow` stays light
    from transitions import Machine, State

    return Machine(
        model=None,
        states=[State(s, on_enter=[_entered], on_exit=[_left]) for s in states],
        transitions=edges,
        initial=initial,
        auto_transitions=False,
        send_event=True,
    )


def requirements_of(conditions: Iterable[Any]) -> tuple[RequirementSpec, ...]:
    """The requirements behind a transition's conditions (``Transition.conditions``)."""
    return tuple(c.func.spec for c in conditions if isinstance(c.func, _Requirement))


class Engine:
    """One policy's machines and the lookup tables compiled from them."""

    __slots__ = (
        "forward",
        "index",
        "lab_machine",
        "machine",
        "next",
        "returns",
        "stages",
        "triggers",
    )

    #: the innovation lifecycle (stages and `WITHDRAWN`)
    machine: Machine
    #: the lab's own lifecycle (stages)
    lab_machine: Machine
    #: the stage ids, in the policy's order
    stages: tuple[str, ...]
    #: each stage's next stage, ``None`` at the last
    next: dict[str, str | None]
    #: each stage's earlier stages, where a return may send an innovation
    returns: dict[str, frozenset[str]]
    #: each state of the innovation machine (stages and `WITHDRAWN`) -> the triggers it has
    triggers: dict[str, frozenset[str]]
    #: each stage's position in the policy's order
    index: dict[str, int]
    #: each stage that has a next one -> (that stage, its position, its `Stage`): one lookup
    #: answers the whole of an advance's move before its gate is asked
    forward: dict[str, tuple[str, int, Stage]]

    def __init__(self, policy: Policy) -> None:
        ids = self.stages = policy.stage_ids
        self.machine = _machine([*ids, WITHDRAWN], ids[0], _innovation_edges(policy))
        self.lab_machine = _machine(ids, ids[0], _lab_edges(policy))
        self._compile()
        self.index = {stage: k for k, stage in enumerate(ids)}
        self.forward = {
            stage: (nxt, self.index[nxt], policy.stages[self.index[nxt]])
            for stage, nxt in self.next.items()
            if nxt is not None
        }

    def _compile(self) -> None:
        """Read the hot path's tables off the innovation machine's transitions."""
        next_: dict[str, str | None] = dict.fromkeys(self.stages)
        returns: dict[str, set[str]] = {s: set() for s in self.stages}
        triggers: dict[str, set[str]] = {s: set() for s in self.machine.states}
        for name, event in self.machine.events.items():
            for source, transitions in event.transitions.items():
                if transitions:
                    triggers[source].add(name)
                for transition in transitions:
                    dest = str(transition.dest)  # every labflow transition has one
                    if name == ADVANCE:
                        next_[source] = dest
                    elif name.startswith(RETURN_PREFIX):
                        returns[source].add(dest)
        self.next = next_
        self.returns = {s: frozenset(r) for s, r in returns.items()}
        self.triggers = {s: frozenset(t) for s, t in triggers.items()}

    @staticmethod
    def state(stage: str, active: bool) -> str:
        """The innovation machine's state of an innovation at ``stage``, active or withdrawn."""
        return stage if active else WITHDRAWN

    def advance_lab(self, stage: str, met: Met) -> str | None:
        """The stage a lab at ``stage`` advances to, or ``None`` if it may not.

        Runs the lab machine's ``advance`` trigger: each of its conditions -- one per cohort
        condition of the stage it would enter -- asks ``met(spec, target)``, in the policy's
        order, stopping at the first that does not hold (`Lab.check_lab` lists them all).
        """
        if stage not in self.lab_machine.events[ADVANCE].transitions:
            return None
        token = _Token(stage, met)
        if not self.lab_machine.events[ADVANCE].trigger(token):
            return None
        return token.state

    def hold_ceremony(self, stage: str) -> bool:
        """Whether a lab at ``stage`` may hold its launch ceremony (the lab machine's trigger)."""
        handler = self.lab_machine.events.get(HOLD_CEREMONY)
        if handler is None or stage not in handler.transitions:
            return False
        return handler.trigger(_Token(stage))

    def report(
        self, event: Event, stage: str, notify: Notify, watched: Container[str] | None = None
    ) -> None:
        """Run an applied move through its machine, so its states' callbacks call ``notify``.

        ``event`` is the move as applied (an innovation's ``advanced``, ``returned``,
        ``withdrawn`` or ``reinstated``, or the lab's ``advanced``) and ``stage`` the
        subject's stage after it. Conditions answer that they hold: the event records that
        the move passed them. Any other event is no move and reports nothing; so is a move
        that neither leaves nor enters a state in ``watched`` (when given), which then
        costs no trigger.
        """
        kind = event.kind
        machine = self.machine
        was_at = None
        if kind == "innovation.advanced" or kind == "lab.advanced":
            trigger, source, dest = ADVANCE, event.payload["from"], event.payload["to"]
            if kind == "lab.advanced":
                machine = self.lab_machine
        elif kind == "innovation.returned":
            dest = event.payload["to"]
            trigger, source = return_trigger(dest), event.payload["from"]
        elif kind == "innovation.withdrawn":
            trigger, source, dest = WITHDRAW, stage, WITHDRAWN
        elif kind == "innovation.reinstated":
            trigger, source, dest, was_at = REINSTATE, WITHDRAWN, stage, stage
        else:
            return
        if watched is not None and source not in watched and dest not in watched:
            return
        token = _Token(source, _applied, was_at, notify)
        handler = machine.events.get(trigger)
        if handler is None or source not in handler.transitions or not handler.trigger(token):
            raise HistoryError(event.subject, event.seq, f"{kind} is not a move of this policy")
        if token.state != dest:
            raise HistoryError(event.subject, event.seq, f"{kind} did not reach {dest}")


def _innovation_edges(policy: Policy) -> list[dict[str, Any]]:
    ids = policy.stage_ids
    gates: Mapping[str, Iterable[RequirementSpec]] = policy.gates
    edges: list[dict[str, Any]] = [
        {
            "trigger": ADVANCE,
            "source": a,
            "dest": b,
            "conditions": [_Requirement(spec, b) for spec in gates.get(b, ())],
        }
        for a, b in pairwise(ids)
    ]
    for i, target in enumerate(ids):
        edges.extend(
            {"trigger": return_trigger(target), "source": later, "dest": target}
            for later in ids[i + 1 :]
        )
    edges.extend({"trigger": WITHDRAW, "source": s, "dest": WITHDRAWN} for s in ids)
    edges.extend(
        {"trigger": REINSTATE, "source": WITHDRAWN, "dest": s, "conditions": [_WasAt(s)]}
        for s in ids
    )
    return edges


def _lab_edges(policy: Policy) -> list[dict[str, Any]]:
    cohort: Mapping[str, Iterable[RequirementSpec]] = policy.cohort
    edges: list[dict[str, Any]] = [
        {
            "trigger": ADVANCE,
            "source": a,
            "dest": b,
            "conditions": [_Requirement(spec, b) for spec in cohort.get(b, ())],
        }
        for a, b in pairwise(policy.stage_ids)
    ]
    edges.extend(
        {"trigger": HOLD_CEREMONY, "source": stage.id, "dest": None}
        for stage in policy.stages
        if policy.launches_at(stage.id)
    )
    return edges


def engine_for(policy: Policy) -> Engine:
    """The policy's engine, compiled on first use and kept with the policy."""
    engine: Engine | None = policy._compiled
    if engine is None:
        engine = Engine(policy)
        object.__setattr__(policy, "_compiled", engine)
    return engine
