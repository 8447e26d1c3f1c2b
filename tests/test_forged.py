"""Forged histories: re-hashed, rule-breaking histories are refused wherever they enter.

A forger who rewrites a history and recomputes every hash passes the chain check.
What must stop them is the validating fold: replay, document loads and store commits
refuse every history that commands could not have produced. Whether commands could
have produced a mutant is decided here independently of the fold, by re-running the
commands its events describe on a fresh lab (`rerun`) and comparing event by event.
"""

from __future__ import annotations

import collections
import json
import tempfile
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import labflow as lf
from helpers import FixedClock, bring_to, cohort, make_lab
from labflow import serde
from labflow._registrations import index_data
from labflow.events import GENESIS, Event, make_event
from labflow.lab import _apply_lab
from labflow.store import Append
from labflow.testing import labs

Streams = tuple[list[Event], dict[str, list[Event]]]

KINDS = (
    "skip_stage",
    "change_from",
    "swap_actor",
    "drop_approval",
    "reorder",
    "move_signature",
    "time_backwards",
)
#: How many mutants of each kind were refused / were themselves producible, this session.
COUNTS: collections.Counter[tuple[str, str]] = collections.Counter()


# --- Building mutants ----------------------------------------------------------------------


def streams_of(lab: lf.Lab) -> Streams:
    return list(lab.history), {i.id: list(i.history) for i in lab.innovations.values()}


def rehash(events: list[Event], start: int = 0) -> list[Event]:
    """The events renumbered and re-chained from ``start`` on, as a forger would."""
    out = list(events[:start])
    for e in events[start:]:
        prev = out[-1].hash if out else GENESIS
        out.append(make_event(e.subject, len(out) + 1, e.at, e.actor, e.kind, e.payload, prev))
    return out


def _replace(event: Event, **changes: Any) -> Event:
    fields = {
        "subject": event.subject,
        "seq": event.seq,
        "at": event.at,
        "actor": event.actor,
        "kind": event.kind,
        "payload": event.payload,
        "prev": event.prev,
    }
    fields.update(changes)
    return make_event(**fields)


def _positions(streams: Streams, keep: Callable[[Event], bool]) -> list[tuple[str | None, int]]:
    own, inns = streams
    found: list[tuple[str | None, int]] = [(None, i) for i, e in enumerate(own) if keep(e)]
    for subject in sorted(inns):
        found += [(subject, i) for i, e in enumerate(inns[subject]) if keep(e)]
    return found


