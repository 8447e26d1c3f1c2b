"""Policies: a region's variant of the lab, as data -- loaded from TOML, validated, overlaid.

A policy lists the stages in order, the requirements that gate entry into each,
who may perform which command, the cohort conditions the lab as a whole must
meet to enter a stage, deadlines, and whether innovations are self-paced. A
policy may ``extends`` another (a bundled preset by name, or a file relative to
its own) and override only what differs. Loading validates everything at once
and refuses a broken policy with one `PolicyError` that lists every problem (up to
``MAX_PROBLEMS``), in time and memory proportional to the policy's size.

Policies come from other people, so reading one is guarded: only regular files
(never a device, a FIFO or a folder, which could hang or never end), at most
``MAX_POLICY_BYTES`` read from any of them, and an ``extends`` path stays inside the
extending file's own folder -- no absolute path, no ``..`` or symlink out of it -- unless
the host names more folders in ``search_path``. A parent that is not a policy is
refused without repeating what it holds. See ``docs/policies.md`` for the format and
``docs/limits.md`` for the limits.
"""

from __future__ import annotations

import difflib
import itertools
import math
import os
import re
import stat
import tomllib
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal

import attrs

from labflow._attributes import (
    AttributeDef,
    NationalIndex,
    parse_attributes,
    parse_national_index,
)
from labflow._catalogue import COMMANDS, DEFAULT_PERMISSIONS
from labflow._exhibit_rules import ExhibitionRules, parse_exhibitions
from labflow._limits import MAX_INT, MAX_POLICY_BYTES, MAX_PROBLEMS, MIN_INT
from labflow._monev_rules import MonevRules, parse_monev
from labflow.errors import NotFound, PolicyError, Problem
from labflow.model import FIVE_D, GOVERNMENT_KINDS, Initiator, Role, UnitKind
from labflow.requirements import (
    DEFAULT_REGISTRY,
    Registry,
    RequirementCall,
    RequirementDef,
    RequirementRef,
    StageRef,
    Unmet,
)

__all__ = [
    "COMMANDS",
    "DEFAULT_PERMISSIONS",
    "DEFAULT_ROLES",
    "METHODS",
    "Deadline",
    "Policy",
    "RequirementSpec",
    "RoleDef",
    "Settings",
    "Stage",
    "available_presets",
    "load_policy",
    "parse_policy",
    "policy_from_dict",
]


@attrs.frozen
class Stage:
    """One stage of a policy, with its labels and the 5D stages it covers."""

    id: str
    label_id: str
    label_en: str
    covers: tuple[str, ...]
    description: str = ""

    def label(self, lang: str = "en") -> str:
        """The label in ``"en"`` or ``"id"``."""
        return self.label_id if lang == "id" else self.label_en


@attrs.frozen
class RoleDef:
    """A role the policy knows. A ``unit``-scoped role acts only on its own unit's innovations."""

    id: str
    label_id: str
    label_en: str
    scope: Literal["lab", "unit"] = "lab"
    description: str = ""


@attrs.frozen
class RequirementSpec:
    """A requirement as a policy uses it: its name, its parameters, and whom it applies to."""

    name: str
    params: Mapping[str, Any] = attrs.field(factory=dict)
    #: only innovations of these unit kinds must meet it (``None``: all)
    applies_to: frozenset[UnitKind] | None = None
    #: the registered function; resolved from the default registry when not given
    func: Callable[..., Iterable[Unmet]] | None = attrs.field(
        default=None, eq=False, repr=False, kw_only=True
    )

    def __attrs_post_init__(self) -> None:
        name: object = self.name
        if not isinstance(name, str):
            problem = Problem("$.name", f"must be a requirement name, not {type(name).__name__}")
            raise PolicyError("a requirement", [problem])
        if self.func is None:  # built by hand: resolve the name as a policy load would
            found = DEFAULT_REGISTRY.find("gate", self.name) or DEFAULT_REGISTRY.find(
                "cohort", self.name
            )
            if found is None:
                problem = Problem("$.name", f"{self.name!r} is not a registered requirement")
                raise PolicyError(f"requirement {self.name!r}", [problem])
            object.__setattr__(self, "func", found.func)


#: The methods a policy's stages may follow, each with its stages in their only valid order
#: and the ones every policy of the method must run: LAN's 5D (documentation, the "+1",
#: is optional) and the national innovation index's own stages (PP 38/2017).
METHODS: Final[Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "5d": (FIVE_D, FIVE_D[:5]),
    "iid": (("inisiatif", "uji_coba", "penerapan"), ("inisiatif", "uji_coba", "penerapan")),
}
#: Where an innovation is launched unless the policy names a stage: the stage covering this.
_LAUNCH_COVER: Final = {"5d": "deliver", "iid": "uji_coba"}


