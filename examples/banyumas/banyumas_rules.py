"""Banyumas's own requirement, registered apart from labflow's built-ins, and its policy.

Once LAN hands the lab over, Banyumas pays for its innovations itself, so an action
plan without a budget line cannot go to delivery: ``banyumas.plan_has_budget``.
"""

from __future__ import annotations

from pathlib import Path

import labflow
from labflow import GateContext, Registry, Unmet, unmet

HERE = Path(__file__).resolve().parent

#: Banyumas's names, kept apart from other hosts' (``Registry(parent=DEFAULT_REGISTRY)``).
REGISTRY = Registry(parent=labflow.DEFAULT_REGISTRY)


@REGISTRY.requirement("banyumas.plan_has_budget")
def plan_has_budget(ctx: GateContext, *, minimum: int = 1) -> list[Unmet]:
    """The action plan names a budget of at least ``minimum`` rupiah.

    Says nothing when there is no plan: ``action_plan_submitted`` reports that.
    """
    plan = ctx.innovation.action_plan
    if plan is None or (plan.budget is not None and plan.budget >= minimum):
        return []
    have = plan.budget or 0
    return [
        unmet(
            "banyumas.no_budget",
            f"The action plan budgets Rp{have:,}; at least Rp{minimum:,} must be planned.",
            f"Rencana aksi menganggarkan Rp{have:,}; minimal Rp{minimum:,} harus direncanakan.",
            budget=have,
            minimum=minimum,
        )
    ]


def load_policy() -> labflow.Policy:
    """Banyumas's policy (``policy.toml``), validated against Banyumas's registry."""
    return labflow.load_policy(HERE / "policy.toml", registry=REGISTRY)
