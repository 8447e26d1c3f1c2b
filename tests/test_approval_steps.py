"""Approval in steps: the policy lists who approves an action plan, step by step, in order.

``examples/facilitated/policy.toml``: the head of the owning unit approves, then the LAN
facilitator reviews. Each step is its own ``plan_approved`` event; resubmitting the plan
clears them; ``action_plan_approved`` means every step done (or up to ``step``); a
forged step is refused by replay.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest

import labflow as lf
from helpers import HEAD, STAFF, bring_to, cohort, make_lab, plan_steps, refused
from labflow import serde
from labflow.events import GENESIS, Event, make_event

FACILITATED = Path(__file__).resolve().parent.parent / "examples" / "facilitated" / "policy.toml"

TWO_STEPS = """
[[approval]]
id = "kepala_unit"
roles = ["unit_head"]
label_en = "Approved by the head of unit"
label_id = "Disetujui kepala perangkat daerah"

[[approval]]
id = "reviu_fasilitator"
roles = ["facilitator"]
same_unit = false
"""


def policy() -> lf.Policy:
    return lf.load_policy(FACILITATED)


def problems(text: str) -> list[tuple[str, str]]:
    with pytest.raises(lf.PolicyError) as caught:
        lf.parse_policy(text)
    return [(p.path, p.message) for p in caught.value.problems]


def variant(body: str, steps: str = TWO_STEPS) -> str:
    """A policy extending lan-5d with ``steps`` and ``body`` (tables after the steps)."""
    return f'id = "x"\nextends = "lan-5d"\n{body}\n{steps}'


def planned(lab: lf.Lab, ident: str = "ino-bag-tapem") -> str:
    """Bring ``ident``'s lab to design and submit its plan (by its unit's innovator)."""
    cohort(lab)
    bring_to(lab, "design")
    lab.submit_plan(ident, steps=plan_steps(), by=STAFF[lab.innovation(ident).unit])
    return ident


def rehash(events: list[Event], start: int) -> list[Event]:
    out = list(events[:start])
    for e in events[start:]:
        prev = out[-1].hash if out else GENESIS
        out.append(make_event(e.subject, len(out) + 1, e.at, e.actor, e.kind, e.payload, prev))
    return out


class TestThePolicy:
    def test_the_steps_load_in_order_and_round_trip(self) -> None:
        """The example's two steps load as records and its document loads back equal."""
        loaded = policy()
        assert [s.id for s in loaded.approval] == ["kepala_unit", "reviu_fasilitator"]
        assert loaded.approval[0] == lf.ApprovalStep(
            "kepala_unit",
            frozenset({"unit_head"}),
            True,
            "Approved by the head of unit",
            "Disetujui kepala perangkat daerah",
        )
        assert loaded.approval_count == 2
        data = json.loads(json.dumps(loaded.to_dict()))
        assert lf.policy_from_dict(data) == loaded

    def test_the_steps_roles_may_approve_unless_permissions_say_otherwise(self) -> None:
        """Without permissions.approve_plan, the steps' roles are who may run approve_plan."""
        assert policy().allowed("approve_plan") == {"unit_head", "facilitator"}

    def test_a_preset_has_one_implicit_step(self) -> None:
        """The presets declare no steps: one approval, as before."""
        preset = lf.load_policy("lan-5d")
        assert preset.approval == ()
        assert preset.approval_count == 1
        assert "approval" not in preset.to_dict()


