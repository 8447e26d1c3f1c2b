"""Requirements' machinery: the registry, parameters checked against policies, verdicts.

Private; `labflow.requirements` is the public face. Kept apart from the built-in
requirements (`labflow._gate_rules`, `labflow._cohort_rules`), which register themselves
here, so that they and the modules they serve import this without a cycle.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, NewType, Protocol, TypeVar

import attrs

from labflow.errors import RegistrationError
from labflow.model import Innovation, UnitKind

if TYPE_CHECKING:
    from labflow.model import Actor, Unit
    from labflow.policy import Policy, Stage

#: A parameter that names a stage of the policy (validated when the policy loads).
StageRef = NewType("StageRef", str)


@attrs.frozen
class RequirementCall:
    """A gate requirement with its own parameters, given where a `RequirementRef` is expected.

    In TOML: ``meeting = { action_plan_approved = { approver_roles = ["facilitator"],
    same_unit = false } }``; a bare name (``meeting = "action_plan_approved"``) runs the
    requirement with its defaults.
    """

    name: str
    params: Mapping[str, Any] = attrs.field(factory=dict, hash=False)

    def __str__(self) -> str:
        def shown(value: Any) -> str:
            if isinstance(value, bool):
                return "true" if value else "false"
            if isinstance(value, tuple | list | frozenset):
                return "[" + ", ".join(shown(v) for v in value) + "]"
            return str(getattr(value, "value", value))

        inner = ", ".join(f"{k}={shown(v)}" for k, v in self.params.items())
        return f"{self.name}({inner})"


#: A parameter that names a registered gate requirement (validated when the policy loads).
RequirementRef = NewType("RequirementRef", str)


@attrs.frozen
class Unmet:
    """One unmet item: a stable code, the same sentence in English and Indonesian, and the data."""

    code: str
    message_en: str
    message_id: str
    data: Mapping[str, Any] = attrs.field(factory=dict)

    def message(self, lang: str = "en") -> str:
        """The message in ``"en"`` or ``"id"`` (Bahasa Indonesia)."""
        return self.message_id if lang == "id" else self.message_en


def unmet(code: str, message_en: str, message_id: str, **data: Any) -> Unmet:
    """Build an `Unmet` item; keyword arguments become its data."""
    return Unmet(code, message_en, message_id, data)


@attrs.frozen
class Verdict:
    """What `check` found: every unmet item of the gate ``subject`` would pass for ``target``."""

    subject: str  #: the innovation's (or, for the lab's own gate, the lab's) id
    action: str  #: ``advance``, ``launch`` or ``lab.advance``
    target: str  #: the stage the move would enter (for ``launch``, the stage it happens in)
    unmet: tuple[Unmet, ...]

    @property
    def ok(self) -> bool:
        """Whether nothing is unmet: the move would be accepted."""
        return not self.unmet

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(u.code for u in self.unmet)

    def explain(self, lang: str = "en", policy: Policy | None = None) -> str:
        """The verdict as sentences, one unmet item a line.

        With the ``policy`` the verdict was reached under, the stage is named by its label.
        """
        target = self.target
        if policy is not None and policy.has_stage(target):
            target = policy.stage(target).label(lang)
        if self.ok:
            if lang == "id":
                return f"{self.subject} memenuhi semua syarat untuk {target}."
            return f"{self.subject} meets every requirement for {target}."
        items = "\n".join(f"  - {u.message(lang)} [{u.code}]" for u in self.unmet)
        if lang == "id":
            return f"{self.subject} belum dapat {self._verb_id()} {target}:\n{items}"
        return f"{self.subject} cannot {self.action.replace('lab.', '')} to {target}:\n{items}"

    def _verb_id(self) -> str:
        return "diluncurkan pada tahap" if self.action == "launch" else "maju ke"


class LabView(Protocol):
    """The read-only view of a lab that requirements read: a `labflow.Lab` is one.

    Replay hands requirements a view of the lab *as it was* when a recorded event
    happened, so a requirement must read the lab through these names only.
    """

    @property
    def id(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def policy(self) -> Policy: ...
    @property
    def stage(self) -> str: ...
    @property
    def units(self) -> Mapping[str, Unit]: ...
    @property
    def actors(self) -> Mapping[str, Actor]: ...
    @property
    def innovations(self) -> Mapping[str, Innovation]: ...
    @property
    def entered(self) -> Mapping[str, datetime]: ...


class GateContext(NamedTuple):
    """What a gate requirement may look at. Requirements must not change any of it.

    A named tuple rather than an attrs class: one is built for every check, on the hot path.
    """

    innovation: Innovation
    lab: LabView
    stage: Stage  #: the stage the innovation would enter (or, for launch, launch in)
    now: datetime


class CohortContext(NamedTuple):
    """What a cohort condition may look at: the lab, the stage it would enter, the time."""

    lab: LabView
    stage: Stage
    now: datetime


class _Requirement(Protocol):
    __name__: str

    def __call__(self, ctx: Any, /, **params: Any) -> Iterable[Unmet]: ...


F = TypeVar("F", bound=Callable[..., Iterable[Unmet]])


@attrs.frozen
class Param:
    """One parameter a requirement accepts, read from its signature."""

    name: str
    annotation: Any
    default: Any  #: `inspect.Parameter.empty` when the policy must give it
    required: bool


@attrs.frozen
class RequirementDef:
    """A registered requirement or cohort condition."""

    name: str
    kind: Literal["gate", "cohort"]
    func: Callable[..., Iterable[Unmet]] = attrs.field(eq=False)
    params: Mapping[str, Param]
    doc: str


_SIMPLE = (str, int, float, bool, StageRef, RequirementRef, RequirementCall)


def _check_annotation(name: str, annotation: Any) -> None:
    origin = typing.get_origin(annotation)
    if annotation in _SIMPLE or (isinstance(annotation, type) and issubclass(annotation, Enum)):
        return
    if origin is tuple:
        args = typing.get_args(annotation)
        if len(args) == 2 and args[1] is Ellipsis:
            _check_annotation(name, args[0])
            return
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if arg is not type(None):
                _check_annotation(name, arg)
        return
    raise RegistrationError(
        f"The parameter {name!r} has type {annotation!r}, which a policy cannot give; "
        "use str, int, float, bool, StageRef, RequirementRef, an enum, tuple[X, ...] or X | None."
    )


def _params_of(func: Callable[..., Any]) -> dict[str, Param]:
    signature = inspect.signature(func)
    hints = typing.get_type_hints(func)
    positional = [
        p
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if len(positional) != 1:
        raise RegistrationError(
            f"{func.__qualname__} must take exactly one positional argument, the context, "
            "and its parameters keyword-only (after a '*')."
        )
    params: dict[str, Param] = {}
    for p in signature.parameters.values():
        if p.kind is not p.KEYWORD_ONLY:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise RegistrationError(f"{func.__qualname__} may not take *args or **kwargs.")
            continue
        annotation = hints.get(p.name, str)
        _check_annotation(p.name, annotation)
        params[p.name] = Param(p.name, annotation, p.default, p.default is p.empty)
    return params


class Registry:
    """Named gate requirements and cohort conditions that policies may use.

    `DEFAULT_REGISTRY` holds the built-ins and whatever a host registers with
    the `requirement` and `cohort_condition` decorators; make a separate one
    (``Registry(parent=DEFAULT_REGISTRY)``) to keep a host's names apart.
    """

    def __init__(self, *, parent: Registry | None = None) -> None:
        self._parent = parent
        self._defs: dict[tuple[str, str], RequirementDef] = {}

    def _register(self, kind: Literal["gate", "cohort"], name: str | None, func: F) -> F:
        key = name or func.__name__
        if self.find(kind, key) is not None:
            raise RegistrationError(f"A {kind} requirement named {key!r} is already registered.")
        doc = inspect.getdoc(func) or ""
        self._defs[(kind, key)] = RequirementDef(key, kind, func, _params_of(func), doc)
        return func

    def requirement(self, name: str | None = None) -> Callable[[F], F]:
        """Register a gate requirement under ``name`` (default: the function's name)."""
        return lambda func: self._register("gate", name, func)

    def cohort_condition(self, name: str | None = None) -> Callable[[F], F]:
        """Register a cohort condition under ``name`` (default: the function's name)."""
        return lambda func: self._register("cohort", name, func)

    def find(self, kind: Literal["gate", "cohort"], name: str) -> RequirementDef | None:
        """The definition registered under ``name``, here or in a parent, or ``None``."""
        found = self._defs.get((kind, name))
        if found is None and self._parent is not None:
            return self._parent.find(kind, name)
        return found

    def names(self, kind: Literal["gate", "cohort"]) -> list[str]:
        """Every name registered for ``kind``, sorted."""
        own = {n for k, n in self._defs if k == kind}
        inherited = set(self._parent.names(kind)) if self._parent else set()
        return sorted(own | inherited)

    def include(self, other: Registry) -> None:
        """Register here every name ``other`` holds itself (not those of its parents).

        A name already here for the same function is left as it is; a name here for
        another function is a `RegistrationError`, and then nothing is added.
        """
        new = {}
        for key, definition in other._defs.items():
            found = self.find(definition.kind, definition.name)
            if found is None:
                new[key] = definition
            elif found.func is not definition.func:
                raise RegistrationError(
                    f"A {definition.kind} requirement named {definition.name!r} is already "
                    "registered."
                )
        self._defs.update(new)

    def unregister(self, kind: Literal["gate", "cohort"], name: str) -> None:
        """Forget a name registered here (for tests and hot reloading)."""
        self._defs.pop((kind, name), None)


#: The registry policies use unless told otherwise: the built-ins and the host's own.
DEFAULT_REGISTRY = Registry()
#: Register a gate requirement in `DEFAULT_REGISTRY`.
requirement = DEFAULT_REGISTRY.requirement
#: Register a cohort condition in `DEFAULT_REGISTRY`.
cohort_condition = DEFAULT_REGISTRY.cohort_condition


def gate_unmet(
    lab: LabView, innovation: Innovation, stage: Stage, now: datetime
) -> tuple[Unmet, ...]:
    """Every unmet requirement of ``stage``'s gate for ``innovation``, the gate alone."""
    specs = lab.policy.gates.get(stage.id, ())
    if not specs:
        return ()
    unit = lab.units.get(innovation.unit)
    return run_all(specs, GateContext(innovation, lab, stage, now), unit.kind if unit else None)


def run_all(
    specs: Sequence[Any], ctx: GateContext | CohortContext, unit_kind: UnitKind | None = None
) -> tuple[Unmet, ...]:
    """Evaluate every spec (no short-circuit) and gather what is unmet."""
    found: list[Unmet] = []
    for spec in specs:
        if spec.applies_to is not None and unit_kind not in spec.applies_to:
            continue
        params = spec.params
        found.extend(spec.func(ctx, **params) if params else spec.func(ctx))
    return tuple(found)
