"""Mermaid diagrams of policies: every stage, gate, return and withdrawal is drawn.

The drawing is transitions' own Mermaid graph of the policy's innovation machine, with
labflow's labels: the tests check what a reader of the diagram relies on, and that its
edges are exactly the machine's transitions.
"""

from __future__ import annotations

import re

import pytest

import labflow as lf
from labflow._engine import WITHDRAWN, engine_for
from labflow.diagram import mermaid, spec_label


@pytest.mark.parametrize("name", lf.available_presets())
def test_every_stage_and_gate_is_drawn(name: str) -> None:
    policy = lf.load_policy(name)
    text = mermaid(policy)
    lines = text.splitlines()
    assert lines[:4] == ["---", f'title: "{name}: {policy.name}"', "---", "stateDiagram-v2"]
    for stage in policy.stages:
        assert any(line.strip().endswith(f" as {stage.id}") for line in lines)
    for before, after in zip(policy.stages, policy.stages[1:], strict=False):
        edge = next(x for x in lines if x.strip().startswith(f"{before.id} --> {after.id}:"))
        for spec in policy.gates.get(after.id, ()):
            assert spec.name in edge
    n = len(policy.stages)
    assert sum(line.endswith(": return") for line in lines) == n * (n - 1) // 2
    assert sum(line.endswith(": withdraw") for line in lines) == n
    assert sum(line.endswith(": reinstate") for line in lines) == n
    assert f"[*] --> {policy.stages[0].id}" in text


def test_kebumen_draws_the_agreement_on_the_way_into_display() -> None:
    text = mermaid(lf.load_policy("kebumen-2016"))
    edge = next(x for x in text.splitlines() if "deliver --> display:" in x)
    assert "agreement_signed" in edge
    assert "drum_up + diagnose" in text


def test_applies_to_and_params_are_shown() -> None:
    policy = lf.load_policy("kudus-2017")
    specs = {s.name: s for s in policy.gates["deliver"]}
    assert spec_label(specs["agreement_signed"]) == "agreement_signed [only government units]"
    display = {s.name: s for s in policy.gates["display"]}
    assert spec_label(display["evidence_attached"]) == "evidence_attached(min=1)"


def test_options_leave_parts_out_and_labels_follow_the_language() -> None:
    policy = lf.load_policy("lan-5d1")
    text = mermaid(policy, lang="id", returns=False, withdrawals=False, notes=False)
    assert ": return" not in text
    assert "withdrawn" not in text
    assert "note right of" not in text
    assert "Dokumentasi (documentation)" in text


def test_cohort_conditions_and_deadlines_are_notes() -> None:
    policy = lf.parse_policy(
        """
        id = "dengan-tenggat"
        extends = "lan-5d"
        [deadlines]
        design = { by = 2016-04-30, enforce = "report" }
        """
    )
    text = mermaid(policy)
    assert "every_unit_has(min=1)" in text
    assert "deadline: 2016-04-30T23:59:59.999999+07:00" in text


def test_stage_ids_mermaid_would_misread_are_renamed() -> None:
    """A stage named like Mermaid syntax (``end``, ``state``) or with a dash gets a safe node id."""
    stages = "\n".join(
        f'[[stages]]\nid = "{ident}"\nlabel_id = "{ident}"\nlabel_en = "{ident}"\n'
        f"covers = [{covers}]"
        for ident, covers in (
            ("state", '"drum_up"'),
            ("di-agnose", '"diagnose"'),
            ("design", '"design"'),
            ("deliver", '"deliver"'),
            ("end", '"display"'),
        )
    )
    policy = lf.parse_policy(f'id = "aneh"\n{stages}\n[gates]\ndeliver = ["agreement_signed"]\n')
    text = mermaid(policy)
    nodes = re.findall(r" as (\S+)$", text, re.MULTILINE)
    assert nodes == ["stage_state", "di_agnose", "design", "deliver", "stage_end", "withdrawn"]
    assert "stage_end --> [*]" in text


def test_labels_with_quotes_stay_inside_their_quotes() -> None:
    policy = lf.parse_policy(
        'id = "kutip"\nextends = "lan-5d"\n'
        + "\n".join(
            f'[[stages]]\nid = "{d}"\nlabel_id = "{d}"\nlabel_en = "The \\"{d}\\" stage"\n'
            f'covers = ["{d}"]'
            for d in lf.FIVE_D[:5]
        )
    )
    for line in mermaid(policy).splitlines():
        if line.strip().startswith("state "):
            assert line.count('"') == 2


@pytest.mark.parametrize("bad", [None, "lan-5d", {"id": "x"}])
def test_anything_but_a_policy_is_refused_with_a_policy_error(bad: object) -> None:
    with pytest.raises(lf.PolicyError, match=r"expected a labflow\.Policy"):
        mermaid(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", lf.available_presets())
def test_the_edges_are_the_machines_transitions(name: str) -> None:
    """Every drawn edge is a transition of the policy's machine, and every transition is drawn."""
    policy = lf.load_policy(name)
    machine = engine_for(policy).machine
    node = {stage: stage for stage in policy.stage_ids} | {WITHDRAWN: "withdrawn"}
    transitions = {
        (node[source], node[str(t.dest)])
        for event in machine.events.values()
        for source, moves in event.transitions.items()
        for t in moves
    }
    drawn = set(re.findall(r"^ *(\w+) --> (\w+):", mermaid(policy), re.MULTILINE))
    assert drawn == transitions


def test_a_stage_named_withdrawn_keeps_its_own_node() -> None:
    """The withdrawn state and a stage that happens to be called ``withdrawn`` stay apart."""
    stages = "\n".join(
        f'[[stages]]\nid = "{ident}"\nlabel_id = "{ident}"\nlabel_en = "{ident}"\n'
        f"covers = [{covers}]"
        for ident, covers in (
            ("withdrawn", '"drum_up", "diagnose"'),
            ("design", '"design"'),
            ("deliver", '"deliver", "display"'),
        )
    )
    policy = lf.parse_policy(f'id = "tarik"\n{stages}\n[gates]\ndeliver = ["agreement_signed"]\n')
    text = mermaid(policy)
    assert "stage_withdrawn --> withdrawn: withdraw" in text
    assert "withdrawn --> stage_withdrawn: reinstate" in text
