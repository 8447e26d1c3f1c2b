"""The interleaved harness: paired rounds, rotated order, medians of ratios, and the rows.

A contender (`Case`) builds a fresh workload untimed, then runs it; `interleave` times every
contender's slice within each round, rotating the order each round, and `paired` reports a
case against its baseline as the median and interquartile range of the per-round ratios --
the figures a shared, noisy machine cannot move much, because both sides of a ratio ran
within milliseconds of each other.
"""

from __future__ import annotations

import gc
import logging
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import structlog
from structlog.testing import capture_logs

# --- results -------------------------------------------------------------------------------------


@dataclass
class Result:
    """One row of the table (and of the JSON)."""

    name: str
    value: float | None
    unit: str
    baseline: str | None = None
    baseline_value: float | None = None
    ratio: float | None = None
    iqr: float | None = None
    target: str | None = None
    met: bool | None = None
    note: str | None = None


def judged(result: Result, *, shrunk: bool = False) -> Result:
    """Fill ``met`` from ``target`` (``"ratio <= 1.0"``, ``"value <= 50"``), unless shrunk."""
    if result.target is None or shrunk:
        return result
    what, op, bound = result.target.split()
    measured = result.ratio if what == "ratio" else result.value
    if measured is not None:
        limit = float(bound)
        result.met = measured <= limit if op == "<=" else measured >= limit
    return result


class CheckFailed(Exception):
    """A case did not do the work it is timed for: its numbers would mean nothing."""


def expect(condition: object, what: str) -> None:
    """Stop the run unless ``condition`` holds (not an ``assert``: ``-O`` must not skip it)."""
    if not condition:
        raise CheckFailed(f"benchmark check failed: {what}")


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    """The median and the interquartile range."""
    if len(values) < 2:
        return values[0], 0.0
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q2, q3 - q1


# --- the interleaved harness ---------------------------------------------------------------------

#: A slice of work, ready to run: returns nothing, does ``n`` operations.
Run = Callable[[], object]


@dataclass
class Case:
    """A contender: ``setup(n)`` builds a fresh workload of ``n`` operations (not timed)."""

    name: str
    setup: Callable[[int], Run]


# --- the clock --------------------------------------------------------------------------------

#: What a slice is timed with; see `use_clock`.
_CLOCK: list[Callable[[], float]] = [time.process_time]


def use_clock(name: str) -> None:
    """``cpu`` (the default): this process's CPU time; ``wall``: elapsed time.

    On a machine shared by more runnable processes than it has cores, elapsed time mostly
    measures the other tenants: a slice descheduled for 30 ms looks 30 ms slower, and
    that changes from one slice to the next faster than any pairing can follow. CPU time
    counts only what this process ran -- for work that does not wait on a disk or a
    network, what an idle machine's clock would show. ``wall`` is for an idle machine.
    """
    _CLOCK[0] = {"cpu": time.process_time, "wall": time.perf_counter}[name]


def clock_name() -> str:
    return "cpu" if _CLOCK[0] is time.process_time else "wall"


def now() -> float:
    """The current reading of the chosen clock, in seconds."""
    return _CLOCK[0]()


def interleave(cases: Sequence[Case], rounds: int, n: int) -> dict[str, list[float]]:
    """Seconds per operation of every case, one sample per round, the order rotated each round.

    Every round builds every workload first, then times the slices back to back, so the
    cases of one round share the machine's state of that moment. The garbage collector is
    left on (allocation is part of the cost) but emptied before each slice.
    """
    samples: dict[str, list[float]] = {c.name: [] for c in cases}
    for r in range(rounds):
        runs = [(c.name, c.setup(n)) for c in cases]
        k = r % len(runs)
        for name, run in runs[k:] + runs[:k]:
            gc.collect()
            start = now()
            run()
            samples[name].append((now() - start) / n)
    return samples


def paired(
    samples: dict[str, list[float]],
    case: str,
    baseline: str,
    *,
    name: str,
    target: str | None = None,
    scale: float = 1e6,
    unit: str = "µs",
    note: str | None = None,
    shrunk: bool = False,
) -> Result:
    """A row: the case's median against its baseline's, and the median of the paired ratios."""
    ratios = [c / b for c, b in zip(samples[case], samples[baseline], strict=True)]
    ratio, iqr = quartiles(ratios)
    return judged(
        Result(
            name=name,
            value=statistics.median(samples[case]) * scale,
            unit=unit,
            baseline=baseline,
            baseline_value=statistics.median(samples[baseline]) * scale,
            ratio=ratio,
            iqr=iqr,
            target=target,
            note=note,
        ),
        shrunk=shrunk,
    )


def _drop(logger: object, name: str, event: Any) -> Any:
    raise structlog.DropEvent


def checking_logging() -> None:
    """While the cases show their work: nothing printed, nothing cached, `captured` works."""
    structlog.configure(processors=[_drop], cache_logger_on_first_use=False)


@contextmanager
def captured() -> Iterator[list[dict[str, Any]]]:
    """Every structlog event emitted inside the block (checks run before any timing)."""
    with capture_logs() as logs:
        yield logs


def filtered_logging() -> None:
    """A host's production set-up: a filtering logger (above labflow's levels), cached.

    labflow's refusals are warnings, so the filter is at CRITICAL: both the applied and the
    refused events are built and dropped, not printed. Called once the checks are done:
    a cached logger would not see ``capture_logs`` any more.
    """
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL),
        cache_logger_on_first_use=True,
    )


def show(result: Result) -> str:
    def num(value: float | None) -> str:
        if value is None:
            return "-"
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"

    ratio = "" if result.ratio is None else f"{result.ratio:.2f}x ±{result.iqr or 0:.2f}"
    met = {True: "met", False: "NOT MET", None: ""}[result.met]
    line = (
        f"{result.name[:64]:<64} {num(result.value):>9} {result.unit:<3}"
        f" {num(result.baseline_value):>9} {ratio:>13}  {result.target or '':<14} {met}"
    )
    return line + (f"\n{'':<4}{result.note}" if result.note else "")


DASH, TIMES = "\N{EN DASH}", "\N{MULTIPLICATION SIGN}"


def markdown(results: Sequence[Result]) -> str:
    """The table for docs/performance.md: one row per result, figures as ``show`` gives them."""

    def num(value: float | None) -> str:
        if value is None:
            return DASH
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"

    lines = [
        "| figure | labflow | baseline | ratio (IQR) | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        base = DASH if r.baseline is None else f"{num(r.baseline_value)} {r.unit} ({r.baseline})"
        ratio = DASH if r.ratio is None else f"{r.ratio:.2f}{TIMES} ({r.iqr or 0:.2f})"
        met = {True: "met", False: "**not met**", None: DASH}[r.met]
        target = (
            (r.target or DASH)
            .replace("<=", "\N{LESS-THAN OR EQUAL TO}")
            .replace(">=", "\N{GREATER-THAN OR EQUAL TO}")
        )
        value = f"{num(r.value)} {r.unit}" if r.value is not None else (r.note or DASH)
        lines.append(f"| {r.name} | {value} | {base} | {ratio} | {target} | {met} |")
    return "\n".join(lines) + "\n"
