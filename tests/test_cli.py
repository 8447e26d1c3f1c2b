"""The labflow command: the demo, reading and writing commands, exit codes, and bad input."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from labflow import cli
from labflow.store.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parent.parent


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Kebumen demo database, shared by the reading tests (they change nothing)."""
    path = tmp_path_factory.mktemp("demo") / "kebumen.db"
    code, _out, err = run("demo", "--db", str(path))
    assert code == cli.EXIT_OK, err
    return path


def copy(db: Path, tmp_path: Path) -> Path:
    """A private copy of the demo database, for tests that write."""
    target = tmp_path / "lab.db"
    source = sqlite3.connect(db)
    dest = sqlite3.connect(target)
    source.backup(dest)
    source.close()
    dest.close()
    return target


def dump(db: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT * FROM events ORDER BY stream, seq").fetchall()
    conn.close()
    return rows


def test_demo_runs_kebumen_and_says_what_it_found(demo_db: Path) -> None:
    """The main job: 182 innovations, the funnel, blocked ones with reasons, all verified."""
    code, out, _ = run("report", "--db", str(demo_db), "--json")
    assert code == 0
    report = json.loads(out)
    assert report["funnel"]["total"] == 182
    assert report["policy"] == "kebumen-2016"
    assert report["stage"] == "display"
    assert report["blocked"], "the demo holds some innovations back"
    codes = {u["code"] for b in report["blocked"] for u in b["unmet"]}
    # All 182 are launched at one ceremony: only what comes after it holds any back.
    assert codes == {"agreement.unsigned.unit_head", "evidence.too_few"}
    assert report["funnel"]["withdrawn"] == 0


def test_demo_prints_funnel_blocked_verification_and_database(tmp_path: Path) -> None:
    path = tmp_path / "kudus.db"
    code, out, _ = run("demo", "--db", str(path), "--region", "kudus", "--lang", "id")
    assert code == 0
    assert "Corong per tahap" in out
    assert "riwayat terverifikasi" in out
    assert str(path.resolve()) in out
    assert "Kabupaten Kudus" in out


def test_demo_refuses_to_overwrite_a_file_it_did_not_make(tmp_path: Path) -> None:
    path = tmp_path / "mine.db"
    path.write_text("precious")
    code, _, err = run("demo", "--db", str(path))
    assert code == cli.EXIT_USAGE
    assert "already exists" in err
    assert path.read_text() == "precious"


def test_reading_commands_answer_in_json(demo_db: Path) -> None:
    db = str(demo_db)
    code, out, _ = run("status", "--db", db, "muttu-1000", "--json")
    assert code == 0
    assert json.loads(out)["stage"] == "display"
    code, out, _ = run("list", "--db", db, "--unit-kind", "hospital", "--json")
    assert code == 0
    assert {r["unit_kind"] for r in json.loads(out)} == {"hospital"}
    code, out, _ = run("list", "--db", db, "--blocked", "--json")
    assert code == 0
    assert all(r["unmet"] for r in json.loads(out))
    code, out, _ = run("history", "--db", db, "muttu-1000", "--hashes", "--json")
    events = json.loads(out)
    assert events[0]["kind"] == "innovation.registered"
    assert all(len(e["hash"]) == 64 for e in events)
    code, out, _ = run("verify", "--db", db, "--json")
    assert json.loads(out) == {
        "ok": True,
        "histories": 183,
        "events": json.loads(out)["events"],
        "failures": [],
    }


def test_reading_commands_print_tables(demo_db: Path) -> None:
    db = str(demo_db)
    for argv in (
        ("status", "--db", db),
        ("status", "--db", db, "kredit-musim-tanam"),
        ("list", "--db", db, "--stage", "deliver"),
        ("history", "--db", db),
        ("report", "--db", db),
    ):
        code, out, err = run(*argv)
        assert code == 0, err
        assert out.strip()
    code, out, _ = run("status", "--db", db, "kredit-musim-tanam")
    assert "  - The performance agreement is not signed by the head of the owning unit" in out


def test_export_writes_a_json_document_and_csv(demo_db: Path, tmp_path: Path) -> None:
    target = tmp_path / "lab.json"
    code, _, _ = run("export", "--db", str(demo_db), "--out", str(target))
    assert code == 0
    document = json.loads(target.read_text())
    assert document["kind"] == "lab"
    code, out, _ = run("export", "--db", str(demo_db), "--format", "csv")
    lines = out.splitlines()
    assert lines[0].startswith("id,title,unit,unit_kind,stage")
    assert len(lines) == 183
    # and a lab exported as JSON imports into a new database, equal
    fresh = tmp_path / "imported.db"
    code, _, err = run(
        "import", "--db", str(fresh), "--by", "sekretariat", "--lab-json", str(target)
    )
    assert code == 0, err
    with SQLiteStore(fresh) as a, SQLiteStore(demo_db) as b:
        assert [a.history("kebumen"), *a.histories("kebumen")] == [
            b.history("kebumen"),
            *b.histories("kebumen"),
        ]


def test_write_commands_append_and_refusals_change_nothing(demo_db: Path, tmp_path: Path) -> None:
    db = str(copy(demo_db, tmp_path))
    code, out, _ = run("sign", "--db", db, "kredit-musim-tanam", "--by", "kepala-bpr-bkk-kebumen")
    assert code == 0
    assert out.startswith("Recorded: kredit-musim-tanam #")
    assert "agreement signed" in out
    before = dump(Path(db))
    code, _, err = run("advance", "--db", db, "aset-tertib", "--by", "sekretariat")
    assert code == cli.EXIT_REFUSED
    assert "evidence" in err
    assert "Traceback" not in err
    code, _, err = run("advance", "--db", db, "aset-tertib", "--by", "bupati")
    assert code == cli.EXIT_REFUSED
    assert "may not advance" in err
    code, _, err = run("withdraw", "--db", db, "no-such-id", "--reason", "x", "--by", "sekretariat")
    assert code == cli.EXIT_REFUSED
    assert "no innovation 'no-such-id'" in err
    assert dump(Path(db)) == before
    code, out, _ = run(
        "evidence",
        "--db",
        db,
        "aset-tertib",
        "--title",
        "SK",
        "--reference",
        "doc",
        "--by",
        "sekretariat",
    )
    assert code == 0
    code, out, _ = run("advance", "--db", db, "aset-tertib", "--by", "sekretariat")
    assert code == 0, out
    code, out, _ = run("status", "--db", db, "aset-tertib", "--json")
    assert json.loads(out)["stage"] == "display"


def test_a_fresh_lab_from_the_command_line(tmp_path: Path) -> None:
    db = str(tmp_path / "new.db")
    units = tmp_path / "units.csv"
    units.write_text("id,name,kind\ndinkes,Dinas Kesehatan,agency\n")
    actors = tmp_path / "actors.csv"
    actors.write_text(
        "id,name,roles,unit\nsekretariat,Sekretariat,secretariat,\n"
        "staf,Staf Dinkes,innovator,dinkes\nkadinkes,Kadinkes,unit_head,dinkes\n"
    )
    code, _, err = run(
        "create",
        "--db",
        db,
        "--policy",
        "lan-5d",
        "--id",
        "kudus",
        "--region",
        "Kabupaten Kudus",
        "--by",
        "sekretariat",
        "--units",
        str(units),
        "--actors",
        str(actors),
    )
    assert code == 0, err
    code, _, err = run(
        "register",
        "--db",
        db,
        "k-119",
        "--title",
        "K-119",
        "--unit",
        "dinkes",
        "--innovator",
        "Tim",
        "--problem",
        "Ambulans lambat",
        "--by",
        "staf",
    )
    assert code == 0, err
    code, _, err = run("advance-lab", "--db", db, "--by", "sekretariat")
    assert code == 0, err
    code, _, err = run("advance", "--db", db, "k-119", "--by", "sekretariat")
    assert code == 0, err
    code, _, err = run(
        "diagnose", "--db", db, "k-119", "--problem", "p", "--cause", "c", "--by", "staf"
    )
    assert code == 0, err
    code, _, err = run(
        "submit-plan", "--db", db, "k-119", "--step", "SOP|Kabid|2017-06-01", "--by", "staf"
    )
    assert code == 0, err
    code, _, err = run(
        "submit-plan", "--db", db, "k-119", "--step", "SOP|Kabid|June", "--by", "staf"
    )
    assert code == cli.EXIT_USAGE
    assert "due date" in err


def test_import_of_a_malformed_csv_is_refused_whole(demo_db: Path, tmp_path: Path) -> None:
    db = copy(demo_db, tmp_path)
    bad = tmp_path / "ideas.csv"
    bad.write_text(
        "id,title,unit,innovators,initiator,problem\n"
        "baru-1,Baru,dinkes,Tim,asn,Masalah\n"
        "baru 2,,dinkes,Tim,robot,Masalah\n"
        "baru-3,Baru,dinkes\n"
    )
    before = dump(db)
    code, _, err = run("import", "--db", str(db), "--by", "sekretariat", "--innovations", str(bad))
    assert code == cli.EXIT_USAGE
    assert "ideas.csv:4" in err
    assert dump(db) == before
    bad.write_text("id,name\nx,y\n")
    code, _, err = run("import", "--db", str(db), "--by", "sekretariat", "--units", str(bad))
    assert code == cli.EXIT_USAGE
    assert "missing column" in err
    good = tmp_path / "good.csv"
    good.write_text("id,title,unit,innovators,initiator,problem\nbaru-1,Baru,dinkes,Tim,asn,M\n")
    code, _, err = run("import", "--db", str(db), "--by", "sekretariat", "--innovations", str(good))
    assert code == 0, err


def test_storage_problems_have_their_own_exit_code(demo_db: Path, tmp_path: Path) -> None:
    code, _, err = run("status", "--db", str(tmp_path / "missing.db"))
    assert (code, err.count("\n")) == (cli.EXIT_STORE, 1)
    assert not (tmp_path / "missing.db").exists()
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"\x00garbage" * 512)
    code, _, err = run("list", "--db", str(garbage))
    assert code == cli.EXIT_STORE
    assert "corrupt" in err
    newer = copy(demo_db, tmp_path)
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version=99")
    conn.commit()
    conn.close()
    code, _, err = run("report", "--db", str(newer))
    assert code == cli.EXIT_STORE
    assert "newer labflow" in err


