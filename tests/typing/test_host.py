"""A host's use of the public API, type-checked by ``mypy --strict`` in CI and run by pytest.

If a public signature loses or changes its types, mypy fails on this file.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

import labflow
from labflow import Actor, Diagnosis, Lab, PlanStep, Role, Unit, UnitKind, Verdict


class TickingClock:
    """A deterministic clock a host might inject in its tests."""

    def __init__(self) -> None:
        self.now = datetime(2016, 5, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=5)
        return self.now


@labflow.requirement("host_typing.budget_given")
def budget_given(ctx: labflow.GateContext, *, minimum: int = 1) -> list[labflow.Unmet]:
    plan = ctx.innovation.action_plan
    if plan is None or (plan.budget or 0) < minimum:
        return [
            labflow.unmet("host.no_budget", "No budget.", "Belum ada anggaran.", minimum=minimum)
        ]
    return []


def open_lab() -> Lab:
    policy: labflow.Policy = labflow.load_policy("lan-5d")
    stage_ids: list[str] = [stage.id for stage in policy.stages]
    assert stage_ids[0] == "drum_up"
    return Lab.create(
        policy,
        id="kebumen",
        region="Kabupaten Kebumen",
        by="sekretariat",
        units=[Unit("bag-hukum", "Bagian Hukum", UnitKind.AGENCY)],
        actors=[
            Actor("sekretariat", "Sekretariat Labinov", {Role.SECRETARIAT}),
            Actor("bupati", "Bupati", {Role.REGIONAL_HEAD}),
            Actor("kabag-hukum", "Kepala Bagian Hukum", {Role.UNIT_HEAD}, "bag-hukum"),
            Actor("staf-hukum", "Staf Bagian Hukum", {Role.INNOVATOR}, "bag-hukum"),
        ],
        clock=TickingClock(),
    )


def test_host_flow() -> None:
    lab = open_lab()
    event: labflow.Event = lab.register(
        "elegan",
        title="ELEGAN",
        unit="bag-hukum",
        innovators=["Staf Bagian Hukum"],
        problem="Penyusunan produk hukum lambat dan berbasis kertas.",
        by="staf-hukum",
    )
    assert event.seq == 1
    lab.record_diagnosis("elegan", Diagnosis("Drafting is slow", ["paper-based"]), by="staf-hukum")
    lab.submit_plan(
        "elegan", steps=[PlanStep("Build the app", "Kasubag", date(2016, 6, 1))], by="staf-hukum"
    )
    verdict: Verdict = lab.check("elegan")
    codes: tuple[str, ...] = verdict.codes
    assert "lab.behind" in codes
    with pytest.raises(labflow.GateRefused) as refused:
        lab.advance("elegan", by="sekretariat")
    assert refused.value.verdict == verdict
    store: labflow.Store = labflow.MemoryStore()
    assert isinstance(store, labflow.Store)
    results: tuple[labflow.Verification, ...] = lab.verify()
    assert all(result.ok for result in results)
    again: Lab = labflow.replay_lab(
        lab.history, [i.history for i in lab.innovations.values()], clock=lab.clock
    )
    assert again == lab
