"""A deterministic clock, so that generated histories are reproducible to the hash."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Final

from labflow.errors import InvalidCommand

#: When every `StepClock` starts unless told otherwise: the first Kebumen lab, 2016.
START: Final = datetime(2016, 5, 1, 8, 0, tzinfo=UTC)


class StepClock:
    """A deterministic lab clock: each reading is ``step`` after the one before.

    Readings are aware and strictly increasing, so histories are reproducible
    (the same commands give the same hashes) and never tie. Inside `held` every
    reading is the same instant, so a ``check`` and the command that follows it
    see the same time (a deadline cannot fall between them).

    A naive or non-datetime ``start``, or a ``step`` that is not a positive
    timedelta, is refused with `labflow.InvalidCommand`, like any bad input to
    labflow.
    """

    def __init__(self, start: datetime = START, step: timedelta = timedelta(minutes=1)) -> None:
        if not isinstance(start, datetime) or start.tzinfo is None:
            raise InvalidCommand(f"A StepClock needs a timezone-aware start, not {start!r}.")
        if not isinstance(step, timedelta) or step <= timedelta(0):
            raise InvalidCommand(f"A StepClock must move forward by a positive step, not {step!r}.")
        try:
            self.last = start - step  #: the latest reading
        except OverflowError:
            raise InvalidCommand(f"A StepClock step of {step!r} leaves the calendar.") from None
        self.step = step
        self._held = False

    def __call__(self) -> datetime:
        if not self._held:
            self.last += self.step
        return self.last

    @contextlib.contextmanager
    def held(self) -> Iterator[datetime]:
        """Read the clock once and keep returning that reading until the block ends."""
        moment = self()
        outer, self._held = self._held, True
        try:
            yield moment
        finally:
            self._held = outer  # a nested hold keeps the outer one's instant
