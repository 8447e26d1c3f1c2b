"""The ``labflow`` command: run a lab from a terminal, on an SQLite file.

Arguments are parsed by the standard library's `argparse` (in `labflow._cli._parser`,
in the language of ``--lang``); what the command prints is drawn by Rich (the ``cli``
extra, in the private `labflow._terminal`) from one message catalogue in English and
Indonesian (`labflow._cli._catalogue`). User CSV files are read by `labflow.cohort`.
Every command takes ``--db PATH`` (default ``labflow.db`` in the current folder),
``--lab ID``, ``--lang id|en`` and ``--json``, before or after the command's name;
every writing command takes ``--by ACTOR`` and ``--at WHEN``.

Exit codes (also in ``labflow --help`` and docs/cli.md)::

    0  success
    1  refused: a gate is unmet, the actor lacks the role, an unknown id, ...
    2  bad input or usage: a malformed CSV/JSON/policy file, a file that cannot be
       read or written, wrong arguments, a lab id the database already holds
    3  storage: the database is missing, cannot be opened, is corrupt, from a newer
       labflow, or locked
    4  conflict: another writer changed the same innovation first; nothing was written
    5  verification failed: a history was edited (the first bad event is named)

A user's mistake is reported as one sentence (refusals list every unmet
reason), never as a traceback: that includes a file that cannot be read or
written (exit 2; the database: exit 3) and an argument that is not UTF-8 text
(exit 2).
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final, TextIO

import attrs
import structlog

from labflow import cohort, diagram, diff, reports, serde
from labflow._cli._catalogue import has, message
from labflow._cli._parser import DEFAULT_DB, DEMO_DB, PATH_OPTIONS, build, language, suggest
from labflow._cli._parser import completion_script as _completion_script
from labflow._terminal import Output, printable, safe_message
from labflow.errors import (
    CommandError,
    ConflictError,
    DocumentError,
    GateRefused,
    HistoryError,
    LabflowError,
    NotFound,
    PermissionDenied,
    PolicyError,
    Problem,
    StoreError,
)
from labflow.events import Event
from labflow.lab import Lab, system_clock
from labflow.model import Actor, Diagnosis, PlanStep, Unit
from labflow.policy import Policy, available_presets, load_policy, policy_from_dict
from labflow.requirements import Unmet, Verdict
from labflow.store import Append, Session, StoreCorrupt, StoreLocked, StoreMissing, StoreTooNew
from labflow.store.sqlite import SQLiteStore

__all__ = [
    "DEFAULT_DB",
    "EXIT_CONFLICT",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_STORE",
    "EXIT_UNVERIFIED",
    "EXIT_USAGE",
    "main",
]

EXIT_OK: Final = 0
EXIT_REFUSED: Final = 1
EXIT_USAGE: Final = 2
EXIT_STORE: Final = 3
EXIT_CONFLICT: Final = 4
EXIT_UNVERIFIED: Final = 5
#: Standard output was closed by its reader; by convention 128 + SIGPIPE.
EXIT_BROKEN_PIPE: Final = 141


class _Said(LabflowError):
    """A mistake the command itself found, worded from the catalogue in the user's language."""

    exit_code = EXIT_USAGE

    def __init__(self, key: str, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(message(key, "en", **params))

    def say(self, lang: str) -> str:
        text = safe_message(self.key, lang, **self.params)
        if self.params.get("hint"):
            text += safe_message("error.did_you_mean", lang, close=self.params["hint"])
        return text


class _Usage(_Said):
    """A usage mistake the parser could not see (exit code 2)."""


class _Refused(_Said):
    """A command refused before it reached the lab: an ``--at`` out of order, ... (exit 1)."""

    exit_code = EXIT_REFUSED


class _Out(Output):
    """The command's output, which also remembers the lab it read (for labels and hints)."""

    lab: Lab | None = None
    #: the lab's policy and id, when the command read them without the lab (``list``)
    policy: Policy | None = None
    lab_id: str = ""

    def stage(self, stage_id: str, policy: Policy | None = None) -> str:
        """A stage's label in the output's language (its id if the policy has no such stage)."""
        policy = policy or self.policy or (self.lab.policy if self.lab is not None else None)
        if policy is None or stage_id not in policy.stage_ids:
            return stage_id
        return policy.stage(stage_id).label(self.lang)

    def kind(self, kind: str | None) -> str:
        if not kind:
            return "·"
        return self.t(f"kind.{kind}") if has(f"kind.{kind}") else printable(kind)

    def event(self, kind: str) -> str:
        return self.t(f"event.{kind}") if has(f"event.{kind}") else printable(kind)

    def role(self, role: str) -> str:
        policy = self.lab.policy if self.lab is not None else None
        if policy is not None and role in policy.roles:
            definition = policy.roles[role]
            return definition.label_id if self.lang == "id" else definition.label_en
        return role

    def explain(self, verdict: Verdict, policy: Policy | None = None) -> str:
        """A verdict as sentences, with the stage's label: a heading and one unmet item a line."""
        target = self.stage(verdict.target, policy)
        if verdict.ok:
            return self.t("verdict.ok", subject=verdict.subject, stage=target)
        if verdict.codes == ("stage.final",):
            key = "verdict.final_lab" if verdict.action == "lab.advance" else "verdict.final"
            return self.t(key, subject=verdict.subject, stage=target)
        key = {"launch": "verdict.cannot_launch", "lab.advance": "verdict.lab_cannot_advance"}.get(
            verdict.action, "verdict.cannot_advance"
        )
        heading = self.t(key, subject=verdict.subject, stage=target)
        return heading + "\n" + "\n".join(f"  - {self.unmet(u)}" for u in verdict.unmet)

    def unmet(self, item: Unmet) -> str:
        return printable(item.message(self.lang))


# --- Opening the lab -----------------------------------------------------------------------------


def _reason(exc: OSError) -> str:
    """What the system said about a file, without the errno and the repeated name."""
    return exc.strerror or str(exc) or type(exc).__name__


def _open(args: argparse.Namespace, *, create: bool = False) -> SQLiteStore:
    try:
        return SQLiteStore(args.db, create=create)
    except OSError as exc:  # a name too long, a folder it may not look into, ...
        raise _NoLab("error.db_unopenable", db=args.db, reason=_reason(exc)) from exc


def _lab_id(store: SQLiteStore, args: argparse.Namespace) -> str:
    ids = store.lab_ids()
    if args.lab:
        if args.lab not in ids:
            close = suggest(args.lab, ids)
            raise _Usage(
                "error.no_lab",
                lab=args.lab,
                db=str(store.path),
                labs=", ".join(ids) or "—",
                n=len(ids),
                hint=close or "",
            )
        return str(args.lab)
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise _NoLab("error.empty_db", db=str(store.path))
    raise _Usage("error.several_labs", db=str(store.path), labs=", ".join(ids))


class _NoLab(_Said):
    """The database holds no lab, or cannot be opened (a storage problem: exit code 3)."""

    exit_code = EXIT_STORE


def _undecodable(argv: Sequence[str], args: argparse.Namespace) -> _Usage | None:
    """Why an argument that was not UTF-8 cannot be used, or ``None`` if all are text.

    Python keeps the bytes of such an argument as lone surrogates; hashed into an
    event they would fail, and stored they would not be text. File names are the
    exception: the system takes them back byte for byte, so they may be anything.
    """
    paths = {getattr(args, name, None) for name in PATH_OPTIONS} - {None}
    for i, token in enumerate(argv):
        try:
            token.encode("utf-8")
            continue
        except UnicodeEncodeError:
            pass
        option, equals, value = token.partition("=")
        if token in paths or (equals and option.startswith("--") and value in paths):
            continue
        if i and argv[i - 1].startswith("-"):
            return _Usage("error.not_utf8_of", value=token, option=argv[i - 1])
        return _Usage("error.not_utf8", value=token)
    return None


def _moment(text: str) -> datetime:
    """``--at``: a date (midnight UTC) or an ISO date and time (UTC unless it says otherwise)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise _Usage("error.bad_at", value=text) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _check_order(lab: Lab, at: datetime, subjects: Iterable[str]) -> None:
    """``--at`` must not come before what the histories it extends already record."""
    if at > datetime.now(UTC):
        raise _Refused("error.at_future", at=at.isoformat(timespec="minutes"))
    histories = [(lab.id, lab.history)]
    histories += [(s, lab.innovations[s].history) for s in subjects if s in lab.innovations]
    for subject, history in histories:
        if history and at < history[-1].at:
            raise _Refused(
                "error.at_order",
                at=at.isoformat(timespec="minutes"),
                subject=subject,
                last=history[-1].at.isoformat(timespec="minutes"),
            )


def _session(store: SQLiteStore, lab_id: str, at: datetime | None) -> Session:
    """A session on the lab whose clock reads ``at`` (``--at``), or the time now."""
    return store.session(lab_id, clock=system_clock if at is None else (lambda: at))


def _write(
    args: argparse.Namespace,
    out: _Out,
    work: Callable[[Lab], object],
    subjects: Iterable[str] = (),
    *,
    quiet: bool = False,
) -> int:
    """Run ``work`` on the lab in one transaction and say what it recorded (unless ``quiet``)."""
    at = _moment(args.at) if getattr(args, "at", None) else None
    with _open(args) as store:
        lab_id = _lab_id(store, args)
        session = _session(store, lab_id, at)
        with session as lab:
            out.lab = lab
            if at is not None:
                _check_order(lab, at, subjects)
            work(lab)
    if not quiet:
        _recorded(out, session.committed)
    return EXIT_OK


def _recorded(out: _Out, events: Sequence[Event]) -> None:
    if out.as_json:
        out.json({"recorded": [_event_json(e) for e in events]})
        return
    for event in events:
        out.say(
            out.t(
                "done.recorded",
                subject=event.subject,
                seq=event.seq,
                event=out.event(event.kind),
                at=event.at.isoformat(timespec="minutes"),
            ),
            style="green",
        )


def _event_json(event: Event, *, hashes: bool = False) -> dict[str, Any]:
    """An event as every command's JSON shows it."""
    data: dict[str, Any] = {
        "subject": event.subject,
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "kind": event.kind,
        "payload": event.payload,
    }
    if hashes:
        data.update(prev=event.prev, hash=event.hash)
    return data


def _simple(method: str) -> Callable[[argparse.Namespace, _Out], int]:
    def run(args: argparse.Namespace, out: _Out) -> int:
        return _write(
            args,
            out,
            lambda lab: getattr(lab, method)(args.innovation, by=args.by),
            [args.innovation],
        )

    return run


def _reasoned(method: str) -> Callable[[argparse.Namespace, _Out], int]:
    def run(args: argparse.Namespace, out: _Out) -> int:
        return _write(
            args,
            out,
            lambda lab: getattr(lab, method)(args.innovation, reason=args.reason, by=args.by),
            [args.innovation],
        )

    return run


# --- Writing commands ----------------------------------------------------------------------------


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise _Usage("error.not_utf8_file", path=path, byte=exc.start) from exc
    except OSError as exc:
        raise _Usage("error.unreadable", path=path, reason=_reason(exc)) from exc


def _refuse_existing(store: SQLiteStore, lab_id: str) -> None:
    """A lab id already in the database is the user's mistake, not another writer's race."""
    if lab_id in store.lab_ids():
        raise _Usage("error.lab_taken", db=str(store.path), lab=lab_id)


def _actors(path: str, policy: Policy, units: Sequence[Unit]) -> list[Actor]:
    """The actors CSV, checked against the policy's roles and the units: every problem listed."""
    text = _read_text(path)
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


def _create(args: argparse.Namespace, out: _Out) -> int:
    policy = load_policy(args.policy)
    units = cohort.read_units(_read_text(args.units), args.units) if args.units else []
    actors = _actors(args.actors, policy, units) if args.actors else []
    if not _able(policy, actors):
        roles = sorted(policy.allowed("add_actor"))
        raise _Usage("error.no_one_can_act", lab=args.lab_id, roles=", ".join(roles))
    if args.by not in {a.id for a in actors}:
        close = suggest(args.by, [a.id for a in actors])
        raise _Usage("error.founder_unknown", actor=args.by, hint=close or "")
    clock = (lambda: at) if (at := _moment(args.at) if args.at else None) else None
    lab = Lab.create(
        policy,
        id=args.lab_id,
        region=args.region,
        by=args.by,
        units=units,
        actors=actors,
        **({"clock": clock} if clock else {}),
    )
    with _open(args, create=True) as store:
        _refuse_existing(store, lab.id)
        store.commit(lab.id, [Append(lab.id, 0, lab.history, lab=True)])
    if out.as_json:
        out.json({"recorded": [_event_json(e) for e in lab.history], "database": str(store.path)})
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


def _import(args: argparse.Namespace, out: _Out) -> int:
    if args.lab_json:
        text = _read_text(args.lab_json)
        lab = serde.load_lab(text)
        with _open(args, create=True) as store:
            _refuse_existing(store, lab.id)
            appends = [Append(lab.id, 0, lab.history, lab=True)]
            appends += [Append(i.id, 0, i.history) for i in lab.innovations.values()]
            store.commit(lab.id, appends)
        if out.as_json:
            out.json({"lab": lab.id, "innovations": len(lab.innovations)})
        else:
            out.say(out.t("done.imported_lab", lab=lab.id, n=len(lab.innovations)), style="green")
        return EXIT_OK
    if not (args.units or args.innovations):
        raise _Usage("error.nothing_to_import")
    # Parse everything first: a malformed file changes nothing.
    units = cohort.read_units(_read_text(args.units), args.units) if args.units else []
    ideas = (
        cohort.read_innovations(_read_text(args.innovations), args.innovations)
        if args.innovations
        else []
    )

    def work(lab: Lab) -> None:
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
            )

    at = _moment(args.at) if args.at else None
    with _open(args) as store:
        lab_id = _lab_id(store, args)
        session = _session(store, lab_id, at)
        with session as lab:
            out.lab = lab
            if at is not None:
                _check_order(lab, at, ())
            work(lab)
            with out.status(out.word("saving")):  # the bars are full; the write is not done yet
                session.commit()
    if out.as_json:
        out.json({"units": len(units), "innovations": len(ideas)})
    else:
        out.say(out.t("done.imported", units=len(units), n=len(ideas)), style="green")
    return EXIT_OK


