"""Hypothesis strategies and a stateful test that any policy can be put through.

A region that writes its own policy -- its own stages, gates, roles and
requirements in Python -- needs more than a few hand-written scenarios to trust
it: it needs to know that *no* sequence of commands, by *any* actor, with *any*
input, can push an innovation past a gate it does not meet, change anything on a
refusal, or leave a history that does not replay to the same state. This module
gives a host the pieces to prove that of its own variant, the same pieces the
bundled presets are tested with:

- `roster` builds a sensible cast for a lab (a secretariat, a regional head, a
  facilitator, an auditor, and a head and an innovator for every unit);
- `StepClock` is a deterministic, injectable clock;
- strategies for the domain's values: `idents`, `texts`, `units`, `unit_lists`,
  `actors`, `diagnoses`, `plan_steps`, `plans`, and `labs` -- a `labflow.Lab` at a
  random point of its life, reached by random valid and invalid commands;
- `make_state_machine` turns a policy (with its custom requirements) into a
  `hypothesis.stateful.RuleBasedStateMachine` that drives random commands by
  random actors and checks the invariants of the design after every command,
  raising `InvariantViolation` when one breaks.

Hypothesis is an optional dependency: install ``labflow[testing]``.
See ``docs/testing.md`` for a worked example.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, TypeVar

import attrs
from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from labflow._fold import apply_innovation
from labflow.errors import CommandError, GateRefused, NotFound, PermissionDenied
from labflow.events import Event, make_event, verify
from labflow.lab import CeremonyResult, Lab, replay_lab
from labflow.model import (
    GOVERNMENT_KINDS,
    Actor,
    Diagnosis,
    Initiator,
    Innovation,
    PlanStep,
    Role,
    Unit,
    UnitKind,
)
from labflow.policy import DEFAULT_ROLES, Policy, available_presets, load_policy
from labflow.requirements import Registry, Verdict

__all__ = [
    "LAB_ID",
    "REGION",
    "SECRETARIAT",
    "START",
    "InvariantViolation",
    "StepClock",
    "actors",
    "diagnoses",
    "idents",
    "labs",
    "make_state_machine",
    "permitted",
    "plan_steps",
    "plans",
    "roster",
    "texts",
    "unit_lists",
    "units",
]

T = TypeVar("T")
Draw = Callable[[st.SearchStrategy[Any]], Any]

#: When every `StepClock` starts unless told otherwise: the first Kebumen lab, 2016.
START: Final = datetime(2016, 5, 1, 8, 0, tzinfo=UTC)
#: The id and region of the labs `labs` and `make_state_machine` open.
LAB_ID: Final = "lab-uji"
REGION: Final = "Kabupaten Contoh"
#: The ids `roster` gives the lab-wide actors.
SECRETARIAT: Final = "sekretariat"
REGIONAL_HEAD: Final = "bupati"
FACILITATOR: Final = "fasilitator"
AUDITOR: Final = "inspektorat"


class InvariantViolation(AssertionError):
    """A run broke one of the design's invariants; `invariant` is its number (1-8)."""

    def __init__(self, number: int, message: str) -> None:
        self.invariant = number
        super().__init__(f"Invariant {number} is broken: {message}")


def _require(condition: object, number: int, message: str) -> None:
    if not condition:
        raise InvariantViolation(number, message)


# --- The clock ------------------------------------------------------------------------------


class StepClock:
    """A deterministic lab clock: each reading is ``step`` after the one before.

    Readings are aware and strictly increasing, so histories are reproducible
    (the same commands give the same hashes) and never tie. Inside `held` every
    reading is the same instant, so a ``check`` and the command that follows it
    see the same time (a deadline cannot fall between them).
    """

    def __init__(self, start: datetime = START, step: timedelta = timedelta(minutes=1)) -> None:
        if start.tzinfo is None:
            raise ValueError("A StepClock needs a timezone-aware start.")
        if step <= timedelta(0):
            raise ValueError("A StepClock must move forward.")
        self.last = start - step  #: the latest reading
        self.step = step
        self._held = False

    def __call__(self) -> datetime:
        if not self._held:
            self.last += self.step
        return self.last

    @contextlib.contextmanager
    def held(self) -> Iterator[datetime]:
        """Read the clock once and keep returning that reading until the block ends."""
        moment = self()
        self._held = True
        try:
            yield moment
        finally:
            self._held = False


# --- The cast -------------------------------------------------------------------------------


def head_of(unit: str) -> str:
    """The id `roster` gives the head of ``unit``."""
    return f"kepala-{unit}"


def innovator_of(unit: str) -> str:
    """The id `roster` gives the innovator of ``unit``."""
    return f"inovator-{unit}"


