"""The writing subcommands, derived from the command catalogue: names, arguments, one body.

Private. Every command of `labflow._catalogue.CATALOGUE` gets a subcommand with no code of
its own: a command added to the catalogue with a `labflow.Lab` method is on the command line
at once, needing only its help text. The few with a body of their own (`EXPLICIT`: the
ceremony's summary, the role editor) live in `labflow._cli._writing`.

**Names.** The catalogue name in kebab-case (``draw_up_agreement`` → ``draw-up-agreement``);
where scripts already spell a command otherwise (`SPELLINGS`: ``diagnose``, ``sign``...)
that spelling stays its name and the kebab-case name is an alias.

**Arguments.** Their one source is the `labflow.Lab` method's signature. The innovation a
command acts on is the positional ``INNOVATION``; every other parameter but ``by`` (which
is ``--by``) becomes ``--kebab-name``, required when the method has no default, typed from
its annotation:

- ``str`` (also ``str | None`` and enums that take ``str``): text; ``int``: a whole number;
  ``date``: ``YYYY-MM-DD``; ``datetime``: an ISO time; ``bool``: a flag; ``Path``: a file;
  an `enum.Enum`: one of its values;
- a sequence: the option in the singular, repeatable (``innovators`` → ``--innovator``),
  never required (none given is an empty list);
- a mapping: ``KEY=VALUE`` words, positional when required (``set-attributes ID
  jenis=digital``), else a repeatable ``--attribute KEY=VALUE``; an ``attributes`` mapping
  is typed as the policy declares each attribute (``KEY=`` clears one);
- the records `Diagnosis`, `Unit`, `Actor` and `PlanStep` (``DESC|RESPONSIBLE|DATE``):
  the options in `_composite`; any other attrs record: one option per field, as above
  (``--PARAM-FIELD`` where a field's option is already taken).

A parameter of any other type cannot be given on the command line: the command then says
so (exit 2), and ``tests/test_cli_derived.py`` lists it.

**Help.** ``cmd.<name>`` for the command and ``arg.<parameter>`` for each argument, in the
CLI catalogue (`labflow._cli._catalogue`), both languages; `_HELP` keeps keys that predate
this rule. A missing key shows a generic line (``the … argument (no help text yet)``), never
a raw key, and `missing_help` lists what lacks one.

The subcommands' arguments are read from the signatures only when one is parsed or its help
shown: ``labflow --help`` lists the commands without importing the engine.
"""

from __future__ import annotations

import argparse
import enum
import inspect
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NamedTuple

import attrs

from labflow import _catalogue
from labflow._cli._catalogue import has, message

if TYPE_CHECKING:
    from labflow._catalogue import CommandSpec
    from labflow._cli._common import CommandOutput
    from labflow.lab import Lab

__all__ = [
    "EXPLICIT",
    "SPELLINGS",
    "Param",
    "aliases",
    "cli_name",
    "command_help",
    "fill",
    "innovation_commands",
    "missing_help",
    "parameters",
    "run",
    "unsupported",
]

#: Today's spellings of commands whose catalogue name reads otherwise (scripts use them).
SPELLINGS: Final[Mapping[str, str]] = {
    "record_diagnosis": "diagnose",
    "sign_agreement": "sign",
    "grant_permission": "permit",
    "record_launch": "launch",
    "attach_evidence": "evidence",
    "register_exhibit": "exhibit",
    "launch_cohort": "ceremony",
}
#: Catalogue commands with a body of their own in `labflow._cli._writing`.
EXPLICIT: Final = frozenset({"set_roles", "launch_cohort"})

#: Options spelled otherwise than their parameter, by (command, parameter).
_FLAGS: Final[Mapping[tuple[str, str], str]] = {("return", "stage"): "--to"}
#: Help keys that predate the ``arg.<parameter>`` rule, by (command, parameter) or parameter.
_HELP: Final[Mapping[tuple[str, str] | str, str]] = {
    ("register", "unit"): "arg.owning_unit",
    ("replicate", "unit"): "arg.owning_unit",
    ("attach_evidence", "title"): "arg.evidence_title",
    ("register_exhibit", "event"): "arg.exhibition_name",
    ("return", "stage"): "arg.return_to",
    "innovators": "arg.innovator",
    "steps": "arg.step",
}
#: Shared options a parameter's option may not take (they mean something to every command).
_RESERVED: Final = frozenset({"db", "lab", "lang", "json", "rules", "by", "at", "help"})
#: Parameters whose value also names a history ``--at`` must not come before.
_ORDERED: Final = ("origin",)
#: What an omitted optional argument builds: the method's own default then applies.
_OMIT: Final[Any] = object()


