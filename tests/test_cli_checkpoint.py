"""``labflow checkpoint`` and ``labflow verify --checkpoint``, on SQLite and a real PostgreSQL.

What the chain alone cannot see -- a history rewritten with recomputed hashes, a tail cut
with its head moved, an innovation deleted with its row -- the command finds against a
checkpoint taken before, with an HMAC key from the environment or an Ed25519 key in PEM
files (the public key alone verifies). Also the asyncio store's checkpoint.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _stores import SQL_KINDS, postgres_schema
from labflow import cli
from test_cli_lang import ENGLISH
from test_store_sql import SEALED_TAMPERING, open_at, raw, save, sql, tamper_lab

HMAC_KEY = b"kunci-rahasia-inspektorat-2016!!"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def cli_url(conninfo: str) -> str:
    """The URL the command takes for a test schema (``make_conninfo`` gives key=value)."""
    import psycopg

    schema = conninfo.split("search_path=")[1].split("'")[0].split()[0]
    base = psycopg.conninfo.conninfo_to_dict(conninfo)
    return (
        f"postgresql://{base['user']}@{base['host']}:{base['port']}/{base['dbname']}"
        f"?options=-csearch_path%3D{schema}"
    )


@pytest.fixture(params=SQL_KINDS)
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """``(kind, location, --db)`` of a database holding the tampering lab."""
    if request.param == "sqlite":
        path = str(tmp_path / "lab.db")
        with open_at("sqlite", path, create=True) as store:
            save(store, tamper_lab())
        yield "sqlite", path, path
    else:
        with postgres_schema() as url:
            with open_at("postgres", url, create=True) as store:
                save(store, tamper_lab())
            yield "postgres", url, cli_url(url)


@pytest.fixture
def ed25519_keys(tmp_path: Path) -> tuple[Path, Path]:
    """An Ed25519 private key and its public key, as PEM files (``openssl genpkey`` writes
    the same)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private, public = tmp_path / "private.pem", tmp_path / "public.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def tamper(kind: str, location: str, edit: str) -> None:
    tampering: Any = SEALED_TAMPERING[edit]
    if callable(tampering):
        tampering(kind, location)
        return
    with raw(kind, location) as conn:
        for statement in tampering:
            conn.execute(sql(kind, statement))


#: What ``verify --checkpoint --json`` says of each forgery: the history and the finding.
FOUND = {
    "re-hashed rewrite": ("ino-dinkes", "rewritten"),
    "tail cut and head moved": ("ino-bag-tapem", "cut"),
    "innovation deleted with its row": ("ino-dinkes", "vanished"),
}


