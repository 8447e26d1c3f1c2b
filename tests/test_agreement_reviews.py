"""Agreement reviews and amendments: a review cycle as policy data, `review_agreement`,
`amend_agreement` (a new version signed again, every version kept), overdue reviews held
at the gates or listed by the reports as the policy chooses, and replay refusing forgeries.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

import labflow as lf
from helpers import HEAD, FixedClock, bring_to, cohort, make_lab, prepare, refused
from labflow import reports, serde
from labflow.events import GENESIS, Event, make_event

FACILITATED = Path(__file__).resolve().parent.parent / "examples" / "facilitated" / "policy.toml"
INO = "ino-dinkes"

#: Every four months after the launch, twice, held at the gates (display and on).
GATED = """
id = "x"
extends = "lan-5d"

[agreement.review]
every_months = 4
after = "launch"
times = 2
roles = ["facilitator"]
enforce = "gate"
"""


def problems(text: str) -> list[tuple[str, str]]:
    with pytest.raises(lf.PolicyError) as caught:
        lf.parse_policy(text)
    return [(p.path, p.message) for p in caught.value.problems]


def review_table(**fields: Any) -> str:
    """A policy extending lan-5d with ``[agreement.review]`` made of ``fields``."""
    lines = "\n".join(f"{k} = {json.dumps(v)}" for k, v in fields.items())
    return f'id = "x"\nextends = "lan-5d"\n\n[agreement.review]\n{lines}\n'


def launched(policy: lf.Policy, clock: FixedClock | None = None) -> lf.Lab:
    """A lab on ``policy`` with its cohort launched at deliver (every approval step taken)."""
    lab = make_lab(policy, clock=clock)
    ids = cohort(lab)
    bring_to(lab, "design")
    for ident in ids:
        prepare(lab, ident, "deliver")
        if policy.approval:
            lab.approve_plan(ident, by="fasilitator")
    bring_to(lab, "deliver")
    return lab


def amended(lab: lf.Lab) -> None:
    """Review INO's agreement calling for an amendment, and amend it (not yet signed)."""
    lab.review_agreement(INO, finding="Target terlalu rendah", outcome="amend", by="fasilitator")
    lab.amend_agreement(INO, terms="Target naik 20%", by="sekretariat")


