"""The document envelope: kinds and versions, the errors a refusal lists, migrations, schemas.

Private to `labflow.serde`. Every document is ``{"kind", "version", "data"}``; this module
reads that envelope and upgrades an older version step by step (`migrate`), builds the
one `DocumentError` a refusal raises (at most `MAX_PROBLEMS` problems, each with its
path), and hands out each kind's JSON Schema (`json_schema`).
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import Enum
from typing import Any, Final

import cattrs
from cattrs.errors import ForbiddenExtraKeysError

from labflow._limits import MAX_PROBLEMS
from labflow._registrations import index_data
from labflow._schema import document_schema
from labflow.errors import DocumentError, Problem

__all__ = ["KINDS", "VERSIONS", "json_schema", "migrate"]

#: The document kinds, and the current schema version of each.
VERSIONS: Final[Mapping[str, int]] = {
    "event": 1,
    "history": 1,
    "innovation": 3,
    "lab": 4,
    "policy": 1,
}
KINDS: Final = tuple(sorted(VERSIONS))


# --- Errors ------------------------------------------------------------------------------------


class _Invalid(ValueError):
    """A value is wrong; its message is already the sentence a user reads."""


def _refuse(problems: Sequence[Problem], kind: str | None) -> DocumentError:
    if len(problems) > MAX_PROBLEMS:
        more = len(problems) - MAX_PROBLEMS + 1
        problems = [*problems[: MAX_PROBLEMS - 1], Problem("$", f"... and {more} more problems")]
    return DocumentError(problems, kind=kind)


class _Unlisted(ValueError):
    """Stands for the items of an array left unchecked once enough problems were found."""

    def __init__(self, count: int) -> None:
        super().__init__(f"... and {count} more items were not checked (too many problems)")


def _format(exc: BaseException, type_: type | None) -> str:
    if isinstance(exc, _Invalid | _Unlisted):
        return str(exc)
    if isinstance(exc, ForbiddenExtraKeysError):
        return f"unknown fields {_few(exc.extra_fields)}"
    if isinstance(exc, KeyError):
        return "is required"
    name = getattr(type_, "__name__", None) or repr(type_)
    if isinstance(exc, ValueError) and isinstance(type_, type) and issubclass(type_, Enum):
        allowed = ", ".join(repr(m.value) for m in type_)
        return f"expected one of {allowed}"
    if isinstance(exc, ValueError | TypeError):
        return f"expected {name}" if type_ is not None else "invalid value"
    return f"invalid value ({type(exc).__name__})"


def _few(names: Iterable[object]) -> str:
    """At most ten names, sorted, and how many more there were: a message stays short."""
    shown = sorted(map(str, names))
    listed = ", ".join(repr(n[:40]) for n in shown[:10])
    more = f", ... and {len(shown) - 10} more" if len(shown) > 10 else ""
    return f"[{listed}{more}]"


def _problems(exc: BaseException, path: str) -> list[Problem]:
    out = []
    for line in cattrs.transform_error(exc, path, _format):
        message, _, where = line.rpartition(" @ ")
        out.append(Problem(where, message))
    return out


def _name(value: Any) -> str:
    return {
        type(None): "null",
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "a boolean",
        list: "an array",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --- Migrations --------------------------------------------------------------------------------

_Migration = Callable[[Any], Any]
_MIGRATIONS: dict[tuple[str, int], _Migration] = {}


def _migration(kind: str, from_version: int) -> Callable[[_Migration], _Migration]:
    """Register the step that upgrades ``data`` of ``kind`` from ``from_version`` to the next."""

    def register(step: _Migration) -> _Migration:
        _MIGRATIONS[kind, from_version] = step
        return step

    return register


@_migration("innovation", 1)
def _innovation_1_to_2(data: Any) -> Any:
    """Version 1 kept the innovators as one ``"; "``-joined string; version 2 keeps a list.

    A name with a semicolon in it could not be stored in version 1, and hosts
    in other languages had to know to split. Anything but a string is left for
    validation to report.
    """
    if type(data) is not dict or type(data.get("innovators")) is not str:
        return data
    names = [n.strip() for n in data["innovators"].split(";")]
    return {**data, "innovators": [n for n in names if n]}


@_migration("lab", 1)
def _lab_1_to_2(data: Any) -> Any:
    """Version 1 of a lab embedded version-1 innovations."""
    if type(data) is not dict or type(data.get("innovations")) is not list:
        return data
    return {**data, "innovations": [_innovation_1_to_2(i) for i in data["innovations"]]}


@_migration("innovation", 2)
def _innovation_2_to_3(data: Any) -> Any:
    """Version 3 adds the attributes a policy declares (jenis, bentuk, ...): none before."""
    if type(data) is not dict or "attributes" in data:
        return data
    return {**data, "attributes": {}}


@_migration("lab", 2)
def _lab_2_to_3(data: Any) -> Any:
    """Version 3 of a lab embeds version-3 innovations."""
    if type(data) is not dict or type(data.get("innovations")) is not list:
        return data
    return {**data, "innovations": [_innovation_2_to_3(i) for i in data["innovations"]]}


@_migration("lab", 3)
def _lab_3_to_4(data: Any) -> Any:
    """Version 4 carries the lab's registration index (``registrations``); before, none.

    The index is built from the innovations the document holds, in its order: it
    vouches for what is there, so an innovation deleted from an older document before
    it was loaded cannot be found (dumping the loaded lab writes the index from then
    on). What cannot be read is left out, for validation to report where it is.
    """
    if type(data) is not dict or "registrations" in data or type(data.get("id")) is not str:
        return data
    registered = []
    innovations = data.get("innovations")
    for item in innovations if type(innovations) is list else ():
        ident = item.get("id") if type(item) is dict else None
        history = item.get("history") if type(item) is dict else None
        first = history[0] if type(history) is list and history else None
        opening = first.get("hash") if type(first) is dict else None
        if type(ident) is str and type(opening) is str:
            registered.append((ident, opening))
    return {**data, "registrations": index_data(data["id"], registered)}


def migrate(document: Mapping[str, Any]) -> dict[str, Any]:
    """Upgrade a document of an older version, step by step, to its kind's current version.

    Returns a new document (the input is never changed); `DocumentError` if the
    envelope is malformed or the version is unknown or from the future.
    """
    kind, version = _envelope(document)
    data = document["data"]
    while version < VERSIONS[kind]:
        step = _MIGRATIONS.get((kind, version))
        if step is None:
            problem = Problem("$.version", f"no migration from version {version} of {kind}")
            raise _refuse([problem], kind)
        data = step(data)
        version += 1
    return {"kind": kind, "version": version, "data": data}


def _envelope(document: Any) -> tuple[str, int]:
    if type(document) is not dict:
        message = f"a document must be an object, not {_name(document)}"
        raise _refuse([Problem("$", message)], None)
    problems = []
    extra = [k for k in document if k not in ("kind", "version", "data")]
    if extra:
        problems.append(Problem("$", f"unknown fields {_few(extra)}"))
    kind: Any = document.get("kind")
    if type(kind) is not str:  # a list or an object would not even hash
        problems.append(Problem("$.kind", f"expected a string, not {_name(kind)}"))
        kind = None
    elif kind not in VERSIONS:
        problems.append(
            Problem("$.kind", f"{kind!r} is not a document kind (one of {', '.join(KINDS)})")
        )
    version = document.get("version")
    if type(version) is not int or version < 1:
        problems.append(Problem("$.version", "expected a positive integer"))
    elif kind in VERSIONS and version > VERSIONS[kind]:
        problems.append(
            Problem(
                "$.version",
                f"version {version} is newer than this labflow reads "
                f"(up to {VERSIONS[kind]}); upgrade labflow",
            )
        )
    if "data" not in document:
        problems.append(Problem("$.data", "is required"))
    if problems:
        raise _refuse(problems, kind if isinstance(kind, str) and kind in VERSIONS else None)
    return typing.cast(str, kind), typing.cast(int, version)


# --- JSON Schema -------------------------------------------------------------------------------


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the current version of a ``kind`` document.

    A schema checks shape and types; loading checks more (hashes, the fold,
    the policy's own rules), so a document that validates may still be refused.
    """
    if not isinstance(kind, str) or kind not in VERSIONS:
        raise _refuse(
            [Problem("$.kind", f"{kind!r} is not a document kind (one of {', '.join(KINDS)})")],
            None,
        )
    return document_schema(kind, VERSIONS[kind])