def _add_unit(args: argparse.Namespace, out: _Out) -> int:
    unit = Unit(args.unit, args.name, args.kind)
    return _write(args, out, lambda lab: lab.add_unit(unit, by=args.by))


def _add_actor(args: argparse.Namespace, out: _Out) -> int:
    actor = Actor(args.actor, args.name, frozenset(args.roles), args.unit)
    return _write(args, out, lambda lab: lab.add_actor(actor, by=args.by))


def _set_roles(args: argparse.Namespace, out: _Out) -> int:
    if args.roles is None and not (args.add or args.remove):
        raise _Usage("error.no_roles_change")

    def work(lab: Lab) -> None:
        actor = _actor(lab, args.actor)
        roles = set(actor.roles if args.roles is None else args.roles)
        roles = (roles | set(args.add)) - set(args.remove)
        if roles == set(actor.roles):
            raise _Refused("error.roles_unchanged", actor=actor.id)
        lab.set_roles(actor.id, sorted(roles), by=args.by)

    return _write(args, out, work)


def _actor(lab: Lab, actor_id: str) -> Actor:
    actor = lab.actors.get(actor_id)
    if actor is None:
        raise NotFound("actor", actor_id, where=f"lab {lab.id!r}")
    return actor


def _hand_over(args: argparse.Namespace, out: _Out) -> int:
    """The facilitator's role (or another) passes from LAN's mentors to the region's team."""

    def work(lab: Lab) -> None:
        role = args.role
        if role not in lab.policy.roles:
            raise NotFound("role", role, where=f"policy {lab.policy.id!r}")
        givers = [_actor(lab, a) for a in args.giver]
        takers = [_actor(lab, a) for a in args.taker]
        for actor in givers:
            if role not in actor.roles:
                raise _Refused("error.does_not_hold", actor=actor.id, role=out.role(role))
        for actor in takers:
            if actor.id in args.giver:
                raise _Refused("error.hand_to_self", actor=actor.id)
            if role not in actor.roles:
                lab.set_roles(actor.id, sorted(actor.roles | {role}), by=args.by)
        for actor in givers:
            lab.set_roles(actor.id, sorted(actor.roles - {role}), by=args.by)

    return _write(args, out, work)