class TestThePolicy:
    def test_the_example_cycle_loads_and_round_trips(self) -> None:
        policy = lf.load_policy(FACILITATED)
        assert policy.review == lf.ReviewCycle(
            4, "launch", "report", frozenset({"facilitator"}), False, 3
        )
        assert policy.allowed("review_agreement") == {"facilitator"}
        assert lf.policy_from_dict(json.loads(json.dumps(policy.to_dict()))) == policy

    def test_a_gated_cycle_is_checked_at_every_gate_after_its_start(self) -> None:
        policy = lf.parse_policy(GATED)
        assert [
            s
            for s, specs in policy.gates.items()
            if "agreement_reviews_current" in {x.name for x in specs}
        ] == ["display"]
        assert lf.policy_from_dict(policy.to_dict()) == policy

    def test_a_cycle_until_a_stage_spans_the_gates_up_to_it(self) -> None:
        policy = lf.parse_policy(
            review_table(
                every_months=6, after="stage:diagnose", until="stage:deliver", enforce="gate"
            )
        )
        gated = [
            s
            for s, specs in policy.gates.items()
            if any(x.name == "agreement_reviews_current" for x in specs)
        ]
        assert gated == ["design", "deliver"]
        assert policy.review is not None
        assert policy.review.until_stage == "deliver"

    def test_a_cycle_until_a_date_ends_there(self) -> None:
        policy = lf.parse_policy(
            'id = "x"\nextends = "lan-5d"\n[agreement.review]\nevery_months = 4\n'
            'after = "launch"\nuntil = 2018-12-31\nenforce = "report"\n'
        )
        cycle = policy.review
        assert cycle is not None
        start = datetime(2018, 1, 31, 2, tzinfo=UTC)
        assert cycle.due(1, start) == datetime(2018, 5, 31, 2, tzinfo=UTC)
        assert cycle.due(2, start) == datetime(2018, 9, 30, 2, tzinfo=UTC)  # 31 Sep: the 30th
        assert cycle.due(3, start) is None  # 31 January 2019 is past the end

    @pytest.mark.parametrize(
        ("fields", "path", "phrase"),
        [
            ({"after": "launch", "enforce": "gate"}, "$.agreement.review.every_months", "1 to 120"),
            (
                {"every_months": 0, "after": "launch", "enforce": "gate"},
                "$.agreement.review.every_months",
                "1 to 120",
            ),
            ({"every_months": 4, "enforce": "gate"}, "$.agreement.review.after", "is required"),
            (
                {"every_months": 4, "after": "stage:nowhere", "enforce": "gate"},
                "$.agreement.review.after",
                "'nowhere' is not a stage",
            ),
            ({"every_months": 4, "after": "launch"}, "$.agreement.review.enforce", "'gate'"),
            (
                {"every_months": 4, "after": "launch", "enforce": "gate", "times": 0},
                "$.agreement.review.times",
                "1 to 1000",
            ),
            (
                {"every_months": 4, "after": "launch", "enforce": "gate", "until": "kapan-kapan"},
                "$.agreement.review.until",
                "is not 'stage:<id>', a date",
            ),
            (
                {
                    "every_months": 4,
                    "after": "launch",
                    "enforce": "gate",
                    "times": 2,
                    "until": "stage:display",
                },
                "$.agreement.review",
                "at most one end",
            ),
            (
                {"every_months": 4, "after": "launch", "enforce": "gate", "roles": ["camat"]},
                "$.agreement.review.roles[0]",
                "'camat' is not a role",
            ),
            (
                {"every_months": 4, "after": "launch", "enforce": "gate", "often": True},
                "$.agreement.review.often",
                "unknown key",
            ),
            (
                {"every_months": 4, "after": "launch", "enforce": "gate", "until": "stage:design"},
                "$.agreement.review.until",
                "comes before the reviews start",
            ),
        ],
    )
    def test_a_broken_cycle_is_listed_at_its_path(
        self, fields: dict[str, Any], path: str, phrase: str
    ) -> None:
        found = problems(review_table(**fields))
        assert any(p == path and phrase in m for p, m in found), found

    def test_reviewers_who_may_not_review(self) -> None:
        text = review_table(every_months=4, after="launch", enforce="gate", roles=["auditor"])
        text = text.replace(
            "[agreement.review]",
            '[permissions]\nreview_agreement = ["secretariat"]\n\n[agreement.review]',
        )
        assert problems(text) == [
            (
                "$.agreement.review.roles",
                "none of these roles may run review_agreement, so no review could ever be "
                "recorded: add one to permissions.review_agreement",
            )
        ]

    def test_the_review_check_without_a_cycle(self) -> None:
        text = (
            'id = "x"\nextends = "lan-5d"\n[gates]\n'
            'display = ["launch_recorded", "agreement_reviews_current"]\n'
        )
        assert problems(text) == [
            (
                "$.gates.display",
                "'agreement_reviews_current' checks the agreement's reviews, but no "
                "[agreement.review] cycle is given",
            )
        ]

    def test_agreement_is_a_table(self) -> None:
        assert problems('id = "x"\nextends = "lan-5d"\nagreement = 3\n') == [
            ("$.agreement", "must be a table, not int")
        ]


