"""A lab document carries its registration index: no innovation disappears from it unseen."""

from __future__ import annotations

import copy
import io
import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from labflow import DocumentError, Lab, cli, serde
from labflow._registrations import entry_hash
from labflow._samples import run_demo
from labflow.events import GENESIS, make_event
from labflow.store.sqlite import SQLiteStore
from labflow.testing import labs

FIXTURES = Path(__file__).parent / "fixtures"

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Lab]:
    """The Kebumen sample (182 innovations) run into a SQLite store, and the lab its
    commands built (holding the innovations in the order they were registered)."""
    path = tmp_path_factory.mktemp("index") / "kebumen.db"
    with SQLiteStore(path, create=True) as store:
        built = run_demo(store, "kebumen").lab
    return path, built


@pytest.fixture(scope="module")
def demo_db(demo: tuple[Path, Lab]) -> Path:
    return demo[0]


@pytest.fixture(scope="module")
def lab(demo_db: Path) -> Lab:
    with SQLiteStore(demo_db) as store:
        return store.load("kebumen")


@pytest.fixture(scope="module")
def document(lab: Lab) -> Doc:
    return serde.unstructure(lab)


def registrations_of(db: Path, lab_id: str) -> list[tuple[Any, ...]]:
    """A SQLite store's registration index, as its table holds it."""
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT seq, subject, opening, prev, hash FROM registrations WHERE lab = ? "
            "ORDER BY seq",
            (lab_id,),
        ).fetchall()


def entries_of(doc: Doc) -> list[tuple[Any, ...]]:
    return [
        (e["seq"], e["subject"], e["opening"], e["prev"], e["hash"])
        for e in doc["data"]["registrations"]["entries"]
    ]


def rechain(doc: Doc) -> None:
    """Recompute every entry's link and hash, and the head and length: a sound chain."""
    index = doc["data"]["registrations"]
    head = GENESIS
    for seq, entry in enumerate(index["entries"], start=1):
        entry["seq"], entry["prev"] = seq, head
        entry["hash"] = head = entry_hash(
            doc["data"]["id"], seq, entry["subject"], entry["opening"], head
        )
    index["length"], index["head"] = len(index["entries"]), head


def both_refuse(doc: Doc) -> list[tuple[str, str]]:
    """The problems both load paths (JSON, fast; plain data, detailed) list: the same."""
    before = copy.deepcopy(doc)
    found = []
    for load, data in ((serde.loads, json.dumps(doc)), (serde.structure, doc)):
        with pytest.raises(DocumentError) as info:
            load(data)
        found.append([(p.path, p.message) for p in info.value.problems])
    assert doc == before  # loading changes nothing it was given
    assert found[0] == found[1]
    return found[0]


# --- The index a document carries ------------------------------------------------------------


