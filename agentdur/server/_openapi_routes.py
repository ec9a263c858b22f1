"""OpenAPI descriptions of the server's fixed routes: Restate's ``/restate/...`` on the ingress, and
the whole admin API.

Each constraint written here is the one the server checks (the id patterns and query parameters are
the very objects of :mod:`._params` the handlers parse with); each route lists the error statuses
it can answer, all with the JSON body ``{"message", "code"}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from .._http import IDEMPOTENCY_KEY_HEADER
from ..engine import InvocationInfo, PendingAwakeable
from ._params import AWAKEABLE_ID_PATTERN, INVOCATION_ID_PATTERN, Param, path_id

ERROR_REF = "#/components/schemas/Error"
COMPONENTS_REF = "#/components/schemas/{model}"

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "message": {"type": "string"},
        "code": {"type": "integer"},
        "invocationId": {"type": "string", "description": "set when the invocation paused"},
        "status": {"type": "string", "enum": ["paused"], "description": "set when the invocation paused"},
        "reason": {"type": "string", "description": "why the invocation paused"},
    },
    "required": ["message", "code"],
}

# What each error status means, wherever it is listed.
ERROR_MEANINGS = {
    "400": "malformed or invalid input: the message names the field or parameter",
    "401": "the server runs with a token and the request has no (or another) bearer token",
    "404": "unknown service, handler, invocation, awakeable, idempotency key or route",
    "405": "wrong method: Allow lists the right ones",
    "409": "a conflict: already completed, an idempotency key reused with another body, not paused",
    "413": "the body is larger than the server's --max-body",
    "415": "the body is not application/json (text/* for a rejection)",
    "470": "the invocation has not finished yet",
    "500": "an unexpected server error (the details are in the server log); or the invocation the"
    " request waits for paused: the body then has status 'paused' and invocationId",
    "503": "the server is shutting down, or the engine cannot write its journal",
}


def error_responses(*codes: int) -> dict[str, Any]:
    """The ``responses`` entries of the given error statuses, each with the JSON error body."""
    content = {"application/json": {"schema": {"$ref": ERROR_REF}}}
    return {str(code): {"description": ERROR_MEANINGS[str(code)], "content": content} for code in codes}


def json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _operation(operation_id: str, summary: str, tag: str, **fields: Any) -> dict[str, Any]:
    return {"operationId": operation_id, "summary": summary, "tags": [tag], **fields}


# ---------------------------------------------------------------------------------------- ingress

HEALTH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"status": {"type": "string", "enum": ["ok", "unhealthy"]}, "reason": {"type": "string"}},
    "required": ["status"],
}
AWAKEABLE_RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "awakeableId": {"type": "string"},
        "status": {"type": "string", "enum": ["Resolved", "Rejected"]},
    },
    "required": ["awakeableId", "status"],
}
ANY_RESULT = json_response("the invocation's JSON result", {})
INVOCATION_ID_PARAM = path_id("invocationId", INVOCATION_ID_PATTERN, "an invocation id (x-restate-id)")
AWAKEABLE_ID_PARAM = path_id("awakeableId", AWAKEABLE_ID_PATTERN, "an awakeable id")
NAME_SCHEMA: dict[str, Any] = {"type": "string", "minLength": 1}


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": NAME_SCHEMA, "description": description}


def restate_paths() -> dict[str, Any]:
    """The ``/restate/...`` routes of the ingress: health, attach/output by id or idempotency key,
    and resolving or rejecting awakeables."""
    tag = "restate"
    attach_errors = error_responses(400, 401, 404, 500, 503)
    paths: dict[str, Any] = {
        "/restate/health": {
            "get": _operation(
                "restate_health",
                "Whether the engine can write its journal",
                tag,
                responses={
                    "200": json_response("healthy", HEALTH_SCHEMA),
                    "503": json_response("the engine cannot write its journal", HEALTH_SCHEMA),
                },
            )
        },
    }
    targets = {
        "": ([INVOCATION_ID_PARAM], "by id"),
        "_service": (
            [
                _path_param("service", "a service"),
                _path_param("handler", "its handler"),
                _path_param("idempotencyKey", "the idempotency key the invocation was started with"),
            ],
            "of a service handler, by idempotency key",
        ),
        "_object": (
            [
                _path_param("service", "a virtual object"),
                _path_param("key", "the object key"),
                _path_param("handler", "its handler"),
                _path_param("idempotencyKey", "the idempotency key the invocation was started with"),
            ],
            "of an object handler, by idempotency key",
        ),
    }
    for suffix, (parameters, how) in targets.items():
        base = "/restate/invocation/" + "/".join("{" + p["name"] + "}" for p in parameters)
        paths[f"{base}/attach"] = {
            "get": _operation(
                f"attach{suffix}",
                f"Wait for an invocation {how}, then answer its result or failure",
                tag,
                parameters=parameters,
                responses={"200": ANY_RESULT, **attach_errors, "default": _terminal_failure()},
            )
        }
        paths[f"{base}/output"] = {
            "get": _operation(
                f"output{suffix}",
                f"The result of an invocation {how}, or 470 while it runs",
                tag,
                parameters=parameters,
                responses={
                    "200": ANY_RESULT,
                    **attach_errors,
                    **error_responses(470),
                    "default": _terminal_failure(),
                },
            )
        }
    paths["/restate/awakeables/{awakeableId}/resolve"] = {
        "post": _operation(
            "resolve_awakeable",
            "Resolve an awakeable with a JSON value the awakeable's type accepts",
            tag,
            parameters=[AWAKEABLE_ID_PARAM],
            requestBody={"required": False, "content": {"application/json": {"schema": {}}}},
            responses={
                "202": json_response("resolved: the waiting handler resumes", AWAKEABLE_RESULT_SCHEMA),
                **error_responses(400, 401, 404, 409, 413, 415, 503),
            },
        )
    }
    paths["/restate/awakeables/{awakeableId}/reject"] = {
        "post": _operation(
            "reject_awakeable",
            "Reject an awakeable: the waiting handler gets a TerminalError with this reason",
            tag,
            parameters=[AWAKEABLE_ID_PARAM],
            requestBody={"required": False, "content": {"text/plain": {"schema": {"type": "string"}}}},
            responses={
                "202": json_response("rejected", AWAKEABLE_RESULT_SCHEMA),
                **error_responses(400, 401, 404, 409, 413, 415, 503),
            },
        )
    }
    return paths


def _terminal_failure() -> dict[str, Any]:
    return {
        "description": "the invocation's terminal failure, with its code as the status",
        "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
    }


def idempotency_header() -> dict[str, Any]:
    """The ``idempotency-key`` header of a call or a send."""
    return {
        "name": IDEMPOTENCY_KEY_HEADER,
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": "the same key returns the same invocation and result",
    }


# ------------------------------------------------------------------------------------ admin API

SERVICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "ty": {"type": "string", "enum": ["Service", "VirtualObject"]},
        "description": {"type": ["string", "null"]},
        "handlers": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "kind": {"type": ["string", "null"]},
                    "input_json_schema": {"type": ["object", "null"]},
                    "output_json_schema": {"type": "object"},
                },
                "required": ["name", "kind", "input_json_schema", "output_json_schema"],
            },
        },
    },
    "required": ["name", "ty", "description", "handlers"],
}
OPERATION_RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "invocationId": {"type": "string"},
        "action": {"type": "string", "enum": ["cancel", "kill", "purge", "resume"]},
        "status": {"type": "string"},
    },
    "required": ["invocationId", "action", "status"],
}
STATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"service": {"type": "string"}, "key": {"type": "string"}, "state": {"type": "object"}},
    "required": ["service", "key", "state"],
}
DOCUMENT = json_response("an OpenAPI 3.1 document", {"type": "object"})


def _model(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    """A reference to ``model``'s schema, added (with the models it uses) to ``components``."""
    schema = model.model_json_schema(mode="serialization", ref_template=COMPONENTS_REF)
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": COMPONENTS_REF.format(model=model.__name__)}


