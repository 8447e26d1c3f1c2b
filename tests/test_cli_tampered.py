"""Reads on a lab whose history fails verification warn first, then answer, and exit 5.

Writes stay refused (exit 5, nothing written). A read names every history that fails and
its first bad event on standard error *before* its answer (``--json``: also a ``warnings``
field in object answers), answers from what still verifies -- never from a stored row that
was edited -- and exits 5.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _stores import SQL_KINDS, postgres_schema
from labflow import cli
from test_cli_checkpoint import cli_url
from test_store_sql import TAMPERING, open_at, raw, save, sql, tamper_lab

#: Every reading command about a lab, with what its answer must show.
READS: dict[str, list[str]] = {
    "status": ["status"],
    "status of an innovation": ["status", "ino-bag-tapem"],
    "list": ["list"],
    "list --blocked": ["list", "--blocked"],
    "history": ["history", "ino-dinkes"],
    "report": ["report"],
    "report --html": ["report", "--html", "{tmp}/laporan.html"],
    "export json": ["export", "--format", "json"],
    "export csv": ["export", "--format", "csv"],
    "actors": ["actors"],
    "units": ["units"],
}


def run(*argv: str, together: bool = False) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=out if together else err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def sound(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("tampered") / "sound.db"
    with open_at("sqlite", str(db), create=True) as store:
        save(store, tamper_lab())
    return db


def tampered(sound: Path, tmp_path: Path, edit: str) -> Path:
    db = tmp_path / "tampered.db"
    shutil.copy(sound, db)
    with raw("sqlite", str(db)) as conn:
        for statement in TAMPERING[edit]:
            conn.execute(sql("sqlite", statement))
    return db


class TestEveryReadWarnsThenAnswers:
    @pytest.mark.parametrize("read", sorted(READS))
    def test_after_an_edited_event(self, sound: Path, tmp_path: Path, read: str) -> None:
        """An actor edited in ino-dinkes's second event: the warning names it, comes before
        the answer, and the read exits 5 after answering."""
        db = tampered(sound, tmp_path, "actor edited")
        argv = [a.format(tmp=tmp_path) for a in READS[read]]
        code, both, _ = run(*argv, "--db", str(db), together=True)
        assert code == cli.EXIT_UNVERIFIED, both
        warning = "⚠ The history of ino-dinkes does not verify at event 2"
        assert both.startswith(warning)  # before anything of the answer
        answer = both.split("exit code 5)", 1)[1]  # everything after the warning
        assert answer.strip() or read == "report --html", both
        assert "Traceback" not in both
        code, sound_out, _ = run(*argv, "--db", str(sound))
        assert code == cli.EXIT_OK  # the same read on the sound lab: no warning, exit 0
        assert "does not verify" not in sound_out

    @pytest.mark.parametrize("read", ["status", "report"])
    def test_json_answers_carry_the_warnings(self, sound: Path, tmp_path: Path, read: str) -> None:
        db = tampered(sound, tmp_path, "actor edited")
        code, out, err = run(read, "--db", str(db), "--json")
        assert code == cli.EXIT_UNVERIFIED
        answer = json.loads(out)  # standard output is still one JSON value
        assert answer["warnings"] == [
            {"subject": "ino-dinkes", "seq": 2, "reason": "its content does not match its hash"}
        ]
        assert "ino-dinkes" in err
        code, out, _ = run(read, "--db", str(sound), "--json")
        assert "warnings" not in json.loads(out)

    def test_a_list_answer_stays_a_list(self, sound: Path, tmp_path: Path) -> None:
        db = tampered(sound, tmp_path, "actor edited")
        code, out, err = run("list", "--db", str(db), "--json")
        assert code == cli.EXIT_UNVERIFIED
        assert isinstance(json.loads(out), list)
        assert "ino-dinkes" in err

    def test_the_warning_speaks_indonesian(self, sound: Path, tmp_path: Path) -> None:
        db = tampered(sound, tmp_path, "actor edited")
        code, _, err = run("status", "--db", str(db), "--lang", "id")
        assert code == cli.EXIT_UNVERIFIED
        assert "Riwayat ino-dinkes tidak terverifikasi pada peristiwa 2" in err
        assert "isinya tidak cocok dengan hash-nya" in err
        assert "Basis data ini telah diubah" in err
        assert "its content" not in err
        db = tampered(sound, tmp_path, "projection edited: status")
        code, _, err = run("status", "--db", str(db), "--lang", "id")
        assert code == cli.EXIT_UNVERIFIED
        assert "baris tersimpannya menyatakan status" in err
        assert "where its history" not in err
        assert "withdrawn" not in err  # statuses by their Indonesian words


class TestNeverAnEditedRow:
    def test_list_and_report_read_the_fold_not_the_edited_row(
        self, sound: Path, tmp_path: Path
    ) -> None:
        """``UPDATE streams SET stage='display'``: the list and the report's funnel give the
        stage the history gives, and a filter on the lie finds nothing."""
        db = tampered(sound, tmp_path, "projection edited: stage")
        code, out, _ = run("list", "--db", str(db), "--json")
        assert code == cli.EXIT_UNVERIFIED
        stages = {r["id"]: r["stage"] for r in json.loads(out)}
        assert stages["ino-dinkes"] == "design"
        code, out, _ = run("list", "--db", str(db), "--json", "--stage", "display")
        assert json.loads(out) == []
        code, out, _ = run("report", "--db", str(db), "--json")
        funnel = json.loads(out)["funnel"]
        assert sum(funnel["at"].get("display", {}).values()) == 0

    def test_status_reads_the_withdrawal_the_row_hides(self, sound: Path, tmp_path: Path) -> None:
        db = tampered(sound, tmp_path, "projection edited: status")
        code, out, _ = run("list", "--db", str(db), "--json", "--status", "active")
        assert code == cli.EXIT_UNVERIFIED
        assert "ino-dinkes" not in {r["id"] for r in json.loads(out)}


class TestWritesStayRefused:
    @pytest.mark.parametrize("edit", ["actor edited", "projection edited: stage", "tail cut"])
    def test_a_write_is_refused_and_changes_nothing(
        self, sound: Path, tmp_path: Path, edit: str
    ) -> None:
        db = tampered(sound, tmp_path, edit)
        before = db.read_bytes()
        code, out, err = run(
            "evidence", "ino-bag-tapem", "--db", str(db), "--by", "sekretariat",
            "--title", "Foto", "--reference", "f-9",
        )  # fmt: skip
        assert code == cli.EXIT_UNVERIFIED
        assert "ino-dinkes" in err
        assert not out
        assert db.read_bytes() == before

    def test_a_lab_whose_own_first_event_fails_is_not_read(
        self, sound: Path, tmp_path: Path
    ) -> None:
        """Nothing of the lab verifies (its policy is in that event): a warning, no answer."""
        db = tampered(sound, tmp_path, "lab event edited")
        code, out, err = run("status", "--db", str(db))
        assert code == cli.EXIT_UNVERIFIED
        assert not out
        assert "The history of kebumen does not verify at event 1" in err


@pytest.fixture(params=SQL_KINDS)
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
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


@pytest.mark.parametrize("edit", sorted(TAMPERING))
def test_every_tampering_gets_a_warning_on_every_store(
    where: tuple[str, str, str], edit: str
) -> None:
    """On SQLite and PostgreSQL, each edit of the tampering catalogue: ``status`` warns
    naming the edited history and exits 5; it answers unless the lab's own first event
    (which holds its policy) is the one edited."""
    kind, location, db = where
    with raw(kind, location) as conn:
        for statement in TAMPERING[edit]:
            conn.execute(sql(kind, statement))
    code, out, err = run("status", "--db", db, "--json")
    subject = "kebumen" if edit.startswith("lab") else "ino-dinkes"
    assert code == cli.EXIT_UNVERIFIED, err
    assert f"The history of {subject} does not verify" in err
    if edit.startswith("lab"):
        assert not out
    else:
        answer: Any = json.loads(out)
        assert answer["lab"] == "kebumen"
        assert [w["subject"] for w in answer["warnings"]] == [subject]
