"""Only labflow's own errors escape: every public callable, fed hostile arguments.

The walk finds its targets itself -- every name in ``labflow.__all__`` and in the
``__all__`` of every public submodule (any module whose dotted name has no part
starting with ``_``) -- so a public function or class added later is walked too,
with no list to update here. Each target is called, through Hypothesis, with
arguments drawn from wrong types, ``None``, huge and empty values, control
characters, values Hypothesis builds from the parameter's annotation, and real
labflow objects (a lab, its policy, an innovation, an event) mixed with the rest.
Whatever a call returns is fine; what it raises must be a `labflow.LabflowError`.

Deterministic (derandomized, no example database) and bounded (a fixed number of
examples per target, sizes capped), so it runs the same on every machine.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import pkgutil
import sys
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import labflow
from helpers import bring_to, cohort, make_lab, prepare, register

#: A derandomized search must draw the same examples on every run (see conftest.py).
pytestmark = pytest.mark.usefixtures("steady_search")

#: Modules imported only to be walked; their import has no side effect.
_PUBLIC = sorted(
    {"labflow"}
    | {
        info.name
        for info in pkgutil.walk_packages(labflow.__path__, "labflow.")
        if not any(part.startswith("_") for part in info.name.split(".")[1:])
    }
)


def _why_skipped(target: object) -> str | None:
    """Why a public name is not walked, or ``None`` when it is."""
    if not callable(target):
        return "not callable (a constant)"
    if isinstance(target, type):
        if issubclass(target, BaseException):
            return "an error class: labflow raises these, hosts do not build them from input"
        if issubclass(target, enum.Enum):
            return "an enum: looking a value up is Python's own (ValueError), and documented"
        if getattr(target, "_is_protocol", False):
            return "a protocol: it has no constructor"
    if isinstance(target, typing.NewType):
        return "a NewType: a marker for type checkers, called only on values already checked"
    if typing.get_origin(target) is not None:
        return "a type alias"
    return None


def _targets() -> Iterator[tuple[str, Callable[..., Any]]]:
    seen: set[int] = set()
    for module_name in _PUBLIC:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            target = getattr(module, name)
            if _why_skipped(target) is not None or id(target) in seen:
                continue
            seen.add(id(target))
            yield f"{module_name}.{name}", target


TARGETS = dict(_targets())
CALLS = {"count": 0}

# --- hostile values ------------------------------------------------------------------------

CONTROL = ["\x1b]0;OWNED\x07\x1b[2J", "id\n", "\x00", "\u202eevil", "\ufeffbom", "\udcff", "a\rb"]
HUGE = [10**100, 2**64, -(2**63) - 1, "x" * 1_000_000, ["x"] * 10_000, {"k" * 1000: None}]
EMPTY = ["", [], {}, (), set(), b""]
WRONG = [None, 0, -1, 1.5, float("nan"), float("inf"), True, b"bytes", object(), ["a", 1], {1: 2}]
WRONG += [Path("/dev/zero"), "/dev/zero", "../../etc/passwd", "lan-5d", date(2016, 1, 1)]
WRONG += [datetime(2016, 1, 1), datetime(2016, 1, 1, tzinfo=UTC), [None], {"kind": "lab"}]
HOSTILE: list[object] = [*CONTROL, *HUGE, *EMPTY, *WRONG]


def _real() -> list[object]:
    """Real labflow objects: a hostile call mixes them with bad values to get further in."""
    lab = make_lab()
    cohort(lab)
    register(lab, "ambulans", "dinkes")
    prepare(lab, "ambulans", "design")
    bring_to(lab, "diagnose", launch=False)
    innovation = lab.innovation("ambulans")
    return [
        lab,
        lab.policy,
        innovation,
        innovation.history,
        innovation.history[0],
        lab.history,
        labflow.serde.unstructure(lab),
        labflow.serde.dumps(innovation),
        next(iter(lab.units.values())),
        next(iter(lab.actors.values())),
        labflow.DEFAULT_REGISTRY,
    ]


REAL = _real()


#: Annotations Hypothesis builds values for; labflow's own types are stood in for by `REAL`.
_PLAIN = {str, int, bool, float, bytes, datetime, date, timedelta, Path, type(None)}


def _plain(annotation: Any) -> bool:
    if annotation in _PLAIN:
        return True
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    containers = (list, tuple, set, frozenset, dict, Sequence, Mapping, Iterable)
    return (
        bool(args)
        and (origin in containers or origin in (typing.Union, types.UnionType))
        and (all(a is Ellipsis or _plain(a) for a in args))
    )


def _from_annotation(annotation: Any) -> st.SearchStrategy[Any] | None:
    """Values Hypothesis builds for a plain annotation (str, a list of str, an int or None...)."""
    if not _plain(annotation):
        return None
    return st.from_type(annotation)


def _argument(annotation: Any) -> st.SearchStrategy[Any]:
    options: list[st.SearchStrategy[Any]] = [
        st.sampled_from(HOSTILE),
        st.sampled_from(REAL),
        st.text(max_size=20),
        st.integers(),
    ]
    built = _from_annotation(annotation)
    if built is not None:
        options.append(built)
    return st.one_of(options)


def _parameters(target: Callable[..., Any]) -> list[inspect.Parameter]:
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return []
    try:
        hints = typing.get_type_hints(target.__init__ if isinstance(target, type) else target)
    except Exception:
        hints = {}
    return [
        p.replace(annotation=hints.get(p.name, inspect.Parameter.empty))
        for p in signature.parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


@st.composite
def _call(draw: st.DrawFn, target: Callable[..., Any]) -> tuple[list[Any], dict[str, Any]]:
    """Arguments for ``target``: every required parameter, and some optional ones."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for parameter in _parameters(target):
        required = parameter.default is inspect.Parameter.empty
        if not required and not draw(st.booleans()):
            continue
        value = draw(_argument(parameter.annotation))
        if parameter.kind is parameter.POSITIONAL_ONLY or (
            parameter.kind is parameter.POSITIONAL_OR_KEYWORD and required
        ):
            args.append(value)
        else:
            kwargs[parameter.name] = value
    return args, kwargs


