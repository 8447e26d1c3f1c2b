"""Loading: plain data checked field by field, chains verified, records held to their fold.

Private to `labflow.serde`. Loading is where hostile or stale input arrives: every
problem is listed with its path in one `DocumentError`, never a raw exception; a
history must verify and replay through the validating fold, a stated record must
equal the fold of its history, and a lab's registration index must list exactly the
innovations the lab document holds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any, Final

import attrs
from cattrs.errors import BaseValidationError
from cattrs.gen import make_dict_unstructure_fn, override

from labflow._limits import MAX_DEPTH, MAX_PROBLEMS
from labflow._registrations import Registrations, check_chain, check_listed
from labflow._schema import LAB_FIELDS
from labflow._text import ident_problem
from labflow.errors import HistoryError, LabflowError, Problem
from labflow.events import GENESIS, Event, canonical_bytes, expected_hash, verify
from labflow.lab import Clock, Lab, replay_innovation, replay_lab, system_clock
from labflow.model import Actor, Innovation, Unit
from labflow.policy import Policy
from labflow.requirements import Registry
from labflow.serde._convert import _converter, _fast_structure, _Located, _policy
from labflow.serde._envelope import _few, _Invalid, _name, _problems, _refuse, _short, migrate

__all__ = ["structure", "structure_parsed"]

#: An innovation as plain data without its history (what `_as_folded` compares).
_unstructure_rest: Final = make_dict_unstructure_fn(
    Innovation, _converter, history=override(omit=True)
)


def _structure(data: Any, type_: Any, path: str, problems: list[Problem]) -> Any:
    try:
        return _fast_structure(data, type_)
    except Exception:  # any refusal: the detailed pass below says what and where
        pass
    try:
        return _converter.structure(data, type_)
    except (BaseValidationError, _Invalid) as exc:
        if isinstance(exc, _Invalid):
            problems.append(Problem(path, str(exc)))
        else:
            problems.extend(_problems(exc, path))
        return None


def _chain(history: list[Event], path: str, problems: list[Problem]) -> bool:
    result = verify(history)
    if result.ok:
        return True
    where = f"{path}[{(result.seq or 1) - 1}]"
    problems.append(Problem(where, f"the history is tampered: {result.reason}"))
    return False


def _differences(stated: Any, folded: Any, path: str) -> list[Problem]:
    """Where a stated record disagrees with the fold of its history (the fields, not the events)."""
    out = []
    for field in attrs.fields(type(folded)):
        if field.name == "history":
            continue
        mine, theirs = getattr(stated, field.name), getattr(folded, field.name)
        if mine != theirs:
            out.append(
                Problem(
                    f"{path}.{field.name}",
                    "disagrees with the history "
                    f"(the document says {_short(mine)}, its history gives {_short(theirs)})",
                )
            )
    return out


def _why(exc: Exception) -> str:
    """A foreign error from a replay, as a phrase (a `KeyError` alone says only ``'policy'``)."""
    if isinstance(exc, KeyError):
        return f"an event's payload has no {exc}"
    return str(exc) or type(exc).__name__


_HISTORY: Final = tuple[Event, ...]
#: Writes plain data as JSON text, strictly typed (``1``, ``1.0`` and ``true`` differ).
Dumps = Callable[[Any], bytes]


def _chained(history: Sequence[Event]) -> bool:
    """`labflow.verify`'s answer for events `_fast_structure` just built (so each is an
    `Event` with fields of the right types), without its per-event calls: one subject,
    ``seq`` 1, 2, ..., each linked to the one before, each hash its canonical bytes'."""
    subject, prev, sha256 = history[0].subject, GENESIS, hashlib.sha256
    for position, e in enumerate(history, start=1):
        if e.subject != subject or e.seq != position or e.prev != prev:
            return False
        text = canonical_bytes(e.subject, e.seq, e.at, e.actor, e.kind, e.payload, e.prev)
        if sha256(text).hexdigest() != e.hash:
            return False
        prev = e.hash
    return True


def _as_folded(data: Any, dumps: Dumps) -> Innovation | None:
    """The innovation ``data`` states when it is exactly the fold of its history, else ``None``.

    The fast path of a well-formed document parsed from JSON: only the history is
    structured (with every check), verified and folded; the rest of the stated record
    must then be, as JSON, exactly what the folded record unstructures to -- which is
    what structuring it would have checked, since a record round-trips -- and its unit an
    identifier. Anything else (``None``) goes through `_innovation`'s detailed path,
    which finds and words every problem; nothing is accepted here that it would refuse.
    """
    if type(data) is not dict or "history" not in data:
        return None
    try:
        history = _fast_structure(data["history"], _HISTORY)
        if not history or not _chained(history):
            return None
        folded = replay_innovation(history)
        if ident_problem(folded.unit) is not None:
            return None
        rest = _unstructure_rest(folded)
        stated = {k: v for k, v in data.items() if k != "history"}
        same = dumps(stated) == dumps(rest)
    except Exception:  # any refusal: the detailed path says what and where
        return None
    return folded if same else None


