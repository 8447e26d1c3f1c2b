"""Policy differences: what a regional variant changes relative to its baseline."""

from __future__ import annotations

import pytest

import labflow as lf
from labflow.diff import (
    GateChange,
    PermissionChange,
    PolicyDiff,
    SettingChange,
    StageChange,
    compare,
)


def load(name: str) -> lf.Policy:
    return lf.load_policy(name)


@pytest.mark.parametrize("name", lf.available_presets())
def test_a_policy_does_not_differ_from_itself(name: str) -> None:
    result = compare(load(name), load(name))
    assert result.empty
    assert result.render().endswith("no differences\n")


def test_kebumen_merges_the_first_two_stages_and_moves_two_gates() -> None:
    result = compare(load("lan-5d"), load("kebumen-2016"))
    assert result.stages[0] == StageChange(
        "merged", ("drum_up", "diagnose"), ("drum_up_diagnose",), ("drum_up", "diagnose")
    )
    assert {c.kind for c in result.stages[1:]} == {"relabelled"}
    moved = {c.name: (c.base_at, c.variant_at) for c in result.gates if c.kind == "moved"}
    assert moved == {
        "idea_registered": ("diagnose", "design"),
        "agreement_signed": ("deliver", "display"),
    }
    assert [c for c in result.gates if c.kind != "moved"] == []
    assert not result.cohort
    assert not result.permissions
    assert not result.settings
    text = result.render()
    assert "merged: drum_up, diagnose -> drum_up_diagnose" in text
    assert "moved agreement_signed: into deliver -> into display" in text


def test_an_added_and_a_removed_stage() -> None:
    added = compare(load("lan-5d"), load("lan-5d1"))
    assert added.stages == (StageChange("added", (), ("documentation",), ("documentation",)),)
    assert {(c.kind, c.name) for c in added.gates} == {
        ("added", "evidence_attached"),
        ("added", "exhibit_registered"),
    }
    removed = compare(load("lan-5d1"), load("lan-5d"))
    assert removed.stages == (StageChange("removed", ("documentation",), (), ("documentation",)),)
    assert {c.kind for c in removed.gates} == {"removed"}


def test_kudus_2019_changes_only_the_cohort_and_roles_of_kudus_2017() -> None:
    result = compare(load("kudus-2017"), load("kudus-2019"))
    assert not result.stages
    assert not result.gates
    assert [(c.kind, c.name) for c in result.cohort] == [
        ("changed", "every_unit_has"),
        ("added", "one_official_one_innovation"),
    ]
    assert [(r.kind, r.role) for r in result.roles] == [("added", "official")]


def test_kudus_restricts_gates_to_government_units() -> None:
    result = compare(load("lan-5d"), load("kudus-2017"))
    changed = {c.name for c in result.gates if c.kind == "changed"}
    assert {"agreement_signed", "action_plan_approved", "launch_recorded"} <= changed
    assert all("[only government units]" in (c.variant or "") for c in result.gates)


def test_permissions_settings_deadlines_and_launch() -> None:
    variant = lf.parse_policy(
        """
        id = "uji"
        extends = "lan-5d"
        self_paced = true
        utc_offset = "+08:00"
        launch = ["action_plan_approved", "agreement_signed"]
        [permissions]
        advance = ["secretariat"]
        approve_plan = ["unit_head", "facilitator"]
        [deadlines]
        deliver = { by = 2017-07-31, enforce = "report" }
        [roles.unit_head]
        label_id = "Kepala OPD"
        label_en = "Head of agency"
        """
    )
    result = compare(load("lan-5d"), variant)
    assert PermissionChange("advance", (), ("facilitator",)) in result.permissions
    assert PermissionChange("approve_plan", ("facilitator",), ()) in result.permissions
    settings = {s.setting: s for s in result.settings}
    assert settings["self_paced"] == SettingChange("self_paced", "False", "True")
    assert settings["utc_offset"] == SettingChange("utc_offset", "+07:00", "+08:00")
    assert settings["deadline into deliver"].base is None
    assert settings["deadline into deliver"].variant == "2017-07-31T23:59:59.999999+08:00"
    assert result.launch == (
        GateChange("added", "agreement_signed", None, "launch", None, "agreement_signed"),
    )
    assert [r.role for r in result.roles] == ["unit_head"]
    text = result.render()
    for expected in ("permissions:", "advance: -facilitator", "settings:", "roles:"):
        assert expected in text


def test_a_moved_requirement_with_new_parameters_says_both() -> None:
    variant = lf.parse_policy(
        """
        id = "pindah"
        extends = "lan-5d"
        [gates]
        display = ["launch_recorded"]
        deliver = ["action_plan_submitted", "action_plan_approved", "agreement_signed",
                   "replication_recorded", { name = "evidence_attached", min = 3 }]
        """
    )
    (change,) = compare(load("lan-5d"), variant).gates
    assert change == GateChange(
        "moved",
        "evidence_attached",
        "display",
        "deliver",
        "evidence_attached(min=1)",
        "evidence_attached(min=3)",
    )
    assert "(now evidence_attached(min=3))" in PolicyDiff("a", "b", gates=(change,)).render()


def test_a_split_stage() -> None:
    merged = load("kebumen-2016")
    result = compare(merged, load("lan-5d"))
    assert result.stages[0].kind == "split"
    assert result.stages[0].variant == ("drum_up", "diagnose")


def test_anything_but_a_policy_is_refused_with_a_policy_error() -> None:
    policy = load("lan-5d")
    before = policy.to_dict()
    with pytest.raises(lf.PolicyError, match=r"compare\(\)"):
        compare(policy, "kebumen-2016")  # type: ignore[arg-type]
    assert policy.to_dict() == before


def test_exhibition_and_monev_rules_are_compared() -> None:
    """A secretariat comparing policies sees where exhibitions launch and how monev is due."""
    kudus = compare(load("lan-5d"), load("kudus-2017"))
    [shown] = [s for s in kudus.settings if s.setting == "exhibitions"]
    assert "launches=False" in str(shown.base)
    assert "launches=True" in str(shown.variant)
    monitored = lf.parse_policy(
        'id = "dipantau"\nextends = "lan-5d"\n'
        '[monev]\nevery_months = 3\nindicators = ["pengguna"]\nenforce = "report"\n'
    )
    result = compare(load("lan-5d"), monitored)
    [monev] = [s for s in result.settings if s.setting == "monev"]
    assert monev.base is None
    assert "every_months=3" in str(monev.variant)
    assert "indicators=pengguna" in str(monev.variant)
    assert "monev" in result.render()