class TestBrokenPolicies:
    @pytest.mark.parametrize(
        ("steps", "path", "phrase"),
        [
            ("approval = []", "$.approval", "must be an array of tables"),
            ("approval = [1]", "$.approval[0]", "must be a table"),
            ('approval = [{ roles = ["unit_head"] }]', "$.approval[0].id", "is required"),
            ('approval = [{ id = "a" }]', "$.approval[0].roles", "must list the roles"),
            (
                'approval = [{ id = "a", roles = ["camat"] }]',
                "$.approval[0].roles[0]",
                "'camat' is not a role of this policy",
            ),
            (
                'approval = [{ id = "a", roles = ["unit_head"], same_unit = "ya" }]',
                "$.approval[0].same_unit",
                "must be true or false",
            ),
            (
                'approval = [{ id = "a", roles = ["unit_head"] }, '
                '{ id = "a", roles = ["facilitator"] }]',
                "$.approval[1].id",
                "used twice",
            ),
            (
                'approval = [{ id = "a", roles = ["unit_head"], who = 1 }]',
                "$.approval[0].who",
                "unknown key",
            ),
        ],
    )
    def test_a_malformed_step_is_listed_at_its_path(
        self, steps: str, path: str, phrase: str
    ) -> None:
        found = problems(f'id = "x"\nextends = "lan-5d"\n{steps}\n')
        assert any(p == path and phrase in m for p, m in found), found

    def test_a_step_no_one_may_run_is_refused(self) -> None:
        """permissions.approve_plan given without the facilitator: step 2 could never pass."""
        text = variant('[permissions]\napprove_plan = ["unit_head"]\n')
        assert problems(text) == [
            (
                "$.approval[1].roles",
                "none of these roles may run approve_plan, so step 'reviu_fasilitator' could "
                "never be approved: add one to permissions.approve_plan",
            )
        ]

    def test_who_approves_is_said_once(self) -> None:
        """With steps, a gate's own approver_roles is refused at its path."""
        text = variant(
            "[gates]\ndeliver = [\n"
            '  "action_plan_submitted",\n'
            '  { name = "action_plan_approved", approver_roles = ["facilitator"] },\n'
            '  "agreement_signed",\n]\n'
        )
        found = problems(text)
        assert ("$.gates.deliver[1].approver_roles") in [p for p, _ in found]
        assert any("the [[approval]] steps say who approves" in m for _, m in found)

    def test_a_step_that_is_not_declared(self) -> None:
        text = variant(
            "[gates]\ndeliver = [\n"
            '  { name = "action_plan_approved", step = "bupati" },\n'
            '  "agreement_signed",\n]\n'
        )
        assert problems(text) == [
            (
                "$.gates.deliver[0].step",
                "'bupati' is not an approval step (one of kepala_unit, reviu_fasilitator)",
            )
        ]

    def test_a_step_without_declared_steps(self) -> None:
        text = (
            'id = "x"\nextends = "lan-5d"\n[gates]\ndeliver = [\n'
            '  { name = "action_plan_approved", step = "kepala_unit" },\n'
            '  "agreement_signed",\n]\n'
        )
        assert problems(text) == [
            ("$.gates.deliver[0].step", "'kepala_unit': this policy declares no [[approval]] steps")
        ]

    def test_a_launch_that_does_not_wait_for_every_step(self) -> None:
        text = variant('launch = [{ name = "action_plan_approved", step = "kepala_unit" }]\n')
        ((path, message),) = problems(text)
        assert path == "$.launch[0].step"
        assert "a launch waits for every approval step" in message

    def test_a_cohort_condition_counting_a_different_step_than_its_gate(self) -> None:
        """The cohort counts plans by step 1 while the deliver gate waits for step 2."""
        text = variant(
            "[cohort]\ndeliver = [\n"
            '  { name = "every_unit_has", meeting = { action_plan_approved = '
            '{ step = "kepala_unit" } } },\n]\n'
        )
        ((path, message),) = problems(text)
        assert path == "$.cohort.deliver[0].meeting"
        assert "'kepala_unit'" in message
        assert "waits for step 'the last'" in message

    def test_a_gate_may_wait_for_an_earlier_step(self) -> None:
        """Different stages may ask for different progress: design asks for step 1 only."""
        text = variant(
            "[gates]\ndisplay = [\n"
            '  "launch_recorded",\n'
            '  { name = "action_plan_approved", step = "kepala_unit" },\n]\n'
        )
        loaded = lf.parse_policy(text)
        assert loaded.gates["display"][1].params == {"step": "kepala_unit"}