def mutate(kind: str, streams: Streams, policy: lf.Policy, draw: Any) -> Streams | None:
    """One mutant of ``kind``, re-hashed; ``None`` when this history offers no target."""
    own, inns = list(streams[0]), {s: list(h) for s, h in streams[1].items()}
    stages = list(policy.stage_ids)
    actors = sorted(
        {a["id"] for a in own[0].payload["actors"]}
        | {e.payload["actor"]["id"] for e in own if e.kind == "lab.actor_added"}
    )

    def pick(keep: Callable[[Event], bool]) -> tuple[str | None, int] | None:
        found = _positions((own, inns), keep)
        return draw(st.sampled_from(found)) if found else None

    def stream(subject: str | None) -> list[Event]:
        return own if subject is None else inns[subject]

    def put(subject: str | None, index: int, event: Event | None) -> None:
        events = stream(subject)
        if event is None:
            del events[index]
        else:
            events[index] = event
        fixed = rehash(events, index)
        if subject is None:
            own[:] = fixed
        else:
            inns[subject] = fixed

    moves = ("innovation.advanced", "lab.advanced")
    if kind == "skip_stage":
        spot = pick(lambda e: e.kind in moves and stages.index(e.payload["to"]) + 1 < len(stages))
        if spot is None:
            return None
        e = stream(spot[0])[spot[1]]
        beyond = stages[stages.index(e.payload["to"]) + 1]
        put(*spot, _replace(e, payload={**e.payload, "to": beyond}))
    elif kind == "change_from":
        spot = pick(lambda e: e.kind in (*moves, "innovation.returned"))
        if spot is None:
            return None
        e = stream(spot[0])[spot[1]]
        other = draw(st.sampled_from([s for s in stages if s != e.payload["from"]]))
        put(*spot, _replace(e, payload={**e.payload, "from": other}))
    elif kind == "swap_actor":
        spot = pick(lambda e: e.kind != "lab.created")
        if spot is None:
            return None
        e = stream(spot[0])[spot[1]]
        other = draw(st.sampled_from([a for a in actors if a != e.actor]))
        put(*spot, _replace(e, actor=other))
    elif kind == "drop_approval":
        spot = pick(lambda e: e.kind == "innovation.plan_approved")
        if spot is None:
            return None
        put(spot[0], spot[1], None)
    elif kind == "reorder":
        spot = pick(lambda e: e.seq >= 2)
        if spot is None:
            return None
        subject, i = spot
        events = stream(subject)
        a, b = events[i - 1], events[i]
        if (a.kind, a.actor, a.payload) == (b.kind, b.actor, b.payload):
            return None
        # Content swapped, each position keeping its time: the order is the forgery.
        events[i - 1] = _replace(b, at=a.at)
        events[i] = _replace(a, at=b.at)
        put(subject, i - 1, events[i - 1])
    elif kind == "move_signature":
        spot = pick(lambda e: e.kind == "innovation.agreement_signed")
        if spot is None:
            return None
        e = stream(spot[0])[spot[1]]
        drawn = [
            d for d in stream(spot[0])[: spot[1]] if d.kind == "innovation.agreement_drawn_up"
        ][-1]
        parties = {drawn.payload["regional_head"], drawn.payload["unit_head"]} - {e.actor}
        others = sorted(parties) + [a for a in actors if a != e.actor and a not in parties]
        put(*spot, _replace(e, actor=draw(st.sampled_from(others))))
    elif kind == "time_backwards":
        spot = pick(lambda e: e.seq >= 2)
        if spot is None:
            return None
        events = stream(spot[0])
        e = events[spot[1]]
        put(*spot, _replace(e, at=events[spot[1] - 1].at - timedelta(minutes=1)))
    return own, inns


# --- Deciding by re-running the commands ---------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = lf.system_clock()

    def __call__(self) -> Any:
        return self.now


def _when(e: Event) -> tuple[Any, ...]:
    """Where ``e`` falls in the order its commands ran: by time, innovations before the lab."""
    if e.kind.startswith("lab."):
        return (e.at, 1, "", e.seq)
    return (e.at, 0, e.subject, e.seq)


