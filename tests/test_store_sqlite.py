"""The SQLite store under stress: racing processes, a killed ceremony, and files that are wrong."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

import labflow as lf
from helpers import bring_to, cohort, make_lab, register
from labflow.store import Append, StoreCorrupt, StoreLocked, StoreMissing, StoreTooNew
from labflow.store import sqlite as sqlite_module
from labflow.store.sqlite import APPLICATION_ID, SCHEMA_VERSION, SQLiteStore

RACES = 1000
TARGETS = 25


@pytest.fixture(autouse=True)
def quiet() -> Iterator[None]:
    """These tests write thousands of events; their audit lines are not what is tested here."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    yield
    structlog.reset_defaults()


def save(store: SQLiteStore, lab: lf.Lab) -> None:
    appends = [Append(lab.id, 0, lab.history, lab=True)]
    appends += [Append(i.id, 0, i.history) for i in lab.innovations.values()]
    store.commit(lab.id, appends)


# --- Files that are not what they should be ----------------------------------------------------


def test_a_missing_file_is_refused_and_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nope.db"
    with pytest.raises(StoreMissing, match="no labflow database"):
        SQLiteStore(path)
    assert not path.exists()


def test_a_corrupt_file_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreCorrupt, match="corrupt"):
        SQLiteStore(path)
    assert path.read_bytes() == b"this is not sqlite at all" * 100


def test_another_programs_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(StoreCorrupt, match="not a labflow one"):
        SQLiteStore(path, create=True)
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(StoreCorrupt, match="not a labflow database"):
        SQLiteStore(empty)


def test_a_new_file_is_marked_with_the_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    SQLiteStore(path, create=True).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    assert conn.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()


def test_a_file_from_a_newer_labflow_is_refused_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    with SQLiteStore(path, create=True) as store:
        save(store, make_lab())
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    content = path.read_bytes()
    with pytest.raises(StoreTooNew, match="newer labflow"):
        SQLiteStore(path)
    assert path.read_bytes() == content


def as_schema_1(path: Path) -> None:
    """Turn a file into what labflow wrote before registration indexes (schema 1)."""
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE registrations")
        conn.execute("ALTER TABLE streams DROP COLUMN registered")
        conn.execute("ALTER TABLE streams DROP COLUMN registered_head")
        conn.execute("PRAGMA user_version=1")
    sqlite3.connect(path).close()


def test_a_file_from_before_the_registration_index_is_indexed_when_it_opens(
    tmp_path: Path,
) -> None:
    """Opening a schema-1 file indexes the innovations it holds (in the order they were
    stored); from then on, deleting one with its row is found by verify_all and by loads."""
    path = tmp_path / "old.db"
    lab = make_lab()
    cohort(lab)
    with SQLiteStore(path, create=True) as store:
        save(store, lab)
    as_schema_1(path)
    with SQLiteStore(path, read_only=True) as store:  # read as it is: no index to check
        assert not store.indexed
        assert all(v.ok for v in store.verify_all()["kebumen"])
        assert store.load("kebumen") == lab
    with SQLiteStore(path) as store:
        assert store.indexed
        assert all(v.ok for v in store.verify_all()["kebumen"])
        assert store.load("kebumen") == lab
        with store.session("kebumen") as live:
            register(live, "baru", "dinkes")
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        listed = [r[0] for r in conn.execute("SELECT subject FROM registrations ORDER BY seq")]
        assert listed == [*lab.innovations, "baru"]
        conn.execute(
            "DELETE FROM events WHERE stream = (SELECT id FROM streams WHERE subject = 'baru')"
        )
        conn.execute("DELETE FROM streams WHERE subject = 'baru'")
    with SQLiteStore(path) as store:
        bad = [(v.subject, v.reason) for v in store.verify_all()["kebumen"] if not v.ok]
        assert bad == [("baru", "it is in the lab's registration index, but its history is gone")]
        with pytest.raises(lf.HistoryError, match="baru"):
            store.load("kebumen")


def test_a_locked_database_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    lab = make_lab()
    cohort(lab)
    with SQLiteStore(path, create=True) as store:
        save(store, lab)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with SQLiteStore(path, timeout=0.05) as store:
            before = store.history("kebumen", "ino-dinkes")  # readers are not blocked (WAL)
            with pytest.raises(StoreLocked, match="locked by another process"):  # noqa: SIM117
                with store.session("kebumen") as live:
                    live.withdraw("ino-dinkes", reason="Ditunda", by="sekretariat")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with SQLiteStore(path) as store:
        assert store.history("kebumen", "ino-dinkes") == before


