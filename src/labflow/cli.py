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
import contextlib
import functools
import importlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Final, TextIO

from labflow._cli._catalogue import has
from labflow._cli._parser import DEFAULT_DB, DEMO_DB, build, language, suggest
from labflow._text import printable
from labflow.errors import (
    CommandError,
    ConflictError,
    DocumentError,
    GateRefused,
    HistoryError,
    InvalidCommand,
    LabflowError,
    NotFound,
    PermissionDenied,
    PolicyError,
    StoreCorrupt,
    StoreError,
    StoreLocked,
    StoreMissing,
    StoreTooNew,
)

if TYPE_CHECKING:
    from labflow._cli._common import (
        DB_ENV,
        EXIT_CONFLICT,
        EXIT_OK,
        EXIT_REFUSED,
        EXIT_STORE,
        EXIT_UNVERIFIED,
        EXIT_USAGE,
        CommandOutput,
    )
    from labflow._cli._common import (
        EXIT_BROKEN_PIPE as EXIT_BROKEN_PIPE,
    )
    from labflow._terminal import Output

__all__ = [
    "DB_ENV",
    "DEFAULT_DB",
    "EXIT_CONFLICT",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_STORE",
    "EXIT_UNVERIFIED",
    "EXIT_USAGE",
    "main",
]


# --- Start-up ------------------------------------------------------------------------------------
# ``labflow --help`` (and a usage error) needs argparse and the message catalogue only: the
# commands, and the engine they drive, are imported once the arguments are parsed.

#: The names of `labflow._cli._common` this module has always offered, imported when first
#: asked for.
_FROM_COMMON: Final = frozenset(
    {
        "DB_ENV",
        "EXIT_BROKEN_PIPE",
        "EXIT_CONFLICT",
        "EXIT_OK",
        "EXIT_REFUSED",
        "EXIT_STORE",
        "EXIT_UNVERIFIED",
        "EXIT_USAGE",
        "CommandOutput",
        "Said",
        "reason_of",
        "undecodable_argument",
    }
)


