"""The live output the integrations publish while a model streams: one vocabulary for all three.

Each is a JSON object with a ``kind``, published with ``ctx.publish`` from the body of the model
step (so the stream's envelope names the step, and a replayed step publishes nothing):

- ``{"kind": "model.start", "model": ...}``: an attempt of a streamed model call begins. A retry or
  a run after a crash starts the step's text again: a watcher drops the partial text it holds for
  that step;
- ``{"kind": "text.delta", "text": ...}``: a piece of the model's text;
- ``{"kind": "tool.call", "name": ..., "arguments": ..., "call_id": ...}``: the model asked for a tool
  (``arguments`` as the model sent them, a JSON text or an object).

Tool results are not published: they are journaled steps, visible in the journal as they complete
(``agentdur watch`` prints them).
"""

from __future__ import annotations

from typing import Any

from agentdur import current_context

MODEL_START = "model.start"
TEXT_DELTA = "text.delta"
TOOL_CALL = "tool.call"


def publish_live(event: dict[str, Any]) -> None:
    """Publish ``event`` to the running invocation's watchers (best effort: never fails the call)."""
    try:
        current_context().publish(event)
    except Exception:  # a live event must never break the model call it reports
        return


def publish_model_start(model: str) -> None:
    """An attempt of a streamed model call begins."""
    publish_live({"kind": MODEL_START, "model": model})


def publish_text_delta(text: str | None) -> None:
    """A piece of streamed text (empty pieces are not published)."""
    if text:
        publish_live({"kind": TEXT_DELTA, "text": text})


def publish_tool_call(name: str, arguments: Any, call_id: str | None) -> None:
    """The model asked for tool ``name``."""
    publish_live({"kind": TOOL_CALL, "name": name, "arguments": arguments, "call_id": call_id})
