"""``labflow --rules MODULE``: a policy naming host requirements loads once their module ran."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

import labflow
from labflow import cli

ROOT = Path(__file__).resolve().parent.parent
KUDUS = ROOT / "examples" / "kudus"
RULES = str(KUDUS / "kudus_rules.py")
POLICY = str(KUDUS / "policy.toml")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with structlog.testing.capture_logs():
        code = cli.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def _forget_host_names() -> Iterator[None]:
    """What a rules module adds to the default registry is taken away after each test."""
    before = {k: set(labflow.DEFAULT_REGISTRY.names(k)) for k in ("gate", "cohort")}  # type: ignore[arg-type]
    yield
    for kind in ("gate", "cohort"):
        for name in set(labflow.DEFAULT_REGISTRY.names(kind)) - before[kind]:  # type: ignore[arg-type]
            labflow.DEFAULT_REGISTRY.unregister(kind, name)  # type: ignore[arg-type]


def test_without_rules_the_policy_names_an_unknown_requirement() -> None:
    """The Kudus example names kudus.adapted_to_kudus; without its module it is refused."""
    code, _, err = run("policy", "validate", POLICY)
    assert code == 2
    assert "'kudus.adapted_to_kudus' is not a registered gate requirement" in err


@pytest.mark.parametrize("where", ["before", "after"])
def test_with_rules_the_policy_loads(where: str) -> None:
    """``--rules FILE`` before or after the command makes the example's policy valid."""
    argv = ["policy", "validate", POLICY]
    argv = ["--rules", RULES, *argv] if where == "before" else [*argv, "--rules", RULES]
    code, out, _ = run(*argv)
    assert code == 0, out
    assert "kudus-2017-example is valid" in out or "is valid" in out


def test_a_lab_under_the_policy_is_created_and_read_with_its_rules(tmp_path: Path) -> None:
    """Every later command needs the rules too: the lab's recorded policy names them."""
    actors = tmp_path / "actors.csv"
    actors.write_text(
        "id,name,roles,unit\nsek,Sekretariat,secretariat,\nbupati,Bupati Kudus,regional_head,\n",
        encoding="utf-8",
    )
    db = str(tmp_path / "kudus.db")
    create = ["create", "--db", db, "--policy", POLICY, "--id", "kudus", "--region", "Kudus"]
    create += ["--by", "sek", "--actors", str(actors), "--units", str(KUDUS / "units.csv")]
    code, _, err = run("--rules", RULES, *create)
    assert code == 0, err
    labflow.DEFAULT_REGISTRY.unregister("gate", "kudus.adapted_to_kudus")  # a new process
    code, _, err = run("advance-lab", "--by", "sek", "--db", db)
    assert code == 2
    assert "'kudus.adapted_to_kudus' is not registered" in err
    code, _, err = run("--rules", RULES, "status", "--db", db)
    assert code == 0, err
    code, _, err = run("advance-lab", "--by", "sek", "--db", db, "--rules", RULES)
    assert "kudus.adapted_to_kudus" not in err


def test_an_importable_module_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A module on the import path, registering with @labflow.requirement, works by name."""
    (tmp_path / "wilayah_rules.py").write_text(
        "import labflow\n\n"
        "@labflow.requirement('wilayah.always')\n"
        "def always(ctx: labflow.GateContext) -> list[labflow.Unmet]:\n"
        "    return []\n",
        encoding="utf-8",
    )
    policy = tmp_path / "policy.toml"
    policy.write_text(
        'id = "wilayah"\nextends = "lan-5d"\n[gates]\n'
        'display = ["launch_recorded", "wilayah.always"]\n',
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "wilayah_rules", raising=False)
    code, _, err = run("--rules", "wilayah_rules", "policy", "validate", str(policy))
    assert code == 0, err


@pytest.mark.parametrize("module", ["no/such/rules.py", "labflow_no_such_module"])
def test_a_module_that_cannot_be_found_is_a_usage_error(module: str) -> None:
    """Exit 2 with one sentence naming the module and why, in either language."""
    code, _, err = run("--rules", module, "policy", "list")
    assert code == 2
    assert err == (
        f"labflow: The rules module {module} was not found: it is neither a file nor a module "
        "Python can import.\n"
    )
    code, _, err = run("--lang", "id", "--rules", module, "policy", "list")
    assert code == 2
    assert err.startswith(f"labflow: Modul aturan {module} tidak ditemukan")


def test_a_module_that_fails_says_how(tmp_path: Path) -> None:
    """A rules module raising while it runs is reported, not a traceback."""
    broken = tmp_path / "rusak_rules.py"
    broken.write_text("raise RuntimeError('anggaran belum ada')\n", encoding="utf-8")
    code, _, err = run("--rules", str(broken), "policy", "list")
    assert code == 2
    assert "RuntimeError: anggaran belum ada" in err
    assert "Traceback" not in err
