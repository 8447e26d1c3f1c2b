"""The lab: one region's programme, its cohort of innovations, and every command on them.

A `Lab` is created from a policy and changes only through its commands. Each
command checks the actor's role, validates its input, and evaluates every
requirement that applies; a refusal raises a `CommandError` and changes
nothing. An accepted command builds one event, applies it with the same fold
`replay` uses, and emits it through structlog (`labflow.audit`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from operator import attrgetter
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Concatenate, Final, ParamSpec, TypeVar

from labflow import (
    _agreement,
    _commands,
    _exhibitions,
    _launch,
    _monev,
    _moves,
    _plan,
    _roster,
    audit,
)
from labflow._authority import authorize
from labflow._catalogue import CATALOGUE
from labflow._engine import Engine, engine_for
from labflow._exhibitions import exhibitions_of
from labflow._fold import (
    apply_innovation,
)
from labflow._fold import apply_lab as _apply_lab
from labflow._gates import (
    advance_unmet,
    lab_entered,
    lab_verdict,
    launch_verdict,
    past_agreement,
)
from labflow._hooks import Hooks, Subscriptions
from labflow._hosting import dry_run, invoke, spec_of, standing
from labflow._inputs import ident as _ident
from labflow._inputs import text as _text
from labflow._launch import CeremonyResult
from labflow._monev_rules import monev_records
from labflow._rebuild import fold_histories, replay_innovation
from labflow._record import next_event as _next_event
from labflow._registry import gate_unmet
from labflow.errors import (
    CommandError,
    GateRefused,
    InvalidCommand,
    NotFound,
    UsageError,
)
from labflow.events import Event, Verification, verify
from labflow.model import (
    Actor,
    Diagnosis,
    Exhibition,
    Exhibitor,
    Initiator,
    Innovation,
    Monev,
    PlanStep,
    ReviewOutcome,
    Unit,
    UnitKind,
)
from labflow.policy import Policy, Stage
from labflow.requirements import Registry, Unmet, Verdict

__all__ = ["CeremonyResult", "Clock", "Lab", "replay_innovation", "replay_lab", "system_clock"]

#: Where a lab reads the time from: a callable returning an aware `datetime`.
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


P = ParamSpec("P")
R = TypeVar("R")

# The command methods of `Lab` are declarations (signature and docstring) whose body is
# the command's own, given to `_command`: mypy is told not to ask them for one.
# mypy: disable-error-code="empty-body"


#: The command each body runs (`CommandSpec.method` names the body and the `Lab` method).
_COMMAND_OF: Final = {spec.method: spec.name for spec in CATALOGUE}


def _command(
    body: Callable[Concatenate[Lab, P], R],
) -> Callable[[Callable[Concatenate[Lab, P], R]], Callable[Concatenate[Lab, P], R]]:
    """Declare a `Lab` method as the command whose body is ``body``.

    The method is a declaration: its signature (which must be the body's) and its
    docstring are the command's typed, documented face; calling it runs ``body`` -- the
    function the catalogue names, that `Lab.send` runs too -- and emits every refusal
    it raises (`labflow.audit`) before re-raising it.
    """
    name = _COMMAND_OF[body.__name__]

    def declare(method: Callable[Concatenate[Lab, P], R]) -> Callable[Concatenate[Lab, P], R]:
        @functools.wraps(method)
        def run(self: Lab, /, *args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return body(self, *args, **kwargs)
            except CommandError as exc:
                subject = args[0] if args and isinstance(args[0], str) else None
                _refused(self, name, kwargs.get("by"), subject, exc)
                raise

        return run

    return declare


def _refused(lab: Lab, command: str, by: object, subject: str | None, exc: CommandError) -> None:
    """Emit a command's refusal (`labflow.audit`); a check's throwaway copy emits nothing."""
    if lab._dry:
        return
    if isinstance(exc, GateRefused):
        audit.gate_refused(lab, command, str(by), exc.verdict)
    else:
        audit.command_refused(lab, command, str(by), subject, exc)


class Lab:
    """One region's innovation lab: its policy, stage, units, actors and cohort.

    Create one with `Lab.create`; rebuild one from its histories with `replay_lab`
    (or load one from a store or a document). Every command takes the acting
    actor's id as ``by=``. A lab changes only through its commands: its
    queries return read-only values (its units, actors and innovations as
    read-only mappings of frozen records, its history as a tuple), and
    ``Lab(...)`` builds nothing -- a lab at a stage no event led to cannot exist.
    """

    __slots__ = (
        "_actors",
        "_actors_view",
        "_dry",
        "_engine",
        "_gates",
        "_history",
        "_hooks",
        "_id",
        "_innovations",
        "_innovations_view",
        "_policy",
        "_region",
        "_stage",
        "_units",
        "_units_view",
        "clock",
    )

    _id: str
    _region: str
    _policy: Policy
    _stage: str
    _units: dict[str, Unit]
    _actors: dict[str, Actor]
    _innovations: dict[str, Innovation]
    _units_view: Mapping[str, Unit]
    _actors_view: Mapping[str, Actor]
    _innovations_view: Mapping[str, Innovation]
    _history: tuple[Event, ...]
    #: where the lab reads the time from; a host may swap it (it is not the lab's state)
    clock: Clock
    _engine: Engine
    _hooks: Hooks
    _gates: dict[tuple[str, UnitKind | None], list[str]]
    #: a throwaway copy that `check` runs a command on: it emits nothing, skips the role check
    _dry: bool

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise UsageError(
            "A lab is made by Lab.create, by replay_lab, or by loading a store or a document; "
            "Lab(...) builds none.",
            "Laboratorium dibuat dengan Lab.create, replay_lab, atau dengan memuat store atau "
            "dokumen; Lab(...) tidak membuatnya.",
            code="usage.lab_constructor",
        )

    @classmethod
    def _make(cls, id: str, region: str, policy: Policy, stage: str, clock: Clock) -> Lab:
        """An empty lab at ``stage``: only creation and replay call this, then fold into it."""
        lab = object.__new__(cls)
        lab._id, lab._region, lab._policy, lab._stage = id, region, policy, stage
        lab._set_maps({}, {}, {})
        lab._history = ()
        lab.clock = clock
        lab._engine = engine_for(policy)
        lab._hooks = Hooks()
        lab._gates = {}
        lab._dry = False
        return lab

    def _set_maps(
        self,
        units: dict[str, Unit],
        actors: dict[str, Actor],
        innovations: dict[str, Innovation],
    ) -> None:
        self._units, self._actors, self._innovations = units, actors, innovations
        self._units_view = MappingProxyType(units)
        self._actors_view = MappingProxyType(actors)
        self._innovations_view = MappingProxyType(innovations)

    def _copy(self, clock: Clock) -> Lab:
        """The lab as it is now, reading ``clock``: its own maps, the same frozen records.

        What `check` runs a command on, and what reports read at a fixed moment; a
        command on the copy changes nothing here.
        """
        other = object.__new__(type(self))
        other._id, other._region, other._policy = self._id, self._region, self._policy
        other._stage = self._stage
        other._set_maps(dict(self._units), dict(self._actors), dict(self._innovations))
        other._history = self._history
        other.clock = clock
        other._engine = self._engine
        other._hooks = self._hooks
        other._gates = self._gates
        other._dry = self._dry
        return other

    def _put(self, innovation: Innovation) -> Innovation:
        """Keep ``innovation`` as the lab's record of its id (after an event was applied)."""
        self._innovations[innovation.id] = innovation
        return innovation

    # --- the lab's state, read-only -----------------------------------------------------
    # Properties with C-level getters (`operator.attrgetter`): the hot path reads them on
    # every command; type checkers see the typed properties.

    if TYPE_CHECKING:

        @property
        def id(self) -> str:
            """The lab's id."""
            ...

        @property
        def region(self) -> str:
            """The region whose programme this lab is."""
            ...

        @property
        def policy(self) -> Policy:
            """The policy the lab was created with."""
            ...

        @property
        def stage(self) -> str:
            """The lab's current stage."""
            ...

        @property
        def units(self) -> Mapping[str, Unit]:
            """The lab's units by id (read-only)."""
            ...

        @property
        def actors(self) -> Mapping[str, Actor]:
            """The lab's actors by id (read-only)."""
            ...

        @property
        def innovations(self) -> Mapping[str, Innovation]:
            """The lab's innovations by id (read-only; each a frozen record)."""
            ...

        @property
        def history(self) -> tuple[Event, ...]:
            """The lab's own events, oldest first."""
            ...

    else:
        id = property(attrgetter("_id"), doc="The lab's id.")
        region = property(attrgetter("_region"), doc="The region whose programme this lab is.")
        policy = property(attrgetter("_policy"), doc="The policy the lab was created with.")
        stage = property(attrgetter("_stage"), doc="The lab's current stage.")
        units = property(attrgetter("_units_view"), doc="The lab's units by id (read-only).")
        actors = property(attrgetter("_actors_view"), doc="The lab's actors by id (read-only).")
        innovations = property(
            attrgetter("_innovations_view"),
            doc="The lab's innovations by id (read-only; each a frozen record).",
        )
        history = property(attrgetter("_history"), doc="The lab's own events, oldest first.")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Lab):
            return NotImplemented
        return (
            self._id == other._id
            and self._region == other._region
            and self._policy == other._policy
            and self._stage == other._stage
            and self._units == other._units
            and self._actors == other._actors
            and self._innovations == other._innovations
            and self._history == other._history
        )

    __hash__ = None  # type: ignore[assignment]  # equal labs may differ later: unhashable

    def __repr__(self) -> str:
        return (
            f"Lab(id={self._id!r}, region={self._region!r}, policy={self._policy!r}, "
            f"stage={self._stage!r}, units={self._units!r}, actors={self._actors!r}, "
            f"innovations={self._innovations!r})"
        )

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
        lab = cls._make(id, region, policy, policy.stages[0].id, clock)
        _roster.found(lab, list(units), list(actors), by=by)
        return lab

    # --- queries ----------------------------------------------------------------------

    @property
    def version(self) -> int:
        """How many events the lab's own history holds."""
        return len(self.history)

    @property
    def entered(self) -> Mapping[str, datetime]:
        """When the lab entered each stage it has reached (deadlines may count from it)."""
        return MappingProxyType(lab_entered(self.history))

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
        return dry_run(self, command, subject, by, arguments)

    def _advance_verdict(self, innovation_id: str, to: str | None) -> Verdict:
        inn = self.innovation(innovation_id)
        target, found = advance_unmet(self, self._engine, inn, to, self.now())
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
        spec = spec_of(command)
        run = invoke(self, spec, subject, by, arguments)
        try:
            return run()
        except CommandError as exc:
            _refused(self, spec.name, by, subject, exc)
            raise

    def allowed(self, *, by: str, subject: str | None = None) -> dict[str, Verdict]:
        """Every command ``by`` might run on ``subject`` (the lab when ``None``), with its verdict.

        A command that needs no arguments of its own (``advance``, ``approve_plan``,
        ``sign_agreement``, ``advance_lab``) is judged whole, as `check` does; one that
        needs arguments is judged on what does not depend on them: the actor's permission
        and every precondition the command declares (``record_launch`` only for an active
        innovation not yet launched, at the launch stage; ``register_exhibit`` only at
        the display stage...), each unmet one listed.
        """
        level = "lab" if subject is None else "innovation"
        found: dict[str, Verdict] = {}
        now = self.now()  # one moment for every verdict
        for spec in CATALOGUE:
            if spec.level != level or spec.opens:
                continue
            if not spec.arguments:
                found[spec.name] = dry_run(self, spec.name, subject, by, {}, now)
            else:
                found[spec.name] = standing(self, spec, subject, by)
        return found

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
        """The acting actor, if their roles allow ``command`` on ``unit`` (see `_authority`)."""
        return authorize(self, command, by, unit)

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
        inn = self._put(apply_innovation(inn, event))
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

    # --- lab commands -----------------------------------------------------------------

    @_command(_roster.add_unit)
    def add_unit(self, unit: Unit, *, by: str) -> Event:
        """Bring a unit (an agency, clinic, village, or a non-government exhibitor) into the lab."""

    @_command(_roster.add_actor)
    def add_actor(self, actor: Actor, *, by: str) -> Event:
        """Bring a person into the lab with the roles the policy knows them by."""

    @_command(_roster.set_roles)
    def set_roles(self, actor_id: str, roles: Iterable[str], *, by: str) -> Event:
        """Replace an actor's roles (a facilitator handing over to the region, say)."""

    @_command(_moves.advance_lab)
    def advance_lab(self, *, by: str, expect: str | None = None) -> Event:
        """Move the whole lab to its next stage, if the cohort conditions hold.

        ``expect`` is the stage the caller saw the lab at (a form's hidden field, say): if
        the lab is no longer there -- the same form submitted twice, or another user was
        quicker -- the command raises `ConflictError` and the lab does not move again.
        """

    @_command(_launch.launch_cohort)
    def launch_cohort(
        self, *, ceremony: str, by: str, innovations: Iterable[str] | None = None
    ) -> CeremonyResult:
        """Launch, at one ceremony, every innovation that may be launched; report the rest.

        Considers ``innovations`` (default: every active innovation not yet
        launched). Each one passing `check_launch` gets a launch event; the others
        are returned with their verdicts; the lab records the ceremony. Nothing is
        applied unless everything can be.
        """

    # --- innovation commands ----------------------------------------------------------

    @_command(_commands.register)
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

    def _open(self, innovation_id: str, by: str, kind: str, payload: dict[str, Any]) -> Event:
        payload["lab_v"] = len(self.history)
        event = _next_event(innovation_id, (), self.now(), by, kind, payload)
        inn = self._put(apply_innovation(None, event))
        audit.applied(self, event, inn)
        return event

    @_command(_commands.replicate)
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

    @_command(_commands.record_diagnosis)
    def record_diagnosis(self, innovation_id: str, diagnosis: Diagnosis, *, by: str) -> Event:
        """Record (or replace) the diagnosis: the problem, root causes, the unit's readiness."""

    @_command(_plan.submit_plan)
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

    @_command(_plan.approve_plan)
    def approve_plan(self, innovation_id: str, *, by: str) -> Event:
        """Approve the submitted action plan; its own author may not."""

    @_command(_agreement.draw_up_agreement)
    def draw_up_agreement(
        self, innovation_id: str, *, regional_head: str, unit_head: str, by: str, terms: str = ""
    ) -> Event:
        """Draw up the performance agreement between the regional head and the unit's head.

        Replaces any earlier draft, and with it any signatures -- until the innovation has
        passed the policy's agreement gate: from then on a signed agreement is binding.
        """

    @_command(_agreement.sign_agreement)
    def sign_agreement(self, innovation_id: str, *, by: str) -> Event:
        """Sign the performance agreement; only the two parties it names can."""

    @_command(_commands.grant_permission)
    def grant_permission(self, innovation_id: str, *, reference: str, by: str) -> Event:
        """Record the unit head's written permission for a civil-servant initiator."""

    @_command(_launch.record_launch)
    def record_launch(
        self, innovation_id: str, *, ceremony: str, by: str, exhibition: str | None = None
    ) -> Event:
        """Launch one innovation (see `check_launch`); `launch_cohort` does a whole ceremony.

        ``exhibition`` names an open exhibition of the lab it is launched at, where the
        policy allows launches at exhibitions (``[exhibitions] launches = true``).
        """

    @_command(_commands.attach_evidence)
    def attach_evidence(self, innovation_id: str, *, title: str, reference: str, by: str) -> Event:
        """Attach supporting evidence (*bukti dukung*)."""

    @_command(_exhibitions.register_exhibit)
    def register_exhibit(
        self,
        innovation_id: str,
        *,
        event: str = "",
        by: str,
        booth: str = "",
        exhibition: str | None = None,
    ) -> Event:
        """Register the innovation's exhibit at the policy's exhibition stage.

        With ``exhibition`` it is shown at that open exhibition of the lab, at ``booth``
        (a booth of its own unit there; ``event`` defaults to the exhibition's name);
        without, ``event`` names where it is shown (an expo the lab does not record).
        """

    @_command(_moves.advance)
    def advance(self, innovation_id: str, *, by: str) -> Event:
        """Move an innovation one stage forward; refused with the verdict unless `check` is ok."""

    @_command(_moves.return_to)
    def return_to(self, innovation_id: str, stage: str, *, reason: str, by: str) -> Event:
        """Send an innovation back to an earlier stage for rework, saying why."""

    @_command(_moves.withdraw)
    def withdraw(self, innovation_id: str, *, reason: str, by: str) -> Event:
        """Take an innovation out of the lab, saying why; it keeps its stage and history."""

    @_command(_moves.reinstate)
    def reinstate(self, innovation_id: str, *, reason: str, by: str) -> Event:
        """Bring a withdrawn innovation back, at the stage it was withdrawn from."""

    @_command(_agreement.review_agreement)
    def review_agreement(
        self,
        innovation_id: str,
        *,
        finding: str,
        outcome: ReviewOutcome | str = ReviewOutcome.CONTINUE,
        by: str,
    ) -> Event:
        """Record a review of the signed performance agreement: the finding and its outcome
        (``"continue"``, or ``"amend"`` to have its terms amended)."""

    @_command(_agreement.amend_agreement)
    def amend_agreement(self, innovation_id: str, *, terms: str, by: str) -> Event:
        """Draw up a new version of the agreement's terms after a review called for it; the
        parties sign it again, and every earlier version is kept."""

    # --- exhibitions and monev ----------------------------------------------------------

    @property
    def exhibitions(self) -> Mapping[str, Exhibition]:
        """The lab's exhibitions by id, with their exhibitors and booths (read-only)."""
        return exhibitions_of(self)

    def monev(self, innovation_id: str) -> tuple[Monev, ...]:
        """The monev records of an innovation, oldest first."""
        return monev_records(self.innovation(innovation_id))

    @_command(_exhibitions.open_exhibition)
    def open_exhibition(
        self, exhibition: str, *, name: str, venue: str, starts: date, ends: date, by: str
    ) -> Event:
        """Open an exhibition of the lab (*pameran*): its id, name, venue and days."""

    @_command(_exhibitions.register_exhibitor)
    def register_exhibitor(self, exhibition: str, *, exhibitor: Exhibitor, by: str) -> Event:
        """Register an exhibitor from outside government for that exhibition only."""

    @_command(_exhibitions.add_booth)
    def add_booth(
        self,
        exhibition: str,
        *,
        booth: str,
        holder: str,
        by: str,
        services: Sequence[str] = (),
        showcases: Sequence[str] = (),
    ) -> Event:
        """Add a booth held by a unit or an exhibitor, with its live services and showcases."""

    @_command(_exhibitions.close_exhibition)
    def close_exhibition(self, exhibition: str, *, by: str) -> Event:
        """Close an exhibition: no booth, exhibit or launch is recorded at it after."""

    @_command(_monev.record_monev)
    def record_monev(
        self,
        innovation_id: str,
        *,
        period: str,
        indicators: Mapping[str, float],
        findings: str,
        by: str,
        follow_up: str = "",
    ) -> Event:
        """Record the monitoring and evaluation (monev) of a launched innovation for a period."""

    @_command(_commands.set_attributes)
    def set_attributes(
        self, innovation_id: str, *, attributes: Mapping[str, Any], by: str
    ) -> Event:
        """Set or change the innovation's attributes the policy declares; ``None`` clears one.

        Each value must be of its attribute's type and among its allowed values
        (`Policy.attributes`); an undeclared name is refused.
        """


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
    own, folded = fold_histories(history, innovations, registry, clock, "replay_lab")
    view = folded.view
    lab = Lab._make(view.id, view.region, folded.policy, view.stage, clock)
    lab._set_maps(dict(view.units), dict(view.actors), dict(folded.innovations))
    lab._history = own
    return lab
