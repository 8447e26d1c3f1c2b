"""Hosts' three verbs: `send` runs any command, `check` answers for any command and actor
without changing anything, `allowed` lists what an actor may do; and the catalogue they use."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labflow as lf
from helpers import FixedClock, bring_to, cohort, make_lab, refused
from labflow import audit
from labflow._catalogue import CATALOGUE, COMMANDS, DEFAULT_PERMISSIONS, EVENT_KINDS
from labflow._fold import INNOVATION_KINDS
from labflow.policy import DEFAULT_PERMISSIONS as POLICY_PERMISSIONS
from labflow.testing import labs

ROOT = Path(__file__).parent.parent


class TestCatalogue:
    def test_commands_and_permissions_are_the_catalogue(self) -> None:
        assert lf.COMMANDS == COMMANDS == tuple(c.name for c in CATALOGUE)
        assert POLICY_PERMISSIONS == DEFAULT_PERMISSIONS == {c.name: c.roles for c in CATALOGUE}

    def test_audit_names_are_the_catalogue_kinds(self) -> None:
        kinds = {"lab.created", *(c.kind for c in CATALOGUE)}
        assert set(audit.EVENT_NAMES) == {
            "labflow.command.refused",
            "labflow.gate.refused",
            *("labflow." + k for k in kinds),
        }
        assert set(EVENT_KINDS) == kinds
        assert {k for k in kinds if k.startswith("innovation.")} == INNOVATION_KINDS

    def test_every_command_is_a_lab_method(self) -> None:
        for spec in CATALOGUE:
            assert callable(getattr(lf.Lab, spec.method)), spec.name

    def test_the_audit_page_names_every_event(self) -> None:
        """docs/audit.md names every event labflow emits (rows may share a prefix)."""
        page = (ROOT / "docs" / "audit.md").read_text()
        missing = [n for n in audit.EVENT_NAMES if n not in page and n.split(".")[-1] not in page]
        assert missing == []


class TestSend:
    def test_send_runs_the_command(self) -> None:
        lab = make_lab()
        cohort(lab)
        event = lab.send("withdraw", "ino-dinkes", by="sekretariat", reason="Ditunda")
        assert event.kind == "innovation.withdrawn"
        assert not lab.innovation("ino-dinkes").active

    def test_an_unknown_command_or_argument_is_refused(self) -> None:
        lab = make_lab()
        cohort(lab)
        with pytest.raises(lf.InvalidCommand) as info:
            lab.send("fly", "ino-dinkes", by="sekretariat")
        assert info.value.code == "command.unknown"
        with pytest.raises(lf.InvalidCommand) as info:
            lab.send("advance", "ino-dinkes", by="sekretariat", speed=3)
        assert info.value.code == "command.arguments"
        assert lab.innovation("ino-dinkes").version == 1


class TestCheck:
    def test_check_reports_permission_and_the_gate_together(self) -> None:
        """Every reason at once: the actor's missing role and the gate's unmet items."""
        lab = make_lab()
        cohort(lab)
        bring_to(lab, "diagnose")
        verdict = lab.check("advance", "ino-dinkes", by="staf-dinkes")
        assert "permission.role" in verdict.codes
        assert "diagnosis.missing" in verdict.codes
        assert lab.innovation("ino-dinkes").version == 2

    def test_check_changes_nothing(self) -> None:
        lab = make_lab()
        cohort(lab)
        before = (lab.version, {i.id: i.version for i in lab.innovations.values()})
        assert lab.check("withdraw", "ino-dinkes", by="sekretariat", reason="x").ok
        assert lab.check("advance_lab", by="sekretariat").ok
        assert (lab.version, {i.id: i.version for i in lab.innovations.values()}) == before
        assert lab.innovation("ino-dinkes").active

    def test_the_old_form_still_answers_for_advancing(self) -> None:
        lab = make_lab()
        cohort(lab)
        assert lab.check("ino-dinkes").action == "advance"


def _arguments(command: str, lab: lf.Lab, subject: str | None) -> dict[str, Any]:
    """Plausible arguments for ``command``, so that the verdict turns on state and actor."""
    head = next((a.id for a in lab.actors.values() if "regional_head" in a.roles), "bupati")
    unit_head = None
    if subject is not None:
        unit = lab.innovation(subject).unit
        unit_head = next(
            (a.id for a in lab.actors.values() if a.unit == unit and "unit_head" in a.roles), "x"
        )
    return {
        "record_diagnosis": {"diagnosis": lf.Diagnosis("Antre", ("SOP",))},
        "submit_plan": {"steps": [lf.PlanStep("Susun SOP", "Kasubag", date(2016, 6, 1))]},
        "draw_up_agreement": {"regional_head": head, "unit_head": unit_head},
        "grant_permission": {"reference": "800/1"},
        "record_launch": {"ceremony": "Peluncuran"},
        "attach_evidence": {"title": "SK", "reference": "doc-1"},
        "register_exhibit": {"event": "Expo", "booth": "A1"},
        "return": {"stage": lab.policy.stages[0].id, "reason": "Perbaikan"},
        "withdraw": {"reason": "Ditunda"},
        "reinstate": {"reason": "Dilanjutkan"},
        "launch_cohort": {"ceremony": "Peluncuran"},
        "set_roles": {"roles": ["secretariat"]},
        "review_agreement": {"finding": "Sesuai target", "outcome": "amend"},
        "amend_agreement": {"terms": "Target disesuaikan"},
        "open_exhibition": {
            "exhibition": "pameran",
            "name": "Pameran Inovasi",
            "venue": "Pendopo",
            "starts": date(2016, 12, 21),
            "ends": date(2016, 12, 22),
        },
        "register_exhibitor": {
            "exhibition": "pameran",
            "exhibitor": lf.Exhibitor("pt-swasta", "PT Swasta", "private"),
        },
        "add_booth": {"exhibition": "pameran", "booth": "A1", "holder": sorted(lab.units)[0]},
        "close_exhibition": {"exhibition": "pameran"},
        "record_monev": {"period": "2016-Q3", "indicators": {"pengguna": 1}, "findings": "ok"},
        "set_attributes": {"attributes": {"jenis": "digital"}},
    }.get(command, {})


def _latest(lab: lf.Lab) -> Any:
    """The time of the lab's latest event, in any of its histories."""
    return max(
        e.at for h in (lab.history, *(i.history for i in lab.innovations.values())) for e in h
    )


