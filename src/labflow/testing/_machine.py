"""`make_state_machine`: any policy as a Hypothesis rule-based state machine."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from labflow.errors import GateRefused, InvalidCommand, NotFound, PermissionDenied
from labflow.events import verify
from labflow.lab import Lab
from labflow.model import Unit
from labflow.policy import Policy, load_policy
from labflow.requirements import Registry, Verdict
from labflow.testing._cast import LAB_ID, REGION, SECRETARIAT, permitted, roster
from labflow.testing._clock import START, StepClock
from labflow.testing._driver import guided_move
from labflow.testing._invariants import (
    TAMPERINGS,
    Checks,
    Snapshot,
    difference,
    require,
    tamper,
)
from labflow.testing._moves import Move, actor_for, call, innovation_for, random_move, unit_of
from labflow.testing._values import unit_lists


def make_state_machine(
    policy: Policy | str,
    *,
    registry: Registry | None = None,
    units: Sequence[Unit] | None = None,
    start: datetime = START,
) -> type[RuleBasedStateMachine]:
    """A Hypothesis state machine that puts ``policy`` through random command sequences.

    ``policy`` is a `Policy`, a preset name or a path (loaded with
    ``registry``, which also serves replay; default: the policy's own). Each
    run opens a lab with ``units`` (default: 1-3 drawn units) and the `roster`
    cast, then applies random commands by random actors -- actors lacking the
    role, wrong parties, withdrawn innovations, malformed input -- mixed with
    moves that make progress, and checks after every command that:

    1. a refused command changes nothing (state, histories, versions);
    2. an accepted one appends exactly one event (a ceremony: one per launched
       innovation and one for the lab), moving one stage at a time in order;
    3. no gate is passed with unmet requirements: none launched without an
       action plan approved by someone else, none past an ``agreement_signed``
       gate (for the unit kinds it ``applies_to``) without both signatures;
    4. the histories replay to the same state, every chain verifies, and a
       random edit, deletion, insertion or reordering is detected;
    6. ``check`` changes nothing and ``advance`` succeeds exactly when it is ok
       (likewise ``check_launch``/``record_launch``, ``check_lab``/``advance_lab``);
    7. only role holders act, and only the named parties' signatures count.

    A broken invariant raises `InvariantViolation`. Run the class as a test
    with ``TestCase = Machine.TestCase`` (set ``Machine.TestCase.settings``)
    or with `hypothesis.stateful.run_state_machine_as_test`.
    """
    given: object = units  # a host's value, typed or not
    if given is not None and (
        isinstance(given, str)
        or not isinstance(given, Sequence)
        or not all(isinstance(u, Unit) for u in given)
    ):
        raise InvalidCommand("make_state_machine() takes units as a list of labflow.Unit.")
    loaded = policy if isinstance(policy, Policy) else load_policy(policy, registry=registry)
    replay_registry = registry or loaded.registry
    members = st.just(list(units)) if units is not None else unit_lists(max_size=3, policy=loaded)

    class PolicyStateMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self._checks: Checks | None = None

        @property
        def checks(self) -> Checks:
            assert self._checks is not None, "the lab is opened by the first step"
            return self._checks

        @initialize(members=members)
        def open_lab(self, members: list[Unit]) -> None:
            clock = StepClock(start)
            lab = Lab.create(
                loaded,
                id=LAB_ID,
                region=REGION,
                by=SECRETARIAT,
                units=members,
                actors=roster(loaded, members),
                clock=clock,
            )
            note(f"units: {[(u.id, u.kind.value) for u in members]}")
            self._checks = Checks(lab, replay_registry, clock)
            self.checks.state()

        @rule(data=st.data())
        def any_command(self, data: st.DataObject) -> None:
            """Anything, by anyone, with any input: mostly refused."""
            self.checks.attempt(random_move(self.checks.lab, data.draw))

        @rule(data=st.data())
        def progress(self, data: st.DataObject) -> None:
            """A few commands that move the cohort forward, so runs reach the later stages."""
            for _ in range(data.draw(st.integers(1, 4))):
                self.checks.attempt(guided_move(self.checks.lab, data.draw))

        @rule(data=st.data())
        def check_then_advance(self, data: st.DataObject) -> None:
            """Invariant 6 for an innovation: check changes nothing and decides advance."""
            lab = self.checks.lab
            inn = innovation_for(lab, data.draw)
            unit = unit_of(lab, inn)
            by = actor_for(lab, data.draw, "advance", unit)
            self._decides(
                lambda: lab.check(inn),  # type: ignore[arg-type]
                call(lab, "advance", "advance", by, unit, inn),
            )

        @rule(data=st.data())
        def check_then_launch(self, data: st.DataObject) -> None:
            """Invariant 6 for a launch: check_launch changes nothing and decides record_launch."""
            lab = self.checks.lab
            inn = innovation_for(lab, data.draw)
            unit = unit_of(lab, inn)
            by = actor_for(lab, data.draw, "record_launch", unit)
            self._decides(
                lambda: lab.check_launch(inn),  # type: ignore[arg-type]
                call(lab, "record_launch", "record_launch", by, unit, inn, ceremony="Peluncuran"),
            )

        @rule(data=st.data())
        def check_then_advance_lab(self, data: st.DataObject) -> None:
            """Invariant 6 for the lab: check_lab changes nothing and decides advance_lab."""
            lab = self.checks.lab
            by = actor_for(lab, data.draw, "advance_lab", None)
            self._decides(lab.check_lab, call(lab, "advance_lab", "advance_lab", by, None))

        def _decides(self, check: Callable[[], Verdict], move: Move) -> None:
            checks = self.checks
            allowed = permitted(checks.lab, move.command, move.by, move.unit)
            with checks.clock.held():
                before = Snapshot.of(checks.lab)
                try:
                    verdict: Verdict | None = check()
                except NotFound:
                    verdict = None
                after = Snapshot.of(checks.lab)
                require(after == before, 6, f"checking changed {difference(before, after)}")
                outcome = checks.attempt(move)
            if verdict is None:
                require(not outcome.accepted, 6, f"{move.label} accepted an unknown subject")
                return
            note(f"  verdict: {list(verdict.codes)}")
            if outcome.accepted:
                require(
                    verdict.ok, 6, f"{move.label} was accepted although check found {verdict.codes}"
                )
            elif isinstance(outcome.error, GateRefused):
                require(
                    outcome.error.verdict == verdict,
                    6,
                    f"{move.label} was refused with {outcome.error.verdict.codes}, "
                    f"but check found {verdict.codes}",
                )
            elif allowed and not isinstance(outcome.error, PermissionDenied):
                require(
                    not verdict.ok,
                    6,
                    f"check found nothing unmet, yet {move.label} was refused: {outcome.error}",
                )

        @rule(data=st.data(), how=st.sampled_from(TAMPERINGS))
        def tamper(self, data: st.DataObject, how: str) -> None:
            """Invariant 4: any tampering with a history (a copy of it) is detected."""
            lab = self.checks.lab
            histories = [
                lab.history,
                *(lab.innovations[k].history for k in sorted(lab.innovations)),
            ]
            history = list(data.draw(st.sampled_from(histories)))
            head = history[-1].hash
            what = tamper(history, how, data.draw)
            note(f"tampering: {what}")
            require(not verify(history, head=head).ok, 4, f"verify missed a tampering: {what}")

        def teardown(self) -> None:
            if self._checks is not None:
                self.checks.unchanged_policy()

    name = "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", loaded.id)) or "Policy"
    PolicyStateMachine.__name__ = PolicyStateMachine.__qualname__ = f"{name}StateMachine"
    return PolicyStateMachine