def cli_name(spec: CommandSpec) -> str:
    """The subcommand's name: today's spelling, else the catalogue name in kebab-case."""
    return SPELLINGS.get(spec.name) or spec.name.replace("_", "-")


def aliases(spec: CommandSpec) -> list[str]:
    """The kebab-case catalogue name, when the subcommand is spelled otherwise."""
    kebab = spec.name.replace("_", "-")
    return [] if kebab == cli_name(spec) else [kebab]


def command_help(spec: CommandSpec, lang: str) -> str:
    """The command's help line: ``cmd.<name>``, else a generic line naming it."""
    name = cli_name(spec)
    key = f"cmd.{name}"
    return message(key, lang) if has(key) else message("cmd.missing", lang, name=name)


def _help(spec: CommandSpec, param: str, lang: str) -> str:
    key = _help_key(spec, param)
    if has(key):
        return message(key, lang)
    return message("arg.missing", lang, name=param.replace("_", "-"))


def _help_key(spec: CommandSpec, param: str) -> str:
    return _HELP.get((spec.name, param)) or _HELP.get(param) or f"arg.{param}"


# --- From a signature to arguments ----------------------------------------------------------


class Argument(NamedTuple):
    """One argparse argument: its flags (none: positional), and `add_argument`'s keywords."""

    flags: tuple[str, ...]
    options: dict[str, Any]
    help: str  #: the CLI catalogue key of its help line
    #: the record parameter whose field it gives (``""``: a parameter of its own)
    within: str = ""


class Param(NamedTuple):
    """One parameter of a command's method: its arguments, and how its value is built."""

    name: str
    arguments: tuple[Argument, ...]
    #: the method's argument from the parsed arguments (`_OMIT`: leave the default)
    build: Callable[[argparse.Namespace, Lab], Any]
    supported: bool = True


def _dest(param: str) -> str:
    return f"p_{param}"


def _flag(spec: CommandSpec, param: str) -> str:
    flag = _FLAGS.get((spec.name, param))
    if flag is not None:
        return flag
    name = param.replace("_", "-")
    return f"--{spec.name.replace('_', '-')}-{name}" if param in _RESERVED else f"--{name}"


def _singular(name: str) -> str:
    return name[:-1] if name.endswith("s") and len(name) > 1 else name


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The annotation without ``None``, and whether ``None`` was allowed; ``X | str`` is str."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(members) < len(typing.get_args(annotation))
        if str in members:
            return str, optional
        if len(members) == 1:
            return members[0], optional
        return annotation, optional
    return annotation, False


def _scalar(kind: Any) -> dict[str, Any] | None:
    """argparse keywords for a value of ``kind``, or ``None`` if it is not a simple value."""
    if kind is str or kind is Any:
        return {}
    if kind is bool:
        return {"action": "store_true"}
    if kind is int:
        return {"type": int}
    if kind is date:
        return {"type": date.fromisoformat, "metavar_key": "date"}
    if kind is datetime:
        return {"type": _moment}
    if kind is Path:
        return {"type": Path}
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return {"choices": [str(m.value) for m in kind]}
    return None


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.strip())
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _get(dest: str) -> Callable[[argparse.Namespace, Lab], Any]:
    def build(args: argparse.Namespace, lab: Lab) -> Any:
        value = getattr(args, dest, None)
        return _OMIT if value is None else value

    return build


def _enum(dest: str, kind: type[enum.Enum]) -> Callable[[argparse.Namespace, Lab], Any]:
    def build(args: argparse.Namespace, lab: Lab) -> Any:
        value = getattr(args, dest, None)
        return _OMIT if value is None else kind(value)

    return build