class TestTheCommand:
    def test_each_step_is_its_own_event_in_order(self) -> None:
        """The unit head approves step 1, the facilitator step 2; the plan is then approved."""
        lab = make_lab(policy())
        ident = planned(lab)
        first = lab.approve_plan(ident, by=HEAD["bag-tapem"])
        assert first.payload["step"] == "kepala_unit"
        assert not lab.policy.plan_approved(lab.innovation(ident).action_plan)
        (pending,) = [u for u in lab.check(ident).unmet if u.code.startswith("action_plan")]
        assert pending.code == "action_plan.step_pending"
        assert pending.data == {"step": "reviu_fasilitator", "number": 2}
        assert "awaits step 2 of 2, Reviewed by the LAN facilitator" in pending.message_en
        second = lab.approve_plan(ident, by="fasilitator")
        assert second.payload["step"] == "reviu_fasilitator"
        plan = lab.innovation(ident).action_plan
        assert plan is not None
        assert [(a.step, a.by) for a in plan.approvals] == [
            (1, "kabag-tapem"),
            (2, "fasilitator"),
        ]
        assert plan.further_approvals[0].roles == {"facilitator"}
        assert lab.policy.plan_approved(plan)

    def test_a_step_by_someone_it_does_not_name_is_refused_and_changes_nothing(self) -> None:
        """The facilitator cannot take step 1; the unit head cannot take step 2."""
        lab = make_lab(policy())
        ident = planned(lab)
        with refused(lab, lf.PermissionDenied) as info:
            lab.approve_plan(ident, by="fasilitator")
        assert info.value.code == "permission.approval_step"
        assert "step 1 (Approved by the head of unit) is approved by the Head of unit" in str(
            info.value
        )
        lab.approve_plan(ident, by=HEAD["bag-tapem"])
        with refused(lab, lf.PermissionDenied, "step 2"):
            lab.approve_plan(ident, by=HEAD["bag-tapem"])

    def test_a_same_unit_step_refuses_another_units_head(self) -> None:
        """Step 1 is taken within the owning unit; an approver's role alone is not enough."""
        text = variant(
            '[permissions]\napprove_plan = ["unit_head", "facilitator", "secretariat"]\n',
            TWO_STEPS.replace('roles = ["unit_head"]', 'roles = ["unit_head", "secretariat"]'),
        )
        lab = make_lab(lf.parse_policy(text))
        ident = planned(lab)
        with refused(lab, lf.PermissionDenied, "within bag-tapem"):
            lab.approve_plan(ident, by="sekretariat")

    def test_no_step_is_approved_by_the_plans_author(self) -> None:
        lab = make_lab(policy())
        ident = planned(lab)
        lab.approve_plan(ident, by=HEAD["bag-tapem"])
        lab.submit_plan(ident, steps=plan_steps(), by=HEAD["bag-tapem"])
        with refused(lab, lf.PermissionDenied) as info:
            lab.approve_plan(ident, by=HEAD["bag-tapem"])
        assert info.value.code == "permission.own_plan"

    def test_resubmitting_clears_every_step(self) -> None:
        lab = make_lab(policy())
        ident = planned(lab)
        lab.approve_plan(ident, by=HEAD["bag-tapem"])
        lab.approve_plan(ident, by="fasilitator")
        lab.submit_plan(ident, steps=plan_steps(), by=STAFF["bag-tapem"])
        plan = lab.innovation(ident).action_plan
        assert plan is not None
        assert plan.approvals == ()
        with refused(lab, lf.PermissionDenied):
            lab.approve_plan(ident, by="fasilitator")  # step 1 again first

    def test_a_third_approval_is_refused(self) -> None:
        lab = make_lab(policy())
        ident = planned(lab)
        lab.approve_plan(ident, by=HEAD["bag-tapem"])
        lab.approve_plan(ident, by="fasilitator")
        with refused(lab, lf.InvalidCommand) as info:
            lab.approve_plan(ident, by="fasilitator")
        assert info.value.code == "action_plan.already_approved"

    def test_check_and_allowed_agree_with_the_command(self) -> None:
        """`check` reports the step refusal the command would raise, changing nothing."""
        lab = make_lab(policy())
        ident = planned(lab)
        verdict = lab.check("approve_plan", ident, by="fasilitator")
        assert "permission.approval_step" in verdict.codes
        assert lab.allowed(by="fasilitator", subject=ident)["approve_plan"] == verdict
        assert lab.check("approve_plan", ident, by=HEAD["bag-tapem"]).ok


class TestTheGates:
    def test_the_lab_moves_and_launches_only_after_every_step(self) -> None:
        """Gate, cohort condition and launch wait for step 2, then all accept."""
        lab = make_lab(policy())
        ids = cohort(lab)
        bring_to(lab, "design")
        for ident in ids:
            unit = lab.innovation(ident).unit
            lab.submit_plan(ident, steps=plan_steps(), by=STAFF[unit])
            lab.approve_plan(ident, by=HEAD[unit])
            lab.draw_up_agreement(
                ident, regional_head="bupati", unit_head=HEAD[unit], by="sekretariat"
            )
            lab.sign_agreement(ident, by="bupati")
            lab.sign_agreement(ident, by=HEAD[unit])
        assert lab.check_lab().codes == ("cohort.unit_short",)
        for ident in ids:
            lab.approve_plan(ident, by="fasilitator")
        assert lab.check_lab().ok
        lab.advance_lab(by="sekretariat")
        for ident in ids:
            lab.advance(ident, by="sekretariat")
            assert lab.check_launch(ident).ok
        lab.launch_cohort(ceremony="Peluncuran", by="bupati", innovations=ids)
        assert serde.loads(serde.dumps(lab)) == lab
        assert lf.replay_lab(lab.history, [i.history for i in lab.innovations.values()]) == lab

    def test_the_launch_waits_for_the_last_step(self) -> None:
        """The built-in launch check means every step under a policy with steps."""
        lab = make_lab(policy())
        ident = planned(lab)
        lab.approve_plan(ident, by=HEAD["bag-tapem"])
        codes = lab.check_launch(ident).codes
        assert "action_plan.step_pending" in codes

    def test_without_a_plan_nothing_is_approved(self) -> None:
        lab = make_lab(policy())
        cohort(lab)
        assert "action_plan.not_approved" in lab.check_launch("ino-dinkes").codes

    def test_a_gate_waiting_for_step_one_passes_after_it(self) -> None:
        """``step = "kepala_unit"`` is met once the first step is done."""
        lab = make_lab(policy())
        ident = planned(lab)
        lab.approve_plan(ident, by=HEAD["bag-tapem"])
        inn = lab.innovation(ident)
        ctx = lf.GateContext(inn, lab, lab.policy.stage("deliver"), lab.now())
        found = lf.DEFAULT_REGISTRY.find("gate", "action_plan_approved")
        assert found is not None
        assert list(found.func(ctx, step="kepala_unit")) == []
        assert [u.code for u in found.func(ctx)] == ["action_plan.step_pending"]