class TestAgreement:
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(lab=labs(max_commands=40), data=st.data())
    def test_check_clean_iff_send_accepted_and_allowed_agrees(
        self, lab: lf.Lab, data: st.DataObject
    ) -> None:
        """For random labs on every preset, actors and commands: check clean ⇔ send accepted."""
        subject = data.draw(st.sampled_from([None, *sorted(lab.innovations)]))
        level = "lab" if subject is None else "innovation"
        specs = [c for c in CATALOGUE if c.level == level and not c.opens]
        if subject is None:
            specs = [c for c in specs if c.name in ("advance_lab", "launch_cohort")]
        spec = data.draw(st.sampled_from(specs))
        by = data.draw(st.sampled_from(sorted(lab.actors)))
        subject_arg = "sekretariat" if spec.name == "set_roles" else subject
        arguments = _arguments(spec.name, lab, subject)
        lab.clock = FixedClock(_latest(lab))
        moment = lab.clock.now
        verdict = lab.check(spec.name, subject_arg, by=by, **arguments)
        lab.clock.now = moment  # send reads the same moment check did
        try:
            lab.send(spec.name, subject_arg, by=by, **arguments)
        except lf.CommandError:
            accepted = False
        else:
            accepted = True
        assert verdict.ok == accepted, (spec.name, by, verdict.codes)

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(lab=labs(max_commands=40), data=st.data())
    def test_allowed_agrees_with_check(self, lab: lf.Lab, data: st.DataObject) -> None:
        """What allowed lists for an argument-free command is exactly what check says of it."""
        subject = data.draw(st.sampled_from([None, *sorted(lab.innovations)]))
        by = data.draw(st.sampled_from(sorted(lab.actors)))
        lab.clock = FixedClock(_latest(lab))
        moment = lab.clock.now
        listed = lab.allowed(by=by, subject=subject)
        for name, verdict in listed.items():
            spec = next(c for c in CATALOGUE if c.name == name)
            if spec.arguments:
                continue
            lab.clock.now = moment
            assert lab.check(name, subject, by=by).codes == verdict.codes

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(lab=labs(max_commands=40), data=st.data())
    def test_allowed_judges_commands_with_arguments_on_their_preconditions(
        self, lab: lf.Lab, data: st.DataObject
    ) -> None:
        """A command with arguments that allowed blocks is refused, for the first reason listed.

        Allowed cannot see the arguments, so it lists only what does not depend on them: the
        actor's permission and the command's declared preconditions. Whatever a host then
        passes, a blocked command is refused (check is not clean) and its first precondition
        is among check's reasons; a clean check is never listed as blocked.
        """
        subject = data.draw(st.sampled_from([None, *sorted(lab.innovations)]))
        by = data.draw(st.sampled_from(sorted(lab.actors)))
        lab.clock = FixedClock(_latest(lab))
        moment = lab.clock.now
        listed = lab.allowed(by=by, subject=subject)
        for name, standing in listed.items():
            spec = next(c for c in CATALOGUE if c.name == name)
            if not spec.arguments:
                continue
            lab.clock.now = moment
            verdict = lab.check(name, subject, by=by, **_arguments(name, lab, subject))
            assert standing.ok or not verdict.ok, (name, standing.codes)
            declared = {p.code for p in spec.preconditions}
            first = next((c for c in standing.codes if c in declared), None)
            assert first is None or first in verdict.codes, (name, standing.codes, verdict.codes)


