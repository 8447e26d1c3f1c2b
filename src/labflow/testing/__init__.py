"""Hypothesis strategies and a stateful test that any policy can be put through.

Why it exists: a region that writes its own policy -- its own stages, gates,
roles and requirements in Python -- needs more than a few hand-written scenarios
to trust it. It needs to know that *no* sequence of commands, by *any* actor,
with *any* input, can push an innovation past a gate it does not meet, change
anything on a refusal, or leave a history that does not replay to the same
state. This package gives a host the pieces to prove that of its own variant,
the same pieces the bundled presets are tested with.

How a host uses it::

    from hypothesis import settings
    from labflow.testing import labs, make_state_machine

    Machine = make_state_machine(my_policy)           # checks the invariants
    Machine.TestCase.settings = settings(max_examples=40, stateful_step_count=40)
    TestMyPolicy = Machine.TestCase                   # pytest collects it

    @given(labs(my_policy))                           # labs that reach deliver and display
    def test_my_property(lab): ...

What is in it:

- `make_state_machine` turns a policy (with its custom requirements) into a
  `hypothesis.stateful.RuleBasedStateMachine` that drives random commands by
  random actors and checks the invariants of the design after every command,
  raising `InvariantViolation` when one breaks;
- `labs` -- a `labflow.Lab` at a random point of its life, driven mostly by
  moves that answer what blocks its progress, so that generated labs regularly
  reach deliver, display and documentation;
- strategies for the domain's values: `idents`, `texts`, `units`, `unit_lists`,
  `actors`, `diagnoses`, `plan_steps`, `plans`;
- `roster` builds a sensible cast for a lab (a secretariat, a regional head, a
  facilitator, an auditor, and a head and an innovator for every unit; their ids
  are `SECRETARIAT`, `REGIONAL_HEAD`, `FACILITATOR`, `AUDITOR`, `head_of` and
  `innovator_of`), and `permitted` states independently who may do what;
- `StepClock` is a deterministic, injectable clock.

The implementation lives in private modules, one concept each: ``_clock``,
``_cast``, ``_values`` (value strategies), ``_moves`` (random commands),
``_driver`` (progress and `labs`), ``_invariants`` (the checks) and ``_machine``.

Hypothesis is an optional dependency: install ``labflow[testing]``.
See ``docs/testing.md`` for a worked example.
"""

from __future__ import annotations

from labflow.errors import InvariantViolation
from labflow.testing._cast import (
    AUDITOR,
    FACILITATOR,
    LAB_ID,
    REGION,
    REGIONAL_HEAD,
    SECRETARIAT,
    head_of,
    innovator_of,
    permitted,
    roster,
)
from labflow.testing._clock import START, StepClock
from labflow.testing._driver import labs
from labflow.testing._machine import make_state_machine
from labflow.testing._values import (
    actors,
    diagnoses,
    idents,
    plan_steps,
    plans,
    texts,
    unit_lists,
    units,
)

__all__ = [
    "AUDITOR",
    "FACILITATOR",
    "LAB_ID",
    "REGION",
    "REGIONAL_HEAD",
    "SECRETARIAT",
    "START",
    "InvariantViolation",
    "StepClock",
    "actors",
    "diagnoses",
    "head_of",
    "idents",
    "innovator_of",
    "labs",
    "make_state_machine",
    "permitted",
    "plan_steps",
    "plans",
    "roster",
    "texts",
    "unit_lists",
    "units",
]
