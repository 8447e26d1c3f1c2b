"""labflow's performance promises, measured in one run as paired ratios.

    python benchmarks/run.py [--quick] [--json PATH] [--markdown PATH] [--only SECTIONS]
                             [--registry SIZE] [--clock cpu|wall]
    python benchmarks/run.py --profile CASE        # where the time of one case goes

The machines labflow is developed on are shared and noisy: a contender timed a few
seconds after another can see twice the load. So every comparison here runs in ONE
process, in small slices that interleave the contenders, the order rotated every round,
each round on a fresh workload; a round's ratio is a case's time over its baseline's time
in that same round, and a row reports the median of those ratios and their interquartile
range, next to the absolute medians. Before anything is timed, every case is run once and
made to show that it did its work (requirements evaluated, hash correct, structlog reached,
state changed) -- a fast case that skipped its work would prove nothing.

The baselines, run beside labflow:

- **bare transitions**: one shared ``Machine(model=None)`` with one guard and one
  after-callback, driven by ``machine.events["advance"].trigger(model)`` -- the fastest
  honest way to use it;
- **a dict state machine**: a guard, a table lookup and a callback, by hand;
- **the floor**: the same work labflow does for an advance, written by hand below (see
  "The floor") -- four requirements as one closure, canonical JSON with a prebuilt
  encoder, SHA-256, a record, a role check, the lab-stage rule, a filtered structlog call.

Sections (``--only``): engine, memory, serde, store, imports, postgres, registry. ``--quick``
runs every section on small workloads in well under a minute and asserts nothing about
time; rows whose workload it shrinks are reported with ``met: null``. The national registry
at full size (250,000 innovations, 5 million events) runs with ``--registry full``; the
file takes minutes to build and is kept for the next run (see ``_registry.py``). The
PostgreSQL rows run when ``LABFLOW_TEST_POSTGRES_URL`` names a server and
``labflow.store.postgres`` exists; otherwise they are reported as skipped, with why.

``--json PATH`` writes ``{"machine", "python", "versions", "date", "command", "results":
[{"name", "value", "unit", "baseline", "baseline_value", "ratio", "iqr", "target", "met",
"note"}]}``. ``ratio`` is always the case's *time* over its baseline's time (below 1 is
faster); ``target`` reads ``"ratio <= 1.0"`` or ``"value <= 50"``, and ``met`` says whether
the median meets it (``null`` when there is no target or the workload was shrunk).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from _cast import Clock, cast, fill_gate, open_lab
from _floor import (
    FloorInnovation,
    FloorLab,
    FloorRefused,
    FloorStore,
    floor_advance,
    floor_check,
    floor_encode,
    floor_record,
)
from _harness import (
    Case,
    Result,
    Run,
    captured,
    checking_logging,
    clock_name,
    expect,
    filtered_logging,
    interleave,
    judged,
    markdown,
    now,
    paired,
    quartiles,
    show,
    use_clock,
)
from transitions import Machine

import labflow
from labflow import Diagnosis, GateRefused, Innovation, Lab, PlanStep, Unit, serde
from labflow.cohort import read_innovations, read_units
from labflow.store import Append

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("engine", "memory", "serde", "store", "imports", "postgres", "registry")

# --- the engine: labflow, bare transitions, a dict machine and the floor -------------------------

STAGES = ["drum_up", "diagnose", "design", "deliver", "display"]
ENGINE_UNITS = [Unit(f"unit-{k}", f"Unit {k}", "agency") for k in range(10)]


def engine_lab(n: int, *, ready: bool) -> tuple[Lab, list[str]]:
    """A lan-5d lab at *deliver* with ``n`` innovations at *design*, ready or not to move on.

    One anchor innovation per unit is fully prepared so that the cohort condition lets the
    lab reach *deliver*; the ``n`` workload innovations then move (or are refused) on their
    own, through all four requirements of the gate and the lab-stage rule.
    """
    lab = open_lab("bench", ENGINE_UNITS, Clock())
    for k, unit in enumerate(ENGINE_UNITS):
        lab.register(
            f"anchor-{k}",
            title="A",
            unit=unit.id,
            innovators=["Tim"],
            problem="P",
            by=f"staf-{unit.id}",
        )
    ids = [f"ino-{k}" for k in range(n)]
    for k, ident in enumerate(ids):
        unit = ENGINE_UNITS[k % len(ENGINE_UNITS)].id
        lab.register(
            ident, title="T", unit=unit, innovators=["Tim"], problem="P", by=f"staf-{unit}"
        )
    everyone = list(lab.innovations.values())
    for target in ("diagnose", "design"):
        for inn in everyone:
            fill_gate(lab, inn, target)
        lab.advance_lab(by="sekretariat")
        for inn in everyone:
            lab.advance(inn.id, by="sekretariat")
    for inn in everyone:
        if ready or inn.id.startswith("anchor-"):
            fill_gate(lab, inn, "deliver")
    lab.advance_lab(by="sekretariat")
    return lab, ids


def labflow_advance(n: int) -> Run:
    lab, ids = engine_lab(n, ready=True)
    advance = lab.advance

    def run() -> None:
        for ident in ids:
            advance(ident, by="sekretariat")

    return run


def labflow_refused(n: int) -> Run:
    lab, ids = engine_lab(n, ready=False)
    advance = lab.advance

    def run() -> None:
        for ident in ids:
            try:  # noqa: SIM105 - contextlib.suppress would add its own cost to each move
                advance(ident, by="sekretariat")
            except GateRefused:
                pass

    return run


def labflow_check(n: int) -> Run:
    lab, ids = engine_lab(n, ready=True)
    check = lab.check

    def run() -> None:
        for ident in ids:
            check(ident)

    return run


class Model:
    """What a host hands to transitions: a state and what its guard reads."""

    __slots__ = ("ready", "state")

    def __init__(self, ready: bool) -> None:
        self.state = "design"
        self.ready = ready


MOVED: list[Model] = []


def _guard(event: Any) -> bool:
    return bool(event.model.ready)


def _after(event: Any) -> None:
    MOVED.append(event.model)


MACHINE = Machine(
    model=None,
    states=STAGES,
    transitions=[
        {"trigger": "advance", "source": a, "dest": b, "conditions": _guard, "after": _after}
        for a, b in pairwise(STAGES)
    ],
    initial="design",
    auto_transitions=False,
    send_event=True,
)


def transitions_trigger(ready: bool) -> Callable[[int], Run]:
    def setup(n: int) -> Run:
        models = [Model(ready) for _ in range(n)]
        trigger = MACHINE.events["advance"].trigger
        MOVED.clear()

        def run() -> None:
            for model in models:
                trigger(model)

        return run

    return setup


DICT_NEXT = dict(pairwise(STAGES))


def dict_machine(n: int) -> Run:
    models = [{"state": "design", "ready": True} for _ in range(n)]
    moved: list[dict[str, object]] = []

    def guard(model: dict[str, object]) -> bool:
        return bool(model["ready"])

    def run() -> None:
        for model in models:
            if guard(model):
                model["state"] = DICT_NEXT[str(model["state"])]
                moved.append(model)

    return run


# --- the floor's workloads (the floor itself is in _floor.py) ------------------------------------


def floor_workload(n: int, *, ready: bool) -> tuple[FloorLab, list[FloorInnovation]]:
    clock = Clock()
    lab = FloorLab(clock)
    inns = []
    for k in range(n):
        inn = FloorInnovation(f"ino-{k}", ENGINE_UNITS[k % len(ENGINE_UNITS)].id, ready=ready)
        floor_record(inn, clock(), f"staf-{inn.unit}", "innovation.registered", {"title": "T"})
        inns.append(inn)
    return lab, inns


def floor_advancing(n: int) -> Run:
    lab, inns = floor_workload(n, ready=True)

    def run() -> None:
        for inn in inns:
            floor_advance(lab, inn, "sekretariat")

    return run


def floor_refusing(n: int) -> Run:
    lab, inns = floor_workload(n, ready=False)

    def run() -> None:
        for inn in inns:
            try:  # noqa: SIM105 - as labflow's refusal is timed
                floor_advance(lab, inn, "sekretariat")
            except FloorRefused:
                pass

    return run


def floor_checking(n: int) -> Run:
    lab, inns = floor_workload(n, ready=True)

    def run() -> None:
        for inn in inns:
            floor_check(lab, inn)

    return run


ENGINE_CASES = [
    Case("labflow advance", labflow_advance),
    Case("labflow refused advance", labflow_refused),
    Case("labflow check", labflow_check),
    Case("floor advance", floor_advancing),
    Case("floor refused advance", floor_refusing),
    Case("floor check", floor_checking),
    Case("transitions trigger", transitions_trigger(True)),
    Case("transitions refused trigger", transitions_trigger(False)),
    Case("dict machine", dict_machine),
]


def events_of(logs: list[dict[str, Any]]) -> list[str]:
    return [entry["event"] for entry in logs]


def check_engine() -> None:
    """Each engine case does its work: gates evaluated, hashes right, structlog reached."""
    lab, ids = engine_lab(2, ready=True)
    with captured() as logs:
        lab.advance(ids[0], by="sekretariat")
    inn = lab.innovation(ids[0])
    expect(inn.stage == "deliver", "labflow's advance moved the innovation")
    expect(events_of(logs) == ["labflow.innovation.advanced"], f"labflow logged it: {logs}")
    expect(labflow.verify(inn.history).ok, "labflow's chain verifies")
    with captured() as logs:
        verdict = lab.check(ids[1])
    expect(verdict.ok, "check finds a ready innovation ready")
    expect(not logs and lab.innovation(ids[1]).stage == "design", "check changes nothing")

    refused_lab, refused_ids = engine_lab(1, ready=False)
    codes: set[str] = set()
    with captured() as logs:
        try:
            refused_lab.advance(refused_ids[0], by="sekretariat")
        except GateRefused as exc:
            codes = set(exc.verdict.codes)
    every = {"action_plan.missing", "action_plan.not_approved", "agreement.missing"}
    expect(codes == every, f"labflow's refusal lists every reason: {codes}")
    expect(events_of(logs) == ["labflow.gate.refused"], f"labflow logged the refusal: {logs}")

    floor_lab, (ready,) = floor_workload(1, ready=True)
    with captured() as logs:
        event = floor_advance(floor_lab, ready, "sekretariat")
    expect(ready.stage == "deliver", "the floor's advance moved the innovation")
    expect(events_of(logs) == ["floor.innovation.advanced"], "the floor logged it")
    # The floor's bytes are labflow's canonical encoding: labflow verifies the floor's chain.
    chain = [
        labflow.Event(e.subject, e.seq, e.at, e.actor, e.kind, e.payload, e.prev, e.hash)
        for e in ready.history
    ]
    expect(labflow.verify(chain).ok, "labflow verifies the floor's chain")
    expect(chain[-1].hash == event.hash, "the floor's last hash is its record's")
    # ... and labflow's own event hashes to what the floor computes for it.
    last = inn.history[-1]
    fields = [last.subject, last.seq, last.at.isoformat(), last.actor, last.kind]
    body = floor_encode([*fields, dict(last.payload), last.prev]).encode()
    expect(hashlib.sha256(body).hexdigest() == last.hash, "labflow hashes as the floor does")
    floor_lab, (unready,) = floor_workload(1, ready=False)
    found: set[str] = set()
    with captured() as logs:
        try:
            floor_advance(floor_lab, unready, "sekretariat")
        except FloorRefused as exc:
            found = {u[0] for u in exc.unmet}
    expect(found == codes, f"the floor refuses for labflow's reasons: {found}")
    expect(events_of(logs) == ["floor.gate.refused"], "the floor logged the refusal")

    MOVED.clear()
    yes, no = Model(True), Model(False)
    trigger = MACHINE.events["advance"].trigger
    expect(trigger(yes) and yes.state == "deliver", "transitions moved a ready model")
    expect([yes] == MOVED, "transitions ran the after-callback")
    expect(not trigger(no) and no.state == "design", "transitions refused an unready model")


def engine(rounds: int, n: int) -> list[Result]:
    samples = interleave(ENGINE_CASES, rounds, n)
    return [
        paired(
            samples,
            "labflow advance",
            "transitions trigger",
            name="advance into deliver vs bare transitions",
            target="ratio <= 1.0",
        ),
        paired(
            samples,
            "labflow advance",
            "floor advance",
            name="advance into deliver vs the floor",
            target="ratio <= 1.15",
        ),
        paired(
            samples,
            "floor advance",
            "transitions trigger",
            name="the floor's advance vs bare transitions",
        ),
        paired(
            samples,
            "dict machine",
            "transitions trigger",
            name="dict state machine vs bare transitions",
        ),
        paired(
            samples,
            "labflow refused advance",
            "transitions refused trigger",
            name="refused advance, every reason listed, vs transitions' refused trigger",
            target="ratio <= 1.5",
        ),
        paired(
            samples,
            "floor refused advance",
            "transitions refused trigger",
            name="the floor's refusal vs transitions' refused trigger",
        ),
        paired(
            samples,
            "labflow check",
            "transitions trigger",
            name="check (no event) vs bare transitions",
            target="ratio <= 0.5",
        ),
        paired(
            samples,
            "floor check",
            "transitions trigger",
            name="the floor's check vs bare transitions",
        ),
    ]


# --- memory --------------------------------------------------------------------------------------


def containers(value: object) -> int:
    """Bytes of the dicts, lists and tuples in ``value`` (not of the texts and numbers)."""
    if isinstance(value, dict):
        return sys.getsizeof(value) + sum(containers(v) for v in value.values())
    if isinstance(value, list | tuple):
        return sys.getsizeof(value) + sum(containers(v) for v in value)
    return 0


def retained(action: Callable[[int], object], n: int) -> float:
    """Bytes kept per call of ``action(k)``, k in range(n), as tracemalloc counts them.

    Called while tracemalloc traces, from before the objects the calls replace were made:
    a record an advance replaces was allocated when its innovation was registered, and
    only a trace that saw it made sees it freed (a trace started afterwards counted the
    new record and never the old one's release).
    """
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    for k in range(n):
        action(k)
    gc.collect()
    return (tracemalloc.get_traced_memory()[0] - before) / n


def memory(n: int, repeats: int) -> list[Result]:
    """An innovation at rest and an event's fixed cost, beyond their own data.

    Every text is made before measuring and shared, so what is counted is what labflow
    adds. An event: an advance (a payload of two stage names), so its record, hash, time,
    payload mapping and history slot -- nothing else changes. An innovation: what
    registering one keeps, less its registration event (an event's fixed cost, with its own
    payload's containers in place of the advance's): its record, its containers, its place
    in the lab.
    """
    at_rest, per_event = [], []
    for _ in range(repeats):
        lab, _ = engine_lab(0, ready=False)
        ids = [f"mem-{k:06}" for k in range(n)]
        units = [ENGINE_UNITS[k % len(ENGINE_UNITS)].id for k in range(n)]
        staff = [f"staf-{u}" for u in units]
        innovators = ["Tim"]

        def register(
            k: int,
            lab: Lab = lab,
            ids: list[str] = ids,
            units: list[str] = units,
            staff: list[str] = staff,
            innovators: list[str] = innovators,
        ) -> None:
            lab.register(
                ids[k], title="T", unit=units[k], innovators=innovators, problem="P", by=staff[k]
            )

        def advance(k: int, lab: Lab = lab, ids: list[str] = ids) -> None:
            lab.advance(ids[k], by="sekretariat")

        tracemalloc.start()
        try:
            registering = retained(register, n)
            advancing = retained(advance, n)
        finally:
            tracemalloc.stop()
        inn = lab.innovation(ids[0])
        expect(inn.stage == "diagnose" and len(inn.history) == 2, "each innovation moved once")
        first, second = inn.history
        registration = advancing - containers(second.payload) + containers(first.payload)
        at_rest.append(registering - registration)
        per_event.append(advancing)
    at_rest_row = Result(
        "innovation at rest, beyond its data",
        statistics.median(at_rest),
        "B",
        target="value <= 512",
        note=f"{n:,} innovations",
    )
    event_row = Result(
        "fixed cost per event, beyond its data",
        statistics.median(per_event),
        "B",
        target="value <= 400",
        note=f"{n:,} advances",
    )
    return [judged(at_rest_row), judged(event_row)]


# --- serde ---------------------------------------------------------------------------------------


def serde_records(count: int) -> list[Innovation]:
    """Innovations with five events each (registered, diagnosis, plan, approval, permission)."""
    lab, _ = engine_lab(0, ready=False)
    steps = [PlanStep("Susun SOP", "Kasubag", date(2016, 6, 1))]
    ids = []
    for i in range(count):
        unit = ENGINE_UNITS[i % len(ENGINE_UNITS)].id
        ident, staff, head = f"inovasi-{i}", f"staf-{unit}", f"kepala-{unit}"
        lab.register(
            ident,
            title=f"Inovasi {i}",
            unit=unit,
            innovators=["Tim A", "Tim B"],
            problem="Antrean layanan panjang",
            by=staff,
        )
        lab.record_diagnosis(ident, Diagnosis("Antrean", ["SOP lama", "Manual"]), by=staff)
        lab.submit_plan(ident, steps=steps, by=staff, budget=5_000_000)
        lab.approve_plan(ident, by=head)
        lab.grant_permission(ident, reference=f"800/{i}/2016", by=head)
        ids.append(ident)
    return [lab.innovation(i) for i in ids]


def serde_section(rounds: int, n: int, pool: int) -> list[Result]:
    try:
        from cattrs.preconf.orjson import make_converter
    except ImportError:
        skipped = "skipped: plain cattrs + orjson needs orjson (uv sync --group bench)"
        return [
            Result("dump vs plain cattrs + orjson", None, "µs", note=skipped),
            Result("load vs plain cattrs + orjson", None, "µs", note=skipped),
        ]
    plain = make_converter()
    records = serde_records(max(pool, n))
    ours = [serde.dumps(r) for r in records]
    theirs = [plain.dumps(r) for r in records]
    pairs = list(zip(records[:20], ours, theirs, strict=False))
    expect(all(serde.loads(d) == r for r, d, _ in pairs), "labflow round-trips the records")
    expect(all(plain.loads(d, Innovation) == r for r, _, d in pairs), "so does plain cattrs")
    offset = [0]

    def window(n: int) -> slice:
        start = offset[0] % (len(records) - n + 1)
        offset[0] += n
        return slice(start, start + n)

    def case(name: str, fn: Callable[[Any], Any], items: list[Any]) -> Case:
        def setup(n: int) -> Run:
            chosen = items[window(n)]
            return lambda: [fn(x) for x in chosen]

        return Case(name, setup)

    samples = interleave(
        [
            case("labflow dump", serde.dumps, records),
            case("cattrs+orjson dump", plain.dumps, records),
            case("labflow load", serde.loads, ours),
            case("cattrs+orjson load", lambda d: plain.loads(d, Innovation), theirs),
        ],
        rounds,
        n,
    )
    note = f"5 events each; labflow's JSON backend: {serde.JSON_BACKEND}; ratio is time"
    return [
        paired(
            samples,
            "labflow dump",
            "cattrs+orjson dump",
            name="dump vs plain cattrs + orjson",
            target="ratio <= 1.0",
            note=note + " (<= 1.0 is >= 1.0x throughput)",
        ),
        paired(
            samples,
            "labflow load",
            "cattrs+orjson load",
            name="load vs plain cattrs + orjson",
            target="ratio <= 1.25",
            note=note + " (<= 1.25 is >= 0.8x throughput)",
        ),
    ]


# --- stores: ceremonies committed one command at a time ------------------------------------------


def kebumen_cohort() -> tuple[list[Unit], list[Any]]:
    folder = ROOT / "examples" / "kebumen"
    units = read_units((folder / "units.csv").read_text(encoding="utf-8"))
    ideas = read_innovations((folder / "innovations.csv").read_text(encoding="utf-8"))
    return units, ideas


def synthetic_cohort(size: int) -> tuple[list[Unit], list[Any]]:
    from labflow.cohort import IdeaRow

    units = [Unit(f"opd-{k:03}", f"OPD {k}", "agency") for k in range(max(1, size // 50))]
    ideas = [
        IdeaRow(
            f"ino-{k:05}",
            f"Inovasi {k}",
            units[k % len(units)].id,
            ("Tim",),
            labflow.Initiator.ASN,
            "Layanan lambat",
        )
        for k in range(size)
    ]
    return units, ideas


def ceremony_lab(units: list[Unit], ideas: list[Any]) -> Lab:
    """A kebumen-2016 lab at *deliver*: every idea there, its agreement drawn up, unsigned."""
    lab = Lab.create(
        labflow.load_policy("kebumen-2016"),
        id="kebumen",
        region="Kabupaten Kebumen",
        by="sekretariat",
        units=units,
        actors=cast(units),
        clock=Clock(),
    )
    for idea in ideas:
        lab.register(
            idea.id,
            title=idea.title,
            unit=idea.unit,
            innovators=idea.innovators,
            problem=idea.problem,
            initiator=idea.initiator,
            by=f"staf-{idea.unit}",
        )
    steps = [PlanStep("Susun SOP", "Kasubag", date(2016, 6, 1))]
    for idea in ideas:
        staff, head = f"staf-{idea.unit}", f"kepala-{idea.unit}"
        lab.record_diagnosis(idea.id, Diagnosis("Layanan lambat", ["Prosedur"]), by=staff)
        lab.grant_permission(idea.id, reference="800/1", by=head)
    lab.advance_lab(by="sekretariat")
    for idea in ideas:
        lab.advance(idea.id, by="sekretariat")
        staff, head = f"staf-{idea.unit}", f"kepala-{idea.unit}"
        lab.submit_plan(idea.id, steps=steps, by=staff)
        lab.approve_plan(idea.id, by=head)
    lab.advance_lab(by="sekretariat")
    for idea in ideas:
        lab.advance(idea.id, by="sekretariat")
        lab.draw_up_agreement(
            idea.id, regional_head="bupati", unit_head=f"kepala-{idea.unit}", by="sekretariat"
        )
    return lab


def stored(store: labflow.Store, lab: Lab) -> None:
    appends = [Append(lab.id, 0, lab.history, lab=True)]
    appends += [Append(i.id, 0, i.history) for i in lab.innovations.values()]
    store.commit(lab.id, appends)


def ceremony_commands(lab: Lab, ideas: list[Any], commit: Callable[[], object]) -> None:
    """The ceremony: every innovation launched, then both signatures; a commit after each."""
    for idea in ideas:
        lab.record_launch(idea.id, ceremony="Peluncuran 182 Inovasi", by="bupati")
        commit()
    for idea in ideas:
        lab.sign_agreement(idea.id, by="bupati")
        commit()
        lab.sign_agreement(idea.id, by=f"kepala-{idea.unit}")
        commit()


@contextmanager
def ceremony_session(
    open_store: Callable[[], labflow.Store], cohort: tuple[list[Unit], list[Any]]
) -> Iterator[tuple[Lab, Callable[[], object], labflow.Store]]:
    """A stored lab ready for its ceremony, loaded in a session (none of it timed)."""
    units, ideas = cohort
    store = open_store()
    try:
        lab = ceremony_lab(units, ideas)
        stored(store, lab)
        # The ceremony happens after everything the lab holds: a history's times never go back.
        clock = Clock(timedelta(minutes=1))
        clock.now = max(e.at for i in lab.innovations.values() for e in i.history)
        session = store.session("kebumen", clock=clock)
        lab = session.__enter__()
        yield lab, session.commit, store
        session.__exit__(None, None, None)
    finally:
        store.close()


def check_ceremony(store: labflow.Store, ideas: list[Any]) -> None:
    lab = store.load("kebumen")
    for idea in ideas:
        inn = lab.innovation(idea.id)
        expect(inn.launch is not None, f"{idea.id} is launched")
        expect(inn.agreement is not None and inn.agreement.complete, f"{idea.id} is signed")
        expect(store.version("kebumen", idea.id) == len(inn.history), f"{idea.id} is stored")
    expect(all(v.ok for v in store.verify_all()["kebumen"]), "the stored chains verify")


def floor_ceremony(store: FloorStore, ideas: list[Any]) -> None:
    for idea in ideas:
        store.append(idea.id, "bupati", "innovation.launched", {"ceremony": "Peluncuran"})
    for idea in ideas:
        store.append(idea.id, "bupati", "innovation.agreement_signed", {"role": "regional_head"})
        store.append(
            idea.id, f"kepala-{idea.unit}", "innovation.agreement_signed", {"role": "unit_head"}
        )


def store_section(
    rounds: int, big_rounds: int, big: int, folder: Path, *, quick: bool
) -> list[Result]:
    from labflow.store.sqlite import SQLiteStore

    kebumen = kebumen_cohort()
    count = [0]

    def fresh() -> Path:
        count[0] += 1
        return folder / f"store-{count[0]}.db"

    def timed_ceremony(cohort: tuple[list[Unit], list[Any]]) -> tuple[float, float]:
        """One round: labflow's ceremony and the floor's, in rotated order; seconds each."""
        ideas = cohort[1]
        times = {}
        for which in ("labflow", "floor") if count[0] % 2 else ("floor", "labflow"):
            if which == "labflow":
                with ceremony_session(lambda: SQLiteStore(fresh(), create=True), cohort) as (
                    lab,
                    commit,
                    store,
                ):
                    gc.collect()
                    start = now()
                    ceremony_commands(lab, ideas, commit)
                    times[which] = now() - start
                    if count[0] <= 2:
                        check_ceremony(store, ideas)
            else:
                floor = FloorStore(fresh(), [i.id for i in ideas], Clock())
                gc.collect()
                start = now()
                floor_ceremony(floor, ideas)
                times[which] = now() - start
                floor.close()
        return times["labflow"], times["floor"]

    def rows(cohort: tuple[list[Unit], list[Any]], rounds: int) -> dict[str, list[float]]:
        found: dict[str, list[float]] = {"labflow": [], "floor": []}
        for _ in range(rounds):
            ours, floor = timed_ceremony(cohort)
            found["labflow"].append(ours)
            found["floor"].append(floor)
        return found

    floor_name = "floor: the same events hashed and written by hand with sqlite3"
    small = rows(kebumen, rounds)
    commands = 3 * len(kebumen[1])
    results = [
        paired(
            {"labflow": small["labflow"], floor_name: small["floor"]},
            "labflow",
            floor_name,
            name=f"Kebumen ceremony ({len(kebumen[1])} launches + {2 * len(kebumen[1])} "
            "signatures), one commit per command, SQLite",
            target="value <= 50",
            scale=1e3,
            unit="ms",
            note=f"{commands} commands, session already loaded",
        ),
    ]
    size = big
    cohort = synthetic_cohort(size)
    large = rows(cohort, big_rounds)
    results.append(
        paired(
            {"labflow": large["labflow"], floor_name: large["floor"]},
            "labflow",
            floor_name,
            name="5,000-innovation ceremony, one commit per command, SQLite",
            target="value <= 2",
            scale=1.0,
            unit="s",
            shrunk=size != 5000,
            note=f"{size:,} innovations, {3 * size:,} commands"
            + (" (shrunk by --quick; not the promise's workload)" if size != 5000 else ""),
        )
    )
    results.append(
        append_row(
            lambda r: SQLiteStore(folder / f"append-{r}.db", create=True),
            folder,
            rounds,
            200 if quick else 1000,
        )
    )
    return results


def append_row(
    open_store: Callable[[int], labflow.Store],
    folder: Path,
    rounds: int,
    n: int,
    *,
    name: str = "SQLite append, one commit per event",
) -> Result:
    """Events built in memory first, then each committed alone: the store's cost, not the
    command's -- against the floor's hand-written insert, in rotated order each round."""
    samples: dict[str, list[float]] = {"labflow": [], "floor": []}
    for r in range(rounds):
        lab, _ = engine_lab(50, ready=False)
        store = open_store(r)
        stored(store, lab)
        events = []
        for k in range(n):
            inn = lab.innovation(f"ino-{k % 50}")
            events.append(
                lab.attach_evidence(
                    inn.id, title=f"Bukti {k}", reference=f"d{k}", by=f"staf-{inn.unit}"
                )
            )
        path = folder / f"append-floor-{r}.db"
        floor = FloorStore(path, [f"ino-{k}" for k in range(50)], Clock())
        for which in ("labflow", "floor") if r % 2 else ("floor", "labflow"):
            gc.collect()
            start = now()
            if which == "labflow":
                for event in events:
                    store.commit(lab.id, [Append(event.subject, event.seq - 1, (event,))])
            else:
                for event in events:
                    floor.append(event.subject, event.actor, event.kind, dict(event.payload))
            samples[which].append((now() - start) / n)
        expect(store.version(lab.id, events[-1].subject) == events[-1].seq, "every event stored")
        store.close()
        floor.close()
    floor_name = "floor: the same events hashed and written by hand with sqlite3"
    return paired(
        {"labflow": samples["labflow"], floor_name: samples["floor"]},
        "labflow",
        floor_name,
        name=name,
        note=f"{n} events per round",
    )


# --- the national registry -----------------------------------------------------------------------

REGISTRY_SIZES = {"tiny": (200, 20), "medium": (25_000, 20), "full": (250_000, 20)}
PROMISE_EVENTS = 5_000_000


def children_cpu() -> float:
    """CPU seconds of this process's finished children (subprocesses, verifying workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def registry_section(size: str, rounds: int, folder: Path) -> list[Result]:
    import _registry

    from labflow import reports
    from labflow.store.sqlite import SQLiteStore

    innovations, events_per = REGISTRY_SIZES[size]
    if size == "tiny":
        path = folder / "registry.db"
        _registry.build(path, innovations, events_per)
    else:
        path = _registry.cached(innovations, events_per, say=lambda s: print(s, file=sys.stderr))
    times, walls, events, streams = [], [], 0, 0
    cores = os.cpu_count() or 1
    for _ in range(rounds):
        gc.collect()
        wall, own, workers = time.perf_counter(), time.process_time(), children_cpu()
        store = SQLiteStore(path)
        checked = store.verify_all()
        funnel = reports.registry_funnel(store, checked=checked)
        store.close()
        walls.append(time.perf_counter() - wall)
        # On the CPU clock: this process's time, plus its verifying workers' spread over
        # the cores they ran on -- what the walls of an idle machine would show.
        own, workers = time.process_time() - own, children_cpu() - workers
        times.append(walls[-1] if clock_name() == "wall" else own + workers / cores)
        results = [v for lab in checked.values() for v in lab]
        expect(all(v.ok for v in results), f"every chain verifies: {results[:3]}")
        expect(funnel.reached, "the funnel counted the innovations")
        streams, events = len(results), sum(v.length for v in results)
    median, iqr = quartiles(times)
    note = f"{innovations:,} innovations, {streams:,} streams, {events:,} events, {cores} cores"
    if clock_name() == "cpu":
        note += (
            f"; own CPU + workers' CPU / {cores} cores (wall clock on this machine: "
            f"{statistics.median(walls):.1f} s)"
        )
    if size == "medium":
        note += (
            f"; linear projection to {PROMISE_EVENTS:,} events: "
            f"{median * PROMISE_EVENTS / events:.1f} s (run --registry full for the promise)"
        )
    return [
        judged(
            Result(
                "national registry: open + verify every chain + funnel",
                median,
                "s",
                iqr=iqr,
                target="value <= 20",
                note=note,
            ),
            shrunk=size != "full",
        )
    ]


# --- imports -------------------------------------------------------------------------------------


def cli_command() -> list[str]:
    """The installed ``labflow`` script, as a user types it; else the module."""
    script = Path(sys.executable).parent / "labflow"
    if script.exists():
        return [str(script), "--help"]
    found = shutil.which("labflow")
    return [found, "--help"] if found else [sys.executable, "-m", "labflow.cli", "--help"]


def imports_section(rounds: int, folder: Path) -> list[Result]:
    """Start-up times, each a new interpreter, against a bare ``python -c pass``.

    As after an install: bytecode compiled once (into a cache of this run, so no checkout
    gets ``__pycache__`` folders), then read -- whatever ``PYTHONDONTWRITEBYTECODE`` says.
    """
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "import labflow": [sys.executable, "-c", "import labflow"],
        "labflow --help": cli_command(),
        # `import labflow` imports names on first use: what a program that opens a lab pays
        "import labflow, first lab": [
            sys.executable,
            "-c",
            "import labflow\n"
            "labflow.Lab.create(labflow.load_policy('lan-5d'), id='k', region='K', by='s',"
            " actors=[labflow.Actor('s', 'S', {'secretariat'})], units=[])",
        ],
    }
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    for argv in commands.values():  # compile, warm the file cache; and each must work
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    names = list(commands)
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            wall, cpu = time.perf_counter(), children_cpu()
            subprocess.run(commands[name], check=True, stdout=subprocess.DEVNULL, env=env)
            wall, cpu = time.perf_counter() - wall, children_cpu() - cpu
            samples[name].append(wall if clock_name() == "wall" else cpu)
    return [
        paired(
            samples,
            "import labflow",
            "python -c pass",
            name='python -c "import labflow"',
            target="value <= 100",
            scale=1e3,
            unit="ms",
        ),
        paired(
            samples,
            "labflow --help",
            "python -c pass",
            name="labflow --help",
            target="value <= 150",
            scale=1e3,
            unit="ms",
        ),
        paired(
            samples,
            "import labflow, first lab",
            "python -c pass",
            name="import labflow and open a first lab (structlog unconfigured)",
            scale=1e3,
            unit="ms",
        ),
    ]


