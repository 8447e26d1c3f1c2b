"""The command catalogue: every command labflow knows, declared once.

Private. Each `CommandSpec` says what a command is called, the event it appends,
whether it acts on the lab or on one innovation, the roles that may run it unless
a policy says otherwise, its preconditions (what its subject must be, whatever the
arguments: active, at the launch stage, with a submitted plan...), the `Lab`
method that runs it, and the module of its concept that holds its body and its
replay check (`CommandSpec.body`, `CommandSpec.replay_check`): adding a command
is one declaration here, its body and check in its module, and its fold in
`labflow._fold`. Everything that used
to restate the list is derived from here: `labflow.COMMANDS` and
`labflow.policy.DEFAULT_PERMISSIONS`, the audit event names, the validating fold's
map from an event to the command whose permission it needed, `Lab.send` /
`Lab.check` / `Lab.allowed`, and the docs' command table (tests prove each equals
the catalogue).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any, Final, Literal, Protocol

import attrs

from labflow.model import Innovation, Role

__all__ = [
    "CATALOGUE",
    "COMMANDS",
    "DEFAULT_PERMISSIONS",
    "EVENT_KINDS",
    "KIND_COMMAND",
    "CommandSpec",
    "Facts",
    "Precondition",
    "by_name",
]


class Facts(Protocol):
    """What a precondition may read of a command's subject: nothing its arguments change."""

    #: the subject innovation; ``None`` for a command on the lab
    innovation: Innovation | None
    #: the subject's stage (the lab's, for a command on the lab)
    stage: str

    def covers(self, step: str) -> bool:
        """Whether the subject's stage covers the 5D step ``step`` (``deliver``...)."""
        ...

    def earlier(self) -> bool:
        """Whether the policy has an earlier stage the innovation may return to."""
        ...

    def last(self) -> bool:
        """Whether the subject is at the policy's last stage."""
        ...

    def binding(self) -> bool:
        """Whether the innovation has passed the gate that makes its signed agreement binding."""
        ...

    def ceremony(self) -> bool:
        """Whether the lab, at its stage, may hold its launch ceremony."""
        ...

    def plan_approved(self) -> bool:
        """Whether the innovation's action plan has every approval step the policy asks for."""
        ...

    def exhibiting(self) -> bool:
        """Whether the subject is where the policy exhibits: an innovation at the exhibit
        stage, the lab at it or past it."""
        ...


@attrs.frozen
class Precondition:
    """A fact a command's subject must meet, and what a host is told when it does not.

    The messages may name ``{subject}`` (the innovation's or the lab's id) and
    ``{stage}`` (its stage). The code is the refusal's code, the same whether the
    command refuses (`InvalidCommand`), `Lab.check` reports it or `Lab.allowed` lists it.
    """

    code: str
    message_en: str
    message_id: str
    holds: Callable[[Facts], bool]


def _inn(facts: Facts) -> Innovation:
    assert facts.innovation is not None  # an innovation command's facts hold its subject
    return facts.innovation


def _plan_approved(facts: Facts) -> bool:
    return facts.plan_approved()


def _agreement_complete(facts: Facts) -> bool:
    agreement = _inn(facts).agreement
    return agreement is not None and agreement.complete


def _amended(facts: Facts) -> bool:
    agreement = _inn(facts).agreement
    return agreement is not None and agreement.version > 1


