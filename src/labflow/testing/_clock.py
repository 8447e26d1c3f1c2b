"""A deterministic clock, so that generated histories are reproducible to the hash."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Final

#: When every `StepClock` starts unless told otherwise: the first Kebumen lab, 2016.
START: Final = datetime(2016, 5, 1, 8, 0, tzinfo=UTC)


class StepClock:
    """A deterministic lab clock: each reading is ``step`` after the one before.

    Readings are aware and strictly increasing, so histories are reproducible
    (the same commands give the same hashes) and never tie. Inside `held` every
    reading is the same instant, so a ``check`` and the command that follows it
    see the same time (a deadline cannot fall between them).
    """

    def __init__(self, start: datetime = START, step: timedelta = timedelta(minutes=1)) -> None:
        if start.tzinfo is None:
            raise ValueError("A StepClock needs a timezone-aware start.")
        if step <= timedelta(0):
            raise ValueError("A StepClock must move forward.")
        self.last = start - step  #: the latest reading
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
        self._held = True
        try:
            yield moment
        finally:
            self._held = False
