"""The writing subcommands derived from the command catalogue: names, arguments, help, body."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import attrs
import pytest

import labflow as lf
from labflow import _catalogue, cli
from labflow._catalogue import CATALOGUE, CommandSpec
from labflow._cli import _derived, _parser

#: Every writing command's spelling before the subcommands were derived (scripts use them).
OLD_SPELLINGS = (
    "register", "diagnose", "permit", "submit-plan", "approve-plan", "draw-up-agreement",
    "sign", "launch", "evidence", "exhibit", "advance", "return", "withdraw", "reinstate",
    "replicate", "add-unit", "add-actor", "set-roles", "hand-over", "advance-lab", "ceremony",
)  # fmt: skip

ACTORS = """\
id,name,roles,unit
sek,Sekretariat Bappeda,secretariat,
staf,Staf Dinkes,innovator,dinkes
"""
UNITS = """\
id,name,kind
dinkes,Dinas Kesehatan,agency
"""


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A lan-5d lab with one agency, its secretariat, and one registered idea ``ide``."""
    (tmp_path / "actors.csv").write_text(ACTORS)
    (tmp_path / "units.csv").write_text(UNITS)
    path = tmp_path / "lab.db"
    code, _, err = run(
        "create", "--db", str(path), "--policy", "lan-5d", "--id", "lab", "--region", "R",
        "--units", str(tmp_path / "units.csv"), "--actors", str(tmp_path / "actors.csv"),
        "--by", "sek",
    )  # fmt: skip
    assert code == cli.EXIT_OK, err
    code, _, err = run(
        "register", "ide", "--title", "T", "--unit", "dinkes", "--problem", "P",
        "--by", "sek", "--db", str(path),
    )  # fmt: skip
    assert code == cli.EXIT_OK, err
    return path


def history(db: Path, subject: str) -> list[dict[str, object]]:
    code, out, err = run("history", subject, "--db", str(db), "--json")
    assert code == cli.EXIT_OK, err
    return list(json.loads(out))


class TestNames:
    @pytest.mark.parametrize("name", OLD_SPELLINGS)
    def test_every_old_spelling_still_parses(self, name: str) -> None:
        code, out, _ = run(name, "--help")
        assert code == cli.EXIT_OK
        assert out.startswith(f"usage: labflow {name} ")

    def test_every_catalogue_command_is_a_subcommand_under_its_kebab_name_too(self) -> None:
        commands = _parser._subparsers(_parser.build("en"))
        for spec in CATALOGUE:
            assert _derived.cli_name(spec) in commands, spec.name
            assert spec.name.replace("_", "-") in commands, spec.name

    def test_the_kebab_alias_runs_the_same_command(self, db: Path) -> None:
        code, _, err = run(
            "record-diagnosis", "ide", "--problem", "Antre", "--cause", "SOP", "--cause", "Staf",
            "--by", "sek", "--db", str(db),
        )  # fmt: skip
        assert code == cli.EXIT_OK, err
        last = history(db, "ide")[-1]
        assert last["kind"] == "innovation.diagnosis_recorded"
        assert last["payload"]["root_causes"] == ["SOP", "Staf"]  # type: ignore[index]

    def test_only_the_explicit_bodies_are_written_by_hand(self) -> None:
        """Besides create, import and hand-over, every writing body is the generic one."""
        from labflow._cli import _writing

        explicit = {_derived.cli_name(s) for s in CATALOGUE if s.name in _derived.EXPLICIT}
        assert set(_writing.COMMANDS) == {"create", "import", "hand-over"} | explicit


