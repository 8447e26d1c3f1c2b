"""A region's cohort from CSV: its units, its ideas and its people, as a secretariat keeps them.

Secretariats keep the cohort in a spreadsheet, and a spreadsheet exports CSV. This
module reads that CSV into labflow records -- for the ``labflow`` command, for
the sample cohorts of ``labflow demo``, and for a host importing a spreadsheet --
and refuses a malformed file whole, with one `DocumentError` listing every
problem at ``FILE:LINE:COLUMN`` (``units.csv:4:kind: 'dinas' is not a unit kind
...``), or ``FILE:LINE`` when the whole row is wrong. Nothing is half-read.

The format, one table per file, a header row first:

- units: ``id,name,kind``;
- ideas: ``id,title,unit,innovators,problem`` and optionally ``initiator``
  (default ``asn``), innovators separated by ``;``;
- actors: ``id,name,roles`` and optionally ``unit``, roles separated by ``;``.

Other columns are kept in `IdeaRow.extra` (a policy's attributes -- jenis, bentuk, ... --
are registered from them; the sample cohorts also keep a ``source`` column); the
order of columns does not matter. Values are trimmed; blank rows (a
spreadsheet's trailing ``,,,`` included) are skipped; a leading byte-order mark
is dropped. Ids follow labflow's one identifier rule and every other cell its one
free-text rule (`labflow.Lab` commands apply the same), so a cell holding an escape
sequence or a bidi override is refused here, not later. A file longer than
``MAX_CSV_BYTES`` characters is refused unread, and at most ``MAX_PROBLEMS`` problems are
collected, the last saying how many more there were (``docs/limits.md``). What a row
*means* -- whether a unit exists, whether a role is one of the policy's -- is for the
lab to judge when the rows are used.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs

from labflow._attributes import values_from_text
from labflow._limits import MAX_CSV_BYTES, MAX_PROBLEMS
from labflow._text import ident_problem, text_problem
from labflow.errors import DocumentError, Problem
from labflow.model import Actor, Initiator, Unit, UnitKind
from labflow.policy import Policy

__all__ = [
    "IDEA_COLUMNS",
    "IdeaRow",
    "read_actors",
    "read_innovations",
    "read_units",
]

_BOM: Final = "\ufeff"


@attrs.frozen
class IdeaRow:
    """One idea of an innovations CSV: what `labflow.Lab.register` needs to register it."""

    id: str
    title: str
    unit: str
    innovators: tuple[str, ...]
    initiator: Initiator
    problem: str
    #: the row's other non-empty columns by name (a policy's attributes: jenis, bentuk, ...)
    extra: Mapping[str, str] = attrs.field(factory=dict)

    def attributes(self, policy: Policy) -> dict[str, Any]:
        """The row's values of the attributes ``policy`` declares, typed as it declares them
        (pass them to `Lab.register`); other columns are left out."""
        return values_from_text(policy.attributes, self.extra)


#: The columns an innovations CSV gives meaning to; any other is kept in `IdeaRow.extra`.
IDEA_COLUMNS: Final = ("id", "title", "unit", "innovators", "initiator", "problem")


@attrs.frozen
class _Row:
    """One data row: its first line in the file, and its values by column name."""

    line: int
    values: dict[str, str]


class _Table:
    """The rows of one CSV, and the problems found so far with their ``FILE:LINE:COLUMN``."""

    def __init__(self, text: object, source: str, required: Sequence[str], kind: str) -> None:
        self.source = source
        self.kind = kind
        self.problems: list[tuple[int, Problem]] = []
        self.more = 0  # problems found past MAX_PROBLEMS: counted, not kept
        self.rows: list[_Row] = []
        if not isinstance(text, str):
            self.problem(1, None, f"expected the file's text, not {type(text).__name__}")
        elif len(text) > MAX_CSV_BYTES:
            self.problem(1, None, f"is larger than {MAX_CSV_BYTES} characters")
        else:
            self._read(text[1:] if text.startswith(_BOM) else text, required)

    def problem(self, row: _Row | int, column: str | None, message: str) -> None:
        if len(self.problems) >= MAX_PROBLEMS - 1:
            self.more += 1
            return
        line = row.line if isinstance(row, _Row) else row
        where = f"{self.source}:{line}" + (f":{column}" if column else "")
        self.problems.append((line, Problem(where, message)))

    def _read(self, text: str, required: Sequence[str]) -> None:
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            header = [name.strip() for name in next(reader, [])]
            if not any(header):
                self.problem(1, None, f"there is no header row (expected {','.join(required)})")
                return
            missing = [c for c in required if c not in header]
            if missing:
                self.problem(1, None, f"missing column(s) {', '.join(missing)}")
            twice = sorted({c for c in header if c and header.count(c) > 1})
            if twice:
                self.problem(1, None, f"the column(s) {', '.join(twice)} appear more than once")
            if missing or twice:
                return
            start = reader.line_num + 1
            for record in reader:
                self._record(start, header, record)
                start = reader.line_num + 1
        except csv.Error as exc:  # a NUL byte, a field over the size limit, ...
            self.problem(reader.line_num or 1, None, f"is not readable as CSV ({exc})")

    def _record(self, line: int, header: list[str], record: list[str]) -> None:
        # A line break inside a quoted cell is a spreadsheet's CRLF: kept as a plain newline,
        # the only line break the text rule allows.
        cells = [cell.replace("\r\n", "\n").strip() for cell in record]
        if not any(cells):
            return  # a blank row
        if len(cells) > len(header) and not any(cells[len(header) :]):
            cells = cells[: len(header)]  # trailing empty cells a spreadsheet added
        if len(cells) != len(header):
            self.problem(
                line, None, f"the row has {len(cells)} fields; the header has {len(header)}"
            )
            return
        self.rows.append(_Row(line, dict(zip(header, cells, strict=True))))

    def ident(self, row: _Row, column: str, seen: set[str] | None, what: str) -> str:
        """The row's id in ``column``: an identifier, not seen before (when ``seen`` is kept)."""
        value = row.values[column]
        problem = ident_problem(value)
        if problem is not None:
            self.problem(row, column, f"the {what} id {_shown(value)} {problem}")
        elif seen is not None and value in seen:
            self.problem(row, column, f"the {what} {value!r} appears twice")
        if seen is not None:
            seen.add(value)
        return value

    def text(self, row: _Row, column: str, what: str, *, empty: bool = False) -> str:
        """The row's value in ``column``: a free text, not empty unless ``empty``."""
        value = row.values[column]
        problem = text_problem(value)
        if problem is not None:
            self.problem(row, column, f"the {what} {problem}")
        elif not value and not empty:
            self.problem(row, column, f"the {what} is empty")
        return value

    def parts(self, row: _Row, column: str, what: str, *, ident: bool = False) -> tuple[str, ...]:
        """The ``;``-separated parts of the row's value in ``column``, each checked."""
        parts = _split(row.values[column])
        for part in parts:
            problem = ident_problem(part) if ident else text_problem(part)
            if problem is not None:
                self.problem(row, column, f"the {what} {_shown(part)} {problem}")
                break
        return parts

    def done(self) -> None:
        """Raise the problems found, in the order of their lines, if there are any."""
        if self.problems:
            ordered = sorted(self.problems, key=lambda found: found[0])  # stable within a line
            found = [problem for _, problem in ordered]
            if self.more:
                found.append(Problem(self.source, f"... and {self.more} more problems"))
            raise DocumentError(found, kind=self.kind)