def roster(policy: Policy, units: Sequence[Unit]) -> tuple[Actor, ...]:
    """A sensible cast for a lab on ``policy`` with ``units``.

    A secretariat (``sekretariat``), a regional head (``bupati``), a facilitator
    (``fasilitator``) and an auditor (``inspektorat``); for every unit a head
    (``kepala-<unit>``) and an innovator (``inovator-<unit>``); and for every role
    the policy adds beyond the defaults one actor holding it (``peran-<role>``,
    or ``peran-<role>-<unit>`` per unit for a unit-scoped role).
    """
    cast = [
        Actor(SECRETARIAT, "Sekretariat Laboratorium Inovasi", {Role.SECRETARIAT}),
        Actor(REGIONAL_HEAD, "Bupati", {Role.REGIONAL_HEAD}),
        Actor(FACILITATOR, "Fasilitator LAN", {Role.FACILITATOR}),
        Actor(AUDITOR, "Inspektorat", {Role.AUDITOR}),
    ]
    for unit in units:
        cast.append(Actor(head_of(unit.id), f"Kepala {unit.name}", {Role.UNIT_HEAD}, unit.id))
        cast.append(
            Actor(innovator_of(unit.id), f"Inovator {unit.name}", {Role.INNOVATOR}, unit.id)
        )
    for role in sorted(set(policy.roles) - set(DEFAULT_ROLES)):
        label = policy.roles[role].label_id
        slug = "".join(c if c.isalnum() or c in "-_." else "-" for c in role)
        if policy.roles[role].scope == "unit":
            cast.extend(
                Actor(f"peran-{slug}-{u.id}", f"{label} {u.name}", {role}, u.id) for u in units
            )
        else:
            cast.append(Actor(f"peran-{slug}", label, {role}))
    return tuple(cast)


def permitted(lab: Lab, command: str, actor: object, unit: object = None) -> bool:
    """Whether ``actor`` may perform ``command`` on ``unit``'s behalf under the lab's policy.

    An independent statement of the policy's rule: the actor holds a role the
    policy allows for the command, and a unit-scoped role counts only within
    the actor's own unit (``unit`` is ``None`` for commands on the lab itself).
    """
    found = lab.actors.get(actor) if isinstance(actor, str) else None
    if found is None:
        return False
    for role in found.roles & lab.policy.allowed(command):
        definition = lab.policy.roles.get(role)
        if definition is None or definition.scope != "unit" or unit is None:
            return True
        if found.unit == unit:
            return True
    return False


# --- Strategies for values ------------------------------------------------------------------


def idents() -> st.SearchStrategy[str]:
    """Ids as labflow accepts them: short, lowercase, no white space (``dinkes``, ``pkm-2``)."""
    return st.from_regex(r"[a-z][a-z0-9]{0,7}(-[a-z0-9]{1,5}){0,2}", fullmatch=True)


def texts(*, max_size: int = 24) -> st.SearchStrategy[str]:
    """Short non-blank text, Indonesian or otherwise (letters, digits, spaces, punctuation)."""
    alphabet = st.characters(codec="utf-8", categories=("L", "N", "Zs", "P"))
    return st.text(alphabet, min_size=1, max_size=max_size).filter(lambda s: bool(s.strip()))


def units(kinds: Sequence[UnitKind] | None = None) -> st.SearchStrategy[Unit]:
    """A `labflow.Unit` of one of ``kinds`` (default: any kind)."""
    return st.builds(Unit, idents(), texts(), st.sampled_from(list(kinds or UnitKind)))


def unit_lists(*, min_size: int = 1, max_size: int = 4) -> st.SearchStrategy[list[Unit]]:
    """Units with distinct ids, the first always a government unit (so agreements can be made)."""
    if min_size < 1:
        raise ValueError("A lab needs at least one unit.")

    @st.composite
    def build(draw: Draw) -> list[Unit]:
        first = draw(units(sorted(GOVERNMENT_KINDS)))
        rest = draw(
            st.lists(
                units().filter(lambda u: u.id != first.id),
                min_size=min_size - 1,
                max_size=max_size - 1,
                unique_by=lambda u: u.id,
            )
        )
        return [first, *rest]

    return build()


def actors(
    units: Sequence[Unit] = (), roles: Sequence[str] = tuple(Role)
) -> st.SearchStrategy[Actor]:
    """A `labflow.Actor` holding some of ``roles``, belonging to one of ``units`` or to none."""
    unit_ids: list[str | None] = [None, *(u.id for u in units)]
    return st.builds(
        Actor,
        idents(),
        texts(),
        st.frozensets(st.sampled_from([str(r) for r in roles]), max_size=3),
        st.sampled_from(unit_ids),
    )


def diagnoses() -> st.SearchStrategy[Diagnosis]:
    """A `labflow.Diagnosis`; sometimes with fewer root causes than a gate may ask for."""
    return st.builds(
        Diagnosis, texts(), st.lists(texts(), max_size=3).map(tuple), st.just("") | texts()
    )


def plan_steps() -> st.SearchStrategy[PlanStep]:
    """One step of an action plan, with a person responsible and a due date."""
    return st.builds(
        PlanStep,
        texts(),
        texts(),
        st.dates(min_value=date(2015, 1, 1), max_value=date(2020, 12, 31)),
    )


def plans(*, max_size: int = 4) -> st.SearchStrategy[list[PlanStep]]:
    """The steps of an action plan: at least one."""
    return st.lists(plan_steps(), min_size=1, max_size=max_size)


# --- Moves: one command with drawn arguments --------------------------------------------------


@attrs.frozen
class _Move:
    """A command about to be attempted: who, on whose behalf, and how to run it."""

    command: str
    by: object
    unit: object  #: the unit a unit-scoped role must belong to; None for lab commands
    label: str
    run: Callable[[], object] = attrs.field(repr=False)


_BAD_TEXTS: Final[tuple[object, ...]] = ("", "   ", None, 42, ["daftar"])
_BAD_IDS: Final[tuple[object, ...]] = ("tidak-ada", "dua kata", "", None, 7, ["daftar"])
_REASON: Final = "Perlu perbaikan sesuai catatan fasilitator"


def _call(
    lab: Lab, command: str, method: str, by: object, scope: object, /, *args: Any, **kw: Any
) -> _Move:
    shown = ", ".join([*(repr(a) for a in args), *(f"{k}={v!r}" for k, v in kw.items())])
    run = functools.partial(getattr(lab, method), *args, by=by, **kw)
    return _Move(command, by, scope, f"{method}({shown}, by={by!r})", run)


