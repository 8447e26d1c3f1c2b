"""structlog emission: a record per accepted event and per refusal, stable names and keys."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from datetime import date
from typing import Any, ClassVar

import pytest
import structlog
from structlog.testing import capture_logs

import labflow as lf
from helpers import bring_to, cohort, make_lab, plan_steps
from labflow.audit import EVENT_NAMES

#: The keys every record carries, and those each kind of record adds (see labflow.audit).
COMMON = {"event", "log_level", "lab", "region", "policy", "actor"}
APPLIED = COMMON | {"subject", "seq", "hash"}
ON_INNOVATION = APPLIED | {"innovation", "unit", "stage"}
MOVES = {"from_stage", "to_stage"}
GATE_REFUSED = COMMON | {"command", "subject", "target", "reasons"}
COMMAND_REFUSED = COMMON | {"command", "subject", "error", "reason"}

Log = MutableMapping[str, Any]


def lifecycle() -> tuple[lf.Lab, list[Log]]:
    """Run every kind of accepted command once or more, capturing what is emitted."""
    with capture_logs() as logs:
        lab = make_lab("lan-5d1")
        lab.set_roles("fasilitator", ["facilitator", "secretariat"], by="sekretariat")
        cohort(lab)
        bring_to(lab, "documentation")  # diagnoses, plans, agreements, launches, exhibits ...
        lab.add_unit(lf.Unit("desa", "Desa Sruweng", "village"), by="sekretariat")
        lab.add_actor(lf.Actor("kades", "Kepala Desa", {"unit_head"}, "desa"), by="sekretariat")
        lab.register("ino-desa", title="t", unit="desa", innovators=["w"], problem="p", by="kades")
        lab.replicate(
            "replika",
            origin="ino-dinkes",
            unit="bag-tapem",
            adaptation="Disesuaikan dengan layanan administrasi",
            by="staf-tapem",
        )
        lab.open_exhibition(
            "pameran",
            name="Pameran",
            venue="Pendopo",
            starts=date(2016, 12, 21),
            ends=date(2016, 12, 21),
            by="sekretariat",
        )
        pt = lf.Exhibitor("pt-swasta", "PT Swasta", "private")
        lab.register_exhibitor("pameran", exhibitor=pt, by="sekretariat")
        lab.add_booth("pameran", booth="A", holder="pt-swasta", showcases=["CSR"], by="sekretariat")
        lab.close_exhibition("pameran", by="sekretariat")
        lab.record_monev("ino-dinkes", period="Q1", indicators={"n": 1}, findings="", by="kadinkes")
        lab.return_to("ino-dinkes", "display", reason="Dokumentasi kurang", by="fasilitator")
        lab.withdraw("ino-desa", reason="Kades diganti", by="sekretariat")
        lab.reinstate("ino-desa", reason="Kades baru setuju", by="sekretariat")
        lab.review_agreement("ino-dinkes", finding="Ubah target", outcome="amend", by="fasilitator")
        lab.amend_agreement("ino-dinkes", terms="Target baru", by="sekretariat")
        lab.set_attributes("ino-desa", attributes={"jenis": "digital"}, by="sekretariat")
    return lab, logs


@pytest.fixture(scope="module")
def run() -> tuple[lf.Lab, list[Log]]:
    return lifecycle()


def test_every_event_name_is_declared(run: tuple[lf.Lab, list[Log]]) -> None:
    _, logs = run
    assert {log["event"] for log in logs} <= set(EVENT_NAMES)
    assert list(EVENT_NAMES) == sorted(EVENT_NAMES)


def test_the_lifecycle_emits_every_applied_name(run: tuple[lf.Lab, list[Log]]) -> None:
    """So that the checks below cover every name labflow declares."""
    _, logs = run
    applied = set(EVENT_NAMES) - {"labflow.gate.refused", "labflow.command.refused"}
    assert applied <= {log["event"] for log in logs}


def test_every_accepted_event_is_emitted_once(run: tuple[lf.Lab, list[Log]]) -> None:
    lab, logs = run
    histories = [lab.history, *(i.history for i in lab.innovations.values())]
    events = [e for history in histories for e in history]
    emitted = [log for log in logs if log["log_level"] == "info"]
    assert len(emitted) == len(events)
    by_hash = {log["hash"]: log for log in emitted}
    for event in events:
        log = by_hash[event.hash]
        assert log["event"] == "labflow." + event.kind
        assert (log["subject"], log["seq"], log["actor"]) == (event.subject, event.seq, event.actor)
        assert (log["lab"], log["region"], log["policy"]) == ("kebumen", lab.region, "lan-5d1")


def test_applied_records_carry_the_documented_keys(run: tuple[lf.Lab, list[Log]]) -> None:
    _, logs = run
    for log in logs:
        name = log["event"]
        if name.startswith("labflow.lab."):
            expected = APPLIED | (MOVES if name == "labflow.lab.advanced" else set())
        elif name.startswith("labflow.innovation."):
            expected = set(ON_INNOVATION)
            if name in ("labflow.innovation.advanced", "labflow.innovation.returned"):
                expected |= MOVES
            if name in (
                "labflow.innovation.returned",
                "labflow.innovation.withdrawn",
                "labflow.innovation.reinstated",
            ):
                expected |= {"reason"}
        else:
            continue
        assert set(log) == expected, name


def test_move_records_say_where_from_and_to(run: tuple[lf.Lab, list[Log]]) -> None:
    _, logs = run
    (returned,) = [log for log in logs if log["event"] == "labflow.innovation.returned"]
    assert (returned["from_stage"], returned["to_stage"]) == ("documentation", "display")
    assert returned["stage"] == "display"  # the stage after the event
    assert returned["reason"] == "Dokumentasi kurang"
    assert returned["innovation"] == returned["subject"] == "ino-dinkes"
    assert returned["unit"] == "dinkes"
    lab_moves = [log for log in logs if log["event"] == "labflow.lab.advanced"]
    assert [(m["from_stage"], m["to_stage"]) for m in lab_moves] == [
        ("drum_up", "diagnose"),
        ("diagnose", "design"),
        ("design", "deliver"),
        ("deliver", "display"),
        ("display", "documentation"),
    ]


@pytest.fixture
def lab() -> lf.Lab:
    lab = make_lab()
    cohort(lab)
    return lab


def test_gate_refusal_is_emitted_with_reasons(lab: lf.Lab) -> None:
    with capture_logs() as logs, pytest.raises(lf.GateRefused):
        lab.advance("ino-dinkes", by="fasilitator")
    (log,) = logs
    assert set(log) == GATE_REFUSED
    assert log["event"] == "labflow.gate.refused"
    assert log["log_level"] == "warning"
    assert (log["command"], log["subject"], log["target"], log["actor"]) == (
        "advance",
        "ino-dinkes",
        "diagnose",
        "fasilitator",
    )
    assert log["reasons"] == ["lab.behind"]


def test_lab_gate_refusal_is_emitted() -> None:
    lab = make_lab()
    lab.advance_lab(by="sekretariat")
    with capture_logs() as logs, pytest.raises(lf.GateRefused):
        lab.advance_lab(by="sekretariat")
    (log,) = logs
    assert (log["event"], log["command"], log["subject"], log["target"]) == (
        "labflow.gate.refused",
        "advance_lab",
        "kebumen",
        "design",
    )
    assert log["reasons"] == ["cohort.unit_short"]


def test_launch_refusal_is_a_gate_refusal(lab: lf.Lab) -> None:
    bring_to(lab, "deliver", launch=False)
    lab.submit_plan("ino-dinkes", steps=plan_steps(), by="staf-dinkes")
    with capture_logs() as logs, pytest.raises(lf.GateRefused):
        lab.record_launch("ino-dinkes", ceremony="Peluncuran", by="bupati")
    (log,) = logs
    assert (log["event"], log["command"], log["reasons"]) == (
        "labflow.gate.refused",
        "record_launch",
        ["action_plan.not_approved"],
    )


@pytest.mark.parametrize(
    ("call", "command", "subject", "error"),
    [
        (lambda lab: lab.withdraw("ino-dinkes", reason="", by="sekretariat"), "withdraw",
         "ino-dinkes", "InvalidCommand"),
        (lambda lab: lab.approve_plan("ino-dinkes", by="kabag-tapem"), "approve_plan",
         "ino-dinkes", "PermissionDenied"),
        (lambda lab: lab.advance("hantu", by="sekretariat"), "advance", "hantu", "NotFound"),
        (lambda lab: lab.advance_lab(by="staf-dinkes"), "advance_lab", None, "PermissionDenied"),
        (lambda lab: lab.return_to("ino-dinkes", "design", reason="x", by="sekretariat"),
         "return", "ino-dinkes", "InvalidCommand"),
    ],
)  # fmt: skip
def test_command_refusal_is_emitted(
    lab: lf.Lab, call: Any, command: str, subject: str | None, error: str
) -> None:
    with capture_logs() as logs, pytest.raises(lf.CommandError) as info:
        call(lab)
    (log,) = logs
    assert set(log) == COMMAND_REFUSED
    assert log["event"] == "labflow.command.refused"
    assert log["log_level"] == "warning"
    assert (log["command"], log["subject"], log["error"]) == (command, subject, error)
    assert log["reason"] == str(info.value)
    assert log["lab"] == "kebumen"


def test_check_emits_nothing(lab: lf.Lab) -> None:
    with capture_logs() as logs:
        lab.check("ino-dinkes")
        lab.check_launch("ino-dinkes")
        lab.check_lab()
    assert logs == []


def test_each_accepted_command_emits_exactly_one_record(lab: lf.Lab) -> None:
    with capture_logs() as logs:
        lab.attach_evidence("ino-dinkes", title="SK", reference="sk", by="staf-dinkes")
    (log,) = logs
    assert log["event"] == "labflow.innovation.evidence_attached"
    assert log["hash"] == lab.innovation("ino-dinkes").history[-1].hash


class _AskedLogger(structlog.BoundLogger):
    """A host's logger that lets warnings through and says so when asked; records its calls."""

    calls: ClassVar[list[str]] = []

    def is_enabled_for(self, level: int) -> bool:
        return level >= logging.WARNING

    def info(self, event: str | None = None, *args: Any, **kw: Any) -> Any:
        _AskedLogger.calls.append(f"info {event}")

    def warning(self, event: str | None = None, *args: Any, **kw: Any) -> Any:
        _AskedLogger.calls.append(f"warning {event}")


