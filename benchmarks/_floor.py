"""The floor: what labflow does for an advance -- and for a stored command -- written by hand.

A benchmark that only compares labflow with bare ``transitions`` cannot say whether a gap
is the price of labflow's work or of how labflow does it: transitions checks one guard and
writes no history. The floor answers that. It is the same work labflow does for an advance
into *deliver* under lan-5d, with nothing general:

1. the actor's role, checked in a dict;
2. the four requirements of the gate (plan submitted, plan approved, agreement signed,
   replication recorded) as one function listing every unmet item, in two languages;
3. the lab-stage rule (an innovation cannot get ahead of its lab);
4. the event's canonical JSON -- labflow's encoding, through an encoder built once -- and
   its SHA-256, chained to the event before;
5. a slotted record appended to the history, and the state changed;
6. the same structlog call labflow makes, with the same keys, to the same filtered logger.

A refusal lists every reason, emits its warning and raises, as labflow's does. `FloorStore`
is the same idea for storage: each event hashed and written by hand with `sqlite3`, in
its own transaction, with a version check, on the settings labflow's SQLite store uses.

``run.py`` checks that the floor's bytes are labflow's: labflow verifies the floor's chain.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import structlog

STAGES = ["drum_up", "diagnose", "design", "deliver", "display"]

FLOOR_INDEX = {stage: i for i, stage in enumerate(STAGES)}
FLOOR_NEXT = dict(pairwise(STAGES))
FLOOR_GENESIS = "0" * 64
floor_log = structlog.get_logger("floor")
floor_encode = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


class FloorEvent:
    __slots__ = ("actor", "at", "hash", "kind", "payload", "prev", "seq", "subject")

    def __init__(
        self,
        subject: str,
        seq: int,
        at: datetime,
        actor: str,
        kind: str,
        payload: dict[str, Any],
        prev: str,
        hash: str,
    ) -> None:
        self.subject, self.seq, self.at, self.actor = subject, seq, at, actor
        self.kind, self.payload, self.prev, self.hash = kind, payload, prev, hash


class FloorInnovation:
    __slots__ = ("agreement", "history", "id", "plan", "replication", "stage", "unit")

    def __init__(self, ident: str, unit: str, *, ready: bool) -> None:
        self.id, self.unit, self.stage = ident, unit, "design"
        self.history: list[FloorEvent] = []
        self.replication: tuple[str, str] | None = None
        # plan: (steps, submitted by, approved by); agreement: {party: signed}
        self.plan = (("Susun SOP",), f"staf-{unit}", f"kepala-{unit}") if ready else None
        self.agreement = {"bupati": True, f"kepala-{unit}": True} if ready else None


class FloorLab:
    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.id, self.region, self.policy, self.stage = "floor", "Floor", "lan-5d", "deliver"
        self.roles = {"sekretariat": frozenset({"secretariat"})}
        self.clock = clock


class FloorRefused(Exception):
    def __init__(self, unmet: list[Unmet]) -> None:
        self.unmet = unmet


# Unmet items as (code, English, Indonesian); the ones that take no parameters built once.
PLAN_MISSING = (
    "action_plan.missing",
    "No action plan is submitted.",
    "Rencana aksi belum diajukan.",
)
PLAN_NOT_APPROVED = (
    "action_plan.not_approved",
    "The action plan is not approved.",
    "Rencana aksi belum disetujui.",
)
PLAN_SELF_APPROVED = (
    "action_plan.self_approved",
    "The action plan was approved by its own author.",
    "Rencana aksi disetujui oleh penyusunnya sendiri.",
)
AGREEMENT_MISSING = (
    "agreement.missing",
    "No performance agreement is drawn up.",
    "Perjanjian kinerja inovasi belum disusun.",
)
Unmet = tuple[str, str, str]


def floor_deliver_gate(inn: FloorInnovation) -> list[Unmet]:
    """lan-5d's four requirements into *deliver*, every unmet item listed."""
    found: list[Unmet] = []
    # 1. an action plan is submitted, with steps
    if inn.plan is None:
        found.append(PLAN_MISSING)
    elif not inn.plan[0]:
        found.append(("action_plan.too_few_steps", "The plan has no steps.", "Tanpa langkah."))
    # 2. it is approved, not by its author
    if inn.plan is None or inn.plan[2] is None:
        found.append(PLAN_NOT_APPROVED)
    elif inn.plan[2] == inn.plan[1]:
        found.append(PLAN_SELF_APPROVED)
    # 3. the performance agreement is signed by every party it names
    if inn.agreement is None:
        found.append(AGREEMENT_MISSING)
    else:
        for party, signed in inn.agreement.items():
            if not signed:
                found.append(
                    (
                        f"agreement.unsigned.{party}",
                        f"The performance agreement is not signed by {party}.",
                        f"Perjanjian kinerja inovasi belum ditandatangani {party}.",
                    )
                )
    # 4. a replication records where it comes from
    if inn.replication is not None and not inn.replication[0]:
        found.append(("replication.no_origin", "No origin recorded.", "Asal belum dicatat."))
    return found


