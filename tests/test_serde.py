"""labflow.serde: documents round-trip, validate against their schemas, migrate, and refuse."""

from __future__ import annotations

import copy
import json
import typing
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import cattrs
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labflow
from labflow import DocumentError, Lab, Unit, serde
from labflow.testing import labs

FIXTURES = Path(__file__).parent / "fixtures"
SCHEMAS = Path(__file__).parent.parent / "docs" / "schemas"

#: Lab clocks in any UTC offset (whole minutes, as real offsets are), so `at` must keep it.
starts = st.builds(
    lambda moment, minutes: moment.replace(tzinfo=timezone(timedelta(minutes=minutes))),
    st.datetimes(datetime(2015, 1, 1), datetime(2030, 1, 1)),
    st.integers(-12 * 60, 14 * 60),
)
any_lab = starts.flatmap(lambda start: labs(max_commands=25, start=start))


def documents(lab: Lab) -> Iterator[object]:
    """Every object of a lab that has a document kind."""
    yield lab
    yield lab.policy
    yield list(lab.history)  # a history document loads as a list
    yield from lab.history
    for inn in lab.innovations.values():
        yield inn
        yield list(inn.history)
        yield from inn.history


def validate(document: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(serde.json_schema(document["kind"])).validate(document)


@pytest.fixture(scope="module")
def lab() -> Lab:
    return serde.load_lab((FIXTURES / "lab-v1.json").read_bytes())


@pytest.fixture
def std_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run a test on the standard library's JSON, as without the ``json`` extra."""
    monkeypatch.setattr(serde, "_fast", None)


# --- Round trips -----------------------------------------------------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_lab)
def test_every_document_round_trips_and_validates(lab: Lab) -> None:
    """load(dump(x)) == x for every kind, at any point of the lifecycle, in any UTC offset."""
    for obj in documents(lab):
        blob = serde.dumps(obj)
        back = serde.loads(blob, clock=lab.clock)
        assert back == obj
        assert serde.dumps(back) == blob  # deterministic: the same object, the same bytes
        document = serde.unstructure(obj)
        assert serde.structure(document, clock=lab.clock) == obj
        validate(document)
        assert json.loads(blob) == document


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_lab)
def test_standard_library_json_gives_the_same_documents(lab: Lab) -> None:
    fast = serde._fast
    for obj in (lab, *lab.innovations.values()):
        blob = serde.dumps(obj)
        serde._fast = None
        try:
            assert serde.dumps(obj) == blob or json.loads(serde.dumps(obj)) == json.loads(blob)
            assert serde.loads(blob, clock=lab.clock) == obj
        finally:
            serde._fast = fast


def test_a_loaded_lab_works_on(lab: Lab) -> None:
    """A loaded lab is a lab: it verifies and takes commands, chained onto its history."""
    clock = [datetime(2016, 6, 1, tzinfo=UTC)]
    loaded = serde.loads(serde.dumps(lab), clock=lambda: clock[0])
    assert isinstance(loaded, Lab)
    loaded.approve_plan  # noqa: B018 - the attribute exists on a real Lab
    event = loaded.attach_evidence(
        "muttu-1000", title="SK Bupati", reference="doc-1", by="staf-tapem"
    )
    assert event.prev == lab.innovation("muttu-1000").history[-1].hash
    assert all(v.ok for v in loaded.verify())


def test_schema_files_are_current() -> None:
    """docs/schemas/<kind>.json is what json_schema(kind) returns; regenerate them if not."""
    for kind in serde.KINDS:
        written = json.loads((SCHEMAS / f"{kind}.json").read_text(encoding="utf-8"))
        assert written == serde.json_schema(kind), f"docs/schemas/{kind}.json is stale"
        jsonschema.Draft202012Validator.check_schema(written)


def test_typed_loaders_refuse_other_kinds(lab: Lab) -> None:
    blob = serde.dumps(lab)
    assert serde.load_lab(blob) == lab
    with pytest.raises(DocumentError, match=r"\$\.kind: expected a innovation document"):
        serde.load_innovation(blob)
    inn = lab.innovation("muttu-1000")
    assert serde.load_innovation(serde.unstructure(inn)) == inn
    assert serde.load_history(serde.dumps(inn.history)) == list(inn.history)
    assert serde.load_event(serde.dumps(inn.history[0])) == inn.history[0]
    assert serde.load_policy_document(serde.dumps(lab.policy)) == lab.policy


