"""The command inside a host's process: it leaves structlog's configuration to the host, and
the console script survives a reader that goes away."""

from __future__ import annotations

import importlib.metadata
import io
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from labflow import cli


@pytest.fixture
def unconfigured() -> Iterator[None]:
    """structlog as a process that never configured it (the suite's fixture configures it)."""
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()


def _create(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    actors = tmp_path / "actors.csv"
    actors.write_text("id,name,roles,unit\nsek,Sekretariat,secretariat,\n", encoding="utf-8")
    out = io.StringIO()
    code = cli.main(
        [
            "create",
            "--db",
            str(tmp_path / "lab.db"),
            "--policy",
            "lan-5d",
            "--id",
            "kudus",
            "--region",
            "Kabupaten Kudus",
            "--by",
            "sek",
            "--actors",
            str(actors),
        ],
        stdout=out,
        stderr=io.StringIO(),
    )
    return code, out.getvalue() + capsys.readouterr().out


class TestStructlogStaysTheHosts:
    @pytest.mark.usefixtures("unconfigured")
    def test_a_later_configure_once_takes_effect(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """After `main` in-process, structlog is still unconfigured, so a host's
        ``configure_once`` is applied (not silently dropped) and routes labflow's events."""
        code, _ = _create(tmp_path, capsys)
        assert code == cli.EXIT_OK
        assert not structlog.is_configured()

        seen: list[dict[str, Any]] = []

        def keep(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
            seen.append(event)
            raise structlog.DropEvent

        with warnings.catch_warnings():
            warnings.simplefilter("error")  # configure_once warns when already configured
            structlog.configure_once(processors=[keep])
        assert structlog.get_config()["processors"] == [keep]
        code = cli.main(["status", "--db", str(tmp_path / "lab.db")], stdout=io.StringIO())
        assert code == cli.EXIT_OK
        structlog.get_logger("labflow").info("labflow.probe")
        assert [e["event"] for e in seen] == ["labflow.probe"]

    @pytest.mark.usefixtures("unconfigured")
    def test_unconfigured_audit_events_stay_out_of_the_output(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """With no host configuration, the command prints its own lines, no audit event."""
        code, printed = _create(tmp_path, capsys)
        assert code == cli.EXIT_OK
        assert "labflow.lab.created" not in printed
        assert printed.strip()  # the command did say something

    def test_a_configured_host_receives_the_commands_events(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A host that configured structlog first gets the command's audit events, routed
        its way, and keeps its configuration."""
        seen: list[str] = []

        def keep(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
            seen.append(event["event"])
            raise structlog.DropEvent

        structlog.configure(processors=[keep])
        before = structlog.get_config()
        code, _ = _create(tmp_path, capsys)
        assert code == cli.EXIT_OK
        assert seen == ["labflow.lab.created"]
        assert structlog.get_config() == before


def _to_a_gone_reader(code: str, *argv: str) -> tuple[int, str]:
    """Run ``python -c code argv...`` with its standard output a pipe nobody reads any more;
    its exit code and standard error. Standard output is block-buffered, as a pipe's is
    unless PYTHONUNBUFFERED says otherwise."""
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the command writes a byte
    try:
        result = subprocess.run(
            [sys.executable, "-c", code, *argv],
            env=environ,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write)
    return result.returncode, result.stderr


class TestConsoleScript:
    def test_points_at_run(self) -> None:
        """The installed ``labflow`` script runs `cli.run`, which handles a closed pipe."""
        (script,) = importlib.metadata.entry_points(group="console_scripts", name="labflow")
        assert script.value == "labflow.cli:run"
        assert script.load() is cli.run

    @pytest.mark.parametrize(
        "argv", [("policy", "show", "lan-5d"), ("policy", "list")], ids=["long", "short"]
    )
    def test_a_reader_that_went_away_is_no_traceback(self, argv: tuple[str, ...]) -> None:
        """``labflow policy show lan-5d | true``: exit 141, nothing on standard error."""
        code, stderr = _to_a_gone_reader("from labflow.cli import run; run()", *argv)
        assert (code, stderr) == (cli.EXIT_BROKEN_PIPE, "")

    def test_output_still_buffered_when_main_returns_is_no_traceback(self) -> None:
        """Whatever `main` left in the buffer, a reader that went away ends the same way
        (run flushes before exiting, instead of Python's failing flush at shutdown)."""
        code = (
            "import sys; from labflow import cli\n"
            "cli.main = lambda: sys.stdout.write('buffered\\n') and 0\n"
            "cli.run()\n"
        )
        assert _to_a_gone_reader(code) == (cli.EXIT_BROKEN_PIPE, "")
