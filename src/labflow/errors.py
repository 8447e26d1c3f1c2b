"""Every error labflow raises, in one hierarchy rooted at `LabflowError`.

Errors are data: each carries a stable ``code`` a host can branch on, the same
sentence in English and Indonesian (``message("en")``, ``message("id")``), and
``data`` -- the ids, versions and unmet items it is about. Foreign exceptions are
re-raised as one of these with ``raise ... from exc``, so a host can catch
`LabflowError` and nothing else::

    LabflowError                 code
    ├── PolicyError              policy.invalid       a policy is broken; lists every problem
    ├── RegistrationError        requirement.registration  a requirement cannot be registered
    ├── DocumentError            document.malformed   a serialised document is malformed
    ├── HistoryError             history.*            a history does not verify or replay
    ├── ConflictError            store.conflict       a writer's expected version is stale
    │                            conflict.stage       a command's expected stage is stale
    ├── StoreError               store.error          storage cannot be used as asked
    │   ├── StoreMissing         store.missing        no database at that path
    │   ├── StoreCorrupt         store.corrupt        not a sound labflow database
    │   ├── StoreTooNew          store.too_new        written by a newer labflow
    │   └── StoreLocked          store.locked         another writer holds it
    ├── UsageError               cli.usage            the command line was used wrongly
    │                            usage.lab_constructor  Lab(...) built by hand
    ├── InvariantViolation       invariant.N          (labflow.testing) a run broke invariant N
    └── CommandError             command.*            a command was refused; nothing changed
        ├── GateRefused          gate.refused         unmet requirements (carries the verdict)
        ├── PermissionDenied     permission.*         lacks the role, or not the named party
        ├── NotFound             not_found.<what>     an unknown innovation, actor, unit, stage
        └── InvalidCommand       command.*            malformed or out of place

Factored out of the modules that raise them so that every layer can import
them without an import loop.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

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
    "InvariantViolation",
    "LabflowError",
    "NotFound",
    "PermissionDenied",
    "PolicyError",
    "Problem",
    "RegistrationError",
    "StoreCorrupt",
    "StoreError",
    "StoreLocked",
    "StoreMissing",
    "StoreTooNew",
    "UsageError",
]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


class LabflowError(Exception):
    """The root of every error labflow raises: a code, its data, a message in two languages.

    ``LabflowError("sentence")`` still works (the English sentence stands in for the
    Indonesian one), but labflow's own raise sites give both.
    """

    #: The code an error of this class carries unless its raise site names a finer one.
    default_code: ClassVar[str] = "labflow.error"

    code: str
    data: Mapping[str, Any]

    def __init__(
        self,
        message_en: str = "",
        message_id: str | None = None,
        *,
        code: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        self._describe(message_en, message_id, code, data)
        super().__init__(message_en)

    def _describe(
        self,
        message_en: str,
        message_id: str | None,
        code: str | None,
        data: Mapping[str, Any] | None,
    ) -> None:
        self.code = code or self.default_code
        self._en = message_en
        self._id = message_id if message_id is not None else message_en
        self.data = MappingProxyType(dict(data)) if data else _EMPTY

    @property
    def message_en(self) -> str:
        return self._en

    @property
    def message_id(self) -> str:
        return self._id

    def message(self, lang: str = "en") -> str:
        """The message in ``"en"`` or ``"id"`` (Bahasa Indonesia)."""
        return self.message_id if lang == "id" else self.message_en


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

    default_code = "policy.invalid"

    def __init__(
        self, source: str, problems: Iterable[Problem], *, code: str | None = None
    ) -> None:
        self.source = source
        self.problems: tuple[Problem, ...] = tuple(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        listing = _listing(self.problems)
        en = f"The policy {source} is invalid ({count} {noun}):\n{listing}"
        id_ = f"Kebijakan {source} tidak valid ({count} masalah):\n{listing}"
        data = {"source": source, "problems": [str(p) for p in self.problems]}
        super().__init__(en, id_, code=code, data=data)


class DocumentError(LabflowError):
    """A serialised document could not be loaded; `problems` lists every problem with its path."""

    default_code = "document.malformed"

    def __init__(self, problems: Iterable[Problem], *, kind: str | None = None) -> None:
        self.kind = kind
        self.problems: tuple[Problem, ...] = tuple(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        listing = _listing(self.problems)
        what = f"The {kind} document" if kind else "The document"
        what_id = f"Dokumen {kind}" if kind else "Dokumen"
        data = {"kind": kind, "problems": [str(p) for p in self.problems]}
        super().__init__(
            f"{what} is malformed ({count} {noun}):\n{listing}",
            f"{what_id} rusak ({count} masalah):\n{listing}",
            data=data,
        )


class RegistrationError(LabflowError):
    """A requirement could not be registered (a taken name, an unsupported parameter type)."""

    default_code = "requirement.registration"


class HistoryError(LabflowError):
    """A history failed verification or replay at event ``seq`` (``None``: the whole history).

    ``code`` says which rule the event broke (``history.chain``, ``history.stage_order``,
    ``history.not_permitted``, ...); ``reason`` is the English phrase, ``reason_id`` the
    Indonesian one.
    """

    default_code = "history.invalid"

    def __init__(
        self,
        subject: str,
        seq: int | None,
        reason: str,
        reason_id: str | None = None,
        *,
        code: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        self.subject = subject
        self.seq = seq
        self.reason = reason
        where = f"at event {seq}" if seq is not None else "as a whole"
        where_id = f"pada peristiwa ke-{seq}" if seq is not None else "secara keseluruhan"
        reason_id = reason if reason_id is None else reason_id
        full = {"subject": subject, "seq": seq, **(data or {})}
        super().__init__(
            f"The history of {subject} does not verify {where}: {reason}.",
            f"Riwayat {subject} tidak valid {where_id}: {reason_id}.",
            code=code,
            data=full,
        )


class ConflictError(LabflowError):
    """Another writer moved ``subject`` on: it was expected at `expected`, found at `found`.

    ``expected`` and ``found`` are versions (a store's commit), or stages (a command
    given the stage its caller saw, ``Lab.advance_lab(expect=...)``).
    """

    default_code = "store.conflict"

    def __init__(self, subject: str, expected: int | str, found: int | str) -> None:
        self.subject = subject
        self.expected = expected
        self.found = found
        data = {"subject": subject, "expected": expected, "found": found}
        if isinstance(expected, str):
            super().__init__(
                f"{subject} has moved on: expected at stage {expected}, found at {found}. "
                "Reload it and try again; nothing was changed.",
                f"{subject} sudah berpindah: diharapkan di tahap {expected}, ditemukan di "
                f"{found}. Muat ulang lalu coba lagi; tidak ada yang diubah.",
                code="conflict.stage",
                data=data,
            )
            return
        super().__init__(
            f"{subject} was changed by another writer: expected version {expected}, "
            f"found version {found}. Reload it and try again; nothing was written.",
            f"{subject} telah diubah oleh penulis lain: diharapkan versi {expected}, "
            f"ditemukan versi {found}. Muat ulang lalu coba lagi; tidak ada yang ditulis.",
            data=data,
        )


class StoreError(LabflowError):
    """Storage cannot be opened or used as asked (missing, corrupt, newer, locked)."""

    default_code = "store.error"


class StoreMissing(StoreError):
    """There is no store where one was expected (a database file that does not exist)."""

    default_code = "store.missing"


class StoreCorrupt(StoreError):
    """The store exists but cannot be read as a labflow store (corrupt, or something else)."""

    default_code = "store.corrupt"


class StoreTooNew(StoreError):
    """The store was written by a newer labflow, with a schema this version does not know."""

    default_code = "store.too_new"


class StoreLocked(StoreError):
    """Another process holds the store's write lock for longer than this one would wait."""

    default_code = "store.locked"


