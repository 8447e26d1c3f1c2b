"""What only the PostgreSQL stores do: schema versions, the asyncio session, the CLI's URL.

The shared contract (tests/test_store.py) and the SQL-store tests (races, crashes,
tampering) run against these stores too; these tests need a real server, named by
``LABFLOW_TEST_POSTGRES_URL`` (see tests/_stores.py).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

import labflow as lf
from _stores import postgres_schema
from helpers import cohort, make_lab, register
from labflow import cli
from labflow.errors import ConflictError, StoreError
from labflow.store import Append, AsyncSession, AsyncStore, StoreMissing, StoreTooNew
from labflow.store.postgres import SCHEMA_VERSION, AsyncPostgresStore, PostgresStore


@pytest.fixture
def url() -> Iterator[str]:
    with postgres_schema() as made:
        yield made


def save(store: PostgresStore, lab: lf.Lab) -> None:
    appends = [Append(lab.id, 0, lab.history, lab=True)]
    appends += [Append(i.id, 0, i.history) for i in lab.innovations.values()]
    store.commit(lab.id, appends)


def test_an_empty_database_is_refused_unless_created(url: str) -> None:
    with pytest.raises(StoreMissing, match="no labflow store"):
        PostgresStore(url)
    with PostgresStore(url, create=True) as store:
        assert store.lab_ids() == []
    with PostgresStore(url) as store, store._transaction(read=True) as cur:  # opens now
        assert cur.execute("SELECT version FROM labflow_schema").fetchall() == [(SCHEMA_VERSION,)]


def test_a_schema_from_a_newer_labflow_is_refused_unchanged(url: str) -> None:
    PostgresStore(url, create=True).close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE labflow_schema SET version = %s", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreTooNew, match="newer labflow"):
        PostgresStore(url, create=True)
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT version FROM labflow_schema").fetchone() == (
            SCHEMA_VERSION + 1,
        )


def test_an_unreachable_server_is_one_sentence_and_quick() -> None:
    with pytest.raises(StoreMissing, match=r"cannot be reached: .*\.$"):
        PostgresStore("postgresql://nobody:secret@127.0.0.1:1/none", timeout=2)


def test_the_password_never_appears_in_messages() -> None:
    with pytest.raises(StoreMissing) as caught:
        PostgresStore("postgresql://nobody:hunter2@127.0.0.1:1/none", timeout=2)
    assert "hunter2" not in str(caught.value)
    assert "***" in str(caught.value)


def test_two_stores_on_one_database_see_each_others_commits_and_conflict(url: str) -> None:
    with PostgresStore(url, create=True) as one, PostgresStore(url) as two:
        lab = make_lab()
        cohort(lab)
        save(one, lab)
        a = one.session("kebumen")
        b = two.session("kebumen")
        live_a, live_b = a.__enter__(), b.__enter__()
        live_a.withdraw("ino-dinkes", reason="a", by="sekretariat")
        live_b.withdraw("ino-dinkes", reason="b", by="sekretariat")
        a.__exit__(None, None, None)
        with pytest.raises(ConflictError):
            b.__exit__(None, None, None)
        assert [e.payload.get("reason") for e in two.history("kebumen", "ino-dinkes")] == [
            None,
            "a",
        ]


def test_the_async_store_keeps_the_async_protocol_and_sessions_commit(url: str) -> None:
    lab = make_lab()
    cohort(lab)

    async def work() -> None:
        store = await AsyncPostgresStore.connect(url, create=True)
        async with store:
            assert isinstance(store, AsyncStore)
            await store.commit(lab.id, [Append(lab.id, 0, lab.history, lab=True)])
            session = store.session("kebumen")
            assert isinstance(session, AsyncSession)
            async with session as live:
                register(live, "baru", "dinkes")
            assert [e.kind for e in session.committed] == ["innovation.registered"]
            assert await store.version("kebumen", "baru") == 1
            # Two sessions on one stream: the second to commit conflicts and writes nothing.
            first, second = store.session("kebumen"), store.session("kebumen")
            live_1 = await first.__aenter__()
            live_2 = await second.__aenter__()
            live_1.withdraw("baru", reason="duplikat", by="sekretariat")
            live_2.withdraw("baru", reason="ganda", by="sekretariat")
            await first.__aexit__(None, None, None)
            with pytest.raises(ConflictError):
                await second.__aexit__(None, None, None)
            history = await store.history("kebumen", "baru")
            assert [e.payload.get("reason") for e in history][1:] == ["duplikat"]
            results = await store.verify_all()
            assert all(v.ok for v in results["kebumen"])
            # A block that raises commits nothing.
            failing = store.session("kebumen")
            live = await failing.__aenter__()
            register(live, "lain", "dinkes")
            await failing.__aexit__(RuntimeError, RuntimeError("stop"), None)
            assert await store.version("kebumen", "lain") == 0
        with pytest.raises(StoreError):
            await store.lab_ids()  # closed

    asyncio.run(work())


def test_the_cli_takes_a_postgresql_url_and_the_environment_variable(
    url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.chdir(str(tmp_path))
    out, err = io.StringIO(), io.StringIO()
    # make_conninfo gives key=value; the CLI takes URLs: build one with the same schema
    schema = url.split("search_path=")[1].split("'")[0].split()[0]
    base = psycopg.conninfo.conninfo_to_dict(url)
    target = (
        f"postgresql://{base['user']}@{base['host']}:{base['port']}/{base['dbname']}"
        f"?options=-csearch_path%3D{schema}"
    )
    actors = Path(str(tmp_path)) / "actors.csv"
    actors.write_text("id,name,roles,unit\nsek,Sekretariat,secretariat,\n", encoding="utf-8")
    code = cli.main(
        ["create", "--db", target, "--by", "sek", "--policy", "kebumen-2016", "--id", "keb",
         "--region", "Kebumen", "--actors", str(actors)],
        stdout=out, stderr=err,
    )  # fmt: skip
    assert code == cli.EXIT_OK, err.getvalue()
    monkeypatch.setenv(cli.DB_ENV, target)
    out = io.StringIO()
    assert cli.main(["status", "--json"], stdout=out, stderr=err) == cli.EXIT_OK
    assert '"keb"' in out.getvalue()
    assert not (tmp_path / "labflow.db").exists()  # type: ignore[operator]
