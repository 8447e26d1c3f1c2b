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
import types
import typing

from labflow._hooks import WITHDRAWN, Move, Subscriptions
from labflow._version import __version__
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
    Diagnosis,
    Evidence,
    Exhibit,
    Initiator,
    Innovation,
    Launch,
    PerformanceAgreement,
    Permission,
    PlanStep,
    Replication,
    Role,
    Signature,
    Status,
    Unit,
    UnitKind,
)
from labflow.policy import (
    COMMANDS,
    Deadline,
    Policy,
    RequirementSpec,
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

__all__ = [
    "COMMANDS",
    "DEFAULT_REGISTRY",
    "FIVE_D",
    "GENESIS",
    "GOVERNMENT_KINDS",
    "WITHDRAWN",
    "ActionPlan",
    "Actor",
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
    "Move",
    "NotFound",
    "PerformanceAgreement",
    "Permission",
    "PermissionDenied",
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

#: Public submodules reachable as attributes after `import labflow` alone.
_LAZY = frozenset({"exports", "reports", "views"})


def __getattr__(name: str) -> types.ModuleType:
    # `labflow.reports` (and the other modules in _LAZY) work after `import labflow` alone,
    # imported on first use so that importing the library does not pay for them.
    if name in _LAZY:
        return importlib.import_module(f"labflow.{name}")
    raise AttributeError(f"module 'labflow' has no attribute {name!r}")
