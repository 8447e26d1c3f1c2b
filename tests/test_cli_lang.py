"""The command in Indonesian: one catalogue, both languages complete, no English left over."""

from __future__ import annotations

import io
import re
import string
from pathlib import Path

import pytest

from labflow import cli
from labflow._cli import _parser
from labflow._cli._catalogue import CATALOGUE, has, message
from test_cli import copy

#: A snake_case identifier (a stage id, a requirement or role name, an unmet code).
IDENTIFIER = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b|\b[a-z]+\.[a-z]+_[a-z_.]+\b")
#: What a Python repr looks like in a message.
REPR = re.compile(r"\['|\['|\{'|\bNone\b|\bTrue\b|\bFalse\b|frozenset\(")
#: English words that an Indonesian screen must not show (whole words, case-sensitive).
ENGLISH = re.compile(
    r"(?<![-,])\b(?:the|The|is|are|has|have|cannot|may not|Recorded|Stage|Next|launched|refused|"
    r"innovations?|Innovation|usage|options|arguments?|show|help|There|error|Total|"
    r"Withdrawn|verified|histories|events|Database|took|Units|Blocked|Funnel|yes|no)\b"
)


def names(text: str) -> set[str]:
    """The placeholders of a catalogue text, plural forms counted by their parameter."""
    plural = {m.group(1) for m in re.finditer(r"\{(\w+)\|", text)}
    plain = re.sub(r"\{\w+\|[^{}|]*\|[^{}|]*\}", "", text)
    fields = {f for _, f, _, _ in string.Formatter().parse(plain) if f}
    return fields | plural


class TestCatalogue:
    def test_every_key_has_both_languages(self) -> None:
        """No key lacks a language, and no Indonesian text is a copy of the English."""
        # Words Indonesian borrows as they are ("unit", "status", "hash", "ID").
        same = {"word.unit", "word.status", "word.seq", "word.hash", "word.id"}
        same |= {"what.unit", "metavar.unit", "metavar.id"}
        for key, (en, id_) in CATALOGUE.items():
            assert en.strip(), key
            assert id_.strip(), key
            assert (en == id_) == (key in same), f"{key}: copied or wrongly listed"

    def test_both_languages_take_the_same_placeholders(self) -> None:
        """A message cannot lose a value in translation (the plural's count may go unsaid)."""
        for key, (en, id_) in CATALOGUE.items():
            plural = {m.group(1) for m in re.finditer(r"\{(\w+)\|", en)}
            assert names(id_) <= names(en), key
            assert names(en) - plural <= names(id_), key

    def test_english_plurals_agree_with_the_count(self) -> None:
        """ "1 unit has", "2 units have", "182 innovations"."""
        assert message("report.compliance", "en", n=1, stage="S") == (
            "1 unit has no innovation at or past S"
        )
        assert message("report.compliance", "en", n=2, stage="S").startswith("2 units have")
        assert message("list.total", "en", n=182) == "182 innovations"
        assert message("list.total", "en", n=1) == "1 innovation"
        assert message("list.total", "id", n=182) == "182 inovasi"

    def test_every_command_has_help_in_both_languages(self) -> None:
        for lang in ("en", "id"):
            parser = _parser.build(lang)
            commands = _parser._subparsers(parser)
            assert {"add-unit", "add-actor", "set-roles", "hand-over", "completion"} <= set(
                commands
            )

    def test_every_event_kind_and_command_has_its_words(self) -> None:
        """`history` names every event kind and a refusal every command in both languages,
        never by its raw id (a kind or command added to the catalogue needs both keys)."""
        from labflow._catalogue import COMMANDS, EVENT_KINDS

        missing = [f"event.{k}" for k in EVENT_KINDS if not has(f"event.{k}")]
        missing += [f"action.{c}" for c in COMMANDS if not has(f"action.{c}")]
        assert missing == []


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def kebumen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lang") / "kebumen.db"
    code, _, err = run("demo", "--db", str(path), "--lang", "id")
    assert code == cli.EXIT_OK, err
    return path


def indonesian(text: str) -> list[str]:
    """Everything in ``text`` that is English, an identifier or a Python repr."""
    found = [m.group() for m in IDENTIFIER.finditer(text)]
    found += [m.group() for m in REPR.finditer(text)]
    found += [m.group() for m in ENGLISH.finditer(text)]
    return found