def _param(
    spec: CommandSpec, name: str, annotation: Any, default: bool, *, within: str = ""
) -> Param:
    """The arguments and builder of the parameter ``name`` of ``spec``'s method (or of the
    field ``name`` of its record parameter ``within``); ``default``: whether it has one."""
    composite = _composite(annotation)
    if composite is not None and not within:
        return composite(spec, name)
    kind, optional = _unwrap(annotation)
    required = not default and not optional
    dest = _dest(f"{within}__{name}" if within else name)
    help_key = _help_key(spec, name)
    origin = typing.get_origin(kind)
    scalar = _scalar(kind)
    if scalar is not None:
        options = {"dest": dest, **scalar}
        if scalar.get("action") == "store_true":
            options["default"] = None
        else:
            options["required"] = required
        build = _get(dest)
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            build = _enum(dest, kind)
        return Param(name, (Argument((_flag(spec, name),), options, help_key),), build)
    if origin is not None and isinstance(origin, type):
        items = [i for i in typing.get_args(kind) if i is not Ellipsis]
        if issubclass(origin, Mapping):
            return _mapping(spec, name, required, dest)
        if issubclass(origin, Iterable) and len(items) == 1:
            return _sequence(spec, name, items[0], required, dest)
    if not within and isinstance(kind, type) and attrs.has(kind):
        return _record(spec, name, kind)
    return _unsupported(name)


def _record(spec: CommandSpec, name: str, kind: type) -> Param:
    """A record (an attrs class) given as one option per field, built from them."""
    try:
        attrs.resolve_types(kind)
    except Exception:  # an annotation that names what its module cannot resolve
        return _unsupported(name)
    parts = []
    for field in attrs.fields(kind):
        if not field.init:
            continue
        part = _param(spec, field.name, field.type, field.default is not attrs.NOTHING, within=name)
        if not part.supported:
            return _unsupported(name)
        parts.append(part)

    def build(args: argparse.Namespace, lab: Lab) -> Any:
        values = {}
        for part in parts:
            value = part.build(args, lab)
            if value is not _OMIT:
                values[part.name] = value
        return kind(**values)

    fields = tuple(a._replace(within=name) for part in parts for a in part.arguments)
    return Param(name, fields, build)


def _sequence(spec: CommandSpec, name: str, item: Any, required: bool, dest: str) -> Param:
    """A repeatable option, never required: none given is an empty list."""
    none: Any = [] if required else _OMIT
    flag = _flag(spec, _singular(name))
    help_key = _help_key(spec, name)
    from labflow.model import PlanStep

    if item is PlanStep:
        options: dict[str, Any] = {"dest": dest, "action": "append", "metavar_key": "step"}

        def steps(args: argparse.Namespace, lab: Lab) -> Any:
            from labflow._cli._writing import plan_step

            given = getattr(args, dest, None)
            return none if given is None else [plan_step(s) for s in given]

        return Param(name, (Argument((flag,), options, help_key),), steps)
    scalar = _scalar(_unwrap(item)[0])
    if scalar is None or scalar.get("action"):
        return _unsupported(name)
    options = {"dest": dest, "action": "append", **scalar}

    def items(args: argparse.Namespace, lab: Lab) -> Any:
        given = getattr(args, dest, None)
        return none if given is None else given

    return Param(name, (Argument((flag,), options, help_key),), items)


def _mapping(spec: CommandSpec, name: str, required: bool, dest: str) -> Param:
    help_key = _help_key(spec, name)
    if required:
        argument = Argument((), {"dest": dest, "nargs": "+", "metavar_key": "pair"}, help_key)
    else:
        options = {"dest": dest, "action": "append", "metavar_key": "pair"}
        argument = Argument((_flag(spec, _singular(name)),), options, help_key)

    def build(args: argparse.Namespace, lab: Lab) -> Any:
        given = getattr(args, dest, None)
        if given is None:
            return _OMIT
        pairs = _pairs(given)
        return _typed_attributes(lab, pairs) if name == "attributes" else pairs

    return Param(name, (argument,), build)


