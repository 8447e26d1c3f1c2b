"""What the ``labflow`` command writes: messages, tables, JSON and progress, drawn by Rich.

Kept apart from `labflow.cli`, which parses arguments and runs commands, so that the
command's code reads as what it does and this module as how it looks. Rich (the ``cli``
extra) is imported here only, and only when something is drawn: ``import labflow`` and
``labflow --help`` never load it.

Every write goes through `Output`, which makes any text safe to show: a user's value is
passed through `printable` (control characters, bidi overrides and undecodable bytes
become visible escapes, so a title cannot move the cursor or recolour the terminal), and
a character the stream's encoding lacks is escaped, so printing never fails. Tables fit
the terminal's width by wrapping cells, never rows; colour is used only on a terminal and
never when ``NO_COLOR`` is set. When standard output is not a terminal, rows are not
wrapped at all (unless ``COLUMNS`` says otherwise), so ``grep`` sees one line per row.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TextIO, TypeVar

from labflow._cli._catalogue import message
from labflow._text import printable as printable

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

T = TypeVar("T")

#: The width used when standard output is a pipe or a file and ``COLUMNS`` is unset.
UNBOUNDED: Final = 10_000


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def safe_message(key: str, lang: str, /, **params: Any) -> str:
    """The catalogue's message ``key`` in ``lang``, every text parameter made `printable`."""
    return message(
        key, lang, **{k: printable(v) if isinstance(v, str) else v for k, v in params.items()}
    )


def write(stream: TextIO, text: str) -> None:
    """Write ``text`` to ``stream``, whatever its encoding: what it cannot encode is escaped.

    Only what cannot be written at all is changed here (a document written by ``export``
    must stay byte for byte what it is); a user's values are made `printable` where
    they enter a message or a cell.
    """
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: the bytes of an argument that was not UTF-8
            text = re.sub("[\ud800-\udfff]", _escape, text)
    try:
        stream.write(text)
    except UnicodeEncodeError:  # a stream in a legacy encoding (cp1252, ASCII)
        encoding = getattr(stream, "encoding", None) or "ascii"
        stream.write(text.encode(encoding, "backslashreplace").decode(encoding))


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def colour_wanted(stream: TextIO) -> bool:
    """Colour on a terminal only, and never with ``NO_COLOR`` set or ``TERM=dumb``."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return _is_terminal(stream)


def width_of(stream: TextIO) -> int:
    """The columns to fit: the terminal's, else ``COLUMNS``, else unbounded (a pipe)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) >= 20:
        return int(columns)
    if _is_terminal(stream):
        return shutil.get_terminal_size().columns
    return UNBOUNDED


