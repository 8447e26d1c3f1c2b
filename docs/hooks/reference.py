"""MkDocs hook: the API reference and the requirement catalogue, generated from the code.

Nothing here is written by hand, so nothing here can drift: the reference has one page per
public module (every module of the package whose dotted name has no ``_`` part), listing
exactly the names of its ``__all__``; each name is documented in full once, on the page of
its home module, and linked from the other pages that re-export it. The requirement
catalogue lists every gate requirement and cohort condition of ``labflow.DEFAULT_REGISTRY``
with its parameters, its docstring and the presets that use it; the command catalogue lists
every command of labflow's own catalogue with its event, default roles and preconditions.

The functions are plain (no MkDocs import) so that the test suite checks the generated
text without building the site; MkDocs calls `on_files`.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import pkgutil
import typing
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import labflow

REFERENCE = "reference"


def public_modules() -> list[ModuleType]:
    """labflow and every public submodule, top-level first, then by dotted name."""
    found = [labflow]
    for info in pkgutil.walk_packages(labflow.__path__, "labflow."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        found.append(importlib.import_module(info.name))
    return [labflow, *sorted(found[1:], key=lambda m: m.__name__)]


def exported(module: ModuleType) -> list[str]:
    """The names a module exports: its ``__all__``, or, without one, none."""
    return list(getattr(module, "__all__", ()))


_SCALARS = (int, float, str, bytes, bool, type(None))


def key(module: ModuleType, name: str) -> object:
    """What identifies an exported object across modules.

    Its identity, except for plain values (``1`` in one module is not ``1`` in another):
    those are the same object only under the same name.
    """
    obj = getattr(module, name)
    return (name, obj) if isinstance(obj, _SCALARS) else id(obj)


def homes(modules: list[ModuleType]) -> dict[object, str]:
    """Where each exported object is documented in full, by `key`: a module's dotted name.

    The module that defines it, when that module is public and exports it; otherwise the
    most specific public module exporting it (``labflow.policy`` before ``labflow``).
    """
    exporters: dict[object, list[str]] = {}
    defined: dict[object, str | None] = {}
    for module in modules:
        for name in exported(module):
            k = key(module, name)
            exporters.setdefault(k, []).append(module.__name__)
            defined.setdefault(k, getattr(getattr(module, name), "__module__", None))
    result: dict[object, str] = {}
    for k, names in exporters.items():
        defining = defined[k]
        if defining in names:
            result[k] = defining
        else:
            result[k] = max(names, key=lambda n: (n.count("."), n))
    return result


def _page(module: ModuleType) -> str:
    return f"{REFERENCE}/{module.__name__}.md"


def _summary(obj: object) -> str:
    if not (callable(obj) or inspect.isclass(obj)):
        return f"a value (`{type(obj).__name__}`)"
    first = (inspect.getdoc(obj) or "").strip().split("\n\n")[0].replace("\n", " ")
    return first.replace("|", "\\|")


def module_page(module: ModuleType, modules: list[ModuleType]) -> str:
    """The reference page of one public module."""
    home = homes(modules)
    doc = inspect.getdoc(module) or ""
    lines = [f"# `{module.__name__}`", "", doc, ""]
    names = exported(module)
    if not names:
        lines += ["This module exports no names of its own.", ""]
        return "\n".join(lines)
    elsewhere = [n for n in names if home[key(module, n)] != module.__name__]
    here = [n for n in names if n not in elsewhere]
    if elsewhere:
        lines += [
            "## Also exported here",
            "",
            "Documented in full on the page of the module that defines them.",
            "",
            "| name | summary |",
            "|---|---|",
        ]
        for name in elsewhere:
            obj = getattr(module, name)
            target = f"{home[key(module, name)]}.{name}"
            lines.append(f"| [`{name}`][{target}] | {_summary(obj)} |")
        lines.append("")
    if here:
        lines += ["## Defined here", ""]
        for name in here:
            lines += [f"::: {module.__name__}.{name}", ""]
    return "\n".join(lines)


def index_page(modules: list[ModuleType]) -> str:
    """The reference's front page: one line per public module."""
    lines = [
        "# API reference",
        "",
        "Generated from the docstrings at build time: one page per public module, listing",
        "exactly its `__all__`. A name that is not here is not part of the public API.",
        "",
        "| module | names | what it is for |",
        "|---|---|---|",
    ]
    for module in modules:
        first = (inspect.getdoc(module) or "").split("\n\n")[0].replace("\n", " ")
        link = f"[`{module.__name__}`]({module.__name__}.md)"
        lines.append(f"| {link} | {len(exported(module))} | {first} |")
    return "\n".join([*lines, ""])


# --- The requirement catalogue -----------------------------------------------------------------


_WORDS = {
    str: "text",
    int: "integer",
    float: "number",
    bool: "true or false",
    labflow.StageRef: "a stage id",
    labflow.RequirementRef: "a requirement name",
}


def _type(annotation: Any) -> str:
    """A parameter's type in the words of a policy's author (the TOML value to give)."""
    if annotation in _WORDS:
        return _WORDS[annotation]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "one of " + ", ".join(f"`{m.value}`" for m in annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None) and a is not Ellipsis]
    if typing.get_origin(annotation) is tuple and len(args) == 1:
        return f"a list, each {_type(args[0])}"
    if len(args) == 1:  # X | None: the parameter may be left out
        return _type(args[0])
    return str(annotation)


