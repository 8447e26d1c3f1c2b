"""The lab: one region's programme, its cohort of innovations, and every command on them.

A `Lab` is created from a policy and changes only through its commands. Each
command checks the actor's role, validates its input, and evaluates every
requirement that applies; a refusal raises a `CommandError` and changes
nothing. An accepted command builds one event, applies it with the same fold
`replay` uses, and emits it through structlog (`labflow.audit`).
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Concatenate, Final, ParamSpec, TypeVar

import attrs

from labflow import _text as _rules
from labflow import audit
from labflow._attributes import attribute_problems
from labflow._catalogue import CATALOGUE, COMMANDS, CommandSpec, by_name
from labflow._engine import Engine, engine_for
from labflow._fold import (
    INNOVATION_KINDS,
    actor_from,
    actor_payload,
    apply_innovation,
    diagnosis_payload,
    plan_payload,
    replication_payload,
    unit_from,
    unit_payload,
)
from labflow._gates import (
    advance_unmet,
    counterparty_refused,
    lab_entered,
    lab_verdict,
    launch_verdict,
    past_agreement,
    permitted,
    unit_kind,
    unit_kind_refused,
)
from labflow._hooks import Hooks, Subscriptions
from labflow._limits import MAX_INT
from labflow._replay import SCHEMA, fold_lab, gate_record
from labflow.errors import (
    CommandError,
    GateRefused,
    HistoryError,
    InvalidCommand,
    NotFound,
    PermissionDenied,
)
from labflow.events import GENESIS, Event, Verification, make_event, verify
from labflow.model import (
    Actor,
    Diagnosis,
    Initiator,
    Innovation,
    PlanStep,
    Replication,
    Role,
    Unit,
    UnitKind,
)
from labflow.policy import Policy, Stage
from labflow.requirements import (
    CohortContext,
    Registry,
    Unmet,
    Verdict,
    gate_unmet,
    run_all,
    unmet,
)

__all__ = ["CeremonyResult", "Clock", "Lab", "replay_innovation", "replay_lab", "system_clock"]

#: Where a lab reads the time from: a callable returning an aware `datetime`.
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


P = ParamSpec("P")
R = TypeVar("R")


def _command(
    name: str,
) -> Callable[[Callable[Concatenate[Lab, P], R]], Callable[Concatenate[Lab, P], R]]:
    """Mark a method as the command ``name``: every refusal it raises is emitted, then re-raised."""

    def decorate(method: Callable[Concatenate[Lab, P], R]) -> Callable[Concatenate[Lab, P], R]:
        @functools.wraps(method)
        def run(self: Lab, /, *args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return method(self, *args, **kwargs)
            except GateRefused as exc:
                if not self._dry:
                    audit.gate_refused(self, name, str(kwargs.get("by")), exc.verdict)
                raise
            except CommandError as exc:
                if not self._dry:
                    subject = args[0] if args and isinstance(args[0], str) else None
                    audit.command_refused(self, name, str(kwargs.get("by")), subject, exc)
                raise

        return run

    return decorate


#: The Indonesian for the fields `_text` and `_ident` name in their refusals.
_FIELDS_ID: Final = {
    "lab id": "ID laboratorium",
    "region": "daerah",
    "actor id": "ID pelaku",
    "unit id": "ID unit",
    "innovation id": "ID inovasi",
    "unit name": "nama unit",
    "actor name": "nama pelaku",
    "title": "judul",
    "problem": "masalah",
    "innovators": "inovator",
    "origin": "asal",
    "adaptation": "adaptasi",
    "origin region": "daerah asal",
    "diagnosis problem": "masalah diagnosis",
    "root causes": "akar masalah",
    "readiness": "kesiapan",
    "step description": "uraian langkah",
    "person responsible": "penanggung jawab",
    "stakeholders": "pemangku kepentingan",
    "documents": "dokumen",
    "regional head": "kepala daerah",
    "unit head": "kepala unit",
    "terms": "ketentuan",
    "reference": "rujukan",
    "ceremony": "upacara",
    "event": "acara",
    "booth": "stan",
    "reason": "alasan",
    "roles": "peran",
    "innovation ids": "ID inovasi",
}


def _id_of(what: str) -> str:
    return _FIELDS_ID.get(what, what)


def _text(value: object, what: str, *, empty: bool = True) -> str:
    # the one free-text rule, with the field named in both languages
    return _rules.check_text(value, what, empty=empty, what_id=_id_of(what))


def _texts(value: object, what: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidCommand(
            f"The {what} must be a list of texts.",
            f"{_id_of(what).capitalize()} harus berupa daftar teks.",
            code="input.not_texts",
            data={"field": what},
        )
    items = tuple(value)
    for item in items:
        _text(item, what)
    return items


def _ident(value: object, what: str) -> str:
    return _rules.check_ident(value, what, what_id=_id_of(what))  # the one identifier rule


@attrs.frozen
class CeremonyResult:
    """What a launch ceremony did: the innovations launched, and why the others were not."""

    ceremony: str
    launched: tuple[str, ...]
    refused: Mapping[str, Verdict]
    events: tuple[Event, ...]


@attrs.define(eq=True)
class Lab:
    """One region's innovation lab: its policy, stage, units, actors and cohort.

    Create one with `Lab.create`; rebuild one from its histories with `replay_lab`.
    Every command takes the acting actor's id as ``by=``.
    """

    id: str
    region: str
    policy: Policy
    stage: str
    units: dict[str, Unit] = attrs.field(factory=dict)
    actors: dict[str, Actor] = attrs.field(factory=dict)
    innovations: dict[str, Innovation] = attrs.field(factory=dict)
    history: list[Event] = attrs.field(factory=list, repr=False)
    clock: Clock = attrs.field(default=system_clock, eq=False, repr=False, kw_only=True)
    _engine: Engine = attrs.field(init=False, eq=False, repr=False)
    _hooks: Hooks = attrs.field(init=False, factory=Hooks, eq=False, repr=False)
    _gates: dict[tuple[str, UnitKind | None], list[str]] = attrs.field(
        init=False, eq=False, repr=False, factory=dict
    )
    #: a throwaway copy that `check` runs a command on: it emits nothing, skips the role check
    _dry: bool = attrs.field(init=False, default=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self._engine = engine_for(self.policy)

    # --- creation ---------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        policy: Policy,
        *,
        id: str,
        region: str,
        by: str,
        units: Iterable[Unit] = (),
        actors: Iterable[Actor] = (),
        clock: Clock = system_clock,
    ) -> Lab:
        """Open a lab at the policy's first stage, with its founding units and actors."""
        _ident(id, "lab id")
        _text(region, "region", empty=False)
        _text(by, "actor id", empty=False)
        if not isinstance(policy, Policy):
            raise InvalidCommand(
                "A lab needs a Policy; load one with labflow.load_policy().",
                "Laboratorium memerlukan Policy; muat dengan labflow.load_policy().",
                code="input.not_policy",
            )
        units, actors = list(units), list(actors)
        lab = cls(id, region, policy, policy.stages[0].id, clock=clock)
        for unit in units:
            lab._check_new_unit(unit)
            lab.units[unit.id] = unit
        for actor in actors:
            lab._check_new_actor(actor)
            lab.actors[actor.id] = actor
        lab.units.clear()
        lab.actors.clear()
        payload = {
            "id": id,
            "region": region,
            "policy": policy.to_dict(),
            "units": [unit_payload(u) for u in units],
            "actors": [actor_payload(a) for a in actors],
        }
        lab._commit_lab(by, "lab.created", payload)
        return lab

    # --- queries ----------------------------------------------------------------------

    @property
    def version(self) -> int:
        """How many events the lab's own history holds."""
        return len(self.history)

    @property
    def entered(self) -> Mapping[str, datetime]:
        """When the lab entered each stage it has reached (deadlines may count from it)."""
        return lab_entered(self.history)

    def now(self) -> datetime:
        """The lab clock's time; it must be timezone-aware."""
        moment = self.clock()
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            raise InvalidCommand(
                "The lab's clock must return a timezone-aware datetime.",
                "Jam laboratorium harus mengembalikan datetime yang berzona waktu.",
                code="clock.naive",
            )
        return moment

    def innovation(self, innovation_id: str) -> Innovation:
        """The innovation with this id; `NotFound` if there is none."""
        try:
            return self.innovations[innovation_id]
        except (KeyError, TypeError):
            raise NotFound("innovation", str(innovation_id), where=f"lab {self.id!r}") from None

    def _stage(self, stage: str) -> Stage:
        return self.policy.stage(stage)

    def gate_unmet(self, innovation: Innovation, stage: Stage, now: datetime) -> tuple[Unmet, ...]:
        """Every unmet requirement of ``stage``'s gate for ``innovation``, the gate alone."""
        return gate_unmet(self, innovation, stage, now)

    def check(
        self,
        command: str,
        subject: str | None = None,
        /,
        *,
        by: str | None = None,
        to: str | None = None,
        **arguments: Any,
    ) -> Verdict:
        """Whether ``by`` could run ``command`` on ``subject`` now, and why not; changes nothing.

        ``lab.check("advance", "muttu-1000", by="sekretariat")`` runs the command on a
        throwaway copy of the lab at this moment and reports every reason it would be
        refused: the actor's permission (code ``permission.*``) and then everything the
        command finds unmet -- a gate's every requirement, or the first precondition it
        stops at. `send` with the same arguments succeeds exactly when this is clean.

        The original form ``lab.check(innovation_id)`` (no ``by``) still answers what stands
        between an innovation and its next stage (or ``to``), with no actor considered.
        """
        if by is None:  # check(innovation_id) or check(innovation_id, to)
            return self._advance_verdict(command, to if to is not None else subject)
        return self._dry_run(command, subject, by, arguments)

    def _advance_verdict(self, innovation_id: str, to: str | None) -> Verdict:
        inn = self.innovation(innovation_id)
        target, found = self._check(inn, to, self.now())
        return Verdict(inn.id, "advance", target, tuple(found))

    # --- send, check, allowed -------------------------------------------------------------

    def send(
        self, command: str, subject: str | None = None, /, *, by: str, **arguments: Any
    ) -> Any:
        """Run ``command`` (a name of `labflow.COMMANDS`) on ``subject`` as ``by``.

        ``lab.send("advance", "muttu-1000", by="sekretariat")`` is ``lab.advance("muttu-1000",
        by="sekretariat")``; ``arguments`` are the command's own (``reason=``, ``title=``...).
        Returns what the command returns (an `Event`, or a `CeremonyResult`).
        """
        spec = _spec(command)
        return _invoke(self, spec, subject, by, arguments)

    def allowed(self, *, by: str, subject: str | None = None) -> dict[str, Verdict]:
        """Every command ``by`` might run on ``subject`` (the lab when ``None``), with its verdict.

        A command that needs no arguments of its own (``advance``, ``approve_plan``,
        ``sign_agreement``, ``advance_lab``) is judged whole, as `check` does; one that
        needs arguments is judged on what does not depend on them: the actor's permission
        and the subject's status.
        """
        level = "lab" if subject is None else "innovation"
        found: dict[str, Verdict] = {}
        now = self.now()  # one moment for every verdict
        for spec in CATALOGUE:
            if spec.level != level or spec.opens:
                continue
            if not spec.arguments:
                found[spec.name] = self._dry_run(spec.name, subject, by, {}, now)
            else:
                found[spec.name] = self._standing(spec, subject, by)
        return found

    def _standing(self, spec: CommandSpec, subject: str | None, by: str) -> Verdict:
        """The permission and status verdict of a command that needs arguments."""
        items = list(self._permission_unmet(spec, subject, by, {}))
        target = self.stage
        if subject is not None:
            inn = self.innovation(subject)
            target = inn.stage
            if spec.name == "reinstate" and inn.active:
                items.append(
                    unmet(
                        "innovation.not_withdrawn",
                        f"{inn.id} is not withdrawn.",
                        f"{inn.id} tidak sedang ditarik.",
                    )
                )
            elif spec.name != "reinstate" and not inn.active:
                items.append(
                    unmet(
                        "innovation.withdrawn",
                        "The innovation is withdrawn; reinstate it first.",
                        "Inovasi sudah ditarik; aktifkan kembali terlebih dahulu.",
                    )
                )
        return Verdict(subject or self.id, spec.name, target, tuple(items))

    def _permission_unmet(
        self, spec: CommandSpec, subject: str | None, by: str, arguments: Mapping[str, Any]
    ) -> list[Unmet]:
        unit: str | None = None
        if spec.opens:
            unit = arguments.get("unit")
        elif spec.level == "innovation" and subject is not None:
            unit = self.innovation(subject).unit
        try:
            self._authorize(spec.name, by, unit)
        except CommandError as exc:
            return [_unmet_of(exc)]
        return []

    def _dry_run(
        self,
        command: str,
        subject: str | None,
        by: str,
        arguments: Mapping[str, Any],
        now: datetime | None = None,
    ) -> Verdict:
        spec = _spec(command)
        found = self._permission_unmet(spec, subject, by, arguments)
        now = self.now() if now is None else now
        shadow = self._shadow(spec, subject, now)
        target = (
            self.stage
            if subject is None or subject not in self.innovations
            else (self.innovations[subject].stage)
        )
        try:
            _invoke(shadow, spec, subject, by, arguments)
        except GateRefused as exc:
            target = exc.verdict.target
            found.extend(exc.verdict.unmet)
        except CommandError as exc:
            item = _unmet_of(exc)
            if all(f.code != item.code for f in found):
                found.append(item)
        return Verdict(subject or self.id, command, target, tuple(found))

    def _shadow(self, spec: CommandSpec, subject: str | None, now: datetime) -> Lab:
        """A copy the command can change without touching this lab: what it could change, copied."""
        shadow = copy.copy(self)
        shadow._dry = True
        shadow.clock = lambda: now
        shadow.units = dict(self.units)
        shadow.actors = dict(self.actors)
        shadow.history = list(self.history)
        shadow.innovations = dict(self.innovations)
        chosen = list(self.innovations) if spec.name == "launch_cohort" else [subject]
        for ident in chosen:
            inn = self.innovations.get(ident) if ident is not None else None
            if inn is not None:
                shadow.innovations[inn.id] = attrs.evolve(inn, history=list(inn.history))
        return shadow

    def _check(self, inn: Innovation, to: str | None, now: datetime) -> tuple[str, list[Unmet]]:
        """The target stage of a move and everything unmet (the hot path of `advance`)."""
        return advance_unmet(self, self._engine, inn, to, now)

    def check_launch(self, innovation_id: str) -> Verdict:
        """What stands between an innovation and its launch; changes nothing.

        An innovation is launched at the policy's launch stage, once, while
        active, with an approved action plan (always), and with the policy's
        ``launch`` requirements met.
        """
        return self._check_launch(self.innovation(innovation_id), self.now())

    def _check_launch(self, inn: Innovation, now: datetime) -> Verdict:
        return launch_verdict(self, inn, now)

    def check_lab(self) -> Verdict:
        """What keeps the lab from its next stage (the cohort conditions); changes nothing."""
        return self._check_lab(self.now())

    def _check_lab(self, now: datetime) -> Verdict:
        return lab_verdict(self, self._engine, now)

    def verify(self) -> tuple[Verification, ...]:
        """Verify the lab's history and every innovation's; one result each, the lab's first."""
        return (verify(self.history), *(verify(i.history) for i in self.innovations.values()))

    def subscribe(self, subscriptions: Subscriptions) -> None:
        """Call the host's callbacks when innovations or the lab enter or leave a stage.

        Replaces any subscriptions given before; see `labflow.Subscriptions`.
        """
        self._hooks.attach(self._engine, subscriptions, f"policy {self.policy.id!r}")

    # --- authorisation ----------------------------------------------------------------

    def _authorize(self, command: str, by: object, unit: str | None) -> Actor:
        actor_id = _text(by, "actor id", empty=False)
        actor = self.actors.get(actor_id)
        if actor is None:
            raise NotFound("actor", actor_id, where=f"lab {self.id!r}")
        if self._dry:  # `check` judged the permission apart, to report it with the rest
            return actor
        if permitted(self.policy, actor, command, unit):
            return actor
        allowed = self.policy.allowed(command)
        held = actor.roles & allowed
        if held:
            raise PermissionDenied(
                actor_id,
                command,
                f"their roles {sorted(held)} act only within their own unit, not {unit!r}",
                f"peran mereka {sorted(held)} hanya berlaku di unit sendiri, bukan {unit!r}",
                code="permission.outside_unit",
                data={"roles": sorted(held), "unit": unit},
            )
        needed = sorted(allowed) or ["(none)"]
        raise PermissionDenied(
            actor_id,
            command,
            f"it needs one of the roles {needed}",
            f"diperlukan salah satu peran {needed}",
            code="permission.role",
            data={"roles": sorted(allowed)},
        )

    # --- committing -------------------------------------------------------------------

    def _commit(
        self,
        inn: Innovation,
        by: str,
        kind: str,
        payload: dict[str, Any],
        now: datetime | None = None,
    ) -> Event:
        payload["lab_v"] = len(self.history)
        event = _next_event(
            inn.id, inn.history, self.now() if now is None else now, by, kind, payload
        )
        apply_innovation(inn, event)
        audit.applied(self, event, inn)
        if not self._dry:  # a check's throwaway copy moves nothing a host watches
            self._hooks.applied(event, inn.stage)
        return event

    def _commit_lab(
        self, by: str, kind: str, payload: dict[str, Any], now: datetime | None = None
    ) -> Event:
        at = self.now() if now is None else now
        event = _next_event(self.id, self.history, at, by, kind, payload)
        _apply_lab(self, event)
        audit.applied(self, event)
        if not self._dry:
            self._hooks.applied(event, self.stage)
        return event

    def _past_agreement(self, inn: Innovation) -> bool:
        """Whether ``inn`` has entered a stage whose gate requires a signed agreement of it."""
        return past_agreement(self, inn)

    def _active(self, innovation_id: str) -> Innovation:
        inn = self.innovation(innovation_id)
        if not inn.active:
            raise InvalidCommand(
                f"{inn.id} is withdrawn; reinstate it first.",
                f"{inn.id} sudah ditarik; aktifkan kembali terlebih dahulu.",
                code="innovation.withdrawn",
                data={"innovation": inn.id},
            )
        return inn

    def _check_new_unit(self, unit: object) -> Unit:
        if not isinstance(unit, Unit):
            raise InvalidCommand(
                f"A unit must be a labflow.Unit, not {type(unit).__name__}.",
                f"Unit harus berupa labflow.Unit, bukan {type(unit).__name__}.",
                code="input.not_unit",
            )
        _ident(unit.id, "unit id")
        _text(unit.name, "unit name", empty=False)
        if unit.kind not in self.policy.settings.unit_kinds:
            raise InvalidCommand(
                *unit_kind_refused(self.policy, unit), code="unit.kind_not_allowed"
            )
        if unit.id in self.units:
            raise InvalidCommand(
                f"The unit {unit.id!r} is already part of the lab.",
                f"Unit {unit.id!r} sudah terdaftar di laboratorium.",
                code="unit.exists",
                data={"unit": unit.id},
            )
        return unit

    def _check_new_actor(self, actor: object) -> Actor:
        if not isinstance(actor, Actor):
            raise InvalidCommand(
                f"An actor must be a labflow.Actor, not {type(actor).__name__}.",
                f"Pelaku harus berupa labflow.Actor, bukan {type(actor).__name__}.",
                code="input.not_actor",
            )
        _ident(actor.id, "actor id")
        _text(actor.name, "actor name", empty=False)
        if actor.id in self.actors:
            raise InvalidCommand(
                f"The actor {actor.id!r} is already part of the lab.",
                f"Pelaku {actor.id!r} sudah terdaftar di laboratorium.",
                code="actor.exists",
                data={"actor": actor.id},
            )
        self._check_roles(actor.roles)
        if actor.unit is not None and _ident(actor.unit, "unit id") not in self.units:
            raise NotFound("unit", str(actor.unit), where=f"lab {self.id!r}")
        return actor

    def _check_roles(self, roles: Iterable[str]) -> None:
        unknown = sorted(r for r in roles if r not in self.policy.roles)
        if unknown:
            raise InvalidCommand(
                f"The roles {unknown} are not roles of the policy {self.policy.id!r}.",
                f"Peran {unknown} tidak dikenal dalam kebijakan {self.policy.id!r}.",
                code="roles.unknown",
                data={"roles": unknown},
            )

    # --- lab commands -----------------------------------------------------------------

    @_command("add_unit")
    def add_unit(self, unit: Unit, *, by: str) -> Event:
        """Bring a unit (an agency, clinic, village, or a non-government exhibitor) into the lab."""
        self._authorize("add_unit", by, None)
        self._check_new_unit(unit)
        return self._commit_lab(by, "lab.unit_added", {"unit": unit_payload(unit)})

    @_command("add_actor")
    def add_actor(self, actor: Actor, *, by: str) -> Event:
        """Bring a person into the lab with the roles the policy knows them by."""
        self._authorize("add_actor", by, None)
        self._check_new_actor(actor)
        return self._commit_lab(by, "lab.actor_added", {"actor": actor_payload(actor)})

    @_command("set_roles")
    def set_roles(self, actor_id: str, roles: Iterable[str], *, by: str) -> Event:
        """Replace an actor's roles (a facilitator handing over to the region, say)."""
        self._authorize("set_roles", by, None)
        if _ident(actor_id, "actor id") not in self.actors:
            raise NotFound("actor", str(actor_id), where=f"lab {self.id!r}")
        new = frozenset(_texts(roles, "roles"))
        self._check_roles(new)
        return self._commit_lab(by, "lab.roles_set", {"actor": actor_id, "roles": sorted(new)})

    @_command("advance_lab")
    def advance_lab(self, *, by: str) -> Event:
        """Move the whole lab to its next stage, if the cohort conditions hold."""
        self._authorize("advance_lab", by, None)
        now = self.now()
        target = self._engine.advance_lab(
            self.stage,
            lambda spec, to: not run_all((spec,), CohortContext(self, self.policy.stage(to), now)),
        )
        if target is None:
            raise GateRefused(self._check_lab(now))
        # What the decision counted, so that replay can judge it on the same cohort.
        counted = {i.id: len(i.history) for i in self.innovations.values()}
        payload = {"from": self.stage, "to": target, "cohort": counted}
        return self._commit_lab(by, "lab.advanced", payload, now)

    @_command("launch_cohort")
    def launch_cohort(
        self, *, ceremony: str, by: str, innovations: Iterable[str] | None = None
    ) -> CeremonyResult:
        """Launch, at one ceremony, every innovation that may be launched; report the rest.

        Considers ``innovations`` (default: every active innovation not yet
        launched). Each one passing `check_launch` gets a launch event; the others
        are returned with their verdicts; the lab records the ceremony. Nothing is
        applied unless everything can be.
        """
        self._authorize("launch_cohort", by, None)
        _text(ceremony, "ceremony", empty=False)
        if not self._engine.hold_ceremony(self.stage):
            raise InvalidCommand(
                f"A launch ceremony is held when the lab is at the deliver stage, "
                f"not at {self.stage}.",
                f"Upacara peluncuran diadakan saat laboratorium di tahap deliveri, "
                f"bukan di {self.stage}.",
                code="launch.wrong_stage",
                data={"stage": self.stage},
            )
        if innovations is None:
            candidates = [i for i in self.innovations.values() if i.active and i.launch is None]
        else:
            ids = _texts(innovations, "innovation ids")
            candidates = [self.innovation(i) for i in dict.fromkeys(ids)]
        now = self.now()
        verdicts = {inn.id: self._check_launch(inn, now) for inn in candidates}
        ready = [inn for inn in candidates if verdicts[inn.id].ok]
        refused = {k: v for k, v in verdicts.items() if not v.ok}
        summary = {
            "ceremony": ceremony,
            "launched": [inn.id for inn in ready],
            "refused": {k: list(v.codes) for k, v in refused.items()},
        }
        # Every event is built -- one clock reading, every encoding done -- before any is
        # applied, so nothing that can fail comes after the first launch: nothing partial.
        launched = {"ceremony": ceremony, "lab_v": len(self.history)}
        launches = [
            (inn, _next_event(inn.id, inn.history, now, by, "innovation.launched", launched))
            for inn in ready
        ]
        held = _next_event(self.id, self.history, now, by, "lab.ceremony_held", summary)
        for inn, event in launches:
            apply_innovation(inn, event)
            audit.applied(self, event, inn)
        _apply_lab(self, held)
        audit.applied(self, held)
        events = (*(event for _, event in launches), held)
        return CeremonyResult(ceremony, tuple(i.id for i in ready), refused, events)

    # --- innovation commands ----------------------------------------------------------

    @_command("register")
    def register(
        self,
        innovation_id: str,
        *,
        title: str,
        unit: str,
        innovators: Sequence[str],
        problem: str,
        initiator: Initiator | str = Initiator.ASN,
        by: str,
        attributes: Mapping[str, Any] | None = None,
    ) -> Event:
        """Enter an idea into the lab's inventory; it starts at the policy's first stage.

        ``attributes`` are values of the attributes the policy declares
        (`Policy.attributes`: jenis, bentuk, ...); any other name or a value of the
        wrong type is refused.
        """
        _ident(innovation_id, "innovation id")
        self._authorize("register", by, _ident(unit, "unit id"))
        if innovation_id in self.innovations:
            raise InvalidCommand(
                f"The innovation {innovation_id!r} is already registered.",
                f"Inovasi {innovation_id!r} sudah terdaftar.",
                code="innovation.exists",
                data={"innovation": innovation_id},
            )
        if unit not in self.units:
            raise NotFound("unit", str(unit), where=f"lab {self.id!r}")
        payload: dict[str, Any] = {
            "lab": self.id,
            "title": _text(title, "title"),
            "unit": unit,
            "innovators": list(_texts(innovators, "innovators")),
            "problem": _text(problem, "problem"),
            "initiator": _initiator(initiator, self.policy).value,
            "stage": self.policy.stages[0].id,
        }
        values = self._attributes(attributes)
        if values:
            payload["attributes"] = values
        return self._open(innovation_id, by, "innovation.registered", payload)

    def _attributes(self, values: Mapping[str, Any] | None) -> dict[str, Any]:
        """``values`` checked against the policy's declared attributes; `InvalidCommand` if not."""
        if values is None:
            return {}
        clean, problems = attribute_problems(self.policy.attributes, values)
        if problems:
            raise InvalidCommand(
                " ".join(en for _, en, _ in problems),
                " ".join(id_ for _, _, id_ in problems),
                code="command.attributes",
                data={"attributes": [key for key, _, _ in problems]},
            )
        for key, value in clean.items():
            if isinstance(value, str):
                _text(value, f"attribute {key}")
        return {k: v for k, v in clean.items() if v is not None}

    def _open(self, innovation_id: str, by: str, kind: str, payload: dict[str, Any]) -> Event:
        payload["lab_v"] = len(self.history)
        event = _next_event(innovation_id, (), self.now(), by, kind, payload)
        inn = apply_innovation(None, event)
        self.innovations[inn.id] = inn
        audit.applied(self, event, inn)
        return event

    @_command("replicate")
    def replicate(
        self,
        innovation_id: str,
        *,
        origin: str,
        unit: str,
        adaptation: str,
        by: str,
        origin_region: str | None = None,
        title: str | None = None,
        innovators: Sequence[str] = (),
        problem: str | None = None,
        initiator: Initiator | str = Initiator.ASN,
    ) -> Event:
        """Open a replica of a launched innovation in another unit, or of one from another region.

        ``origin`` is an innovation id of this lab, unless ``origin_region`` names
        another region. ``adaptation`` says how it was adapted to the local context.
        """
        _ident(innovation_id, "innovation id")
        self._authorize("replicate", by, _ident(unit, "unit id"))
        if innovation_id in self.innovations:
            raise InvalidCommand(
                f"The innovation {innovation_id!r} is already registered.",
                f"Inovasi {innovation_id!r} sudah terdaftar.",
                code="innovation.exists",
                data={"innovation": innovation_id},
            )
        if unit not in self.units:
            raise NotFound("unit", str(unit), where=f"lab {self.id!r}")
        _text(origin, "origin", empty=False)
        _text(adaptation, "adaptation")
        if origin_region is None or origin_region == self.region:
            source = self.innovation(origin)
            if source.launch is None:
                raise InvalidCommand(
                    f"{origin} has not been launched; only launched ones replicate.",
                    f"{origin} belum diluncurkan; hanya inovasi yang sudah diluncurkan "
                    "yang dapat direplikasi.",
                    code="replication.origin_not_launched",
                    data={"origin": origin},
                )
            if source.unit == unit:
                raise InvalidCommand(
                    f"{origin} already belongs to {unit}; replicate it elsewhere.",
                    f"{origin} sudah milik {unit}; replikasikan di unit lain.",
                    code="replication.same_unit",
                    data={"origin": origin, "unit": unit},
                )
            replication = Replication(self.region, origin, adaptation, source.title)
            title = source.title if title is None else title
            problem = source.problem if problem is None else problem
        else:
            _text(origin_region, "origin region", empty=False)
            if title is None or problem is None:
                raise InvalidCommand(
                    "A replica of another region's innovation needs its title and problem.",
                    "Replika inovasi daerah lain memerlukan judul dan masalahnya.",
                    code="replication.needs_title",
                )
            replication = Replication(origin_region, origin, adaptation, title)
        payload: dict[str, Any] = {
            "lab": self.id,
            "title": _text(title, "title"),
            "unit": unit,
            "innovators": list(_texts(innovators, "innovators")),
            "problem": _text(problem, "problem"),
            "initiator": _initiator(initiator, self.policy).value,
            "stage": self.policy.stages[0].id,
            "replication": replication_payload(replication),
        }
        return self._open(innovation_id, by, "innovation.replicated", payload)

    @_command("record_diagnosis")
    def record_diagnosis(self, innovation_id: str, diagnosis: Diagnosis, *, by: str) -> Event:
        """Record (or replace) the diagnosis: the problem, root causes, the unit's readiness."""
        inn = self._active(innovation_id)
        self._authorize("record_diagnosis", by, inn.unit)
        if not isinstance(diagnosis, Diagnosis):
            raise InvalidCommand(
                "A diagnosis must be a labflow.Diagnosis.",
                "Diagnosis harus berupa labflow.Diagnosis.",
                code="input.not_diagnosis",
            )
        _text(diagnosis.problem, "diagnosis problem")
        _texts(diagnosis.root_causes, "root causes")
        _text(diagnosis.readiness, "readiness")
        return self._commit(inn, by, "innovation.diagnosis_recorded", diagnosis_payload(diagnosis))

    @_command("submit_plan")
    def submit_plan(
        self,
        innovation_id: str,
        *,
        steps: Sequence[PlanStep],
        by: str,
        stakeholders: Sequence[str] = (),
        budget: int | None = None,
        documents: Sequence[str] = (),
    ) -> Event:
        """Submit (or resubmit) the action plan; resubmitting withdraws any earlier approval."""
        inn = self._active(innovation_id)
        self._authorize("submit_plan", by, inn.unit)
        if inn.launch is not None:
            raise InvalidCommand(
                f"{inn.id} is launched; its action plan can no longer change.",
                f"{inn.id} sudah diluncurkan; rencana aksinya tidak dapat diubah lagi.",
                code="action_plan.frozen",
                data={"innovation": inn.id},
            )
        if not isinstance(steps, list | tuple) or not all(isinstance(s, PlanStep) for s in steps):
            raise InvalidCommand(
                "The steps must be a list of labflow.PlanStep.",
                "Langkah-langkah harus berupa daftar labflow.PlanStep.",
                code="input.not_steps",
            )
        for step in steps:
            _text(step.description, "step description")
            _text(step.responsible, "person responsible")
            if type(step.due) is not date:  # a datetime is a date too, but not a due date
                raise InvalidCommand(
                    "A step's due date must be a datetime.date.",
                    "Tenggat sebuah langkah harus berupa datetime.date.",
                    code="input.not_date",
                )
        if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int)):
            raise InvalidCommand(
                "The budget must be a whole number of rupiah.",
                "Anggaran harus berupa bilangan bulat rupiah.",
                code="input.budget",
            )
        if budget is not None and not 0 <= budget <= MAX_INT:  # JSON writes it back exactly
            raise InvalidCommand(
                f"The budget must be between 0 and {MAX_INT} rupiah.",
                f"Anggaran harus antara 0 dan {MAX_INT} rupiah.",
                code="input.budget",
            )
        payload = plan_payload(
            steps, _texts(stakeholders, "stakeholders"), budget, _texts(documents, "documents")
        )
        return self._commit(inn, by, "innovation.plan_submitted", payload)

    @_command("approve_plan")
    def approve_plan(self, innovation_id: str, *, by: str) -> Event:
        """Approve the submitted action plan; its own author may not."""
        inn = self._active(innovation_id)
        actor = self._authorize("approve_plan", by, inn.unit)
        plan = inn.action_plan
        if plan is None:
            raise InvalidCommand(
                f"{inn.id} has no action plan to approve.",
                f"{inn.id} belum memiliki rencana aksi untuk disetujui.",
                code="action_plan.missing",
                data={"innovation": inn.id},
            )
        if plan.approved:
            raise InvalidCommand(
                f"The action plan of {inn.id} is already approved.",
                f"Rencana aksi {inn.id} sudah disetujui.",
                code="action_plan.already_approved",
                data={"innovation": inn.id},
            )
        if plan.submitted_by == actor.id:
            raise PermissionDenied(
                actor.id,
                "approve_plan",
                "they submitted this action plan",
                "mereka sendiri yang mengajukan rencana aksi ini",
                code="permission.own_plan",
            )
        payload = {"roles": sorted(actor.roles)}
        return self._commit(inn, actor.id, "innovation.plan_approved", payload)

    @_command("draw_up_agreement")
    def draw_up_agreement(
        self, innovation_id: str, *, regional_head: str, unit_head: str, by: str, terms: str = ""
    ) -> Event:
        """Draw up the performance agreement between the regional head and the unit's head.

        Replaces any earlier draft, and with it any signatures -- until the innovation has
        passed the policy's agreement gate: from then on a signed agreement is binding.
        """
        inn = self._active(innovation_id)
        self._authorize("draw_up_agreement", by, inn.unit)
        if inn.agreement is not None and inn.agreement.complete and self._past_agreement(inn):
            raise InvalidCommand(
                f"{inn.id} has passed the agreement gate; its signed agreement is binding.",
                f"{inn.id} sudah melewati gerbang perjanjian; perjanjian yang ditandatangani "
                "mengikat.",
                code="agreement.binding",
                data={"innovation": inn.id},
            )
        head = self.actors.get(_ident(regional_head, "regional head"))
        if head is None or self.policy.settings.agreement_counterparty not in head.roles:
            raise InvalidCommand(
                *counterparty_refused(self.policy, regional_head),
                code="agreement.not_regional_head",
                data={"actor": regional_head},
            )
        chief = self.actors.get(_ident(unit_head, "unit head"))
        if chief is None or Role.UNIT_HEAD not in chief.roles or chief.unit != inn.unit:
            raise InvalidCommand(
                f"{unit_head!r} is not the head of {inn.unit}, which owns {inn.id}.",
                f"{unit_head!r} bukan kepala {inn.unit}, pemilik {inn.id}.",
                code="agreement.not_unit_head",
                data={"actor": unit_head, "unit": inn.unit},
            )
        if regional_head == unit_head:
            raise InvalidCommand(
                "The two parties of an agreement must be different people.",
                "Kedua pihak dalam perjanjian harus orang yang berbeda.",
                code="agreement.same_party",
            )
        payload = {
            "regional_head": regional_head,
            "unit_head": unit_head,
            "terms": _text(terms, "terms"),
        }
        return self._commit(inn, by, "innovation.agreement_drawn_up", payload)

    @_command("sign_agreement")
    def sign_agreement(self, innovation_id: str, *, by: str) -> Event:
        """Sign the performance agreement; only the two parties it names can."""
        inn = self._active(innovation_id)
        actor = self._authorize("sign_agreement", by, inn.unit)
        agreement = inn.agreement
        if agreement is None:
            raise InvalidCommand(
                f"{inn.id} has no performance agreement to sign.",
                f"{inn.id} belum memiliki perjanjian kinerja untuk ditandatangani.",
                code="agreement.missing",
                data={"innovation": inn.id},
            )
        if actor.id == agreement.regional_head:
            role = Role.REGIONAL_HEAD
        elif actor.id == agreement.unit_head:
            role = Role.UNIT_HEAD
        else:
            raise PermissionDenied(
                actor.id,
                "sign_agreement",
                "they are not a party to it",
                "mereka bukan pihak dalam perjanjian itu",
                code="permission.not_party",
            )
        if agreement.signed_by(actor.id):
            raise InvalidCommand(
                f"{actor.id} has already signed the agreement of {inn.id}.",
                f"{actor.id} sudah menandatangani perjanjian {inn.id}.",
                code="agreement.already_signed",
                data={"actor": actor.id, "innovation": inn.id},
            )
        return self._commit(inn, actor.id, "innovation.agreement_signed", {"role": role.value})

    @_command("grant_permission")
    def grant_permission(self, innovation_id: str, *, reference: str, by: str) -> Event:
        """Record the unit head's written permission for a civil-servant initiator."""
        inn = self._active(innovation_id)
        self._authorize("grant_permission", by, inn.unit)
        payload = {"reference": _text(reference, "reference", empty=False)}
        return self._commit(inn, by, "innovation.permission_granted", payload)

    @_command("record_launch")
    def record_launch(self, innovation_id: str, *, ceremony: str, by: str) -> Event:
        """Launch one innovation (see `check_launch`); `launch_cohort` does a whole ceremony."""
        inn = self.innovation(innovation_id)
        self._authorize("record_launch", by, inn.unit)
        _text(ceremony, "ceremony", empty=False)
        now = self.now()
        verdict = self._check_launch(inn, now)
        if not verdict.ok:
            raise GateRefused(verdict)
        return self._commit(inn, by, "innovation.launched", {"ceremony": ceremony}, now)

    @_command("attach_evidence")
    def attach_evidence(self, innovation_id: str, *, title: str, reference: str, by: str) -> Event:
        """Attach supporting evidence (*bukti dukung*)."""
        inn = self._active(innovation_id)
        self._authorize("attach_evidence", by, inn.unit)
        payload = {
            "title": _text(title, "title", empty=False),
            "reference": _text(reference, "reference", empty=False),
        }
        return self._commit(inn, by, "innovation.evidence_attached", payload)

    @_command("register_exhibit")
    def register_exhibit(
        self, innovation_id: str, *, event: str, by: str, booth: str = ""
    ) -> Event:
        """Register the innovation's exhibit (booth) at the display stage."""
        inn = self._active(innovation_id)
        self._authorize("register_exhibit", by, inn.unit)
        stage = self.policy.stage(inn.stage)
        if "display" not in stage.covers:
            raise InvalidCommand(
                f"Exhibits are registered at the display stage; {inn.id} is at {inn.stage}.",
                f"Stan pameran didaftarkan pada tahap display; {inn.id} berada di {inn.stage}.",
                code="exhibit.wrong_stage",
                data={"innovation": inn.id, "stage": inn.stage},
            )
        payload = {"event": _text(event, "event", empty=False), "booth": _text(booth, "booth")}
        return self._commit(inn, by, "innovation.exhibit_registered", payload)

    @_command("advance")
    def advance(self, innovation_id: str, *, by: str) -> Event:
        """Move an innovation one stage forward; refused with the verdict unless `check` is ok."""
        inn = self.innovation(innovation_id)
        self._authorize("advance", by, inn.unit)
        now = self.now()
        target, found = self._check(inn, None, now)
        if found:
            raise GateRefused(Verdict(inn.id, "advance", target, tuple(found)))
        payload = {"from": inn.stage, "to": target, "gate": self._gate(target, inn.unit)}
        return self._commit(inn, by, "innovation.advanced", payload, now)

    def _gate(self, stage: str, unit: str) -> list[str]:
        """The requirements of ``stage``'s gate that apply to ``unit``: what an advance passed."""
        kind = unit_kind(self.units.get(unit))
        names = self._gates.get((stage, kind))
        if names is None:
            names = self._gates[(stage, kind)] = gate_record(self.policy, stage, kind)
        return list(names)

    @_command("return")
    def return_to(self, innovation_id: str, stage: str, *, reason: str, by: str) -> Event:
        """Send an innovation back to an earlier stage for rework, saying why."""
        inn = self._active(innovation_id)
        self._authorize("return", by, inn.unit)
        target = self._stage(stage)
        if target.id not in self._engine.returns[inn.stage]:
            raise InvalidCommand(
                f"{inn.id} is at {inn.stage}; it can only return to an earlier stage.",
                f"{inn.id} berada di {inn.stage}; hanya dapat dikembalikan ke tahap sebelumnya.",
                code="return.not_earlier",
                data={"innovation": inn.id, "stage": inn.stage, "target": target.id},
            )
        payload = {
            "from": inn.stage,
            "to": target.id,
            "reason": _text(reason, "reason", empty=False),
        }
        return self._commit(inn, by, "innovation.returned", payload)

    @_command("withdraw")
    def withdraw(self, innovation_id: str, *, reason: str, by: str) -> Event:
        """Take an innovation out of the lab, saying why; it keeps its stage and history."""
        inn = self._active(innovation_id)
        self._authorize("withdraw", by, inn.unit)
        payload = {"reason": _text(reason, "reason", empty=False)}
        return self._commit(inn, by, "innovation.withdrawn", payload)

    @_command("reinstate")
    def reinstate(self, innovation_id: str, *, reason: str, by: str) -> Event:
        """Bring a withdrawn innovation back, at the stage it was withdrawn from."""
        inn = self.innovation(innovation_id)
        self._authorize("reinstate", by, inn.unit)
        if inn.active:
            raise InvalidCommand(
                f"{inn.id} is not withdrawn.",
                f"{inn.id} tidak sedang ditarik.",
                code="innovation.not_withdrawn",
                data={"innovation": inn.id},
            )
        payload = {"reason": _text(reason, "reason", empty=False)}
        return self._commit(inn, by, "innovation.reinstated", payload)


