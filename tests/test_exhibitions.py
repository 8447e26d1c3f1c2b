"""Exhibitions: booths of units and outside exhibitors, exhibits and launches at them, replay."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

import labflow as lf
from helpers import FixedClock, bring_to, cohort, make_lab, refused
from labflow.events import make_event

SHOW = "pameran"


def policy(launches: bool = True, extra: str = "") -> lf.Policy:
    return lf.parse_policy(
        f"""
id = "pameran-test"
extends = "lan-5d"
[exhibitions]
launches = {"true" if launches else "false"}
{extra}
"""
    )


def at_display(launches: bool = True, *, launch: bool = True) -> lf.Lab:
    """A lab at display, its three innovations there (launched unless ``launch`` is false)."""
    lab = make_lab(policy(launches), clock=FixedClock())
    ids = cohort(lab)
    if launch:
        bring_to(lab, "display")
    else:
        bring_to(lab, "deliver", launch=False)
        lab.advance_lab(by="sekretariat")
        assert lab.stage == "display"
        assert all(lab.innovation(i).stage == "deliver" for i in ids)
    return lab


def opened(lab: lf.Lab, **kw: Any) -> lf.Lab:
    args: dict[str, Any] = {
        "name": "Pameran Inovasi",
        "venue": "Pendopo",
        "starts": date(2016, 12, 21),
        "ends": date(2016, 12, 22),
        "by": "sekretariat",
    }
    args.update(kw)
    lab.open_exhibition(SHOW, **args)
    return lab


def with_booths(lab: lf.Lab) -> lf.Lab:
    opened(lab)
    pt = lf.Exhibitor("pt-djarum", "PT Djarum", "private")
    lab.register_exhibitor(SHOW, exhibitor=pt, by="sekretariat")
    lab.add_booth(SHOW, booth="Gerai 01", holder="dinkes", services=["donor"], by="sekretariat")
    lab.add_booth(SHOW, booth="Gerai 02", holder="bag-tapem", by="sekretariat")
    lab.add_booth(SHOW, booth="Gerai 03", holder="pt-djarum", showcases=["CSR"], by="sekretariat")
    return lab


def replayed(lab: lf.Lab, lab_history: Any = None, streams: Any = None) -> lf.Lab:
    return lf.replay_lab(
        lab.history if lab_history is None else lab_history,
        [i.history for i in lab.innovations.values()] if streams is None else streams,
    )


def forge(history: tuple[lf.Event, ...], kind: str, payload: dict[str, Any], by: str) -> lf.Event:
    """The event a writer who re-hashes the chain could append after ``history``."""
    last = history[-1]
    return make_event(last.subject, last.seq + 1, last.at, by, kind, {**payload, "v": 2}, last.hash)


class TestOpening:
    def test_an_exhibition_opens_with_its_days_and_venue(self) -> None:
        """The exhibition is lab state: id, name, venue, days, who opened it, open."""
        lab = opened(at_display())
        (show,) = lab.exhibitions.values()
        assert (show.id, show.name, show.venue) == (SHOW, "Pameran Inovasi", "Pendopo")
        assert (show.starts, show.ends) == (date(2016, 12, 21), date(2016, 12, 22))
        assert show.open
        assert show.opened_by == "sekretariat"
        assert lab.history[-1].kind == "lab.exhibition_opened"

    def test_not_before_the_exhibition_stage(self) -> None:
        """The lab holds exhibitions from the policy's exhibition stage on."""
        lab = make_lab(policy())
        with refused(lab, lf.InvalidCommand) as info:
            opened(lab)
        assert info.value.code == "exhibition.wrong_stage"
        verdict = lab.allowed(by="sekretariat")["open_exhibition"]
        assert "exhibition.wrong_stage" in verdict.codes

    def test_the_policy_names_the_exhibition_stage(self) -> None:
        """``[exhibitions] stage`` moves exhibitions (and exhibits) to another stage."""
        lab = make_lab(policy(extra='stage = "deliver"'))
        cohort(lab)
        bring_to(lab, "deliver", launch=False)
        opened(lab)
        assert SHOW in lab.exhibitions

    def test_bad_input_is_refused_and_changes_nothing(self) -> None:
        lab = at_display()
        for kw, code in (
            ({"ends": date(2016, 12, 20)}, "exhibition.dates"),
            ({"starts": "2016-12-21"}, "input.not_date"),
            ({"name": ""}, "input.empty"),
        ):
            with refused(lab, lf.InvalidCommand) as info:
                opened(lab, **kw)
            assert info.value.code == code
        opened(lab)
        with refused(lab, lf.InvalidCommand) as info:
            opened(lab)
        assert info.value.code == "exhibition.exists"

    def test_only_the_secretariat_opens_one(self) -> None:
        lab = at_display()
        with refused(lab, lf.PermissionDenied):
            opened(lab, by="kadinkes")


