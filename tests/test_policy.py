"""Policies: presets, overlays, the document round trip, custom requirements, broken policies."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import labflow as lf
from helpers import cohort, make_lab
from labflow import _policy_load as policy_loading
from labflow import serde
from labflow.requirements import RegistrationError


def stage(ident: str, *covers: str) -> str:
    listed = ", ".join(f'"{c}"' for c in covers)
    labels = f'label_id = "{ident}"\nlabel_en = "{ident}"\n'
    return f'[[stages]]\nid = "{ident}"\n{labels}covers = [{listed}]\n'


#: A valid policy in the Kebumen shape: drum-up and diagnose in one stage.
STAGES = (
    stage("awal", "drum_up", "diagnose")
    + stage("rancang", "design")
    + stage("luncur", "deliver")
    + stage("pamer", "display")
)
GATES = '[gates]\nrancang = ["idea_registered"]\nluncur = ["agreement_signed"]\n'


def policy_text(top: str = "", stages: str = STAGES, gates: str = GATES, tail: str = "") -> str:
    return f'id = "uji"\nname = "Uji"\n{top}\n{stages}\n{gates}\n{tail}\n'


def test_the_base_policy_is_valid() -> None:
    policy = lf.parse_policy(policy_text())
    assert policy.stage_ids == ("awal", "rancang", "luncur", "pamer")
    assert policy.stage("awal").covers == ("drum_up", "diagnose")


# --- presets -------------------------------------------------------------------------------


def test_presets_include_the_national_baselines() -> None:
    assert {"lan-5d", "lan-5d1"} <= set(lf.available_presets())


@pytest.mark.parametrize("name", lf.available_presets())
def test_every_preset_loads_and_round_trips(name: str) -> None:
    policy = lf.load_policy(name)
    assert policy.id == name
    data = policy.to_dict()
    again = lf.policy_from_dict(json.loads(json.dumps(data)))
    assert again == policy
    assert again.to_dict() == data
    assert any(s.name == "agreement_signed" for specs in policy.gates.values() for s in specs)


def test_lan_5d_stages() -> None:
    policy = lf.load_policy("lan-5d")
    assert [s.id for s in policy.stages] == ["drum_up", "diagnose", "design", "deliver", "display"]
    assert [s.covers for s in policy.stages] == [(n,) for n in lf.FIVE_D[:5]]
    assert policy.stage("deliver").label("id").startswith("Peluncuran")
    assert policy.stage("deliver").label("en") == "Deliver"
    assert not policy.self_paced
    assert [s.name for s in policy.gates["deliver"]] == [
        "action_plan_submitted",
        "action_plan_approved",
        "agreement_signed",
        "replication_recorded",
    ]


def test_lan_5d1_extends_the_baseline_with_documentation() -> None:
    base, plus = lf.load_policy("lan-5d"), lf.load_policy("lan-5d1")
    assert plus.id == "lan-5d1"
    assert plus.extends == "lan-5d"
    assert plus.stage_ids == (*base.stage_ids, "documentation")
    assert plus.stage("documentation").covers == ("documentation",)
    # the parent's gates are inherited, the new stage's gate is added
    for ident in base.gates:
        assert plus.gates[ident] == base.gates[ident]
    assert [(s.name, dict(s.params)) for s in plus.gates["documentation"]] == [
        ("exhibit_registered", {}),
        ("evidence_attached", {"min": 2}),
    ]
    assert plus.cohort == base.cohort
    assert plus.permissions == base.permissions


def test_load_policy_by_path(tmp_path: Path) -> None:
    path = tmp_path / "uji.toml"
    path.write_text(policy_text(), encoding="utf-8")
    assert lf.load_policy(path).id == "uji"
    assert lf.load_policy(str(path)).id == "uji"


def test_load_policy_missing_file(tmp_path: Path) -> None:
    with pytest.raises(lf.PolicyError, match="cannot be read"):
        lf.load_policy(tmp_path / "hilang.toml")


# --- extends overlays ----------------------------------------------------------------------


def test_overlay_merges_tables_by_key() -> None:
    policy = lf.parse_policy(
        """