def _next_event(
    subject: str,
    history: Sequence[Event],
    at: datetime,
    by: str,
    kind: str,
    payload: dict[str, Any],
) -> Event:
    """The event that would follow ``history``; `InvalidCommand` if it cannot be recorded.

    The payload gets its schema version (``v``); the clock may not go back within a history.
    """
    if history and at < history[-1].at:
        raise InvalidCommand(
            f"The lab's clock reads {at.isoformat()}, before the last event of {subject} "
            f"({history[-1].at.isoformat()}); a history's times never go back.",
            f"Jam laboratorium menunjukkan {at.isoformat()}, sebelum peristiwa terakhir "
            f"{subject} ({history[-1].at.isoformat()}); waktu riwayat tidak boleh mundur.",
            code="clock.backwards",
            data={"subject": subject},
        )
    try:
        return make_event(
            subject,
            len(history) + 1,
            at,
            by,
            kind,
            {**payload, "v": SCHEMA},
            history[-1].hash if history else GENESIS,
        )
    except (TypeError, ValueError, RecursionError) as exc:
        # e.g. a number too large to write, or a value a custom requirement put in a code
        raise InvalidCommand(
            f"The {kind} event cannot be recorded: {exc}.",
            f"Peristiwa {kind} tidak dapat dicatat: {exc}.",
            code="event.unencodable",
            data={"kind": kind},
        ) from exc