@attrs.frozen
class Settings:
    """What earlier versions assumed of every region, now each policy's choice.

    The defaults are LAN's 5D as the bundled presets run it; a region sets only what differs
    in the policy's ``[settings]`` table.
    """

    #: whose stages the policy's stages cover (a key of `METHODS`): ``"5d"`` or ``"iid"``
    method: str = "5d"
    #: whether some gate must require a signed performance agreement
    agreement_required: bool = True
    #: the stage innovations are launched at (``None``: the stage covering *deliver*, or for
    #: the ``iid`` method *uji_coba*)
    launch_stage: str | None = None
    #: the kinds of unit a lab under this policy may hold
    unit_kinds: frozenset[UnitKind] = frozenset(UnitKind)
    #: the kinds that belong to the regional government (cohort conditions count these)
    government_kinds: frozenset[UnitKind] = GOVERNMENT_KINDS
    #: who may be recorded as an innovation's initiator
    initiators: frozenset[Initiator] = frozenset(Initiator)
    #: how many words a replication's local adaptation needs (``replication_recorded``)
    min_adaptation_words: int = 5
    #: the role of the party that signs each performance agreement with the owning unit's
    #: head (a village lab signs its pact with the camat)
    agreement_counterparty: str = "regional_head"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "method": self.method,
            "agreement_required": self.agreement_required,
        }
        if self.launch_stage is not None:
            data["launch_stage"] = self.launch_stage
        data["unit_kinds"] = sorted(k.value for k in self.unit_kinds)
        data["government_kinds"] = sorted(k.value for k in self.government_kinds)
        data["initiators"] = sorted(i.value for i in self.initiators)
        data["min_adaptation_words"] = self.min_adaptation_words
        data["agreement_counterparty"] = self.agreement_counterparty
        return data


