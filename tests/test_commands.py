"""Every command of `labflow.Lab`: accepted, one event appended; refused, nothing changed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

import labflow as lf
from helpers import (
    ACTORS,
    HEAD,
    STAFF,
    UNITS,
    FixedClock,
    body,
    bring_to,
    cohort,
    make_lab,
    plan_steps,
    prepare,
    refused,
    register,
    snapshot,
)
from labflow import Actor, Role, Unit

INO = "ino-dinkes"


@pytest.fixture
def lab() -> lf.Lab:
    lab = make_lab()
    cohort(lab)
    return lab


def accepted(
    lab: lf.Lab, call: Callable[[], Any], *, subject: str, kind: str, actor: str
) -> lf.Event:
    """Run ``call``; assert it appended one event of ``kind`` by ``actor`` to ``subject``."""
    history = lab.history if subject == lab.id else None
    before = len(history) if history is not None else _version(lab, subject)
    result = call()
    events = lab.history if subject == lab.id else lab.innovation(subject).history
    assert len(events) == before + 1
    event = events[-1]
    assert event.subject == subject
    assert event.seq == before + 1
    assert event.kind == kind
    assert event.actor == actor
    assert event.at.tzinfo is not None
    if isinstance(result, lf.Event):
        assert result == event
    return event


def _version(lab: lf.Lab, subject: str) -> int:
    return lab.innovations[subject].version if subject in lab.innovations else 0


# --- creating a lab ------------------------------------------------------------------------


def test_create_records_the_founding_event() -> None:
    lab = make_lab()
    assert lab.stage == "drum_up"
    assert lab.version == 1
    (event,) = lab.history
    assert (event.kind, event.actor, event.seq, event.prev) == (
        "lab.created",
        "sekretariat",
        1,
        lf.GENESIS,
    )
    assert event.payload["policy"] == lab.policy.to_dict()
    assert [u["id"] for u in event.payload["units"]] == [u.id for u in UNITS]
    assert set(lab.actors) == {a.id for a in ACTORS}
    assert lab.actors["kadinkes"].unit == "dinkes"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"id": "kab kebumen"}, lf.InvalidCommand),
        ({"id": ""}, lf.InvalidCommand),
        ({"region": " "}, lf.InvalidCommand),
        ({"policy": "lan-5d"}, lf.InvalidCommand),
        ({"units": [UNITS[0], UNITS[0]]}, lf.InvalidCommand),
        ({"units": ["bag-tapem"]}, lf.InvalidCommand),
        ({"actors": [Actor("x", "X", {"raja"})]}, lf.InvalidCommand),
        ({"actors": [Actor("x", "X", {"innovator"}, "nowhere")]}, lf.NotFound),
        ({"clock": lambda: datetime(2016, 5, 1)}, lf.InvalidCommand),
    ],
)
def test_create_refuses_bad_input(kwargs: dict[str, Any], error: type[Exception]) -> None:
    args: dict[str, Any] = {
        "policy": lf.load_policy("lan-5d"),
        "id": "kebumen",
        "region": "Kebumen",
        "by": "sekretariat",
        "units": UNITS,
        "actors": ACTORS,
        "clock": FixedClock(),
    }
    args.update(kwargs)
    policy = args.pop("policy")
    with pytest.raises(error):
        lf.Lab.create(policy, **args)


# --- lab commands --------------------------------------------------------------------------


def test_add_unit(lab: lf.Lab) -> None:
    unit = Unit("desa-sruweng", "Desa Sruweng", "village")
    event = accepted(
        lab,
        lambda: lab.add_unit(unit, by="sekretariat"),
        subject="kebumen",
        kind="lab.unit_added",
        actor="sekretariat",
    )
    assert body(event) == {
        "unit": {"id": "desa-sruweng", "name": "Desa Sruweng", "kind": "village"}
    }
    assert lab.units["desa-sruweng"] == unit


@pytest.mark.parametrize(
    ("unit", "by", "error"),
    [
        (Unit("desa", "Desa", "village"), "staf-tapem", lf.PermissionDenied),
        (Unit("desa", "Desa", "village"), "nobody", lf.NotFound),
        (Unit("dinkes", "Dinas lagi", "agency"), "sekretariat", lf.InvalidCommand),
        (Unit("desa baru", "Desa", "village"), "sekretariat", lf.InvalidCommand),
        (Unit("desa", " ", "village"), "sekretariat", lf.InvalidCommand),
        ("desa", "sekretariat", lf.InvalidCommand),
    ],
)
def test_add_unit_refused(lab: lf.Lab, unit: Any, by: str, error: type[Exception]) -> None:
    with refused(lab, error):
        lab.add_unit(unit, by=by)


def test_add_actor(lab: lf.Lab) -> None:
    actor = Actor("wabup", "Wakil Bupati", {Role.REGIONAL_HEAD})
    event = accepted(
        lab,
        lambda: lab.add_actor(actor, by="sekretariat"),
        subject="kebumen",
        kind="lab.actor_added",
        actor="sekretariat",
    )
    assert event.payload["actor"] == {
        "id": "wabup",
        "name": "Wakil Bupati",
        "roles": ["regional_head"],
        "unit": None,
    }
    assert lab.actors["wabup"] == actor


@pytest.mark.parametrize(
    ("actor", "by", "error"),
    [
        (Actor("baru", "Baru", {"innovator"}, "dinkes"), "kadinkes", lf.PermissionDenied),
        (Actor("bupati", "Bupati lagi", {"regional_head"}), "sekretariat", lf.InvalidCommand),
        (Actor("baru", "Baru", {"camat"}), "sekretariat", lf.InvalidCommand),
        (Actor("baru", "Baru", {"innovator"}, "nowhere"), "sekretariat", lf.NotFound),
        (Actor("ba ru", "Baru", {"innovator"}), "sekretariat", lf.InvalidCommand),
        ("baru", "sekretariat", lf.InvalidCommand),
    ],
)
def test_add_actor_refused(lab: lf.Lab, actor: Any, by: str, error: type[Exception]) -> None:
    with refused(lab, error):
        lab.add_actor(actor, by=by)


def test_set_roles(lab: lf.Lab) -> None:
    event = accepted(
        lab,
        lambda: lab.set_roles("fasilitator", ["secretariat", "facilitator"], by="sekretariat"),
        subject="kebumen",
        kind="lab.roles_set",
        actor="sekretariat",
    )
    assert body(event) == {"actor": "fasilitator", "roles": ["facilitator", "secretariat"]}
    assert lab.actors["fasilitator"].roles == {"secretariat", "facilitator"}


@pytest.mark.parametrize(
    ("actor", "roles", "by", "error"),
    [
        ("fasilitator", ["secretariat"], "fasilitator", lf.PermissionDenied),
        ("nobody", ["secretariat"], "sekretariat", lf.NotFound),
        ("fasilitator", ["raja"], "sekretariat", lf.InvalidCommand),
        ("fasilitator", "secretariat", "sekretariat", lf.InvalidCommand),
        ("fasilitator", [1], "sekretariat", lf.InvalidCommand),
    ],
)
def test_set_roles_refused(
    lab: lf.Lab, actor: str, roles: Any, by: str, error: type[Exception]
) -> None:
    with refused(lab, error):
        lab.set_roles(actor, roles, by=by)


def test_advance_lab(lab: lf.Lab) -> None:
    event = accepted(
        lab,
        lambda: lab.advance_lab(by="sekretariat"),
        subject="kebumen",
        kind="lab.advanced",
        actor="sekretariat",
    )
    assert body(event) == {
        "from": "drum_up",
        "to": "diagnose",
        "cohort": {"ino-bag-tapem": 1, "ino-dinkes": 1, "ino-pkm-gombong": 1},
    }
    assert lab.stage == "diagnose"


def test_advance_lab_needs_one_innovation_per_unit() -> None:
    lab = make_lab()
    register(lab, "a", "dinkes")
    lab.advance_lab(by="sekretariat")  # nothing gates diagnose
    with refused(lab, lf.GateRefused) as info:
        lab.advance_lab(by="sekretariat")
    verdict = info.value.verdict  # type: ignore[attr-defined]
    assert (verdict.subject, verdict.action, verdict.target) == ("kebumen", "lab.advance", "design")
    assert verdict.codes == ("cohort.unit_short",)
    assert verdict.unmet[0].data["units"] == ["bag-tapem", "pkm-gombong"]


def test_advance_lab_needs_approved_plans_for_deliver(lab: lf.Lab) -> None:
    bring_to(lab, "design")
    for ident in ("ino-bag-tapem", "ino-pkm-gombong"):
        prepare(lab, ident, "deliver")
    with refused(lab, lf.GateRefused) as info:
        lab.advance_lab(by="sekretariat")
    assert info.value.verdict.unmet[0].data["units"] == ["dinkes"]  # type: ignore[attr-defined]
    prepare(lab, INO, "deliver")
    lab.advance_lab(by="sekretariat")
    assert lab.stage == "deliver"


def test_advance_lab_refused_at_the_last_stage(lab: lf.Lab) -> None:
    bring_to(lab, "display")
    with refused(lab, lf.GateRefused) as info:
        lab.advance_lab(by="sekretariat")
    assert info.value.verdict.codes == ("stage.final",)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("by", "error"), [("kadinkes", lf.PermissionDenied), ("x", lf.NotFound)])
def test_advance_lab_refused_by_role(lab: lf.Lab, by: str, error: type[Exception]) -> None:
    with refused(lab, error):
        lab.advance_lab(by=by)


def test_check_lab_changes_nothing(lab: lf.Lab) -> None:
    before = snapshot(lab)
    assert lab.check_lab().ok
    assert snapshot(lab) == before


# --- launch ceremonies ---------------------------------------------------------------------


def _at_deliver_with_one_unready(lab: lf.Lab) -> None:
    """All three at deliver; then ino-dinkes's plan is resubmitted, so it is unapproved again."""
    bring_to(lab, "deliver", launch=False)
    lab.submit_plan(INO, steps=plan_steps(), by="staf-dinkes")


