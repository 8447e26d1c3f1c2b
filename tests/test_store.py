"""The Store contract, run against every store: memory, SQLite (plain and asyncio), PostgreSQL
and async PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import attrs
import pytest

import labflow as lf
import labflow.store
from _stores import KINDS, open_store
from helpers import HEAD, STAFF, FixedClock, body, bring_to, cohort, make_lab, plan_steps, register
from labflow._fold import INNOVATION_KINDS
from labflow.events import make_event
from labflow.store import Append, InnovationRow, Session, Store
from labflow.store.memory import MemoryStore


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with open_store(request.param, tmp_path) as made:
        yield made


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
    assert body(store.history("kebumen", "ino-dinkes")[-1]) == {"reason": "Ditunda"}


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
    assert streamed == [list(lab.innovations[k].history) for k in sorted(lab.innovations)]


def test_a_loaded_lab_holds_its_innovations_in_the_order_they_were_registered(
    store: Store,
) -> None:
    """Not by id: a lab loaded from a store is the lab its commands built, down to the
    order of `Lab.innovations` and so to the registration index of its document."""
    lab = make_lab()
    save(store, lab)
    with store.session("kebumen", clock=lab.clock) as live:
        register(live, "zeta", "dinkes")
        register(live, "alpha")
    with store.session("kebumen", clock=lab.clock) as live:
        register(live, "mid", "dinkes")
    loaded = store.load("kebumen", clock=lab.clock)
    assert list(loaded.innovations) == ["zeta", "alpha", "mid"]
    again = lf.serde.loads(lf.serde.dumps(loaded), clock=lab.clock)
    assert again == loaded
    assert list(again.innovations) == ["zeta", "alpha", "mid"]
    assert [h[0].subject for h in store.histories("kebumen")] == ["alpha", "mid", "zeta"]


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


# --- strict sessions: a cohort decision rests on the state it read --------------------------


def _planned_at_design(store: Store) -> lf.Lab:
    """A stored lab at design whose every innovation has an approved plan: ready for deliver."""
    lab = make_lab()
    ids = cohort(lab)
    bring_to(lab, "design")
    for ident in ids:
        unit = lab.innovation(ident).unit
        lab.submit_plan(ident, steps=plan_steps(), by=STAFF[unit])
        lab.approve_plan(ident, by=HEAD[unit])
    save(store, lab)
    return lab


@pytest.mark.parametrize("strict", [True, False])
def test_advancing_the_lab_conflicts_when_an_innovation_it_read_moved(
    store: Store, strict: bool
) -> None:
    """The race of the review: one writer resubmits a plan (its approval is gone) while the
    other advances the lab on the cohort it read. The lab must not reach deliver on a
    condition that no longer holds -- whether or not the session asked to be strict."""
    _planned_at_design(store)
    resubmit = store.session("kebumen")
    decide = store.session("kebumen", strict=strict)
    a, b = resubmit.__enter__(), decide.__enter__()
    a.submit_plan("ino-dinkes", steps=plan_steps(), by="staf-dinkes")
    assert b.check_lab().ok
    b.advance_lab(by="sekretariat")
    resubmit.__exit__(None, None, None)
    before = contents(store, "kebumen")
    with pytest.raises(lf.ConflictError) as info:
        decide.__exit__(None, None, None)
    assert info.value.subject == "ino-dinkes"
    assert contents(store, "kebumen") == before
    assert store.load("kebumen").stage == "design"


def test_a_strict_session_conflicts_when_a_stream_it_only_read_moved(store: Store) -> None:
    lab = make_lab()
    cohort(lab)
    save(store, lab)
    stale = store.session("kebumen", strict=True)
    old = stale.__enter__()
    with store.session("kebumen") as live:
        live.attach_evidence("ino-bag-tapem", title="SK", reference="doc-1", by="sekretariat")
    old.withdraw("ino-dinkes", reason="Ditunda", by="sekretariat")
    before = contents(store, "kebumen")
    with pytest.raises(lf.ConflictError) as info:
        stale.__exit__(None, None, None)
    assert info.value.subject == "ino-bag-tapem"
    assert contents(store, "kebumen") == before


def test_a_strict_session_with_nothing_moved_commits_and_writes_no_empty_events(
    store: Store,
) -> None:
    lab = make_lab()
    cohort(lab)
    save(store, lab)
    with store.session("kebumen", strict=True) as live:
        live.withdraw("ino-dinkes", reason="Ditunda", by="sekretariat")
    assert store.version("kebumen", "ino-dinkes") == 2
    assert store.version("kebumen", "ino-bag-tapem") == 1
    assert store.version("kebumen") == lab.version
    assert store.load("kebumen").innovation("ino-dinkes").status is lf.Status.WITHDRAWN


def test_an_empty_append_is_a_version_check_in_the_commit(store: Store) -> None:
    """Written events and a pure check in one commit: a failed check writes nothing."""
    lab = make_lab()
    cohort(lab)
    save(store, lab)
    lab.withdraw("ino-dinkes", reason="Ditunda", by="sekretariat")
    event = lab.innovation("ino-dinkes").history[-1]
    before = contents(store, "kebumen")
    with pytest.raises(lf.ConflictError) as info:
        store.commit("kebumen", [Append("ino-dinkes", 1, (event,)), Append("ino-gone", 3, ())])
    assert (info.value.subject, info.value.expected, info.value.found) == ("ino-gone", 3, 0)
    assert contents(store, "kebumen") == before
    store.commit("kebumen", [Append("ino-dinkes", 1, (event,)), Append("ino-bag-tapem", 1, ())])
    assert store.version("kebumen", "ino-dinkes") == 2


# --- bad commits: a StoreError, and nothing written ------------------------------------------


def _next(store: Store, subject: str | None, kind: str, payload: dict[str, object]) -> lf.Event:
    """A correctly chained and hashed event with any payload: what a careless host could send."""
    history = store.history("kebumen", subject)
    return make_event(
        subject or "kebumen",
        len(history) + 1,
        history[-1].at + timedelta(minutes=1),
        "sekretariat",
        kind,
        payload,
        history[-1].hash,
    )


def test_a_payload_replay_cannot_read_is_refused_and_writes_nothing(store: Store) -> None:
    """Hash and chain are right, the payload is not: refused before any of the commit is kept,
    so the lab still loads (the memory store used to keep the event, then fail every load)."""
    lab = make_lab()
    cohort(lab)
    save(store, lab)
    before = contents(store, "kebumen")
    lab.withdraw("ino-bag-tapem", reason="Ditunda", by="sekretariat")
    good = Append("ino-bag-tapem", 1, lab.innovation("ino-bag-tapem").history[1:])
    # The validating fold judges every new event before anything is written: a HistoryError
    # naming the event and the rule.
    bad_unit = _next(store, None, "lab.unit_added", {"unit": "oops"})
    with pytest.raises(lf.HistoryError, match="cannot be applied") as info:
        store.commit("kebumen", [good, Append("kebumen", lab.version, (bad_unit,), lab=True)])
    assert info.value.code == "history.unreadable"  # the code replay gives, on every store
    bad_move = _next(store, "ino-dinkes", "innovation.advanced", {"too": "design", "v": 2})
    with pytest.raises(lf.HistoryError, match="cannot be applied") as info:
        store.commit("kebumen", [good, Append("ino-dinkes", 1, (bad_move,))])
    assert info.value.code == "history.unreadable"  # the code replay gives, on every store
    opening = make_event(
        "ino-baru", 1, lab.now(), "sekretariat", "innovation.registered", {}, "0" * 64
    )
    with pytest.raises(lf.HistoryError, match="cannot be applied") as info:
        store.commit("kebumen", [good, Append("ino-baru", 0, (opening,))])
    assert info.value.code == "history.unreadable"  # the code replay gives, on every store
    not_opening = make_event(
        "ino-baru", 1, lab.now(), "sekretariat", "innovation.withdrawn", {"reason": "x"}, "0" * 64
    )
    with pytest.raises(lf.HistoryError) as info:
        store.commit("kebumen", [Append("ino-baru", 0, (not_opening,))])
    assert info.value.code == "history.opening"
    unknown = _next(store, None, "lab.renamed", {"to": "x"})
    with pytest.raises(lf.HistoryError, match="not an event of a lab") as info:
        store.commit("kebumen", [Append("kebumen", lab.version, (unknown,), lab=True)])
    assert info.value.code == "history.unknown_kind"  # the code replay gives, on every store
    assert contents(store, "kebumen") == before
    assert store.load("kebumen").version == lab.version
    assert [r.version for r in store.innovations("kebumen")] == [1, 1, 1]


def test_content_that_is_not_json_values_is_refused_with_a_store_error(store: Store) -> None:
    lab = make_lab()
    save(store, lab)
    before = contents(store, "kebumen")
    last = store.history("kebumen")[-1]
    odd = lf.Event("kebumen", 2, last.at, "s", "lab.advanced", {"x": {1, 2}}, last.hash, "0" * 64)
    with pytest.raises(lf.StoreError, match="not JSON values"):
        store.commit("kebumen", [Append("kebumen", 1, (odd,), lab=True)])
    with pytest.raises(lf.StoreError, match="not an Event"):
        store.commit("kebumen", [Append("kebumen", 1, ({"seq": 2},), lab=True)])  # type: ignore[arg-type]
    with pytest.raises(lf.StoreError, match="Append records"):
        store.commit("kebumen", [("kebumen", 1, ())])  # type: ignore[list-item]
    assert contents(store, "kebumen") == before


def test_a_second_lab_history_under_another_name_is_refused(store: Store) -> None:
    """lab=True is the lab's own history: its subject is the lab id, and nothing else."""
    lab = make_lab()
    save(store, lab)
    with pytest.raises(lf.StoreError, match="subject must be 'kebumen', not 'zzz'") as info:
        store.commit("kebumen", [Append("zzz", 0, lab.history, lab=True)])
    assert not isinstance(info.value, lf.ConflictError)
    assert store.lab_ids() == ["kebumen"]
    assert [v.ok for v in store.verify_all()["kebumen"]] == [True]