class UsageError(LabflowError):
    """labflow was used in a way it does not support.

    The ``labflow`` command used in a way its parser could not see (exit code 2), or a
    ``Lab(...)`` built by hand (code ``usage.lab_constructor``: labs come from
    `Lab.create`, `replay_lab`, a store or a document).
    """

    default_code = "cli.usage"


class InvariantViolation(LabflowError, AssertionError):
    """A run broke one of the design's invariants; `invariant` is its number (1-8).

    Raised by `labflow.testing`; an `AssertionError` too, so test runners report it as
    a failed assertion.
    """

    default_code = "invariant"

    def __init__(self, number: int, message: str) -> None:
        self.invariant = number
        super().__init__(
            f"Invariant {number} is broken: {message}",
            f"Invarian {number} dilanggar: {message}",
            code=f"invariant.{number}",
            data={"invariant": number},
        )


class CommandError(LabflowError):
    """A command was refused. The lab, its innovations and their histories are unchanged."""

    default_code = "command.refused"


class GateRefused(CommandError):
    """A move was refused because its gate has unmet requirements; `verdict` lists them all."""

    default_code = "gate.refused"

    def __init__(self, verdict: Verdict) -> None:
        # The prose is rendered on demand: a refusal a host only counts should not pay for it.
        self.verdict = verdict
        self.code = self.default_code
        Exception.__init__(self, verdict)

    @property
    def data(self) -> Mapping[str, Any]:  # type: ignore[override]
        v = self.verdict
        return {"subject": v.subject, "action": v.action, "target": v.target, "codes": v.codes}

    @property
    def message_en(self) -> str:
        return self.verdict.explain("en")

    @property
    def message_id(self) -> str:
        return self.verdict.explain("id")

    def __str__(self) -> str:
        return self.verdict.explain()


class PermissionDenied(CommandError):
    """`actor` may not perform `command`: it lacks every allowed role or is not the named party."""

    default_code = "permission.denied"

    def __init__(
        self,
        actor: str,
        command: str,
        reason: str,
        reason_id: str | None = None,
        *,
        code: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        self.actor = actor
        self.command = command
        self.reason = reason
        verb = command.replace("_", " ")
        super().__init__(
            f"{actor} may not {verb}: {reason}.",
            f"{actor} tidak boleh menjalankan {command}: {reason_id or reason}.",
            code=code,
            data={"actor": actor, "command": command, **(data or {})},
        )


_WHAT_ID = {
    "innovation": "inovasi",
    "actor": "pelaku",
    "unit": "unit",
    "stage": "tahap",
    "lab": "laboratorium",
}


class NotFound(CommandError):
    """An id names no known innovation, actor, unit or stage (code ``not_found.<what>``)."""

    default_code = "not_found"

    def __init__(self, what: str, ident: str, *, where: str = "this lab") -> None:
        self.what = what
        self.ident = ident
        what_id = _WHAT_ID.get(what, what)
        where_id = "laboratorium ini" if where == "this lab" else where
        super().__init__(
            f"There is no {what} {ident!r} in {where}.",
            f"Tidak ada {what_id} {ident!r} di {where_id}.",
            code=f"not_found.{what}",
            data={"what": what, "id": ident, "where": where},
        )


class InvalidCommand(CommandError):
    """The command is malformed or out of place (an empty reason, a withdrawn innovation, ...)."""

    default_code = "command.invalid"