def test_a_level_the_host_filters_out_is_never_built(lab: lf.Lab) -> None:
    """labflow asks the logger first: a filtered level costs no record and no call."""
    _AskedLogger.calls = []
    structlog.configure(wrapper_class=_AskedLogger, processors=[])
    try:
        lab.attach_evidence("ino-dinkes", title="SK", reference="sk", by="staf-dinkes")
        with pytest.raises(lf.GateRefused):
            lab.advance("ino-dinkes", by="fasilitator")
        with pytest.raises(lf.NotFound):
            lab.advance("hantu", by="sekretariat")
    finally:
        structlog.reset_defaults()
    assert _AskedLogger.calls == ["warning labflow.gate.refused", "warning labflow.command.refused"]


def test_a_logger_that_cannot_be_asked_gets_every_record(lab: lf.Lab) -> None:
    """A bound logger without ``is_enabled_for`` is given every record, as before."""
    seen: list[str] = []

    def record(_: Any, method: str, event_dict: Any) -> Any:
        seen.append(f"{method} {event_dict['event']}")
        raise structlog.DropEvent

    structlog.configure(wrapper_class=structlog.BoundLogger, processors=[record])
    try:
        lab.attach_evidence("ino-dinkes", title="SK", reference="sk", by="staf-dinkes")
        with pytest.raises(lf.GateRefused):
            lab.advance("ino-dinkes", by="fasilitator")
    finally:
        structlog.reset_defaults()
    assert seen == ["info labflow.innovation.evidence_attached", "warning labflow.gate.refused"]
