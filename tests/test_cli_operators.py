"""Operator commands: people, roles and units after ``create``; ``--at``; JSON; completion."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from labflow import cli


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def events(db: Path) -> list[dict[str, object]]:
    code, out, err = run("history", "--db", str(db), "--json")
    assert code == cli.EXIT_OK, err
    return list(json.loads(out))


ACTORS = """\
id,name,roles,unit
sek,Sekretariat Bappeda,secretariat,
lan-mentor,Mentor LAN,facilitator,
tim-daerah,Tim Inovasi Daerah,auditor,
"""


@pytest.fixture
def banyumas(tmp_path: Path) -> Path:
    """A Banyumas lab created on 10 January 2017, LAN's mentor as its facilitator."""
    actors = tmp_path / "actors.csv"
    actors.write_text(ACTORS)
    db = tmp_path / "banyumas.db"
    code, _, err = run(
        "create", "--db", str(db), "--policy", "banyumas-2017", "--id", "banyumas",
        "--region", "Kabupaten Banyumas", "--actors", str(actors), "--by", "sek",
        "--at", "2017-01-10",
    )  # fmt: skip
    assert code == cli.EXIT_OK, err
    return db


class TestCreate:
    def test_a_lab_no_one_can_act_in_is_refused(self, tmp_path: Path) -> None:
        """Without actors, every later command would fail: refused, and no database made."""
        db = tmp_path / "bekasi.db"
        code, _, err = run(
            "create", "--db", str(db), "--policy", "lan-5d", "--id", "bekasi",
            "--region", "Bekasi", "--by", "sek",
        )  # fmt: skip
        assert code == cli.EXIT_USAGE
        assert "no one to act in it" in err
        assert not db.exists()

    def test_the_founder_must_be_one_of_the_actors(self, tmp_path: Path) -> None:
        actors = tmp_path / "actors.csv"
        actors.write_text(ACTORS)
        code, _, err = run(
            "create", "--db", str(tmp_path / "x.db"), "--policy", "lan-5d", "--id", "x",
            "--region", "X", "--actors", str(actors), "--by", "sekk",
        )  # fmt: skip
        assert code == cli.EXIT_USAGE
        assert "Did you mean 'sek'?" in err

    def test_a_bad_actors_csv_reports_every_problem_with_its_line(self, tmp_path: Path) -> None:
        actors = tmp_path / "actors.csv"
        actors.write_text(
            "id,name,roles,unit\n"
            "sek,Sekretariat,secretariat,\n"
            "\n"
            "kadis,Kepala Dinas,kepala,\n"
            "staf,Staf,innovator,dinas-x\n"
            "lain,Lain,bupati;mentor,\n"
        )
        code, _, err = run(
            "create", "--db", str(tmp_path / "x.db"), "--policy", "lan-5d", "--id", "x",
            "--region", "X", "--actors", str(actors), "--by", "sek",
        )  # fmt: skip
        assert code == cli.EXIT_USAGE
        where = [line.split(": ")[0].strip(" -") for line in err.splitlines()[1:]]
        assert where == [
            f"{actors}:4:roles",
            f"{actors}:5:unit",
            f"{actors}:6:roles",
            f"{actors}:6:roles",
        ]
        assert "'kepala' is not a role of the policy lan-5d" in err


