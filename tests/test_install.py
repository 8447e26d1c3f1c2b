"""What a developer relies on right after installing: the public submodules are reachable
from ``import labflow`` alone, without importing what the host does not use."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_reports_is_reachable_after_import_labflow() -> None:
    """``labflow.reports`` works after ``import labflow``, and is imported only when used."""
    code = (
        "import sys, labflow\n"
        "assert 'labflow.reports' not in sys.modules, 'imported eagerly'\n"
        "assert callable(labflow.reports.report)\n"
        "assert sys.modules['labflow.reports'] is labflow.reports\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def test_an_unknown_attribute_is_still_an_attribute_error() -> None:
    import labflow

    with pytest.raises(AttributeError, match="no_such_name"):
        labflow.no_such_name  # type: ignore[attr-defined]  # noqa: B018