def _innovation(
    data: Any, path: str, problems: list[Problem], dumps: Dumps | None = None
) -> Innovation | None:
    if dumps is not None:  # parsed from JSON: plain JSON types only, the fast path applies
        folded = _as_folded(data, dumps)
        if folded is not None:
            return folded
    stated = _structure(data, Innovation, path, problems)
    if stated is None:
        return None
    if not _chain(stated.history, f"{path}.history", problems):
        return None
    if not stated.history:
        problems.append(Problem(f"{path}.history", "an innovation's history cannot be empty"))
        return None
    try:
        folded = replay_innovation(stated.history)
    except HistoryError:
        raise  # chained, but not a history an innovation's commands could have produced
    except (LabflowError, KeyError, TypeError, ValueError, AttributeError) as exc:
        problems.append(Problem(f"{path}.history", f"the history does not replay: {_why(exc)}"))
        return None
    if stated != folded:
        problems.extend(_differences(stated, folded, path))
        return None
    return folded


def _load_event(data: Any, problems: list[Problem]) -> Event | None:
    event: Event | None = _structure(data, Event, "$.data", problems)
    if event is None:
        return None
    try:
        expected = expected_hash(event)
    except (TypeError, ValueError) as exc:
        problems.append(Problem("$.data.payload", f"cannot be encoded canonically ({exc})"))
        return None
    if expected != event.hash:
        problems.append(Problem("$.data.hash", "the event is tampered: its content does not match"))
        return None
    return event


def _registered(
    lab_id: str,
    index: Registrations,
    innovations: list[Innovation],
    path: str,
    problems: list[Problem],
) -> dict[str, int] | None:
    """Each innovation's place in the lab's registration index, if the index is sound and
    lists exactly the innovations the document holds, each with its first event.

    Checked both ways, with the chain the stores keep (`labflow._registrations`): an
    innovation listed but missing, held but unlisted, listed twice, an entry edited, a head
    moved, a first event other than the one registered -- each a problem naming the
    innovation, and the document is refused.
    """
    where = f"{path}.registrations"
    entries = [e.entry() for e in index.entries]
    broken, listed = check_chain(lab_id, entries, (index.length, index.head))
    for problem in broken:
        if problem.entry:
            subject = entries[problem.entry - 1][1]
            message = (
                f"the registration index lists {subject!r} twice"
                if problem.repeated
                else f"the registration index breaks at the entry of {subject!r}: "
                "its place, link or hash is not the chain's"
            )
            problems.append(Problem(f"{where}.entries[{problem.entry - 1}]", message))
        else:
            message = (
                f"the registration index does not end at its recorded head: its entries end "
                f"at entry {len(entries)}, the document records length {index.length} and "
                f"head {_short(index.head)}"
            )
            problems.append(Problem(where, message))
    if broken:
        return None
    place = {inn.id: i for i, inn in enumerate(innovations)}
    openings: dict[str, str | None] = {inn.id: inn.history[0].hash for inn in innovations}
    for problem in check_listed({s: o for s, (_, o) in listed.items()}, openings):
        subject = problem.subject
        if subject not in openings:
            at = f"{where}.entries[{listed[subject][0] - 1}]"
            message = f"{subject!r} is in the lab's registration index, but the document lacks it"
        elif subject not in listed:
            at = f"{path}.innovations[{place[subject]}]"
            message = f"{subject!r} is not in the lab's registration index"
        else:
            at = f"{path}.innovations[{place[subject]}].history[0]"
            message = (
                f"{subject!r}: its first event is not the one the lab's registration index recorded"
            )
        problems.append(Problem(at, message))
    return None if problems else {s: seq for s, (seq, _) in listed.items()}


