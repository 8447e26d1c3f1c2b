"""The lab driver: moves that answer what blocks progress, and `labs` built on them.

Random commands alone almost never carry a lab past diagnose: each stage needs a
handful of artefacts, by the right people, in the right order. The driver reads
what stands in the way -- an innovation's `check` verdict, the lab's cohort
conditions -- and proposes the commands that would remove it.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from hypothesis import strategies as st

from labflow._exhibitions import exhibit_stage
from labflow.errors import CommandError, InvalidCommand
from labflow.lab import Lab
from labflow.model import Diagnosis, Exhibitor, Innovation, PlanStep, Unit
from labflow.policy import Policy, available_presets, load_policy
from labflow.testing._cast import (
    LAB_ID,
    REGION,
    SECRETARIAT,
    head_of,
    innovator_of,
    permitted,
    roster,
)
from labflow.testing._clock import START, StepClock
from labflow.testing._invariants import agreement_passed
from labflow.testing._moves import REASON, Draw, Move, call, random_move
from labflow.testing._values import unit_lists


def first_allowed(lab: Lab, command: str, unit: object, *, avoid: object = None) -> str | None:
    """The first actor (by id) allowed to perform ``command`` for ``unit``, other than ``avoid``."""
    return next(
        (a for a in sorted(lab.actors) if a != avoid and permitted(lab, command, a, unit)), None
    )


def helpful_moves(lab: Lab, inn: Innovation) -> list[Move]:
    """The commands that would remove what stands between ``inn`` and its next stage.

    Only the innovation's own artefacts; what the lab needs (`cohort_moves`) is apart.
    """
    moves: list[Move] = []

    def add(command: str, method: str, *args: Any, by: str | None = None, **kw: Any) -> None:
        actor = by if by is not None else first_allowed(lab, command, inn.unit)
        if actor is not None:
            moves.append(call(lab, command, method, actor, inn.unit, *args, **kw))

    if not inn.active:
        add("reinstate", "reinstate", inn.id, reason=REASON)
        return moves
    verdict = lab.check(inn.id)
    stage = lab.policy.stage(inn.stage)
    if verdict.ok:
        add("advance", "advance", inn.id)
    codes = set(verdict.codes)
    # Past the agreement gate a signed agreement is binding: redrawing it is refused.
    binding = inn.agreement is not None and inn.agreement.complete and agreement_passed(lab, inn)
    if lab.policy.launches_at(stage.id) and inn.launch is None:
        codes.add("launch.missing")
    if "display" in stage.covers and inn.exhibit is None:
        codes.add("exhibit.missing")
    for code in sorted(codes):
        group = code.split(".")[0]
        if group == "diagnosis":
            good = Diagnosis("Antrian panjang", ("Prosedur manual", "SDM kurang", "Data tersebar"))
            add("record_diagnosis", "record_diagnosis", inn.id, good)
        elif group == "permission":
            add("grant_permission", "grant_permission", inn.id, reference="800/123/2016")
        elif code in ("action_plan.missing", "action_plan.too_few_steps") or (
            code == "action_plan.step_without_responsible"
        ):
            steps = [PlanStep(f"Langkah {i}", "Kepala Seksi", date(2016, 6, i)) for i in (1, 2, 3)]
            if inn.launch is None:
                by = innovator_of(inn.unit)
                if not permitted(lab, "submit_plan", by, inn.unit):
                    by = first_allowed(lab, "submit_plan", inn.unit) or by
                add("submit_plan", "submit_plan", inn.id, steps=steps, by=by)
        elif group == "action_plan" and inn.action_plan is not None:
            author = inn.action_plan.submitted_by
            head: str | None = head_of(inn.unit)
            if head == author or not permitted(lab, "approve_plan", head, inn.unit):
                head = first_allowed(lab, "approve_plan", inn.unit, avoid=author)
            done, approval = len(inn.action_plan.approvals), lab.policy.approval
            if done < len(approval):  # the policy's next approval step names who approves
                next_step = approval[done]
                head = next(
                    (
                        a.id
                        for a in sorted(lab.actors.values(), key=lambda a: a.id)
                        if a.id != author
                        and not a.roles.isdisjoint(next_step.roles)
                        and (not next_step.same_unit or a.unit == inn.unit)
                        and permitted(lab, "approve_plan", a.id, inn.unit)
                    ),
                    None,
                )
            if head is not None:
                add("approve_plan", "approve_plan", inn.id, by=head)
            elif inn.launch is None and author != innovator_of(inn.unit):
                # Only its author could approve it: the innovator submits it afresh.
                steps = [
                    PlanStep(f"Langkah {i}", "Kepala Seksi", date(2016, 6, i)) for i in (1, 2, 3)
                ]
                add("submit_plan", "submit_plan", inn.id, steps=steps, by=innovator_of(inn.unit))
        elif code in ("agreement.missing", "agreement.wrong_unit_head") and not binding:
            party = lab.policy.settings.agreement_counterparty
            heads = sorted(a.id for a in lab.actors.values() if party in a.roles)
            if heads:
                add(
                    "draw_up_agreement",
                    "draw_up_agreement",
                    inn.id,
                    regional_head=heads[0],
                    unit_head=head_of(inn.unit),
                )
        elif code.startswith("agreement.unsigned") and inn.agreement is not None:
            for party in (inn.agreement.regional_head, inn.agreement.unit_head):
                if not inn.agreement.signed_by(party):
                    add("sign_agreement", "sign_agreement", inn.id, by=party)
        elif code == "launch.missing" and lab.policy.launches_at(stage.id):
            add("record_launch", "record_launch", inn.id, ceremony="Peluncuran inovasi")
            actor = first_allowed(lab, "launch_cohort", None)
            if actor is not None and lab.policy.launches_at(lab.stage):
                moves.append(
                    call(lab, "launch_cohort", "launch_cohort", actor, None, ceremony="Peluncuran")
                )
        elif code == "agreement.review_overdue":
            add("review_agreement", "review_agreement", inn.id, finding="Sesuai target")
        elif group == "evidence":
            add("attach_evidence", "attach_evidence", inn.id, title="Laporan", reference="dok-1")
        elif code == "exhibit.missing" and "display" in stage.covers:
            held = {
                b.holder: (show.id, b.id)
                for show in lab.exhibitions.values()
                if show.open
                for b in show.booths.values()
            }
            if inn.unit in held:  # at its unit's booth of an open exhibition
                where, booth = held[inn.unit]
                add("register_exhibit", "register_exhibit", inn.id, exhibition=where, booth=booth)
            else:
                add(
                    "register_exhibit",
                    "register_exhibit",
                    inn.id,
                    event="Gelar Inovasi",
                    booth="A1",
                )
    return moves


def detours(lab: Lab) -> list[Move]:
    """Moves off the straight path: returns, withdrawals, redrafted agreements, replications."""
    moves: list[Move] = []
    for inn in sorted(lab.innovations.values(), key=lambda i: i.id):
        if not inn.active:
            continue
        index = lab.policy.index(inn.stage)
        actor = first_allowed(lab, "return", inn.unit)
        if index > 0 and actor is not None:
            back = lab.policy.stages[index - 1].id
            moves.append(
                call(lab, "return", "return_to", actor, inn.unit, inn.id, back, reason=REASON)
            )
        actor = first_allowed(lab, "draw_up_agreement", inn.unit)
        if inn.agreement is not None and inn.agreement.complete and actor is not None:
            # A fresh draft clears the signatures: fine before the agreement gate,
            # refused past it (a signed agreement is binding there).
            moves.append(
                call(
                    lab,
                    "draw_up_agreement",
                    "draw_up_agreement",
                    actor,
                    inn.unit,
                    inn.id,
                    regional_head=inn.agreement.regional_head,
                    unit_head=inn.agreement.unit_head,
                )
            )
        agreement = inn.agreement
        if agreement is not None and agreement.complete:
            # A review that calls for an amendment, the amendment, and then its signatures.
            actor = first_allowed(lab, "review_agreement", inn.unit)
            if actor is not None:
                moves.append(
                    call(
                        lab,
                        "review_agreement",
                        "review_agreement",
                        actor,
                        inn.unit,
                        inn.id,
                        finding="Target perlu disesuaikan",
                        outcome="amend",
                    )
                )
            actor = first_allowed(lab, "amend_agreement", inn.unit)
            if actor is not None and agreement.amendment_called:
                moves.append(
                    call(
                        lab,
                        "amend_agreement",
                        "amend_agreement",
                        actor,
                        inn.unit,
                        inn.id,
                        terms="Target kinerja disesuaikan",
                    )
                )
        elif agreement is not None and agreement.version > 1:
            for party in (agreement.regional_head, agreement.unit_head):
                if not agreement.signed_by(party):
                    moves.append(
                        call(lab, "sign_agreement", "sign_agreement", party, inn.unit, inn.id)
                    )
        actor = first_allowed(lab, "withdraw", inn.unit)
        if actor is not None:
            moves.append(call(lab, "withdraw", "withdraw", actor, inn.unit, inn.id, reason=REASON))
        others = [u for u in sorted(lab.units) if u != inn.unit]
        if inn.launch is not None and others:
            by = innovator_of(others[0])
            moves.append(
                call(
                    lab,
                    "replicate",
                    "replicate",
                    by,
                    others[0],
                    f"replika-{len(lab.innovations) + 1}",
                    origin=inn.id,
                    unit=others[0],
                    adaptation="disesuaikan dengan kondisi desa dan warga",
                )
            )
    moves.extend(exhibition_moves(lab))
    moves.extend(monev_moves(lab))
    return moves


#: The exhibition the driver opens at the exhibition stage.
SHOW = "pameran"


def monev_moves(lab: Lab) -> list[Move]:
    """A monev record for each launched innovation, by someone allowed to record it."""
    moves: list[Move] = []
    for inn in sorted(lab.innovations.values(), key=lambda i: i.id):
        actor = first_allowed(lab, "record_monev", inn.unit)
        if inn.active and inn.launch is not None and actor is not None:
            moves.append(
                call(
                    lab,
                    "record_monev",
                    "record_monev",
                    actor,
                    inn.unit,
                    inn.id,
                    period=f"Periode {len(inn.history)}",
                    indicators={"pengguna": len(inn.history)},
                    findings="Layanan berjalan",
                )
            )
    return moves


def exhibition_moves(lab: Lab) -> list[Move]:
    """At the exhibition stage: open an exhibition, give each unit a booth, bring an outside
    exhibitor, exhibit innovations at their unit's booth."""
    moves: list[Move] = []
    stage = exhibit_stage(lab.policy)
    secretariat = first_allowed(lab, "open_exhibition", None)
    if stage is None or secretariat is None:
        return moves
    if lab.policy.index(lab.stage) < lab.policy.index(stage):
        return moves
    open_ = [s for s in lab.exhibitions.values() if s.open]
    if not open_:
        if SHOW not in lab.exhibitions:
            moves.append(
                call(
                    lab,
                    "open_exhibition",
                    "open_exhibition",
                    secretariat,
                    None,
                    SHOW,
                    name="Pameran Inovasi",
                    venue="Pendopo",
                    starts=date(2016, 12, 21),
                    ends=date(2016, 12, 22),
                )
            )
        return moves
    show = open_[0]
    held = {b.holder: b.id for b in show.booths.values()}
    for unit in sorted(lab.units):
        if unit not in held:
            moves.append(
                call(
                    lab,
                    "add_booth",
                    "add_booth",
                    secretariat,
                    None,
                    show.id,
                    booth=f"Stan {unit}",
                    holder=unit,
                )
            )
    if "pt-swasta" not in show.exhibitors:
        exhibitor = Exhibitor("pt-swasta", "PT Swasta", "private")
        moves.append(
            call(
                lab,
                "register_exhibitor",
                "register_exhibitor",
                secretariat,
                None,
                show.id,
                exhibitor=exhibitor,
            )
        )
    for inn in sorted(lab.innovations.values(), key=lambda i: i.id):
        actor = first_allowed(lab, "register_exhibit", inn.unit)
        if inn.exhibit is None and inn.stage == stage and inn.unit in held and actor:
            moves.append(
                call(
                    lab,
                    "register_exhibit",
                    "register_exhibit",
                    actor,
                    inn.unit,
                    inn.id,
                    exhibition=show.id,
                    booth=held[inn.unit],
                )
            )
    return moves


