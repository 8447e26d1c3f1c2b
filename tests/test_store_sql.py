"""The SQL stores (SQLite and PostgreSQL) under attack and stress: tampering, races, crashes.

Each test runs on both stores: someone who can write the database edits it behind
labflow's back, processes race for the same streams, and writers are killed in the
middle of a bulk commit. What must hold: every edit is detected by `verify_all` and
by loading (so no command builds on it), every race has exactly one winner and loses
nothing, and a killed writer leaves nothing partial.

Race and kill counts are sized for CI's time budget on a shared 2-core machine;
``LABFLOW_TEST_RACES`` raises the race count for a longer local run.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import structlog

import labflow as lf
from _stores import SQL_KINDS, postgres_schema
from helpers import bring_to, cohort, make_lab, register
from labflow import reports
from labflow.errors import HistoryError
from labflow.events import GENESIS, make_event
from labflow.store import Append
from labflow.store._common import encode_payload

#: races per scenario (two scenarios x two process counts x two stores)
RACES = int(os.environ.get("LABFLOW_TEST_RACES", "40"))
#: SIGKILLs of a writer per store, at different points of a bulk commit
KILLS = 20


@pytest.fixture(autouse=True)
def quiet() -> Iterator[None]:
    """These tests write thousands of events; their audit lines are not what is tested here."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    yield
    structlog.reset_defaults()


# --- Opening one database from several processes -----------------------------------------


def open_at(kind: str, where: str, **options: Any) -> Any:
    """A store of ``kind`` on the database at ``where`` (a path or a connection string)."""
    if kind == "sqlite":
        from labflow.store.sqlite import SQLiteStore

        return SQLiteStore(where, **options)
    from labflow.store.postgres import PostgresStore

    return PostgresStore(where, **options)


@pytest.fixture(params=SQL_KINDS)
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """``(kind, location)`` of an empty database, created."""
    if request.param == "sqlite":
        path = str(tmp_path / "lab.db")
        open_at("sqlite", path, create=True).close()
        yield "sqlite", path
    else:
        with postgres_schema() as url:
            open_at("postgres", url, create=True).close()
            yield "postgres", url


@contextmanager
def raw(kind: str, location: str) -> Iterator[Any]:
    """A plain connection that writes behind labflow's back, committed on leaving."""
    if kind == "sqlite":
        conn = sqlite3.connect(location)
        try:
            yield conn
            conn.commit()
        finally:
            conn.close()
    else:
        import psycopg

        with psycopg.connect(location) as pg:
            yield pg


def sql(kind: str, statement: str) -> str:
    """One tampering statement in each dialect: table names and parameter marks."""
    prefix = "" if kind == "sqlite" else "labflow_"
    text = statement.format(s=f"{prefix}streams", e=f"{prefix}events", r=f"{prefix}registrations")
    return text if kind == "sqlite" else text.replace("?", "%s")


def save(store: Any, lab: lf.Lab) -> None:
    appends = [Append(lab.id, 0, lab.history, lab=True)]
    appends += [Append(i.id, 0, i.history) for i in lab.innovations.values()]
    store.commit(lab.id, appends)


# --- Tampering ---------------------------------------------------------------------------------

_SID = "(SELECT id FROM {s} WHERE subject = 'ino-dinkes' AND NOT is_lab)"
_LAST = "(SELECT version FROM {s} WHERE subject = 'ino-dinkes' AND NOT is_lab)"

