"""Reports: the funnel, compliance, overdue deadlines and blocked innovations."""

from __future__ import annotations

from datetime import UTC, datetime

import labflow as lf
from helpers import bring_to, cohort, make_lab, register
from labflow import reports


def test_funnel_counts_by_stage_and_unit_kind() -> None:
    lab = make_lab()
    ids = cohort(lab)
    register(lab, "extra", "dinkes")
    bring_to(lab, "design", ids)
    lab.withdraw("extra", reason="Digabung", by="sekretariat")
    funnel = reports.funnel(lab)
    assert funnel.at["design"] == {"agency": 2, "clinic": 1}
    assert funnel.at["drum_up"] == {}
    assert funnel.reached["drum_up"] == 3
    assert funnel.reached["deliver"] == 0
    assert (funnel.withdrawn, funnel.total) == (1, 4)
    assert funnel.to_dict()["at"]["design"]["clinic"] == 1


def test_units_without_an_innovation_past_a_stage() -> None:
    lab = make_lab()
    ids = cohort(lab)
    bring_to(lab, "design", ids)
    assert reports.units_without(lab, "design") == []
    lab.withdraw("ino-dinkes", reason="Ditunda", by="sekretariat")
    assert [u.id for u in reports.units_without(lab, "design")] == ["dinkes"]
    everyone = reports.units_without(lab, "design", government_only=False)
    assert [u.id for u in everyone] == ["dinkes", "komunitas"]


def test_overdue_lists_innovations_behind_a_passed_deadline() -> None:
    data = lf.load_policy("lan-5d").to_dict()
    data["deadlines"] = {"design": "2016-06-30"}
    lab = make_lab(lf.policy_from_dict(data))
    ids = cohort(lab)
    bring_to(lab, "design", ids[:1])
    assert reports.overdue(lab, datetime(2016, 6, 1, tzinfo=UTC)) == []
    late = reports.overdue(lab, datetime(2016, 7, 2, tzinfo=UTC))
    assert [o.innovation for o in late] == sorted(ids[1:])
    assert late[0].to_dict()["stage"] == "design"


def test_blocked_lists_own_unmet_items_not_waiting() -> None:
    lab = make_lab()
    ids = cohort(lab)
    assert reports.blocked(lab) == []  # everyone only waits for the lab
    lab.advance_lab(by="sekretariat")
    for ident in ids:
        lab.advance(ident, by="sekretariat")
    found = {b.innovation: b.verdict.codes for b in reports.blocked(lab)}
    assert set(found) == set(ids)
    assert all("diagnosis.missing" in codes for codes in found.values())
    assert all("lab.behind" not in codes for codes in found.values())


def test_report_is_json_ready() -> None:
    lab = make_lab()
    cohort(lab)
    bring_to(lab, "display")
    data = reports.report(lab).to_dict()
    assert data["stage"] == "display"
    assert data["blocked"] == []
    assert data["funnel"]["reached"]["display"] == 3
    assert data["units_without"]["design"] == []