def test_a_host_configures_its_own_converter() -> None:
    converter = cattrs.Converter()
    serde.configure_converter(converter)
    assert converter.unstructure(Unit("a", "A", "clinic")) == {
        "id": "a",
        "name": "A",
        "kind": "clinic",
    }
    with pytest.raises(cattrs.ClassValidationError):
        converter.structure({"id": 5, "name": "A", "kind": "clinic"}, Unit)
    assert serde.make_converter() is not serde.make_converter()
    assert serde.make_converter() is not cattrs.global_converter


# --- Migrations ------------------------------------------------------------------------------


def test_version_1_innovation_migrates_and_verifies() -> None:
    """Version 1 joined the innovators with "; "; version 2 keeps a list."""
    raw = json.loads((FIXTURES / "innovation-v1.json").read_text(encoding="utf-8"))
    assert raw["version"] == 1
    assert raw["data"]["innovators"] == "Sri Lestari; Agus Salim"
    before = copy.deepcopy(raw)
    migrated = serde.migrate(raw)
    assert raw == before  # the input is not changed
    assert migrated["version"] == 3
    assert migrated["data"]["innovators"] == ["Sri Lestari", "Agus Salim"]
    assert migrated["data"]["attributes"] == {}
    validate(migrated)
    inn = serde.load_innovation((FIXTURES / "innovation-v1.json").read_bytes())
    assert inn.innovators == ("Sri Lestari", "Agus Salim")
    assert labflow.verify(inn.history).ok
    assert serde.unstructure(inn) == migrated


def test_version_1_lab_migrates_and_verifies(lab: Lab) -> None:
    assert [i.innovators for i in lab.innovations.values()] == [
        ("Sri Lestari", "Agus Salim"),
        ("Tim Tapem",),
    ]
    assert all(v.ok for v in lab.verify())
    assert lab == labflow.replay_lab(lab.history, [i.history for i in lab.innovations.values()])
    assert serde.unstructure(lab)["version"] == serde.VERSIONS["lab"] == 4


# --- Refusals --------------------------------------------------------------------------------


def refusal(data: Any, **kwargs: Any) -> DocumentError:
    """Load ``data`` (a document or JSON), expecting a refusal; check nothing was changed."""
    before = copy.deepcopy(data)
    load = serde.loads if isinstance(data, bytes | str) else serde.structure
    with pytest.raises(DocumentError) as info:
        load(data, **kwargs)
    assert data == before
    assert info.value.problems
    return info.value


def paths(error: DocumentError) -> set[str]:
    return {p.path for p in error.problems}


def test_every_problem_is_listed_with_its_path(lab: Lab) -> None:
    doc = serde.unstructure(lab.innovation("muttu-1000"))
    doc["data"]["title"] = 5
    doc["data"]["history"][3]["at"] = "2016-05-02T08:00:00"  # naive
    doc["data"]["evidence"] = "none"
    doc["data"]["colour"] = "red"
    del doc["data"]["unit"]
    error = refusal(doc)
    assert paths(error) == {
        "$.data.title",
        "$.data.history[3].at",
        "$.data.evidence",
        "$.data",
        "$.data.unit",
    }
    text = str(error)
    assert "$.data.history[3].at: expected an ISO 8601 date-time with a UTC offset" in text
    assert "unknown fields ['colour']" in text
    assert "$.data.unit: is required" in text
    assert error.kind == "innovation"


def test_strict_types(lab: Lab) -> None:
    doc = serde.unstructure(lab.innovation("muttu-1000"))
    doc["data"]["innovators"] = "Sri"  # cattrs alone would read three letters
    doc["data"]["history"][0]["seq"] = "1"
    doc["data"]["action_plan"]["budget"] = True
    doc["data"]["initiator"] = "bupati"
    error = refusal(doc)
    assert paths(error) == {
        "$.data.innovators",
        "$.data.history[0].seq",
        "$.data.action_plan.budget",
        "$.data.initiator",
    }


def test_an_edited_history_is_refused_as_tampered(lab: Lab) -> None:
    doc = serde.unstructure(lab.innovation("muttu-1000"))
    doc["data"]["history"][2]["payload"]["problem"] = "something else"
    error = refusal(doc)
    assert paths(error) == {"$.data.history[2]"}
    assert "tampered" in str(error)
    # a reformatted time is an edit too: the hash is over the exact text
    # the same instant in another offset is an edit too: the hash covers the offset
    doc = serde.unstructure(lab.history)
    assert doc["data"][0]["at"] == "2016-05-02T08:07:00+07:00"
    doc["data"][0]["at"] = "2016-05-02T09:07:00+08:00"
    assert "tampered" in str(refusal(doc))
    event = serde.unstructure(lab.history[1])
    event["data"]["actor"] = "bupati"
    assert paths(refusal(event)) == {"$.data.hash"}