class Output:
    """Where the command writes: tables or JSON on stdout; progress, notes and errors on stderr.

    ``lang`` picks the catalogue's language for every message, label and table head.
    """

    def __init__(
        self,
        lang: str,
        as_json: bool,
        stdout: TextIO,
        stderr: TextIO,
        *,
        width: int | None = None,
        colour: bool | None = None,
    ) -> None:
        self.lang = lang
        self.as_json = as_json
        self.out = stdout
        self.err = stderr
        self.width = width if width is not None else width_of(stdout)
        self.colour = colour_wanted(stdout) if colour is None else colour
        self.err_colour = colour_wanted(stderr) if colour is None else colour

    # --- words ----------------------------------------------------------------------------

    def t(self, key: str, /, **params: Any) -> str:
        """The catalogue's message ``key`` in this output's language, ``params`` filled in."""
        return safe_message(key, self.lang, **params)

    def word(self, key: str) -> str:
        """A label or table head from the catalogue (``word.<key>``)."""
        return message(f"word.{key}", self.lang)

    # --- drawing --------------------------------------------------------------------------

    def _render(self, renderable: RenderableType, *, colour: bool, width: int) -> str:
        from rich.console import Console

        buffer = io.StringIO()
        console = Console(
            file=buffer,
            width=width,
            color_system="standard" if colour else None,
            force_terminal=colour,
            no_color=not colour,
            markup=False,
            highlight=False,
            emoji=False,
            legacy_windows=False,
        )
        console.print(renderable, soft_wrap=width == UNBOUNDED)
        if colour:
            return buffer.getvalue()
        # Rich pads cells to their column's width; a line's trailing blanks are noise.
        return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())

    def _styled(self, text: str, style: str | None) -> RenderableType:
        from rich.text import Text

        return Text(text, style=style or "")

    def say(self, text: str = "", *, style: str | None = None) -> None:
        """A line (or lines) on standard output, wrapped to the width, in ``style`` if coloured."""
        if not text or (self.width == UNBOUNDED and (style is None or not self.colour)):
            write(self.out, text + "\n")
            return
        styled = self._styled(text, style if self.colour else None)
        write(self.out, self._render(styled, colour=self.colour, width=self.width))

    def raw(self, text: str) -> None:
        """``text`` on standard output (a document, a CSV), ending with a newline.

        A control character that reached a stored value is written as ``\\u001b``: inside
        a JSON string that is the same character, and nothing written can drive a terminal.
        """
        text = printable(text)
        write(self.out, text if text.endswith("\n") else text + "\n")

    def note(self, text: str, *, style: str | None = None) -> None:
        """A line on standard error: what a script reading standard output should not get."""
        if style is None or not self.err_colour:
            write(self.err, text + "\n")
            return
        write(self.err, self._render(self._styled(text, style), colour=True, width=UNBOUNDED))

    def json(self, data: Any) -> None:
        write(self.out, json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")

    def table(
        self,
        title: str | None,
        headers: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        numeric: Iterable[int] = (),
        wide: Iterable[int] | Mapping[int, int] = (),
        keep: Iterable[int] = (0,),
        header: bool = True,
    ) -> None:
        """A table that fits the width: cells wrap at words, rows never do.

        ``numeric`` columns are right-aligned and, like the ``keep`` columns (ids;
        the first by default), never broken; ``wide`` columns (sentences) take the
        room the others leave (a mapping gives each its share: ``{2: 1, 3: 2}``).
        """
        from rich import box
        from rich.table import Table
        from rich.text import Text

        ratio = dict(wide) if isinstance(wide, Mapping) else dict.fromkeys(wide, 1)
        right, whole = set(numeric), set(keep) | set(numeric)
        grid = Table(
            title=Text(printable(title), style="bold") if title else None,
            title_justify="left",
            box=box.SIMPLE_HEAD,
            header_style="bold",
            show_edge=False,
            pad_edge=False,
            collapse_padding=True,
            show_header=header,
        )
        for index, head in enumerate(headers):
            grid.add_column(
                head,
                justify="right" if index in right else "left",
                overflow="ellipsis" if index in whole else "fold",
                no_wrap=index in whole,
                ratio=ratio.get(index),
            )
        for row in rows:
            grid.add_row(*(Text(printable(str(cell))) for cell in row))
        if ratio and self.width != UNBOUNDED:
            # Shares of the room apply to a table that fills the width; fill it only
            # when the table would not fit as it is.
            from rich.console import Console

            measure = Console(width=UNBOUNDED, file=io.StringIO()).measure(grid)
            grid.expand = measure.maximum > self.width
        write(self.out, self._render(grid, colour=self.colour, width=self.width))

    def lines(self, title: str, groups: Mapping[str, Sequence[str]]) -> None:
        """A titled list of groups, each ``label: item, item, ...`` wrapped to the width."""
        from rich.text import Text

        text = Text(printable(title), style="bold")
        for label, items in groups.items():
            text.append("\n  ")
            text.append(printable(label), style="cyan")
            text.append(f" ({len(items)}): ")
            text.append(printable(", ".join(items)))
        write(self.out, self._render(text, colour=self.colour, width=self.width))

    # --- long work ------------------------------------------------------------------------

    def _live_console(self) -> Console | None:
        if not _is_terminal(self.err):
            return None
        from rich.console import Console

        return Console(file=self.err, no_color=not self.err_colour, highlight=False)

    def progress(self, label: str, items: Sequence[T]) -> Iterator[T]:
        """Yield ``items``, drawing a bar with rate and time left on stderr when it is a terminal.

        The bar moves when the loop around it comes back for the next item, so it
        reaches its end when the last item's work (its commit included) is done.
        """
        console = self._live_console()
        if console is None or not items:
            yield from items
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        per_second = self.word("per_second")
        with Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}", markup=False),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
        ) as bar:
            task = bar.add_task(printable(label), total=len(items), rate="")
            for item in items:
                yield item
                speed = bar.tasks[0].speed
                rate = f"{speed:.0f}{per_second}" if speed else ""  # no separator: 1234/s
                bar.update(task, advance=1, rate=rate)

    @contextlib.contextmanager
    def status(self, label: str) -> Iterator[None]:
        """Show ``label`` with a spinner on stderr (a terminal only) while a step runs.

        For work that reports only when done -- the store verifies in worker
        processes -- a bar would be a guess; this says what is running, and is
        wiped when it ends.
        """
        console = self._live_console()
        if console is None:
            yield
            return
        from rich.text import Text

        with console.status(Text(printable(label))):
            yield