_MONTHS_EN: Final = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_MONTHS_ID: Final = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus ``months`` calendar months (the 31st of a short month is its last day)."""
    year, month = divmod(moment.month - 1 + months, 12)
    year += moment.year
    day = moment.day
    while True:
        try:
            return moment.replace(year=year, month=month + 1, day=day)
        except ValueError:
            day -= 1


@attrs.frozen
class Deadline:
    """When an innovation must (at the latest) or may (at the earliest) enter a stage.

    Either absolute (``by``) or relative to an event (``after``): the innovation's launch
    (``"launch"``), the innovation entering a stage (``"stage:<id>"``) or the lab entering
    one (``"lab:<id>"``), with a window (``within_*``: at the latest) and a minimum
    duration (``min_*``: at the earliest). ``enforce`` says whether the stage's gate refuses
    a late or early entry (``"gate"``) or reports only list it (``"report"``).
    """

    stage: str
    enforce: Literal["gate", "report"]
    by: datetime | None = None
    after: str | None = None
    within_months: int = 0
    within_days: int = 0
    min_months: int = 0
    min_days: int = 0

    @property
    def has_window(self) -> bool:
        return bool(self.within_months or self.within_days)

    @property
    def has_minimum(self) -> bool:
        return bool(self.min_months or self.min_days)

    def latest(self, start: datetime | None) -> datetime | None:
        """The last moment to enter the stage, given when the event happened (if relative)."""
        if self.by is not None:
            return self.by
        if start is None or not self.has_window:
            return None
        return add_months(start, self.within_months) + timedelta(days=self.within_days)

    def earliest(self, start: datetime | None) -> datetime | None:
        """The first moment the stage may be entered, given when the event happened."""
        if start is None or not self.has_minimum:
            return None
        return add_months(start, self.min_months) + timedelta(days=self.min_days)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.by is not None:
            data["by"] = self.by.isoformat()
        if self.after is not None:
            data["after"] = self.after
        for key in ("within_months", "within_days", "min_months", "min_days"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        data["enforce"] = self.enforce
        return data


_R = Role
#: The roles every policy knows; a policy may relabel them or add its own.
DEFAULT_ROLES: Final[Mapping[str, RoleDef]] = {
    r.id: r
    for r in (
        RoleDef(_R.REGIONAL_HEAD.value, "Kepala Daerah (Bupati/Walikota)", "Regional head"),
        RoleDef(_R.UNIT_HEAD.value, "Kepala Perangkat Daerah/Unit", "Head of unit", "unit"),
        RoleDef(_R.INNOVATOR.value, "Inovator", "Innovator", "unit"),
        RoleDef(_R.FACILITATOR.value, "Fasilitator", "Facilitator"),
        RoleDef(_R.SECRETARIAT.value, "Sekretariat Laboratorium Inovasi", "Lab secretariat"),
        RoleDef(_R.AUDITOR.value, "Auditor (Inspektorat)", "Auditor"),
    )
}


@attrs.frozen
class Policy:
    """A validated, self-contained policy (any ``extends`` already applied).

    Build one with `load_policy`, `parse_policy` or `policy_from_dict`; they
    validate. `to_dict` gives the policy's document form, which loads back equal.
    """

    id: str
    name: str
    stages: tuple[Stage, ...]
    description: str = ""
    extends: str | None = None
    self_paced: bool = False
    utc_offset: str = "+07:00"
    roles: Mapping[str, RoleDef] = attrs.field(factory=lambda: dict(DEFAULT_ROLES))
    permissions: Mapping[str, frozenset[str]] = attrs.field(
        factory=lambda: dict(DEFAULT_PERMISSIONS)
    )
    gates: Mapping[str, tuple[RequirementSpec, ...]] = attrs.field(factory=dict)
    cohort: Mapping[str, tuple[RequirementSpec, ...]] = attrs.field(factory=dict)
    launch: tuple[RequirementSpec, ...] = ()
    #: the absolute deadlines, by the stage to enter (every kind is in `timing`)
    deadlines: Mapping[str, datetime] = attrs.field(factory=dict)
    #: every deadline, absolute or relative, by the stage to enter
    timing: Mapping[str, Deadline] = attrs.field(factory=dict)
    #: the attributes innovations carry (jenis, bentuk, ...), by id
    attributes: Mapping[str, AttributeDef] = attrs.field(factory=dict)
    #: how the policy reports to the Indeks Inovasi Daerah and KIPP, if it does
    national_index: NationalIndex | None = None
    #: the choices earlier versions made for every region (method, launch stage, kinds, ...)
    settings: Settings = Settings()
    registry: Registry = attrs.field(default=DEFAULT_REGISTRY, eq=False, repr=False)
    #: where exhibitions are held, whether launches happen there, who exhibits from outside
    exhibitions: ExhibitionRules = attrs.field(factory=ExhibitionRules)
    #: the monitoring (monev) obligation after the launch, if the policy has one
    monev: MonevRules | None = None
    _index: dict[str, int] = attrs.field(init=False, eq=False, repr=False)
    _compiled: Any = attrs.field(init=False, default=None, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        stages: object = self.stages  # built by hand too: say what is wrong, never AttributeError
        if not isinstance(stages, tuple) or not all(isinstance(s, Stage) for s in stages):
            problem = Problem("$.stages", "must be a tuple of labflow.Stage")
            raise PolicyError(f"policy {self.id!r}", [problem])
        object.__setattr__(self, "_index", {s.id: i for i, s in enumerate(self.stages)})
        if self.deadlines and not self.timing:  # built by hand with absolute deadlines only
            timing = {
                s: Deadline(
                    s, "gate" if _checks_deadline(self.gates.get(s, ())) else "report", by=d
                )
                for s, d in self.deadlines.items()
            }
            object.__setattr__(self, "timing", timing)

    @property
    def stage_ids(self) -> tuple[str, ...]:
        return tuple(self._index)

    def index(self, stage: str) -> int:
        """The position of stage ``stage`` (0 for the first); `NotFound` if it is not a stage."""
        try:
            return self._index[stage]
        except (KeyError, TypeError):
            raise NotFound("stage", str(stage), where=f"policy {self.id!r}") from None

    def stage(self, stage: str) -> Stage:
        """The `Stage` with id ``stage``; `NotFound` if there is none."""
        return self.stages[self.index(stage)]

    def has_stage(self, stage: str) -> bool:
        return stage in self._index

    def next_stage(self, stage: str) -> Stage | None:
        """The stage after ``stage``, or ``None`` after the last."""
        i = self._index[stage] + 1
        return self.stages[i] if i < len(self.stages) else None

    def stage_covering(self, five_d: str) -> Stage | None:
        """The stage that covers the 5D stage ``five_d`` (``"deliver"``, ...), if any."""
        return next((s for s in self.stages if five_d in s.covers), None)

    @property
    def launch_stage(self) -> str | None:
        """The id of the stage innovations are launched at (``None``: this policy has none)."""
        if self.settings.launch_stage is not None:
            return self.settings.launch_stage
        stage = self.stage_covering(_LAUNCH_COVER.get(self.settings.method, "deliver"))
        return stage.id if stage is not None else None

    def launches_at(self, stage: str) -> bool:
        """Whether innovations are launched (and ceremonies held) at stage ``stage``."""
        return stage == self.launch_stage

    @property
    def government_kinds(self) -> frozenset[UnitKind]:
        """The unit kinds that belong to the regional government under this policy."""
        return self.settings.government_kinds

    @property
    def zone(self) -> timezone:
        """The policy's local time zone (its ``utc_offset``), in which moments are shown;
        UTC for a recorded offset no labflow would write."""
        return _offset(self.utc_offset) or UTC

    def show_time(self, moment: datetime, lang: str = "en") -> str:
        """``moment`` as a reader in the region writes it, in the policy's local time.

        ``30 June 2016, 23:59 (UTC+07:00)``; in Indonesian ``30 Juni 2016 pukul 23.59
        (UTC+07:00)``. Moments are stored in UTC; this is for messages only.
        """
        local = moment.astimezone(self.zone)
        offset = "UTC" + ("+00:00" if self.zone is UTC else self.utc_offset)
        if lang == "id":
            month = _MONTHS_ID[local.month - 1]
            return f"{local.day} {month} {local.year} pukul {local:%H.%M} ({offset})"
        return f"{local.day} {_MONTHS_EN[local.month - 1]} {local.year}, {local:%H:%M} ({offset})"

    def allowed(self, command: str) -> frozenset[str]:
        """The roles that may perform ``command``."""
        return self.permissions.get(command, frozenset())

    def to_dict(self) -> dict[str, Any]:
        """The policy as plain data (JSON-ready), in the same shape as its TOML."""
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "description": self.description,
        }
        if self.extends is not None:
            data["extends"] = self.extends
        data["self_paced"] = self.self_paced
        data["utc_offset"] = self.utc_offset
        data["stages"] = [
            {
                "id": s.id,
                "label_id": s.label_id,
                "label_en": s.label_en,
                "covers": list(s.covers),
                "description": s.description,
            }
            for s in self.stages
        ]
        data["roles"] = {
            r.id: {
                "label_id": r.label_id,
                "label_en": r.label_en,
                "scope": r.scope,
                "description": r.description,
            }
            for r in self.roles.values()
        }
        data["permissions"] = {c: sorted(roles) for c, roles in self.permissions.items()}
        data["gates"] = {s: [_spec_to_dict(x) for x in specs] for s, specs in self.gates.items()}
        data["cohort"] = {s: [_spec_to_dict(x) for x in specs] for s, specs in self.cohort.items()}
        data["launch"] = [_spec_to_dict(x) for x in self.launch]
        data["deadlines"] = {
            s: d.by.isoformat()
            if _plain_deadline(d, self.gates.get(s, ())) and d.by
            else d.to_dict()
            for s, d in self.timing.items()
        }
        if self.attributes:
            data["attributes"] = {k: a.to_dict() for k, a in self.attributes.items()}
        if self.national_index is not None:
            data["national_index"] = self.national_index.to_dict(self.stage_ids)
        if self.settings != Settings():
            data["settings"] = self.settings.to_dict()
        if self.exhibitions != ExhibitionRules():
            data["exhibitions"] = self.exhibitions.to_dict()
        if self.monev is not None:
            data["monev"] = self.monev.to_dict()
        return data


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, RequirementCall):
        return {value.name: {k: _plain(v) for k, v in value.params.items()}}
    if isinstance(value, tuple | list | frozenset):
        return [_plain(v) for v in value]
    return value


def _spec_to_dict(spec: RequirementSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"name": spec.name}
    out.update({k: _plain(v) for k, v in spec.params.items()})
    if spec.applies_to is not None:
        out["applies_to"] = sorted(k.value for k in spec.applies_to)
    return out


# --- Loading -----------------------------------------------------------------------------

_PRESETS = "presets"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_OFFSET = re.compile(r"^[+-](\d\d):(\d\d)$")


def available_presets() -> list[str]:
    """The names of the bundled policies, sorted."""
    folder = resources.files("labflow") / _PRESETS
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def _is_path(ref: str | os.PathLike[str]) -> bool:
    text = os.fspath(ref)
    return isinstance(ref, os.PathLike) or "/" in text or os.sep in text or text.endswith(".toml")


def _read_toml(text: object, source: str) -> dict[str, Any]:
    if not isinstance(text, str):
        raise PolicyError(source, [Problem("$", f"must be TOML text, not {type(text).__name__}")])
    if len(text) > MAX_POLICY_BYTES:
        raise PolicyError(source, [Problem("$", f"is larger than {MAX_POLICY_BYTES} characters")])
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(source, [Problem("$", f"TOML syntax error: {exc}")]) from exc
    except (ValueError, RecursionError) as exc:  # absurdly long numbers, absurdly deep nesting
        raise PolicyError(source, [Problem("$", f"cannot be read as TOML: {exc}")]) from exc


def _path_text(ref: object, source: str) -> str:
    """``ref`` as the text of a path, or `PolicyError` (a NUL, bytes, not a path at all)."""
    try:
        text = os.fspath(ref)  # type: ignore[call-overload]
    except TypeError:
        text = None
    if not isinstance(text, str):
        problem = Problem("$", f"a preset name or a path, not {type(ref).__name__}")
        raise PolicyError(source, [problem])
    if "\x00" in text:
        raise PolicyError(source, [Problem("$", "a path cannot contain a NUL character")])
    return text


def _read_file(path: Path, source: str) -> str:
    """The text of the regular file at ``path``, read with a bound; `PolicyError` otherwise.

    A device (``/dev/zero``), a FIFO or a terminal (``/dev/stdin``) could hang the
    read or never end it: only regular files are opened for reading, checked before
    opening and again on the open file, which is opened without blocking.
    """

    def refuse(message: str) -> PolicyError:
        return PolicyError(source, [Problem("$", message)])

    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise refuse("is not a regular file (a folder, a device or a FIFO): it cannot be read")
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(path, flags)
    except OSError as exc:
        raise refuse(f"cannot be read: {exc.strerror or type(exc).__name__}") from None
    except ValueError:  # a name the file system cannot encode
        raise refuse("cannot be read: the path is not valid on this system") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced since the check above
            raise refuse("is not a regular file (a folder, a device or a FIFO): it cannot be read")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_POLICY_BYTES:
            chunk = os.read(fd, min(1 << 20, MAX_POLICY_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise refuse(f"cannot be read: {exc.strerror or type(exc).__name__}") from None
    finally:
        os.close(fd)
    if size > MAX_POLICY_BYTES:
        raise refuse(f"is larger than {MAX_POLICY_BYTES} bytes")
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise refuse(f"is not UTF-8 text (byte {exc.start} cannot be decoded)") from None


def _preset(name: str) -> tuple[dict[str, Any], str, Path | None]:
    if name not in available_presets():
        hint = difflib.get_close_matches(name, available_presets(), n=1)
        known = ", ".join(available_presets())
        extra = f" Did you mean {hint[0]!r}?" if hint else ""
        raise PolicyError(
            repr(name), [Problem("$", f"no bundled preset has this name (known: {known}).{extra}")]
        )
    text = (resources.files("labflow") / _PRESETS / f"{name}.toml").read_text(encoding="utf-8")
    return _read_toml(text, f"preset {name!r}"), f"preset {name!r}", None


def _read_ref(ref: str | os.PathLike[str]) -> tuple[dict[str, Any], str, Path | None]:
    """What the host asked for: a preset by name or a file by path (any path the host gives).

    Returns its raw data, a label, and the folder its own ``extends`` paths are confined to
    (``None`` for a preset, whose parents are presets).
    """
    text = _path_text(ref, repr(ref))
    if not _is_path(ref):
        return _preset(text)
    path = Path(text)
    return _read_toml(_read_file(path, text), text), text, path.parent


def _confined(ref: str, base: Path, search_path: Sequence[Path], source: str) -> Path:
    """The file an ``extends`` path names, if it stays inside ``base`` or the search path.

    Symlinks are resolved first, so a link pointing out of the folder is refused as
    a ``..`` is; an absolute path is refused unless it lies in the search path.
    """

    def refuse(message: str) -> PolicyError:
        return PolicyError(source, [Problem("$.extends", message)])

    text = _path_text(ref, source)
    if os.path.isabs(text) and not search_path:
        raise refuse(
            f"{text!r} is an absolute path: a parent policy must be named relative to the "
            "extending file's folder (or be a bundled preset)"
        )
    roots = [base, *search_path]
    try:
        target = Path(os.path.realpath(base / text))
        allowed = [Path(os.path.realpath(root)) for root in roots]
    except (OSError, ValueError):
        raise refuse(f"{text!r} cannot be resolved") from None
    if not any(target.is_relative_to(root) for root in allowed):
        raise refuse(
            f"{text!r} leads outside the folder of the policy that extends it "
            "(a '..' or a symlink out of it); name a file in that folder or in the host's "
            "search path"
        )
    return target


def _read_parent(
    ref: str, base: Path | None, search_path: Sequence[Path], source: str
) -> tuple[dict[str, Any], str, Path | None]:
    """The parent an ``extends`` names: a preset, or a policy file it is allowed to read."""
    if not _is_path(ref):
        return _preset(_path_text(ref, source))
    if base is None:  # a preset extends presets only
        raise PolicyError(source, [Problem("$.extends", f"{ref!r} is not a bundled preset")])
    path = _confined(ref, base, search_path, source)
    label = str(path)
    raw = _read_toml(_read_file(path, label), label)
    if not raw.keys() <= set(_TOP_KEYS) or ("stages" not in raw and "extends" not in raw):
        # Say nothing of what the file holds: it may be anything the extending file pointed at.
        raise PolicyError(
            source,
            [Problem("$.extends", f"{ref!r} is not a labflow policy; nothing of it is shown")],
        )
    return raw, label, path.parent


_PER_STAGE = ("gates", "cohort", "deadlines")
_MERGED = ("roles", "permissions", "attributes", "national_index", "settings", *_PER_STAGE)


def _overlay(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """Apply ``child`` over ``parent``: tables merge by key, anything else is replaced."""
    merged = dict(parent)
    if "stages" in child and isinstance(child["stages"], list):
        # The parent's per-stage entries survive only for stages the child still has;
        # the child's own entries are kept as written, so their mistakes are reported.
        kept = {
            s["id"] for s in child["stages"] if isinstance(s, dict) and isinstance(s.get("id"), str)
        }
        for key in _PER_STAGE:
            if isinstance(merged.get(key), dict):
                merged[key] = {k: v for k, v in merged[key].items() if k in kept}
    for key, value in child.items():
        if key in _MERGED and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    if "id" in child:
        # A variant is its own policy: it does not go by its parent's name or description.
        for key in ("name", "description"):
            if key not in child:
                merged.pop(key, None)
    merged.pop("extends", None)
    if "extends" in child:
        merged["extends"] = child["extends"]
    return merged


def _resolve(
    raw: dict[str, Any],
    source: str,
    base: Path | None,
    seen: tuple[str, ...],
    search_path: Sequence[Path],
) -> dict[str, Any]:
    parent_ref = raw.get("extends")
    if parent_ref is None:
        return raw
    if not isinstance(parent_ref, str):
        return raw  # reported by validation
    key = parent_ref
    if _is_path(parent_ref) and base is not None:
        key = str(_confined(parent_ref, base, search_path, source))
    if key in seen:
        chain = " -> ".join((*seen, key))
        raise PolicyError(source, [Problem("$.extends", f"extends forms a cycle: {chain}")])
    parent_raw, parent_source, parent_base = _read_parent(parent_ref, base, search_path, source)
    parent = _resolve(parent_raw, parent_source, parent_base, (*seen, key), search_path)
    return _overlay(parent, raw)


def _folders(search_path: object, source: str) -> tuple[Path, ...]:
    if search_path is None:
        return ()
    if isinstance(search_path, str | os.PathLike) or not isinstance(search_path, Sequence):
        problem = Problem("$", "the search path must be a list of folders")
        raise PolicyError(source, [problem])
    return tuple(Path(_path_text(folder, source)) for folder in search_path)


def load_policy(
    name_or_path: str | os.PathLike[str],
    *,
    registry: Registry | None = None,
    search_path: Sequence[str | os.PathLike[str]] | None = None,
) -> Policy:
    """Load a bundled preset by name (``"lan-5d"``) or a TOML file by path, and validate it.

    The file must be a regular file of at most ``MAX_POLICY_BYTES``. A path it
    ``extends`` must lie in its own folder, or in one of the folders of
    ``search_path`` when the host gives one. Raises `PolicyError` listing every
    problem found.
    """
    given: object = name_or_path  # hosts call this with untyped data too
    if not isinstance(given, str | os.PathLike):
        problem = Problem("$", f"a preset name or a path, not {type(given).__name__}")
        raise PolicyError(repr(given), [problem])
    raw, source, base = _read_ref(name_or_path)
    folders = _folders(search_path, source)
    origin = str(Path(os.path.realpath(source))) if base is not None else source
    raw = _resolve(raw, source, base, (origin,), folders)
    return _build(raw, source, registry or DEFAULT_REGISTRY)


def parse_policy(
    text: str,
    *,
    source: str = "<string>",
    base: str | os.PathLike[str] | None = None,
    registry: Registry | None = None,
    search_path: Sequence[str | os.PathLike[str]] | None = None,
) -> Policy:
    """Load a policy from TOML text; a path it ``extends`` is resolved in ``base``.

    ``base`` is the folder the text came from (the current folder when not given);
    an ``extends`` path must stay inside it or inside a folder of ``search_path``.
    """
    named: object = source  # hosts call this with untyped data too
    source = named if isinstance(named, str) else repr(named)
    raw = _read_toml(text, source)
    folder = Path(_path_text(base, source)) if base is not None else Path()
    raw = _resolve(raw, source, folder, (source,), _folders(search_path, source))
    return _build(raw, source, registry or DEFAULT_REGISTRY)


def policy_from_dict(
    data: Mapping[str, Any], *, source: str = "<document>", registry: Registry | None = None
) -> Policy:
    """Build a policy from its document form (`Policy.to_dict`), with the same validation.

    ``extends`` is kept as a record of where the policy came from; a document is
    already self-contained, so it is not applied again.
    """
    named: object = source  # hosts call this with untyped data too
    source = named if isinstance(named, str) else repr(named)
    if not isinstance(data, Mapping):
        raise PolicyError(source, [Problem("$", "a policy must be a table (a JSON object)")])
    odd = list(itertools.islice(_non_string_keys(data, "$"), MAX_PROBLEMS))
    if odd:
        raise PolicyError(source, [Problem(path, "keys must be strings") for path in odd])
    return _build(dict(data), source, registry or DEFAULT_REGISTRY)


def _non_string_keys(value: Any, path: str, depth: int = 0) -> Iterable[str]:
    """Where a document (JSON-like data, not TOML) has a key that is not a string."""
    if depth > 32:
        yield path
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                yield f"{path}[{key!r}]"
            else:
                yield from _non_string_keys(item, f"{path}.{key}", depth + 1)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _non_string_keys(item, f"{path}[{i}]", depth + 1)


# --- Validation --------------------------------------------------------------------------

_TOP_KEYS = (
    "id",
    "name",
    "description",
    "extends",
    "self_paced",
    "utc_offset",
    "stages",
    "roles",
    "permissions",
    "gates",
    "cohort",
    "launch",
    "deadlines",
    "attributes",
    "national_index",
    "settings",
    "exhibitions",
    "monev",
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


class _Bad:
    def __repr__(self) -> str:
        return "<bad value>"


_BAD: Final = _Bad()


def _moment(value: Any, offset: timezone) -> datetime | None:
    """A deadline as an aware date-time: a bare date means the end of that day, local time."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=offset)
    if isinstance(value, date):
        return datetime.combine(value, time.max, tzinfo=offset)
    return None


