"""The ``labflow`` commands that read: status, lists, histories, reports, policies, the demo.

They change nothing (the demo writes a new database of its own); each answers ``--json``
with the shapes docs/cli.md lists.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import attrs

from labflow import diagram, diff, exports, reports, serde
from labflow._cli._common import (
    EXIT_OK,
    EXIT_UNVERIFIED,
    CommandOutput,
    NoLab,
    Usage,
    event_json,
    innovation_of,
    is_server,
    lab_id_of,
    load_lab,
    open_store,
    reason_of,
    recorded_policy,
    unmet_json,
    warning_json,
)
from labflow._cli._parser import DEMO_DB
from labflow._cli._parser import completion_script as _completion_script
from labflow._cli._tampered import failures, read_lab, rows_of
from labflow._terminal import printable
from labflow.errors import HistoryError, NotFound
from labflow.events import Event
from labflow.lab import Lab
from labflow.policy import Policy, available_presets, load_policy
from labflow.requirements import Verdict


def _status(args: argparse.Namespace, out: CommandOutput) -> int:
    lab = load_lab(args, out)
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
            "unmet": [unmet_json(u) for u in verdict.unmet if u.code != "stage.final"],
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
        inn = innovation_of(lab, args.innovation)
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
            "unmet": [unmet_json(u) for u in verdict.unmet if u.code != "stage.final"],
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


def _list(args: argparse.Namespace, out: CommandOutput) -> int:
    filters = {
        "stage": args.stage,
        "unit": args.unit,
        "unit_kind": args.unit_kind,
        "status": args.status,
    }
    with open_store(args) as store:
        lab_id = lab_id_of(store, args)
        out.lab_id = lab_id
        with out.status(out.word("verifying")):
            # The stored rows answer only when every history (and every row) verifies.
            found = failures(store, lab_id)
        blocked: dict[str, Verdict] = {}
        if args.blocked or found:  # the verdicts, or the fold instead of the rows
            lab = read_lab(store, lab_id, out, found)
            rows = rows_of(lab, **filters)
            if args.blocked:
                blocked = {b.innovation: b.verdict for b in reports.blocked(lab)}
                rows = [r for r in rows if r.id in blocked]
        else:  # labels need only the policy, read from the lab's first event
            rows = store.innovations(lab_id, **filters)
            out.policy = recorded_policy(store, lab_id)
        policy = out.lab.policy if out.lab is not None else out.policy
        if args.stage is not None and policy is not None and args.stage not in policy.stage_ids:
            raise NotFound("stage", args.stage, where=f"lab {lab_id!r}")
        if args.unit is not None and not rows:  # none found: was the unit mistyped?
            known = out.lab if out.lab is not None else read_lab(store, lab_id, out, found)
            if args.unit not in known.units:
                raise NotFound("unit", args.unit, where=f"lab {lab_id!r}")
    if out.as_json:
        out.json(
            [
                {
                    **_asdict(r),
                    **({"unmet": [unmet_json(u) for u in blocked[r.id].unmet]} if blocked else {}),
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


#: What an event records for replay's sake, not for a reader: the payload's schema version,
#: the lab version and the gate an event relied on, the cohort a lab move counted.
_BOOKKEEPING: Final = frozenset({"v", "lab_v", "gate", "cohort", "lab"})


def _summary(event: Event, out: CommandOutput, policy: Policy | None) -> str:
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
        shown = sorted(k for k in event.payload if k not in _BOOKKEEPING)
        text = "; ".join(values(event.payload[k]) for k in shown)
    return printable(text if len(text) <= 70 else text[:69] + "…")


def _history(args: argparse.Namespace, out: CommandOutput) -> int:
    with open_store(args) as store:
        lab_id = lab_id_of(store, args)
        found = failures(store, lab_id)
        # The stored events as they are, even a forged one: the warning names it.
        out.warn(found, shown="as_stored")
        events = store.history(lab_id, args.innovation)
        policy = None if out.as_json else recorded_policy(store, lab_id)
        if args.innovation is not None and not events:
            read_lab(store, lab_id, out, found)  # for "did you mean"
            raise NotFound("innovation", args.innovation, where=f"lab {lab_id!r}")
    if out.as_json:
        out.json([event_json(e, hashes=args.hashes) for e in events])
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


def _actors_list(args: argparse.Namespace, out: CommandOutput) -> int:
    lab = load_lab(args, out)
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


def _units_list(args: argparse.Namespace, out: CommandOutput) -> int:
    lab = load_lab(args, out)
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


def _verify(args: argparse.Namespace, out: CommandOutput) -> int:
    if args.checkpoint:
        from labflow._cli._sealing import verify_with_checkpoint

        return verify_with_checkpoint(args, out)
    with open_store(args) as store:
        lab_id = lab_id_of(store, args)
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
                "failures": [warning_json(r) for r in bad],
            }
        )
    elif not bad:
        out.say(out.t("done.verified", n=len(results), events=events), style="green")
    if bad:
        first = bad[0]
        raise HistoryError(first.subject, first.seq, first.reason or "unknown problem")
    return EXIT_OK


def _report(args: argparse.Namespace, out: CommandOutput) -> int:
    lab = load_lab(args, out)
    report = reports.report(lab)
    if args.html:
        # On a lab that failed verification, the page says so, as the terminal did.
        checks = out.warnings or lab.verify()
        page = reports.html(lab, lang=out.lang, verifications=checks)
        _write_file(args.html, page)
        out.note(printable(args.html))
    if out.as_json:
        out.json(report.to_dict())
    else:
        _print_report(out, report, lab)
    return EXIT_OK


def _print_report(out: CommandOutput, report: reports.Report, lab: Lab) -> None:
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
    zone = lab.policy.zone  # due dates as the region reads them

    def day(moment: datetime) -> str:
        return moment.astimezone(zone).date().isoformat()

    if report.overdue_reviews:
        out.table(
            out.t("report.overdue_reviews", n=len(report.overdue_reviews)),
            [out.word(k) for k in ("innovation", "unit", "stage", "review", "due")],
            [
                (o.innovation, o.unit, out.stage(o.stage), str(o.number), day(o.due))
                for o in report.overdue_reviews
            ],
        )
        out.say()
    if report.overdue_monev:
        out.table(
            out.t("report.overdue_monev", n=len(report.overdue_monev)),
            [out.word(k) for k in ("innovation", "unit", "missed", "due", "latest")],
            [
                (
                    m.innovation,
                    m.unit,
                    str(len(m.overdue)),
                    day(m.overdue[0]),
                    m.latest_findings or "·",
                )
                for m in report.overdue_monev
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
    out: CommandOutput, lab: Lab, blocked: Sequence[tuple[str, str, str, Verdict]]
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


def _write_file(path: str, data: str) -> None:
    try:
        Path(path).write_text(data, encoding="utf-8")
    except OSError as exc:
        raise Usage("error.unwritable", path=path, reason=reason_of(exc)) from exc


def _export(args: argparse.Namespace, out: CommandOutput) -> int:
    lab = load_lab(args, out)
    if args.format == "json":
        data = serde.dumps(lab).decode("utf-8")
    elif args.format == "iid":
        data = exports.to_csv(exports.iid(lab), lab)
    elif args.format == "iid-json":
        data = exports.to_json(exports.iid(lab))
    elif args.format == "kipp":
        data = exports.to_json(exports.kipp(lab))
    else:
        data = reports.innovations_csv(lab)  # formula prefixes neutralised
    if args.out:
        _write_file(args.out, data)
        out.note(printable(args.out))
    else:
        out.raw(data)
    return EXIT_OK


def _policy_list(args: argparse.Namespace, out: CommandOutput) -> int:
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


def _policy_show(args: argparse.Namespace, out: CommandOutput) -> int:
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


def _policy_validate(args: argparse.Namespace, out: CommandOutput) -> int:
    policy: Policy = load_policy(args.policy)  # a broken one raises PolicyError: exit 2
    if out.as_json:
        out.json({"ok": True, "policy": policy.id})
    else:
        out.say(out.t("done.valid", policy=policy.id, n=len(policy.stages)), style="green")
    return EXIT_OK


def _policy_diagram(args: argparse.Namespace, out: CommandOutput) -> int:
    text = diagram.mermaid(load_policy(args.policy), lang=out.lang)
    if out.as_json:
        out.json({"policy": args.policy, "mermaid": text})
    else:
        out.raw(text)
    return EXIT_OK


def _policy_diff(args: argparse.Namespace, out: CommandOutput) -> int:
    result = diff.compare(load_policy(args.base), load_policy(args.variant))
    if out.as_json:
        out.json({**attrs.asdict(result), "empty": result.empty, "text": str(result)})
    else:
        out.raw(printable(str(result)))
    return EXIT_OK


def _sealing() -> Callable[[argparse.Namespace, CommandOutput], int]:
    """``labflow checkpoint``, imported only when it runs (it may load cryptography)."""
    from labflow._cli._sealing import checkpoint

    return checkpoint


def _completion(args: argparse.Namespace, out: CommandOutput) -> int:
    if args.shell == "ids":
        out.raw("\n".join(_ids(args, args.what or "innovation")))
    else:
        out.raw(_completion_script(args.shell))
    return EXIT_OK


def _ids(args: argparse.Namespace, kind: str) -> list[str]:
    """The lab's ids of ``kind``, read cheaply: innovations from the stored rows, actors and
    units from the lab's own history (never a replay: completion must answer at once)."""
    with open_store(args) as store:
        lab_id = lab_id_of(store, args)
        if kind == "innovation":
            return [row.id for row in store.innovations(lab_id)]
        found: set[str] = set()
        key = {"actor": ("actors", "actor"), "unit": ("units", "unit")}[kind]
        for event in store.history(lab_id):
            listed = event.payload.get(key[0]) if event.kind == "lab.created" else None
            one = event.payload.get(key[1])
            for item in [*(listed if isinstance(listed, list) else []), one]:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    found.add(item["id"])
    return sorted(found)


