"""Reading policies: presets and files (guarded), ``extends`` chains and their overlay.

Split from `labflow.policy`: the file-system side of loading, kept apart from the
validation (`labflow._policy_build`, `labflow._policy_check`) that turns raw data into a
`Policy`.
"""

from __future__ import annotations

import difflib
import itertools
import os
import stat
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from labflow._limits import MAX_POLICY_BYTES, MAX_PROBLEMS
from labflow._policy_check import _build
from labflow._policy_records import _TOP_KEYS, Policy
from labflow.errors import PolicyError, Problem
from labflow.requirements import (
    DEFAULT_REGISTRY,
    Registry,
)

_PRESETS = "presets"


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


def _registry(registry: object, source: str) -> Registry:
    """The registry a policy's requirement names are looked up in (a host's, or labflow's)."""
    if registry is None:
        return DEFAULT_REGISTRY
    if not isinstance(registry, Registry):
        problem = Problem(
            "$", f"the registry must be a labflow.Registry, not {type(registry).__name__}"
        )
        raise PolicyError(source, [problem])
    return registry


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
    return _build(raw, source, _registry(registry, source))


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
    return _build(raw, source, _registry(registry, source))


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
    return _build(dict(data), source, _registry(registry, source))


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
