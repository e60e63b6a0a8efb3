"""The FastAPI app: pages, static files (Plotly.js from the plotly package, never a CDN), the API
under /api/v1, the limits and the safety headers."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

import mschemo as ms

from ..requests import API, EXAMPLE_PATIENTS, other_treatments
from ..requests.base import bounded
from ..requests.explain import EVERY, EXPLAIN_DRUGS
from ..requests.personalise import example_patient_text
from .compute import Compute, explain_bytes, json_safe, plan_json, plan_sheet, simulate_json, too_many
from .jobs import Job, QueueFull, TrialJobs
from .schemas import CheckBody, ErrorBody, ExplainBody, PersonaliseBody, SimulateBody, TrialBody
from .settings import WebSettings

__all__ = ["build", "PAGES", "SECURITY_HEADERS"]

#: pages: path -> (file, title)
PAGES = {"/": ("index.html", "How chemotherapy works in MS"), "/plan": ("plan.html", "Dose planner"),
         "/check": ("check.html", "Give or hold"), "/trials": ("trials.html", "Trial runner")}
SECURITY_HEADERS = {
    # scripts and data only from this server: no inline script, no third-party request; Plotly sets
    # inline styles, so styles allow them; the printable sheet and reports show data: images
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cache-Control": "no-store",
}
STATIC = "static"
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "a field is wrong: the one-sentence message says which and how to fix it"},
    413: {"model": ErrorBody, "description": "the body is larger than the server accepts"},
    422: {"model": ErrorBody, "description": "the body does not have the shape of this endpoint"}}


def _static_dir() -> Path:
    assert __package__ is not None      # a module of the package mschemo.interfaces.web
    return Path(str(resources.files(__package__) / STATIC))


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


# -- errors --------------------------------------------------------------------------------------------
def one_line(message: str) -> str:
    """A message as one line of bounded length (300 characters, as the command line prints): control
    characters a person typed (a newline in a field) are shown escaped, and a long echo of the input is
    cut in the middle."""
    return bounded(re.sub(r"[\x00-\x1f\x7f]", lambda m: repr(m.group())[1:-1], message))


def _error(status: int, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"error": one_line(message), "field": field, "disclaimer": ms.DISCLAIMER},
                        status_code=status)


def _field_of(message: str, names: tuple[str, ...], sent: tuple[str, ...] = ()) -> str | None:
    """The body field a message is about: the field it starts with, a field it asks to add, else the
    first field it names among those sent, else the first it names."""
    head = re.split(r"[\s:]", message.strip(), maxsplit=1)[0]
    if head in names:
        return head
    add = re.search(r"\badd (\w+)", message)
    if add and add.group(1) in names:
        return add.group(1)
    found = [(m.start(), name) for name in names
             if (m := re.search(rf"(^|[\s(]){re.escape(name)}([\s,.;]|=|$)", message))]
    for pool in ([f for f in found if f[1] in sent], found):
        if pool:
            return min(pool)[1]
    m = re.search(r"\b(counts|doses|lvef|covariates)(\[\d+\]|\.\w+)", message)
    return m.group(0) if m else None


def _validation_message(errors: Sequence[Mapping[str, Any]]) -> tuple[str, str | None]:
    err = errors[0]
    loc = [str(x) for x in err.get("loc", ()) if x not in ("body",)]
    where = ".".join(loc) or "the body"
    msg = str(err.get("msg", "is not valid")).rstrip(".")
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    value = err.get("input")
    shown = "" if isinstance(value, (dict, list)) or value is None or len(repr(value)) > 60 else f" (got {value!r})"
    if err.get("type") == "extra_forbidden":
        return f"{where} is not a field of this request{shown}; remove it (see /api/v1/openapi.json).", where
    if err.get("type") == "string_pattern_mismatch":
        return (f"{where}{shown} is not the name of a built-in; give a name of letters, digits and '-' (the lists "
                "are at /api/v1/drugs).", where)
    if err.get("type") == "missing":
        return f"{where} is missing; add it (see /api/v1/openapi.json).", where
    if err.get("type") in ("json_invalid", "model_attributes_type", "dict_type"):
        return "the body is not a JSON object; send a JSON object with the fields of this request.", None
    return f"{where}: {msg}{shown}; fix this field (see /api/v1/openapi.json).", where


# -- limits --------------------------------------------------------------------------------------------
class BodyLimit:
    """Refuses a body over ``limit`` bytes (413) by its Content-Length, or while it is read."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        too_big = _error(413, f"the request body is over {self.limit:,} bytes, the most this server accepts; send a "
                              "smaller file or body.")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await too_big(scope, receive, send)
        seen = 0

        async def limited() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooBig
            return message

        try:
            await self.app(scope, limited, send)
        except _TooBig:
            await too_big(scope, receive, send)


