"""Diagrams of a policy: its stages, gates, returns and withdrawals as Mermaid text.

A region reviewing its variant wants to *see* it: which stages it runs, what each
gate asks, where an innovation can be sent back, and that it can be withdrawn and
reinstated. `mermaid` renders that as a Mermaid ``stateDiagram-v2`` that GitHub,
GitLab and most documentation tools draw as it is.

The drawing is transitions' own: the states and transitions of the policy's innovation
machine (`labflow._engine`) are handed to a ``GraphMachine`` with
``graph_engine="mermaid"``, each edge labelled by labflow -- an advance with the
requirements of the gate it crosses (read off the machine's conditions), the others with
their command -- and each state with its stage's label in the chosen language. That
machine is built for the drawing and never fired: a ``GraphMachine``'s transitions restyle
a per-model graph on every move, which the engine's model-less machine cannot carry.
Stage ids become Mermaid-safe node names (``end`` or ``state`` would read as syntax).

transitions' flat Mermaid graph has no place for two things labflow draws, so they follow
its text: the end marker of the last stage (transitions draws final states only in nested
machines) and the notes beside a stage (the cohort conditions, the launch requirements,
the deadlines), which are no part of a state machine.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from transitions import State

from labflow._engine import (
    ADVANCE,
    REINSTATE,
    RETURN_PREFIX,
    WITHDRAW,
    WITHDRAWN,
    engine_for,
    requirements_of,
)
from labflow.errors import InvalidCommand, PolicyError, Problem
from labflow.model import GOVERNMENT_KINDS, UnitKind
from labflow.policy import Policy, RequirementSpec

__all__ = ["mermaid", "require_policy", "spec_label"]

#: Words Mermaid reads as syntax inside a state diagram; a stage with such an id is renamed.
_RESERVED: Final = frozenset(
    {"end", "state", "note", "direction", "class", "classdef", "style", "click", "as", "withdrawn"}
)
_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def _param(value: Any) -> str:
    if isinstance(value, tuple | list | frozenset):
        return "[" + ", ".join(_param(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(getattr(value, "value", value))


def _kinds(kinds: frozenset[UnitKind]) -> str:
    if kinds == GOVERNMENT_KINDS:
        return "government units"
    return ", ".join(sorted(k.value for k in kinds))


def spec_label(spec: RequirementSpec) -> str:
    """A requirement as one short phrase: ``evidence_attached(min=2)``, with whom it applies to.

    Parameters are shown sorted by name; ``applies_to`` reads ``only government units``
    when it names exactly the regional government's kinds.
    """
    if not isinstance(spec, RequirementSpec):
        raise InvalidCommand(f"spec_label() reads a RequirementSpec, not {type(spec).__name__}.")
    text = spec.name
    if spec.params:
        text += "(" + ", ".join(f"{k}={_param(v)}" for k, v in sorted(spec.params.items())) + ")"
    if spec.applies_to is not None:
        text += f" [only {_kinds(spec.applies_to)}]"
    return text


def require_policy(value: object, caller: str) -> None:
    """Refuse anything but a loaded `Policy` with a `PolicyError` (not an AttributeError)."""
    if not isinstance(value, Policy):
        raise PolicyError(
            f"given to {caller}()",
            [
                Problem(
                    "$",
                    f"expected a labflow.Policy, not {type(value).__name__}; "
                    "load one with labflow.load_policy()",
                )
            ],
        )


def _clean(text: str) -> str:
    """Text that is safe inside a Mermaid label (no quotes, colons at the start, newlines)."""
    return " ".join(text.replace('"', "'").replace(";", ",").split())


def _node_ids(stages: Iterable[str]) -> dict[str, str]:
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for stage in stages:
        node = _UNSAFE.sub("_", stage)
        if node.lower() in _RESERVED or node[0].isdigit():
            node = f"stage_{node}"
        while node in taken:
            node += "_"
        taken.add(node)
        ids[stage] = node
    return ids


def _notes(lines: list[str], node: str, items: Mapping[str, list[str]]) -> None:
    body = [f"{title}: {', '.join(specs)}" for title, specs in items.items() if specs]
    if body:
        lines.append(f"  note right of {node}")
        lines.extend(f"    {_clean(line)}" for line in body)
        lines.append("  end note")


class _LabelledState(State):
    """A state with a label, which transitions' Mermaid graph draws instead of its name."""

    def __init__(self, name: str, *, label: str, **options: Any) -> None:
        super().__init__(name, **options)
        self.label = label


