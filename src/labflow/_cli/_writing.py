"""The ``labflow`` commands that record events: creating a lab, people, units, innovations.

Each runs as one transaction through `labflow._cli._common._write`; a refusal writes nothing.
"""

from __future__ import annotations

import argparse
import csv
import io
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Final

from labflow import cohort, serde
from labflow._attributes import attribute_problems
from labflow._cli._catalogue import message
from labflow._cli._common import (
    EXIT_OK,
    CommandOutput,
    Refused,
    Usage,
    actor_of,
    check_order,
    event_json,
    lab_id_of,
    open_store,
    parse_at,
    read_text,
    refuse_existing,
    session_at,
    unmet_json,
    write_lab,
)
from labflow._cli._parser import suggest
from labflow.errors import DocumentError, NotFound, Problem
from labflow.lab import Lab
from labflow.model import Actor, PlanStep, Unit
from labflow.policy import Policy, load_policy
from labflow.store import Append


def _actors(path: str, policy: Policy, units: Sequence[Unit]) -> list[Actor]:
    """The actors CSV, checked against the policy's roles and the units: every problem listed."""
    text = read_text(path)
    actors = cohort.read_actors(text, path)
    known_units = {u.id for u in units}
    lines = _data_lines(text)
    problems = []
    for actor, line in zip(actors, lines, strict=False):
        for role in sorted(actor.roles - set(policy.roles)):
            problems.append(
                Problem(
                    f"{path}:{line}:roles",
                    message(
                        "csv.unknown_role",
                        "en",
                        role=role,
                        policy=policy.id,
                        roles=", ".join(sorted(policy.roles)),
                    ),
                )
            )
        if actor.unit is not None and actor.unit not in known_units:
            problems.append(
                Problem(f"{path}:{line}:unit", message("csv.unknown_unit", "en", unit=actor.unit))
            )
    if problems:
        raise DocumentError(problems, kind="actors CSV")
    return actors


def _unit_problems(
    path: str, text: str, units: Sequence[Unit], policy: Policy, known: Iterable[str] = ()
) -> list[Problem]:
    """Every row of a units CSV whose kind the policy does not allow, or whose id is taken."""
    allowed = policy.settings.unit_kinds
    kinds = ", ".join(sorted(k.value for k in allowed))
    taken = set(known)
    problems = []
    for unit, line in zip(units, _data_lines(text), strict=False):
        if unit.kind not in allowed:
            problems.append(
                Problem(
                    f"{path}:{line}:kind",
                    message(
                        "csv.unit_kind", "en", kind=unit.kind.value, policy=policy.id, kinds=kinds
                    ),
                )
            )
        if unit.id in taken:
            problems.append(
                Problem(f"{path}:{line}:id", message("csv.unit_exists", "en", unit=unit.id))
            )
    return problems


def _idea_problems(
    path: str,
    text: str,
    ideas: Sequence[cohort.IdeaRow],
    policy: Policy,
    units: Iterable[str],
    registered: Iterable[str],
) -> list[Problem]:
    """Every row of an innovations CSV the lab would refuse: its initiator, unit, id or
    attributes, judged by the policy's settings and the lab's units (and the file's own)."""
    allowed = policy.settings.initiators
    initiators = ", ".join(sorted(i.value for i in allowed))
    known_units = set(units)
    taken = set(registered)
    problems = []
    for idea, line in zip(ideas, _data_lines(text), strict=False):
        where = f"{path}:{line}"
        if idea.initiator not in allowed:
            params = {"initiator": idea.initiator.value, "policy": policy.id, "kinds": initiators}
            problems.append(Problem(f"{where}:initiator", message("csv.initiator", "en", **params)))
        if idea.unit not in known_units:
            problems.append(
                Problem(f"{where}:unit", message("csv.unknown_unit", "en", unit=idea.unit))
            )
        if idea.id in taken:
            problems.append(
                Problem(f"{where}:id", message("csv.innovation_exists", "en", innovation=idea.id))
            )
        _, bad = attribute_problems(policy.attributes, idea.attributes(policy))
        problems += [Problem(f"{where}:{key}", en) for key, en, _ in bad]
    return problems