def _list_of(field: str, items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {field: {"type": "array", "items": items}}, "required": [field]}


def _page_of(invocation: dict[str, Any]) -> dict[str, Any]:
    page = _list_of("invocations", invocation)
    page["properties"]["next_offset"] = {"type": ["integer", "null"]}
    return page


def admin_paths(
    filters: Sequence[Param], verbs: Sequence[str], usage_params: Sequence[Param], components: dict[str, Any]
) -> dict[str, Any]:
    """Every route of the admin API, with the query parameters ``filters`` of ``GET /invocations``
    and ``usage_params`` of ``GET /usage``."""
    tag = "admin"
    invocation = _model(InvocationInfo, components)
    awakeable = _model(PendingAwakeable, components)
    inv_id = path_id("id", INVOCATION_ID_PATTERN, "an invocation id")
    name = _path_param("name", "a service name")
    found = error_responses(401, 404)
    get = {
        "/health": (
            "health",
            "Whether the engine can write its journal",
            [],
            {
                "200": json_response("healthy", HEALTH_SCHEMA),
                "503": json_response("the engine cannot write its journal", HEALTH_SCHEMA),
            },
        ),
        "/services": (
            "list_services",
            "Every service with its handlers and their schemas",
            [],
            {
                "200": json_response("the services", _list_of("services", SERVICE_SCHEMA)),
                **error_responses(401),
            },
        ),
        "/services/{name}": (
            "get_service",
            "One service with its handlers",
            [name],
            {
                "200": json_response("the service", SERVICE_SCHEMA),
                **found,
            },
        ),
        "/services/{name}/openapi": (
            "service_openapi",
            "The OpenAPI document of one service",
            [name],
            {
                "200": DOCUMENT,
                **found,
            },
        ),
        "/openapi.json": (
            "ingress_openapi",
            "The OpenAPI document of the ingress",
            [],
            {
                "200": DOCUMENT,
                **error_responses(401),
            },
        ),
        "/openapi": (
            "admin_openapi",
            "This document: the OpenAPI document of the admin API",
            [],
            {
                "200": DOCUMENT,
                **error_responses(401),
            },
        ),
        "/invocations": (
            "list_invocations",
            "Invocations, newest first, without journals",
            [param.openapi() for param in filters],
            {
                "200": json_response("the invocations", _page_of(invocation)),
                **error_responses(400, 401),
            },
        ),
        "/invocations/{id}": (
            "get_invocation",
            "One invocation with its journal",
            [inv_id],
            {
                "200": json_response("the invocation", invocation),
                **error_responses(400, 401, 404),
            },
        ),
        "/awakeables": (
            "list_awakeables",
            "Pending awakeables: the approvals inbox",
            [],
            {
                "200": json_response("the pending awakeables", _list_of("awakeables", awakeable)),
                **error_responses(401),
            },
        ),
        "/state/{service}/{key}": (
            "get_state",
            "The state of one object key",
            [_path_param("service", "a virtual object"), _path_param("key", "the object key")],
            {"200": json_response("the state", STATE_SCHEMA), **found},
        ),
    }
    paths: dict[str, Any] = {
        path: {"get": _operation(op_id, summary, tag, parameters=params, responses=responses)}
        for path, (op_id, summary, params, responses) in get.items()
    }
    verb = {
        "name": "verb",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": list(verbs)},
        "description": "cancel (202: asynchronous), kill, purge (a completed one) or resume (a paused one)",
    }
    paths["/invocations/{id}/{verb}"] = {
        "patch": _operation(
            "operate_invocation",
            "Cancel, kill, purge or resume an invocation",
            tag,
            parameters=[inv_id, verb],
            responses={
                "200": json_response("done", OPERATION_RESULT_SCHEMA),
                "202": json_response("cancellation requested", OPERATION_RESULT_SCHEMA),
                **error_responses(400, 401, 404, 409, 503),
            },
        )
    }
    purged = {
        "type": "object",
        "properties": {"purged": {"type": "integer"}, "completed_before": {"type": "string"}},
        "required": ["purged", "completed_before"],
    }
    paths["/invocations/purge"] = {
        "post": _operation(
            "purge_completed",
            "Delete every invocation completed before a time, with its journal",
            tag,
            parameters=[
                {
                    "name": "completed_before",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1},
                    "description": "an ISO time, or a duration meaning that long ago (7d, P7D)",
                }
            ],
            responses={"200": json_response("purged", purged), **error_responses(400, 401, 503)},
        )
    }
    awakeable_id = path_id("id", AWAKEABLE_ID_PATTERN, "an awakeable id")
    complete_errors = error_responses(400, 401, 404, 409, 413, 415, 503)
    paths["/awakeables/{id}/resolve"] = {
        "post": _operation(
            "console_resolve_awakeable",
            "Resolve an awakeable with a JSON value its type accepts (the console's form of the ingress route)",
            tag,
            parameters=[awakeable_id],
            requestBody={"required": False, "content": {"application/json": {"schema": {}}}},
            responses={"202": json_response("resolved", AWAKEABLE_RESULT_SCHEMA), **complete_errors},
        )
    }
    reason = {"type": ["object", "null"], "properties": {"reason": {"type": "string"}}}
    paths["/awakeables/{id}/reject"] = {
        "post": _operation(
            "console_reject_awakeable",
            "Reject an awakeable with an optional reason",
            tag,
            parameters=[awakeable_id],
            requestBody={"required": False, "content": {"application/json": {"schema": reason}}},
            responses={"202": json_response("rejected", AWAKEABLE_RESULT_SCHEMA), **complete_errors},
        )
    }
    keys = {
        "type": "object",
        "properties": {"service": {"type": "string"}, "keys": {"type": "array", "items": {"type": "string"}}},
        "required": ["service", "keys"],
    }
    paths["/state/{service}"] = {
        "get": _operation(
            "list_state_keys",
            "The keys of a virtual object (or workflow) that have state",
            tag,
            parameters=[_path_param("service", "a virtual object or workflow")],
            responses={"200": json_response("the keys", keys), **found},
        )
    }
    paths["/usage"] = {
        "get": _operation(
            "usage",
            "Model tokens and cost, spent and saved by replay, per group and in total",
            tag,
            parameters=[param.openapi() for param in usage_params],
            responses={
                "200": json_response("the usage report", {"type": "object"}),
                **error_responses(400, 401),
            },
        )
    }
    return paths


def admin_openapi_document(
    filters: Sequence[Param], verbs: Sequence[str], usage_params: Sequence[Param], *, server_url: str
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the admin API itself (``GET /openapi`` on the admin port)."""
    components: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths = admin_paths(filters, verbs, usage_params, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": "agentdur admin API", "version": "1.0.0"},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {"schemas": components},
    }
