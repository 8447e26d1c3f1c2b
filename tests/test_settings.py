"""Policy settings: what earlier versions assumed of every region is each policy's choice.

The 5D coverage rule, the mandatory agreement, the launch stage, the unit kinds and which
of them are government, the initiator kinds and the adaptation rule are ``[settings]``;
the presets keep today's behaviour as their values.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import labflow as lf
from helpers import ACTORS, HEAD, STAFF, UNITS, FixedClock, make_lab, plan_steps, register
from labflow import serde
from labflow._gate_rules import replication_recorded
from labflow.events import GENESIS, make_event

ROOT = Path(__file__).resolve().parent.parent
IID = ROOT / "examples" / "iid" / "policy.toml"


def problems(text: str) -> list[tuple[str, str]]:
    with pytest.raises(lf.PolicyError) as caught:
        lf.parse_policy(text)
    return [(p.path, p.message) for p in caught.value.problems]


def has(found: list[tuple[str, str]], path: str, phrase: str) -> bool:
    return any(p == path and phrase in m for p, m in found)


def iid_lab() -> lf.Lab:
    return make_lab(lf.load_policy(IID))


def through_trial(lab: lf.Lab, ident: str, unit: str = "bag-tapem") -> None:
    """Register ``ident`` and do what the iid example's trial gate asks."""
    register(lab, ident, unit)
    lab.record_diagnosis(ident, lf.Diagnosis("Antre lama", ["SOP"]), by=STAFF[unit])
    lab.grant_permission(ident, reference="800/1", by=HEAD[unit])
    lab.submit_plan(ident, steps=plan_steps(), by=STAFF[unit])
    lab.approve_plan(ident, by=HEAD[unit])


class TestPresetsKeepTodaysBehaviour:
    @pytest.mark.parametrize("name", lf.available_presets())
    def test_every_preset_has_the_5d_settings(self, name: str) -> None:
        """The bundled presets run the 5D, need an agreement and launch at deliver."""
        policy = lf.load_policy(name)
        assert policy.settings.method == "5d"
        assert policy.settings.agreement_required
        assert policy.launch_stage == policy.stage_covering("deliver").id  # type: ignore[union-attr]
        assert policy.government_kinds == lf.GOVERNMENT_KINDS
        assert policy.settings.unit_kinds == frozenset(lf.UnitKind)
        assert policy.settings.initiators == frozenset(lf.Initiator)
        assert policy.settings.min_adaptation_words == 5

    def test_the_documented_defaults_are_the_defaults(self) -> None:
        """The [settings] fragment of docs/policies.md states exactly the defaults."""
        page = (ROOT / "docs" / "policies.md").read_text(encoding="utf-8")
        (fragment,) = re.findall(r"```toml\n(\[settings\]\n.*?)```", page, re.DOTALL)
        policy = lf.parse_policy(f'extends = "lan-5d"\nid = "uji"\n{fragment}')
        assert policy.settings == lf.Settings(launch_stage="deliver")
        assert policy.launch_stage == lf.load_policy("lan-5d").launch_stage

    def test_default_settings_are_left_out_of_the_document(self) -> None:
        """A policy with today's defaults writes no settings table (older documents match)."""
        assert "settings" not in lf.load_policy("lan-5d").to_dict()


