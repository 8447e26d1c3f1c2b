"""An in-memory `Store`: for tests, notebooks and hosts that persist labs their own way.

It keeps the same promises as the SQLite store -- versions checked, commits
atomic, events verified before they are kept -- behind one lock, so threads of
one process can share it. Nothing survives the process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from labflow.errors import ConflictError, StoreError
from labflow.events import Event, Verification, verify
from labflow.lab import Clock, Lab, replay_lab, system_clock
from labflow.requirements import Registry
from labflow.store import Append, InnovationRow, Session
from labflow.store._common import (
    Folds,
    Row,
    check_append,
    head_of,
    project,
    refuse_malformed,
    units_of,
    verify_loaded,
)

if TYPE_CHECKING:
    from labflow.store.checkpoint import Checkpoint, CheckpointReport

__all__ = ["MemoryStore"]


class _LabStreams:
    def __init__(self) -> None:
        self.own: list[Event] = []
        self.innovations: dict[str, list[Event]] = {}
        self.rows: dict[str, Row] = {}
        self.units: dict[str, str] = {}


class MemoryStore:
    """A `labflow.store.Store` in a dictionary."""

    def __init__(self) -> None:
        self._labs: dict[str, _LabStreams] = {}
        self._lock = threading.Lock()
        self._folds = Folds()

    def _lab(self, lab_id: str) -> _LabStreams:
        try:
            return self._labs[lab_id]
        except KeyError:
            raise StoreError(f"There is no lab {lab_id!r} in this store.") from None

    def lab_ids(self) -> list[str]:
        return sorted(self._labs)

    def commit(self, lab_id: str, appends: Sequence[Append]) -> None:
        refuse_malformed(lab_id, appends)
        with self._lock:
            streams = self._labs.get(lab_id)
            fresh = streams is None
            if streams is None:
                if not any(a.lab and a.expected == 0 and a.events for a in appends):
                    raise StoreError(f"There is no lab {lab_id!r} in this store.")
                streams = _LabStreams()
            rows: dict[str, Row] = {}
            units: list[tuple[str, str]] = []
            for append in appends:
                stored = streams.own if append.lab else streams.innovations.get(append.subject, [])
                if len(stored) != append.expected:
                    raise ConflictError(append.subject, append.expected, len(stored))
                check_append(lab_id, append, head_of(stored))
            check = self._folds.begin(lab_id, appends)
            ends = {
                s: (len(h), head_of(h))
                for s in check.subjects
                if (h := streams.innovations.get(s)) is not None
            }
            lab_end = (len(streams.own), head_of(streams.own)) if streams.own else None
            read_lab, chosen = check.wants(lab_end, ends)
            check.run(
                streams.own if read_lab else (),
                {
                    s: streams.innovations[s]
                    for s in (streams.innovations if chosen is None else chosen)
                    if s in streams.innovations
                },
            )
            for append in appends:
                if not append.events:
                    continue
                if append.lab:
                    units += units_of(append)
                else:
                    rows[append.subject] = project(append, streams.rows.get(append.subject))
            # Everything checked and projected: nothing below can fail, so the commit is whole.
            for append in appends:
                if append.lab:
                    streams.own.extend(append.events)
                elif append.events:
                    streams.innovations.setdefault(append.subject, []).extend(append.events)
            streams.rows.update(rows)
            streams.units.update(units)
            if fresh:
                self._labs[lab_id] = streams
            check.keep()

    def version(self, lab_id: str, subject: str | None = None) -> int:
        return len(self.history(lab_id, subject)) if lab_id in self._labs else 0

    def history(self, lab_id: str, subject: str | None = None) -> list[Event]:
        streams = self._lab(lab_id)
        if subject is None:
            return list(streams.own)
        return list(streams.innovations.get(subject, ()))

    def histories(self, lab_id: str) -> Iterator[list[Event]]:
        streams = self._lab(lab_id)
        for subject in sorted(streams.innovations):
            yield list(streams.innovations[subject])

    def verify_all(
        self, lab_id: str | None = None, *, workers: int | None = None
    ) -> dict[str, tuple[Verification, ...]]:
        with self._lock:
            if lab_id is not None:
                self._lab(lab_id)  # refuses an unknown lab
            chosen = self.lab_ids() if lab_id is None else [lab_id]
            copies = {
                k: [
                    list(self._labs[k].own),
                    *(list(h) for _, h in sorted(self._labs[k].innovations.items())),
                ]
                for k in chosen
            }
        # Each stream's end is its head here: nothing else records it in memory.
        return {k: tuple(verify(h) for h in histories) for k, histories in copies.items()}

    def innovations(
        self,
        lab_id: str,
        *,
        stage: str | None = None,
        unit: str | None = None,
        unit_kind: str | None = None,
        status: str | None = None,
    ) -> list[InnovationRow]:
        streams = self._lab(lab_id)
        rows = []
        for subject in sorted(streams.rows):
            r = streams.rows[subject]
            row = InnovationRow(
                subject,
                r.unit,
                streams.units.get(r.unit),
                r.stage,
                r.status,
                r.launched,
                len(streams.innovations[subject]),
            )
            if stage is not None and row.stage != stage:
                continue
            if unit is not None and row.unit != unit:
                continue
            if unit_kind is not None and row.unit_kind != unit_kind:
                continue
            if status is not None and row.status != status:
                continue
            rows.append(row)
        return rows

    def load(
        self, lab_id: str, *, registry: Registry | None = None, clock: Clock = system_clock
    ) -> Lab:
        with self._lock:
            streams = self._lab(lab_id)
            own = list(streams.own)
            others = [list(h) for h in streams.innovations.values()]  # as registered
        verify_loaded(own, others)
        return replay_lab(own, others, registry=registry, clock=clock)

    def session(
        self,
        lab_id: str,
        *,
        registry: Registry | None = None,
        clock: Clock = system_clock,
        strict: bool = False,
        expect: Mapping[str | None, int] | None = None,
    ) -> Session:
        return Session(self, lab_id, registry=registry, clock=clock, strict=strict, expect=expect)

    def checkpoint(self, key: object, *, labs: Sequence[str] | None = None) -> Checkpoint:
        """A signed `labflow.store.checkpoint.Checkpoint` of every stream, as it is now."""
        from labflow.store.checkpoint import make_checkpoint

        return make_checkpoint(self, key, labs=labs)

    def verify_checkpoint(self, checkpoint: Checkpoint, key: object) -> CheckpointReport:
        """Whether every history ``checkpoint`` sealed is still an unchanged prefix of what is
        stored (`labflow.store.checkpoint.verify_checkpoint`); ``key`` as it takes it."""
        from labflow.store.checkpoint import verify_checkpoint

        return verify_checkpoint(self, checkpoint, key)

    def close(self) -> None:
        self._labs = {}
        self._folds.clear()

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