def _offset(text: str) -> timezone | None:
    match = _OFFSET.match(text)
    if not match:
        return None
    hours, minutes = int(match[1]), int(match[2])
    delta = timedelta(hours=hours, minutes=minutes)
    if delta >= timedelta(hours=24):
        return None
    return timezone(-delta if text[0] == "-" else delta) if delta else UTC


#: Artefacts that can only be recorded at a stage covering this 5D stage: a gate asking for
#: one before such a stage has been entered could never be passed. (A launch is recorded at
#: the policy's launch stage.)
_RECORDED_AT: Final = {"launch_recorded": "deliver", "exhibit_registered": "display"}


def _launch_stage(b: _Builder, settings: Settings, stages: tuple[Stage, ...]) -> str | None:
    """The stage innovations are launched at: the one named, or the one covering the default."""
    if settings.launch_stage is not None:
        if settings.launch_stage not in {s.id for s in stages}:
            b.problem(
                "$.settings.launch_stage",
                f"{settings.launch_stage!r} is not a stage of this policy",
            )
            return None
        return settings.launch_stage
    cover = _LAUNCH_COVER.get(settings.method, "deliver")
    return next((s.id for s in stages if cover in s.covers), None)


def _unreachable_gates(
    b: _Builder,
    stages: tuple[Stage, ...],
    gates: Mapping[str, tuple[RequirementSpec, ...]],
    launch: tuple[RequirementSpec, ...],
    launch_at: str | None,
) -> None:
    """Refuse gates no innovation could ever pass: asking for what is recorded only later."""
    where = {five_d: i for i, s in enumerate(stages) for five_d in s.covers}
    position = {s.id: i for i, s in enumerate(stages)}  # one lookup per gate, not a scan
    if launch_at is not None:
        where["deliver"] = position.get(launch_at, len(stages))
    else:
        where.pop("deliver", None)
    for stage_id, specs in gates.items():
        entering = position[stage_id]
        for spec in specs:
            recorded = _RECORDED_AT.get(spec.name)
            if recorded is not None and where.get(recorded, len(stages)) >= entering:
                shown = (
                    "the launch stage"
                    if recorded == "deliver"
                    else f"the stage covering {recorded!r}"
                )
                b.problem(
                    f"$.gates.{stage_id}",
                    f"{spec.name!r} can never be met here: it is recorded only at {shown}, "
                    "reached through this gate or a later one",
                )
    for spec in launch:
        if spec.name in _RECORDED_AT:
            b.problem("$.launch", f"{spec.name!r} can never be met before the launch itself")