class TestArguments:
    def test_every_derived_command_takes_all_its_arguments(self) -> None:
        """No parameter of a catalogue command is left that the command line cannot give."""
        found = {
            s.name: _derived.unsupported(s) for s in CATALOGUE if s.name not in _derived.EXPLICIT
        }
        assert {k: v for k, v in found.items() if v} == {}

    def test_typed_options_refuse_bad_values_with_exit_2(self, db: Path) -> None:
        code, _, err = run(
            "submit-plan", "ide", "--budget", "banyak", "--by", "sek", "--db", str(db)
        )
        assert code == cli.EXIT_USAGE
        assert "--budget" in err
        assert len(history(db, "ide")) == 1

    def test_a_step_and_a_budget_reach_the_plan(self, db: Path) -> None:
        code, _, err = run(
            "submit-plan", "ide", "--step", "Susun SOP|Kasubag|2024-03-01", "--budget", "500",
            "--stakeholder", "Puskesmas", "--by", "staf", "--db", str(db),
        )  # fmt: skip
        assert code == cli.EXIT_OK, err
        payload = history(db, "ide")[-1]["payload"]
        assert payload["budget"] == 500  # type: ignore[index]
        assert payload["stakeholders"] == ["Puskesmas"]  # type: ignore[index]
        assert payload["steps"][0]["due"] == "2024-03-01"  # type: ignore[index]


class TestRegisterAttributes:
    def test_register_takes_declared_attributes(self, db: Path) -> None:
        code, _, err = run(
            "register", "ide-2", "--title", "T", "--unit", "dinkes", "--problem", "P",
            "--attribute", "jenis=digital", "--by", "sek", "--db", str(db),
        )  # fmt: skip
        assert code == cli.EXIT_OK, err
        payload = history(db, "ide-2")[0]["payload"]
        assert payload["attributes"] == {"jenis": "digital"}  # type: ignore[index]


class TestSetAttributes:
    def test_sets_typed_values_and_clears_one(self, db: Path) -> None:
        code, _, err = run(
            "set-attributes", "ide", "jenis=digital", "bentuk=pelayanan_publik",
            "--by", "sek", "--db", str(db),
        )  # fmt: skip
        assert code == cli.EXIT_OK, err
        code, _, err = run("set-attributes", "ide", "jenis=", "--by", "sek", "--db", str(db))
        assert code == cli.EXIT_OK, err
        payloads = [e["payload"] for e in history(db, "ide")[-2:]]
        assert payloads[0]["attributes"] == {  # type: ignore[index]
            "jenis": "digital",
            "bentuk": "pelayanan_publik",
        }
        assert payloads[1]["attributes"] == {"jenis": None}  # type: ignore[index]

    @pytest.mark.parametrize("lang", ["en", "id"])
    def test_a_value_the_policy_does_not_allow_is_refused(self, db: Path, lang: str) -> None:
        code, _, err = run(
            "set-attributes", "ide", "jenis=analog", "--by", "sek", "--db", str(db), "--lang", lang
        )
        assert code == cli.EXIT_REFUSED
        assert ("must be one of" if lang == "en" else "harus salah satu") in err
        assert len(history(db, "ide")) == 1

    def test_a_word_without_equals_is_a_usage_error(self, db: Path) -> None:
        code, _, err = run("set-attributes", "ide", "jenis", "--by", "sek", "--db", str(db))
        assert code == cli.EXIT_USAGE
        assert "KEY=VALUE" in err


def note_visit(
    self: lf.Lab,
    innovation_id: str,
    *,
    place: str,
    on: date,
    by: str,
    guests: Sequence[str] = (),
    hours: int | None = None,
) -> lf.Event:
    """A command no labflow has: a site visit, recorded as evidence."""
    reference = f"{on.isoformat()} {','.join(guests)} {hours}"
    return self.attach_evidence(innovation_id, title=f"Visit: {place}", reference=reference, by=by)


@attrs.frozen
class Meeting:
    """A record a new command might take: given as one option per field."""

    place: str
    on: date
    attendees: tuple[str, ...] = ()


def note_meeting(
    self: lf.Lab, innovation_id: str, *, meeting: Meeting, place: str, by: str
) -> lf.Event:
    """A command with a record parameter, one of whose fields clashes with a parameter."""
    reference = f"{meeting.place}/{place} {meeting.on} {';'.join(meeting.attendees)}"
    return self.attach_evidence(innovation_id, title="Meeting", reference=reference, by=by)