#: name -> statements; each edit is one an attacker with write access to the database can make
TAMPERING: dict[str, list[str]] = {
    "payload edited": [
        f"UPDATE {{e}} SET payload = replace(payload, 'e', 'E') WHERE stream = {_SID} AND seq = 1"
    ],
    "kind edited": [
        "UPDATE {e} SET kind = 'innovation.reinstated' WHERE kind = 'innovation.withdrawn'"
    ],
    "actor edited": [f"UPDATE {{e}} SET actor = 'bupati' WHERE stream = {_SID} AND seq = 2"],
    "event deleted": [f"DELETE FROM {{e}} WHERE stream = {_SID} AND seq = 2"],
    "event inserted": [
        "INSERT INTO {e} (stream, seq, at, actor, kind, payload, prev, hash) "
        f"SELECT stream, seq + 1, at, actor, kind, payload, hash, hash FROM {{e}} "
        f"WHERE stream = {_SID} AND seq = {_LAST}"
    ],
    "events reordered": [
        f"UPDATE {{e}} SET seq = -1 WHERE stream = {_SID} AND seq = 2",
        f"UPDATE {{e}} SET seq = 2 WHERE stream = {_SID} AND seq = 3",
        f"UPDATE {{e}} SET seq = 3 WHERE stream = {_SID} AND seq = -1",
    ],
    "tail cut": [f"DELETE FROM {{e}} WHERE stream = {_SID} AND seq = {_LAST}"],
    "lab event edited": [
        "UPDATE {e} SET payload = replace(payload, 'Kebumen', 'Kudus') "
        "WHERE stream = (SELECT id FROM {s} WHERE is_lab) AND seq = 1"
    ],
    "all events of an innovation deleted": [f"DELETE FROM {{e}} WHERE stream = {_SID}"],
    "projection edited: stage": [
        "UPDATE {s} SET stage = 'display' WHERE subject = 'ino-dinkes' AND NOT is_lab"
    ],
    "projection edited: status": [
        "UPDATE {s} SET status = 'active' WHERE subject = 'ino-dinkes' AND NOT is_lab"
    ],
    "projection edited: unit": [
        "UPDATE {s} SET unit = 'komunitas' WHERE subject = 'ino-dinkes' AND NOT is_lab"
    ],
    # The lab's registration index still lists it.
    "innovation deleted with its row": [
        f"DELETE FROM {{e}} WHERE stream = {_SID}",
        "DELETE FROM {s} WHERE subject = 'ino-dinkes' AND NOT is_lab",
    ],
}


#: Deletions the registration index sees: the lab's own history fails, naming the index.
INDEX_TAMPERING: dict[str, list[str]] = {
    "innovation and its index entry deleted": [
        f"DELETE FROM {{e}} WHERE stream = {_SID}",
        "DELETE FROM {s} WHERE subject = 'ino-dinkes' AND NOT is_lab",
        "DELETE FROM {r} WHERE subject = 'ino-dinkes'",
    ],
    "index entry edited": ["UPDATE {r} SET subject = 'ino-lain' WHERE subject = 'ino-dinkes'"],
    "index head moved": ["UPDATE {s} SET registered = registered - 1 WHERE is_lab"],
}


def tamper_lab() -> lf.Lab:
    lab = make_lab()
    cohort(lab)
    bring_to(lab, "design")
    lab.withdraw("ino-dinkes", reason="ditunda", by="sekretariat")
    lab.attach_evidence("ino-bag-tapem", title="Foto", reference="f-1", by="sekretariat")
    return lab


@pytest.mark.parametrize("edit", sorted(INDEX_TAMPERING))
def test_the_registration_index_cannot_be_edited_unseen(where: tuple[str, str], edit: str) -> None:
    """Whoever deletes an innovation together with its index entry, or edits the index,
    breaks the index's own chain: the lab's history fails, loads refuse, nothing is written."""
    kind, location = where
    with open_at(kind, location) as store:
        save(store, tamper_lab())
    with raw(kind, location) as conn:
        for statement in INDEX_TAMPERING[edit]:
            assert conn.execute(sql(kind, statement)).rowcount >= 1, statement
    with open_at(kind, location) as store:
        bad = [v for v in store.verify_all()["kebumen"] if not v.ok]
        assert [v.subject for v in bad] == ["kebumen"]
        assert bad[0].reason is not None
        assert "registration index" in bad[0].reason
        with pytest.raises(HistoryError, match="registration index"):
            store.load("kebumen")
        before = store.version("kebumen", "ino-bag-tapem")
        with pytest.raises(HistoryError), store.session("kebumen") as live:
            live.attach_evidence("ino-bag-tapem", title="t", reference="r", by="sekretariat")
        assert store.version("kebumen", "ino-bag-tapem") == before