def test_launch_cohort_launches_the_ready_and_reports_the_rest(lab: lf.Lab) -> None:
    _at_deliver_with_one_unready(lab)
    versions = {k: v.version for k, v in lab.innovations.items()}
    result = lab.launch_cohort(ceremony="Peluncuran 182 inovasi", by="bupati")
    assert result.launched == ("ino-bag-tapem", "ino-pkm-gombong")
    assert set(result.refused) == {INO}
    assert result.refused[INO].codes == ("action_plan.not_approved",)
    assert result.refused[INO].action == "launch"
    assert lab.innovation(INO).launch is None
    assert lab.innovation(INO).version == versions[INO]
    for ident in result.launched:
        inn = lab.innovation(ident)
        assert inn.version == versions[ident] + 1
        assert inn.history[-1].kind == "innovation.launched"
        assert inn.launch == lf.Launch(inn.history[-1].at, "Peluncuran 182 inovasi", "bupati")
    ceremony = lab.history[-1]
    assert ceremony.kind == "lab.ceremony_held"
    assert body(ceremony) == {
        "ceremony": "Peluncuran 182 inovasi",
        "launched": ["ino-bag-tapem", "ino-pkm-gombong"],
        "refused": {INO: ["action_plan.not_approved"]},
    }
    assert result.events == (
        lab.innovation("ino-bag-tapem").history[-1],
        lab.innovation("ino-pkm-gombong").history[-1],
        ceremony,
    )


def test_launch_cohort_skips_launched_and_withdrawn(lab: lf.Lab) -> None:
    bring_to(lab, "deliver", launch=False)
    lab.record_launch("ino-bag-tapem", ceremony="Awal", by="sekretariat")
    lab.withdraw("ino-pkm-gombong", reason="Anggaran dipotong", by="sekretariat")
    result = lab.launch_cohort(ceremony="Peluncuran", by="bupati")
    assert result.launched == (INO,)
    assert result.refused == {}


def test_launch_cohort_named_innovations_report_why(lab: lf.Lab) -> None:
    bring_to(lab, "deliver", launch=False)
    lab.withdraw("ino-pkm-gombong", reason="Anggaran dipotong", by="sekretariat")
    result = lab.launch_cohort(
        ceremony="Peluncuran", by="bupati", innovations=[INO, "ino-pkm-gombong", INO]
    )
    assert result.launched == (INO,)
    assert result.refused["ino-pkm-gombong"].codes == ("innovation.withdrawn",)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"by": "kadinkes"}, lf.PermissionDenied),
        ({"by": "nobody"}, lf.NotFound),
        ({"ceremony": " "}, lf.InvalidCommand),
        ({"innovations": [INO, "hantu"]}, lf.NotFound),
        ({"innovations": INO}, lf.InvalidCommand),
    ],
)
def test_launch_cohort_refused_nothing_partial(
    lab: lf.Lab, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    bring_to(lab, "deliver", launch=False)
    args: dict[str, Any] = {"ceremony": "Peluncuran", "by": "bupati", **kwargs}
    with refused(lab, error):
        lab.launch_cohort(**args)


def test_launch_cohort_only_at_deliver(lab: lf.Lab) -> None:
    bring_to(lab, "design")
    with refused(lab, lf.InvalidCommand, match="deliver stage"):
        lab.launch_cohort(ceremony="Peluncuran", by="bupati")


# --- registering and replicating -----------------------------------------------------------


def test_register(lab: lf.Lab) -> None:
    event = accepted(
        lab,
        lambda: lab.register(
            "elegan",
            title="ELEGAN",
            unit="bag-tapem",
            innovators=["Bagian Hukum"],
            problem="Drafting lambat",
            initiator="community",
            by="staf-tapem",
        ),
        subject="elegan",
        kind="innovation.registered",
        actor="staf-tapem",
    )
    assert body(event) == {
        "lab": "kebumen",
        "title": "ELEGAN",
        "unit": "bag-tapem",
        "innovators": ["Bagian Hukum"],
        "problem": "Drafting lambat",
        "initiator": "community",
        "stage": "drum_up",
    }
    assert event.prev == lf.GENESIS
    inn = lab.innovation("elegan")
    assert (inn.stage, inn.status, inn.initiator) == (
        "drum_up",
        lf.Status.ACTIVE,
        lf.Initiator.COMMUNITY,
    )
    assert inn.innovators == ("Bagian Hukum",)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"by": "staf-dinkes"}, lf.PermissionDenied),  # an innovator of another unit
        ({"by": "kadinkes"}, lf.PermissionDenied),  # a head of another unit
        ({"by": "bupati"}, lf.PermissionDenied),
        ({"by": "nobody"}, lf.NotFound),
        ({"by": 7}, lf.InvalidCommand),
        ({"unit": "nowhere", "by": "sekretariat"}, lf.NotFound),
        # roles are checked first, so a refusal never tells an outsider which ids exist
        ({"unit": "nowhere"}, lf.PermissionDenied),
        ({"innovation_id": INO}, lf.InvalidCommand),  # taken
        ({"innovation_id": "dua kata"}, lf.InvalidCommand),
        ({"innovation_id": ""}, lf.InvalidCommand),
        ({"innovators": "Tim Inovasi"}, lf.InvalidCommand),
        ({"innovators": [1, 2]}, lf.InvalidCommand),
        ({"innovators": None}, lf.InvalidCommand),
        ({"title": None}, lf.InvalidCommand),
        ({"problem": 3}, lf.InvalidCommand),
        ({"initiator": "robot"}, lf.InvalidCommand),
    ],
)
def test_register_refused(lab: lf.Lab, change: dict[str, Any], error: type[Exception]) -> None:
    args: dict[str, Any] = {
        "innovation_id": "elegan",
        "title": "ELEGAN",
        "unit": "bag-tapem",
        "innovators": ["Tim"],
        "problem": "Lambat",
        "by": "staf-tapem",
    }
    args.update(change)
    ident = args.pop("innovation_id")
    with refused(lab, error):
        lab.register(ident, **args)