class TestForgeriesAfterACheckpoint:
    @pytest.mark.parametrize("edit", sorted(SEALED_TAMPERING))
    @pytest.mark.parametrize("seal", ["hmac", "ed25519"])
    def test_the_command_finds_each_forgery_the_chain_cannot(
        self,
        where: tuple[str, str, str],
        edit: str,
        seal: str,
        tmp_path: Path,
        ed25519_keys: tuple[Path, Path],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Sealed, then forged: plain ``verify`` still exits 0, ``verify --checkpoint`` exits
        5 naming the history and what happened to it -- with the public key alone for
        Ed25519, and the HMAC key from an environment variable."""
        kind, location, db = where
        monkeypatch.setenv("INSPEKTORAT_KEY", HMAC_KEY.decode())
        private, public = ed25519_keys
        sealing = ["--key-env", "INSPEKTORAT_KEY"] if seal == "hmac" else ["--key", str(private)]
        checking = ["--key-env", "INSPEKTORAT_KEY"] if seal == "hmac" else ["--key", str(public)]
        sealed = str(tmp_path / "sealed.json")
        code, out, err = run("checkpoint", "--db", db, "--out", sealed, *sealing)
        assert code == cli.EXIT_OK, err
        assert "Merkle root" in out
        assert json.loads(Path(sealed).read_text())["algorithm"] == (
            "hmac-sha256" if seal == "hmac" else "ed25519"
        )
        code, out, err = run("verify", "--db", db, "--checkpoint", sealed, *checking)
        assert code == cli.EXIT_OK, err
        assert "holds" in out

        tamper(kind, location, edit)

        if edit == "innovation deleted with its row":  # the registration index sees it
            assert run("verify", "--db", db)[0] == cli.EXIT_UNVERIFIED
        else:
            assert run("verify", "--db", db)[0] == cli.EXIT_OK  # the chains alone see nothing
        code, out, err = run("verify", "--db", db, "--checkpoint", sealed, *checking)
        subject, problem = FOUND[edit]
        assert code == cli.EXIT_UNVERIFIED
        assert "does not hold" in err
        assert subject in err
        code, out, _ = run("verify", "--db", db, "--checkpoint", sealed, *checking, "--json")
        answer = json.loads(out)
        assert code == cli.EXIT_UNVERIFIED
        assert answer["ok"] is False
        assert answer["checkpoint"]["ok"] is False
        assert [(f["subject"], f["problem"]) for f in answer["checkpoint"]["findings"]] == [
            (subject, problem)
        ]

    def test_a_checkpoint_holds_while_the_lab_only_grows(
        self, where: tuple[str, str, str], tmp_path: Path
    ) -> None:
        """Histories that grew after the checkpoint are still unchanged prefixes."""
        _, _, db = where
        key = tmp_path / "hmac.key"
        key.write_bytes(HMAC_KEY + b"\n")  # a line end, as an editor writes it, is not the key
        sealed = str(tmp_path / "sealed.json")
        assert run("checkpoint", "--db", db, "--out", sealed, "--key", str(key))[0] == 0
        code, _, err = run(
            "evidence", "ino-bag-tapem", "--db", db,
            "--by", "sekretariat", "--title", "Foto 2", "--reference", "f-2",
        )  # fmt: skip
        assert code == cli.EXIT_OK, err
        key.write_bytes(HMAC_KEY)
        code, _out, err = run("verify", "--db", db, "--checkpoint", sealed, "--key", str(key))
        assert code == cli.EXIT_OK, err


class TestKeysAndFiles:
    def test_a_tampered_database_is_never_sealed(
        self, where: tuple[str, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A checkpoint would bless what it seals: a history that fails verification is
        named (exit 5) and no file is written."""
        kind, location, db = where
        with raw(kind, location) as conn:
            conn.execute(
                sql(
                    kind,
                    "UPDATE {s} SET stage = 'display' WHERE subject = 'ino-dinkes' AND NOT is_lab",
                )
            )
        monkeypatch.setenv("LABFLOW_CHECKPOINT_KEY", HMAC_KEY.decode())
        sealed = tmp_path / "sealed.json"
        code, _, err = run("checkpoint", "--db", db, "--out", str(sealed))
        assert code == cli.EXIT_UNVERIFIED
        assert "ino-dinkes" in err
        assert not sealed.exists()

    def test_an_altered_checkpoint_or_another_key_exits_5(
        self, where: tuple[str, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        _, _, db = where
        monkeypatch.setenv("LABFLOW_CHECKPOINT_KEY", HMAC_KEY.decode())
        sealed = tmp_path / "sealed.json"
        assert run("checkpoint", "--db", db, "--out", str(sealed))[0] == cli.EXIT_OK
        text = sealed.read_text()
        forged = tmp_path / "forged.json"
        seq = int(re.search(r'"seq": (\d+)', text)[1])  # type: ignore[index]
        forged.write_text(text.replace(f'"seq": {seq},', f'"seq": {seq - 1},', 1))
        assert forged.read_text() != text
        code, _, err = run("verify", "--db", db, "--checkpoint", str(forged))
        assert code == cli.EXIT_UNVERIFIED
        assert "signature does not hold" in err
        monkeypatch.setenv("LABFLOW_CHECKPOINT_KEY", "another-key-of-16-bytes")
        code, _, err = run("verify", "--db", db, "--checkpoint", str(sealed), "--lang", "id")
        assert code == cli.EXIT_UNVERIFIED
        assert "tanda tangannya tidak sah" in err

    def test_mistakes_with_keys_and_files_are_usage_errors(
        self,
        tmp_path: Path,
        ed25519_keys: tuple[Path, Path],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Each is one sentence with exit 2, and nothing is written."""
        db = str(tmp_path / "lab.db")
        with open_at("sqlite", db, create=True) as store:
            save(store, tamper_lab())
        monkeypatch.delenv("LABFLOW_CHECKPOINT_KEY", raising=False)
        private, public = ed25519_keys
        sealed = tmp_path / "sealed.json"
        short = tmp_path / "short.key"
        short.write_bytes(b"sandi")
        huge = tmp_path / "huge.key"
        with open(huge, "wb") as handle:
            handle.truncate(100 * 1024 * 1024)  # sparse: refused before it is read
        cases = {
            "no key": (["checkpoint", "--out", str(sealed)], "Give the key"),
            "unset variable": (
                ["checkpoint", "--out", str(sealed), "--key-env", "TIDAK_ADA"],
                "TIDAK_ADA is not set",
            ),
            "short key": (["checkpoint", "--out", str(sealed), "--key", str(short)], "16 bytes"),
            "huge key": (["checkpoint", "--out", str(sealed), "--key", str(huge)], "too large"),
            "public key to seal": (
                ["checkpoint", "--out", str(sealed), "--key", str(public)],
                "private key",
            ),
            "both kinds of key": (
                ["checkpoint", "--out", str(sealed), "--key", str(public), "--key-env", "X"],
                "cannot be used with",
            ),
            "missing key file": (
                ["checkpoint", "--out", str(sealed), "--key", str(tmp_path / "nope")],
                "Cannot read",
            ),
        }
        for name, (argv, said) in cases.items():
            code, _, err = run(*argv, "--db", db)
            assert code == cli.EXIT_USAGE, name
            assert said in err, (name, err)
            assert "Traceback" not in err
            assert not sealed.exists(), name

        assert run("checkpoint", "--db", db, "--out", str(sealed), "--key", str(private))[0] == 0
        before = sealed.read_bytes()
        code, _, err = run("checkpoint", "--db", db, "--out", str(sealed), "--key", str(private))
        assert code == cli.EXIT_USAGE
        assert "already exists" in err
        assert sealed.read_bytes() == before  # never written over
        hmac_key = tmp_path / "hmac.key"
        hmac_key.write_bytes(HMAC_KEY)
        code, _, err = run(
            "verify", "--db", db, "--checkpoint", str(sealed), "--key", str(hmac_key)
        )
        assert code == cli.EXIT_USAGE
        assert "sealed with ed25519" in err
        for bad in ("", "[]", '{"format": "other"}', "{" * 100_000):
            (tmp_path / "bad.json").write_text(bad)
            code, _, err = run(
                "verify",
                "--db",
                db,
                "--checkpoint",
                str(tmp_path / "bad.json"),
                "--key",
                str(public),
            )
            assert code == cli.EXIT_USAGE
            assert "not a labflow checkpoint" in err

    def test_the_key_is_not_written_to_the_database(self, tmp_path: Path) -> None:
        db = tmp_path / "lab.db"
        with open_at("sqlite", str(db), create=True) as store:
            save(store, tamper_lab())
        key = tmp_path / "hmac.key"
        key.write_bytes(HMAC_KEY)
        sealed = tmp_path / "sealed.json"
        assert run("checkpoint", "--db", str(db), "--out", str(sealed), "--key", str(key))[0] == 0
        stored = b"".join(p.read_bytes() for p in tmp_path.glob("lab.db*"))
        assert HMAC_KEY not in stored
        assert HMAC_KEY not in sealed.read_bytes()

    def test_checkpoint_speaks_indonesian_and_answers_json(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        db = str(tmp_path / "lab.db")
        with open_at("sqlite", db, create=True) as store:
            save(store, tamper_lab())
        monkeypatch.setenv("LABFLOW_CHECKPOINT_KEY", HMAC_KEY.decode())
        code, out, _ = run(
            "checkpoint", "--db", db, "--out", str(tmp_path / "a.json"), "--lang", "id"
        )
        assert code == cli.EXIT_OK
        assert "disegel" in out
        assert "Akar Merkle" in out
        assert not ENGLISH.search(out), out
        for edit in ("re-hashed rewrite", "tail cut and head moved"):  # worded in Indonesian
            tamper("sqlite", db, edit)
        code, out, err = run(
            "verify", "--db", db, "--checkpoint", str(tmp_path / "a.json"), "--lang", "id"
        )
        assert code == cli.EXIT_UNVERIFIED
        assert "telah ditulis ulang" in err
        assert "telah dipotong" in err
        assert not ENGLISH.search(out + err), out + err
        code, out, _ = run("checkpoint", "--db", db, "--out", str(tmp_path / "b.json"), "--json")
        answer = json.loads(out)
        assert set(answer) == {
            "checkpoint", "labs", "histories", "events", "root", "algorithm", "made_at",
        }  # fmt: skip
        assert answer["labs"] == ["kebumen"]
        sealed = json.loads((tmp_path / "b.json").read_text())
        assert answer["root"] == sealed["root"]
        assert answer["histories"] == len(sealed["streams"])


def test_the_async_store_seals_and_checks_like_the_sync_one() -> None:
    """`AsyncPostgresStore.checkpoint` gives the sync store's statement, and
    `verify_checkpoint_async` finds a tail cut with its head moved."""
    from labflow.store.checkpoint import make_checkpoint, verify_checkpoint_async
    from labflow.store.postgres import AsyncPostgresStore

    with postgres_schema() as url:
        with open_at("postgres", url, create=True) as store:
            save(store, tamper_lab())
            sync = make_checkpoint(store, HMAC_KEY)

        async def seal() -> Any:
            async with await AsyncPostgresStore.connect(url) as store:
                sealed = await store.checkpoint(HMAC_KEY)
                return sealed, await verify_checkpoint_async(store, sealed, HMAC_KEY)

        sealed, report = asyncio.run(seal())
        assert report.ok
        assert (sealed.root, sealed.leaves) == (sync.root, sync.leaves)
        tamper("postgres", url, "tail cut and head moved")

        async def check() -> Any:
            async with await AsyncPostgresStore.connect(url) as store:
                found = await verify_checkpoint_async(store, sealed, HMAC_KEY)
                assert await store.verify_checkpoint(sealed, HMAC_KEY) == found  # its method
                return found

        report = asyncio.run(check())
        assert [(f.subject, f.problem) for f in report.findings] == [("ino-bag-tapem", "cut")]


def test_the_async_sqlite_store_seals_and_checks_like_the_sync_one(tmp_path: Path) -> None:
    """`AsyncSQLiteStore.checkpoint` and `.verify_checkpoint` give what the sync store gives,
    and find a tail cut with its head moved."""
    from labflow.store import AsyncSQLiteStore

    path = str(tmp_path / "lab.db")
    with open_at("sqlite", path, create=True) as store:
        save(store, tamper_lab())
        sync = store.checkpoint(HMAC_KEY)

    async def seal() -> Any:
        async with await AsyncSQLiteStore.connect(path) as store:
            sealed = await store.checkpoint(HMAC_KEY)
            return sealed, await store.verify_checkpoint(sealed, HMAC_KEY)

    sealed, report = asyncio.run(seal())
    assert report.ok
    assert (sealed.root, sealed.leaves) == (sync.root, sync.leaves)
    tamper("sqlite", path, "tail cut and head moved")

    async def check() -> Any:
        async with await AsyncSQLiteStore.connect(path) as store:
            return await store.verify_checkpoint(sealed, HMAC_KEY)

    report = asyncio.run(check())
    assert [(f.subject, f.problem) for f in report.findings] == [("ino-bag-tapem", "cut")]
