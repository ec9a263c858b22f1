"""The app the crash tests serve with ``agentdur serve``: three LiteLLM calls, held after the second.

Its spans go to a JSON-lines file (``AGENTDUR_TEST_SPANS``), each written and fsynced as the span
ends, so the spans of a process killed with SIGKILL are kept up to its last finished one.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

import agentdur
from agentdur import tracing
from agentdur.integrations.litellm import acompletion

SPANS_ENV = "AGENTDUR_TEST_SPANS"
BASE_ENV = "AGENTDUR_TEST_OPENAI_BASE"
WORK_ENV = "AGENTDUR_TEST_WORK"


class JsonLinesExporter(SpanExporter):
    """One JSON line per span: names, ids, parent, attributes, times."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self.path.open("a") as out:
            for span in spans:
                assert span.context is not None
                line = {
                    "name": span.name,
                    "trace_id": f"{span.context.trace_id:032x}",
                    "span_id": f"{span.context.span_id:016x}",
                    "parent_id": f"{span.parent.span_id:016x}" if span.parent is not None else None,
                    "attributes": dict(span.attributes or {}),
                    "start": span.start_time,
                    "end": span.end_time,
                    "pid": os.getpid(),
                }
                out.write(json.dumps(line, default=list) + "\n")
            out.flush()
            os.fsync(out.fileno())
        return SpanExportResult.SUCCESS


if os.environ.get(SPANS_ENV):
    tracing.configure(exporter=JsonLinesExporter(Path(os.environ[SPANS_ENV])), batch=False)

agent = agentdur.Service("Agent")


def hold(label: str) -> None:
    """Say so in a marker file, then block until the test creates the release file."""
    work = Path(os.environ[WORK_ENV])
    (work / f"holding-{label}").write_text(str(os.getpid()))
    while not (work / f"release-{label}").exists():
        time.sleep(0.01)


@agent.handler()
async def three_calls(ctx: agentdur.Context, label: str) -> list[str]:
    answers = []
    for i in range(3):
        response = await acompletion(
            model="openai/gpt-4o",
            messages=[{"role": "user", "content": f"Summarize part {i} of claim {label}."}],
            api_base=os.environ[BASE_ENV],
            api_key="test",
            name=f"LLM call {i}",
        )
        answers.append(str(response.choices[0].message.content))
        if i == 1:
            await ctx.run_typed("hold", hold, agentdur.RunOptions(), label)
    return answers


@agent.handler()
async def greet(ctx: agentdur.Context, name: str) -> str:
    return await ctx.run_typed("greet", lambda: f"hello {name}")


@agent.handler()
async def relay(ctx: agentdur.Context, name: str) -> str:
    return await ctx.service_call(greet, name)


app = agentdur.App([agent])
