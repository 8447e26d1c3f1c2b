"""The command catalogue: every command labflow knows, declared once.

Private. Each `CommandSpec` says what a command is called, the event it appends,
whether it acts on the lab or on one innovation, the roles that may run it unless
a policy says otherwise, and the `Lab` method that runs it. Everything that used
to restate the list is derived from here: `labflow.COMMANDS` and
`labflow.policy.DEFAULT_PERMISSIONS`, the audit event names, the validating fold's
map from an event to the command whose permission it needed, `Lab.send` /
`Lab.check` / `Lab.allowed`, and the docs' command table (tests prove each equals
the catalogue).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

import attrs

from labflow.model import Role

__all__ = [
    "CATALOGUE",
    "COMMANDS",
    "DEFAULT_PERMISSIONS",
    "EVENT_KINDS",
    "KIND_COMMAND",
    "CommandSpec",
    "by_name",
]


@attrs.frozen
class CommandSpec:
    """One command: its name, its event, its level, its default roles and its method."""

    name: str
    kind: str  #: the event kind it appends (``innovation.advanced``)
    level: Literal["lab", "innovation"]
    roles: frozenset[str]  #: who may run it unless a policy says otherwise
    method: str  #: the `labflow.Lab` method that runs it
    #: whether it needs arguments besides its subject and actor (``reason=``, ``title=``...)
    arguments: bool = True
    #: whether it opens a new innovation (its subject is a new id)
    opens: bool = False


def _r(*roles: Role) -> frozenset[str]:
    return frozenset(r.value for r in roles)


_R = Role
_I: Final = "innovation"
_L: Final = "lab"

#: Every command, in the order hosts meet them.
CATALOGUE: Final = (
    CommandSpec(
        "register",
        "innovation.registered",
        _I,
        _r(_R.INNOVATOR, _R.UNIT_HEAD, _R.SECRETARIAT),
        "register",
        opens=True,
    ),
    CommandSpec(
        "record_diagnosis",
        "innovation.diagnosis_recorded",
        _I,
        _r(_R.INNOVATOR, _R.UNIT_HEAD, _R.SECRETARIAT, _R.FACILITATOR),
        "record_diagnosis",
    ),
    CommandSpec(
        "submit_plan",
        "innovation.plan_submitted",
        _I,
        _r(_R.INNOVATOR, _R.UNIT_HEAD),
        "submit_plan",
    ),
    CommandSpec(
        "approve_plan",
        "innovation.plan_approved",
        _I,
        _r(_R.UNIT_HEAD),
        "approve_plan",
        arguments=False,
    ),
    CommandSpec(
        "draw_up_agreement",
        "innovation.agreement_drawn_up",
        _I,
        _r(_R.SECRETARIAT),
        "draw_up_agreement",
    ),
    CommandSpec(
        "sign_agreement",
        "innovation.agreement_signed",
        _I,
        _r(_R.REGIONAL_HEAD, _R.UNIT_HEAD),
        "sign_agreement",
        arguments=False,
    ),
    CommandSpec(
        "grant_permission",
        "innovation.permission_granted",
        _I,
        _r(_R.UNIT_HEAD),
        "grant_permission",
    ),
    CommandSpec(
        "record_launch",
        "innovation.launched",
        _I,
        _r(_R.SECRETARIAT, _R.REGIONAL_HEAD),
        "record_launch",
    ),
    CommandSpec(
        "attach_evidence",
        "innovation.evidence_attached",
        _I,
        _r(_R.INNOVATOR, _R.UNIT_HEAD, _R.SECRETARIAT),
        "attach_evidence",
    ),
    CommandSpec(
        "register_exhibit",
        "innovation.exhibit_registered",
        _I,
        _r(_R.INNOVATOR, _R.UNIT_HEAD, _R.SECRETARIAT),
        "register_exhibit",
    ),
    CommandSpec(
        "advance",
        "innovation.advanced",
        _I,
        _r(_R.SECRETARIAT, _R.FACILITATOR),
        "advance",
        arguments=False,
    ),
    CommandSpec(
        "return", "innovation.returned", _I, _r(_R.SECRETARIAT, _R.FACILITATOR), "return_to"
    ),
    CommandSpec(
        "withdraw", "innovation.withdrawn", _I, _r(_R.SECRETARIAT, _R.UNIT_HEAD), "withdraw"
    ),
    CommandSpec("reinstate", "innovation.reinstated", _I, _r(_R.SECRETARIAT), "reinstate"),
    CommandSpec(
        "replicate",
        "innovation.replicated",
        _I,
        _r(_R.INNOVATOR, _R.UNIT_HEAD, _R.SECRETARIAT),
        "replicate",
        opens=True,
    ),
    CommandSpec("add_unit", "lab.unit_added", _L, _r(_R.SECRETARIAT), "add_unit"),
    CommandSpec("add_actor", "lab.actor_added", _L, _r(_R.SECRETARIAT), "add_actor"),
    CommandSpec("set_roles", "lab.roles_set", _L, _r(_R.SECRETARIAT), "set_roles"),
    CommandSpec(
        "advance_lab", "lab.advanced", _L, _r(_R.SECRETARIAT), "advance_lab", arguments=False
    ),
    CommandSpec(
        "launch_cohort",
        "lab.ceremony_held",
        _L,
        _r(_R.REGIONAL_HEAD, _R.SECRETARIAT),
        "launch_cohort",
    ),
)

_BY_NAME: Final[Mapping[str, CommandSpec]] = {c.name: c for c in CATALOGUE}
#: Every command a policy can grant to roles.
COMMANDS: Final = tuple(c.name for c in CATALOGUE)
#: Who may do what unless a policy says otherwise.
DEFAULT_PERMISSIONS: Final[Mapping[str, frozenset[str]]] = {c.name: c.roles for c in CATALOGUE}
#: Every event kind labflow appends: the commands' and the lab's founding event.
EVENT_KINDS: Final = tuple(sorted({"lab.created", *(c.kind for c in CATALOGUE)}))
#: The command whose permission each event kind needed (a ceremony's launches: see the fold).
KIND_COMMAND: Final[Mapping[str, str]] = {c.kind: c.name for c in CATALOGUE}


def by_name(name: str) -> CommandSpec | None:
    """The command called ``name``, or ``None``."""
    return _BY_NAME.get(name)