def __getattr__(name: str) -> Any:
    if name in _FROM_COMMON:
        return getattr(importlib.import_module("labflow._cli._common"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _commands() -> dict[str, Callable[[argparse.Namespace, CommandOutput], int]]:
    """Every command, by the name the parser gives it (``run``)."""
    from labflow._cli import _reading, _writing

    return {**_writing.COMMANDS, **_reading.COMMANDS}


def _command(args: argparse.Namespace) -> Callable[[argparse.Namespace, CommandOutput], int]:
    """The body that runs the parsed command: its own, or the catalogue's generic one."""
    own = _commands().get(args.run)
    if own is not None:
        return own
    from labflow._cli import _derived

    return _derived.run


# --- Entry point ---------------------------------------------------------------------------------


def _fail(out: Output, text: str, code: int) -> int:
    from labflow._cli._common import EXIT_OK

    out.note(f"labflow: {text}", style="red" if code != EXIT_OK else None)
    return code


def _hint(out: CommandOutput, exc: NotFound) -> str:
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


def _explain_error(out: CommandOutput, exc: LabflowError, db: str) -> str:
    """A library error as one sentence in the output's language."""
    from labflow._cli._common import Said

    lang = out.lang
    if isinstance(exc, Said):
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
        return out.t(key, subject=exc.subject, seq=exc.seq or 0, reason=out.reason(exc.reason))
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
    # Any other error carries its own sentence in both languages.
    return printable(exc.message(lang))


def _denied(out: CommandOutput, exc: PermissionDenied) -> str:
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
    for name, value in (("lab", None), ("json", False), ("at", None), ("rules", [])):
        if not hasattr(args, name):
            setattr(args, name, value)


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the ``labflow`` command; returns its exit code (see the module's docstring)."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    if not all(callable(getattr(s, "write", None)) for s in (stdout, stderr)):
        raise InvalidCommand(
            "labflow.cli.main writes to text streams (stdout and stderr).",
            "labflow.cli.main menulis ke aliran teks (stdout dan stderr).",
            code="cli.streams",
        )
    if argv is not None and (
        isinstance(argv, str)
        or not isinstance(argv, Sequence)
        or not all(isinstance(a, str) for a in argv)
    ):
        from labflow._cli._common import EXIT_USAGE, CommandOutput

        out = CommandOutput("en", False, stdout, stderr)
        return _fail(out, "arguments must be strings.", EXIT_USAGE)
    given = sys.argv[1:] if argv is None else list(argv)
    env_lang = os.environ.get("LABFLOW_LANG", "en")
    parser = build(language(given, env_lang if env_lang in ("en", "id") else "en"))
    try:
        with _Redirect(stdout, stderr):
            args = parser.parse_args(given)
    except SystemExit as exc:  # --help, --version, or a usage error argparse explained
        return exc.code if isinstance(exc.code, int) else _exit_code("EXIT_USAGE")
    return _dispatch(args, given, env_lang, stdout, stderr)


def _exit_code(name: str) -> int:
    code: int = getattr(importlib.import_module("labflow._cli._common"), name)
    return code


def _dispatch(
    args: argparse.Namespace, given: list[str], env_lang: str, stdout: TextIO, stderr: TextIO
) -> int:
    """Run the parsed command: the part of `main` that imports the engine."""
    from labflow._cli._common import (
        EXIT_BROKEN_PIPE,
        EXIT_CONFLICT,
        EXIT_REFUSED,
        EXIT_STORE,
        EXIT_UNVERIFIED,
        EXIT_USAGE,
        CommandOutput,
        Said,
        reason_of,
        undecodable_argument,
    )

    _defaults(args)
    lang = getattr(args, "lang", None) or env_lang
    lang = lang if lang in ("en", "id") else "en"
    out = CommandOutput(lang, bool(args.json), stdout, stderr)
    undecodable = undecodable_argument(given, args)
    if undecodable is not None:
        return _fail(out, undecodable.say(lang), EXIT_USAGE)
    try:
        with _audit_kept_off_the_terminal():
            # The host requirements the policy names, before anything loads it: the installed
            # plugins, then the modules ``--rules`` names.
            from labflow._cli._rules import load_plugins, load_rules

            load_plugins()
            if args.rules:
                load_rules(args.rules)
            return int(_command(args)(args, out))
    except Said as exc:
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
        return _fail(out, out.t("error.file", where=where, reason=reason_of(exc)), EXIT_USAGE)


@contextlib.contextmanager
def _audit_kept_off_the_terminal() -> Iterator[None]:
    """Keep labflow's audit events out of the command's output, leaving structlog alone.

    A host that configured structlog before calling `main` routes the events as it
    chose. Otherwise (the console script, or a host that has not decided yet)
    unconfigured structlog would print every event into the command's output, so the
    command drops them through a logger of its own -- never through `structlog.configure`,
    whose global settings stay the host's to make (``configure_once`` after `main` works).
    """
    import structlog  # here, not at the top: ``labflow --help`` never needs it

    from labflow import audit

    if structlog.is_configured():
        yield
        return
    saved = audit.logger
    audit.logger = structlog.wrap_logger(
        structlog.ReturnLogger(),
        processors=[],
        wrapper_class=structlog.make_filtering_bound_logger(50),  # logging.CRITICAL: nothing passes
    )
    try:
        yield
    finally:
        audit.logger = saved


class _Redirect:
    """Send argparse's help and usage errors to the given streams."""

    def __init__(self, stdout: TextIO, stderr: TextIO) -> None:
        self.streams = (stdout, stderr)

    def __enter__(self) -> None:
        self.saved = (sys.stdout, sys.stderr)
        sys.stdout, sys.stderr = self.streams

    def __exit__(self, *exc: object) -> None:
        sys.stdout, sys.stderr = self.saved


def run() -> None:
    """The ``labflow`` console script: `main` on the process's arguments, then exit.

    When the reader of standard output went away (``labflow export | head``), standard
    output is pointed at nothing before exiting, so that Python's final flush into the
    closed pipe prints no traceback; the exit code is then 141, as a shell reports it.
    """
    code = main()
    try:  # a short output is still in the buffer: its reader may be gone too
        sys.stdout.flush()
    except BrokenPipeError:
        code = _exit_code("EXIT_BROKEN_PIPE")
    # Only a parsed command (which imported the commands' module) returns EXIT_BROKEN_PIPE:
    # ``--help`` is not made to import it just to compare.
    common = sys.modules.get("labflow._cli._common")
    if common is not None and code == common.EXIT_BROKEN_PIPE:
        # Python flushes stdout at exit, into the same closed pipe: point it at nothing.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
