"""The web host in examples/web, served by a real uvicorn and driven over HTTP and in Chromium.

The HTTP tests pin what a browser never shows clearly (status codes, nothing written
on a refusal); the browser test walks the scenario a secretariat would: the board,
a refusal with its reasons, the cause fixed in another form, the move accepted,
two tabs racing, and the language switched.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import shutil
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import structlog

from labflow.store.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples" / "web"))

fastapi = pytest.importorskip("fastapi", reason="the web extra is not installed")
uvicorn = pytest.importorskip("uvicorn", reason="the web extra is not installed")

from labweb import create_app  # noqa: E402


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The Kebumen demo lab on an SQLite file, and which innovations it held back and why."""
    from labflow._samples import run_demo

    path = tmp_path_factory.mktemp("web") / "demo.db"
    with structlog.testing.capture_logs(), SQLiteStore(path, create=True) as store:
        result = run_demo(store, "kebumen")
    return path, dict(result.faults)


class Served:
    """A running host: its address, its store (SQLite file or PostgreSQL URL), its JSON log."""

    def __init__(self, url: str, db: str, log: io.StringIO) -> None:
        self.url = url
        self.db = db
        self.log = log

    def open(self) -> Any:
        """The host's store, opened the synchronous way, to look behind the host's back."""
        if self.db.startswith("postgresql://"):
            from labflow.store.postgres import PostgresStore

            return PostgresStore(self.db)
        return SQLiteStore(self.db)

    def version(self, subject: str) -> int:
        with self.open() as store:
            return int(store.version("kebumen", subject))

    def versions(self) -> tuple[int, list[int]]:
        """The lab's version and every innovation's: what a refusal must leave as it was."""
        with self.open() as store:
            return store.version("kebumen"), [len(h) for h in store.histories("kebumen")]

    def request(
        self,
        path: str,
        form: dict[str, str] | None = None,
        actor: str = "",
        *,
        raw: bytes | None = None,
        content_type: str = "application/x-www-form-urlencoded",
    ) -> tuple[int, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else raw
        req = urllib.request.Request(self.url + path, data=data)
        if data is not None:
            req.add_header("Content-Type", content_type)
        if actor:
            req.add_header("Cookie", f"actor={actor}; lang=en")
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def post_json(self, path: str, data: object, actor: str = "") -> tuple[int, Any]:
        status, body = self.request(
            path, raw=json.dumps(data).encode(), actor=actor, content_type="application/json"
        )
        return status, json.loads(body)


def _postgres_copy(demo: Path, stack: ExitStack) -> str:
    """The demo lab copied into a fresh schema of the test server; its URL (as --db takes)."""
    import psycopg

    from _stores import postgres_schema
    from labflow.store import Append
    from labflow.store.postgres import PostgresStore

    conninfo = stack.enter_context(postgres_schema())
    parts = psycopg.conninfo.conninfo_to_dict(conninfo)
    schema = str(parts.pop("options")).split("search_path=")[1]
    user = urllib.parse.quote(str(parts.get("user", "")))
    password = parts.get("password")
    login = f"{user}:{urllib.parse.quote(str(password))}" if password else user
    url = (
        f"postgresql://{login}@{parts.get('host', 'localhost')}:{parts.get('port', 5432)}"
        f"/{parts['dbname']}?options=-csearch_path%3D{schema}"
    )
    with SQLiteStore(demo) as source, PostgresStore(url, create=True) as target:
        for lab_id in source.lab_ids():
            appends = [Append(lab_id, 0, source.history(lab_id), lab=True)]
            appends += [Append(h[0].subject, 0, h) for h in source.histories(lab_id)]
            target.commit(lab_id, appends)
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def served(
    request: pytest.FixtureRequest, demo: tuple[Path, dict[str, str]], tmp_path: Path
) -> Iterator[Served]:
    """The host on a copy of the demo lab: an SQLite file, or a schema of the PostgreSQL test
    server (``LABFLOW_TEST_POSTGRES_URL``; skipped without one unless CI requires it)."""
    with ExitStack() as stack:
        if request.param == "postgres":
            db = _postgres_copy(demo[0], stack)
        else:
            db = str(tmp_path / "lab.db")
            shutil.copy(demo[0], db)
        log = io.StringIO()
        app = create_app(db, log=log)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive(), "the web host stopped while starting"
            assert time.monotonic() < deadline, "the web host did not start"
            time.sleep(0.05)
        try:
            yield Served(f"http://127.0.0.1:{port}", db, log)
        finally:
            server.should_exit = True
            thread.join(timeout=30)
            sock.close()


def fault(demo: tuple[Path, dict[str, str]], kind: str) -> str:
    return next(ident for ident, why in demo[1].items() if why == kind)


class TestHTTP:
    def test_board_lists_every_stage_and_verifies(self, served: Served) -> None:
        """The board answers 200 with the lab's stages and its verification result."""
        status, body = served.request("/?lang=en")
        assert status == 200
        assert "Stage IV: display" in body
        assert "every history verifies" in body

    def test_unknown_innovation_is_404_without_traceback(self, served: Served) -> None:
        """An unknown id answers 404 with labflow's sentence, never a traceback page."""
        status, body = served.request("/i/no-such-innovation")
        assert status == 404
        assert "no-such-innovation" in body
        assert "Traceback" not in body

    def test_actor_without_the_role_is_403_and_nothing_changes(
        self, served: Served, demo: tuple[Path, dict[str, str]]
    ) -> None:
        """An innovator approving a plan gets 403 with the reason; the history is unchanged."""
        ident = fault(demo, "unsigned")
        before = served.version(ident)
        status, body = served.request(
            f"/i/{ident}/approve_plan", {"version": str(before)}, actor="inspektorat"
        )
        assert status == 403
        assert "inspektorat may not approve plan" in body
        assert served.version(ident) == before

    def test_stale_version_is_a_conflict(
        self, served: Served, demo: tuple[Path, dict[str, str]]
    ) -> None:
        """A form rendered from an older version answers 409 and writes nothing."""
        ident = fault(demo, "unsigned")
        before = served.version(ident)
        status, body = served.request(
            f"/i/{ident}/sign_agreement", {"version": str(before - 1)}, actor="bupati"
        )
        assert status == 409
        assert "Someone changed this innovation" in body
        assert served.version(ident) == before

    def test_malformed_body_is_422(self, served: Served, demo: tuple[Path, dict[str, str]]) -> None:
        """A form without its version or a required field answers 422, naming the field."""
        ident = fault(demo, "no_evidence")
        before = served.version(ident)
        status, body = served.request(f"/i/{ident}/attach_evidence", {}, actor="sekretariat")
        assert status == 422
        assert "version" in body or "title" in body
        assert served.version(ident) == before

    def test_unknown_command_is_404(
        self, served: Served, demo: tuple[Path, dict[str, str]]
    ) -> None:
        """A command the host does not offer answers 404."""
        ident = fault(demo, "unsigned")
        status, _ = served.request(f"/i/{ident}/teleport", {"version": "1"}, actor="sekretariat")
        assert status == 404

    def test_refusal_lists_every_reason(
        self, served: Served, demo: tuple[Path, dict[str, str]]
    ) -> None:
        """Advancing an innovation whose agreement is unsigned answers 422 with the reason."""
        ident = fault(demo, "unsigned")
        before = served.version(ident)
        status, body = served.request(
            f"/i/{ident}/advance", {"version": str(before)}, actor="sekretariat"
        )
        assert status == 422
        assert "agreement.unsigned.unit_head" in body
        assert served.version(ident) == before

    def test_accepted_command_is_logged_as_json_lines(
        self, served: Served, demo: tuple[Path, dict[str, str]]
    ) -> None:
        """An accepted command redirects to the page and its audit event is one JSON line."""
        ident = fault(demo, "unsigned")
        head = f"kepala-{_unit(served, ident)}"
        before = served.version(ident)
        status, body = served.request(
            f"/i/{ident}/sign_agreement", {"version": str(before)}, actor=head
        )
        assert status == 200
        assert "Done." in body
        assert served.version(ident) == before + 1
        events = [json.loads(line) for line in served.log.getvalue().splitlines()]
        assert any(e["event"] == "labflow.innovation.agreement_signed" for e in events)


class TestBadInput:
    """Unknown ids, actors without the role, stale versions, malformed bodies: each answered
    with its status and labflow's code and message, never a traceback; nothing written."""

    def test_forms(self, served: Served, demo: tuple[Path, dict[str, str]]) -> None:
        """Each bad form gets its status and a page naming the problem; the lab is unchanged."""
        ident = fault(demo, "no_evidence")
        v = served.version(ident)
        evidence = {"title": "Laporan", "reference": "LAP-1"}
        cases: list[tuple[str, str, dict[str, str] | bytes, str, int, str]] = [
            # (what, path, form or raw body, actor, status, text the answer must hold)
            ("unknown innovation", "/i/nope/withdraw", {"version": "0", "reason": "x"},
             "sekretariat", 404, "There is no innovation &#39;nope&#39;"),
            ("unknown innovation, any version", "/i/nope/withdraw",
             {"version": "7", "reason": "x"}, "sekretariat", 404, "not_found.innovation"),
            ("unknown command", f"/i/{ident}/teleport", {"version": str(v)}, "sekretariat",
             404, "not_found.command"),
            ("not signed in", f"/i/{ident}/attach_evidence", {"version": str(v), **evidence},
             "", 401, "auth.required"),
            ("no such actor", f"/i/{ident}/attach_evidence", {"version": str(v), **evidence},
             "impostor", 401, "sign in first"),
            ("actor without the role", f"/i/{ident}/withdraw",
             {"version": str(v), "reason": "x"}, "inspektorat", 403, "permission."),
            ("stale version", f"/i/{ident}/attach_evidence",
             {"version": str(v - 1), **evidence}, "sekretariat", 409, "Someone changed"),
            ("version from the future", f"/i/{ident}/attach_evidence",
             {"version": str(v + 1), **evidence}, "sekretariat", 409, "Someone changed"),
            ("no version", f"/i/{ident}/attach_evidence", evidence, "sekretariat", 422,
             "body.version"),
            ("version not a number", f"/i/{ident}/attach_evidence",
             {"version": "1e3", **evidence}, "sekretariat", 422, "body.version"),
            ("version not ASCII digits", f"/i/{ident}/attach_evidence",
             {"version": "\uff13", **evidence}, "sekretariat", 422, "body.version"),
            ("version too large", f"/i/{ident}/attach_evidence",
             {"version": "9" * 400, **evidence}, "sekretariat", 422, "body.version"),
            ("version past int() digits", f"/i/{ident}/attach_evidence",
             {"version": "9" * 5000, **evidence}, "sekretariat", 422, "body.version"),
            ("field missing", f"/i/{ident}/attach_evidence", {"version": str(v), "title": "L"},
             "sekretariat", 422, "body.reference"),
            ("field blank", f"/i/{ident}/attach_evidence",
             {"version": str(v), "title": " ", "reference": "r"}, "sekretariat", 422,
             "body.title"),
            ("field refused by labflow", f"/i/{ident}/withdraw",
             {"version": str(v), "reason": "a\x00b"}, "sekretariat", 422, "input.text"),
            ("body not UTF-8", f"/i/{ident}/attach_evidence", b"version=1&title=\xff",
             "sekretariat", 422, "body"),
            ("body too large", f"/i/{ident}/attach_evidence",
             b"version=1&title=" + b"x" * 70_000, "sekretariat", 413, "body"),
            ("too many fields", f"/i/{ident}/attach_evidence",
             "&".join(f"f{n}=1" for n in range(60)).encode(), "sekretariat", 422, "body"),
        ]  # fmt: skip
        before = served.versions()
        for what, path, body, actor, status, expected in cases:
            if isinstance(body, bytes):
                got, page = served.request(path, actor=actor, raw=body)
            else:
                got, page = served.request(path, body, actor=actor)
            assert (what, got) == (what, status), page[:2000]
            assert expected in page, (what, page[:2000])
            assert "Traceback" not in page, what
            assert served.versions() == before, what

    def test_json_api(self, served: Served, demo: tuple[Path, dict[str, str]]) -> None:
        """Each bad API call gets its status and the error view (code, en, id); unchanged."""
        ident = fault(demo, "unsigned")
        v = served.version(ident)
        cases: list[tuple[str, str, object, str, int, str]] = [
            # (what, path, JSON body, actor, status, the error's code)
            ("unknown innovation", "/api/i/nope/withdraw", {"version": 3, "reason": "x"},
             "sekretariat", 404, "not_found.innovation"),
            ("unknown command", f"/api/i/{ident}/teleport", {"version": v}, "sekretariat",
             404, "not_found.command"),
            ("not signed in", f"/api/i/{ident}/advance", {"version": v}, "", 401,
             "auth.required"),
            ("actor without the role", f"/api/i/{ident}/approve_plan", {"version": v},
             "inspektorat", 403, "permission.role"),
            ("stale version", f"/api/i/{ident}/advance", {"version": v - 1}, "sekretariat",
             409, "store.conflict"),
            ("refused at the gate", f"/api/i/{ident}/advance", {"version": v}, "sekretariat",
             422, "gate.refused"),
            ("version a string of words", f"/api/i/{ident}/advance", {"version": "three"},
             "sekretariat", 422, "request.malformed"),
            ("version a boolean", f"/api/i/{ident}/advance", {"version": True}, "sekretariat",
             422, "request.malformed"),
            ("version negative", f"/api/i/{ident}/advance", {"version": -1}, "sekretariat",
             422, "request.malformed"),
            ("version huge", f"/api/i/{ident}/advance", {"version": 10**20}, "sekretariat",
             422, "request.malformed"),
            ("version a float", f"/api/i/{ident}/advance", {"version": float(v)},
             "sekretariat", 422, "request.malformed"),
            ("field not text", f"/api/i/{ident}/withdraw", {"version": v, "reason": ["x"]},
             "sekretariat", 422, "request.malformed"),
            ("not an object", f"/api/i/{ident}/advance", [v], "sekretariat", 422,
             "request.malformed"),
            ("deeply nested", f"/api/i/{ident}/advance", "NESTED", "sekretariat", 422,
             "request.malformed"),
        ]  # fmt: skip
        before = served.versions()
        for what, path, data, actor, status, code in cases:
            if data == "NESTED":
                raw = b"[" * 30_000 + b"]" * 30_000
                got, text = served.request(
                    path, raw=raw, actor=actor, content_type="application/json"
                )
                answer = json.loads(text)
            else:
                got, answer = served.post_json(path, data, actor=actor)
            assert (what, got, answer.get("code")) == (what, status, code), answer
            assert answer.get("en"), what
            assert answer.get("id"), what
            assert served.versions() == before, what
        status, text = served.request(
            f"/api/i/{ident}/advance", raw=b"{not json", actor="sekretariat"
        )
        assert (status, json.loads(text)["code"]) == (422, "request.malformed")
        assert served.versions() == before

    def test_the_json_api_runs_a_command_and_a_double_submit_conflicts(
        self, served: Served, demo: tuple[Path, dict[str, str]]
    ) -> None:
        """The same JSON command sent twice with one version: one move, then 409."""
        ident = fault(demo, "unsigned")
        head = f"kepala-{_unit(served, ident)}"
        v = served.version(ident)
        status, answer = served.post_json(
            f"/api/i/{ident}/sign_agreement", {"version": v}, actor=head
        )
        assert status == 200
        assert answer["version"] == v + 1
        status, answer = served.post_json(
            f"/api/i/{ident}/sign_agreement", {"version": v}, actor=head
        )
        assert (status, answer["code"]) == (409, "store.conflict")
        assert answer["data"] == {"subject": ident, "expected": v, "found": v + 1}
        assert served.version(ident) == v + 1


def _unit(served: Served, ident: str) -> str:
    with served.open() as store:
        return str(store.load("kebumen").innovation(ident).unit)


# --- In a real browser -----------------------------------------------------------------------


def _chromium() -> str | None:
    return os.environ.get("LABFLOW_CHROMIUM") or shutil.which("chromium")


def _browser_or_skip() -> str:
    path = _chromium()
    missing = "Debian's chromium" if path is None else None
    if importlib.util.find_spec("playwright") is None:
        missing = "the playwright package"
    if missing is not None:
        if os.environ.get("LABFLOW_REQUIRE_BROWSER"):
            pytest.fail(f"LABFLOW_REQUIRE_BROWSER is set but {missing} is missing.")
        pytest.skip(f"browser test needs {missing} (set LABFLOW_CHROMIUM or install chromium)")
    assert path is not None
    return path


def sign_in(page: Any, actor: str) -> None:
    """Pick ``actor`` in the "sign in as" picker and wait for the page it reloads."""
    with page.expect_navigation():
        page.select_option("#sign-in select", actor)


BROWSER_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_secretariat_scenario_in_chromium(
    served: Served, demo: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """Board → refusal with reasons → cause fixed in another form → advance; a stale tab gets
    the conflict; the language switch shows Indonesian labels and reasons."""
    executable = _browser_or_skip()
    from playwright.sync_api import sync_playwright

    unsigned = fault(demo, "unsigned")
    unproven = fault(demo, "no_evidence")
    shots = Path(os.environ.get("LABFLOW_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=BROWSER_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30_000)

        # The board, in English.
        page.goto(served.url + "/?lang=en")
        assert "Stage IV: display" in page.inner_text("#board")
        page.screenshot(path=str(shots / "web-board.png"), full_page=False)

        # As the secretariat, advancing the unsigned innovation is refused with its reason.
        sign_in(page, "sekretariat")
        page.goto(f"{served.url}/i/{unsigned}")
        page.click("form[data-command=advance] button")
        refusal = page.inner_text("#refused")
        assert "agreement" in refusal.lower()
        page.screenshot(path=str(shots / "web-refused.png"), full_page=True)

        # The unit head signs in another form, then the secretariat's advance goes through.
        head = f"kepala-{_unit(served, unsigned)}"
        sign_in(page, head)
        page.click("form[data-command=sign_agreement] button")
        assert page.is_visible("#done")
        sign_in(page, "sekretariat")
        page.click("form[data-command=advance] button")
        assert page.is_visible("#done")
        assert "display" in page.inner_text("#stage").lower()

        # Two tabs on one innovation: the first submission wins, the stale tab gets the conflict.
        sign_in(page, f"inovator-{_unit(served, unproven)}")
        first = page
        second = context.new_page()
        first.goto(f"{served.url}/i/{unproven}")
        second.goto(f"{served.url}/i/{unproven}")
        for tab in (first, second):
            tab.fill("form[data-command=attach_evidence] input[name=title]", "Laporan")
            tab.fill("form[data-command=attach_evidence] input[name=reference]", "LAP-1")
        first.click("form[data-command=attach_evidence] button")
        assert first.is_visible("#done")
        second.click("form[data-command=attach_evidence] button")
        assert second.is_visible("#conflict")
        second.screenshot(path=str(shots / "web-conflict.png"), full_page=True)

        # Switching the language shows Indonesian stage labels and reasons.
        first.goto(f"{served.url}/i/{unsigned}?lang=id")
        assert "Tahap IV" in first.inner_text("#stage")
        first.goto(f"{served.url}/")
        assert "Papan inovasi" in first.inner_text("h1")
        browser.close()

    events = [json.loads(line) for line in served.log.getvalue().splitlines()]
    kinds = {e["event"] for e in events}
    assert "labflow.innovation.agreement_signed" in kinds
    assert "labflow.innovation.advanced" in kinds


class TestJSONAPI:
    def test_innovation_as_json_matches_the_view_schema(
        self, served: Served, demo: tuple[Path, dict[str, str]]
    ) -> None:
        """/api/i/ID answers the innovation view, valid against its published schema."""
        import jsonschema

        from labflow import views

        ident = fault(demo, "unsigned")
        status, body = served.request(f"/api/i/{ident}")
        assert status == 200
        data = json.loads(body)
        jsonschema.validate(data, views.json_schema(views.InnovationView))
        assert data["next"]["unmet"][0]["code"] == "agreement.unsigned.unit_head"

    def test_errors_as_json_carry_code_and_both_languages(self, served: Served) -> None:
        """An unknown id over the API is 404 with the error view: code, en, id."""
        status, body = served.request("/api/i/nope")
        assert status == 404
        data = json.loads(body)
        assert data["code"].startswith("not_found")
        assert data["en"]
        assert data["id"]
