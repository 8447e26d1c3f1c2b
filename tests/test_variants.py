"""Properties of the regional variants, over random lab histories.

The generic invariants run for every preset in test_stateful.py; these are the
promises particular to a variant. `labflow.testing.labs` rarely carries a lab far
(most random commands are refused), so the properties about later stages run on
`progressing_labs`: random sequences of *plausible* steps -- each artefact recorded
or skipped at random, signatures given or not, the lab pushed forward often --
so that histories reach launch and display, with gaps the gates must catch.
"""

from __future__ import annotations

import warnings
from contextlib import suppress
from datetime import date, datetime

from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisWarning

import labflow as lf
from labflow import Unit
from labflow.lab import replay_innovation
from labflow.requirements import GateContext, idea_registered
from labflow.testing import (
    FACILITATOR,
    REGIONAL_HEAD,
    SECRETARIAT,
    StepClock,
    head_of,
    innovator_of,
    labs,
    roster,
)

EXAMPLES = settings(max_examples=25)

#: Government units beside the non-government exhibitors Kudus had at its exhibition.
KUDUS_UNITS = (
    Unit("dinkes", "Dinas Kesehatan", "agency"),
    Unit("rsud", "RSUD Loekmono Hadi", "hospital"),
    Unit("pmi", "PMI Kudus", "community"),
    Unit("djarum", "PT Djarum", "private"),
    Unit("umk", "Universitas Muria Kudus", "academia"),
    Unit("bpn", "Kantor Pertanahan", "vertical"),
)
KEBUMEN_UNITS = (
    Unit("bag-tapem", "Bagian Tata Pemerintahan", "agency"),
    Unit("pkm-buayan", "UPT Puskesmas Buayan", "clinic"),
)


STEPS = (
    "register",
    "diagnose",
    "permit",
    "plan",
    "approve",
    "draw_up",
    "sign_regional_head",
    "sign_unit_head",
    "launch",
    "evidence",
    "exhibit",
    "advance",
    "advance",
    "advance_lab",
    "advance_lab",
    "withdraw",
    "reinstate",
    "return",
)


def _step(lab: lf.Lab, step: str, inn: lf.Innovation | None, unit: str, n: int) -> None:
    """Attempt one plausible step; a refusal is part of the game."""
    if step == "register":
        lab.register(
            f"inovasi-{n}",
            title=f"Inovasi {n}",
            unit=unit,
            innovators=["Tim"],
            problem="Layanan lambat",
            by=innovator_of(unit),
        )
        return
    if step == "advance_lab":
        lab.advance_lab(by=SECRETARIAT)
        return
    if inn is None:
        return
    i, u = inn.id, inn.unit
    if step == "diagnose":
        lab.record_diagnosis(i, lf.Diagnosis("Antre", ["SOP"]), by=innovator_of(u))
    elif step == "permit":
        lab.grant_permission(i, reference="800/1", by=head_of(u))
    elif step == "plan":
        plan = [lf.PlanStep("Uji coba", "Kasi", date(2016, 7, 1))]
        lab.submit_plan(i, steps=plan, budget=1_000_000, by=innovator_of(u))
    elif step == "approve":
        lab.approve_plan(i, by=head_of(u))
    elif step == "draw_up":
        lab.draw_up_agreement(i, regional_head=REGIONAL_HEAD, unit_head=head_of(u), by=SECRETARIAT)
    elif step == "sign_regional_head":
        lab.sign_agreement(i, by=REGIONAL_HEAD)
    elif step == "sign_unit_head":
        lab.sign_agreement(i, by=head_of(u))
    elif step == "launch":
        lab.record_launch(i, ceremony="Peluncuran", by=SECRETARIAT)
    elif step == "evidence":
        lab.attach_evidence(i, title="Laporan", reference="doc", by=innovator_of(u))
    elif step == "exhibit":
        lab.register_exhibit(i, event="Pameran", by=SECRETARIAT)
    elif step == "advance":
        lab.advance(i, by=FACILITATOR)
    elif step == "withdraw":
        lab.withdraw(i, reason="Ditunda", by=SECRETARIAT)
    elif step == "reinstate":
        lab.reinstate(i, reason="Dilanjutkan", by=SECRETARIAT)
    elif step == "return":
        lab.return_to(i, lab.policy.stages[0].id, reason="Perbaikan", by=FACILITATOR)