def _load_lab(
    data: Any,
    problems: list[Problem],
    registry: Registry | None,
    clock: Clock,
    dumps: Dumps | None = None,
) -> Lab | None:
    path = "$.data"
    if type(data) is not dict:
        problems.append(Problem(path, f"expected an object, not {_name(data)}"))
        return None
    extra = [k for k in data if k not in LAB_FIELDS]
    if extra:
        problems.append(Problem(path, f"unknown fields {_few(extra)}"))
    missing = [f for f in LAB_FIELDS if f not in data]
    problems.extend(Problem(f"{path}.{f}", "is required") for f in missing)
    if missing:
        return None
    before = len(problems)
    ident = _structure(data["id"], str, f"{path}.id", problems)
    region = _structure(data["region"], str, f"{path}.region", problems)
    stage = _structure(data["stage"], str, f"{path}.stage", problems)
    units = _structure(data["units"], list[Unit], f"{path}.units", problems)
    actors = _structure(data["actors"], list[Actor], f"{path}.actors", problems)
    history = _structure(data["history"], list[Event], f"{path}.history", problems)
    index = _structure(data["registrations"], Registrations, f"{path}.registrations", problems)
    try:
        policy: Policy | None = _policy(data["policy"], f"{path}.policy", registry)
    except _Located as exc:
        problems.extend(exc.problems)
        policy = None
    innovations: list[Innovation] = []
    raw = data["innovations"]
    if type(raw) is not list:
        problems.append(Problem(f"{path}.innovations", f"expected an array, not {_name(raw)}"))
    else:
        for i, item in enumerate(raw):
            if len(problems) >= MAX_PROBLEMS:  # enough to act on; the rest would only cost
                unchecked = f"... and {len(raw) - i} more innovations were not checked"
                problems.append(Problem(f"{path}.innovations[{i}]", unchecked))
                break
            inn = _innovation(item, f"{path}.innovations[{i}]", problems, dumps)
            if inn is not None:
                innovations.append(inn)
    if len(problems) > before or policy is None:
        return None
    order = _registered(ident, index, innovations, path, problems)
    if order is None:
        return None
    innovations.sort(key=lambda inn: order[inn.id])  # the lab holds them in the order registered
    if not _chain(history, f"{path}.history", problems):
        return None
    if not history:
        problems.append(Problem(f"{path}.history", "a lab's history cannot be empty"))
        return None
    try:
        lab = replay_lab(history, [i.history for i in innovations], registry=registry, clock=clock)
    except HistoryError:
        raise  # well-formed, chained, but not what commands could have produced
    except (LabflowError, KeyError, TypeError, ValueError, AttributeError) as exc:
        problems.append(Problem(f"{path}.history", f"the history does not replay: {_why(exc)}"))
        return None
    stated = {
        "id": ident,
        "region": region,
        "policy": policy,
        "stage": stage,
        "units": {u.id: u for u in units},
        "actors": {a.id: a for a in actors},
    }
    for name, value in stated.items():
        if getattr(lab, name) != value:
            problems.append(Problem(f"{path}.{name}", "disagrees with the lab's history"))
    if len(problems) > before:
        # A forged history can fold into anything its payloads say (a stage that is a
        # list, a unit id that is an object): only once the fold equals the stated,
        # typed fields may the checks below rely on those types.
        return None
    for name, items in (("units", units), ("actors", actors), ("innovations", innovations)):
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.id in seen:
                problems.append(Problem(f"{path}.{name}[{i}].id", f"{item.id!r} appears twice"))
            seen.add(item.id)
    for i, inn in enumerate(innovations):
        where = f"{path}.innovations[{i}]"
        if not lab.policy.has_stage(inn.stage):
            problems.append(
                Problem(f"{where}.stage", f"{inn.stage!r} is not a stage of {lab.policy.id!r}")
            )
        if inn.unit not in lab.units:
            problems.append(Problem(f"{where}.unit", f"{inn.unit!r} is not a unit of the lab"))
        opened = inn.history[0].payload.get("lab")
        if opened != lab.id:
            problems.append(
                Problem(f"{where}.history[0]", f"it opened in lab {opened!r}, not {lab.id!r}")
            )
    if not lab.policy.has_stage(lab.stage):
        problems.append(Problem(f"{path}.stage", f"{lab.stage!r} is not a stage of the policy"))
    return None if problems else lab


def structure(
    document: Any, *, registry: Registry | None = None, clock: Clock = system_clock
) -> object:
    """Load a document from plain data; its kind is read from the document itself.

    An older version is migrated first. ``registry`` resolves the custom
    requirements a policy names; ``clock`` is given to a loaded lab. Raises
    `DocumentError` listing every problem; the input is never changed.
    """
    return structure_parsed(document, registry, clock, None)


def structure_parsed(
    document: Any, registry: Registry | None, clock: Clock, dumps: Dumps | None
) -> object:
    """`structure`; given ``dumps``, ``document`` is fresh from a JSON parser (JSON types only).

    Such a document may take the fast path of a well-formed innovation (`_as_folded`).
    """
    try:
        return _structure_document(document, registry, clock, dumps)
    except RecursionError:
        problem = Problem("$", f"is nested too deeply (more than {MAX_DEPTH} levels)")
        raise _refuse([problem], None) from None


def _structure_document(
    document: Any, registry: Registry | None, clock: Clock, dumps: Dumps | None
) -> object:
    document = migrate(document)
    kind, data = document["kind"], document["data"]
    problems: list[Problem] = []
    result: object = None
    if kind == "innovation":
        result = _innovation(data, "$.data", problems, dumps)
    elif kind == "event":
        result = _load_event(data, problems)
    elif kind == "history":
        history = _structure(data, list[Event], "$.data", problems)
        if history is not None and _chain(history, "$.data", problems):
            result = history
    elif kind == "policy":
        try:
            result = _policy(data, "$.data", registry)
        except _Located as exc:
            problems.extend(exc.problems)
    else:
        result = _load_lab(data, problems, registry, clock, dumps)
    if problems or result is None:
        raise _refuse(problems or [Problem("$.data", "is invalid")], kind)
    return result
