"""`labflow.exports` and the policy sections it reads: attributes and the national-index mapping."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

import labflow as lf
from helpers import FixedClock, bring_to, cohort, make_lab, register
from labflow import exports

BASE = """
id = "x"
extends = "lan-5d"
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(lf.PolicyError) as failed:
        lf.parse_policy(text)
    return [str(p) for p in failed.value.problems]


class TestPolicySections:
    def test_presets_declare_the_index_attributes_and_map_every_stage(self) -> None:
        """Every bundled preset declares the index's attributes and maps each of its stages."""
        for name in lf.available_presets():
            policy = lf.load_policy(name)
            assert {"jenis", "bentuk", "urusan", "rancang_bangun"} <= set(policy.attributes)
            assert policy.national_index is not None
            assert set(policy.national_index.stages) == set(policy.stage_ids)

    def test_kebumen_maps_its_joined_stage_by_what_it_covers(self) -> None:
        """Tahap I covers drum-up and diagnose: it maps to inisiatif through its covers."""
        index = lf.load_policy("kebumen-2016").national_index
        assert index is not None
        assert index.stages["drum_up_diagnose"] == "inisiatif"
        assert index.stages["deliver"] == "uji_coba"

    def test_round_trip_through_the_document_form(self) -> None:
        """A policy with attributes and a mapping loads back equal from its own dict."""
        policy = lf.load_policy("kebumen-2016")
        assert lf.policy_from_dict(policy.to_dict()) == policy

    @pytest.mark.parametrize(
        ("fragment", "expected"),
        [
            ('[attributes.jenis]\ntype = "colour"', "$.attributes.jenis.type: must be one of"),
            ('[attributes.x]\ntype = "choice"', "a choice attribute must list its choices"),
            ('[attributes.x]\nchoices = ["a"]', "only a choice attribute has choices"),
            ('[attributes.x]\ntype = "integer"\nmin_words = 5', "only a text attribute counts"),
            ('[attributes.x]\nshape = "round"', "$.attributes.x.shape: unknown key"),
            ('[attributes.Bad-Id]\nlabel_en = "x"', "an attribute id must be lowercase"),
            (
                '[national_index]\nstages = { inisiatif = ["drum_up"] }',
                "the stage 'diagnose' maps to no index stage",
            ),
            (
                '[national_index]\nstages = { penerapan = ["drum_up", "diagnose"], '
                'inisiatif = ["design", "deliver", "display"] }',
                "must follow the policy's stage order",
            ),
            (
                '[national_index]\nstages = { inisiatif = ["drum_up", "diagnose", "design"], '
                'uji_coba = ["deliver"], penerapan = ["display"], selesai = [] }',
                "is not an index stage",
            ),
            ('[national_index]\nrequired = ["warna"]', "'warna' is not an attribute"),
            ("[national_index]\nkipp_min_years = -1", "must be a whole number from 0 to 100"),
        ],
    )
    def test_broken_sections_are_refused_with_the_problem_listed(
        self, fragment: str, expected: str
    ) -> None:
        """Each mistake in [attributes] or [national_index] is a listed policy problem."""
        problems = _problems(BASE + fragment)
        assert any(expected in p for p in problems), problems


def _delivered() -> tuple[lf.Lab, list[str], FixedClock]:
    clock = FixedClock()
    lab = make_lab("lan-5d", clock=clock)
    ids = cohort(lab)
    bring_to(lab, "deliver")
    bring_to(lab, "display", ids[:2])
    register(lab, "late")  # a new idea, still an initiative
    return lab, [*ids, "late"], clock


