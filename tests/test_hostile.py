"""Hostile input: one text rule, a terminal that obeys no one, numbers that round-trip, bounds.

Each loader is fed the shapes an attacker would send -- many bad items, deep
nesting, long strings, many keys, huge numbers -- and must refuse them with
labflow's own error in memory proportional to the input (tracemalloc's peak,
not time, so the checks hold on a busy machine). The limits live in
`labflow._limits` and ``docs/limits.md``.
"""

from __future__ import annotations

import io
import re
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import labflow as lf
from helpers import cohort, make_lab, plan_steps, register
from labflow import _limits, cli, reports, serde
from labflow import _text as text_rule
from labflow import cohort as cohort_csv

#: What a terminal obeys: C0 controls but newline and tab (CR included: it rewrites a line),
#: DEL, C1 controls (CSI is 0x9b), bidi embedding/override/isolate controls, the BOM.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")

#: An operator's "title" that retitles the window, clears the screen and fakes a verdict.
INJECTION = "x\x1b]0;OWNED\x07\x1b[2J\x9b31m\u202edetrevni\u202c\ufeff\r✓ verified"

HOSTILE_TEXTS = [
    "\x1b[2J",
    "a\x07",
    "nul\x00",
    "cr\rlf",
    "c1\x9b",
    "\u202eevil",
    "\u2067isolate",
    "\ufeffbom",
    "lone\udcff",
]


# --- one rule for ids and one for text -----------------------------------------------------


class TestOneTextRule:
    @pytest.mark.parametrize("value", ["kbm-01", "dinkes", "pkm_2", "Inovasi.1", "déjà"])
    def test_identifiers_that_pass(self, value: str) -> None:
        assert text_rule.ident_problem(value) is None

    @pytest.mark.parametrize(
        "value",
        ["", "kbm-01\n", "a b", " a", "a\t", "a\u00a0b", "x" * 201, *HOSTILE_TEXTS],
    )
    def test_identifiers_that_fail_whole(self, value: str) -> None:
        """A full match: a trailing newline is not forgiven as a regex `$` would."""
        assert text_rule.ident_problem(value) is not None

    @pytest.mark.parametrize("value", HOSTILE_TEXTS)
    def test_free_text_refuses_what_a_terminal_obeys(self, value: str) -> None:
        assert text_rule.text_problem(value) is not None

    def test_free_text_keeps_newlines_and_tabs_and_any_script(self) -> None:
        assert text_rule.text_problem("Baris satu\n\tbaris dua — ✓ é 漢字") is None

    @pytest.mark.parametrize("value", HOSTILE_TEXTS)
    def test_lab_commands_and_the_csv_importer_agree(self, value: str) -> None:
        """The same value is refused by a Lab command and by the CSV importer alike."""
        lab = make_lab()
        with pytest.raises(lf.InvalidCommand):
            register(lab, "ino-1", "dinkes", title=value)
        with pytest.raises(lf.InvalidCommand):
            register(lab, f"ino{value}", "dinkes")
        with pytest.raises(lf.DocumentError):
            cohort_csv.read_units(f'id,name,kind\nu1,"{value}",agency\n')
        with pytest.raises(lf.DocumentError):
            cohort_csv.read_units(f'id,name,kind\n"u{value}",Unit,agency\n')
        assert len(lab.innovations) == 0

    def test_a_trailing_newline_in_an_id_is_refused_everywhere(self) -> None:
        lab = make_lab()
        with pytest.raises(lf.InvalidCommand, match="white space"):
            register(lab, "ino-1\n", "dinkes")
        with pytest.raises(lf.DocumentError, match="white space"):  # cells are trimmed first
            cohort_csv.read_units('id,name,kind\n"u\n1",Unit,agency\n')

    def test_a_document_holding_control_characters_is_refused(self) -> None:
        lab = make_lab()
        cohort(lab)
        document = serde.unstructure(lab.innovation("ino-dinkes"))
        document["data"]["title"] = INJECTION
        with pytest.raises(lf.DocumentError) as info:
            serde.structure(document)
        assert any(p.path == "$.data.title" for p in info.value.problems)
        event = serde.unstructure(lab.history[0])
        event["data"]["payload"]["region"] = "\x1b[2J"
        with pytest.raises(lf.DocumentError, match="escape character"):
            serde.structure(event)


