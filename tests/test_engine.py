"""The policy's transitions machines are the move graph: the tables, the lab's moves, the hooks.

The hot path reads tables compiled from the innovation machine; these tests prove they give
the machine's own answers for every bundled preset and every example policy, in every
state. The lab's own advance is decided by the lab machine's trigger, and subscriptions are
called by the machines' state callbacks, once per applied move and never for a refusal.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from transitions import MachineError

import labflow as lf
from helpers import START, FixedClock, bring_to, cohort, make_lab, prepare
from labflow._engine import (
    ADVANCE,
    HOLD_CEREMONY,
    REINSTATE,
    WITHDRAW,
    WITHDRAWN,
    Engine,
    _Token,
    engine_for,
    requirements_of,
    return_trigger,
)
from labflow.store import Store
from labflow.store.memory import MemoryStore
from labflow.store.sqlite import SQLiteStore

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _example_policy(path: Path) -> lf.Policy:
    """An example region's policy, loaded with the registry of its ``<region>_rules.py``."""
    registry = lf.DEFAULT_REGISTRY
    for rules in sorted(path.parent.glob("*_rules.py")):
        spec = importlib.util.spec_from_file_location(f"_engine_{rules.stem}", rules)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        registry = getattr(module, "REGISTRY", registry)
    return lf.load_policy(path, registry=registry)


POLICIES: dict[str, lf.Policy] = {
    **{name: lf.load_policy(name) for name in lf.available_presets()},
    **{
        f"examples/{p.parent.name}": _example_policy(p)
        for p in sorted(EXAMPLES.glob("*/policy.toml"))
    },
}


def _never(spec: lf.RequirementSpec, stage: str) -> bool:
    return False


def _fire(engine: Engine, trigger: str, state: str, **token: Any) -> str | None:
    """Fire ``trigger`` through the innovation machine's own trigger: the state it ends in."""
    model = _Token(state, **token)
    if not engine.machine.events[trigger].trigger(model):
        return None
    return model.state


class TestTablesAreTheMachines:
    """`Engine.next`, `returns` and `triggers` give the innovation machine's own answers."""

    @pytest.mark.parametrize("name", POLICIES)
    def test_every_state_has_the_machines_triggers_and_destinations(self, name: str) -> None:
        """In every state, each trigger the machine has leads where the tables say."""
        policy = POLICIES[name]
        engine = engine_for(policy)
        machine = engine.machine
        assert set(machine.states) == {*policy.stage_ids, WITHDRAWN}
        assert set(engine.triggers) == set(machine.states)
        for state in machine.states:
            assert engine.triggers[state] == frozenset(machine.get_triggers(state)), state
        for i, stage in enumerate(policy.stage_ids):
            following = policy.stage_ids[i + 1] if i + 1 < len(policy.stage_ids) else None
            assert engine.next[stage] == following
            assert (ADVANCE in machine.get_triggers(stage)) == (following is not None)
            if following is not None:
                assert _fire(engine, ADVANCE, stage) == following
            assert engine.returns[stage] == frozenset(policy.stage_ids[:i])
            for earlier in engine.returns[stage]:
                assert _fire(engine, return_trigger(earlier), stage) == earlier
            for other in policy.stage_ids[i:]:
                assert return_trigger(other) not in machine.get_triggers(stage)
            assert _fire(engine, WITHDRAW, stage) == WITHDRAWN
            assert _fire(engine, REINSTATE, WITHDRAWN, was_at=stage) == stage
        assert engine.triggers[WITHDRAWN] == {REINSTATE}

    @pytest.mark.parametrize("name", POLICIES)
    def test_advance_conditions_are_the_target_gates_requirements(self, name: str) -> None:
        """Each advance carries one condition per requirement of the gate it crosses, by name."""
        policy = POLICIES[name]
        engine = engine_for(policy)
        for source, target in zip(policy.stage_ids, policy.stage_ids[1:], strict=False):
            (transition,) = engine.machine.events[ADVANCE].transitions[source]
            gate = tuple(policy.gates.get(target, ()))
            assert requirements_of(transition.conditions) == gate
            assert [c.func.__name__ for c in transition.conditions] == [s.name for s in gate]
            refused = _fire(engine, ADVANCE, source, met=_never)
            assert refused == (None if gate else target)
            (lab_move,) = engine.lab_machine.events[ADVANCE].transitions[source]
            assert requirements_of(lab_move.conditions) == tuple(policy.cohort.get(target, ()))

    @settings(max_examples=150)
    @given(
        name=st.sampled_from(sorted(POLICIES)),
        steps=st.lists(
            st.tuples(
                st.sampled_from(["advance", "return", "withdraw", "reinstate"]),
                st.integers(0, 7),
                st.booleans(),
            ),
            max_size=40,
        ),
    )
    def test_random_walks_agree_step_by_step(
        self, name: str, steps: list[tuple[str, int, bool]]
    ) -> None:
        """A walk driven by the tables and one fired through the machine stay in step."""
        policy = POLICIES[name]
        engine = engine_for(policy)
        machine = engine.machine
        stage, active = policy.stage_ids[0], True
        model = _Token(stage)
        for kind, pick, gates_met in steps:
            state = engine.state(stage, active)
            assert model.state == state
            assert engine.triggers[state] == frozenset(machine.get_triggers(state))
            target: str | None
            if kind == "advance":
                trigger, target = ADVANCE, engine.next[stage] if active else None
                if target is not None and not gates_met and policy.gates.get(target):
                    target = None  # the gate's conditions refuse it
            elif kind == "return":
                earlier = policy.stage_ids[pick % len(policy.stage_ids)]
                trigger = return_trigger(earlier)
                target = earlier if active and earlier in engine.returns[stage] else None
            elif kind == "withdraw":
                trigger, target = WITHDRAW, WITHDRAWN if active else None
            else:
                trigger, target = REINSTATE, None if active else stage
            allowed = trigger in engine.triggers[state]
            model.met = (lambda spec, to: True) if gates_met else _never
            model.was_at = stage
            if not allowed:
                assert target is None
                if trigger in machine.events:  # no return to the last stage exists at all
                    with pytest.raises(MachineError):
                        machine.events[trigger].trigger(model)
                continue
            fired = machine.events[trigger].trigger(model)
            assert fired == (target is not None)
            if target == WITHDRAWN:
                active = False
            elif target is not None:
                stage, active = target, True
        assert model.state == engine.state(stage, active)


