"""How the command draws: widths, colour, escapes and progress (labflow._terminal)."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from labflow._terminal import UNBOUNDED, Output, printable


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


ROWS = [
    ("akta-kematian-desa", "The performance agreement is not signed by the head of the unit."),
    ("sidik", "The action plan is not approved."),
]


class TestTables:
    @pytest.mark.parametrize("width", [40, 60, 80])
    def test_cells_wrap_rows_do_not(self, width: int) -> None:
        """Every line fits; ids stay whole; every word of every row is still there."""
        out = io.StringIO()
        Output("en", False, out, io.StringIO(), width=width, colour=False).table(
            "Blocked", ["Innovation", "Reasons"], ROWS, wide=(1,)
        )
        lines = out.getvalue().splitlines()
        assert all(len(line) <= width for line in lines)
        assert sum(line.startswith("akta-kematian-desa ") for line in lines) == 1
        words = " ".join(lines).split()
        for _, reason in ROWS:
            assert set(reason.split()) <= set(words)

    def test_a_pipe_gets_one_line_per_row(self) -> None:
        out = io.StringIO()
        Output("en", False, out, io.StringIO(), width=UNBOUNDED, colour=False).table(
            None, ["Innovation", "Reasons"], ROWS, wide=(1,)
        )
        lines = out.getvalue().splitlines()
        assert len(lines) == 2 + len(ROWS)
        assert all(line == line.rstrip() for line in lines)


class TestColour:
    def test_a_terminal_gets_colour(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("NO_COLOR", raising=False)
        monkeypatch.delenv("TERM", raising=False)
        out = Terminal()
        Output("en", False, out, io.StringIO(), width=80).say("done", style="green")
        assert "\x1b[" in out.getvalue()

    def test_no_color_and_pipes_get_none(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("NO_COLOR", "1")
        out = Terminal()
        Output("en", False, out, io.StringIO(), width=80).say("done", style="green")
        assert out.getvalue() == "done\n"
        monkeypatch.delenv("NO_COLOR")
        piped = io.StringIO()
        Output("en", False, piped, io.StringIO()).say("done", style="green")
        assert piped.getvalue() == "done\n"


class TestEscapes:
    @pytest.mark.parametrize(
        ("text", "shown"),
        [
            ("\x1b[31mred", "\\u001b[31mred"),
            ("bell\x07", "bell\\u0007"),
            ("\u202eevil", "\\u202eevil"),
            ("c1\x9b", "c1\\u009b"),
            ("line\nbreak\ttab", "line\nbreak\ttab"),
        ],
    )
    def test_control_characters_become_visible(self, text: str, shown: str) -> None:
        assert printable(text) == shown

    def test_a_hostile_cell_cannot_reach_the_terminal(self) -> None:
        out = Terminal()
        Output("en", False, out, io.StringIO(), width=80, colour=False).table(
            None, ["Title"], [("\x1b]0;pwned\x07",)]
        )
        assert "\x1b" not in out.getvalue()
        assert "\\u001b]0;pwned\\u0007" in out.getvalue()


class TestProgress:
    def test_a_terminal_gets_a_bar_with_counts_and_time(self) -> None:
        err = Terminal()
        seen = list(Output("en", False, io.StringIO(), err).progress("Registering", [1, 2, 3]))
        assert seen == [1, 2, 3]
        assert "Registering" in err.getvalue()
        assert "3/3" in err.getvalue()
        assert "0:00:00" in err.getvalue()  # elapsed and remaining

    def test_the_bar_moves_only_when_an_item_is_done(self) -> None:
        """The count shown while an item is worked on excludes it: done means done."""
        err = Terminal()
        output = Output("en", False, io.StringIO(), err)
        bar = output.progress("Work", [1, 2])
        next(bar)
        assert "2/2" not in err.getvalue()
        list(bar)
        assert "2/2" in err.getvalue()

    def test_no_terminal_no_bar(self) -> None:
        err = io.StringIO()
        assert list(Output("en", False, io.StringIO(), err).progress("x", [1])) == [1]
        assert err.getvalue() == ""


class TestRichStaysOptional:
    def test_the_library_and_the_help_need_no_rich(self) -> None:
        """``import labflow`` and ``labflow --help`` work where Rich is not installed."""
        program = (
            "import io, sys\n"
            "sys.modules['rich'] = None\n"  # as if it were not installed
            "import labflow, labflow.reports, labflow.serde\n"
            "from labflow import cli\n"
            "assert cli.main(['--help'], stdout=io.StringIO()) == 0\n"
            "assert cli.main(['advance', '--help', '--lang', 'id'], stdout=io.StringIO()) == 0\n"
        )
        result = subprocess.run([sys.executable, "-c", program], capture_output=True, timeout=60)
        assert result.returncode == 0, result.stderr

    def test_without_rich_the_command_says_how_to_get_it(self) -> None:
        program = (
            "import io, sys\n"
            "sys.modules['rich'] = None\n"  # as if it were not installed
            "from labflow import cli\n"
            "err = io.StringIO()\n"
            "code = cli.main(['policy', 'list'], stdout=io.StringIO(), stderr=err)\n"
            "assert code == 2, code\n"
            "assert 'labflow[cli]' in err.getvalue(), err.getvalue()\n"
        )
        result = subprocess.run([sys.executable, "-c", program], capture_output=True, timeout=60)
        assert result.returncode == 0, result.stderr