def test_a_locked_database_is_reported_and_left_alone(demo_db: Path, tmp_path: Path) -> None:
    db = copy(demo_db, tmp_path)
    before = dump(db)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    original = SQLiteStore.__init__

    def impatient(self: SQLiteStore, path: str, **kw: object) -> None:
        kw["timeout"] = 0.05
        original(self, path, **kw)  # type: ignore[arg-type]

    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(SQLiteStore, "__init__", impatient)
            code, _, err = run(
                "withdraw", "--db", str(db), "sidik", "--reason", "x", "--by", "sekretariat"
            )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert code == cli.EXIT_STORE
    assert "locked" in err
    assert dump(db) == before


def test_verify_names_the_first_tampered_event(demo_db: Path, tmp_path: Path) -> None:
    db = copy(demo_db, tmp_path)
    conn = sqlite3.connect(db)
    conn.execute(
        "UPDATE events SET actor = 'someone-else' WHERE seq = 3 AND stream = "
        "(SELECT id FROM streams WHERE subject = 'muttu-1000' AND is_lab = 0)"
    )
    conn.commit()
    conn.close()
    code, _, err = run("verify", "--db", str(db))
    assert code == cli.EXIT_UNVERIFIED
    assert "muttu-1000" in err
    assert "event 3" in err


