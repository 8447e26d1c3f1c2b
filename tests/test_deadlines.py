"""Time as policy data: deadlines absolute or relative to an event, windows and minimums,
enforced at a gate or only reported, shown in the policy's local time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import labflow as lf
from helpers import FixedClock, bring_to, cohort, make_lab, prepare
from labflow import _gate_rules, reports, serde

#: "Two to three months of implementation after the launch" (a Bekasi village lab).
AFTER_LAUNCH = """
id = "desa-bekasi"
extends = "lan-5d"

[deadlines.display]
after = "launch"
min_months = 2
within_months = 3
enforce = "gate"
"""

LAUNCHED = datetime(2016, 5, 10, 2, 0, tzinfo=UTC)  # 09:00 WIB


def policy(text: str) -> lf.Policy:
    return lf.parse_policy(text)


def problems(text: str) -> list[tuple[str, str]]:
    with pytest.raises(lf.PolicyError) as caught:
        lf.parse_policy(text)
    return [(p.path, p.message) for p in caught.value.problems]


def launched_lab(text: str = AFTER_LAUNCH) -> tuple[lf.Lab, FixedClock, list[str]]:
    """A lab whose cohort was launched at ``LAUNCHED``, ready for display but for time."""
    clock = FixedClock()
    lab = make_lab(policy(text), clock=clock)
    ids = cohort(lab)
    bring_to(lab, "design")
    clock.set(LAUNCHED - timedelta(hours=1))
    bring_to(lab, "deliver")  # launched at one ceremony, a minute or so after LAUNCHED - 1h
    for ident in ids:
        prepare(lab, ident, "display")
    return lab, clock, ids


class TestRelativeDeadlines:
    def test_too_early_within_and_too_late(self) -> None:
        """Display opens two months after the launch and closes three months after it."""
        lab, clock, ids = launched_lab()
        first, second, third = ids
        lab.advance_lab(by="sekretariat")  # the lab itself is not held back by the window
        clock.set(LAUNCHED + timedelta(days=30))
        assert lab.check(first).codes == ("deadline.too_early",)
        with pytest.raises(lf.GateRefused):
            lab.advance(first, by="sekretariat")
        clock.set(LAUNCHED + timedelta(days=75))
        lab.advance(first, by="sekretariat")
        clock.set(LAUNCHED + timedelta(days=105))
        assert lab.check(second).codes == ("deadline.passed",)
        assert lab.innovation(second).stage == "deliver"
        assert all(v.ok for v in lab.verify())
        assert serde.loads(serde.dumps(lab)) == lab  # replay re-checks the windows alike
        assert third in lab.innovations

    def test_messages_show_local_time_in_both_languages(self) -> None:
        """No ISO strings or UTC in sentences: the policy's own offset, words for months."""
        lab, clock, ids = launched_lab()
        lab.advance_lab(by="sekretariat")
        clock.set(LAUNCHED + timedelta(days=30))
        (early,) = lab.check(ids[0]).unmet
        assert "from 10 July 2016, 08:" in early.message_en
        assert "(UTC+07:00)" in early.message_en
        assert "mulai 10 Juli 2016 pukul 08." in early.message_id
        assert "T" not in early.message_en.split("from ")[1].split(",")[0]
        clock.set(LAUNCHED + timedelta(days=105))
        (late,) = lab.check(ids[0]).unmet
        assert "passed on 10 August 2016, 08:" in late.message_en
        assert "(10 Agustus 2016 pukul 08." in late.message_id
        assert "+07:00)" in late.message_id
        assert "T0" not in late.message_id
        assert late.data["deadline"].endswith("+00:00")  # data stay exact, in UTC

    def test_not_launched_yet(self) -> None:
        """A minimum counted from an event that has not happened is unmet, and says so."""
        lab = make_lab(policy(AFTER_LAUNCH))
        (ident, *_) = cohort(lab)
        inn = lab.innovation(ident)
        found = _gate_rules.deadline_not_passed(
            lf.GateContext(inn, lab, lab.policy.stage("display"), lab.now())
        )
        assert [u.code for u in found] == ["deadline.not_started"]
        assert "the launch" in found[0].message_en
        assert "peluncuran" in found[0].message_id

    def test_counted_from_the_lab_entering_a_stage(self) -> None:
        """``lab:<stage>`` counts from when the lab entered it, live and in replay."""
        text = 'id = "x"\nextends = "lan-5d"\n[deadlines.deliver]\nafter = "lab:design"\n'
        text += 'within_days = 10\nenforce = "gate"\n'
        clock = FixedClock()
        lab = make_lab(policy(text), clock=clock)
        ids = cohort(lab)
        bring_to(lab, "design")
        entered = lab.entered["design"]
        for ident in ids:
            prepare(lab, ident, "deliver")
        lab.advance_lab(by="sekretariat")
        lab.advance(ids[0], by="sekretariat")
        clock.set(entered + timedelta(days=11))
        assert lab.check(ids[1]).codes == ("deadline.passed",)
        assert serde.loads(serde.dumps(lab)) == lab

    def test_counted_from_the_innovation_entering_a_stage(self) -> None:
        """``stage:<stage>`` counts from when the innovation itself entered it."""
        text = 'id = "x"\nextends = "lan-5d"\n[deadlines.display]\nafter = "stage:deliver"\n'
        text += 'min_days = 7\nenforce = "gate"\n'
        lab, clock, ids = launched_lab(text)
        lab.advance_lab(by="sekretariat")
        entered = lab.innovation(ids[0]).history[-1].at
        clock.set(entered + timedelta(days=6))
        assert lab.check(ids[0]).codes == ("deadline.too_early",)
        clock.set(entered + timedelta(days=8))
        assert lab.check(ids[0]).ok