def _register(args: argparse.Namespace, out: _Out) -> int:
    return _write(
        args,
        out,
        lambda lab: lab.register(
            args.innovation,
            title=args.title,
            unit=args.unit,
            innovators=args.innovators,
            problem=args.problem,
            initiator=args.initiator,
            by=args.by,
        ),
    )


def _diagnose(args: argparse.Namespace, out: _Out) -> int:
    diagnosis = Diagnosis(args.problem, args.causes, args.readiness)
    return _write(
        args,
        out,
        lambda lab: lab.record_diagnosis(args.innovation, diagnosis, by=args.by),
        [args.innovation],
    )


def _permit(args: argparse.Namespace, out: _Out) -> int:
    return _write(
        args,
        out,
        lambda lab: lab.grant_permission(args.innovation, reference=args.reference, by=args.by),
        [args.innovation],
    )


def _step(text: str) -> PlanStep:
    parts = text.split("|")
    if len(parts) != 3:
        raise _Usage("error.bad_step", step=text)
    try:
        due = date.fromisoformat(parts[2].strip())
    except ValueError:
        raise _Usage("error.bad_step_date", step=text) from None
    return PlanStep(parts[0].strip(), parts[1].strip(), due)


def _submit_plan(args: argparse.Namespace, out: _Out) -> int:
    steps = [_step(s) for s in args.steps]
    return _write(
        args,
        out,
        lambda lab: lab.submit_plan(args.innovation, steps=steps, budget=args.budget, by=args.by),
        [args.innovation],
    )