def _maybe_bad(draw: Draw, good: T, bad: Sequence[object] = _BAD_TEXTS) -> T | Any:
    """Mostly ``good``; one time in eight a malformed value the command must refuse."""
    if draw(st.integers(0, 7)) == 0:
        return draw(st.sampled_from(bad))
    return good


def _actor_for(lab: Lab, draw: Draw, command: str, unit: object) -> object:
    """Mostly someone allowed to act; else anyone; rarely an unknown or malformed id."""
    ids = sorted(lab.actors)
    allowed = [a for a in ids if permitted(lab, command, a, unit)]
    roll = draw(st.integers(0, 9))
    if allowed and roll < 6:
        return draw(st.sampled_from(allowed))
    if ids and roll < 9:
        return draw(st.sampled_from(ids))
    return draw(st.sampled_from(("orang-asing", "", None, 7)))


def _innovation_for(lab: Lab, draw: Draw) -> object:
    ids = sorted(lab.innovations)
    if ids and draw(st.integers(0, 11)) > 0:
        return draw(st.sampled_from(ids))
    return draw(st.sampled_from(_BAD_IDS))


def _unit_of(lab: Lab, innovation: object) -> object:
    inn = lab.innovations.get(innovation) if isinstance(innovation, str) else None
    return inn.unit if inn is not None else None


def _new_id(lab: Lab, draw: Draw) -> object:
    fresh = f"inovasi-{len(lab.innovations) + 1}"
    roll = draw(st.integers(0, 9))
    if roll < 8 or not lab.innovations:
        return fresh if roll < 8 else draw(st.sampled_from(_BAD_IDS))
    return draw(st.sampled_from(sorted(lab.innovations)))


def _random_move(lab: Lab, draw: Draw) -> _Move:
    """Any command, by a drawn actor, with drawn (sometimes malformed) input."""
    command = draw(st.sampled_from(_RANDOM_COMMANDS))
    if command in ("register", "replicate"):
        unit = draw(st.sampled_from([*sorted(lab.units), "tidak-ada"]))
        by = _actor_for(lab, draw, command, unit)
        new = _new_id(lab, draw)
        initiator = draw(st.sampled_from([*Initiator, "dukun"]))
        innovators = _maybe_bad(draw, ["Tim Inovasi"], ("satu teks", [1], None))
        if command == "register":
            title = _maybe_bad(draw, draw(texts()), (None, 3))
            problem = _maybe_bad(draw, draw(texts()), (None, 3))
            return _call(
                lab,
                command,
                "register",
                by,
                unit,
                new,
                title=title,
                unit=unit,
                innovators=innovators,
                problem=problem,
                initiator=initiator,
            )
        origin = _innovation_for(lab, draw)
        adaptation = draw(
            st.sampled_from(["", "disesuaikan", "disesuaikan dengan kondisi desa dan warga"])
        )
        if draw(st.booleans()):
            return _call(
                lab,
                command,
                "replicate",
                by,
                unit,
                new,
                origin=origin,
                unit=unit,
                adaptation=adaptation,
                innovators=innovators,
                initiator=initiator,
            )
        return _call(
            lab,
            command,
            "replicate",
            by,
            unit,
            new,
            origin=draw(st.sampled_from(["sipandu", ""])),
            unit=unit,
            adaptation=adaptation,
            origin_region=_maybe_bad(draw, "Kabupaten Banyuwangi"),
            title=draw(st.sampled_from([None, "Sipandu"])),
            problem=draw(st.sampled_from([None, "Antrian"])),
            innovators=innovators,
            initiator=initiator,
        )
    if command in _LAB_COMMANDS:
        by = _actor_for(lab, draw, command, None)
        if command == "add_unit":
            unit = _maybe_bad(
                draw, draw(units()), ("bukan unit", Unit("dua kata", "Unit", "agency"))
            )
            return _call(lab, command, "add_unit", by, None, unit)
        if command == "add_actor":
            unit_ids = [None, *sorted(lab.units), "tidak-ada"]
            actor = draw(actors([Unit(u, u, "agency") for u in unit_ids if u]))
            actor = attrs.evolve(actor, unit=draw(st.sampled_from(unit_ids)))
            actor = _maybe_bad(draw, actor, ("bukan aktor", Actor("x", "X", {"dukun"})))
            return _call(lab, command, "add_actor", by, None, actor)
        if command == "set_roles":
            target = draw(st.sampled_from([*sorted(lab.actors), "orang-asing"]))
            roles = draw(st.frozensets(st.sampled_from([*lab.policy.roles, "dukun"]), max_size=2))
            return _call(lab, command, "set_roles", by, None, target, sorted(roles))
        if command == "advance_lab":
            return _call(lab, command, "advance_lab", by, None)
        chosen = draw(st.sampled_from([None, sorted(lab.innovations), ["tidak-ada"], "teks"]))
        return _call(
            lab,
            command,
            "launch_cohort",
            by,
            None,
            ceremony=_maybe_bad(draw, "Peluncuran inovasi"),
            innovations=chosen,
        )
    innovation = _innovation_for(lab, draw)
    unit = _unit_of(lab, innovation)
    by = _actor_for(lab, draw, command, unit)
    method = "return_to" if command == "return" else command
    kw: dict[str, Any] = {}
    args: list[Any] = [innovation]
    if command == "record_diagnosis":
        args.append(_maybe_bad(draw, draw(diagnoses()), ("teks", Diagnosis("p", (1,)))))  # type: ignore[arg-type]
    elif command == "submit_plan":
        kw["steps"] = _maybe_bad(draw, draw(plans()), ("teks", [None], []))
        kw["budget"] = _maybe_bad(
            draw, draw(st.none() | st.integers(0, 10**9)), (-5, True, "banyak")
        )
    elif command == "draw_up_agreement":
        people = [*sorted(lab.actors), "orang-asing"]
        kw["regional_head"] = draw(st.sampled_from(people))
        kw["unit_head"] = draw(st.sampled_from(people))
        kw["terms"] = _maybe_bad(draw, "Target kinerja tahunan", (None, 5))
    elif command == "grant_permission":
        kw["reference"] = _maybe_bad(draw, "800/123/2016")
    elif command == "record_launch":
        kw["ceremony"] = _maybe_bad(draw, "Peluncuran inovasi")
    elif command == "attach_evidence":
        kw["title"] = _maybe_bad(draw, "SK Bupati")
        kw["reference"] = _maybe_bad(draw, "dokumen-1")
    elif command == "register_exhibit":
        kw["event"] = _maybe_bad(draw, "Gelar Inovasi")
        kw["booth"] = _maybe_bad(draw, "A1", (None, 1))
    elif command == "return":
        args.append(draw(st.sampled_from([*lab.policy.stage_ids, "tidak-ada", None])))
        kw["reason"] = _maybe_bad(draw, _REASON)
    elif command in ("withdraw", "reinstate"):
        kw["reason"] = _maybe_bad(draw, _REASON)
    return _call(lab, command, method, by, unit, *args, **kw)