def test_state_that_disagrees_with_its_history_is_refused(lab: Lab) -> None:
    doc = serde.unstructure(lab.innovation("muttu-1000"))
    doc["data"]["stage"] = "deliver"
    doc["data"]["permission"] = None
    error = refusal(doc)
    assert paths(error) == {"$.data.stage", "$.data.permission"}
    assert "disagrees with the history" in str(error)
    doc = serde.unstructure(lab)
    doc["data"]["stage"] = "nowhere"
    doc["data"]["units"].pop()
    assert paths(refusal(doc)) == {"$.data.stage", "$.data.units"}


def test_a_forged_but_consistent_history_is_refused(lab: Lab) -> None:
    """Hashes recomputed by a forger do not help: the fold itself must make sense."""
    from labflow.events import GENESIS, make_event

    forged = make_event(
        lab.id, 1, datetime(2016, 1, 1, tzinfo=UTC), "x", "lab.created", {"id": lab.id}, GENESIS
    )
    doc = serde.unstructure(lab)
    doc["data"]["history"] = [serde.unstructure(forged)["data"]]
    # Well-formed and chained, but not a history commands could produce: the fold names it.
    with pytest.raises(labflow.HistoryError) as info:
        serde.loads(json.dumps(doc))
    assert info.value.code == "history.unreadable"
    assert info.value.seq == 1


@pytest.mark.parametrize("to", [["x"], {"a": 1}, 7, None, "nowhere"])
def test_a_forged_lab_move_to_an_odd_stage_is_refused(lab: Lab, to: Any) -> None:
    """A hash-consistent forged ``lab.advanced`` whose ``to`` is not a stage: a DocumentError."""
    from labflow.events import make_event

    last = lab.history[-1]
    forged = make_event(
        lab.id,
        last.seq + 1,
        last.at + timedelta(minutes=1),
        "sekretariat",
        "lab.advanced",
        {"from": lab.stage, "to": to},
        last.hash,
    )
    doc = serde.unstructure(lab)
    doc["data"]["history"].append(serde.unstructure(forged)["data"])
    # The replay itself refuses a move to what is not the next stage, naming the event,
    # whether or not the stated stage agrees with the forgery.
    for stated in (lab.stage, to) if type(to) is str else (lab.stage,):
        doc["data"]["stage"] = stated
        with pytest.raises(labflow.HistoryError) as info:
            serde.loads(json.dumps(doc))
        assert (info.value.code, info.value.seq) == ("history.stage_order", forged.seq)


def test_typed_loaders_have_real_signatures() -> None:
    """Each loader says what it takes and returns, so a type checker checks its callers."""
    for load, result in (
        (serde.load_lab, Lab),
        (serde.load_innovation, labflow.Innovation),
        (serde.load_event, labflow.Event),
        (serde.load_history, list[labflow.Event]),
        (serde.load_policy_document, labflow.Policy),
    ):
        hints = typing.get_type_hints(load)
        assert hints["return"] == result, load
        assert set(hints) == {"data", "registry", "clock", "return"}
        assert hints["data"] != Any