# --- rows follow the fold ------------------------------------------------------------------


def _every_kind() -> lf.Lab:
    """A lab whose innovations went through every kind of innovation event."""
    lab = make_lab("lan-5d1")
    lab.set_roles("fasilitator", ["facilitator", "secretariat"], by="sekretariat")
    cohort(lab)
    bring_to(lab, "documentation")
    lab.replicate("replika", origin="ino-dinkes", unit="bag-tapem", adaptation="x", by="staf-tapem")
    lab.record_monev("ino-dinkes", period="Q1", indicators={"n": 1}, findings="", by="kadinkes")
    lab.return_to("ino-dinkes", "display", reason="Dokumentasi kurang", by="fasilitator")
    lab.withdraw("ino-bag-tapem", reason="Ditunda", by="sekretariat")
    lab.reinstate("ino-bag-tapem", reason="Dilanjutkan", by="sekretariat")
    lab.review_agreement("ino-dinkes", finding="Target diubah", outcome="amend", by="sekretariat")
    lab.amend_agreement("ino-dinkes", terms="Target baru", by="sekretariat")
    lab.set_attributes("ino-bag-tapem", attributes={"jenis": "digital"}, by="sekretariat")
    lab.withdraw("ino-pkm-gombong", reason="Digabung", by="sekretariat")
    return lab


