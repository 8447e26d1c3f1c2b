"""Innovation attributes and the national-index mapping, as a policy declares them.

A region records more about an innovation than the lab's own gates read: the
Indeks Inovasi Daerah asks for its *jenis* (digital or not), *bentuk*, the
government affairs area (*urusan*), who initiated it, its goals, benefits,
results and a design text of at least 300 words. None of that is labflow's to
fix: a policy declares each attribute (its type, its labels, the values it
allows), and the presets declare the index's. The policy also says how its own
stages map onto the index's stages (inisiatif → uji coba → penerapan), so an
export never guesses.

Private: `labflow.policy` parses these sections with the rest of a policy and
`labflow.exports` reads them; hosts see them as `Policy.attributes` and
`Policy.national_index`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any, Final, Literal

import attrs

__all__ = [
    "ATTRIBUTE_TYPES",
    "INDEX_STAGES",
    "AttributeDef",
    "NationalIndex",
    "attribute_problems",
    "parse_attributes",
    "parse_national_index",
    "values_from_text",
]

AttributeType = Literal["text", "choice", "integer", "date"]
ATTRIBUTE_TYPES: Final = ("text", "choice", "integer", "date")
#: The stages of the Indeks Inovasi Daerah (PP 38/2017), in order.
INDEX_STAGES: Final = ("inisiatif", "uji_coba", "penerapan")
_SLUG: Final = re.compile(r"[a-z][a-z0-9_]*\Z")
_ATTRIBUTE_KEYS: Final = ("label_en", "label_id", "type", "choices", "min_words", "description")
_INDEX_KEYS: Final = ("stages", "kipp_min_years", "required")
#: The largest integer both JSON backends write and read back exactly.
_INT_LIMIT: Final = 2**63 - 1

Report = Callable[[str, str], None]


@attrs.frozen
class AttributeDef:
    """One attribute innovations carry: its type, labels and allowed values.

    ``choices`` lists the values a ``choice`` attribute allows; ``min_words`` is
    the fewest words a ``text`` attribute needs before an export counts it as
    given (the index asks for a design of at least 300 words).
    """

    id: str
    label_en: str
    label_id: str
    type: AttributeType = "text"
    choices: tuple[str, ...] = ()
    min_words: int = 0
    description: str = ""

    def label(self, lang: str = "en") -> str:
        return self.label_id if lang == "id" else self.label_en

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "label_en": self.label_en,
            "label_id": self.label_id,
            "type": self.type,
        }
        if self.choices:
            out["choices"] = list(self.choices)
        if self.min_words:
            out["min_words"] = self.min_words
        if self.description:
            out["description"] = self.description
        return out


@attrs.frozen
class NationalIndex:
    """How the policy reports to the Indeks Inovasi Daerah and to KIPP.

    ``stages`` maps each of the policy's stage ids to an index stage;
    ``required`` names the attributes an export needs for every innovation;
    ``kipp_min_years`` is how long an innovation must have been in use
    (since it entered *penerapan*) to be eligible for KIPP.
    """

    stages: Mapping[str, str]
    required: tuple[str, ...] = ()
    kipp_min_years: int = 1

    def to_dict(self, policy_stages: Sequence[str]) -> dict[str, Any]:
        grouped: dict[str, list[str]] = {s: [] for s in INDEX_STAGES}
        for stage in policy_stages:
            grouped[self.stages[stage]].append(stage)
        return {
            "stages": {k: v for k, v in grouped.items() if v},
            "required": list(self.required),
            "kipp_min_years": self.kipp_min_years,
        }


def _text(value: Any, path: str, report: Report, *, default: str = "") -> str:
    if value is None:
        return default
    if not isinstance(value, str):
        report(path, f"must be a string, not {type(value).__name__}")
        return default
    return value


def parse_attributes(raw: Any, report: Report) -> dict[str, AttributeDef]:
    """The ``[attributes]`` table: one sub-table per attribute id."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        report("$.attributes", f"must be a table, not {type(raw).__name__}")
        return {}
    found: dict[str, AttributeDef] = {}
    for ident, item in raw.items():
        path = f"$.attributes.{ident}"
        if not isinstance(ident, str) or not _SLUG.match(ident):
            report(path, "an attribute id must be lowercase letters, digits and _")
            continue
        if not isinstance(item, dict):
            report(path, "must be a table with label_en, label_id and type")
            continue
        for key in item:
            if key not in _ATTRIBUTE_KEYS:
                report(f"{path}.{key}", "unknown key")
        kind = item.get("type", "text")
        if kind not in ATTRIBUTE_TYPES:
            report(f"{path}.type", f"must be one of {', '.join(ATTRIBUTE_TYPES)}")
            kind = "text"
        choices = item.get("choices", [])
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            report(f"{path}.choices", "must be an array of strings")
            choices = []
        if kind == "choice" and not choices:
            report(f"{path}.choices", "a choice attribute must list its choices")
        if kind != "choice" and choices:
            report(f"{path}.choices", f"only a choice attribute has choices, not a {kind}")
        if len(set(choices)) != len(choices):
            report(f"{path}.choices", "lists a choice twice")
        min_words = item.get("min_words", 0)
        if isinstance(min_words, bool) or not isinstance(min_words, int) or min_words < 0:
            report(f"{path}.min_words", "must be a whole number, zero or more")
            min_words = 0
        elif min_words > 100_000:
            report(f"{path}.min_words", "must be at most 100000")
            min_words = 0
        if min_words and kind != "text":
            report(f"{path}.min_words", "only a text attribute counts words")
        found[ident] = AttributeDef(
            ident,
            _text(item.get("label_en"), f"{path}.label_en", report, default=ident),
            _text(item.get("label_id"), f"{path}.label_id", report, default=ident),
            kind,
            tuple(choices),
            min_words,
            _text(item.get("description"), f"{path}.description", report),
        )
    return found