def _data_lines(text: str) -> list[int]:
    """The line number of each data row of a CSV text (blank rows are skipped, as cohort does)."""
    numbers = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = True
    for row in reader:
        if header:
            header = False
            continue
        if any(cell.strip() for cell in row):
            numbers.append(reader.line_num)
    return numbers


def _able(policy: Policy, actors: Sequence[Actor]) -> bool:
    """Whether someone among ``actors`` may bring in more people and units."""
    needed = [policy.allowed(c) for c in ("add_actor", "set_roles", "add_unit")]
    return all(any(not a.roles.isdisjoint(roles) for a in actors) for roles in needed)


def _create(args: argparse.Namespace, out: CommandOutput) -> int:
    policy = load_policy(args.policy)
    units_text = read_text(args.units) if args.units else ""
    units = cohort.read_units(units_text, args.units) if args.units else []
    problems = _unit_problems(args.units, units_text, units, policy) if args.units else []
    if problems:
        raise DocumentError(problems, kind="units CSV")
    actors = _actors(args.actors, policy, units) if args.actors else []
    if not _able(policy, actors):
        roles = sorted(policy.allowed("add_actor"))
        raise Usage("error.no_one_can_act", lab=args.lab_id, roles=", ".join(roles))
    if args.by not in {a.id for a in actors}:
        close = suggest(args.by, [a.id for a in actors])
        raise Usage("error.founder_unknown", actor=args.by, hint=close or "")
    clock = (lambda: at) if (at := parse_at(args.at) if args.at else None) else None
    lab = Lab.create(
        policy,
        id=args.lab_id,
        region=args.region,
        by=args.by,
        units=units,
        actors=actors,
        **({"clock": clock} if clock else {}),
    )
    with open_store(args, create=True) as store:
        refuse_existing(store, lab.id)
        store.commit(lab.id, [Append(lab.id, 0, lab.history, lab=True)])
    if out.as_json:
        out.json({"recorded": [event_json(e) for e in lab.history], "database": str(store.path)})
    else:
        out.say(
            out.t(
                "done.created",
                lab=lab.id,
                policy=policy.id,
                db=str(store.path),
                units=len(units),
                actors=len(actors),
            ),
            style="green",
        )
    return EXIT_OK


def _import(args: argparse.Namespace, out: CommandOutput) -> int:
    if args.lab_json:
        text = read_text(args.lab_json, serde.MAX_DOCUMENT_BYTES)
        lab = serde.load_lab(text)
        with open_store(args, create=True) as store:
            refuse_existing(store, lab.id)
            appends = [Append(lab.id, 0, lab.history, lab=True)]
            appends += [Append(i.id, 0, i.history) for i in lab.innovations.values()]
            store.commit(lab.id, appends)
        if out.as_json:
            out.json({"lab": lab.id, "innovations": len(lab.innovations)})
        else:
            out.say(out.t("done.imported_lab", lab=lab.id, n=len(lab.innovations)), style="green")
        return EXIT_OK
    if not (args.units or args.innovations):
        raise Usage("error.nothing_to_import")
    # Parse everything first: a malformed file changes nothing.
    units_text = read_text(args.units) if args.units else ""
    units = cohort.read_units(units_text, args.units) if args.units else []
    ideas_text = read_text(args.innovations) if args.innovations else ""
    ideas = cohort.read_innovations(ideas_text, args.innovations) if args.innovations else []

    def check(lab: Lab) -> None:
        """Every row the lab would refuse, listed before anything is written."""
        problems = []
        if units:
            problems += _unit_problems(args.units, units_text, units, lab.policy, lab.units)
        if ideas:
            known = [*lab.units, *(u.id for u in units)]
            problems += _idea_problems(
                args.innovations, ideas_text, ideas, lab.policy, known, lab.innovations
            )
        if problems:
            kind = "innovations CSV" if not units else "units CSV" if not ideas else "CSV files"
            raise DocumentError(problems, kind=kind)

    def work(lab: Lab) -> None:
        check(lab)
        for unit in out.progress(out.word("adding_units"), units):
            lab.add_unit(unit, by=args.by)
        for idea in out.progress(out.word("registering_ideas"), ideas):
            lab.register(
                idea.id,
                title=idea.title,
                unit=idea.unit,
                innovators=idea.innovators,
                problem=idea.problem,
                initiator=idea.initiator,
                by=args.by,
                attributes=idea.attributes(lab.policy) or None,
            )

    at = parse_at(args.at) if args.at else None
    with open_store(args) as store:
        lab_id = lab_id_of(store, args)
        session = session_at(store, lab_id, at)
        with session as lab:
            out.lab = lab
            if at is not None:
                check_order(lab, at, ())
            work(lab)
            with out.status(out.word("saving")):  # the bars are full; the write is not done yet
                session.commit()
    if out.as_json:
        out.json({"units": len(units), "innovations": len(ideas)})
    else:
        out.say(out.t("done.imported", units=len(units), n=len(ideas)), style="green")
    return EXIT_OK


