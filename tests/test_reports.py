"""Reports: the funnel, compliance, overdue deadlines and blocked innovations."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import labflow as lf
from helpers import FixedClock, bring_to, cohort, make_lab, prepare, register
from labflow import reports
from labflow.store import Append, InnovationRow, Store
from labflow.store.memory import MemoryStore
from labflow.store.sqlite import SQLiteStore


def test_funnel_counts_by_stage_and_unit_kind() -> None:
    lab = make_lab()
    ids = cohort(lab)
    register(lab, "extra", "dinkes")
    bring_to(lab, "design", ids)
    lab.withdraw("extra", reason="Digabung", by="sekretariat")
    funnel = reports.funnel(lab)
    assert funnel.at["design"] == {"agency": 2, "clinic": 1}
    assert funnel.at["drum_up"] == {}
    assert funnel.reached["drum_up"] == 3
    assert funnel.reached["deliver"] == 0
    assert (funnel.withdrawn, funnel.total) == (1, 4)
    assert funnel.to_dict()["at"]["design"]["clinic"] == 1


def test_units_without_an_innovation_past_a_stage() -> None:
    lab = make_lab()
    ids = cohort(lab)
    bring_to(lab, "design", ids)
    assert reports.units_without(lab, "design") == []
    lab.withdraw("ino-dinkes", reason="Ditunda", by="sekretariat")
    assert [u.id for u in reports.units_without(lab, "design")] == ["dinkes"]
    everyone = reports.units_without(lab, "design", government_only=False)
    assert [u.id for u in everyone] == ["dinkes", "komunitas"]


def test_overdue_lists_innovations_behind_a_passed_deadline() -> None:
    data = lf.load_policy("lan-5d").to_dict()
    data["deadlines"] = {"design": {"by": "2016-06-30", "enforce": "report"}}
    lab = make_lab(lf.policy_from_dict(data))
    ids = cohort(lab)
    bring_to(lab, "design", ids[:1])
    assert reports.overdue(lab, datetime(2016, 6, 1, tzinfo=UTC)) == []
    late = reports.overdue(lab, datetime(2016, 7, 2, tzinfo=UTC))
    assert [o.innovation for o in late] == sorted(ids[1:])
    assert late[0].to_dict()["stage"] == "design"


def test_blocked_lists_own_unmet_items_not_waiting() -> None:
    lab = make_lab()
    ids = cohort(lab)
    assert reports.blocked(lab) == []  # everyone only waits for the lab
    lab.advance_lab(by="sekretariat")
    for ident in ids:
        lab.advance(ident, by="sekretariat")
    found = {b.innovation: b.verdict.codes for b in reports.blocked(lab)}
    assert set(found) == set(ids)
    assert all("diagnosis.missing" in codes for codes in found.values())
    assert all("lab.behind" not in codes for codes in found.values())


def test_report_is_json_ready() -> None:
    lab = make_lab()
    cohort(lab)
    bring_to(lab, "display")
    data = reports.report(lab).to_dict()
    assert data["stage"] == "display"
    assert data["blocked"] == []
    assert data["funnel"]["reached"]["display"] == 3
    assert data["units_without"]["design"] == []


def _stored(store: Store, lab: lf.Lab) -> None:
    appends = [Append(lab.id, 0, lab.history, lab=True)]
    appends += [Append(i.id, 0, i.history) for i in lab.innovations.values()]
    store.commit(lab.id, appends)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_registry_funnel_adds_up_every_lab_without_replaying(kind: str, tmp_path: Path) -> None:
    """The store-wide funnel, read from the rows, equals the loaded labs' funnels merged."""
    store: Store = (
        MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "r.db", create=True)
    )
    kebumen = make_lab()
    ids = cohort(kebumen)
    bring_to(kebumen, "design", ids[:2])
    kebumen.withdraw(ids[2], reason="Ditunda", by="sekretariat")
    kudus = make_lab(lab_id="kudus")
    cohort(kudus)
    register(kudus, "extra", "pkm-gombong")
    for lab in (kebumen, kudus):
        _stored(store, lab)
    total = reports.registry_funnel(store)
    assert total == reports.merge_funnels([reports.funnel(kebumen), reports.funnel(kudus)])
    assert total.at["design"] == {"agency": 2}
    assert total.at["drum_up"] == {"agency": 2, "clinic": 2}
    assert total.reached["drum_up"] == 6
    assert (total.withdrawn, total.total) == (1, 7)
    assert reports.registry_funnel(store, ["kudus"]) == reports.funnel(kudus)
    with pytest.raises(lf.StoreError, match="no lab 'nowhere'"):
        reports.registry_funnel(store, ["kudus", "nowhere"])
    store.close()


