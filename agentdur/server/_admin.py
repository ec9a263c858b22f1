"""The admin API (port 9070 by default): services and their schemas, invocations, approvals, state.

Operating verbs are Restate's: ``PATCH /invocations/{id}/cancel|kill|purge|resume``;
``POST /invocations/purge?completed_before=...`` purges every invocation completed before a time.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import partial
from typing import Any, get_args

from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .._exceptions import InvalidInputError, NotFoundError
from .._http import HTTP_ACCEPTED, HTTP_OK
from .._service import App, Definition, HandlerSpec, VirtualObject
from .._workflow import Workflow
from ..engine import InvocationInfo
from ._console import ConsoleApi
from ._durations import parse_delay
from ._errors import EXCEPTION_HANDLERS, CatchAll, health_response
from ._json import SafeJSONResponse
from ._model_calls import annotate as annotate_model_calls
from ._openapi import handler_schema, openapi_document
from ._openapi_routes import admin_openapi_document
from ._params import ChoiceParam, IntParam, TextParam, any_character, check_known, invocation_id
from ._state import ServerState
from ._stream import openapi_paths as stream_openapi_paths
from ._usage import USAGE_PARAMS, usage

STATUSES: tuple[str, ...] = get_args(InvocationInfo.model_fields["status"].annotation)
OUTCOMES: tuple[str, ...] = ("succeeded", "failed", "cancelled", "killed")
VERBS = ("cancel", "kill", "purge", "resume")
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
HALF_MICROSECOND = 0.5e-6
MAX_OFFSET = 1_000_000_000
STATUS_PARAM = ChoiceParam(
    "status", STATUSES + OUTCOMES, "only invocations with this status, or completed with this outcome"
)
OUTCOME_PARAM = ChoiceParam("outcome", OUTCOMES, "only completed invocations with this outcome")
SERVICE_PARAM = TextParam("service", "only invocations of this service")
KEY_PARAM = TextParam("key", "only invocations of this object key")
SINCE_PARAM = TextParam(
    "since", "only invocations created at or after this ISO 8601 time (UTC without a zone)"
)
UNTIL_PARAM = TextParam(
    "until", "only invocations created at or before this ISO 8601 time (UTC without a zone)"
)
LIMIT_PARAM = IntParam("limit", 1, MAX_LIMIT, DEFAULT_LIMIT, "at most this many, newest first")
OFFSET_PARAM = IntParam("offset", 0, MAX_OFFSET, 0, "skip this many (the next_offset of the previous page)")
# The filters of GET /invocations, in the order the OpenAPI document lists them.
COMPLETED_BEFORE_PARAM = TextParam(
    "completed_before", "an ISO 8601 time, or a duration such as 7d or P7D meaning that long ago"
)
INVOCATION_FILTERS = (
    STATUS_PARAM,
    OUTCOME_PARAM,
    SERVICE_PARAM,
    KEY_PARAM,
    SINCE_PARAM,
    UNTIL_PARAM,
    LIMIT_PARAM,
    OFFSET_PARAM,
)


def epoch_of(query: QueryParams, param: TextParam) -> float | None:
    """A query parameter holding an ISO 8601 time (UTC when it names no zone) as epoch seconds."""
    name, text = param.name, param.parse(query)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "+"))
    except ValueError:
        raise InvalidInputError(
            f"{name}: must be an ISO 8601 time such as 2026-01-31T12:00:00Z, not {text!r}"
        ) from None
    # Shown times are rounded to the microsecond and stored ones are finer: half a microsecond
    # earlier, the time an invocation was shown with matches it.
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() - HALF_MICROSECOND


def cutoff_of(query: QueryParams, param: TextParam, now: float) -> float:
    """A required query parameter holding an ISO 8601 time, or a duration meaning "that long ago"
    (``7d``, ``P7D``), as epoch seconds."""
    name, text = param.name, param.parse(query)
    if text is None or not text.strip():
        raise InvalidInputError(f"{name}: required, an ISO 8601 time or a duration such as 7d or P7D")
    try:
        moment = epoch_of(query, param)
    except InvalidInputError:
        moment = None
    if moment is not None:
        return moment + HALF_MICROSECOND
    try:
        return now - parse_delay(text)
    except InvalidInputError:
        raise InvalidInputError(
            f"{name}: must be an ISO 8601 time such as 2026-01-31T12:00:00Z or a duration such as 7d"
            f" or P7D, not {text!r}"
        ) from None


def _service_type(definition: Definition) -> str:
    """The service type as Restate's admin API names it."""
    if isinstance(definition, Workflow):
        return "Workflow"
    return "VirtualObject" if isinstance(definition, VirtualObject) else "Service"


def describe_service(definition: Definition) -> dict[str, Any]:
    """A service as the admin API lists it: its type and each handler's kind and schemas."""
    return {
        "name": definition.name,
        "ty": _service_type(definition),
        "description": definition.description,
        "handlers": [describe_handler(spec) for spec in definition.handlers.values()],
    }


def describe_handler(spec: HandlerSpec) -> dict[str, Any]:
    """A handler: its kind (``None`` for a service handler) and the JSON schemas of input and output."""
    return {
        "name": spec.name,
        "kind": spec.kind,
        "input_json_schema": handler_schema(spec.input_adapter, "validation") if spec.takes_input else None,
        "output_json_schema": handler_schema(spec.output_adapter, "serialization"),
    }


