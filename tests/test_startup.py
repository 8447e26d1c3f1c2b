"""Start-up stays light: what `import labflow` and ``labflow --help`` import, without timing.

The performance targets (``docs/performance.md``) are measured by ``benchmarks/run.py``;
these tests guard the shape that meets them on any machine: each runs a fresh interpreter
and lists the modules it ended up with.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: Third-party libraries labflow imports only when a feature needs them.
HEAVY = ("structlog", "rich", "transitions", "cattrs", "orjson", "psycopg", "jinja2", "asyncio")
#: labflow's engine: the lab, its machines, policies and stores.
ENGINE = ("labflow.lab", "labflow._engine", "labflow.policy", "labflow.store", "labflow.serde")


def imported_after(code: str) -> set[str]:
    """The top-level and labflow modules a fresh interpreter holds after running ``code``."""
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if n in modules or any(m.startswith(n + ".") for m in modules))


def test_import_labflow_imports_no_engine_and_no_heavy_library() -> None:
    modules = imported_after("import labflow")
    assert loaded(modules, HEAVY + ENGINE) == []


def test_help_is_built_without_the_engine() -> None:
    code = (
        "import io\nfrom labflow.cli import main\n"
        "assert main(['--help'], stdout=io.StringIO(), stderr=io.StringIO()) == 0"
    )
    modules = imported_after(code)
    assert loaded(modules, HEAVY + ENGINE) == []


@pytest.mark.parametrize("name", ["Lab", "load_policy", "GateRefused", "SQLiteStore"])
def test_a_public_name_brings_its_module_on_first_use(name: str) -> None:
    modules = imported_after(f"from labflow import {name}")
    assert loaded(modules, ("structlog", "rich", "cattrs")) == []  # still not before an event


def test_structlog_is_imported_with_the_first_event() -> None:
    """A lab can be opened before structlog is imported; its first event then imports it."""
    code = (
        "import contextlib, io, sys\n"
        "import labflow\n"
        "policy = labflow.load_policy('lan-5d')\n"
        "assert 'structlog' not in sys.modules\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    lab = labflow.Lab.create(policy, id='k', region='K', by='s',\n"
        "                             actors=[labflow.Actor('s', 'S', {'secretariat'})])\n"
        "assert lab.history"
    )
    modules = imported_after(code)
    assert "structlog" in modules
