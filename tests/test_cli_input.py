"""What ``labflow import`` and ``create`` read from files: bounded, and ids held to the id rule.

A file is refused by its size before it is read (a sparse file of 100 MB costs nothing to
refuse), and a pipe is read no further than the limit. A lab document's identifiers (the
lab's, its units', actors' and innovations', every event's subject and actor) follow the
identifier rule `labflow.Lab`'s commands apply -- no white space, no trailing newline --
not merely the free-text rule.
"""

from __future__ import annotations

import io
import json
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest

from helpers import cohort, make_lab
from labflow import DocumentError, cli, serde
from labflow.events import GENESIS, make_event


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def huge(tmp_path: Path) -> Path:
    path = tmp_path / "huge.json"
    with open(path, "wb") as handle:
        handle.truncate(100 * 1024 * 1024)  # sparse: 100 MB that take no room on disk
    return path


class TestBoundedFiles:
    @pytest.mark.parametrize("option", ["--lab-json", "--units", "--innovations"])
    def test_a_file_past_its_cap_is_refused_unread(
        self, tmp_path: Path, huge: Path, option: str
    ) -> None:
        """Exit 2 with one sentence naming the file and the cap; memory stays small, and
        nothing is written."""
        db = tmp_path / "lab.db"
        tracemalloc.start()
        try:
            code, out, err = run("import", "--db", str(db), "--by", "s", option, str(huge))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert code == cli.EXIT_USAGE
        assert "is larger than" in err
        assert "MiB" in err
        assert not out
        assert peak < 16 * 1024 * 1024  # nowhere near the file's 100 MB
        assert not db.exists()

    def test_a_pipe_is_read_no_further_than_the_cap(self, tmp_path: Path) -> None:
        """``/dev/zero`` never ends: it is read up to the CSV cap and refused."""
        code, _, err = run(
            "import", "--db", str(tmp_path / "lab.db"), "--by", "s", "--units", "/dev/zero"
        )
        assert code == cli.EXIT_USAGE
        assert "is larger than" in err

    def test_line_ends_are_read_as_before(self, tmp_path: Path) -> None:
        """A spreadsheet's CRLF file still reports its problems at the right line."""
        units = tmp_path / "units.csv"
        units.write_bytes(b"id,name,kind\r\ndinkes,Dinas Kesehatan,agency\r\nx,,agency\r\n")
        code, _, err = run(
            "import", "--db", str(tmp_path / "l.db"), "--by", "s", "--units", str(units)
        )
        assert code == cli.EXIT_USAGE
        assert f"{units}:3:name" in err


class TestIdentifiersInDocuments:
    @pytest.mark.parametrize("bad", ["ino 1", "ino-1\n", "i" * 201])
    def test_an_event_subject_or_actor_must_be_an_identifier(self, bad: str) -> None:
        at = datetime(2016, 3, 1, tzinfo=UTC)
        for subject, actor in ((bad, "sek"), ("ino-1", bad)):
            event = make_event(subject, 1, at, actor, "innovation.registered", {"v": 1}, GENESIS)
            with pytest.raises(DocumentError, match="identifier"):
                serde.loads(serde.dumps(event))

    def test_import_refuses_a_lab_document_with_a_unit_id_that_is_not_one(
        self, tmp_path: Path
    ) -> None:
        lab = make_lab()
        cohort(lab)
        document = json.loads(serde.dumps(lab))
        document["data"]["units"][0]["id"] = "dinas kesehatan"
        path = tmp_path / "lab.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        code, _, err = run(
            "import", "--db", str(tmp_path / "l.db"), "--by", "s", "--lab-json", str(path)
        )
        assert code == cli.EXIT_USAGE
        assert "$.data.units[0].id: the identifier must not contain white space" in err
