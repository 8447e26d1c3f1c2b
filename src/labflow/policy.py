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

This module is the public face; the work is done in private modules, one concern each:
`labflow._policy_records` (the records, `Policy` itself), `labflow._policy_time`
(deadlines, local time), `labflow._policy_load` (files, presets, ``extends``),
`labflow._policy_build` (each section of the document) and `labflow._policy_check`
(rules across sections, and the build that runs them all).
"""

from __future__ import annotations

from labflow._catalogue import COMMANDS, DEFAULT_PERMISSIONS
from labflow._policy_load import available_presets, load_policy, parse_policy, policy_from_dict
from labflow._policy_records import (
    DEFAULT_ROLES,
    METHODS,
    ApprovalStep,
    Policy,
    RequirementSpec,
    RoleDef,
    Settings,
    Stage,
)
from labflow._policy_time import Deadline, ReviewCycle

__all__ = [
    "COMMANDS",
    "DEFAULT_PERMISSIONS",
    "DEFAULT_ROLES",
    "METHODS",
    "ApprovalStep",
    "Deadline",
    "Policy",
    "RequirementSpec",
    "ReviewCycle",
    "RoleDef",
    "Settings",
    "Stage",
    "available_presets",
    "load_policy",
    "parse_policy",
    "policy_from_dict",
]