def test_merging_funnels_of_different_policies_keeps_each_labs_order() -> None:
    five = reports.Funnel(
        ("a", "b"), {"a": {"agency": 1}, "b": {"clinic": 2}}, {"a": 3, "b": 2}, 0, 3
    )
    six = reports.Funnel(
        ("a", "c", "b"), {"a": {}, "c": {"agency": 1}, "b": {}}, {"a": 1, "c": 1, "b": 0}, 1, 2
    )
    merged = reports.merge_funnels([five, six])
    assert merged.stages == ("a", "b", "c")
    assert merged.at == {"a": {"agency": 1}, "b": {"clinic": 2}, "c": {"agency": 1}}
    assert merged.reached == {"a": 4, "b": 2, "c": 1}
    assert (merged.withdrawn, merged.total) == (1, 5)
    assert reports.merge_funnels([]) == reports.Funnel((), {}, {}, 0, 0)


def test_a_row_at_a_stage_the_policy_lacks_is_refused() -> None:
    row = InnovationRow("x", "dinkes", "agency", "nowhere", "active", False, 1)
    with pytest.raises(lf.StoreError, match="not a stage"):
        reports.funnel_of_rows(("drum_up", "diagnose"), [row])


def _deadline_lab() -> lf.Lab:
    """A lab at design whose innovations, at diagnose, meet the design gate until a deadline."""
    data = lf.load_policy("lan-5d").to_dict()
    data["deadlines"] = {"design": "2016-06-30"}
    data["gates"]["design"].append({"name": "deadline_not_passed"})
    lab = make_lab(lf.policy_from_dict(data))
    ids = cohort(lab)
    bring_to(lab, "diagnose")
    for ident in ids:
        prepare(lab, ident, "design")
    lab.advance_lab(by="sekretariat")
    return lab


def test_a_report_reads_overdue_and_blocked_at_the_same_moment() -> None:
    """Given ``now`` past a deadline, what is overdue is also blocked by that deadline: the
    report no longer mixes ``now`` (deadlines) with the lab's clock (blocked)."""
    lab = _deadline_lab()
    assert reports.report(lab).blocked == ()  # the lab's clock: May 2016, nothing is late
    late = reports.report(lab, datetime(2016, 7, 2, tzinfo=UTC))
    assert [o.innovation for o in late.overdue] == sorted(lab.innovations)
    assert [b.innovation for b in late.blocked] == sorted(lab.innovations)
    assert all(b.verdict.codes == ("deadline.passed",) for b in late.blocked)


def test_a_report_reads_the_lab_clock_once_and_not_at_all_given_now() -> None:
    lab = _deadline_lab()
    ticks: list[datetime] = []
    clock = FixedClock(datetime(2016, 7, 2, tzinfo=UTC))

    def counted() -> datetime:
        ticks.append(clock())
        return ticks[-1]

    lab.clock = counted
    reports.report(lab, datetime(2016, 7, 2, tzinfo=UTC))
    assert ticks == []
    reports.report(lab)
    assert len(ticks) == 1


def test_a_report_refuses_a_naive_now() -> None:
    lab = _deadline_lab()
    with pytest.raises(lf.InvalidCommand, match="timezone-aware"):
        reports.report(lab, datetime(2016, 7, 2))  # naive: the mistake under test


def test_units_without_an_unknown_stage_is_not_found() -> None:
    lab = make_lab()
    cohort(lab)
    with pytest.raises(lf.NotFound, match="no stage 'nowhere'"):
        reports.units_without(lab, "nowhere")
    with pytest.raises(lf.NotFound):
        reports.units_without(lab, ["design"])  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_registry_funnel_needs_no_registry_for_private_requirements(
    kind: str, tmp_path: Path
) -> None:
    """The funnel needs each lab's stage ids only: a policy using a requirement registered
    in the host's own registry reports without that registry."""
    registry = lf.Registry(parent=lf.DEFAULT_REGISTRY)

    @registry.requirement("kebumen_signed_off")
    def kebumen_signed_off(ctx: lf.GateContext) -> list[lf.Unmet]:
        return []

    data = lf.load_policy("lan-5d").to_dict()
    data["gates"]["design"].append({"name": "kebumen_signed_off"})
    lab = make_lab(lf.policy_from_dict(data, registry=registry))
    ids = cohort(lab)
    bring_to(lab, "design", ids[:1])
    store: Store = (
        MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "r.db", create=True)
    )
    _stored(store, lab)
    assert reports.registry_funnel(store) == reports.funnel(lab)
    store.close()


def test_registry_funnel_refuses_an_asyncio_store_with_its_own_error(tmp_path: Path) -> None:
    """An asyncio store has the same method names but coroutines: refused in one sentence,
    never a coroutine iterated by mistake."""
    import asyncio

    from labflow.store import AsyncSQLiteStore

    async def attempt() -> None:
        store = await AsyncSQLiteStore.connect(tmp_path / "a.db", create=True)
        try:
            with pytest.raises(lf.InvalidCommand, match="asyncio"):
                reports.registry_funnel(store)  # type: ignore[arg-type]
        finally:
            await store.close()

    asyncio.run(attempt())
