"""The validating fold: recorded policies load as recorded; version 1 histories still load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import labflow as lf
from helpers import FixedClock, bring_to, cohort, make_lab
from labflow import serde
from labflow.events import GENESIS, make_event

FIXTURES = Path(__file__).parent / "fixtures"


def _rebuilt(lab: lf.Lab, policy: dict[str, object]) -> list[lf.Event]:
    """The lab's history with ``policy`` recorded in its ``lab.created``, re-chained."""
    created = lab.history[0]
    first = make_event(
        created.subject,
        1,
        created.at,
        created.actor,
        created.kind,
        {**created.payload, "policy": policy},
        GENESIS,
    )
    return [first]


class TestRecordedPolicies:
    def test_a_policy_todays_rules_refuse_still_loads_as_recorded(self) -> None:
        """A rule added later (here: every policy must place agreement_signed) breaks no old lab."""
        lab = make_lab()
        recorded = lab.policy.to_dict()
        recorded["gates"] = {
            k: [g for g in v if g["name"] != "agreement_signed"]
            for k, v in recorded["gates"].items()
        }
        with pytest.raises(lf.PolicyError):
            lf.policy_from_dict(recorded)
        history = _rebuilt(lab, recorded)
        replayed = lf.replay_lab(history)
        assert replayed.policy.to_dict() == recorded

    def test_a_missing_custom_requirement_is_one_error_naming_it(self) -> None:
        """A host requirement the registry lacks: one PolicyError, its code, its name."""
        registry = lf.Registry(parent=lf.DEFAULT_REGISTRY)

        @registry.requirement("host.always")
        def always(ctx: lf.GateContext) -> list[lf.Unmet]:
            return []

        policy = lf.parse_policy(
            'id = "host"\nextends = "lan-5d"\n[gates]\ndiagnose = ["host.always"]\n',
            registry=registry,
        )
        lab = make_lab(policy)
        with pytest.raises(lf.PolicyError) as info:
            lf.replay_lab(lab.history)
        assert info.value.code == "policy.requirement_missing"
        assert "host.always" in str(info.value)
        assert len(info.value.problems) == 1
        assert lf.replay_lab(lab.history, registry=registry) == lab

    def test_a_host_requirement_is_trusted_as_recorded(self) -> None:
        """Replay never re-runs a host's rule: a rule that now refuses everything breaks nothing."""
        registry = lf.Registry(parent=lf.DEFAULT_REGISTRY)
        verdicts: list[bool] = [True]

        @registry.requirement("host.switch")
        def switch(ctx: lf.GateContext) -> list[lf.Unmet]:
            return [] if verdicts[0] else [lf.unmet("host.no", "No.", "Tidak.")]

        policy = lf.parse_policy(
            'id = "host"\nextends = "lan-5d"\n'
            '[gates]\ndiagnose = ["idea_registered", "host.switch"]\n',
            registry=registry,
        )
        lab = make_lab(policy, clock=FixedClock())
        cohort(lab)
        bring_to(lab, "diagnose")
        event = lab.innovation("ino-dinkes").history[-1]
        assert event.kind == "innovation.advanced"
        assert event.payload["gate"] == ["idea_registered", "host.switch"]
        verdicts[0] = False
        histories = [i.history for i in lab.innovations.values()]
        assert lf.replay_lab(lab.history, histories, registry=registry) == lab


class TestVersionOne:
    @pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.json")))
    def test_every_fixture_still_loads(self, name: str) -> None:
        """Documents written before payloads carried a version load, their events checked."""
        text = (FIXTURES / name).read_text()
        document = json.loads(text)
        loaded = serde.loads(text)
        assert loaded is not None
        if document.get("kind") == "lab":
            assert all("v" not in e["payload"] for e in document["data"]["history"])

    def test_new_events_carry_the_schema_version(self) -> None:
        lab = make_lab()
        cohort(lab)
        assert all(e.payload["v"] == 2 for e in lab.history)
        inn = lab.innovation("ino-dinkes")
        assert inn.history[0].payload["lab_v"] == lab.version

    def test_a_payload_of_an_unknown_version_is_refused(self) -> None:
        lab = make_lab()
        last = lab.history[-1]
        odd = make_event(
            lab.id,
            2,
            last.at,
            "sekretariat",
            "lab.unit_added",
            {"unit": {"id": "baru", "name": "Baru", "kind": "agency"}, "v": 99},
            last.hash,
        )
        with pytest.raises(lf.HistoryError) as info:
            lf.replay_lab([*lab.history, odd])
        assert (info.value.code, info.value.seq) == ("history.version", 2)