class TestIndexStages:
    def test_the_iid_example_loads_with_its_own_stages(self) -> None:
        """A pipeline of the index's own stages is a valid policy once it says so."""
        policy = lf.load_policy(IID)
        assert policy.stage_ids == ("inisiatif", "uji_coba", "penerapan")
        assert policy.launch_stage == "uji_coba"
        again = lf.policy_from_dict(json.loads(json.dumps(policy.to_dict())))
        assert again == policy
        assert again.settings == policy.settings

    def test_a_lab_launches_at_the_policys_launch_stage(self) -> None:
        """Launch is refused outside the launch stage and accepted at it; replay agrees."""
        lab = iid_lab()
        ids = {"antre": "bag-tapem", "sehat": "dinkes", "gizi": "pkm-gombong"}
        for ident, unit in ids.items():
            through_trial(lab, ident, unit)
        assert "launch.wrong_stage" in lab.check_launch("antre").codes
        lab.advance_lab(by="sekretariat")
        for ident in ids:
            lab.advance(ident, by="sekretariat")
        assert lab.check_launch("antre").ok
        lab.launch_cohort(ceremony="Peluncuran uji coba", by="bupati", innovations=list(ids))
        lab.attach_evidence("antre", title="Laporan", reference="doc-1", by=STAFF["bag-tapem"])
        lab.advance_lab(by="sekretariat")
        assert lab.check("antre").ok
        lab.advance("antre", by="sekretariat")
        assert lab.innovation("antre").stage == "penerapan"
        assert serde.loads(serde.dumps(lab)) == lab
        assert all(v.ok for v in lab.verify())

    def test_the_wrong_stage_message_names_the_launch_stage(self) -> None:
        """The refusal says where launches happen, by the stage's label, in both languages."""
        lab = iid_lab()
        through_trial(lab, "antre")
        (item,) = [u for u in lab.check_launch("antre").unmet if u.code == "launch.wrong_stage"]
        assert item.message_en == "Innovations are launched at the Trial stage, not at Initiative."
        assert item.message_id == (
            "Inovasi diluncurkan pada tahap Uji coba, bukan pada tahap Inisiatif."
        )

    def test_a_5d_name_is_not_an_index_stage(self) -> None:
        """Under the iid method the stages cover the index's stages, not the 5D."""
        text = IID.read_text(encoding="utf-8").replace(
            'covers = ["uji_coba"]', 'covers = ["deliver"]'
        )
        found = problems(text)
        assert has(found, "$.stages[1].covers[0]", "'deliver' is not a innovation-index stage")
        assert has(found, "$.stages[2].covers", "skips 'uji_coba'")


class TestUnitKindsAndInitiators:
    def test_a_unit_kind_the_policy_does_not_allow_is_refused(self) -> None:
        """The iid example has no private-sector units: adding one is refused, nothing changes."""
        lab = iid_lab()
        before = lab.version
        with pytest.raises(lf.InvalidCommand) as caught:
            lab.add_unit(lf.Unit("pt-maju", "PT Maju", "private"), by="sekretariat")
        assert caught.value.code == "unit.kind_not_allowed"
        assert "'private'" in caught.value.message_en
        assert lab.version == before

    def test_founding_units_are_judged_too(self) -> None:
        """A lab cannot be opened with a unit of a kind its policy does not allow."""
        with pytest.raises(lf.InvalidCommand):
            make_lab(lf.load_policy(IID), units=(*UNITS, lf.Unit("kampus", "Univ", "academia")))

    def test_an_initiator_the_policy_does_not_know_is_refused(self) -> None:
        """Only the initiator kinds the policy lists may be recorded."""
        text = IID.read_text(encoding="utf-8").replace(
            'initiators = ["asn", "community", "regional_head", "dprd", "perangkat_daerah"]',
            'initiators = ["asn", "perangkat_daerah"]',
        )
        lab = make_lab(lf.parse_policy(text))
        register(lab, "ok", initiator="perangkat_daerah")
        with pytest.raises(lf.InvalidCommand) as caught:
            register(lab, "dprd-idea", initiator="dprd")
        assert caught.value.code == "input.initiator"
        assert "asn, perangkat_daerah" in caught.value.message_en
        assert "dprd-idea" not in lab.innovations

    def test_government_kinds_decide_who_must_bring_an_innovation(self) -> None:
        """every_unit_has counts the policy's government kinds unless told otherwise."""
        lab = iid_lab()
        through_trial(lab, "antre")
        lab.advance_lab(by="sekretariat")
        lab.advance("antre", by="sekretariat")
        verdict = lab.check_lab()
        (item,) = verdict.unmet
        assert item.data["units"] == ["dinkes", "pkm-gombong"]  # not the community group
        text = re.sub(
            r"government_kinds = \[.*\]",
            'government_kinds = ["agency"]',
            IID.read_text(encoding="utf-8"),
        )
        lab2 = make_lab(lf.parse_policy(text))
        lab2.advance_lab(by="sekretariat")
        assert lab2.check_lab().unmet[0].data["units"] == ["bag-tapem", "dinkes"]


class TestAdaptationRule:
    def _replica(self, words: int | None) -> lf.Lab:
        settings = "" if words is None else f"[settings]\nmin_adaptation_words = {words}\n"
        policy = lf.parse_policy(f'extends = "lan-5d"\nid = "uji"\n{settings}')
        lab = make_lab(policy, clock=FixedClock())
        lab.replicate(
            "salinan",
            origin="sipandu",
            origin_region="Kabupaten Kudus",
            unit="bag-tapem",
            adaptation="disesuaikan dengan kecamatan kami",
            by=STAFF["bag-tapem"],
            title="Sipandu Kebumen",
            innovators=["Tim"],
            problem="Layanan lambat",
        )
        return lab

    @pytest.mark.parametrize(("words", "refused"), [(None, True), (4, False), (10, True)])
    def test_the_word_count_is_the_policys(self, words: int | None, refused: bool) -> None:
        """Four words of adaptation fail the default of five and pass a policy asking four."""
        lab = self._replica(words)
        inn = lab.innovation("salinan")
        found = replication_recorded(
            lf.GateContext(inn, lab, lab.policy.stage("deliver"), lab.now())
        )
        assert ("replication.no_adaptation" in [u.code for u in found]) is refused


