"""Each command's pieces are found through its catalogue entry: one declaration per command.

`Lab.send` runs the body the entry names and the validating fold runs the replay check
it names, so a command missing either is a failure here that names it -- not a command
that silently runs unchecked on replay.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from helpers import make_lab, register
from labflow._catalogue import CATALOGUE, CommandSpec
from labflow.lab import Lab

NAMES = [spec.name for spec in CATALOGUE]


def _parameters(func: object, skip: int) -> list[tuple[str, object, object]]:
    params = list(inspect.signature(func).parameters.values())[skip:]  # type: ignore[arg-type]
    return [(p.name, p.kind, p.default) for p in params]


def missing_pieces(specs: tuple[CommandSpec, ...]) -> list[str]:
    """What each command lacks of its pieces, in words that name it."""
    missing = []
    for spec in specs:
        if not spec.module:
            missing.append(f"{spec.name}: no module= names where its body lives")
            continue
        try:
            body = spec.body()
        except (ImportError, AttributeError) as exc:
            missing.append(f"{spec.name}: body {spec.module}.{spec.method} not found ({exc})")
            continue
        if not callable(body):
            missing.append(f"{spec.name}: {spec.module}.{spec.method} is not a function")
        if spec.replay == "":
            missing.append(f"{spec.name}: no replay= (a check's name, or None for none)")
        elif spec.replay is not None:
            try:
                spec.replay_check()
            except AttributeError:
                missing.append(f"{spec.name}: replay check {spec.module}.{spec.replay} missing")
        if spec.level == "lab" and spec.replay is None:
            missing.append(f"{spec.name}: a lab command's replay step builds the lab's view")
    return missing


class TestEveryCommandHasItsPieces:
    def test_every_command_names_a_body_and_a_replay_check(self) -> None:
        """A new command lacking its module, its body (a function named like its `Lab`
        method) or its replay check (or an explicit ``replay=None``) fails here, named."""
        assert missing_pieces(CATALOGUE) == []

    def test_what_is_missing_is_named(self) -> None:
        """An entry declaring no body, or no replay check, is reported by name."""
        bare = CommandSpec("new_thing", "innovation.new_thing", "innovation", frozenset(), "x")
        unchecked = CommandSpec(
            "other", "innovation.other", "innovation", frozenset(), "advance", module="_moves"
        )
        wrong = CommandSpec(
            "third", "lab.third", "lab", frozenset(), "advance_lab", module="_moves", replay="nope"
        )
        assert missing_pieces((bare, unchecked, wrong)) == [
            "new_thing: no module= names where its body lives",
            "other: no replay= (a check's name, or None for none)",
            "third: replay check _moves.nope missing",
        ]

    @pytest.mark.parametrize("name", NAMES)
    def test_the_typed_method_takes_what_the_body_takes(self, name: str) -> None:
        """`lab.advance(...)` and `lab.send("advance", ...)` accept the same arguments."""
        spec = next(s for s in CATALOGUE if s.name == name)
        method = getattr(Lab, spec.method)
        assert _parameters(method, 1) == _parameters(spec.body(), 1)


class TestSendRunsTheCatalogueBody:
    def test_send_runs_the_body_the_catalogue_names(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """`Lab.send` goes through the entry's body, not a per-command method of `Lab`."""
        from labflow import _commands

        lab = make_lab()
        register(lab, "muttu-1")
        seen: list[str] = []
        real = _commands.attach_evidence

        def spy(*args: Any, **kwargs: Any) -> Any:
            seen.append("body")
            return real(*args, **kwargs)

        monkeypatch.setattr(_commands, "attach_evidence", spy)
        monkeypatch.delattr(Lab, "attach_evidence")
        event = lab.send(
            "attach_evidence", "muttu-1", by="sekretariat", title="Foto", reference="doc-1"
        )
        assert seen == ["body"]
        assert event.kind == "innovation.evidence_attached"
        assert lab.innovation("muttu-1").history[-1] == event
