"""labflow.testing itself: its strategies give valid values, and its machine can fail.

A property test that cannot fail proves nothing, so the second half breaks
things on purpose -- a requirement that mutates what it checks, gates that are
ignored, a permission check that lets anyone act, a verifier that sees nothing --
and asserts that the state machine reports the broken invariant.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import attrs
import pytest
import structlog
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

import labflow
from labflow import GateContext, Registry, Unmet
from labflow.testing import (
    LAB_ID,
    SECRETARIAT,
    InvariantViolation,
    StepClock,
    actors,
    diagnoses,
    labs,
    make_state_machine,
    permitted,
    plans,
    roster,
    unit_lists,
    units,
)

#: A derandomized search must draw the same examples on every run (see conftest.py).
pytestmark = pytest.mark.usefixtures("steady_search")

FEW = settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
#: Enough to find a planted bug; one report, not a group of them, and no time spent shrinking.
#: Derandomized: a test that must find a planted bug finds it on every run (with a random seed
#: one run in six missed the redrawn agreement), and the seed never depends on `--hypothesis-seed`.
HUNT = settings(
    max_examples=100,
    stateful_step_count=40,
    report_multiple_bugs=False,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
)


@pytest.fixture(autouse=True)
def _quiet() -> Iterator[None]:
    with structlog.testing.capture_logs():
        yield


def _lab(policy: str = "lan-5d", members: list[labflow.Unit] | None = None) -> labflow.Lab:
    loaded = labflow.load_policy(policy)
    members = members or [labflow.Unit("dinkes", "Dinas Kesehatan", "agency")]
    return labflow.Lab.create(
        loaded,
        id=LAB_ID,
        region="Kabupaten Contoh",
        by=SECRETARIAT,
        units=members,
        actors=roster(loaded, members),
        clock=StepClock(),
    )


# --- the clock and the cast ---------------------------------------------------------------


def test_step_clock_is_aware_strictly_increasing_and_can_be_held() -> None:
    clock = StepClock(datetime(2016, 5, 1, tzinfo=UTC), timedelta(seconds=30))
    first, second = clock(), clock()
    assert first == datetime(2016, 5, 1, tzinfo=UTC)
    assert second - first == timedelta(seconds=30)
    with clock.held() as moment:
        assert clock() == clock() == moment > second
    assert clock() > moment


@pytest.mark.parametrize(
    ("start", "step"),
    [
        (datetime(2016, 5, 1), timedelta(minutes=1)),
        (datetime(2016, 5, 1, tzinfo=UTC), timedelta(0)),
        (datetime(2016, 5, 1, tzinfo=UTC), timedelta(minutes=-1)),
        ("2016-05-01T08:00:00+07:00", timedelta(minutes=1)),
        (datetime(2016, 5, 1, tzinfo=UTC), 60),
    ],
)
def test_step_clock_refuses_naive_starts_and_standing_still(start: object, step: object) -> None:
    """Misuse is refused with a labflow error (InvalidCommand), never a bare ValueError."""
    with pytest.raises(labflow.InvalidCommand, match="StepClock") as caught:
        StepClock(start, step)  # type: ignore[arg-type]
    assert isinstance(caught.value, labflow.LabflowError)


def test_a_nested_hold_keeps_the_outer_instant() -> None:
    clock = StepClock()
    with clock.held() as outer:
        with clock.held() as inner:
            assert inner == outer
        assert clock() == outer
    assert clock() > outer


@pytest.mark.parametrize(("low", "high"), [(0, 3), (3, 2)])
def test_unit_lists_refuses_impossible_sizes(low: int, high: int) -> None:
    with pytest.raises(labflow.InvalidCommand, match="at least one unit"):
        unit_lists(min_size=low, max_size=high)


@pytest.mark.parametrize("name", labflow.available_presets())
def test_roster_gives_every_unit_a_head_and_an_innovator(name: str) -> None:
    members = [
        labflow.Unit("dinkes", "Dinas Kesehatan", "agency"),
        labflow.Unit("komunitas", "Komunitas", "community"),
    ]
    lab = _lab(name, members)
    for unit in ("dinkes", "komunitas"):
        assert lab.actors[f"kepala-{unit}"].roles == {"unit_head"}
        assert lab.actors[f"kepala-{unit}"].unit == unit
        assert lab.actors[f"inovator-{unit}"].roles == {"innovator"}
    for actor, role in [("sekretariat", "secretariat"), ("bupati", "regional_head")]:
        assert role in lab.actors[actor].roles
    assert permitted(lab, "approve_plan", "kepala-dinkes", "dinkes") == (
        "unit_head" in lab.policy.allowed("approve_plan")
    )


def test_roster_casts_the_roles_a_policy_adds() -> None:
    policy = labflow.parse_policy(
        """
        id = "dengan-peran"
        extends = "lan-5d"
        [roles.tim_ahli]
        label_id = "Tim Ahli"
        label_en = "Expert panel"
        scope = "unit"
        """
    )
    cast = {a.id: a for a in roster(policy, [labflow.Unit("dinkes", "Dinkes", "agency")])}
    assert cast["peran-tim_ahli-dinkes"].roles == {"tim_ahli"}
    assert cast["peran-tim_ahli-dinkes"].unit == "dinkes"


def test_permitted_follows_roles_and_unit_scope() -> None:
    lab = _lab(
        members=[labflow.Unit("dinkes", "Dinkes", "agency"), labflow.Unit("dlh", "DLH", "agency")]
    )
    assert permitted(lab, "approve_plan", "kepala-dinkes", "dinkes")
    assert not permitted(lab, "approve_plan", "kepala-dinkes", "dlh")  # another unit
    assert not permitted(lab, "approve_plan", "sekretariat", "dinkes")  # no such role
    assert not permitted(lab, "advance", "orang-asing", None)
    assert not permitted(lab, "advance", None, None)


# --- the strategies -----------------------------------------------------------------------


@FEW
@given(unit_lists(max_size=4), st.data())
def test_drawn_units_and_actors_are_accepted_by_a_lab(
    members: list[labflow.Unit], data: st.DataObject
) -> None:
    assert members[0].kind.government
    assert len({u.id for u in members}) == len(members)
    lab = _lab(members=members)
    extra = data.draw(units().filter(lambda u: u.id not in lab.units))
    lab.add_unit(extra, by=SECRETARIAT)
    actor = data.draw(actors(members).filter(lambda a: a.id not in lab.actors))
    lab.add_actor(actor, by=SECRETARIAT)
    assert lab.actors[actor.id] == actor


@FEW
@given(diagnoses(), plans())
def test_drawn_artefacts_are_accepted_by_the_commands(
    diagnosis: labflow.Diagnosis, steps: list[labflow.PlanStep]
) -> None:
    lab = _lab()
    lab.register(
        "inovasi-1",
        title="Inovasi",
        unit="dinkes",
        innovators=["Tim"],
        problem="Antrian",
        by="inovator-dinkes",
    )
    lab.record_diagnosis("inovasi-1", diagnosis, by="inovator-dinkes")
    lab.submit_plan("inovasi-1", steps=steps, by="inovator-dinkes")
    inn = lab.innovation("inovasi-1")
    assert inn.diagnosis == diagnosis
    assert inn.action_plan is not None
    assert inn.action_plan.steps == tuple(steps)


@FEW
@given(labs())
def test_labs_are_valid_mid_life_and_replay_exactly(lab: labflow.Lab) -> None:
    assert all(v.ok for v in lab.verify())
    assert lab.policy.id in labflow.available_presets()
    replayed = labflow.replay_lab(lab.history, [i.history for i in lab.innovations.values()])
    assert replayed == lab


def test_labs_reach_the_later_stages() -> None:
    """The driver is what makes the properties meaningful: innovations get to display.

    (tests/test_variants.py measures the shares per preset.)
    """
    reached: set[str] = set()

    # Derandomized: a claim about what the driver reaches must hold on every run, not on most.
    @settings(max_examples=40, database=None, derandomize=True, phases=[Phase.generate])
    @given(labs("lan-5d"))
    def collect(lab: labflow.Lab) -> None:
        reached.update(i.stage for i in lab.innovations.values())

    collect()
    assert {"deliver", "display"} <= reached


def test_labs_refuses_a_negative_length() -> None:
    with pytest.raises(labflow.InvalidCommand, match="max_commands"):
        labs(max_commands=-1)


def test_labs_are_deterministic_for_a_given_draw() -> None:
    """The same draw gives the same lab, hashes and times included (the clock is fixed)."""
    seen: list[labflow.Lab] = []

    @settings(max_examples=1, database=None, derandomize=True)
    @given(labs("lan-5d"))
    def collect(lab: labflow.Lab) -> None:
        seen.append(lab)

    collect()
    collect()
    assert [e.hash for e in seen[0].history] == [e.hash for e in seen[-1].history]
    assert seen[0] == seen[-1]


# --- the machine can fail -----------------------------------------------------------------

BROKEN = """
id = "rusak"
extends = "lan-5d"
[gates]
diagnose = ["idea_registered", "rusak.touches"]
"""


def test_a_requirement_cannot_mutate_the_innovation_it_checks() -> None:
    """Records are frozen: a gate requirement that edits what it checks fails, changing nothing."""
    registry = Registry(parent=labflow.DEFAULT_REGISTRY)

    @registry.requirement("rusak.touches")
    def touches(ctx: GateContext) -> list[Unmet]:
        ctx.innovation.title += "!"  # type: ignore[misc]
        return []

    policy = labflow.parse_policy(BROKEN, registry=registry)
    lab = labflow.Lab.create(
        policy,
        id="lab-rusak",
        region="Kabupaten Contoh",
        by="sekretariat",
        units=[labflow.Unit("dinkes", "Dinas Kesehatan", "agency")],
        actors=[labflow.Actor("sekretariat", "Sekretariat", {"secretariat"})],
    )
    lab.register(
        "ino", title="Antrean", unit="dinkes", innovators=["Tim"], problem="Antre", by="sekretariat"
    )
    lab.advance_lab(by="sekretariat")
    before = lab.innovation("ino")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        lab.advance("ino", by="sekretariat")
    assert lab.innovation("ino") == before
    assert lab.innovation("ino").title == "Antrean"


def test_a_gate_that_forgets_the_signatures_is_caught() -> None:
    """A lax agreement requirement lets innovations pass unsigned; the kit still sees it (3)."""
    strict = labflow.load_policy("lan-5d")
    gates = {
        stage: tuple(
            attrs.evolve(spec, func=lambda ctx: []) if spec.name == "agreement_signed" else spec
            for spec in specs
        )
        for stage, specs in strict.gates.items()
    }
    lax = attrs.evolve(strict, gates=gates)
    with pytest.raises(InvariantViolation) as caught:
        run_state_machine_as_test(make_state_machine(lax), settings=HUNT)
    assert caught.value.invariant == 3
    assert "performance agreement" in str(caught.value)


def test_a_permission_check_that_lets_anyone_act_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def anyone(self: labflow.Lab, command: str, by: object, unit: str | None) -> labflow.Actor:
        actor = self.actors.get(by) if isinstance(by, str) else None
        if actor is None:
            raise labflow.NotFound("actor", str(by))
        return actor

    monkeypatch.setattr(labflow.Lab, "_authorize", anyone)
    with pytest.raises(InvariantViolation) as caught:
        run_state_machine_as_test(make_state_machine("lan-5d"), settings=HUNT)
    assert caught.value.invariant == 7


def test_a_verifier_that_sees_nothing_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    import labflow.testing._machine

    monkeypatch.setattr(
        labflow.testing._machine,
        "verify",
        lambda history, head=None: labflow.Verification("x", len(history), True),
    )
    with pytest.raises(InvariantViolation) as caught:
        run_state_machine_as_test(make_state_machine("lan-5d"), settings=HUNT)
    assert caught.value.invariant == 4


def test_redrawing_a_binding_agreement_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Were a signed agreement redrawn past its gate (its signatures cleared), invariant 3 sees it.

    `Lab.draw_up_agreement` refuses that; with the refusal planted away, the machine's
    check that an innovation past the agreement gate holds a complete agreement fails.
    """
    monkeypatch.setattr(labflow.Lab, "_past_agreement", lambda self, inn: False)
    # Reaching the agreement gate and then drawing a detour takes a long run: with random
    # seeds the hunt found it in about one run of three; a fixed seed finds it every time.
    deep = settings(HUNT, derandomize=True, max_examples=200, stateful_step_count=60)
    with pytest.raises(InvariantViolation) as caught:
        run_state_machine_as_test(make_state_machine("lan-5d"), settings=deep)
    assert caught.value.invariant == 3
    assert "past its agreement gate" in str(caught.value)


def test_agreement_passed_follows_the_gate_and_its_unit_kinds() -> None:
    """The kit's own reading of "past the agreement gate", for a government and a private unit."""
    from labflow.testing._invariants import agreement_passed

    members = [labflow.Unit("dinkes", "Dinkes", "agency"), labflow.Unit("pt", "PT", "private")]
    lab = _lab("kudus-2017", members)
    for unit in ("dinkes", "pt"):
        lab.register(
            f"inovasi-{unit}",
            title="Inovasi",
            unit=unit,
            innovators=["Tim"],
            problem="Antrian",
            by=f"inovator-{unit}",
        )
    gov, private = lab.innovation("inovasi-dinkes"), lab.innovation("inovasi-pt")
    assert not agreement_passed(lab, gov)
    deliver = attrs.evolve(gov, stage="deliver")
    assert agreement_passed(lab, deliver)
    assert not agreement_passed(lab, attrs.evolve(private, stage="display"))