#: Which step answers an unmet code (by its prefix).
FIXES = {
    "lab.behind": "advance_lab",
    "diagnosis.": "diagnose",
    "permission.": "permit",
    "action_plan.not_approved": "approve",
    "action_plan.": "plan",
    "agreement.missing": "draw_up",
    "agreement.unsigned.regional_head": "sign_regional_head",
    "agreement.unsigned.unit_head": "sign_unit_head",
    "launch.": "launch",
    "evidence.": "evidence",
    "exhibit.": "exhibit",
}


def _helpful(lab: lf.Lab, inn: lf.Innovation | None) -> list[str]:
    """The steps that would answer what stands between the innovation (or the lab) and progress."""
    if inn is None or not inn.active:
        return ["register", "reinstate"]
    verdict = lab.check(inn.id)
    if verdict.ok:
        return ["advance"]
    steps = [
        step for code in verdict.codes for prefix, step in FIXES.items() if code.startswith(prefix)
    ]
    if "stage.final" in verdict.codes or "lab.behind" in verdict.codes:
        if not lab.check_lab().ok:
            steps.append("register")
        if "deliver" in lab.policy.stage(inn.stage).covers and inn.launch is None:
            steps.append("launch")
    return steps or ["register"]


def progressing_labs(
    policy: str, units: tuple[Unit, ...], *, max_steps: int = 120
) -> st.SearchStrategy[lf.Lab]:
    """A lab on ``policy`` after a random sequence of plausible steps (see the module doc)."""

    @st.composite
    def build(draw: st.DrawFn) -> lf.Lab:
        loaded = lf.load_policy(policy)
        lab = lf.Lab.create(
            loaded,
            id="lab-varian",
            region="Kabupaten Contoh",
            by=SECRETARIAT,
            units=units,
            actors=roster(loaded, units),
            clock=StepClock(),
        )
        for n in range(draw(st.integers(10, max_steps))):
            unit = draw(st.sampled_from(units)).id
            ids = sorted(lab.innovations)
            inn = lab.innovations[draw(st.sampled_from(ids))] if ids else None
            guided = draw(st.integers(0, 9)) < 8
            step = draw(st.sampled_from(_helpful(lab, inn) if guided else STEPS))
            with suppress(lf.CommandError):
                _step(lab, step, inn, unit, n)
        return lab

    return build()


def stages_recorded(lab: lf.Lab) -> set[str]:
    """Every stage an event of the lab or of an innovation names."""
    seen = set()
    for history in (lab.history, *(i.history for i in lab.innovations.values())):
        for event in history:
            for key in ("stage", "from", "to"):
                value = event.payload.get(key)
                if isinstance(value, str):
                    seen.add(value)
    return seen


@EXAMPLES
@given(progressing_labs("kebumen-2016", KEBUMEN_UNITS))
def test_kebumen_nothing_passes_deliver_without_both_signatures(lab: lf.Lab) -> None:
    """In Kebumen every innovation past deliver has an agreement both parties signed."""
    deliver = lab.policy.index("deliver")
    for inn in lab.innovations.values():
        if lab.policy.index(inn.stage) > deliver:
            assert inn.agreement is not None
            assert inn.agreement.signed_by(inn.agreement.regional_head)
            assert inn.agreement.signed_by(inn.agreement.unit_head)