def _pairs(words: list[str]) -> dict[str, str | None]:
    from labflow._cli._common import Usage

    pairs: dict[str, str | None] = {}
    for word in words:
        key, equals, value = word.partition("=")
        if not equals or not key.strip():
            raise Usage("error.bad_pair", pair=word)
        pairs[key.strip()] = value if value else None
    return pairs


def _typed_attributes(lab: Lab, pairs: Mapping[str, str | None]) -> dict[str, Any]:
    """Attribute values as the policy declares them: an integer attribute's text as a number.

    A name the policy does not declare stays as given, for the lab to refuse it by name.
    """
    typed: dict[str, Any] = {}
    for key, text in pairs.items():
        definition = lab.policy.attributes.get(key)
        if text is not None and definition is not None and definition.type == "integer":
            try:
                typed[key] = int(text)
                continue
            except ValueError:
                pass  # the lab refuses it, naming the attribute and its type
        typed[key] = text
    return typed


def _unsupported(name: str) -> Param:
    def build(args: argparse.Namespace, lab: Lab) -> Any:
        from labflow._cli._common import Usage

        raise Usage("error.unsupported_argument", command=args.run, name=name)

    return Param(name, (), build, supported=False)


# --- Records given as several options ---------------------------------------------------------


def _diagnosis(spec: CommandSpec, name: str) -> Param:
    from labflow.model import Diagnosis

    arguments = (
        Argument(("--problem",), {"dest": "p_problem", "required": True}, "arg.problem"),
        Argument(("--cause",), {"dest": "p_causes", "action": "append"}, "arg.cause"),
        Argument(("--readiness",), {"dest": "p_readiness", "default": ""}, "arg.readiness"),
    )

    def build(args: argparse.Namespace, lab: Lab) -> Any:
        return Diagnosis(args.p_problem, args.p_causes or [], args.p_readiness)

    return Param(name, arguments, build)


def _unit(spec: CommandSpec, name: str) -> Param:
    from labflow.model import Unit, UnitKind

    kinds = [k.value for k in UnitKind]
    arguments = (
        Argument((), {"dest": "p_unit", "metavar_key": "unit"}, "arg.unit_id"),
        Argument(("--name",), {"dest": "p_name", "required": True}, "arg.unit_name"),
        Argument(
            ("--kind",), {"dest": "p_kind", "required": True, "choices": kinds}, "arg.unit_kind"
        ),
    )

    def build(args: argparse.Namespace, lab: Lab) -> Any:
        return Unit(args.p_unit, args.p_name, args.p_kind)

    return Param(name, arguments, build)


def _actor(spec: CommandSpec, name: str) -> Param:
    from labflow.model import Actor

    arguments = (
        Argument((), {"dest": "p_actor", "metavar_key": "actor"}, "arg.actor_id"),
        Argument(("--name",), {"dest": "p_name", "required": True}, "arg.actor_name"),
        Argument(
            ("--role",), {"dest": "p_roles", "action": "append", "required": True}, "arg.role"
        ),
        Argument(("--unit",), {"dest": "p_unit"}, "arg.actor_unit"),
    )

    def build(args: argparse.Namespace, lab: Lab) -> Any:
        from labflow._cli._writing import known_roles

        known_roles(lab, args.p_roles)  # a mistyped role: "did you mean", not every role
        return Actor(args.p_actor, args.p_name, frozenset(args.p_roles), args.p_unit)

    return Param(name, arguments, build)


def _composite(annotation: Any) -> Callable[[CommandSpec, str], Param] | None:
    """The options of a record given as several (`Diagnosis`, `Unit`, `Actor`), if it is one."""
    from labflow.model import Actor, Diagnosis, Unit

    table: dict[Any, Callable[[CommandSpec, str], Param]] = {
        Diagnosis: _diagnosis,
        Unit: _unit,
        Actor: _actor,
    }
    return table.get(annotation)


# --- A command's parameters, arguments and body -------------------------------------------