_LAB_COMMANDS: Final = ("add_unit", "add_actor", "set_roles", "advance_lab", "launch_cohort")
_RANDOM_COMMANDS: Final = (
    "register",
    "record_diagnosis",
    "submit_plan",
    "approve_plan",
    "draw_up_agreement",
    "sign_agreement",
    "grant_permission",
    "record_launch",
    "attach_evidence",
    "register_exhibit",
    "advance",
    "return",
    "withdraw",
    "reinstate",
    "replicate",
    *_LAB_COMMANDS,
)


def _first(lab: Lab, command: str, unit: object, *, avoid: object = None) -> str | None:
    """The first actor (by id) allowed to perform ``command`` for ``unit``, other than ``avoid``."""
    return next(
        (a for a in sorted(lab.actors) if a != avoid and permitted(lab, command, a, unit)), None
    )


def _helpful_moves(lab: Lab, inn: Innovation) -> list[_Move]:
    """The commands that would remove what stands between ``inn`` and its next stage."""
    moves: list[_Move] = []

    def add(command: str, method: str, *args: Any, by: str | None = None, **kw: Any) -> None:
        actor = by if by is not None else _first(lab, command, inn.unit)
        if actor is not None:
            moves.append(_call(lab, command, method, actor, inn.unit, *args, **kw))

    if not inn.active:
        add("reinstate", "reinstate", inn.id, reason=_REASON)
        return moves
    verdict = lab.check(inn.id)
    stage = lab.policy.stage(inn.stage)
    if verdict.ok:
        add("advance", "advance", inn.id)
    codes = set(verdict.codes)
    if "deliver" in stage.covers and inn.launch is None:
        codes.add("launch.missing")
    if "display" in stage.covers and inn.exhibit is None:
        codes.add("exhibit.missing")
    for code in sorted(codes):
        group = code.split(".")[0]
        if code == "lab.behind":
            actor = _first(lab, "advance_lab", None)
            if actor is not None:
                moves.append(_call(lab, "advance_lab", "advance_lab", actor, None))
        elif group == "diagnosis":
            good = Diagnosis("Antrian panjang", ("Prosedur manual", "SDM kurang", "Data tersebar"))
            add("record_diagnosis", "record_diagnosis", inn.id, good)
        elif group == "permission":
            add("grant_permission", "grant_permission", inn.id, reference="800/123/2016")
        elif code in ("action_plan.missing", "action_plan.too_few_steps") or (
            code == "action_plan.step_without_responsible"
        ):
            steps = [PlanStep(f"Langkah {i}", "Kepala Seksi", date(2016, 6, i)) for i in (1, 2, 3)]
            if inn.launch is None:
                by = innovator_of(inn.unit)
                if not permitted(lab, "submit_plan", by, inn.unit):
                    by = _first(lab, "submit_plan", inn.unit) or by
                add("submit_plan", "submit_plan", inn.id, steps=steps, by=by)
        elif group == "action_plan" and inn.action_plan is not None:
            author = inn.action_plan.submitted_by
            head = head_of(inn.unit)
            if head == author or not permitted(lab, "approve_plan", head, inn.unit):
                head = _first(lab, "approve_plan", inn.unit, avoid=author) or head
            add("approve_plan", "approve_plan", inn.id, by=head)
        elif code in ("agreement.missing", "agreement.wrong_unit_head"):
            heads = sorted(a.id for a in lab.actors.values() if Role.REGIONAL_HEAD in a.roles)
            if heads:
                add(
                    "draw_up_agreement",
                    "draw_up_agreement",
                    inn.id,
                    regional_head=heads[0],
                    unit_head=head_of(inn.unit),
                )
        elif code.startswith("agreement.unsigned") and inn.agreement is not None:
            for party in (inn.agreement.regional_head, inn.agreement.unit_head):
                if not inn.agreement.signed_by(party):
                    add("sign_agreement", "sign_agreement", inn.id, by=party)
        elif code == "launch.missing" and "deliver" in stage.covers:
            add("record_launch", "record_launch", inn.id, ceremony="Peluncuran inovasi")
            actor = _first(lab, "launch_cohort", None)
            if actor is not None and "deliver" in lab.policy.stage(lab.stage).covers:
                moves.append(
                    _call(lab, "launch_cohort", "launch_cohort", actor, None, ceremony="Peluncuran")
                )
        elif group == "evidence":
            add("attach_evidence", "attach_evidence", inn.id, title="Laporan", reference="dok-1")
        elif code == "exhibit.missing" and "display" in stage.covers:
            add("register_exhibit", "register_exhibit", inn.id, event="Gelar Inovasi", booth="A1")
    return moves