def registration(lab: Lab, unit: str, draw: Draw) -> Move:
    """Register a fresh innovation in ``unit``, by its innovator if the policy lets them."""
    by = innovator_of(unit)
    if not permitted(lab, "register", by, unit):
        by = first_allowed(lab, "register", unit) or SECRETARIAT
    return call(
        lab,
        "register",
        "register",
        by,
        unit,
        f"inovasi-{len(lab.innovations) + 1}",
        title=f"Inovasi {unit}",
        unit=unit,
        innovators=["Tim Inovasi"],
        problem="Layanan lambat",
        initiator=draw(st.sampled_from(sorted(lab.policy.settings.initiators))),
    )


def cast_moves(lab: Lab) -> list[Move]:
    """Bring back the `roster` cast where random commands broke it.

    A unit added mid-run has no head or innovator yet, and ``set_roles`` may have
    stripped someone of the role their part needs; either stalls the cohort for good.
    """
    moves: list[Move] = []
    for actor in roster(lab.policy, list(lab.units.values())):
        present = lab.actors.get(actor.id)
        if present is None:
            by = first_allowed(lab, "add_actor", None)
            if by is not None:
                moves.append(call(lab, "add_actor", "add_actor", by, None, actor))
        elif present.roles != actor.roles and present.unit == actor.unit:
            by = first_allowed(lab, "set_roles", None)
            if by is not None:
                roles = sorted(actor.roles)
                moves.append(call(lab, "set_roles", "set_roles", by, None, actor.id, roles))
    return moves


