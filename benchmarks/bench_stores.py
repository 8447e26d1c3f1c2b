"""SQLite against PostgreSQL in one run: append throughput, and a ceremony one command at a time.

Run on demand, with a PostgreSQL server (``.ci/postgres.sh start`` starts one)::

    LABFLOW_TEST_POSTGRES_URL=postgresql://... uv run python benchmarks/bench_stores.py

- *single commands*: one event per commit, the way the ``labflow`` command writes;
- *ceremony*: one launch ceremony of N innovations (N + 1 events) in one commit;
- *per command*: one session holds a lab of N innovations, and a command on every
  innovation is committed one at a time (`Session.commit` after each) -- what a host
  replaying a day's work does; its cost per command should not grow with N.

Events are built in memory first for the first two, so those numbers are the store's.
Without a PostgreSQL URL only SQLite is measured.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import structlog
from _cast import Clock, open_lab
from bench_store import UNITS, ready_lab

from labflow import Lab
from labflow.store import Append
from labflow.store.sqlite import SQLiteStore

Opener = Callable[[], Any]


@contextmanager
def postgres_database(url: str) -> Iterator[str]:
    """A fresh schema on the server at ``url``, dropped afterwards."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")  # type: ignore[arg-type]
    try:
        yield make_conninfo(url, options=f"-c search_path={name}")
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {name} CASCADE")  # type: ignore[arg-type]


def save(store: Any, lab: Lab) -> None:
    appends = [Append(lab.id, 0, lab.history, lab=True)]
    appends += [Append(i.id, 0, i.history) for i in lab.innovations.values()]
    store.commit(lab.id, appends)


def bench_single(store: Any, count: int) -> float:
    lab = ready_lab(50)
    save(store, lab)
    events = [
        lab.attach_evidence(f"ino-{k % 50}", title=f"B {k}", reference=f"d-{k}", by="sekretariat")
        for k in range(count)
    ]
    started = time.perf_counter()
    for event in events:
        store.commit(lab.id, [Append(event.subject, event.seq - 1, (event,))])
    return count / (time.perf_counter() - started)


def bench_ceremony(store: Any, size: int) -> float:
    lab = ready_lab(size)
    save(store, lab)
    before = {i.id: i.version for i in lab.innovations.values()}
    version = lab.version
    result = lab.launch_cohort(ceremony="Peluncuran", by="bupati")
    appends = [Append(lab.id, version, lab.history[version:], lab=True)]
    appends += [
        Append(i, before[i], lab.innovation(i).history[before[i] :]) for i in result.launched
    ]
    started = time.perf_counter()
    store.commit(lab.id, appends)
    return len(result.events) / (time.perf_counter() - started)


def registered(n: int) -> Lab:
    lab = open_lab("bench", UNITS, Clock())
    for k in range(n):
        unit = UNITS[k % len(UNITS)].id
        lab.register(
            f"ino-{k}", title="T", unit=unit, innovators=["Tim"], problem="P", by=f"staf-{unit}"
        )
    return lab


def bench_per_command(store: Any, n: int) -> float:
    """Milliseconds per command, committed one at a time in one session of ``n`` innovations."""
    save(store, registered(n))
    session = store.session("bench")
    lab = session.__enter__()
    ids = list(lab.innovations)
    started = time.perf_counter()
    for ident in ids:
        lab.attach_evidence(ident, title="Bukti", reference="doc", by="sekretariat")
        session.commit()
    elapsed = time.perf_counter() - started
    return elapsed / n * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=2000, help="single-command appends")
    parser.add_argument("--ceremony", type=int, default=1000, help="innovations per ceremony")
    parser.add_argument("--sizes", default="182,5000", help="labs for the per-command run")
    parser.add_argument(
        "--full-scan",
        action="store_true",
        help="sessions rescan every innovation at each commit, as they did before",
    )
    parser.add_argument("--only", default="", help="one store: sqlite or postgres")
    args = parser.parse_args(argv)
    if args.full_scan:
        import labflow.store

        labflow.store._watch = lambda lab: None  # type: ignore[assignment]
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    url = os.environ.get("LABFLOW_TEST_POSTGRES_URL")
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(1_000_000))

        @contextmanager
        def sqlite() -> Iterator[Any]:
            with SQLiteStore(Path(tmp) / f"{next(counter)}.db", create=True) as store:
                yield store

        @contextmanager
        def postgres() -> Iterator[Any]:
            from labflow.store.postgres import PostgresStore

            assert url is not None
            with postgres_database(url) as where, PostgresStore(where, create=True) as store:
                yield store

        kinds = {"sqlite": sqlite, **({"postgres": postgres} if url else {})}
        if args.only:
            kinds = {args.only: kinds[args.only]}
        for name, opener in kinds.items():
            with opener() as store:
                single = bench_single(store, args.single)
            with opener() as store:
                ceremony = bench_ceremony(store, args.ceremony)
            print(f"{name:<9} single commands      {single:10,.0f} events/s")
            print(f"{name:<9} ceremony of {args.ceremony:<6}   {ceremony:10,.0f} events/s")
            for n in sizes:
                with opener() as store:
                    per = bench_per_command(store, n)
                print(f"{name:<9} per command at {n:<6}  {per:10.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
