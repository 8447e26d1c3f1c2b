"""What gates and cohort conditions say: stage labels, English plurals that agree, and no
identifier, enum or list repr in Indonesian -- for every built-in requirement."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import attrs
import pytest

import labflow as lf
from helpers import HEAD, STAFF, bring_to, cohort, make_lab, plan_steps, register
from labflow import _cohort_rules as cr
from labflow import _gate_rules as gr
from labflow._engine import engine_for
from labflow._gates import advance_unmet
from test_cli_lang import indonesian

#: An English count that disagrees with its noun or verb ("1 units", "1 are needed").
BAD_PLURAL = re.compile(
    r"\b1 (?:units|innovations|steps|words|root causes|pieces|heads)\b|\b1 are needed\b"
    r"|\b1 of \d+ active innovations \(\d+%\) are\b"
)


def unmets() -> Iterator[lf.Unmet]:
    """One of (nearly) every unmet item the built-in requirements and checks can say."""
    lab = make_lab("lan-5d")
    ids = cohort(lab)
    first = ids[0]
    yield from lab.check("advance", first, by="sekretariat").unmet  # lab.behind
    _, skipping = advance_unmet(
        lab, engine_for(lab.policy), lab.innovation(first), "design", lab.now()
    )
    yield from skipping  # not the next stage
    bring_to(lab, "design")
    yield from lab.check_lab().unmet  # every unit short of an approved plan
    inn = lab.innovation(first)
    stage = lab.policy.stage("deliver")
    ctx = lf.GateContext(inn, lab, stage, lab.now())
    yield from gr.idea_registered(ctx._replace(innovation=attrs.evolve(inn, unit="tak-ada")))
    yield from gr.diagnosis_recorded(ctx, min_root_causes=2)
    one_step = lf.ActionPlan(
        [lf.PlanStep("Susun SOP", " ", date(2016, 6, 1))], "staf-tapem", lab.now()
    )
    two_steps = lf.ActionPlan(
        [lf.PlanStep("A", " ", date(2016, 6, 1)), lf.PlanStep("B", " ", date(2016, 6, 2))],
        "staf-tapem",
        lab.now(),
    )
    for plan in (one_step, two_steps):
        yield from gr.action_plan_submitted(
            ctx._replace(innovation=attrs.evolve(inn, action_plan=plan)), min_steps=3
        )
    approved = attrs.evolve(one_step, approved_by="staf-tapem", approver_roles=frozenset())
    yield from gr.action_plan_approved(
        ctx._replace(innovation=attrs.evolve(inn, action_plan=approved)),
        approver_roles=("facilitator", "secretariat"),
    )
    yield from gr.evidence_attached(ctx, min=1)
    yield from gr.evidence_attached(ctx, min=2)
    replica = lf.Replication("Kabupaten Kudus", "sipandu", "disesuaikan")
    yield from gr.replication_recorded(
        ctx._replace(innovation=attrs.evolve(inn, replication=replica))
    )
    wrong = lf.Permission("staf-tapem", lab.now(), "800/1")
    yield from gr.initiator_permission(
        ctx._replace(innovation=attrs.evolve(inn, initiator=lf.Initiator.ASN, permission=wrong))
    )
    yield from gr.unit_head_on_record(ctx._replace(innovation=attrs.evolve(inn, unit="komunitas")))
    lab.add_actor(lf.Actor("wakil", "Wakil", {"unit_head"}, "bag-tapem"), by="sekretariat")
    yield from gr.unit_head_on_record(ctx)
    unit = inn.unit
    lab.submit_plan(first, steps=plan_steps(), by=STAFF[unit])
    lab.approve_plan(first, by=HEAD[unit])
    lab.draw_up_agreement(first, regional_head="bupati", unit_head="wakil", by="sekretariat")
    yield from gr.agreement_signed(lf.GateContext(lab.innovation(first), lab, stage, lab.now()))
    other = lf.PerformanceAgreement("bupati", "kadinkes", "sekretariat", lab.now())
    yield from gr.agreement_signed(ctx._replace(innovation=attrs.evolve(inn, agreement=other)))
    cohort_ctx = lf.CohortContext(lab, stage, lab.now())
    yield from cr.every_unit_has(cohort_ctx, min=1, at_or_past="deliver")
    yield from cr.every_unit_has(cohort_ctx, min=2, meeting="evidence_attached")
    yield from cr.share_ready(cohort_ctx, percent=100)
    yield from cr.one_official_one_innovation(cohort_ctx)
    timed = lf.parse_policy(
        'id = "t"\nextends = "lan-5d"\n[deadlines.display]\nafter = "launch"\n'
        'min_months = 2\nwithin_months = 3\nenforce = "gate"\n'
        '[deadlines.deliver]\nby = 2016-05-01\nenforce = "gate"\n'
    )
    late = make_lab(timed)
    register(late, "x")
    x = late.innovation("x")
    later = datetime(2016, 9, 1, tzinfo=UTC)
    yield from gr.deadline_not_passed(lf.GateContext(x, late, timed.stage("deliver"), later))
    yield from gr.deadline_not_passed(lf.GateContext(x, late, timed.stage("display"), later))
    launched = attrs.evolve(x, launch=lf.Launch(later, "Peluncuran", "bupati"))
    early = later + timedelta(days=3)
    yield from gr.deadline_not_passed(lf.GateContext(launched, late, timed.stage("display"), early))
    yield from lab.check_launch(ids[1]).unmet  # wrong stage


@pytest.fixture(scope="module")
def said() -> list[lf.Unmet]:
    return list(unmets())


def test_every_kind_of_unmet_is_said(said: list[lf.Unmet]) -> None:
    """The scenarios above reach the messages this file means to check."""
    codes = {u.code for u in said}
    assert {
        "lab.behind",
        "stage.not_next",
        "cohort.unit_short",
        "idea.unknown_unit",
        "diagnosis.too_few_causes",
        "action_plan.too_few_steps",
        "action_plan.step_without_responsible",
        "action_plan.approver_lacks_role",
        "evidence.too_few",
        "replication.no_adaptation",
        "permission.wrong_grantor",
        "unit_head.missing",
        "unit_head.ambiguous",
        "agreement.wrong_unit_head",
        "cohort.too_few_ready",
        "deadline.passed",
        "deadline.not_started",
        "deadline.too_early",
        "launch.wrong_stage",
    } <= codes


def test_no_identifier_or_repr_in_indonesian(said: list[lf.Unmet]) -> None:
    """No Indonesian message carries a stage id, a requirement name, a repr or English."""
    found = {u.code: indonesian(u.message_id) for u in said if indonesian(u.message_id)}
    assert found == {}


def test_no_repr_in_english(said: list[lf.Unmet]) -> None:
    """No English message shows a Python list, an enum or quotes around an id."""
    for u in said:
        assert not re.search(r"\[\d|\['|<[A-Z]\w+\.|'[a-z-]+'", u.message_en), u


def test_english_counts_agree(said: list[lf.Unmet]) -> None:
    """'1 unit has', '2 units have', 'at least 1 is needed' -- never '1 units'."""
    wrong = [u.message_en for u in said if BAD_PLURAL.search(u.message_en)]
    assert wrong == []
    texts = " ".join(u.message_en for u in said)
    assert "at least 1 is needed" in texts
    assert "Steps 1 and 2 of the action plan have no person responsible." in texts


def test_stages_are_named_by_their_labels(said: list[lf.Unmet]) -> None:
    """Stage ids never appear; their labels do, in each language."""
    behind = next(u for u in said if u.code == "lab.behind")
    assert behind.message_en.startswith("The lab is still at Drum-up;")
    assert "Membangun semangat (drum-up)" in behind.message_id
    short = next(u for u in said if u.code == "cohort.unit_short" and "approved" in u.message_en)
    assert "with an approved action plan" in short.message_en
    assert "dengan rencana aksi yang disetujui" in short.message_id
    reached = next(
        u for u in said if u.code == "cohort.unit_short" and "at or past" in u.message_en
    )
    assert "at or past Deliver" in reached.message_en


def test_explain_names_the_target_by_its_label() -> None:
    """A verdict explained with its policy says where, by label."""
    lab = make_lab("lan-5d")
    register(lab, "a")
    verdict = lab.check("advance", "a", by="sekretariat")
    assert verdict.explain("id", policy=lab.policy).startswith(
        "a belum dapat maju ke Mendiagnosa (diagnose):"
    )
    assert verdict.explain().startswith("a cannot advance to diagnose:")