class TestPeopleAndUnits:
    def test_add_a_unit_and_its_head_then_change_roles(self, banyumas: Path) -> None:
        db = str(banyumas)
        code, out, err = run(
            "add-unit", "dinkes", "--name", "Dinas Kesehatan", "--kind", "clinic", "--by", "sek",
            "--db", db,
        )  # fmt: skip
        assert code == cli.EXIT_OK, err
        assert out.startswith("Recorded: banyumas #2 unit added")
        code, _, err = run(
            "add-actor", "kadinkes", "--name", "Kepala Dinkes", "--role", "unit_head",
            "--unit", "dinkes", "--by", "sek", "--db", db,
        )  # fmt: skip
        assert code == cli.EXIT_OK, err
        code, _, err = run("set-roles", "kadinkes", "--add", "innovator", "--by", "sek", "--db", db)
        assert code == cli.EXIT_OK, err
        code, out, _ = run("actors", "--json", "--db", db)
        people = {a["id"]: a for a in json.loads(out)}
        assert people["kadinkes"] == {
            "id": "kadinkes",
            "name": "Kepala Dinkes",
            "roles": ["innovator", "unit_head"],
            "unit": "dinkes",
        }
        code, _, err = run("set-roles", "kadinkes", "--add", "innovator", "--by", "sek", "--db", db)
        assert code == cli.EXIT_REFUSED
        assert "already has exactly these roles" in err
        code, out, _ = run("units", "--db", db, "--lang", "id")
        assert "Dinas Kesehatan" in out
        assert "puskesmas" in out

    def test_only_a_secretariat_brings_people_in(self, banyumas: Path) -> None:
        before = events(banyumas)
        code, _, err = run(
            "add-actor", "x", "--name", "X", "--role", "innovator", "--by", "tim-daerah",
            "--db", str(banyumas),
        )  # fmt: skip
        assert code == cli.EXIT_REFUSED
        assert "tim-daerah may not add an actor: it takes one of the roles" in err
        assert events(banyumas) == before

    def test_the_hand_over_from_lan_to_the_region_is_one_command(self, banyumas: Path) -> None:
        """LAN facilitates, then the region runs the lab itself: both changes, one commit."""
        db = str(banyumas)
        code, out, err = run(
            "hand-over", "--from", "lan-mentor", "--to", "tim-daerah", "--by", "sek", "--db", db,
        )  # fmt: skip
        assert code == cli.EXIT_OK, err
        assert len(out.splitlines()) == 2
        code, out, _ = run("actors", "--json", "--db", db)
        roles = {a["id"]: a["roles"] for a in json.loads(out)}
        assert roles["lan-mentor"] == []
        assert roles["tim-daerah"] == ["auditor", "facilitator"]
        before = events(banyumas)
        code, _, err = run(
            "hand-over", "--from", "lan-mentor", "--to", "tim-daerah", "--by", "sek", "--db", db,
        )  # fmt: skip
        assert code == cli.EXIT_REFUSED
        assert "does not hold the role" in err
        assert events(banyumas) == before

    def test_a_mistyped_actor_in_a_hand_over_changes_nothing(self, banyumas: Path) -> None:
        before = events(banyumas)
        code, _, err = run(
            "hand-over", "--from", "lan-mentor", "--to", "tim-daera", "--by", "sek",
            "--db", str(banyumas),
        )  # fmt: skip
        assert code == cli.EXIT_REFUSED
        assert "Did you mean 'tim-daerah'?" in err
        assert events(banyumas) == before


class TestAt:
    def test_past_events_are_recorded_at_their_time(self, banyumas: Path) -> None:
        assert events(banyumas)[0]["at"] == "2017-01-10T00:00:00+00:00"
        code, _, err = run(
            "add-unit", "dpu", "--name", "DPU", "--kind", "agency", "--by", "sek",
            "--at", "2017-02-01T09:30+07:00", "--db", str(banyumas),
        )  # fmt: skip
        assert code == cli.EXIT_OK, err
        assert events(banyumas)[-1]["at"] == "2017-02-01T09:30:00+07:00"

    @pytest.mark.parametrize(
        ("at", "says"),
        [
            ("2016-12-31", "comes before the last event of banyumas"),
            ("2999-01-01", "is in the future"),
        ],
    )
    def test_out_of_order_times_are_refused(self, banyumas: Path, at: str, says: str) -> None:
        before = events(banyumas)
        code, _, err = run(
            "add-unit", "dpu", "--name", "DPU", "--kind", "agency", "--by", "sek",
            "--at", at, "--db", str(banyumas),
        )  # fmt: skip
        assert code == cli.EXIT_REFUSED
        assert says in err
        assert events(banyumas) == before

    def test_an_innovation_s_own_history_is_kept_in_order(self, banyumas: Path) -> None:
        """A time after the lab's last event is still refused before the innovation's last."""
        db = str(banyumas)
        code, _, err = run(
            "add-unit", "dinkes", "--name", "Dinas Kesehatan", "--kind", "agency", "--by", "sek",
            "--at", "2017-02-01", "--db", db,
        )  # fmt: skip
        assert code == cli.EXIT_OK, err
        code, _, err = run(
            "register", "k-119", "--title", "K-119", "--unit", "dinkes", "--innovator", "Tim",
            "--problem", "Ambulans lambat", "--by", "sek", "--at", "2017-03-01", "--db", db,
        )  # fmt: skip
        assert code == cli.EXIT_OK, err
        code, _, err = run(
            "diagnose", "k-119", "--problem", "p", "--cause", "c", "--by", "sek",
            "--at", "2017-02-15", "--db", db,
        )  # fmt: skip
        assert code == cli.EXIT_REFUSED
        assert "comes before the last event of k-119 (2017-03-01T00:00+00:00)" in err
        code, out, err = run(
            "diagnose", "k-119", "--problem", "p", "--cause", "c", "--by", "sek",
            "--at", "2017-03-02", "--db", db, "--json",
        )  # fmt: skip
        assert code == cli.EXIT_OK, err
        assert json.loads(out)["recorded"][0]["at"] == "2017-03-02T00:00:00+00:00"


class TestGlobalOptions:
    def test_before_or_after_the_command(self, banyumas: Path) -> None:
        first = run("--json", "--db", str(banyumas), "--lang", "id", "status")
        after = run("status", "--json", "--db", str(banyumas), "--lang", "id")
        assert first == after
        assert first[0] == cli.EXIT_OK
        assert json.loads(first[1])["lab"] == "banyumas"

    def test_a_writing_command_answers_in_json(self, banyumas: Path) -> None:
        code, out, _ = run(
            "--json", "add-unit", "dpu", "--name", "DPU", "--kind", "agency", "--by", "sek",
            "--db", str(banyumas),
        )  # fmt: skip
        assert code == cli.EXIT_OK
        [event] = json.loads(out)["recorded"]
        assert set(event) == {"subject", "seq", "at", "actor", "kind", "payload"}
        assert (event["subject"], event["seq"], event["kind"]) == ("banyumas", 2, "lab.unit_added")