# --- PostgreSQL (optional) -----------------------------------------------------------------------


def postgres_section(rounds: int, quick: bool) -> list[Result]:
    names = (
        "PostgreSQL append, one commit per event",
        "Kebumen ceremony, one commit per command, PostgreSQL",
    )
    url = os.environ.get("LABFLOW_TEST_POSTGRES_URL")
    why = None
    if not url:
        why = "skipped: set LABFLOW_TEST_POSTGRES_URL to a server to measure"
    elif importlib.util.find_spec("labflow.store.postgres") is None:
        why = "skipped: this labflow has no labflow.store.postgres"
    if why is not None:
        return [Result(name, None, "µs" if "append" in name else "ms", note=why) for name in names]
    schemas: list[str] = []
    try:
        import psycopg
        from psycopg.conninfo import make_conninfo

        from labflow.store.postgres import PostgresStore

        def open_store() -> Any:
            # Each workload gets a fresh, empty schema: the server may hold other labs.
            name = f"bench_{uuid.uuid4().hex[:16]}"
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f"CREATE SCHEMA {name}")  # type: ignore[arg-type]
            schemas.append(name)
            return PostgresStore(make_conninfo(url, options=f"-c search_path={name}"), create=True)

        with tempfile.TemporaryDirectory() as tmp:
            append = append_row(
                lambda r: open_store(), Path(tmp), rounds, 100 if quick else 500, name=names[0]
            )
        kebumen = kebumen_cohort()
        times = []
        for _ in range(rounds):
            with ceremony_session(open_store, kebumen) as (lab, commit, _store):
                start = now()
                ceremony_commands(lab, kebumen[1], commit)
                times.append(now() - start)
        median, iqr = quartiles(times)
        return [
            append,
            Result(names[1], median * 1e3, "ms", iqr=iqr * 1e3, note="reported, no target yet"),
        ]
    except Exception as exc:  # a server that went away: report why, never fail the run
        why = f"skipped: {type(exc).__name__}: {exc}"
        return [Result(name, None, "µs" if "append" in name else "ms", note=why) for name in names]
    finally:
        if schemas:
            with psycopg.connect(url, autocommit=True) as conn:
                for name in schemas:
                    conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")  # type: ignore[arg-type]


