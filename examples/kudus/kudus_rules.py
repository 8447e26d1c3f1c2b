"""Kudus's own requirement, registered apart from labflow's built-ins, and its policy.

The Head of LAN praised Kudus because its innovations were not copies made without
local adaptation. ``kudus.adapted_to_kudus`` makes that checkable: a replicated
innovation's account of its adaptation must name the local context -- Kudus or one of
its places. Innovations that are not replications satisfy it.
"""

from __future__ import annotations

from pathlib import Path

import labflow
from labflow import GateContext, Registry, Unmet, unmet

HERE = Path(__file__).resolve().parent

#: Kudus's names, kept apart from other hosts' (``Registry(parent=DEFAULT_REGISTRY)``).
REGISTRY = Registry(parent=labflow.DEFAULT_REGISTRY)


@REGISTRY.requirement("kudus.adapted_to_kudus")
def adapted_to_kudus(ctx: GateContext, *, places: tuple[str, ...] = ("Kudus",)) -> list[Unmet]:
    """A replication's adaptation names Kudus or one of ``places`` (case-insensitive)."""
    replication = ctx.innovation.replication
    if replication is None:
        return []
    text = replication.adaptation.casefold()
    if any(place.casefold() in text for place in places):
        return []
    return [
        unmet(
            "kudus.not_adapted",
            f"The replication of {replication.origin_title or replication.origin_innovation} "
            f"from {replication.origin_region} does not say how it fits Kudus "
            f"(it names none of {', '.join(places)}).",
            f"Replikasi {replication.origin_title or replication.origin_innovation} dari "
            f"{replication.origin_region} belum menjelaskan penyesuaiannya dengan Kudus "
            f"(tidak menyebut {', '.join(places)}).",
            origin_region=replication.origin_region,
            places=list(places),
        )
    ]


def load_policy() -> labflow.Policy:
    """Kudus's policy (``policy.toml``), validated against Kudus's registry."""
    return labflow.load_policy(HERE / "policy.toml", registry=REGISTRY)
