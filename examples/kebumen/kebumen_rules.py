"""Kebumen's own requirement, registered apart from labflow's built-ins, and its policy.

The performance agreement in Kebumen was signed by the Bupati and the unit heads at
the launch ceremony itself. ``kebumen.signed_at_launch`` holds the region to that: a
signature dated before the launch, or more than ``within_days`` after it, does not count.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import labflow
from labflow import GateContext, Registry, Unmet, unmet

HERE = Path(__file__).resolve().parent

#: Kebumen's names, kept apart from other hosts' (``Registry(parent=DEFAULT_REGISTRY)``).
REGISTRY = Registry(parent=labflow.DEFAULT_REGISTRY)


@REGISTRY.requirement("kebumen.signed_at_launch")
def signed_at_launch(ctx: GateContext, *, within_days: int = 7) -> list[Unmet]:
    """Both signatures of the agreement date from the launch: not before, at most N days after.

    Says nothing when there is no launch or no agreement yet: ``launch_recorded`` and
    ``agreement_signed`` already report those.
    """
    launch, agreement = ctx.innovation.launch, ctx.innovation.agreement
    if launch is None or agreement is None:
        return []
    latest = launch.at + timedelta(days=within_days)
    found = []
    for signature in agreement.signatures:
        if launch.at <= signature.at <= latest:
            continue
        when = "before" if signature.at < launch.at else f"more than {within_days} days after"
        kapan = "sebelum" if signature.at < launch.at else f"lebih dari {within_days} hari setelah"
        found.append(
            unmet(
                "kebumen.signed_outside_launch",
                f"{signature.signer} signed the agreement on {signature.at.date()}, "
                f"{when} the launch ({launch.at.date()}).",
                f"{signature.signer} menandatangani perjanjian pada {signature.at.date()}, "
                f"{kapan} peluncuran ({launch.at.date()}).",
                signer=signature.signer,
                signed=signature.at.isoformat(),
                launched=launch.at.isoformat(),
            )
        )
    return found


def load_policy() -> labflow.Policy:
    """Kebumen's policy (``policy.toml``), validated against Kebumen's registry."""
    return labflow.load_policy(HERE / "policy.toml", registry=REGISTRY)