def _detours(lab: Lab) -> list[_Move]:
    """Valid moves off the straight path: returns, withdrawals and replications."""
    moves: list[_Move] = []
    for inn in sorted(lab.innovations.values(), key=lambda i: i.id):
        if not inn.active:
            continue
        index = lab.policy.index(inn.stage)
        actor = _first(lab, "return", inn.unit)
        if index > 0 and actor is not None:
            back = lab.policy.stages[index - 1].id
            moves.append(
                _call(lab, "return", "return_to", actor, inn.unit, inn.id, back, reason=_REASON)
            )
        actor = _first(lab, "withdraw", inn.unit)
        if actor is not None:
            moves.append(
                _call(lab, "withdraw", "withdraw", actor, inn.unit, inn.id, reason=_REASON)
            )
        others = [u for u in sorted(lab.units) if u != inn.unit]
        if inn.launch is not None and others:
            by = innovator_of(others[0])
            moves.append(
                _call(
                    lab,
                    "replicate",
                    "replicate",
                    by,
                    others[0],
                    f"replika-{len(lab.innovations) + 1}",
                    origin=inn.id,
                    unit=others[0],
                    adaptation="disesuaikan dengan kondisi desa dan warga",
                )
            )
    return moves


def _guided_move(lab: Lab, draw: Draw) -> _Move:
    """A command that moves the lab forward: it lets short runs reach the later stages."""
    moves: list[_Move] = []
    for inn in sorted(lab.innovations.values(), key=lambda i: i.id):
        moves.extend(_helpful_moves(lab, inn))
    if lab.check_lab().ok:
        actor = _first(lab, "advance_lab", None)
        if actor is not None:
            moves.append(_call(lab, "advance_lab", "advance_lab", actor, None))
    for unit in sorted(lab.units):
        if draw(st.integers(0, 3)) == 0 or not any(
            i.unit == unit for i in lab.innovations.values()
        ):
            by = innovator_of(unit)
            if not permitted(lab, "register", by, unit):
                by = _first(lab, "register", unit) or SECRETARIAT
            new = f"inovasi-{len(lab.innovations) + 1}"
            moves.append(
                _call(
                    lab,
                    "register",
                    "register",
                    by,
                    unit,
                    new,
                    title=f"Inovasi {unit}",
                    unit=unit,
                    innovators=["Tim Inovasi"],
                    problem="Layanan lambat",
                    initiator=draw(st.sampled_from(list(Initiator))),
                )
            )
    if not moves or draw(st.integers(0, 11)) == 0:
        moves = _detours(lab) or moves
    if not moves:
        return _random_move(lab, draw)
    return draw(st.sampled_from(moves))  # type: ignore[no-any-return]


# --- Labs at a random point of their life -----------------------------------------------------


@functools.cache
def _preset(name: str) -> Policy:
    return load_policy(name)


def _policy_strategy(policy: Policy | str | None) -> st.SearchStrategy[Policy]:
    if isinstance(policy, Policy):
        return st.just(policy)
    if isinstance(policy, str):
        return st.just(_preset(policy) if policy in available_presets() else load_policy(policy))
    return st.sampled_from(available_presets()).map(_preset)


def labs(
    policy: Policy | str | None = None,
    *,
    units: Sequence[Unit] | None = None,
    max_commands: int = 40,
    start: datetime = START,
) -> st.SearchStrategy[Lab]:
    """A `labflow.Lab` at a random point of its life.

    The lab is opened on ``policy`` (a `Policy`, a preset name or a path;
    default: any bundled preset) with ``units`` (default: 1-3 drawn units) and
    the `roster` cast, then driven by up to ``max_commands`` random commands --
    three in four of them moves that make progress, the rest anything by
    anyone, often refused. Its clock is a `StepClock` from ``start``, so the same draw
    always gives the same lab, hashes included.
    """

    @st.composite
    def build(draw: Draw) -> Lab:
        chosen = draw(_policy_strategy(policy))
        members = list(units) if units is not None else draw(unit_lists(max_size=3))
        lab = Lab.create(
            chosen,
            id=LAB_ID,
            region=REGION,
            by=SECRETARIAT,
            units=members,
            actors=roster(chosen, members),
            clock=StepClock(start),
        )
        for _ in range(draw(st.integers(0, max_commands))):
            guided = draw(st.integers(0, 3)) > 0
            move = _guided_move(lab, draw) if guided else _random_move(lab, draw)
            with contextlib.suppress(CommandError):
                move.run()
        return lab

    return build()


# --- The stateful test ------------------------------------------------------------------------


@attrs.frozen
class _Snapshot:
    """Everything a command may change, copied deeply enough to see any change."""

    stage: str
    units: dict[str, Unit]
    actors: dict[str, Actor]
    history: tuple[Event, ...]
    innovations: dict[str, Innovation]

    @classmethod
    def of(cls, lab: Lab) -> _Snapshot:
        return cls(
            lab.stage,
            dict(lab.units),
            dict(lab.actors),
            tuple(lab.history),
            {k: attrs.evolve(i, history=list(i.history)) for k, i in lab.innovations.items()},
        )


