"""What a lab shows at an exhibition: its booths, who holds each, and what each shows.

Private; `labflow.views.exhibition` and `labflow.reports.exhibition` are the public names.
A booth's lab innovations are those whose exhibit names it, so the view is computed from
the innovations at the moment it is asked, never stored twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from labflow._exhibitions import exhibitions_of
from labflow.errors import InvalidCommand, NotFound

if TYPE_CHECKING:
    from labflow.lab import Lab

__all__ = ["BoothView", "ExhibitionView", "exhibition_report", "exhibition_view"]


@attrs.frozen
class BoothView:
    """One booth: its holder (a unit of the lab or an outside exhibitor) and what it shows."""

    id: str
    holder: str
    holder_name: str
    holder_kind: str
    outside: bool  #: held by an exhibitor from outside government (no lab lifecycle)
    innovations: tuple[str, ...]  #: the lab's innovations exhibited at it
    showcases: tuple[str, ...]  #: what it shows besides, by title
    services: tuple[str, ...]  #: the live services offered at it


@attrs.frozen
class ExhibitionView:
    """An exhibition of the lab: when and where, open or closed, and every booth."""

    id: str
    name: str
    venue: str
    starts: str  #: ISO date
    ends: str  #: ISO date
    open: bool
    booths: tuple[BoothView, ...]
    #: innovations launched at it
    launched: tuple[str, ...]


def exhibition_view(lab: Lab, exhibition: str) -> ExhibitionView:
    """The exhibition ``exhibition`` of ``lab`` and its booths, in the order they were added."""
    given: object = exhibition  # a host's value, typed or not
    show = exhibitions_of(lab).get(exhibition) if isinstance(given, str) else None
    if show is None:
        raise NotFound("exhibition", str(exhibition)[:60], where=f"lab {lab.id!r}")
    at: dict[str, list[str]] = {}
    launched = []
    for inn in lab.innovations.values():
        ex = inn.exhibit
        if ex is not None and ex.exhibition == show.id:
            at.setdefault(ex.booth, []).append(inn.id)
        if inn.launch is not None and inn.launch.exhibition == show.id:
            launched.append(inn.id)
    booths = []
    for booth in show.booths.values():
        unit = lab.units.get(booth.holder)
        if unit is not None:
            name, kind, outside = unit.name, unit.kind.value, False
        else:
            exhibitor = show.exhibitors[booth.holder]
            name, kind, outside = exhibitor.name, exhibitor.kind.value, True
        booths.append(
            BoothView(
                booth.id,
                booth.holder,
                name,
                kind,
                outside,
                tuple(sorted(at.get(booth.id, ()))),
                booth.showcases,
                booth.services,
            )
        )
    return ExhibitionView(
        show.id,
        show.name,
        show.venue,
        show.starts.isoformat(),
        show.ends.isoformat(),
        show.open,
        tuple(booths),
        tuple(sorted(launched)),
    )


def exhibition_report(lab: Lab, exhibition: str, lang: str = "en") -> str:
    """The exhibition as a secretariat lists it: each booth, its holder, what it shows."""
    if lang not in ("en", "id"):
        raise InvalidCommand(
            f"A report is written in 'en' or 'id', not {str(lang)[:20]!r}.",
            f"Laporan ditulis dalam 'en' atau 'id', bukan {str(lang)[:20]!r}.",
            code="input.lang",
        )
    view = exhibition_view(lab, exhibition)
    id_ = lang == "id"
    state = ("dibuka" if view.open else "ditutup") if id_ else ("open" if view.open else "closed")
    lines = [
        f"{view.name} ({view.venue}, {view.starts} - {view.ends}; {state})",
        (f"{len(view.booths)} stan" if id_ else f"{len(view.booths)} booths"),
    ]
    for booth in view.booths:
        who = f"{booth.holder_name} [{booth.holder_kind}]"
        if booth.outside:
            who += " (peserta luar pemerintah)" if id_ else " (outside exhibitor)"
        lines.append(f"  {booth.id}: {who}")
        shown = [lab.innovation(i).title for i in booth.innovations] + list(booth.showcases)
        if shown:
            lines.append(f"    {'menampilkan' if id_ else 'shows'}: {'; '.join(shown)}")
        if booth.services:
            lines.append(f"    {'layanan' if id_ else 'services'}: {'; '.join(booth.services)}")
    if view.launched:
        titles = "; ".join(lab.innovation(i).title for i in view.launched)
        lines.append(f"{'diluncurkan di pameran' if id_ else 'launched there'}: {titles}")
    return "\n".join(lines)