class Admin:
    """The request handlers of the admin API, bound to one :class:`ServerState`."""

    def __init__(self, state: ServerState) -> None:
        self.state = state

    @property
    def app(self) -> App:
        return self.state.engine.app

    def definition(self, request: Request) -> Definition:
        name = request.path_params["name"]
        definition = self.app.services.get(name)
        if definition is None:
            raise NotFoundError(f"unknown service {name!r}")
        return definition

    async def health(self, request: Request) -> Response:
        return health_response(self.state.engine.health())

    async def services(self, request: Request) -> Response:
        return SafeJSONResponse({"services": [describe_service(d) for d in self.app.services.values()]})

    async def service(self, request: Request) -> Response:
        return SafeJSONResponse(describe_service(self.definition(request)))

    async def service_openapi(self, request: Request) -> Response:
        definition = self.definition(request)
        document = openapi_document(
            [definition], title=definition.name, server_url=self.state.ingress_url, restate_api=False
        )
        return SafeJSONResponse(document)

    async def openapi(self, request: Request) -> Response:
        services = self.app.services.values()
        document = openapi_document(services, title="agentdur ingress", server_url=self.state.ingress_url)
        document["paths"].update(stream_openapi_paths())
        return SafeJSONResponse(document)

    async def admin_openapi(self, request: Request) -> Response:
        return SafeJSONResponse(
            admin_openapi_document(INVOCATION_FILTERS, VERBS, USAGE_PARAMS, server_url=self.state.admin_url)
        )

    async def invocations(self, request: Request) -> Response:
        query = request.query_params
        check_known(query, INVOCATION_FILTERS)
        status, outcome = STATUS_PARAM.parse(query), OUTCOME_PARAM.parse(query)
        if status in OUTCOMES and outcome is not None and outcome != status:
            raise InvalidInputError(f"status: {status!r} is an outcome and contradicts outcome={outcome!r}")
        limit, offset = LIMIT_PARAM.parse(query), OFFSET_PARAM.parse(query)
        found = await self.state.engine.invocations(
            status=status,
            outcome=outcome,
            service=SERVICE_PARAM.parse(query),
            key=KEY_PARAM.parse(query),
            limit=limit + 1,  # one more tells whether there is a next page
            since=epoch_of(query, SINCE_PARAM),
            until=epoch_of(query, UNTIL_PARAM),
            offset=offset,
        )
        page = [info.model_dump(mode="json", exclude={"journal"}) for info in found[:limit]]
        return SafeJSONResponse(
            {"invocations": page, "next_offset": offset + limit if len(found) > limit else None}
        )

    async def invocation(self, request: Request) -> Response:
        info = await self.state.engine.invocation(invocation_id(request.path_params["id"]))
        body = info.model_dump(mode="json")
        annotate_model_calls(body["journal"])
        return SafeJSONResponse(body)

    async def operate(self, request: Request) -> Response:
        """``PATCH /invocations/{id}/{verb}``: cancel (asynchronous: 202), kill, purge or resume."""
        inv_id, verb = request.path_params["id"], request.path_params["verb"]
        if verb not in VERBS:
            raise NotFoundError(f"unknown operation {verb!r}: use one of {', '.join(VERBS)}")
        invocation_id(inv_id)
        engine = self.state.engine
        operations = {
            "cancel": engine.cancel,
            "kill": engine.kill,
            "purge": engine.purge,
            "resume": engine.resume,
        }
        await operations[verb](inv_id)
        status = "purged" if verb == "purge" else (await engine.invocation(inv_id)).status
        body = {"invocationId": inv_id, "action": verb, "status": status}
        return SafeJSONResponse(body, status_code=HTTP_ACCEPTED if verb == "cancel" else HTTP_OK)

    async def purge_completed(self, request: Request) -> Response:
        """``POST /invocations/purge?completed_before=TIME``: delete what completed before TIME."""
        check_known(request.query_params, (COMPLETED_BEFORE_PARAM,))
        before = cutoff_of(request.query_params, COMPLETED_BEFORE_PARAM, time.time())
        purged = await self.state.engine.purge_completed(before)
        when = datetime.fromtimestamp(before, UTC).isoformat().replace("+00:00", "Z")
        return SafeJSONResponse({"purged": purged, "completed_before": when})

    async def awakeables(self, request: Request) -> Response:
        pending = await self.state.engine.pending_awakeables()
        return SafeJSONResponse({"awakeables": [item.model_dump(mode="json") for item in pending]})

    async def state_of(self, request: Request) -> Response:
        service, key = request.path_params["service"], request.path_params["key"]
        self.app.is_keyed(service)  # NotFoundError for an unknown service
        state = await self.state.engine.state(service, key)
        return SafeJSONResponse({"service": service, "key": key, "state": state})

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/health", self.health, methods=["GET"]),
            Route("/services", self.services, methods=["GET"]),
            Route("/services/{name}", self.service, methods=["GET"]),
            Route("/services/{name}/openapi", self.service_openapi, methods=["GET"]),
            Route("/openapi.json", self.openapi, methods=["GET"]),
            Route("/openapi", self.admin_openapi, methods=["GET"]),
            Route("/invocations", self.invocations, methods=["GET"]),
            Route("/invocations/purge", self.purge_completed, methods=["POST"]),
            Route("/invocations/{id}", self.invocation, methods=["GET"]),
            Route("/invocations/{id}/{verb}", self.operate, methods=["PATCH"]),
            Route("/awakeables", self.awakeables, methods=["GET"]),
            Route("/state/{service}/{key:path}", self.state_of, methods=["GET"]),
            *ConsoleApi(self.state).routes(),
            Route("/usage", partial(usage, self.state), methods=["GET"]),
        ]


def admin_app(state: ServerState) -> Starlette:
    """The admin ASGI application over ``state.engine``."""
    return Starlette(
        routes=any_character(Admin(state).routes()),
        middleware=[Middleware(CatchAll)],
        exception_handlers=EXCEPTION_HANDLERS,
    )