def _difference(before: _Snapshot, after: _Snapshot) -> str:
    """Where two snapshots differ, in a few words (for failure messages)."""
    parts = []
    if before.stage != after.stage:
        parts.append(f"lab stage {before.stage} -> {after.stage}")
    if before.units != after.units:
        parts.append("units")
    if before.actors != after.actors:
        parts.append("actors")
    if before.history != after.history:
        parts.append(f"lab history ({len(before.history)} -> {len(after.history)} events)")
    for key in sorted(before.innovations.keys() | after.innovations.keys()):
        old, new = before.innovations.get(key), after.innovations.get(key)
        if old != new:
            if old is None or new is None:
                parts.append(f"innovation {key} {'appeared' if old is None else 'vanished'}")
                continue
            fields = [
                f.name
                for f in attrs.fields(Innovation)
                if getattr(old, f.name) != getattr(new, f.name)
            ]
            parts.append(f"innovation {key}: {', '.join(fields)}")
    return "; ".join(parts) or "nothing visible"


def _appended(before: _Snapshot, lab: Lab) -> dict[str, list[Event]]:
    """The events a command appended, per subject; every old history must be a prefix."""
    new: dict[str, list[Event]] = {}
    old_lab = len(before.history)
    _require(tuple(lab.history[:old_lab]) == before.history, 2, "the lab's history was rewritten")
    if len(lab.history) > old_lab:
        new[lab.id] = lab.history[old_lab:]
    for key, old in before.innovations.items():
        inn = lab.innovations.get(key)
        _require(inn is not None, 2, f"the innovation {key} vanished")
        assert inn is not None
        _require(
            inn.history[: len(old.history)] == old.history, 2, f"the history of {key} was rewritten"
        )
        if len(inn.history) > len(old.history):
            new[key] = inn.history[len(old.history) :]
    for key in lab.innovations.keys() - before.innovations.keys():
        new[key] = list(lab.innovations[key].history)
    return new


@attrs.frozen
class _Outcome:
    accepted: bool
    result: object = None
    error: CommandError | None = None