def test_replicate_within_the_region(lab: lf.Lab) -> None:
    bring_to(lab, "deliver")
    event = accepted(
        lab,
        lambda: lab.replicate(
            "ino-dinkes-2",
            origin="ino-bag-tapem",
            unit="dinkes",
            adaptation="Disesuaikan dengan alur layanan kesehatan",
            innovators=["Tim Dinkes"],
            by="staf-dinkes",
        ),
        subject="ino-dinkes-2",
        kind="innovation.replicated",
        actor="staf-dinkes",
    )
    assert event.payload["replication"] == {
        "origin_region": "Kabupaten Kebumen",
        "origin_innovation": "ino-bag-tapem",
        "origin_title": "Inovasi ino-bag-tapem",
        "adaptation": "Disesuaikan dengan alur layanan kesehatan",
    }
    replica = lab.innovation("ino-dinkes-2")
    assert (replica.unit, replica.stage, replica.title) == (
        "dinkes",
        "drum_up",
        "Inovasi ino-bag-tapem",
    )
    assert replica.replication is not None
    assert replica.replication.origin_innovation == "ino-bag-tapem"


def test_replicate_from_another_region(lab: lf.Lab) -> None:
    lab.replicate(
        "gemas",
        origin="gemas-pesulan",
        origin_region="Kabupaten Banyumas",
        unit="dinkes",
        adaptation="Dipakai untuk posyandu",
        title="Gemas",
        problem="Stunting",
        by="staf-dinkes",
    )
    replication = lab.innovation("gemas").replication
    assert replication == lf.Replication(
        "Kabupaten Banyumas", "gemas-pesulan", "Dipakai untuk posyandu", "Gemas"
    )


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({}, lf.InvalidCommand),  # the origin is not launched yet
        ({"origin": "hantu"}, lf.NotFound),
        ({"unit": "bag-tapem", "by": "staf-tapem"}, lf.InvalidCommand),  # its own unit
        ({"unit": "nowhere", "by": "sekretariat"}, lf.NotFound),
        ({"unit": "nowhere"}, lf.PermissionDenied),  # roles first: no hint at which ids exist
        ({"by": "staf-tapem"}, lf.PermissionDenied),  # into another unit
        ({"origin_region": "Kudus"}, lf.InvalidCommand),  # needs title and problem
        ({"origin": " "}, lf.InvalidCommand),
        ({"innovation_id": "ino-bag-tapem"}, lf.InvalidCommand),
    ],
)
def test_replicate_refused(lab: lf.Lab, change: dict[str, Any], error: type[Exception]) -> None:
    args: dict[str, Any] = {
        "innovation_id": "replika",
        "origin": "ino-bag-tapem",
        "unit": "dinkes",
        "adaptation": "Disesuaikan",
        "by": "staf-dinkes",
    }
    args.update(change)
    ident = args.pop("innovation_id")
    with refused(lab, error):
        lab.replicate(ident, **args)


# --- artefacts -----------------------------------------------------------------------------


def test_record_diagnosis(lab: lf.Lab) -> None:
    diagnosis = lf.Diagnosis("Antrean panjang", ["SOP", "SDM"], "siap")
    event = accepted(
        lab,
        lambda: lab.record_diagnosis(INO, diagnosis, by="staf-dinkes"),
        subject=INO,
        kind="innovation.diagnosis_recorded",
        actor="staf-dinkes",
    )
    assert body(event) == {
        "problem": "Antrean panjang",
        "root_causes": ["SOP", "SDM"],
        "readiness": "siap",
    }
    assert lab.innovation(INO).diagnosis == diagnosis


def test_submit_plan(lab: lf.Lab) -> None:
    steps = [lf.PlanStep("Susun SOP", "Kasubag", date(2016, 6, 1))]
    event = accepted(
        lab,
        lambda: lab.submit_plan(
            INO, steps=steps, stakeholders=["BPJS"], budget=5_000_000, by="staf-dinkes"
        ),
        subject=INO,
        kind="innovation.plan_submitted",
        actor="staf-dinkes",
    )
    assert body(event) == {
        "steps": [{"description": "Susun SOP", "responsible": "Kasubag", "due": "2016-06-01"}],
        "stakeholders": ["BPJS"],
        "budget": 5_000_000,
        "documents": [],
    }
    plan = lab.innovation(INO).action_plan
    assert plan is not None
    assert (plan.steps, plan.submitted_by, plan.budget, plan.approved) == (
        tuple(steps),
        "staf-dinkes",
        5_000_000,
        False,
    )


def test_resubmitting_a_plan_withdraws_its_approval(lab: lf.Lab) -> None:
    lab.submit_plan(INO, steps=plan_steps(), by="staf-dinkes")
    lab.approve_plan(INO, by="kadinkes")
    lab.submit_plan(INO, steps=plan_steps(), by="staf-dinkes")
    plan = lab.innovation(INO).action_plan
    assert plan is not None
    assert not plan.approved


def test_approve_plan(lab: lf.Lab) -> None:
    lab.submit_plan(INO, steps=plan_steps(), by="staf-dinkes")
    event = accepted(
        lab,
        lambda: lab.approve_plan(INO, by="kadinkes"),
        subject=INO,
        kind="innovation.plan_approved",
        actor="kadinkes",
    )
    assert body(event) == {"roles": ["unit_head"]}
    plan = lab.innovation(INO).action_plan
    assert plan is not None
    assert (plan.approved_by, plan.approved_at, plan.approver_roles) == (
        "kadinkes",
        event.at,
        {"unit_head"},
    )


def test_approve_plan_refused_for_its_author(lab: lf.Lab) -> None:
    lab.submit_plan(INO, steps=plan_steps(), by="kadinkes")
    with refused(lab, lf.PermissionDenied, match="submitted this action plan"):
        lab.approve_plan(INO, by="kadinkes")


