"""The SQLite store's append throughput, and the wall time of ``labflow demo``.

Run on demand: ``uv run python benchmarks/bench_store.py [--single 2000] [--ceremony 1000]``.

- *single commands*: one event per transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``), the
  way the ``labflow`` command writes -- versions checked, the event's hash recomputed,
  the projection row updated;
- *ceremonies*: one launch ceremony of N innovations (N + 1 events) in one transaction;
- *demo*: the whole ``labflow demo`` scenario per region on a new file, and the same
  with the Kebumen lab reloaded and every history verified.

Events are built in memory first, so the numbers are the store's, not the commands'.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import structlog
from _cast import Clock, fill_gate, open_lab

from labflow import Lab, Unit
from labflow._samples import REGIONS, run_demo
from labflow.store import Append
from labflow.store.sqlite import SQLiteStore

UNITS = [Unit(f"unit-{k}", f"Unit {k}", "agency") for k in range(10)]


def ready_lab(n: int) -> Lab:
    """A lab at deliver with ``n`` innovations ready to launch."""
    lab = open_lab("bench", UNITS, Clock())
    for k in range(n):
        unit = UNITS[k % len(UNITS)].id
        lab.register(
            f"ino-{k}", title="T", unit=unit, innovators=["Tim"], problem="P", by=f"staf-{unit}"
        )
    for target in ("diagnose", "design", "deliver"):
        for inn in list(lab.innovations.values()):
            fill_gate(lab, inn, target)
        lab.advance_lab(by="sekretariat")
        for inn in lab.innovations.values():
            lab.advance(inn.id, by="sekretariat")
    return lab


def stored(lab: Lab, path: Path) -> SQLiteStore:
    store = SQLiteStore(path, create=True)
    appends = [Append(lab.id, 0, lab.history, lab=True)]
    appends += [Append(i.id, 0, i.history) for i in lab.innovations.values()]
    store.commit(lab.id, appends)
    return store


def bench_single(count: int, folder: Path) -> float:
    lab = ready_lab(50)
    store = stored(lab, folder / "single.db")
    events = []
    for k in range(count):
        inn = lab.innovation(f"ino-{k % 50}")
        events.append(
            lab.attach_evidence(inn.id, title=f"Bukti {k}", reference=f"doc-{k}", by="sekretariat")
        )
    started = time.perf_counter()
    for event in events:
        store.commit(lab.id, [Append(event.subject, event.seq - 1, (event,))])
    elapsed = time.perf_counter() - started
    store.close()
    return count / elapsed


def bench_ceremony(size: int, folder: Path, repeats: int = 3) -> float:
    rates = []
    for r in range(repeats):
        lab = ready_lab(size)
        store = stored(lab, folder / f"ceremony-{r}.db")
        before = {i.id: i.version for i in lab.innovations.values()}
        version = lab.version
        result = lab.launch_cohort(ceremony="Peluncuran", by="bupati")
        appends = [Append(lab.id, version, lab.history[version:], lab=True)]
        appends += [
            Append(i, before[i], lab.innovation(i).history[before[i] :]) for i in result.launched
        ]
        started = time.perf_counter()
        store.commit(lab.id, appends)
        rates.append(len(result.events) / (time.perf_counter() - started))
        store.close()
    return sorted(rates)[len(rates) // 2]


def bench_demo(folder: Path) -> dict[str, float]:
    times = {}
    for region in REGIONS:
        started = time.perf_counter()
        with SQLiteStore(folder / f"demo-{region}.db", create=True) as store:
            run_demo(store, region)
            lab = store.load(region)
            assert all(v.ok for v in lab.verify())
        times[region] = time.perf_counter() - started
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=2000, help="single-command appends")
    parser.add_argument("--ceremony", type=int, default=1000, help="innovations per ceremony")
    args = parser.parse_args(argv)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        single = bench_single(args.single, folder)
        ceremony = bench_ceremony(args.ceremony, folder)
        demo = bench_demo(folder)
    print(f"single commands:   {single:10,.0f} events/s  (one transaction per event)")
    print(f"ceremony of {args.ceremony}: {ceremony:10,.0f} events/s  (one transaction)")
    for region, seconds in demo.items():
        print(f"demo {region:<9}    {seconds:10.2f} s  (run, reload, verify)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
