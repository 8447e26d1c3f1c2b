"""A policy's rules for exhibitions: where innovations are exhibited, and who else may show.

Private; `labflow.policy` reads the ``[exhibitions]`` table with `parse_exhibitions` and
keeps the result as `Policy.exhibitions`. Kept apart from the policy module so that the
exhibition feature says its own rules once, next to nothing else.

```toml
[exhibitions]
stage = "display"          # where exhibitions are held and exhibits registered
launches = true            # innovations may be launched at an open exhibition
outside_kinds = ["community", "private", "academia", "vertical"]
```
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs

from labflow.model import GOVERNMENT_KINDS, UnitKind

if TYPE_CHECKING:
    from labflow.policy import Policy

__all__ = ["EXHIBITION_KEYS", "ExhibitionRules", "exhibit_stage", "parse_exhibitions"]

#: The keys of a policy's ``[exhibitions]`` table.
EXHIBITION_KEYS: Final = ("stage", "launches", "outside_kinds")

_Report = Callable[[str, str], None]


@attrs.frozen
class ExhibitionRules:
    """Where innovations are exhibited and who takes part in an exhibition from outside.

    The defaults are today's: exhibits at the stage covering *display*, no launches at an
    exhibition, and every non-government kind may exhibit without a lab lifecycle.
    """

    #: the stage at which the lab holds exhibitions and innovations register exhibits
    #: (``None``: the stage covering *display*)
    stage: str | None = None
    #: whether an innovation may be launched at an open exhibition (Kudus, December 2017)
    launches: bool = False
    #: the kinds of body that may exhibit from outside government
    outside_kinds: frozenset[UnitKind] = frozenset(UnitKind) - GOVERNMENT_KINDS

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.stage is not None:
            data["stage"] = self.stage
        data["launches"] = self.launches
        data["outside_kinds"] = sorted(k.value for k in self.outside_kinds)
        return data


def parse_exhibitions(
    raw: Any,
    stages: Sequence[str],
    government: frozenset[UnitKind],
    report: _Report,
) -> ExhibitionRules:
    """The ``[exhibitions]`` table (``stages``: the policy's stage ids; ``government``: the
    kinds its settings count as the regional government, which cannot exhibit from outside)."""
    if raw is None:
        return ExhibitionRules()
    if not isinstance(raw, dict):
        report("$.exhibitions", f"must be a table, not {type(raw).__name__}")
        return ExhibitionRules()
    for key in raw:
        if key not in EXHIBITION_KEYS:
            report(f"$.exhibitions.{key}", "unknown key")
    stage = raw.get("stage")
    if stage is not None and stage not in stages:
        report("$.exhibitions.stage", f"{stage!r} is not a stage of this policy")
        stage = None
    launches = raw.get("launches", False)
    if not isinstance(launches, bool):
        report("$.exhibitions.launches", "must be true or false")
        launches = False
    kinds = frozenset(UnitKind) - government
    given = raw.get("outside_kinds")
    if given is not None:
        if not isinstance(given, list) or not all(isinstance(k, str) for k in given):
            report("$.exhibitions.outside_kinds", "must be an array of unit kinds")
        else:
            allowed = {k.value for k in UnitKind}
            bad = [k for k in given if k not in allowed]
            if bad:
                report(
                    "$.exhibitions.outside_kinds",
                    f"{', '.join(map(repr, bad))}: not unit kinds "
                    f"(one of {', '.join(sorted(allowed))})",
                )
            kinds = frozenset(UnitKind(k) for k in given if k in allowed)
            inside = sorted(k.value for k in kinds & government)
            if inside:
                report(
                    "$.exhibitions.outside_kinds",
                    f"{', '.join(map(repr, inside))} belong to the regional government "
                    "(settings.government_kinds); their units exhibit as units of the lab",
                )
    return ExhibitionRules(stage, launches, kinds)


def exhibit_stage(policy: Policy) -> str | None:
    """The stage at which the lab holds exhibitions and innovations register exhibits."""
    if policy.exhibitions.stage is not None:
        return policy.exhibitions.stage
    stage = policy.stage_covering("display")
    return stage.id if stage is not None else None