class TestBooths:
    def test_booths_of_units_and_outside_exhibitors(self) -> None:
        """A booth belongs to a unit or an exhibitor; the view lists what each shows."""
        lab = with_booths(at_display())
        lab.register_exhibit("ino-dinkes", exhibition=SHOW, booth="Gerai 01", by="staf-dinkes")
        view = lf.views.exhibition(lab, SHOW)
        assert [b.id for b in view.booths] == ["Gerai 01", "Gerai 02", "Gerai 03"]
        first, second, third = view.booths
        assert (first.holder, first.innovations, first.services) == (
            "dinkes",
            ("ino-dinkes",),
            ("donor",),
        )
        assert not first.outside
        assert second.innovations == ()
        assert third.outside
        assert third.showcases == ("CSR",)
        assert third.holder_kind == "private"
        json = lf.views.to_json(view)
        assert json["booths"][2]["holder_name"] == "PT Djarum"
        text = lf.reports.exhibition(lab, SHOW)
        assert "Gerai 03: PT Djarum [private] (outside exhibitor)" in text
        assert "shows: Inovasi ino-dinkes" in text
        assert "(peserta luar pemerintah)" in lf.reports.exhibition(lab, SHOW, "id")

    def test_an_exhibitor_has_no_lab_lifecycle(self) -> None:
        """An outside exhibitor is not a unit, opens no innovation, and cannot be a government
        kind."""
        lab = with_booths(at_display())
        assert "pt-djarum" not in lab.units
        assert not any(i.unit == "pt-djarum" for i in lab.innovations.values())
        with refused(lab, lf.InvalidCommand) as info:
            lab.register_exhibitor(
                SHOW, exhibitor=lf.Exhibitor("dinas-x", "Dinas X", "agency"), by="sekretariat"
            )
        assert info.value.code == "exhibitor.kind"
        with refused(lab, lf.InvalidCommand) as info:
            lab.register_exhibitor(
                SHOW, exhibitor=lf.Exhibitor("dinkes", "Dinkes", "community"), by="sekretariat"
            )
        assert info.value.code == "exhibitor.exists"

    @pytest.mark.parametrize(
        ("kw", "code"),
        [
            ({"booth": "Gerai 01", "holder": "dinkes"}, "booth.exists"),
            ({"booth": "Gerai 09", "holder": "nobody"}, "booth.holder"),
            ({"booth": "Gerai 09", "holder": "pt-djarum"}, "booth.empty"),
            ({"booth": "Gerai 09", "holder": "dinkes", "services": "donor"}, "input.not_texts"),
        ],
    )
    def test_a_bad_booth_is_refused(self, kw: dict[str, Any], code: str) -> None:
        lab = with_booths(at_display())
        with refused(lab, lf.InvalidCommand) as info:
            lab.add_booth(SHOW, by="sekretariat", **kw)
        assert info.value.code == code

    def test_an_unknown_or_closed_exhibition_refuses_booths(self) -> None:
        lab = with_booths(at_display())
        with refused(lab, lf.InvalidCommand) as info:
            lab.add_booth("expo", booth="A", holder="dinkes", by="sekretariat")
        assert info.value.code == "exhibition.unknown"
        lab.close_exhibition(SHOW, by="sekretariat")
        assert not lab.exhibitions[SHOW].open
        for attempt in (
            lambda: lab.add_booth(SHOW, booth="A", holder="dinkes", by="sekretariat"),
            lambda: lab.close_exhibition(SHOW, by="sekretariat"),
            lambda: lab.register_exhibit(
                "ino-dinkes", exhibition=SHOW, booth="Gerai 01", by="staf-dinkes"
            ),
        ):
            with refused(lab, lf.InvalidCommand) as info:
                attempt()
            assert info.value.code == "exhibition.closed"


