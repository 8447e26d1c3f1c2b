"""The application: a board, one page per innovation, and the forms its actor may use.

What a host writes around labflow, and nothing more: where the store is, who the
user is (`current_actor` -- replace it with your login), which language they read,
and how a labflow error becomes an HTTP answer. Everything the pages show --
stage labels, unmet requirements in English or Indonesian, the verdict of each
command -- comes from labflow itself.

It runs on labflow's asyncio stores (`labflow.store.AsyncStore`): an SQLite file
by default, a PostgreSQL server by URL. Every form carries the version of the
innovation it was rendered from, and the command runs in a session expecting it
(``store.session(lab_id, expect={id: version})``): a stale tab or a double submit
is answered 409 with the current state, never a second move.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qsl

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

import labflow as lf
from labflow import reports, views
from labflow.store import AsyncSQLiteStore, AsyncStore

__all__ = ["DB_ENV", "HTTP_STATUS", "create_app", "open_store"]

HERE = Path(__file__).resolve().parent
LANGUAGES = ("id", "en")
#: Where the store is when ``create_app`` is not told: as for the ``labflow`` command.
DB_ENV = "LABFLOW_DB"
#: The largest request body read: a form or a JSON command is a few hundred bytes.
MAX_BODY = 64 * 1024


class NotSignedIn(lf.PermissionDenied):
    """Nobody (or no actor of the lab) is signed in: the host's own refusal, in labflow's shape."""

    def __init__(self, command: str) -> None:
        super().__init__(
            "nobody",
            command,
            "sign in first (pick who you are in “Signed in as”)",
            "masuk dulu (pilih siapa Anda di “Masuk sebagai”)",
            code="auth.required",
        )


#: How each labflow error answers over HTTP (the first matching class wins).
HTTP_STATUS: tuple[tuple[type[lf.LabflowError], int], ...] = (
    (NotSignedIn, 401),
    (lf.NotFound, 404),
    (lf.PermissionDenied, 403),
    (lf.ConflictError, 409),
    (lf.GateRefused, 422),
    (lf.CommandError, 422),
    (lf.DocumentError, 400),
    (lf.HistoryError, 500),
    (lf.StoreError, 503),
    (lf.LabflowError, 400),
)

#: How the page asks for each command's arguments: command -> (fields, English, Indonesian).
#: Which of them an actor may use, and why one is blocked, is labflow's answer
#: (`Lab.allowed`); running one is `Lab.send`. A field is (name, English, Indonesian).
Field = tuple[str, str, str]
ACTIONS: dict[str, tuple[tuple[Field, ...], str, str]] = {
    "advance": ((), "Advance to the next stage", "Maju ke tahap berikutnya"),
    "approve_plan": ((), "Approve the action plan", "Setujui rencana aksi"),
    "sign_agreement": ((), "Sign the performance agreement", "Tandatangani perjanjian kinerja"),
    "grant_permission": (
        (("reference", "Letter number", "Nomor surat"),),
        "Grant written permission",
        "Beri izin tertulis",
    ),
    "attach_evidence": (
        (("title", "Title", "Judul"), ("reference", "Reference", "Rujukan")),
        "Attach evidence",
        "Lampirkan bukti dukung",
    ),
    "record_launch": (
        (("ceremony", "Ceremony", "Acara peluncuran"),),
        "Record the launch",
        "Catat peluncuran",
    ),
    "withdraw": ((("reason", "Reason", "Alasan"),), "Withdraw", "Tarik inovasi"),
    "reinstate": ((("reason", "Reason", "Alasan"),), "Reinstate", "Aktifkan kembali"),
}

WORDS = {
    "board": ("Board", "Papan inovasi"),
    "stage": ("Stage", "Tahap"),
    "unit": ("Unit", "Unit"),
    "unmet": ("What is still missing", "Yang masih kurang"),
    "ready": ("Ready for the next stage.", "Siap maju ke tahap berikutnya."),
    "history": ("History", "Riwayat"),
    "actions": ("What you can do", "Yang dapat Anda lakukan"),
    "sign_in_as": ("Signed in as", "Masuk sebagai"),
    "nobody": ("(nobody)", "(belum masuk)"),
    "refused": ("Refused", "Ditolak"),
    "conflict": (
        "Someone changed this innovation after you opened the page. Nothing was written; "
        "here is the current state.",
        "Inovasi ini diubah orang lain setelah halaman Anda dibuka. Tidak ada yang disimpan; "
        "inilah keadaan terkini.",
    ),
    "done": ("Done.", "Berhasil."),
    "withdrawn": ("withdrawn", "ditarik"),
    "launched": ("launched", "diluncurkan"),
    "innovations": ("innovations", "inovasi"),
    "verified": ("every history verifies", "seluruh riwayat terverifikasi"),
    "not_verified": ("a history does not verify", "ada riwayat yang tidak terverifikasi"),
    "error": ("Error", "Galat"),
}


def _word(lang: str, key: str) -> str:
    en, id_ = WORDS[key]
    return id_ if lang == "id" else en


def _routing_structlog(stream: TextIO) -> None:
    """The host routes labflow's audit events: here as JSON lines, one event a line."""
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.WriteLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )


