"""A national registry in one SQLite file, built from real histories and cached between runs.

The registry promise (250,000 innovations, 5 million events: open, verify every chain and
report in 20 s) needs a registry to open, and writing one takes minutes, so ``run.py`` keeps
the file it built under the temporary directory, keyed by what makes its bytes: labflow's
version, the source of the module that encodes events, the store's schema, and the size.
A key that changes (a new hash encoding, a new schema) builds a new file.

How the registry is made: one real lab is run through the whole 5D cycle with the library's
own commands (ten units of four kinds, one innovation each, launched at a ceremony and
exhibited, then evidence attached), and its histories are the templates. Every region
replays the template's events with `labflow.events.make_event` under its own lab id,
region, innovation ids and dates, so every chain is a real, valid, replayable history: an
innovation's history is a prefix of its unit's template (so the funnel narrows: some stop at
drum-up, most are launched), of random length averaging ``events_per`` (uniform from 1 to
twice that less one); the lab's ceremony lists exactly the innovations launched. Regions
are committed through `SQLiteStore.commit`, one commit per region.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from _cast import Clock, fill_gate, open_lab

from labflow import Unit
from labflow.events import GENESIS, Event, make_event
from labflow.store import Append
from labflow.store.sqlite import SQLiteStore

REGIONS = 500
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


def build(path: Path, innovations: int, events_per: int, seed: int = 5) -> int:
    """Write the registry at ``path``; return its number of events.

    Every region is copies of one real lab's cohort, renamed and re-dated, so each history
    is one the commands produced and the validating fold accepts at commit: the lab's
    cohort records and its ceremony name the copies, at the versions they reached.
    ``seed`` is kept for the cache key's sake; the copies are deterministic.
    """
    own, by_unit = template(events_per)
    regions = max(1, min(REGIONS, innovations // len(UNITS)))
    blocks = max(1, innovations // regions // len(UNITS))
    total = 0
    with SQLiteStore(path, create=True) as store:
        for r in range(regions):
            lab_id = f"region-{r:03}"
            shift = timedelta(days=r)
            copies = {
                f"ino-{unit.id}": [f"{lab_id}-ino-{b:03}-{k}" for b in range(blocks)]
                for k, unit in enumerate(UNITS)
            }

            def lab_payload(e: Event, lab_id: str = lab_id, copies: Any = copies) -> Any:
                p = e.payload
                if e.kind == "lab.created":
                    return {**p, "id": lab_id, "region": f"Region {lab_id[-3:]}"}
                if e.kind == "lab.ceremony_held":
                    launched = [new for old in p["launched"] for new in copies[old]]
                    return {**p, "launched": launched, "refused": {}}
                if e.kind == "lab.advanced" and "cohort" in p:
                    counted = {
                        new: seen for old, seen in p["cohort"].items() for new in copies[old]
                    }
                    return {**p, "cohort": counted}
                return p

            def inn_payload(e: Event, lab_id: str = lab_id) -> Any:
                if e.kind == "innovation.registered":
                    return {**e.payload, "lab": lab_id}
                return e.payload

            appends = [Append(lab_id, 0, rechain(lab_id, own, shift, lab_payload), lab=True)]
            for unit in UNITS:
                for ident in copies[f"ino-{unit.id}"]:
                    source = by_unit[unit.id]
                    appends.append(Append(ident, 0, rechain(ident, source, shift, inn_payload)))
            store.commit(lab_id, appends)
            total += sum(len(a.events) for a in appends)
    return total


def cache_path(innovations: int, events_per: int) -> Path:
    """Where a registry of this size is kept, keyed by what decides its bytes.

    The encoding of events (``labflow.events``) and the SQLite schema (its version and
    migrations), not the whole store module: a change to how the store commits or
    verifies does not change the file, and rebuilding 5 million events takes minutes.
    """
    import labflow.events
    import labflow.store.sqlite

    sources = hashlib.sha256(Path(str(labflow.events.__file__)).read_bytes())
    sqlite = labflow.store.sqlite
    sources.update(repr((sqlite.SCHEMA_VERSION, sqlite._MIGRATIONS)).encode())
    key = f"{labflow.__version__}-{sources.hexdigest()[:12]}-{innovations}x{events_per}"
    return Path(tempfile.gettempdir()) / "labflow-bench" / f"registry-{key}.db"


def cached(innovations: int, events_per: int, *, say: Callable[[str], None] = print) -> Path:
    """The registry's file, built first if no run has built it under this key."""
    path = cache_path(innovations, events_per)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    if _being_built(partial):
        say(f"another run is building {path}; waiting for it ...")
        while _being_built(partial):
            time.sleep(10)
        if path.exists():
            return path
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    say(f"building a registry of {innovations:,} innovations (cached as {path}) ...")
    started = time.perf_counter()
    total = build(partial, innovations, events_per)
    partial.rename(path)  # only a finished build is ever reused
    say(f"  {total:,} events in {time.perf_counter() - started:.0f} s")
    return path


def _being_built(partial: Path) -> bool:
    """Whether another run is writing ``partial`` (it changed in the last five minutes)."""
    try:
        return time.time() - partial.stat().st_mtime < 300
    except FileNotFoundError:
        return False