def test_usage_mistakes_exit_with_the_usage_code() -> None:
    assert run("frobnicate")[0] == cli.EXIT_USAGE
    assert run("advance", "x")[0] == cli.EXIT_USAGE  # --by is required
    code, out, _ = run("--help")
    assert code == 0
    assert "exit codes" in out
    assert cli.DEFAULT_DB in run("list", "--help")[1]


def test_policy_commands(tmp_path: Path) -> None:
    code, out, _ = run("policy", "list", "--json")
    assert code == 0
    assert "kebumen-2016" in {p["id"] for p in json.loads(out)}
    assert run("policy", "show", "kudus-2017")[0] == 0
    assert run("policy", "validate", "lan-5d")[0] == 0
    code, out, _ = run("policy", "diagram", "lan-5d")
    assert code == 0
    assert out.strip()
    code, out, _ = run("policy", "diff", "lan-5d", "kebumen-2016")
    assert code == 0
    assert out.strip()
    broken = tmp_path / "broken.toml"
    broken.write_text('id = "x"\nname = "X"\n[[stages]]\nid = "a"\n')
    code, _, err = run("policy", "validate", str(broken))
    assert code == cli.EXIT_USAGE
    assert "invalid" in err


def test_the_wheel_carries_the_demo(tmp_path: Path) -> None:
    """Built as a wheel and run from it alone (no checkout on the path), the demo works."""
    uv = shutil.which("uv")
    if uv is None:  # pragma: no cover
        pytest.skip("uv is not on PATH")
    try:
        subprocess.run(
            [uv, "build", "--wheel", "-q", "-o", str(tmp_path / "dist"), str(ROOT)],
            check=True,
            capture_output=True,
            timeout=300,
        )
    except (OSError, subprocess.CalledProcessError) as exc:  # pragma: no cover
        pytest.skip(f"cannot build a wheel here: {exc}")
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    deps = [p for p in sys.path if p.endswith("site-packages")]
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run(
        [
            sys.executable,
            "-S",
            "-c",
            "import sys, labflow; from labflow.cli import main; "
            "print(labflow.__file__, file=sys.stderr); sys.exit(main())",
            "demo",
        ],
        cwd=work,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *deps])},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(str(site))  # labflow came from the wheel, not the checkout
    assert "183 histories verified" in result.stdout
    assert (work / cli.DEMO_DB).exists()