class TestReportedDeadlines:
    def test_a_reported_deadline_does_not_hold_the_gate(self) -> None:
        """enforce = 'report': the innovation moves late, and the overdue report lists it."""
        text = AFTER_LAUNCH.replace('enforce = "gate"', 'enforce = "report"')
        lab, clock, ids = launched_lab(text)
        assert not any(s.name == "deadline_not_passed" for s in lab.policy.gates["display"])
        clock.set(LAUNCHED + timedelta(days=105))
        late = reports.overdue(lab)
        assert [o.innovation for o in late] == sorted(ids)
        assert late[0].deadline.date().isoformat() == "2016-08-10"
        lab.advance_lab(by="sekretariat")
        lab.advance(ids[0], by="sekretariat")  # not refused: reported only

    def test_an_absolute_deadline_in_a_table_round_trips(self) -> None:
        """Both forms load back equal from the document form."""
        for form in (
            '[deadlines.design]\nby = 2016-06-30\nenforce = "report"\n',
            '[gates]\ndesign = ["diagnosis_recorded", "deadline_not_passed"]\n'
            "[deadlines]\ndesign = 2016-06-30\n",
            AFTER_LAUNCH.split("\n", 3)[3],
        ):
            loaded = policy(f'id = "x"\nextends = "lan-5d"\n{form}')
            assert lf.policy_from_dict(loaded.to_dict()) == loaded


BROKEN = {
    "a bare date nothing uses": (
        "[deadlines]\ndesign = 2016-06-30\n",
        "$.deadlines.design",
        "nothing uses this deadline",
    ),
    "a gate checking no deadline": (
        '[gates]\ndesign = ["deadline_not_passed"]\n',
        "$.gates.design",
        "deadlines.design is not given",
    ),
    "no enforce": (
        "[deadlines.design]\nby = 2016-06-30\n",
        "$.deadlines.design.enforce",
        "must say 'gate'",
    ),
    "both by and after": (
        '[deadlines.design]\nby = 2016-06-30\nafter = "launch"\nenforce = "gate"\n',
        "$.deadlines.design",
        "either 'by'",
    ),
    "relative without a duration": (
        '[deadlines.display]\nafter = "launch"\nenforce = "gate"\n',
        "$.deadlines.display",
        "needs within_months",
    ),
    "after an unknown stage": (
        '[deadlines.display]\nafter = "stage:pameran"\nwithin_days = 5\nenforce = "gate"\n',
        "$.deadlines.display.after",
        "'pameran' is not a stage",
    ),
    "after a later stage": (
        '[deadlines.design]\nafter = "lab:display"\nwithin_days = 5\nenforce = "gate"\n',
        "$.deadlines.design.after",
        "happens after an innovation enters 'design'",
    ),
    "after the launch, before it": (
        '[deadlines.design]\nafter = "launch"\nwithin_days = 5\nenforce = "gate"\n',
        "$.deadlines.design.after",
        "launched at 'deliver', not before entering 'design'",
    ),
    "an unknown event": (
        '[deadlines.display]\nafter = "mou"\nwithin_days = 5\nenforce = "gate"\n',
        "$.deadlines.display.after",
        "must be 'launch'",
    ),
    "a negative window": (
        '[deadlines.display]\nafter = "launch"\nwithin_days = -5\nenforce = "gate"\n',
        "$.deadlines.display.within_days",
        "whole number",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_deadlines_are_listed(case: str) -> None:
    """Each bad deadline is reported at its path."""
    text, path, phrase = BROKEN[case]
    found = problems(f'id = "x"\nextends = "lan-5d"\n{text}')
    assert any(p == path and phrase in m for p, m in found), found


def test_show_time_is_local() -> None:
    """Policy.show_time writes a UTC moment in the policy's offset, in either language."""
    moment = datetime(2023, 10, 3, 16, 59, 59, 999999, tzinfo=UTC)
    lan = lf.load_policy("lan-5d")
    assert lan.show_time(moment) == "3 October 2023, 23:59 (UTC+07:00)"
    assert lan.show_time(moment, "id") == "3 Oktober 2023 pukul 23.59 (UTC+07:00)"


def test_a_policy_built_by_hand_with_deadlines_round_trips() -> None:
    """``deadlines=`` alone (no ``timing``) is reported, or enforced where a gate checks it."""
    lan = lf.load_policy("lan-5d")
    moment = datetime(2016, 6, 30, 16, 59, tzinfo=UTC)
    by_hand = lf.Policy(
        id="tangan", name="Tangan", stages=lan.stages, gates=lan.gates, deadlines={"design": moment}
    )
    assert by_hand.timing["design"].enforce == "report"
    assert lf.policy_from_dict(by_hand.to_dict()) == by_hand
