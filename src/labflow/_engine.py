"""The policy compiled into a `transitions` machine, once per policy, never per innovation.

The machine holds the policy's states and transitions -- ``advance`` from each
stage to the next, ``return_to_<stage>`` from each stage to every earlier one --
and has no model: nothing is attached to innovations. What a command needs on
its hot path (the next stage, the allowed returns) is read off the machine once
into plain dictionaries, because a move through transitions' own trigger
machinery costs several times more than labflow's whole command (see
``benchmarks/``). Diagrams are drawn by `labflow.diagram` from the policy itself,
which knows the gates the machine does not (see that module for why).
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING

from transitions import Machine

if TYPE_CHECKING:
    from labflow.policy import Policy

__all__ = ["Engine", "engine_for"]

ADVANCE = "advance"


def return_trigger(stage: str) -> str:
    return f"return_to_{stage}"


class Engine:
    """One policy's machine and the lookup tables derived from it."""

    __slots__ = ("machine", "next", "returns")

    def __init__(self, policy: Policy) -> None:
        ids = [s.id for s in policy.stages]
        edges: list[dict[str, str]] = [
            {"trigger": ADVANCE, "source": a, "dest": b} for a, b in pairwise(ids)
        ]
        for i, target in enumerate(ids):
            edges.extend(
                {"trigger": return_trigger(target), "source": later, "dest": target}
                for later in ids[i + 1 :]
            )
        self.machine = Machine(
            model=None,
            states=ids,
            transitions=edges,
            initial=ids[0],
            auto_transitions=False,
            send_event=True,
        )
        self.next: dict[str, str | None] = dict.fromkeys(ids)
        self.returns: dict[str, frozenset[str]] = {s: frozenset() for s in ids}
        for name, event in self.machine.events.items():
            for source, transitions in event.transitions.items():
                for transition in transitions:
                    dest = str(transition.dest)
                    if name == ADVANCE:
                        self.next[source] = dest
                    else:
                        self.returns[source] = self.returns[source] | {dest}


def engine_for(policy: Policy) -> Engine:
    """The policy's engine, compiled on first use and kept with the policy."""
    engine: Engine | None = policy._compiled
    if engine is None:
        engine = Engine(policy)
        object.__setattr__(policy, "_compiled", engine)
    return engine
