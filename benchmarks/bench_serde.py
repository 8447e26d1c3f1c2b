"""Dump/load throughput of labflow.serde against plain cattrs on the same records, in one run.

    python benchmarks/bench_serde.py [--innovations 10000] [--repeats 5]

The workload is a lab of N innovations with five events each (registered,
diagnosis recorded, plan submitted, plan approved, permission granted). Each
innovation is dumped to its own JSON document and loaded back:

- labflow: `labflow.serde.dumps` / `labflow.serde.loads` -- loading also
  verifies every hash chain and checks the record against the fold of its
  history; measured with orjson (when installed) and with the standard library;
- plain cattrs: a bare ``cattrs.preconf.orjson`` converter on the same
  `Innovation` records (no strictness, no verification), the floor to beat.

Prints the median of the repeats for each and the ratio labflow / plain cattrs
(in throughput: above 1 is faster than plain cattrs).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import structlog

import labflow
from labflow import Actor, Diagnosis, Innovation, PlanStep, Role, Unit, serde

UNITS = 20


def build_lab(count: int) -> labflow.Lab:
    moment = [datetime(2016, 5, 1, tzinfo=UTC)]

    def clock() -> datetime:
        moment[0] += timedelta(seconds=1)
        return moment[0]

    units = [Unit(f"opd-{u}", f"OPD {u}", "agency") for u in range(UNITS)]
    actors = [Actor("sekretariat", "Sekretariat", {Role.SECRETARIAT})]
    for u in range(UNITS):
        actors.append(Actor(f"kepala-{u}", f"Kepala {u}", {Role.UNIT_HEAD}, f"opd-{u}"))
        actors.append(Actor(f"staf-{u}", f"Staf {u}", {Role.INNOVATOR}, f"opd-{u}"))
    lab = labflow.Lab.create(
        labflow.load_policy("lan-5d"),
        id="bench",
        region="Kabupaten Bench",
        by="sekretariat",
        units=units,
        actors=actors,
        clock=clock,
    )
    steps = [PlanStep("Susun SOP", "Kasubag", date(2016, 6, 1))]
    for i in range(count):
        u = i % UNITS
        ident, staff, head = f"inovasi-{i}", f"staf-{u}", f"kepala-{u}"
        lab.register(
            ident,
            title=f"Inovasi {i}",
            unit=f"opd-{u}",
            innovators=["Tim A", "Tim B"],
            problem="Antrean layanan panjang",
            by=staff,
        )
        lab.record_diagnosis(ident, Diagnosis("Antrean", ["SOP lama", "Manual"]), by=staff)
        lab.submit_plan(ident, steps=steps, by=staff, budget=5_000_000)
        lab.approve_plan(ident, by=head)
        lab.grant_permission(ident, reference=f"800/{i}/2016", by=head)
    return lab


def median_seconds(run: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--innovations", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    # The audit events of building the workload are not what is measured.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    n, repeats = args.innovations, args.repeats

    lab = build_lab(n)
    records = list(lab.innovations.values())
    print(f"{n} innovations x 5 events, median of {repeats} runs; JSON: {serde.JSON_BACKEND}")

    results: dict[str, tuple[float, float]] = {}

    def measure(name: str, dump: Callable[[Innovation], bytes], load: Callable[[bytes], Any]):
        docs = [dump(r) for r in records]
        assert all(load(d) == r for d, r in zip(docs[:50], records[:50], strict=True))
        t_dump = median_seconds(lambda: [dump(r) for r in records], repeats)
        t_load = median_seconds(lambda: [load(d) for d in docs], repeats)
        results[name] = (t_dump, t_load)
        size = sum(map(len, docs)) / n
        print(
            f"  {name:<28} dump {n / t_dump:>9,.0f}/s  load {n / t_load:>9,.0f}/s"
            f"  ({size:,.0f} bytes each)"
        )

    try:
        from cattrs.preconf.orjson import make_converter as make_orjson_converter
    except ImportError:
        print("  plain cattrs needs orjson: uv sync --group bench")
        return
    plain = make_orjson_converter()
    measure("plain cattrs (orjson)", plain.dumps, lambda d: plain.loads(d, Innovation))
    measure("labflow.serde", serde.dumps, serde.loads)
    fast = serde._fast
    serde._fast = None
    try:
        measure("labflow.serde (stdlib json)", serde.dumps, serde.loads)
    finally:
        serde._fast = fast

    base_dump, base_load = results["plain cattrs (orjson)"]
    for name in ("labflow.serde", "labflow.serde (stdlib json)"):
        t_dump, t_load = results[name]
        print(
            f"  {name:<28} vs plain cattrs: dump {base_dump / t_dump:.2f}x, "
            f"load {base_load / t_load:.2f}x"
        )

    t_lab_dump = median_seconds(lambda: serde.dumps(lab), repeats)
    blob = serde.dumps(lab)
    t_lab_load = median_seconds(lambda: serde.loads(blob), max(1, repeats // 2))
    print(
        f"  whole lab document: {len(blob) / 1e6:.1f} MB, "
        f"dump {t_lab_dump:.2f} s, load {t_lab_load:.2f} s"
    )


if __name__ == "__main__":
    main()
