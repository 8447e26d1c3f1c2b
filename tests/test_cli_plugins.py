"""Installed rules plugins: the ``labflow.rules`` entry points load with every command."""

from __future__ import annotations

import io
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

import labflow
from labflow import cli

ROOT = Path(__file__).resolve().parent.parent
KUDUS = ROOT / "examples" / "kudus"
POLICY = str(KUDUS / "policy.toml")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with structlog.testing.capture_logs():
        code = cli.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def install(site: Path, dist: str, entry_points: str, modules: dict[str, str]) -> None:
    """A distribution as an installer leaves it: its modules and a ``.dist-info`` folder."""
    info = site / f"{dist}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[labflow.rules]\n{entry_points}\n")
    for name, text in modules.items():
        (site / f"{name}.py").write_text(text)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on ``sys.path`` to install into; what it adds is forgotten afterwards."""
    folder = tmp_path / "site-packages"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    before = {k: set(labflow.DEFAULT_REGISTRY.names(k)) for k in ("gate", "cohort")}  # type: ignore[arg-type]
    modules = set(sys.modules)
    yield folder
    for name in set(sys.modules) - modules:
        if name.startswith("plugin_"):
            del sys.modules[name]
    for kind in ("gate", "cohort"):
        for name in set(labflow.DEFAULT_REGISTRY.names(kind)) - before[kind]:  # type: ignore[arg-type]
            labflow.DEFAULT_REGISTRY.unregister(kind, name)  # type: ignore[arg-type]


def kudus_rules() -> str:
    return (KUDUS / "kudus_rules.py").read_text()


class TestInstalled:
    def test_without_the_plugin_the_policy_names_an_unknown_requirement(self, site: Path) -> None:
        code, _, err = run("policy", "validate", POLICY)
        assert code == cli.EXIT_USAGE
        assert "kudus.adapted_to_kudus" in err

    def test_a_registry_entry_point_makes_the_policy_load(self, site: Path) -> None:
        install(site, "kudus_rules_plugin", "kudus = plugin_kudus:REGISTRY",
                {"plugin_kudus": kudus_rules()})  # fmt: skip
        code, out, err = run("policy", "validate", POLICY)
        assert code == cli.EXIT_OK, err
        assert "is valid" in out

    def test_a_module_entry_point_with_a_registry_makes_the_policy_load(self, site: Path) -> None:
        install(site, "kudus_module", "kudus = plugin_kudus_module",
                {"plugin_kudus_module": kudus_rules()})  # fmt: skip
        assert run("policy", "validate", POLICY)[0] == cli.EXIT_OK

    def test_a_module_registering_into_the_default_registry_is_enough(self, site: Path) -> None:
        text = (
            kudus_rules()
            .replace(
                "REGISTRY = Registry(parent=labflow.DEFAULT_REGISTRY)",
                "_OWN = labflow.DEFAULT_REGISTRY",
            )
            .replace("@REGISTRY.requirement", "@_OWN.requirement")
        )
        install(
            site, "kudus_default", "kudus = plugin_kudus_default", {"plugin_kudus_default": text}
        )
        assert run("policy", "validate", POLICY)[0] == cli.EXIT_OK


class TestBroken:
    @pytest.mark.parametrize(
        ("lang", "sentence"),
        [
            ("en", "The rules plugin rusak (installed by broken_dist) could not be loaded"),
            ("id", "Plugin aturan rusak (dipasang oleh broken_dist) tidak dapat dimuat"),
        ],
    )
    def test_a_plugin_that_fails_to_import_stops_every_command_with_exit_2(
        self, site: Path, lang: str, sentence: str
    ) -> None:
        install(site, "broken_dist", "rusak = plugin_rusak:REGISTRY",
                {"plugin_rusak": "raise RuntimeError('no database for rules')\n"})  # fmt: skip
        code, out, err = run("policy", "list", "--lang", lang)
        assert code == cli.EXIT_USAGE
        assert sentence in err
        assert "RuntimeError: no database for rules" in err
        assert out == ""

    def test_a_missing_module_names_the_plugin(self, site: Path) -> None:
        install(site, "broken_dist", "hilang = plugin_not_there", {})
        code, _, err = run("policy", "list")
        assert code == cli.EXIT_USAGE
        assert "hilang (installed by broken_dist)" in err

    def test_an_object_that_is_no_registry_is_refused(self, site: Path) -> None:
        install(site, "broken_dist", "angka = plugin_number:VALUE",
                {"plugin_number": "VALUE = 5\n"})  # fmt: skip
        code, _, err = run("policy", "list")
        assert code == cli.EXIT_USAGE
        assert "plugin_number:VALUE is a int, not a labflow.Registry" in err

    def test_a_name_clash_with_a_registered_requirement_is_refused(self, site: Path) -> None:
        """Two plugins registering the same name for different functions: the second fails."""
        install(site, "one", "satu = plugin_one:REGISTRY", {"plugin_one": kudus_rules()})
        shutil.copy(site / "plugin_one.py", site / "plugin_two.py")
        install(site, "two", "dua = plugin_two:REGISTRY", {})
        code, _, err = run("policy", "list")
        assert code == cli.EXIT_USAGE
        assert "(installed by one)" in err or "(installed by two)" in err
        assert "already registered" in err