class TestTheIndex:
    def test_a_lab_document_lists_every_innovation_in_order_chained(
        self, lab: Lab, document: Doc
    ) -> None:
        """One entry per innovation, in the lab's order, each with its first event, chained."""
        index = document["data"]["registrations"]
        assert document["version"] == serde.VERSIONS["lab"] == 4
        assert index["length"] == len(lab.innovations) == 182
        assert [e["subject"] for e in index["entries"]] == list(lab.innovations)
        assert [e["opening"] for e in index["entries"]] == [
            i.history[0].hash for i in lab.innovations.values()
        ]
        prev = GENESIS
        for seq, (s, subject, opening, link, digest) in enumerate(entries_of(document), 1):
            assert (s, link) == (seq, prev)
            assert digest == entry_hash(lab.id, seq, subject, opening, prev)
            prev = digest
        assert index["head"] == prev

    def test_the_document_round_trips(self, lab: Lab, document: Doc) -> None:
        blob = serde.dumps(lab)
        back = serde.loads(blob)
        assert back == lab
        assert serde.dumps(back) == blob
        assert serde.structure(document) == lab

    def test_a_lab_built_by_commands_writes_the_index_its_store_keeps(
        self, demo: tuple[Path, Lab]
    ) -> None:
        """The same chain, entry for entry: the document's index and the SQLite store's."""
        path, built = demo
        assert entries_of(serde.unstructure(built)) == registrations_of(path, "kebumen")

    def test_innovations_reordered_in_the_document_load_in_registration_order(
        self, lab: Lab, document: Doc
    ) -> None:
        """The index, not the array, says the order: the loaded lab writes the same index."""
        doc = copy.deepcopy(document)
        doc["data"]["innovations"].reverse()
        back = serde.structure(doc)
        assert isinstance(back, Lab)
        assert list(back.innovations) == list(lab.innovations)
        assert serde.unstructure(back) == document

    def test_a_store_a_document_and_an_imported_store_hold_one_index(
        self, demo_db: Path, tmp_path: Path, lab: Lab
    ) -> None:
        """store -> document -> `labflow import --lab-json` into a fresh SQLite file: the
        fresh store's index is the document's, entry for entry; both index the innovations
        the first store indexed, each with the same first event."""
        path = tmp_path / "kebumen.json"
        path.write_bytes(serde.dumps(lab))
        fresh = tmp_path / "fresh.db"
        out, err = io.StringIO(), io.StringIO()
        argv = ["import", "--db", str(fresh), "--by", "sekretariat", "--lab-json", str(path)]
        assert cli.main(argv, stdout=out, stderr=err) == cli.EXIT_OK, err.getvalue()
        written = entries_of(json.loads(path.read_bytes()))
        assert registrations_of(fresh, "kebumen") == written
        original = registrations_of(demo_db, "kebumen")
        assert sorted(e[1:3] for e in original) == sorted(e[1:3] for e in written)
        with SQLiteStore(fresh) as store:
            assert store.load("kebumen") == lab
            assert all(all(v.ok for v in vs) for vs in store.verify_all().values())


# --- Tampering, each way -----------------------------------------------------------------------


def _drop_innovation(doc: Doc) -> str:
    return str(doc["data"]["innovations"].pop(5)["id"])


def _drop_entry(doc: Doc) -> str:
    """The entry removed and the chain recomputed: the index is sound, but lacks one."""
    gone = doc["data"]["registrations"]["entries"].pop(7)
    rechain(doc)
    return str(gone["subject"])


def _list_twice(doc: Doc) -> str:
    entries = doc["data"]["registrations"]["entries"]
    entries.append(copy.deepcopy(entries[3]))
    rechain(doc)
    return str(entries[3]["subject"])


def _edit_entry(doc: Doc) -> str:
    entry = doc["data"]["registrations"]["entries"][10]
    entry["opening"] = "0" * 64
    return str(entry["subject"])


def _move_head(doc: Doc) -> str:
    index = doc["data"]["registrations"]
    index["head"] = index["entries"][-2]["hash"]
    return str(index["entries"][-1]["subject"])


def _shorten(doc: Doc) -> str:
    index = doc["data"]["registrations"]
    index["length"] -= 1
    return str(index["entries"][-1]["subject"])


def _other_first_event(doc: Doc) -> str:
    """The entry says another first event, its chain recomputed: the history is not it."""
    entry = doc["data"]["registrations"]["entries"][12]
    entry["opening"] = "f" * 64
    rechain(doc)
    return str(entry["subject"])


def _position(doc: Doc, subject: str) -> int:
    return [i["id"] for i in doc["data"]["innovations"]].index(subject)


def _entry(doc: Doc, subject: str) -> int:
    entries = doc["data"]["registrations"]["entries"]
    return [e["subject"] for e in entries].index(subject)


