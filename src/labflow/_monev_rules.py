"""A policy's monitoring obligation: monev every N months after the launch.

Private; `labflow.policy` reads the ``[monev]`` table with `parse_monev` and keeps the
result as `Policy.monev`. Like a deadline, the obligation is enforced at a gate (the gate
of ``stage`` must then require ``monev_up_to_date``) or only reported:

```toml
[monev]
every_months = 3           # one record in each window of three months after the launch
until_months = 12          # the obligation ends a year after the launch (default: never)
indicators = ["users"]     # indicators every record must give (default: none)
enforce = "gate"           # or "report"
stage = "display"          # the gate that refuses an innovation whose monev is overdue
```
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs

from labflow._cadence import Window, judge
from labflow.model import Innovation, Monev
from labflow.requirements import GateContext, Unmet, requirement, unmet

if TYPE_CHECKING:
    from labflow.policy import Policy

__all__ = [
    "MONEV_KEYS",
    "MONEV_KIND",
    "MONEV_REQUIREMENT",
    "MonevRules",
    "monev_records",
    "monev_refusal",
    "monev_up_to_date",
    "monev_windows",
    "parse_monev",
]

#: The event kind of a monev record.
MONEV_KIND: Final = "innovation.monitored"

#: The keys of a policy's ``[monev]`` table.
MONEV_KEYS: Final = ("every_months", "until_months", "indicators", "enforce", "stage")
#: The gate requirement that enforces the obligation.
MONEV_REQUIREMENT: Final = "monev_up_to_date"
#: The longest cadence and obligation a policy may declare, in months (a century).
_MAX_MONTHS: Final = 1200

_Report = Callable[[str, str], None]


@attrs.frozen
class MonevRules:
    """How often a launched innovation is monitored, for how long, and what enforces it."""

    every_months: int
    enforce: Literal["gate", "report"]
    until_months: int | None = None
    indicators: tuple[str, ...] = ()
    #: the stage whose gate requires ``monev_up_to_date`` (with ``enforce = "gate"``)
    stage: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"every_months": self.every_months, "enforce": self.enforce}
        if self.until_months is not None:
            data["until_months"] = self.until_months
        if self.indicators:
            data["indicators"] = list(self.indicators)
        if self.stage is not None:
            data["stage"] = self.stage
        return data


def _months(raw: dict[str, Any], key: str, report: _Report) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _MAX_MONTHS:
        report(f"$.monev.{key}", f"must be a whole number of months from 1 to {_MAX_MONTHS}")
        return None
    return value


def parse_monev(
    raw: Any,
    stages: Sequence[str],
    gates: Mapping[str, Iterable[str]],
    launch_stage: str | None,
    report: _Report,
) -> MonevRules | None:
    """The ``[monev]`` table, checked against the policy's stages, gates and launch stage.

    ``gates`` maps each stage to the names of its gate's requirements. A gate that requires
    ``monev_up_to_date`` with no obligation to judge, or an obligation enforced at a gate that
    does not require it, is a problem: nothing would enforce what the policy says.
    """
    users = sorted(s for s, names in gates.items() if MONEV_REQUIREMENT in set(names))
    if raw is None:
        for used in users:
            report(
                f"$.gates.{used}",
                f"requires {MONEV_REQUIREMENT!r} but the policy has no [monev] obligation",
            )
        return None
    if not isinstance(raw, dict):
        report("$.monev", f"must be a table, not {type(raw).__name__}")
        return None
    for key in raw:
        if key not in MONEV_KEYS:
            report(f"$.monev.{key}", "unknown key")
    every = _months(raw, "every_months", report)
    if "every_months" not in raw:
        report("$.monev.every_months", "is required: how many months between two monev records")
    until = _months(raw, "until_months", report)
    if every is not None and until is not None and until < every:
        report("$.monev.until_months", f"ends before the first window of {every} months closes")
    indicators = raw.get("indicators", [])
    if not isinstance(indicators, list) or not all(
        isinstance(i, str) and i.strip() for i in indicators
    ):
        report("$.monev.indicators", "must be an array of indicator names")
        indicators = []
    enforce = raw.get("enforce")
    if enforce not in ("gate", "report"):
        report("$.monev.enforce", "must be 'gate' or 'report'")
    stage = raw.get("stage")
    if stage is not None and stage not in stages:
        report("$.monev.stage", f"{stage!r} is not a stage of this policy")
        stage = None
    if launch_stage is None:
        report("$.monev", "monev follows the launch, and this policy launches at no stage")
    elif stage is not None and stages.index(stage) <= stages.index(launch_stage):
        report(
            "$.monev.stage",
            f"{stage!r} is not after the launch stage {launch_stage!r}: "
            "nothing is monitored before the launch",
        )
    if enforce == "gate":
        if stage is None and "stage" not in raw:
            report("$.monev.stage", "enforce = 'gate' needs the stage whose gate refuses")
        elif stage is not None and stage not in users:
            report(
                f"$.gates.{stage}",
                f"must require {MONEV_REQUIREMENT!r}: [monev] is enforced at this gate",
            )
    for other in users:
        if enforce != "gate" or other != stage:
            report(
                f"$.gates.{other}",
                f"requires {MONEV_REQUIREMENT!r} but [monev] is not enforced at this gate",
            )
    if every is None or enforce not in ("gate", "report"):
        return None
    return MonevRules(
        every,
        "gate" if enforce == "gate" else "report",
        until,
        tuple(indicators),
        stage,
    )


def monev_records(innovation: Innovation) -> tuple[Monev, ...]:
    """The monev records of ``innovation``, oldest first, as its history holds them."""
    return tuple(
        Monev(
            e.payload["period"],
            e.payload["indicators"],
            e.payload["findings"],
            e.payload["follow_up"],
            e.actor,
            e.at,
        )
        for e in innovation.history
        if e.kind == MONEV_KIND
    )


def monev_windows(rules: MonevRules, innovation: Innovation, now: datetime) -> tuple[Window, ...]:
    """The obligation's windows for ``innovation`` up to ``now`` (none before its launch)."""
    launch = innovation.launch
    if launch is None:
        return ()
    times = [e.at for e in innovation.history if e.kind == MONEV_KIND]
    return judge(launch.at, rules.every_months, now, times, until_months=rules.until_months)


