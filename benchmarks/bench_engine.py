"""labflow's engine against bare ``transitions``, measured in the same run.

Run on demand: ``uv run python benchmarks/bench_engine.py [--n 2000] [--repeats 7]``.
Prints the median time per move of each contender and labflow's ratios to bare
transitions (the promises in DESIGN.md are ratios, because the machines here are
shared and noisy). Contenders:

- ``dict`` -- a hand-written dict state machine with one guard and one callback: the floor;
- ``transitions`` -- one shared ``transitions.Machine``, one guard, one after-callback
  (models added with ``add_model``), the way a host would use it bare;
- ``labflow advance`` -- a real ``Lab.advance`` under ``lan-5d``: every requirement of the
  gate into *deliver* checked (four), the lab-stage rule, the event hashed into the chain
  and emitted to a structlog logger that filters it out;
- refused moves of both (transitions' guard returning False; labflow's advance raising
  ``GateRefused`` with every unmet reason listed).

It also reports an innovation's size at rest, beyond its own data.
"""

from __future__ import annotations

import argparse
import gc
import logging
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import structlog
from transitions import Machine

import labflow
from labflow import Actor, Diagnosis, Lab, PlanStep, Role, Unit

STAGES = ["drum_up", "diagnose", "design", "deliver", "display"]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2016, 5, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def timed(run: Callable[[], int], repeats: int) -> float:
    """Median seconds per operation over ``repeats`` runs (``run`` returns its op count)."""
    samples = []
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        start = time.perf_counter()
        ops = run()
        samples.append((time.perf_counter() - start) / ops)
        gc.enable()
    return statistics.median(samples)


# --- the floor: a dict state machine ------------------------------------------------------


def bench_dict(n: int, repeats: int) -> float:
    nxt = dict(pairwise(STAGES))
    log: list[str] = []

    def guard(model: dict[str, str]) -> bool:
        return True

    def run() -> int:
        models = [{"state": "design"} for _ in range(n)]
        for model in models:
            if guard(model):
                model["state"] = nxt[model["state"]]
                log.append(model["state"])
        return n

    return timed(run, repeats)


# --- bare transitions ---------------------------------------------------------------------


class Model:
    def __init__(self) -> None:
        self.ready = True


def bench_transitions(n: int, repeats: int, *, refuse: bool = False) -> float:
    log: list[str] = []

    def guard(event: object) -> bool:
        return not refuse

    def after(event: object) -> None:
        log.append("moved")

    machine = Machine(
        model=None,
        states=STAGES,
        transitions=[
            {"trigger": "advance", "source": a, "dest": b, "conditions": guard, "after": after}
            for a, b in pairwise(STAGES)
        ],
        initial="design",
        auto_transitions=False,
        send_event=True,
    )

    def run() -> int:
        models = [Model() for _ in range(n)]
        machine.add_model(models, initial="design")
        start = time.perf_counter()
        for model in models:
            model.advance()  # type: ignore[attr-defined]
        elapsed = time.perf_counter() - start
        machine.remove_model(models)
        run.elapsed = elapsed  # type: ignore[attr-defined]
        return n

    # add_model is setup, not a move: time only the loop of triggers.
    samples = []
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        run()
        samples.append(run.elapsed / n)  # type: ignore[attr-defined]
        gc.enable()
    return statistics.median(samples)


# --- labflow ------------------------------------------------------------------------------