def _edge_label(trigger: str, conditions: Iterable[Any]) -> str:
    if trigger == ADVANCE:
        return _clean(", ".join(spec_label(s) for s in requirements_of(conditions))) or ADVANCE
    return "return" if trigger.startswith(RETURN_PREFIX) else trigger


def _graph(policy: Policy, lang: str, returns: bool, withdrawals: bool) -> tuple[str, str]:
    """transitions' Mermaid text of the policy's innovation machine, and the last stage's node."""
    from transitions.extensions.diagrams import GraphMachine  # only a diagram pays its import

    class Drawing(GraphMachine):
        state_cls = _LabelledState
        # the one node style used (transitions' others style the models' current states)
        style_attributes = {  # noqa: RUF012 -- transitions reads it as a class attribute
            "node": {"default": {"fillcolor": "white", "color": "black"}},
            "edge": {"default": {"color": "black"}},
            "graph": {"default": {"color": "black", "fillcolor": "white"}},
        }

    engine = engine_for(policy)
    ids = _node_ids(policy.stage_ids)
    ids[WITHDRAWN] = "withdrawn"  # reserved above: no stage's node takes this name
    last = policy.stages[-1].id
    states: list[dict[str, Any]] = [
        {
            "name": ids[stage.id],
            "label": f"{_clean(stage.label(lang))} ({' + '.join(stage.covers)})",
            "final": stage.id == last,
        }
        for stage in policy.stages
    ]
    if withdrawals:
        label = "Ditarik (withdrawn)" if lang == "id" else "Withdrawn"
        states.append({"name": ids[WITHDRAWN], "label": label})
    kept = {ADVANCE} | ({WITHDRAW, REINSTATE} if withdrawals else set())
    edges = [
        {
            "trigger": trigger,
            "source": ids[source],
            "dest": ids[str(transition.dest)],
            "label": _edge_label(trigger, transition.conditions),
        }
        for trigger, event in engine.machine.events.items()
        if trigger in kept or (returns and trigger.startswith(RETURN_PREFIX))
        for source, transitions in event.transitions.items()
        for transition in transitions
    ]
    drawing = Drawing(
        model=None,
        states=states,
        transitions=edges,
        initial=ids[policy.stages[0].id],
        auto_transitions=False,
        graph_engine="mermaid",
    )
    title = "title: " + json.dumps(f"{policy.id}: {policy.name}", ensure_ascii=False)
    text = drawing.graph_cls(drawing).get_graph(title=title).draw(None)
    assert text is not None  # draw(None) returns the text
    return text, ids[last]


def mermaid(
    policy: Policy,
    *,
    lang: str = "en",
    returns: bool = True,
    withdrawals: bool = True,
    notes: bool = True,
) -> str:
    """The policy as a Mermaid ``stateDiagram-v2``, one line per element, ending in a newline.

    Each stage is a state labelled in ``lang`` (``"en"`` or ``"id"``) with the 5D stages it
    covers; each forward edge carries the names of the requirements of the gate it
    crosses. With ``returns``, every stage has an edge back to each earlier one; with
    ``withdrawals``, a ``withdrawn`` state is reachable from every stage and leads back
    by reinstatement; with ``notes``, the cohort conditions (what the lab needs to enter
    a stage), the launch requirements and deadlines are notes beside their stage. The
    text opens with a front-matter title naming the policy.
    """
    require_policy(policy, "mermaid")
    text, last = _graph(policy, lang, returns, withdrawals)
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    lines.append(f"  {last} --> [*]")
    if notes:
        ids = _node_ids(policy.stage_ids)
        for stage in policy.stages:
            items = {
                "lab enters when": [spec_label(s) for s in policy.cohort.get(stage.id, ())],
                "launch needs": (
                    ["action_plan_approved", *(spec_label(s) for s in policy.launch)]
                    if policy.launches_at(stage.id)
                    else []
                ),
                "deadline": (
                    [policy.deadlines[stage.id].isoformat()] if stage.id in policy.deadlines else []
                ),
            }
            if items["launch needs"]:
                items["launch needs"] = list(dict.fromkeys(items["launch needs"]))
            _notes(lines, ids[stage.id], items)
    return "\n".join(lines) + "\n"