# --- the run -------------------------------------------------------------------------------------


def environment() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for dist in ("labflow", "transitions", "attrs", "cattrs", "structlog", "orjson"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "machine": f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        "python": sys.version.split()[0] + f" ({platform.python_implementation()})",
        "versions": versions,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small workloads, a smoke test")
    parser.add_argument("--json", type=Path, help="write the results as JSON to this file")
    parser.add_argument("--markdown", type=Path, help="write the table as Markdown to this file")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument(
        "--registry",
        choices=sorted(REGISTRY_SIZES),
        default=None,
        help="registry size (default: tiny with --quick, else medium)",
    )
    parser.add_argument("--rounds", type=int, default=None, help="rounds of the engine section")
    parser.add_argument(
        "--clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="time with this process's CPU time (default; for shared machines) or elapsed time",
    )
    parser.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default=None,
        help="profile one case with pyinstrument instead of measuring",
    )
    args = parser.parse_args(argv)
    if args.profile:
        return profile(args.profile)
    use_clock(args.clock)
    only = set(args.only.split(","))
    unknown = only - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {sorted(unknown)}")
    quick = args.quick
    registry = args.registry or ("tiny" if quick else "medium")

    # First, every case shows it does its work -- before loggers are cached for timing.
    checking_logging()
    if "engine" in only:
        check_engine()
    filtered_logging()

    results: list[Result] = []

    def section(name: str, run: Callable[[], list[Result]]) -> None:
        if name not in only:
            return
        started = time.perf_counter()
        found = run()
        print(f"({name}: {time.perf_counter() - started:.1f} s)", file=sys.stderr, flush=True)
        results.extend(found)
        for result in found:
            print(show(result), flush=True)

    print(f"{'':<64} {'median':>9} {'':<3} {'baseline':>9} {'ratio ± IQR':>13}  target")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rounds = args.rounds or (5 if quick else 41)
        section("engine", lambda: engine(rounds, 50 if quick else 200))
        section("memory", lambda: memory(300 if quick else 5000, 1 if quick else 3))
        section(
            "serde",
            lambda: serde_section(5 if quick else 41, 50 if quick else 200, 100 if quick else 2000),
        )
        section(
            "store",
            lambda: store_section(
                2 if quick else 9, 1 if quick else 3, 300 if quick else 5000, folder, quick=quick
            ),
        )
        section("imports", lambda: imports_section(2 if quick else 21, folder))
        section("postgres", lambda: postgres_section(1 if quick else 3, quick))
        section("registry", lambda: registry_section(registry, 1 if quick else 3, folder))
    if args.json:
        document = {
            **environment(),
            "clock": args.clock,
            "command": " ".join(["python", "benchmarks/run.py", *(argv or sys.argv[1:])]),
            "results": [asdict(r) for r in results],
        }
        args.json.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    if args.markdown:
        args.markdown.write_text(markdown(results), encoding="utf-8")
    return 0