def furnished_lab(n: int, *, ready: bool) -> Lab:
    """A lan-5d lab at *deliver* with ``n`` innovations at *design*, ready or not to move on."""
    units = [Unit(f"u{i}", f"Unit {i}", "agency") for i in range(n)]
    actors = [
        Actor("sek", "Sekretariat", {Role.SECRETARIAT}),
        Actor("bupati", "Bupati", {Role.REGIONAL_HEAD}),
    ]
    for i in range(n):
        actors.append(Actor(f"head{i}", f"Head {i}", {Role.UNIT_HEAD}, f"u{i}"))
        actors.append(Actor(f"inn{i}", f"Innovator {i}", {Role.INNOVATOR}, f"u{i}"))
    policy = labflow.parse_policy('extends = "lan-5d"\nid = "bench"\nself_paced = true\n')
    lab = Lab.create(
        policy, id="bench", region="Bench", by="sek", units=units, actors=actors, clock=Clock()
    )
    for i in range(n):
        key = f"i{i}"
        lab.register(
            key,
            title=f"Inovasi {i}",
            unit=f"u{i}",
            innovators=["Tim"],
            problem="Masalah",
            by=f"inn{i}",
        )
        lab.advance(key, by="sek")
        lab.record_diagnosis(key, Diagnosis("p", ["c"]), by=f"inn{i}")
        lab.grant_permission(key, reference="800/1", by=f"head{i}")
        lab.advance(key, by="sek")
        if ready:
            lab.submit_plan(key, steps=[PlanStep("s", "r", date(2016, 6, 1))], by=f"inn{i}")
            lab.approve_plan(key, by=f"head{i}")
            lab.draw_up_agreement(key, regional_head="bupati", unit_head=f"head{i}", by="sek")
            lab.sign_agreement(key, by="bupati")
            lab.sign_agreement(key, by=f"head{i}")
    return lab


def bench_labflow(n: int, repeats: int, *, refuse: bool = False) -> float:
    samples = []
    for _ in range(repeats):
        lab = furnished_lab(n, ready=not refuse)
        ids = list(lab.innovations)
        gc.collect()
        gc.disable()
        start = time.perf_counter()
        if refuse:
            for key in ids:
                try:  # noqa: SIM105 - contextlib.suppress would add its own cost to each move
                    lab.advance(key, by="sek")
                except labflow.GateRefused:
                    pass
        else:
            for key in ids:
                lab.advance(key, by="sek")
        samples.append((time.perf_counter() - start) / n)
        gc.enable()
        if not refuse:
            assert all(i.stage == "deliver" for i in lab.innovations.values())
    return statistics.median(samples)


def size_at_rest() -> tuple[int, int]:
    """Bytes an innovation costs beyond its own data (record + history list), and a Lab's engine."""
    lab = furnished_lab(1, ready=True)
    inn = lab.innovation("i0")
    record = sys.getsizeof(inn)  # slotted attrs instance: the field slots only
    history_list = sys.getsizeof(inn.history) - 8 * len(inn.history)
    return record, history_list


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="moves per run")
    parser.add_argument("--repeats", type=int, default=7, help="runs per contender")
    args = parser.parse_args()
    # A host's usual production set-up: structlog filtering below WARNING... and labflow's
    # refusals are warnings, so filter at CRITICAL to time emission, not printing.
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL),
        cache_logger_on_first_use=True,
    )
    n, r = args.n, args.repeats
    results = {
        "dict (floor)": bench_dict(n, r),
        "transitions": bench_transitions(n, r),
        "labflow advance": bench_labflow(n, r),
        "transitions refused": bench_transitions(n, r, refuse=True),
        "labflow refused": bench_labflow(n, r, refuse=True),
    }
    print(f"median time per move, {n} moves x {r} runs (python {sys.version.split()[0]})")
    for name, seconds in results.items():
        print(f"  {name:22s} {seconds * 1e6:8.2f} us")
    accepted = results["labflow advance"] / results["transitions"]
    refused = results["labflow refused"] / results["transitions refused"]
    print(
        f"labflow advance / transitions:          {accepted:5.2f}x  (promise: <= 1.0, stretch 0.5)"
    )
    print(f"labflow refused / transitions refused:  {refused:5.2f}x  (promise: <= 2.0)")
    record, history = size_at_rest()
    print(
        f"innovation at rest beyond its data: {record} B record + {history} B history list "
        f"= {record + history} B (promise: <= 512 B)"
    )


if __name__ == "__main__":
    main()
