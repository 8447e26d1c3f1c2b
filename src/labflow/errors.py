"""Every error labflow raises, in one hierarchy rooted at `LabflowError`.

Errors carry the data a host needs to act on them (the unmet requirements, the
problems of a broken policy, the versions that conflicted) and their messages
read as sentences. Foreign exceptions are re-raised as one of these with
``raise ... from exc``, so a host can catch `LabflowError` and nothing else::

    LabflowError
    ├── PolicyError              a policy document is broken; lists every problem
    ├── RegistrationError        a requirement cannot be registered (a taken name, ...)
    ├── DocumentError            a serialised document is malformed; lists every problem
    ├── HistoryError             a history does not verify, or cannot be replayed
    ├── ConflictError            a writer's expected version is no longer current
    ├── StoreError               storage cannot be opened or used as asked
    │   ├── StoreMissing         (labflow.store) no database at that path
    │   ├── StoreCorrupt         (labflow.store) not a sound labflow database
    │   ├── StoreTooNew          (labflow.store) written by a newer labflow
    │   └── StoreLocked          (labflow.store) another writer holds it
    └── CommandError             a command was refused; nothing changed
        ├── GateRefused          the target gate has unmet requirements (carries the verdict)
        ├── PermissionDenied     the actor lacks the role, or is not the named party
        ├── NotFound             an unknown innovation, actor, unit or stage id
        └── InvalidCommand       the command itself is malformed or out of place
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from labflow.requirements import Verdict

__all__ = [
    "CommandError",
    "ConflictError",
    "DocumentError",
    "GateRefused",
    "HistoryError",
    "InvalidCommand",
    "LabflowError",
    "NotFound",
    "PermissionDenied",
    "PolicyError",
    "Problem",
    "RegistrationError",
    "StoreError",
]


class LabflowError(Exception):
    """The root of every error labflow raises."""


@attrs.frozen
class Problem:
    """One thing wrong with a document, found at ``path`` (``$.stages[2].covers``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _listing(problems: Sequence[Problem]) -> str:
    return "\n".join(f"  - {p}" for p in problems)


class PolicyError(LabflowError):
    """A policy could not be loaded; `problems` lists everything found wrong, not just the first."""

    def __init__(self, source: str, problems: Iterable[Problem]) -> None:
        self.source = source
        self.problems: tuple[Problem, ...] = tuple(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(
            f"The policy {source} is invalid ({count} {noun}):\n{_listing(self.problems)}"
        )


class DocumentError(LabflowError):
    """A serialised document could not be loaded; `problems` lists every problem with its path."""

    def __init__(self, problems: Iterable[Problem], *, kind: str | None = None) -> None:
        self.kind = kind
        self.problems: tuple[Problem, ...] = tuple(problems)
        what = f"The {kind} document" if kind else "The document"
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{what} is malformed ({count} {noun}):\n{_listing(self.problems)}")


class RegistrationError(LabflowError):
    """A requirement could not be registered (a taken name, an unsupported parameter type)."""


class HistoryError(LabflowError):
    """A history failed verification at event ``seq`` (``None`` when the whole chain is empty)."""

    def __init__(self, subject: str, seq: int | None, reason: str) -> None:
        self.subject = subject
        self.seq = seq
        self.reason = reason
        where = f"at event {seq}" if seq is not None else "as a whole"
        super().__init__(f"The history of {subject} does not verify {where}: {reason}.")


class ConflictError(LabflowError):
    """Another writer moved ``subject`` on: it was expected at `expected`, found at `found`."""

    def __init__(self, subject: str, expected: int, found: int) -> None:
        self.subject = subject
        self.expected = expected
        self.found = found
        super().__init__(
            f"{subject} was changed by another writer: expected version {expected}, "
            f"found version {found}. Reload it and try again; nothing was written."
        )


class StoreError(LabflowError):
    """Storage cannot be opened or used as asked (missing, corrupt, newer, locked)."""


class CommandError(LabflowError):
    """A command was refused. The lab, its innovations and their histories are unchanged."""


class GateRefused(CommandError):
    """A move was refused because its gate has unmet requirements; `verdict` lists them all."""

    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict
        super().__init__(verdict)

    def __str__(self) -> str:
        # Rendered on demand: a refusal a host only counts should not pay for the prose.
        return self.verdict.explain()


class PermissionDenied(CommandError):
    """`actor` may not perform `command`: it lacks every allowed role or is not the named party."""

    def __init__(self, actor: str, command: str, reason: str) -> None:
        self.actor = actor
        self.command = command
        self.reason = reason
        super().__init__(f"{actor} may not {command.replace('_', ' ')}: {reason}.")


class NotFound(CommandError):
    """An id names no known innovation, actor, unit or stage."""

    def __init__(self, what: str, ident: str, *, where: str = "this lab") -> None:
        self.what = what
        self.ident = ident
        super().__init__(f"There is no {what} {ident!r} in {where}.")


class InvalidCommand(CommandError):
    """The command is malformed or out of place (an empty reason, a withdrawn innovation, ...)."""