BROKEN = {
    "unknown method": ('[settings]\nmethod = "6d"\n', "$.settings.method", "'6d' is not a method"),
    "unknown key": ("[settings]\nlaunch_at = 'x'\n", "$.settings.launch_at", "unknown key"),
    "launch stage not a stage": (
        '[settings]\nlaunch_stage = "peluncuran"\n',
        "$.settings.launch_stage",
        "'peluncuran' is not a stage of this policy",
    ),
    "unit kind unknown": (
        '[settings]\nunit_kinds = ["agency", "ngo"]\n',
        "$.settings.unit_kinds[1]",
        "'ngo' is not one of",
    ),
    "no unit kinds": ("[settings]\nunit_kinds = []\n", "$.settings.unit_kinds", "at least one"),
    "government kind not allowed": (
        '[settings]\nunit_kinds = ["agency"]\ngovernment_kinds = ["agency", "clinic"]\n',
        "$.settings.government_kinds",
        "'clinic' is not among the unit kinds",
    ),
    "initiator unknown": (
        '[settings]\ninitiators = ["asn", "lsm"]\n',
        "$.settings.initiators[1]",
        "'lsm' is not one of",
    ),
    "adaptation words negative": (
        "[settings]\nmin_adaptation_words = -1\n",
        "$.settings.min_adaptation_words",
        "whole number",
    ),
    "agreement flag not a boolean": (
        '[settings]\nagreement_required = "no"\n',
        "$.settings.agreement_required",
        "true or false",
    ),
    "settings not a table": ('settings = "5d"\n', "$.settings", "must be a table"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_settings_are_listed(case: str) -> None:
    """Each bad setting is reported at its path, with every other problem."""
    text, path, phrase = BROKEN[case]
    found = problems(f'extends = "lan-5d"\nid = "uji"\n{text}')
    assert has(found, path, phrase), found


def test_every_settings_problem_is_listed_at_once() -> None:
    """Several bad settings give several problems in one refusal."""
    text = 'extends = "lan-5d"\nid = "uji"\n[settings]\nmethod = "6d"\nunit_kinds = []\n'
    found = problems(text)
    assert has(found, "$.settings.method", "is not a method")
    assert has(found, "$.settings.unit_kinds", "at least one")


def test_the_agreement_is_required_unless_the_policy_says_otherwise() -> None:
    """No agreement gate is a problem by default and fine with agreement_required = false."""
    text = IID.read_text(encoding="utf-8")
    found = problems(text.replace("agreement_required = false", "agreement_required = true"))
    assert has(found, "$.gates", "no gate requires 'agreement_signed'")
    assert lf.parse_policy(text).settings.agreement_required is False


def test_a_launch_recorded_gate_before_the_launch_stage_is_refused() -> None:
    """The unreachable-gate check follows the policy's launch stage, not 'deliver'."""
    text = IID.read_text(encoding="utf-8").replace(
        'uji_coba = [\n    "idea_registered",',
        'uji_coba = [\n    "launch_recorded",\n    "idea_registered",',
    )
    found = problems(text)
    assert has(found, "$.gates.uji_coba", "'launch_recorded' can never be met here")


def test_a_forged_unit_of_a_forbidden_kind_is_refused_by_replay() -> None:
    """A history that adds a unit the policy forbids is not one the commands could write."""
    lab = iid_lab()
    created = lab.history[0]
    units = [*created.payload["units"], {"id": "pt", "name": "PT", "kind": "private"}]
    forged = make_event(
        created.subject,
        1,
        created.at,
        created.actor,
        created.kind,
        {**created.payload, "units": units},
        GENESIS,
    )
    with pytest.raises(lf.HistoryError) as caught:
        lf.replay_lab([forged], [])
    assert caught.value.code == "history.unit_kind"


def test_actors_of_the_example_cast_are_kept() -> None:
    """The standard cast opens a lab under the iid example (its units are all allowed)."""
    assert set(iid_lab().actors) == {a.id for a in ACTORS}