class TestPrintable:
    def test_every_control_is_escaped(self) -> None:
        shown = text_rule.printable(INJECTION + "\udcff")
        assert RAW_CONTROL.search(shown) is None
        assert "\\u001b]0;OWNED\\u0007" in shown
        assert shown.endswith("\\xff")

    def test_newlines_and_tabs_stay_unless_asked(self) -> None:
        assert text_rule.printable("a\nb\tc") == "a\nb\tc"
        assert text_rule.printable("a\nb\tc", newlines=False) == "a\\u000ab\\u0009c"

    def test_plain_text_is_unchanged(self) -> None:
        text = "Inovasi ✓ — é 漢字 (2016)"
        assert text_rule.printable(text) is text or text_rule.printable(text) == text


# --- the terminal: a second line of defence ------------------------------------------------


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def forged_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database whose innovation carries control sequences in every text it has.

    Such a database comes from an older labflow, or from someone who edited it:
    the text rule is switched off while it is written, then back on.
    """
    db = str(tmp_path / "forged.db")
    units = tmp_path / "units.csv"
    units.write_text("id,name,kind\ndinkes,Dinas Kesehatan,agency\n", encoding="utf-8")
    actors = tmp_path / "actors.csv"
    actors.write_text(
        "id,name,roles,unit\nsekretariat,Sekretariat,secretariat,\n"
        "staf,Staf,innovator,dinkes\nkadinkes,Kadinkes,unit_head,dinkes\n",
        encoding="utf-8",
    )
    code, _, err = run(
        "create", "--db", db, "--policy", "lan-5d", "--id", "lab", "--region", "Kudus",
        "--by", "sekretariat", "--units", str(units), "--actors", str(actors),
    )  # fmt: skip
    assert code == 0, err
    with monkeypatch.context() as patched:
        patched.setattr(
            text_rule, "check_text", lambda value, what, *, empty=True, what_id="": value
        )
        patched.setattr(text_rule, "check_ident", lambda value, what, *, what_id="": value)
        code, _, err = run(
            "register", "--db", db, "ino\x1b[2J", "--title", INJECTION, "--unit", "dinkes",
            "--innovator", INJECTION, "--problem", INJECTION, "--by", "staf",
        )  # fmt: skip
        assert code == 0, err
    return db


#: Commands whose output includes the forged innovation's title or id.
SHOWS_TITLE = {("status", "ino\x1b[2J"), ("list",), ("export",), ("export", "--format", "csv")}


class TestTerminal:
    @pytest.mark.parametrize(
        "argv",
        [
            ("status",),
            ("status", "ino\x1b[2J"),
            ("list",),
            ("list", "--json"),
            ("history",),
            ("history", "ino\x1b[2J"),
            ("report",),
            ("report", "--json"),
            ("export",),
            ("export", "--format", "csv"),
            ("verify",),
        ],
        ids=" ".join,
    )
    def test_no_command_writes_a_raw_control_byte(self, forged_db: str, argv: Any) -> None:
        """Every command that prints user text escapes what a terminal would obey."""
        command, *rest = argv
        code, out, err = run(command, "--db", forged_db, *rest)
        assert RAW_CONTROL.search(out) is None, out
        assert RAW_CONTROL.search(err) is None, err
        assert "\x1b" not in out + err
        if code == 0 and argv in SHOWS_TITLE:
            assert "\\u001b" in out  # the text is there, shown, not obeyed

    def test_a_hostile_title_is_refused_at_the_door(self, forged_db: str) -> None:
        code, out, err = run(
            "register", "--db", forged_db, "ino-2", "--title", INJECTION, "--unit", "dinkes",
            "--innovator", "Tim", "--problem", "Antrian", "--by", "staf",
        )  # fmt: skip
        assert code == cli.EXIT_REFUSED
        assert "escape character" in err
        assert RAW_CONTROL.search(out + err) is None


class TestSpreadsheetExport:
    @pytest.mark.parametrize("title", ['=HYPERLINK("http://x")', "+1", "-1+2", "@SUM(A1)"])
    def test_a_formula_prefix_is_neutralised(self, title: str) -> None:
        lab = make_lab()
        register(lab, "ino-1", "dinkes", title=title)
        rows = reports.innovations_csv(lab).splitlines()
        assert rows[0].startswith("id,title,unit,unit_kind,stage")
        assert f"'{title}" in rows[1].replace('""', '"')

    def test_ordinary_cells_are_unchanged(self) -> None:
        lab = make_lab()
        register(lab, "ino-1", "dinkes", title="Ambulans desa")
        assert ",Ambulans desa,dinkes,agency," in reports.innovations_csv(lab)


# --- numbers: what both JSON backends write and read back exactly --------------------------


class TestNumbers:
    @pytest.mark.parametrize("backend", ["orjson", "json"])
    def test_the_largest_budget_round_trips_on_both_backends(
        self, backend: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        if backend == "json":
            monkeypatch.setattr(serde, "_fast", None)
        elif serde.JSON_BACKEND != "orjson":
            pytest.skip("orjson is not installed")
        lab = make_lab()
        register(lab, "ino-1", "dinkes")
        inn = lab.innovation("ino-1")
        lab.submit_plan("ino-1", steps=plan_steps(), budget=_limits.MAX_INT, by="staf-dinkes")
        assert serde.loads(serde.dumps(inn)) == inn

    @pytest.mark.parametrize("number", [2**63, 2**64, -(2**63) - 1, 10**40])
    def test_a_document_integer_past_64_bits_is_refused_naming_the_field(self, number: int) -> None:
        lab = make_lab()
        event = serde.unstructure(lab.history[0])
        event["data"]["seq"] = number
        with pytest.raises(lf.DocumentError) as info:
            serde.structure(event)
        assert [p.path for p in info.value.problems] == ["$.data.seq"]
        assert "64-bit" in info.value.problems[0].message
        event = serde.unstructure(lab.history[0])
        event["data"]["payload"]["count"] = number
        with pytest.raises(lf.DocumentError, match=r"\$\.data\.payload: .*64-bit"):
            serde.structure(event)


# --- bounded loaders -------------------------------------------------------------------------

#: Peak memory a loader may use: this many times its input, plus a constant for the code paths
#: themselves. The JSON parsers alone spend up to about 23 times the input on small objects.
RATIO = 25
CONSTANT = 4 * 1024 * 1024


def peak(call: Callable[[], object]) -> int:
    """The tracemalloc peak of ``call``, which must raise a LabflowError."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        with pytest.raises(lf.LabflowError):
            call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def envelope(kind: str, version: int, data: bytes) -> bytes:
    return b'{"kind":"%s","version":%d,"data":%s}' % (kind.encode(), version, data)


