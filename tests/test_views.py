"""`labflow.views`: JSON-ready read models that match their schemas and change nothing."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

import labflow as lf
from helpers import bring_to, cohort, make_lab
from labflow import views


def _lab_at(stage: str) -> tuple[lf.Lab, list[str]]:
    lab = make_lab("lan-5d")
    ids = cohort(lab)
    bring_to(lab, stage)
    return lab, ids


def _valid(view: Any) -> dict[str, Any]:
    data = views.to_json(view)
    jsonschema.validate(data, views.json_schema(type(view)))
    assert json.loads(json.dumps(data)) == data  # plain JSON values only
    return data


class TestInnovationView:
    @pytest.mark.parametrize("stage", ["drum_up", "design", "deliver", "display"])
    def test_matches_its_schema_at_every_stage(self, stage: str) -> None:
        """At each stage the view validates against its JSON Schema and is plain JSON."""
        lab, ids = _lab_at(stage)
        for ident in ids:
            data = _valid(views.innovation(lab, ident))
            assert data["stage"]["id"] == lab.innovation(ident).stage
            assert data["version"] == len(data["history"]) == len(lab.innovation(ident).history)

    def test_labels_and_unmet_in_both_languages(self) -> None:
        """The stage carries both labels and each unmet item both sentences with its code."""
        lab, ids = _lab_at("drum_up")
        view = views.innovation(lab, ids[0])
        assert view.stage.label_en == "Drum-up"
        assert view.stage.label_id == "Membangun semangat (drum-up)"
        assert view.next.unmet[0].code == "lab.behind"
        assert view.next.unmet[0].en != view.next.unmet[0].id

    def test_views_change_nothing(self) -> None:
        """Building every view leaves the lab, its histories and versions as they were."""
        lab, ids = _lab_at("design")
        before = (lab.version, [len(lab.innovation(i).history) for i in ids])
        views.lab(lab)
        for ident in ids:
            views.innovation(lab, ident)
        assert (lab.version, [len(lab.innovation(i).history) for i in ids]) == before

    def test_unknown_innovation_is_not_found(self) -> None:
        """An unknown id is labflow's NotFound."""
        lab, _ = _lab_at("drum_up")
        with pytest.raises(lf.NotFound):
            views.innovation(lab, "nope")

    def test_without_history(self) -> None:
        """history=False leaves the events out but keeps the version."""
        lab, ids = _lab_at("design")
        view = views.innovation(lab, ids[0], history=False)
        assert view.history == ()
        assert view.version == len(lab.innovation(ids[0]).history)


class TestLabView:
    def test_lists_stages_in_order_and_every_innovation(self) -> None:
        """The lab view lists the policy's stages in order and every innovation once."""
        lab, ids = _lab_at("deliver")
        data = _valid(views.lab(lab))
        assert [s["id"] for s in data["stages"]] == list(lab.policy.stage_ids)
        assert sorted(i["id"] for i in data["innovations"]) == sorted(ids)
        assert data["stage"]["id"] == lab.stage


class TestErrorView:
    def test_gate_refusal_lists_every_unmet_item(self) -> None:
        """A GateRefused view carries the code, both sentences and every unmet item."""
        lab, ids = _lab_at("diagnose")
        lab.advance_lab(by="sekretariat")
        with pytest.raises(lf.GateRefused) as refused:
            lab.advance(ids[0], by="sekretariat")
        data = _valid(views.error(refused.value))
        assert data["code"] == "gate.refused"
        assert [u["code"] for u in data["unmet"]] == list(refused.value.verdict.codes)
        assert data["en"]
        assert data["id"]
        assert data["en"] != data["id"]

    @pytest.mark.parametrize(
        "exc",
        [
            lf.NotFound("innovation", "x"),
            lf.ConflictError("x", 3, 4),
            lf.PermissionDenied("a", "advance", "it needs a role"),
            lf.StoreError("The store is gone."),
            lf.HistoryError("x", 2, "the hash does not match"),
        ],
    )
    def test_every_error_kind_has_a_view(self, exc: lf.LabflowError) -> None:
        """Every error class gives a valid view with its own code and class name."""
        data = _valid(views.error(exc))
        assert data["code"] == exc.code
        assert data["kind"] == type(exc).__name__


class TestBadInput:
    @pytest.mark.parametrize(
        "call",
        [
            lambda: views.to_json({"a": 1}),
            lambda: views.json_schema(dict),
            lambda: views.error(ValueError("x")),  # type: ignore[arg-type]
            lambda: views.verdict("ok"),  # type: ignore[arg-type]
        ],
    )
    def test_refused_with_labflow_error(self, call: Any) -> None:
        """A value that is not a view, verdict or labflow error is InvalidCommand."""
        with pytest.raises(lf.InvalidCommand):
            call()


class TestCommands:
    def test_commands_for_an_actor_agree_with_allowed(self) -> None:
        """With by=, the view lists what Lab.allowed permits that actor, with the same verdicts."""
        lab, ids = _lab_at("design")
        view = views.innovation(lab, ids[0], by="sekretariat")
        data = _valid(view)
        allowed = lab.allowed(by="sekretariat", subject=ids[0])
        names = [c["name"] for c in data["commands"]]
        assert "advance" in names
        for command in view.commands:
            assert command.ok == allowed[command.name].ok
            assert [u.code for u in command.unmet] == list(allowed[command.name].codes)

    def test_without_an_actor_there_are_no_commands(self) -> None:
        """Without by=, the view lists no commands (it answers for nobody)."""
        lab, ids = _lab_at("design")
        assert views.innovation(lab, ids[0]).commands == ()