def _spec(command: object) -> CommandSpec:
    spec = by_name(command) if isinstance(command, str) else None
    if spec is None:
        raise InvalidCommand(
            f"{command!r} is not a command (one of {', '.join(COMMANDS)}).",
            f"{command!r} bukan perintah (salah satu dari {', '.join(COMMANDS)}).",
            code="command.unknown",
            data={"command": str(command)},
        )
    return spec


def _invoke(
    lab: Lab, spec: CommandSpec, subject: str | None, by: str, arguments: Mapping[str, Any]
) -> Any:
    """Call the method of ``spec`` on ``lab``; arguments it does not take are `InvalidCommand`."""
    method = getattr(lab, spec.method)
    args = () if subject is None else (subject,)
    try:
        inspect.signature(method).bind(*args, by=by, **arguments)
    except TypeError as exc:
        raise InvalidCommand(
            f"{spec.name} cannot take these arguments: {exc}.",
            f"{spec.name} tidak menerima argumen ini: {exc}.",
            code="command.arguments",
            data={"command": spec.name},
        ) from None
    return method(*args, by=by, **arguments)


def _unmet_of(error: CommandError) -> Unmet:
    """A refusal as one unmet item: its code, its two messages, its data."""
    return Unmet(error.code, error.message_en, error.message_id, dict(error.data))


