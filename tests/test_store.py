"""The Store contract, run against every store: the same tests a PostgreSQL store must pass."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import attrs
import pytest

import labflow as lf
from helpers import FixedClock, bring_to, cohort, make_lab, register
from labflow.store import Append, InnovationRow, Session, Store
from labflow.store.memory import MemoryStore
from labflow.store.sqlite import SQLiteStore


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = (
        MemoryStore()
        if request.param == "memory"
        else SQLiteStore(tmp_path / "lab.db", create=True)
    )
    yield made
    made.close()


def save(store: Store, lab: lf.Lab) -> None:
    """Store a whole lab built in memory, as its first commit."""
    appends = [Append(lab.id, 0, lab.history, lab=True)]
    appends += [Append(i.id, 0, i.history) for i in lab.innovations.values()]
    store.commit(lab.id, appends)


def contents(store: Store, lab_id: str) -> tuple[list[lf.Event], list[list[lf.Event]]]:
    return store.history(lab_id), list(store.histories(lab_id))


def test_store_implements_the_protocol(store: Store) -> None:
    assert isinstance(store, Store)


def test_a_stored_lab_loads_equal_and_verifies(store: Store) -> None:
    """Histories round-trip exactly: the replayed lab equals the one that was stored."""
    lab = make_lab()
    cohort(lab)
    bring_to(lab, "display")
    save(store, lab)
    loaded = store.load("kebumen", clock=lab.clock)
    assert loaded == lab
    assert all(v.ok for v in loaded.verify())
    assert store.lab_ids() == ["kebumen"]
    assert store.version("kebumen") == lab.version
    assert store.version("kebumen", "ino-dinkes") == lab.innovation("ino-dinkes").version
    assert store.version("kebumen", "nothing") == 0


def test_session_commits_only_what_the_commands_appended(store: Store) -> None:
    lab = make_lab()
    cohort(lab)
    save(store, lab)
    with store.session("kebumen") as live:
        live.advance_lab(by="sekretariat")
        live.advance("ino-dinkes", by="sekretariat")
        register(live, "baru", "dinkes")
    assert store.version("kebumen") == lab.version + 1
    assert store.version("kebumen", "ino-dinkes") == 2
    assert store.version("kebumen", "baru") == 1
    assert store.version("kebumen", "ino-bag-tapem") == 1
    assert all(v.ok for v in store.load("kebumen").verify())


def test_session_writes_nothing_when_its_block_raises(store: Store) -> None:
    lab = make_lab()
    cohort(lab)
    save(store, lab)
    before = contents(store, "kebumen")

    def work() -> None:
        with store.session("kebumen") as live:
            live.advance_lab(by="sekretariat")
            live.advance("ino-dinkes", by="sekretariat")
            live.advance("ino-dinkes", by="sekretariat")  # the lab is not at design: refused

    with pytest.raises(lf.GateRefused):
        work()
    assert contents(store, "kebumen") == before


def test_two_writers_on_one_version_one_wins_the_other_conflicts(store: Store) -> None:
    """Invariant 8: of two writers holding version n, one wins, one gets ConflictError."""
    lab = make_lab()
    cohort(lab)
    save(store, lab)
    first, second = store.session("kebumen"), store.session("kebumen")
    a, b = first.__enter__(), second.__enter__()
    a.withdraw("ino-dinkes", reason="Ditunda", by="sekretariat")
    b.withdraw("ino-dinkes", reason="Digabung", by="sekretariat")
    first.__exit__(None, None, None)
    before = contents(store, "kebumen")
    with pytest.raises(lf.ConflictError) as info:
        second.__exit__(None, None, None)
    assert (info.value.subject, info.value.expected, info.value.found) == ("ino-dinkes", 1, 2)
    assert "expected version 1, found version 2" in str(info.value)
    assert contents(store, "kebumen") == before
    assert store.history("kebumen", "ino-dinkes")[-1].payload == {"reason": "Ditunda"}


def test_a_state_that_comes_back_still_conflicts(store: Store) -> None:
    """Versions, not states: withdrawn then reinstated looks the same, but is two versions on."""
    lab = make_lab()
    cohort(lab)
    save(store, lab)
    stale = store.session("kebumen")
    old = stale.__enter__()
    with store.session("kebumen") as live:
        live.withdraw("ino-dinkes", reason="Ditunda", by="sekretariat")
        live.reinstate("ino-dinkes", reason="Dilanjutkan", by="sekretariat")
    assert (
        store.load("kebumen").innovation("ino-dinkes").status == old.innovation("ino-dinkes").status
    )
    old.withdraw("ino-dinkes", reason="Digabung", by="sekretariat")
    with pytest.raises(lf.ConflictError):
        stale.__exit__(None, None, None)


def test_a_ceremony_commits_whole_or_not_at_all(store: Store) -> None:
    """One stale innovation in a ceremony refuses the whole ceremony, the lab event included."""
    lab = make_lab()
    ids = cohort(lab)
    bring_to(lab, "deliver", launch=False)
    save(store, lab)
    stale = store.session("kebumen")
    old = stale.__enter__()
    with store.session("kebumen") as live:
        live.attach_evidence(ids[2], title="SK", reference="doc-1", by="sekretariat")
    before = contents(store, "kebumen")
    result = old.launch_cohort(ceremony="Peluncuran", by="bupati")
    assert len(result.launched) == 3
    with pytest.raises(lf.ConflictError):
        stale.__exit__(None, None, None)
    assert contents(store, "kebumen") == before


def test_strict_session_conflicts_when_the_lab_moved(store: Store) -> None:
    lab = make_lab()
    cohort(lab)
    save(store, lab)
    stale = store.session("kebumen", strict=True)
    old = stale.__enter__()
    with store.session("kebumen") as live:
        live.advance_lab(by="sekretariat")
    old.withdraw("ino-dinkes", reason="Ditunda", by="sekretariat")
    with pytest.raises(lf.ConflictError) as info:
        stale.__exit__(None, None, None)
    assert info.value.subject == "kebumen"


def test_a_lab_cannot_be_created_twice(store: Store) -> None:
    lab = make_lab()
    save(store, lab)
    with pytest.raises(lf.ConflictError):
        save(store, make_lab())


def test_events_that_do_not_continue_the_history_are_refused(store: Store) -> None:
    """Right version but wrong chain, numbering or hash: refused, nothing written."""
    lab = make_lab()
    cohort(lab)
    save(store, lab)
    other = make_lab(clock=FixedClock(step=timedelta(minutes=7)))
    cohort(other)
    other.withdraw("ino-dinkes", reason="x", by="sekretariat")
    before = contents(store, "kebumen")
    foreign = other.innovation("ino-dinkes").history[1]
    with pytest.raises(lf.StoreError, match="link"):
        store.commit("kebumen", [Append("ino-dinkes", 1, (foreign,))])
    forged = attrs.evolve(foreign, prev=store.history("kebumen", "ino-dinkes")[0].hash)
    with pytest.raises(lf.StoreError, match="hash"):
        store.commit("kebumen", [Append("ino-dinkes", 1, (forged,))])
    with pytest.raises(lf.StoreError, match="should be event 2"):
        store.commit("kebumen", [Append("ino-dinkes", 1, (attrs.evolve(forged, seq=3),))])
    assert contents(store, "kebumen") == before


def test_commits_to_an_unknown_lab_are_refused(store: Store) -> None:
    lab = make_lab()
    register(lab, "solo", "dinkes")
    with pytest.raises(lf.StoreError, match="no lab"):
        store.commit("kebumen", [Append("solo", 0, lab.innovation("solo").history)])
    with pytest.raises(lf.StoreError, match="no lab"):
        store.load("kebumen")
    assert store.lab_ids() == []


def test_queries_filter_by_stage_unit_kind_and_status(store: Store) -> None:
    lab = make_lab()
    ids = cohort(lab)
    bring_to(lab, "design", ids[:2])
    lab.withdraw(ids[2], reason="Ditunda", by="sekretariat")
    save(store, lab)
    every = store.innovations("kebumen")
    assert [r.id for r in every] == sorted(ids)
    assert [r.id for r in store.innovations("kebumen", stage="design")] == sorted(ids[:2])
    assert [r.id for r in store.innovations("kebumen", unit_kind="clinic")] == ["ino-pkm-gombong"]
    assert [r.id for r in store.innovations("kebumen", unit="dinkes")] == ["ino-dinkes"]
    assert [r.id for r in store.innovations("kebumen", status="withdrawn")] == [ids[2]]
    row = next(r for r in every if r.id == "ino-dinkes")
    version = lab.innovation("ino-dinkes").version
    assert row == InnovationRow(
        "ino-dinkes", "dinkes", "agency", "design", "active", False, version
    )


def test_histories_stream_every_innovation_in_id_order(store: Store) -> None:
    lab = make_lab()
    cohort(lab)
    save(store, lab)
    streamed = list(store.histories("kebumen"))
    assert [h[0].subject for h in streamed] == sorted(lab.innovations)
    assert streamed == [lab.innovations[k].history for k in sorted(lab.innovations)]


def test_session_outside_a_with_block_is_an_error() -> None:
    session = Session(MemoryStore(), "kebumen")
    with pytest.raises(lf.StoreError):
        session.pending()


def test_verify_all_agrees_with_verifying_the_loaded_lab(store: Store) -> None:
    """Streamed verification gives, per lab, exactly what ``load(lab).verify()`` gives."""
    lab = make_lab()
    cohort(lab)
    bring_to(lab, "display")
    other = make_lab(lab_id="kudus")
    cohort(other)
    save(store, lab)
    save(store, other)
    found = store.verify_all()
    assert list(found) == ["kebumen", "kudus"]
    assert found["kebumen"] == store.load("kebumen").verify()
    assert found["kudus"] == store.load("kudus").verify()
    assert all(v.ok for v in found["kebumen"])
    assert [v.subject for v in found["kebumen"]] == ["kebumen", *sorted(lab.innovations)]
    assert store.verify_all("kudus") == {"kudus": found["kudus"]}


def test_verify_all_of_an_unknown_lab_is_refused(store: Store) -> None:
    save(store, make_lab())
    with pytest.raises(lf.StoreError, match="no lab"):
        store.verify_all("nowhere")
    assert store.verify_all(workers=1)["kebumen"][0].ok


def test_a_commit_naming_a_stream_twice_is_refused_and_writes_nothing(store: Store) -> None:
    lab = make_lab()
    cohort(lab)
    save(store, lab)
    before = contents(store, "kebumen")
    lab.withdraw("ino-dinkes", reason="Ditunda", by="sekretariat")
    event = lab.innovation("ino-dinkes").history[-1]
    twice = [Append("ino-dinkes", 1, (event,)), Append("ino-dinkes", 1, (event,))]
    with pytest.raises(lf.StoreError, match="twice"):
        store.commit("kebumen", twice)
    assert contents(store, "kebumen") == before


def test_a_ceremony_updates_every_stream_and_row_in_one_commit(store: Store) -> None:
    """The bulk write path: many streams moved, one new, rows and versions all current."""
    lab = make_lab()
    ids = cohort(lab)
    bring_to(lab, "deliver", launch=False)
    save(store, lab)
    with store.session("kebumen") as live:
        result = live.launch_cohort(ceremony="Peluncuran", by="bupati")
        register(live, "baru", "dinkes")
    assert sorted(result.launched) == sorted(ids)
    rows = {r.id: r for r in store.innovations("kebumen")}
    assert all(rows[i].launched and rows[i].version == live.innovation(i).version for i in ids)
    assert rows["baru"].stage == "drum_up"
    assert not rows["baru"].launched
    assert store.version("kebumen") == live.version
    assert store.load("kebumen") == live
