"""Errors are data: a stable code, the data, and the message in English and Indonesian."""

from __future__ import annotations

import inspect

import pytest

import labflow as lf
import labflow.errors as errors
import labflow.store as store
from helpers import make_lab, register


class TestShape:
    def test_every_error_lives_in_errors_and_has_a_code(self) -> None:
        """Each class of the hierarchy is defined in labflow.errors and carries a default code."""
        found = [
            obj
            for obj in vars(errors).values()
            if inspect.isclass(obj) and issubclass(obj, lf.LabflowError)
        ]
        assert len(found) >= 17
        for cls in found:
            assert cls.__module__ == "labflow.errors"
            assert cls.default_code
        codes = [cls.default_code for cls in found]
        assert len(set(codes)) == len(codes)

    def test_store_errors_are_reexported_from_labflow_store(self) -> None:
        """Hosts that import the store errors from labflow.store keep working."""
        assert store.StoreCorrupt is errors.StoreCorrupt
        assert store.StoreMissing is errors.StoreMissing
        assert issubclass(store.StoreLocked, lf.StoreError)

    def test_a_bare_sentence_still_builds_an_error(self) -> None:
        """Foreign raise sites that pass one sentence get the default code and that sentence."""
        exc = lf.InvalidCommand("Nope.")
        assert exc.code == "command.invalid"
        assert exc.message("id") == exc.message("en") == str(exc) == "Nope."
        assert dict(exc.data) == {}

    def test_data_is_read_only(self) -> None:
        """A host cannot change what an error says by editing its data."""
        exc = lf.NotFound("innovation", "x")
        with pytest.raises(TypeError):
            exc.data["id"] = "y"  # type: ignore[index]


class TestRaiseSites:
    def test_a_refused_command_speaks_both_languages(self) -> None:
        """A withdrawn innovation refuses a diagnosis with a code, data and two languages."""
        lab = make_lab()
        inn = "ino-1"
        register(lab, inn)
        lab.withdraw(inn, reason="tidak dilanjutkan", by="sekretariat")
        with pytest.raises(lf.InvalidCommand) as info:
            lab.record_diagnosis(inn, lf.Diagnosis("p", ("c",)), by="sekretariat")
        assert info.value.code == "innovation.withdrawn"
        assert info.value.data["innovation"] == inn
        assert info.value.message("id") != info.value.message("en")
        assert "ditarik" in info.value.message("id")

    def test_the_refusal_raised_is_the_reason_allowed_lists(self) -> None:
        """One precondition, one refusal: what a command raises on a withdrawn innovation is
        word for word, and datum for datum, what `allowed` lists for that command."""
        lab = make_lab()
        inn = "ino-1"
        register(lab, inn)
        lab.withdraw(inn, reason="tidak dilanjutkan", by="sekretariat")
        verdict = lab.allowed(by="sekretariat", subject=inn)["grant_permission"]
        [listed] = [u for u in verdict.unmet if u.code == "innovation.withdrawn"]
        with pytest.raises(lf.InvalidCommand) as info:
            lab.grant_permission(inn, reference="SK-1", by="sekretariat")
        assert (info.value.code, dict(info.value.data)) == (listed.code, dict(listed.data))
        assert info.value.message("en") == listed.message_en
        assert info.value.message("id") == listed.message_id

    def test_permission_denied_has_a_code_per_reason(self) -> None:
        """A missing role and a signature by a stranger are told apart by code."""
        lab = make_lab()
        inn = "ino-1"
        register(lab, inn)
        with pytest.raises(lf.PermissionDenied) as info:
            lab.withdraw(inn, reason="x", by="bupati")
        assert info.value.code == "permission.role"
        assert info.value.data["actor"] == "bupati"
        assert "peran" in info.value.message("id")

    def test_not_found_names_what(self) -> None:
        """An unknown id is `not_found.<what>` with the id in its data."""
        lab = make_lab()
        with pytest.raises(lf.NotFound) as info:
            lab.innovation("tidak-ada")
        assert info.value.code == "not_found.innovation"
        assert info.value.data["id"] == "tidak-ada"
        assert info.value.message("id").startswith("Tidak ada inovasi")

    def test_gate_refused_carries_the_verdict_codes(self) -> None:
        """A refused move's error data lists every unmet code of its verdict."""
        lab = make_lab()
        inn = "ino-1"
        register(lab, inn)
        verdict = lab.check(inn)
        if verdict.ok:
            pytest.skip("the sample innovation can advance")
        with pytest.raises(lf.GateRefused) as info:
            lab.advance(inn, by="sekretariat")
        assert info.value.code == "gate.refused"
        assert info.value.data["codes"] == verdict.codes
        assert info.value.message("id") == verdict.explain("id")

    def test_replay_failures_are_history_errors(self) -> None:
        """A history that cannot be replayed is a HistoryError naming the subject and event."""
        lab = make_lab()
        register(lab, "ino-1")
        with pytest.raises(lf.HistoryError) as info:
            lf.replay_lab(lab.innovation("ino-1").history)
        assert info.value.code == "history.no_creation"
        assert info.value.data["subject"] == "ino-1"
        assert info.value.seq == 1
        assert "Riwayat" in info.value.message("id")
