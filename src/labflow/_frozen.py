"""Read-only JSON values: what event payloads and declared attributes are held as.

Private. An `Event` is shared: a store hands the same one to every caller, a lab keeps
it in its history, a host keeps it in a list. Its payload must not be a dict anyone can
change under the others, so `freeze` turns a JSON value into one no one can: objects
become `FrozenMap` and arrays `FrozenList`. Both subclass ``dict`` / ``list`` so that every
JSON encoder (the standard library's C encoder, orjson) writes them unchanged and they
compare equal to the plain values they were made from; every method that would change
them raises ``TypeError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, NoReturn, SupportsIndex

from labflow._limits import MAX_DEPTH
from labflow.errors import InvalidCommand

__all__ = ["FrozenList", "FrozenMap", "freeze", "thaw"]


def _refuse(self: object, *args: object, **kwargs: object) -> NoReturn:
    raise TypeError(f"a {type(self).__name__} cannot be changed: an event's values are final")


class FrozenMap(dict[str, Any]):
    """A JSON object that cannot be changed; equal to the dict it was made from."""

    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __hash__(self) -> int:  # type: ignore[override]
        raise TypeError("unhashable type: 'FrozenMap'")

    def __reduce__(self) -> tuple[Any, ...]:  # pickle and deepcopy rebuild it whole
        return (FrozenMap, (dict(self),))

    def __copy__(self) -> FrozenMap:
        return self

    def __repr__(self) -> str:
        return dict.__repr__(self)


class FrozenList(list[Any]):
    """A JSON array that cannot be changed; equal to the list it was made from."""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = clear = extend = insert = pop = remove = reverse = sort = _refuse

    def __hash__(self) -> int:  # type: ignore[override]
        raise TypeError("unhashable type: 'FrozenList'")

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenList, (list(self),))

    def __copy__(self) -> FrozenList:
        return self

    def __repr__(self) -> str:
        return list.__repr__(self)

    def __getitem__(self, index: SupportsIndex | slice) -> Any:
        if isinstance(index, slice):  # a slice of a frozen list is frozen too
            return FrozenList(list.__getitem__(self, index))
        return list.__getitem__(self, index)


#: The types a JSON value holds as they are (a payload is mostly these).
_PLAIN: Final = frozenset({str, int, bool, float, type(None)})
_put = dict.__setitem__  # FrozenMap's own item setting, for building one


def freeze(value: Any, depth: int = 0) -> Any:
    """``value`` with every object and array in it made read-only (itself if it already is).

    Anything else (a text, a number, any other object) is returned as it is. A value
    nested deeper than labflow's limit is an `InvalidCommand`. Built for the hot path:
    each container is copied once, in C, and only its non-plain items are visited.
    """
    kind = type(value)
    if kind is FrozenMap or kind is FrozenList or kind in _PLAIN:
        return value
    if depth > MAX_DEPTH:
        raise InvalidCommand(
            f"A value nested deeper than {MAX_DEPTH} levels cannot be recorded.",
            f"Nilai yang bersarang lebih dari {MAX_DEPTH} tingkat tidak dapat dicatat.",
            code="input.too_deep",
        )
    if kind is list:
        for item in value:
            if type(item) not in _PLAIN:
                return FrozenList([freeze(v, depth + 1) for v in value])
        return FrozenList(value)
    if kind is tuple:
        return tuple(freeze(v, depth + 1) for v in value)
    if kind is dict or isinstance(value, Mapping):
        frozen = FrozenMap(value)
        for key, item in frozen.items():
            if type(item) not in _PLAIN:
                _put(frozen, key, freeze(item, depth + 1))
        return frozen
    return value


def thaw(value: Any) -> Any:
    """A plain, changeable copy of a frozen value: what a document hands its reader."""
    kind = type(value)
    if kind is FrozenMap or kind is dict:
        return {k: thaw(v) for k, v in value.items()}
    if kind is FrozenList or kind is list:
        return [thaw(v) for v in value]
    return value
