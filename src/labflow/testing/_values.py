"""Hypothesis strategies for the domain's values: ids, texts, units, actors, artefacts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from hypothesis import strategies as st

from labflow.errors import InvalidCommand
from labflow.model import GOVERNMENT_KINDS, Actor, Diagnosis, PlanStep, Role, Unit, UnitKind
from labflow.policy import Policy


def _all(values: object, kind: type) -> bool:
    """Whether ``values`` is a list (not a text) of ``kind`` values."""
    return (
        isinstance(values, Sequence)
        and not isinstance(values, str)
        and all(isinstance(v, kind) for v in values)
    )


def idents() -> st.SearchStrategy[str]:
    """Ids as labflow accepts them: short, lowercase, no white space (``dinkes``, ``pkm-2``)."""
    return st.from_regex(r"[a-z][a-z0-9]{0,7}(-[a-z0-9]{1,5}){0,2}", fullmatch=True)


def texts(*, max_size: int = 24) -> st.SearchStrategy[str]:
    """Short non-blank text, Indonesian or otherwise (letters, digits, spaces, punctuation)."""
    alphabet = st.characters(codec="utf-8", categories=("L", "N", "Zs", "P"))
    return st.text(alphabet, min_size=1, max_size=max_size).filter(lambda s: bool(s.strip()))


def units(kinds: Sequence[UnitKind] | None = None) -> st.SearchStrategy[Unit]:
    """A `labflow.Unit` of one of ``kinds`` (default: any kind)."""
    if kinds is not None:
        if isinstance(kinds, str) or not isinstance(kinds, Sequence) or not kinds:
            raise InvalidCommand(f"units() needs a list of unit kinds, not {kinds!r:.60}.")
        kinds = [Unit("u", "u", kind).kind for kind in kinds]  # an unknown kind: InvalidCommand
    return st.builds(Unit, idents(), texts(), st.sampled_from(list(kinds or UnitKind)))


def unit_lists(
    *, min_size: int = 1, max_size: int = 4, policy: Policy | None = None
) -> st.SearchStrategy[list[Unit]]:
    """Units with distinct ids, the first always a government unit (so agreements can be made).

    With ``policy``, only the unit kinds it allows, the first of those it counts as government.
    """
    if type(min_size) is not int or type(max_size) is not int or not 1 <= min_size <= max_size:
        raise InvalidCommand(
            f"A lab needs at least one unit, and max_size ({max_size}) "
            f"cannot be below min_size ({min_size})."
        )

    given: object = policy  # a host's value, typed or not
    if given is not None and not isinstance(given, Policy):
        raise InvalidCommand(f"unit_lists() takes a labflow.Policy, not {type(given).__name__}.")
    allowed = sorted(policy.settings.unit_kinds) if policy is not None else None
    government = sorted(
        GOVERNMENT_KINDS if policy is None else policy.government_kinds & set(allowed or ())
    ) or sorted(allowed or GOVERNMENT_KINDS)

    @st.composite
    def build(draw: st.DrawFn) -> list[Unit]:
        first = draw(units(government))
        rest = draw(
            st.lists(
                units(allowed).filter(lambda u: u.id != first.id),
                min_size=min_size - 1,
                max_size=max_size - 1,
                unique_by=lambda u: u.id,
            )
        )
        return [first, *rest]

    return build()


def actors(
    units: Sequence[Unit] = (), roles: Sequence[str] = tuple(Role)
) -> st.SearchStrategy[Actor]:
    """A `labflow.Actor` holding some of ``roles``, belonging to one of ``units`` or to none."""
    if not _all(units, Unit) or not _all(roles, str):
        raise InvalidCommand("actors() needs a list of labflow.Unit and a list of role ids.")
    unit_ids: list[str | None] = [None, *(u.id for u in units)]
    return st.builds(
        Actor,
        idents(),
        texts(),
        st.frozensets(st.sampled_from([str(r) for r in roles]), max_size=3),
        st.sampled_from(unit_ids),
    )


def diagnoses() -> st.SearchStrategy[Diagnosis]:
    """A `labflow.Diagnosis`; sometimes with fewer root causes than a gate may ask for."""
    return st.builds(
        Diagnosis, texts(), st.lists(texts(), max_size=3).map(tuple), st.just("") | texts()
    )


def plan_steps() -> st.SearchStrategy[PlanStep]:
    """One step of an action plan, with a person responsible and a due date."""
    return st.builds(
        PlanStep,
        texts(),
        texts(),
        st.dates(min_value=date(2015, 1, 1), max_value=date(2020, 12, 31)),
    )


def plans(*, max_size: int = 4) -> st.SearchStrategy[list[PlanStep]]:
    """The steps of an action plan: at least one."""
    return st.lists(plan_steps(), min_size=1, max_size=max_size)
