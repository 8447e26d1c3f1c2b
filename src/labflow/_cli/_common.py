"""What every ``labflow`` command shares: its output, its mistakes, and opening the lab.

The commands (`labflow._cli._writing`, `labflow._cli._reading`) are written against
these: `CommandOutput` draws in the user's language and remembers the lab it read (for
stage labels and "did you mean"), `Said` is a mistake worded from the catalogue, and
`write_lab` runs one command as one transaction, at ``--at`` if given.
"""

from __future__ import annotations

import argparse
import os
import re
import stat
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from labflow import _limits
from labflow._cli._catalogue import has, message
from labflow._cli._parser import DEFAULT_DB, PATH_OPTIONS, suggest
from labflow._terminal import Output, printable, safe_message
from labflow.errors import LabflowError, NotFound, UsageError
from labflow.events import Event, Verification
from labflow.lab import Lab, system_clock
from labflow.model import Actor
from labflow.policy import Policy, policy_from_dict
from labflow.requirements import Unmet, Verdict
from labflow.store import Session
from labflow.store.sqlite import SQLiteStore

# The exit codes (labflow.cli documents them).
EXIT_OK: Final = 0
EXIT_REFUSED: Final = 1
EXIT_USAGE: Final = 2
EXIT_STORE: Final = 3
EXIT_CONFLICT: Final = 4
EXIT_UNVERIFIED: Final = 5
#: Standard output was closed by its reader; by convention 128 + SIGPIPE.
EXIT_BROKEN_PIPE: Final = 141


