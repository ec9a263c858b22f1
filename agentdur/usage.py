"""The usage ledger: tokens and cost of every journaled model call, spent and saved by replay.

An integration reports each model call with :func:`record_model_call`: once when the request was
really sent (*spent*), and once each time a replay answered it from the journal instead (*saved*).
The engine running the handler keeps the record (the embedded engine in its SQLite file, read by
``GET /usage`` and ``agentdur usage``); outside a handler, or on an engine without a ledger, the
record is dropped.

Costs come from a price table: :func:`set_model_prices` (yours), else litellm's bundled cost map,
read from the installed litellm package's data file, never fetched. A model found in neither costs
``None`` (counted as 0 in totals).
"""

from __future__ import annotations

import contextvars
import functools
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "ModelPrice",
    "ModelUsage",
    "UsageSink",
    "cost_of",
    "record_model_call",
    "set_model_prices",
    "set_usage_sink",
]

LITELLM_COST_MAP = "model_prices_and_context_window_backup.json"


@dataclass(frozen=True)
class ModelPrice:
    """What a model costs, in US dollars per token.

    Args:
        input: per input (prompt) token that was not read from the provider's cache.
        output: per output (completion) token.
        cached_input: per input token read from the cache (default: the ``input`` price).
    """

    input: float
    output: float
    cached_input: float | None = None


@dataclass(frozen=True)
class ModelUsage:
    """One model call as the ledger records it.

    Args:
        provider: who answered (``openai``, ``gcp.gemini``, ...), as the GenAI conventions name it.
        model: the model that answered (the response's model, else the requested one).
        input_tokens: prompt tokens, cached ones included.
        output_tokens: completion tokens.
        cached_tokens: the prompt tokens read from the provider's cache.
        cost_usd: the call's cost; ``None`` when no price is known for the model.
    """

    provider: str | None
    model: str | None
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float | None = None


class UsageSink(Protocol):
    """Where an engine keeps the ledger of the invocation running in this task."""

    def record(self, usage: ModelUsage, step: str, replayed: bool) -> None:
        """Keep one model call of step ``step``; ``replayed``: answered from the journal (saved)."""


_SINK: contextvars.ContextVar[UsageSink | None] = contextvars.ContextVar("agentdur_usage_sink", default=None)
_USER_PRICES: dict[str, ModelPrice] = {}


def set_usage_sink(sink: UsageSink | None) -> contextvars.Token[UsageSink | None]:
    """Bind the ledger of the invocation running in this task (engines call this)."""
    return _SINK.set(sink)


def record_model_call(usage: ModelUsage, step: str, replayed: bool) -> None:
    """Report a model call to the running invocation's ledger (integrations call this).

    Args:
        usage: the call; its cost is filled in from the price tables when ``None``.
        step: the journaled step's name.
        replayed: True when the journal answered the call and no request was sent.
    """
    sink = _SINK.get()
    if sink is None:
        return
    if usage.cost_usd is None and usage.model:
        cost = cost_of(
            usage.model, usage.input_tokens, usage.output_tokens, usage.cached_tokens, usage.provider
        )
        usage = ModelUsage(
            usage.provider, usage.model, usage.input_tokens, usage.output_tokens, usage.cached_tokens, cost
        )
    sink.record(usage, step, replayed)


def set_model_prices(prices: dict[str, ModelPrice] | None) -> None:
    """Use your own prices (by model name, optionally ``provider/model``) before litellm's map;
    ``None`` removes them."""
    _USER_PRICES.clear()
    _USER_PRICES.update(prices or {})


def cost_of(
    model: str, input_tokens: int, output_tokens: int, cached_tokens: int = 0, provider: str | None = None
) -> float | None:
    """The cost of a call in US dollars, or ``None`` when no price table knows ``model``."""
    price = price_of(model, provider)
    if price is None:
        return None
    cached = min(max(cached_tokens, 0), max(input_tokens, 0))
    cached_price = price.input if price.cached_input is None else price.cached_input
    return (input_tokens - cached) * price.input + cached * cached_price + output_tokens * price.output


def price_of(model: str, provider: str | None = None) -> ModelPrice | None:
    """The price of ``model`` from your table, else from litellm's bundled map."""
    names = [model]
    if provider:
        names.append(f"{provider.split('.')[-1]}/{model}")
    if "/" in model:
        names.append(model.split("/", 1)[1])
    for name in names:
        if name in _USER_PRICES:
            return _USER_PRICES[name]
    bundled = _bundled_prices()
    for name in names:
        entry = bundled.get(name)
        if isinstance(entry, dict) and "input_cost_per_token" in entry:
            return ModelPrice(
                input=float(entry["input_cost_per_token"]),
                output=float(entry.get("output_cost_per_token", 0.0)),
                cached_input=_float_or_none(entry.get("cache_read_input_token_cost")),
            )
    return None


@functools.cache
def _bundled_prices() -> dict[str, Any]:
    """litellm's cost map as shipped in its package (read as a file: litellm is not imported)."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return {}
    for location in spec.submodule_search_locations:
        path = Path(location) / LITELLM_COST_MAP
        if path.is_file():
            data = json.loads(path.read_text())
            return data if isinstance(data, dict) else {}
    return {}


def _float_or_none(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None