class _TooBig(Exception):
    pass


# -- the app -------------------------------------------------------------------------------------------
def build(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings.from_env()
    jobs = TrialJobs(settings.trial_workers, settings.trial_queue, settings.trial_keep)
    compute = Compute(settings.compute_workers)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        compute.warm()
        yield
        jobs.close()
        compute.close()

    app = FastAPI(title="mschemo", version=ms.__version__, lifespan=lifespan, docs_url="/api/v1/docs",
                  redoc_url=None, openapi_url="/api/v1/openapi.json",
                  description="Simulate, personalise and plan chemotherapy for multiple sclerosis. " + ms.DISCLAIMER)
    app.state.settings, app.state.jobs = settings, jobs

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        return response

    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)

    @app.exception_handler(ms.MschemoError)
    async def input_error(request: Request, exc: ms.MschemoError) -> JSONResponse:
        names = tuple(getattr(request.state, "fields", ()))
        sent = tuple(getattr(request.state, "sent", ()))
        message = str(exc)
        if isinstance(exc, ms.ConvergenceError):
            message = message.splitlines()[0]
        return _error(400, message, _field_of(message, names, sent))

    @app.exception_handler(RequestValidationError)
    async def shape_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        message, field = _validation_message(list(exc.errors()))
        return _error(422, message, field)

    @app.exception_handler(ValidationError)
    async def model_error(request: Request, exc: ValidationError) -> JSONResponse:
        message, field = _validation_message(list(exc.errors()))
        return _error(422, message, field)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        text = exc.detail if isinstance(exc.detail, str) and exc.detail.endswith(".") else \
            f"{request.url.path}: {exc.detail}; see /api/v1/openapi.json for the endpoints."
        return _error(exc.status_code, text)

    _pages(app)
    app.include_router(_api(settings, jobs, compute), prefix="/api/v1")
    return app


def _page_html(name: str, title: str) -> str:
    body = (_static_dir() / name).read_text(encoding="utf-8")
    shell = (_static_dir() / "shell.html").read_text(encoding="utf-8")
    return (shell.replace("{{title}}", title).replace("{{body}}", body).replace("{{disclaimer}}", ms.DISCLAIMER)
            .replace("{{version}}", ms.__version__).replace("{{page}}", name.removesuffix(".html")))


def _pages(app: FastAPI) -> None:
    for path, (name, title) in PAGES.items():
        def page(name: str = name, title: str = title) -> HTMLResponse:
            return HTMLResponse(_page_html(name, title))

        app.add_api_route(path, page, methods=["GET"], include_in_schema=False, response_class=HTMLResponse)

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> FileResponse:
        if name == "plotly.min.js":
            return FileResponse(_plotly_js(), media_type="text/javascript",
                                headers={"Cache-Control": "public, max-age=86400"})
        path = _static_dir() / name
        if not re.fullmatch(r"[a-z_]+\.(js|css|svg)", name) or not path.is_file():
            raise StarletteHTTPException(404, f"there is no static file '{name}'.")
        media = {"js": "text/javascript", "css": "text/css", "svg": "image/svg+xml"}[name.rsplit(".", 1)[1]]
        return FileResponse(path, media_type=media, headers={"Cache-Control": "public, max-age=3600"})


