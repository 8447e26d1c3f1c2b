"""The ``labflow`` command: run a lab from a terminal, on an SQLite file.

Built on the standard library's `argparse`, with tables and a progress bar of
its own (in the private `labflow._terminal`), so the command costs a host that
embeds labflow no dependency at all (the ``cli`` extra is kept, empty, so
install lines can name it). User CSV files are read by `labflow.cohort`. Every lab
command takes ``--db PATH`` (default ``labflow.db`` in the current folder);
every reading command takes ``--json``; ``--lang id|en`` picks the language
of labels and refusals.

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
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Final, TextIO

import attrs
import structlog

from labflow import cohort, diagram, diff, reports, serde
from labflow._terminal import Output, print_report, printable
from labflow._version import __version__
from labflow.errors import (
    CommandError,
    ConflictError,
    DocumentError,
    GateRefused,
    HistoryError,
    InvalidCommand,
    LabflowError,
    PolicyError,
    StoreError,
)
from labflow.events import Event
from labflow.lab import Lab
from labflow.model import Diagnosis, PlanStep
from labflow.policy import Policy, available_presets, load_policy
from labflow.store import Append
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

#: The database every lab command uses unless ``--db`` says otherwise.
DEFAULT_DB: Final = "labflow.db"
#: The database ``labflow demo`` writes unless ``--db`` says otherwise.
DEMO_DB: Final = "labflow-demo.db"

# --- Arguments -----------------------------------------------------------------------------------

_EPILOG = """\
exit codes:
  0  success
  1  refused (a gate is unmet, the actor lacks the role, an unknown id, ...)
  2  bad input or usage (malformed CSV, JSON or policy; a file that cannot be
     read or written; wrong arguments; a lab id that is taken)
  3  storage problem (database missing, unopenable, corrupt, newer, locked)
  4  conflict (another writer changed it first; nothing was written)
  5  verification failed (a history was tampered with)

