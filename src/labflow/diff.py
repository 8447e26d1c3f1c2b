"""How one policy departs from another, as data and as text.

A region adapting the national baseline wants to see, and to show its auditors,
exactly what its variant changes: which stages it merged or added, which gates it
moved, which cohort conditions, permissions and deadlines it changed. `compare`
returns a `PolicyDiff` of frozen records a host can inspect or serialise, and
`PolicyDiff.render` reads it out.

Policies name their stages freely (Kebumen's ``drum_up_diagnose`` is the baseline's
``drum_up`` and ``diagnose`` together), so stages are matched by the 5D stages they
cover, never by id. A gate guards the way *into* a stage, so a requirement's place is
the first 5D stage its stage covers: ``idea_registered`` on the way into ``diagnose``
in the baseline and into ``design`` in Kebumen has *moved*, even though both
policies have a stage with the id ``design``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs

from labflow.diagram import require_policy, spec_label
from labflow.model import FIVE_D
from labflow.policy import Policy, RequirementSpec

__all__ = [
    "GateChange",
    "PermissionChange",
    "PolicyDiff",
    "RoleChange",
    "SettingChange",
    "StageChange",
    "compare",
]


@attrs.frozen
class StageChange:
    """Stages whose part of the 5D differs: merged, split, added, removed, renamed, relabelled."""

    kind: Literal["merged", "split", "added", "removed", "renamed", "relabelled"]
    base: tuple[str, ...]  #: the base policy's stage ids involved (none when added)
    variant: tuple[str, ...]  #: the variant's stage ids involved (none when removed)
    covers: tuple[str, ...]  #: the 5D stages concerned


@attrs.frozen
class GateChange:
    """A requirement (of a gate, the cohort or the launch) added, removed, moved or changed.

    ``base_at``/``variant_at`` name the 5D stage whose entry it guards (``"launch"`` for
    the launch requirements); ``base``/``variant`` are the requirement as each policy
    states it, parameters and ``applies_to`` included.
    """

    kind: Literal["added", "removed", "moved", "changed"]
    name: str
    base_at: str | None
    variant_at: str | None
    base: str | None
    variant: str | None


@attrs.frozen
class PermissionChange:
    """A command whose allowed roles differ."""

    command: str
    added: tuple[str, ...]
    removed: tuple[str, ...]


@attrs.frozen
class RoleChange:
    """A role added, removed, or changed in label or scope."""

    kind: Literal["added", "removed", "changed"]
    role: str
    detail: str


@attrs.frozen
class SettingChange:
    """A single setting that differs: ``self_paced``, ``utc_offset`` or a stage's deadline."""

    setting: str
    base: str | None
    variant: str | None


@attrs.frozen
class PolicyDiff:
    """Everything `compare` found between ``base`` and ``variant`` (policy ids)."""

    base: str
    variant: str
    stages: tuple[StageChange, ...] = ()
    gates: tuple[GateChange, ...] = ()
    cohort: tuple[GateChange, ...] = ()
    launch: tuple[GateChange, ...] = ()
    permissions: tuple[PermissionChange, ...] = ()
    roles: tuple[RoleChange, ...] = ()
    settings: tuple[SettingChange, ...] = ()

    @property
    def empty(self) -> bool:
        """Whether the two policies run the lab the same way (names and texts aside)."""
        return not (
            self.stages
            or self.gates
            or self.cohort
            or self.launch
            or self.permissions
            or self.roles
            or self.settings
        )

    def render(self) -> str:
        """The difference as indented English text, one change a line."""
        lines = [f"{self.variant} compared with {self.base}:"]
        if self.empty:
            lines.append("  no differences")
            return "\n".join(lines) + "\n"
        if self.stages:
            lines.append("  stages:")
            lines.extend(f"    - {_stage_line(c)}" for c in self.stages)
        for title, changes in (
            ("gates", self.gates),
            ("cohort conditions", self.cohort),
            ("launch requirements", self.launch),
        ):
            if changes:
                lines.append(f"  {title}:")
                lines.extend(f"    - {_gate_line(c)}" for c in changes)
        if self.permissions:
            lines.append("  permissions:")
            for p in self.permissions:
                parts = [f"+{r}" for r in p.added] + [f"-{r}" for r in p.removed]
                lines.append(f"    - {p.command}: {' '.join(parts)}")
        if self.roles:
            lines.append("  roles:")
            lines.extend(f"    - {r.kind} {r.role}: {r.detail}" for r in self.roles)
        if self.settings:
            lines.append("  settings:")
            lines.extend(f"    - {s.setting}: {s.base} -> {s.variant}" for s in self.settings)
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.render()