def lab_with(field: str, items: bytes) -> bytes:
    lists = {"units": b"[]", "actors": b"[]", "innovations": b"[]", "history": b"[]"}
    lists[field] = items
    body = b'{"id":"x","region":"r","policy":{},"stage":"s",' + b",".join(
        b'"%s":%s' % (k.encode(), v) for k, v in lists.items()
    )
    return envelope("lab", 2, body + b"}")


N = 20_000
DOCUMENTS = {
    "many empty events": envelope("history", 1, b"[" + b"{}," * N + b"{}]"),
    "many bad events": envelope("history", 1, b"[" + b'{"seq":123456789012},' * N + b"{}]"),
    "many bad units": lab_with("units", b"[" + b'{"id":"u12345678901"},' * N + b"{}]"),
    "many bad innovations": lab_with("innovations", b"[" + b'{"id":"i1234567890"},' * N + b"{}]"),
    "many bad actors": lab_with("actors", b"[" + b'{"roles":[1,2,3,4,5,6,7]},' * N + b"{}]"),
    "deep nesting": envelope("history", 1, b"[" * 50_000 + b"]" * 50_000),
    "deep payload": envelope("event", 1, b'{"payload":' + b'{"a":' * 2000 + b"1" + b"}" * 2001),
    "a long string": envelope("event", 1, b'"' + b"x" * 500_000 + b'"'),
    "long bad strings": envelope(
        "history", 1, b"[" + b'"\\u001b[2Jxxxxxxxxxxxxxxxxx",' * N + b'""]'
    ),
    "many keys": envelope("event", 1, b"{" + b",".join(b'"k%d":0' % i for i in range(N)) + b"}"),
    "huge numbers": envelope("history", 1, b"[" + b",".join([b"1" + b"0" * 40] * N) + b"]"),
    "a huge number": envelope("event", 1, b'{"seq":1' + b"0" * 100_000 + b"}"),
}