def _checks_deadline(gate: Iterable[RequirementSpec]) -> bool:
    return any(spec.name == _DEADLINE_CHECK for spec in gate)


def _plain_deadline(deadline: Deadline, gate: Iterable[RequirementSpec]) -> bool:
    """Whether a deadline is written as a bare date: absolute and enforced by the gate's
    own ``deadline_not_passed``."""
    return (
        deadline.by is not None
        and deadline.enforce == "gate"
        and any(spec.name == _DEADLINE_CHECK for spec in gate)
    )


_DEADLINE_CHECK: Final = "deadline_not_passed"


def _timing(
    b: _Builder,
    stages: tuple[Stage, ...],
    gates: dict[str, tuple[RequirementSpec, ...]],
    raw: Mapping[str, Deadline | datetime],
    launch_at: str | None,
) -> dict[str, Deadline]:
    """Every deadline as a `Deadline`, each used by a gate or a report; the gates of those
    enforced at the gate get ``deadline_not_passed`` (once)."""
    position = {s.id: i for i, s in enumerate(stages)}
    out: dict[str, Deadline] = {}
    for stage, item in raw.items():
        path = f"$.deadlines.{stage}"
        checked = any(spec.name == _DEADLINE_CHECK for spec in gates.get(stage, ()))
        if isinstance(item, datetime):
            if not checked:
                b.problem(
                    path,
                    f"nothing uses this deadline: add 'deadline_not_passed' to gates.{stage} to "
                    "enforce it, or write it as a table with enforce = 'gate' or 'report'",
                )
                continue
            item = Deadline(stage, "gate", by=item)
        after = item.after
        if after == "launch":
            if launch_at is None:
                b.problem(f"{path}.after", "this policy launches nothing: no launch to count from")
                continue
            if position[launch_at] >= position[stage]:
                b.problem(
                    f"{path}.after",
                    f"innovations are launched at {launch_at!r}, not before entering {stage!r}",
                )
                continue
        elif after is not None:
            kind, _, ident = after.partition(":")
            if position[ident] > position[stage] or (
                kind == "stage" and position[ident] == position[stage]
            ):
                b.problem(
                    f"{path}.after",
                    f"{after!r} happens after an innovation enters {stage!r}: it cannot start "
                    "the clock",
                )
                continue
        if item.enforce == "gate" and not checked:
            found = b.registry.find("gate", _DEADLINE_CHECK)
            if found is not None:
                spec = RequirementSpec(_DEADLINE_CHECK, {}, None, func=found.func)
                gates[stage] = (*gates.get(stage, ()), spec)
        out[stage] = item
    for stage, specs in gates.items():
        if stage not in out and any(spec.name == _DEADLINE_CHECK for spec in specs):
            b.problem(
                f"$.gates.{stage}",
                f"'deadline_not_passed' checks a deadline, but deadlines.{stage} is not given",
            )
    return out


