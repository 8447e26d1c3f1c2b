"""Stage entry and exit subscriptions: hosts hear of moves through labflow's own typed API.

A host that wants to act when an innovation reaches *deliver* (notify the regional head,
book the launch hall) or when the lab leaves *design* builds a `Subscriptions` object and
hands it to a lab with `Lab.subscribe`. Nothing of `transitions` shows: callbacks receive a
`Move`. Behind it, every applied move is run through the policy's machine
(`labflow._engine.Engine.report`), whose states' enter and exit callbacks look up the host's
callbacks here -- so what a host can subscribe to is exactly the machine's states, and the
order is the machine's: the state left, then the state entered.

Callbacks run after the event is applied, never for a refused command. A lab in a store
session (`labflow.store.Session`) holds them back until its events are committed, and drops
them if the commit fails or the block raises: a host never hears of a move that was not
kept. A lab with no subscriptions pays one attribute test per applied event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final, Literal

import attrs

from labflow._engine import WITHDRAWN
from labflow.errors import InvalidCommand, NotFound
from labflow.events import Event

if TYPE_CHECKING:
    from labflow._engine import Engine

__all__ = ["WITHDRAWN", "Hooks", "Level", "Move", "MoveCallback", "Subscriptions"]

#: What moved: one innovation, or the lab as a whole.
Level = Literal["innovation", "lab"]
_LEVELS: Final = ("innovation", "lab")


@attrs.frozen
class Move:
    """One applied move, as a subscription callback receives it."""

    #: the innovation's id (``level="innovation"``) or the lab's (``level="lab"``)
    subject: str
    level: Level
    #: the stage left -- `WITHDRAWN` when an innovation is reinstated
    source: str
    #: the stage entered -- `WITHDRAWN` when an innovation is withdrawn
    target: str
    #: the event that made the move, as appended to the subject's history
    event: Event


#: A subscription callback; what it returns is ignored.
MoveCallback = Callable[[Move], object]


class Subscriptions:
    """The callbacks a host wants called when innovations or the lab enter or leave a stage.

    ::

        subscriptions = labflow.Subscriptions()
        subscriptions.on_enter("deliver", lambda move: print(move.subject, "reached deliver"))
        subscriptions.on_exit("design", notify_planners, level="lab")
        lab.subscribe(subscriptions)

    ``stage`` is a stage id of the lab's policy or, for innovations, `WITHDRAWN`
    (``labflow.WITHDRAWN``): withdrawing enters it, reinstating leaves it. A lab checks the
    stages when it is given the subscriptions and keeps the callbacks registered by then.
    """

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: list[tuple[Level, str, str, MoveCallback]] = []

    def on_enter(
        self, stage: str, callback: MoveCallback, *, level: Level = "innovation"
    ) -> Subscriptions:
        """Call ``callback(move)`` after an innovation (or, with ``level="lab"``, the lab)
        enters ``stage``. Returns the subscriptions, so calls can be chained."""
        return self._add(level, "enter", stage, callback)

    def on_exit(
        self, stage: str, callback: MoveCallback, *, level: Level = "innovation"
    ) -> Subscriptions:
        """Call ``callback(move)`` after an innovation (or, with ``level="lab"``, the lab)
        leaves ``stage``. Returns the subscriptions, so calls can be chained."""
        return self._add(level, "exit", stage, callback)

    def _add(self, level: Level, when: str, stage: str, callback: MoveCallback) -> Subscriptions:
        if level not in _LEVELS:
            raise InvalidCommand(f"A subscription's level is 'innovation' or 'lab', not {level!r}.")
        if not isinstance(stage, str):
            raise InvalidCommand(f"A stage id must be text, not {type(stage).__name__}.")
        if not callable(callback):
            raise InvalidCommand(f"A subscription needs a callable, not {type(callback).__name__}.")
        self._entries.append((level, when, stage, callback))
        return self


#: (level, "enter" or "exit", machine state) -> the callbacks, in registration order
_Table = dict[tuple[str, str, str], tuple[MoveCallback, ...]]


class Hooks:
    """One lab's subscriptions as its machines' states see them, and the moves held back."""

    __slots__ = ("_engine", "_held", "_pending", "_table", "_watched")

    def __init__(self) -> None:
        self._table: _Table | None = None
        self._engine: Engine | None = None
        #: level -> the states some callback watches (entering or leaving)
        self._watched: dict[str, frozenset[str]] = {}
        self._held = False
        self._pending: list[tuple[Event, str]] = []

    def attach(self, engine: Engine, subscriptions: Subscriptions, where: str) -> None:
        """Take ``subscriptions`` for the lab whose engine is ``engine`` (replacing any before).

        `NotFound` for a stage the machine does not have; nothing changes then.
        """
        if not isinstance(subscriptions, Subscriptions):
            raise InvalidCommand(
                f"Subscribe with labflow.Subscriptions, not {type(subscriptions).__name__}."
            )
        table: dict[tuple[str, str, str], list[MoveCallback]] = {}
        for level, when, stage, callback in subscriptions._entries:
            machine = engine.machine if level == "innovation" else engine.lab_machine
            if stage not in machine.states:
                raise NotFound("stage", stage, where=where)
            table.setdefault((level, when, stage), []).append(callback)
        self._engine = engine
        self._table = {key: tuple(callbacks) for key, callbacks in table.items()} or None
        self._watched = {
            level: frozenset(state for lv, _, state in table if lv == level)
            for level, _, _ in table
        }

    def applied(self, event: Event, stage: str) -> None:
        """``event`` was applied; its subject is now at ``stage``. Call or hold the callbacks."""
        if self._table is None:
            return
        if self._held:
            self._pending.append((event, stage))
        else:
            self._deliver(event, stage)

    def hold(self) -> None:
        """Hold callbacks back until `flush` (a store session: until its commit)."""
        self._held = True

    def flush(self) -> None:
        """Call the callbacks of every move held back, in the order they were applied."""
        pending, self._pending = self._pending, []
        for event, stage in pending:
            self._deliver(event, stage)

    def drop(self) -> None:
        """Forget the moves held back: they were not kept."""
        self._pending.clear()

    def _deliver(self, event: Event, stage: str) -> None:
        table, engine = self._table, self._engine
        level: Level = "lab" if event.kind.startswith("lab.") else "innovation"
        watched = self._watched.get(level)
        if table is None or engine is None or watched is None:
            return
        move: Move | None = None

        def notify(when: str, state: str, source: str, dest: str) -> None:
            nonlocal move
            assert table is not None
            callbacks = table.get((level, when, state))
            if callbacks:
                if move is None:
                    move = Move(event.subject, level, source, dest, event)
                for callback in callbacks:
                    callback(move)

        engine.report(event, stage, notify, watched)
