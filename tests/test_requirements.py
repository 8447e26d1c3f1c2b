"""The built-in requirements and cohort conditions: what each finds unmet, in both languages."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import attrs
import pytest

import labflow as lf
from helpers import ACTORS, FixedClock, bring_to, cohort, make_lab, plan_steps, prepare, register
from labflow import _cohort_rules as cr
from labflow import _gate_rules as gr
from labflow import requirements as rq
from labflow.requirements import CohortContext, GateContext, Unmet

NOW = datetime(2016, 6, 1, tzinfo=UTC)


@pytest.fixture
def lab() -> lf.Lab:
    lab = make_lab()
    cohort(lab)
    return lab


def ctx(lab: lf.Lab, inn: lf.Innovation | str, stage: str = "design") -> GateContext:
    innovation = lab.innovation(inn) if isinstance(inn, str) else inn
    return GateContext(innovation, lab, lab.policy.stage(stage), NOW)


def codes(items: Iterable[Unmet]) -> list[str]:
    found = list(items)
    for item in found:
        assert item.message_en.strip(), item
        assert item.message_id.strip(), item
        assert item.message_en != item.message_id, "the Indonesian message is a copy"
        assert item.message("en") == item.message_en
        assert item.message("id") == item.message_id
    return [u.code for u in found]


# --- idea_registered ---------------------------------------------------------------------


def test_idea_registered_met(lab: lf.Lab) -> None:
    assert gr.idea_registered(ctx(lab, "ino-bag-tapem")) == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"title": "  "}, "idea.no_title"),
        ({"unit": "dinas-hantu"}, "idea.unknown_unit"),
        ({"innovators": ()}, "idea.no_innovators"),
        ({"problem": ""}, "idea.no_problem"),
    ],
)
def test_idea_registered_unmet(lab: lf.Lab, change: dict[str, object], code: str) -> None:
    inn = attrs.evolve(lab.innovation("ino-bag-tapem"), **change)
    assert codes(gr.idea_registered(ctx(lab, inn))) == [code]


def test_idea_registered_lists_every_gap_and_the_unit(lab: lf.Lab) -> None:
    inn = attrs.evolve(lab.innovation("ino-dinkes"), title="", unit="x", innovators=(), problem=" ")
    found = gr.idea_registered(ctx(lab, inn))
    assert codes(found) == [
        "idea.no_title",
        "idea.unknown_unit",
        "idea.no_innovators",
        "idea.no_problem",
    ]
    assert found[1].data == {"unit": "x"}


# --- diagnosis_recorded ------------------------------------------------------------------


def test_diagnosis_missing(lab: lf.Lab) -> None:
    assert codes(gr.diagnosis_recorded(ctx(lab, "ino-dinkes"))) == ["diagnosis.missing"]


def test_diagnosis_met_and_unmet(lab: lf.Lab) -> None:
    lab.record_diagnosis("ino-dinkes", lf.Diagnosis("Antre", ["SOP", "SDM"]), by="staf-dinkes")
    assert gr.diagnosis_recorded(ctx(lab, "ino-dinkes")) == []
    assert gr.diagnosis_recorded(ctx(lab, "ino-dinkes"), min_root_causes=2) == []
    found = gr.diagnosis_recorded(ctx(lab, "ino-dinkes"), min_root_causes=3)
    assert codes(found) == ["diagnosis.too_few_causes"]
    assert found[0].data == {"found": 2, "required": 3}


def test_diagnosis_without_problem_or_causes(lab: lf.Lab) -> None:
    lab.record_diagnosis("ino-dinkes", lf.Diagnosis(" ", []), by="staf-dinkes")
    found = gr.diagnosis_recorded(ctx(lab, "ino-dinkes"))
    assert codes(found) == ["diagnosis.no_problem", "diagnosis.too_few_causes"]


# --- action plans ------------------------------------------------------------------------


def test_action_plan_missing(lab: lf.Lab) -> None:
    c = ctx(lab, "ino-dinkes", "deliver")
    assert codes(gr.action_plan_submitted(c)) == ["action_plan.missing"]
    assert codes(gr.action_plan_approved(c)) == ["action_plan.not_approved"]


def test_action_plan_submitted_steps(lab: lf.Lab) -> None:
    steps = [*plan_steps(), lf.PlanStep("Uji coba", " ", plan_steps()[0].due)]
    lab.submit_plan("ino-dinkes", steps=steps, by="staf-dinkes")
    found = gr.action_plan_submitted(ctx(lab, "ino-dinkes"), min_steps=3)
    assert codes(found) == ["action_plan.too_few_steps", "action_plan.step_without_responsible"]
    assert found[0].data == {"found": 2, "required": 3}
    assert found[1].data == {"steps": [2]}


def test_action_plan_submitted_met(lab: lf.Lab) -> None:
    lab.submit_plan("ino-dinkes", steps=plan_steps(), by="staf-dinkes")
    assert gr.action_plan_submitted(ctx(lab, "ino-dinkes")) == []
    assert codes(gr.action_plan_approved(ctx(lab, "ino-dinkes"))) == ["action_plan.not_approved"]


def test_action_plan_approved_met(lab: lf.Lab) -> None:
    lab.submit_plan("ino-dinkes", steps=plan_steps(), by="staf-dinkes")
    lab.approve_plan("ino-dinkes", by="kadinkes")
    assert gr.action_plan_approved(ctx(lab, "ino-dinkes")) == []


def _approved_by(lab: lf.Lab, submitter: str, approver: str, roles: Iterable[str]) -> GateContext:
    inn = lab.innovation("ino-dinkes")
    plan = lf.ActionPlan(
        plan_steps(),
        submitter,
        NOW,
        approved_by=approver,
        approved_at=NOW,
        approver_roles=frozenset(roles),
    )
    return ctx(lab, attrs.evolve(inn, action_plan=plan))


def test_action_plan_self_approved(lab: lf.Lab) -> None:
    found = gr.action_plan_approved(_approved_by(lab, "kadinkes", "kadinkes", ["unit_head"]))
    assert codes(found) == ["action_plan.self_approved"]
    assert found[0].data == {"actor": "kadinkes"}


def test_action_plan_approver_without_role_outside_unit(lab: lf.Lab) -> None:
    c = _approved_by(lab, "staf-dinkes", "kabag-tapem", ["innovator"])
    found = gr.action_plan_approved(c)
    assert codes(found) == ["action_plan.approver_lacks_role", "action_plan.approver_outside_unit"]
    assert found[0].data == {
        "actor": "kabag-tapem",
        "roles": ["innovator"],
        "needed": ["unit_head"],
    }
    assert found[1].data == {"actor": "kabag-tapem", "unit": "dinkes"}


def test_action_plan_approved_params(lab: lf.Lab) -> None:
    c = _approved_by(lab, "staf-dinkes", "fasilitator", ["facilitator"])
    assert codes(gr.action_plan_approved(c, approver_roles=("facilitator",), same_unit=False)) == []
    assert codes(gr.action_plan_approved(c, approver_roles=("facilitator",))) == [
        "action_plan.approver_outside_unit"
    ]


# --- agreement_signed --------------------------------------------------------------------


def test_agreement_missing(lab: lf.Lab) -> None:
    assert codes(gr.agreement_signed(ctx(lab, "ino-dinkes"))) == ["agreement.missing"]


def test_agreement_unsigned_by_each_party(lab: lf.Lab) -> None:
    lab.draw_up_agreement(
        "ino-dinkes", regional_head="bupati", unit_head="kadinkes", by="sekretariat"
    )
    found = gr.agreement_signed(ctx(lab, "ino-dinkes"))
    assert codes(found) == ["agreement.unsigned.regional_head", "agreement.unsigned.unit_head"]
    assert [u.data for u in found] == [{"party": "bupati"}, {"party": "kadinkes"}]
    lab.sign_agreement("ino-dinkes", by="kadinkes")
    assert codes(gr.agreement_signed(ctx(lab, "ino-dinkes"))) == [
        "agreement.unsigned.regional_head"
    ]
    lab.sign_agreement("ino-dinkes", by="bupati")
    assert gr.agreement_signed(ctx(lab, "ino-dinkes")) == []


def test_agreement_naming_another_units_head(lab: lf.Lab) -> None:
    sigs = [lf.Signature("bupati", "regional_head", NOW), lf.Signature("kapus", "unit_head", NOW)]
    agreement = lf.PerformanceAgreement("bupati", "kapus", "sekretariat", NOW, signatures=sigs)
    inn = attrs.evolve(lab.innovation("ino-dinkes"), agreement=agreement)
    found = gr.agreement_signed(ctx(lab, inn))
    assert codes(found) == ["agreement.wrong_unit_head"]
    assert found[0].data == {"party": "kapus", "unit": "dinkes"}


# --- launch, evidence, exhibit -----------------------------------------------------------


def test_launch_recorded(lab: lf.Lab) -> None:
    assert codes(gr.launch_recorded(ctx(lab, "ino-dinkes"))) == ["launch.missing"]
    inn = attrs.evolve(lab.innovation("ino-dinkes"), launch=lf.Launch(NOW, "Peluncuran", "bupati"))
    assert gr.launch_recorded(ctx(lab, inn)) == []


def test_evidence_attached(lab: lf.Lab) -> None:
    found = gr.evidence_attached(ctx(lab, "ino-dinkes"))
    assert codes(found) == ["evidence.too_few"]
    assert found[0].data == {"found": 0, "required": 1}
    lab.attach_evidence("ino-dinkes", title="SK", reference="d1", by="staf-dinkes")
    assert gr.evidence_attached(ctx(lab, "ino-dinkes")) == []
    assert gr.evidence_attached(ctx(lab, "ino-dinkes"), min=2)[0].data == {
        "found": 1,
        "required": 2,
    }


def test_exhibit_registered(lab: lf.Lab) -> None:
    assert codes(gr.exhibit_registered(ctx(lab, "ino-dinkes"))) == ["exhibit.missing"]
    exhibit = lf.Exhibit("Expo", "A1", "staf-dinkes", NOW)
    inn = attrs.evolve(lab.innovation("ino-dinkes"), exhibit=exhibit)
    assert gr.exhibit_registered(ctx(lab, inn)) == []


# --- replication_recorded ----------------------------------------------------------------


def _replica(lab: lf.Lab, replication: lf.Replication) -> GateContext:
    return ctx(lab, attrs.evolve(lab.innovation("ino-dinkes"), replication=replication))


def test_replication_not_a_replica_is_met(lab: lf.Lab) -> None:
    assert gr.replication_recorded(ctx(lab, "ino-dinkes")) == []


def test_replication_met(lab: lf.Lab) -> None:
    r = lf.Replication("Kudus", "x", "diadaptasi untuk puskesmas di desa pesisir")
    assert gr.replication_recorded(_replica(lab, r)) == []


def test_replication_without_origin_or_adaptation(lab: lf.Lab) -> None:
    found = gr.replication_recorded(_replica(lab, lf.Replication(" ", "", "disalin")))
    assert codes(found) == ["replication.no_origin", "replication.no_adaptation"]
    assert found[1].data == {"found": 1, "required": 5}


def test_replication_min_words_parameter(lab: lf.Lab) -> None:
    c = _replica(lab, lf.Replication("Kudus", "x", "adaptasi lokal"))
    assert gr.replication_recorded(c, min_adaptation_words=2) == []
    assert codes(gr.replication_recorded(c, min_adaptation_words=3)) == [
        "replication.no_adaptation"
    ]


# --- initiator_permission ----------------------------------------------------------------


@pytest.mark.parametrize("initiator", ["community", "regional_head", "dprd"])
def test_permission_not_needed_unless_asn(lab: lf.Lab, initiator: str) -> None:
    inn = attrs.evolve(lab.innovation("ino-dinkes"), initiator=lf.Initiator(initiator))
    assert gr.initiator_permission(ctx(lab, inn)) == []


def test_permission_missing_then_granted(lab: lf.Lab) -> None:
    assert codes(gr.initiator_permission(ctx(lab, "ino-dinkes"))) == ["permission.missing"]
    lab.grant_permission("ino-dinkes", reference="800/7", by="kadinkes")
    assert gr.initiator_permission(ctx(lab, "ino-dinkes")) == []


@pytest.mark.parametrize("grantor", ["kabag-tapem", "staf-dinkes", "nobody"])
def test_permission_wrong_grantor(lab: lf.Lab, grantor: str) -> None:
    permission = lf.Permission(grantor, NOW, "800/7")
    inn = attrs.evolve(lab.innovation("ino-dinkes"), permission=permission)
    found = gr.initiator_permission(ctx(lab, inn))
    assert codes(found) == ["permission.wrong_grantor"]
    assert found[0].data == {"actor": grantor}


# --- deadline_not_passed -----------------------------------------------------------------

DEADLINE_POLICY = """
id = "tenggat"
extends = "lan-5d"
[deadlines]
design = { by = "2016-06-30", enforce = "gate" }
"""


def test_deadline_not_passed() -> None:
    lab = make_lab(lf.parse_policy(DEADLINE_POLICY))
    register(lab, "a")
    stage = lab.policy.stage("design")
    inn = lab.innovation("a")
    before = datetime(2016, 6, 30, 23, 0, tzinfo=UTC)
    after = datetime(2016, 6, 30, 17, 1, tzinfo=UTC)  # 2016-07-01 00:01 in +07:00
    assert gr.deadline_not_passed(GateContext(inn, lab, stage, before - timedelta(hours=7))) == []
    found = gr.deadline_not_passed(GateContext(inn, lab, stage, after))
    assert codes(found) == ["deadline.passed"]
    assert found[0].data["now"] == after.isoformat()
    assert found[0].data["deadline"].startswith("2016-06-30T23:59:59")
    # a stage without a deadline never fails it
    assert gr.deadline_not_passed(GateContext(inn, lab, lab.policy.stage("deliver"), after)) == []


# --- unit_head_on_record ----------------------------------------------------------------


def test_unit_head_on_record_met(lab: lf.Lab) -> None:
    assert gr.unit_head_on_record(ctx(lab, "ino-dinkes")) == []


def test_unit_head_on_record_missing() -> None:
    lab = make_lab(actors=[a for a in ACTORS if a.id != "kadinkes"])
    register(lab, "a", "dinkes")
    found = gr.unit_head_on_record(ctx(lab, "a"))
    assert codes(found) == ["unit_head.missing"]
    assert found[0].data == {"unit": "dinkes"}


def test_unit_head_on_record_ambiguous(lab: lf.Lab) -> None:
    lab.add_actor(lf.Actor("sekdin", "Sekretaris Dinas", {"unit_head"}, "dinkes"), by="sekretariat")
    found = gr.unit_head_on_record(ctx(lab, "ino-dinkes"))
    assert codes(found) == ["unit_head.ambiguous"]
    assert found[0].data == {"unit": "dinkes", "heads": ["kadinkes", "sekdin"]}


# --- cohort conditions -------------------------------------------------------------------


def cctx(lab: lf.Lab, stage: str = "design") -> CohortContext:
    return CohortContext(lab, lab.policy.stage(stage), NOW)


def test_every_unit_has_lists_short_units() -> None:
    lab = make_lab()
    register(lab, "a", "dinkes")
    found = cr.every_unit_has(cctx(lab))
    assert codes(found) == ["cohort.unit_short"]
    # the community group is not a government unit, so it is not counted by default
    assert found[0].data == {"units": ["bag-tapem", "pkm-gombong"], "required": 1}


def test_every_unit_has_min_and_kinds(lab: lf.Lab) -> None:
    assert cr.every_unit_has(cctx(lab)) == []
    assert cr.every_unit_has(cctx(lab), min=2)[0].data["units"] == [
        "bag-tapem",
        "dinkes",
        "pkm-gombong",
    ]
    kinds = (lf.UnitKind.COMMUNITY,)
    assert cr.every_unit_has(cctx(lab), unit_kinds=kinds)[0].data["units"] == ["komunitas"]
    assert cr.every_unit_has(cctx(lab), unit_kinds=(lf.UnitKind.CLINIC,)) == []


def test_every_unit_has_ignores_withdrawn(lab: lf.Lab) -> None:
    lab.withdraw("ino-dinkes", reason="Pindah prioritas", by="sekretariat")
    assert cr.every_unit_has(cctx(lab))[0].data["units"] == ["dinkes"]


def test_every_unit_has_at_or_past_and_meeting(lab: lf.Lab) -> None:
    found = cr.every_unit_has(cctx(lab), at_or_past=rq.StageRef("diagnose"))
    assert len(found[0].data["units"]) == 3
    bring_to(lab, "diagnose", ["ino-dinkes", "ino-bag-tapem", "ino-pkm-gombong"])
    assert cr.every_unit_has(cctx(lab), at_or_past=rq.StageRef("diagnose")) == []
    approved = rq.RequirementRef("action_plan_approved")
    assert len(cr.every_unit_has(cctx(lab), meeting=approved)[0].data["units"]) == 3
    prepare(lab, "ino-dinkes", "design")
    lab.advance_lab(by="sekretariat")
    lab.advance("ino-dinkes", by="sekretariat")
    prepare(lab, "ino-dinkes", "deliver")
    assert cr.every_unit_has(cctx(lab), meeting=approved)[0].data["units"] == [
        "bag-tapem",
        "pkm-gombong",
    ]


def test_one_official_one_innovation(lab: lf.Lab) -> None:
    assert cr.one_official_one_innovation(cctx(lab)) == []
    lab.add_actor(lf.Actor("sekdin", "Sekretaris Dinas", {"unit_head"}, "dinkes"), by="sekretariat")
    found = cr.one_official_one_innovation(cctx(lab))
    assert codes(found) == ["cohort.officials_short"]
    assert found[0].data == {
        "units": ["dinkes"],
        "innovations": {"dinkes": 1},
        "officials": {"dinkes": 2},
    }
    register(lab, "kedua", "dinkes")
    assert cr.one_official_one_innovation(cctx(lab)) == []
    lab.withdraw("kedua", reason="Digabung", by="sekretariat")
    assert codes(cr.one_official_one_innovation(cctx(lab))) == ["cohort.officials_short"]


def test_one_official_one_innovation_params(lab: lf.Lab) -> None:
    # counting innovators instead: the community group's innovator is not government
    assert cr.one_official_one_innovation(cctx(lab), official_roles=("innovator",)) == []
    kinds = (lf.UnitKind.COMMUNITY,)
    found = cr.one_official_one_innovation(
        cctx(lab), official_roles=("innovator",), unit_kinds=kinds
    )
    assert found[0].data["officials"] == {"komunitas": 1}
    approved = rq.RequirementRef("action_plan_approved")
    found = cr.one_official_one_innovation(cctx(lab), meeting=approved)
    assert found[0].data["units"] == ["bag-tapem", "dinkes", "pkm-gombong"]


def test_share_ready(lab: lf.Lab) -> None:
    # entering diagnose needs only a registered idea: all three are ready
    assert cr.share_ready(cctx(lab, "diagnose"), percent=100) == []
    found = cr.share_ready(cctx(lab, "design"), percent=50)
    assert codes(found) == ["cohort.too_few_ready"]
    assert found[0].data == {"ready": 0, "active": 3, "required_percent": 50}
    prepare(lab, "ino-dinkes", "design")
    prepare(lab, "ino-bag-tapem", "design")
    assert cr.share_ready(cctx(lab, "design"), percent=66) == []
    assert cr.share_ready(cctx(lab, "design"), percent=67)[0].data["ready"] == 2


def test_share_ready_counts_those_already_there(lab: lf.Lab) -> None:
    bring_to(lab, "diagnose")
    assert cr.share_ready(cctx(lab, "diagnose"), percent=100) == []


def test_share_ready_with_no_active_innovation() -> None:
    lab = make_lab()
    assert cr.share_ready(cctx(lab), percent=0) == []
    assert cr.share_ready(cctx(lab), percent=1)[0].data == {
        "ready": 0,
        "active": 0,
        "required_percent": 1,
    }


# --- applies_to and the registry ----------------------------------------------------------

APPLIES = """
id = "klinik"
extends = "lan-5d"
[gates]
diagnose = ["idea_registered", { name = "evidence_attached", applies_to = ["clinic"] }]
"""


def test_applies_to_limits_a_requirement_to_unit_kinds() -> None:
    lab = make_lab(lf.parse_policy(APPLIES))
    cohort(lab)
    (spec,) = [s for s in lab.policy.gates["diagnose"] if s.name == "evidence_attached"]
    assert spec.applies_to == frozenset({lf.UnitKind.CLINIC})
    lab.advance_lab(by="sekretariat")
    assert lab.check("ino-bag-tapem").ok
    assert lab.check("ino-pkm-gombong").codes == ("evidence.too_few",)


def test_unmet_helper_keeps_data() -> None:
    item = lf.unmet("x.y", "English.", "Bahasa.", count=2)
    assert item == Unmet("x.y", "English.", "Bahasa.", {"count": 2})


def test_verdict_explains_in_both_languages(lab: lf.Lab) -> None:
    lab.advance_lab(by="sekretariat")
    verdict = lab.check("ino-dinkes")
    assert verdict.ok
    assert "meets every requirement" in verdict.explain()
    assert "memenuhi semua syarat" in verdict.explain("id")
    lab.advance_lab(by="sekretariat")
    lab.advance("ino-dinkes", by="sekretariat")
    verdict = lab.check("ino-dinkes")
    assert not verdict.ok
    assert verdict.explain().startswith("ino-dinkes cannot advance to design:")
    assert "[permission.missing]" in verdict.explain()
    assert verdict.explain("id").startswith("ino-dinkes belum dapat maju ke design:")
    assert "Inisiator ASN" in verdict.explain("id")


@pytest.mark.parametrize(
    "name",
    [
        "idea_registered",
        "diagnosis_recorded",
        "action_plan_submitted",
        "action_plan_approved",
        "agreement_signed",
        "launch_recorded",
        "evidence_attached",
        "exhibit_registered",
        "replication_recorded",
        "initiator_permission",
        "deadline_not_passed",
        "unit_head_on_record",
    ],
)
def test_builtin_gate_requirements_are_registered(name: str) -> None:
    definition = lf.DEFAULT_REGISTRY.find("gate", name)
    assert definition is not None
    assert definition.doc, "a built-in explains itself"


@pytest.mark.parametrize("name", ["every_unit_has", "share_ready", "one_official_one_innovation"])
def test_builtin_cohort_conditions_are_registered(name: str) -> None:
    assert lf.DEFAULT_REGISTRY.find("cohort", name) is not None
    assert lf.DEFAULT_REGISTRY.find("gate", name) is None


def test_params_are_read_from_signatures() -> None:
    d = lf.DEFAULT_REGISTRY.find("cohort", "every_unit_has")
    assert d is not None
    assert set(d.params) == {"min", "at_or_past", "meeting", "unit_kinds"}
    assert not any(p.required for p in d.params.values())
    share = lf.DEFAULT_REGISTRY.find("cohort", "share_ready")
    assert share is not None
    assert share.params["percent"].required


@pytest.mark.parametrize(
    ("snippet", "path", "phrase"),
    [
        ('{ name = "evidence_attached", min = "2" }', "$.gates.display[0].min", "must be int"),
        ('{ name = "evidence_attached", min = true }', "$.gates.display[0].min", "must be int"),
        ('{ name = "evidence_attached", mni = 2 }', "$.gates.display[0].mni", "did you mean 'min'"),
        (
            '{ name = "launch_recorded", min = 2 }',
            "$.gates.display[0].min",
            "it takes: no parameters",
        ),
        (
            '{ name = "action_plan_approved", approver_roles = "unit_head" }',
            "$.gates.display[0].approver_roles",
            "must be an array",
        ),
        (
            '{ name = "launch_recorded", applies_to = ["kantor"] }',
            "$.gates.display[0].applies_to[0]",
            "'kantor' is not one of",
        ),
    ],
)
def test_params_are_validated_at_load(snippet: str, path: str, phrase: str) -> None:
    text = f'id = "p"\nextends = "lan-5d"\n[gates]\ndisplay = [{snippet}]\n'
    with pytest.raises(lf.PolicyError) as info:
        lf.parse_policy(text)
    assert [p.path for p in info.value.problems] == [path]
    assert phrase in info.value.problems[0].message


def test_fixed_clock_is_used_by_the_lab() -> None:
    clock = FixedClock()
    lab = make_lab(clock=clock)
    event = register(lab, "a")
    assert event.at == clock.now