class TestTheCommands:
    def test_a_review_is_recorded_on_the_agreement(self) -> None:
        lab = launched(lf.load_policy(FACILITATED))
        event = lab.review_agreement(INO, finding="Sesuai target", by="fasilitator")
        assert event.kind == "innovation.agreement_reviewed"
        (review,) = lab.innovation(INO).agreement.reviews  # type: ignore[union-attr]
        assert (review.finding, review.outcome, review.by, review.version) == (
            "Sesuai target",
            lf.ReviewOutcome.CONTINUE,
            "fasilitator",
            1,
        )

    def test_only_the_cycles_reviewers_review(self) -> None:
        """The facilitated policy names the facilitator: the secretariat may not review."""
        lab = launched(lf.load_policy(FACILITATED))
        with refused(lab, lf.PermissionDenied):
            lab.review_agreement(INO, finding="x", by="sekretariat")

    def test_a_same_unit_cycle_refuses_reviewers_of_other_units(self) -> None:
        """An inspectorate of each unit (a lab-wide role) reviews only its own unit's pacts."""
        text = review_table(
            every_months=4, after="launch", enforce="report", roles=["auditor"], same_unit=True
        )
        lab = launched(lf.parse_policy(text))
        for unit in ("bag-tapem", "dinkes"):
            lab.add_actor(lf.Actor(f"irban-{unit}", "Irban", {"auditor"}, unit), by="sekretariat")
        with refused(lab, lf.PermissionDenied) as info:
            lab.review_agreement(INO, finding="x", by="irban-bag-tapem")
        assert info.value.code == "permission.reviewer"
        lab.review_agreement(INO, finding="x", by="irban-dinkes")

    def test_an_unsigned_agreement_is_not_reviewed(self) -> None:
        lab = make_lab(lf.load_policy(FACILITATED))
        cohort(lab)
        with refused(lab, lf.InvalidCommand) as info:
            lab.review_agreement(INO, finding="x", by="fasilitator")
        assert info.value.code == "agreement.not_signed"

    def test_a_bad_outcome_or_finding_is_refused(self) -> None:
        lab = launched(lf.load_policy(FACILITATED))
        with refused(lab, lf.InvalidCommand, "outcome"):
            lab.review_agreement(INO, finding="x", outcome="batal", by="fasilitator")
        with refused(lab, lf.InvalidCommand):
            lab.review_agreement(INO, finding="", by="fasilitator")

    def test_no_amendment_without_a_review_calling_for_it(self) -> None:
        lab = launched(lf.load_policy(FACILITATED))
        with refused(lab, lf.InvalidCommand) as info:
            lab.amend_agreement(INO, terms="Baru", by="sekretariat")
        assert info.value.code == "agreement.no_amendment_called"
        lab.review_agreement(INO, finding="Cukup", outcome="continue", by="fasilitator")
        with refused(lab, lf.InvalidCommand):
            lab.amend_agreement(INO, terms="Baru", by="sekretariat")

    def test_an_amendment_is_a_new_version_signed_again_and_every_version_kept(self) -> None:
        lab = launched(lf.load_policy(FACILITATED))
        before = lab.innovation(INO).agreement
        assert before is not None
        amended(lab)
        agreement = lab.innovation(INO).agreement
        assert agreement is not None
        assert (agreement.version, agreement.terms, agreement.signatures) == (
            2,
            "Target naik 20%",
            (),
        )
        (old,) = agreement.earlier
        assert (old.version, old.terms, old.signatures) == (1, before.terms, before.signatures)
        assert agreement.reviews == before.reviews + agreement.reviews[-1:]
        # Signed by the same parties again; then it binds.
        lab.sign_agreement(INO, by="bupati")
        lab.sign_agreement(INO, by=HEAD["dinkes"])
        assert lab.innovation(INO).agreement.complete  # type: ignore[union-attr]
        # The amendment needed a review of the version it replaces: not again.
        with refused(lab, lf.InvalidCommand):
            lab.amend_agreement(INO, terms="Lagi", by="sekretariat")

    def test_a_binding_agreement_still_cannot_be_redrawn(self) -> None:
        """Past the agreement gate, drawing up afresh stays refused -- an amendment too."""
        lab = launched(lf.load_policy(FACILITATED))
        with refused(lab, lf.InvalidCommand, "binding"):
            lab.draw_up_agreement(
                INO, regional_head="bupati", unit_head=HEAD["dinkes"], by="sekretariat"
            )
        amended(lab)
        with refused(lab, lf.InvalidCommand, "binding"):
            lab.draw_up_agreement(
                INO, regional_head="bupati", unit_head=HEAD["dinkes"], by="sekretariat"
            )

    def test_the_lab_round_trips_and_replays(self) -> None:
        lab = launched(lf.load_policy(FACILITATED))
        amended(lab)
        lab.sign_agreement(INO, by="bupati")
        assert serde.loads(serde.dumps(lab)) == lab
        assert lf.replay_lab(lab.history, [i.history for i in lab.innovations.values()]) == lab

    def test_documents_without_reviews_keep_their_shape(self) -> None:
        """An agreement never reviewed is written as before there were reviews."""
        lab = launched(lf.load_policy("lan-5d"))
        data = serde.unstructure(lab.innovation(INO))["data"]["agreement"]
        assert not {"reviews", "earlier", "version"} & set(data)