def _initiator(value: Initiator | str, policy: Policy) -> Initiator:
    allowed = policy.settings.initiators
    try:
        if Initiator(value) in allowed:
            return Initiator(value)
    except ValueError:
        pass
    shown = ", ".join(sorted(i.value for i in allowed))
    raise InvalidCommand(
        f"{value!r} is not an initiator this policy knows (one of {shown}).",
        f"{value!r} bukan inisiator yang dikenal kebijakan ini (salah satu dari {shown}).",
        code="input.initiator",
    )


# --- The lab's own fold ----------------------------------------------------------------------


def _apply_lab(lab: Lab, event: Event) -> None:
    p = event.payload
    kind = event.kind
    if kind == "lab.created":
        lab.units.update((u.id, u) for u in map(unit_from, p["units"]))
        lab.actors.update((a.id, a) for a in map(actor_from, p["actors"]))
    elif kind == "lab.unit_added":
        unit = unit_from(p["unit"])
        lab.units[unit.id] = unit
    elif kind == "lab.actor_added":
        actor = actor_from(p["actor"])
        lab.actors[actor.id] = actor
    elif kind == "lab.roles_set":
        lab.actors[p["actor"]] = attrs.evolve(lab.actors[p["actor"]], roles=frozenset(p["roles"]))
    elif kind == "lab.advanced":
        lab.stage = lab.policy.stage(p["to"]).id  # a forged history may name no stage
    elif kind != "lab.ceremony_held":
        raise ValueError(f"{kind!r} is not an event a lab can apply")
    lab.history.append(event)


