"""Test-wide settings: Hypothesis profiles sized for a shared 2-core machine."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator

import pytest
import structlog
from hypothesis import HealthCheck, settings

# Shared machines are noisy: no per-example deadline; behaviour, not speed, is tested here.
settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile(
    "ci",
    parent=settings.get_profile("default"),
    derandomize=True,
    database=None,
)
settings.load_profile(
    "ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "default")
)


@pytest.fixture(autouse=True)
def _quiet_structlog() -> Iterator[None]:
    """Keep labflow's audit events out of test output; `capture_logs()` still sees them."""
    structlog.configure(
        processors=[structlog.processors.add_log_level],
        logger_factory=structlog.ReturnLoggerFactory(),
    )
    yield
    structlog.reset_defaults()


@pytest.fixture
def steady_search() -> Iterator[None]:
    """Pause the cyclic garbage collector, so a derandomized search draws the same examples
    in every process.

    Hypothesis keeps weak references to the values a test case drew and reuses those still
    alive when it builds later test cases. A drawn lab holds reference cycles, so whether it
    is still alive depends on when the cyclic collector last ran -- on everything the
    process allocated before -- and a derandomized search then draws different labs from one
    run to the next: the share of generated kudus-2019 labs reaching deliver ranged from
    0.075 to 0.725 over runs of the same commit. With the collector paused (reference
    counting still frees what has no cycle) it is the same on every run. Used by the tests
    that measure what the driver reaches and by those that must find a planted bug.
    """
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()