def open_store(target: str | os.PathLike[str]) -> Awaitable[AsyncStore]:
    """The asyncio store ``target`` names, as ``labflow --db`` does: a ``postgresql://`` URL
    (needs ``labflow[postgres]``), ``sqlite:///relative.db`` or ``sqlite:////abs/path.db``,
    or a plain path to an SQLite file."""
    text = os.fspath(target)
    if text.startswith(("postgresql://", "postgres://")):
        from labflow.store.postgres import AsyncPostgresStore

        return AsyncPostgresStore.connect(text)
    return AsyncSQLiteStore.connect(text.removeprefix("sqlite:///"))


def create_app(
    db: str | os.PathLike[str] | None = None,
    *,
    lab_id: str | None = None,
    log: TextIO | None = None,
    clock: lf.Clock = lf.system_clock,
) -> FastAPI:
    """The web application on the store ``db`` names (see `open_store`); without it,
    ``LABFLOW_DB``, else the SQLite file ``labflow-demo.db`` that ``labflow demo`` writes."""
    target = db or os.environ.get(DB_ENV) or "labflow-demo.db"
    _routing_structlog(log or sys.stdout)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    opened: list[AsyncStore] = []  # the one store of the process, opened with the server

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened.append(await open_store(target))
        try:
            yield
        finally:
            await opened.pop().close()

    app = FastAPI(title="labflow web host", lifespan=lifespan)

    async def which_lab() -> tuple[AsyncStore, str]:
        store = opened[0]
        if lab_id is not None:
            return store, lab_id
        ids = await store.lab_ids()
        if not ids:
            raise lf.NotFound("lab", "(any)", where=str(getattr(store, "path", target)))
        return store, ids[0]

    async def load() -> tuple[AsyncStore, lf.Lab]:
        store, ident = await which_lab()
        return store, await store.load(ident, clock=clock)

    def current_actor(request: Request, lab: lf.Lab) -> lf.Actor | None:
        """Who is acting. A real host reads its login session here; this one trusts a cookie
        set by the "sign in as" picker, which is only for trying the application out."""
        actor_id = request.cookies.get("actor", "")
        return lab.actors.get(actor_id)

    def language(request: Request) -> str:
        lang = request.query_params.get("lang") or request.cookies.get("lang", "id")
        return lang if lang in LANGUAGES else "id"

    def label(lang: str, stage: lf.Stage) -> str:
        return stage.label_id if lang == "id" else stage.label_en

    def status_of(exc: lf.LabflowError) -> int:
        return next(code for cls, code in HTTP_STATUS if isinstance(exc, cls))

    def page(
        request: Request,
        name: str,
        context: dict[str, Any],
        status: int = 200,
    ) -> HTMLResponse:
        lang = context["lang"]
        context = {"w": lambda key: _word(lang, key), "request": request, **context}
        response = templates.TemplateResponse(request, name, context, status_code=status)
        if request.query_params.get("lang") in LANGUAGES:
            response.set_cookie("lang", lang, samesite="lax")
        return response

    def base(request: Request, lab: lf.Lab) -> dict[str, Any]:
        lang = language(request)
        return {
            "lang": lang,
            "lab": lab,
            "actor": current_actor(request, lab),
            "actors": sorted(lab.actors.values(), key=lambda a: a.id),
            "stage_label": lambda stage_id: label(lang, lab.policy.stage(stage_id)),
        }

    def innovation_page(
        request: Request,
        lab: lf.Lab,
        inn_id: str,
        *,
        error: lf.LabflowError | None = None,
        status: int = 200,
        done: str | None = None,
    ) -> HTMLResponse:
        context = base(request, lab)
        lang = context["lang"]
        actor = context["actor"]
        # With by=: the commands this actor's roles permit here, each with labflow's verdict
        # (a blocked one is still offered, with its reasons, so the refusal can be seen).
        view = views.innovation(lab, inn_id, by=actor.id if actor else None)
        problem = views.error(error) if error is not None else None
        conflict = isinstance(error, lf.ConflictError)
        actions = [
            (
                c.name,
                ACTIONS[c.name][0],
                ACTIONS[c.name][1 if lang == "en" else 2],
                [u.id if lang == "id" else u.en for u in c.unmet],
            )
            for c in view.commands
            if c.name in ACTIONS
        ]
        return page(
            request,
            "innovation.html",
            {
                **context,
                "inn": view,
                "here": f"/i/{inn_id}",
                "actions": actions,
                "problem": None if conflict else problem,
                "conflict": conflict,
                "done": done,
            },
            status,
        )

    def malformed_answer(
        request: Request, problems: list[tuple[str, str]], status: int = 422
    ) -> Response:
        """A body that cannot be a command: 422 naming each field, in labflow's error shape."""
        message = "; ".join(f"{where}: {what}" for where, what in problems)
        problem = {"code": "request.malformed", "kind": "RequestValidationError",
                   "en": message, "id": message, "data": {"fields": [w for w, _ in problems]},
                   "unmet": []}  # fmt: skip
        if request.url.path.startswith("/api/"):
            return JSONResponse(problem, status_code=status)
        lang = language(request)
        return page(
            request, "error.html", {"lang": lang, "problem": problem, "actor": None}, status
        )

    @app.exception_handler(lf.LabflowError)
    async def labflow_error(request: Request, exc: lf.LabflowError) -> Response:
        status = status_of(exc)
        if request.url.path.startswith("/api/"):
            return JSONResponse(views.to_json(views.error(exc)), status_code=status)
        lang = language(request)
        return page(
            request,
            "error.html",
            {"lang": lang, "problem": views.error(exc), "actor": None},
            status,
        )

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, exc: RequestValidationError) -> Response:
        return malformed_answer(
            request,
            [
                (".".join(str(p) for p in e.get("loc", ())), str(e.get("msg", "")))
                for e in exc.errors()
            ],
        )

    @app.get("/", response_class=HTMLResponse)
    async def board(request: Request) -> HTMLResponse:
        store, lab = await load()
        verified = all(v.ok for v in (await store.verify_all(lab.id))[lab.id])
        context = base(request, lab)
        cohort = views.lab(lab).innovations  # each with its stage and unit kind
        kinds = sorted({inn.unit_kind for inn in cohort})
        columns = [
            (
                stage,
                {k: [i for i in cohort if (i.stage, i.unit_kind) == (stage.id, k)] for k in kinds},
            )
            for stage in lab.policy.stages
        ]
        return page(
            request,
            "board.html",
            {
                **context,
                "here": "/",
                "columns": columns,
                "kinds": kinds,
                "funnel": reports.funnel(lab),
                "verified": verified,
            },
        )

    @app.get("/i/{inn_id}", response_class=HTMLResponse)
    async def innovation(request: Request, inn_id: str, done: str | None = None) -> HTMLResponse:
        _, lab = await load()
        return innovation_page(request, lab, inn_id, done=done)

    async def run(
        request: Request, inn_id: str, command: str, form: dict[str, Any]
    ) -> tuple[lf.Lab, lf.LabflowError | None] | list[tuple[str, str]]:
        """Run ``command`` as the signed-in actor, in a session expecting the version the
        page showed: the lab afterwards and the refusal if any, or what is malformed."""
        if command not in ACTIONS:
            raise lf.NotFound("command", command, where="this application")
        fields = ACTIONS[command][0]
        given = form.get("version")
        if isinstance(given, str) and given.isascii() and given.isdigit() and len(given) < 10:
            given = int(given)  # a form's text; JSON gives a number
        version = given if type(given) is int and 0 <= given < 2**63 else None
        problems = [
            (f"body.{name}", "required: a non-empty text")
            for name, *_ in fields
            if not isinstance(form.get(name), str) or not form[name].strip()
        ]
        if version is None:
            problems.insert(0, ("body.version", "required: the version the page showed"))
        if version is None or problems:
            return problems
        store, ident = await which_lab()
        loaded: lf.Lab | None = None
        try:
            # expect=: a page rendered from another version is a conflict, not a second move.
            async with store.session(ident, clock=clock, expect={inn_id: version}) as loaded:
                actor = current_actor(request, loaded)
                if actor is None:
                    raise NotSignedIn(command)
                arguments = {name: form[name] for name, *_ in fields}
                loaded.send(command, inn_id, by=actor.id, **arguments)
        except (lf.CommandError, lf.ConflictError) as exc:
            if isinstance(exc, lf.ConflictError) or loaded is None:
                loaded = await store.load(ident, clock=clock)  # what the others wrote
            # else: a refused command changed nothing, the session's lab is the state to show
            loaded.innovation(inn_id)  # an unknown id is NotFound (404), whatever the version
            return loaded, exc
        return loaded, None

    async def body_of(request: Request, *, as_json: bool) -> dict[str, Any] | Response:
        """The request's form or JSON object, or the answer that it is not one: 413 past
        `MAX_BODY` (read no further), 422 for anything else."""
        raw = bytearray()
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY:
                return malformed_answer(request, [("body", f"at most {MAX_BODY} bytes")], 413)
        what = "a JSON object" if as_json else "a URL-encoded form in UTF-8"
        try:
            if not as_json:  # the pages' forms are URL-encoded, a few fields each
                return dict(parse_qsl(raw.decode(), keep_blank_values=True, max_num_fields=50))
            data = json.loads(raw)
        except (ValueError, RecursionError):
            data = None
        return data if isinstance(data, dict) else malformed_answer(request, [("body", what)])

    @app.post("/i/{inn_id}/{command}", response_class=HTMLResponse)
    async def act(request: Request, inn_id: str, command: str) -> Response:
        form = await body_of(request, as_json=False)
        if isinstance(form, Response):
            return form
        outcome = await run(request, inn_id, command, form)
        if isinstance(outcome, list):
            return malformed_answer(request, outcome)
        lab, error = outcome
        if error is not None:
            return innovation_page(request, lab, inn_id, error=error, status=status_of(error))
        return RedirectResponse(f"/i/{inn_id}?done={command}", status_code=303)

    @app.post("/api/i/{inn_id}/{command}")
    async def api_act(request: Request, inn_id: str, command: str) -> Response:
        """Run a command from JSON ``{"version": N, ...its fields}``: the innovation view
        afterwards (200), or the error view with its status (nothing written)."""
        data = await body_of(request, as_json=True)
        if isinstance(data, Response):
            return data
        outcome = await run(request, inn_id, command, data)
        if isinstance(outcome, list):
            return malformed_answer(request, outcome)
        lab, error = outcome
        if error is not None:
            return JSONResponse(views.to_json(views.error(error)), status_code=status_of(error))
        return JSONResponse(views.to_json(views.innovation(lab, inn_id)))

    @app.get("/api/lab")
    async def api_lab() -> JSONResponse:
        """The lab as JSON (`labflow.views.LabView`)."""
        _, lab = await load()
        return JSONResponse(views.to_json(views.lab(lab)))

    @app.get("/api/i/{inn_id}")
    async def api_innovation(inn_id: str) -> JSONResponse:
        """One innovation as JSON (`labflow.views.InnovationView`)."""
        _, lab = await load()
        return JSONResponse(views.to_json(views.innovation(lab, inn_id)))

    @app.get("/as")
    def sign_in_as(request: Request, actor: str = "", next: str = "/") -> Response:
        """The stand-in for a login: remember who is acting (a real host authenticates)."""
        target = next if next.startswith("/") and not next.startswith("//") else "/"
        response = RedirectResponse(target, status_code=303)
        response.set_cookie("actor", actor, samesite="lax", httponly=True)
        return response

    return app