class TestIndonesianAt80Columns:
    """What a secretariat sees with ``--lang id`` on an 80-column terminal."""

    @pytest.fixture(autouse=True)
    def _eighty(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("COLUMNS", "80")
        monkeypatch.delenv("NO_COLOR", raising=False)

    @pytest.mark.parametrize(
        "argv",
        [
            ["status"],
            ["status", "sidik"],
            ["status", "muttu-1000"],
            ["report"],
            ["list", "--unit-kind", "hospital"],
            ["list", "--blocked"],
            ["history", "sidik"],
            ["actors"],
            ["units"],
            ["verify"],
            ["policy", "show", "kebumen-2016"],
            ["policy", "validate", "kebumen-2016"],
        ],
    )
    def test_reading_commands_speak_indonesian(self, kebumen: Path, argv: list[str]) -> None:
        code, out, err = run(*argv, "--db", str(kebumen), "--lang", "id")
        assert code == cli.EXIT_OK, err
        if argv[:2] != ["policy", "show"]:  # it shows the policy's ids by design
            assert indonesian(out) == [], out
        assert all(len(line) <= 80 for line in out.splitlines()), out

    def test_the_lang_option_comes_first_too(self, kebumen: Path) -> None:
        code, out, _ = run("--lang", "id", "--db", str(kebumen), "status")
        assert code == cli.EXIT_OK
        assert "Tahap IV: pameran" in out
        assert "tahap terakhir" in out

    @pytest.mark.parametrize(
        ("argv", "code"),
        [
            (["advance", "bank-sop", "--by", "sekretariat"], cli.EXIT_REFUSED),
            (["advance", "bank-sop", "--by", "bupati"], cli.EXIT_REFUSED),
            (["advance", "bank-sopp", "--by", "sekretariat"], cli.EXIT_REFUSED),
            (["advance", "sidik", "--by", "nobody"], cli.EXIT_REFUSED),
            (["advance-lab", "--by", "sekretariat"], cli.EXIT_REFUSED),
            (["stauts"], cli.EXIT_USAGE),
            (["advance", "sidik"], cli.EXIT_USAGE),
            (["list", "--unit-kind", "hospitl"], cli.EXIT_USAGE),
            (["submit-plan", "sidik", "--budget", "lots", "--by", "x"], cli.EXIT_USAGE),
            (["status", "--lab", "kebumn"], cli.EXIT_USAGE),
            (["advance", "sidik", "--by", "sekretariat", "--at", "kemarin"], cli.EXIT_USAGE),
        ],
    )
    def test_refusals_and_mistakes_speak_indonesian(
        self, kebumen: Path, tmp_path: Path, argv: list[str], code: int
    ) -> None:
        db = copy(kebumen, tmp_path)
        got, _out, err = run(*argv, "--db", str(db), "--lang", "id")
        assert got == code, err
        assert indonesian(err) == [], err
        assert "Traceback" not in err

    def test_a_refusal_names_stages_by_their_labels(self, kebumen: Path, tmp_path: Path) -> None:
        db = copy(kebumen, tmp_path)
        code, _, err = run(
            "advance", "aset-tertib", "--by", "sekretariat", "--db", str(db), "--lang", "id"
        )
        assert code == cli.EXIT_REFUSED
        assert err.startswith("labflow: aset-tertib belum dapat maju ke Tahap IV: pameran:\n  - ")

    @pytest.mark.parametrize(
        "command",
        [name for name in _parser._subparsers(_parser.build("id")) if name != "policy"],
    )
    def test_help_speaks_indonesian(self, command: str) -> None:
        code, out, _ = run(command, "--help", "--lang", "id")
        assert code == cli.EXIT_OK
        assert out.startswith("pemakaian: labflow")
        assert "opsi:" in out
        assert ENGLISH.findall(out) == [], out

    def test_top_level_help_speaks_indonesian(self) -> None:
        code, out, _ = run("--lang", "id", "--help")
        assert code == cli.EXIT_OK
        assert "kode keluar:" in out
        assert ENGLISH.findall(out) == [], out


class TestDidYouMean:
    def test_a_mistyped_command(self) -> None:
        code, _, err = run("stauts")
        assert code == cli.EXIT_USAGE
        assert "Did you mean 'status'?" in err
        code, _, err = run("stauts", "--lang", "id")
        assert "Maksud Anda 'status'?" in err

    def test_a_mistyped_innovation_and_actor(self, kebumen: Path, tmp_path: Path) -> None:
        db = str(copy(kebumen, tmp_path))
        code, _, err = run("status", "sidk", "--db", db)
        assert code == cli.EXIT_REFUSED
        assert (
            err == "labflow: There is no innovation 'sidk' in lab kebumen. Did you mean 'sidik'?\n"
        )
        code, _, err = run("approve-plan", "sidik", "--by", "kepala-kesbangpl", "--db", db)
        assert code == cli.EXIT_REFUSED
        assert "Did you mean 'kepala-kesbangpol'?" in err

    def test_a_mistyped_unit_and_role(self, kebumen: Path, tmp_path: Path) -> None:
        """Units (in ``register`` and as a ``list`` filter that finds nothing) and roles
        (``add-actor``, ``set-roles``) get a suggestion too, and nothing is written."""
        db = copy(kebumen, tmp_path)
        before = db.read_bytes()
        cases = [
            (["register", "baru", "--title", "T", "--problem", "P", "--unit", "bag-tapen",
              "--by", "sekretariat"], "'bag-tapem'"),
            (["list", "--unit", "bag-tapen"], "'bag-tapem'"),
            (["add-actor", "x", "--name", "X", "--role", "innovater", "--by", "sekretariat"],
             "'innovator'"),
            (["set-roles", "sekretariat", "--add", "secretariet", "--by", "sekretariat"],
             "'secretariat'"),
        ]  # fmt: skip
        for argv, close in cases:
            code, _, err = run(*argv, "--db", str(db))
            assert code == cli.EXIT_REFUSED, err
            assert f"Did you mean {close}?" in err, err
            code, _, err = run(*argv, "--db", str(db), "--lang", "id")
            assert f"Maksud Anda {close}?" in err, err
        assert db.read_bytes() == before

    def test_no_guess_when_nothing_is_close(self, kebumen: Path) -> None:
        code, _, err = run("status", "zzzzzz", "--db", str(kebumen))
        assert code == cli.EXIT_REFUSED
        assert "Did you mean" not in err
