"""The JSON Schema of each document kind, for hosts that read labflow documents in other languages.

Factored out of `labflow.serde`, which keeps the public entry point
(`labflow.serde.json_schema`) and the kinds and versions: the schemas are
derived from the attrs records, the loader is not, and the two change for
different reasons. A schema checks shape and types only; loading checks more.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any, Final

import attrs

from labflow._registrations import Registration, Registrations
from labflow.events import Event
from labflow.model import (
    ActionPlan,
    Actor,
    AgreementReview,
    AgreementVersion,
    Diagnosis,
    Evidence,
    Exhibit,
    Innovation,
    Launch,
    PerformanceAgreement,
    Permission,
    PlanApproval,
    PlanStep,
    Replication,
    Signature,
    Unit,
)

_DRAFT: Final = "https://json-schema.org/draft/2020-12/schema"
_DATETIME: Final = {
    "type": "string",
    "format": "date-time",
    "description": "ISO 8601 with a UTC offset",
}
_RECORDS: Final = (
    Unit,
    Actor,
    Event,
    Diagnosis,
    PlanStep,
    PlanApproval,
    ActionPlan,
    Signature,
    AgreementVersion,
    AgreementReview,
    PerformanceAgreement,
    Permission,
    Launch,
    Evidence,
    Exhibit,
    Replication,
    Innovation,
    Registration,
    Registrations,
)


def _type_schema(type_: Any) -> dict[str, Any]:
    origin, args = typing.get_origin(type_), typing.get_args(type_)
    if type_ is str:
        return {"type": "string"}
    if type_ is int:
        return {"type": "integer"}
    if type_ is bool:
        return {"type": "boolean"}
    if type_ is datetime:
        return dict(_DATETIME)
    if type_ is date:
        return {"type": "string", "format": "date"}
    if isinstance(type_, type) and issubclass(type_, Enum):
        return {"enum": [m.value for m in type_]}
    if isinstance(type_, type) and attrs.has(type_):
        return {"$ref": f"#/$defs/{type_.__name__}"}
    if typing.get_origin(type_) in (Mapping, dict) and args == (str, Any):  # a free-form payload
        return {"type": "object"}
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [_type_schema(a) for a in args]}
    if type_ is type(None):
        return {"type": "null"}
    if origin in (tuple, list, frozenset):
        schema: dict[str, Any] = {"type": "array", "items": _type_schema(args[0])}
        if origin is frozenset:
            schema["uniqueItems"] = True
        return schema
    raise TypeError(f"no schema for {type_!r}")  # pragma: no cover - a new field type


def _record_schema(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    fields = [f for f in attrs.fields(cls) if f.init]
    return {
        "type": "object",
        "description": (cls.__doc__ or "").strip().splitlines()[0],
        "properties": {f.name: _type_schema(hints[f.name]) for f in fields},
        "required": [f.name for f in fields if f.default is attrs.NOTHING],
        "additionalProperties": False,
    }


def _spec_list() -> dict[str, Any]:
    spec = {
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"],
        "description": "A requirement by name; its parameters sit beside the name.",
    }
    return {"type": "array", "items": spec}


def _policy_schema() -> dict[str, Any]:
    strings = {"type": "array", "items": {"type": "string"}}
    stage = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "label_id": {"type": "string"},
            "label_en": {"type": "string"},
            "covers": strings,
            "description": {"type": "string"},
        },
        "required": ["id"],
        "additionalProperties": False,
    }
    role = {
        "type": "object",
        "properties": {
            "label_id": {"type": "string"},
            "label_en": {"type": "string"},
            "scope": {"enum": ["lab", "unit"]},
            "description": {"type": "string"},
        },
        "additionalProperties": False,
    }
    per_stage = {"type": "object", "additionalProperties": _spec_list()}
    attribute = {
        "type": "object",
        "properties": {
            "label_en": {"type": "string"},
            "label_id": {"type": "string"},
            "type": {"enum": ["text", "choice", "integer", "date"]},
            "choices": strings,
            "min_words": {"type": "integer", "minimum": 0},
            "description": {"type": "string"},
        },
        "additionalProperties": False,
    }
    national_index = {
        "type": "object",
        "properties": {
            "stages": {
                "type": "object",
                "propertyNames": {"enum": ["inisiatif", "uji_coba", "penerapan"]},
                "additionalProperties": strings,
            },
            "required": strings,
            "kipp_min_years": {"type": "integer", "minimum": 0, "maximum": 100},
        },
        "additionalProperties": False,
    }
    count = {"type": "integer", "minimum": 0, "maximum": 3650}
    deadline = {
        "oneOf": [
            {"type": "string", "description": "a moment, enforced by the gate"},
            {
                "type": "object",
                "properties": {
                    "by": {"type": "string"},
                    "after": {"type": "string"},
                    "within_months": count,
                    "within_days": count,
                    "min_months": count,
                    "min_days": count,
                    "enforce": {"enum": ["gate", "report"]},
                },
                "required": ["enforce"],
                "additionalProperties": False,
            },
        ]
    }
    settings = {
        "type": "object",
        "properties": {
            "method": {"enum": ["5d", "iid"]},
            "agreement_required": {"type": "boolean"},
            "launch_stage": {"type": "string"},
            "unit_kinds": strings,
            "government_kinds": strings,
            "initiators": strings,
            "min_adaptation_words": {"type": "integer", "minimum": 0, "maximum": 10000},
            "agreement_counterparty": {"type": "string"},
        },
        "additionalProperties": False,
    }
    approval = {
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "roles": {**strings, "minItems": 1},
                "same_unit": {"type": "boolean"},
                "label_en": {"type": "string"},
                "label_id": {"type": "string"},
            },
            "required": ["id", "roles"],
            "additionalProperties": False,
        },
    }
    return {
        "type": "object",
        "description": "A policy in the shape of its TOML (see docs/policies.md).",
        "properties": {
            "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_.-]*$"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "extends": {"type": "string"},
            "self_paced": {"type": "boolean"},
            "utc_offset": {"type": "string", "pattern": "^[+-][0-9]{2}:[0-9]{2}$"},
            "stages": {"type": "array", "items": stage, "minItems": 1},
            "roles": {"type": "object", "additionalProperties": role},
            "permissions": {"type": "object", "additionalProperties": strings},
            "gates": per_stage,
            "cohort": per_stage,
            "launch": _spec_list(),
            "deadlines": {"type": "object", "additionalProperties": deadline},
            "attributes": {"type": "object", "additionalProperties": attribute},
            "national_index": national_index,
            "settings": settings,
            "approval": approval,
            "agreement": {
                "type": "object",
                "properties": {
                    "review": {
                        "type": "object",
                        "properties": {
                            "every_months": {"type": "integer", "minimum": 1, "maximum": 120},
                            "after": {"type": "string"},
                            "times": {"type": "integer", "minimum": 1, "maximum": 1000},
                            "until": {"type": "string"},
                            "roles": strings,
                            "same_unit": {"type": "boolean"},
                            "enforce": {"enum": ["gate", "report"]},
                        },
                        "required": ["every_months", "after", "enforce"],
                        "additionalProperties": False,
                    }
                },
                "additionalProperties": False,
            },
            "exhibitions": {
                "type": "object",
                "properties": {
                    "stage": {"type": "string"},
                    "launches": {"type": "boolean"},
                    "outside_kinds": strings,
                },
                "additionalProperties": False,
            },
            "monev": {
                "type": "object",
                "properties": {
                    "every_months": {"type": "integer", "minimum": 1, "maximum": 1200},
                    "until_months": {"type": "integer", "minimum": 1, "maximum": 1200},
                    "indicators": strings,
                    "enforce": {"enum": ["gate", "report"]},
                    "stage": {"type": "string"},
                },
                "required": ["every_months", "enforce"],
                "additionalProperties": False,
            },
        },
        "required": ["id", "stages"],
        "additionalProperties": False,
    }


#: The fields of a lab document's ``data``, all required, in the order they are written.
LAB_FIELDS: Final = (
    "id",
    "region",
    "policy",
    "stage",
    "units",
    "actors",
    "innovations",
    "registrations",
    "history",
)


def _lab_schema() -> dict[str, Any]:
    def array(name: str) -> dict[str, Any]:
        return {"type": "array", "items": {"$ref": f"#/$defs/{name}"}}

    return {
        "type": "object",
        "description": "A lab: its stated state, which must equal the fold of its histories.",
        "properties": {
            "id": {"type": "string"},
            "region": {"type": "string"},
            "policy": {"$ref": "#/$defs/Policy"},
            "stage": {"type": "string"},
            "units": array("Unit"),
            "actors": array("Actor"),
            "innovations": array("Innovation"),
            "registrations": {"$ref": "#/$defs/Registrations"},
            "history": array("Event"),
        },
        "required": list(LAB_FIELDS),
        "additionalProperties": False,
    }


def document_schema(kind: str, version: int) -> dict[str, Any]:
    """The schema of a ``kind`` document at ``version`` (the kind is already known to be valid)."""
    defs: dict[str, Any] = {cls.__name__: _record_schema(cls) for cls in _RECORDS}
    defs["Policy"] = _policy_schema()
    body = {
        "event": {"$ref": "#/$defs/Event"},
        "history": {"type": "array", "items": {"$ref": "#/$defs/Event"}},
        "innovation": {"$ref": "#/$defs/Innovation"},
        "policy": {"$ref": "#/$defs/Policy"},
        "lab": _lab_schema(),
    }[kind]
    return {
        "$schema": _DRAFT,
        "$id": f"https://labflow.invalid/schemas/{kind}-{version}.json",
        "title": f"labflow {kind} document, version {version}",
        "type": "object",
        "properties": {
            "kind": {"const": kind},
            "version": {"const": version},
            "data": body,
        },
        "required": ["kind", "version", "data"],
        "additionalProperties": False,
        "$defs": defs,
    }