class TestReplay:
    def approved(self) -> tuple[lf.Lab, str]:
        lab = make_lab(policy())
        ident = planned(lab)
        lab.approve_plan(ident, by=HEAD["bag-tapem"])
        lab.approve_plan(ident, by="fasilitator")
        return lab, ident

    def forged(self, lab: lf.Lab, ident: str, change: Any) -> list[list[Event]]:
        """Every innovation's history, with ``ident``'s last approval changed and re-hashed."""
        events = list(lab.innovation(ident).history)
        at = max(i for i, e in enumerate(events) if e.kind == "innovation.plan_approved")
        events[at] = change(events[at])
        streams = [list(i.history) for i in lab.innovations.values() if i.id != ident]
        return [*streams, rehash(events, at)]

    def refused_on_replay(self, lab: lf.Lab, streams: list[list[Event]]) -> lf.HistoryError:
        with pytest.raises(lf.HistoryError) as info:
            lf.replay_lab(lab.history, streams)
        return info.value

    def test_the_history_replays(self) -> None:
        lab, _ = self.approved()
        assert lf.replay_lab(lab.history, [i.history for i in lab.innovations.values()]) == lab

    def test_a_forged_step_name_is_refused(self) -> None:
        lab, ident = self.approved()

        def rename(e: Event) -> Event:
            return attrs.evolve(e, payload={**e.payload, "step": "kepala_unit"})

        error = self.refused_on_replay(lab, self.forged(lab, ident, rename))
        assert error.code == "history.approval_step"

    def test_a_step_by_an_actor_it_does_not_name_is_refused(self) -> None:
        """The unit head's name put on the facilitator's step, roles and all."""
        lab, ident = self.approved()

        def swap(e: Event) -> Event:
            return attrs.evolve(
                e, actor=HEAD["bag-tapem"], payload={**e.payload, "roles": ["unit_head"]}
            )

        error = self.refused_on_replay(lab, self.forged(lab, ident, swap))
        assert error.code == "history.approval_step"

    def test_a_step_missing_from_the_payload_is_refused(self) -> None:
        lab, ident = self.approved()

        def drop(e: Event) -> Event:
            return attrs.evolve(e, payload={k: v for k, v in e.payload.items() if k != "step"})

        error = self.refused_on_replay(lab, self.forged(lab, ident, drop))
        assert error.code == "history.approval_step"

    def test_a_step_in_a_policy_without_steps_is_refused(self) -> None:
        lab = make_lab("lan-5d")
        ident = planned(lab)
        lab.approve_plan(ident, by=HEAD["bag-tapem"])

        def named(e: Event) -> Event:
            return attrs.evolve(e, payload={**e.payload, "step": "kepala_unit"})

        error = self.refused_on_replay(lab, self.forged(lab, ident, named))
        assert error.code == "history.approval_step"

    def test_a_third_approval_is_refused(self) -> None:
        lab, ident = self.approved()
        events = list(lab.innovation(ident).history)
        extra = events[-1]
        events.append(
            make_event(
                ident,
                len(events) + 1,
                extra.at,
                "fasilitator",
                extra.kind,
                extra.payload,
                events[-1].hash,
            )
        )
        streams = [list(i.history) for i in lab.innovations.values() if i.id != ident]
        error = self.refused_on_replay(lab, [*streams, events])
        assert error.code == "history.no_plan"


def test_a_policy_diff_names_the_steps_and_the_review_cycle() -> None:
    """`labflow.diff.compare` shows what the facilitated example changes of lan-5d."""
    from labflow import diff

    found = {s.setting: s for s in diff.compare(lf.load_policy("lan-5d"), policy()).settings}
    assert found["approval steps"].variant == (
        "kepala_unit (unit_head) -> reviu_fasilitator (facilitator)"
    )
    assert found["approval steps"].base is None
    assert found["agreement review"].variant == "every 4 months after launch, 3 times (report)"