def test_a_forged_innovation_with_sound_hashes_is_not_in_the_index(
    where: tuple[str, str],
) -> None:
    """An innovation inserted straight into the tables, its chain hashed right and its row
    matching, verifies as a chain -- and is named because the lab never registered it."""
    kind, location = where
    with open_at(kind, location) as store:
        save(store, tamper_lab())
        source = store.history("kebumen", "ino-bag-tapem")
        row = next(r for r in store.innovations("kebumen") if r.id == "ino-bag-tapem")
    prev, forged = GENESIS, []
    for e in source:
        event = make_event("ino-palsu", e.seq, e.at, e.actor, e.kind, dict(e.payload), prev)
        forged.append(event)
        prev = event.hash
    mark = "?" if kind == "sqlite" else "%s"
    marks = ", ".join([mark] * 8)
    with raw(kind, location) as conn:
        conn.execute(
            sql(
                kind,
                "INSERT INTO {s} (lab, is_lab, subject, version, head, unit, stage, status, "
                f"launched) VALUES ({', '.join([mark] * 9)})",
            ),
            (
                "kebumen",
                False,
                "ino-palsu",
                len(forged),
                prev,
                row.unit,
                row.stage,
                row.status,
                row.launched,
            ),
        )
        sid = conn.execute(sql(kind, "SELECT id FROM {s} WHERE subject = 'ino-palsu'")).fetchone()[
            0
        ]
        for e in forged:
            conn.execute(
                sql(kind, f"INSERT INTO {{e}} VALUES ({marks})"),
                (
                    sid,
                    e.seq,
                    e.at.isoformat(),
                    e.actor,
                    e.kind,
                    encode_payload(e.payload),
                    e.prev,
                    e.hash,
                ),
            )
    with open_at(kind, location) as store:
        bad = [v for v in store.verify_all()["kebumen"] if not v.ok]
        assert [(v.subject, v.reason) for v in bad] == [
            ("ino-palsu", "it is not in the lab's registration index")
        ]
        with pytest.raises(HistoryError, match="ino-palsu"):
            store.load("kebumen")


@pytest.mark.parametrize("edit", sorted(TAMPERING))
def test_every_tampering_is_detected_and_refuses_writes(where: tuple[str, str], edit: str) -> None:
    """verify_all names the edited history; loading it -- and so every session, every CLI
    command -- refuses with HistoryError naming the history; nothing is written after."""
    kind, location = where
    lab = tamper_lab()
    subject = "kebumen" if edit.startswith("lab") else "ino-dinkes"
    with open_at(kind, location) as store:
        save(store, lab)
        assert all(v.ok for v in store.verify_all()["kebumen"])
    with raw(kind, location) as conn:
        for statement in TAMPERING[edit]:
            changed = conn.execute(sql(kind, statement))
            assert changed.rowcount >= 1, statement
    with open_at(kind, location) as store:
        bad = [v for v in store.verify_all()["kebumen"] if not v.ok]
        assert [v.subject for v in bad] == [subject]
        if edit.startswith("projection"):
            assert bad[0].reason is not None
            assert bad[0].reason.startswith("its stored row says")
        with pytest.raises(HistoryError, match=subject):
            store.load("kebumen")
        # Reports never count an edited row: the funnel verifies first, or takes the check.
        with pytest.raises(HistoryError, match=subject):
            reports.registry_funnel(store)
        with pytest.raises(HistoryError, match=subject):
            reports.registry_funnel(store, ["kebumen"], checked=store.verify_all())
        versions = {s: store.version("kebumen", s) for s in ("ino-bag-tapem", "ino-pkm-gombong")}
        with pytest.raises(HistoryError), store.session("kebumen") as live:
            live.attach_evidence("ino-bag-tapem", title="t", reference="r", by="sekretariat")
        assert {s: store.version("kebumen", s) for s in versions} == versions