_LAB_KINDS: Final = frozenset(
    {
        "lab.created",
        "lab.unit_added",
        "lab.actor_added",
        "lab.roles_set",
        "lab.advanced",
        "lab.ceremony_held",
    }
)


def replay_innovation(history: Sequence[Event]) -> Innovation:
    """Rebuild an innovation from its history alone (verify the history first)."""
    if not history:
        raise HistoryError(
            "an innovation",
            None,
            "an empty history holds no innovation",
            "riwayat kosong tidak memuat inovasi",
            code="history.empty",
        )
    innovation: Innovation | None = None
    for event in history:
        if event.kind not in INNOVATION_KINDS:
            raise HistoryError(
                event.subject,
                event.seq,
                f"{event.kind!r} is not an event of an innovation",
                f"{event.kind!r} bukan peristiwa inovasi",
                code="history.unknown_kind",
                data={"kind": event.kind},
            )
        try:
            innovation = apply_innovation(innovation, event)
        except (KeyError, TypeError, ValueError, AssertionError) as exc:
            raise HistoryError(
                event.subject,
                event.seq,
                f"its {event.kind} payload cannot be applied ({exc!r})",
                f"muatan {event.kind}-nya tidak dapat diterapkan ({exc!r})",
                code="history.unreadable",
                data={"kind": event.kind},
            ) from exc
    assert innovation is not None
    return innovation


def replay_lab(
    history: Sequence[Event],
    innovations: Iterable[Sequence[Event]] = (),
    *,
    registry: Registry | None = None,
    clock: Clock = system_clock,
) -> Lab:
    """Rebuild a lab from its own history and its innovations' histories, checking each event.

    Every event is re-checked against the rules its command obeyed (see
    ``docs/history.md``): a history that replays is one the commands could have
    produced. Raises `HistoryError` naming the first event that is not, and
    `PolicyError` naming a custom requirement the recorded policy uses that
    ``registry`` does not hold.
    """
    folded = fold_lab(history, innovations, registry=registry)
    view = folded.view
    lab = Lab(view.id, view.region, folded.policy, view.stage, clock=clock)
    lab.units.update(view.units)
    lab.actors.update(view.actors)
    lab.innovations.update(folded.innovations)
    lab.history.extend(history)
    return lab
