"""Approvals as policy data: who approves an action plan is said once and judged alike by
the gates, the cohort conditions' ``meeting`` and the launch rule."""

from __future__ import annotations

import json

import pytest

import labflow as lf
from helpers import HEAD, STAFF, bring_to, cohort, make_lab, plan_steps
from labflow import _gate_rules, serde

FACILITATOR = '{ approver_roles = ["facilitator"], same_unit = false }'

#: LAN's facilitator approves every plan (issue: "Who approves").
BY_FACILITATOR = f"""
id = "lan-fasilitator"
extends = "lan-5d"
launch = [{{ name = "action_plan_approved", {FACILITATOR[2:-2]} }}]

[permissions]
approve_plan = ["facilitator"]

[gates]
deliver = [
    "action_plan_submitted",
    {{ name = "action_plan_approved", approver_roles = ["facilitator"], same_unit = false }},
    "agreement_signed",
    "replication_recorded",
]

[cohort]
deliver = [
    {{ name = "every_unit_has", min = 1, meeting = {{ action_plan_approved = {FACILITATOR} }} }},
]
"""


def problems(text: str) -> list[tuple[str, str]]:
    with pytest.raises(lf.PolicyError) as caught:
        lf.parse_policy(text)
    return [(p.path, p.message) for p in caught.value.problems]


def designed(policy: lf.Policy, approver: str | None = "fasilitator") -> tuple[lf.Lab, list[str]]:
    """A lab at design whose innovations have plans (approved by ``approver``) and agreements."""
    lab = make_lab(policy)
    ids = cohort(lab)
    bring_to(lab, "design")
    for ident in ids:
        unit = lab.innovation(ident).unit
        lab.submit_plan(ident, steps=plan_steps(), by=STAFF[unit])
        if approver is not None:
            lab.approve_plan(ident, by=approver if approver != "head" else HEAD[unit])
        lab.draw_up_agreement(ident, regional_head="bupati", unit_head=HEAD[unit], by="sekretariat")
        lab.sign_agreement(ident, by="bupati")
        lab.sign_agreement(ident, by=HEAD[unit])
    return lab, ids


class TestOneApprovalRule:
    def test_the_facilitator_approves_and_the_lab_moves_and_launches(self) -> None:
        """Gate, cohort condition and launch all accept the facilitator's approval."""
        lab, ids = designed(lf.parse_policy(BY_FACILITATOR))
        assert lab.check_lab().ok
        lab.advance_lab(by="sekretariat")
        for ident in ids:
            lab.advance(ident, by="sekretariat")
        assert all(lab.check_launch(i).ok for i in ids)
        lab.launch_cohort(ceremony="Peluncuran", by="bupati", innovations=ids)
        assert serde.loads(serde.dumps(lab)) == lab
        assert all(v.ok for v in lab.verify())

    def test_the_cohort_condition_counts_with_its_own_parameters(self) -> None:
        """Without approvals the lab is held, and the message names no requirement id."""
        lab, _ = designed(lf.parse_policy(BY_FACILITATOR), approver=None)
        (item,) = lab.check_lab().unmet
        assert item.code == "cohort.unit_short"
        assert item.data["units"] == ["bag-tapem", "dinkes", "pkm-gombong"]

    def test_the_call_round_trips_through_the_document(self) -> None:
        """``meeting = { name = { ... } }`` is kept as a `RequirementCall`, and loads back."""
        policy = lf.parse_policy(BY_FACILITATOR)
        meeting = policy.cohort["deliver"][0].params["meeting"]
        assert meeting == lf.RequirementCall(
            "action_plan_approved", {"approver_roles": ("facilitator",), "same_unit": False}
        )
        assert str(meeting) == (
            "action_plan_approved(approver_roles=[facilitator], same_unit=false)"
        )
        data = json.loads(json.dumps(policy.to_dict()))
        assert lf.policy_from_dict(data) == policy