def _stage_line(c: StageChange) -> str:
    covers = " + ".join(c.covers)
    base, variant = ", ".join(c.base), ", ".join(c.variant)
    if c.kind == "merged":
        return f"merged: {base} -> {variant} (covers {covers})"
    if c.kind == "split":
        return f"split: {base} -> {variant} (covers {covers})"
    if c.kind == "added":
        return f"added: {variant} (covers {covers})"
    if c.kind == "removed":
        return f"removed: {base} (covered {covers})"
    if c.kind == "renamed":
        return f"renamed: {base} -> {variant} (covers {covers})"
    return f"relabelled: {variant} (covers {covers})"


def _gate_line(c: GateChange) -> str:
    if c.kind == "added":
        return f"added {c.variant} into {c.variant_at}"
    if c.kind == "removed":
        return f"removed {c.base} into {c.base_at}"
    if c.kind == "moved":
        changed = f" (now {c.variant})" if c.base != c.variant else ""
        return f"moved {c.name}: into {c.base_at} -> into {c.variant_at}{changed}"
    return f"changed into {c.base_at}: {c.base} -> {c.variant}"


# --- Comparing ---------------------------------------------------------------------------


def _groups(base: Policy, variant: Policy) -> list[tuple[str, ...]]:
    """The 5D stages in groups that either policy keeps together in one stage, in order."""
    group = {d: {d} for s in (*base.stages, *variant.stages) for d in s.covers}
    for stage in (*base.stages, *variant.stages):
        joined = set().union(*(group[d] for d in stage.covers))
        for d in joined:
            group[d] = joined
    seen: list[tuple[str, ...]] = []
    for d in FIVE_D:
        if d in group:
            members = tuple(x for x in FIVE_D if x in group[d])
            if members not in seen:
                seen.append(members)
    return seen


def _stage_changes(base: Policy, variant: Policy) -> list[StageChange]:
    changes: list[StageChange] = []
    for covers in _groups(base, variant):
        b = tuple(s.id for s in base.stages if set(s.covers) & set(covers))
        v = tuple(s.id for s in variant.stages if set(s.covers) & set(covers))
        if not b:
            changes.append(StageChange("added", b, v, covers))
        elif not v:
            changes.append(StageChange("removed", b, v, covers))
        elif len(b) > len(v):
            changes.append(StageChange("merged", b, v, covers))
        elif len(v) > len(b):
            changes.append(StageChange("split", b, v, covers))
        elif len(b) > 1:  # as many stages on each side, cut differently
            if base.stage(b[0]).covers != variant.stage(v[0]).covers:
                changes.append(StageChange("split", b, v, covers))
        elif b != v:
            changes.append(StageChange("renamed", b, v, covers))
        elif (base.stage(b[0]).label_en, base.stage(b[0]).label_id) != (
            variant.stage(v[0]).label_en,
            variant.stage(v[0]).label_id,
        ):
            changes.append(StageChange("relabelled", b, v, covers))
    return changes


def _placed(
    policy: Policy, table: Mapping[str, tuple[RequirementSpec, ...]]
) -> list[tuple[str, RequirementSpec]]:
    return [
        (policy.stage(stage).covers[0], spec)
        for stage in policy.stage_ids
        for spec in table.get(stage, ())
    ]


def _same(a: RequirementSpec, b: RequirementSpec) -> bool:
    return (a.name, dict(a.params), a.applies_to) == (b.name, dict(b.params), b.applies_to)


def _spec_changes(
    base: Iterable[tuple[str, RequirementSpec]], variant: Iterable[tuple[str, RequirementSpec]]
) -> list[GateChange]:
    left, right = list(base), list(variant)
    for item in list(left):  # identical: same place, same requirement
        match = next((r for r in right if r[0] == item[0] and _same(r[1], item[1])), None)
        if match is not None:
            left.remove(item)
            right.remove(match)
    changes: list[GateChange] = []
    for same_place in (True, False):
        for item in list(left):
            match = next(
                (r for r in right if r[1].name == item[1].name and (r[0] == item[0]) == same_place),
                None,
            )
            if match is None:
                continue
            left.remove(item)
            right.remove(match)
            kind: Literal["moved", "changed"] = "changed" if same_place else "moved"
            changes.append(
                GateChange(
                    kind, item[1].name, item[0], match[0], spec_label(item[1]), spec_label(match[1])
                )
            )
    changes.extend(GateChange("removed", s.name, at, None, spec_label(s), None) for at, s in left)
    changes.extend(GateChange("added", s.name, None, at, None, spec_label(s)) for at, s in right)
    rank = {d: i for i, d in enumerate((*FIVE_D, "launch"))}
    return sorted(
        changes, key=lambda c: (rank.get(c.variant_at or c.base_at or "", 99), c.name, c.kind)
    )


