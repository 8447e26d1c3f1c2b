"""The lab's report as one self-contained HTML file, for a secretariat to send upward.

Rendered with Jinja2 (autoescaped: every id and title an operator typed is text,
never markup) from the same `labflow.reports.Report` that ``labflow report``
prints, so the two never disagree. The file carries everything it shows: the
funnel and the policy's stages are inline SVG drawn by the template, the styles
are inline, and it loads no script, font or image from anywhere -- it opens the
same on a laptop with no network as in a browser that blocks everything.

Jinja2 is imported when a report is rendered, not when labflow is: it comes with
the ``cli`` extra, and a host that never writes HTML reports does not need it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from labflow.diagram import spec_label
from labflow.errors import InvalidCommand
from labflow.events import Verification
from labflow.lab import Lab

__all__ = ["render_report"]

#: Words of the report's own, in both languages.
WORDS: dict[str, tuple[str, str]] = {
    "title": ("Innovation lab report", "Laporan laboratorium inovasi"),
    "policy": ("Policy", "Kebijakan"),
    "stage": ("Lab stage", "Tahap laboratorium"),
    "generated": ("Generated", "Dibuat"),
    "funnel": ("Innovations by stage", "Inovasi per tahap"),
    "by_kind": ("By unit kind", "Menurut jenis unit"),
    "kind": ("Unit kind", "Jenis unit"),
    "total": ("Total", "Jumlah"),
    "withdrawn": ("Withdrawn", "Ditarik"),
    "reached": ("at or past the stage", "di tahap ini atau sesudahnya"),
    "compliance": ("Units with nothing past a stage", "Unit tanpa inovasi yang melewati tahap"),
    "none": ("None.", "Tidak ada."),
    "blocked": ("Blocked innovations", "Inovasi yang tertahan"),
    "innovation": ("Innovation", "Inovasi"),
    "unit": ("Unit", "Unit"),
    "reasons": ("Reasons", "Alasan"),
    "overdue": ("Overdue obligations", "Kewajiban yang terlambat"),
    "deadline": ("Deadline", "Batas waktu"),
    "overdue_reviews": ("Agreement reviews overdue", "Reviu perjanjian kinerja yang terlambat"),
    "review": ("Review", "Reviu ke-"),
    "due": ("Due", "Jatuh tempo"),
    "overdue_monev": ("Monev overdue", "Monev yang terlambat"),
    "missed": ("Rounds missed", "Putaran terlewat"),
    "latest": ("Latest findings", "Temuan terakhir"),
    "diagram": ("The policy's stages and gates", "Tahap dan gerbang kebijakan"),
    "gate": ("Gate", "Gerbang"),
    "verification": ("Verification", "Verifikasi"),
    "verified": ("Every history verifies", "Seluruh riwayat terverifikasi"),
    "not_verified": ("Histories that do not verify", "Riwayat yang tidak terverifikasi"),
    "histories": ("histories", "riwayat"),
    "events": ("events", "peristiwa"),
    "not_checked": ("Not checked in this report.", "Tidak diperiksa dalam laporan ini."),
}


def render_report(
    lab: Lab,
    *,
    lang: str = "id",
    now: datetime | None = None,
    verifications: Sequence[Verification] | None = None,
) -> str:
    """The report of ``lab`` at ``now`` (default: its clock) as one self-contained HTML page.

    ``verifications`` are the results of verifying the lab's histories (`Lab.verify` or
    `Store.verify_all`); without them the page says verification was not checked.
    """
    from labflow.reports import report  # reports imports the store; keep import time low

    if lang not in ("en", "id"):
        raise InvalidCommand(f"The report's language must be 'en' or 'id', not {lang!r}.")
    try:
        import jinja2
    except ImportError as exc:  # pragma: no cover - the cli extra brings it
        raise InvalidCommand(
            'The HTML report needs Jinja2: install labflow with its extra, "labflow[cli]".'
        ) from exc
    data = report(lab, now)
    moment = now if now is not None else lab.now()
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("labflow", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    policy = lab.policy
    index = 1 if lang == "id" else 0
    stages: list[dict[str, Any]] = [
        {
            "id": s.id,
            "label": s.label(lang),
            "gate": [spec_label(spec) for spec in policy.gates.get(s.id, ())],
            "count": sum(data.funnel.at[s.id].values()),
            "reached": data.funnel.reached[s.id],
        }
        for s in policy.stages
    ]
    kinds = sorted({k for counts in data.funnel.at.values() for k in counts})
    checks = list(verifications) if verifications is not None else None
    context: dict[str, Any] = {
        "lang": lang,
        "w": {key: pair[index] for key, pair in WORDS.items()},
        "report": data,
        "lab": lab,
        "stage_label": policy.stage(lab.stage).label(lang),
        "label": {s.id: s.label(lang) for s in policy.stages},
        "stages": stages,
        "kinds": kinds,
        "units": {u.id: u.name for u in lab.units.values()},
        "moment": moment.astimezone(policy.zone).strftime("%Y-%m-%d %H:%M (UTC%z)"),
        "checks": checks,
        "failed": [c for c in checks if not c.ok] if checks is not None else [],
        "events": sum(c.length for c in checks) if checks is not None else 0,
    }
    return env.get_template("report.html.j2").render(context)