#: Each tampering, and where its one problem is found (from the edited document, and the
#: innovation it names), and a phrase of what is said.
TAMPERINGS: dict[str, tuple[Callable[[Doc], str], Callable[[Doc, str], str], str]] = {
    "listed but missing": (
        _drop_innovation,
        lambda d, s: f"$.data.registrations.entries[{_entry(d, s)}]",
        "is in the lab's registration index, but the document lacks it",
    ),
    "present but unlisted": (
        _drop_entry,
        lambda d, s: f"$.data.innovations[{_position(d, s)}]",
        "is not in the lab's registration index",
    ),
    "listed twice": (
        _list_twice,
        lambda d, s: f"$.data.registrations.entries[{len(d['data']['innovations'])}]",
        "twice",
    ),
    "an edited entry": (
        _edit_entry,
        lambda d, s: f"$.data.registrations.entries[{_entry(d, s)}]",
        "breaks at the entry of",
    ),
    "a moved head": (
        _move_head,
        lambda d, s: "$.data.registrations",
        "does not end at its recorded head",
    ),
    "a shortened length": (
        _shorten,
        lambda d, s: "$.data.registrations",
        "does not end at its recorded head",
    ),
    "another first event": (
        _other_first_event,
        lambda d, s: f"$.data.innovations[{_position(d, s)}].history[0]",
        "its first event is not the one the lab's registration index recorded",
    ),
}


@pytest.mark.parametrize("name", list(TAMPERINGS))
def test_each_tampering_of_the_index_is_refused_naming_the_innovation(
    document: Doc, name: str
) -> None:
    """Both load paths refuse with one problem, at its path, naming the innovation."""
    tamper, where, phrase = TAMPERINGS[name]
    doc = copy.deepcopy(document)
    subject = tamper(doc)
    problems = both_refuse(doc)
    assert len(problems) == 1, problems
    ((path, message),) = problems
    assert path == where(doc, subject)
    assert phrase in message
    if path != "$.data.registrations":
        assert repr(subject) in message


def test_a_deleted_innovation_that_was_registered_last_is_refused(document: Doc) -> None:
    """The innovation registered last, deleted with nothing else touched: still listed."""
    doc = copy.deepcopy(document)
    last = doc["data"]["registrations"]["entries"][-1]["subject"]
    doc["data"]["innovations"].pop(_position(doc, last))
    ((path, message),) = both_refuse(doc)
    assert path == f"$.data.registrations.entries[{len(doc['data']['innovations'])}]"
    assert repr(last) in message


def test_every_missing_innovation_is_named(document: Doc) -> None:
    """Several innovations deleted: each is listed, not only the first."""
    doc = copy.deepcopy(document)
    gone = {doc["data"]["innovations"].pop(k)["id"] for k in (40, 20, 3)}
    problems = both_refuse(doc)
    assert len(problems) == 3
    assert {m.split("'")[1] for _, m in problems} == gone


def test_a_forged_innovation_with_sound_hashes_is_not_in_the_index(document: Doc) -> None:
    """An innovation that was never registered, its own chain hashed right: refused."""
    doc = copy.deepcopy(document)
    source = doc["data"]["innovations"][0]
    forged: list[Any] = []
    prev = GENESIS
    for raw in source["history"]:
        event = serde.load_event({"kind": "event", "version": 1, "data": raw})
        event = make_event(
            "ino-palsu", event.seq, event.at, event.actor, event.kind, event.payload, prev
        )
        forged.append(serde.unstructure(event)["data"])
        prev = event.hash
    twin = {**copy.deepcopy(source), "id": "ino-palsu", "history": forged}
    doc["data"]["innovations"].append(twin)
    problems = both_refuse(doc)
    assert (f"$.data.innovations[{len(doc['data']['innovations']) - 1}]", "'ino-palsu'") in {
        (p, m[: len("'ino-palsu'")]) for p, m in problems
    }


def test_labflow_import_refuses_a_document_with_an_innovation_deleted(
    document: Doc, tmp_path: Path
) -> None:
    """`labflow import --lab-json` refuses it as loading does, and writes nothing."""
    doc = copy.deepcopy(document)
    gone = _drop_innovation(doc)
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    db = tmp_path / "lab.db"
    out, err = io.StringIO(), io.StringIO()
    argv = ["import", "--db", str(db), "--by", "sekretariat", "--lab-json", str(path)]
    code = cli.main(argv, stdout=out, stderr=err)
    assert code not in (cli.EXIT_OK, cli.EXIT_STORE)
    assert repr(gone) in err.getvalue()
    assert "registration index" in err.getvalue()
    if db.exists():
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