#: The keys of every JSON answer scripts rely on (a change here is a breaking change).
SHAPES = {
    "status": {"lab", "region", "policy", "stage", "innovations", "version", "next", "unmet"},
    "status-innovation": {
        "innovation", "title", "unit", "stage", "status", "launched", "version", "next", "unmet",
    },
    "list": {"id", "unit", "unit_kind", "stage", "status", "launched", "version"},
    "history": {"subject", "seq", "at", "actor", "kind", "payload"},
    "verify": {"ok", "histories", "events", "failures"},
    "report": {
        "lab", "region", "policy", "stage", "funnel", "units_without", "overdue", "blocked",
        "overdue_reviews", "overdue_monev",
    },
    "unmet": {"code", "en", "id"},
}  # fmt: skip


@pytest.fixture(scope="module")
def kebumen(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("operators") / "kebumen.db")
    assert run("demo", "--db", db)[0] == cli.EXIT_OK
    return db


def test_json_shapes_are_pinned_and_consistent(kebumen: str) -> None:
    """Each reading command's keys; an unmet item has one shape wherever it appears."""
    db = kebumen

    def answer(*argv: str) -> object:
        code, out, err = run(*argv, "--db", db, "--json")
        assert code == cli.EXIT_OK, err
        return json.loads(out)

    status = answer("status")
    assert isinstance(status, dict)
    assert set(status) == SHAPES["status"]
    blocked = answer("list", "--blocked")
    assert isinstance(blocked, list)
    assert blocked
    assert set(blocked[0]) == SHAPES["list"] | {"unmet"}
    one = answer("status", blocked[0]["id"])
    assert isinstance(one, dict)
    assert set(one) == SHAPES["status-innovation"]
    report = answer("report")
    assert isinstance(report, dict)
    assert set(report) == SHAPES["report"]
    unmet = [
        *one["unmet"],
        *blocked[0]["unmet"],
        *(u for b in report["blocked"] for u in b["unmet"]),
    ]
    assert unmet
    assert all(set(u) == SHAPES["unmet"] for u in unmet)
    assert one["unmet"] == blocked[0]["unmet"]
    history = answer("history", blocked[0]["id"])
    assert isinstance(history, list)
    assert all(set(e) == SHAPES["history"] for e in history)
    verify = answer("verify")
    assert isinstance(verify, dict)
    assert set(verify) == SHAPES["verify"]


def test_status_at_the_last_stage_says_so(kebumen: str) -> None:
    db = kebumen
    code, out, _ = run("status", "--db", db)
    assert code == cli.EXIT_OK
    assert "is at its last stage (Stage IV: display); there is no stage after it." in out
    assert "Next" not in out
    code, out, _ = run("status", "--db", db, "--json")
    assert json.loads(out)["next"] is None
    assert json.loads(out)["unmet"] == []


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
class TestCompletion:
    def complete(self, line: str) -> list[str]:
        code, script, _ = run("completion", "bash")
        assert code == cli.EXIT_OK
        words = line.split(" ")
        program = (
            f"{script}\nCOMP_WORDS=({line})\nCOMP_CWORD={len(words) - 1}\n"
            '_labflow\nprintf "%s\\n" "${COMPREPLY[@]}"\n'
        )
        # The script asks ``labflow completion ids`` for the lab's ids: this environment's.
        path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
        result = subprocess.run(
            ["bash", "--norc", "-c", program],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PATH": path},
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.split()

    def test_ids_of_the_lab_named_on_the_line(self, kebumen: str) -> None:
        """Innovations after a command that takes one, actors after ``--by``, units after
        ``--unit``: read from the ``--db`` on the line, cheaply (no replay)."""
        assert self.complete(f"labflow status --db {kebumen} sibat") == ["sibatas"]
        assert self.complete(f"labflow advance --db {kebumen} --by sekretaria") == ["sekretariat"]
        assert self.complete(f"labflow register x --db {kebumen} --unit bag-tap") == ["bag-tapem"]
        assert "--by" in self.complete(f"labflow advance --db {kebumen} --")
        code, out, _ = run("completion", "ids", "unit", "--db", kebumen)
        assert code == cli.EXIT_OK
        assert "bag-tapem" in out.split()

    def test_commands_options_and_values(self) -> None:
        assert self.complete("labflow sta") == ["status"]
        assert self.complete("labflow --db x.db add-") == ["add-unit", "add-actor", "add-booth"]
        assert self.complete("labflow policy sh") == ["show"]
        assert "--blocked" in self.complete("labflow list --")
        assert self.complete("labflow --lang i") == ["id"]
        assert self.complete("labflow add-unit x --kind cl") == ["clinic"]
