"""The national-registry promise: open, verify every chain and report, in under a minute.

DESIGN.md promises that a national registry -- about 500 regions, 250,000 innovations,
5 million events -- opens, verifies every chain and reports in under a minute on a
2-core machine. This benchmark builds such a registry in one SQLite file and times it.

Run on demand::

    uv run python benchmarks/bench_registry.py                  # 25,000 x 20 = 500,000 events
    uv run python benchmarks/bench_registry.py --innovations 250000 --events-per 20   # full size
    uv run python benchmarks/bench_registry.py --db /tmp/registry.db --keep   # reuse the file

The full size needs about 4 GB of free disk and, the first time, a few minutes to
generate (reported apart; with ``--db`` and ``--keep`` it is generated once).

How the registry is made: one real lab is run through the whole 5D cycle with the
library's own commands (ten units of four kinds, one innovation each, launched at a
ceremony and exhibited, then evidence attached), and its histories are the templates.
Every region replays the template's events with `labflow.events.make_event` under its
own lab id, region, innovation ids and dates, so every chain is a real, valid,
replayable history: an innovation's history is a prefix of its unit's template (so the
funnel narrows: some stop at drum-up, most are launched), of random length averaging
``--events-per`` (uniform from 1 to twice that less one); the lab's ceremony lists
exactly the innovations launched. Regions
are committed through `SQLiteStore.commit`, one commit per region.

What is timed, each ``--repeat`` times (medians printed), on a warm OS file cache:

- *open*: `SQLiteStore` on the existing file (schema and version checks);
- *verify*: every event's hash recomputed from its stored row, every link and number
  checked, every stream's end checked against its stored head and version;
- *report*: the funnel by stage and unit kind over all labs.

Two read paths are measured: ``streaming`` (`Store.verify_all` and
`labflow.reports.registry_funnel`: rows streamed and checked without building events
or labs, on every core) and ``replay`` (what a host could do before: `histories` into
`Event` objects and `labflow.verify`, then `load` every lab and `reports.funnel`). The
replay path is slow at full size; ``--paths streaming`` skips it.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import structlog
from _cast import Clock, fill_gate, open_lab

from labflow import Unit, reports
from labflow.events import GENESIS, Event, make_event, verify
from labflow.store import Append
from labflow.store.sqlite import SQLiteStore

REGIONS = 500
PROMISE_EVENTS = 5_000_000
PROMISE_SECONDS = 60.0

KINDS = ("agency",) * 5 + ("clinic",) * 3 + ("hospital", "enterprise")
UNITS = [Unit(f"unit-{k}", f"Unit {k}", kind) for k, kind in enumerate(KINDS)]


def template(length: int) -> tuple[list[Event], dict[str, list[Event]]]:
    """A real lab run through the 5D cycle: its history, and one innovation per unit."""
    lab = open_lab("template", UNITS, Clock(timedelta(minutes=7)))
    for unit in UNITS:
        lab.register(
            f"ino-{unit.id}",
            title=f"Inovasi {unit.name}",
            unit=unit.id,
            innovators=["Tim Inovasi"],
            problem="Layanan lambat",
            by=f"staf-{unit.id}",
        )
    for target in ("diagnose", "design", "deliver", "display"):
        for inn in list(lab.innovations.values()):
            fill_gate(lab, inn, target)
        if target == "display":
            lab.launch_cohort(ceremony="Peluncuran", by="bupati")
        lab.advance_lab(by="sekretariat")
        for inn in lab.innovations.values():
            lab.advance(inn.id, by="sekretariat")
    for inn in lab.innovations.values():
        lab.register_exhibit(inn.id, event="Gelar Inovasi", by=f"staf-{inn.unit}")
    for n in range(max(0, length - min(len(i.history) for i in lab.innovations.values()))):
        for inn in lab.innovations.values():
            lab.attach_evidence(
                inn.id, title=f"Bukti {n}", reference=f"doc-{n}", by=f"staf-{inn.unit}"
            )
    return list(lab.history), {i.unit: list(i.history) for i in lab.innovations.values()}


def rechain(
    subject: str, events: Sequence[Event], shift: timedelta, payload: Callable[[Event], Any]
) -> list[Event]:
    """The events again, under another subject and date, with their own hashes."""
    prev, out = GENESIS, []
    for e in events:
        event = make_event(subject, e.seq, e.at + shift, e.actor, e.kind, payload(e), prev)
        out.append(event)
        prev = event.hash
    return out


def build(path: Path, innovations: int, events_per: int, seed: int = 5) -> tuple[int, float]:
    """Write the registry; return its number of events and the seconds it took."""
    started = time.perf_counter()
    rng = random.Random(seed)
    longest = 2 * events_per - 1
    own, by_unit = template(longest)
    launch_at = next(e.seq for e in by_unit[UNITS[0].id] if e.kind == "innovation.launched")
    regions = max(1, min(REGIONS, innovations // len(UNITS)))
    total = 0
    with SQLiteStore(path, create=True) as store:
        for r in range(regions):
            lab_id = f"region-{r:03}"
            shift = timedelta(days=r)
            count = innovations // regions + (r < innovations % regions)
            lengths = [rng.randint(1, longest) for _ in range(count)]
            ids = [f"{lab_id}-ino-{k:04}" for k in range(count)]
            launched = [i for i, n in zip(ids, lengths, strict=True) if n >= launch_at]

            def lab_payload(e: Event, lab_id: str = lab_id, launched: list[str] = launched) -> Any:
                if e.kind == "lab.created":
                    return {**e.payload, "id": lab_id, "region": f"Region {lab_id[-3:]}"}
                if e.kind == "lab.ceremony_held":
                    return {**e.payload, "launched": launched, "refused": {}}
                return e.payload

            def inn_payload(e: Event, lab_id: str = lab_id) -> Any:
                if e.kind == "innovation.registered":
                    return {**e.payload, "lab": lab_id}
                return e.payload

            appends = [Append(lab_id, 0, rechain(lab_id, own, shift, lab_payload), lab=True)]
            for k, (ident, n) in enumerate(zip(ids, lengths, strict=True)):
                source = by_unit[UNITS[k % len(UNITS)].id][:n]
                appends.append(Append(ident, 0, rechain(ident, source, shift, inn_payload)))
            store.commit(lab_id, appends)
            total += sum(len(a.events) for a in appends)
    return total, time.perf_counter() - started


# --- the two read paths ---------------------------------------------------------------------


def streaming_verify(store: SQLiteStore, workers: int | None) -> tuple[int, int]:
    results = store.verify_all(workers=workers)
    checks = [v for lab in results.values() for v in lab]
    assert all(v.ok for v in checks), [v for v in checks if not v.ok][:3]
    return len(checks), sum(v.length for v in checks)


def streaming_report(store: SQLiteStore) -> reports.Funnel:
    return reports.registry_funnel(store)


def replay_verify(store: SQLiteStore, workers: int | None) -> tuple[int, int]:
    streams = events = 0
    for lab_id in store.lab_ids():
        for history in [store.history(lab_id), *store.histories(lab_id)]:
            assert verify(history).ok
            streams += 1
            events += len(history)
    return streams, events


def replay_report(store: SQLiteStore) -> reports.Funnel:
    funnels = [reports.funnel(store.load(lab_id)) for lab_id in store.lab_ids()]
    return reports.merge_funnels(funnels)


PATHS = {
    "streaming": (streaming_verify, streaming_report),
    "replay": (replay_verify, replay_report),
}


def measure(path: Path, name: str, repeat: int, workers: int | None) -> dict[str, Any]:
    check, report = PATHS[name]
    times: dict[str, list[float]] = {"open": [], "verify": [], "report": [], "total": []}
    streams = events = 0
    funnel = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        store = SQLiteStore(path)
        t1 = time.perf_counter()
        streams, events = check(store, workers)
        t2 = time.perf_counter()
        funnel = report(store)
        t3 = time.perf_counter()
        store.close()
        for key, value in (("open", t1 - t0), ("verify", t2 - t1), ("report", t3 - t2)):
            times[key].append(value)
        times["total"].append(t3 - t0)
    assert funnel is not None
    return {
        "medians": {k: statistics.median(v) for k, v in times.items()},
        "streams": streams,
        "events": events,
        "funnel": funnel,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--innovations", type=int, default=25_000)
    parser.add_argument("--events-per", type=int, default=20, help="mean events per innovation")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--paths", default="streaming,replay", help="read paths to time")
    parser.add_argument("--workers", type=int, default=None, help="processes for verifying")
    parser.add_argument("--db", type=Path, default=None, help="the file (default: temporary)")
    parser.add_argument("--keep", action="store_true", help="keep and reuse the --db file")
    args = parser.parse_args(argv)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "registry.db"
        if args.keep and path.exists():
            print(f"reusing {path} ({path.stat().st_size / 1e9:.2f} GB)")
        else:
            for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
            total, seconds = build(path, args.innovations, args.events_per)
            size = path.stat().st_size / 1e9
            print(
                f"generated {args.innovations:,} innovations, {total:,} events in "
                f"{seconds:.1f} s ({total / seconds:,.0f} events/s committed), {size:.2f} GB"
            )
        for name in args.paths.split(","):
            found = measure(path, name, args.repeat, args.workers)
            m, events = found["medians"], found["events"]
            print(f"\n{name} path: {found['streams']:,} streams, {events:,} events")
            for key in ("open", "verify", "report", "total"):
                line = f"  {key:<7}{m[key]:9.2f} s"
                if key in ("verify", "total"):
                    line += f"  {events / m[key]:12,.0f} events/s"
                print(line)
            projected = m["open"] + (m["total"] - m["open"]) * PROMISE_EVENTS / events
            verdict = "met" if projected < PROMISE_SECONDS else "NOT met"
            print(f"  projected for {PROMISE_EVENTS:,} events: {projected:.1f} s ({verdict})")
            funnel = found["funnel"]
            print(f"  funnel reached: {dict(funnel.reached)}; withdrawn {funnel.withdrawn}")
            print(f"  at display by kind: {dict(funnel.at['display'])}")
        if not args.keep:
            for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
    print(f"\n({os.cpu_count()} cores; warm OS file cache; medians of {args.repeat})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
