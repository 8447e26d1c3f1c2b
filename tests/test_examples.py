"""Every example adapter runs, and blocks exactly the innovations it means to, for its reasons."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import structlog

import labflow as lf

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def load(region: str) -> ModuleType:
    """Import ``examples/<region>/run.py`` by path, as a tool reusing the scenario would."""
    name = f"example_{region}_run"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / region / "run.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_OUTCOMES: dict[str, Any] = {}


def outcome(region: str) -> Any:
    if region not in _OUTCOMES:
        with structlog.testing.capture_logs():
            _OUTCOMES[region] = load(region).run()
    return _OUTCOMES[region]


def codes(result: Any) -> dict[str, tuple[str, ...]]:
    return {ident: verdict.codes for ident, verdict in result.blocked.items()}


def test_kebumen_outcome() -> None:
    """All 182 launched at one ceremony; only after it do innovations fall behind."""
    result = outcome("kebumen")
    assert len(result.lab.innovations) == 182
    assert result.lab.stage == "display"
    assert len(result.launched) == 182
    assert len(result.exhibited) == 179
    assert result.withdrawn == {}
    assert codes(result) == {
        "aset-tertib": ("evidence.too_few",),
        "toga-keluarga": ("kebumen.signed_outside_launch",),
        "kredit-musim-tanam": ("agreement.unsigned.unit_head",),
    }
    assert {"muttu-1000", "siperi", "elegan"} <= set(result.exhibited)


def test_kebumen_nothing_exhibited_without_both_signatures() -> None:
    result = outcome("kebumen")
    for ident in result.exhibited:
        agreement = result.lab.innovation(ident).agreement
        assert agreement is not None
        assert agreement.complete


def test_kudus_outcome() -> None:
    """2016-17 under the 2017 rules: 30 booths; the exhibitors take part in the exhibition
    only (no unit, no innovation, no agreement, no launch)."""
    result = outcome("kudus")
    assert result.lab.policy.extends == "kudus-2017"
    assert len(result.lab.innovations) == 25
    assert len(result.launched) == 21
    assert result.launched_at_exhibition == ("desa-cerdas", "command-center")
    assert len(result.exhibited) == 22
    assert len(result.booths) == 30
    assert codes(result) == {
        "akta-sebelum-pulang": ("evidence.too_few",),
        "bus-sekolah": ("agreement.unsigned.unit_head",),
        "dukcapil-jemput-bola": ("kudus.not_adapted",),
    }
    lab = result.lab
    assert all(u.kind.government for u in lab.units.values())
    (exhibition,) = lab.exhibitions.values()
    assert len(exhibition.exhibitors) == 11
    assert not exhibition.open  # closed on the Friday afternoon
    outside = [b for b in exhibition.booths.values() if b.holder in exhibition.exhibitors]
    assert len(outside) == 11
    assert all(result.booths[b.id] == b.showcases for b in outside)


def test_kudus_2019_outcome() -> None:
    """The 2019 rules hold the lab at diagnose until every agency and official has caught up."""
    with structlog.testing.capture_logs():
        result = load("kudus").run_2019()
    assert result.lab.policy.id == "kudus-2019"
    (refused,) = result.lab_refused
    assert refused.codes == ("cohort.unit_short", "cohort.officials_short")
    assert refused.unmet[1].data["units"] == ["diskominfo", "dpmptsp", "satpol-pp"]
    assert result.lab.stage == "design"
    assert "belum dapat maju ke" in result.report("id")


def test_banyumas_outcome() -> None:
    """92 shown; the facilitator changes hands; the ideas held back are beyond the 92."""
    result = outcome("banyumas")
    assert len(result.lab.innovations) == 95
    assert len(result.launched) == 92
    assert len(result.exhibited) == 92
    assert set(result.withdrawn) == {"pbb-desa-online"}
    assert codes(result) == {
        "akta-lahir-bidan": ("unit_head.ambiguous",),
        "kompos-sekolah": ("banyumas.no_budget",),
    }
    assert len(result.refusals) == 1
    assert "mentor-lan may not advance" in result.refusals[0]
    assert result.lab.actors["tim-daerah"].roles == {"facilitator"}
    assert sum(len(ids) for ids in result.heads.values()) == 92
    named = ("gemas-pesulan", "gemma-babs", "gendis-mamas", "halo", "ayam-kate-mas")
    assert set(named) <= set(result.exhibited)


@pytest.mark.parametrize("region", ["kebumen", "kudus", "banyumas"])
def test_example_history_verifies_and_replays(region: str) -> None:
    """Each example's lab verifies and is rebuilt exactly from its histories."""
    lab = outcome(region).lab
    assert all(v.ok for v in lab.verify())
    again = lf.replay_lab(
        lab.history, [i.history for i in lab.innovations.values()], registry=lab.policy.registry
    )
    assert again == lab


@pytest.mark.parametrize("region", ["kebumen", "kudus", "banyumas"])
def test_example_policy_loads_only_with_its_registry(region: str) -> None:
    """The local rule lives in the region's own registry, not in labflow's default one."""
    with pytest.raises(lf.PolicyError, match="is not a registered gate requirement"):
        lf.load_policy(EXAMPLES / region / "policy.toml")


@pytest.mark.parametrize("region", ["kebumen", "kudus", "banyumas"])
def test_example_runs_as_a_script(region: str) -> None:
    """``python examples/<region>/run.py`` prints the blocked innovations and why."""
    done = subprocess.run(
        [sys.executable, f"examples/{region}/run.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "blocked:" in done.stdout
    assert "cannot advance to" in done.stdout
    assert "labflow." not in done.stdout  # the script silences the audit events


def test_kudus_2019_runs_as_a_script() -> None:
    done = subprocess.run(
        [sys.executable, "examples/kudus/run.py", "2019"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "2019: lab at design" in done.stdout
    assert "cohort.officials_short" in done.stdout


def test_example_reports_in_indonesian() -> None:
    assert "belum dapat maju ke" in outcome("kebumen").report("id")