ACTIVE: Final = Precondition(
    "innovation.withdrawn",
    "{subject} is withdrawn; reinstate it first.",
    "{subject} sudah ditarik; aktifkan kembali terlebih dahulu.",
    lambda f: _inn(f).active,
)
WITHDRAWN: Final = Precondition(
    "innovation.not_withdrawn",
    "{subject} is not withdrawn.",
    "{subject} tidak sedang ditarik.",
    lambda f: not _inn(f).active,
)
PLAN_OPEN: Final = Precondition(
    "action_plan.frozen",
    "{subject} is launched; its action plan can no longer change.",
    "{subject} sudah diluncurkan; rencana aksinya tidak dapat diubah lagi.",
    lambda f: _inn(f).launch is None,
)
PLAN_SUBMITTED: Final = Precondition(
    "action_plan.missing",
    "{subject} has no action plan to approve.",
    "{subject} belum memiliki rencana aksi untuk disetujui.",
    lambda f: _inn(f).action_plan is not None,
)
PLAN_UNAPPROVED: Final = Precondition(
    "action_plan.already_approved",
    "The action plan of {subject} is already approved.",
    "Rencana aksi {subject} sudah disetujui.",
    lambda f: not _plan_approved(f),
)
AGREEMENT_OPEN: Final = Precondition(
    "agreement.binding",
    "{subject} has passed the agreement gate; its signed agreement is binding.",
    "{subject} sudah melewati gerbang perjanjian; perjanjian yang ditandatangani mengikat.",
    # An amendment under way is binding too: it is signed, not drawn up afresh.
    lambda f: not ((_agreement_complete(f) or _amended(f)) and f.binding()),
)
AGREEMENT_DRAWN: Final = Precondition(
    "agreement.missing",
    "{subject} has no performance agreement to sign.",
    "{subject} belum memiliki perjanjian kinerja untuk ditandatangani.",
    lambda f: _inn(f).agreement is not None,
)
AGREEMENT_SIGNED: Final = Precondition(
    "agreement.not_signed",
    "{subject} has no performance agreement signed by both parties.",
    "{subject} belum memiliki perjanjian kinerja yang ditandatangani kedua pihak.",
    _agreement_complete,
)
AMENDMENT_CALLED: Final = Precondition(
    "agreement.no_amendment_called",
    "No review of the agreement of {subject} calls for an amendment.",
    "Belum ada reviu perjanjian {subject} yang meminta perubahan.",
    lambda f: (a := _inn(f).agreement) is not None and a.amendment_called,
)
NOT_LAUNCHED: Final = Precondition(
    "launch.already",
    "{subject} was already launched.",
    "{subject} sudah diluncurkan.",
    lambda f: _inn(f).launch is None,
)
LAUNCH_STAGE: Final = Precondition(
    "launch.wrong_stage",
    "Innovations are launched at the deliver stage, not at {stage}.",
    "Inovasi diluncurkan pada tahap deliveri, bukan {stage}.",
    lambda f: f.covers("deliver"),
)
EARLIER_STAGE: Final = Precondition(
    "return.not_earlier",
    "{subject} is at {stage}; it can only return to an earlier stage.",
    "{subject} berada di {stage}; hanya dapat dikembalikan ke tahap sebelumnya.",
    lambda f: f.earlier(),
)
NOT_LAST: Final = Precondition(
    "stage.final",
    "{subject} is at the last stage.",
    "{subject} sudah berada di tahap terakhir.",
    lambda f: not f.last(),
)
CEREMONY_STAGE: Final = Precondition(
    "launch.wrong_stage",
    "A launch ceremony is held when the lab is at the deliver stage, not at {stage}.",
    "Upacara peluncuran diadakan saat laboratorium di tahap deliveri, bukan di {stage}.",
    lambda f: f.ceremony(),
)

EXHIBIT_STAGE: Final = Precondition(
    "exhibit.wrong_stage",
    "Exhibits are registered at the policy's exhibition stage; {subject} is at {stage}.",
    "Stan pameran didaftarkan pada tahap pameran kebijakan; {subject} berada di {stage}.",
    lambda f: f.exhibiting(),
)
EXHIBITION_STAGE: Final = Precondition(
    "exhibition.wrong_stage",
    "The lab holds exhibitions from the policy's exhibition stage on, not at {stage}.",
    "Laboratorium mengadakan pameran mulai tahap pameran kebijakan, bukan di {stage}.",
    lambda f: f.exhibiting(),
)
LAUNCHED: Final = Precondition(
    "monev.not_launched",
    "{subject} has not been launched; monev follows the launch.",
    "{subject} belum diluncurkan; monev dilakukan setelah peluncuran.",
    lambda f: _inn(f).launch is not None,
)


@attrs.frozen
class CommandSpec:
    """One command: its name, its event, its level, its default roles, its preconditions."""

    name: str
    kind: str  #: the event kind it appends (``innovation.advanced``)
    level: Literal["lab", "innovation"]
    roles: frozenset[str]  #: who may run it unless a policy says otherwise
    method: str  #: the `labflow.Lab` method that runs it
    #: whether it needs arguments besides its subject and actor (``reason=``, ``title=``...)
    arguments: bool = True
    #: whether it opens a new innovation (its subject is a new id)
    opens: bool = False
    #: what its subject must meet, whatever the arguments, in the order they are checked
    preconditions: tuple[Precondition, ...] = ()
    #: the private module (``"_agreement"``) holding its body -- the function named like
    #: `method` -- and its replay check
    module: str = ""
    #: the function of `module` that replay runs on its event beyond what every event gets
    #: (the actor's permission, an active innovation where a precondition asks for one);
    #: ``None`` says it needs nothing more, ``""`` that none was declared (a test fails)
    replay: str | None = ""

    def body(self) -> Callable[..., Any]:
        """The function that runs the command: ``body(lab, subject?, *, by, **arguments)``."""
        found: Callable[..., Any] = getattr(_home(self.module), self.method)
        return found

    def replay_check(self) -> Callable[..., Any] | None:
        """The replay check named by `replay` (``None`` if it needs none)."""
        if self.replay is None:
            return None
        found: Callable[..., Any] = getattr(_home(self.module), self.replay)
        return found


