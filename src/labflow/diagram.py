"""Diagrams of a policy: its stages, gates, returns and withdrawals as Mermaid text.

A region reviewing its variant wants to *see* it: which stages it runs, what each
gate asks, where an innovation can be sent back, and that it can be withdrawn and
reinstated. `mermaid` renders that as a Mermaid ``stateDiagram-v2`` that GitHub,
GitLab and most documentation tools draw as it is.

The text is rendered here directly rather than through transitions' own Mermaid
engine (``transitions.extensions.diagrams`` with ``graph_engine="mermaid"``). That
engine draws a ``GraphMachine``, which needs a model to attach its methods to (the
very thing `labflow._engine` avoids); it labels edges with trigger names, so putting
requirement names on them would mean passing them off as guard callbacks; it has no
place for the withdrawn status, which is not a stage; and it adds per-state styling
lines and a title block that make the text noisier without drawing anything more.
What it would give us -- the list of states and edges -- is already the policy's.
Rendering directly keeps the output small, deterministic and stable, so the docs can
show each preset's diagram and a test can check that they are current.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

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
        lines.append(f"    note right of {node}")
        lines.extend(f"        {_clean(line)}" for line in body)
        lines.append("    end note")


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
    a stage), the launch requirements and deadlines are notes beside their stage.
    """
    require_policy(policy, "mermaid")
    ids = _node_ids(policy.stage_ids)
    lines = ["stateDiagram-v2", "    direction LR"]
    for stage in policy.stages:
        covers = " + ".join(stage.covers)
        lines.append(f'    state "{_clean(stage.label(lang))} ({covers})" as {ids[stage.id]}')
    if withdrawals:
        label = "Ditarik (withdrawn)" if lang == "id" else "Withdrawn"
        lines.append(f'    state "{label}" as withdrawn')
    first, last = policy.stages[0].id, policy.stages[-1].id
    lines.append(f"    [*] --> {ids[first]}")
    for stage, nxt in zip(policy.stages, policy.stages[1:], strict=False):
        gate = [spec_label(s) for s in policy.gates.get(nxt.id, ())]
        label = _clean(", ".join(gate)) if gate else "advance"
        lines.append(f"    {ids[stage.id]} --> {ids[nxt.id]}: {label}")
    lines.append(f"    {ids[last]} --> [*]")
    if returns:
        for i, stage in enumerate(policy.stages):
            lines.extend(
                f"    {ids[stage.id]} --> {ids[earlier.id]}: return"
                for earlier in policy.stages[:i]
            )
    if withdrawals:
        for stage in policy.stages:
            lines.append(f"    {ids[stage.id]} --> withdrawn: withdraw")
            lines.append(f"    withdrawn --> {ids[stage.id]}: reinstate")
    if notes:
        for stage in policy.stages:
            items = {
                "lab enters when": [spec_label(s) for s in policy.cohort.get(stage.id, ())],
                "launch needs": (
                    ["action_plan_approved", *(spec_label(s) for s in policy.launch)]
                    if "deliver" in stage.covers
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
