"""The LiteLLM app of the streaming tests (its own module: it starts faster without the agent SDKs).

Model calls go to the scripted model server whose OpenAI base URL is in ``AGENTDUR_TEST_OPENAI_BASE``.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel

import agentdur
from agentdur.integrations.litellm import acompletion

OPENAI_BASE = os.environ.get("AGENTDUR_TEST_OPENAI_BASE", "http://127.0.0.1:1/v1")

streaming = agentdur.Service("LiteLlmStreaming")


class TwoCalls(BaseModel):
    release: str  # the step between the two calls waits until this file exists


async def _hold(release: str) -> str:
    while not Path(release).exists():  # noqa: ASYNC110, ASYNC240 - a file written by another process
        await asyncio.sleep(0.01)
    return "released"


@streaming.handler()
async def two_calls(ctx: agentdur.Context, req: TwoCalls) -> list[str]:
    """Two streamed LiteLLM calls with a held step between them (a crash test kills the server there)."""
    llm: dict[str, Any] = {
        "model": "openai/gpt-4o",
        "api_base": OPENAI_BASE,
        "api_key": "test",
        "stream": True,
    }
    first = await acompletion(messages=[{"role": "user", "content": "first"}], name="first call", **llm)
    await ctx.run_typed("hold", _hold, agentdur.RunOptions(), req.release)
    second = await acompletion(messages=[{"role": "user", "content": "second"}], name="second call", **llm)
    return [str(first.choices[0].message.content), str(second.choices[0].message.content)]


app = agentdur.App([streaming])