def known_roles(lab: Lab, *roles: Iterable[str]) -> None:
    """A mistyped role is an unknown id, with "did you mean" (not a list of every role)."""
    for role in sorted({r for group in roles for r in group}):
        if role not in lab.policy.roles:
            raise NotFound("role", role, where=f"policy {lab.policy.id!r}")


def _set_roles(args: argparse.Namespace, out: CommandOutput) -> int:
    if args.roles is None and not (args.add or args.remove):
        raise Usage("error.no_roles_change")

    def work(lab: Lab) -> None:
        actor = actor_of(lab, args.actor)
        known_roles(lab, args.roles or (), args.add, args.remove)
        roles = set(actor.roles if args.roles is None else args.roles)
        roles = (roles | set(args.add)) - set(args.remove)
        if roles == set(actor.roles):
            raise Refused("error.roles_unchanged", actor=actor.id)
        lab.set_roles(actor.id, sorted(roles), by=args.by)

    return write_lab(args, out, work)


def _hand_over(args: argparse.Namespace, out: CommandOutput) -> int:
    """The facilitator's role (or another) passes from LAN's mentors to the region's team."""

    def work(lab: Lab) -> None:
        role = args.role
        if role not in lab.policy.roles:
            raise NotFound("role", role, where=f"policy {lab.policy.id!r}")
        givers = [actor_of(lab, a) for a in args.giver]
        takers = [actor_of(lab, a) for a in args.taker]
        for actor in givers:
            if role not in actor.roles:
                raise Refused("error.does_not_hold", actor=actor.id, role=out.role(role))
        for actor in takers:
            if actor.id in args.giver:
                raise Refused("error.hand_to_self", actor=actor.id)
            if role not in actor.roles:
                lab.set_roles(actor.id, sorted(actor.roles | {role}), by=args.by)
        for actor in givers:
            lab.set_roles(actor.id, sorted(actor.roles - {role}), by=args.by)

    return write_lab(args, out, work)


def plan_step(text: str) -> PlanStep:
    """A plan step written ``DESCRIPTION|RESPONSIBLE|YYYY-MM-DD`` (``--step``)."""
    parts = text.split("|")
    if len(parts) != 3:
        raise Usage("error.bad_step", step=text)
    try:
        due = date.fromisoformat(parts[2].strip())
    except ValueError:
        raise Usage("error.bad_step_date", step=text) from None
    return PlanStep(parts[0].strip(), parts[1].strip(), due)


def _ceremony(args: argparse.Namespace, out: CommandOutput) -> int:
    results = []

    def work(lab: Lab) -> None:
        results.append(lab.launch_cohort(ceremony=args.name, by=args.by))

    write_lab(args, out, work, quiet=True)  # the summary below says it all
    result = results[0]
    if out.as_json:
        out.json(
            {
                "ceremony": result.ceremony,
                "launched": list(result.launched),
                "refused": {
                    i: [unmet_json(u) for u in v.unmet] for i, v in sorted(result.refused.items())
                },
                "recorded": [event_json(e) for e in result.events],
            }
        )
        return EXIT_OK
    for _, verdict in sorted(result.refused.items()):
        out.say(out.explain(verdict))
    out.say(
        out.t("done.ceremony", n=len(result.launched), refused=len(result.refused)),
        style="green",
    )
    return EXIT_OK


#: The commands of this module, by the name the parser gives them (``run``); the others
#: that write are derived from the command catalogue (`labflow._cli._derived`).
COMMANDS: Final[dict[str, Callable[[argparse.Namespace, CommandOutput], int]]] = {
    "create": _create,
    "import": _import,
    "set-roles": _set_roles,
    "hand-over": _hand_over,
    "ceremony": _ceremony,
}