class Said(LabflowError):
    """A mistake the command itself found, worded from the catalogue in the user's language."""

    exit_code = EXIT_USAGE

    def __init__(self, key: str, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(
            message(key, "en", **params), message(key, "id", **params), code=f"cli.{key}"
        )

    def say(self, lang: str) -> str:
        text = safe_message(self.key, lang, **self.params)
        if self.params.get("hint"):
            text += safe_message("error.did_you_mean", lang, close=self.params["hint"])
        return text


class Usage(Said, UsageError):
    """A usage mistake the parser could not see (exit code 2)."""


class Refused(Said):
    """A command refused before it reached the lab: an ``--at`` out of order, ... (exit 1)."""

    exit_code = EXIT_REFUSED


class Unverified(Said):
    """Verification failed, worded from the catalogue (exit 5)."""

    exit_code = EXIT_UNVERIFIED


class CommandOutput(Output):
    """The command's output, which also remembers the lab it read (for labels and hints)."""

    lab: Lab | None = None
    #: the lab's policy and id, when the command read them without the lab (``list``)
    policy: Policy | None = None
    lab_id: str = ""
    #: the histories that failed verification, when a read answers anyway (`warn`)
    warnings: tuple[Verification, ...] = ()

    def warn(self, failures: Iterable[Verification], *, shown: str = "answer_anyway") -> None:
        """Say on standard error, before any answer, which histories fail and where.

        ``shown`` says what the answer is read from: ``answer_anyway`` (what verifies) or
        ``as_stored`` (the stored events themselves, for ``history``).
        """
        self.warnings = tuple(failures)
        for failure in self.warnings:
            key = "warning.unverified" if failure.seq else "warning.unverified_whole"
            self.note(
                self.t(
                    key,
                    subject=failure.subject,
                    seq=failure.seq or 0,
                    reason=self.reason(failure.reason),
                ),
                style="yellow",
            )
        if self.warnings:
            self.note(self.t(f"warning.{shown}"), style="yellow")

    def json(self, data: Any) -> None:
        """One JSON value; an object answer carries the ``warnings`` of a read that has them."""
        if self.warnings and isinstance(data, dict):
            data = {**data, "warnings": [warning_json(w) for w in self.warnings]}
        super().json(data)

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

    def reason(self, text: str | None) -> str:
        """Why a history fails verification, in the output's language.

        The stores and `labflow.verify` say why in English; the reasons they give are
        known, and worded again from the catalogue. One that is not is shown as it is.
        """
        text = text or ""
        for pattern, key in _REASONS:
            found = pattern.fullmatch(text)
            if found is None:
                continue
            params = found.groupdict()
            if "details" in params:
                params["details"] = self._row_details(params["details"])
            return self.t(key, **params)
        return printable(text)

    def _row_details(self, details: str) -> str:
        parts = []
        for found in _ROW_DETAIL.finditer(details):
            field = found.group("field")
            values = [found.group(name).strip("'") for name in ("stored", "given")]
            if field == "launched":
                values = [self.word("yes" if v == "True" else "no") for v in values]
            elif field == "stage":
                values = [self.stage(v) for v in values]
            elif field == "status":
                values = [self.t(f"status.{v}") if has(f"status.{v}") else v for v in values]
            label = self.word(field).lower() if has(f"word.{field}") else field
            stored, given = (f"'{v}'" for v in values)
            parts.append(self.t("reason.row_item", field=label, stored=stored, given=given))
        return printable(", ".join(parts) if parts else details)


#: The reasons verification gives (`labflow.verify`, the stores' checks), by catalogue key.
_REASONS: Final = (
    (re.compile(r"its content does not match its hash"), "reason.hash"),
    (re.compile(r"it does not link to the event before it"), "reason.link"),
    (
        re.compile(r"it says it is event (?P<said>\d+), but it stands at (?P<at>\d+)"),
        "reason.position",
    ),
    (re.compile(r"it does not end at the expected head"), "reason.head"),
    (re.compile(r"its stored events are gone"), "reason.gone"),
    (re.compile(r"it has a stored row but no history"), "reason.row_only"),
    (re.compile(r"its stored row says (?P<details>.+)", re.DOTALL), "reason.row"),
)
#: One difference in "its stored row says ...": a field, the stored value, the history's.
_ROW_DETAIL: Final = re.compile(
    r"(?P<field>unit|stage|status|launched) (?P<stored>'[^']*'|True|False|None) "
    r"where its history gives (?P<given>'[^']*'|True|False|None)"
)


def warning_json(failure: Verification) -> dict[str, Any]:
    """A history that fails verification, as ``verify`` and the reads' ``warnings`` show it."""
    return {"subject": failure.subject, "seq": failure.seq, "reason": failure.reason}


def reason_of(exc: OSError) -> str:
    """What the system said about a file, without the errno and the repeated name."""
    return exc.strerror or str(exc) or type(exc).__name__


if TYPE_CHECKING:
    from labflow.store.postgres import PostgresStore

#: The database when ``--db`` is not given: an SQLite path or a ``postgresql://`` URL.
DB_ENV: Final = "LABFLOW_DB"
#: What ``--db`` opens: an SQLite file or a PostgreSQL server.
Store: TypeAlias = "SQLiteStore | PostgresStore"


def is_server(args: argparse.Namespace) -> bool:
    """Whether ``--db`` (or ``LABFLOW_DB`` in its absence) names a PostgreSQL server."""
    if args.db == DEFAULT_DB and os.environ.get(DB_ENV):
        args.db = os.environ[DB_ENV]
    return str(args.db).startswith(("postgresql://", "postgres://"))


def open_store(args: argparse.Namespace, *, create: bool = False) -> Store:
    """The store ``--db`` names: a ``postgresql://`` URL (needs ``labflow[postgres]``) or an
    SQLite file; without ``--db``, ``LABFLOW_DB`` if it is set."""
    if is_server(args):
        try:
            from labflow.store.postgres import PostgresStore
        except ImportError as exc:
            raise NoLab("error.db_unopenable", db=args.db, reason=str(exc)) from exc
        return PostgresStore(args.db, create=create)
    try:
        return SQLiteStore(args.db, create=create)
    except OSError as exc:  # a name too long, a folder it may not look into, ...
        raise NoLab("error.db_unopenable", db=args.db, reason=reason_of(exc)) from exc


def lab_id_of(store: Store, args: argparse.Namespace) -> str:
    ids = store.lab_ids()
    if args.lab:
        if args.lab not in ids:
            close = suggest(args.lab, ids)
            raise Usage(
                "error.no_lab",
                lab=args.lab,
                db=str(args.db),
                labs=", ".join(ids) or "—",
                n=len(ids),
                hint=close or "",
            )
        return str(args.lab)
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise NoLab("error.empty_db", db=str(store.path))
    raise Usage("error.several_labs", db=str(store.path), labs=", ".join(ids))


class NoLab(Said):
    """The database holds no lab, or cannot be opened (a storage problem: exit code 3)."""

    exit_code = EXIT_STORE


def undecodable_argument(argv: Sequence[str], args: argparse.Namespace) -> Usage | None:
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
            return Usage("error.not_utf8_of", value=token, option=argv[i - 1])
        return Usage("error.not_utf8", value=token)
    return None


def parse_at(text: str) -> datetime:
    """``--at``: a date (midnight UTC) or an ISO date and time (UTC unless it says otherwise)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise Usage("error.bad_at", value=text) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def check_order(lab: Lab, at: datetime, subjects: Iterable[str]) -> None:
    """``--at`` must not come before what the histories it extends already record."""
    if at > datetime.now(UTC):
        raise Refused("error.at_future", at=at.isoformat(timespec="minutes"))
    histories = [(lab.id, lab.history)]
    histories += [(s, lab.innovations[s].history) for s in subjects if s in lab.innovations]
    for subject, history in histories:
        if history and at < history[-1].at:
            raise Refused(
                "error.at_order",
                at=at.isoformat(timespec="minutes"),
                subject=subject,
                last=history[-1].at.isoformat(timespec="minutes"),
            )


def session_at(store: Store, lab_id: str, at: datetime | None) -> Session:
    """A session on the lab whose clock reads ``at`` (``--at``), or the time now."""
    return store.session(lab_id, clock=system_clock if at is None else (lambda: at))


def write_lab(
    args: argparse.Namespace,
    out: CommandOutput,
    work: Callable[[Lab], object],
    subjects: Iterable[str] = (),
    *,
    quiet: bool = False,
) -> int:
    """Run ``work`` on the lab in one transaction and say what it recorded (unless ``quiet``)."""
    at = parse_at(args.at) if getattr(args, "at", None) else None
    with open_store(args) as store:
        lab_id = lab_id_of(store, args)
        session = session_at(store, lab_id, at)
        with session as lab:
            out.lab = lab
            if at is not None:
                check_order(lab, at, subjects)
            work(lab)
    if not quiet:
        say_recorded(out, session.committed)
    return EXIT_OK


def say_recorded(out: CommandOutput, events: Sequence[Event]) -> None:
    if out.as_json:
        out.json({"recorded": [event_json(e) for e in events]})
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


def event_json(event: Event, *, hashes: bool = False) -> dict[str, Any]:
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


#: The most a CSV file may hold in bytes: `labflow.cohort` counts its limit in characters,
#: and a character is at most four bytes in UTF-8.
CSV_BYTES: Final = 4 * _limits.MAX_CSV_BYTES


def read_text(path: str, limit: int = CSV_BYTES) -> str:
    """A UTF-8 file's text, refused (exit 2) past ``limit`` bytes without reading it all.

    A regular file's size is known before reading: one too large is refused unread (a
    sparse file of 100 MB costs nothing). A pipe or a device is read up to ``limit`` and
    one byte more, never further.
    """
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno())
            if stat.S_ISREG(size.st_mode) and size.st_size > limit:
                raise Usage("error.too_large", path=path, mib=limit // (1024 * 1024))
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise Usage("error.too_large", path=path, mib=limit // (1024 * 1024))
        # Line ends as text mode reads them (``\r\n`` and ``\r`` become ``\n``).
        return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        raise Usage("error.not_utf8_file", path=path, byte=exc.start) from exc
    except OSError as exc:
        raise Usage("error.unreadable", path=path, reason=reason_of(exc)) from exc


def refuse_existing(store: Store, lab_id: str) -> None:
    """A lab id already in the database is the user's mistake, not another writer's race."""
    if lab_id in store.lab_ids():
        raise Usage("error.lab_taken", db=str(store.path), lab=lab_id)


def actor_of(lab: Lab, actor_id: str) -> Actor:
    actor = lab.actors.get(actor_id)
    if actor is None:
        raise NotFound("actor", actor_id, where=f"lab {lab.id!r}")
    return actor


def unmet_json(item: Unmet) -> dict[str, Any]:
    """An unmet item as every command's JSON shows it (as `labflow.reports` does)."""
    return {"code": item.code, "en": item.message("en"), "id": item.message("id")}


def load_lab(args: argparse.Namespace, out: CommandOutput) -> Lab:
    """The lab a read answers from: on one that fails verification, after a warning."""
    from labflow._cli._tampered import read_lab

    with open_store(args) as store:
        return read_lab(store, lab_id_of(store, args), out)


def innovation_of(lab: Lab, innovation_id: str) -> Any:
    if innovation_id not in lab.innovations:
        raise NotFound("innovation", innovation_id, where=f"lab {lab.id!r}")
    return lab.innovations[innovation_id]


def recorded_policy(store: Store, lab_id: str) -> Policy | None:
    """The policy a lab recorded at creation, read from its first event (not the whole lab)."""
    first = store.history(lab_id)[:1]
    try:
        return policy_from_dict(first[0].payload["policy"]) if first else None
    except (LabflowError, KeyError, TypeError):  # a host's own requirement: show stage ids
        return None
