"""Sessions given the versions a page was rendered from: a stale form is a conflict, not a move.

Run against every store (memory, SQLite plain and asyncio, PostgreSQL plain and
asyncio), and the asyncio SQLite store's own promises: it keeps the `AsyncStore`
protocol, runs its sessions, and is refused once closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import labflow as lf
from _stores import KINDS, open_store
from helpers import cohort, make_lab, register
from labflow.store import Append, AsyncSession, AsyncSQLiteStore, AsyncStore, Store


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with open_store(request.param, tmp_path) as made:
        yield made


def save(store: Store, lab: lf.Lab) -> None:
    appends = [Append(lab.id, 0, lab.history, lab=True)]
    appends += [Append(i.id, 0, i.history) for i in lab.innovations.values()]
    store.commit(lab.id, appends)


def stored(store: Store) -> tuple[int, list[int]]:
    """The lab's version and every innovation's: what must not move on a refusal."""
    return store.version("kebumen"), [len(h) for h in store.histories("kebumen")]


class TestExpect:
    def test_the_versions_seen_let_the_command_commit(self, store: Store) -> None:
        """A session expecting the versions that are stored runs and commits as usual."""
        lab = make_lab()
        cohort(lab)
        save(store, lab)
        seen = store.version("kebumen", "ino-dinkes")
        with store.session("kebumen", expect={"ino-dinkes": seen, None: lab.version}) as live:
            live.withdraw("ino-dinkes", reason="duplikat", by="sekretariat")
        assert store.version("kebumen", "ino-dinkes") == seen + 1

    def test_a_stale_page_conflicts_before_any_command_and_writes_nothing(
        self, store: Store
    ) -> None:
        """A form rendered from an older version: ConflictError naming the innovation and both
        versions, raised on entering, so the command never runs; nothing is written."""
        lab = make_lab()
        cohort(lab)
        save(store, lab)
        seen = store.version("kebumen", "ino-dinkes")
        with store.session("kebumen") as live:  # another tab moves it on
            live.withdraw("ino-dinkes", reason="a", by="sekretariat")
        before = stored(store)
        session = store.session("kebumen", expect={"ino-dinkes": seen})
        with pytest.raises(lf.ConflictError) as caught:
            session.__enter__()
        with pytest.raises(lf.StoreError, match="not been entered"):
            session.lab  # noqa: B018 - no lab was handed out to run a command on
        assert caught.value.data == {"subject": "ino-dinkes", "expected": seen, "found": seen + 1}
        assert stored(store) == before

    def test_a_double_submit_is_a_conflict_not_a_second_move(self, store: Store) -> None:
        """The same form sent twice: the first commits, the second (same versions) conflicts,
        and the stream holds one event more, not two."""
        lab = make_lab()
        cohort(lab)
        save(store, lab)
        seen = store.version("kebumen", "ino-dinkes")
        for attempt in range(2):
            try:
                with store.session("kebumen", expect={"ino-dinkes": seen}) as live:
                    live.withdraw("ino-dinkes", reason="sekali", by="sekretariat")
            except lf.ConflictError:
                assert attempt == 1
            else:
                assert attempt == 0
        assert store.version("kebumen", "ino-dinkes") == seen + 1

    def test_a_stream_read_but_not_written_is_checked_in_the_commit(self, store: Store) -> None:
        """A session given the page's versions writes one innovation; meanwhile another
        moves the other innovation the page showed: the commit conflicts and writes nothing."""
        lab = make_lab()
        cohort(lab)
        save(store, lab)
        seen = {
            "ino-dinkes": store.version("kebumen", "ino-dinkes"),
            "ino-bag-tapem": store.version("kebumen", "ino-bag-tapem"),
        }
        a = store.session("kebumen", expect=seen)
        b = store.session("kebumen")
        live_a, live_b = a.__enter__(), b.__enter__()
        live_a.withdraw("ino-bag-tapem", reason="a", by="sekretariat")  # read ino-dinkes only
        live_b.withdraw("ino-dinkes", reason="b", by="sekretariat")
        b.__exit__(None, None, None)
        before = stored(store)
        with pytest.raises(lf.ConflictError) as caught:
            a.__exit__(None, None, None)
        assert caught.value.data["subject"] == "ino-dinkes"
        assert stored(store) == before

    def test_the_lab_own_history_is_expected_under_none(self, store: Store) -> None:
        """``None`` names the lab's own history: a roster changed since the page conflicts."""
        lab = make_lab()
        cohort(lab)
        save(store, lab)
        with store.session("kebumen") as live:
            live.add_actor(lf.Actor("baru", "Baru", {lf.Role.SECRETARIAT}), by="sekretariat")
        with pytest.raises(lf.ConflictError) as caught:
            store.session("kebumen", expect={None: lab.version}).__enter__()
        assert caught.value.data == {
            "subject": "kebumen",
            "expected": lab.version,
            "found": lab.version + 1,
        }

    def test_an_innovation_not_yet_registered_is_at_version_zero(self, store: Store) -> None:
        """Expecting 0 of an id means "not registered yet": the first registration commits,
        a second form expecting 0 conflicts."""
        lab = make_lab()
        cohort(lab)
        save(store, lab)
        with store.session("kebumen", expect={"baru": 0}) as live:
            register(live, "baru", "dinkes")
        with pytest.raises(lf.ConflictError):
            store.session("kebumen", expect={"baru": 0}).__enter__()
        assert store.version("kebumen", "baru") == 1

    @pytest.mark.parametrize(
        "expect",
        [
            ["ino-dinkes"],
            "ino-dinkes",
            {"ino-dinkes": "3"},
            {"ino-dinkes": -1},
            {"ino-dinkes": True},
            {3: 1},
            dict.fromkeys((f"i{n}" for n in range(10_001)), 0),
        ],
    )
    def test_a_malformed_expect_is_invalid_command(self, store: Store, expect: Any) -> None:
        """Anything but a mapping of ids (or None) to whole versions is InvalidCommand, made
        before loading: nothing is read or written."""
        with pytest.raises(lf.InvalidCommand):
            store.session("kebumen", expect=expect)