def parameters(spec: CommandSpec) -> tuple[Param, ...]:
    """The parameters of ``spec``'s `labflow.Lab` method the command line gives, in order."""
    from labflow.lab import Lab

    method = getattr(Lab, spec.method)
    hints = typing.get_type_hints(method)
    found = []
    params = list(inspect.signature(method).parameters.values())[1:]  # after ``self``
    if spec.level == "innovation" and params:
        params = params[1:]  # the subject: the positional INNOVATION
    for p in params:
        if p.name == "by" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        has_default = p.default is not inspect.Parameter.empty
        found.append(_param(spec, p.name, hints.get(p.name, Any), has_default))
    return tuple(found)


def unsupported(spec: CommandSpec) -> list[str]:
    """The parameters of ``spec`` that cannot be given on the command line."""
    return [p.name for p in parameters(spec) if not p.supported]


def fill(parser: Any, *, spec: CommandSpec, lang: str) -> None:
    """Add ``spec``'s arguments to its subcommand's ``parser``, with help in ``lang``."""
    if spec.level == "innovation":
        key = "arg.new_innovation" if spec.opens else "arg.innovation"
        parser.add_argument(
            "innovation", metavar=message("metavar.innovation", lang), help=message(key, lang)
        )
    params = parameters(spec)
    # A record's field gives way to a parameter of the same name: ``--meeting-place``.
    own = {f for p in params for a in p.arguments if not a.within for f in a.flags}
    for param in params:
        for argument in param.arguments:
            options = dict(argument.options)
            metavar_key = options.pop("metavar_key", None)
            if metavar_key is not None:
                options["metavar"] = message(f"metavar.{metavar_key}", lang)
            elif "metavar" not in options and options.get("action") != "store_true":
                dest = options["dest"].removeprefix("p_").rpartition("__")[2]
                options["metavar"] = _metavar(dest, options, lang)
            if "choices" in options:
                options.pop("metavar", None)
            text = (
                message(argument.help, lang)
                if has(argument.help)
                else message("arg.missing", lang, name=argument.help[4:].replace("_", "-"))
            )
            flags = argument.flags
            if argument.within and any(
                f in own or f in parser._option_string_actions for f in flags
            ):
                flags = tuple(f"--{argument.within.replace('_', '-')}-{f[2:]}" for f in flags)
            parser.add_argument(*flags, help=text, **options)


def _metavar(param: str, options: Mapping[str, Any], lang: str) -> str:
    from labflow._cli._parser import metavar_of

    if options.get("type") is int:
        return message("metavar.number", lang)
    return metavar_of(param, lang)


def missing_help() -> list[str]:
    """Every help key a derived command or argument lacks (``cmd.…``/``arg.…``), sorted."""
    missing = set()
    for spec in _catalogue.CATALOGUE:
        if not has(f"cmd.{cli_name(spec)}"):
            missing.add(f"cmd.{cli_name(spec)}")
        if spec.name in EXPLICIT:
            continue
        for param in parameters(spec):
            for argument in param.arguments:
                if not has(argument.help):
                    missing.add(argument.help)
    return sorted(missing)


def innovation_commands() -> list[str]:
    """The subcommands (with aliases) whose positional argument is an innovation of the lab."""
    names = []
    for spec in _catalogue.CATALOGUE:
        if spec.level == "innovation" and not spec.opens:
            names += [cli_name(spec), *aliases(spec)]
    return names


def spec_named(name: str) -> CommandSpec:
    """The catalogue's command ``name`` (looked up now: the catalogue is read, not copied)."""
    for spec in _catalogue.CATALOGUE:
        if spec.name == name:
            return spec
    raise KeyError(name)


def run(args: argparse.Namespace, out: CommandOutput) -> int:
    """The one body of every derived command: open the lab, call the method, say the result."""
    from labflow._cli._common import write_lab

    spec = spec_named(args.catalogue)
    params = parameters(spec)
    subject = getattr(args, "innovation", None) if spec.level == "innovation" else None

    def work(lab: Lab) -> object:
        given: dict[str, Any] = {}
        for param in params:
            value = param.build(args, lab)
            if value is not _OMIT:
                given[param.name] = value
        method = getattr(lab, spec.method)
        return method(*(() if subject is None else (subject,)), by=args.by, **given)

    ordered = [subject] if subject is not None else []
    ordered += [v for n in _ORDERED if isinstance(v := getattr(args, _dest(n), None), str)]
    return write_lab(args, out, work, ordered)