_APPROVAL: Final = "action_plan_approved"


def _effective(definition: RequirementDef, params: Mapping[str, Any]) -> tuple[Any, ...]:
    """A requirement's parameters with its defaults filled in, comparable across places."""

    def norm(value: Any) -> Any:
        if isinstance(value, tuple | list | frozenset):
            return tuple(sorted(str(_plain(v)) for v in value))
        return _plain(value)

    return tuple(
        (name, norm(params.get(name, param.default)))
        for name, param in sorted(definition.params.items())
    )


def _shown(effective: tuple[Any, ...]) -> str:
    if not effective:
        return "no parameters"
    return ", ".join(
        f"{k}={list(v) if isinstance(v, tuple) else str(v).lower() if isinstance(v, bool) else v}"
        for k, v in effective
    )


def _approvals_agree(
    b: _Builder,
    gates: Mapping[str, tuple[RequirementSpec, ...]],
    cohort: Mapping[str, tuple[RequirementSpec, ...]],
    launch: tuple[RequirementSpec, ...],
) -> None:
    """Gates, cohort conditions and the launch rule judge an action plan's approval alike;
    a cohort condition's ``meeting`` asks what the gate of its stage asks."""
    definition = b.registry.find("gate", _APPROVAL)
    if definition is None:
        return
    uses: list[tuple[str, tuple[Any, ...]]] = []
    for stage, specs in gates.items():
        for i, spec in enumerate(specs):
            if spec.name == _APPROVAL:
                uses.append((f"gates.{stage}[{i}]", _effective(definition, spec.params)))
    for stage, specs in cohort.items():
        for i, spec in enumerate(specs):
            meeting = spec.params.get("meeting")
            name = meeting.name if isinstance(meeting, RequirementCall) else meeting
            params = meeting.params if isinstance(meeting, RequirementCall) else {}
            if name == _APPROVAL:
                uses.append((f"cohort.{stage}[{i}].meeting", _effective(definition, params)))
            elif isinstance(name, str) and (found := b.registry.find("gate", name)):
                own = _effective(found, params)
                for j, gate in enumerate(gates.get(stage, ())):
                    if gate.name == name and _effective(found, gate.params) != own:
                        b.problem(
                            f"$.cohort.{stage}[{i}].meeting",
                            f"{name!r} is counted with {_shown(own)}, but gates.{stage}[{j}] "
                            f"asks for it with {_shown(_effective(found, gate.params))}",
                        )
    stated = [i for i, spec in enumerate(launch) if spec.name == _APPROVAL and not spec.applies_to]
    if stated:
        uses.extend((f"launch[{i}]", _effective(definition, launch[i].params)) for i in stated)
    else:
        uses.append(
            ("launch (built in: every launch needs an approved plan)", _effective(definition, {}))
        )
    if len({effective for _, effective in uses}) > 1:
        listed = "; ".join(f"{where}: {_shown(effective)}" for where, effective in uses)
        b.problem(
            "$",
            f"the action plan's approval is judged differently in different places ({listed}); "
            "give 'action_plan_approved' the same parameters in the gates, the cohort "
            "conditions' 'meeting' and 'launch'",
        )