WALK = settings(
    max_examples=25,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # a report needs no shrinking: the call is shown
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


#: Escapes known and owned elsewhere: each is an expected failure, strictly, so the day it is
#: fixed the walk fails until its line here is removed.
KNOWN_ESCAPES: dict[str, str] = {}


def _case(name: str) -> Any:
    reason = KNOWN_ESCAPES.get(name)
    marks = [pytest.mark.xfail(reason=reason, strict=True, raises=AssertionError)] if reason else []
    return pytest.param(name, marks=marks, id=name)


@pytest.mark.filterwarnings("ignore:Generating overly large repr")  # the huge values, shown
@pytest.mark.parametrize("name", [_case(name) for name in sorted(TARGETS)])
def test_only_labflow_errors_escape(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hostile arguments to a public callable raise a LabflowError or nothing."""
    target = TARGETS[name]
    monkeypatch.chdir(tmp_path)  # anything a call writes (an SQLite file) lands here
    monkeypatch.setattr(sys, "argv", ["labflow"])  # `cli.main(None)` reads the real argv

    @WALK
    @given(_call(target))
    def walk(call: tuple[list[Any], dict[str, Any]]) -> None:
        args, kwargs = call
        CALLS["count"] += 1
        try:
            target(*args, **kwargs)
        except labflow.LabflowError:
            pass
        except BaseException as exc:
            shown = ", ".join(
                [*map(_short, args), *(f"{k}={_short(v)}" for k, v in kwargs.items())]
            )
            raise AssertionError(
                f"{name}({shown}) raised {type(exc).__name__}: {_short(str(exc))}"
            ) from exc

    walk()


@pytest.fixture(scope="module", autouse=True)
def _tally() -> Iterator[None]:
    """Say how many hostile calls the walk made (shown with ``pytest -s``)."""
    yield
    print(f"\nthe API walk made {CALLS['count']} hostile calls to {len(TARGETS)} callables")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def test_the_walk_covers_the_public_api() -> None:
    """Every public module is walked, and the walk reaches the names a host uses most."""
    assert {"labflow", "labflow.serde", "labflow.store", "labflow.cohort"} <= set(_PUBLIC)
    for name in (
        "labflow.load_policy",
        "labflow.parse_policy",
        "labflow.verify",
        "labflow.Actor",
        "labflow.serde.loads",
        "labflow.serde.json_schema",
        "labflow.cohort.read_units",
        "labflow.diff.compare",
        "labflow.reports.report",
    ):
        assert name in TARGETS
    assert len(TARGETS) >= 100