class TestBoundedLoaders:
    @pytest.mark.parametrize("backend", ["orjson", "json"])
    @pytest.mark.parametrize("shape", sorted(DOCUMENTS))
    def test_documents(self, shape: str, backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
        """Refused with a DocumentError, in memory proportional to the document."""
        if backend == "json":
            monkeypatch.setattr(serde, "_fast", None)
        elif serde.JSON_BACKEND != "orjson":
            pytest.skip("orjson is not installed")
        data = DOCUMENTS[shape]
        with pytest.raises(lf.DocumentError):
            serde.loads(data)  # warm up: hooks are compiled on first use
        used = peak(lambda: serde.loads(data))
        assert used <= RATIO * len(data) + CONSTANT, f"{used / len(data):.1f}x the input"

    def test_problems_stop_at_the_limit_while_validating(self) -> None:
        """The detailed pass stops at MAX_PROBLEMS and says how many items it left."""
        with pytest.raises(lf.DocumentError) as info:
            serde.loads(DOCUMENTS["many bad events"])
        problems = info.value.problems
        assert len(problems) == serde.MAX_PROBLEMS
        assert "more" in problems[-1].message

    def test_dense_documents_are_refused_before_parsing(self) -> None:
        with pytest.raises(lf.DocumentError, match="too dense"):
            serde.loads(DOCUMENTS["many empty events"])

    def test_unknown_keys_are_named_but_not_all_of_them(self) -> None:
        with pytest.raises(lf.DocumentError) as info:
            serde.loads(DOCUMENTS["many keys"])
        message = str(info.value)
        assert "more" in message
        assert len(message) < 5_000

    def test_csv(self) -> None:
        text = "id,name,kind\n" + "u 1,\x1b[2J,dinas\n" * N
        used = peak(lambda: cohort_csv.read_units(text))
        assert used <= RATIO * len(text) + CONSTANT
        with pytest.raises(lf.DocumentError) as info:
            cohort_csv.read_units(text)
        assert len(info.value.problems) == _limits.MAX_PROBLEMS
        assert info.value.problems[-1].message.startswith("... and ")

    def test_a_csv_past_the_size_limit_is_refused_unread(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(cohort_csv, "MAX_CSV_BYTES", 10)
        with pytest.raises(lf.DocumentError, match="larger than"):
            cohort_csv.read_units("id,name,kind\nu1,U,agency\n")

    def test_policy_toml(self) -> None:
        rows = [f'{{id="s{i}",label_id="S",label_en="S",covers=["x"]}},' for i in range(N // 4)]
        text = 'id = "besar"\nstages = [\n' + "\n".join(rows) + "\n]\n"
        used = peak(lambda: lf.parse_policy(text))
        assert used <= RATIO * len(text) + CONSTANT

    def test_policy_document(self) -> None:
        stages = b",".join([b'{"id":"s","covers":["drum_up"]}'] * N)
        data = envelope("policy", 1, b'{"id":"p","stages":[' + stages + b"]}")
        used = peak(lambda: serde.loads(data))
        assert used <= RATIO * len(data) + CONSTANT