class TestOverdue:
    def clock(self) -> FixedClock:
        return FixedClock(datetime(2017, 7, 1, 1, tzinfo=UTC))

    def test_an_overdue_review_is_reported_until_it_is_done(self) -> None:
        clock = self.clock()
        lab = launched(lf.load_policy(FACILITATED), clock)
        launch = lab.innovation(INO).launch
        assert launch is not None
        assert reports.overdue_reviews(lab) == []
        late = launch.at + timedelta(days=125)
        found = reports.overdue_reviews(lab, late)
        assert {o.innovation for o in found} == set(lab.innovations)
        first = next(o for o in found if o.innovation == INO)
        assert (first.number, first.stage) == (1, "deliver")
        assert first.due == launch.at.replace(month=launch.at.month + 4)
        assert first.to_dict()["due"] == first.due.isoformat()
        # Reviewed: nothing owed until the second due date.
        clock.set(late)
        lab.review_agreement(INO, finding="Sesuai", by="fasilitator")
        assert INO not in {o.innovation for o in reports.overdue_reviews(lab, late)}
        second = [
            o
            for o in reports.overdue_reviews(lab, late + timedelta(days=130))
            if o.innovation == INO
        ]
        assert [o.number for o in second] == [2]

    def test_the_cycle_ends_after_its_times(self) -> None:
        clock = self.clock()
        lab = launched(lf.parse_policy(GATED), clock)
        launch = lab.innovation(INO).launch
        assert launch is not None
        for days in (130, 250):
            clock.set(launch.at + timedelta(days=days))
            lab.review_agreement(INO, finding="Sesuai", by="fasilitator")
        far = launch.at + timedelta(days=2000)
        assert INO not in {o.innovation for o in reports.overdue_reviews(lab, far)}

    def test_a_gated_cycle_holds_the_innovation_at_its_next_gate(self) -> None:
        """Enforced at the gate: display is refused while a review is overdue, in local time."""
        clock = self.clock()
        lab = launched(lf.parse_policy(GATED), clock)
        launch = lab.innovation(INO).launch
        assert launch is not None
        lab.attach_evidence(INO, title="SK", reference="doc-1", by="staf-dinkes")
        lab.advance_lab(by="sekretariat")
        clock.set(launch.at + timedelta(days=125))
        verdict = lab.check(INO)
        (item,) = [u for u in verdict.unmet if u.code == "agreement.review_overdue"]
        assert item.data["number"] == 1
        assert "(UTC+07:00)" in item.message_en
        assert "every 4 months after the launch" in item.message_en
        assert "setiap 4 bulan sejak peluncuran" in item.message_id
        with refused(lab, lf.GateRefused):
            lab.advance(INO, by="sekretariat")
        lab.review_agreement(INO, finding="Sesuai", by="fasilitator")
        lab.advance(INO, by="sekretariat")
        assert lab.innovation(INO).stage == "display"
        assert lf.replay_lab(lab.history, [i.history for i in lab.innovations.values()]) == lab

    def test_no_review_is_owed_without_a_cycle(self) -> None:
        lab = launched(lf.load_policy("lan-5d"))
        assert reports.overdue_reviews(lab, lab.now() + timedelta(days=3650)) == []


def rehash(events: list[Event], start: int) -> list[Event]:
    out = list(events[:start])
    for e in events[start:]:
        prev = out[-1].hash if out else GENESIS
        out.append(make_event(e.subject, len(out) + 1, e.at, e.actor, e.kind, e.payload, prev))
    return out