def test_rows_equal_the_replayed_innovation_after_every_event(store: Store) -> None:
    """Committed one event at a time, every row is what replaying that much history gives;
    the lab used covers every innovation event kind, so a new kind must be added here."""
    lab = _every_kind()
    # In the order the commands ran: a lab move is committed after what it counted.
    ordered = [(e.at, 1, None, n, e) for n, e in enumerate(lab.history)]
    ordered += [
        (e.at, 0, inn, n, e) for inn in lab.innovations.values() for n, e in enumerate(inn.history)
    ]
    ordered.sort(key=lambda item: item[:2])
    seen: set[str] = set()
    for _, _, inn, n, event in ordered:
        if inn is None:
            store.commit("kebumen", [Append("kebumen", n, (event,), lab=True)])
        else:
            store.commit("kebumen", [Append(inn.id, n, (event,))])
            seen.add(event.kind)
            replayed = lf.replay_innovation(inn.history[: n + 1])
            row = store.innovations("kebumen", unit=inn.unit, stage=replayed.stage)
            assert (
                InnovationRow(
                    inn.id,
                    replayed.unit,
                    lab.units[inn.unit].kind.value,
                    replayed.stage,
                    replayed.status.value,
                    replayed.launch is not None,
                    n + 1,
                )
                in row
            )
    assert seen == INNOVATION_KINDS
    assert store.load("kebumen") == lab


def test_the_store_package_exports_only_its_api() -> None:
    assert labflow.store.__all__ == [
        "Append",
        "AsyncSQLiteStore",
        "AsyncSession",
        "AsyncStore",
        "InnovationRow",
        "Session",
        "Store",
        "StoreCorrupt",
        "StoreLocked",
        "StoreMissing",
        "StoreTooNew",
        "changes",
    ]
    for helper in ("check_append", "head_of", "project_innovation", "project_units", "versions"):
        assert not hasattr(labflow.store, helper)