def _call(lab: lf.Lab, e: Event) -> list[Event]:
    """Run the command ``e`` records, on ``lab``; the events it appended."""
    p = e.payload
    s, by = e.subject, e.actor
    kind = e.kind
    if kind == "lab.unit_added":
        return [lab.add_unit(lf.Unit(**p["unit"]), by=by)]
    if kind == "lab.actor_added":
        a = p["actor"]
        return [lab.add_actor(lf.Actor(a["id"], a["name"], a["roles"], a["unit"]), by=by)]
    if kind == "lab.roles_set":
        return [lab.set_roles(p["actor"], p["roles"], by=by)]
    if kind == "lab.advanced":
        return [lab.advance_lab(by=by)]
    if kind == "lab.exhibition_opened":
        return [
            lab.open_exhibition(
                p["id"],
                name=p["name"],
                venue=p["venue"],
                starts=date.fromisoformat(p["starts"]),
                ends=date.fromisoformat(p["ends"]),
                by=by,
            )
        ]
    if kind == "lab.exhibitor_registered":
        e = p["exhibitor"]
        exhibitor = lf.Exhibitor(e["id"], e["name"], e["kind"])
        return [lab.register_exhibitor(p["exhibition"], exhibitor=exhibitor, by=by)]
    if kind == "lab.booth_added":
        b = p["booth"]
        return [
            lab.add_booth(
                p["exhibition"],
                booth=b["id"],
                holder=b["holder"],
                services=b["services"],
                showcases=b["showcases"],
                by=by,
            )
        ]
    if kind == "lab.exhibition_closed":
        return [lab.close_exhibition(p["exhibition"], by=by)]
    if kind == "lab.ceremony_held":
        ids = [*p["launched"], *p["refused"]]
        return list(lab.launch_cohort(ceremony=p["ceremony"], by=by, innovations=ids).events)
    if kind == "innovation.registered":
        return [
            lab.register(
                s,
                title=p["title"],
                unit=p["unit"],
                innovators=p["innovators"],
                problem=p["problem"],
                initiator=p["initiator"],
                by=by,
            )
        ]
    if kind == "innovation.replicated":
        r = p["replication"]
        return [
            lab.replicate(
                s,
                origin=r["origin_innovation"],
                unit=p["unit"],
                adaptation=r["adaptation"],
                by=by,
                origin_region=r["origin_region"],
                title=p["title"],
                innovators=p["innovators"],
                problem=p["problem"],
                initiator=p["initiator"],
            )
        ]
    if kind == "innovation.diagnosis_recorded":
        diagnosis = lf.Diagnosis(p["problem"], tuple(p["root_causes"]), p["readiness"])
        return [lab.record_diagnosis(s, diagnosis, by=by)]
    if kind == "innovation.plan_submitted":
        steps = [
            lf.PlanStep(x["description"], x["responsible"], date.fromisoformat(x["due"]))
            for x in p["steps"]
        ]
        return [
            lab.submit_plan(
                s,
                steps=steps,
                stakeholders=p["stakeholders"],
                budget=p["budget"],
                documents=p["documents"],
                by=by,
            )
        ]
    if kind == "innovation.plan_approved":
        return [lab.approve_plan(s, by=by)]
    if kind == "innovation.agreement_drawn_up":
        return [
            lab.draw_up_agreement(
                s,
                regional_head=p["regional_head"],
                unit_head=p["unit_head"],
                terms=p["terms"],
                by=by,
            )
        ]
    if kind == "innovation.agreement_signed":
        return [lab.sign_agreement(s, by=by)]
    if kind == "innovation.permission_granted":
        return [lab.grant_permission(s, reference=p["reference"], by=by)]
    if kind == "innovation.launched":
        return [lab.record_launch(s, ceremony=p["ceremony"], exhibition=p.get("exhibition"), by=by)]
    if kind == "innovation.evidence_attached":
        return [lab.attach_evidence(s, title=p["title"], reference=p["reference"], by=by)]
    if kind == "innovation.exhibit_registered":
        where = p.get("exhibition")
        return [
            lab.register_exhibit(s, event=p["event"], booth=p["booth"], exhibition=where, by=by)
        ]
    if kind == "innovation.monitored":
        return [
            lab.record_monev(
                s,
                period=p["period"],
                indicators=p["indicators"],
                findings=p["findings"],
                follow_up=p["follow_up"],
                by=by,
            )
        ]
    if kind == "innovation.advanced":
        return [lab.advance(s, by=by)]
    if kind == "innovation.returned":
        return [lab.return_to(s, p["to"], reason=p["reason"], by=by)]
    if kind == "innovation.withdrawn":
        return [lab.withdraw(s, reason=p["reason"], by=by)]
    if kind == "innovation.reinstated":
        return [lab.reinstate(s, reason=p["reason"], by=by)]
    if kind == "innovation.agreement_reviewed":
        return [lab.review_agreement(s, finding=p["finding"], outcome=p["outcome"], by=by)]
    if kind == "innovation.agreement_amended":
        return [lab.amend_agreement(s, terms=p["terms"], by=by)]
    if kind == "innovation.attributes_set":
        return [lab.set_attributes(s, attributes=p["attributes"], by=by)]
    raise AssertionError(kind)


