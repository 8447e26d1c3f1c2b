"""Compiled gates: an advance's checks give the requirements' own answers, met or not.

`labflow._gates` answers the common case of the built-in requirements (met) from the
facts and asks the requirement otherwise; these tests hold it to `gate_unmet`, which
calls every requirement as the policy states it, for every gate of every preset and for
innovations in every state the built-ins look at.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import labflow as lf
from helpers import ACTORS, UNITS, make_lab, register
from labflow._gates import gate_checks
from labflow._registry import gate_unmet
from labflow.requirements import GateContext

NOW = datetime(2016, 6, 1, tzinfo=UTC)
PRESETS = lf.available_presets()
LABS = {name: make_lab(name) for name in PRESETS}
for _lab in LABS.values():
    for _unit in ("bag-tapem", "pkm-gombong", "komunitas"):
        register(_lab, f"ino-{_unit}", _unit, by="sekretariat")

people = st.sampled_from([a.id for a in ACTORS] + ["nobody"])
texts = st.sampled_from(["", " ", "Kasubag", "Satu dua tiga empat lima enam"])
steps = st.lists(st.builds(lf.PlanStep, texts, texts, st.just(date(2016, 6, 1))), max_size=3)
plans = st.none() | st.builds(
    lf.ActionPlan,
    steps=steps,
    submitted_by=people,
    submitted_at=st.just(NOW),
    approved_by=st.none() | people,
    approver_roles=st.frozensets(st.sampled_from([str(r) for r in lf.Role]), max_size=2),
)
signatures = st.lists(
    st.builds(lf.Signature, people, st.sampled_from([str(r) for r in lf.Role]), st.just(NOW)),
    max_size=3,
)
agreements = st.none() | st.builds(
    lf.PerformanceAgreement,
    regional_head=people,
    unit_head=people,
    drawn_up_by=people,
    drawn_up_at=st.just(NOW),
    signatures=signatures,
)
replications = st.none() | st.builds(lf.Replication, texts, texts, texts)


def compiled(lab: lf.Lab, inn: lf.Innovation, stage: lf.Stage) -> list[lf.Unmet]:
    unit = lab.units.get(inn.unit)
    checks = gate_checks(lab.policy, stage.id, unit.kind if unit is not None else None)
    ctx = GateContext(inn, lab, stage, NOW)
    return [item for check in checks for item in check(ctx)]


def _plan(by: str, approver: str | None, roles: set[str], responsible: str = "Kasubag") -> Any:
    step = lf.PlanStep("Susun SOP", responsible, date(2016, 6, 1))
    return lf.ActionPlan([step], by, NOW, approved_by=approver, approver_roles=roles)


def _agreement(head: str, *signers: str) -> Any:
    signed = [lf.Signature(s, "unit_head", NOW) for s in signers]
    return lf.PerformanceAgreement("bupati", head, "sekretariat", NOW, signatures=signed)


#: One innovation for each way a built-in can be unmet while most of its facts hold.
NEAR_MISSES = [
    (_plan("kabag-tapem", "kabag-tapem", {"unit_head"}), None, None),  # self-approved
    (_plan("staf-tapem", "kadinkes", {"unit_head"}), None, None),  # approver of another unit
    (_plan("staf-tapem", "kabag-tapem", {"innovator"}), None, None),  # approver lacks the role
    (_plan("staf-tapem", "kabag-tapem", {"unit_head"}, " "), None, None),  # step unassigned
    (None, _agreement("kabag-tapem", "bupati"), None),  # the unit head has not signed
    (None, _agreement("kadinkes", "bupati", "kadinkes"), None),  # head of another unit
    (None, None, lf.Replication("Kudus", "ino", "dua kata")),  # adaptation too short
    (None, None, lf.Replication(" ", "ino", "satu dua tiga empat lima enam")),  # no origin
]


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize(("plan", "agreement", "replication"), NEAR_MISSES)
def test_compiled_gates_list_every_near_miss(
    preset: str, plan: Any, agreement: Any, replication: Any
) -> None:
    lab = LABS[preset]
    inn = attrs.evolve(
        lab.innovation("ino-bag-tapem"),
        action_plan=plan,
        agreement=agreement,
        replication=replication,
    )
    for stage in lab.policy.stages:
        assert compiled(lab, inn, stage) == list(gate_unmet(lab, inn, stage, NOW))


@settings(max_examples=300, deadline=None)
@given(
    preset=st.sampled_from(PRESETS),
    unit=st.sampled_from([u.id for u in UNITS]),
    plan=plans,
    agreement=agreements,
    replication=replications,
)
def test_compiled_gates_answer_as_the_requirements(
    preset: str, unit: str, plan: Any, agreement: Any, replication: Any
) -> None:
    lab = LABS[preset]
    inn = attrs.evolve(
        lab.innovation(f"ino-{unit}" if f"ino-{unit}" in lab.innovations else "ino-bag-tapem"),
        unit=unit,
        action_plan=plan,
        agreement=agreement,
        replication=replication,
    )
    for stage in lab.policy.stages:
        assert compiled(lab, inn, stage) == list(gate_unmet(lab, inn, stage, NOW))


@pytest.mark.parametrize("preset", PRESETS)
def test_a_ready_innovation_passes_every_compiled_gate(preset: str) -> None:
    """The met case, built the way the commands build it, is met without asking."""
    lab = LABS[preset]
    head = next(a.id for a in ACTORS if a.unit == "bag-tapem" and "unit_head" in a.roles)
    regent = next(a.id for a in ACTORS if "regional_head" in a.roles)
    plan = lf.ActionPlan(
        [lf.PlanStep("Susun SOP", "Kasubag", date(2016, 6, 1))],
        "staf-tapem",
        NOW,
        approved_by=head,
        approver_roles={"unit_head"},
    )
    signed = [lf.Signature(regent, "regional_head", NOW), lf.Signature(head, "unit_head", NOW)]
    agreement = lf.PerformanceAgreement(regent, head, "sekretariat", NOW, signatures=signed)
    inn = attrs.evolve(lab.innovation("ino-bag-tapem"), action_plan=plan, agreement=agreement)
    for stage in lab.policy.stages:
        assert compiled(lab, inn, stage) == list(gate_unmet(lab, inn, stage, NOW))


def test_a_shared_reason_cannot_be_changed_by_one_refusal_for_the_next() -> None:
    """The items built once for a missing plan or agreement are read-only, and stay as built."""
    lab = LABS["lan-5d"]
    inn = attrs.evolve(lab.innovation("ino-bag-tapem"), action_plan=None, agreement=None)
    for stage in lab.policy.stages:
        first = compiled(lab, inn, stage)
        for item in first:
            if item.code in (
                "action_plan.missing",
                "action_plan.not_approved",
                "agreement.missing",
            ):
                with pytest.raises(TypeError):
                    item.data["planted"] = True  # type: ignore[index]
        assert compiled(lab, inn, stage) == first == list(gate_unmet(lab, inn, stage, NOW))
    assert any(
        item.code == "agreement.missing"
        for stage in lab.policy.stages
        for item in compiled(lab, inn, stage)
    )