def _permission_changes(base: Policy, variant: Policy) -> list[PermissionChange]:
    out = []
    for command in sorted(set(base.permissions) | set(variant.permissions)):
        b = base.permissions.get(command, frozenset())
        v = variant.permissions.get(command, frozenset())
        if b != v:
            out.append(PermissionChange(command, tuple(sorted(v - b)), tuple(sorted(b - v))))
    return out


def _role_changes(base: Policy, variant: Policy) -> list[RoleChange]:
    out = []
    for role in sorted(set(base.roles) | set(variant.roles)):
        b, v = base.roles.get(role), variant.roles.get(role)
        if b is None and v is not None:
            out.append(RoleChange("added", role, f"{v.label_en} ({v.scope} scope)"))
        elif v is None and b is not None:
            out.append(RoleChange("removed", role, b.label_en))
        elif b is not None and v is not None:
            details = []
            if b.scope != v.scope:
                details.append(f"scope {b.scope} -> {v.scope}")
            if (b.label_en, b.label_id) != (v.label_en, v.label_id):
                details.append(f'label "{b.label_en}" -> "{v.label_en}"')
            if details:
                out.append(RoleChange("changed", role, "; ".join(details)))
    return out


def _setting_changes(base: Policy, variant: Policy) -> list[SettingChange]:
    out = []
    if base.self_paced != variant.self_paced:
        out.append(SettingChange("self_paced", str(base.self_paced), str(variant.self_paced)))
    if base.utc_offset != variant.utc_offset:
        out.append(SettingChange("utc_offset", base.utc_offset, variant.utc_offset))

    def deadlines(policy: Policy) -> dict[str, str]:
        return {policy.stage(s).covers[0]: d.isoformat() for s, d in policy.deadlines.items()}

    b, v = deadlines(base), deadlines(variant)
    for d in FIVE_D:
        if b.get(d) != v.get(d):
            out.append(SettingChange(f"deadline into {d}", b.get(d), v.get(d)))

    def steps(policy: Policy) -> str | None:
        shown = [f"{s.id} ({', '.join(sorted(s.roles))})" for s in policy.approval]
        return " -> ".join(shown) or None

    if base.approval != variant.approval:
        out.append(SettingChange("approval steps", steps(base), steps(variant)))

    def cycle(policy: Policy) -> str | None:
        review = policy.review
        if review is None:
            return None
        end = (
            f", {review.times} times"
            if review.times is not None
            else f", until {review.until_stage or review.until}"
            if review.until_stage or review.until
            else ""
        )
        return f"every {review.every_months} months after {review.after}{end} ({review.enforce})"

    if base.review != variant.review:
        out.append(SettingChange("agreement review", cycle(base), cycle(variant)))

    def table(rules: Any) -> str | None:
        if rules is None:
            return None
        return ", ".join(
            f"{k}={'/'.join(map(str, v)) if isinstance(v, list) else v}"
            for k, v in rules.to_dict().items()
        )

    if base.exhibitions != variant.exhibitions:
        shown = table(base.exhibitions), table(variant.exhibitions)
        out.append(SettingChange("exhibitions", *shown))
    if base.monev != variant.monev:
        out.append(SettingChange("monev", table(base.monev), table(variant.monev)))
    return out


def compare(base: Policy, variant: Policy) -> PolicyDiff:
    """What ``variant`` changes relative to ``base``: stages, gates, conditions, roles, settings.

    Descriptions, names and labels of the policies themselves are not compared; stage
    labels are (as ``relabelled``). ``compare(p, p).empty`` holds for every policy.
    """
    require_policy(base, "compare")
    require_policy(variant, "compare")
    return PolicyDiff(
        base=base.id,
        variant=variant.id,
        stages=tuple(_stage_changes(base, variant)),
        gates=tuple(_spec_changes(_placed(base, base.gates), _placed(variant, variant.gates))),
        cohort=tuple(_spec_changes(_placed(base, base.cohort), _placed(variant, variant.cohort))),
        launch=tuple(
            _spec_changes(
                [("launch", s) for s in base.launch], [("launch", s) for s in variant.launch]
            )
        ),
        permissions=tuple(_permission_changes(base, variant)),
        roles=tuple(_role_changes(base, variant)),
        settings=tuple(_setting_changes(base, variant)),
    )