def _counterparty(
    b: _Builder,
    settings: Settings,
    roles: Mapping[str, RoleDef],
    permissions: Mapping[str, frozenset[str]],
) -> None:
    """The agreement's counterparty is a role of the policy, and one that may sign."""
    role = settings.agreement_counterparty
    path = "$.settings.agreement_counterparty"
    if role not in roles:
        b.problem(path, f"{role!r} is not a role of this policy")
    elif role == "unit_head":
        b.problem(path, "the owning unit's head is already a party; name the other party's role")
    elif role not in permissions.get("sign_agreement", frozenset()):
        b.problem(
            path,
            f"{role!r} may not sign agreements: add it to permissions.sign_agreement, or no "
            "agreement could ever be signed",
        )


def _build(raw: dict[str, Any], source: str, registry: Registry) -> Policy:
    b = _Builder(source, registry)
    b.unknown_keys(raw, _TOP_KEYS, "$")
    ident = b.string(raw, "id", "$", None)
    if ident and not _SLUG.match(ident):
        b.problem("$.id", f"{ident!r} must be lowercase letters, digits, _ . -")
    name = b.string(raw, "name", "$", ident)
    description = b.string(raw, "description", "$", "")
    extends = raw.get("extends")
    if extends is not None and not isinstance(extends, str):
        b.problem("$.extends", "must be the name of a preset or the path of a policy file")
        extends = None
    self_paced = raw.get("self_paced", False)
    if not isinstance(self_paced, bool):
        b.problem("$.self_paced", "must be true or false")
        self_paced = False
    utc_offset = b.string(raw, "utc_offset", "$", "+07:00")
    offset = _offset(utc_offset)
    if offset is None:
        b.problem("$.utc_offset", f"{utc_offset!r} must look like '+07:00'")
        offset, utc_offset = timezone(timedelta(hours=7)), "+07:00"

    settings = b.settings(raw.get("settings"))
    stages = b.stages(raw.get("stages"), settings.method)
    first = stages[0].id if stages else None
    launch_at = _launch_stage(b, settings, stages)
    roles = b.roles(b.table(raw, "roles"))
    permissions = b.permissions(b.table(raw, "permissions"))
    gates = b.per_stage_specs(b.table(raw, "gates"), "gates", "gate", first)
    cohort = b.per_stage_specs(b.table(raw, "cohort"), "cohort", "cohort", first)
    launch = b.specs(raw.get("launch", []), "$.launch", "gate")
    deadlines = b.deadlines(b.table(raw, "deadlines"), offset)
    attributes = parse_attributes(raw.get("attributes"), b.problem)
    national_index = parse_national_index(
        raw.get("national_index"), [(s.id, s.covers) for s in stages], attributes, b.problem
    )

    _unreachable_gates(b, stages, gates, launch, launch_at)
    _approvals_agree(b, gates, cohort, launch)
    _counterparty(b, settings, roles, permissions)
    timing = _timing(b, stages, gates, deadlines, launch_at)
    ids = [s.id for s in stages]
    shows = parse_exhibitions(raw.get("exhibitions"), ids, settings.government_kinds, b.problem)
    named = {s: [x.name for x in specs] for s, specs in gates.items()}
    monev = parse_monev(raw.get("monev"), ids, named, launch_at, b.problem)
    agreed = any(s.name == "agreement_signed" for specs in gates.values() for s in specs)
    if stages and settings.agreement_required and not agreed:
        b.problem(
            "$.gates",
            "no gate requires 'agreement_signed': this policy must say where the performance "
            "agreement (perjanjian kinerja inovasi) must be signed (or set "
            "settings.agreement_required = false)",
        )
    if b.problems:
        raise b.refuse()
    return Policy(
        id=ident,
        name=name,
        stages=stages,
        description=description,
        extends=extends,
        self_paced=self_paced,
        utc_offset=utc_offset,
        roles=roles,
        permissions=permissions,
        gates=gates,
        cohort=cohort,
        launch=launch,
        deadlines={s: d.by for s, d in timing.items() if d.by is not None},
        timing=timing,
        attributes=attributes,
        national_index=national_index,
        settings=settings,
        registry=registry,
        exhibitions=shows,
        monev=monev,
    )
