"""The sandbox's HTTP routes: the Superfone Enterprise API under ``/superfone`` and the admin API.

Routes return ready JSON (fast, and byte-exact); their declared response models put the documented contract
in the OpenAPI document (``/openapi.json``, ``/docs``). Every error is ``{"message": ...}`` with a 4xx
status, including malformed JSON, unknown paths and wrong methods.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from importer.errors import ConfigError
from importer.models import (
    LIST_KINDS,
    CreateTaskRequest,
    LabelRow,
    LeadGroupRow,
    LeadOut,
    LeadStageRow,
    MessageOut,
    PageOut,
    ProductRow,
    SourceTypeRow,
    SuccessOut,
    Task,
    TaskOut,
    UpsertLeadRequest,
)
from importer.phones.normalise import is_e164
from importer.sandbox.leadsquared import leadsquared_router
from importer.sandbox.middleware import KnobsMiddleware
from importer.sandbox.pollybot import pollybot_router
from importer.sandbox.rules import Rejection, plan_upsert
from importer.sandbox.sheets import google_admin_router, google_router
from importer.sandbox.state import Sandbox
from importer.sandbox.tasks import MAX_PAGE_SIZE, TaskBook, lead_id_of

_SUCCESS = b'{"data":null,"message":"success"}'
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": MessageOut} for status in (400, 401, 404, 429, 500, 503)
}
_LIST_MODELS: dict[str, type] = dict(
    zip(LIST_KINDS, (LabelRow, LeadStageRow, LeadGroupRow, ProductRow, SourceTypeRow), strict=True)
)


def create_app(sandbox: Sandbox) -> FastAPI:
    """A FastAPI app serving ``sandbox``, with the knobs middleware in front."""
    app = FastAPI(title="Superfone sandbox", version="1", summary="A local Superfone Enterprise API.")
    app.include_router(_api_router(sandbox), prefix="/superfone/enterprise/api")
    app.include_router(leadsquared_router(sandbox.leadsquared, lambda: sandbox.config), prefix="/leadsquared")
    app.include_router(pollybot_router(sandbox.pollybot, lambda: sandbox.config), prefix="/pollybot")
    app.include_router(google_router(sandbox.google), prefix="/google")
    app.include_router(google_admin_router(sandbox.google), prefix="/__sandbox/google")
    app.include_router(_admin_router(sandbox), prefix="/__sandbox")
    app.add_exception_handler(Rejection, _rejection_response)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error_response)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error_response)  # type: ignore[arg-type]
    app.add_middleware(KnobsMiddleware, sandbox=sandbox)
    return app


def message(status: int, text: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"message": text}, status_code=status, headers=headers)


async def _rejection_response(_: Request, exc: Rejection) -> JSONResponse:
    return message(exc.status, exc.message)


async def _http_error_response(_: Request, exc: HTTPException) -> JSONResponse:
    texts = {404: "Not found", 405: "Method not allowed"}
    return message(exc.status_code, texts.get(exc.status_code, str(exc.detail)), exc.headers)


async def _validation_error_response(_: Request, exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0] if exc.errors() else {}
    location = ".".join(str(part) for part in first.get("loc", ()))
    return message(400, f"{location}: {first.get('msg', 'invalid request')}")


def _api_router(sandbox: Sandbox) -> APIRouter:
    router = APIRouter(responses=_ERRORS)

    @router.post(
        "/lead",
        response_model=SuccessOut,
        summary="Create or update a lead (upsert by customer_phone)",
        openapi_extra=_UPSERT_BODY,
    )
    async def upsert_lead(request: Request) -> Response:
        body = _json_object(await request.body())
        store = sandbox.store
        with store.transaction():
            store.apply(plan_upsert(body, sandbox.catalog, store))
        return Response(_SUCCESS, media_type="application/json")

    @router.get("/lead", response_model=LeadOut, summary="Get a lead by any of its phones",
                openapi_extra=_query_parameters(("phone", "string", "Any phone of the lead, E.164 (URL-encode the +)")))
    async def get_lead(request: Request) -> Response:
        phone = request.query_params.get("phone")
        if not phone:
            raise Rejection(400, "Phone query parameter is required")
        if not is_e164(phone):
            raise Rejection(400, "Invalid phone number")
        lead = sandbox.store.find_lead(phone)
        if lead is None:
            raise Rejection(404, "Customer not found")
        return JSONResponse({"data": lead, "message": "success"})

    for endpoint, row_model in _LIST_MODELS.items():
        router.add_api_route(
            f"/{endpoint}",
            _list_endpoint(sandbox, endpoint),
            methods=["GET"],
            response_model=PageOut[row_model],  # type: ignore[valid-type]
            summary=f"List {endpoint} rows (text filter, paging)",
            openapi_extra=_LIST_PARAMETERS,
        )
    _task_routes(router, TaskBook(sandbox.store, sandbox.catalog.org_id))
    return router


def _task_routes(router: APIRouter, book: TaskBook) -> None:
    """Reference §4; the rules are in :mod:`importer.sandbox.tasks`."""

    @router.post("/lead/{lead_id}/task", response_model=TaskOut, summary="Create a task on a lead",
                 openapi_extra=_TASK_BODY)
    async def create_task(lead_id: str, request: Request) -> Response:
        number = lead_id_of(lead_id)
        body = _json_object(await request.body())
        return JSONResponse({"data": book.create(number, body), "message": "success"})

    @router.post("/lead/{lead_id}/task/complete", response_model=TaskOut,
                 summary="Complete the lead's most recently created open task")
    async def complete_task(lead_id: str) -> Response:
        return JSONResponse({"data": book.complete(lead_id_of(lead_id)), "message": "success"})

    @router.get("/lead/{lead_id}/task", response_model=PageOut[Task],
                summary="List a lead's tasks, newest first", openapi_extra=_TASK_LIST_PARAMETERS)
    async def list_tasks(lead_id: str, request: Request) -> Response:
        number = lead_id_of(lead_id)
        page = _positive_int(request.query_params.get("page"), "page", 1)
        page_size = _positive_int(request.query_params.get("page_size"), "page_size", MAX_PAGE_SIZE)
        return JSONResponse({"data": book.page(number, page, page_size), "message": "success"})


def _query_parameters(*parameters: tuple[str, str, str]) -> dict[str, Any]:
    """OpenAPI declarations of query parameters the routes read by hand (to answer with the documented 400s)."""
    return {"parameters": [
        {"name": name, "in": "query", "required": False, "description": text,
         "schema": {"type": kind, "minimum": 1} if kind == "integer" else {"type": kind}}
        for name, kind, text in parameters
    ]}


_LIST_PARAMETERS = _query_parameters(
    ("text", "string", "Case-insensitive substring filter on the title"),
    ("page", "integer", "Page number, from 1 (default 1)"),
    ("page_size", "integer", "Rows per page (default 50)"),
)


def _list_endpoint(sandbox: Sandbox, endpoint: str) -> Any:
    async def list_rows(request: Request) -> Response:
        query = request.query_params
        page = _positive_int(query.get("page"), "page", 1)
        page_size = _positive_int(query.get("page_size"), "page_size", 50)
        data = sandbox.catalog.page(endpoint, query.get("text"), page, page_size)
        return JSONResponse({"data": data, "message": "success"})

    list_rows.__name__ = f"list_{endpoint.replace('-', '_')}"
    return list_rows


def _positive_int(raw: str | None, name: str, default: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise Rejection(400, f"{name} must be a positive integer")
    return int(raw)


def _json_object(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise Rejection(400, "Request body must be a JSON object")
    try:
        document = json.loads(raw, parse_constant=_reject_constant)
    except ValueError:
        raise Rejection(400, "Malformed JSON body") from None
    if not isinstance(document, dict):
        raise Rejection(400, "Request body must be a JSON object")
    return document


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _admin_router(sandbox: Sandbox) -> APIRouter:
    router = APIRouter(tags=["sandbox admin (loopback only, no API key)"])
    _lead_routes(router, sandbox)

    @router.get("/requests", summary="The request log, oldest first")
    async def requests_log() -> Response:
        return JSONResponse(sandbox.log.as_json())

    @router.get("/requests/counts", summary="How many requests came to each endpoint since the log was cleared")
    async def request_counts() -> Response:
        return JSONResponse(sandbox.log.counts())

    @router.delete("/requests", summary="Clear the request log (and its counts)")
    async def clear_requests() -> Response:
        sandbox.log.clear()
        return JSONResponse({"message": "cleared"})

    @router.get("/sources/requests", summary="The calls to the source CRMs: phones and ids asked, statuses")
    async def source_requests() -> Response:
        return JSONResponse({"leadsquared": sandbox.leadsquared.calls, "pollybot": sandbox.pollybot.calls})

    @router.get("/config", summary="The knobs")
    async def get_config() -> Response:
        return JSONResponse(sandbox.config.public())

    @router.patch("/config", summary="Change some knobs")
    async def patch_config(request: Request) -> Response:
        changes = _json_object(await request.body())
        try:
            config = sandbox.configure(changes)
        except ConfigError as exc:
            raise Rejection(400, str(exc)) from None
        return JSONResponse(config.public())

    @router.post("/reset", summary='Seed state again; {"config": true} also restores the knobs')
    async def reset(request: Request) -> Response:
        raw = await request.body()
        options = _json_object(raw) if raw.strip() else {}
        sandbox.reset(config=options.get("config") is True)
        return JSONResponse({"message": "reset"})

    return router


def _lead_routes(router: APIRouter, sandbox: Sandbox) -> None:
    @router.get("/leads", summary="Every lead, with products and notes")
    async def leads() -> Response:
        return JSONResponse(sandbox.store.dump())

    @router.delete("/leads/{phone}", summary="Delete the lead with this phone (any position), as a person would")
    async def delete_lead(phone: str) -> Response:
        lead_id = sandbox.store.delete_lead(phone)
        if lead_id is None:
            raise Rejection(404, f"No lead has the phone {phone}")
        return JSONResponse({"message": "deleted", "id": lead_id})


def _inline_schema(model: type[UpsertLeadRequest] | type[CreateTaskRequest]) -> dict[str, Any]:
    """The model's JSON schema with its ``$defs`` inlined (OpenAPI cannot resolve ``#/$defs``)."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str) and reference.startswith("#/$defs/"):
                return resolve(definitions[reference.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


_UPSERT_JSON = {"application/json": {"schema": _inline_schema(UpsertLeadRequest)}}
_TASK_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": _inline_schema(CreateTaskRequest)}}}}
_TASK_LIST_PARAMETERS = _query_parameters(
    ("page", "integer", "Page number, from 1 (default 1)"),
    ("page_size", "integer", f"Rows per page (default and maximum {MAX_PAGE_SIZE})"),
)
_UPSERT_BODY = {"requestBody": {"required": True, "content": _UPSERT_JSON}}
