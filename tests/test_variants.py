"""Properties of the regional variants, over random lab histories.

The generic invariants run for every preset in test_stateful.py; these are the
promises particular to a variant. They run on `labflow.testing.labs`, the same
strategy a host gets: mostly moves that answer what blocks progress, the rest
anything by anyone, so that histories reach launch and display with the gaps
the gates must catch. The last tests measure that they do, per preset.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import labflow as lf
from labflow import Unit
from labflow._gate_rules import idea_registered
from labflow.lab import replay_innovation
from labflow.requirements import GateContext
from labflow.testing import labs

#: A derandomized search must draw the same examples on every run (see conftest.py).
pytestmark = pytest.mark.usefixtures("steady_search")

#: Where the suite runs in CI (the same switch as the "ci" profile in conftest.py).
IN_CI = bool(os.environ.get("CI")) or os.environ.get("HYPOTHESIS_PROFILE") == "ci"
#: A failing lab of 120 commands is slow to shrink: in CI it is reported as found, one bug.
EXAMPLES = settings(
    max_examples=25,
    report_multiple_bugs=False,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, *([] if IN_CI else [Phase.shrink])],
)
#: Enough commands for a cohort of two to six units to reach display.
LONG = 120

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
@given(labs("kebumen-2016", units=KEBUMEN_UNITS, max_commands=LONG))
def test_kebumen_nothing_passes_deliver_without_both_signatures(lab: lf.Lab) -> None:
    """In Kebumen every innovation past deliver has an agreement both parties signed: the
    agreement itself, or, while an amendment awaits its signatures, the version it amends."""
    deliver = lab.policy.index("deliver")
    for inn in lab.innovations.values():
        if lab.policy.index(inn.stage) > deliver:
            agreement = inn.agreement
            assert agreement is not None
            parties = {agreement.regional_head, agreement.unit_head}
            in_force = agreement.signatures
            if not agreement.complete:
                assert agreement.earlier, "unsigned past deliver, and no signed version amended"
                in_force = agreement.earlier[-1].signatures
            assert {s.signer for s in in_force} >= parties


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
@given(labs("kudus-2019", units=KUDUS_UNITS[:3], max_commands=LONG))
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
        lambda name: labs(name, units=KUDUS_UNITS, max_commands=LONG)
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


@settings(EXAMPLES, max_examples=10)
@given(st.sampled_from(lf.available_presets()).flatmap(lambda name: labs(name, max_commands=40)))
def test_every_preset_replays_to_the_same_state(lab: lf.Lab) -> None:
    """For every preset, replaying the generated histories gives the same lab, verified."""
    again = lf.replay_lab(lab.history, [i.history for i in lab.innovations.values()])
    assert again == lab
    assert all(v.ok for v in again.verify())


#: How many labs each non-vacuity measurement draws: a fixed sequence (``derandomize``), so the
#: measurement is repeatable -- from one random run to the next the shares vary widely,
#: since Hypothesis draws clusters of similar labs (docs/testing.md gives the ranges).
MEASURE = settings(max_examples=40, database=None, phases=[Phase.generate], derandomize=True)


def measured(strategy: st.SearchStrategy[lf.Lab], *facts: Callable[[lf.Lab], bool]) -> list[float]:
    """The share of labs drawn from ``strategy`` of which each of ``facts`` holds."""
    counts = [0] * len(facts)
    drawn = 0

    @MEASURE
    @given(strategy)
    def collect(lab: lf.Lab) -> None:
        nonlocal drawn
        drawn += 1
        for n, fact in enumerate(facts):
            counts[n] += fact(lab)

    collect()
    return [count / drawn for count in counts]


def reached(stage: str) -> Callable[[lf.Lab], bool]:
    """Whether some innovation of the lab stands at or past ``stage``."""

    def fact(lab: lf.Lab) -> bool:
        index = lab.policy.index(lab.policy.stage_covering(stage).id)
        return any(lab.policy.index(i.stage) >= index for i in lab.innovations.values())

    return fact


@pytest.mark.parametrize("name", lf.available_presets())
def test_labs_reach_deliver_and_display_on_every_preset(name: str) -> None:
    """Not vacuous: `labs()` as a host calls it carries labs to deliver and display regularly.

    Measured on the fixed sequence (40 labs, default arguments): deliver 0.25-0.6 and
    display 0.2-0.55 across the presets, documentation (lan-5d1) 0.3. Run with ``-s``
    to see the shares.
    """
    stages = ["deliver", "display"]
    if any("documentation" in s.covers for s in lf.load_policy(name).stages):
        stages.append("documentation")
    shares = measured(labs(name), *(reached(s) for s in stages))
    print(name, dict(zip(stages, shares, strict=True)))
    assert shares[0] >= 0.15, f"{name}: only {shares[0]:.0%} of labs reach deliver"
    assert all(share > 0 for share in shares), f"{name}: {shares} of {stages}"


def test_the_variant_properties_see_the_stages_they_are_about() -> None:
    """Each property above has witnesses: labs past deliver, labs that left diagnose,
    non-government entries beyond the first stage."""
    kebumen = measured(
        labs("kebumen-2016", units=KEBUMEN_UNITS, max_commands=LONG), reached("display")
    )
    kudus_2019 = measured(
        labs("kudus-2019", units=KUDUS_UNITS[:3], max_commands=LONG),
        lambda lab: lab.policy.index(lab.stage) > lab.policy.index("diagnose"),
    )
    kudus = measured(
        labs("kudus-2017", units=KUDUS_UNITS, max_commands=LONG),
        lambda lab: any(
            not lab.units[i.unit].kind.government and lab.policy.index(i.stage) > 0
            for i in lab.innovations.values()
        ),
    )
    print(
        "kebumen past deliver",
        kebumen,
        "kudus-2019 left diagnose",
        kudus_2019,
        "kudus exhibitors moved",
        kudus,
    )
    assert kebumen[0] >= 0.15
    assert kudus_2019[0] >= 0.3
    assert kudus[0] >= 0.15