def cohort_moves(lab: Lab, draw: Draw) -> list[Move]:
    """What would let the lab leave its stage: `advance_lab`, or fixes for its cohort conditions.

    A unit the conditions find short gets the moves that carry its own innovations
    forward (a withdrawn one is reinstated), or a registration if it has none -- or
    always, when it is short of innovations per official ("one official, one
    innovation"). A condition that names no unit gets a registration anywhere.
    A broken cast (`cast_moves`) is mended first.
    """
    repairs = cast_moves(lab)
    if repairs:
        return repairs
    verdict = lab.check_lab()
    if verdict.ok:
        actor = first_allowed(lab, "advance_lab", None)
        return [call(lab, "advance_lab", "advance_lab", actor, None)] if actor else []
    moves: list[Move] = []
    for item in verdict.unmet:
        if item.code == "stage.final":
            continue
        short = item.data.get("units")
        if not isinstance(short, list) or not short:
            short = sorted(lab.units)
        for unit in short:
            own = [i for i in lab.innovations.values() if i.unit == unit]
            if not any(i.active for i in own) or item.code == "cohort.officials_short":
                moves.append(registration(lab, str(unit), draw))
            for inn in sorted(own, key=lambda i: i.id):
                moves.extend(helpful_moves(lab, inn))
    return moves


