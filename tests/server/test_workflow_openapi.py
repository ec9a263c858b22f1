"""The OpenAPI document lists Restate's verb forms and a workflow's attach and output routes."""

from __future__ import annotations

import agentdur
from agentdur.server._openapi import openapi_document

wf = agentdur.Workflow("Review")


@wf.main()
async def run(ctx: agentdur.WorkflowContext, text: str) -> bool:
    return bool(text)


@wf.handler()
async def approve(ctx: agentdur.WorkflowSharedContext, ok: bool) -> None:
    await ctx.promise("ok", type_hint=bool).resolve(ok)


def test_the_document_lists_the_workflow_routes() -> None:
    document = openapi_document([wf], title="t", server_url="http://127.0.0.1:8080")
    paths = document["paths"]
    assert {
        "/Review/{key}/run",
        "/Review/{key}/run/send",
        "/restate/call/Review/{key}/run",
        "/restate/send/Review/{key}/run",
        "/restate/call/Review/{key}/approve",
        "/restate/workflow/Review/{key}/attach",
        "/restate/workflow/Review/{key}/output",
    } <= set(paths)
    attach = paths["/restate/workflow/Review/{key}/attach"]["get"]
    assert attach["responses"]["200"]["content"]["application/json"]["schema"] == {"type": "boolean"}
    operation_ids = [op["operationId"] for path in paths.values() for op in path.values()]
    assert len(operation_ids) == len(set(operation_ids))