def test_verify_finds_a_history_cut_short(demo_db: Path, tmp_path: Path) -> None:
    """Deleting an innovation's last event leaves a chain that links; the recorded head does not."""
    db = copy(demo_db, tmp_path)
    conn = sqlite3.connect(db)
    stream = "(SELECT id FROM streams WHERE subject = 'muttu-1000' AND is_lab = 0)"
    conn.execute(
        f"DELETE FROM events WHERE stream = {stream} "
        f"AND seq = (SELECT MAX(seq) FROM events WHERE stream = {stream})"
    )
    conn.commit()
    conn.close()
    code, _, err = run("verify", "--db", str(db))
    assert code == cli.EXIT_UNVERIFIED
    assert "muttu-1000" in err


# --- Hostile invocations -------------------------------------------------------------------


def founders(folder: Path) -> str:
    """An actors CSV with one secretariat ``s``, who may bring in everyone else."""
    path = folder / "founders.csv"
    path.write_text("id,name,roles\ns,Sekretariat,secretariat\n")
    return str(path)


#: An argument whose bytes were not UTF-8, as Python hands it over (surrogateescape).
NOT_UTF8 = os.fsdecode(b"\xff")


def hostile(db: str, tmp: Path) -> list[tuple[int, list[str]]]:
    """Invocations a user might get wrong, with the exit code each must give."""
    missing = str(tmp / "no" / "such" / "folder" / "x")
    long = str(tmp / ("x" * 300))  # longer than a file name may be
    folder = str(tmp)
    binary = tmp / "binary.csv"
    binary.write_bytes(b"id,name,kind\n\xff\xfe,x,agency\n")
    junk = tmp / "junk.json"
    junk.write_text('{"kind": "lab", "version": 2, "data": {')
    garbage = tmp / "garbage.db"
    garbage.write_bytes(b"\x00garbage" * 512)
    new = str(tmp / "new.db")
    create = ["create", "--policy", "lan-5d", "--id", "x", "--region", "R", "--by", "s"]
    create += ["--actors", founders(tmp)]
    register = ["register", "--db", db, "--unit", "dinkes", "--problem", "p", "--by", "x"]
    usage, store, refused = cli.EXIT_USAGE, cli.EXIT_STORE, cli.EXIT_REFUSED
    return [
        (usage, ["export", "--db", db, "--out", missing]),
        (usage, ["export", "--db", db, "--out", folder]),
        (usage, ["export", "--db", db, "--format", "csv", "--out", long]),
        (usage, [*register, "i1", "--title", NOT_UTF8]),
        (usage, [*register, "i1", f"--title={NOT_UTF8}"]),
        (usage, [*register, NOT_UTF8, "--title", "t"]),
        (usage, ["status", "--db", db, f"id-{NOT_UTF8}"]),
        (store, ["status", "--db", long]),
        (store, ["status", "--db", folder]),
        (store, ["status", "--db", missing]),
        (store, ["list", "--db", NOT_UTF8]),
        (store, ["verify", "--db", str(garbage)]),
        (store, [*create, "--db", missing]),
        (store, [*create, "--db", long]),
        (store, [*create, "--db", folder]),
        (usage, [*create, "--db", db, "--id", "kebumen"]),
        (usage, [*create, "--db", new, "--policy", missing]),
        (usage, [*create, "--db", new, "--policy", folder]),
        (usage, [*create, "--db", new, "--units", folder]),
        (usage, [*create, "--db", new, "--units", long]),
        (usage, [*create, "--db", new, "--units", str(binary)]),
        (usage, [*create, "--db", new, "--actors", str(junk)]),
        (usage, ["import", "--db", db, "--by", "s", "--lab-json", folder]),
        (usage, ["import", "--db", db, "--by", "s", "--lab-json", str(junk)]),
        (usage, ["import", "--db", db, "--by", "s", "--innovations", long]),
        (usage, ["import", "--db", db, "--by", "s"]),
        (usage, ["policy", "validate", long]),
        (usage, ["policy", "show", folder]),
        (usage, ["policy", "diagram", missing]),
        (usage, ["policy", "diff", "lan-5d", str(binary)]),
        (store, ["demo", "--db", missing]),
        (store, ["demo", "--db", long]),
        (usage, ["demo", "--db", folder]),
        (usage, ["submit-plan", "--db", db, "sidik", "--step", "a|b", "--by", "x"]),
        (usage, ["submit-plan", "--db", db, "sidik", "--budget", "lots", "--by", "x"]),
        (refused, ["history", "--db", db, "no-such-innovation"]),
        (usage, ["status", "--db", db, "--lab", "nowhere"]),
    ]