class TestDisagreementsAreRefused:
    def test_a_launch_rule_left_at_its_default(self) -> None:
        """The inherited launch rule (unit head, same unit) disagrees: every place is listed."""
        text = BY_FACILITATOR.replace(BY_FACILITATOR.splitlines()[3], "")
        ((path, message),) = problems(text)
        assert path == "$"
        assert "gates.deliver[1]: approver_roles=['facilitator'], same_unit=false" in message
        assert "cohort.deliver[0].meeting: approver_roles=['facilitator']" in message
        assert "launch[0]: approver_roles=['unit_head'], same_unit=true" in message

    def test_a_cohort_condition_still_at_the_default(self) -> None:
        """The issue's case: the gate moved to the facilitator, the cohort condition did not."""
        text = BY_FACILITATOR.replace(
            f"meeting = {{ action_plan_approved = {FACILITATOR} }}",
            'meeting = "action_plan_approved"',
        )
        ((_, message),) = problems(text)
        assert "cohort.deliver[0].meeting: approver_roles=['unit_head'], same_unit=true" in message

    def test_a_built_in_launch_check_is_listed_when_launch_is_empty(self) -> None:
        """With no launch rule, the built-in one (the default approval) is what disagrees."""
        text = BY_FACILITATOR.replace(BY_FACILITATOR.splitlines()[3], "launch = []")
        ((_, message),) = problems(text)
        assert "launch (built in" in message

    def test_a_meeting_unlike_the_gate_of_its_stage(self) -> None:
        """Counting innovations by a looser rule than the gate they must pass is refused."""
        text = (
            'id = "x"\nextends = "lan-5d"\n[cohort]\n'
            "display = [\n"
            '{ name = "every_unit_has", meeting = { evidence_attached = { min = 3 } } },\n'
            "]\n"
        )
        found = problems(text)
        assert found == [
            (
                "$.cohort.display[0].meeting",
                "'evidence_attached' is counted with min=3, but gates.display[1] asks for it "
                "with min=1",
            )
        ]

    @pytest.mark.parametrize(
        ("meeting", "path", "phrase"),
        [
            ("{ nothing = {} }", "$.cohort.deliver[0].meeting", "'nothing' is not a registered"),
            (
                "{ action_plan_approved = { approver = 1 } }",
                "$.cohort.deliver[0].meeting.action_plan_approved.approver",
                "has no parameter 'approver'",
            ),
            (
                "{ action_plan_approved = { same_unit = 1 } }",
                "$.cohort.deliver[0].meeting.action_plan_approved.same_unit",
                "must be bool",
            ),
            ("{ a = {}, b = {} }", "$.cohort.deliver[0].meeting", "must name one"),
            (
                '{ action_plan_approved = "x" }',
                "$.cohort.deliver[0].meeting.action_plan_approved",
                "must be a table",
            ),
        ],
    )
    def test_a_broken_meeting_is_listed(self, meeting: str, path: str, phrase: str) -> None:
        """A parameterised meeting is validated like a gate's requirement."""
        cohort = f'deliver = [{{ name = "every_unit_has", meeting = {meeting} }}]'
        text = f'id = "x"\nextends = "lan-5d"\n[cohort]\n{cohort}\n'
        found = problems(text)
        assert any(p == path and phrase in m for p, m in found), found


class TestMessages:
    def test_an_approver_without_the_role_is_named_by_labels(self) -> None:
        """The refusal names roles by the policy's labels, never an enum repr or a list."""
        lab, ids = designed(lf.load_policy("lan-5d"), approver=None)
        ident = ids[0]
        unit = lab.innovation(ident).unit
        lab.approve_plan(ident, by=HEAD[unit])
        text = BY_FACILITATOR
        policy = lf.parse_policy(text)
        ctx = lf.GateContext(lab.innovation(ident), lab, policy.stage("deliver"), lab.now())
        found = _gate_rules.action_plan_approved(
            ctx, approver_roles=("facilitator",), same_unit=False
        )
        (item,) = found
        assert item.code == "action_plan.approver_lacks_role"
        assert (
            item.message_en
            == "The action plan's approver held none of the roles it needs (Facilitator)."
        )
        assert item.message_id == (
            "Penyetuju rencana aksi tidak memegang peran yang dibutuhkan (Fasilitator)."
        )
        assert "<" not in item.message_en
        assert "[" not in item.message_id
