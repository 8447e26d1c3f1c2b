"""labflow: the lifecycle of a regional innovation lab, policy-driven and verifiable.

Load a region's policy, open a lab, and drive its innovations through the
stages with commands that refuse -- and explain -- every move the policy
forbids, while each accepted change is appended to a tamper-evident history::

    import labflow

    policy = labflow.load_policy("lan-5d")
    lab = labflow.Lab.create(policy, id="kebumen", region="Kabupaten Kebumen", by="sekretariat",
                             units=[...], actors=[...])
    lab.register("muttu-1000", title="MUTTU 1000", unit="bag-tapem", ..., by="kabag-tapem")
    lab.check("muttu-1000")      # a Verdict listing everything unmet, changing nothing
"""

import importlib
import typing

from labflow._version import __version__

__all__ = [
    "COMMANDS",
    "DEFAULT_REGISTRY",
    "FIVE_D",
    "GENESIS",
    "GOVERNMENT_KINDS",
    "WITHDRAWN",
    "ActionPlan",
    "Actor",
    "AgreementReview",
    "AgreementVersion",
    "ApprovalStep",
    "Booth",
    "CeremonyResult",
    "Clock",
    "CohortContext",
    "CommandError",
    "ConflictError",
    "Deadline",
    "Diagnosis",
    "DocumentError",
    "Event",
    "Evidence",
    "Exhibit",
    "Exhibition",
    "Exhibitor",
    "GateContext",
    "GateRefused",
    "HistoryError",
    "Initiator",
    "Innovation",
    "InvalidCommand",
    "InvariantViolation",
    "Lab",
    "LabflowError",
    "Launch",
    "MemoryStore",
    "Monev",
    "Move",
    "NotFound",
    "PerformanceAgreement",
    "Permission",
    "PermissionDenied",
    "PlanApproval",
    "PlanStep",
    "Policy",
    "PolicyError",
    "Problem",
    "RegistrationError",
    "Registry",
    "Replication",
    "RequirementCall",
    "RequirementRef",
    "RequirementSpec",
    "ReviewCycle",
    "ReviewOutcome",
    "Role",
    "RoleDef",
    "SQLiteStore",
    "Settings",
    "Signature",
    "Stage",
    "StageRef",
    "Status",
    "Store",
    "StoreCorrupt",
    "StoreError",
    "StoreLocked",
    "StoreMissing",
    "StoreTooNew",
    "Subscriptions",
    "Unit",
    "UnitKind",
    "Unmet",
    "UsageError",
    "Verdict",
    "Verification",
    "__version__",
    "available_presets",
    "cohort_condition",
    "load_policy",
    "parse_policy",
    "policy_from_dict",
    "replay_innovation",
    "replay_lab",
    "requirement",
    "system_clock",
    "unmet",
    "verify",
]

if typing.TYPE_CHECKING:
    from labflow import exports as exports
    from labflow import reports as reports
    from labflow import views as views
    from labflow._hooks import WITHDRAWN, Move, Subscriptions
    from labflow.errors import (
        CommandError,
        ConflictError,
        DocumentError,
        GateRefused,
        HistoryError,
        InvalidCommand,
        InvariantViolation,
        LabflowError,
        NotFound,
        PermissionDenied,
        PolicyError,
        Problem,
        RegistrationError,
        StoreCorrupt,
        StoreError,
        StoreLocked,
        StoreMissing,
        StoreTooNew,
        UsageError,
    )
    from labflow.events import GENESIS, Event, Verification, verify
    from labflow.lab import CeremonyResult, Clock, Lab, replay_innovation, replay_lab, system_clock
    from labflow.model import (
        FIVE_D,
        GOVERNMENT_KINDS,
        ActionPlan,
        Actor,
        AgreementReview,
        AgreementVersion,
        Booth,
        Diagnosis,
        Evidence,
        Exhibit,
        Exhibition,
        Exhibitor,
        Initiator,
        Innovation,
        Launch,
        Monev,
        PerformanceAgreement,
        Permission,
        PlanApproval,
        PlanStep,
        Replication,
        ReviewOutcome,
        Role,
        Signature,
        Status,
        Unit,
        UnitKind,
    )
    from labflow.policy import (
        COMMANDS,
        ApprovalStep,
        Deadline,
        Policy,
        RequirementSpec,
        ReviewCycle,
        RoleDef,
        Settings,
        Stage,
        available_presets,
        load_policy,
        parse_policy,
        policy_from_dict,
    )
    from labflow.requirements import (
        DEFAULT_REGISTRY,
        CohortContext,
        GateContext,
        Registry,
        RequirementCall,
        RequirementRef,
        StageRef,
        Unmet,
        Verdict,
        cohort_condition,
        requirement,
        unmet,
    )
    from labflow.store import Store
    from labflow.store.memory import MemoryStore
    from labflow.store.sqlite import SQLiteStore

