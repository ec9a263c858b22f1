"""Prints the span tree of a list of spans (for a reviewer, and for debugging a failing test)."""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan

SHOWN = (
    "agentdur.step.index",
    "agentdur.replayed",
    "agentdur.execution.reason",
    "gen_ai.request.model",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.response.finish_reasons",
)


def span_tree(spans: Sequence[ReadableSpan]) -> str:
    """One line per span, indented under its parent, children in start order."""
    ids = {s.context.span_id for s in spans if s.context is not None}
    children: dict[int | None, list[ReadableSpan]] = {}
    for span in spans:
        parent = span.parent.span_id if span.parent is not None and span.parent.span_id in ids else None
        children.setdefault(parent, []).append(span)
    lines: list[str] = []

    def walk(parent: int | None, depth: int) -> None:
        for span in sorted(children.get(parent, []), key=lambda s: s.start_time or 0):
            attrs = span.attributes or {}
            shown = ", ".join(f"{k.split('.')[-1]}={attrs[k]}" for k in SHOWN if k in attrs)
            lines.append(f"{'  ' * depth}{span.name}  [{shown}]")
            assert span.context is not None
            walk(span.context.span_id, depth + 1)

    walk(None, 0)
    return "\n".join(lines)