def guided_move(lab: Lab, draw: Draw) -> Move:
    """A command that answers what blocks progress, so that short runs reach the later stages.

    Like a facilitator working down a list: pick one innovation (or the lab itself),
    read what stands between it and its next stage, and do one of the things that
    would remove it -- record the diagnosis, get the plan approved, sign, launch,
    move the lab on when the cohort is ready. A unit with nothing entered gets a
    registration first; now and then a detour (a return, a withdrawal, a
    replication) or a fresh registration keeps the paths varied.
    """
    empty = [u for u in sorted(lab.units) if not any(i.unit == u for i in lab.innovations.values())]
    # Draws of 0 -- where Hypothesis starts and shrinks to -- make progress.
    if empty and draw(st.integers(0, 3)) < 3:
        return registration(lab, draw(st.sampled_from(empty)), draw)
    roll = draw(st.integers(0, 15))
    if roll < 14:
        focus = draw(st.sampled_from([None, *sorted(lab.innovations)]))
        moves = helpful_moves(lab, lab.innovations[focus]) if focus is not None else []
        if focus is None or not moves or "lab.behind" in lab.check(focus).codes:
            moves.extend(cohort_moves(lab, draw))
        if focus is None:  # the lab's own work includes its exhibition and the monev rounds
            moves.extend(exhibition_moves(lab))
    elif roll == 14:
        moves = [registration(lab, draw(st.sampled_from(sorted(lab.units))), draw)]
    else:
        moves = detours(lab)
    if not moves:  # the focus is done: help anyone else before taking a detour
        for inn in sorted(lab.innovations.values(), key=lambda i: i.id):
            moves.extend(helpful_moves(lab, inn))
        moves.extend(cast_moves(lab))
    if not moves:
        moves = detours(lab)
    if not moves:
        return random_move(lab, draw)
    return draw(st.sampled_from(moves))  # type: ignore[no-any-return]