def _home(module: str) -> ModuleType:
    """A command's module, by name: the catalogue sits below the modules it names (the
    policy reads it), so it names them rather than importing them."""
    return importlib.import_module(f"labflow.{module}")


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
        module="_commands",
        replay=None,
    ),
    CommandSpec(
        "record_diagnosis",
        "innovation.diagnosis_recorded",
        _I,
        _r(_R.INNOVATOR, _R.UNIT_HEAD, _R.SECRETARIAT, _R.FACILITATOR),
        "record_diagnosis",
        preconditions=(ACTIVE,),
        module="_commands",
        replay=None,
    ),
    CommandSpec(
        "submit_plan",
        "innovation.plan_submitted",
        _I,
        _r(_R.INNOVATOR, _R.UNIT_HEAD),
        "submit_plan",
        preconditions=(ACTIVE, PLAN_OPEN),
        module="_plan",
        replay="replay_submit_plan",
    ),
    CommandSpec(
        "approve_plan",
        "innovation.plan_approved",
        _I,
        _r(_R.UNIT_HEAD),
        "approve_plan",
        arguments=False,
        preconditions=(ACTIVE, PLAN_SUBMITTED, PLAN_UNAPPROVED),
        module="_plan",
        replay="replay_approve_plan",
    ),
    CommandSpec(
        "draw_up_agreement",
        "innovation.agreement_drawn_up",
        _I,
        _r(_R.SECRETARIAT),
        "draw_up_agreement",
        preconditions=(ACTIVE, AGREEMENT_OPEN),
        module="_agreement",
        replay="replay_draw_up",
    ),
    CommandSpec(
        "sign_agreement",
        "innovation.agreement_signed",
        _I,
        _r(_R.REGIONAL_HEAD, _R.UNIT_HEAD),
        "sign_agreement",
        arguments=False,
        preconditions=(ACTIVE, AGREEMENT_DRAWN),
        module="_agreement",
        replay="replay_sign",
    ),
    CommandSpec(
        "grant_permission",
        "innovation.permission_granted",
        _I,
        _r(_R.UNIT_HEAD),
        "grant_permission",
        preconditions=(ACTIVE,),
        module="_commands",
        replay=None,
    ),
    CommandSpec(
        "record_launch",
        "innovation.launched",
        _I,
        _r(_R.SECRETARIAT, _R.REGIONAL_HEAD),
        "record_launch",
        preconditions=(ACTIVE, NOT_LAUNCHED, LAUNCH_STAGE),
        module="_launch",
        replay="replay_launch",
    ),
    CommandSpec(
        "attach_evidence",
        "innovation.evidence_attached",
        _I,
        _r(_R.INNOVATOR, _R.UNIT_HEAD, _R.SECRETARIAT),
        "attach_evidence",
        preconditions=(ACTIVE,),
        module="_commands",
        replay=None,
    ),
    CommandSpec(
        "register_exhibit",
        "innovation.exhibit_registered",
        _I,
        _r(_R.INNOVATOR, _R.UNIT_HEAD, _R.SECRETARIAT),
        "register_exhibit",
        preconditions=(ACTIVE, EXHIBIT_STAGE),
        module="_exhibitions",
        replay="replay_exhibit",
    ),
    CommandSpec(
        "advance",
        "innovation.advanced",
        _I,
        _r(_R.SECRETARIAT, _R.FACILITATOR),
        "advance",
        arguments=False,
        preconditions=(ACTIVE, NOT_LAST),
        module="_moves",
        replay="replay_advance",
    ),
    CommandSpec(
        "return",
        "innovation.returned",
        _I,
        _r(_R.SECRETARIAT, _R.FACILITATOR),
        "return_to",
        preconditions=(ACTIVE, EARLIER_STAGE),
        module="_moves",
        replay="replay_return",
    ),
    CommandSpec(
        "withdraw",
        "innovation.withdrawn",
        _I,
        _r(_R.SECRETARIAT, _R.UNIT_HEAD),
        "withdraw",
        preconditions=(ACTIVE,),
        module="_moves",
        replay=None,
    ),
    CommandSpec(
        "reinstate",
        "innovation.reinstated",
        _I,
        _r(_R.SECRETARIAT),
        "reinstate",
        preconditions=(WITHDRAWN,),
        module="_moves",
        replay="replay_reinstate",
    ),
    CommandSpec(
        "review_agreement",
        "innovation.agreement_reviewed",
        _I,
        _r(_R.FACILITATOR, _R.SECRETARIAT),
        "review_agreement",
        preconditions=(ACTIVE, AGREEMENT_SIGNED),
        module="_agreement",
        replay="replay_review",
    ),
    CommandSpec(
        "amend_agreement",
        "innovation.agreement_amended",
        _I,
        _r(_R.SECRETARIAT),
        "amend_agreement",
        preconditions=(ACTIVE, AGREEMENT_SIGNED, AMENDMENT_CALLED),
        module="_agreement",
        replay="replay_amend",
    ),
    CommandSpec(
        "set_attributes",
        "innovation.attributes_set",
        _I,
        _r(_R.INNOVATOR, _R.UNIT_HEAD, _R.SECRETARIAT),
        "set_attributes",
        preconditions=(ACTIVE,),
        module="_commands",
        replay="replay_set_attributes",
    ),
    CommandSpec(
        "replicate",
        "innovation.replicated",
        _I,
        _r(_R.INNOVATOR, _R.UNIT_HEAD, _R.SECRETARIAT),
        "replicate",
        opens=True,
        module="_commands",
        replay=None,
    ),
    CommandSpec(
        "add_unit",
        "lab.unit_added",
        _L,
        _r(_R.SECRETARIAT),
        "add_unit",
        module="_roster",
        replay="replay_add_unit",
    ),
    CommandSpec(
        "add_actor",
        "lab.actor_added",
        _L,
        _r(_R.SECRETARIAT),
        "add_actor",
        module="_roster",
        replay="replay_add_actor",
    ),
    CommandSpec(
        "set_roles",
        "lab.roles_set",
        _L,
        _r(_R.SECRETARIAT),
        "set_roles",
        module="_roster",
        replay="replay_set_roles",
    ),
    CommandSpec(
        "advance_lab",
        "lab.advanced",
        _L,
        _r(_R.SECRETARIAT),
        "advance_lab",
        arguments=False,
        preconditions=(NOT_LAST,),
        module="_moves",
        replay="replay_advance_lab",
    ),
    CommandSpec(
        "launch_cohort",
        "lab.ceremony_held",
        _L,
        _r(_R.REGIONAL_HEAD, _R.SECRETARIAT),
        "launch_cohort",
        preconditions=(CEREMONY_STAGE,),
        module="_launch",
        replay="replay_ceremony",
    ),
    CommandSpec(
        "open_exhibition",
        "lab.exhibition_opened",
        _L,
        _r(_R.SECRETARIAT),
        "open_exhibition",
        preconditions=(EXHIBITION_STAGE,),
        module="_exhibitions",
        replay="replay_exhibition",
    ),
    CommandSpec(
        "register_exhibitor",
        "lab.exhibitor_registered",
        _L,
        _r(_R.SECRETARIAT),
        "register_exhibitor",
        preconditions=(EXHIBITION_STAGE,),
        module="_exhibitions",
        replay="replay_exhibition",
    ),
    CommandSpec(
        "add_booth",
        "lab.booth_added",
        _L,
        _r(_R.SECRETARIAT),
        "add_booth",
        preconditions=(EXHIBITION_STAGE,),
        module="_exhibitions",
        replay="replay_exhibition",
    ),
    CommandSpec(
        "close_exhibition",
        "lab.exhibition_closed",
        _L,
        _r(_R.SECRETARIAT),
        "close_exhibition",
        preconditions=(EXHIBITION_STAGE,),
        module="_exhibitions",
        replay="replay_exhibition",
    ),
    CommandSpec(
        "record_monev",
        "innovation.monitored",
        _I,
        _r(_R.FACILITATOR, _R.SECRETARIAT, _R.UNIT_HEAD),
        "record_monev",
        preconditions=(ACTIVE, LAUNCHED),
        module="_monev",
        replay="replay_monev",
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