_DEMO_STEPS: Final = (
    ("Registering ideas", "demo.registering"),
    ("Preparing the launch", "demo.preparing_launch"),
    ("Registering exhibits", "demo.exhibits"),
    ("Preparing: ", "demo.preparing"),
    ("Advancing to ", "demo.advancing"),
)


def _demo_progress(out: CommandOutput, policy: Callable[[], Policy | None]) -> Callable[..., Any]:
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


def _demo(args: argparse.Namespace, out: CommandOutput) -> int:
    from labflow._samples import REGIONS, run_demo

    path: Path | None = Path(args.db)
    try:
        if is_server(args):
            path = None
        elif path is not None and path.exists():
            if args.db != DEMO_DB:
                raise Usage("error.demo_exists", path=str(path))
            open_store(args).close()  # refuses a file that is not a labflow database
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        where = str(args.db) if path is None else str(path.resolve())
    except OSError as exc:
        raise NoLab("error.db_unreplaceable", db=args.db, reason=reason_of(exc)) from exc
    region = REGIONS[args.region]
    started = time.perf_counter()
    with open_store(args, create=True) as store:
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


Command = Callable[[argparse.Namespace, CommandOutput], int]


def _warned(command: Command) -> Command:
    """A read that answered a lab failing verification exits 5 (after its answer)."""

    def run(args: argparse.Namespace, out: CommandOutput) -> int:
        code = command(args, out)
        return EXIT_UNVERIFIED if code == EXIT_OK and out.warnings else code

    return run


#: The commands of this module, by the name the parser gives them (``run``).
COMMANDS: Final[dict[str, Command]] = {
    "demo": _demo,
    "actors": _warned(_actors_list),
    "units": _warned(_units_list),
    "status": _warned(_status),
    "list": _warned(_list),
    "history": _warned(_history),
    "verify": _verify,
    "checkpoint": lambda args, out: _sealing()(args, out),
    "report": _warned(_report),
    "export": _warned(_export),
    "policy-list": _policy_list,
    "policy-show": _policy_show,
    "policy-validate": _policy_validate,
    "policy-diagram": _policy_diagram,
    "policy-diff": _policy_diff,
    "completion": _completion,
}