# --- Labs at a random point of their life -----------------------------------------------------


@functools.cache
def _preset(name: str) -> Policy:
    return load_policy(name)


def _policy_strategy(policy: Policy | str | None) -> st.SearchStrategy[Policy]:
    if isinstance(policy, Policy):
        return st.just(policy)
    if isinstance(policy, str):
        return st.just(_preset(policy) if policy in available_presets() else load_policy(policy))
    return st.sampled_from(available_presets()).map(_preset)


def labs(
    policy: Policy | str | None = None,
    *,
    units: Sequence[Unit] | None = None,
    max_commands: int = 80,
    start: datetime = START,
) -> st.SearchStrategy[Lab]:
    """A `labflow.Lab` at a random point of its life, often far into it.

    The lab is opened on ``policy`` (a `Policy`, a preset name or a path;
    default: any bundled preset) with ``units`` (default: 1-3 drawn units) and
    the `roster` cast, then driven by up to ``max_commands`` commands. Three in
    four are moves that answer what blocks progress (see `guided_move`): read an
    innovation's verdict or the lab's cohort conditions and record the missing
    artefact, sign, launch, move on. The rest are anything by anyone, mostly
    refused. So a good share of the labs reach deliver, display and (where the
    policy has it) documentation on every bundled preset; ``tests/test_variants.py``
    measures how many. Its clock is a `StepClock` from ``start``, so the same draw
    always gives the same lab, hashes included.
    """
    if type(max_commands) is not int or max_commands < 0:
        raise InvalidCommand(f"labs() needs max_commands >= 0, not {max_commands}.")

    @st.composite
    def build(draw: Draw) -> Lab:
        # The length first: drawn after the units, Hypothesis favours empty runs.
        length = draw(st.integers(0, max_commands))
        chosen = draw(_policy_strategy(policy))
        members = list(units) if units is not None else draw(unit_lists(max_size=3, policy=chosen))
        lab = Lab.create(
            chosen,
            id=LAB_ID,
            region=REGION,
            by=SECRETARIAT,
            units=members,
            actors=roster(chosen, members),
            clock=StepClock(start),
        )
        for _ in range(length):
            guided = draw(st.integers(0, 3)) < 3
            move = guided_move(lab, draw) if guided else random_move(lab, draw)
            with contextlib.suppress(CommandError):
                move.run()
        return lab

    return build()