# --- Documents from before the index --------------------------------------------------------


def downgraded(document: Doc) -> Doc:
    """The document as labflow wrote it before the index: version 3, no registrations."""
    data = {k: v for k, v in document["data"].items() if k != "registrations"}
    return {"kind": "lab", "version": 3, "data": data}


class TestOlderDocuments:
    def test_a_version_3_lab_migrates_with_the_index_of_what_it_holds(
        self, lab: Lab, document: Doc
    ) -> None:
        old = downgraded(document)
        before = copy.deepcopy(old)
        migrated = serde.migrate(old)
        assert old == before
        assert migrated == document  # the same index, built from the innovations it holds
        assert serde.loads(json.dumps(old)) == lab
        assert serde.structure(old) == lab

    def test_dumping_a_loaded_old_document_indexes_it(self) -> None:
        """A version-1 lab (tests/fixtures) loads; written again, it carries its index."""
        old = json.loads((FIXTURES / "lab-v1.json").read_text(encoding="utf-8"))
        loaded = serde.load_lab(json.dumps(old))
        doc = serde.unstructure(loaded)
        assert doc["version"] == 4
        assert [e["subject"] for e in doc["data"]["registrations"]["entries"]] == [
            i["id"] for i in old["data"]["innovations"]
        ]
        doc["data"]["innovations"].pop(0)
        assert [p for p, _ in both_refuse(doc)] == ["$.data.registrations.entries[0]"]

    def test_a_deletion_in_an_old_document_cannot_be_seen(self) -> None:
        """What the documentation says: an old document's index vouches for what it holds."""
        old = json.loads((FIXTURES / "lab-v1.json").read_text(encoding="utf-8"))
        old["data"]["innovations"].pop(0)
        loaded = serde.load_lab(json.dumps(old))
        assert list(loaded.innovations) == ["jempol"]


def _unreadable(doc: Doc) -> Iterator[Doc]:
    """Old documents whose innovations cannot be read: the migration leaves them out."""
    for broken in ("x", {"id": 5}, {"id": "a", "history": []}, {"id": "a", "history": [7]}):
        edited = copy.deepcopy(doc)
        edited["data"]["innovations"][0] = broken
        yield edited


def test_an_old_document_with_unreadable_innovations_is_refused_where_they_are(
    document: Doc,
) -> None:
    """The migration never raises; loading names the innovation that cannot be read."""
    old = downgraded(document)
    for edited in _unreadable(old):
        with pytest.raises(DocumentError) as info:
            serde.structure(edited)
        paths = [p.path for p in info.value.problems]
        assert all(p.startswith("$.data.innovations[0]") for p in paths), paths


# --- Any lab -----------------------------------------------------------------------------------


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(lab=labs(max_commands=25), data=st.data())
def test_in_any_lab_a_removed_innovation_or_an_edited_entry_is_refused(
    lab: Lab, data: st.DataObject
) -> None:
    """Whatever the policy and point of life: an innovation removed is named where its
    entry is, and an entry with any one field changed breaks the chain there."""
    assume(lab.innovations)
    document = serde.unstructure(lab)
    assert serde.structure(document) == lab
    k = data.draw(st.integers(0, len(lab.innovations) - 1), label="innovation")
    doc = copy.deepcopy(document)
    gone = doc["data"]["innovations"].pop(k)["id"]
    ((path, message),) = both_refuse(doc)
    assert path == f"$.data.registrations.entries[{k}]"
    assert repr(gone) in message
    doc = copy.deepcopy(document)
    field = data.draw(st.sampled_from(["seq", "subject", "opening", "prev", "hash"]))
    entry = doc["data"]["registrations"]["entries"][k]
    entry[field] = (
        entry[field] + 1 if field == "seq" else entry[field][:-1] + "0a"[entry[field].endswith("0")]
    )
    ((path, message),) = both_refuse(doc)
    assert path == f"$.data.registrations.entries[{k}]"