def rerun(mutant: Streams) -> bool:
    """Whether commands, each run at the time its event records, produce exactly ``mutant``."""
    own, inns = mutant
    # Each event runs at its own recorded time, in the order the original commands were
    # interleaved in. Its own time, not its slot's: a mutant that drops an event renumbers
    # the rest of its stream, and a later event must not borrow its predecessor's moment
    # (it would run before lab events it came after, and the oracle would call a history
    # commands can produce unproducible).
    events = [*own, *(e for h in inns.values() for e in h)]
    events.sort(key=_when)
    created = own[0]
    clock = _Clock()
    clock.now = created.at
    p = created.payload
    if created.kind != "lab.created":
        return False
    try:
        lab = lf.Lab.create(
            lf.policy_from_dict(p["policy"]),
            id=p["id"],
            region=p["region"],
            by=created.actor,
            units=[lf.Unit(**u) for u in p["units"]],
            actors=[lf.Actor(a["id"], a["name"], a["roles"], a["unit"]) for a in p["actors"]],
            clock=clock,
        )
    except (lf.LabflowError, KeyError, TypeError):
        return False
    if lab.history[0] != created:
        return False
    ceremonies = {
        (subject, e.at, e.actor)
        for e in own
        if e.kind == "lab.ceremony_held"
        for subject in e.payload["launched"]
    }
    deferred: list[Event] = []
    for e in events[1:] if events[0] is created else events:
        if e is created:
            continue
        if e.kind == "innovation.launched" and (e.subject, e.at, e.actor) in ceremonies:
            deferred.append(e)
            continue
        clock.now = e.at
        try:
            produced = _call(lab, e)
        except (lf.LabflowError, KeyError, TypeError, ValueError):
            return False
        expected = (
            [d for d in deferred if d.at == e.at] + [e] if e.kind == "lab.ceremony_held" else [e]
        )
        if sorted(produced, key=lambda x: (x.subject, x.seq)) != sorted(
            expected, key=lambda x: (x.subject, x.seq)
        ):
            return False
    return True


# --- Where a forged history may enter --------------------------------------------------------


def _unchecked_lab(streams: Streams) -> lf.Lab | None:
    """The lab a mutant's events describe, folded without judging them (for a document)."""
    own, inns = streams
    p = own[0].payload
    try:
        policy = lf.policy_from_dict(p["policy"])
        lab = lf.Lab._make(p["id"], p["region"], policy, policy.stages[0].id, lf.system_clock)
        for e in own:
            _apply_lab(lab, e)
        for events in inns.values():
            lab._put(lf.replay_innovation(events))
    except (lf.LabflowError, KeyError, TypeError, ValueError, AssertionError):
        return None
    return lab


def refusals(streams: Streams, template: lf.Lab) -> dict[str, str]:
    """How replay, a document load and both stores answer ``streams``: "ok" or the error."""
    own, inns = streams
    out: dict[str, str] = {}

    def attempt(name: str, run: Callable[[], object]) -> None:
        try:
            run()
        except lf.HistoryError:
            out[name] = "HistoryError"
        except lf.LabflowError as exc:
            out[name] = type(exc).__name__ + ": " + str(exc)[:200]
        else:
            out[name] = "ok"

    attempt("replay", lambda: lf.replay_lab(own, list(inns.values())))
    described = _unchecked_lab(streams)
    doc = serde.unstructure(described if described is not None else template)
    if described is None:  # state stated as before, histories as forged
        doc["data"]["history"] = [serde.unstructure(e)["data"] for e in own]
        for item in doc["data"]["innovations"]:
            item["history"] = [serde.unstructure(e)["data"] for e in inns[item["id"]]]
        # A forger who re-hashes histories re-hashes the registration index too.
        held = doc["data"]["innovations"]
        openings = [(i["id"], i["history"][0]["hash"]) for i in held if i["history"]]
        doc["data"]["registrations"] = index_data(doc["data"]["id"], openings)
    attempt("serde", lambda: serde.loads(json.dumps(doc)))
    appends = [Append(own[0].subject, 0, own, lab=True)]
    appends += [Append(s, 0, h) for s, h in sorted(inns.items())]
    attempt("memory", lambda: lf.MemoryStore().commit(own[0].subject, appends))
    with tempfile.TemporaryDirectory() as folder:

        def sqlite() -> None:
            with lf.SQLiteStore(Path(folder) / "lab.db", create=True) as store:
                store.commit(own[0].subject, appends)

        attempt("sqlite", sqlite)
    return out


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    if COUNTS:
        lines = [
            f"{k}: {COUNTS[(k, 'refused')]} refused, {COUNTS[(k, 'producible')]} producible"
            for k in KINDS
        ]
        print("\nforged-history mutants:\n  " + "\n  ".join(lines))