class TestANewCommand:
    """A command added to the catalogue with a Lab method runs with no edit to the CLI."""

    @pytest.fixture
    def added(self, monkeypatch: pytest.MonkeyPatch) -> None:
        spec = CommandSpec(
            "note_visit", "innovation.evidence_attached", "innovation",
            frozenset({"secretariat"}), "note_visit",
        )  # fmt: skip
        monkeypatch.setattr(_catalogue, "CATALOGUE", (*CATALOGUE, spec))
        monkeypatch.setattr(lf.Lab, "note_visit", note_visit, raising=False)

    @pytest.mark.usefixtures("added")
    def test_it_runs_with_its_typed_arguments(self, db: Path) -> None:
        code, out, err = run(
            "note-visit", "ide", "--place", "Puskesmas", "--on", "2024-02-01",
            "--guest", "LAN", "--guest", "Bappeda", "--hours", "3",
            "--by", "sek", "--db", str(db), "--json",
        )  # fmt: skip
        assert code == cli.EXIT_OK, err
        [recorded] = json.loads(out)["recorded"]
        assert recorded["payload"]["title"] == "Visit: Puskesmas"
        assert recorded["payload"]["reference"] == "2024-02-01 LAN,Bappeda 3"

    @pytest.mark.usefixtures("added")
    def test_its_refusals_and_usage_errors_keep_the_exit_codes(self, db: Path) -> None:
        base = ("note-visit", "ide", "--place", "P", "--db", str(db))
        assert run(*base, "--on", "kemarin", "--by", "sek")[0] == cli.EXIT_USAGE
        assert run(*base, "--by", "sek")[0] == cli.EXIT_USAGE  # --on is required
        assert run(*base, "--on", "2024-02-01", "--by", "orang")[0] == cli.EXIT_REFUSED
        assert len(history(db, "ide")) == 1

    @pytest.mark.usefixtures("added")
    @pytest.mark.parametrize(
        ("lang", "line"),
        [("en", "(no help text yet)"), ("id", "(belum ada teks bantuan)")],
    )
    def test_missing_help_is_a_generic_line_not_a_key(self, lang: str, line: str) -> None:
        code, out, _ = run("note-visit", "--help", "--lang", lang)
        assert code == cli.EXIT_OK
        assert line in out
        assert "cmd.note-visit" not in out
        assert "arg.place" not in out
        code, out, _ = run("--help", "--lang", lang)
        assert "note-visit" in out
        assert line in out

    def test_a_record_parameter_is_one_option_per_field(
        self, db: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        spec = CommandSpec(
            "note_meeting", "innovation.evidence_attached", "innovation",
            frozenset({"secretariat"}), "note_meeting",
        )  # fmt: skip
        monkeypatch.setattr(_catalogue, "CATALOGUE", (*CATALOGUE, spec))
        monkeypatch.setattr(lf.Lab, "note_meeting", note_meeting, raising=False)
        code, out, err = run(
            "note-meeting", "ide", "--place", "Kantor", "--meeting-place", "Balai Desa",
            "--on", "2024-02-01", "--attendee", "LAN", "--attendee", "Camat",
            "--by", "sek", "--db", str(db), "--json",
        )  # fmt: skip
        assert code == cli.EXIT_OK, err
        [recorded] = json.loads(out)["recorded"]
        assert recorded["payload"]["reference"] == "Balai Desa/Kantor 2024-02-01 LAN;Camat"

    @pytest.mark.usefixtures("added")
    def test_missing_help_lists_its_keys(self) -> None:
        assert _derived.missing_help() == [
            "arg.guests",
            "arg.hours",
            "arg.on",
            "arg.place",
            "cmd.note-visit",
        ]


def test_every_catalogue_command_and_argument_has_help() -> None:
    """Every help key a derived command needs exists, in both languages (the CLI catalogue's
    own test holds both languages to the same keys): a new catalogue command fails here."""
    assert _derived.missing_help() == []