def test_a_tampered_row_is_found_by_verification(tmp_path: Path) -> None:
    path = tmp_path / "tampered.db"
    lab = make_lab()
    cohort(lab)
    bring_to(lab, "design")
    with SQLiteStore(path, create=True) as store:
        save(store, lab)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE events SET payload = json_set(payload, '$.problem', 'edited') WHERE seq = 2 "
            "AND stream = "
            "(SELECT id FROM streams WHERE subject = 'ino-dinkes')"
        )
    with SQLiteStore(path) as store:
        # Loading verifies every chain first, naming the first event that fails.
        with pytest.raises(lf.HistoryError) as info:
            store.load("kebumen")
        streamed = [lf.verify(h) for h in store.histories("kebumen")]
    assert (info.value.subject, info.value.seq) == ("ino-dinkes", 2)
    assert [(v.subject, v.seq) for v in streamed if not v.ok] == [("ino-dinkes", 2)]


def test_verify_all_reads_the_stored_text_and_the_content_behind_it(tmp_path: Path) -> None:
    """verify_all hashes a row's text as stored; a payload respelled with the same content
    (keys reordered, spaces) still verifies, as loading it does, while the same respelling
    carrying one changed value is named -- in the innovation and in the lab's own history."""
    path = tmp_path / "respelled.db"
    lab = make_lab()
    cohort(lab)
    bring_to(lab, "design")
    with SQLiteStore(path, create=True) as store:
        save(store, lab)
    dinkes = "(SELECT id FROM streams WHERE subject = 'ino-dinkes')"
    respell = "UPDATE events SET payload = ? WHERE seq = 1 AND stream = "
    registered = dict(lab.innovation("ino-dinkes").history[0].payload)
    spaced = json.dumps(dict(reversed(list(registered.items()))), indent=1)
    with sqlite3.connect(path) as conn:
        conn.execute(respell + dinkes, (spaced,))
    with SQLiteStore(path) as store:
        assert all(v.ok for v in store.verify_all()["kebumen"])
        assert store.load("kebumen").innovation("ino-dinkes").title == registered["title"]
    edited = json.dumps({**registered, "title": "Judul lain"}, indent=1)
    created = dict(lab.history[0].payload)
    with sqlite3.connect(path) as conn:
        conn.execute(respell + dinkes, (edited,))
        conn.execute(
            respell + "(SELECT id FROM streams WHERE is_lab = 1)",
            (json.dumps({**created, "region": "Kabupaten Lain"}),),
        )
    with SQLiteStore(path) as store:
        bad = [(v.subject, v.seq, v.reason) for v in store.verify_all()["kebumen"] if not v.ok]
    assert bad == [
        ("kebumen", 1, "its content does not match its hash"),
        ("ino-dinkes", 1, "its content does not match its hash"),
    ]


def test_verify_all_finds_an_edited_row_and_a_history_cut_short(tmp_path: Path) -> None:
    """A row edited in place, and a history whose last event was deleted (which still
    chains, but no longer ends at the stored head): both named, the rest sound."""
    path = tmp_path / "tampered.db"
    lab = make_lab()
    cohort(lab)
    bring_to(lab, "design")
    with SQLiteStore(path, create=True) as store:
        save(store, lab)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE events SET payload = json_set(payload, '$.problem', 'edited') WHERE seq = 2 "
            "AND stream = (SELECT id FROM streams WHERE subject = 'ino-dinkes')"
        )
        conn.execute(
            "DELETE FROM events WHERE stream = (SELECT id FROM streams WHERE subject = ?) "
            "AND seq = (SELECT version FROM streams WHERE subject = ?)",
            ("ino-pkm-gombong", "ino-pkm-gombong"),
        )
    with SQLiteStore(path) as store:
        found = store.verify_all()["kebumen"]
    bad = {v.subject: (v.seq, v.reason) for v in found if not v.ok}
    short = len(lab.innovation("ino-pkm-gombong").history) - 1
    assert bad == {
        "ino-dinkes": (2, "its content does not match its hash"),
        "ino-pkm-gombong": (short, "it does not end at the expected head"),
    }
    assert len(found) == 1 + len(lab.innovations)