def test_approve_plan_refused_without_plan_or_twice(lab: lf.Lab) -> None:
    with refused(lab, lf.InvalidCommand, match="no action plan"):
        lab.approve_plan(INO, by="kadinkes")
    lab.submit_plan(INO, steps=plan_steps(), by="staf-dinkes")
    lab.approve_plan(INO, by="kadinkes")
    with refused(lab, lf.InvalidCommand, match="already approved"):
        lab.approve_plan(INO, by="kadinkes")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"steps": "Susun SOP"}, lf.InvalidCommand),
        ({"steps": [("Susun SOP", "x", date(2016, 6, 1))]}, lf.InvalidCommand),
        ({"steps": [lf.PlanStep("Susun", 3, date(2016, 6, 1))]}, lf.InvalidCommand),  # type: ignore[arg-type]
        ({"budget": -1}, lf.InvalidCommand),
        ({"budget": True}, lf.InvalidCommand),
        ({"budget": 1.5}, lf.InvalidCommand),
        ({"stakeholders": "BPJS"}, lf.InvalidCommand),
        ({"documents": [None]}, lf.InvalidCommand),
        ({"by": "bupati"}, lf.PermissionDenied),
        ({"by": "staf-tapem"}, lf.PermissionDenied),
    ],
)
def test_submit_plan_refused(lab: lf.Lab, kwargs: dict[str, Any], error: type[Exception]) -> None:
    args: dict[str, Any] = {"steps": plan_steps(), "by": "staf-dinkes", **kwargs}
    with refused(lab, error):
        lab.submit_plan(INO, **args)


def test_submit_plan_refused_after_launch(lab: lf.Lab) -> None:
    bring_to(lab, "deliver")
    with refused(lab, lf.InvalidCommand, match="launched"):
        lab.submit_plan(INO, steps=plan_steps(), by="staf-dinkes")


def test_draw_up_and_sign_agreement(lab: lf.Lab) -> None:
    drawn = accepted(
        lab,
        lambda: lab.draw_up_agreement(
            INO, regional_head="bupati", unit_head="kadinkes", terms="12 bulan", by="sekretariat"
        ),
        subject=INO,
        kind="innovation.agreement_drawn_up",
        actor="sekretariat",
    )
    assert body(drawn) == {
        "regional_head": "bupati",
        "unit_head": "kadinkes",
        "terms": "12 bulan",
    }
    agreement = lab.innovation(INO).agreement
    assert agreement == lf.PerformanceAgreement(
        "bupati", "kadinkes", "sekretariat", drawn.at, "12 bulan"
    )
    signed = accepted(
        lab,
        lambda: lab.sign_agreement(INO, by="bupati"),
        subject=INO,
        kind="innovation.agreement_signed",
        actor="bupati",
    )
    assert body(signed) == {"role": "regional_head"}
    agreement = lab.innovation(INO).agreement
    assert agreement is not None
    assert agreement.signatures == (lf.Signature("bupati", "regional_head", signed.at),)
    assert not agreement.complete
    lab.sign_agreement(INO, by="kadinkes")
    agreement = lab.innovation(INO).agreement
    assert agreement is not None
    assert agreement.complete
    assert agreement.signatures[1].role == "unit_head"


