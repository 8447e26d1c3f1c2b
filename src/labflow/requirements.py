"""Requirements: the gates' explanations, built in and registered by hosts.

A *gate requirement* is a pure function of a `GateContext` (the innovation, its
lab, the stage it would enter, the time of the check) and of keyword-only
parameters read from the policy. It returns what is unmet -- an empty list when
it is satisfied -- so that a refusal always says exactly why. A *cohort
condition* is the same for the lab as a whole (`CohortContext`).

Hosts add their own under a name and then use that name from TOML::

    @labflow.requirement("kebumen.budget_in_apbd")
    def budget_in_apbd(ctx: labflow.GateContext, *, minimum: int = 1) -> list[labflow.Unmet]:
        plan = ctx.innovation.action_plan
        if plan is None or (plan.budget or 0) < minimum:
            return [labflow.unmet("kebumen.budget_in_apbd", "No budget ...", "Belum ada ...")]
        return []

The parameters' annotations are what a policy is validated against: ``str``,
``int``, ``float``, ``bool``, `StageRef` (a stage id of the policy),
`RequirementRef` (a registered gate requirement), an enum such as `UnitKind`,
``tuple[X, ...]`` of those, and ``X | None``.
"""

from __future__ import annotations

from labflow import _cohort_rules, _gate_rules  # noqa: F401  (registers the built-ins)
from labflow._registry import (
    DEFAULT_REGISTRY,
    CohortContext,
    GateContext,
    LabView,
    Registry,
    RequirementCall,
    RequirementDef,
    RequirementRef,
    StageRef,
    Unmet,
    Verdict,
    cohort_condition,
    requirement,
    unmet,
)
from labflow.errors import RegistrationError

__all__ = [
    "DEFAULT_REGISTRY",
    "CohortContext",
    "GateContext",
    "LabView",
    "RegistrationError",
    "Registry",
    "RequirementCall",
    "RequirementDef",
    "RequirementRef",
    "StageRef",
    "Unmet",
    "Verdict",
    "cohort_condition",
    "requirement",
    "unmet",
]