def _shown(value: str) -> str:
    """A cell quoted for a message: short, and with nothing a terminal would obey."""
    return repr(value if len(value) <= 60 else value[:57] + "...")


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(";") if part.strip())


def read_units(text: str, source: str = "units.csv") -> list[Unit]:
    """Units from CSV (``id,name,kind``); `DocumentError` listing every bad row and cell.

    ``source`` names the file in the problems' paths.
    """
    table = _Table(text, source, ("id", "name", "kind"), "units CSV")
    units: list[Unit] = []
    seen: set[str] = set()
    for row in table.rows:
        ident = table.ident(row, "id", seen, "unit")
        name = table.text(row, "name", "unit's name")
        try:
            kind = UnitKind(row.values["kind"])
        except ValueError:
            allowed = ", ".join(k.value for k in UnitKind)
            table.problem(row, "kind", f"{row.values['kind']!r} is not a unit kind ({allowed})")
            continue
        units.append(Unit(ident, name, kind))
    table.done()
    return units


def read_innovations(text: str, source: str = "innovations.csv") -> list[IdeaRow]:
    """Ideas from CSV (``id,title,unit,innovators,initiator,problem``); `DocumentError` if bad.

    Innovators are separated by ``;``; ``initiator`` may be left out (``asn``).
    ``source`` names the file in the problems' paths.
    """
    table = _Table(text, source, ("id", "title", "unit", "innovators", "problem"), "ideas CSV")
    ideas: list[IdeaRow] = []
    seen: set[str] = set()
    for row in table.rows:
        ident = table.ident(row, "id", seen, "innovation")
        title = table.text(row, "title", "title")
        unit = table.ident(row, "unit", None, "unit")
        problem = table.text(row, "problem", "problem")
        innovators = table.parts(row, "innovators", "innovator")
        if not innovators:
            table.problem(row, "innovators", "no innovator is named")
        raw = row.values.get("initiator") or Initiator.ASN.value
        try:
            initiator = Initiator(raw)
        except ValueError:
            allowed = ", ".join(i.value for i in Initiator)
            table.problem(row, "initiator", f"{raw!r} is not an initiator ({allowed})")
            continue
        extra = {k: v for k, v in row.values.items() if k not in IDEA_COLUMNS and v}
        ideas.append(IdeaRow(ident, title, unit, innovators, initiator, problem, extra))
    table.done()
    return ideas


def read_actors(text: str, source: str = "actors.csv") -> list[Actor]:
    """Actors from CSV (``id,name,roles,unit``); `DocumentError` listing every bad row and cell.

    Roles are separated by ``;``; ``unit`` may be empty or left out (an actor of
    no unit, such as the secretariat). Whether the roles are the policy's is for
    the lab to judge. ``source`` names the file in the problems' paths.
    """
    table = _Table(text, source, ("id", "name", "roles"), "actors CSV")
    actors: list[Actor] = []
    seen: set[str] = set()
    for row in table.rows:
        ident = table.ident(row, "id", seen, "actor")
        name = table.text(row, "name", "actor's name")
        roles = table.parts(row, "roles", "role", ident=True)
        if not roles:
            table.problem(row, "roles", "the actor has no role")
        unit = table.ident(row, "unit", None, "unit") if row.values.get("unit") else None
        actors.append(Actor(ident, name, set(roles), unit))
    table.done()
    return actors