# --- profiles ------------------------------------------------------------------------------------


def profile_registry() -> None:
    """Verify and count 20 regions of the full registry (if built; else of a small one)."""
    import _registry

    from labflow import reports
    from labflow.store.sqlite import SQLiteStore

    with tempfile.TemporaryDirectory() as tmp:
        path = _registry.cache_path(*REGISTRY_SIZES["full"])
        if not path.exists():
            path = Path(tmp) / "registry.db"
            _registry.build(path, 5_000, 20)
        store = SQLiteStore(path)
        labs = store.lab_ids()[:20]

        def work() -> None:
            checked = {}
            for lab_id in labs:  # in this process, where the profiler sees it
                checked.update(store.verify_all(lab_id, workers=1))
            reports.registry_funnel(store, labs, checked=checked)

        profiled(work)
        store.close()


def profile_ceremony() -> None:
    from labflow.store.sqlite import SQLiteStore

    with tempfile.TemporaryDirectory() as tmp:
        cohort = synthetic_cohort(1000)
        with ceremony_session(lambda: SQLiteStore(Path(tmp) / "p.db", create=True), cohort) as (
            lab,
            commit,
            _store,
        ):
            profiled(lambda: ceremony_commands(lab, cohort[1], commit))


PROFILER: list[Any] = []


def profiled(work: Callable[[], object]) -> None:
    profiler = PROFILER[0]
    profiler.start()
    work()
    profiler.stop()


def profile_engine(setup: Callable[[int], Run]) -> Callable[[], None]:
    def go() -> None:
        for _ in range(10):
            run = setup(1000)
            profiled(run)

    return go


PROFILES: dict[str, Callable[[], None]] = {
    "advance": profile_engine(labflow_advance),
    "refusal": profile_engine(labflow_refused),
    "check": profile_engine(labflow_check),
    "ceremony": profile_ceremony,
    "registry": profile_registry,
}


def profile(name: str) -> int:
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("profiling needs pyinstrument: uv run --group bench ...", file=sys.stderr)
        return 2
    filtered_logging()
    PROFILER.append(Profiler(interval=0.0002))
    PROFILES[name]()
    print(PROFILER[0].output_text(unicode=True, color=False, show_all=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
