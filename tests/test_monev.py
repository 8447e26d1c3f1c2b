"""Monitoring and evaluation (monev): records on launched innovations, obligations, report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import labflow as lf
from helpers import FixedClock, bring_to, cohort, make_lab, refused
from labflow._cadence import judge, windows
from labflow.events import make_event

LAUNCH = datetime(2016, 6, 1, 2, 0, tzinfo=UTC)


def policy(table: str, gates: str = "") -> lf.Policy:
    return lf.parse_policy(f'id = "monev-test"\nextends = "lan-5d"\n{gates}\n[monev]\n{table}\n')


REPORT = policy('every_months = 3\nenforce = "report"\nindicators = ["pengguna"]')
#: the display gate of lan-5d, plus the monev obligation enforced at it
GATE = policy(
    'every_months = 2\nenforce = "gate"\nstage = "display"',
    '[gates]\ndisplay = ["evidence_attached", "monev_up_to_date"]',
)


def launched(p: lf.Policy, clock: FixedClock | None = None) -> lf.Lab:
    """A lab at deliver with its three innovations launched."""
    lab = make_lab(p, clock=clock or FixedClock())
    cohort(lab)
    bring_to(lab, "deliver")
    return lab


def monev(lab: lf.Lab, ident: str = "ino-dinkes", **kw: Any) -> lf.Event:
    args: dict[str, Any] = {
        "period": "2016-Q3",
        "indicators": {"pengguna": 120, "waktu_layanan_menit": 15.5},
        "findings": "Antrean berkurang.",
        "follow_up": "Perluas ke puskesmas.",
        "by": "fasilitator",
    }
    args.update(kw)
    return lab.record_monev(ident, **args)


class TestCadence:
    def test_windows_every_n_months_after_the_start(self) -> None:
        """Windows of whole calendar months; none opens after ``now`` or the end."""
        start = datetime(2017, 1, 31, tzinfo=UTC)
        now = datetime(2017, 7, 1, tzinfo=UTC)
        found = windows(start, 2, now)
        assert [w.due.date().isoformat() for w in found] == [
            "2017-03-31",
            "2017-05-31",
            "2017-07-31",
        ]
        assert len(windows(start, 2, now, until_months=4)) == 2
        assert windows(start, 0, now) == ()
        assert windows(now, 1, start) == ()

    def test_a_window_is_done_by_a_record_within_it(self) -> None:
        start = datetime(2017, 1, 1, tzinfo=UTC)
        now = datetime(2017, 7, 2, tzinfo=UTC)
        marks = [start + timedelta(days=10), datetime(2017, 3, 1, tzinfo=UTC)]  # both in one
        assert [w.done for w in judge(start, 2, now, marks)] == [True, False, False, False]


class TestRecording:
    def test_a_record_of_a_launched_innovation(self) -> None:
        lab = launched(REPORT)
        event = monev(lab)
        assert event.kind == "innovation.monitored"
        (record,) = lab.monev("ino-dinkes")
        assert record.period == "2016-Q3"
        assert record.indicators["pengguna"] == 120
        assert (record.findings, record.follow_up) == (
            "Antrean berkurang.",
            "Perluas ke puskesmas.",
        )
        assert record.recorded_by == "fasilitator"
        assert record.recorded_at == event.at

    def test_not_before_the_launch(self) -> None:
        lab = make_lab(REPORT)
        cohort(lab)
        with refused(lab, lf.InvalidCommand) as info:
            monev(lab)
        assert info.value.code == "monev.not_launched"
        assert (
            "monev.not_launched"
            in lab.allowed(by="fasilitator", subject="ino-dinkes")["record_monev"].codes
        )

    @pytest.mark.parametrize(
        ("kw", "code"),
        [
            ({"indicators": {"waktu": 1}}, "monev.indicators"),  # the policy's pengguna missing
            ({"indicators": {"pengguna": float("nan")}}, "monev.indicator_value"),
            ({"indicators": {"pengguna": "banyak"}}, "monev.indicator_value"),
            ({"indicators": {"pengguna": True}}, "monev.indicator_value"),
            ({"indicators": {"pengguna": 10**20}}, "monev.indicator_value"),
            ({"indicators": [("pengguna", 1)]}, "input.indicators"),
            ({"period": ""}, "input.empty"),
            ({"findings": "\x1b[31m"}, "input.text"),
        ],
    )
    def test_bad_input_is_refused_and_changes_nothing(self, kw: dict[str, Any], code: str) -> None:
        lab = launched(REPORT)
        with refused(lab, lf.InvalidCommand) as info:
            monev(lab, **kw)
        assert info.value.code == code

    def test_only_the_roles_allowed(self) -> None:
        lab = launched(REPORT)
        with refused(lab, lf.PermissionDenied):
            monev(lab, by="staf-dinkes")
        monev(lab, by="kadinkes")  # the unit head of the innovation's own unit may


class TestObligation:
    def test_the_report_lists_due_overdue_and_latest_findings(self) -> None:
        clock = FixedClock()
        lab = launched(REPORT, clock)
        monev(lab, "ino-dinkes")
        launch = lab.innovation("ino-bag-tapem").launch
        assert launch is not None
        later = launch.at + timedelta(days=200)  # two windows of three months have closed
        found = lf.reports.monev(lab, later)
        assert found.enforce == "report"
        by_id = {i.innovation: i for i in found.items}
        assert len(by_id["ino-bag-tapem"].overdue) == 2
        assert len(by_id["ino-dinkes"].overdue) == 1  # its first window holds the record
        assert by_id["ino-dinkes"].latest_findings == "Antrean berkurang."
        assert found.items[0].overdue  # overdue ones first
        assert {i.innovation for i in found.overdue} == set(by_id)
        assert found.to_dict()["items"][0]["overdue"]

    def test_enforced_at_the_gate_and_by_replay(self) -> None:
        """With ``enforce = "gate"`` an overdue monev keeps the innovation out of display."""
        clock = FixedClock()
        lab = launched(GATE, clock)
        for ident in lab.innovations:
            lab.attach_evidence(ident, title="SK", reference="x", by="sekretariat")
        lab.advance_lab(by="sekretariat")
        clock.set(clock.now + timedelta(days=70))  # the first two-month window has closed
        with refused(lab, lf.GateRefused) as info:
            lab.advance("ino-dinkes", by="sekretariat")
        assert "monev.overdue" in info.value.verdict.codes
        # a record made now is in the second window: the first stays overdue
        monev(lab, "ino-dinkes")
        assert "monev.overdue" in lab.check("ino-dinkes").codes

    def test_a_record_in_time_lets_it_pass(self) -> None:
        clock = FixedClock()
        lab = launched(GATE, clock)
        monev(lab, "ino-dinkes")
        lab.attach_evidence("ino-dinkes", title="SK", reference="x", by="sekretariat")
        for ident in ("ino-bag-tapem", "ino-pkm-gombong"):
            monev(lab, ident)
        lab.advance_lab(by="sekretariat")
        clock.set(clock.now + timedelta(days=70))
        lab.advance("ino-dinkes", by="sekretariat")
        assert lab.innovation("ino-dinkes").stage == "display"
        again = lf.replay_lab(lab.history, [i.history for i in lab.innovations.values()])
        assert again == lab

    def test_replay_refuses_a_forged_advance_past_an_overdue_monev(self) -> None:
        clock = FixedClock()
        lab = launched(GATE, clock)
        lab.attach_evidence("ino-dinkes", title="SK", reference="x", by="sekretariat")
        lab.advance_lab(by="sekretariat")
        inn = lab.innovation("ino-dinkes")
        at = inn.history[-1].at + timedelta(days=70)
        gate = ["evidence_attached", "monev_up_to_date"]
        payload = {"from": "deliver", "to": "display", "gate": gate, "lab_v": lab.version, "v": 2}
        last = inn.history[-1]
        forged = make_event(
            inn.id, last.seq + 1, at, "sekretariat", "innovation.advanced", payload, last.hash
        )
        streams = [
            i.history if i.id != inn.id else (*i.history, forged) for i in lab.innovations.values()
        ]
        with pytest.raises(lf.HistoryError, match=r"monev\.overdue"):
            lf.replay_lab(lab.history, streams)

    def test_replay_refuses_a_forged_monev_before_the_launch(self) -> None:
        lab = make_lab(REPORT)
        cohort(lab)
        inn = lab.innovation("ino-dinkes")
        last = inn.history[-1]
        payload = {
            "period": "Q1",
            "indicators": {"pengguna": 1},
            "findings": "",
            "follow_up": "",
            "lab_v": lab.version,
            "v": 2,
        }
        forged = make_event(
            inn.id, last.seq + 1, last.at, "fasilitator", "innovation.monitored", payload, last.hash
        )
        streams = [
            i.history if i.id != inn.id else (*i.history, forged) for i in lab.innovations.values()
        ]
        with pytest.raises(lf.HistoryError, match="not been launched"):
            lf.replay_lab(lab.history, streams)


class TestPolicy:
    @pytest.mark.parametrize(
        ("table", "gates", "path"),
        [
            ('enforce = "report"', "", "$.monev.every_months"),
            ('every_months = 0\nenforce = "report"', "", "$.monev.every_months"),
            ("every_months = 3", "", "$.monev.enforce"),
            ('every_months = 3\nenforce = "gate"', "", "$.monev.stage"),
            ('every_months = 3\nenforce = "gate"\nstage = "display"', "", "$.gates.display"),
            ('every_months = 3\nenforce = "report"\nstage = "design"', "", "$.monev.stage"),
            ('every_months = 3\nenforce = "report"\nuntil_months = 2', "", "$.monev.until_months"),
            ('every_months = 3\nenforce = "report"\nindicators = [1]', "", "$.monev.indicators"),
            ('every_months = 3\nenforce = "report"\ncadence = 2', "", "$.monev.cadence"),
            (
                'every_months = 3\nenforce = "report"',
                '[gates]\ndisplay = ["evidence_attached", "monev_up_to_date"]',
                "$.gates.display",
            ),
        ],
    )
    def test_a_broken_obligation_is_refused_with_its_path(
        self, table: str, gates: str, path: str
    ) -> None:
        with pytest.raises(lf.PolicyError) as info:
            policy(table, gates)
        assert path in [p.path for p in info.value.problems]

    def test_a_gate_requiring_monev_without_an_obligation_is_refused(self) -> None:
        text = 'id = "x"\nextends = "lan-5d"\n[gates]\ndisplay = ["monev_up_to_date"]\n'
        with pytest.raises(lf.PolicyError) as info:
            lf.parse_policy(text)
        assert "$.gates.display" in [p.path for p in info.value.problems]

    def test_the_obligation_round_trips(self) -> None:
        for p in (REPORT, GATE):
            again = lf.policy_from_dict(p.to_dict())
            assert again.monev == p.monev
        assert GATE.monev is not None
        assert GATE.monev.stage == "display"
        assert lf.load_policy("lan-5d").monev is None


class TestInTheReport:
    def test_the_report_and_its_page_list_overdue_monev(self) -> None:
        """`reports.report` carries the launched innovations whose monev is overdue, as
        `reports.monev` counts them, and the HTML page shows them in both languages."""
        clock = FixedClock()
        lab = launched(REPORT, clock)
        monev(lab, "ino-dinkes")
        launch = lab.innovation("ino-bag-tapem").launch
        assert launch is not None
        later = launch.at + timedelta(days=200)
        found = lf.reports.report(lab, later)
        assert found.overdue_monev == lf.reports.monev(lab, later).overdue
        by_id = {m["innovation"]: m for m in found.to_dict()["overdue_monev"]}
        assert len(by_id["ino-bag-tapem"]["overdue"]) == 2
        assert by_id["ino-dinkes"]["latest_findings"] == "Antrean berkurang."
        assert lf.reports.report(lab, launch.at).overdue_monev == ()
        assert f"Monev overdue ({len(by_id)})" in lf.reports.html(lab, lang="en", now=later)
        assert f"Monev yang terlambat ({len(by_id)})" in lf.reports.html(lab, now=later)

    def test_a_policy_without_monev_reports_none_and_no_section(self) -> None:
        lab = launched(lf.load_policy("lan-5d"))
        later = lab.now() + timedelta(days=400)
        assert lf.reports.report(lab, later).overdue_monev == ()
        assert "Monev" not in lf.reports.html(lab, lang="en", now=later)
