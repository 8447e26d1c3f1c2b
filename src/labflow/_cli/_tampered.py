"""Reading a lab whose history fails verification: warn first, then answer from what verifies.

Why: a write on such a lab is refused (exit 5) -- nothing may be built on a history that
does not verify. A secretariat that finds its database tampered with still needs to see
what it holds, so a read warns on standard error, naming every history that fails and its
first bad event, and then answers from the *verified part* of each history: the events
before the first that fails, folded again (never the stored rows, which may be the very
thing edited). The command then exits 5, so a script sees that the answer is not the whole
record. If even the verified parts cannot be replayed together (the lab's own first event
was edited, say), the read is refused like a write.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from labflow.errors import HistoryError, LabflowError
from labflow.events import Event, Verification, verify
from labflow.lab import Lab, replay_lab
from labflow.store import InnovationRow

if TYPE_CHECKING:
    from labflow._cli._common import CommandOutput, Store


def failures(store: Store, lab_id: str) -> list[Verification]:
    """Every history of the lab that fails the store's own check (chains, heads, rows)."""
    return [v for v in store.verify_all(lab_id)[lab_id] if not v.ok]


def _verified(history: Sequence[Event]) -> Sequence[Event]:
    """The events of ``history`` before the first that does not verify."""
    result = verify(history)
    return history if result.ok else history[: max((result.seq or 1) - 1, 0)]


def read_lab(
    store: Store,
    lab_id: str,
    out: CommandOutput,
    found: Sequence[Verification] | None = None,
) -> Lab:
    """The lab for a read; on a lab that fails verification, warn and fold what verifies.

    ``found`` is what `failures` already found, when the caller asked; otherwise the
    store's own load verifies, and only a lab it refuses is checked further.
    """
    if not found:
        try:
            with out.status(out.word("loading")):  # replaying a large lab takes a while
                lab = store.load(lab_id)
        except HistoryError as exc:
            found = failures(store, lab_id) or [
                Verification(exc.subject, 0, False, exc.seq, exc.reason)
            ]
            refused = exc
        else:
            out.lab = lab
            return lab
    else:
        first = found[0]
        refused = HistoryError(first.subject, first.seq, first.reason or "unknown problem")
    out.warn(found)
    others: dict[str, Sequence[Event]] = {}
    for history in store.histories(lab_id):
        part = _verified(history)
        if part:
            others[part[0].subject] = part
    lab = _fold(lab_id, _verified(store.history(lab_id)), others, refused)
    out.lab = lab
    return lab


#: How many times a fold of what verifies may be cut back before the read is refused.
_CUTS: Final = 64


def _fold(
    lab_id: str,
    own: Sequence[Event],
    others: dict[str, Sequence[Event]],
    refused: HistoryError,
) -> Lab:
    """Replay what verifies, cutting back what no longer agrees with it.

    Histories refer to each other (the lab's advance counted each innovation at a
    version), so a verified part may not replay with the rest cut away. The replay names
    the first event that does not: an innovation's is cut there; a lab event is cut with
    everything every innovation recorded from its moment on, so what is left is the lab
    as it stood before it. Each round drops at least one event, and there are at most
    `_CUTS` rounds; a lab whose own first event fails is refused (``refused``).
    """
    for _ in range(_CUTS):
        if not own:
            break
        try:
            return replay_lab(own, list(others.values()))
        except HistoryError as exc:
            if exc.seq is None or exc.seq < 1:
                raise refused from exc
            if exc.subject == lab_id and exc.seq <= len(own):
                moment = own[exc.seq - 1].at
                own = own[: exc.seq - 1]
                others = {
                    subject: kept
                    for subject, history in others.items()
                    if (kept := [e for e in history if e.at < moment])
                }
            elif exc.subject in others:
                part = others[exc.subject][: exc.seq - 1]
                if part:
                    others[exc.subject] = part
                else:
                    del others[exc.subject]
            else:
                raise refused from exc
        except LabflowError as exc:
            raise refused from exc
    raise refused


def rows_of(
    lab: Lab,
    *,
    stage: str | None = None,
    unit: str | None = None,
    unit_kind: str | None = None,
    status: str | None = None,
) -> list[InnovationRow]:
    """`labflow.store.Store.innovations` computed from the fold instead of the stored rows."""
    rows = []
    for ident in sorted(lab.innovations):
        inn = lab.innovations[ident]
        known = lab.units.get(inn.unit)
        row = InnovationRow(
            inn.id,
            inn.unit,
            known.kind.value if known is not None else None,
            inn.stage,
            inn.status.value,
            inn.launch is not None,
            inn.version,
        )
        if all(
            wanted is None or wanted == value
            for wanted, value in (
                (stage, row.stage),
                (unit, row.unit),
                (unit_kind, row.unit_kind),
                (status, row.status),
            )
        ):
            rows.append(row)
    return rows