@requirement(MONEV_REQUIREMENT)
def monev_up_to_date(ctx: GateContext) -> list[Unmet]:
    """Every window of the policy's monev obligation that has closed holds a monev record."""
    rules: MonevRules | None = getattr(ctx.lab.policy, "monev", None)
    if rules is None:
        return []
    policy = ctx.lab.policy
    late = [
        w for w in monev_windows(rules, ctx.innovation, ctx.now) if not w.done and w.due < ctx.now
    ]
    if not late:
        return []
    first = late[0]
    return [
        unmet(
            "monev.overdue",
            f"{len(late)} monev record(s) overdue; the first was due on "
            f"{policy.show_time(first.due)} (every {rules.every_months} months after the "
            "launch).",
            f"{len(late)} catatan monev terlambat; yang pertama jatuh tempo "
            f"{policy.show_time(first.due, 'id')} (setiap {rules.every_months} bulan setelah "
            "peluncuran).",
            overdue=len(late),
            due=first.due.isoformat(),
        )
    ]


#: The largest indicator value a monev record keeps (JSON writes it back exactly).
MAX_INDICATOR: Final = 2**53


def monev_refusal(
    policy: Policy, inn: Innovation, p: Mapping[str, Any]
) -> tuple[str, str, str] | None:
    """Why a monev record (payload ``p``) of ``inn`` may not be recorded; the command and
    replay both ask this."""
    if inn.launch is None:
        return (
            "monev.not_launched",
            f"{inn.id} has not been launched; monev follows the launch.",
            f"{inn.id} belum diluncurkan; monev dilakukan setelah peluncuran.",
        )
    values = p["indicators"]
    if not isinstance(values, Mapping):
        raise TypeError("a monev record's indicators are a table of numbers")
    for name, value in values.items():
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if (
            not (isinstance(name, str) and name.strip())
            or not number
            or not (math.isfinite(value) and abs(value) <= MAX_INDICATOR)
        ):
            return (
                "monev.indicator_value",
                f"The indicator {str(name)[:60]!r} must be a finite number "
                f"(at most {MAX_INDICATOR} either way).",
                f"Indikator {str(name)[:60]!r} harus berupa bilangan terhingga "
                f"(paling besar {MAX_INDICATOR}).",
            )
    rules = policy.monev
    missing = [i for i in (rules.indicators if rules else ()) if i not in values]
    if missing:
        return (
            "monev.indicators",
            f"A monev record under this policy gives the indicators {', '.join(missing)}.",
            f"Catatan monev menurut kebijakan ini memuat indikator {', '.join(missing)}.",
        )
    return None