class TestPreconditions:
    def test_a_launched_innovation_is_not_offered_its_launch(self) -> None:
        lab = make_lab()
        cohort(lab)
        bring_to(lab, "deliver")
        ident = next(iter(lab.innovations))
        standing = lab.allowed(by="sekretariat", subject=ident)["record_launch"]
        assert "launch.already" in standing.codes
        with pytest.raises(lf.CommandError):
            lab.record_launch(ident, ceremony="Lagi", by="sekretariat")

    def test_argument_commands_list_every_unmet_precondition(self) -> None:
        lab = make_lab()
        cohort(lab)
        ident = next(iter(lab.innovations))
        listed = lab.allowed(by="sekretariat", subject=ident)
        assert listed["register_exhibit"].codes == ("exhibit.wrong_stage",)
        assert set(listed["record_launch"].codes) == {"launch.wrong_stage"}
        assert listed["reinstate"].codes == ("innovation.not_withdrawn",)
        assert listed["return"].codes == ("return.not_earlier",)
        assert listed["withdraw"].ok
        assert listed["attach_evidence"].ok
        lab.withdraw(ident, reason="Ditunda", by="sekretariat")
        listed = lab.allowed(by="sekretariat", subject=ident)
        assert listed["reinstate"].ok
        assert set(listed["register_exhibit"].codes) == {
            "innovation.withdrawn",
            "exhibit.wrong_stage",
        }
        assert listed["withdraw"].codes == ("innovation.withdrawn",)

    def test_a_lab_not_at_its_launch_stage_offers_no_ceremony(self) -> None:
        lab = make_lab()
        cohort(lab)
        assert lab.allowed(by="bupati")["launch_cohort"].codes == ("launch.wrong_stage",)
        bring_to(lab, "deliver", launch=False)
        assert lab.allowed(by="bupati")["launch_cohort"].ok


class TestExpect:
    """advance_lab(expect=STAGE): the stage the caller saw; a double submission moves once."""

    def test_the_same_form_submitted_twice_moves_the_lab_once(self) -> None:
        lab = make_lab()
        cohort(lab)
        seen = lab.stage
        lab.advance_lab(by="sekretariat", expect=seen)
        moved = lab.stage
        assert moved != seen
        with refused(lab, lf.ConflictError) as info:
            lab.advance_lab(by="sekretariat", expect=seen)
        assert info.value.code == "conflict.stage"
        assert info.value.data["expected"] == seen
        assert info.value.data["found"] == moved
        assert lab.stage == moved

    def test_send_and_check_take_expect_too(self) -> None:
        lab = make_lab()
        cohort(lab)
        seen = lab.stage
        assert lab.check("advance_lab", by="sekretariat", expect=seen).ok
        lab.send("advance_lab", by="sekretariat", expect=seen)
        verdict = lab.check("advance_lab", by="sekretariat", expect=seen)
        assert "conflict.stage" in verdict.codes
        with pytest.raises(lf.ConflictError):
            lab.send("advance_lab", by="sekretariat", expect=seen)

    def test_an_expected_stage_the_policy_lacks_is_not_found(self) -> None:
        lab = make_lab()
        cohort(lab)
        with refused(lab, lf.NotFound):
            lab.advance_lab(by="sekretariat", expect="nowhere")
        with refused(lab, lf.InvalidCommand):
            lab.advance_lab(by="sekretariat", expect=3)  # type: ignore[arg-type]