# --- The properties --------------------------------------------------------------------------


class TestForgedHistories:
    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(lab=labs(max_commands=50), kind=st.sampled_from(KINDS), data=st.data())
    def test_a_forged_history_is_refused_unless_commands_could_produce_it(
        self, lab: lf.Lab, kind: str, data: st.DataObject
    ) -> None:
        """Replay, serde and both stores refuse a re-hashed mutant unless rerun can make it."""
        original = streams_of(lab)
        mutant = mutate(kind, original, lab.policy, data.draw)
        assume(mutant is not None)
        assert mutant is not None
        producible = rerun(mutant)
        answers = refusals(mutant, lab)
        expected = "ok" if producible else "HistoryError"
        assert answers == dict.fromkeys(answers, expected), (kind, producible, answers)
        COUNTS[(kind, "producible" if producible else "refused")] += 1

    @settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(lab=labs(max_commands=50))
    def test_an_untouched_history_is_accepted_everywhere(self, lab: lf.Lab) -> None:
        """The oracle and the fold agree on the histories commands did produce."""
        original = streams_of(lab)
        assert rerun(original)
        assert set(refusals(original, lab).values()) == {"ok"}


# --- Each kind of forgery, planted where it must be found --------------------------------------


def _delivered(*, launch: bool = True) -> lf.Lab:
    """A lab whose cohort went all the way to deliver, launched at a ceremony (or not)."""
    lab = make_lab(clock=FixedClock())
    cohort(lab)
    bring_to(lab, "deliver", launch=launch)
    return lab


def _first(events: list[Event], kind: str) -> int:
    return next(i for i, e in enumerate(events) if e.kind == kind)


