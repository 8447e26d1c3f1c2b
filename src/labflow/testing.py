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
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, TypeVar

import attrs
from hypothesis import strategies as st

from labflow.errors import CommandError
from labflow.lab import Lab
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
    about half of them moves that make progress, the rest anything by anyone,
    often refused. Its clock is a `StepClock` from ``start``, so the same draw
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
            move = _guided_move(lab, draw) if draw(st.booleans()) else _random_move(lab, draw)
            with contextlib.suppress(CommandError):
                move.run()
        return lab

    return build()