def parse_national_index(
    raw: Any,
    stages: Sequence[tuple[str, tuple[str, ...]]],
    attributes: Mapping[str, AttributeDef],
    report: Report,
) -> NationalIndex | None:
    """The ``[national_index]`` table, checked against the policy's stages and attributes.

    ``stages`` are the policy's ``(id, covers)`` pairs in order. Each entry of
    ``national_index.stages`` lists stage ids or 5D stage names; a policy stage
    maps to the index stage that names its id, else the one naming one of its
    covers (the latest if several do). Every stage must map somewhere, and the
    index stages must follow the policy's order.
    """
    if raw is None:
        return None
    if not isinstance(raw, dict):
        report("$.national_index", f"must be a table, not {type(raw).__name__}")
        return None
    for key in raw:
        if key not in _INDEX_KEYS:
            report(f"$.national_index.{key}", "unknown key")
    table = raw.get("stages")
    if not isinstance(table, dict) or not table:
        report("$.national_index.stages", "must map inisiatif, uji_coba, penerapan to stages")
        table = {}
    by_id: dict[str, str] = {}
    by_cover: dict[str, str] = {}
    for index_stage, names in table.items():
        path = f"$.national_index.stages.{index_stage}"
        if index_stage not in INDEX_STAGES:
            report(path, f"is not an index stage (one of {', '.join(INDEX_STAGES)})")
            continue
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            report(path, "must be an array of stage ids or 5D stage names")
            continue
        for name in names:
            by_id.setdefault(name, index_stage)
            by_cover.setdefault(name, index_stage)
    mapped: dict[str, str] = {}
    for ident, covers in stages:
        target = by_id.get(ident)
        if target is None:
            hits = [by_cover[c] for c in covers if c in by_cover]
            target = max(hits, key=INDEX_STAGES.index) if hits else None
        if target is None:
            report(
                "$.national_index.stages",
                f"the stage {ident!r} maps to no index stage; list it (or one of the 5D "
                f"stages it covers) under inisiatif, uji_coba or penerapan",
            )
            continue
        mapped[ident] = target
    order = [INDEX_STAGES.index(mapped[i]) for i, _ in stages if i in mapped]
    if order != sorted(order):
        report("$.national_index.stages", "the index stages must follow the policy's stage order")
    required = raw.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        report("$.national_index.required", "must be an array of attribute ids")
        required = []
    for name in required:
        if name not in attributes:
            report("$.national_index.required", f"{name!r} is not an attribute of this policy")
    years = raw.get("kipp_min_years", 1)
    if isinstance(years, bool) or not isinstance(years, int) or not 0 <= years <= 100:
        report("$.national_index.kipp_min_years", "must be a whole number from 0 to 100")
        years = 1
    return NationalIndex(mapped, tuple(required), years)


def attribute_problems(
    declared: Mapping[str, AttributeDef], values: Any
) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """``values`` checked against ``declared``: the clean values and each problem (key, en, id).

    An attribute the policy does not declare is a problem; ``None`` clears one.
    """
    problems: list[tuple[str, str, str]] = []
    clean: dict[str, Any] = {}
    if not isinstance(values, Mapping):
        return {}, [("", "The attributes must be a mapping of names to values.",
                     "Atribut harus berupa pemetaan nama ke nilai.")]  # fmt: skip
    for key, value in values.items():
        definition = declared.get(key) if isinstance(key, str) else None
        if definition is None:
            names = ", ".join(sorted(declared)) or "none"
            problems.append(
                (
                    str(key),
                    f"{key!r} is not an attribute this policy declares (it declares: {names}).",
                    f"{key!r} bukan atribut yang dinyatakan kebijakan ini (yang ada: {names}).",
                )
            )
            continue
        if value is None:
            clean[key] = None
            continue
        ok = True
        if definition.type == "choice":
            ok = isinstance(value, str) and value in definition.choices
        elif definition.type == "integer":
            ok = (
                isinstance(value, int)
                and not isinstance(value, bool)
                and -_INT_LIMIT <= value <= _INT_LIMIT
            )
        elif definition.type == "date":
            ok = isinstance(value, str) and _is_date(value)
        else:
            ok = isinstance(value, str)
        if not ok:
            allowed = {
                "choice": "one of " + ", ".join(definition.choices),
                "integer": "a whole number",
                "date": "a date written YYYY-MM-DD",
                "text": "text",
            }[definition.type]
            problems.append(
                (
                    key,
                    f"The attribute {definition.label_en} must be {allowed}.",
                    f"Atribut {definition.label_id} harus {_ALLOWED_ID[definition.type]}"
                    + (f" ({', '.join(definition.choices)})." if definition.choices else "."),
                )
            )
            continue
        clean[key] = value
    return clean, problems


_ALLOWED_ID: Final = {
    "choice": "salah satu pilihan",
    "integer": "bilangan bulat",
    "date": "tanggal dengan format TTTT-BB-HH",
    "text": "teks",
}


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def values_from_text(
    declared: Mapping[str, AttributeDef], cells: Mapping[str, str]
) -> dict[str, Any]:
    """The declared attributes among a CSV row's other columns, typed as the policy says.

    Columns the policy does not declare are left out (a cohort file may carry notes of its
    own); an integer cell that is not a whole number stays text, for the command to refuse
    with the attribute named.
    """
    values: dict[str, Any] = {}
    for name, text in cells.items():
        definition = declared.get(name)
        if definition is None or not text:
            continue
        if definition.type == "integer":
            try:
                values[name] = int(text)
            except ValueError:
                values[name] = text
        else:
            values[name] = text
    return values
