"""The hash chain: verify finds every kind of tampering and names where; replay rebuilds state."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import labflow as lf
from helpers import FixedClock, bring_to, cohort, make_lab
from labflow import events
from labflow.events import GENESIS, canonical_bytes, make_event

WIB = timezone(timedelta(hours=7))
GOLDEN_ARGS = (
    "muttu-1000",
    1,
    datetime(2016, 5, 1, 8, 0, tzinfo=WIB),
    "staf-tapem",
    "innovation.registered",
    {
        "title": "MUTTU 1000",
        "innovators": ["Tim Tapem"],
        "budget": 1000000,
        "ok": True,
        "none": None,
        "note": "Sertifikat tanah \u2013 UMKM",
    },
    GENESIS,
)
GOLDEN_BYTES = (
    '["muttu-1000",1,"2016-05-01T08:00:00+07:00","staf-tapem","innovation.registered",'
    '{"budget":1000000,"innovators":["Tim Tapem"],"none":null,'
    '"note":"Sertifikat tanah \u2013 UMKM","ok":true,"title":"MUTTU 1000"},'
    '"0000000000000000000000000000000000000000000000000000000000000000"]'
).encode()
GOLDEN_HASH = "b478ed1b738a27e0c7f5cba424b1d6ffe5f2dd4ab3101645f7f9b9d1fcc46596"


def test_canonical_bytes_are_stable() -> None:
    """A change to the canonical encoding breaks every stored chain; it must be deliberate."""
    assert canonical_bytes(*GOLDEN_ARGS) == GOLDEN_BYTES
    event = make_event(*GOLDEN_ARGS)
    assert event.hash == GOLDEN_HASH
    assert hashlib.sha256(GOLDEN_BYTES).hexdigest() == GOLDEN_HASH


def test_canonical_bytes_ignore_key_order() -> None:
    args = list(GOLDEN_ARGS)
    args[5] = dict(reversed(list(GOLDEN_ARGS[5].items())))  # type: ignore[union-attr]
    assert canonical_bytes(*args) == GOLDEN_BYTES  # type: ignore[arg-type]


def test_the_same_instant_in_another_zone_hashes_differently() -> None:
    """The recorded offset is part of the record: 08:00 WIB is written as it was given."""
    args = list(GOLDEN_ARGS)
    args[2] = GOLDEN_ARGS[2].astimezone(UTC)  # type: ignore[union-attr]
    assert make_event(*args).hash != GOLDEN_HASH  # type: ignore[arg-type]


# --- a real history ------------------------------------------------------------------------


@pytest.fixture
def lab() -> lf.Lab:
    lab = make_lab(clock=FixedClock())
    cohort(lab)
    bring_to(lab, "display")
    return lab


@pytest.fixture
def history(lab: lf.Lab) -> list[lf.Event]:
    events = list(lab.innovation("ino-dinkes").history)
    assert len(events) >= 8
    return events


def test_a_live_history_chains(history: list[lf.Event]) -> None:
    assert history[0].prev == GENESIS
    for before, after in itertools.pairwise(history):
        assert after.prev == before.hash
    assert [e.seq for e in history] == list(range(1, len(history) + 1))
    result = lf.verify(history, head=history[-1].hash)
    assert result == lf.Verification("ino-dinkes", len(history), True)
    result.raise_for_problem()


def test_lab_verifies_every_history(lab: lf.Lab) -> None:
    results = lab.verify()
    assert [r.subject for r in results] == ["kebumen", *lab.innovations]
    assert all(r.ok for r in results)


def _broken(history: list[lf.Event], seq: int, phrase: str, head: str | None = None) -> None:
    result = lf.verify(history, head=head)
    assert not result.ok
    assert result.seq == seq
    assert result.reason is not None
    assert phrase in result.reason
    with pytest.raises(lf.HistoryError) as info:
        result.raise_for_problem()
    assert info.value.seq == seq
    assert f"at event {seq}" in str(info.value)


def test_edit_is_found(history: list[lf.Event]) -> None:
    history[3] = attrs.evolve(history[3], payload={**history[3].payload, "forged": True})
    _broken(history, 4, "does not match its hash")


@pytest.mark.parametrize(
    "change",
    [
        {"actor": "kadinkes"},
        {"kind": "innovation.withdrawn"},
        {"at": datetime(2020, 1, 1, tzinfo=UTC)},
    ],
)
def test_edit_of_any_field_is_found(history: list[lf.Event], change: dict[str, object]) -> None:
    history[2] = attrs.evolve(history[2], **change)
    _broken(history, 3, "does not match its hash")


def test_edit_with_a_recomputed_hash_breaks_the_next_link(history: list[lf.Event]) -> None:
    e = history[3]
    history[3] = make_event(e.subject, e.seq, e.at, e.actor, e.kind, {"forged": True}, e.prev)
    _broken(history, 5, "does not link to the event before it")


def test_deletion_is_found(history: list[lf.Event]) -> None:
    del history[2]
    _broken(history, 3, "it says it is event 4, but it stands at 3")


def test_insertion_is_found(history: list[lf.Event]) -> None:
    history.insert(4, history[1])
    _broken(history, 5, "says it is event 2")


def test_reordering_is_found(history: list[lf.Event]) -> None:
    history[4], history[5] = history[5], history[4]
    _broken(history, 5, "says it is event 6")


def test_renumbered_reordering_is_found(history: list[lf.Event]) -> None:
    """Swapping two events and fixing their numbers still breaks the links."""
    a, b = history[4], history[5]
    history[4], history[5] = attrs.evolve(b, seq=5), attrs.evolve(a, seq=6)
    _broken(history, 5, "does not link")


def test_wrong_subject_is_found(history: list[lf.Event], lab: lf.Lab) -> None:
    history[2] = lab.innovation("ino-bag-tapem").history[2]
    _broken(history, 3, "belongs to 'ino-bag-tapem', not 'ino-dinkes'")


def test_tail_truncation_needs_the_head(history: list[lf.Event]) -> None:
    head = history[-1].hash
    cut = history[:-2]
    assert lf.verify(cut).ok  # a cut chain still chains ...
    _broken(cut, len(cut), "expected head", head=head)  # ... but not to the head kept


def test_empty_history() -> None:
    assert lf.verify([]).ok
    assert lf.verify([], head=GENESIS).ok
    assert not lf.verify([], head="f" * 64).ok


def test_unencodable_payload_is_reported_not_raised(history: list[lf.Event]) -> None:
    history[1] = attrs.evolve(history[1], payload={"tags": {"a", "b"}})
    _broken(history, 2, "cannot be encoded canonically")


def test_make_event_refuses_nan() -> None:
    args = list(GOLDEN_ARGS)
    args[5] = {"score": float("nan")}
    with pytest.raises(ValueError, match="JSON compliant"):
        make_event(*args)  # type: ignore[arg-type]


# --- replay ----------------------------------------------------------------------------------


def test_replay_innovation_equals_the_live_one(lab: lf.Lab) -> None:
    for ident, live in lab.innovations.items():
        rebuilt = lf.replay_innovation(live.history)
        assert rebuilt == live, ident
        assert rebuilt.version == live.version
        assert rebuilt.history is not live.history


def test_replay_a_prefix_is_the_past(lab: lf.Lab) -> None:
    history = lab.innovation("ino-dinkes").history
    moved = [e for e in history if e.kind == "innovation.advanced"]
    past = lf.replay_innovation(history[: history.index(moved[1]) + 1])
    assert past.stage == moved[1].payload["to"] == "design"
    assert past.launch is None


def test_replay_lab_equals_the_live_lab(lab: lf.Lab) -> None:
    lab.withdraw("ino-dinkes", reason="Selesai", by="sekretariat")
    lab.set_roles("fasilitator", ["facilitator", "secretariat"], by="sekretariat")
    lab.add_unit(lf.Unit("desa", "Desa Sruweng", "village"), by="sekretariat")
    rebuilt = lf.replay_lab(lab.history, [i.history for i in lab.innovations.values()])
    assert rebuilt == lab
    assert rebuilt.stage == lab.stage == "display"
    assert rebuilt.policy == lab.policy
    assert rebuilt.actors["fasilitator"].roles == {"facilitator", "secretariat"}
    assert all(v.ok for v in rebuilt.verify())


def test_replay_lab_with_a_custom_registry() -> None:
    registry = lf.Registry(parent=lf.DEFAULT_REGISTRY)

    @registry.requirement("host.always")
    def always(ctx: lf.GateContext) -> list[lf.Unmet]:
        return []

    policy = lf.parse_policy(
        'id = "host"\nextends = "lan-5d"\n[gates]\ndiagnose = ["host.always"]\n',
        registry=registry,
    )
    lab = make_lab(policy)
    with pytest.raises(lf.PolicyError):
        lf.replay_lab(lab.history)
    assert lf.replay_lab(lab.history, registry=registry) == lab


def test_replay_refuses_what_is_not_a_history(lab: lf.Lab) -> None:
    inn = lab.innovation("ino-dinkes").history
    with pytest.raises(lf.HistoryError):
        lf.replay_innovation([])
    with pytest.raises(lf.HistoryError, match="cannot start"):
        lf.replay_innovation(inn[1:])
    with pytest.raises(lf.HistoryError, match="not an event of an innovation"):
        lf.replay_innovation([inn[0], lab.history[1]])
    with pytest.raises(lf.HistoryError) as cut:
        lf.replay_lab(lab.history[1:])
    assert cut.value.code == "history.chain"
    with pytest.raises(lf.HistoryError, match=r"lab\.created") as opening:
        lf.replay_lab(inn)
    assert opening.value.code == "history.no_creation"
    with pytest.raises(lf.HistoryError) as foreign:
        lf.replay_lab([lab.history[0], inn[1]])
    assert foreign.value.code == "history.chain"


def test_replaying_a_lab_history_that_moves_to_no_stage_is_refused() -> None:
    """A hash-consistent forged history naming an unknown stage cannot be replayed."""
    from labflow.events import make_event

    lab = make_lab()
    last = lab.history[-1]
    forged = make_event(
        lab.id,
        last.seq + 1,
        last.at,
        "sekretariat",
        "lab.advanced",
        {"from": lab.stage, "to": ["nowhere"]},
        last.hash,
    )
    with pytest.raises(lf.HistoryError, match="nowhere") as info:
        lf.replay_lab([*lab.history, forged])
    assert info.value.code == "history.stage_order"
    assert info.value.seq == forged.seq


@given(
    subject=st.text(),
    seq=st.integers(min_value=-(2**63), max_value=2**63),
    at=st.datetimes(
        timezones=st.none()
        | st.builds(timezone, st.timedeltas(-timedelta(hours=23), timedelta(hours=23)))
    ),
    actor=st.text(),
    kind=st.text(),
    payload=st.dictionaries(st.text(), st.text() | st.integers() | st.none() | st.booleans()),
    prev=st.text(),
)
@example(
    subject='a"b\\c\n\x00\u2028',
    seq=0,
    at=datetime(2016, 1, 1),
    actor="\ud800",
    kind="",
    payload={},
    prev="",
)
def test_the_fixed_shape_writes_what_the_encoder_writes(
    subject: str,
    seq: int,
    at: datetime,
    actor: str,
    kind: str,
    payload: dict[str, object],
    prev: str,
) -> None:
    """The fast shape of the canonical bytes is the generic encoding of the list, byte for byte."""
    generic = events._encode([subject, seq, at.isoformat(), actor, kind, payload, prev])
    try:
        expected: bytes | None = generic.encode()
    except UnicodeEncodeError:  # a lone surrogate: no canonical bytes either way
        expected = None
    if expected is None:
        with pytest.raises(events.Uncanonical):
            canonical_bytes(subject, seq, at, actor, kind, payload, prev)
    else:
        assert canonical_bytes(subject, seq, at, actor, kind, payload, prev) == expected


def test_values_of_other_types_take_the_generic_encoding() -> None:
    """A bool where the seq stands is written as JSON writes a bool, not as an int."""
    args = list(GOLDEN_ARGS)
    args[1] = True
    assert canonical_bytes(*args).startswith(b'["muttu-1000",true,')  # type: ignore[arg-type]