def _toml(value: Any) -> str:
    """A default as a policy's TOML would write it."""
    value = getattr(value, "value", value)  # an enum member: its value
    if value is None:
        return "none (leave it out)"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, tuple | list):
        items = ", ".join(f'"{getattr(v, "value", v)}"' for v in value)
        return f"`[{items}]`"
    return f"`{value}`"


def _default(param: Any) -> str:
    return "required" if param.required else _toml(param.default)


def _users() -> dict[tuple[str, str], list[str]]:
    """For each (kind, requirement name), the presets whose policy uses it."""
    used: dict[tuple[str, str], list[str]] = {}
    for preset in labflow.available_presets():
        policy = labflow.load_policy(preset)
        specs = [("gate", s.name) for group in policy.gates.values() for s in group]
        specs += [("gate", s.name) for s in policy.launch]
        specs += [("cohort", s.name) for group in policy.cohort.values() for s in group]
        for key in dict.fromkeys(specs):
            used.setdefault(key, []).append(preset)
    return used


def _entries(kind: typing.Literal["gate", "cohort"]) -> Iterator[Any]:
    registry = labflow.DEFAULT_REGISTRY
    for name in registry.names(kind):
        found = registry.find(kind, name)
        if found is not None:
            yield found


def catalogue_page() -> str:
    """Every requirement a policy can name, as the code defines it."""
    used = _users()
    lines = [
        "# Requirement catalogue",
        "",
        "Generated from `labflow.DEFAULT_REGISTRY` when the site is built: every gate",
        "requirement and cohort condition a policy can name, its parameters (read from the",
        "function's signature, so a policy gives them as TOML keys) and its docstring. A",
        "requirement a host registers with `@labflow.requirement` joins this list in the",
        "host's own build. [Policies](../policies.md) explains where a policy names them.",
        "",
    ]
    for kind, title in (("gate", "Gate requirements"), ("cohort", "Cohort conditions")):
        entries = list(_entries(kind))  # type: ignore[arg-type]
        lines += [f"## {title}", "", f"{len(entries)} registered.", ""]
        for entry in entries:
            lines += [f"### `{entry.name}`", "", entry.doc or "(No docstring.)", ""]
            if entry.params:
                lines += ["| parameter | type | default |", "|---|---|---|"]
                for param in entry.params.values():
                    lines.append(
                        f"| `{param.name}` | {_type(param.annotation)} | {_default(param)} |"
                    )
                lines.append("")
            else:
                lines += ["No parameters.", ""]
            presets = used.get((kind, entry.name), [])
            where = ", ".join(f"`{p}`" for p in presets) if presets else "no bundled preset"
            lines += [f"Used by: {where}.", ""]
    return "\n".join(lines)


def commands_page() -> str:
    """Every command, as labflow's catalogue declares it: event, default roles, preconditions."""
    from labflow._catalogue import CATALOGUE

    lines = [
        "# Command catalogue",
        "",
        "Generated from labflow's command catalogue when the site is built: every command a",
        "host can `send`, `check` or find in `allowed`, the event it appends, the roles that",
        "may run it unless a policy's `[permissions]` say otherwise, and its preconditions --",
        "what its subject must be, whatever the arguments. `Lab.allowed` lists a command",
        "that takes arguments as blocked when one of these is unmet; gates, launch",
        "requirements and cohort conditions come on top, from the policy",
        "([Policies](../policies.md)). `sign_agreement` is further limited to the two",
        "parties the agreement names, and `approve_plan` to someone other than the plan's",
        "author. The auditor role acts on nothing: it reads histories.",
        "",
        "| command | acts on | appends | default roles | preconditions |",
        "|---|---|---|---|---|",
    ]
    seen: dict[str, str] = {}
    for spec in CATALOGUE:
        subject = "a new innovation" if spec.opens else f"the {spec.level}"
        roles = ", ".join(sorted(spec.roles))
        codes = ", ".join(f"`{p.code}`" for p in spec.preconditions) or "--"
        lines.append(f"| `{spec.name}` | {subject} | `{spec.kind}` | {roles} | {codes} |")
        for pre in spec.preconditions:
            said = pre.message_en.format(subject=f"the {spec.level}", stage="`<stage>`")
            seen.setdefault(pre.code, said[0].upper() + said[1:])
    lines += ["", "## Preconditions", "", "| code | refused when |", "|---|---|"]
    lines += [f"| `{code}` | {message} |" for code, message in sorted(seen.items())]
    return "\n".join(lines) + "\n"


def generated_pages() -> dict[str, str]:
    """Every generated page, by its path under docs/."""
    modules = public_modules()
    pages = {f"{REFERENCE}/index.md": index_page(modules)}
    for module in modules:
        pages[_page(module)] = module_page(module, modules)
    pages[f"{REFERENCE}/requirements.md"] = catalogue_page()
    pages[f"{REFERENCE}/commands.md"] = commands_page()
    return pages


def on_files(files: Any, config: Any) -> Any:
    """Add the generated pages to the site (MkDocs event)."""
    from mkdocs.structure.files import File

    for path, text in generated_pages().items():
        files.append(File.generated(config, path, content=text))
    return files


def on_config(config: Any) -> Any:
    """Fill the nav's "API reference" section with one entry per public module (MkDocs event)."""
    entries: list[Any] = [{"Overview": f"{REFERENCE}/index.md"}]
    entries += [{m.__name__: _page(m)} for m in public_modules()]
    for item in config["nav"] or []:
        if isinstance(item, dict) and "API reference" in item:
            item["API reference"] = entries
    return config
