"""JSON schemas of handlers and the OpenAPI 3.1 document of the ingress, generated from them."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import PydanticUserError, TypeAdapter

from .._service import Definition, HandlerSpec
from ._durations import DELAY_PATTERN, MAX_DELAY_TEXT
from ._openapi_routes import ERROR_REF, ERROR_SCHEMA, error_responses, idempotency_header, restate_paths

OPENAPI_VERSION = "3.1.0"
COMPONENTS_REF = "#/components/schemas/{model}"
SEND_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "invocationId": {"type": "string"},
        "status": {"type": "string", "enum": ["Accepted", "PreviouslyAccepted"]},
    },
    "required": ["invocationId", "status"],
}

Mode = Literal["validation", "serialization"]
SchemaKey = tuple[str, str, Mode]


def handler_schema(adapter: TypeAdapter[Any], mode: Mode) -> dict[str, Any]:
    """A self-contained JSON schema of a handler's input (``validation``) or output (``serialization``)."""
    try:
        return adapter.json_schema(mode=mode)
    except PydanticUserError as error:
        return {"description": f"no JSON schema for this type: {error.message}"}


def openapi_document(
    definitions: Iterable[Definition], *, title: str, server_url: str, restate_api: bool = True
) -> dict[str, Any]:
    """An OpenAPI 3.1 document of the ingress routes of ``definitions``: calls, sends, their schemas;
    with ``restate_api`` also the fixed ``/restate/...`` routes (health, attach, output, awakeables)."""
    definitions = list(definitions)
    specs = [spec for definition in definitions for spec in definition.handlers.values()]
    schemas, components = _schemas(specs)
    paths: dict[str, Any] = {}
    for spec in specs:
        base = f"/{spec.service}/{{key}}/{spec.name}" if spec.keyed else f"/{spec.service}/{spec.name}"
        call = _operation(spec, schemas, send=False)
        paths[base] = {"post": call}
        if spec.kind == "shared":  # shared handlers also answer GET, without a body
            without_body = {name: value for name, value in call.items() if name != "requestBody"}
            paths[base]["get"] = {**without_body, "operationId": f"{call['operationId']}_get"}
        paths[f"{base}/send"] = {"post": _operation(spec, schemas, send=True)}
        paths.update(_verb_paths(base, paths[base], paths[f"{base}/send"]))
        if spec.kind == "workflow":
            paths.update(_workflow_paths(spec, schemas))
    if restate_api:
        paths.update(restate_paths())
    components["Error"] = ERROR_SCHEMA
    components["SendResponse"] = SEND_SCHEMA
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": "1.0.0"},
        "servers": [{"url": server_url}],
        "tags": [
            {"name": d.name, **({"description": d.description} if d.description else {})} for d in definitions
        ],
        "paths": paths,
        "components": {"schemas": components},
    }


def _schemas(specs: list[HandlerSpec]) -> tuple[dict[SchemaKey, dict[str, Any]], dict[str, Any]]:
    """Input and output schemas of every handler, sharing model definitions under components."""
    inputs: list[tuple[SchemaKey, Mode, TypeAdapter[Any]]] = []
    for spec in specs:
        if spec.takes_input:
            inputs.append(((spec.service, spec.name, "validation"), "validation", spec.input_adapter))
        inputs.append(((spec.service, spec.name, "serialization"), "serialization", spec.output_adapter))
    try:
        by_key, definitions = TypeAdapter.json_schemas(inputs, ref_template=COMPONENTS_REF)
        return {key: schema for (key, _), schema in by_key.items()}, dict(definitions.get("$defs", {}))
    except PydanticUserError:
        # One type has no JSON schema: describe that one, keep the others.
        schemas: dict[SchemaKey, dict[str, Any]] = {}
        components: dict[str, Any] = {}
        for key, mode, adapter in inputs:
            try:
                by_key, definitions = TypeAdapter.json_schemas(
                    [(key, mode, adapter)], ref_template=COMPONENTS_REF
                )
            except PydanticUserError as error:
                schemas[key] = {"description": f"no JSON schema for this type: {error.message}"}
                continue
            schemas[key] = by_key[(key, mode)]
            components.update(definitions.get("$defs", {}))
        return schemas, components


def _operation(spec: HandlerSpec, schemas: dict[SchemaKey, dict[str, Any]], *, send: bool) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = []
    if spec.keyed:
        parameters.append(
            {
                "name": "key",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "minLength": 1},
                "description": "object key",
            }
        )
    parameters.append(idempotency_header())
    if send:
        parameters.append(
            {
                "name": "delay",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "pattern": DELAY_PATTERN},
                "description": f"start after this long, at most {MAX_DELAY_TEXT}: 10s, 500ms, 1h30m or ISO-8601 PT10S",
            }
        )
    if send:
        success = {
            "202": {
                "description": "the invocation is durably accepted",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SendResponse"}}},
            }
        }
    else:
        output = schemas[(spec.service, spec.name, "serialization")]
        success = {
            "200": {
                "description": "the handler's result",
                "content": {"application/json": {"schema": output}},
            }
        }
    failure = {
        "description": "a terminal failure, with its code; or (500, status 'paused') the invocation"
        " paused after its retries or at a journal mismatch: resume it, then attach again",
        "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
    }
    operation: dict[str, Any] = {
        "operationId": f"{spec.service}_{spec.name}" + ("_send" if send else ""),
        "summary": f"{'Send to' if send else 'Call'} {spec.service}/{spec.name}",
        "tags": [spec.service],
        "parameters": parameters,
        "responses": {
            **success,
            **error_responses(400, 401, 409, 413, 415, 503),
            **({} if send else {"default": failure}),
        },
    }
    doc = inspect.getdoc(spec.fn)
    if doc:
        operation["description"] = doc
    if spec.takes_input:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schemas[(spec.service, spec.name, "validation")]}},
        }
    return operation


def _verb_paths(base: str, call: dict[str, Any], send: dict[str, Any]) -> dict[str, Any]:
    """Restate's verb forms of a handler's routes: ``/restate/call{base}`` and ``/restate/send{base}``."""
    return {
        f"/restate/call{base}": {
            method: {**op, "operationId": f"{op['operationId']}_restate_call"} for method, op in call.items()
        },
        f"/restate/send{base}": {
            method: {**op, "operationId": f"{op['operationId']}_restate"} for method, op in send.items()
        },
    }


def _workflow_paths(spec: HandlerSpec, schemas: dict[SchemaKey, dict[str, Any]]) -> dict[str, Any]:
    """``GET /restate/workflow/{name}/{key}/attach`` and ``/output`` for a workflow's run handler."""
    output = schemas[(spec.service, spec.name, "serialization")]
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    key = {
        "name": "key",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1},
        "description": "workflow key",
    }
    paths: dict[str, Any] = {}
    for verb, summary, waiting in (
        ("attach", "Wait for the run of", "404: no run for this key"),
        (
            "output",
            "The result of the run of",
            "470: the run has not completed yet; 404: no run for this key",
        ),
    ):
        paths[f"/restate/workflow/{spec.service}/{{key}}/{verb}"] = {
            "get": {
                "operationId": f"{spec.service}_{verb}",
                "summary": f"{summary} {spec.service} for a key",
                "tags": [spec.service],
                "parameters": [key],
                "responses": {
                    "200": {
                        "description": "the run's result",
                        "content": {"application/json": {"schema": output}},
                    },
                    "default": {"description": f"its failure, with its code; {waiting}", "content": error},
                },
            }
        }
    return paths
