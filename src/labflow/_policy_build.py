"""The policy builder: walks raw policy data section by section, collecting every problem.

Split from `labflow.policy`. `_Builder` turns each table of a policy document into
records (stages, roles, permissions, requirement specs, deadlines) and records what is
wrong at its ``$.path``; the checks across sections live in `labflow._policy_check`.
"""

from __future__ import annotations

import difflib
import math
import re
import typing
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Final, Literal

import attrs

from labflow._catalogue import COMMANDS, DEFAULT_PERMISSIONS
from labflow._limits import MAX_INT, MAX_PROBLEMS, MIN_INT
from labflow._policy_records import (
    DEFAULT_ROLES,
    METHODS,
    ApprovalStep,
    RequirementSpec,
    RoleDef,
    Settings,
    Stage,
)
from labflow._policy_time import Deadline, ReviewCycle, _moment
from labflow.errors import PolicyError, Problem
from labflow.model import Initiator, UnitKind
from labflow.requirements import (
    Registry,
    RequirementCall,
    RequirementDef,
    RequirementRef,
    StageRef,
)

_SETTINGS_KEYS = tuple(f.name for f in attrs.fields(Settings))
_DEADLINE_KEYS = (
    "by",
    "after",
    "within_months",
    "within_days",
    "min_months",
    "min_days",
    "enforce",
)
_METHOD_NAME: Final = {"5d": "5D", "iid": "innovation-index"}
_STAGE_KEYS = ("id", "label_id", "label_en", "covers", "description")
_ROLE_KEYS = ("label_id", "label_en", "scope", "description")
_APPROVAL_KEYS = ("id", "roles", "same_unit", "label_en", "label_id")
_AGREEMENT_KEYS = ("review",)
_REVIEW_KEYS = ("every_months", "after", "times", "until", "roles", "same_unit", "enforce")

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class _Builder:
    """Walks a raw policy, building records and collecting every problem on the way."""

    def __init__(self, source: str, registry: Registry) -> None:
        self.source = source
        self.registry = registry
        self.problems: list[Problem] = []
        self.more = 0  # problems found past MAX_PROBLEMS: counted, not kept
        self.stage_ids: set[str] = set()
        self.role_ids: set[str] = set()

    def problem(self, path: str, message: str) -> None:
        if len(self.problems) >= MAX_PROBLEMS - 1:
            self.more += 1
        else:
            self.problems.append(Problem(path, message))

    def refuse(self) -> PolicyError:
        """Every problem found, the last saying how many more there were past the limit."""
        found = list(self.problems)
        if self.more:
            found.append(Problem("$", f"... and {self.more} more problems"))
        return PolicyError(self.source, found)

    def unknown_keys(self, table: Mapping[str, Any], allowed: Iterable[str], path: str) -> None:
        allowed = list(allowed)
        for key in table:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), allowed, n=1)
                extra = f" (did you mean {hint[0]!r}?)" if hint else ""
                self.problem(f"{path}.{key}", f"unknown key{extra}")

    def string(self, table: Mapping[str, Any], key: str, path: str, default: str | None) -> str:
        value = table.get(key, default)
        if value is None:
            self.problem(f"{path}.{key}", "is required")
            return ""
        if not isinstance(value, str):
            self.problem(f"{path}.{key}", f"must be a string, not {type(value).__name__}")
            return ""
        return value

    def table(self, raw: Mapping[str, Any], key: str) -> dict[str, Any]:
        value = raw.get(key, {})
        if not isinstance(value, dict):
            self.problem(f"$.{key}", f"must be a table, not {type(value).__name__}")
            return {}
        return value

    # stages ---------------------------------------------------------------------------

    def settings(self, raw: Any) -> Settings:
        """The ``[settings]`` table; what is not given keeps the 5D presets' value."""
        if raw is None:
            return Settings()
        path = "$.settings"
        if not isinstance(raw, dict):
            self.problem(path, f"must be a table, not {type(raw).__name__}")
            return Settings()
        self.unknown_keys(raw, _SETTINGS_KEYS, path)
        default = Settings()
        method = raw.get("method", default.method)
        if method not in METHODS:
            known = ", ".join(repr(m) for m in METHODS)
            self.problem(f"{path}.method", f"{method!r} is not a method (one of {known})")
            method = default.method
        flags = {}
        for key in ("agreement_required",):
            value = raw.get(key, getattr(default, key))
            if not isinstance(value, bool):
                self.problem(f"{path}.{key}", "must be true or false")
                value = getattr(default, key)
            flags[key] = value
        launch_stage = raw.get("launch_stage")
        if launch_stage is not None and not isinstance(launch_stage, str):
            self.problem(f"{path}.launch_stage", "must be the id of a stage")
            launch_stage = None

        def kinds(key: str, enum: type[Enum], fallback: frozenset[Any]) -> frozenset[Any]:
            if key not in raw:
                return fallback
            value = self.value(raw[key], tuple[enum, ...], f"{path}.{key}")  # type: ignore[valid-type]
            if value is _BAD:
                return fallback
            if not value:
                self.problem(f"{path}.{key}", "must name at least one")
                return fallback
            return frozenset(value)

        unit_kinds = kinds("unit_kinds", UnitKind, default.unit_kinds)
        government = kinds("government_kinds", UnitKind, default.government_kinds)
        stray = sorted(k.value for k in government - unit_kinds)
        if stray:
            self.problem(
                f"{path}.government_kinds",
                f"{', '.join(map(repr, stray))} is not among the unit kinds this policy allows",
            )
        initiators = kinds("initiators", Initiator, default.initiators)
        words = raw.get("min_adaptation_words", default.min_adaptation_words)
        if isinstance(words, bool) or not isinstance(words, int) or not 0 <= words <= 10_000:
            self.problem(f"{path}.min_adaptation_words", "must be a whole number from 0 to 10000")
            words = default.min_adaptation_words
        counterparty = raw.get("agreement_counterparty", default.agreement_counterparty)
        if not isinstance(counterparty, str):
            self.problem(f"{path}.agreement_counterparty", "must be a role id")
            counterparty = default.agreement_counterparty
        return Settings(
            agreement_counterparty=counterparty,
            method=method,
            agreement_required=flags["agreement_required"],
            launch_stage=launch_stage,
            unit_kinds=unit_kinds,
            government_kinds=government,
            initiators=initiators,
            min_adaptation_words=words,
        )

    def stages(self, raw: Any, method: str = "5d") -> tuple[Stage, ...]:
        order, _ = METHODS[method]
        if raw is None:
            self.problem("$.stages", "is required: list the stages in order")
            return ()
        if not isinstance(raw, list) or not raw:
            self.problem("$.stages", "must be a non-empty array of tables")
            return ()
        stages: list[Stage] = []
        for i, item in enumerate(raw):
            path = f"$.stages[{i}]"
            if not isinstance(item, dict):
                self.problem(path, "must be a table")
                continue
            self.unknown_keys(item, _STAGE_KEYS, path)
            ident = self.string(item, "id", path, None)
            if ident and not _SLUG.match(ident):
                self.problem(f"{path}.id", f"{ident!r} must be lowercase letters, digits, _ . -")
            if ident in self.stage_ids:
                self.problem(f"{path}.id", f"the stage id {ident!r} is used twice")
            self.stage_ids.add(ident)
            covers = item.get("covers")
            if not isinstance(covers, list) or not covers:
                self.problem(
                    f"{path}.covers", f"must list the {_METHOD_NAME[method]} stages it covers"
                )
                covers = []
            for j, name in enumerate(covers):
                if name not in order:
                    self.problem(
                        f"{path}.covers[{j}]",
                        f"{name!r} is not a {_METHOD_NAME[method]} stage "
                        f"(one of {', '.join(order)})",
                    )
            stages.append(
                Stage(
                    ident,
                    self.string(item, "label_id", path, None),
                    self.string(item, "label_en", path, None),
                    tuple(c for c in covers if c in order),
                    self.string(item, "description", path, ""),
                )
            )
        self.method_order(stages, method)
        return tuple(stages)

    def method_order(self, stages: list[Stage], method: str) -> None:
        """The stages cover the method's stages in order, each once, none skipped."""
        order, required = METHODS[method]
        covered = [(i, name) for i, s in enumerate(stages) for name in s.covers]
        seen: dict[str, int] = {}
        skipped: set[str] = set()
        last = -1
        for i, name in covered:
            rank = order.index(name)
            if name in seen:
                self.problem(
                    f"$.stages[{i}].covers",
                    f"{name!r} is already covered by stage {seen[name]}: no stage of the method "
                    "twice",
                )
                continue
            seen[name] = i
            if rank < last:
                self.problem(
                    f"$.stages[{i}].covers",
                    f"{name!r} comes after {order[last]!r}: the {_METHOD_NAME[method]} stages "
                    "must stay in order",
                )
            elif rank > last + 1:
                gap = [n for n in order[last + 1 : rank] if n not in seen]
                skipped.update(gap)
                if gap:
                    self.problem(f"$.stages[{i}].covers", f"skips {', '.join(map(repr, gap))}")
            last = max(last, rank)
        missing = [n for n in required if n not in seen and n not in skipped]
        if covered and missing:
            self.problem(
                "$.stages",
                f"no stage covers {', '.join(map(repr, missing))}: all of the "
                f"{_METHOD_NAME[method]} stages must be run (or choose another "
                "settings.method)",
            )

    # roles and permissions ------------------------------------------------------------

    def roles(self, raw: dict[str, Any]) -> dict[str, RoleDef]:
        roles = dict(DEFAULT_ROLES)
        for ident, item in raw.items():
            path = f"$.roles.{ident}"
            if not isinstance(item, dict):
                self.problem(path, "must be a table")
                continue
            self.unknown_keys(item, _ROLE_KEYS, path)
            known = roles.get(ident)
            scope = item.get("scope", known.scope if known else "lab")
            if scope not in ("lab", "unit"):
                self.problem(f"{path}.scope", f"must be 'lab' or 'unit', not {scope!r}")
                scope = "lab"
            roles[ident] = RoleDef(
                ident,
                self.string(item, "label_id", path, known.label_id if known else None),
                self.string(item, "label_en", path, known.label_en if known else None),
                scope,
                self.string(item, "description", path, known.description if known else ""),
            )
        self.role_ids = set(roles)
        return roles

    def permissions(self, raw: dict[str, Any]) -> dict[str, frozenset[str]]:
        permissions = dict(DEFAULT_PERMISSIONS)
        for command, roles in raw.items():
            path = f"$.permissions.{command}"
            if command not in COMMANDS:
                hint = difflib.get_close_matches(command, COMMANDS, n=1)
                extra = f" (did you mean {hint[0]!r}?)" if hint else ""
                self.problem(path, f"{command!r} is not a command{extra}")
                continue
            if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
                self.problem(path, "must be an array of role ids")
                continue
            for j, role in enumerate(roles):
                if role not in self.role_ids:
                    self.problem(f"{path}[{j}]", f"{role!r} is not a role of this policy")
            permissions[command] = frozenset(roles)
        return permissions

    # requirement specs ----------------------------------------------------------------

    def specs(
        self, raw: Any, path: str, kind: Literal["gate", "cohort"]
    ) -> tuple[RequirementSpec, ...]:
        if not isinstance(raw, list):
            self.problem(path, "must be an array of requirement names or tables")
            return ()
        specs = []
        for i, item in enumerate(raw):
            spec = self.spec(item, f"{path}[{i}]", kind)
            if spec is not None:
                specs.append(spec)
        return tuple(specs)

    def spec(self, item: Any, path: str, kind: Literal["gate", "cohort"]) -> RequirementSpec | None:
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            self.problem(path, "must be a requirement name or a table with a 'name'")
            return None
        name = item["name"]
        definition = self.registry.find(kind, name)
        if definition is None:
            known = self.registry.names(kind)
            hint = difflib.get_close_matches(name, known, n=1)
            extra = f"; did you mean {hint[0]!r}?" if hint else f" (known: {', '.join(known)})"
            what = "gate requirement" if kind == "gate" else "cohort condition"
            self.problem(f"{path}.name", f"{name!r} is not a registered {what}{extra}")
            return None
        applies_to = None
        reserved = {"name"}
        if kind == "gate":
            reserved.add("applies_to")
            if "applies_to" in item:
                kinds = self.value(
                    item["applies_to"], tuple[UnitKind, ...], f"{path}.applies_to", applies=True
                )
                # a bad list is already reported; keep going so every problem is listed
                applies_to = None if kinds is _BAD else frozenset(kinds)
        params = self.params(definition, {k: v for k, v in item.items() if k not in reserved}, path)
        return RequirementSpec(name, params, applies_to, func=definition.func)

    def params(
        self, definition: RequirementDef, given: dict[str, Any], path: str
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in given.items():
            param = definition.params.get(key)
            if param is None:
                allowed = list(definition.params)
                hint = difflib.get_close_matches(key, allowed, n=1)
                extra = (
                    f"; did you mean {hint[0]!r}?"
                    if hint
                    else f" (it takes: {', '.join(allowed) or 'no parameters'})"
                )
                self.problem(
                    f"{path}.{key}", f"{definition.name!r} has no parameter {key!r}{extra}"
                )
                continue
            converted = self.value(value, param.annotation, f"{path}.{key}")
            if converted is not _BAD:
                out[key] = converted
        for param in definition.params.values():
            if param.required and param.name not in given:
                self.problem(f"{path}.{param.name}", f"{definition.name!r} needs this parameter")
        return out

    def value(self, value: Any, annotation: Any, path: str, *, applies: bool = False) -> Any:
        """Check ``value`` against a parameter annotation; return it converted, or `_BAD`."""
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is tuple:
            if not isinstance(value, list | tuple):
                self.problem(path, "must be an array")
                return _BAD
            items = [self.value(v, args[0], f"{path}[{i}]") for i, v in enumerate(value)]
            return _BAD if _BAD in items else tuple(items)
        if origin is not None and type(None) in args:
            inner = [a for a in args if a is not type(None)]
            return self.value(value, inner[0], path)
        if annotation is StageRef:
            if not isinstance(value, str) or value not in self.stage_ids:
                self.problem(path, f"{value!r} is not a stage of this policy")
                return _BAD
            return value
        if annotation is RequirementRef or annotation is RequirementCall:
            if isinstance(value, dict):
                return self.call(value, path)
            found = self.registry.find("gate", value) if isinstance(value, str) else None
            if found is None:
                self.problem(path, f"{value!r} is not a registered gate requirement")
                return _BAD
            needed = [p.name for p in found.params.values() if p.required]
            if needed:
                self.problem(
                    path,
                    f"{value!r} needs parameters ({', '.join(needed)}): give them as "
                    f"{{ {value} = {{ ... }} }}",
                )
                return _BAD
            return value
        if isinstance(annotation, type) and issubclass(annotation, Enum):
            try:
                return annotation(value)
            except ValueError:
                allowed = ", ".join(repr(m.value) for m in annotation)
                self.problem(path, f"{value!r} is not one of {allowed}")
                return _BAD
        ok = (
            isinstance(value, annotation)
            and not (annotation in (int, float) and isinstance(value, bool))
        ) or (annotation is float and isinstance(value, int) and not isinstance(value, bool))
        if not ok:
            self.problem(path, f"must be {annotation.__name__}, not {type(value).__name__}")
            return _BAD
        if type(value) is int and not MIN_INT <= value <= MAX_INT:
            # orjson cannot write it, or reads it back as a float: the document would not load
            self.problem(
                path, f"{value} is outside the signed 64-bit range ({MIN_INT} to {MAX_INT})"
            )
            return _BAD
        if type(value) is float and not math.isfinite(value):
            self.problem(path, f"{value} is not a finite number (JSON has no NaN or infinity)")
            return _BAD
        return value

    def call(self, value: dict[str, Any], path: str) -> Any:
        """``{ name = { params } }``: a gate requirement with its own parameters, or `_BAD`."""
        if len(value) != 1:
            self.problem(path, "must name one gate requirement: { name = { parameters } }")
            return _BAD
        ((name, given),) = value.items()
        found = self.registry.find("gate", name)
        if found is None:
            self.problem(path, f"{name!r} is not a registered gate requirement")
            return _BAD
        if not isinstance(given, dict):
            self.problem(f"{path}.{name}", "must be a table of the requirement's parameters")
            return _BAD
        bad = len(self.problems)
        params = self.params(found, given, f"{path}.{name}")
        return _BAD if len(self.problems) > bad else RequirementCall(name, params)

    def per_stage_specs(
        self, raw: dict[str, Any], key: str, kind: Literal["gate", "cohort"], first: str | None
    ) -> dict[str, tuple[RequirementSpec, ...]]:
        out = {}
        for stage, specs in raw.items():
            path = f"$.{key}.{stage}"
            if stage not in self.stage_ids:
                self.problem(path, f"{stage!r} is not a stage of this policy")
                continue
            if stage == first:
                self.problem(
                    path,
                    f"{stage!r} is the first stage: everything starts there, so nothing enters it "
                    "through a gate",
                )
                continue
            out[stage] = self.specs(specs, path, kind)
        return out

    def deadlines(self, raw: dict[str, Any], offset: timezone) -> dict[str, Deadline | datetime]:
        """Each deadline: a bare date or date-time (kept as it is, judged once the gates are
        known) or a table (`Deadline`)."""
        out: dict[str, Deadline | datetime] = {}
        for stage, value in raw.items():
            path = f"$.deadlines.{stage}"
            if stage not in self.stage_ids:
                self.problem(path, f"{stage!r} is not a stage of this policy")
                continue
            if not isinstance(value, dict):
                moment = _moment(value, offset)
                if moment is None:
                    self.problem(path, f"{value!r} is not a date or a date-time")
                    continue
                out[stage] = moment
                continue
            deadline = self.deadline(stage, value, path, offset)
            if deadline is not None:
                out[stage] = deadline
        return out

    def deadline(
        self, stage: str, raw: dict[str, Any], path: str, offset: timezone
    ) -> Deadline | None:
        self.unknown_keys(raw, _DEADLINE_KEYS, path)
        bad = len(self.problems)
        enforce = raw.get("enforce")
        if enforce not in ("gate", "report"):
            self.problem(
                f"{path}.enforce",
                "must say 'gate' (the gate refuses a late or early entry) or 'report' "
                "(reports list it)",
            )
        counts: dict[str, int] = {}
        for key in ("within_months", "within_days", "min_months", "min_days"):
            value = raw.get(key, 0)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3650:
                self.problem(f"{path}.{key}", "must be a whole number from 0 to 3650")
                value = 0
            counts[key] = value
        by = None
        if "by" in raw:
            by = _moment(raw["by"], offset)
            if by is None:
                self.problem(f"{path}.by", f"{raw['by']!r} is not a date or a date-time")
        after = raw.get("after")
        if after is not None:
            self.event(after, stage, f"{path}.after")
        if ("by" in raw) == (after is not None):
            self.problem(path, "give either 'by' (a date) or 'after' (an event), not both")
        elif "by" in raw and any(counts.values()):
            self.problem(path, "an absolute deadline ('by') takes no months or days")
        elif after is not None and not any(counts.values()):
            self.problem(path, "a deadline after an event needs within_months/within_days or min_*")
        if len(self.problems) > bad or enforce not in ("gate", "report"):
            return None
        return Deadline(stage, "gate" if enforce == "gate" else "report", by, after, **counts)

    def event(self, after: Any, stage: str, path: str) -> None:
        """``after`` names an event that happens before the innovation can enter ``stage``."""
        if not isinstance(after, str):
            self.problem(path, "must be 'launch', 'stage:<id>' or 'lab:<id>'")
            return
        if after == "launch":
            return  # the launch stage is known only later: checked in _timing
        kind, _, ident = after.partition(":")
        if kind not in ("stage", "lab") or not ident:
            self.problem(path, f"{after!r} must be 'launch', 'stage:<id>' or 'lab:<id>'")
        elif ident not in self.stage_ids:
            self.problem(path, f"{ident!r} is not a stage of this policy")

    # approval steps ----------------------------------------------------------------------

    def approval(self, raw: Any) -> tuple[ApprovalStep, ...]:
        """The ``[[approval]]`` steps, in order (none given: one step, as before steps)."""
        if raw is None:
            return ()
        path = "$.approval"
        if not isinstance(raw, list) or not raw:
            self.problem(path, "must be an array of tables ([[approval]]), one per step, in order")
            return ()
        steps: list[ApprovalStep] = []
        seen: set[str] = set()
        for i, item in enumerate(raw):
            at = f"{path}[{i}]"
            if not isinstance(item, dict):
                self.problem(at, "must be a table")
                continue
            self.unknown_keys(item, _APPROVAL_KEYS, at)
            ident = self.string(item, "id", at, None)
            if ident and not _SLUG.match(ident):
                self.problem(f"{at}.id", f"{ident!r} must be lowercase letters, digits, _ . -")
            if ident in seen:
                self.problem(f"{at}.id", f"the step id {ident!r} is used twice")
            seen.add(ident)
            roles = item.get("roles")
            if (
                not isinstance(roles, list)
                or not roles
                or not all(isinstance(r, str) for r in roles)
            ):
                self.problem(f"{at}.roles", "must list the roles that may approve this step")
                roles = []
            for j, role in enumerate(roles):
                if role not in self.role_ids:
                    self.problem(f"{at}.roles[{j}]", f"{role!r} is not a role of this policy")
            same_unit = item.get("same_unit", True)
            if not isinstance(same_unit, bool):
                self.problem(f"{at}.same_unit", "must be true or false")
                same_unit = True
            steps.append(
                ApprovalStep(
                    ident,
                    frozenset(roles),
                    same_unit,
                    self.string(item, "label_en", at, ""),
                    self.string(item, "label_id", at, ""),
                )
            )
        return tuple(steps)

    # agreements ---------------------------------------------------------------------------

    def agreement(self, raw: Any, offset: timezone) -> ReviewCycle | None:
        """The ``[agreement]`` table: its review cycle (``[agreement.review]``), if any."""
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.problem("$.agreement", f"must be a table, not {type(raw).__name__}")
            return None
        self.unknown_keys(raw, _AGREEMENT_KEYS, "$.agreement")
        review = raw.get("review")
        if review is None:
            return None
        path = "$.agreement.review"
        if not isinstance(review, dict):
            self.problem(path, f"must be a table, not {type(review).__name__}")
            return None
        self.unknown_keys(review, _REVIEW_KEYS, path)
        bad = len(self.problems)
        every = review.get("every_months")
        if isinstance(every, bool) or not isinstance(every, int) or not 1 <= every <= 120:
            self.problem(f"{path}.every_months", "must be a whole number of months from 1 to 120")
        after = review.get("after")
        if after is None:
            self.problem(f"{path}.after", "is required: 'launch', 'stage:<id>' or 'lab:<id>'")
        else:
            self.event(after, "", f"{path}.after")
        times = review.get("times")
        if times is not None and (
            isinstance(times, bool) or not isinstance(times, int) or not 1 <= times <= 1000
        ):
            self.problem(f"{path}.times", "must be a whole number of reviews from 1 to 1000")
        until_stage, until = None, None
        end = review.get("until")
        if isinstance(end, str) and end.startswith("stage:"):
            until_stage = end.partition(":")[2]
            if until_stage not in self.stage_ids:
                self.problem(f"{path}.until", f"{until_stage!r} is not a stage of this policy")
        elif end is not None:
            until = _moment(end, offset)
            if until is None:
                self.problem(f"{path}.until", f"{end!r} is not 'stage:<id>', a date or a date-time")
        if times is not None and end is not None:
            self.problem(path, "give at most one end: 'times' (a number of reviews) or 'until'")
        roles = review.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            self.problem(f"{path}.roles", "must be an array of role ids")
            roles = []
        for j, role in enumerate(roles):
            if role not in self.role_ids:
                self.problem(f"{path}.roles[{j}]", f"{role!r} is not a role of this policy")
        same_unit = review.get("same_unit", False)
        if not isinstance(same_unit, bool):
            self.problem(f"{path}.same_unit", "must be true or false")
        enforce = review.get("enforce")
        if enforce not in ("gate", "report"):
            self.problem(
                f"{path}.enforce",
                "must say 'gate' (an overdue review holds the innovation at its next gate) or "
                "'report' (reports list it)",
            )
        if len(self.problems) > bad or not isinstance(every, int) or not isinstance(after, str):
            return None
        return ReviewCycle(
            every,
            after,
            "gate" if enforce == "gate" else "report",
            frozenset(roles),
            same_unit,
            times,
            until_stage,
            until,
        )


class _Bad:
    def __repr__(self) -> str:
        return "<bad value>"


_BAD: Final = _Bad()