def _draw_up(args: argparse.Namespace, out: _Out) -> int:
    return _write(
        args,
        out,
        lambda lab: lab.draw_up_agreement(
            args.innovation,
            regional_head=args.regional_head,
            unit_head=args.unit_head,
            terms=args.terms,
            by=args.by,
        ),
        [args.innovation],
    )


def _launch(args: argparse.Namespace, out: _Out) -> int:
    return _write(
        args,
        out,
        lambda lab: lab.record_launch(args.innovation, ceremony=args.ceremony, by=args.by),
        [args.innovation],
    )


def _evidence(args: argparse.Namespace, out: _Out) -> int:
    return _write(
        args,
        out,
        lambda lab: lab.attach_evidence(
            args.innovation, title=args.title, reference=args.reference, by=args.by
        ),
        [args.innovation],
    )


def _exhibit(args: argparse.Namespace, out: _Out) -> int:
    return _write(
        args,
        out,
        lambda lab: lab.register_exhibit(
            args.innovation, event=args.event, booth=args.booth, by=args.by
        ),
        [args.innovation],
    )


def _return(args: argparse.Namespace, out: _Out) -> int:
    return _write(
        args,
        out,
        lambda lab: lab.return_to(args.innovation, args.stage, reason=args.reason, by=args.by),
        [args.innovation],
    )


def _replicate(args: argparse.Namespace, out: _Out) -> int:
    return _write(
        args,
        out,
        lambda lab: lab.replicate(
            args.innovation,
            origin=args.origin,
            unit=args.unit,
            adaptation=args.adaptation,
            origin_region=args.origin_region,
            title=args.title,
            problem=args.problem,
            by=args.by,
        ),
        [args.origin],
    )


def _advance_lab(args: argparse.Namespace, out: _Out) -> int:
    return _write(args, out, lambda lab: lab.advance_lab(by=args.by))