def _fields(request: Request, body: Any) -> None:
    request.state.fields = tuple(type(body).model_fields)
    request.state.sent = tuple(body.model_fields_set)


def _api(settings: WebSettings, jobs: TrialJobs, compute: Compute) -> APIRouter:
    api = APIRouter(responses=_ERRORS)

    explained: OrderedDict[Any, bytes] = OrderedDict()   # the latest answers by choice (most recent last)

    @api.get("/drugs", summary="The explainer's drugs with their dose ranges, and the drugs with label rules")
    def drugs() -> dict[str, Any]:
        rules = {}
        for name in ms.available_drugs():
            d = ms.load_drug(name)
            rules[name] = {"title": d.title, "label_regimen": d.default_regimen, "rules": d.rules.describe(),
                           "cap_regions": d.rules.regions}
        return {"explainer": EXPLAIN_DRUGS, "every": list(EVERY), "drugs": rules,
                "example_patients": list(EXAMPLE_PATIENTS), "trial_examples": ms.trials.example_trials(),
                "disclaimer": ms.DISCLAIMER}

    @api.get("/treatments", summary="The treatments beside chemotherapy and the evidence behind each")
    def treatments() -> dict[str, Any]:
        return {"treatments": json_safe(other_treatments()), "disclaimer": ms.DISCLAIMER}

    @api.post("/simulate", summary="A simulation as 'mschemo simulate' runs it (built-in drugs, models and "
                                   "scenarios): summary, grades, nadirs, decisions, disease")
    async def simulate(body: SimulateBody, request: Request) -> dict[str, Any]:
        _fields(request, body)
        try:
            n = float(str(body.n)) if body.n is not None else 0.0
        except ValueError:
            n = 0.0                                   # the request's own check says what is wrong
        if n == n and n > settings.simulate_max_patients:
            too_many(int(min(n, 1e18)), settings.simulate_max_patients)
        return await compute(simulate_json, body.request(), settings.simulate_max_patients)

    @api.post("/explain", summary="The explainer's simulation: counts, relapses, EDSS and symptoms, treated "
                                  "and untreated", response_class=JSONResponse)
    async def explain(body: ExplainBody, request: Request) -> Response:
        _fields(request, body)
        job = body.request().resolve(API)
        answer = explained.get(job)
        if answer is None:
            answer = await compute(explain_bytes, job)
            explained[job] = answer
            while len(explained) > settings.explain_cache:
                explained.popitem(last=False)
        explained.move_to_end(job)
        return Response(answer, media_type="application/json")

    @api.post("/check", summary="Give or hold today: every label rule checked on today's facts")
    def check(body: CheckBody, request: Request) -> dict[str, Any]:
        _fields(request, body)
        r = body.request().resolve(API).run()
        d = r.decision
        checks = [{"rule": c.rule, "check": c.name, "kind": c.kind, "status": c.status, "value": c.value_text,
                   "limit": c.limit_text, "reason": c.reason, "action": c.action or None} for c in r.checks]
        return json_safe({"drug": r.drug, "date": r.date, "course": r.course, "dose": r.dose_text,
                           "verdict": r.verdict, "verdict_text": r.verdict_text, "action": d.action,
                           "reason": d.reason, "recheck_date": r.recheck_date, "checks": checks,
                           "lifetime_before": d.lifetime_before, "lifetime_after": d.lifetime,
                           "lifetime_unit": d.lifetime_unit or None, "disclaimer": ms.DISCLAIMER})

    @api.get("/patients/examples/{name}", summary="A built-in example patient's file (its text)")
    def example_patient(name: str) -> dict[str, Any]:
        text, fmt = example_patient_text(name, API)
        return {"name": name, "format": fmt, "text": text, "disclaimer": ms.DISCLAIMER}

    @api.post("/personalise", summary="The next dose from a patient's own counts (Bayesian)")
    async def personalise(body: PersonaliseBody, request: Request) -> dict[str, Any]:
        _fields(request, body)
        return await compute(plan_json, body.request())

    @api.post("/personalise/sheet", summary="The printable infusion-centre sheet of the plan (HTML)",
              response_class=HTMLResponse)
    async def sheet(body: PersonaliseBody, request: Request) -> HTMLResponse:
        _fields(request, body)
        html = await compute(plan_sheet, body.request())
        return HTMLResponse(html, headers={"Content-Disposition": "inline; filename=sheet.html"})

    # the answer is the job (a full queue answers 429 with the error body, passing the response model by)
    @api.post("/trials", status_code=202, summary="Start a trial as a background job", response_model=dict[str, Any])
    def create_trial(body: TrialBody, request: Request) -> dict[str, Any] | JSONResponse:
        _fields(request, body)
        job = body.request().resolve(API)
        total = job.total
        if total > settings.trial_max_patients:
            raise ms.OptionError(f"n_per_arm {job.n_per_arm} gives {total:,} patients in all, over this server's "
                                 f"{settings.trial_max_patients:,}; give a smaller n_per_arm, e.g. "
                                 f"n_per_arm = {max(1, settings.trial_max_patients * job.n_per_arm // total)}.")
        fields = body.request().model_dump(exclude_none=True)
        fields["n_per_arm"], fields["seed"] = job.n_per_arm, job.seed
        try:
            created = jobs.submit(fields, job.spec.name, job.n_per_arm, total)
        except QueueFull as exc:
            return _error(429, str(exc))
        return created.public(ms.DISCLAIMER)

    @api.get("/trials", summary="The trial jobs of this server")
    def list_trials() -> dict[str, Any]:
        return {"jobs": [j.public(ms.DISCLAIMER) for j in reversed(list(jobs.jobs.values()))],
                "workers": settings.trial_workers, "queue": settings.trial_queue,
                "max_patients": settings.trial_max_patients}

    def _found(job: Job | None, job_id: str) -> Job:
        if job is None:
            raise StarletteHTTPException(404, f"there is no trial job '{job_id[:40]}'; list them at /api/v1/trials.")
        return job

    def _job(job_id: str) -> Job:
        return _found(jobs.get(job_id), job_id)

    @api.get("/trials/{job_id}", summary="A trial job's state and progress")
    def trial_status(job_id: str) -> dict[str, Any]:
        return _job(job_id).public(ms.DISCLAIMER)

    @api.delete("/trials/{job_id}", summary="Cancel a trial job (its files are deleted)")
    def cancel_trial(job_id: str) -> dict[str, Any]:
        _job(job_id)
        # None when the job was evicted meanwhile (another request's submit): the same 404
        return _found(jobs.cancel(job_id), job_id).public(ms.DISCLAIMER)

    def _done(job_id: str) -> Any:
        job = _job(job_id)
        if job.state != "done" or job.folder is None:
            raise StarletteHTTPException(409, f"trial job '{job_id}' is {job.state}, so it has no results; wait until "
                                              "it is done.")
        return job

    @api.get("/trials/{job_id}/report", summary="The trial's HTML report", response_class=HTMLResponse)
    def trial_report(job_id: str) -> FileResponse:
        return FileResponse(_done(job_id).folder / "report.html", media_type="text/html")

    @api.get("/trials/{job_id}/files/{name}", summary="A trial's Parquet file: patients.parquet or visits.parquet")
    def trial_file(job_id: str, name: str) -> FileResponse:
        if name not in ("patients.parquet", "visits.parquet"):
            raise StarletteHTTPException(404, f"a trial has no file '{name[:60]}'; ask for patients.parquet or "
                                              "visits.parquet.")
        job = _done(job_id)
        return FileResponse(job.folder / name, media_type="application/vnd.apache.parquet",
                            filename=f"trial_{job.id}_{name}")

    return api