def test_no_hostile_invocation_gets_a_traceback(demo_db: Path, tmp_path: Path) -> None:
    """Each user mistake is one ``labflow:`` sentence (or argparse's usage) with its code."""
    db = copy(demo_db, tmp_path)
    before = dump(db)
    for expected, argv in hostile(str(db), tmp_path):
        code, _, err = run(*argv)  # an exception escaping main() fails the test here
        assert "Traceback" not in err, argv
        assert err.startswith(("labflow: ", "usage: ")), (argv, err)
        assert code == expected, (argv, code, err)
    assert dump(db) == before
    assert not (tmp_path / "new.db").exists()


def test_a_non_utf8_argument_from_a_real_command_line_is_a_usage_error(demo_db: Path) -> None:
    """The bytes reach Python as surrogates; refused before they reach a hash."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "labflow.cli",
            "register",
            "--db",
            str(demo_db),
            "i1",
            "--title",
            b"\xff",
            "--unit",
            "dinkes",
            "--problem",
            "p",
            "--by",
            "inovator-dinkes",
        ],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == cli.EXIT_USAGE, result.stderr
    assert b"Traceback" not in result.stderr
    assert result.stderr == (
        b"labflow: The argument '\\xff' (the value of --title) is not UTF-8 text; "
        b"labflow reads every argument but a file name as UTF-8.\n"
    )


def test_a_file_name_need_not_be_utf8(tmp_path: Path) -> None:
    """The system takes a file name back byte for byte; it is shown escaped, never crashing."""
    db = str(tmp_path / f"lab-{NOT_UTF8}.db")
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")  # strict, as a real terminal
    argv = ["create", "--db", db, "--policy", "lan-5d", "--id", "x", "--region", "R", "--by", "s"]
    code = cli.main(
        [*argv, "--actors", founders(tmp_path)],
        stdout=stdout,
        stderr=io.StringIO(),
    )
    assert code == cli.EXIT_OK
    assert os.path.exists(os.fsencode(db))
    stdout.seek(0)
    assert "lab-\\xff.db" in stdout.read()


def test_a_legacy_encoding_on_stdout_does_not_crash() -> None:
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    assert cli.main(["policy", "list"], stdout=stdout, stderr=io.StringIO()) == cli.EXIT_OK
    stdout.seek(0)
    assert "drum_up \\u2192 " in stdout.read()


def test_creating_a_lab_that_exists_says_so(demo_db: Path, tmp_path: Path) -> None:
    """Not "changed by another writer" (exit 4): the id is taken, a bad input (exit 2)."""
    db = copy(demo_db, tmp_path)
    before = dump(db)
    code, _, err = run(
        "create", "--db", str(db), "--policy", "lan-5d", "--id", "kebumen", "--region", "K",
        "--by", "s", "--actors", founders(tmp_path),
    )  # fmt: skip
    assert (code, err) == (
        cli.EXIT_USAGE,
        f"labflow: The database {db} already holds a lab 'kebumen'; "
        "pick another id, or another --db.\n",
    )
    document = tmp_path / "kebumen.json"
    assert run("export", "--db", str(db), "--out", str(document))[0] == cli.EXIT_OK
    code, _, err = run("import", "--db", str(db), "--by", "s", "--lab-json", str(document))
    assert code == cli.EXIT_USAGE
    assert "already holds a lab 'kebumen'" in err
    assert dump(db) == before


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_verify_says_what_it_is_doing_on_a_terminal(demo_db: Path) -> None:
    """No bar (the store reports only when done): a status line, wiped afterwards."""
    out, err = io.StringIO(), _Terminal()
    assert cli.main(["verify", "--db", str(demo_db)], stdout=out, stderr=err) == cli.EXIT_OK
    assert "Verifying every history" in err.getvalue()
    assert err.getvalue().endswith("\x1b[2K")  # the line is wiped when verification ends
    assert "histories verified" in out.getvalue()
    err = io.StringIO()  # not a terminal: nothing on stderr
    assert cli.main(["verify", "--db", str(demo_db)], stdout=out, stderr=err) == cli.EXIT_OK
    assert err.getvalue() == ""


def test_policy_diff_answers_in_structured_json() -> None:
    code, out, _ = run("policy", "diff", "lan-5d", "kebumen-2016", "--json")
    assert code == cli.EXIT_OK
    data = json.loads(out)
    assert (data["base"], data["variant"], data["empty"]) == ("lan-5d", "kebumen-2016", False)
    assert data["stages"]
    assert data["text"].startswith("kebumen-2016 compared with lan-5d:")