def test_sqlite_and_postgresql_count_the_same_funnel(tmp_path: Path) -> None:
    """The registry funnel each SQL store counts from its checked rows in one grouped query
    is the funnel of the labs replayed, lab by lab and merged, on both stores alike."""
    kebumen = tamper_lab()  # withdrawn, moved and attached innovations
    kudus = make_lab(lab_id="kudus")
    cohort(kudus)
    register(kudus, "extra", "pkm-gombong")
    bring_to(kudus, "diagnose")
    empty = make_lab(lab_id="kosong")
    funnels = []
    with postgres_schema() as url:
        for kind, location in (("sqlite", str(tmp_path / "lab.db")), ("postgres", url)):
            with open_at(kind, location, create=True) as store:
                for lab in (kebumen, kudus, empty):
                    save(store, lab)
                checked = store.verify_all()
                funnel = reports.registry_funnel(store, checked=checked)
                assert funnel == reports.registry_funnel(store)  # it verifies itself
                assert reports.registry_funnel(store, ["kudus"]) == reports.funnel(kudus)
                assert reports.registry_funnel(store, ["kosong"]).total == 0
                with pytest.raises(lf.StoreError, match="no lab 'nowhere'"):
                    reports.registry_funnel(store, ["kudus", "nowhere"])
                with pytest.raises(lf.StoreError, match=r"'k[a-z]+' was not verified"):
                    reports.registry_funnel(store, checked={"kebumen": checked["kebumen"]})
                with pytest.raises(lf.InvalidCommand, match="verify_all"):
                    reports.registry_funnel(store, checked={"kebumen": [1]})  # type: ignore[list-item]
                funnels.append(funnel)
    merged = reports.merge_funnels(reports.funnel(lab) for lab in (kebumen, kudus, empty))
    assert funnels == [merged, merged]
    assert merged.withdrawn == 1
    assert merged.total == len(kebumen.innovations) + len(kudus.innovations)


def test_a_lab_whose_first_event_went_after_the_check_is_refused_not_left_out(
    where: tuple[str, str],
) -> None:
    """The funnel reads each lab's stage ids from its first event: if that event is deleted
    between the check and the count, the lab is refused, never silently not counted."""
    kind, location = where
    with open_at(kind, location) as store:
        save(store, tamper_lab())
        checked = store.verify_all()
    with raw(kind, location) as conn:
        statement = "DELETE FROM {e} WHERE stream = (SELECT id FROM {s} WHERE is_lab) AND seq = 1"
        assert conn.execute(sql(kind, statement)).rowcount == 1
    with (
        open_at(kind, location) as store,
        pytest.raises(lf.StoreError, match=r"does not start with lab\.created"),
    ):
        reports.registry_funnel(store, checked=checked)


def test_a_stores_kept_fold_never_outlives_a_rewrite_under_it(where: tuple[str, str]) -> None:
    """A store folds a commit on top of what it folded at its last commit -- but only while
    the stored version *and head* are still those: after a rewrite that keeps the version
    (a withdrawal replaced by a re-hashed attachment), a reinstatement that the store's
    memory would accept is refused, as a store opened afresh refuses it."""
    kind, location = where
    lab = tamper_lab()
    with open_at(kind, location) as store:
        save(store, lab)  # the store now holds ino-dinkes folded to its withdrawal
        withdrawn = lab.innovation("ino-dinkes").history[-1]
        assert withdrawn.kind == "innovation.withdrawn"
        evidence = lab.innovation("ino-bag-tapem").history[-1]
        before = lab.innovation("ino-dinkes").history[-2]
        forged = make_event(
            "ino-dinkes", withdrawn.seq, withdrawn.at, evidence.actor, evidence.kind,
            dict(evidence.payload), before.hash,
        )  # fmt: skip
        text = json.dumps(forged.payload, sort_keys=True, separators=(",", ":"))
        mark = "?" if kind == "sqlite" else "%s"
        with raw(kind, location) as conn:
            conn.execute(
                sql(kind, f"UPDATE {{e}} SET actor = {mark}, kind = {mark}, payload = {mark}, "
                f"hash = {mark} WHERE stream = {_SID} AND seq = {mark}"),
                (forged.actor, forged.kind, text, forged.hash, forged.seq),
            )  # fmt: skip
            conn.execute(
                sql(kind, f"UPDATE {{s}} SET head = {mark}, status = 'active' "
                "WHERE subject = 'ino-dinkes' AND NOT is_lab"),
                (forged.hash,),
            )  # fmt: skip
        reinstated = lab.reinstate("ino-dinkes", reason="lanjut", by="sekretariat")
        onto_forgery = make_event(
            "ino-dinkes", reinstated.seq, reinstated.at, reinstated.actor, reinstated.kind,
            dict(reinstated.payload), forged.hash,
        )  # fmt: skip
        append = Append("ino-dinkes", forged.seq, (onto_forgery,))
        with pytest.raises(HistoryError, match="not withdrawn"):
            store.commit("kebumen", [append])
    with open_at(kind, location) as fresh, pytest.raises(HistoryError, match="not withdrawn"):
        fresh.commit("kebumen", [append])