class TestPlantedForgeries:
    """One forgery of each kind the fold must always refuse, with the code it names."""

    def refused(self, lab: lf.Lab, streams: Streams) -> lf.HistoryError:
        assert not rerun(streams)
        answers = refusals(streams, lab)
        assert set(answers.values()) == {"HistoryError"}, answers
        with pytest.raises(lf.HistoryError) as info:
            lf.replay_lab(streams[0], list(streams[1].values()))
        return info.value

    def forge(self, lab: lf.Lab, change: Callable[[list[Event]], None]) -> Streams:
        own, inns = streams_of(lab)
        events = inns["ino-dinkes"]
        change(events)
        inns["ino-dinkes"] = rehash(events)
        return own, inns

    def test_skipping_a_stage(self) -> None:
        lab = _delivered()

        def skip(events: list[Event]) -> None:
            i = _first(events, "innovation.advanced")
            e = events[i]
            events[i] = _replace(e, payload={**e.payload, "to": "design"})

        assert self.refused(lab, self.forge(lab, skip)).code == "history.stage_order"

    def test_an_author_approving_their_own_plan(self) -> None:
        lab = _delivered()

        def self_approve(events: list[Event]) -> None:
            i = _first(events, "innovation.plan_approved")
            plan = events[_first(events, "innovation.plan_submitted")]
            events[i] = _replace(events[i], actor=plan.actor)

        assert self.refused(lab, self.forge(lab, self_approve)).code in (
            "history.self_approval",
            "history.not_permitted",
        )

    def test_dropping_the_approval(self) -> None:
        lab = _delivered()
        forged = self.forge(lab, lambda ev: ev.pop(_first(ev, "innovation.plan_approved")))
        # Either the gate it then passed unmet, or the cohort count it shifted, names it.
        assert self.refused(lab, forged).code in ("history.gate", "history.lab_order")

    def test_a_signature_by_someone_else(self) -> None:
        lab = _delivered()

        def move(events: list[Event]) -> None:
            i = _first(events, "innovation.agreement_signed")
            events[i] = _replace(events[i], actor="kapus")

        assert self.refused(lab, self.forge(lab, move)).code in (
            "history.signature",
            "history.not_permitted",
        )

    def test_an_actor_who_is_not_in_the_lab(self) -> None:
        lab = _delivered()

        def stranger(events: list[Event]) -> None:
            i = _first(events, "innovation.advanced")
            events[i] = _replace(events[i], actor="penyusup")

        assert self.refused(lab, self.forge(lab, stranger)).code == "history.unknown_actor"

    def test_a_time_that_goes_back(self) -> None:
        lab = _delivered()

        def back(events: list[Event]) -> None:
            events[-1] = _replace(events[-1], at=events[-2].at - timedelta(days=1))

        assert self.refused(lab, self.forge(lab, back)).code == "history.time"

    def test_a_move_from_a_stage_it_was_not_at(self) -> None:
        lab = _delivered()

        def lie(events: list[Event]) -> None:
            i = _first(events, "innovation.advanced")
            events[i] = _replace(events[i], payload={**events[i].payload, "from": "design"})

        assert self.refused(lab, self.forge(lab, lie)).code == "history.stage_order"

    def test_a_launch_before_the_plan_is_approved(self) -> None:
        lab = _delivered(launch=False)
        lab.record_launch("ino-dinkes", ceremony="Peluncuran", by="sekretariat")

        def reorder(events: list[Event]) -> None:
            launch = events.pop(_first(events, "innovation.launched"))
            i = _first(events, "innovation.plan_approved")
            events.insert(i, _replace(launch, at=events[i].at))

        assert self.refused(lab, self.forge(lab, reorder)).code in (
            "history.gate",
            "history.lab_order",
            "history.stage_order",
            "history.time",
        )

    def test_a_lab_history_that_does_not_open_with_its_creation(self) -> None:
        """Swapping lab.created with the next lab event is a HistoryError everywhere."""
        lab = _delivered()
        own, inns = streams_of(lab)
        first, second = own[0], own[1]
        own[0] = _replace(second, seq=1, prev=GENESIS, at=first.at)
        own[1] = _replace(first, at=second.at)
        forged = (rehash(own), inns)
        assert self.refused(lab, forged).code in ("history.no_creation", "history.chain")

    def test_an_unusable_move_is_refused_at_commit(self) -> None:
        """`advanced` to nowhere is a HistoryError at commit, and nothing is kept."""
        lab = _delivered()
        store = lf.MemoryStore()
        appends = [Append(lab.id, 0, lab.history, lab=True)]
        appends += [Append(i.id, 0, i.history) for i in lab.innovations.values()]
        store.commit(lab.id, appends)
        head = lab.innovation("ino-dinkes").history[-1]
        forged = make_event(
            head.subject,
            head.seq + 1,
            head.at,
            "sekretariat",
            "innovation.advanced",
            {"from": "deliver", "to": "nowhere", "v": 2, "lab_v": lab.version, "gate": []},
            head.hash,
        )
        with pytest.raises(lf.HistoryError) as info:
            store.commit(lab.id, [Append("ino-dinkes", head.seq, [forged])])
        assert (info.value.subject, info.value.seq) == ("ino-dinkes", forged.seq)
        assert store.version(lab.id, "ino-dinkes") == head.seq

    def test_roles_for_an_unknown_actor_are_refused_at_commit(self) -> None:
        lab = _delivered()
        store = lf.MemoryStore()
        appends = [Append(lab.id, 0, lab.history, lab=True)]
        appends += [Append(i.id, 0, i.history) for i in lab.innovations.values()]
        store.commit(lab.id, appends)
        last = lab.history[-1]
        forged = make_event(
            lab.id,
            last.seq + 1,
            last.at,
            "sekretariat",
            "lab.roles_set",
            {"actor": "siapa", "roles": ["secretariat"], "v": 2},
            last.hash,
        )
        with pytest.raises(lf.HistoryError) as info:
            store.commit(lab.id, [Append(lab.id, last.seq, [forged], lab=True)])
        assert info.value.code == "history.unknown_actor"
