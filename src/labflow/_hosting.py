"""What hosts call: `send` any command by name, `check` it without running it, list `allowed`.

Private. `Lab.send` runs a command's body, which the catalogue names
(`labflow._catalogue.CommandSpec.body`); `Lab.check` runs the same body on a throwaway
copy of the lab (a "shadow" that emits nothing), so that `check` is clean exactly when
`send` would be accepted; `Lab.allowed` judges every command an actor might run on a subject.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from labflow._authority import permission_unmet, unmet_of
from labflow._catalogue import COMMANDS, CommandSpec, by_name
from labflow._preconditions import preconditions_unmet
from labflow.errors import CommandError, ConflictError, GateRefused, InvalidCommand
from labflow.requirements import Verdict

if TYPE_CHECKING:
    from labflow.lab import Lab

__all__ = ["dry_run", "invoke", "shadow", "spec_of", "standing"]


def spec_of(command: object) -> CommandSpec:
    spec = by_name(command) if isinstance(command, str) else None
    if spec is None:
        raise InvalidCommand(
            f"{command!r} is not a command (one of {', '.join(COMMANDS)}).",
            f"{command!r} bukan perintah (salah satu dari {', '.join(COMMANDS)}).",
            code="command.unknown",
            data={"command": str(command)},
        )
    return spec


def invoke(
    lab: Lab, spec: CommandSpec, subject: str | None, by: str, arguments: Mapping[str, Any]
) -> Callable[[], Any]:
    """The call of ``spec``'s body on ``lab``, ready to run; `InvalidCommand` at once for
    arguments it does not take (a refusal of the call, not of the command: nothing is run)."""
    body = spec.body()
    args = (lab,) if subject is None else (lab, subject)
    try:
        bound = inspect.signature(body).bind(*args, by=by, **arguments)
    except TypeError as exc:
        raise InvalidCommand(
            f"{spec.name} cannot take these arguments: {exc}.",
            f"{spec.name} tidak menerima argumen ini: {exc}.",
            code="command.arguments",
            data={"command": spec.name},
        ) from None
    return functools.partial(body, *bound.args, **bound.kwargs)


def standing(lab: Lab, spec: CommandSpec, subject: str | None, by: str) -> Verdict:
    """The verdict of a command that needs arguments, on all that does not depend on them.

    The actor's permission and every precondition the catalogue declares for it.
    """
    items = list(permission_unmet(lab, spec, subject, by, {}))
    items.extend(preconditions_unmet(lab, spec, subject))
    target = lab.stage if subject is None else lab.innovation(subject).stage
    return Verdict(subject or lab.id, spec.name, target, tuple(items))


def dry_run(
    lab: Lab,
    command: str,
    subject: str | None,
    by: str,
    arguments: Mapping[str, Any],
    now: datetime | None = None,
) -> Verdict:
    spec = spec_of(command)
    found = permission_unmet(lab, spec, subject, by, arguments)
    now = lab.now() if now is None else now
    copy_ = shadow(lab, spec, subject, now)
    target = (
        lab.stage
        if subject is None or subject not in lab.innovations
        else (lab.innovations[subject].stage)
    )
    try:
        invoke(copy_, spec, subject, by, arguments)()
    except GateRefused as exc:
        target = exc.verdict.target
        found.extend(exc.verdict.unmet)
    except (CommandError, ConflictError) as exc:  # a stale ``expect=`` is a reason too
        item = unmet_of(exc)
        if all(f.code != item.code for f in found):
            found.append(item)
    return Verdict(subject or lab.id, command, target, tuple(found))


def shadow(lab: Lab, spec: CommandSpec, subject: str | None, now: datetime) -> Lab:
    """A copy the command can change without touching ``lab``, at the moment ``now``."""
    copy_ = lab._copy(lambda: now)
    copy_._dry = True
    return copy_