def test_verify_all_in_worker_processes_agrees_with_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below PARALLEL_FROM events a store verifies in-process; lowered, the same store is
    cut into ranges of streams checked by two workers, with the same results, a tampered
    row and an innovation deleted with its row (which the registration index finds)
    included."""
    path = tmp_path / "lab.db"
    lab = make_lab()
    for n in range(40):
        register(lab, f"ino-{n:02}", ("bag-tapem", "dinkes", "pkm-gombong")[n % 3])
    with SQLiteStore(path, create=True) as store:
        save(store, lab)
        save(store, make_lab(lab_id="kudus"))
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE events SET actor = 'someone' WHERE seq = 1 "
            "AND stream = (SELECT id FROM streams WHERE subject = 'ino-17')"
        )
        gone = "(SELECT id FROM streams WHERE subject = 'ino-30')"
        conn.execute(f"DELETE FROM events WHERE stream = {gone}")
        conn.execute("DELETE FROM streams WHERE subject = 'ino-30'")
    with SQLiteStore(path) as store:
        alone = store.verify_all(workers=1)
        monkeypatch.setattr(sqlite_module, "PARALLEL_FROM", 1)
        shared = store.verify_all(workers=2)
        one_lab = store.verify_all("kebumen", workers=2)
    assert shared == alone
    assert one_lab == {"kebumen": alone["kebumen"]}
    assert [v.subject for v in alone["kebumen"] if not v.ok] == ["ino-17", "ino-30"]
    assert list(alone) == ["kebumen", "kudus"]


def test_ranges_cut_streams_into_parts_of_about_equal_events() -> None:
    sizes = [(1, 10), (2, 10), (3, 10), (5, 10), (9, 1)]
    assert sqlite_module._ranges(sizes, 2) == [(1, 3), (4, 9)]
    assert sqlite_module._ranges(sizes, 1) == [(1, 9)]
    assert sqlite_module._ranges([(7, 0)], 4) == [(7, 7)]


# --- threads: one store per thread ---------------------------------------------------------


def _in_thread(work: Any) -> Any:
    """Run ``work()`` in another thread; return what it returned or the error it raised."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=60)
    return outcome[0]


def test_a_store_used_from_another_thread_says_so_in_one_sentence(tmp_path: Path) -> None:
    """A web server's worker thread must not get a raw sqlite3 error (nor a double full stop)."""
    with SQLiteStore(tmp_path / "lab.db", create=True) as store:
        save(store, make_lab())
        error = _in_thread(lambda: store.load("kebumen"))
        assert isinstance(error, lf.StoreError)
        assert "opened in another thread" in str(error)
        assert "one store per thread" in str(error)
        assert ".." not in str(error)
        assert store.version("kebumen") == 1  # still fine in its own thread


def test_a_translated_sqlite_error_ends_with_one_full_stop() -> None:
    error = sqlite_module._translate(sqlite3.OperationalError("disk I/O error."), "lab.db")
    assert str(error) == "The database lab.db could not be used: disk I/O error."


def test_one_store_per_thread_writes_side_by_side(tmp_path: Path) -> None:
    """What docs/store.md tells a threaded host: each thread opens its own store."""
    path = tmp_path / "lab.db"
    lab = make_lab()
    ids = cohort(lab)
    with SQLiteStore(path, create=True) as store:
        save(store, lab)
    barrier = threading.Barrier(len(ids))

    def work(ident: str) -> None:
        with SQLiteStore(path, timeout=30) as mine:
            barrier.wait()  # every thread has its store open: the writes interleave
            for n in range(20):
                with mine.session("kebumen") as live:
                    live.attach_evidence(ident, title=f"SK {n}", reference="d", by="sekretariat")

    workers = [threading.Thread(target=work, args=(ident,)) for ident in ids]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    with SQLiteStore(path) as store:
        assert [store.version("kebumen", i) for i in ids] == [21, 21, 21]
        assert all(v.ok for v in store.verify_all()["kebumen"])


def test_verify_all_does_not_fork_while_other_threads_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forking a threaded process can copy a lock another thread holds; in-process instead."""
    path = tmp_path / "lab.db"
    lab = make_lab()
    cohort(lab)
    with SQLiteStore(path, create=True) as store:
        save(store, lab)
        alone = store.verify_all(workers=1)

        def no_fork(*args: object) -> object:
            raise AssertionError("verify_all forked with other threads running")

        monkeypatch.setattr(sqlite_module, "PARALLEL_FROM", 1)
        monkeypatch.setattr(SQLiteStore, "_verify_in_workers", no_fork)
        stop = threading.Event()
        other = threading.Thread(target=stop.wait)
        other.start()
        try:
            assert store.verify_all(workers=2) == alone
        finally:
            stop.set()
            other.join()


def test_a_read_only_database_opens_to_read_and_verify_and_refuses_writes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "archive.db"
    lab = make_lab()
    cohort(lab)
    with SQLiteStore(path, create=True) as store:
        save(store, lab)
    before = path.read_bytes()
    with SQLiteStore(path, read_only=True) as store:
        assert store.read_only
        assert all(v.ok for v in store.verify_all()["kebumen"])
        assert store.load("kebumen", clock=lab.clock) == lab
        with pytest.raises(lf.StoreError, match="read-only"), store.session("kebumen") as live:
            live.withdraw("ino-dinkes", reason="x", by="sekretariat")
    assert path.read_bytes() == before
    with pytest.raises(lf.StoreError, match="read-only"):
        SQLiteStore(tmp_path / "new.db", create=True, read_only=True)