# --- Races ------------------------------------------------------------------------------------

TARGETS = 10


def racer(
    kind: str, location: str, name: str, mode: str, races: int, barrier: Any, results: Any
) -> None:
    """One racing process: each race, load, wait for the others, all commit."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    store = open_at(kind, location, **({"timeout": 60} if kind == "sqlite" else {}))
    outcomes = []
    for race in range(races):
        lab_id = f"race-{race}" if mode == "lab" else "race"
        target = f"ino-{race % TARGETS:02}"
        session = store.session(lab_id)
        lab = session.__enter__()
        if mode == "lab":
            version = lab.version
            lab.advance_lab(by="sekretariat")
        else:
            version = lab.innovation(target).version
            lab.attach_evidence(target, title=f"{name} {race}", reference=name, by="sekretariat")
        barrier.wait()  # everyone holds the same versions now
        try:
            session.__exit__(None, None, None)
        except lf.ConflictError as exc:
            outcomes.append((race, version, "lost", exc.subject, ""))
        else:
            done = lab.history[-1] if mode == "lab" else lab.innovation(target).history[-1]
            outcomes.append((race, version, "won", done.subject, done.hash))
        barrier.wait()  # everyone is done before the next race loads
    store.close()
    results.put((name, outcomes))


@pytest.mark.parametrize("processes", [2, 4])
@pytest.mark.parametrize("mode", ["innovation", "lab"])
def test_racing_processes_have_exactly_one_winner_per_race(
    where: tuple[str, str], processes: int, mode: str
) -> None:
    """Every race: one winner, every loser a ConflictError, no event lost or doubled, and
    every history verifies -- on one innovation, and on advancing the lab (strict)."""
    kind, location = where
    races = RACES if processes == 2 else RACES // 2
    with open_at(kind, location) as store:
        if mode == "innovation":
            lab = make_lab(lab_id="race")
            for n in range(TARGETS):
                register(lab, f"ino-{n:02}", ("bag-tapem", "dinkes", "pkm-gombong")[n % 3])
            save(store, lab)
        else:
            for race in range(races):
                lab = make_lab(lab_id=f"race-{race}")
                cohort(lab)
                save(store, lab)
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(processes, timeout=120), ctx.Queue()
    names = [f"p{n}" for n in range(processes)]
    workers = [
        ctx.Process(target=racer, args=(kind, location, name, mode, races, barrier, results))
        for name in names
    ]
    for worker in workers:
        worker.start()
    outcomes = dict(results.get(timeout=600) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    won: dict[str, set[str]] = {}
    winners = set()
    for race in range(races):
        rows = [outcomes[name][race] for name in names]
        assert len({r[1] for r in rows}) == 1  # all loaded the same version
        assert [r[2] for r in rows].count("won") == 1, f"race {race}: {rows}"
        winner = next(r for r in rows if r[2] == "won")
        winners.add(next(n for n in names if outcomes[n][race] is winner))
        won.setdefault(winner[3], set()).add(winner[4])
    with open_at(kind, location) as store:
        checked = store.verify_all()
        assert all(v.ok for results_ in checked.values() for v in results_)
        if mode == "innovation":
            lab = store.load("race")
            for n in range(TARGETS):
                history = lab.innovation(f"ino-{n:02}").history
                assert {e.hash for e in history[1:]} == won.get(f"ino-{n:02}", set())
            assert sum(len(i.history) - 1 for i in lab.innovations.values()) == races
        else:
            for race in range(races):
                assert store.load(f"race-{race}").history[-1].hash in won[f"race-{race}"]
    assert len(winners) > 1  # the races were real: more than one process won some


# --- Crashes -----------------------------------------------------------------------------------

CEREMONY = 150

#: The writer: attaches evidence to every innovation in one session (one bulk commit), and
#: stops mid-commit when told to, so that it is killed with part of the commit sent.
WRITER = textwrap.dedent(
    """
    import logging, sys, time
    import structlog
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    kind, where, round_, fire_at = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if kind == "sqlite":
        from labflow.store.sqlite import SQLiteStore
        store = SQLiteStore(where)
    else:
        from labflow.store.postgres import PostgresStore
        store = PostgresStore(where)
    calls = 0

    def progress():
        global calls
        calls += 1
        if calls == fire_at:
            print("mid", flush=True)
            time.sleep(60)
        return 0

    with store.session("kebumen") as lab:
        for inn in list(lab.innovations.values()):
            lab.attach_evidence(inn.id, title=f"round {round_}", reference="r", by="sekretariat")
        if kind == "sqlite":
            store._conn.set_progress_handler(progress, 100)
        else:
            print("mid", flush=True)  # the test holds a lock this commit will wait for
    print("finished", flush=True)
    """
)


def ceremony(kind: str, location: str) -> None:
    lab = make_lab()
    units = ("bag-tapem", "dinkes", "pkm-gombong")
    for n in range(CEREMONY):
        register(lab, f"ino-{n:03}", units[n % 3])
    with open_at(kind, location) as store:
        save(store, lab)


@contextmanager
def blocking_lock(kind: str, location: str, round_: int) -> Iterator[None]:
    """On PostgreSQL, hold a lock the writer's commit will wait for, half-way through it.

    Even rounds hold an innovation's row (the writer waits after locking the rows before
    it); odd rounds insert, uncommitted, the writer's next event of the last innovation
    (it waits on that key after sending the other events).
    """
    if kind == "sqlite":
        yield
        return
    import psycopg

    with psycopg.connect(location) as conn:
        last = f"ino-{CEREMONY - 1:03}"
        if round_ % 2 == 0:
            target = f"ino-{(round_ * 7) % CEREMONY:03}"
            conn.execute("SELECT 1 FROM labflow_streams WHERE subject = %s FOR UPDATE", (target,))
        else:
            conn.execute(
                "INSERT INTO labflow_events SELECT stream, seq + 1, at, actor, kind, payload, "
                "prev, hash FROM labflow_events e JOIN labflow_streams s ON s.id = e.stream "
                "WHERE s.subject = %s AND e.seq = s.version",
                (last,),
            )
        yield
        conn.rollback()


def wait_until_blocked(kind: str, location: str) -> None:
    """On PostgreSQL, until another backend waits for a lock: the writer is mid-commit."""
    if kind == "sqlite":
        return
    import psycopg

    with psycopg.connect(location, autocommit=True) as conn:
        for _ in range(600):
            waiting = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            ).fetchone()
            if waiting is not None and waiting[0] > 0:
                return
            time.sleep(0.05)
    raise AssertionError("the writer never reached the lock")


def test_writers_killed_mid_bulk_commit_leave_nothing_partial(where: tuple[str, str]) -> None:
    """KILLS times, a writer is SIGKILLed while its bulk commit (one event per innovation)
    is half sent: afterwards each round's evidence is on every innovation or on none, every
    history verifies, and the store works on."""
    kind, location = where
    ceremony(kind, location)
    rng = random.Random(10)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    for round_ in range(KILLS):
        fire_at = rng.randrange(5, 60)
        with blocking_lock(kind, location, round_):
            child = subprocess.Popen(
                [sys.executable, "-c", WRITER, kind, location, str(round_), str(fire_at)],
                stdout=subprocess.PIPE,
                env=env,
                text=True,
            )
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "mid"
            wait_until_blocked(kind, location)
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
            child.stdout.close()
        assert child.returncode == -signal.SIGKILL
    # One last round that completes, so "nothing" is not the only outcome seen.
    with open_at(kind, location) as store:
        with store.session("kebumen") as lab:
            for inn in list(lab.innovations.values()):
                lab.attach_evidence(inn.id, title="final", reference="r", by="sekretariat")
        assert all(v.ok for v in store.verify_all()["kebumen"])
        lab = store.load("kebumen")
    titles = {tuple(x.title for x in inn.evidence) for inn in lab.innovations.values()}
    assert titles == {("final",)}
    if kind == "sqlite":
        conn = sqlite3.connect(location)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.close()


def test_a_dropped_connection_mid_commit_writes_nothing_and_the_store_recovers(
    tmp_path: Path,
) -> None:
    """pg_terminate_backend on a writer's connection while its bulk commit waits half-way:
    a StoreError, nothing written, every history verifies, and the same store commits next."""
    import psycopg

    from labflow.store.postgres import PostgresStore

    with postgres_schema() as location:
        PostgresStore(location, create=True).close()
        ceremony("postgres", location)
        store = PostgresStore(location)
        before = {inn: store.version("kebumen", inn) for inn in ("ino-000", "ino-149")}
        with blocking_lock("postgres", location, 1):
            errors: list[BaseException] = []

            def write() -> None:
                try:
                    with store.session("kebumen") as lab:
                        for inn in list(lab.innovations.values()):
                            lab.attach_evidence(inn.id, title="x", reference="r", by="sekretariat")
                except lf.LabflowError as exc:
                    errors.append(exc)

            import threading

            thread = threading.Thread(target=write)
            thread.start()
            wait_until_blocked("postgres", location)
            with psycopg.connect(location, autocommit=True) as killer:
                killed = killer.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                ).fetchall()
            thread.join(timeout=60)
        assert killed == [(True,)]
        assert len(errors) == 1
        assert isinstance(errors[0], lf.StoreError)
        assert {inn: store.version("kebumen", inn) for inn in before} == before
        assert all(v.ok for v in store.verify_all()["kebumen"])
        with store.session("kebumen") as lab:
            lab.attach_evidence("ino-000", title="after", reference="r", by="sekretariat")
        assert store.version("kebumen", "ino-000") == before["ino-000"] + 1
        store.close()


# --- Sealed checkpoints: what the chain alone cannot see -------------------------------------


def rewrite_with_recomputed_hashes(kind: str, location: str) -> None:
    """Change who acted in ino-dinkes's second event and recompute every hash after it and
    the stored head: a forgery every chain check accepts."""
    mark = "?" if kind == "sqlite" else "%s"
    with raw(kind, location) as conn:
        sid = conn.execute(sql(kind, _SID)[1:-1]).fetchone()[0]
        rows = conn.execute(
            sql(kind, f"SELECT seq, at, actor, kind, payload FROM {{e}} WHERE stream = {mark} ")
            + "ORDER BY seq",
            (sid,),
        ).fetchall()
        prev = GENESIS
        for seq, at, actor, event_kind, payload in rows:
            who = "bupati" if seq == 2 else actor
            event = make_event(
                "ino-dinkes", seq, datetime.fromisoformat(at), who, event_kind,
                json.loads(payload), prev,
            )  # fmt: skip
            conn.execute(
                sql(
                    kind,
                    f"UPDATE {{e}} SET actor = {mark}, prev = {mark}, hash = {mark} "
                    f"WHERE stream = {mark} AND seq = {mark}",
                ),
                (who, event.prev, event.hash, sid, seq),
            )
            prev = event.hash
        conn.execute(sql(kind, f"UPDATE {{s}} SET head = {mark} WHERE id = {mark}"), (prev, sid))


_BSID = "(SELECT id FROM {s} WHERE subject = 'ino-bag-tapem' AND NOT is_lab)"
_BLAST = "(SELECT version FROM {s} WHERE subject = 'ino-bag-tapem' AND NOT is_lab)"

#: Edits that keep every chain sound, so only a checkpoint taken before them can see them.
SEALED_TAMPERING: dict[str, Any] = {
    "re-hashed rewrite": rewrite_with_recomputed_hashes,
    "tail cut and head moved": [
        f"DELETE FROM {{e}} WHERE stream = {_BSID} AND seq = {_BLAST}",
        "UPDATE {s} SET version = version - 1, head = (SELECT hash FROM {e} WHERE stream = "
        "{s}.id AND seq = {s}.version - 1) WHERE subject = 'ino-bag-tapem' AND NOT is_lab",
    ],
    "innovation deleted with its row": [
        f"DELETE FROM {{e}} WHERE stream = {_SID}",
        "DELETE FROM {s} WHERE subject = 'ino-dinkes' AND NOT is_lab",
    ],
}


@pytest.mark.parametrize("edit", sorted(SEALED_TAMPERING))
@pytest.mark.parametrize("seal", ["hmac", "ed25519"])
def test_a_checkpoint_finds_what_the_chain_cannot(
    where: tuple[str, str], edit: str, seal: str
) -> None:
    """After a checkpoint, a rewrite with recomputed hashes, a cut tail with its head moved,
    and an innovation deleted with its row all verify as chains -- and the checkpoint, kept
    outside the database, names each; with the public key alone for Ed25519."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from labflow.store.checkpoint import Checkpoint, make_checkpoint, verify_checkpoint

    kind, location = where
    signing: Any = b"k" * 32 if seal == "hmac" else Ed25519PrivateKey.generate()
    checking = signing if seal == "hmac" else signing.public_key()
    lab = tamper_lab()
    with open_at(kind, location) as store:
        save(store, lab)
        sealed = Checkpoint.from_json(make_checkpoint(store, signing).to_json())
        assert verify_checkpoint(store, sealed, checking).ok
    tampering = SEALED_TAMPERING[edit]
    if callable(tampering):
        tampering(kind, location)
    else:
        with raw(kind, location) as conn:
            for statement in tampering:
                conn.execute(sql(kind, statement))
    with open_at(kind, location) as store:
        chains = store.verify_all()["kebumen"]
        report = verify_checkpoint(store, sealed, checking)
        assert store.verify_checkpoint(sealed, checking) == report  # the store's own method
    if edit == "innovation deleted with its row":  # the registration index sees this one
        assert [v.subject for v in chains if not v.ok] == ["ino-dinkes"]
    else:
        assert all(v.ok for v in chains)  # the chains alone see nothing
    assert not report.ok
    expected = "ino-bag-tapem" if "tail" in edit else "ino-dinkes"
    assert len(report.problems) == 1
    assert expected in report.problems[0]


def test_an_altered_checkpoint_is_refused(where: tuple[str, str]) -> None:
    from labflow.store.checkpoint import (
        Checkpoint,
        CheckpointError,
        make_checkpoint,
        verify_checkpoint,
    )

    kind, location = where
    with open_at(kind, location) as store:
        save(store, tamper_lab())
        text = make_checkpoint(store, b"k" * 32).to_json()
        seq = int(re.search(r'"seq": (\d+)', text)[1])  # type: ignore[index]
        forged = Checkpoint.from_json(text.replace(f'"seq": {seq},', f'"seq": {seq - 1},', 1))
        assert forged != Checkpoint.from_json(text)
        with pytest.raises(CheckpointError, match="signature"):
            verify_checkpoint(store, forged, b"k" * 32)
        with pytest.raises(CheckpointError, match="signature"):
            verify_checkpoint(store, Checkpoint.from_json(text), b"x" * 32)
        for bad in ("", "[]", '{"format": "other"}', "{" * 100_000):
            with pytest.raises(CheckpointError, match="not a labflow checkpoint"):
                Checkpoint.from_json(bad)