@EXAMPLES
@given(labs("kebumen-2016", units=KEBUMEN_UNITS, max_commands=40))
def test_kebumen_has_no_state_between_drum_up_and_diagnose(lab: lf.Lab) -> None:
    """Drum-up and diagnose are one stage: nothing ever stands in one without the other."""
    first = lab.policy.stages[0]
    assert first.covers == ("drum_up", "diagnose")
    assert lab.policy.stage_covering("drum_up") is lab.policy.stage_covering("diagnose")
    assert stages_recorded(lab) <= set(lab.policy.stage_ids)
    for inn in lab.innovations.values():
        assert inn.history[0].payload["stage"] == first.id


def agencies_without_entered_innovation(lab: lf.Lab, moment: datetime) -> list[str]:
    """The government units that, at ``moment``, had no active innovation meeting
    ``idea_registered`` -- rebuilt from the histories as they stood then."""
    stage = lab.policy.stage("design")
    present = {
        unit["id"]
        for event in lab.history
        if event.at <= moment
        for unit in (event.payload.get("units") or [event.payload.get("unit") or {}])
        if unit
    }
    short = []
    for unit in lab.units.values():
        if not unit.kind.government or unit.id not in present:
            continue
        entered = False
        for inn in lab.innovations.values():
            past = [e for e in inn.history if e.at <= moment]
            if inn.unit != unit.id or not past:
                continue
            then = replay_innovation(past)
            if then.active and not idea_registered(GateContext(then, lab, stage, moment)):
                entered = True
        if not entered:
            short.append(unit.id)
    return short


@EXAMPLES
@given(progressing_labs("kudus-2019", KUDUS_UNITS[:3]))
def test_kudus_2019_never_leaves_diagnose_while_an_agency_has_entered_nothing(
    lab: lf.Lab,
) -> None:
    """When the lab left diagnose, every government unit had an entered, active innovation."""
    for event in lab.history:
        if event.kind == "lab.advanced" and event.payload["from"] == "diagnose":
            assert agencies_without_entered_innovation(lab, event.at) == []


@EXAMPLES
@given(
    st.sampled_from(["kudus-2017", "kudus-2019"]).flatmap(
        lambda name: progressing_labs(name, KUDUS_UNITS)
    )
)
def test_kudus_exhibitors_never_owe_an_agreement(lab: lf.Lab) -> None:
    """No check of a non-government entry, into any stage, asks for a signed agreement."""
    for inn in lab.innovations.values():
        if lab.units[inn.unit].kind.government:
            continue
        for stage in lab.policy.stage_ids:
            codes = lab.check(inn.id, to=stage).codes
            assert not [c for c in codes if c.startswith("agreement.")]


@settings(max_examples=10)
@given(st.sampled_from(lf.available_presets()).flatmap(lambda name: labs(name, max_commands=40)))
def test_every_preset_replays_to_the_same_state(lab: lf.Lab) -> None:
    """For every preset, replaying the generated histories gives the same lab, verified."""
    again = lf.replay_lab(lab.history, [i.history for i in lab.innovations.values()])
    assert again == lab
    assert all(v.ok for v in again.verify())


def test_the_generated_histories_reach_the_stages_the_properties_are_about() -> None:
    """The properties above are not vacuous: the strategy does carry labs that far."""
    # find() reports what it found; a lab's repr is large, which Hypothesis warns about.
    warnings.simplefilter("ignore", HypothesisWarning)
    quick = settings(max_examples=200, database=None, phases=[Phase.generate])
    past_deliver = find(
        progressing_labs("kebumen-2016", KEBUMEN_UNITS),
        lambda lab: any(lab.policy.index(i.stage) > 2 for i in lab.innovations.values()),
        settings=quick,
    )
    assert any(i.stage == "display" for i in past_deliver.innovations.values())
    left = find(
        progressing_labs("kudus-2019", KUDUS_UNITS[:3]),
        lambda lab: lab.policy.index(lab.stage) > lab.policy.index("diagnose"),
        settings=quick,
    )
    assert left.stage != "diagnose"