def test_a_command_by_an_actor_whose_roles_were_revoked_meanwhile_conflicts(
    store: Store,
) -> None:
    """Session A reads the roster; B revokes A's actor's roles and commits; A's command,
    authorised against the roster it read, must not commit: the lab's own history (which
    holds the roster) is in every commit's checks."""
    lab = make_lab()
    cohort(lab)
    lab.add_actor(lf.Actor("sek2", "Sekretariat 2", {lf.Role.SECRETARIAT}), by="sekretariat")
    save(store, lab)
    a = store.session("kebumen")
    live_a = a.__enter__()
    with store.session("kebumen") as live_b:
        live_b.set_roles("sekretariat", [], by="sek2")
    live_a.withdraw("ino-dinkes", reason="ditunda", by="sekretariat")  # allowed in A's view
    with pytest.raises(lf.ConflictError, match="kebumen"):
        a.__exit__(None, None, None)
    assert store.version("kebumen", "ino-dinkes") == 1
    with store.session("kebumen") as fresh, pytest.raises(lf.PermissionDenied):
        fresh.withdraw("ino-dinkes", reason="ditunda", by="sekretariat")


def test_sessions_on_different_innovations_still_do_not_conflict(store: Store) -> None:
    lab = make_lab()
    cohort(lab)
    save(store, lab)
    a, b = store.session("kebumen"), store.session("kebumen")
    live_a, live_b = a.__enter__(), b.__enter__()
    live_a.withdraw("ino-dinkes", reason="a", by="sekretariat")
    live_b.withdraw("ino-bag-tapem", reason="b", by="sekretariat")
    a.__exit__(None, None, None)
    b.__exit__(None, None, None)
    assert store.version("kebumen", "ino-dinkes") == 2
    assert store.version("kebumen", "ino-bag-tapem") == 2


def test_a_session_commit_looks_only_at_what_the_commands_reached(store: Store) -> None:
    """One command at a time in one session: every commit holds exactly the events of the
    innovation the command reached (and not a rescan of the lab), and a ceremony that walks
    the whole cohort still commits every innovation it changed."""
    lab = make_lab()
    cohort(lab)
    save(store, lab)
    session = store.session("kebumen")
    live = session.__enter__()
    for ident in ("ino-dinkes", "ino-bag-tapem"):
        live.attach_evidence(ident, title="t", reference="r", by="sekretariat")
        assert [a.subject for a in session.pending() if a.events] == [ident]
        assert [e.subject for e in session.commit()] == [ident]
    register(live, "baru", "dinkes")
    assert [a.subject for a in session.pending() if a.events] == ["baru"]
    session.commit()
    for inn in list(live.innovations.values()):  # walks the cohort
        live.attach_evidence(inn.id, title="semua", reference="r", by="sekretariat")
    assert sorted(e.subject for e in session.commit()) == sorted(live.innovations)
    session.__exit__(None, None, None)
    assert store.load("kebumen") == live


def test_a_checkpoint_still_holds_after_the_lab_moves_on(store: Store) -> None:
    """A checkpoint seals prefixes: histories that only grew since still verify against it,
    on every store; the stores' own ``checkpoint`` method gives the same statement."""
    from labflow.store.checkpoint import Checkpoint, make_checkpoint, verify_checkpoint

    lab = make_lab()
    cohort(lab)
    save(store, lab)
    key = b"kunci-rahasia-16b"
    sealed = make_checkpoint(store, key)
    if hasattr(store, "checkpoint"):
        assert store.checkpoint(key, labs=["kebumen"]).root == sealed.root
    with store.session("kebumen") as live:
        live.withdraw("ino-dinkes", reason="ditunda", by="sekretariat")
        register(live, "baru", "dinkes")
    report = verify_checkpoint(store, Checkpoint.from_json(sealed.to_json()), key)
    assert report.ok, report.problems
    assert report.streams == 1 + len(lab.innovations)
    if hasattr(store, "verify_checkpoint"):  # the sync stores' own method says the same
        assert store.verify_checkpoint(sealed, key) == report


@pytest.mark.parametrize(
    "text",
    ['{"to":"design"}', ' {"to":"design"}', '{"to":"design"} ', '{"a":1}{"b":2}', "", "{",
     '{"a":NaN}', '"text"', "[1, 2]", b'{"to":"design"}', '{"a":1,"a":2}'],
)  # fmt: skip
def test_the_row_checks_payload_reader_reads_as_json_loads_does(text: str | bytes) -> None:
    """The row check reads payloads with the decoder's scanner directly; whatever the text,
    it gives json.loads' answer, or the same kind of error."""
    import json

    from labflow.store._verify import _loads

    try:
        expected: object = json.loads(text)
    except ValueError as exc:
        with pytest.raises(type(exc)):
            _loads(text)  # type: ignore[arg-type]
        return
    found = _loads(text)  # type: ignore[arg-type]
    assert found == expected
