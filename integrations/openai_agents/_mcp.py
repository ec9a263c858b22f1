"""MCP servers in a durable run: the tool list journaled once per run, each tool call one step.

The SDK asks every MCP server of an agent for its tools at each turn and calls them directly. In a
durable run each server is wrapped in a :class:`DurableMCPServer` (stdio, streamable HTTP, SSE, your
own ``MCPServer``):

- ``list_tools`` is one journaled step per server and agent in the run (``MCP tools: <server>``): later
  turns and every replay use the journaled list, so a replay does not depend on what the server
  offers now;
- ``call_tool`` is one journaled step (``MCP: <server>/<tool>``): a finished call is never repeated,
  its result (``CallToolResult``) is replayed from the journal.

The connection itself (``connect``, ``cleanup``) stays the user's; prompts and resources are passed
through unjournaled.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from agents import AgentBase, RunContextWrapper
from agents.mcp import MCPServer
from mcp import Tool as MCPTool
from mcp.types import (
    CallToolResult,
    GetPromptResult,
    ListPromptsResult,
    ListResourcesResult,
    ListResourceTemplatesResult,
    ReadResourceResult,
)

from agentdur import RunOptions, current_context

__all__ = ["MCP_CALL_OPTIONS", "DurableMCPServer"]

MCP_CALL_OPTIONS: RunOptions[Any] = RunOptions(
    max_attempts=3, initial_retry_interval=timedelta(milliseconds=500), retry_interval_factor=2.0
)
"""Retries of one MCP tool call or listing before its failure is journaled (and shown to the model)."""


class DurableMCPServer(MCPServer):
    """An MCP server whose tool list and tool calls are journaled; one per server and durable run.

    Args:
        server: the user's server (connected by the user, as without agentdur).
    """

    def __init__(self, server: MCPServer) -> None:
        super().__init__(
            use_structured_content=server.use_structured_content,
            tool_meta_resolver=server.tool_meta_resolver,
            custom_data_extractor=server.custom_data_extractor,
        )
        # The approval policy and failure function, as the user's server normalised them.
        self._needs_approval_policy = server._needs_approval_policy
        self._failure_error_function = server._failure_error_function
        self.server = server
        self._listed: dict[str, list[MCPTool]] = {}

    @property
    def name(self) -> str:
        return self.server.name

    async def connect(self) -> None:
        await self.server.connect()  # type: ignore[no-untyped-call]

    async def cleanup(self) -> None:
        await self.server.cleanup()  # type: ignore[no-untyped-call]

    async def list_tools(
        self, run_context: RunContextWrapper[Any] | None = None, agent: AgentBase | None = None
    ) -> list[MCPTool]:
        """The server's tools for ``agent``, listed once per run (a journaled step)."""
        key = agent.name if agent is not None else ""
        if key not in self._listed:

            async def listing() -> list[dict[str, Any]]:
                tools = await self.server.list_tools(run_context, agent)
                return [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools]

            dumped = await current_context().run_typed(
                f"MCP tools: {self.name}",
                listing,
                RunOptions(
                    max_attempts=MCP_CALL_OPTIONS.max_attempts,
                    initial_retry_interval=MCP_CALL_OPTIONS.initial_retry_interval,
                    retry_interval_factor=MCP_CALL_OPTIONS.retry_interval_factor,
                    type_hint=list[dict[str, Any]],
                ),
            )
            self._listed[key] = [MCPTool.model_validate(tool) for tool in dumped]
        return list(self._listed[key])

    async def call_tool(
        self, tool_name: str, arguments: dict[str, Any] | None, meta: dict[str, Any] | None = None
    ) -> CallToolResult:
        """Call ``tool_name`` as one journaled step; a replay returns the journaled result."""

        async def call() -> dict[str, Any]:
            if meta is None:
                result = await self.server.call_tool(tool_name, arguments)
            else:
                result = await self.server.call_tool(tool_name, arguments, meta=meta)
            dumped: dict[str, Any] = result.model_dump(mode="json", by_alias=True, exclude_none=True)
            return dumped

        dumped = await current_context().run_typed(
            f"MCP: {self.name}/{tool_name}",
            call,
            RunOptions(
                max_attempts=MCP_CALL_OPTIONS.max_attempts,
                initial_retry_interval=MCP_CALL_OPTIONS.initial_retry_interval,
                retry_interval_factor=MCP_CALL_OPTIONS.retry_interval_factor,
                type_hint=dict[str, Any],
            ),
        )
        return CallToolResult.model_validate(dumped)

    @property
    def cached_tools(self) -> list[MCPTool] | None:
        return self.server.cached_tools

    async def list_prompts(self) -> ListPromptsResult:
        return await self.server.list_prompts()

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None) -> GetPromptResult:
        return await self.server.get_prompt(name, arguments)

    async def list_resources(self, cursor: str | None = None) -> ListResourcesResult:
        return await self.server.list_resources(cursor)

    async def list_resource_templates(self, cursor: str | None = None) -> ListResourceTemplatesResult:
        return await self.server.list_resource_templates(cursor)

    async def read_resource(self, uri: str) -> ReadResourceResult:
        return await self.server.read_resource(uri)
