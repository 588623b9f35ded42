"""The lab's web application: JSON under ``/api``, the pages' one front end everywhere else.

Every page has its own URL (``/zoo``, ``/models/resnet34``, ``/runs/ID``); the server answers
each with the same page, whose script reads the URL and asks the API. Errors are JSON with the
status that says what went wrong, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import threading
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cnnzoo.data.catalogue import DATASETS
from cnnzoo.data.demo import DEMO_IMAGES, demo_picture
from cnnzoo.errors import CnnzooError, ConfigError
from cnnzoo.lab import experiments, inside, runs, zoo
from cnnzoo.lab.guard import (
    TOKEN_COOKIE,
    Forbidden,
    NotFound,
    TooLarge,
    host_of,
    is_loopback,
    token_matches,
)
from cnnzoo.lab.jobs import MAX_EPOCHS, Jobs, NewRun
from cnnzoo.models import UnknownModelError, list_models
from cnnzoo.train.config import RECIPES

__all__ = ["PAGES", "create_app"]

log = logging.getLogger("cnnzoo.lab")

# The pages, by the first part of their path: each is the same front end.
PAGES = ("", "zoo", "models", "runs", "inside", "experiments")


# Every answer: no sniffing a picture into a script, no framing (a page of another site
# cannot trick a click), scripts and styles from the lab only, no token in a Referer.
_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        b"script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
]
# A picture of a run folder (an SVG may hold a script) opened on its own: in a sandbox.
_PICTURE_HEADERS = [
    (b"content-security-policy", b"sandbox; default-src 'none'; style-src 'unsafe-inline'")
]


class Guard:
    """Refuses what may not reach the lab, before any route runs: without a token, requests
    that do not name the loopback as their host (DNS rebinding); with one, requests that do
    not carry it. Changes, and every call of the API, come from the lab's own pages only (the
    browser names the page's origin and site). A token given in the query is kept in a cookie
    for the page's own calls."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app, self.token = app, token

    def refusal(self, request: Request) -> str | None:
        host = request.headers.get("host", "")
        origin = request.headers.get("origin")
        changes = request.method not in ("GET", "HEAD")
        if changes and origin is not None and origin.split("://", 1)[-1].lower() != host.lower():
            return "the lab takes changes from its own pages only"
        site = request.headers.get("sec-fetch-site")
        if request.url.path.startswith("/api/") and site not in (None, "same-origin", "none"):
            return "the lab's API answers the lab's own pages only"
        if self.token is None:
            if not is_loopback(host_of(host)):
                return "the lab answers requests to localhost only"
            return None
        given = (
            request.query_params.get("token")
            or request.cookies.get(TOKEN_COOKIE)
            or request.headers.get("authorization", "").partition(" ")[2].strip()
            or None
        )
        if not token_matches(given, self.token):
            return "the lab needs its access token: open the URL it printed"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        extra = list(_HEADERS)
        if "/file" in request.url.path:
            extra = [h for h in extra if h[0] != b"content-security-policy"] + _PICTURE_HEADERS
        if self.token is not None and "token" in request.query_params:
            cookie = f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"
            extra.append((b"set-cookie", cookie.encode()))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        refused = self.refusal(request)
        if refused is not None:
            if self.token is not None:
                extra = [h for h in extra if h[0] != b"set-cookie"]  # no cookie for a wrong one
            await _refuse(refused)(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


class StartRun(BaseModel):
    """The body of ``POST /api/runs``: a new run's choices (checked again by ``NewRun``)."""

    model_config = ConfigDict(extra="forbid")

    model: str
    recipe: str | None = None
    data: str = "fashion-mnist"
    epochs: int | None = Field(default=None, ge=1, le=MAX_EPOCHS)
    train_subset: int = Field(default=0, ge=0)
    test_subset: int = Field(default=0, ge=0)
    threads: int = Field(default=0, ge=0, le=1024)


class ResumeRun(BaseModel):
    model_config = ConfigDict(extra="forbid")

    epochs: int | None = Field(default=None, ge=1, le=MAX_EPOCHS)


def _refuse(message: str) -> Response:
    return JSONResponse({"error": message}, status_code=403)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(runs_root: str | Path = "runs", token: str | None = None) -> FastAPI:
    """The lab over the runs under ``runs_root``; with ``token``, every request must carry it."""
    root = Path(runs_root).expanduser()
    jobs = Jobs(root)
    uploads = inside.Uploads()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        warming = threading.Thread(target=zoo.warm, args=(stop,), name="cnnzoo-lab-warm")
        warming.start()
        yield
        stop.set()  # a thread still in PyTorch when Python exits would abort it
        await asyncio.to_thread(warming.join)
        await asyncio.to_thread(jobs.stop_all)  # each run keeps its checkpoint

    app = FastAPI(
        title="cnnzoo lab", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.state.jobs = jobs
    app.add_middleware(Guard, token=token)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, error: Forbidden) -> JSONResponse:
        return _error(403, str(error))

    @app.exception_handler(NotFound)
    async def not_found(request: Request, error: NotFound) -> JSONResponse:
        return _error(404, str(error))

    @app.exception_handler(TooLarge)
    async def too_large(request: Request, error: TooLarge) -> JSONResponse:
        return _error(413, str(error))

    @app.exception_handler(UnknownModelError)
    async def unknown_model(request: Request, error: UnknownModelError) -> JSONResponse:
        return _error(404, str(error))

    @app.exception_handler(CnnzooError)
    async def bad_input(request: Request, error: CnnzooError) -> JSONResponse:
        return _error(400, str(error))  # what the user can put right: a size, an option

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return _error(422, f"{where}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        return _error(error.status_code, str(error.detail))

    @app.exception_handler(Exception)
    async def bug(request: Request, error: Exception) -> JSONResponse:
        log.exception("the lab failed on %s", request.url.path)
        return _error(500, f"the lab failed ({type(error).__name__}); the server's log has more")

    @app.get("/api/models")
    def models() -> list[dict[str, Any]]:
        return zoo.zoo_table()

    @app.get("/api/models/{name}")
    def model(name: str, input: str | None = None) -> dict[str, Any]:
        return zoo.model_page(name, input)

    @app.get("/api/runs")
    def all_runs() -> list[dict[str, Any]]:
        return runs.find_runs(root) if root.is_dir() else []

    @app.get("/api/choices")
    def choices() -> dict[str, Any]:
        """What a new run may be: the page's form offers these and nothing else."""
        return {
            "models": list_models(),
            "recipes": [{"name": r.name, "source": r.source} for r in RECIPES.values()],
            "data": list(DATASETS),
            "max_epochs": MAX_EPOCHS,
        }

    @app.post("/api/runs", status_code=201)
    def start_run(body: StartRun) -> dict[str, Any]:
        job = jobs.start(NewRun(**body.model_dump()))
        return {"id": job.run_id, "status": "starting"}

    def subject(run: str | None, model: str | None, weights: str | None) -> inside.Subject:
        if run and not (model or weights):
            return inside.run_subject(root, run)
        if model and weights and not run:
            return inside.weights_subject(model, weights)
        raise ConfigError("name a run (run=ID), or a model and its weights (model=NAME&weights=W)")

    @app.get("/api/inside/subject")
    def inside_subject(
        run: str | None = None, model: str | None = None, weights: str | None = None
    ) -> dict[str, Any]:
        chosen = subject(run, model, weights)
        return {
            "title": chosen.title,
            "classes": list(chosen.classes),
            "layers": chosen.layers(),
            "test_images": chosen.test_images(),
            "demos": [{"name": k, "description": v} for k, v in DEMO_IMAGES.items()],
        }

    @app.get("/api/demo-image")
    def demo(
        name: str,
        height: int = Query(224, ge=1, le=4096),
        width: int = Query(224, ge=1, le=4096),
        channels: int = Query(3, ge=1, le=3),
    ) -> Response:
        """A demo photo at a network's input size, for the pages to draw over."""
        picture = demo_picture(name, height, width, 1 if channels == 1 else 3)
        out = io.BytesIO()
        picture.save(out, format="PNG")
        return Response(out.getvalue(), media_type="image/png")

    @app.get("/api/inside")
    def look_inside(
        image: str,
        run: str | None = None,
        model: str | None = None,
        weights: str | None = None,
        layer: str | None = None,
        target: int | None = None,
    ) -> dict[str, Any]:
        return inside.look(subject(run, model, weights), image, uploads, layer, target)

    @app.post("/api/images", status_code=201)
    async def upload(request: Request) -> dict[str, Any]:
        """An image as the request's body (the page sends the file's bytes as they are)."""
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > inside.MAX_UPLOAD:
                raise TooLarge(f"the image is over {inside.MAX_UPLOAD:,} bytes: refused")
        return await asyncio.to_thread(uploads.store, bytes(data))

    # What is done to a run names it in the query: a run folder may be called "log" too.
    @app.get("/api/file")
    def run_picture(run: str, name: str) -> FileResponse:
        return FileResponse(runs.run_file(root, run, name))

    @app.get("/api/log")
    def run_log(run: str) -> dict[str, Any]:
        return {"id": run, "text": jobs.log(run)}

    @app.post("/api/stop")
    def stop_run(run: str) -> dict[str, Any]:
        jobs.stop(run)
        return {"id": run, "status": "stopping"}

    @app.post("/api/evaluate")
    def evaluate_run(run: str) -> dict[str, Any]:
        jobs.evaluate(run)
        return {"id": run, "status": "evaluating"}

    @app.post("/api/resume")
    def resume_run(run: str, body: ResumeRun) -> dict[str, Any]:
        jobs.resume(run, body.epochs)
        return {"id": run, "status": "starting"}

    @app.get("/api/runs/{run_id:path}")
    def run(run_id: str) -> dict[str, Any]:
        job = jobs.get(run_id)
        try:
            detail = runs.run_detail(root, run_id)
        except NotFound:
            if job is None:
                raise
            # Started here, and its process has not yet written a config and metrics.
            detail = runs.starting(run_id)
        if job is not None:
            running = job.running  # asked once: the answers below agree with each other
            detail["job"] = {"running": running, "exit_code": job.process.poll(), "kind": job.kind}
            if running and job.kind == "eval":
                detail["status"] = "evaluating"
            elif running and detail["status"] != "starting":
                detail["status"] = "running"  # until its process has exited
            elif not running and detail["status"] == "starting":
                detail["status"] = "failed"
        return detail

    @app.get("/api/experiments")
    def all_experiments() -> dict[str, Any]:
        found = experiments.find_experiments(root) if root.is_dir() else []
        return {"found": found, "known": experiments.known_experiments()}

    @app.get("/api/experiment-file")
    def experiment_picture(experiment: str, name: str) -> FileResponse:
        return FileResponse(experiments.experiment_file(root, experiment, name))

    @app.get("/api/experiments/{experiment_id:path}")
    def experiment(experiment_id: str) -> dict[str, Any]:
        return experiments.experiment_detail(root, experiment_id)

    @app.get("/api/{rest:path}")
    def no_such_api(rest: str) -> None:
        raise NotFound(f"/api/{rest}: no such endpoint")

    static = resources.files("cnnzoo.lab") / "static"

    @app.get("/static/{name}")
    def asset(name: str) -> Response:
        if name not in _ASSETS:
            raise NotFound(f"/static/{name}: no such file")
        return Response((static / name).read_bytes(), media_type=_ASSETS[name])

    @app.get("/{page:path}")
    def page(page: str) -> HTMLResponse:
        if page.split("/", 1)[0] not in PAGES:
            raise NotFound(f"/{page}: no such page")
        return HTMLResponse((static / "index.html").read_text(encoding="utf-8"))

    return app


_ASSETS = {"app.js": "text/javascript", "style.css": "text/css"}