def floor_check(lab: FloorLab, inn: FloorInnovation) -> tuple[str, list[Unmet]]:
    """The target and everything unmet: the gate and the lab-stage rule."""
    target = FLOOR_NEXT[inn.stage]
    found = floor_deliver_gate(inn)
    if FLOOR_INDEX[target] > FLOOR_INDEX[lab.stage]:
        found.append(("lab.behind", "The lab is behind.", "Laboratorium tertinggal."))
    return target, found


def floor_record(
    inn: FloorInnovation, at: datetime, actor: str, kind: str, payload: dict[str, Any]
) -> FloorEvent:
    """The next event of ``inn``'s chain: canonical JSON, SHA-256, a slotted record."""
    seq = len(inn.history) + 1
    prev = inn.history[-1].hash if inn.history else FLOOR_GENESIS
    body = floor_encode([inn.id, seq, at.isoformat(), actor, kind, payload, prev]).encode()
    event = FloorEvent(
        inn.id, seq, at, actor, kind, payload, prev, hashlib.sha256(body).hexdigest()
    )
    inn.history.append(event)
    return event


def floor_advance(lab: FloorLab, inn: FloorInnovation, actor: str) -> FloorEvent:
    if "secretariat" not in lab.roles.get(actor, ()):
        raise PermissionError(actor)
    target, found = floor_check(lab, inn)
    if found:
        floor_log.warning(
            "floor.gate.refused",
            lab=lab.id,
            region=lab.region,
            policy=lab.policy,
            actor=actor,
            command="advance",
            subject=inn.id,
            target=target,
            reasons=[u[0] for u in found],
        )
        raise FloorRefused(found)
    source = inn.stage
    event = floor_record(
        inn, lab.clock(), actor, "innovation.advanced", {"from": source, "to": target}
    )
    inn.stage = target
    floor_log.info(
        "floor.innovation.advanced",
        lab=lab.id,
        region=lab.region,
        policy=lab.policy,
        actor=actor,
        subject=inn.id,
        seq=event.seq,
        hash=event.hash,
        innovation=inn.id,
        unit=inn.unit,
        stage=target,
        from_stage=source,
        to_stage=target,
    )
    return event


# --- the floor of a store -------------------------------------------------------------------

FLOOR_SCHEMA = """
CREATE TABLE streams (id TEXT PRIMARY KEY, version INTEGER NOT NULL, head TEXT NOT NULL);
CREATE TABLE events (stream TEXT NOT NULL, seq INTEGER NOT NULL, at TEXT NOT NULL,
    actor TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL, prev TEXT NOT NULL,
    hash TEXT NOT NULL, PRIMARY KEY (stream, seq)) WITHOUT ROWID;
"""


class FloorStore:
    """SQLite as labflow's store sets it up (WAL, synchronous=NORMAL), with a version check."""

    def __init__(self, path: Path, streams: Sequence[str], clock: Callable[[], datetime]) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(FLOOR_SCHEMA)
        self.conn.executemany(
            "INSERT INTO streams VALUES (?, 0, ?)", [(s, FLOOR_GENESIS) for s in streams]
        )
        self.clock = clock

    def append(self, stream: str, actor: str, kind: str, payload: dict[str, Any]) -> None:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        version, prev = conn.execute(
            "SELECT version, head FROM streams WHERE id = ?", (stream,)
        ).fetchone()
        at = self.clock().isoformat()
        body = floor_encode([stream, version + 1, at, actor, kind, payload, prev])
        digest = hashlib.sha256(body.encode()).hexdigest()
        conn.execute(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (stream, version + 1, at, actor, kind, floor_encode(payload), prev, digest),
        )
        conn.execute(
            "UPDATE streams SET version = ?, head = ? WHERE id = ? AND version = ?",
            (version + 1, digest, stream, version),
        )
        conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()
