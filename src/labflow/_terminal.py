"""What the ``labflow`` command writes: words in two languages, tables, JSON, progress.

Kept apart from `labflow.cli`, which parses arguments and runs commands, so that
the command's code reads as what it does and this module as how it looks. Every
write goes through `Output`, which makes any text writable and harmless: a control
character (ESC, BEL, C1, a bidi override) is shown as an escape (``\\u001b``) so user
text can never drive the terminal, an argument that was not valid UTF-8 (Python keeps
its bytes as lone surrogates) is shown as ``\\xff``, and a character the stream's
encoding lacks is escaped, so printing never fails.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Final, TextIO, TypeVar

from labflow import _text as _rules

if TYPE_CHECKING:
    from labflow.lab import Lab
    from labflow.reports import Report

T = TypeVar("T")

WORDS: Final[dict[str, tuple[str, str]]] = {
    # key: (English, Indonesian)
    "innovation": ("Innovation", "Inovasi"),
    "unit": ("Unit", "Unit"),
    "kind": ("Kind", "Jenis"),
    "stage": ("Stage", "Tahap"),
    "status": ("Status", "Status"),
    "launched": ("Launched", "Diluncurkan"),
    "version": ("Version", "Versi"),
    "reasons": ("Reasons", "Alasan"),
    "next": ("Next", "Berikutnya"),
    "total": ("Total", "Jumlah"),
    "reached": ("At or past", "Sampai/lewat"),
    "withdrawn": ("Withdrawn", "Ditarik"),
    "funnel": ("Funnel by stage and unit kind", "Corong per tahap dan jenis unit"),
    "blocked": ("Blocked innovations", "Inovasi yang tertahan"),
    "none_blocked": ("No innovation is blocked.", "Tidak ada inovasi yang tertahan."),
    "verified": ("histories verified", "riwayat terverifikasi"),
    "verifying": ("Verifying every history", "Memverifikasi setiap riwayat"),
    "events": ("events", "peristiwa"),
    "database": ("Database", "Basis data"),
    "seq": ("#", "#"),
    "at": ("At", "Waktu"),
    "actor": ("Actor", "Pelaku"),
    "event": ("Event", "Peristiwa"),
    "details": ("Details", "Rincian"),
    "hash": ("Hash", "Hash"),
    "overdue": ("Overdue", "Terlambat"),
    "deadline": ("Deadline", "Batas waktu"),
    "compliance": ("Units with no innovation at or past", "Unit tanpa inovasi pada/lewat tahap"),
    "recorded": ("Recorded", "Tercatat"),
    "lab": ("Lab", "Laboratorium"),
    "policy": ("Policy", "Kebijakan"),
    "region": ("Region", "Daerah"),
    "ready": ("can move on", "dapat maju"),
    "took": ("took", "selesai dalam"),
    "yes": ("yes", "ya"),
    "no": ("no", "tidak"),
}


def _escape(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with lone surrogates (undecodable bytes of an argument) shown as escapes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join(_escape(c) if "\ud800" <= c <= "\udfff" else c for c in text)
    return text


def write(stream: TextIO, text: str) -> None:
    """Write ``text`` to ``stream``, whatever its encoding: what it cannot encode is escaped.

    Every non-printable character but newline and tab is escaped first (the text rule
    keeps control characters out of a lab; this is the second line of defence).
    """
    text = _rules.printable(text)
    try:
        stream.write(text)
    except UnicodeEncodeError:  # a stream in a legacy encoding (cp1252, ASCII)
        encoding = getattr(stream, "encoding", None) or "ascii"
        stream.write(text.encode(encoding, "backslashreplace").decode(encoding))


class Output:
    """Where the command writes: tables or JSON on stdout, progress and errors on stderr."""

    def __init__(self, lang: str, as_json: bool, stdout: TextIO, stderr: TextIO) -> None:
        self.lang = lang
        self.as_json = as_json
        self.out = stdout
        self.err = stderr

    def word(self, key: str) -> str:
        en, id_ = WORDS[key]
        return id_ if self.lang == "id" else en

    def say(self, text: str = "") -> None:
        """A line on standard output."""
        write(self.out, text + "\n")

    def raw(self, text: str) -> None:
        """``text`` on standard output as it is (a document, a CSV), ending with a newline."""
        write(self.out, text if text.endswith("\n") else text + "\n")

    def note(self, text: str) -> None:
        """A line on standard error: what a script reading standard output should not get."""
        write(self.err, text + "\n")

    def json(self, data: Any) -> None:
        write(self.out, json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")

    def table(
        self, title: str | None, headers: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        """An aligned table with a title, a header and a rule."""
        cells = [[_rules.printable(str(c), newlines=False) for c in row] for row in rows]
        widths = [len(h) for h in headers]
        for row in cells:
            widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
        if title:
            self.say(title)
        self.say("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
        self.say("  ".join("─" * w for w in widths))
        for row in cells:
            self.say("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())

    def _live(self) -> bool:
        isatty = getattr(self.err, "isatty", None)
        return bool(isatty and isatty())

    def progress(self, label: str, items: Sequence[T]) -> Iterator[T]:
        """Yield ``items``, drawing a bar on stderr when it is a terminal.

        The bar counts the items handed out, so it is only as honest as the loop
        around it: use it where each item is the work (a command per idea).
        """
        total = len(items)
        live = self._live() and total > 0
        width = 30
        for n, item in enumerate(items, start=1):
            yield item
            if live and (n == total or n % max(1, total // 50) == 0):
                filled = width * n // total
                bar = "█" * filled + "░" * (width - filled)
                self.err.write("\r")  # the bar's own carriage return, not user text
                write(self.err, f"{label[:40]:<40} {bar} {n}/{total}")
                if n == total:
                    write(self.err, "\n")
                self.err.flush()

    @contextlib.contextmanager
    def status(self, label: str) -> Iterator[None]:
        """Show ``label…`` on stderr (when it is a terminal) while a step with no count runs.

        For work that reports only when done -- the store verifies in worker
        processes -- a bar would be a guess; this says what is running, and is
        wiped when it ends.
        """
        live = self._live()
        if live:
            write(self.err, f"{label}…")
            self.err.flush()
        try:
            yield
        finally:
            if live:
                self.err.write("\r" + " " * (len(label) + 1) + "\r")
                self.err.flush()


def print_report(out: Output, report: Report, lab: Lab) -> None:
    """A report as the terminal shows it: the funnel, compliance, overdue, blocked."""
    funnel = report.funnel
    kinds = sorted({k for counts in funnel.at.values() for k in counts})
    rows = [
        (
            lab.policy.stage(s).label(out.lang),
            *(funnel.at[s].get(k, 0) or "·" for k in kinds),
            sum(funnel.at[s].values()),
            funnel.reached[s],
        )
        for s in funnel.stages
    ]
    headers = [out.word("stage"), *kinds, out.word("total"), out.word("reached")]
    out.table(f"{out.word('funnel')} — {lab.region}", headers, rows)
    out.say(f"{out.word('withdrawn')}: {funnel.withdrawn}   {out.word('total')}: {funnel.total}")
    out.say()
    short = {s: u for s, u in report.units_without.items() if u}
    if short:
        out.say(out.word("compliance") + ":")
        for stage, units in short.items():
            out.say(f"  {stage}: {', '.join(units)}")
        out.say()
    if report.overdue:
        out.table(
            out.word("overdue"),
            [out.word(k) for k in ("innovation", "unit", "stage", "next", "deadline")],
            [
                (o.innovation, o.unit, o.at_stage, o.stage, o.deadline.date().isoformat())
                for o in report.overdue
            ],
        )
        out.say()
    if not report.blocked:
        out.say(out.word("none_blocked"))
        return
    out.table(
        f"{out.word('blocked')} ({len(report.blocked)})",
        [out.word(k) for k in ("innovation", "unit", "stage", "reasons")],
        [
            (b.innovation, b.unit, b.stage, "; ".join(u.message(out.lang) for u in b.verdict.unmet))
            for b in report.blocked
        ],
    )
