"""Moves: one command about to be attempted, and "anything by anyone" drawn at random.

Random moves are mostly refused -- actors lacking the role, unknown ids, malformed
input -- which is the point: a refusal must change nothing (invariant 1).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any, Final, TypeVar

import attrs
from hypothesis import strategies as st

from labflow._catalogue import by_name
from labflow.lab import Lab
from labflow.model import Actor, Diagnosis, Exhibitor, Initiator, Unit, UnitKind
from labflow.policy import COMMANDS
from labflow.testing._cast import REGIONAL_HEAD, head_of, permitted
from labflow.testing._values import actors, diagnoses, plans, texts, units

T = TypeVar("T")
#: What `st.composite` and `st.data()` hand out: draw a value from a strategy.
Draw = Callable[[st.SearchStrategy[Any]], Any]


@attrs.frozen
class Move:
    """A command about to be attempted: who, on whose behalf, and how to run it."""

    command: str
    by: object
    unit: object  #: the unit a unit-scoped role must belong to; None for lab commands
    label: str
    run: Callable[[], object] = attrs.field(repr=False)


BAD_TEXTS: Final[tuple[object, ...]] = ("", "   ", None, 42, ["daftar"])
BAD_IDS: Final[tuple[object, ...]] = ("tidak-ada", "dua kata", "", None, 7, ["daftar"])
REASON: Final = "Perlu perbaikan sesuai catatan fasilitator"


def call(
    lab: Lab, command: str, method: str, by: object, scope: object, /, *args: Any, **kw: Any
) -> Move:
    shown = ", ".join([*(repr(a) for a in args), *(f"{k}={v!r}" for k, v in kw.items())])
    run = functools.partial(getattr(lab, method), *args, by=by, **kw)
    return Move(command, by, scope, f"{method}({shown}, by={by!r})", run)


def maybe_bad(draw: Draw, good: T, bad: Sequence[object] = BAD_TEXTS) -> T | Any:
    """Mostly ``good``; one time in eight a malformed value the command must refuse."""
    if draw(st.integers(0, 7)) == 0:
        return draw(st.sampled_from(bad))
    return good


def actor_for(lab: Lab, draw: Draw, command: str, unit: object) -> object:
    """Mostly someone allowed to act; else anyone; rarely an unknown or malformed id."""
    ids = sorted(lab.actors)
    allowed = [a for a in ids if permitted(lab, command, a, unit)]
    roll = draw(st.integers(0, 9))
    if allowed and roll < 6:
        return draw(st.sampled_from(allowed))
    if ids and roll < 9:
        return draw(st.sampled_from(ids))
    return draw(st.sampled_from(("orang-asing", "", None, 7)))


def innovation_for(lab: Lab, draw: Draw) -> object:
    ids = sorted(lab.innovations)
    if ids and draw(st.integers(0, 11)) > 0:
        return draw(st.sampled_from(ids))
    return draw(st.sampled_from(BAD_IDS))


def unit_of(lab: Lab, innovation: object) -> object:
    inn = lab.innovations.get(innovation) if isinstance(innovation, str) else None
    return inn.unit if inn is not None else None


def new_id(lab: Lab, draw: Draw) -> object:
    fresh = f"inovasi-{len(lab.innovations) + 1}"
    roll = draw(st.integers(0, 9))
    if roll < 8 or not lab.innovations:
        return fresh if roll < 8 else draw(st.sampled_from(BAD_IDS))
    return draw(st.sampled_from(sorted(lab.innovations)))


def random_move(lab: Lab, draw: Draw) -> Move:
    """Any command, by a drawn actor, with drawn (sometimes malformed) input."""
    command = draw(st.sampled_from(RANDOM_COMMANDS))
    if command in ("register", "replicate"):
        unit = draw(st.sampled_from([*sorted(lab.units), "tidak-ada"]))
        by = actor_for(lab, draw, command, unit)
        new = new_id(lab, draw)
        initiator = draw(st.sampled_from([*Initiator, "dukun"]))
        innovators = maybe_bad(draw, ["Tim Inovasi"], ("satu teks", [1], None))
        if command == "register":
            title = maybe_bad(draw, draw(texts()), (None, 3))
            problem = maybe_bad(draw, draw(texts()), (None, 3))
            return call(
                lab,
                command,
                "register",
                by,
                unit,
                new,
                title=title,
                unit=unit,
                innovators=innovators,
                problem=problem,
                initiator=initiator,
            )
        origin = innovation_for(lab, draw)
        adaptation = draw(
            st.sampled_from(["", "disesuaikan", "disesuaikan dengan kondisi desa dan warga"])
        )
        if draw(st.booleans()):
            return call(
                lab,
                command,
                "replicate",
                by,
                unit,
                new,
                origin=origin,
                unit=unit,
                adaptation=adaptation,
                innovators=innovators,
                initiator=initiator,
            )
        return call(
            lab,
            command,
            "replicate",
            by,
            unit,
            new,
            origin=draw(st.sampled_from(["sipandu", ""])),
            unit=unit,
            adaptation=adaptation,
            origin_region=maybe_bad(draw, "Kabupaten Banyuwangi"),
            title=draw(st.sampled_from([None, "Sipandu"])),
            problem=draw(st.sampled_from([None, "Antrian"])),
            innovators=innovators,
            initiator=initiator,
        )
    if command in LAB_COMMANDS:
        by = actor_for(lab, draw, command, None)
        if command == "add_unit":
            unit = maybe_bad(
                draw, draw(units()), ("bukan unit", Unit("dua kata", "Unit", "agency"))
            )
            return call(lab, command, "add_unit", by, None, unit)
        if command == "add_actor":
            unit_ids = [None, *sorted(lab.units), "tidak-ada"]
            actor = draw(actors([Unit(u, u, "agency") for u in unit_ids if u]))
            actor = attrs.evolve(actor, unit=draw(st.sampled_from(unit_ids)))
            actor = maybe_bad(draw, actor, ("bukan aktor", Actor("x", "X", {"dukun"})))
            return call(lab, command, "add_actor", by, None, actor)
        if command == "set_roles":
            target = draw(st.sampled_from([*sorted(lab.actors), "orang-asing"]))
            roles = draw(st.frozensets(st.sampled_from([*lab.policy.roles, "dukun"]), max_size=2))
            return call(lab, command, "set_roles", by, None, target, sorted(roles))
        if command == "advance_lab":
            return call(lab, command, "advance_lab", by, None)
        if command in EXHIBITION_COMMANDS:
            return exhibition_move(lab, draw, command, by)
        chosen = draw(st.sampled_from([None, sorted(lab.innovations), ["tidak-ada"], "teks"]))
        return call(
            lab,
            command,
            "launch_cohort",
            by,
            None,
            ceremony=maybe_bad(draw, "Peluncuran inovasi"),
            innovations=chosen,
        )
    innovation = innovation_for(lab, draw)
    unit = unit_of(lab, innovation)
    by = actor_for(lab, draw, command, unit)
    spec = by_name(command)
    assert spec is not None  # drawn from the catalogue's commands
    method = spec.method  # the `Lab` method that runs it ("return" is `return_to`)
    kw: dict[str, Any] = {}
    args: list[Any] = [innovation]
    if command == "record_diagnosis":
        # A root cause no record refuses but the text rule does (an int is refused when built).
        bad = Diagnosis("p", ("\x1b[2J",))
        args.append(maybe_bad(draw, draw(diagnoses()), ("teks", bad)))
    elif command == "submit_plan":
        kw["steps"] = maybe_bad(draw, draw(plans()), ("teks", [None], []))
        kw["budget"] = maybe_bad(
            draw, draw(st.none() | st.integers(0, 10**9)), (-5, True, "banyak")
        )
    elif command == "draw_up_agreement":
        # Half the time the right parties, so that redrawing a signed agreement is tried.
        people = [*sorted(lab.actors), "orang-asing"]
        proper = isinstance(unit, str) and draw(st.booleans())
        kw["regional_head"] = REGIONAL_HEAD if proper else draw(st.sampled_from(people))
        kw["unit_head"] = head_of(str(unit)) if proper else draw(st.sampled_from(people))
        kw["terms"] = maybe_bad(draw, "Target kinerja tahunan", (None, 5))
    elif command == "grant_permission":
        kw["reference"] = maybe_bad(draw, "800/123/2016")
    elif command == "record_launch":
        kw["ceremony"] = maybe_bad(draw, "Peluncuran inovasi")
        if draw(st.integers(0, 3)) == 0:
            kw["exhibition"] = draw(st.sampled_from([*sorted(lab.exhibitions), "tidak-ada"]))
    elif command == "attach_evidence":
        kw["title"] = maybe_bad(draw, "SK Bupati")
        kw["reference"] = maybe_bad(draw, "dokumen-1")
    elif command == "register_exhibit":
        kw["event"] = maybe_bad(draw, "Gelar Inovasi")
        kw["booth"] = maybe_bad(draw, "A1", (None, 1))
        if lab.exhibitions and draw(st.booleans()):
            show = lab.exhibitions[draw(st.sampled_from(sorted(lab.exhibitions)))]
            kw["exhibition"] = show.id
            kw["event"] = ""
            kw["booth"] = draw(st.sampled_from([*sorted(show.booths), "A1"]))
    elif command == "record_monev":
        kw["period"] = maybe_bad(draw, "2016-Q3")
        kw["indicators"] = maybe_bad(
            draw,
            draw(st.dictionaries(st.sampled_from(["pengguna", "menit"]), st.integers(0, 999))),
            ({"pengguna": float("nan")}, {"pengguna": "banyak"}, "teks"),
        )
        kw["findings"] = maybe_bad(draw, "Antrean berkurang", (None, 5))
    elif command == "return":
        args.append(draw(st.sampled_from([*lab.policy.stage_ids, "tidak-ada", None])))
        kw["reason"] = maybe_bad(draw, REASON)
    elif command in ("withdraw", "reinstate"):
        kw["reason"] = maybe_bad(draw, REASON)
    elif command == "review_agreement":
        kw["finding"] = maybe_bad(draw, "Target kinerja tercapai sebagian")
        kw["outcome"] = draw(st.sampled_from(["continue", "amend", "amend", "batal"]))
    elif command == "amend_agreement":
        kw["terms"] = maybe_bad(draw, "Target kinerja disesuaikan")
    elif command == "set_attributes":
        # A declared attribute's allowed value, a clearing None, or what the policy refuses.
        declared = sorted(lab.policy.attributes)
        name = draw(st.sampled_from([*declared, "tidak-ada"]))
        choices = lab.policy.attributes[name].choices if name in lab.policy.attributes else ()
        value = draw(st.sampled_from([*choices, "teks", None, 5]))
        kw["attributes"] = maybe_bad(draw, {name: value}, ("teks", {}))
    return call(lab, command, method, by, unit, *args, **kw)


def exhibition_move(lab: Lab, draw: Draw, command: str, by: object) -> Move:
    """A drawn exhibition command: an opening (dates sometimes reversed), an exhibitor of any
    kind, a booth of a unit, an exhibitor or nobody, a closing; ids sometimes unknown."""
    shows = [*sorted(lab.exhibitions), "pameran", "tidak-ada"]
    show = maybe_bad(draw, draw(st.sampled_from(shows)), BAD_IDS)
    if command == "open_exhibition":
        starts = date(2016, 12, 21)
        ends = starts + timedelta(days=draw(st.sampled_from([1, 0, -1])))
        return call(
            lab,
            command,
            command,
            by,
            None,
            show,
            name=maybe_bad(draw, "Pameran Inovasi"),
            venue=maybe_bad(draw, "Pendopo"),
            starts=maybe_bad(draw, starts, ("2016-12-21", None)),
            ends=ends,
        )
    if command == "register_exhibitor":
        kind = draw(st.sampled_from(sorted(UnitKind)))
        ident = draw(st.sampled_from(["pt-swasta", "komunitas-x", *sorted(lab.units)[:1]]))
        exhibitor = maybe_bad(draw, Exhibitor(ident, "Peserta", kind), ("bukan peserta", None))
        return call(lab, command, command, by, None, show, exhibitor=exhibitor)
    if command == "add_booth":
        known = lab.exhibitions.get(show) if isinstance(show, str) else None
        holders = [*sorted(lab.units), *(sorted(known.exhibitors) if known else []), "tidak-ada"]
        return call(
            lab,
            command,
            command,
            by,
            None,
            show,
            booth=maybe_bad(draw, f"Gerai {draw(st.integers(1, 3))}", (None, 3)),
            holder=draw(st.sampled_from(holders)),
            services=maybe_bad(draw, draw(st.sampled_from([[], ["donor darah"]])), ("teks",)),
            showcases=draw(st.sampled_from([[], ["Produk unggulan"]])),
        )
    return call(lab, command, command, by, None, show)


#: The lab commands of exhibitions.
EXHIBITION_COMMANDS: Final = (
    "open_exhibition",
    "register_exhibitor",
    "add_booth",
    "close_exhibition",
)
LAB_COMMANDS: Final = (
    "add_unit",
    "add_actor",
    "set_roles",
    "advance_lab",
    "launch_cohort",
    *EXHIBITION_COMMANDS,
)
#: Every command a policy can grant: the random moves try each of them.
RANDOM_COMMANDS: Final = COMMANDS