class _Checks:
    """The invariants of the design, checked around every command on one lab."""

    def __init__(self, lab: Lab, registry: Registry, clock: StepClock) -> None:
        self.lab = lab
        self.policy = lab.policy
        self.registry = registry
        self.clock = clock
        self.document = lab.policy.to_dict()
        #: stage -> the unit kinds its agreement gate applies to (None: every kind)
        self.agreement_gates: dict[str, list[frozenset[UnitKind] | None]] = {}
        for stage, specs in lab.policy.gates.items():
            for spec in specs:
                if spec.name == "agreement_signed":
                    self.agreement_gates.setdefault(stage, []).append(spec.applies_to)

    # commands -------------------------------------------------------------------------

    def attempt(self, move: _Move) -> _Outcome:
        """Run ``move`` and check invariants 1, 2, 3 and 7 on what it did (or did not do)."""
        lab = self.lab
        note(f"{move.label}")
        before = _Snapshot.of(lab)
        allowed = permitted(lab, move.command, move.by, move.unit)
        try:
            result = move.run()
        except CommandError as exc:
            note(f"  refused: {type(exc).__name__}: {str(exc).splitlines()[0]}")
            after = _Snapshot.of(lab)
            _require(
                after == before,
                1,
                f"{move.label} was refused ({type(exc).__name__}) but changed "
                f"{_difference(before, after)}",
            )
            return _Outcome(False, error=exc)
        _require(
            allowed,
            7,
            f"{move.label} was accepted from {move.by!r}, who holds no role the policy allows "
            f"for {move.command!r} in unit {move.unit!r}",
        )
        new = _appended(before, lab)
        if move.command == "launch_cohort":
            assert isinstance(result, CeremonyResult)
            ceremony = new.pop(lab.id, [])
            _require(
                [e.kind for e in ceremony] == ["lab.ceremony_held"],
                2,
                f"a launch ceremony appended {[e.kind for e in ceremony]} to the lab's history",
            )
            _require(
                set(new) == set(result.launched)
                and all(
                    [e.kind for e in events] == ["innovation.launched"] for events in new.values()
                ),
                2,
                f"the ceremony launched {sorted(result.launched)} but appended "
                f"{ {k: [e.kind for e in v] for k, v in new.items()} }",
            )
        else:
            count = sum(len(events) for events in new.values())
            _require(count == 1, 2, f"{move.label} was accepted and appended {count} events")
        for subject, events in new.items():
            for event in events:
                self.event(event, before.innovations.get(subject), before, move)
        self.state()
        return _Outcome(True, result=result)

    def event(self, event: Event, inn: Innovation | None, before: _Snapshot, move: _Move) -> None:
        """Invariants 2, 3 and 7 of one accepted event, against the state before it."""
        policy = self.policy
        p = event.payload
        _require(
            event.actor == move.by,
            7,
            f"{event.kind} is recorded as by {event.actor!r}, not {move.by!r}",
        )
        if event.kind == "lab.advanced":
            nxt = policy.next_stage(before.stage)
            _require(
                p["from"] == before.stage and nxt is not None and p["to"] == nxt.id,
                2,
                f"the lab moved {p['from']} -> {p['to']}, not one stage on from {before.stage}",
            )
        if inn is None:
            return
        if event.kind == "innovation.advanced":
            nxt = policy.next_stage(inn.stage)
            _require(inn.active, 3, f"the withdrawn {inn.id} advanced")
            _require(
                p["from"] == inn.stage and nxt is not None and p["to"] == nxt.id,
                2,
                f"{inn.id} moved {p['from']} -> {p['to']}, not one stage on from {inn.stage}",
            )
            assert nxt is not None
            if not policy.self_paced:
                _require(
                    policy.index(nxt.id) <= policy.index(before.stage),
                    3,
                    f"{inn.id} entered {nxt.id} ahead of its lab (at {before.stage})",
                )
            found = self.lab.gate_unmet(inn, nxt, event.at)
            _require(
                not found,
                3,
                f"{inn.id} entered {nxt.id} with unmet requirements {[u.code for u in found]}",
            )
            self.agreement(inn, nxt.id)
        elif event.kind == "innovation.returned":
            _require(
                p["from"] == inn.stage and policy.index(p["to"]) < policy.index(inn.stage),
                2,
                f"{inn.id} was returned {p['from']} -> {p['to']}, which is not backwards",
            )
        elif event.kind == "innovation.launched":
            self.launch(inn)
            _require(inn.launch is None, 3, f"{inn.id} was launched twice")
        elif event.kind == "innovation.agreement_signed":
            agreement = inn.agreement
            _require(
                agreement is not None
                and event.actor in (agreement.regional_head, agreement.unit_head)
                and not agreement.signed_by(event.actor),
                7,
                f"{event.actor!r} signed the agreement of {inn.id} without being an unsigned party",
            )
        elif event.kind == "innovation.plan_approved":
            plan = inn.action_plan
            _require(
                plan is not None and plan.submitted_by != event.actor,
                7,
                f"{event.actor!r} approved an action plan of {inn.id} they submitted (or none)",
            )

    def agreement(self, inn: Innovation, stage: str) -> None:
        """Invariant 3: entering an agreement stage needs both parties' signatures."""
        unit = self.lab.units.get(inn.unit)
        for applies_to in self.agreement_gates.get(stage, ()):
            if applies_to is not None and (unit is None or unit.kind not in applies_to):
                continue
            agreement = inn.agreement
            head = self.lab.actors.get(agreement.unit_head) if agreement else None
            _require(
                agreement is not None
                and agreement.signed_by(agreement.regional_head)
                and agreement.signed_by(agreement.unit_head)
                and head is not None
                and head.unit == inn.unit,
                3,
                f"{inn.id} entered {stage} without a performance agreement signed by the "
                f"regional head and the head of {inn.unit}: {agreement!r}",
            )

    def launch(self, inn: Innovation) -> None:
        """Invariant 3: nothing is launched without an action plan approved by another."""
        plan = inn.action_plan
        _require(
            plan is not None
            and plan.approved_by is not None
            and plan.approved_by != plan.submitted_by,
            3,
            f"{inn.id} was launched without an action plan approved by someone else: {plan!r}",
        )
        _require(
            "deliver" in self.policy.stage(inn.stage).covers,
            3,
            f"{inn.id} was launched at {inn.stage}, which does not cover deliver",
        )

    # the whole state ------------------------------------------------------------------

    def state(self) -> None:
        """Invariants 3, 4 and 7 of the whole lab: replay, chains, every history's gates."""
        lab = self.lab
        for verification in lab.verify():
            _require(verification.ok, 4, f"a history does not verify: {verification}")
        replayed = replay_lab(
            lab.history,
            [i.history for i in lab.innovations.values()],
            registry=self.registry,
            clock=lab.clock,
        )
        _require(replayed == lab, 4, "replaying the histories does not give the lab's state")
        for inn in lab.innovations.values():
            self.history(inn)
            if not self.policy.self_paced:
                _require(
                    self.policy.index(inn.stage) <= self.policy.index(lab.stage),
                    3,
                    f"{inn.id} is at {inn.stage}, ahead of its lab at {lab.stage}",
                )
            if inn.agreement is not None:
                parties = {inn.agreement.regional_head, inn.agreement.unit_head}
                strangers = [s.signer for s in inn.agreement.signatures if s.signer not in parties]
                _require(not strangers, 7, f"{strangers} signed the agreement of {inn.id}")

    def history(self, inn: Innovation) -> None:
        """Invariant 3 over a whole history: fold it and look at every gate as it was passed."""
        state: Innovation | None = None
        for event in inn.history:
            if state is not None and event.kind == "innovation.advanced":
                self.agreement(state, event.payload["to"])
            if state is not None and event.kind == "innovation.launched":
                self.launch(state)
            state = apply_innovation(state, event)

    def unchanged_policy(self) -> None:
        _require(
            self.lab.policy.to_dict() == self.document, 1, "the lab's policy changed during the run"
        )


_TAMPERINGS: Final = ("edit", "edit and rehash", "delete", "insert", "forge", "reorder")