def _ceremony(args: argparse.Namespace, out: _Out) -> int:
    results = []

    def work(lab: Lab) -> None:
        results.append(lab.launch_cohort(ceremony=args.name, by=args.by))

    _write(args, out, work, quiet=True)  # the summary below says it all
    result = results[0]
    if out.as_json:
        out.json(
            {
                "ceremony": result.ceremony,
                "launched": list(result.launched),
                "refused": {
                    i: [_unmet_json(u) for u in v.unmet] for i, v in sorted(result.refused.items())
                },
                "recorded": [_event_json(e) for e in result.events],
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


def _unmet_json(item: Unmet) -> dict[str, Any]:
    """An unmet item as every command's JSON shows it (as `labflow.reports` does)."""
    return {"code": item.code, "en": item.message("en"), "id": item.message("id")}


# --- Reading commands ----------------------------------------------------------------------------


def _load(args: argparse.Namespace, out: _Out) -> Lab:
    with _open(args) as store:
        lab_id = _lab_id(store, args)
        with out.status(out.word("loading")):  # replaying a large lab takes a while
            lab = store.load(lab_id)
    out.lab = lab
    return lab


def _status(args: argparse.Namespace, out: _Out) -> int:
    lab = _load(args, out)
    last = lab.policy.stage_ids[-1]
    if args.innovation is None:
        verdict = lab.check_lab()
        data: dict[str, Any] = {
            "lab": lab.id,
            "region": lab.region,
            "policy": lab.policy.id,
            "stage": lab.stage,
            "innovations": len(lab.innovations),
            "version": lab.version,
            "next": None if lab.stage == last else verdict.target,
            "unmet": [_unmet_json(u) for u in verdict.unmet if u.code != "stage.final"],
        }
        rows = [
            (out.word("lab"), lab.id),
            (out.word("region"), lab.region),
            (out.word("policy"), lab.policy.id),
            (out.word("stage"), out.stage(lab.stage)),
            (out.word("innovations"), len(lab.innovations)),
            (out.word("version"), lab.version),
        ]
    else:
        inn = _innovation(lab, args.innovation)
        verdict = lab.check(inn.id)
        data = {
            "innovation": inn.id,
            "title": inn.title,
            "unit": inn.unit,
            "stage": inn.stage,
            "status": inn.status.value,
            "launched": inn.launch is not None,
            "version": inn.version,
            "next": None if inn.stage == last else verdict.target,
            "unmet": [_unmet_json(u) for u in verdict.unmet if u.code != "stage.final"],
        }
        rows = [
            (out.word("innovation"), inn.id),
            (out.word("title"), inn.title),
            (out.word("unit"), inn.unit),
            (out.word("stage"), out.stage(inn.stage)),
            (out.word("status"), out.t(f"status.{inn.status.value}")),
            (out.word("launched"), out.word("yes" if inn.launch is not None else "no")),
            (out.word("version"), inn.version),
        ]
    if out.as_json:
        out.json(data)
        return EXIT_OK
    if data["next"] is not None:
        rows.append((out.word("next"), out.stage(data["next"])))
    out.table(None, ["", ""], rows, header=False)
    out.say()
    style = "green" if verdict.ok else ("cyan" if data["next"] is None else "yellow")
    out.say(out.explain(verdict), style=style)
    return EXIT_OK


def _innovation(lab: Lab, innovation_id: str) -> Any:
    if innovation_id not in lab.innovations:
        raise NotFound("innovation", innovation_id, where=f"lab {lab.id!r}")
    return lab.innovations[innovation_id]


def _list(args: argparse.Namespace, out: _Out) -> int:
    with _open(args) as store:
        lab_id = _lab_id(store, args)
        rows = store.innovations(
            lab_id, stage=args.stage, unit=args.unit, unit_kind=args.unit_kind, status=args.status
        )
        blocked: dict[str, Verdict] = {}
        out.lab_id = lab_id
        if args.blocked:  # the verdicts need the whole lab
            with out.status(out.word("loading")):
                out.lab = store.load(lab_id)
            blocked = {b.innovation: b.verdict for b in reports.blocked(out.lab)}
            rows = [r for r in rows if r.id in blocked]
        else:  # labels need only the policy, read from the lab's first event
            out.policy = _recorded_policy(store, lab_id)
        policy = out.lab.policy if out.lab is not None else out.policy
        if args.stage is not None and policy is not None and args.stage not in policy.stage_ids:
            raise NotFound("stage", args.stage, where=f"lab {lab_id!r}")
    if out.as_json:
        out.json(
            [
                {
                    **_asdict(r),
                    **({"unmet": [_unmet_json(u) for u in blocked[r.id].unmet]} if blocked else {}),
                }
                for r in rows
            ]
        )
        return EXIT_OK
    headers = [out.word(k) for k in ("innovation", "unit", "kind", "stage", "status", "launched")]
    table: list[tuple[Any, ...]] = [
        (
            r.id,
            r.unit,
            out.kind(r.unit_kind),
            out.stage(r.stage),
            out.t(f"status.{r.status}"),
            out.word("yes" if r.launched else "no"),
        )
        for r in rows
    ]
    if args.blocked and out.lab is not None:
        # Who is held up, and why, in sentences, stage by stage.
        _blocked_by_stage(out, out.lab, [(r.id, r.unit, r.stage, blocked[r.id]) for r in rows])
    else:
        out.table(None, headers, table, wide=(3,), keep=(0, 1))
    out.say(out.t("list.total", n=len(rows)))
    return EXIT_OK


def _asdict(row: Any) -> dict[str, Any]:
    return attrs.asdict(row)


def _when(moment: datetime) -> str:
    """A moment as a table shows it: to the minute, in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _summary(event: Event, out: _Out, policy: Policy | None) -> str:
    """An event's payload as a table cell: its values (stages by label), not its field names."""

    def values(value: Any) -> str:
        if isinstance(value, dict):
            return ", ".join(values(value[k]) for k in sorted(value))
        if isinstance(value, list | tuple):
            return ", ".join(values(v) for v in value)
        if isinstance(value, str) and policy is not None and value in policy.stage_ids:
            return out.stage(value, policy)
        return "·" if value is None or value == "" else str(value)

    if event.kind == "lab.created":  # the whole policy: its id says it
        text = f"{event.payload.get('id')}; {event.payload.get('region')}"
    else:
        text = "; ".join(values(event.payload[k]) for k in sorted(event.payload))
    return printable(text if len(text) <= 70 else text[:69] + "…")


def _recorded_policy(store: SQLiteStore, lab_id: str) -> Policy | None:
    """The policy a lab recorded at creation, read from its first event (not the whole lab)."""
    first = store.history(lab_id)[:1]
    try:
        return policy_from_dict(first[0].payload["policy"]) if first else None
    except (LabflowError, KeyError, TypeError):  # a host's own requirement: show stage ids
        return None


def _history(args: argparse.Namespace, out: _Out) -> int:
    with _open(args) as store:
        lab_id = _lab_id(store, args)
        events = store.history(lab_id, args.innovation)
        policy = None if out.as_json else _recorded_policy(store, lab_id)
        if args.innovation is not None and not events:
            out.lab = store.load(lab_id)
            raise NotFound("innovation", args.innovation, where=f"lab {lab_id!r}")
    if out.as_json:
        out.json([_event_json(e, hashes=args.hashes) for e in events])
        return EXIT_OK
    headers = [out.word(k) for k in ("seq", "at", "actor", "event", "details")]
    rows: list[tuple[Any, ...]] = [
        (
            e.seq,
            _when(e.at),
            e.actor,
            out.event(e.kind),
            _summary(e, out, policy),
        )
        for e in events
    ]
    if args.hashes:
        headers.append(out.word("hash"))
        rows = [(*r, e.hash) for r, e in zip(rows, events, strict=True)]
    out.table(
        f"{events[0].subject}" if events else None,
        headers,
        rows,
        numeric=(0,),
        wide=(4,),
        keep=(1, 2),
    )
    return EXIT_OK


def _actors_list(args: argparse.Namespace, out: _Out) -> int:
    lab = _load(args, out)
    actors = sorted(lab.actors.values(), key=lambda a: a.id)
    if out.as_json:
        out.json(
            [{"id": a.id, "name": a.name, "roles": sorted(a.roles), "unit": a.unit} for a in actors]
        )
        return EXIT_OK
    out.table(
        None,
        [out.word(k) for k in ("actor", "name", "roles", "unit")],
        [
            (a.id, a.name, ", ".join(out.role(r) for r in sorted(a.roles)), a.unit or "·")
            for a in actors
        ],
        wide=(2,),
    )
    out.say(out.t("list.actors", n=len(actors)))
    return EXIT_OK


def _units_list(args: argparse.Namespace, out: _Out) -> int:
    lab = _load(args, out)
    units = sorted(lab.units.values(), key=lambda u: (u.kind.value, u.id))
    if out.as_json:
        out.json([{"id": u.id, "name": u.name, "kind": u.kind.value} for u in units])
        return EXIT_OK
    out.table(
        None,
        [out.word(k) for k in ("unit", "name", "kind")],
        [(u.id, u.name, out.kind(u.kind.value)) for u in units],
    )
    out.say(out.t("list.units", n=len(units)))
    return EXIT_OK


def _verify(args: argparse.Namespace, out: _Out) -> int:
    with _open(args) as store:
        lab_id = _lab_id(store, args)
        # The store's own check also holds each history to its recorded head and version,
        # so a history cut short at its end is named too. It reports only when done.
        with out.status(out.word("verifying")):
            results = list(store.verify_all(lab_id)[lab_id])
    events = sum(r.length for r in results)
    bad = [r for r in results if not r.ok]
    if out.as_json:
        out.json(
            {
                "ok": not bad,
                "histories": len(results),
                "events": events,
                "failures": [{"subject": r.subject, "seq": r.seq, "reason": r.reason} for r in bad],
            }
        )
    elif not bad:
        out.say(out.t("done.verified", n=len(results), events=events), style="green")
    if bad:
        first = bad[0]
        raise HistoryError(first.subject, first.seq, first.reason or "unknown problem")
    return EXIT_OK


def _report(args: argparse.Namespace, out: _Out) -> int:
    lab = _load(args, out)
    report = reports.report(lab)
    if out.as_json:
        out.json(report.to_dict())
    else:
        _print_report(out, report, lab)
    return EXIT_OK


def _print_report(out: _Out, report: reports.Report, lab: Lab) -> None:
    """A report as the terminal shows it: the funnel, compliance, overdue, blocked."""
    funnel = report.funnel
    kinds = sorted({k for counts in funnel.at.values() for k in counts})
    rows = [
        (
            out.stage(s),
            *(funnel.at[s].get(k, 0) or "·" for k in kinds),
            sum(funnel.at[s].values()),
            funnel.reached[s],
        )
        for s in funnel.stages
    ]
    headers = [
        out.word("stage"),
        *(out.kind(k) for k in kinds),
        out.word("total"),
        out.word("reached"),
    ]
    out.table(
        out.t("report.funnel", region=lab.region),
        headers,
        rows,
        numeric=range(1, len(headers)),
        wide=(0,),
        keep=(),
    )
    out.say(out.t("report.totals", withdrawn=funnel.withdrawn, n=funnel.total))
    out.say()
    short = {s: u for s, u in report.units_without.items() if u}
    for stage, units in short.items():
        by_kind: dict[str, list[str]] = {}
        for unit in sorted(units):
            known = lab.units.get(unit)
            by_kind.setdefault(out.kind(known.kind.value if known else None), []).append(unit)
        out.lines(
            out.t("report.compliance", stage=out.stage(stage), n=len(units)),
            dict(sorted(by_kind.items())),
        )
        out.say()
    if report.overdue:
        out.table(
            out.t("report.overdue", n=len(report.overdue)),
            [out.word(k) for k in ("innovation", "unit", "stage", "next", "deadline")],
            [
                (
                    o.innovation,
                    o.unit,
                    out.stage(o.at_stage),
                    out.stage(o.stage),
                    o.deadline.date().isoformat(),
                )
                for o in sorted(report.overdue, key=lambda o: (o.deadline, o.innovation))
            ],
        )
        out.say()
    if not report.blocked:
        out.say(out.t("report.none_blocked"), style="green")
        return
    out.say(out.t("report.blocked", n=len(report.blocked)), style="bold")
    _blocked_by_stage(
        out, lab, [(b.innovation, b.unit, b.stage, b.verdict) for b in report.blocked]
    )


def _blocked_by_stage(
    out: _Out, lab: Lab, blocked: Sequence[tuple[str, str, str, Verdict]]
) -> None:
    """Blocked innovations in one table per stage (in the policy's order), reasons as sentences."""
    stages: dict[str, list[tuple[str, str, str]]] = {}
    for innovation, unit, stage, verdict in blocked:
        reasons = "\n".join(out.unmet(u) for u in verdict.unmet)
        stages.setdefault(stage, []).append((innovation, unit, reasons))
    known = lab.policy.stage_ids
    for stage in sorted(stages, key=lambda s: known.index(s) if s in known else len(known)):
        rows = sorted(stages[stage], key=lambda r: (r[1], r[0]))
        out.say()
        out.table(
            f"{out.stage(stage)} ({len(rows)})",
            [out.word(k) for k in ("innovation", "unit", "reasons")],
            rows,
            wide=(2,),
            keep=(0, 1),
        )


def _export(args: argparse.Namespace, out: _Out) -> int:
    lab = _load(args, out)
    if args.format == "json":
        data = serde.dumps(lab).decode("utf-8")
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(
            ["id", "title", "unit", "unit_kind", "stage", "status", "launched", "version", "head"]
        )
        for inn in sorted(lab.innovations.values(), key=lambda i: i.id):
            unit = lab.units.get(inn.unit)
            writer.writerow(
                [
                    inn.id,
                    inn.title,
                    inn.unit,
                    unit.kind.value if unit else "",
                    inn.stage,
                    inn.status.value,
                    inn.launch.at.isoformat() if inn.launch else "",
                    inn.version,
                    inn.history[-1].hash,
                ]
            )
        data = buffer.getvalue()
    if args.out:
        try:
            Path(args.out).write_text(data, encoding="utf-8")
        except OSError as exc:
            raise _Usage("error.unwritable", path=args.out, reason=_reason(exc)) from exc
        out.note(printable(args.out))
    else:
        out.raw(data)
    return EXIT_OK


# --- Policies ------------------------------------------------------------------------------------


def _policy_list(args: argparse.Namespace, out: _Out) -> int:
    policies = [load_policy(name) for name in available_presets()]
    if out.as_json:
        out.json([{"id": p.id, "name": p.name, "stages": list(p.stage_ids)} for p in policies])
        return EXIT_OK
    out.table(
        None,
        [out.word("id"), out.word("name"), out.word("stages")],
        [(p.id, p.name, " → ".join(p.stage_ids)) for p in policies],
        wide=(1, 2),
    )
    return EXIT_OK


def _policy_show(args: argparse.Namespace, out: _Out) -> int:
    policy = load_policy(args.policy)
    if out.as_json:
        out.json(policy.to_dict())
        return EXIT_OK
    out.say(printable(f"{policy.id}: {policy.name}"), style="bold")
    rows = []
    for stage in policy.stages:
        gate = ", ".join(s.name for s in policy.gates.get(stage.id, ()))
        cohort = ", ".join(s.name for s in policy.cohort.get(stage.id, ()))
        rows.append((stage.id, stage.label(out.lang), gate, cohort))
    out.table(
        None,
        [out.word(k) for k in ("id", "stage", "gate", "cohort")],
        rows,
        wide=(1, 2, 3),
    )
    return EXIT_OK


def _policy_validate(args: argparse.Namespace, out: _Out) -> int:
    policy: Policy = load_policy(args.policy)  # a broken one raises PolicyError: exit 2
    if out.as_json:
        out.json({"ok": True, "policy": policy.id})
    else:
        out.say(out.t("done.valid", policy=policy.id, n=len(policy.stages)), style="green")
    return EXIT_OK


def _policy_diagram(args: argparse.Namespace, out: _Out) -> int:
    text = diagram.mermaid(load_policy(args.policy), lang=out.lang)
    if out.as_json:
        out.json({"policy": args.policy, "mermaid": text})
    else:
        out.raw(text)
    return EXIT_OK


def _policy_diff(args: argparse.Namespace, out: _Out) -> int:
    result = diff.compare(load_policy(args.base), load_policy(args.variant))
    if out.as_json:
        out.json({**attrs.asdict(result), "empty": result.empty, "text": str(result)})
    else:
        out.raw(printable(str(result)))
    return EXIT_OK


def _completion(args: argparse.Namespace, out: _Out) -> int:
    out.raw(_completion_script(args.shell))
    return EXIT_OK


# --- The demo ------------------------------------------------------------------------------------

_DEMO_STEPS: Final = (
    ("Registering ideas", "demo.registering"),
    ("Preparing the launch", "demo.preparing_launch"),
    ("Registering exhibits", "demo.exhibits"),
    ("Preparing: ", "demo.preparing"),
    ("Advancing to ", "demo.advancing"),
)


def _demo_progress(out: _Out, policy: Callable[[], Policy | None]) -> Callable[..., Any]:
    """The demo's progress, its steps named in the output's language with stage labels."""

    def progress(label: str, items: Sequence[Any]) -> Any:
        for prefix, key in _DEMO_STEPS:
            if label.startswith(prefix):
                rest = label[len(prefix) :]
                found = policy()
                stage = rest
                if found is not None:
                    for s in found.stages:
                        if rest in (s.id, s.label_id):
                            stage = s.label(out.lang)
                label = out.t(key, stage=stage)
                break
        return out.progress(label, items)

    return progress


def _demo(args: argparse.Namespace, out: _Out) -> int:
    from labflow._samples import REGIONS, run_demo

    path = Path(args.db)
    try:
        if path.exists():
            if args.db != DEMO_DB:
                raise _Usage("error.demo_exists", path=str(path))
            _open(args).close()  # refuses a file that is not a labflow database
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        where = str(path.resolve())
    except OSError as exc:
        raise _NoLab("error.db_unreplaceable", db=args.db, reason=_reason(exc)) from exc
    region = REGIONS[args.region]
    started = time.perf_counter()
    with _open(args, create=True) as store:
        preset = load_policy(region.preset) if region.preset in available_presets() else None
        result = run_demo(store, args.region, progress=_demo_progress(out, lambda: preset))
        lab = store.load(args.region)
        out.lab = lab
        with out.status(out.word("verifying")):
            checks = list(store.verify_all(args.region)[args.region])
    elapsed = time.perf_counter() - started
    report = reports.report(lab)
    events = sum(c.length for c in checks)
    ok = all(c.ok for c in checks)
    if out.as_json:
        out.json(
            {
                **report.to_dict(),
                "database": where,
                "verified": ok,
                "histories": len(checks),
                "events": events,
                "seconds": round(elapsed, 3),
            }
        )
        return EXIT_OK if ok else EXIT_UNVERIFIED
    out.say(out.t("demo.title", region=region.name, policy=result.policy.id), style="bold")
    if result.ceremony is not None:
        out.say(
            out.t(
                "demo.ceremony",
                ceremony=result.ceremony.ceremony,
                n=len(result.ceremony.launched),
            )
        )
    out.say()
    _print_report(out, report, lab)
    out.say()
    key = "done.verified" if ok else "done.unverified"
    out.say(out.t(key, n=len(checks), events=events), style="green" if ok else "red")
    out.say(out.t("demo.database", path=where, seconds=f"{elapsed:.1f}"))
    out.say(out.t("demo.next", db=args.db))
    return EXIT_OK if ok else EXIT_UNVERIFIED


# --- Entry point ---------------------------------------------------------------------------------

_COMMANDS: Final[dict[str, Callable[[argparse.Namespace, _Out], int]]] = {
    "demo": _demo,
    "create": _create,
    "import": _import,
    "add-unit": _add_unit,
    "add-actor": _add_actor,
    "set-roles": _set_roles,
    "hand-over": _hand_over,
    "actors": _actors_list,
    "units": _units_list,
    "register": _register,
    "diagnose": _diagnose,
    "permit": _permit,
    "submit-plan": _submit_plan,
    "approve-plan": _simple("approve_plan"),
    "draw-up-agreement": _draw_up,
    "sign": _simple("sign_agreement"),
    "launch": _launch,
    "evidence": _evidence,
    "exhibit": _exhibit,
    "advance": _simple("advance"),
    "return": _return,
    "withdraw": _reasoned("withdraw"),
    "reinstate": _reasoned("reinstate"),
    "replicate": _replicate,
    "advance-lab": _advance_lab,
    "ceremony": _ceremony,
    "status": _status,
    "list": _list,
    "history": _history,
    "verify": _verify,
    "report": _report,
    "export": _export,
    "policy-list": _policy_list,
    "policy-show": _policy_show,
    "policy-validate": _policy_validate,
    "policy-diagram": _policy_diagram,
    "policy-diff": _policy_diff,
    "completion": _completion,
}


def _fail(out: Output, text: str, code: int) -> int:
    out.note(f"labflow: {text}", style="red" if code != EXIT_OK else None)
    return code


def _hint(out: _Out, exc: NotFound) -> str:
    """Who was meant by a mistyped id ("Did you mean ...?"), from what the command read."""
    lab = out.lab
    policy = lab.policy if lab is not None else out.policy
    pools: dict[str, Iterable[str]] = {}
    if policy is not None:
        pools.update(stage=policy.stage_ids, role=policy.roles)
    if lab is not None:
        pools.update(innovation=lab.innovations, actor=lab.actors, unit=lab.units)
    close = suggest(exc.ident, list(pools.get(exc.what, ())))
    return out.t("error.did_you_mean", close=close) if close else ""


def _explain_error(out: _Out, exc: LabflowError, db: str) -> str:
    """A library error as one sentence in the output's language."""
    lang = out.lang
    said = getattr(exc, "message", None)
    if callable(said) and not isinstance(exc, _Said):  # errors that carry both languages
        try:
            text = said(lang)
            if isinstance(text, str):
                return text
        except TypeError:
            pass
    if isinstance(exc, _Said):
        return exc.say(lang)
    if isinstance(exc, GateRefused):
        return out.explain(exc.verdict)
    if isinstance(exc, NotFound):
        what = out.t(f"what.{exc.what}") if has(f"what.{exc.what}") else exc.what
        where = out.lab.id if out.lab is not None else out.lab_id
        return out.t("error.not_found", what=what, id=exc.ident, lab=where) + _hint(out, exc)
    if isinstance(exc, PermissionDenied):
        return _denied(out, exc)
    if isinstance(exc, ConflictError):
        return out.t("error.conflict", subject=exc.subject, expected=exc.expected, found=exc.found)
    if isinstance(exc, HistoryError):
        key = "error.unverified" if exc.seq is not None else "error.unverified_whole"
        return out.t(key, subject=exc.subject, seq=exc.seq or 0, reason=exc.reason)
    if isinstance(exc, StoreMissing):
        return out.t("error.db_missing", db=db)
    if isinstance(exc, StoreLocked):
        return out.t("error.db_locked", db=db)
    if isinstance(exc, StoreTooNew):
        return out.t("error.db_too_new", db=db)
    if isinstance(exc, StoreCorrupt):
        return out.t("error.db_corrupt", db=db, reason=printable(str(exc)))
    if isinstance(exc, DocumentError | PolicyError):
        what = exc.source if isinstance(exc, PolicyError) else (exc.kind or "")
        key = "error.policy_invalid" if isinstance(exc, PolicyError) else "error.document_invalid"
        listing = "\n".join(f"  - {printable(str(p))}" for p in exc.problems)
        return out.t(key, what=printable(what), n=len(exc.problems)) + "\n" + listing
    return printable(str(exc))


def _denied(out: _Out, exc: PermissionDenied) -> str:
    """Why an actor may not act, with the policy's role labels instead of ids."""
    key = f"action.{exc.command}"
    action = out.t(key) if has(key) else exc.command.replace("_", " ")
    lab = out.lab
    actor = lab.actors.get(exc.actor) if lab is not None else None
    if lab is None or actor is None:
        return out.t("error.denied", actor=exc.actor, action=action, reason=printable(exc.reason))
    allowed = lab.policy.allowed(exc.command)
    held = actor.roles & allowed
    if held:
        return out.t(
            "error.denied_unit",
            actor=exc.actor,
            action=action,
            roles=", ".join(out.role(r) for r in sorted(held)),
        )
    return out.t(
        "error.denied_role",
        actor=exc.actor,
        action=action,
        roles=", ".join(out.role(r) for r in sorted(allowed)) or "—",
    )


def _defaults(args: argparse.Namespace) -> None:
    """Fill the shared options the user left out (their defaults are suppressed in the parser)."""
    if not hasattr(args, "db"):
        args.db = DEMO_DB if args.run == "demo" else DEFAULT_DB
    for name, value in (("lab", None), ("json", False), ("at", None)):
        if not hasattr(args, name):
            setattr(args, name, value)


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the ``labflow`` command; returns its exit code (see the module's docstring)."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    given = sys.argv[1:] if argv is None else list(argv)
    env_lang = os.environ.get("LABFLOW_LANG", "en")
    parser = build(language(given, env_lang if env_lang in ("en", "id") else "en"))
    try:
        with _Redirect(stdout, stderr):
            args = parser.parse_args(given)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    _defaults(args)
    lang = getattr(args, "lang", None) or env_lang
    lang = lang if lang in ("en", "id") else "en"
    out = _Out(lang, bool(args.json), stdout, stderr)
    undecodable = _undecodable(given, args)
    if undecodable is not None:
        return _fail(out, undecodable.say(lang), EXIT_USAGE)
    # The command is the host here: it decides that audit lines do not go to the terminal.
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    try:
        return int(_COMMANDS[args.run](args, out))
    except _Said as exc:
        return _fail(out, exc.say(lang), exc.exit_code)
    except CommandError as exc:
        return _fail(out, _explain_error(out, exc, args.db), EXIT_REFUSED)
    except ConflictError as exc:
        return _fail(out, _explain_error(out, exc, args.db), EXIT_CONFLICT)
    except HistoryError as exc:
        return _fail(out, _explain_error(out, exc, args.db), EXIT_UNVERIFIED)
    except StoreError as exc:
        return _fail(out, _explain_error(out, exc, args.db), EXIT_STORE)
    except LabflowError as exc:
        return _fail(out, _explain_error(out, exc, args.db), EXIT_USAGE)
    except KeyboardInterrupt:
        return _fail(out, out.t("error.interrupted"), 130)
    except BrokenPipeError:  # the reader went away (``labflow export | head``): stop quietly
        return EXIT_BROKEN_PIPE
    except ModuleNotFoundError as exc:
        if exc.name != "rich":
            raise
        return _fail(out, out.t("error.no_rich"), EXIT_USAGE)
    except OSError as exc:  # a file the places above did not name: still one sentence
        where = f" ({printable(str(exc.filename))})" if exc.filename else ""
        return _fail(out, out.t("error.file", where=where, reason=_reason(exc)), EXIT_USAGE)
    finally:
        structlog.configure(**saved)


class _Redirect:
    """Send argparse's help and usage errors to the given streams."""

    def __init__(self, stdout: TextIO, stderr: TextIO) -> None:
        self.streams = (stdout, stderr)

    def __enter__(self) -> None:
        self.saved = (sys.stdout, sys.stderr)
        sys.stdout, sys.stderr = self.streams

    def __exit__(self, *exc: object) -> None:
        sys.stdout, sys.stderr = self.saved


def run() -> None:  # pragma: no cover - the console script
    code = main()
    if code == EXIT_BROKEN_PIPE:
        # Python flushes stdout at exit, into the same closed pipe: point it at nothing.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