class TestReplay:
    def forged(self, lab: lf.Lab, kind: str, change: Any) -> lf.HistoryError:
        """Replay with INO's first ``kind`` event changed by ``change`` and re-hashed."""
        events = list(lab.innovation(INO).history)
        at = next(i for i, e in enumerate(events) if e.kind == kind)
        events[at] = change(events[at])
        streams = [list(i.history) for i in lab.innovations.values() if i.id != INO]
        with pytest.raises(lf.HistoryError) as info:
            lf.replay_lab(lab.history, [*streams, rehash(events, at)])
        return info.value

    def test_a_review_by_someone_the_cycle_does_not_name(self) -> None:
        """A review moved to another unit's inspectorate (who may review, but not this one)."""
        text = review_table(
            every_months=4, after="launch", enforce="report", roles=["auditor"], same_unit=True
        )
        lab = launched(lf.parse_policy(text))
        for unit in ("bag-tapem", "dinkes"):
            lab.add_actor(lf.Actor(f"irban-{unit}", "Irban", {"auditor"}, unit), by="sekretariat")
        lab.review_agreement(INO, finding="Sesuai", by="irban-dinkes")
        error = self.forged(
            lab, "innovation.agreement_reviewed", lambda e: attrs.evolve(e, actor="irban-bag-tapem")
        )
        assert error.code == "history.agreement_review"

    def test_a_review_by_someone_without_the_permission(self) -> None:
        lab = launched(lf.load_policy(FACILITATED))
        lab.review_agreement(INO, finding="Sesuai", by="fasilitator")
        error = self.forged(
            lab, "innovation.agreement_reviewed", lambda e: attrs.evolve(e, actor="sekretariat")
        )
        assert error.code == "history.not_permitted"

    def test_a_review_with_an_unknown_outcome(self) -> None:
        lab = launched(lf.load_policy(FACILITATED))
        lab.review_agreement(INO, finding="Sesuai", by="fasilitator")

        def odd(e: Event) -> Event:
            return attrs.evolve(e, payload={**e.payload, "outcome": "batal"})

        assert self.forged(lab, "innovation.agreement_reviewed", odd).code == (
            "history.agreement_review"
        )

    def test_an_amendment_no_review_called_for(self) -> None:
        """The review said "continue"; the forger turns it into nothing and keeps the amendment."""
        lab = launched(lf.load_policy(FACILITATED))
        amended(lab)

        def continued(e: Event) -> Event:
            return attrs.evolve(e, payload={**e.payload, "outcome": "continue"})

        error = self.forged(lab, "innovation.agreement_reviewed", continued)
        assert error.code == "history.agreement_amendment"

    def test_a_review_of_an_unsigned_agreement(self) -> None:
        """A review appended to the history of an innovation with no agreement yet."""
        lab = make_lab(lf.load_policy(FACILITATED))
        cohort(lab)
        events = list(lab.innovation(INO).history)
        last = events[-1]
        payload = {"v": 2, "lab_v": last.payload["lab_v"], "finding": "x", "outcome": "continue"}
        events.append(
            make_event(
                INO,
                len(events) + 1,
                last.at,
                "fasilitator",
                "innovation.agreement_reviewed",
                payload,
                last.hash,
            )
        )
        streams = [list(i.history) for i in lab.innovations.values() if i.id != INO]
        with pytest.raises(lf.HistoryError) as info:
            lf.replay_lab(lab.history, [*streams, events])
        assert info.value.code == "history.agreement_review"


class TestInTheReport:
    """`reports.report`, `labflow report` and its HTML page list overdue reviews."""

    def lab(self) -> lf.Lab:
        return launched(
            lf.load_policy(FACILITATED), FixedClock(datetime(2017, 7, 1, 1, tzinfo=UTC))
        )

    def test_the_report_carries_them(self) -> None:
        lab = self.lab()
        launch = lab.innovation(INO).launch
        assert launch is not None
        late = launch.at + timedelta(days=125)
        found = reports.report(lab, late)
        assert found.overdue_reviews == tuple(reports.overdue_reviews(lab, late))
        assert {o["innovation"] for o in found.to_dict()["overdue_reviews"]} == set(lab.innovations)
        assert reports.report(lab, launch.at).overdue_reviews == ()
        page = reports.html(lab, lang="en", now=late)
        assert "Agreement reviews overdue (3)" in page
        assert "Reviu perjanjian kinerja yang terlambat (3)" in reports.html(lab, now=late)

    @pytest.mark.parametrize(
        ("lang", "title"),
        [("en", "Agreement reviews overdue"), ("id", "Reviu perjanjian kinerja yang terlambat")],
    )
    def test_labflow_report_lists_them(self, tmp_path: Path, lang: str, title: str) -> None:
        """Run today, years after the launch, every agreement's first review is overdue."""
        from labflow import cli
        from labflow.store import Append
        from labflow.store.sqlite import SQLiteStore

        lab = self.lab()
        db = tmp_path / "lab.db"
        store = SQLiteStore(db, create=True)
        appends = [Append(lab.id, 0, lab.history, lab=True)]
        appends += [Append(i.id, 0, i.history) for i in lab.innovations.values()]
        store.commit(lab.id, appends)
        store.close()
        out, err = io.StringIO(), io.StringIO()
        code = cli.main(["report", "--db", str(db), "--lang", lang], stdout=out, stderr=err)
        assert code == cli.EXIT_OK, err.getvalue()
        assert f"{title} (3 " in out.getvalue()
        out = io.StringIO()
        assert cli.main(["report", "--db", str(db), "--json"], stdout=out) == cli.EXIT_OK
        listed = json.loads(out.getvalue())["overdue_reviews"]
        assert {o["innovation"] for o in listed} == set(lab.innovations)
        assert {o["number"] for o in listed} == {1}