class TestExhibits:
    def test_an_exhibit_refers_to_the_exhibition_and_a_booth_of_its_unit(self) -> None:
        lab = with_booths(at_display())
        lab.register_exhibit("ino-dinkes", exhibition=SHOW, booth="Gerai 01", by="staf-dinkes")
        exhibit = lab.innovation("ino-dinkes").exhibit
        assert exhibit is not None
        assert (exhibit.exhibition, exhibit.booth, exhibit.event) == (
            SHOW,
            "Gerai 01",
            "Pameran Inovasi",
        )
        with refused(lab, lf.InvalidCommand) as info:
            lab.register_exhibit(
                "ino-bag-tapem", exhibition=SHOW, booth="Gerai 01", by="staf-tapem"
            )
        assert info.value.code == "booth.other_unit"
        with refused(lab, lf.InvalidCommand) as info:
            lab.register_exhibit(
                "ino-bag-tapem", exhibition=SHOW, booth="Gerai 99", by="staf-tapem"
            )
        assert info.value.code == "booth.unknown"
        with refused(lab, lf.InvalidCommand) as info:
            lab.register_exhibit(
                "ino-bag-tapem", exhibition=SHOW, booth="Gerai 02", event="Lain", by="staf-tapem"
            )
        assert info.value.code == "exhibit.event"

    def test_an_exhibit_elsewhere_still_names_its_event(self) -> None:
        lab = at_display()
        lab.register_exhibit("ino-dinkes", event="Expo Jateng", by="staf-dinkes")
        assert lab.innovation("ino-dinkes").exhibit.exhibition is None  # type: ignore[union-attr]
        with refused(lab, lf.InvalidCommand):
            lab.register_exhibit("ino-bag-tapem", by="staf-tapem")

    def test_not_before_the_exhibition_stage(self) -> None:
        lab = with_booths(at_display(launch=False))
        with refused(lab, lf.InvalidCommand) as info:
            lab.register_exhibit("ino-dinkes", exhibition=SHOW, booth="Gerai 01", by="staf-dinkes")
        assert info.value.code == "exhibit.wrong_stage"


class TestLaunches:
    def test_a_launch_at_an_open_exhibition_when_the_policy_allows(self) -> None:
        """Kudus launched Desa Cerdas and the Command Center at its exhibition."""
        lab = with_booths(at_display(launch=False))
        lab.record_launch("ino-dinkes", ceremony="Peluncuran", exhibition=SHOW, by="bupati")
        launch = lab.innovation("ino-dinkes").launch
        assert launch is not None
        assert launch.exhibition == SHOW
        assert lf.views.exhibition(lab, SHOW).launched == ("ino-dinkes",)

    def test_refused_where_the_policy_does_not(self) -> None:
        lab = with_booths(at_display(False, launch=False))
        with refused(lab, lf.InvalidCommand) as info:
            lab.record_launch("ino-dinkes", ceremony="Peluncuran", exhibition=SHOW, by="bupati")
        assert info.value.code == "launch.not_at_exhibition"

    def test_refused_at_a_closed_exhibition(self) -> None:
        lab = with_booths(at_display(launch=False))
        lab.close_exhibition(SHOW, by="sekretariat")
        with refused(lab, lf.InvalidCommand) as info:
            lab.record_launch("ino-dinkes", ceremony="Peluncuran", exhibition=SHOW, by="bupati")
        assert info.value.code == "exhibition.closed"