def _tamper(history: list[Event], how: str, draw: Draw) -> str:
    """Tamper with ``history`` in place; return what was done."""
    i = draw(st.integers(0, len(history) - 1))
    event = history[i]
    if how == "reorder" and len(history) < 2:
        how = "delete"
    if how in ("edit", "edit and rehash"):
        field = draw(st.sampled_from(["actor", "kind", "payload", "at"]))
        changed: Any = {
            "actor": event.actor + "-palsu",
            "kind": event.kind + "-palsu",
            "payload": {**event.payload, "dipalsukan": True},
            "at": event.at + timedelta(seconds=1),
        }[field]
        forged = attrs.evolve(event, **{field: changed})
        if how == "edit and rehash":
            forged = make_event(
                forged.subject,
                forged.seq,
                forged.at,
                forged.actor,
                forged.kind,
                forged.payload,
                forged.prev,
            )
        history[i] = forged
        return f"{how} the {field} of event {i + 1}"
    if how == "delete":
        del history[i]
        return f"delete event {i + 1}"
    if how == "insert":
        history.insert(i, history[draw(st.integers(0, len(history) - 1))])
        return f"insert a copy of an event at {i + 1}"
    if how == "forge":
        forged = make_event(
            event.subject, i + 1, event.at, "pemalsu", event.kind, dict(event.payload), event.prev
        )
        history.insert(i, forged)
        return f"insert a well-linked forged event at {i + 1}"
    j = draw(st.integers(0, len(history) - 1).filter(lambda j: j != i))
    history[i], history[j] = history[j], history[i]
    return f"swap events {i + 1} and {j + 1}"


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
    loaded = policy if isinstance(policy, Policy) else load_policy(policy, registry=registry)
    replay_registry = registry or loaded.registry
    members = st.just(list(units)) if units is not None else unit_lists(max_size=3)

    class PolicyStateMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self._checks: _Checks | None = None

        @property
        def checks(self) -> _Checks:
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
            self._checks = _Checks(lab, replay_registry, clock)
            self.checks.state()

        @rule(data=st.data())
        def any_command(self, data: st.DataObject) -> None:
            """Anything, by anyone, with any input: mostly refused."""
            self.checks.attempt(_random_move(self.checks.lab, data.draw))

        @rule(data=st.data())
        def progress(self, data: st.DataObject) -> None:
            """A few commands that move the cohort forward, so runs reach the later stages."""
            for _ in range(data.draw(st.integers(1, 4))):
                self.checks.attempt(_guided_move(self.checks.lab, data.draw))

        @rule(data=st.data())
        def check_then_advance(self, data: st.DataObject) -> None:
            """Invariant 6 for an innovation: check changes nothing and decides advance."""
            lab = self.checks.lab
            inn = _innovation_for(lab, data.draw)
            unit = _unit_of(lab, inn)
            by = _actor_for(lab, data.draw, "advance", unit)
            self._decides(
                lambda: lab.check(inn),  # type: ignore[arg-type]
                _call(lab, "advance", "advance", by, unit, inn),
            )

        @rule(data=st.data())
        def check_then_launch(self, data: st.DataObject) -> None:
            """Invariant 6 for a launch: check_launch changes nothing and decides record_launch."""
            lab = self.checks.lab
            inn = _innovation_for(lab, data.draw)
            unit = _unit_of(lab, inn)
            by = _actor_for(lab, data.draw, "record_launch", unit)
            self._decides(
                lambda: lab.check_launch(inn),  # type: ignore[arg-type]
                _call(lab, "record_launch", "record_launch", by, unit, inn, ceremony="Peluncuran"),
            )

        @rule(data=st.data())
        def check_then_advance_lab(self, data: st.DataObject) -> None:
            """Invariant 6 for the lab: check_lab changes nothing and decides advance_lab."""
            lab = self.checks.lab
            by = _actor_for(lab, data.draw, "advance_lab", None)
            self._decides(lab.check_lab, _call(lab, "advance_lab", "advance_lab", by, None))

        def _decides(self, check: Callable[[], Verdict], move: _Move) -> None:
            checks = self.checks
            allowed = permitted(checks.lab, move.command, move.by, move.unit)
            with checks.clock.held():
                before = _Snapshot.of(checks.lab)
                try:
                    verdict: Verdict | None = check()
                except NotFound:
                    verdict = None
                after = _Snapshot.of(checks.lab)
                _require(after == before, 6, f"checking changed {_difference(before, after)}")
                outcome = checks.attempt(move)
            if verdict is None:
                _require(not outcome.accepted, 6, f"{move.label} accepted an unknown subject")
                return
            note(f"  verdict: {list(verdict.codes)}")
            if outcome.accepted:
                _require(
                    verdict.ok, 6, f"{move.label} was accepted although check found {verdict.codes}"
                )
            elif isinstance(outcome.error, GateRefused):
                _require(
                    outcome.error.verdict == verdict,
                    6,
                    f"{move.label} was refused with {outcome.error.verdict.codes}, "
                    f"but check found {verdict.codes}",
                )
            elif allowed and not isinstance(outcome.error, PermissionDenied):
                _require(
                    not verdict.ok,
                    6,
                    f"check found nothing unmet, yet {move.label} was refused: {outcome.error}",
                )

        @rule(data=st.data(), how=st.sampled_from(_TAMPERINGS))
        def tamper(self, data: st.DataObject, how: str) -> None:
            """Invariant 4: any tampering with a history (a copy of it) is detected."""
            lab = self.checks.lab
            histories = [
                lab.history,
                *(lab.innovations[k].history for k in sorted(lab.innovations)),
            ]
            history = list(data.draw(st.sampled_from(histories)))
            head = history[-1].hash
            what = _tamper(history, how, data.draw)
            note(f"tampering: {what}")
            _require(not verify(history, head=head).ok, 4, f"verify missed a tampering: {what}")

        def teardown(self) -> None:
            if self._checks is not None:
                self.checks.unchanged_policy()

    name = "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", loaded.id)) or "Policy"
    PolicyStateMachine.__name__ = PolicyStateMachine.__qualname__ = f"{name}StateMachine"
    return PolicyStateMachine