class TestIid:
    def test_stages_map_and_dates_come_from_the_history(self) -> None:
        """Index stage from the mapping; trial and implementation dates from the moves."""
        lab, ids, _ = _delivered()
        entries = {e.innovation: e for e in exports.iid(lab)}
        shown = entries[ids[0]]
        assert shown.stage == "penerapan"
        assert shown.lab_stage == "display"
        inn = lab.innovation(ids[0])
        trial = exports.entered(inn, "deliver")
        implemented = exports.entered(inn, "display")
        assert trial is not None
        assert implemented is not None
        assert shown.trial_start == (trial + timedelta(hours=7)).date()
        assert shown.implementation_start == (implemented + timedelta(hours=7)).date()
        trial = entries[ids[2]]
        assert trial.stage == "uji_coba"
        assert trial.trial_start is not None
        assert trial.implementation_start is None
        idea = entries["late"]
        assert idea.stage == "inisiatif"
        assert idea.trial_start is None
        assert idea.implementation_start is None

    def test_missing_attributes_and_evidence_are_listed_in_both_languages(self) -> None:
        """Without attributes or evidence every required item is listed, with codes."""
        lab, _, _ = _delivered()
        entry = next(e for e in exports.iid(lab) if e.innovation == "late")
        codes = [u.code for u in entry.missing]
        assert codes.count("iid.attribute_missing") == 7
        assert "iid.no_evidence" in codes
        assert not entry.ready
        assert all(u.message_en and u.message_id for u in entry.missing)

    def test_csv_has_the_form_columns_and_one_row_per_active_innovation(self) -> None:
        """The CSV heads name the index's fields; withdrawn innovations are left out."""
        lab, ids, _ = _delivered()
        lab.withdraw("late", reason="Digabung", by="sekretariat")
        rows = list(csv.DictReader(io.StringIO(exports.to_csv(exports.iid(lab), lab))))
        assert [r["id_inovasi"] for r in rows] == sorted(ids[:3])
        assert rows[0]["tahapan"] == "Penerapan"
        assert rows[0]["pemerintah_daerah"] == "Kabupaten Kebumen"
        assert "rancang_bangun" in rows[0]
        assert "Belum ada bukti dukung" not in rows[0]["kekurangan"]  # evidence attached
        assert "Rancang bangun belum diisi." in rows[0]["kekurangan"]

    def test_json_is_plain_and_lists_what_is_missing(self) -> None:
        """The JSON array carries each entry's fields and its missing items with codes."""
        lab, _, _ = _delivered()
        data = json.loads(exports.to_json(exports.iid(lab)))
        assert {"innovation", "stage", "trial_start", "missing", "ready"} <= set(data[0])
        assert all(isinstance(m["code"], str) for m in data[0]["missing"])

    def test_policy_without_a_mapping_is_refused(self) -> None:
        """A policy with no [national_index] gets export.no_mapping, not a guess."""
        policy = lf.policy_from_dict(
            {k: v for k, v in lf.load_policy("lan-5d").to_dict().items() if k != "national_index"}
        )
        lab = make_lab(policy)
        with pytest.raises(lf.InvalidCommand) as refused:
            exports.iid(lab)
        assert refused.value.code == "export.no_mapping"


class TestKipp:
    def test_in_use_for_a_year_is_eligible_and_less_is_not(self) -> None:
        """Eligibility counts the years since the innovation entered implementation."""
        lab, ids, _ = _delivered()
        since = exports.entered(lab.innovation(ids[0]), "display")
        assert since is not None
        early = {e.innovation: e for e in exports.kipp(lab, since + timedelta(days=200))}
        assert [u.code for u in early[ids[0]].reasons] == ["kipp.too_recent"]
        later = {e.innovation: e for e in exports.kipp(lab, since + timedelta(days=400))}
        assert later[ids[0]].eligible
        assert later[ids[0]].group == "original"
        assert [u.code for u in later["late"].reasons] == ["kipp.not_in_use"]

    def test_naive_moment_is_refused(self) -> None:
        """A moment without a time zone is labflow's InvalidCommand."""
        lab, _, _ = _delivered()
        with pytest.raises(lf.InvalidCommand):
            exports.kipp(lab, since_naive())  # type: ignore[arg-type]


def since_naive() -> object:
    from datetime import datetime

    return datetime(2020, 1, 1)


class TestCsvSafety:
    def test_formula_cells_are_neutralised(self) -> None:
        """A title a spreadsheet would run as a formula is written as text."""
        lab = make_lab("lan-5d")
        lab.register(
            "f",
            title='=HYPERLINK("http://x")',
            unit="bag-tapem",
            innovators=["+tim"],
            problem="p",
            by="staf-tapem",
        )
        text = exports.to_csv(exports.iid(lab), lab)
        row = next(csv.DictReader(io.StringIO(text)))
        assert row["nama_inovasi"].startswith("'=")