def test_redrawing_an_agreement_drops_its_signatures(lab: lf.Lab) -> None:
    lab.draw_up_agreement(INO, regional_head="bupati", unit_head="kadinkes", by="sekretariat")
    lab.sign_agreement(INO, by="bupati")
    lab.draw_up_agreement(INO, regional_head="bupati", unit_head="kadinkes", by="sekretariat")
    agreement = lab.innovation(INO).agreement
    assert agreement is not None
    assert agreement.signatures == ()


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"regional_head": "kadinkes"}, lf.InvalidCommand),
        ({"regional_head": "nobody"}, lf.InvalidCommand),
        ({"unit_head": "kabag-tapem"}, lf.InvalidCommand),  # heads another unit
        ({"unit_head": "staf-dinkes"}, lf.InvalidCommand),
        ({"terms": 5}, lf.InvalidCommand),
        ({"by": "kadinkes"}, lf.PermissionDenied),
    ],
)
def test_draw_up_agreement_refused(
    lab: lf.Lab, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    args: dict[str, Any] = {
        "regional_head": "bupati",
        "unit_head": "kadinkes",
        "by": "sekretariat",
        **kwargs,
    }
    with refused(lab, error):
        lab.draw_up_agreement(INO, **args)


def test_agreement_parties_must_differ(lab: lf.Lab) -> None:
    lab.add_actor(
        Actor("bupati-kadinkes", "Rangkap", {"regional_head", "unit_head"}, "dinkes"),
        by="sekretariat",
    )
    with refused(lab, lf.InvalidCommand, match="different people"):
        lab.draw_up_agreement(
            INO, regional_head="bupati-kadinkes", unit_head="bupati-kadinkes", by="sekretariat"
        )


def test_sign_agreement_refused(lab: lf.Lab) -> None:
    with refused(lab, lf.InvalidCommand, match="no performance agreement"):
        lab.sign_agreement(INO, by="bupati")
    lab.add_actor(Actor("wabup", "Wakil Bupati", {"regional_head"}), by="sekretariat")
    lab.add_actor(Actor("sekdin", "Sekretaris Dinkes", {"unit_head"}, "dinkes"), by="sekretariat")
    lab.draw_up_agreement(INO, regional_head="bupati", unit_head="kadinkes", by="sekretariat")
    for outsider in ("wabup", "sekdin"):
        with refused(lab, lf.PermissionDenied, match="not a party"):
            lab.sign_agreement(INO, by=outsider)
    with refused(lab, lf.PermissionDenied, match="own unit"):
        lab.sign_agreement(INO, by="kabag-tapem")
    with refused(lab, lf.PermissionDenied):
        lab.sign_agreement(INO, by="sekretariat")
    lab.sign_agreement(INO, by="bupati")
    with refused(lab, lf.InvalidCommand, match="already signed"):
        lab.sign_agreement(INO, by="bupati")


def test_grant_permission(lab: lf.Lab) -> None:
    event = accepted(
        lab,
        lambda: lab.grant_permission(INO, reference="800/12/2016", by="kadinkes"),
        subject=INO,
        kind="innovation.permission_granted",
        actor="kadinkes",
    )
    assert body(event) == {"reference": "800/12/2016"}
    assert lab.innovation(INO).permission == lf.Permission("kadinkes", event.at, "800/12/2016")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"reference": ""}, lf.InvalidCommand),
        ({"by": "kabag-tapem"}, lf.PermissionDenied),
        ({"by": "staf-dinkes"}, lf.PermissionDenied),
    ],
)
def test_grant_permission_refused(
    lab: lf.Lab, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    args: dict[str, Any] = {"reference": "800/1", "by": "kadinkes", **kwargs}
    with refused(lab, error):
        lab.grant_permission(INO, **args)


def test_record_launch(lab: lf.Lab) -> None:
    bring_to(lab, "deliver", launch=False)
    event = accepted(
        lab,
        lambda: lab.record_launch(INO, ceremony="Peluncuran", by="bupati"),
        subject=INO,
        kind="innovation.launched",
        actor="bupati",
    )
    assert body(event) == {"ceremony": "Peluncuran"}
    assert lab.innovation(INO).launch == lf.Launch(event.at, "Peluncuran", "bupati")


def test_record_launch_refused_without_approved_plan(lab: lf.Lab) -> None:
    bring_to(lab, "deliver", launch=False)
    lab.submit_plan(INO, steps=plan_steps(), by="staf-dinkes")
    with refused(lab, lf.GateRefused) as info:
        lab.record_launch(INO, ceremony="Peluncuran", by="bupati")
    assert info.value.verdict.codes == ("action_plan.not_approved",)  # type: ignore[attr-defined]


def test_record_launch_refused_before_deliver_and_lists_everything(lab: lf.Lab) -> None:
    lab.withdraw(INO, reason="Ditunda", by="sekretariat")
    with refused(lab, lf.GateRefused) as info:
        lab.record_launch(INO, ceremony="Peluncuran", by="bupati")
    assert info.value.verdict.codes == (  # type: ignore[attr-defined]
        "innovation.withdrawn",
        "launch.wrong_stage",
        "action_plan.not_approved",
    )


def test_record_launch_refused_twice(lab: lf.Lab) -> None:
    bring_to(lab, "deliver")
    with refused(lab, lf.GateRefused) as info:
        lab.record_launch(INO, ceremony="Lagi", by="bupati")
    assert info.value.verdict.codes == ("launch.already",)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"ceremony": ""}, lf.InvalidCommand), ({"by": "kadinkes"}, lf.PermissionDenied)],
)
def test_record_launch_refused_input(
    lab: lf.Lab, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    bring_to(lab, "deliver", launch=False)
    args: dict[str, Any] = {"ceremony": "Peluncuran", "by": "bupati", **kwargs}
    with refused(lab, error):
        lab.record_launch(INO, **args)


def test_attach_evidence(lab: lf.Lab) -> None:
    event = accepted(
        lab,
        lambda: lab.attach_evidence(INO, title="SK Bupati", reference="sk-1", by="staf-dinkes"),
        subject=INO,
        kind="innovation.evidence_attached",
        actor="staf-dinkes",
    )
    assert body(event) == {"title": "SK Bupati", "reference": "sk-1"}
    lab.attach_evidence(INO, title="Data", reference="d-2", by="kadinkes")
    evidence = lab.innovation(INO).evidence
    assert evidence[0] == lf.Evidence("SK Bupati", "sk-1", "staf-dinkes", event.at)
    assert [e.title for e in evidence] == ["SK Bupati", "Data"]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"title": ""}, lf.InvalidCommand),
        ({"reference": " "}, lf.InvalidCommand),
        ({"by": "staf-tapem"}, lf.PermissionDenied),
        ({"by": "fasilitator"}, lf.PermissionDenied),
    ],
)
def test_attach_evidence_refused(
    lab: lf.Lab, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    args: dict[str, Any] = {"title": "SK", "reference": "sk", "by": "staf-dinkes", **kwargs}
    with refused(lab, error):
        lab.attach_evidence(INO, **args)


def test_register_exhibit(lab: lf.Lab) -> None:
    bring_to(lab, "display")
    event = accepted(
        lab,
        lambda: lab.register_exhibit(INO, event="Kebumen Expo", booth="B7", by="staf-dinkes"),
        subject=INO,
        kind="innovation.exhibit_registered",
        actor="staf-dinkes",
    )
    assert body(event) == {"event": "Kebumen Expo", "booth": "B7"}
    assert lab.innovation(INO).exhibit == lf.Exhibit("Kebumen Expo", "B7", "staf-dinkes", event.at)


def test_register_exhibit_refused_before_display(lab: lf.Lab) -> None:
    bring_to(lab, "deliver")
    with refused(lab, lf.InvalidCommand, match="exhibition stage") as info:
        lab.register_exhibit(INO, event="Expo", by="staf-dinkes")
    assert info.value.code == "exhibit.wrong_stage"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"event": ""}, lf.InvalidCommand),
        ({"booth": 3}, lf.InvalidCommand),
        ({"by": "staf-pkm"}, lf.PermissionDenied),
    ],
)
def test_register_exhibit_refused(
    lab: lf.Lab, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    bring_to(lab, "display")
    args: dict[str, Any] = {"event": "Expo", "by": "staf-dinkes", **kwargs}
    with refused(lab, error):
        lab.register_exhibit(INO, **args)


# --- moving --------------------------------------------------------------------------------


def test_advance(lab: lf.Lab) -> None:
    lab.advance_lab(by="sekretariat")
    event = accepted(
        lab,
        lambda: lab.advance(INO, by="fasilitator"),
        subject=INO,
        kind="innovation.advanced",
        actor="fasilitator",
    )
    assert body(event) == {"from": "drum_up", "to": "diagnose", "gate": ["idea_registered"]}
    assert lab.innovation(INO).stage == "diagnose"


def test_advance_cannot_pass_the_lab(lab: lf.Lab) -> None:
    with refused(lab, lf.GateRefused) as info:
        lab.advance(INO, by="sekretariat")
    verdict = info.value.verdict  # type: ignore[attr-defined]
    assert verdict.codes == ("lab.behind",)
    assert verdict.unmet[0].data == {"lab_stage": "drum_up", "target": "diagnose"}


def test_advance_self_paced_may_pass_the_lab() -> None:
    policy = lf.parse_policy('id = "mandiri"\nextends = "lan-5d"\nself_paced = true\n')
    lab = make_lab(policy)
    cohort(lab)
    lab.advance(INO, by="sekretariat")
    prepare(lab, INO, "design")
    lab.advance(INO, by="sekretariat")
    assert (lab.stage, lab.innovation(INO).stage) == ("drum_up", "design")


def test_advance_refused_lists_every_unmet_item(lab: lf.Lab) -> None:
    bring_to(lab, "diagnose")
    with refused(lab, lf.GateRefused) as info:
        lab.advance(INO, by="sekretariat")
    assert info.value.verdict.codes == (  # type: ignore[attr-defined]
        "lab.behind",
        "diagnosis.missing",
        "permission.missing",
    )


def test_advance_refused_for_withdrawn_and_at_the_end(lab: lf.Lab) -> None:
    bring_to(lab, "display")
    with refused(lab, lf.GateRefused) as info:
        lab.advance(INO, by="sekretariat")
    assert info.value.verdict.codes == ("stage.final",)  # type: ignore[attr-defined]
    lab.withdraw(INO, reason="Selesai", by="sekretariat")
    with refused(lab, lf.GateRefused) as info:
        lab.advance(INO, by="sekretariat")
    assert info.value.verdict.codes == ("innovation.withdrawn", "stage.final")  # type: ignore[attr-defined]


def test_advance_is_gated_by_the_agreement(lab: lf.Lab) -> None:
    bring_to(lab, "design")
    for ident in lab.innovations:
        prepare(lab, ident, "deliver")
    lab.advance_lab(by="sekretariat")
    lab.draw_up_agreement(INO, regional_head="bupati", unit_head="kadinkes", by="sekretariat")
    lab.sign_agreement(INO, by="bupati")
    with refused(lab, lf.GateRefused) as info:
        lab.advance(INO, by="sekretariat")
    assert info.value.verdict.codes == ("agreement.unsigned.unit_head",)  # type: ignore[attr-defined]


def test_return_to(lab: lf.Lab) -> None:
    bring_to(lab, "design")
    event = accepted(
        lab,
        lambda: lab.return_to(INO, "drum_up", reason="Ide belum matang", by="fasilitator"),
        subject=INO,
        kind="innovation.returned",
        actor="fasilitator",
    )
    assert body(event) == {"from": "design", "to": "drum_up", "reason": "Ide belum matang"}
    assert lab.innovation(INO).stage == "drum_up"
    # the artefacts stay: coming back needs no new diagnosis
    assert lab.innovation(INO).diagnosis is not None


@pytest.mark.parametrize(
    ("stage", "kwargs", "error"),
    [
        ("design", {}, lf.InvalidCommand),  # where it is
        ("deliver", {}, lf.InvalidCommand),  # forward
        ("nowhere", {}, lf.NotFound),
        ("drum_up", {"reason": ""}, lf.InvalidCommand),
        ("drum_up", {"reason": "   "}, lf.InvalidCommand),
        ("drum_up", {"reason": None}, lf.InvalidCommand),
        ("drum_up", {"by": "kadinkes"}, lf.PermissionDenied),
    ],
)
def test_return_to_refused(
    lab: lf.Lab, stage: str, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    bring_to(lab, "design")
    args: dict[str, Any] = {"reason": "Perlu dirancang ulang", "by": "sekretariat", **kwargs}
    with refused(lab, error):
        lab.return_to(INO, stage, **args)


def test_withdraw_and_reinstate(lab: lf.Lab) -> None:
    lab.advance_lab(by="sekretariat")
    lab.advance(INO, by="sekretariat")
    event = accepted(
        lab,
        lambda: lab.withdraw(INO, reason="Anggaran dipotong", by="kadinkes"),
        subject=INO,
        kind="innovation.withdrawn",
        actor="kadinkes",
    )
    assert body(event) == {"reason": "Anggaran dipotong"}
    inn = lab.innovation(INO)
    assert (inn.status, inn.active, inn.stage) == (lf.Status.WITHDRAWN, False, "diagnose")
    event = accepted(
        lab,
        lambda: lab.reinstate(INO, reason="Anggaran ada", by="sekretariat"),
        subject=INO,
        kind="innovation.reinstated",
        actor="sekretariat",
    )
    assert body(event) == {"reason": "Anggaran ada"}
    assert (lab.innovation(INO).status, lab.innovation(INO).stage) == (lf.Status.ACTIVE, "diagnose")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"reason": ""}, lf.InvalidCommand),
        ({"reason": 1}, lf.InvalidCommand),
        ({"by": "kabag-tapem"}, lf.PermissionDenied),
        ({"by": "staf-dinkes"}, lf.PermissionDenied),
    ],
)
def test_withdraw_refused(lab: lf.Lab, kwargs: dict[str, Any], error: type[Exception]) -> None:
    args: dict[str, Any] = {"reason": "Ditunda", "by": "sekretariat", **kwargs}
    with refused(lab, error):
        lab.withdraw(INO, **args)


