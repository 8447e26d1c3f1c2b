"""Every bundled preset and every example policy keeps the design's invariants under random use.

`labflow.testing.make_state_machine` drives random command sequences by random
actors (lacking roles, wrong parties, withdrawn innovations, malformed input,
mixed with moves that make progress) and checks invariants 1, 2, 3, 4, 6 and 7
of DESIGN.md after every command. The presets and examples are listed when the
tests are collected, so a new preset or example is covered without editing this.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from hypothesis import Phase, settings
from hypothesis.stateful import run_state_machine_as_test

import labflow
from labflow.testing import make_state_machine

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

#: Where the suite runs in CI (the same switch as the "ci" profile in conftest.py).
IN_CI = bool(os.environ.get("CI")) or os.environ.get("HYPOTHESIS_PROFILE") == "ci"
#: About two to three seconds a policy on a shared 2-core machine. What is checked is the
#: same everywhere; only how a failure is reported differs. Every attempt to shrink a failing
#: run replays the lab after each of its steps, and shrinking one once ran past five minutes
#: (Hypothesis's own cap): so one bug is reported, not a group, and in CI it is reported as
#: found -- every step noted, with the seed to reproduce it (``print_blob``) -- unshrunk.
#: Locally Hypothesis shrinks it.
RUN = settings(
    max_examples=50,
    stateful_step_count=40,
    report_multiple_bugs=False,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, *([] if IN_CI else [Phase.shrink])],
)


@pytest.fixture(autouse=True)
def _quiet() -> Iterator[None]:
    """Keep labflow's audit events out of stdout: thousands of commands run here."""
    with structlog.testing.capture_logs():
        yield


def _example_policy(path: Path) -> labflow.Policy:
    """Load an example's policy with its own registry (from ``<region>_rules.py``, if any)."""
    registry = labflow.DEFAULT_REGISTRY
    for rules in sorted(path.parent.glob("*_rules.py")):
        spec = importlib.util.spec_from_file_location(f"_stateful_{rules.stem}", rules)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        registry = getattr(module, "REGISTRY", registry)
    return labflow.load_policy(path, registry=registry)


@pytest.mark.parametrize("name", labflow.available_presets())
def test_preset_keeps_the_invariants(name: str) -> None:
    """A bundled preset survives random command sequences with every invariant intact."""
    run_state_machine_as_test(make_state_machine(name), settings=RUN)


@pytest.mark.parametrize(
    "path",
    sorted(EXAMPLES.glob("*/policy.toml")),
    ids=lambda p: p.parent.name,
)
def test_example_policy_keeps_the_invariants(path: Path) -> None:
    """An example region's policy, with its custom requirements, keeps every invariant."""
    policy = _example_policy(path)
    run_state_machine_as_test(make_state_machine(policy), settings=RUN)
