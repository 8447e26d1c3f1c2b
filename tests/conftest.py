"""Test-wide settings: Hypothesis profiles sized for a shared 2-core machine."""

from __future__ import annotations

import os

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
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "default"))