class TestLabMachine:
    """The lab's own advance is decided by the lab machine's trigger."""

    def test_advance_lab_runs_the_lab_machines_trigger_once(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """One lab move, one trigger through transitions."""
        lab = make_lab()
        cohort(lab)
        handler = engine_for(lab.policy).lab_machine.events[ADVANCE]
        calls: list[str] = []
        real = handler.trigger

        def counted(model: Any, *args: Any, **kwargs: Any) -> bool:
            calls.append(model.state)
            return real(model, *args, **kwargs)

        monkeypatch.setattr(handler, "trigger", counted)
        lab.advance_lab(by="sekretariat")
        assert calls == ["drum_up"]
        assert lab.stage == "diagnose"

    def test_a_cohort_condition_that_fails_stops_the_trigger(self) -> None:
        """Without the cohort conditions, the lab machine refuses; the verdict says why."""
        lab = make_lab()
        lab.advance_lab(by="sekretariat")  # nothing is asked to enter diagnose
        with pytest.raises(lf.GateRefused) as info:
            lab.advance_lab(by="sekretariat")  # design: every unit needs an innovation
        assert info.value.verdict.codes
        assert lab.stage == "diagnose"
        engine = engine_for(lab.policy)
        asked: list[tuple[str, str]] = []

        def met(spec: lf.RequirementSpec, stage: str) -> bool:
            asked.append((spec.name, stage))
            return False

        assert engine.advance_lab("diagnose", met) is None
        assert asked == [(lab.policy.cohort["design"][0].name, "design")]
        assert engine.advance_lab("drum_up", met) == "diagnose"
        assert engine.advance_lab(lab.policy.stage_ids[-1], lambda s, t: True) is None

    @pytest.mark.parametrize("name", POLICIES)
    def test_the_ceremony_is_held_where_the_lab_machine_allows_it(self, name: str) -> None:
        """``hold_ceremony`` is an internal transition at the policy's launch stage only."""
        policy = POLICIES[name]
        engine = engine_for(policy)
        for stage in policy.stages:
            allowed = policy.launches_at(stage.id)
            assert (HOLD_CEREMONY in engine.lab_machine.get_triggers(stage.id)) == allowed
            assert engine.hold_ceremony(stage.id) == allowed

    def test_a_ceremony_elsewhere_is_refused_and_reports_no_move(self) -> None:
        lab = make_lab()
        ids = cohort(lab)
        recorder = Recorder(lab.policy)
        with pytest.raises(lf.InvalidCommand, match="deliver stage"):
            lab.launch_cohort(ceremony="Peluncuran", by="bupati")
        bring_to(lab, "deliver", launch=False)
        lab.subscribe(recorder.subscriptions)
        result = lab.launch_cohort(ceremony="Peluncuran", by="bupati")
        assert set(result.launched) == set(ids)
        assert recorder.calls == []  # an internal transition: no stage left or entered

    def test_the_hot_path_never_fires_the_innovation_machine(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without subscriptions, innovation commands read the tables, not the machine."""
        lab = make_lab()
        ids = cohort(lab)

        def refuse(*args: Any, **kwargs: Any) -> bool:
            raise AssertionError("the innovation machine's trigger ran")

        for handler in engine_for(lab.policy).machine.events.values():
            monkeypatch.setattr(handler, "trigger", refuse)
        bring_to(lab, "display")
        lab.return_to(ids[0], "design", reason="Revisi", by="sekretariat")
        lab.withdraw(ids[0], reason="Ditunda", by="sekretariat")
        lab.reinstate(ids[0], reason="Lanjut", by="sekretariat")
        assert lab.innovation(ids[1]).stage == "display"


class Recorder:
    """Subscriptions to every state of both machines, recording each call in order."""

    def __init__(self, policy: lf.Policy) -> None:
        self.calls: list[tuple[str, str, lf.Move]] = []
        self.subscriptions = lf.Subscriptions()
        for stage in (*policy.stage_ids, lf.WITHDRAWN):
            self.subscriptions.on_enter(stage, self._record("enter", stage))
            self.subscriptions.on_exit(stage, self._record("exit", stage))
        for stage in policy.stage_ids:
            self.subscriptions.on_enter(stage, self._record("enter", stage), level="lab")
            self.subscriptions.on_exit(stage, self._record("exit", stage), level="lab")

    def _record(self, when: str, stage: str) -> Any:
        return lambda move: self.calls.append((when, stage, move))


MOVES = {"innovation.advanced", "innovation.returned", "innovation.withdrawn"}
MOVES |= {"innovation.reinstated", "lab.advanced"}


def _expected(event: lf.Event, stage: str) -> list[tuple[str, str, lf.Move]]:
    """The two calls one applied move makes: leaving its source, entering its target."""
    level = "lab" if event.kind.startswith("lab.") else "innovation"
    if event.kind == "innovation.withdrawn":
        source, target = stage, lf.WITHDRAWN
    elif event.kind == "innovation.reinstated":
        source, target = lf.WITHDRAWN, stage
    else:
        source, target = event.payload["from"], event.payload["to"]
    move = lf.Move(event.subject, level, source, target, event)  # type: ignore[arg-type]
    return [("exit", source, move), ("enter", target, move)]


class TestSubscriptions:
    """Hosts hear of stage entry and exit through `labflow.Subscriptions`."""

    def test_a_move_calls_exit_then_enter_once_with_subject_stages_and_event(self) -> None:
        lab = make_lab()
        ids = cohort(lab)
        seen: list[tuple[str, lf.Move]] = []
        subscriptions = (
            lf.Subscriptions()
            .on_exit("drum_up", lambda m: seen.append(("left", m)))
            .on_enter("diagnose", lambda m: seen.append(("entered", m)))
        )
        lab.subscribe(subscriptions)
        lab.advance_lab(by="sekretariat")
        assert seen == []  # an innovation-level subscription: the lab's move is not one
        event = lab.advance(ids[0], by="sekretariat")
        move = lf.Move(ids[0], "innovation", "drum_up", "diagnose", event)
        assert seen == [("left", move), ("entered", move)]

    def test_a_refused_command_calls_nothing(self) -> None:
        lab = make_lab()
        ids = cohort(lab)
        recorder = Recorder(lab.policy)
        lab.subscribe(recorder.subscriptions)
        with pytest.raises(lf.GateRefused):
            lab.advance(ids[0], by="sekretariat")  # the lab is still at drum_up
        with pytest.raises(lf.InvalidCommand):
            lab.return_to(ids[0], "drum_up", reason="x", by="sekretariat")
        with pytest.raises(lf.PermissionDenied):
            lab.withdraw(ids[0], reason="x", by="staf-dinkes")
        with pytest.raises(lf.InvalidCommand):
            lab.reinstate(ids[0], reason="x", by="sekretariat")
        assert recorder.calls == []

    def test_withdraw_enters_withdrawn_and_reinstate_returns_to_the_stage(self) -> None:
        lab = make_lab()
        ids = cohort(lab)
        bring_to(lab, "design")
        recorder = Recorder(lab.policy)
        lab.subscribe(recorder.subscriptions)
        out = lab.withdraw(ids[0], reason="Ditunda", by="sekretariat")
        back = lab.reinstate(ids[0], reason="Lanjut", by="sekretariat")
        returned = lab.return_to(ids[0], "diagnose", reason="Revisi", by="sekretariat")
        assert recorder.calls == [
            *_expected(out, "design"),
            *_expected(back, "design"),
            *_expected(returned, "diagnose"),
        ]
        assert recorder.calls[1][2].target == lf.WITHDRAWN

    def test_lab_level_subscriptions_hear_the_lab_and_only_the_lab(self) -> None:
        lab = make_lab()
        ids = cohort(lab)
        seen: list[lf.Move] = []
        lab.subscribe(lf.Subscriptions().on_enter("diagnose", seen.append, level="lab"))
        event = lab.advance_lab(by="sekretariat")
        lab.advance(ids[0], by="sekretariat")
        assert seen == [lf.Move(lab.id, "lab", "drum_up", "diagnose", event)]

    @settings(max_examples=40)
    @given(
        commands=st.lists(
            st.tuples(
                st.sampled_from(["advance", "advance_lab", "return", "withdraw", "reinstate"]),
                st.integers(0, 2),
                st.integers(0, 4),
            ),
            max_size=25,
        )
    )
    def test_every_applied_move_calls_back_exactly_once(
        self, commands: list[tuple[str, int, int]]
    ) -> None:
        """Random commands, accepted or refused: the calls are exactly the applied moves'."""
        lab = make_lab()
        ids = cohort(lab)
        for stage in lab.policy.stage_ids[1:]:
            for ident in ids:
                prepare(lab, ident, stage)
        recorder = Recorder(lab.policy)
        lab.subscribe(recorder.subscriptions)
        expected: list[tuple[str, str, lf.Move]] = []
        for command, who, where in commands:
            ident = ids[who]
            try:
                if command == "advance":
                    event = lab.advance(ident, by="sekretariat")
                elif command == "advance_lab":
                    event = lab.advance_lab(by="sekretariat")
                elif command == "return":
                    stage = lab.policy.stage_ids[where]
                    event = lab.return_to(ident, stage, reason="Revisi", by="sekretariat")
                elif command == "withdraw":
                    event = lab.withdraw(ident, reason="Ditunda", by="sekretariat")
                else:
                    event = lab.reinstate(ident, reason="Lanjut", by="sekretariat")
            except lf.CommandError:
                continue
            stage = lab.stage if command == "advance_lab" else lab.innovation(ident).stage
            expected += _expected(event, stage)
        assert recorder.calls == expected

    def test_replaying_a_history_calls_nothing(self) -> None:
        """Loading a lab is no move: only commands applied after subscribing are reported."""
        lab = make_lab()
        cohort(lab)
        bring_to(lab, "design")
        recorder = Recorder(lab.policy)
        lab.subscribe(recorder.subscriptions)
        again = lf.replay_lab(lab.history, [i.history for i in lab.innovations.values()])
        again.subscribe(recorder.subscriptions)
        assert recorder.calls == []

    def test_unknown_stages_and_bad_callbacks_are_refused(self) -> None:
        lab = make_lab()
        with pytest.raises(lf.NotFound, match="no stage 'nowhere'"):
            lab.subscribe(lf.Subscriptions().on_enter("nowhere", print))
        with pytest.raises(lf.NotFound, match="withdrawn"):
            lab.subscribe(lf.Subscriptions().on_enter(lf.WITHDRAWN, print, level="lab"))
        with pytest.raises(lf.InvalidCommand, match="callable"):
            lf.Subscriptions().on_enter("design", "print")  # type: ignore[arg-type]
        with pytest.raises(lf.InvalidCommand, match="level"):
            lf.Subscriptions().on_exit("design", print, level="region")  # type: ignore[arg-type]
        with pytest.raises(lf.InvalidCommand, match="Subscriptions"):
            lab.subscribe({"design": print})  # type: ignore[arg-type]

    def test_a_move_no_callback_watches_fires_no_trigger(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Only moves that leave or enter a watched state go through the machine."""
        lab = make_lab()
        ids = cohort(lab)
        handler = engine_for(lab.policy).machine.events[ADVANCE]
        fired: list[str] = []
        real = handler.trigger

        def counted(model: Any, *args: Any, **kwargs: Any) -> bool:
            fired.append(model.state)
            return real(model, *args, **kwargs)

        monkeypatch.setattr(handler, "trigger", counted)
        seen: list[lf.Move] = []
        lab.subscribe(lf.Subscriptions().on_enter("design", seen.append))
        bring_to(lab, "design", ids[:1])
        assert fired == ["diagnose"]  # drum_up -> diagnose watched nothing
        assert [(m.source, m.target) for m in seen] == [("diagnose", "design")]

    def test_a_callback_may_run_a_command_whose_move_is_reported_too(self) -> None:
        """A host reacting to a move with another command hears of that move as well."""
        lab = make_lab()
        ids = cohort(lab)
        seen: list[lf.Move] = []

        def park(move: lf.Move) -> None:
            lab.withdraw(move.subject, reason="Menunggu anggaran", by="sekretariat")

        lab.subscribe(
            lf.Subscriptions().on_enter("diagnose", park).on_enter(lf.WITHDRAWN, seen.append)
        )
        lab.advance_lab(by="sekretariat")
        lab.advance(ids[0], by="sekretariat")
        assert [(m.subject, m.source, m.target) for m in seen] == [
            (ids[0], "diagnose", lf.WITHDRAWN)
        ]
        assert not lab.innovation(ids[0]).active

    def test_the_subscriptions_a_lab_keeps_are_those_given_when_subscribing(self) -> None:
        lab = make_lab()
        ids = cohort(lab)
        seen: list[lf.Move] = []
        subscriptions = lf.Subscriptions()
        lab.subscribe(subscriptions)
        subscriptions.on_exit("drum_up", seen.append)  # after subscribing: not kept
        bring_to(lab, "diagnose", ids[:1])
        assert seen == []
        lab.subscribe(subscriptions)
        lab.advance(ids[1], by="sekretariat")
        assert [m.subject for m in seen] == [ids[1]]


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = (
        MemoryStore()
        if request.param == "memory"
        else SQLiteStore(tmp_path / "lab.db", create=True)
    )
    yield made
    made.close()


def _stored(store: Store) -> lf.Lab:
    from labflow.store import Append

    lab = make_lab(clock=FixedClock(START))
    cohort(lab)
    appends = [Append(lab.id, 0, lab.history, lab=True)]
    appends += [Append(i.id, 0, i.history) for i in lab.innovations.values()]
    store.commit(lab.id, appends)
    return lab


class TestSubscriptionsInASession:
    """In a store session, callbacks run after the commit -- and never for what was not kept."""

    def test_callbacks_wait_for_the_commit(self, store: Store) -> None:
        _stored(store)
        seen: list[lf.Move] = []
        subscriptions = lf.Subscriptions().on_enter("diagnose", seen.append)
        subscriptions.on_enter("diagnose", seen.append, level="lab")
        with store.session("kebumen") as live:
            live.subscribe(subscriptions)
            moved = live.advance_lab(by="sekretariat")
            advanced = live.advance("ino-dinkes", by="sekretariat")
            assert seen == []
        assert [m.event for m in seen] == [moved, advanced]
        assert store.history("kebumen", "ino-dinkes")[-1] == advanced

    def test_an_explicit_commit_delivers_what_it_kept(self, store: Store) -> None:
        _stored(store)
        seen: list[lf.Move] = []
        session = store.session("kebumen")
        with session as live:
            live.subscribe(lf.Subscriptions().on_enter(lf.WITHDRAWN, seen.append))
            live.withdraw("ino-dinkes", reason="Ditunda", by="sekretariat")
            session.commit()
            assert [m.subject for m in seen] == ["ino-dinkes"]
            live.withdraw("ino-bag-tapem", reason="Ditunda", by="sekretariat")
        assert [m.subject for m in seen] == ["ino-dinkes", "ino-bag-tapem"]

    def test_a_block_that_raises_calls_nothing(self, store: Store) -> None:
        _stored(store)
        seen: list[lf.Move] = []

        def work() -> None:
            with store.session("kebumen") as live:
                live.subscribe(lf.Subscriptions().on_exit("drum_up", seen.append, level="lab"))
                live.advance_lab(by="sekretariat")
                live.advance("ino-dinkes", by="sekretariat")
                live.advance("ino-dinkes", by="sekretariat")  # the lab is not at design

        with pytest.raises(lf.GateRefused):
            work()
        assert seen == []
        assert store.load("kebumen").stage == "drum_up"

    def test_a_conflicting_commit_calls_nothing(self, store: Store) -> None:
        _stored(store)
        seen: list[lf.Move] = []
        stale = store.session("kebumen")
        old = stale.__enter__()
        old.subscribe(lf.Subscriptions().on_enter(lf.WITHDRAWN, seen.append))
        with store.session("kebumen") as live:
            live.withdraw("ino-dinkes", reason="Digabung", by="sekretariat")
        old.withdraw("ino-dinkes", reason="Ditunda", by="sekretariat")
        with pytest.raises(lf.ConflictError):
            stale.__exit__(None, None, None)
        assert seen == []