class TestReplay:
    def test_replay_rebuilds_the_exhibitions(self) -> None:
        lab = with_booths(at_display(launch=False))
        lab.record_launch("ino-dinkes", ceremony="Peluncuran", exhibition=SHOW, by="bupati")
        lab.close_exhibition(SHOW, by="sekretariat")
        again = replayed(lab)
        assert again == lab
        assert again.exhibitions == lab.exhibitions
        assert lf.views.exhibition(again, SHOW) == lf.views.exhibition(lab, SHOW)

    def test_a_forged_booth_at_an_unknown_exhibition_is_refused(self) -> None:
        lab = at_display()
        booth = {"id": "X", "holder": "dinkes", "services": [], "showcases": []}
        forged = forge(
            lab.history, "lab.booth_added", {"exhibition": "expo", "booth": booth}, "sekretariat"
        )
        with pytest.raises(lf.HistoryError, match="no exhibition"):
            replayed(lab, (*lab.history, forged))

    def test_a_forged_exhibitor_of_a_government_kind_is_refused(self) -> None:
        lab = opened(at_display())
        exhibitor = {"id": "dinas-x", "name": "Dinas X", "kind": "agency"}
        payload = {"exhibition": SHOW, "exhibitor": exhibitor}
        forged = forge(lab.history, "lab.exhibitor_registered", payload, "sekretariat")
        with pytest.raises(lf.HistoryError, match="outside government"):
            replayed(lab, (*lab.history, forged))

    def test_a_forged_opening_by_someone_not_allowed_is_refused(self) -> None:
        lab = at_display()
        payload = {
            "id": "x",
            "name": "X",
            "venue": "V",
            "starts": "2016-12-21",
            "ends": "2016-12-21",
        }
        forged = forge(lab.history, "lab.exhibition_opened", payload, "kadinkes")
        with pytest.raises(lf.HistoryError, match="open_exhibition"):
            replayed(lab, (*lab.history, forged))

    def test_a_forged_exhibit_at_a_closed_exhibition_is_refused(self) -> None:
        lab = with_booths(at_display())
        lab.close_exhibition(SHOW, by="sekretariat")
        inn = lab.innovation("ino-dinkes")
        payload = {
            "event": "Pameran Inovasi",
            "booth": "Gerai 01",
            "exhibition": SHOW,
            "lab_v": lab.version,
        }
        forged = forge(inn.history, "innovation.exhibit_registered", payload, "staf-dinkes")
        streams = [
            i.history if i.id != inn.id else (*i.history, forged) for i in lab.innovations.values()
        ]
        with pytest.raises(lf.HistoryError, match="closed"):
            replayed(lab, streams=streams)

    def test_a_forged_launch_at_an_exhibition_the_policy_forbids_is_refused(self) -> None:
        lab = with_booths(at_display(False, launch=False))
        inn = lab.innovation("ino-dinkes")
        payload = {"ceremony": "Peluncuran", "exhibition": SHOW, "lab_v": lab.version}
        forged = forge(inn.history, "innovation.launched", payload, "bupati")
        streams = [
            i.history if i.id != inn.id else (*i.history, forged) for i in lab.innovations.values()
        ]
        with pytest.raises(lf.HistoryError, match="does not launch innovations at exhibitions"):
            replayed(lab, streams=streams)


class TestPolicy:
    @pytest.mark.parametrize(
        ("table", "path"),
        [
            ('stage = "nowhere"', "$.exhibitions.stage"),
            ('launches = "yes"', "$.exhibitions.launches"),
            ('outside_kinds = ["martians"]', "$.exhibitions.outside_kinds"),
            ('outside_kinds = ["agency"]', "$.exhibitions.outside_kinds"),
            ("booths = 30", "$.exhibitions.booths"),
        ],
    )
    def test_a_broken_table_is_refused_with_its_path(self, table: str, path: str) -> None:
        with pytest.raises(lf.PolicyError) as info:
            lf.parse_policy(f'id = "x"\nextends = "lan-5d"\n[exhibitions]\n{table}\n')
        assert path in [p.path for p in info.value.problems]

    def test_the_table_round_trips(self) -> None:
        loaded = policy(extra='outside_kinds = ["community", "academia"]')
        again = lf.policy_from_dict(loaded.to_dict())
        assert again.exhibitions == loaded.exhibitions
        assert again.exhibitions.outside_kinds == {lf.UnitKind.COMMUNITY, lf.UnitKind.ACADEMIA}
        assert lf.load_policy("lan-5d").exhibitions.launches is False
        assert lf.load_policy("kudus-2017").exhibitions.launches is True
