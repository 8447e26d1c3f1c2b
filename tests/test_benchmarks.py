"""The benchmark suite runs and reports in its documented shape (a smoke test for CI).

``benchmarks/run.py --quick`` runs every section on small workloads; nothing here asserts a
time -- machines running CI are shared, and the figures belong in docs/performance.md --
but every row the performance promises name must be there, well formed, and judged
consistently with its target. The harness's arithmetic is tested apart, on numbers chosen
so that a wrong statistic gives a different answer.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"

ROW_KEYS = {
    "name",
    "value",
    "unit",
    "baseline",
    "baseline_value",
    "ratio",
    "iqr",
    "target",
    "met",
    "note",
}

#: The rows of the performance promises (issue 11), by the start of their names.
PROMISED = (
    "advance into deliver vs bare transitions",
    "advance into deliver vs the floor",
    "refused advance, every reason listed, vs transitions' refused trigger",
    "check (no event) vs bare transitions",
    "innovation at rest",
    "fixed cost per event",
    "dump vs plain cattrs + orjson",
    "load vs plain cattrs + orjson",
    "Kebumen ceremony",
    "5,000-innovation ceremony, one commit per command, SQLite",
    "national registry: open + verify every chain + funnel",
    'python -c "import labflow"',
    "labflow --help",
    "PostgreSQL append, one commit per event",
    "Kebumen ceremony, one commit per command, PostgreSQL",
)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("bench")
    out, table = folder / "results.json", folder / "table.md"
    done = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "run.py"),
            "--quick",
            "--json",
            str(out),
            "--markdown",
            str(table),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    document: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    document["_markdown"] = table.read_text(encoding="utf-8")
    return document


def _meets(measured: float, target: str) -> bool:
    _, op, bound = target.split()
    return measured <= float(bound) if op == "<=" else measured >= float(bound)


class TestQuickRun:
    def test_document_says_where_and_when(self, report: dict[str, Any]) -> None:
        """The document names the machine, the Python, the versions, the date and the command."""
        keys = {"machine", "python", "versions", "date", "command", "clock", "results"}
        assert set(report) - {"_markdown"} == keys
        assert report["clock"] == "cpu"
        assert report["machine"]
        assert report["python"].startswith(f"{sys.version_info.major}.{sys.version_info.minor}")
        assert report["versions"]["labflow"]
        assert report["versions"]["transitions"]
        assert datetime.fromisoformat(report["date"]).tzinfo is not None
        assert "--quick" in report["command"]

    def test_every_promised_row_is_reported(self, report: dict[str, Any]) -> None:
        """Each figure of the promises has a row, once."""
        names = [r["name"] for r in report["results"]]
        for promised in PROMISED:
            found = [n for n in names if n.startswith(promised)]
            assert found, f"no row for {promised!r} in {names}"
        assert len(names) == len(set(names))

    def test_rows_are_well_formed(self, report: dict[str, Any]) -> None:
        """Every row has the documented keys; a measured row has a positive value; a row
        with no value says why it was skipped."""
        for row in report["results"]:
            assert set(row) == ROW_KEYS, row
            assert isinstance(row["unit"], str)
            assert row["unit"]
            if row["value"] is None:
                assert row["note"].startswith("skipped"), row
                continue
            assert row["value"] > 0, row
            if row["baseline"] is not None:
                assert row["baseline_value"] > 0, row
                assert row["ratio"] > 0, row
                assert row["iqr"] >= 0, row

    def test_met_follows_the_target(self, report: dict[str, Any]) -> None:
        """``met`` is what the target says of the median (ratio or value), or null."""
        judged = 0
        for row in report["results"]:
            if row["target"] is None:
                assert row["met"] is None, row
                continue
            what, op, bound = row["target"].split()
            assert what in ("ratio", "value")
            assert op in ("<=", ">=")
            assert float(bound) > 0
            if row["met"] is not None:
                judged += 1
                measured = row["ratio"] if what == "ratio" else row["value"]
                assert row["met"] is _meets(measured, row["target"]), row
        assert judged >= 8  # the engine, memory, serde, Kebumen and start-up rows

    def test_markdown_table_has_a_row_per_result(self, report: dict[str, Any]) -> None:
        """``--markdown`` writes the docs table: a header, then every result by name."""
        lines = report["_markdown"].splitlines()
        assert lines[0].startswith("| figure |")
        assert len(lines) == 2 + len(report["results"])
        for line, row in zip(lines[2:], report["results"], strict=True):
            assert line.startswith(f"| {row['name']} |")

    def test_quick_does_not_judge_shrunk_workloads(self, report: dict[str, Any]) -> None:
        """A workload --quick makes smaller than the promise's is reported, never met or not."""
        rows = {r["name"]: r for r in report["results"]}
        for name in (
            "5,000-innovation ceremony, one commit per command, SQLite",
            "national registry: open + verify every chain + funnel",
        ):
            assert rows[name]["met"] is None
            assert rows[name]["value"] > 0


@pytest.fixture
def harness(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import _harness

    return _harness


class TestHarness:
    def test_paired_reports_the_median_of_per_round_ratios(self, harness: Any) -> None:
        """Ratios are paired within a round: not the ratio of the two medians."""
        samples = {"case": [1.0, 4.0, 9.0], "base": [1.0, 2.0, 9.0]}
        row = harness.paired(samples, "case", "base", name="x", scale=1.0)
        assert row.ratio == 1.0  # ratios 1, 2, 1; the medians' ratio would be 2
        assert row.value == 4.0
        assert row.baseline_value == 2.0

    def test_judged_reads_the_target(self, harness: Any) -> None:
        """A target on the ratio or on the value, either way round; never for a shrunk run."""
        row = harness.Result("x", 60.0, "ms", ratio=0.9, target="value <= 50")
        assert harness.judged(row).met is False
        row = harness.Result("x", 60.0, "ms", ratio=0.9, target="ratio >= 0.8")
        assert harness.judged(row).met is True
        row = harness.Result("x", 60.0, "ms", ratio=0.9, target="ratio <= 0.5")
        assert harness.judged(row, shrunk=True).met is None

    def test_interleave_rotates_the_order(self, harness: Any) -> None:
        """Every case runs first in some round: no case always gets the quiet machine."""
        order: list[str] = []

        def case(name: str) -> Any:
            return harness.Case(name, lambda n: lambda: order.append(name))

        harness.interleave([case("a"), case("b"), case("c")], 3, 1)
        assert [order[0], order[3], order[6]] == ["a", "b", "c"]

    def test_a_case_that_skipped_its_work_stops_the_run(self, harness: Any) -> None:
        """`expect` raises, whatever ``-O`` says, so no number is printed for it."""
        with pytest.raises(harness.CheckFailed, match="state changed"):
            harness.expect(False, "state changed")