class TestAsyncSQLiteStore:
    def test_it_keeps_the_async_protocol_and_its_sessions_commit_and_conflict(
        self, tmp_path: Path
    ) -> None:
        """The asyncio SQLite store: an AsyncStore whose AsyncSession commits, whose stale
        session conflicts, whose raising block writes nothing, and which refuses use once
        closed."""
        lab = make_lab()
        cohort(lab)

        async def work() -> None:
            store = await AsyncSQLiteStore.connect(tmp_path / "lab.db", create=True)
            async with store:
                assert isinstance(store, AsyncStore)
                await store.commit(lab.id, [Append(lab.id, 0, lab.history, lab=True)])
                session = store.session("kebumen", expect={"baru": 0})
                assert isinstance(session, AsyncSession)
                async with session as live:
                    register(live, "baru", "dinkes")
                assert [e.kind for e in session.committed] == ["innovation.registered"]
                assert await store.version("kebumen", "baru") == 1
                with pytest.raises(lf.ConflictError):
                    async with store.session("kebumen", expect={"baru": 0}):
                        pass  # pragma: no cover
                first, second = store.session("kebumen"), store.session("kebumen")
                live_1 = await first.__aenter__()
                live_2 = await second.__aenter__()
                live_1.withdraw("baru", reason="duplikat", by="sekretariat")
                live_2.withdraw("baru", reason="ganda", by="sekretariat")
                await first.__aexit__(None, None, None)
                with pytest.raises(lf.ConflictError):
                    await second.__aexit__(None, None, None)
                history = await store.history("kebumen", "baru")
                assert [e.payload.get("reason") for e in history][1:] == ["duplikat"]
                failing = store.session("kebumen")
                live = await failing.__aenter__()
                register(live, "lain", "dinkes")
                await failing.__aexit__(RuntimeError, RuntimeError("stop"), None)
                assert await store.version("kebumen", "lain") == 0
                assert all(v.ok for v in (await store.verify_all())["kebumen"])
            with pytest.raises(lf.StoreError, match="closed"):
                await store.lab_ids()
            await store.close()  # a second close is harmless

        asyncio.run(work())

    def test_a_missing_file_is_refused_and_no_worker_is_left(self, tmp_path: Path) -> None:
        """Opening a path with no database is StoreMissing, as for SQLiteStore."""
        import threading

        before = {t.name for t in threading.enumerate()}
        with pytest.raises(lf.StoreError):
            asyncio.run(AsyncSQLiteStore.connect(tmp_path / "none.db"))
        for _ in range(100):
            if not {t.name for t in threading.enumerate()} - before:
                break
            threading.Event().wait(0.02)
        assert (
            not {t.name for t in threading.enumerate() if t.name.startswith("labflow-sqlite")}
            - before
        )

    def test_the_event_loop_runs_while_a_lab_loads(self, tmp_path: Path) -> None:
        """Loads run in the store's worker thread: other tasks progress meanwhile."""
        lab = make_lab()
        cohort(lab)

        async def work() -> int:
            async with await AsyncSQLiteStore.connect(tmp_path / "lab.db", create=True) as store:
                appends = [Append(lab.id, 0, lab.history, lab=True)]
                appends += [Append(i.id, 0, i.history) for i in lab.innovations.values()]
                await store.commit(lab.id, appends)
                ticks = 0

                async def tick() -> None:
                    nonlocal ticks
                    while True:
                        ticks += 1
                        await asyncio.sleep(0)

                ticker = asyncio.create_task(tick())
                loaded = [await store.load("kebumen") for _ in range(20)]
                ticker.cancel()
                assert all(x == loaded[0] for x in loaded)
                return ticks

        assert asyncio.run(work()) > 20
