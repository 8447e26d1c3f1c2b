"""``set_attributes``: an innovation's declared attributes set or changed after registration."""

from __future__ import annotations

import pytest

import labflow as lf
from helpers import cohort, make_lab
from labflow.events import make_event

POLICY = """\
id = "dengan-tahun"
extends = "lan-5d"
name = "lan-5d with a year"

[attributes.tahun]
label_en = "Year started"
label_id = "Tahun mulai"
type = "integer"
"""


@pytest.fixture
def lab() -> lf.Lab:
    lab = make_lab(lf.parse_policy(POLICY))
    cohort(lab)
    return lab


class TestCommand:
    def test_sets_changes_and_clears(self, lab: lf.Lab) -> None:
        """A value is set, replaced by a later one, and cleared by None; others are kept."""
        lab.set_attributes("ino-dinkes", attributes={"jenis": "digital"}, by="sekretariat")
        lab.set_attributes(
            "ino-dinkes", attributes={"bentuk": "pelayanan_publik", "tahun": 2017}, by="kadinkes"
        )
        assert dict(lab.innovation("ino-dinkes").attributes) == {
            "jenis": "digital",
            "bentuk": "pelayanan_publik",
            "tahun": 2017,
        }
        event = lab.set_attributes(
            "ino-dinkes", attributes={"jenis": "non_digital", "tahun": None}, by="staf-dinkes"
        )
        assert event.kind == "innovation.attributes_set"
        assert dict(lab.innovation("ino-dinkes").attributes) == {
            "jenis": "non_digital",
            "bentuk": "pelayanan_publik",
        }

    @pytest.mark.parametrize(
        ("values", "named"),
        [
            ({"warna": "merah"}, "warna"),  # not declared
            ({"jenis": "analog"}, "jenis"),  # not an allowed value
            ({"tahun": "dua ribu"}, "tahun"),  # not a whole number
            ({"jenis": 3}, "jenis"),  # not text
            ({}, ""),  # nothing to set
        ],
    )
    def test_bad_values_are_refused_and_change_nothing(
        self, lab: lf.Lab, values: dict[str, object], named: str
    ) -> None:
        before = lab.innovation("ino-dinkes")
        with pytest.raises(lf.InvalidCommand) as info:
            lab.set_attributes("ino-dinkes", attributes=values, by="sekretariat")
        assert info.value.code == "command.attributes"
        assert info.value.data["attributes"] == [named]
        assert lab.innovation("ino-dinkes") == before

    def test_a_withdrawn_innovation_is_refused(self, lab: lf.Lab) -> None:
        lab.withdraw("ino-dinkes", reason="Ditunda", by="sekretariat")
        with pytest.raises(lf.InvalidCommand) as info:
            lab.set_attributes("ino-dinkes", attributes={"jenis": "digital"}, by="sekretariat")
        assert info.value.code == "innovation.withdrawn"

    def test_an_actor_without_the_role_is_refused(self, lab: lf.Lab) -> None:
        with pytest.raises(lf.PermissionDenied):
            lab.set_attributes("ino-dinkes", attributes={"jenis": "digital"}, by="inspektorat")

    def test_send_and_allowed_know_it(self, lab: lf.Lab) -> None:
        lab.send("set_attributes", "ino-dinkes", by="sekretariat", attributes={"tahun": 2016})
        assert lab.innovation("ino-dinkes").attributes["tahun"] == 2016
        assert lab.allowed(by="sekretariat", subject="ino-dinkes")["set_attributes"].ok


class TestReplay:
    def test_the_history_replays_to_the_same_attributes(self, lab: lf.Lab) -> None:
        lab.set_attributes("ino-dinkes", attributes={"jenis": "digital"}, by="sekretariat")
        lab.set_attributes("ino-dinkes", attributes={"jenis": None}, by="sekretariat")
        replayed = lf.replay_lab(lab.history, [i.history for i in lab.innovations.values()])
        assert replayed == lab
        assert dict(replayed.innovation("ino-dinkes").attributes) == {}

    @pytest.mark.parametrize(
        "values", [{"jenis": "analog"}, {"warna": "merah"}, {"tahun": "x"}, {}]
    )
    def test_a_forged_value_is_refused(self, lab: lf.Lab, values: dict[str, object]) -> None:
        """An event setting what the command would refuse does not load (history.attributes)."""
        good = lab.set_attributes("ino-dinkes", attributes={"jenis": "digital"}, by="sekretariat")
        forged = make_event(
            good.subject,
            good.seq,
            good.at,
            good.actor,
            good.kind,
            {**good.payload, "attributes": values},
            good.prev,
        )
        histories = [
            (*i.history[:-1], forged) if i.id == "ino-dinkes" else i.history
            for i in lab.innovations.values()
        ]
        with pytest.raises(lf.HistoryError) as info:
            lf.replay_lab(lab.history, histories)
        assert info.value.code == "history.attributes"
        assert info.value.seq == good.seq