def test_a_broken_policy_is_refused_with_document_paths(lab: Lab) -> None:
    doc = serde.unstructure(lab.policy)
    doc["data"]["stages"][1]["covers"] = ["nowhere"]
    doc["data"]["self_paced"] = "yes"
    error = refusal(doc)
    assert "$.data.stages[1].covers[0]" in paths(error)
    assert "$.data.self_paced" in paths(error)
    doc = serde.unstructure(lab)
    doc["data"]["policy"]["gates"] = {"nowhere": [{"name": "idea_registered"}]}
    assert any(p.startswith("$.data.policy.gates") for p in paths(refusal(doc)))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is not valid JSON"),
        (b'{"kind": "lab", "version": 2, "data": {', "is not valid JSON"),
        (b"\xff\xfe{}", "is not UTF-8 text"),
        (b"NaN", "is not valid JSON"),
        (b"[1, 2]", "a document must be an object"),
        (b'{"kind": "shop", "version": 1, "data": {}}', "'shop' is not a document kind"),
        (b'{"kind": [], "version": 1, "data": {}}', "$.kind: expected a string"),
        (b'{"kind": "lab", "version": 5, "data": {}}', "newer than this labflow reads"),
        (b'{"kind": "lab", "version": 0, "data": {}}', "expected a positive integer"),
        (b'{"kind": "lab", "version": 2}', "$.data: is required"),
        (b'{"kind": "lab", "version": 2, "data": {}, "x": 1}', "unknown fields ['x']"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"kind": "lab", "version": 2, "data": "lab"}', "expected an object"),
        (b'{"kind": "history", "version": 1, "data": {}}', "expected an array"),
    ],
)
@pytest.mark.parametrize("backend", ["default", "stdlib"])
def test_malformed_json_is_refused(
    data: bytes | str, message: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend == "stdlib":
        monkeypatch.setattr(serde, "_fast", None)
    error = refusal(data)
    assert message in str(error) or (
        (message == "nested too deeply" and "nest" in str(error)) or "depth" in str(error)
    )


def test_deep_payloads_are_refused_without_recursion_errors(lab: Lab) -> None:
    doc = serde.unstructure(lab.history[0])
    deep: Any = "leaf"
    for _ in range(10_000):
        deep = {"x": deep}
    doc["data"]["payload"] = {"deep": deep}
    with pytest.raises(DocumentError, match="nested more than"):
        serde.structure(doc)


def test_size_limit(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    blob = serde.dumps(lab)
    monkeypatch.setattr(serde, "MAX_DOCUMENT_BYTES", len(blob) - 1)
    assert "larger than" in str(refusal(blob))
    assert "larger than" in str(refusal(blob.decode() * 4))


def test_problems_are_capped(lab: Lab) -> None:
    doc = serde.unstructure(lab.history)
    for event in doc["data"]:
        for key in event:
            event[key] = None
    doc["data"] = doc["data"] * 10
    error = refusal(doc)
    assert len(error.problems) == serde.MAX_PROBLEMS
    assert "more problems" in error.problems[-1].message


def test_objects_without_a_document_are_refused() -> None:
    with pytest.raises(DocumentError, match="no document for dict"):
        serde.dumps({"a": 1})
    with pytest.raises(DocumentError, match="'shop' is not a document kind"):
        serde.json_schema("shop")
    with pytest.raises(DocumentError, match="expected JSON as bytes or str"):
        serde.loads(5)  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", ["default", "stdlib"])
def test_lone_surrogates_are_refused(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if backend == "stdlib":
        monkeypatch.setattr(serde, "_fast", None)
    refusal('{"kind": "\\udc80", "version": 1, "data": {}}')
    refusal('{"kind": "\udc80", "version": 1, "data": {}}')


def test_std_json_refuses_what_orjson_refuses(std_json: None) -> None:
    assert "is not valid JSON" in str(refusal(b'{"kind": Infinity}'))
    assert "is not UTF-8" in str(refusal('{"a": 1}'.encode("utf-16")))


# --- The fast path of a well-formed document -----------------------------------------------


def _outcome(load: Any, data: Any) -> object:
    try:
        return load(data)
    except DocumentError as exc:
        return sorted((p.path, p.message) for p in exc.problems)


def _edits(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The document as written, and edits that only the checks of its stated fields catch."""
    yield doc
    yield {"data": dict(reversed(list(doc["data"].items())))}  # the same fields, reordered
    for field, value in (
        ("stage", "deliver"),
        ("title", 7),
        ("unit", "bukan id"),
        ("innovators", "Sri"),
        ("attributes", {"x": 1}),
        ("status", "gone"),
        ("extra", 1),
    ):
        yield {"data": {**doc["data"], field: value}}
    budget = copy.deepcopy(doc)
    budget["data"]["action_plan"]["budget"] = float(budget["data"]["action_plan"]["budget"])
    yield budget
    missing = copy.deepcopy(doc)
    del missing["data"]["permission"]
    yield missing


@pytest.mark.parametrize("lang", ["orjson", "json"])
def test_json_loads_decides_as_the_detailed_path(
    lab: Lab, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loading JSON (which may skip re-structuring a record equal to its fold) accepts and
    refuses exactly what loading the same plain data does, with the same problems."""
    if lang == "json":
        monkeypatch.setattr(serde, "_fast", None)
    doc = serde.unstructure(lab.innovation("muttu-1000"))
    assert doc["data"]["action_plan"]["budget"] is not None
    outcomes = []
    for edit in _edits(doc):
        edited = {**doc, **edit}
        text = json.dumps(edited)
        fast, detailed = _outcome(serde.loads, text), _outcome(serde.structure, edited)
        assert fast == detailed
        outcomes.append(fast)
    assert outcomes[0] == outcomes[1] == lab.innovation("muttu-1000")
    assert all(isinstance(o, list) and o for o in outcomes[2:])
    lab_text = serde.dumps(lab)
    assert serde.loads(lab_text) == lab
    bad = json.loads(lab_text)
    bad["data"]["innovations"][0]["stage"] = "display"
    assert _outcome(serde.loads, json.dumps(bad)) == _outcome(serde.structure, bad)