Start with:  labflow demo
"""


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        default=DEFAULT_DB,
        metavar="PATH",
        help=f"the lab database (default: {DEFAULT_DB} in the current folder)",
    )
    common.add_argument("--lab", metavar="ID", help="the lab, when the database holds several")
    common.add_argument(
        "--lang", choices=("en", "id"), default=None, help="language of labels and messages"
    )
    reading = argparse.ArgumentParser(add_help=False)
    reading.add_argument("--json", action="store_true", help="print JSON for scripts")
    actor = argparse.ArgumentParser(add_help=False)
    actor.add_argument("--by", required=True, metavar="ACTOR", help="the acting actor's id")

    parser = argparse.ArgumentParser(
        prog="labflow",
        description="Run a regional innovation lab (Laboratorium Inovasi, 5D method) "
        "from the terminal.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"labflow {__version__}")
    parser.add_argument(
        "--lang", choices=("en", "id"), default=None, dest="top_lang", help="en (default) or id"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, func: Callable[..., int], help: str, *parents: Any) -> Any:
        p = sub.add_parser(name, help=help, description=help, parents=list(parents))
        p.set_defaults(func=func)
        return p

    p = sub.add_parser(
        "demo",
        help="create and run a sample lab (Kebumen by default) in seconds",
        description="Create a sample region's lab on SQLite and run it from registration "
        "through the launch ceremony to display; print the funnel, the blocked "
        "innovations and the verification of every history.",
    )
    p.add_argument("--db", default=DEMO_DB, metavar="PATH", help=f"default: {DEMO_DB}")
    p.add_argument("--region", choices=("kebumen", "kudus", "banyumas"), default="kebumen")
    p.add_argument("--lang", choices=("en", "id"), default=None)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=_demo)

    p = command("create", _create, "create a lab from a policy", common, actor)
    p.add_argument("--policy", required=True, help="a preset name or a TOML file")
    p.add_argument("--id", required=True, dest="lab_id", help="the lab's id (e.g. kebumen)")
    p.add_argument("--region", required=True, help="the region's name")
    p.add_argument("--units", metavar="CSV", help="units: id,name,kind")
    p.add_argument("--actors", metavar="CSV", help="actors: id,name,roles (;-separated),unit")

    p = command("import", _import, "import units and ideas (CSV) or a lab (JSON)", common, actor)
    p.add_argument("--units", metavar="CSV", help="units to add: id,name,kind")
    p.add_argument("--innovations", metavar="CSV", help="ideas: id,title,unit,innovators,...")
    p.add_argument("--lab-json", metavar="JSON", help="a lab document (labflow export)")

    p = command("register", _register, "register an idea", common, actor)
    p.add_argument("innovation")
    p.add_argument("--title", required=True)
    p.add_argument("--unit", required=True)
    p.add_argument("--innovator", action="append", default=[], dest="innovators")
    p.add_argument("--problem", required=True)
    p.add_argument("--initiator", default="asn")

    p = command("diagnose", _diagnose, "record the diagnosis", common, actor)
    p.add_argument("innovation")
    p.add_argument("--problem", required=True)
    p.add_argument("--cause", action="append", default=[], dest="causes")
    p.add_argument("--readiness", default="")

    p = command("permit", _permit, "record the unit head's permission (ASN)", common, actor)
    p.add_argument("innovation")
    p.add_argument("--reference", required=True)

    p = command("submit-plan", _submit_plan, "submit the action plan", common, actor)
    p.add_argument("innovation")
    p.add_argument(
        "--step",
        action="append",
        default=[],
        dest="steps",
        metavar="DESC|RESPONSIBLE|YYYY-MM-DD",
    )
    p.add_argument("--budget", type=int)

    p = command("approve-plan", _simple("approve_plan"), "approve the action plan", common, actor)
    p.add_argument("innovation")

    p = command("draw-up-agreement", _draw_up, "draw up the performance agreement", common, actor)
    p.add_argument("innovation")
    p.add_argument("--regional-head", required=True)
    p.add_argument("--unit-head", required=True)
    p.add_argument("--terms", default="")

    p = command("sign", _simple("sign_agreement"), "sign the performance agreement", common, actor)
    p.add_argument("innovation")

    p = command("launch", _launch, "launch one innovation", common, actor)
    p.add_argument("innovation")
    p.add_argument("--ceremony", required=True)

    p = command("evidence", _evidence, "attach supporting evidence", common, actor)
    p.add_argument("innovation")
    p.add_argument("--title", required=True)
    p.add_argument("--reference", required=True)

    p = command("exhibit", _exhibit, "register an exhibit at display", common, actor)
    p.add_argument("innovation")
    p.add_argument("--event", required=True)
    p.add_argument("--booth", default="")

    p = command("advance", _simple("advance"), "move an innovation one stage on", common, actor)
    p.add_argument("innovation")

    p = command("return", _return, "send an innovation back for rework", common, actor)
    p.add_argument("innovation")
    p.add_argument("--to", required=True, dest="stage")
    p.add_argument("--reason", required=True)

    for name, method, text in (
        ("withdraw", "withdraw", "withdraw an innovation"),
        ("reinstate", "reinstate", "reinstate a withdrawn innovation"),
    ):
        p = command(name, _reasoned(method), text, common, actor)
        p.add_argument("innovation")
        p.add_argument("--reason", required=True)

    p = command("replicate", _replicate, "replicate a launched innovation", common, actor)
    p.add_argument("innovation", help="the new innovation's id")
    p.add_argument("--origin", required=True)
    p.add_argument("--unit", required=True)
    p.add_argument("--adaptation", required=True)
    p.add_argument("--origin-region")
    p.add_argument("--title")
    p.add_argument("--problem")

    command("advance-lab", _advance_lab, "move the whole lab to its next stage", common, actor)

    p = command("ceremony", _ceremony, "hold the launch ceremony", common, actor)
    p.add_argument("--name", required=True)

    p = command(
        "status", _status, "the lab, or one innovation: stage and what is unmet", common, reading
    )
    p.add_argument("innovation", nargs="?")

    p = command("list", _list, "list innovations", common, reading)
    p.add_argument("--stage")
    p.add_argument("--unit")
    p.add_argument("--unit-kind")
    p.add_argument("--status", choices=("active", "withdrawn"))
    p.add_argument("--blocked", action="store_true", help="only those held up by unmet items")

    p = command("history", _history, "an innovation's (or the lab's) events", common, reading)
    p.add_argument("innovation", nargs="?")
    p.add_argument("--hashes", action="store_true")

    command("verify", _verify, "verify every history's hash chain", common, reading)
    command("report", _report, "funnel, compliance, overdue and blocked", common, reading)

    p = command("export", _export, "export the lab as a JSON document or CSV", common)
    p.add_argument("--format", choices=("json", "csv"), default="json")
    p.add_argument("--out", metavar="PATH", help="write here instead of standard output")

    p = sub.add_parser("policy", help="list, show, validate, diagram or compare policies")
    psub = p.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
    q = psub.add_parser("list", help="the bundled presets", parents=[reading])
    q.add_argument("--lang", choices=("en", "id"), default=None)
    q.set_defaults(func=_policy_list)
    for name, func, text in (
        ("show", _policy_show, "a policy's stages and gates"),
        ("validate", _policy_validate, "check a policy file; list every problem"),
        ("diagram", _policy_diagram, "a Mermaid diagram of a policy"),
    ):
        q = psub.add_parser(name, help=text, parents=[reading])
        q.add_argument("policy", help="a preset name or a TOML file")
        q.add_argument("--lang", choices=("en", "id"), default=None)
        q.set_defaults(func=func)
    q = psub.add_parser("diff", help="what a variant changes from a base", parents=[reading])
    q.add_argument("base")
    q.add_argument("variant")
    q.add_argument("--lang", choices=("en", "id"), default=None)
    q.set_defaults(func=_policy_diff)
    return parser


# --- Opening the lab -----------------------------------------------------------------------------


def _reason(exc: OSError) -> str:
    """What the system said about a file, without the errno and the repeated name."""
    return exc.strerror or str(exc) or type(exc).__name__


def _open(args: argparse.Namespace, *, create: bool = False) -> SQLiteStore:
    try:
        return SQLiteStore(args.db, create=create)
    except OSError as exc:  # a name too long, a folder it may not look into, ...
        raise StoreError(f"The database {args.db} cannot be opened: {_reason(exc)}.") from exc


def _lab_id(store: SQLiteStore, args: argparse.Namespace) -> str:
    ids = store.lab_ids()
    if args.lab:
        if args.lab not in ids:
            raise _Usage(f"There is no lab {args.lab!r} in {store.path}; it holds {ids or 'none'}.")
        return str(args.lab)
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise StoreError(f"The database {store.path} holds no lab yet; create one first.")
    raise _Usage(
        f"The database {store.path} holds several labs ({', '.join(ids)}); pick one with --lab."
    )


class _Usage(LabflowError):
    """A usage mistake the parser could not see (exit code 2)."""


def _undecodable(argv: Sequence[str], args: argparse.Namespace) -> str | None:
    """Why an argument that was not UTF-8 cannot be used, or ``None`` if all are text.

    Python keeps the bytes of such an argument as lone surrogates; hashed into an
    event they would fail, and stored they would not be text. File names are the
    exception: the system takes them back byte for byte, so they may be anything.
    """
    names = ("db", "units", "actors", "innovations", "lab_json", "out", "policy", "base", "variant")
    paths = {getattr(args, name, None) for name in names} - {None}
    for i, token in enumerate(argv):
        if printable(token) == token:
            continue
        option, equals, value = token.partition("=")
        if token in paths or (equals and option.startswith("--") and value in paths):
            continue
        after = f" (the value of {argv[i - 1]})" if i and argv[i - 1].startswith("-") else ""
        return (
            f"The argument '{printable(token)}'{after} is not UTF-8 text; "
            "labflow reads every argument but a file name as UTF-8."
        )
    return None


def _write(args: argparse.Namespace, out: Output, work: Callable[[Lab], object]) -> int:
    with _open(args) as store:
        session = store.session(_lab_id(store, args))
        with session as lab:
            work(lab)
    for event in session.committed:
        out.say(f"{out.word('recorded')}: {event.subject} #{event.seq} {event.kind}")
    return EXIT_OK


def _simple(method: str) -> Callable[[argparse.Namespace, Output], int]:
    def run(args: argparse.Namespace, out: Output) -> int:
        return _write(args, out, lambda lab: getattr(lab, method)(args.innovation, by=args.by))

    return run


def _reasoned(method: str) -> Callable[[argparse.Namespace, Output], int]:
    def run(args: argparse.Namespace, out: Output) -> int:
        return _write(
            args,
            out,
            lambda lab: getattr(lab, method)(args.innovation, reason=args.reason, by=args.by),
        )

    return run


# --- Writing commands ----------------------------------------------------------------------------


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise _Usage(f"Cannot read {path}: byte {exc.start} is not UTF-8 text.") from exc
    except OSError as exc:
        raise _Usage(f"Cannot read {path}: {_reason(exc)}.") from exc


def _refuse_existing(store: SQLiteStore, lab_id: str) -> None:
    """A lab id already in the database is the user's mistake, not another writer's race."""
    if lab_id in store.lab_ids():
        raise _Usage(
            f"The database {store.path} already holds a lab {lab_id!r}; "
            "pick another id, or another --db."
        )


def _create(args: argparse.Namespace, out: Output) -> int:
    policy = load_policy(args.policy)
    units = cohort.read_units(_read_text(args.units), args.units) if args.units else []
    actors = cohort.read_actors(_read_text(args.actors), args.actors) if args.actors else []
    lab = Lab.create(
        policy, id=args.lab_id, region=args.region, by=args.by, units=units, actors=actors
    )
    with _open(args, create=True) as store:
        _refuse_existing(store, lab.id)
        store.commit(lab.id, [Append(lab.id, 0, lab.history, lab=True)])
        out.say(f"{out.word('lab')} {lab.id} ({policy.id}): {store.path}")
    return EXIT_OK


def _import(args: argparse.Namespace, out: Output) -> int:
    if args.lab_json:
        text = _read_text(args.lab_json)
        lab = serde.load_lab(text)
        with _open(args, create=True) as store:
            _refuse_existing(store, lab.id)
            appends = [Append(lab.id, 0, lab.history, lab=True)]
            appends += [Append(i.id, 0, i.history) for i in lab.innovations.values()]
            store.commit(lab.id, appends)
        out.say(f"{out.word('lab')} {lab.id}: {len(lab.innovations)} {out.word('innovation')}")
        return EXIT_OK
    if not (args.units or args.innovations):
        raise _Usage("Nothing to import: give --units, --innovations or --lab-json.")
    # Parse everything first: a malformed file changes nothing.
    units = cohort.read_units(_read_text(args.units), args.units) if args.units else []
    ideas = (
        cohort.read_innovations(_read_text(args.innovations), args.innovations)
        if args.innovations
        else []
    )

    def work(lab: Lab) -> None:
        for unit in out.progress("Units", units):
            lab.add_unit(unit, by=args.by)
        for idea in out.progress("Ideas", ideas):
            lab.register(
                idea.id,
                title=idea.title,
                unit=idea.unit,
                innovators=idea.innovators,
                problem=idea.problem,
                initiator=idea.initiator,
                by=args.by,
            )

    with _open(args) as store:
        session = store.session(_lab_id(store, args))
        with session as lab:
            work(lab)
    out.say(f"{out.word('recorded')}: {len(units)} units, {len(ideas)} ideas")
    return EXIT_OK


def _register(args: argparse.Namespace, out: Output) -> int:
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


def _diagnose(args: argparse.Namespace, out: Output) -> int:
    diagnosis = Diagnosis(args.problem, args.causes, args.readiness)
    return _write(
        args, out, lambda lab: lab.record_diagnosis(args.innovation, diagnosis, by=args.by)
    )


def _permit(args: argparse.Namespace, out: Output) -> int:
    return _write(
        args,
        out,
        lambda lab: lab.grant_permission(args.innovation, reference=args.reference, by=args.by),
    )


def _step(text: str) -> PlanStep:
    parts = text.split("|")
    if len(parts) != 3:
        raise _Usage(f"The step {text!r} must read DESCRIPTION|RESPONSIBLE|YYYY-MM-DD.")
    try:
        due = date.fromisoformat(parts[2].strip())
    except ValueError:
        raise _Usage(f"The step {text!r} has no valid due date (YYYY-MM-DD).") from None
    return PlanStep(parts[0].strip(), parts[1].strip(), due)


def _submit_plan(args: argparse.Namespace, out: Output) -> int:
    steps = [_step(s) for s in args.steps]
    return _write(
        args,
        out,
        lambda lab: lab.submit_plan(args.innovation, steps=steps, budget=args.budget, by=args.by),
    )


def _draw_up(args: argparse.Namespace, out: Output) -> int:
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
    )


def _launch(args: argparse.Namespace, out: Output) -> int:
    return _write(
        args,
        out,
        lambda lab: lab.record_launch(args.innovation, ceremony=args.ceremony, by=args.by),
    )


def _evidence(args: argparse.Namespace, out: Output) -> int:
    return _write(
        args,
        out,
        lambda lab: lab.attach_evidence(
            args.innovation, title=args.title, reference=args.reference, by=args.by
        ),
    )


def _exhibit(args: argparse.Namespace, out: Output) -> int:
    return _write(
        args,
        out,
        lambda lab: lab.register_exhibit(
            args.innovation, event=args.event, booth=args.booth, by=args.by
        ),
    )


def _return(args: argparse.Namespace, out: Output) -> int:
    return _write(
        args,
        out,
        lambda lab: lab.return_to(args.innovation, args.stage, reason=args.reason, by=args.by),
    )


def _replicate(args: argparse.Namespace, out: Output) -> int:
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
    )


def _advance_lab(args: argparse.Namespace, out: Output) -> int:
    return _write(args, out, lambda lab: lab.advance_lab(by=args.by))


def _ceremony(args: argparse.Namespace, out: Output) -> int:
    results = []

    def work(lab: Lab) -> None:
        results.append(lab.launch_cohort(ceremony=args.name, by=args.by))

    _write(args, out, work)
    result = results[0]
    for _, verdict in sorted(result.refused.items()):
        out.say(verdict.explain(out.lang))
    out.say(f"{len(result.launched)} launched, {len(result.refused)} refused.")
    return EXIT_OK


# --- Reading commands ----------------------------------------------------------------------------


def _load(args: argparse.Namespace) -> tuple[SQLiteStore, Lab]:
    store = _open(args)
    try:
        return store, store.load(_lab_id(store, args))
    except BaseException:
        store.close()
        raise


def _status(args: argparse.Namespace, out: Output) -> int:
    store, lab = _load(args)
    store.close()
    if args.innovation is None:
        verdict = lab.check_lab()
        data = {
            "lab": lab.id,
            "region": lab.region,
            "policy": lab.policy.id,
            "stage": lab.stage,
            "innovations": len(lab.innovations),
            "version": lab.version,
            "next": verdict.target,
            "unmet": [{"code": u.code, "message": u.message(out.lang)} for u in verdict.unmet],
        }
    else:
        inn = lab.innovation(args.innovation)
        verdict = lab.check(inn.id)
        data = {
            "innovation": inn.id,
            "title": inn.title,
            "unit": inn.unit,
            "stage": inn.stage,
            "status": inn.status.value,
            "launched": inn.launch is not None,
            "version": inn.version,
            "next": verdict.target,
            "unmet": [{"code": u.code, "message": u.message(out.lang)} for u in verdict.unmet],
        }
    if out.as_json:
        out.json(data)
        return EXIT_OK
    for key, value in data.items():
        if key != "unmet":
            out.say(f"{key:>12}: {value}")
    out.say(verdict.explain(out.lang))
    return EXIT_OK


def _list(args: argparse.Namespace, out: Output) -> int:
    with _open(args) as store:
        lab_id = _lab_id(store, args)
        rows = store.innovations(
            lab_id, stage=args.stage, unit=args.unit, unit_kind=args.unit_kind, status=args.status
        )
        reasons: dict[str, tuple[str, ...]] = {}
        if args.blocked:
            lab = store.load(lab_id)
            reasons = {b.innovation: b.verdict.codes for b in reports.blocked(lab)}
            rows = [r for r in rows if r.id in reasons]
    if out.as_json:
        out.json(
            [{**_asdict(r), **({"unmet": list(reasons[r.id])} if reasons else {})} for r in rows]
        )
        return EXIT_OK
    headers = [out.word(k) for k in ("innovation", "unit", "kind", "stage", "status", "launched")]
    table: list[tuple[Any, ...]] = [
        (r.id, r.unit, r.unit_kind, r.stage, r.status, out.word("yes" if r.launched else "no"))
        for r in rows
    ]
    if reasons:
        headers.append(out.word("reasons"))
        table = [(*t, ", ".join(reasons[t[0]])) for t in table]
    out.table(None, headers, table)
    out.say(f"{out.word('total')}: {len(rows)}")
    return EXIT_OK


def _asdict(row: Any) -> dict[str, Any]:
    return attrs.asdict(row)


def _summary(event: Event) -> str:
    text = json.dumps(dict(event.payload), ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 70 else text[:67] + "..."


def _history(args: argparse.Namespace, out: Output) -> int:
    with _open(args) as store:
        lab_id = _lab_id(store, args)
        events = store.history(lab_id, args.innovation)
    if args.innovation is not None and not events:
        raise CommandError(f"There is no innovation {args.innovation!r} in lab {lab_id!r}.")
    if out.as_json:
        out.json(
            [
                {
                    "subject": e.subject,
                    "seq": e.seq,
                    "at": e.at.isoformat(),
                    "actor": e.actor,
                    "kind": e.kind,
                    "payload": e.payload,
                    **({"prev": e.prev, "hash": e.hash} if args.hashes else {}),
                }
                for e in events
            ]
        )
        return EXIT_OK
    headers = [out.word(k) for k in ("seq", "at", "actor", "event", "details")]
    rows: list[tuple[Any, ...]] = [
        (e.seq, e.at.isoformat(timespec="minutes"), e.actor, e.kind, _summary(e)) for e in events
    ]
    if args.hashes:
        headers.append(out.word("hash"))
        rows = [(*r, e.hash) for r, e in zip(rows, events, strict=True)]
    out.table(f"{events[0].subject}" if events else None, headers, rows)
    return EXIT_OK


def _verify(args: argparse.Namespace, out: Output) -> int:
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
        out.say(f"✓ {len(results)} {out.word('verified')} ({events} {out.word('events')}).")
    if bad:
        first = bad[0]
        error = HistoryError(first.subject, first.seq, first.reason or "unknown problem")
        raise error
    return EXIT_OK


def _report(args: argparse.Namespace, out: Output) -> int:
    store, lab = _load(args)
    store.close()
    report = reports.report(lab)
    if out.as_json:
        out.json(report.to_dict())
    else:
        print_report(out, report, lab)
    return EXIT_OK


def _export(args: argparse.Namespace, out: Output) -> int:
    store, lab = _load(args)
    store.close()
    if args.format == "json":
        data = serde.dumps(lab).decode("utf-8")
    else:
        data = reports.innovations_csv(lab)  # formula prefixes neutralised
    if args.out:
        try:
            Path(args.out).write_text(data, encoding="utf-8")
        except OSError as exc:
            raise _Usage(f"Cannot write {args.out}: {_reason(exc)}.") from exc
        out.note(args.out)
    else:
        out.raw(data)
    return EXIT_OK


# --- Policies ------------------------------------------------------------------------------------


def _policy_list(args: argparse.Namespace, out: Output) -> int:
    policies = [load_policy(name) for name in available_presets()]
    if out.as_json:
        out.json([{"id": p.id, "name": p.name, "stages": list(p.stage_ids)} for p in policies])
        return EXIT_OK
    out.table(
        None,
        ["id", "name", out.word("stage")],
        [(p.id, p.name, " → ".join(p.stage_ids)) for p in policies],
    )
    return EXIT_OK


def _policy_show(args: argparse.Namespace, out: Output) -> int:
    policy = load_policy(args.policy)
    if out.as_json:
        out.json(policy.to_dict())
        return EXIT_OK
    out.say(f"{policy.id}: {policy.name}")
    rows = []
    for stage in policy.stages:
        gate = ", ".join(s.name for s in policy.gates.get(stage.id, ()))
        cohort = ", ".join(s.name for s in policy.cohort.get(stage.id, ()))
        rows.append((stage.id, stage.label(out.lang), gate, cohort))
    out.table(None, [out.word("stage"), "label", "gate", "cohort"], rows)
    return EXIT_OK


def _policy_validate(args: argparse.Namespace, out: Output) -> int:
    policy: Policy = load_policy(args.policy)  # a broken one raises PolicyError: exit 2
    if out.as_json:
        out.json({"ok": True, "policy": policy.id})
    else:
        out.say(f"✓ {policy.id} is valid ({len(policy.stages)} stages).")
    return EXIT_OK


def _policy_diagram(args: argparse.Namespace, out: Output) -> int:
    text = diagram.mermaid(load_policy(args.policy), lang=out.lang)
    if out.as_json:
        out.json({"policy": args.policy, "mermaid": text})
    else:
        out.say(text)
    return EXIT_OK


def _policy_diff(args: argparse.Namespace, out: Output) -> int:
    result = diff.compare(load_policy(args.base), load_policy(args.variant))
    if out.as_json:
        out.json({**attrs.asdict(result), "empty": result.empty, "text": str(result)})
    else:
        out.say(str(result))
    return EXIT_OK


# --- The demo ------------------------------------------------------------------------------------


def _demo(args: argparse.Namespace, out: Output) -> int:
    from labflow._samples import REGIONS, run_demo

    path = Path(args.db)
    try:
        if path.exists():
            if args.db != DEMO_DB:
                raise _Usage(
                    f"{path} already exists; the demo writes a new database: pick another --db."
                )
            _open(args).close()  # refuses a file that is not a labflow database
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        where = str(path.resolve())
    except OSError as exc:
        raise StoreError(f"The database {args.db} cannot be replaced: {_reason(exc)}.") from exc
    region = REGIONS[args.region]
    started = time.perf_counter()
    with _open(args, create=True) as store:
        result = run_demo(store, args.region, progress=out.progress)
        lab = store.load(args.region)
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
    out.say(f"labflow demo — {region.name} ({out.word('policy')}: {result.policy.id})")
    if result.ceremony is not None:
        out.say(f"{result.ceremony.ceremony}: {len(result.ceremony.launched)} launched.")
    out.say()
    print_report(out, report, lab)
    out.say()
    mark = "✓" if ok else "✗"
    out.say(f"{mark} {len(checks)} {out.word('verified')} ({events} {out.word('events')}).")
    out.say(f"{out.word('database')}: {where}  ({out.word('took')} {elapsed:.1f} s)")
    out.say(f"Next: labflow list --db {args.db} --blocked   ·   labflow report --db {args.db}")
    return EXIT_OK if ok else EXIT_UNVERIFIED


# --- Entry point ---------------------------------------------------------------------------------


def _fail(out: Output, message: str, code: int) -> int:
    out.note(f"labflow: {message}")
    return code


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the ``labflow`` command; returns its exit code (see the module's docstring)."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    if not all(callable(getattr(s, "write", None)) for s in (stdout, stderr)):
        raise InvalidCommand("labflow.cli.main writes to text streams (stdout and stderr).")
    given: object = argv  # a host's call: a list of strings, or None for the real arguments
    if given is not None and (
        isinstance(given, str)
        or not isinstance(given, Sequence)
        or not all(isinstance(a, str) for a in given)
    ):
        return _fail(Output("en", False, stdout, stderr), "arguments must be strings.", EXIT_USAGE)
    parser = _parser()
    try:
        with _Redirect(stdout, stderr):
            args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    lang = getattr(args, "lang", None) or args.top_lang or os.environ.get("LABFLOW_LANG", "en")
    lang = lang if lang in ("en", "id") else "en"
    out = Output(lang, bool(getattr(args, "json", False)), stdout, stderr)
    undecodable = _undecodable(sys.argv[1:] if argv is None else argv, args)
    if undecodable is not None:
        return _fail(out, undecodable, EXIT_USAGE)
    # The command is the host here: it decides that audit lines do not go to the terminal.
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    try:
        return int(args.func(args, out))
    except GateRefused as exc:
        return _fail(out, exc.verdict.explain(lang), EXIT_REFUSED)
    except CommandError as exc:
        return _fail(out, str(exc), EXIT_REFUSED)
    except ConflictError as exc:
        return _fail(out, str(exc), EXIT_CONFLICT)
    except HistoryError as exc:
        return _fail(out, str(exc), EXIT_UNVERIFIED)
    except StoreError as exc:
        return _fail(out, str(exc), EXIT_STORE)
    except (PolicyError, DocumentError, _Usage) as exc:
        return _fail(out, str(exc), EXIT_USAGE)
    except LabflowError as exc:
        return _fail(out, str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        return _fail(out, "interrupted; nothing more was written.", 130)
    except BrokenPipeError:  # the reader went away (``labflow export | head``): stop quietly
        return EXIT_BROKEN_PIPE
    except OSError as exc:  # a file the places above did not name: still one sentence
        where = f" ({exc.filename})" if exc.filename else ""
        return _fail(out, f"A file could not be used{where}: {_reason(exc)}.", EXIT_USAGE)
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