id = "anak"
extends = "lan-5d"
self_paced = true
[permissions]
advance = ["facilitator"]
[gates]
display = ["launch_recorded"]
[roles.innovator]
label_en = "Innovator (ASN or citizen)"
"""
    )
    base = lf.load_policy("lan-5d")
    assert policy.self_paced
    # a variant is its own policy: its name defaults to its own id, not its parent's name
    assert policy.name == "anak"
    assert policy.description == ""
    assert policy.allowed("advance") == {"facilitator"}
    assert policy.allowed("approve_plan") == base.allowed("approve_plan")
    assert [s.name for s in policy.gates["display"]] == ["launch_recorded"]
    assert policy.gates["deliver"] == base.gates["deliver"]
    assert policy.roles["innovator"].label_en == "Innovator (ASN or citizen)"
    assert policy.roles["innovator"].scope == "unit"  # kept from the role it relabels


def test_overlay_replaces_stages_and_drops_gates_of_vanished_stages() -> None:
    policy = lf.parse_policy(
        'id = "kebumen-like"\nextends = "lan-5d"\n'
        + stage("tahap-1", "drum_up", "diagnose")
        + stage("design", "design")
        + stage("deliver", "deliver")
        + stage("display", "display")
    )
    assert policy.stage_ids == ("tahap-1", "design", "deliver", "display")
    base = lf.load_policy("lan-5d")
    # "diagnose" vanished: its gate is gone; the kept stages keep theirs
    assert set(policy.gates) == {"design", "deliver", "display"}
    assert policy.gates["deliver"] == base.gates["deliver"]
    assert policy.cohort == base.cohort


def test_overlay_does_not_forgive_the_childs_own_mistakes() -> None:
    text = 'id = "x"\nextends = "lan-5d"\n' + stage("satu", "drum_up", "diagnose", "design")
    text += stage("dua", "deliver", "display") + '[gates]\ndiagnose = ["idea_registered"]\n'
    with pytest.raises(lf.PolicyError) as info:
        lf.parse_policy(text)
    assert [p.path for p in info.value.problems] == ["$.gates.diagnose", "$.gates"]


def test_extends_a_file_relative_to_the_child(tmp_path: Path) -> None:
    (tmp_path / "induk.toml").write_text(policy_text(), encoding="utf-8")
    (tmp_path / "anak.toml").write_text(
        'id = "anak"\nextends = "induk.toml"\nself_paced = true\n', encoding="utf-8"
    )
    policy = lf.load_policy(tmp_path / "anak.toml")
    assert (policy.id, policy.self_paced, policy.stage_ids[0]) == ("anak", True, "awal")
    text = 'id = "teks"\nextends = "induk.toml"\n'
    assert lf.parse_policy(text, base=tmp_path).stage_ids == policy.stage_ids


def test_policy_from_dict_does_not_apply_extends_again() -> None:
    data = lf.load_policy("lan-5d1").to_dict()
    data["stages"] = data["stages"][:5]
    del data["gates"]["documentation"]
    policy = lf.policy_from_dict(data)
    assert policy.extends == "lan-5d"  # a record of its origin, not applied again
    assert "documentation" not in policy.stage_ids


def test_policy_from_dict_refuses_non_tables() -> None:
    with pytest.raises(lf.PolicyError, match="must be a table"):
        lf.policy_from_dict([])  # type: ignore[arg-type]


def test_policy_from_dict_validates() -> None:
    data = lf.load_policy("lan-5d").to_dict()
    data["gates"]["design"] = ["no_such_requirement"]
    with pytest.raises(lf.PolicyError) as info:
        lf.policy_from_dict(data, source="doc")
    assert info.value.source == "doc"
    assert [p.path for p in info.value.problems] == ["$.gates.design[0].name"]


def test_deadlines_are_local_end_of_day() -> None:
    policy = lf.parse_policy(
        policy_text(
            'utc_offset = "+08:00"',
            tail='[deadlines]\nluncur = { by = 2017-07-31, enforce = "report" }\n',
        )
    )
    deadline = policy.deadlines["luncur"]
    assert deadline.isoformat().startswith("2017-07-31T23:59:59")
    assert deadline.utcoffset() is not None
    assert deadline.utcoffset().total_seconds() == 8 * 3600  # type: ignore[union-attr]
    assert lf.policy_from_dict(policy.to_dict()).deadlines == policy.deadlines


# --- custom requirements -------------------------------------------------------------------


@pytest.fixture
def registry() -> lf.Registry:
    registry = lf.Registry(parent=lf.DEFAULT_REGISTRY)

    @registry.requirement("kebumen.budget_in_apbd")
    def budget_in_apbd(ctx: lf.GateContext, *, minimum: int = 1) -> list[lf.Unmet]:
        """The action plan has a budget of at least ``minimum`` rupiah."""
        plan = ctx.innovation.action_plan
        budget = plan.budget or 0 if plan else 0
        if budget < minimum:
            return [
                lf.unmet(
                    "kebumen.no_budget",
                    f"The budget is {budget}; {minimum} is needed.",
                    f"Anggaran {budget}; dibutuhkan {minimum}.",
                    budget=budget,
                )
            ]
        return []

    @registry.cohort_condition()
    def at_least(ctx: lf.CohortContext, *, count: int) -> list[lf.Unmet]:
        n = len(ctx.lab.innovations)
        return [] if n >= count else [lf.unmet("host.few", "Few.", "Sedikit.", n=n)]

    return registry


CUSTOM = """
id = "kebumen-apbd"
extends = "lan-5d"
[gates]
diagnose = ["idea_registered", { name = "kebumen.budget_in_apbd", minimum = 1000 }]
[cohort]
diagnose = [{ name = "at_least", count = 4 }]
"""


def test_custom_requirement_used_from_toml(registry: lf.Registry) -> None:
    policy = lf.parse_policy(CUSTOM, registry=registry)
    (_, spec) = policy.gates["diagnose"]
    assert (spec.name, dict(spec.params)) == ("kebumen.budget_in_apbd", {"minimum": 1000})
    lab = make_lab(policy)
    cohort(lab)
    assert lab.check_lab().codes == ("host.few",)
    lab.register("keempat", title="t", unit="dinkes", innovators=["a"], problem="p", by="kadinkes")
    lab.advance_lab(by="sekretariat")
    verdict = lab.check("ino-dinkes")
    assert verdict.codes == ("kebumen.no_budget",)
    assert verdict.unmet[0].data == {"budget": 0}
    # the document form names the custom requirement and loads back with the same registry
    assert lf.policy_from_dict(policy.to_dict(), registry=registry) == policy


def test_custom_names_stay_in_their_registry(registry: lf.Registry) -> None:
    assert registry.find("gate", "kebumen.budget_in_apbd") is not None
    assert registry.find("gate", "idea_registered") is not None  # from the parent
    assert lf.DEFAULT_REGISTRY.find("gate", "kebumen.budget_in_apbd") is None
    assert "kebumen.budget_in_apbd" in registry.names("gate")
    assert "kebumen.budget_in_apbd" not in lf.DEFAULT_REGISTRY.names("gate")
    with pytest.raises(lf.PolicyError, match="not a registered gate requirement"):
        lf.parse_policy(CUSTOM)


def test_custom_requirement_parameters_are_validated(registry: lf.Registry) -> None:
    text = CUSTOM.replace("minimum = 1000", 'minimum = "seribu", maximum = 2')
    text = text.replace(", count = 4", "")
    with pytest.raises(lf.PolicyError) as info:
        lf.parse_policy(text, registry=registry)
    assert [(p.path, p.message) for p in info.value.problems] == [
        ("$.gates.diagnose[1].minimum", "must be int, not str"),
        (
            "$.gates.diagnose[1].maximum",
            "'kebumen.budget_in_apbd' has no parameter 'maximum'; did you mean 'minimum'?",
        ),
        ("$.cohort.diagnose[0].count", "'at_least' needs this parameter"),
    ]


def test_unregister(registry: lf.Registry) -> None:
    registry.unregister("gate", "kebumen.budget_in_apbd")
    assert registry.find("gate", "kebumen.budget_in_apbd") is None


def _two_positional(ctx: lf.GateContext, extra: int) -> list[lf.Unmet]:
    return []


def _var_keyword(ctx: lf.GateContext, **params: int) -> list[lf.Unmet]:
    return []


def _bad_type(ctx: lf.GateContext, *, when: dict[str, int]) -> list[lf.Unmet]:
    return []


def _bad_tuple(ctx: lf.GateContext, *, pair: tuple[int, str]) -> list[lf.Unmet]:
    return []


def _good(ctx: lf.GateContext, *, kinds: tuple[lf.UnitKind, ...] = ()) -> list[lf.Unmet]:
    return []


@pytest.mark.parametrize(
    ("name", "func", "phrase"),
    [
        ("idea_registered", _good, "already registered"),  # a built-in's name
        ("two", _two_positional, "exactly one positional argument"),
        ("kw", _var_keyword, "may not take"),
        ("dict", _bad_type, "which a policy cannot give"),
        ("pair", _bad_tuple, "which a policy cannot give"),
    ],
)
def test_registration_errors(name: str, func: object, phrase: str) -> None:
    registry = lf.Registry(parent=lf.DEFAULT_REGISTRY)
    with pytest.raises(RegistrationError, match=phrase):
        registry.requirement(name)(func)  # type: ignore[type-var]
    assert registry.find("gate", name) is None or name == "idea_registered"
    assert issubclass(RegistrationError, lf.LabflowError)


def test_registering_twice_in_one_registry() -> None:
    registry = lf.Registry()
    registry.requirement("x")(_good)
    with pytest.raises(RegistrationError, match="already registered"):
        registry.requirement("x")(_good)
    registry.cohort_condition("x")(_good)  # a cohort condition has its own names


# --- broken policies -----------------------------------------------------------------------

#: name -> (TOML text, [(path, phrase), ...]) -- every problem, in order, and nothing else.
BROKEN: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "toml syntax error": ('id = "uji"\nname = \n', [("$", "line 2")]),
    "unknown top-level key": (
        policy_text("self_pacde = true"),
        [("$.self_pacde", "unknown key (did you mean 'self_paced'?)")],
    ),
    "unknown key in a stage": (
        policy_text(stages=STAGES.replace('covers = ["design"]', 'covers = ["design"]\nlabel = 1')),
        [("$.stages[1].label", "unknown key")],
    ),
    "unknown requirement": (
        policy_text(gates=GATES.replace('"idea_registered"', '"idea_registred"')),
        [("$.gates.rancang[0].name", "'idea_registred' is not a registered gate requirement")],
    ),
    "unknown parameter": (
        policy_text(
            gates=GATES.replace('"idea_registered"', '{ name = "evidence_attached", mni = 2 }')
        ),
        [("$.gates.rancang[0].mni", "has no parameter 'mni'; did you mean 'min'?")],
    ),
    "wrong parameter type": (
        policy_text(
            gates=GATES.replace('"idea_registered"', '{ name = "evidence_attached", min = "2" }')
        ),
        [("$.gates.rancang[0].min", "must be int, not str")],
    ),
    "missing required parameter": (
        policy_text(tail='[cohort]\nluncur = [{ name = "share_ready" }]'),
        [("$.cohort.luncur[0].percent", "'share_ready' needs this parameter")],
    ),
    "5D out of order": (
        policy_text(
            stages=stage("awal", "drum_up", "diagnose")
            + stage("rancang", "deliver")
            + stage("luncur", "design")
            + stage("pamer", "display")
        ),
        [
            ("$.stages[1].covers", "skips 'design'"),
            ("$.stages[2].covers", "'design' comes after 'deliver'"),
        ],
    ),
    "5D covered twice": (
        policy_text(
            stages=stage("awal", "drum_up", "diagnose")
            + stage("rancang", "design")
            + stage("luncur", "design", "deliver")
            + stage("pamer", "display")
        ),
        [("$.stages[2].covers", "'design' is already covered by stage 1")],
    ),
    "5D stage skipped": (
        policy_text(
            stages=stage("awal", "drum_up", "diagnose")
            + stage("luncur", "deliver")
            + stage("pamer", "display"),
            gates='[gates]\nluncur = ["agreement_signed"]\n',
        ),
        [("$.stages[1].covers", "skips 'design'")],
    ),
    "unknown 5D name": (
        policy_text(stages=STAGES.replace('covers = ["display"]', 'covers = ["dispaly"]')),
        [
            ("$.stages[3].covers[0]", "'dispaly' is not a 5D stage"),
            ("$.stages", "no stage covers 'display'"),
        ],
    ),
    "duplicate stage id": (
        policy_text(stages=STAGES + stage("pamer", "documentation")),
        [("$.stages[4].id", "the stage id 'pamer' is used twice")],
    ),
    "gate on a missing stage": (
        policy_text(gates=GATES + 'pameran = ["exhibit_registered"]\n'),
        [("$.gates.pameran", "'pameran' is not a stage of this policy")],
    ),
    "gate on the first stage": (
        policy_text(gates=GATES + 'awal = ["idea_registered"]\n'),
        [("$.gates.awal", "'awal' is the first stage")],
    ),
    "cohort condition on a missing stage": (
        policy_text(tail='[cohort]\nlaunch = [{ name = "every_unit_has" }]'),
        [("$.cohort.launch", "'launch' is not a stage of this policy")],
    ),
    "StageRef naming no stage": (
        policy_text(tail='[cohort]\nluncur = [{ name = "every_unit_has", at_or_past = "design" }]'),
        [("$.cohort.luncur[0].at_or_past", "'design' is not a stage of this policy")],
    ),
    "RequirementRef naming nothing": (
        policy_text(tail='[cohort]\nluncur = [{ name = "every_unit_has", meeting = "approved" }]'),
        [("$.cohort.luncur[0].meeting", "'approved' is not a registered gate requirement")],
    ),
    "cohort condition used as a gate": (
        policy_text(gates=GATES.replace('"idea_registered"', '"share_ready"')),
        [("$.gates.rancang[0].name", "'share_ready' is not a registered gate requirement")],
    ),
    "unknown role in permissions": (
        policy_text(tail='[permissions]\nadvance = ["secretariat", "sekretariat"]'),
        [("$.permissions.advance[1]", "'sekretariat' is not a role of this policy")],
    ),
    "unknown command in permissions": (
        policy_text(tail='[permissions]\nadvanse = ["secretariat"]'),
        [("$.permissions.advanse", "'advanse' is not a command (did you mean 'advance'?)")],
    ),
    "unknown preset in extends": (
        'id = "x"\nextends = "lan-5e"\n',
        [("$", "no bundled preset has this name (known: "), ("$", "Did you mean 'lan-5d'?")],
    ),
    "bad deadline": (
        policy_text(tail='[deadlines]\nluncur = "2017-13-01"'),
        [("$.deadlines.luncur", "'2017-13-01' is not a date or a date-time")],
    ),
    "deadline of a missing stage": (
        policy_text(tail='[deadlines]\nexpo = "2017-12-21"'),
        [("$.deadlines.expo", "'expo' is not a stage of this policy")],
    ),
    "bad utc_offset": (
        policy_text('utc_offset = "+7"'),
        [("$.utc_offset", "'+7' must look like '+07:00'")],
    ),
    "no agreement_signed anywhere": (
        policy_text(gates='[gates]\nrancang = ["idea_registered"]\n'),
        [("$.gates", "no gate requires 'agreement_signed'")],
    ),
    "role with a bad scope": (
        policy_text(tail='[roles.camat]\nlabel_id = "Camat"\nlabel_en = "Head"\nscope = "desa"'),
        [("$.roles.camat.scope", "must be 'lab' or 'unit'")],
    ),
    "self_paced not a boolean": (
        policy_text('self_paced = "ya"'),
        [("$.self_paced", "must be true or false")],
    ),
    "no stages": ('id = "uji"\n', [("$.stages", "is required")]),
}


def _problems(text: str) -> list[tuple[str, str]]:
    with pytest.raises(lf.PolicyError) as info:
        lf.parse_policy(text)
    return [(p.path, p.message) for p in info.value.problems]


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_policy(case: str) -> None:
    text, expected = BROKEN[case]
    found = _problems(text)
    # each expected (path, phrase) matches one problem, in order; several phrases may
    # describe the same problem (same path repeated)
    paths = [path for path, _ in expected]
    merged = [p for i, p in enumerate(paths) if i == 0 or p != paths[i - 1]]
    assert [path for path, _ in found] == merged, found
    messages = dict(found) if len(set(merged)) == len(merged) else {}
    for path, phrase in expected:
        message = messages.get(path) or next(m for p, m in found if p == path)
        assert phrase in message, (message, phrase)


def test_enough_distinct_broken_cases() -> None:
    assert len(BROKEN) >= 15


def test_every_problem_is_listed_at_once() -> None:
    """One error lists problems from every part of the policy, not just the first."""
    gates = GATES.replace('"idea_registered"', '"idea_registred"')
    gates += 'pameran = ["exhibit_registered"]\nawal = ["idea_registered"]\n'
    text = policy_text(
        'slef_paced = true\nutc_offset = "WIB"',
        stages=STAGES.replace('covers = ["display"]', 'covers = ["dispaly"]'),
        gates=gates,
        tail='[permissions]\nadvanse = ["secretariat"]\nreturn = ["raja"]\n'
        '[deadlines]\nluncur = "kapan-kapan"\n'
        '[cohort]\nluncur = [{ name = "share_ready" }]',
    )
    with pytest.raises(lf.PolicyError) as info:
        lf.parse_policy(text, source="kebumen.toml")
    paths = [p.path for p in info.value.problems]
    assert paths == [
        "$.slef_paced",
        "$.utc_offset",
        "$.stages[3].covers[0]",
        "$.stages",
        "$.permissions.advanse",
        "$.permissions.return[0]",
        "$.gates.rancang[0].name",
        "$.gates.pameran",
        "$.gates.awal",
        "$.cohort.luncur[0].percent",
        "$.deadlines.luncur",
    ]
    message = str(info.value)
    assert message.startswith("The policy kebumen.toml is invalid (11 problems):")
    assert all(f"  - {p}" in message for p in info.value.problems)


def test_extends_cycle_between_two_files(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('id = "a"\nextends = "b.toml"\n', encoding="utf-8")
    (tmp_path / "b.toml").write_text('id = "b"\nextends = "a.toml"\n', encoding="utf-8")
    with pytest.raises(lf.PolicyError) as info:
        lf.load_policy(tmp_path / "a.toml")
    (problem,) = info.value.problems
    assert problem.path == "$.extends"
    assert "cycle" in problem.message
    assert "a.toml" in problem.message
    assert "b.toml" in problem.message


def test_extends_itself(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('id = "a"\nextends = "a.toml"\n', encoding="utf-8")
    with pytest.raises(lf.PolicyError, match="cycle"):
        lf.load_policy(tmp_path / "a.toml")


def test_syntax_error_in_a_parent_names_the_parent(tmp_path: Path) -> None:
    (tmp_path / "induk.toml").write_text('id = "induk"\n[[stages]\n', encoding="utf-8")
    (tmp_path / "anak.toml").write_text('id = "anak"\nextends = "induk.toml"\n', encoding="utf-8")
    with pytest.raises(lf.PolicyError) as info:
        lf.load_policy(tmp_path / "anak.toml")
    assert info.value.source.endswith("induk.toml")
    assert "line 2" in info.value.problems[0].message


def test_policy_error_is_a_labflow_error() -> None:
    assert issubclass(lf.PolicyError, lf.LabflowError)


# --- hostile or impossible policies (found in review) ---------------------------------------


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ('id="a"\nextends="lan-5d"\n[gates]\ndisplay=["exhibit_registered"]', "can never be met"),
        (
            'id="a"\nextends="lan-5d"\n[gates]\ndeliver=["launch_recorded","agreement_signed"]',
            "can never be met",
        ),
        ('id="a"\nextends="lan-5d"\nlaunch=["launch_recorded"]', "before the launch itself"),
        ("x=" + "[" * 3000 + "]" * 3000, "cannot be read as TOML"),
        ("x=1" + "0" * 5000, "cannot be read as TOML"),
        ('id="a"\nextends="lan-5d"\n[[stages]]\nid=[1]', "must be a string"),
    ],
)
def test_impossible_or_hostile_policies_are_refused(text: str, phrase: str) -> None:
    with pytest.raises(lf.PolicyError) as caught:
        lf.parse_policy(text)
    assert phrase in str(caught.value)


def test_a_requirement_needing_parameters_cannot_be_named_as_a_reference() -> None:
    """every_unit_has(meeting=...) runs the named requirement with its defaults only."""
    registry = lf.Registry(parent=lf.DEFAULT_REGISTRY)

    @registry.requirement("test.needs_budget")
    def needs_budget(ctx: lf.GateContext, *, minimum: int) -> list[lf.Unmet]:
        return []

    with pytest.raises(lf.PolicyError, match="needs parameters"):
        lf.parse_policy(
            'id="a"\nextends="lan-5d"\n[cohort]\n'
            'deliver=[{name="every_unit_has", meeting="test.needs_budget"}]',
            registry=registry,
        )


@pytest.mark.parametrize("given", [None, b"id = 'x'", 3, ["lan-5d"]])
def test_loaders_refuse_what_is_not_text_or_a_path(given: object) -> None:
    with pytest.raises(lf.PolicyError):
        lf.load_policy(given)  # type: ignore[arg-type]
    with pytest.raises(lf.PolicyError):
        lf.parse_policy(given)  # type: ignore[arg-type]


def test_a_document_with_non_string_keys_is_refused() -> None:
    data = lf.load_policy("lan-5d").to_dict()
    data["gates"][7] = ["idea_registered"]
    with pytest.raises(lf.PolicyError, match=r"\$\.gates\[7\]: keys must be strings"):
        lf.policy_from_dict(data)


# --- policy files from other people: what is read, and from where ---------------------------

#: A parent in the Kebumen shape that a child in the same folder may extend.
PARENT = policy_text()
#: A file that is not a policy, with a secret a refusal must never repeat.
SECRET = 'password = "hunter2-do-not-echo"\n[database]\nhost = "internal.example"\n'


def child(extends: str) -> str:
    return f'id = "anak"\nextends = {json.dumps(extends)}\n'


def refused_extends(tmp_path: Path, extends: str, *, search: list[Path] | None = None) -> str:
    """The refusal of a child in ``tmp_path/kota`` that extends ``extends``; checks no secret."""
    folder = tmp_path / "kota"
    folder.mkdir(exist_ok=True)
    (folder / "anak.toml").write_text(child(extends), encoding="utf-8")
    with pytest.raises(lf.PolicyError) as info:
        lf.load_policy(folder / "anak.toml", search_path=search)
    message = str(info.value)
    assert "hunter2" not in message
    assert "internal.example" not in message
    assert "database" not in message
    return message


class TestPolicyFiles:
    def test_a_parent_in_the_same_folder_or_below_is_read(self, tmp_path: Path) -> None:
        """extends names a file relative to the extending file's own folder."""
        (tmp_path / "induk").mkdir()
        (tmp_path / "induk" / "dasar.toml").write_text(PARENT, encoding="utf-8")
        (tmp_path / "anak.toml").write_text(child("induk/dasar.toml"), encoding="utf-8")
        assert lf.load_policy(tmp_path / "anak.toml").stage_ids == lf.parse_policy(PARENT).stage_ids

    def test_an_absolute_path_is_refused(self, tmp_path: Path) -> None:
        (tmp_path / "rahasia.toml").write_text(SECRET, encoding="utf-8")
        message = refused_extends(tmp_path, str(tmp_path / "rahasia.toml"))
        assert "absolute path" in message

    def test_dot_dot_out_of_the_folder_is_refused(self, tmp_path: Path) -> None:
        (tmp_path / "rahasia.toml").write_text(SECRET, encoding="utf-8")
        assert "leads outside" in refused_extends(tmp_path, "../rahasia.toml")
        assert "leads outside" in refused_extends(tmp_path, "sub/../../rahasia.toml")

    def test_a_symlink_out_of_the_folder_is_refused(self, tmp_path: Path) -> None:
        (tmp_path / "rahasia.toml").write_text(SECRET, encoding="utf-8")
        (tmp_path / "kota").mkdir()
        (tmp_path / "kota" / "tautan.toml").symlink_to(tmp_path / "rahasia.toml")
        assert "leads outside" in refused_extends(tmp_path, "tautan.toml")

    def test_the_host_may_widen_the_search_path(self, tmp_path: Path) -> None:
        """A folder the host names explicitly is allowed, absolute or through '..'."""
        (tmp_path / "bersama").mkdir()
        (tmp_path / "bersama" / "dasar.toml").write_text(PARENT, encoding="utf-8")
        (tmp_path / "kota").mkdir()
        (tmp_path / "kota" / "anak.toml").write_text(
            child("../bersama/dasar.toml"), encoding="utf-8"
        )
        with pytest.raises(lf.PolicyError, match="leads outside"):
            lf.load_policy(tmp_path / "kota" / "anak.toml")
        policy = lf.load_policy(tmp_path / "kota" / "anak.toml", search_path=[tmp_path / "bersama"])
        assert policy.id == "anak"

    def test_a_file_that_is_not_a_policy_is_not_echoed(self, tmp_path: Path) -> None:
        (tmp_path / "kota").mkdir()
        (tmp_path / "kota" / "config.toml").write_text(SECRET, encoding="utf-8")
        assert "not a labflow policy" in refused_extends(tmp_path, "config.toml")

    def test_a_nul_in_a_path_is_a_policy_error(self, tmp_path: Path) -> None:
        assert "NUL" in refused_extends(tmp_path, "a\x00b.toml")
        with pytest.raises(lf.PolicyError, match="NUL"):
            lf.load_policy("kota/a\x00b.toml")

    @pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/stdin", "/dev/urandom"])
    def test_a_device_is_never_read(self, device: str) -> None:
        """/dev/zero used to be read until MemoryError, /dev/stdin to hang."""
        if not Path(device).exists():
            pytest.skip(f"no {device} here")
        with pytest.raises(lf.PolicyError, match=r"not a regular file|cannot be read"):
            lf.load_policy(device)

    def test_a_fifo_is_refused_without_hanging(self, tmp_path: Path) -> None:
        fifo = tmp_path / "antrian.toml"
        os.mkfifo(fifo)  # nobody ever writes to it: opening it for a blocking read would hang
        with pytest.raises(lf.PolicyError, match="not a regular file"):
            lf.load_policy(fifo)
        (tmp_path / "kota").mkdir()
        (tmp_path / "kota" / "antrian.toml").symlink_to(fifo)
        (tmp_path / "kota" / "anak.toml").write_text(child("antrian.toml"), encoding="utf-8")
        with pytest.raises(lf.PolicyError, match="not a regular file"):
            lf.load_policy(tmp_path / "kota" / "anak.toml", search_path=[tmp_path])

    def test_a_folder_is_refused(self, tmp_path: Path) -> None:
        (tmp_path / "folder.toml").mkdir()
        with pytest.raises(lf.PolicyError, match="not a regular file"):
            lf.load_policy(tmp_path / "folder.toml")

    def test_a_file_past_the_size_limit_is_refused_unread(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = tmp_path / "besar.toml"
        path.write_text(PARENT, encoding="utf-8")
        monkeypatch.setattr(policy_loading, "MAX_POLICY_BYTES", len(PARENT) - 1)
        with pytest.raises(lf.PolicyError, match="larger than"):
            lf.load_policy(path)
        with pytest.raises(lf.PolicyError, match="larger than"):
            lf.parse_policy(PARENT)

    def test_a_file_that_is_not_utf8_says_so_without_its_bytes(self, tmp_path: Path) -> None:
        path = tmp_path / "latin.toml"
        path.write_bytes(b'id = "caf\xe9"\n')
        with pytest.raises(lf.PolicyError, match="not UTF-8 text"):
            lf.load_policy(path)


GATED = (
    '[gates]\nrancang = [{{name = "diagnosis_recorded", min_root_causes = {number}}}]\n'
    'luncur = ["agreement_signed"]\n'
)


class TestPolicyNumbers:
    @pytest.mark.parametrize("number", [2**63, 2**64, -(2**63) - 1, 10**30])
    def test_a_parameter_past_64_bits_is_refused_naming_it(self, number: int) -> None:
        text = policy_text(gates=GATED.format(number=number))
        with pytest.raises(lf.PolicyError) as info:
            lf.parse_policy(text)
        (problem,) = info.value.problems
        assert problem.path == "$.gates.rancang[0].min_root_causes"
        assert "64-bit" in problem.message

    def test_the_largest_64_bit_parameter_round_trips(self) -> None:
        text = policy_text(gates=GATED.format(number=2**63 - 1))
        policy = lf.parse_policy(text)
        assert serde.loads(serde.dumps(policy)) == policy


class TestPolicyProblemsAreBounded:
    def test_forty_thousand_stages_list_the_first_problems_only(self) -> None:
        """Validation stops listing at the limit and says how many more there were."""
        rows = [f'{{id="s{i}",label_id="S",label_en="S",covers=["display"]}},' for i in range(4000)]
        text = 'id = "besar"\nstages = [\n' + "\n".join(rows) + "\n]\n"
        with pytest.raises(lf.PolicyError) as info:
            lf.parse_policy(text)
        problems = info.value.problems
        assert len(problems) == serde.MAX_PROBLEMS
        assert problems[-1].message.startswith("... and ")


@pytest.mark.parametrize("registry", ["lan-5d", 5, object(), {"gate": {}}])
def test_a_registry_that_is_not_one_is_a_policy_error(registry: object) -> None:
    """Every loader names a wrong registry instead of failing inside the requirement lookup."""
    from labflow.policy import load_policy, parse_policy, policy_from_dict

    calls = [
        lambda: parse_policy('id = "x"\nextends = "lan-5d"\n', registry=registry),  # type: ignore[arg-type]
        lambda: load_policy("lan-5d", registry=registry),  # type: ignore[arg-type]
        lambda: policy_from_dict(load_policy("lan-5d").to_dict(), registry=registry),  # type: ignore[arg-type]
    ]
    for call in calls:
        with pytest.raises(lf.PolicyError, match=r"the registry must be a labflow\.Registry"):
            call()