@pytest.mark.parametrize(
    ("withdrawn", "kwargs", "error"),
    [
        (False, {}, lf.InvalidCommand),  # not withdrawn
        (True, {"reason": ""}, lf.InvalidCommand),
        (True, {"by": "kadinkes"}, lf.PermissionDenied),
    ],
)
def test_reinstate_refused(
    lab: lf.Lab, withdrawn: bool, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    if withdrawn:
        lab.withdraw(INO, reason="Ditunda", by="sekretariat")
    args: dict[str, Any] = {"reason": "Lanjut", "by": "sekretariat", **kwargs}
    with refused(lab, error):
        lab.reinstate(INO, **args)


# --- refusals common to every innovation command -------------------------------------------

#: Each innovation command with valid arguments, performed by ``by`` on ``ident``.
CALLS: dict[str, Callable[[lf.Lab, str, str], Any]] = {
    "record_diagnosis": lambda lab, i, by: lab.record_diagnosis(i, lf.Diagnosis("p", ["c"]), by=by),
    "submit_plan": lambda lab, i, by: lab.submit_plan(i, steps=plan_steps(), by=by),
    "approve_plan": lambda lab, i, by: lab.approve_plan(i, by=by),
    "draw_up_agreement": lambda lab, i, by: lab.draw_up_agreement(
        i, regional_head="bupati", unit_head=HEAD["dinkes"], by=by
    ),
    "sign_agreement": lambda lab, i, by: lab.sign_agreement(i, by=by),
    "grant_permission": lambda lab, i, by: lab.grant_permission(i, reference="800/1", by=by),
    "record_launch": lambda lab, i, by: lab.record_launch(i, ceremony="Peluncuran", by=by),
    "attach_evidence": lambda lab, i, by: lab.attach_evidence(i, title="t", reference="r", by=by),
    "register_exhibit": lambda lab, i, by: lab.register_exhibit(i, event="Expo", by=by),
    "advance": lambda lab, i, by: lab.advance(i, by=by),
    "return": lambda lab, i, by: lab.return_to(i, "drum_up", reason="Ulang", by=by),
    "withdraw": lambda lab, i, by: lab.withdraw(i, reason="Tunda", by=by),
    "reinstate": lambda lab, i, by: lab.reinstate(i, reason="Lanjut", by=by),
    "review_agreement": lambda lab, i, by: lab.review_agreement(i, finding="Sesuai", by=by),
    "amend_agreement": lambda lab, i, by: lab.amend_agreement(i, terms="Baru", by=by),
    "record_monev": lambda lab, i, by: lab.record_monev(
        i, period="2016-Q3", indicators={"pengguna": 1}, findings="ok", by=by
    ),
    "set_attributes": lambda lab, i, by: lab.set_attributes(
        i, attributes={"jenis": "digital"}, by=by
    ),
}
#: The commands an unscoped actor may not perform under the presets, and one such actor.
OUTSIDER = {
    "record_diagnosis": "bupati",
    "submit_plan": "fasilitator",
    "approve_plan": "sekretariat",
    "draw_up_agreement": "kadinkes",
    "sign_agreement": "sekretariat",
    "grant_permission": "sekretariat",
    "record_launch": "fasilitator",
    "attach_evidence": "fasilitator",
    "register_exhibit": "bupati",
    "advance": "kadinkes",
    "return": "staf-dinkes",
    "withdraw": "fasilitator",
    "reinstate": "kadinkes",
    "review_agreement": "bupati",
    "amend_agreement": "fasilitator",
    "record_monev": "staf-dinkes",
    "set_attributes": "fasilitator",
}
#: The unit-scoped actor of *another* unit whose role would otherwise allow the command.
OTHER_UNIT = {
    "record_diagnosis": "staf-tapem",
    "submit_plan": "staf-tapem",
    "approve_plan": "kabag-tapem",
    "sign_agreement": "kabag-tapem",
    "grant_permission": "kabag-tapem",
    "attach_evidence": "staf-pkm",
    "register_exhibit": "kapus",
    "withdraw": "kapus",
    "record_monev": "kabag-tapem",
}


@pytest.fixture
def busy_lab() -> lf.Lab:
    """ino-dinkes at display with every artefact, so that only the refusal under test bites."""
    lab = make_lab()
    cohort(lab)
    bring_to(lab, "display")
    return lab


def test_the_tables_cover_every_innovation_command() -> None:
    innovation_commands = set(lf.COMMANDS) - {
        "register",
        "replicate",
        "add_unit",
        "add_actor",
        "set_roles",
        "advance_lab",
        "launch_cohort",
        "open_exhibition",
        "register_exhibitor",
        "add_booth",
        "close_exhibition",
    }
    assert set(CALLS) == innovation_commands == set(OUTSIDER)


@pytest.mark.parametrize("command", sorted(CALLS))
def test_auditor_may_do_nothing(busy_lab: lf.Lab, command: str) -> None:
    with refused(busy_lab, lf.PermissionDenied, match="needs one of the roles"):
        CALLS[command](busy_lab, INO, "inspektorat")


@pytest.mark.parametrize("command", sorted(OUTSIDER))
def test_wrong_role_is_refused(busy_lab: lf.Lab, command: str) -> None:
    actor = OUTSIDER[command]
    assert not busy_lab.actors[actor].roles & busy_lab.policy.allowed(command)
    with refused(busy_lab, lf.PermissionDenied) as info:
        CALLS[command](busy_lab, INO, actor)
    assert info.value.command == command  # type: ignore[attr-defined]
    assert info.value.actor == actor  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", sorted(OTHER_UNIT))
def test_unit_roles_act_only_on_their_own_unit(busy_lab: lf.Lab, command: str) -> None:
    actor = OTHER_UNIT[command]
    assert busy_lab.actors[actor].roles & busy_lab.policy.allowed(command)
    with refused(busy_lab, lf.PermissionDenied, match="own unit"):
        CALLS[command](busy_lab, INO, actor)


@pytest.mark.parametrize("command", sorted(CALLS))
def test_unknown_actor_is_not_found(busy_lab: lf.Lab, command: str) -> None:
    with refused(busy_lab, lf.NotFound, match="actor 'nobody'"):
        CALLS[command](busy_lab, INO, "nobody")


@pytest.mark.parametrize("command", sorted(CALLS))
def test_actor_id_must_be_text(busy_lab: lf.Lab, command: str) -> None:
    with refused(busy_lab, lf.InvalidCommand):
        CALLS[command](busy_lab, INO, None)  # type: ignore[arg-type]


@pytest.mark.parametrize("command", sorted(CALLS))
def test_unknown_innovation_is_not_found(busy_lab: lf.Lab, command: str) -> None:
    with refused(busy_lab, lf.NotFound, match="innovation 'hantu'"):
        CALLS[command](busy_lab, "hantu", "sekretariat")


@pytest.mark.parametrize("command", sorted(set(CALLS) - {"reinstate"}))
def test_withdrawn_innovation_is_refused(busy_lab: lf.Lab, command: str) -> None:
    busy_lab.withdraw(INO, reason="Tunda", by="sekretariat")
    # everything may be in place, but a withdrawn innovation takes no command
    by = "bupati" if command in ("record_launch", "sign_agreement") else "sekretariat"
    by = {"approve_plan": "kadinkes", "grant_permission": "kadinkes"}.get(command, by)
    by = {"submit_plan": "staf-dinkes", "record_diagnosis": "staf-dinkes"}.get(command, by)
    with refused(busy_lab, lf.CommandError, match="withdrawn") as info:
        CALLS[command](busy_lab, INO, by)
    assert isinstance(info.value, lf.InvalidCommand | lf.GateRefused)


#: At display with every artefact in place, these commands reach the clock before anything else
#: (a signed agreement is binding there, so redrawing it is refused before the clock is read).
CLOCKED = sorted(
    set(CALLS) - {"approve_plan", "sign_agreement", "submit_plan", "draw_up_agreement"}
)


@pytest.mark.parametrize("command", CLOCKED)
def test_naive_clock_is_refused(busy_lab: lf.Lab, command: str) -> None:
    if command == "reinstate":
        busy_lab.withdraw(INO, reason="Tunda", by="sekretariat")
    if command == "amend_agreement":  # an amendment follows a review calling for one
        busy_lab.review_agreement(INO, finding="Ubah target", outcome="amend", by="sekretariat")
    busy_lab.clock = lambda: datetime(2016, 5, 1, 8)
    with refused(busy_lab, lf.InvalidCommand, match="timezone-aware"):
        CALLS[command](busy_lab, INO, _able(busy_lab, command))


def test_naive_clock_refuses_plan_and_signature(lab: lf.Lab) -> None:
    lab.submit_plan(INO, steps=plan_steps(), by="staf-dinkes")
    lab.draw_up_agreement(INO, regional_head="bupati", unit_head="kadinkes", by="sekretariat")
    lab.clock = lambda: datetime(2016, 5, 1, 8)
    for command in ("approve_plan", "sign_agreement", "submit_plan", "draw_up_agreement"):
        with refused(lab, lf.InvalidCommand, match="timezone-aware"):
            CALLS[command](lab, INO, _able(lab, command))


def _able(lab: lf.Lab, command: str) -> str:
    """An actor allowed to perform ``command`` on ino-dinkes."""
    for actor in ("sekretariat", "bupati", "kadinkes", "staf-dinkes", "fasilitator"):
        roles = lab.actors[actor].roles
        if roles & lab.policy.allowed(command):
            return actor
    raise AssertionError(command)


def test_naive_clock_refuses_lab_commands_too(lab: lf.Lab) -> None:
    lab.clock = lambda: datetime(2016, 5, 1, 8)
    with refused(lab, lf.InvalidCommand, match="timezone-aware"):
        lab.advance_lab(by="sekretariat")
    with refused(lab, lf.InvalidCommand, match="timezone-aware"):
        register(lab, "baru")
    with refused(lab, lf.InvalidCommand, match="timezone-aware"):
        lab.check(INO)


# --- check ---------------------------------------------------------------------------------


def test_check_has_no_side_effects(lab: lf.Lab) -> None:
    bring_to(lab, "diagnose")
    before = snapshot(lab)
    first = lab.check(INO)
    assert lab.check(INO) == first
    assert lab.check_launch(INO) == lab.check_launch(INO)
    assert lab.check_lab() == lab.check_lab()
    assert snapshot(lab) == before


def test_check_lists_every_unmet_requirement(lab: lf.Lab) -> None:
    policy = lf.parse_policy(
        """
id = "ketat"
extends = "lan-5d"
[gates]
diagnose = ["idea_registered", "diagnosis_recorded", "action_plan_submitted",
            { name = "evidence_attached", min = 2 }]
"""
    )
    lab = make_lab(policy)
    register(lab, "a", "dinkes", title="", problem="")
    verdict = lab.check("a")
    assert verdict.codes == (
        "lab.behind",
        "idea.no_title",
        "idea.no_problem",
        "diagnosis.missing",
        "action_plan.missing",
        "evidence.too_few",
    )
    assert (verdict.subject, verdict.action, verdict.target) == ("a", "advance", "diagnose")


def test_check_to_a_stage_that_is_not_next(lab: lf.Lab) -> None:
    verdict = lab.check(INO, to="design")
    assert verdict.target == "design"
    assert verdict.codes[:2] == ("stage.not_next", "lab.behind")
    with pytest.raises(lf.NotFound):
        lab.check(INO, to="nowhere")
    with pytest.raises(lf.NotFound):
        lab.check("hantu")


def test_advance_succeeds_iff_check_is_ok() -> None:
    """Walk a cohort to the end; before every advance, check predicts the outcome exactly."""
    lab = make_lab("lan-5d1")
    ids = cohort(lab)
    outcomes: list[bool] = []

    def attempt(ident: str) -> None:
        verdict = lab.check(ident)
        before = snapshot(lab)
        refusal: lf.GateRefused | None = None
        try:
            lab.advance(ident, by="sekretariat")
        except lf.GateRefused as exc:
            refusal = exc
        outcomes.append(refusal is None)
        if refusal is not None:
            assert refusal.verdict == verdict
            assert snapshot(lab) == before
        assert outcomes[-1] is verdict.ok

    for stage in lab.policy.stage_ids[1:]:
        for ident in ids:
            attempt(ident)  # the lab is behind, and the gate is not yet met
            prepare(lab, ident, stage)
        lab.advance_lab(by="sekretariat")
        for ident in ids:
            attempt(ident)
        if "deliver" in lab.policy.stage(stage).covers:
            lab.launch_cohort(ceremony="Peluncuran", by="bupati")
    assert [lab.innovation(i).stage for i in ids] == ["documentation"] * 3
    assert outcomes.count(False) == outcomes.count(True) == 15


def test_time_comes_from_the_injected_clock() -> None:
    clock = FixedClock(datetime(2017, 12, 21, 9, tzinfo=UTC))
    lab = make_lab(clock=clock)
    event = register(lab, "a")
    assert event.at == datetime(2017, 12, 21, 9, 2, tzinfo=UTC)
    assert lab.innovation("a").history[0].at == event.at


def test_staff_table_matches_the_cast() -> None:
    for unit, actor in STAFF.items():
        assert make_lab().actors[actor].unit == unit


def test_refused_notices_a_change(lab: lf.Lab) -> None:
    """The refusal helper itself can fail: a change before the error is caught."""

    def change_then_refuse() -> None:
        with refused(lab, lf.InvalidCommand):
            lab.withdraw(INO, reason="Ditunda", by="sekretariat")
            raise lf.InvalidCommand("after the fact")

    with pytest.raises(AssertionError):
        change_then_refuse()


def test_launch_cohort_reads_the_clock_once(lab: lf.Lab) -> None:
    """One ceremony, one time: no second reading can fail after some launches were applied."""
    bring_to(lab, "deliver", launch=False)
    readings = iter([datetime(2017, 7, 1, tzinfo=UTC)])
    lab.clock = lambda: next(readings, datetime(2017, 7, 1))  # naive after the first reading
    result = lab.launch_cohort(ceremony="Peluncuran", by="bupati")
    assert len(result.launched) == 3
    assert {e.at for e in result.events} == {datetime(2017, 7, 1, tzinfo=UTC)}
    with refused(lab, lf.InvalidCommand, match="timezone-aware"):
        lab.launch_cohort(ceremony="Peluncuran", by="bupati")


def test_a_signed_agreement_is_binding_past_its_gate(lab: lf.Lab) -> None:
    """Past the agreement gate, redrawing (which would clear the signatures) is refused."""
    bring_to(lab, "deliver")
    inn = lab.innovation(INO)
    assert inn.agreement is not None
    assert inn.agreement.complete
    parties = {"regional_head": inn.agreement.regional_head, "unit_head": inn.agreement.unit_head}
    with refused(lab, lf.InvalidCommand, match="binding"):
        lab.draw_up_agreement(INO, by="sekretariat", **parties)


# --- hostile input and half-applied commands (found in review) ------------------------------


def test_a_launch_list_scoped_to_some_kinds_still_needs_a_plan_for_all() -> None:
    """`launch` naming action_plan_approved only for agencies does not exempt a clinic."""
    policy = lf.parse_policy(
        'id = "scoped"\nextends = "lan-5d"\nself_paced = true\n'
        'launch = [{ name = "action_plan_approved", applies_to = ["agency"] }]\n'
        '[gates]\ndeliver = ["agreement_signed"]\n'
    )
    lab = make_lab(policy)
    register(lab, "k", "pkm-gombong")
    lab.advance("k", by="sekretariat")
    prepare(lab, "k", "design")
    lab.advance("k", by="sekretariat")
    prepare(lab, "k", "deliver")
    lab.advance("k", by="sekretariat")
    lab.submit_plan("k", steps=plan_steps(), by=STAFF["pkm-gombong"])  # withdraws approval
    with refused(lab, lf.GateRefused, match="action plan is not approved"):
        lab.record_launch("k", ceremony="Peluncuran", by="sekretariat")


def test_a_ceremony_that_cannot_be_recorded_launches_nothing() -> None:
    """If the ceremony's own event cannot be written, no innovation is left launched."""
    registry = lf.Registry(parent=lf.DEFAULT_REGISTRY)

    @registry.requirement("test.odd_code")
    def odd_code(ctx: lf.GateContext) -> list[lf.Unmet]:
        if ctx.innovation.id == "odd":
            return [lf.Unmet(object(), "odd", "aneh")]  # type: ignore[arg-type]
        return []

    policy = lf.parse_policy(
        'id = "odd"\nextends = "lan-5d"\nlaunch = ["test.odd_code"]\n', registry=registry
    )
    lab = make_lab(policy)
    cohort(lab)
    register(lab, "odd", "dinkes")
    bring_to(lab, "deliver", launch=False)
    with refused(lab, lf.InvalidCommand, match="cannot be recorded"):
        lab.launch_cohort(ceremony="Peluncuran", by="bupati")


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda lab: register(lab, "x", title="\ud800"), "not valid Unicode"),
        (
            lambda lab: lab.register(
                "x", title="T", unit=["dinkes"], innovators=["A"], problem="P", by="sekretariat"
            ),
            "must be text",
        ),
        (lambda lab: lab.set_roles(["staf-dinkes"], ["innovator"], by="sekretariat"), "text"),
        (
            lambda lab: lab.draw_up_agreement(
                INO, regional_head=["bupati"], unit_head="kadinkes", by="sekretariat"
            ),
            "must be text",
        ),
        (
            lambda lab: lab.add_actor(
                Actor("baru", "Baru", {Role.INNOVATOR}, ["dinkes"]), by="sekretariat"
            ),  # type: ignore[arg-type]
            "must be text",
        ),
        (
            lambda lab: lab.submit_plan(
                INO,
                steps=[lf.PlanStep("Langkah", "Kasi", datetime(2016, 6, 1, tzinfo=UTC))],  # type: ignore[arg-type]
                by="staf-dinkes",
            ),
            "due date",
        ),
        (
            lambda lab: lab.submit_plan(
                INO,
                steps=[lf.PlanStep("Langkah", "Kasi", "2016-06-01")],  # type: ignore[arg-type]
                by="staf-dinkes",
            ),
            "due date",
        ),
        (
            lambda lab: lab.submit_plan(INO, steps=plan_steps(), budget=10**5000, by="staf-dinkes"),
            "budget must be between 0 and",
        ),
        (
            # the first integer orjson cannot write, and one it writes but reads back as a float
            lambda lab: lab.submit_plan(INO, steps=plan_steps(), budget=2**64, by="staf-dinkes"),
            "budget must be between 0 and",
        ),
        (
            lambda lab: lab.submit_plan(INO, steps=plan_steps(), budget=2**63, by="staf-dinkes"),
            "budget must be between 0 and",
        ),
    ],
)
def test_hostile_input_is_refused_with_a_labflow_error(lab: lf.Lab, call: Any, match: str) -> None:
    with refused(lab, lf.InvalidCommand, match=match):
        call(lab)
