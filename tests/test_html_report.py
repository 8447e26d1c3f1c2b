"""`labflow.reports.html`: one self-contained page, escaped, bilingual, opened in Chromium."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import labflow as lf
from helpers import ACTORS, UNITS, FixedClock, cohort, make_lab, register
from labflow import reports
from test_web import BROWSER_ARGS, _browser_or_skip

pytest.importorskip("jinja2", reason="the cli extra is not installed")


def _lab() -> lf.Lab:
    lab = make_lab("lan-5d")
    cohort(lab)
    register(lab, "hostile", title="<script>alert(1)</script> & <b>bold</b>")
    return lab


class TestContent:
    def test_every_section_is_there(self) -> None:
        """Verification, funnel, unit kinds, compliance, blocked, overdue and the diagram."""
        page = reports.html(_lab(), lang="en", verifications=_lab().verify())
        for section in ("verification", "funnel", "kinds", "compliance", "blocked", "overdue",
                        "diagram"):  # fmt: skip
            assert f'id="{section}"' in page
        assert "Every history verifies" in page
        assert "Drum-up" in page

    def test_indonesian_labels_and_reasons(self) -> None:
        """In Indonesian the headings, stage labels and unmet reasons are Indonesian."""
        page = reports.html(_lab(), lang="id")
        assert "Inovasi per tahap" in page
        assert "Membangun semangat (drum-up)" in page
        assert "Tidak diperiksa dalam laporan ini." in page

    def test_self_contained(self) -> None:
        """No script, stylesheet link, image, font or any other resource to fetch."""
        page = reports.html(_lab(), lang="en")
        assert not re.search(r"<script|<link|<img|<iframe|@import|url\(\s*['\"]?http", page)
        assert not re.search(r"\ssrc=", page)

    def test_operator_text_is_escaped(self) -> None:
        """A title with markup is shown as text, never run or rendered as markup."""
        lab = lf.Lab.create(
            lf.load_policy("lan-5d"),
            id="x",
            region="<script>alert(1)</script>",
            by="sekretariat",
            units=UNITS,
            actors=ACTORS,
            clock=FixedClock(),
        )
        page = reports.html(lab, lang="en")
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<script>alert" not in page

    def test_failed_verification_is_shown(self) -> None:
        """A history that does not verify is named with its event and reason."""
        bad = lf.Verification("ino-x", 3, False, 2, "the hash does not match")
        page = reports.html(_lab(), lang="en", verifications=[bad])
        assert "Histories that do not verify" in page
        assert "ino-x" in page
        assert "the hash does not match" in page

    def test_unknown_language_is_refused(self) -> None:
        """A language other than en or id is labflow's InvalidCommand, not a KeyError."""
        with pytest.raises(lf.InvalidCommand):
            reports.html(_lab(), lang="fr")


def test_report_opens_offline_in_chromium(tmp_path: Path) -> None:
    """Chromium renders the file with every request other than the file itself refused."""
    executable = _browser_or_skip()
    from playwright.sync_api import Route, sync_playwright

    path = tmp_path / "report.html"
    path.write_text(reports.html(_lab(), lang="id", verifications=_lab().verify()))
    shots = Path(os.environ.get("LABFLOW_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    fetched: list[str] = []

    def refuse(route: Route) -> None:
        if route.request.url != path.as_uri():
            fetched.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 1400})
        page.route("**/*", refuse)
        page.goto(path.as_uri())
        assert "Laporan laboratorium inovasi" in page.inner_text("h1")
        assert page.locator("svg").count() == 2
        page.screenshot(path=str(shots / "report.png"), full_page=True)
        browser.close()
    assert fetched == []