#: Where each public name is defined: imported from there when first asked for.
_HOMES: typing.Final = {
    "WITHDRAWN": "labflow._hooks",
    "Move": "labflow._hooks",
    "Subscriptions": "labflow._hooks",
    "CommandError": "labflow.errors",
    "ConflictError": "labflow.errors",
    "DocumentError": "labflow.errors",
    "GateRefused": "labflow.errors",
    "HistoryError": "labflow.errors",
    "InvalidCommand": "labflow.errors",
    "InvariantViolation": "labflow.errors",
    "LabflowError": "labflow.errors",
    "NotFound": "labflow.errors",
    "PermissionDenied": "labflow.errors",
    "PolicyError": "labflow.errors",
    "Problem": "labflow.errors",
    "RegistrationError": "labflow.errors",
    "StoreCorrupt": "labflow.errors",
    "StoreError": "labflow.errors",
    "StoreLocked": "labflow.errors",
    "StoreMissing": "labflow.errors",
    "StoreTooNew": "labflow.errors",
    "UsageError": "labflow.errors",
    "GENESIS": "labflow.events",
    "Event": "labflow.events",
    "Verification": "labflow.events",
    "verify": "labflow.events",
    "CeremonyResult": "labflow.lab",
    "Clock": "labflow.lab",
    "Lab": "labflow.lab",
    "replay_innovation": "labflow.lab",
    "replay_lab": "labflow.lab",
    "system_clock": "labflow.lab",
    "FIVE_D": "labflow.model",
    "GOVERNMENT_KINDS": "labflow.model",
    "ActionPlan": "labflow.model",
    "Actor": "labflow.model",
    "AgreementReview": "labflow.model",
    "AgreementVersion": "labflow.model",
    "Diagnosis": "labflow.model",
    "Evidence": "labflow.model",
    "Exhibit": "labflow.model",
    "Initiator": "labflow.model",
    "Innovation": "labflow.model",
    "Launch": "labflow.model",
    "PerformanceAgreement": "labflow.model",
    "Permission": "labflow.model",
    "PlanApproval": "labflow.model",
    "PlanStep": "labflow.model",
    "Replication": "labflow.model",
    "ReviewOutcome": "labflow.model",
    "Role": "labflow.model",
    "Signature": "labflow.model",
    "Status": "labflow.model",
    "Unit": "labflow.model",
    "UnitKind": "labflow.model",
    "Booth": "labflow.model",
    "Exhibition": "labflow.model",
    "Exhibitor": "labflow.model",
    "Monev": "labflow.model",
    "COMMANDS": "labflow.policy",
    "ApprovalStep": "labflow.policy",
    "Deadline": "labflow.policy",
    "Policy": "labflow.policy",
    "RequirementSpec": "labflow.policy",
    "ReviewCycle": "labflow.policy",
    "RoleDef": "labflow.policy",
    "Settings": "labflow.policy",
    "Stage": "labflow.policy",
    "available_presets": "labflow.policy",
    "load_policy": "labflow.policy",
    "parse_policy": "labflow.policy",
    "policy_from_dict": "labflow.policy",
    "DEFAULT_REGISTRY": "labflow.requirements",
    "CohortContext": "labflow.requirements",
    "GateContext": "labflow.requirements",
    "Registry": "labflow.requirements",
    "RequirementCall": "labflow.requirements",
    "RequirementRef": "labflow.requirements",
    "StageRef": "labflow.requirements",
    "Unmet": "labflow.requirements",
    "Verdict": "labflow.requirements",
    "cohort_condition": "labflow.requirements",
    "requirement": "labflow.requirements",
    "unmet": "labflow.requirements",
    "Store": "labflow.store",
    "MemoryStore": "labflow.store.memory",
    "SQLiteStore": "labflow.store.sqlite",
}


#: Public submodules reachable as attributes after `import labflow` alone.
_LAZY = frozenset({"exports", "reports", "views"})


def __getattr__(name: str) -> typing.Any:
    # Every public name (and the modules in _LAZY) works after `import labflow` alone, and
    # `from labflow import Lab` works as ever; each is imported from its module on first use
    # (PEP 562), so that `import labflow` -- and the `labflow` command's start-up and
    # ``--help`` -- pay only for what they use. ``tests/test_api.py`` keeps _HOMES whole.
    home = _HOMES.get(name)
    if home is not None:
        value = getattr(importlib.import_module(home), name)
        globals()[name] = value  # the next lookup is a plain attribute
        return value
    if name in _LAZY:
        return importlib.import_module(f"labflow.{name}")
    raise AttributeError(f"module 'labflow' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_LAZY})
