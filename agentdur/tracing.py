"""OpenTelemetry tracing of invocations, journaled steps and model calls (``pip install "agentdur[otel]"``).

Tracing is off until it is configured, and costs one ``None`` check per operation while off:

- ``agentdur serve`` calls :func:`configure_from_env`, which honours the standard variables
  ``OTEL_TRACES_EXPORTER`` (``console``, ``otlp`` or ``none``), ``OTEL_SERVICE_NAME`` and
  ``OTEL_SDK_DISABLED``; the OTLP exporter reads its own ``OTEL_EXPORTER_OTLP_*`` variables.
- Code calls :func:`configure` with an exporter or a tracer provider of its own.

What is traced (``docs/observability.md`` shows a span tree): one span per execution of an
invocation (all executions of one invocation share its journaled trace), a child span per journaled
step, sleep, awakeable wait, call and send; the integrations add ``chat {model}``,
``execute_tool {name}`` and ``invoke_agent {name}`` spans with the GenAI semantic conventions.
Steps answered from the journal on replay are emitted as zero-length spans marked
``agentdur.replayed=true``; the model-call and tool spans are emitted only when the request really runs.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._exceptions import UserError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Tracer, TracerProvider

__all__ = ["configure", "configure_from_env", "enabled", "is_replaying", "reset", "tracer"]

INSTRUMENTATION_NAME = "agentdur"
INSTALL = 'pip install "agentdur[otel]"'
OTLP_INSTALL = "pip install opentelemetry-exporter-otlp-proto-http"

_tracer: Tracer | None = None
_REPLAY_PROBE: contextvars.ContextVar[Callable[[], bool] | None] = contextvars.ContextVar(
    "agentdur_replay_probe", default=None
)
_provider: Any = None  # the SDK provider this module built (shut down by reset())


def is_replaying() -> bool:
    """True while the running handler re-executes operations its journal already holds (after a
    crash, a retry or a suspension); False outside a handler.

    Integrations use it to keep a framework's own tracing from reporting replayed work again.
    """
    probe = _REPLAY_PROBE.get()
    return probe is not None and probe()


def set_replay_probe(probe: Callable[[], bool]) -> None:
    """Bind how the engine running this handler tells whether it replays (engines call this)."""
    _REPLAY_PROBE.set(probe)


def enabled() -> bool:
    """True once tracing was configured."""
    return _tracer is not None


def tracer() -> Tracer | None:
    """The tracer agentdur's spans are made with; ``None`` while tracing is off."""
    return _tracer


def configure(
    *,
    exporter: SpanExporter | None = None,
    tracer_provider: TracerProvider | None = None,
    service_name: str = "agentdur",
    batch: bool = True,
) -> None:
    """Turn tracing on.

    Args:
        exporter: where spans go (any OpenTelemetry ``SpanExporter``); agentdur builds a tracer
            provider for it.
        tracer_provider: a provider of your own instead (its processors decide where spans go).
            With neither, the global provider (``opentelemetry.trace.set_tracer_provider``) is used.
        service_name: the ``service.name`` resource of the provider built for ``exporter``.
        batch: export in batches (the default); False exports each span as it ends, so spans
            finished before a crash are not lost.

    Raises:
        UserError: opentelemetry is not installed, or both ``exporter`` and ``tracer_provider`` given.
    """
    global _tracer, _provider
    try:
        from opentelemetry import trace
    except ImportError:
        raise UserError(f"tracing needs OpenTelemetry: {INSTALL}") from None
    if exporter is not None and tracer_provider is not None:
        raise UserError("tracing.configure: pass an exporter or a tracer_provider, not both")
    if exporter is not None:
        tracer_provider = _provider = _provider_for(exporter, service_name, batch)
    provider = tracer_provider or trace.get_tracer_provider()
    _tracer = provider.get_tracer(INSTRUMENTATION_NAME)


def configure_from_env(environ: dict[str, str] | None = None) -> bool:
    """Turn tracing on as the standard ``OTEL_*`` variables say; returns whether it is on.

    ``OTEL_TRACES_EXPORTER``: unset or ``none`` leaves tracing off; ``console`` prints each span as
    JSON on stdout as it ends; ``otlp`` sends batches with the OTLP/HTTP exporter (configured by
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` and friends). ``OTEL_SDK_DISABLED=true`` wins over everything.

    Raises:
        UserError: an exporter name agentdur does not know, or a package it needs is missing.
    """
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    names = [n.strip().lower() for n in env.get("OTEL_TRACES_EXPORTER", "").split(",") if n.strip()]
    names = [n for n in names if n != "none"]
    if not names:
        return False
    if len(names) > 1:
        raise UserError(f"OTEL_TRACES_EXPORTER: agentdur supports one exporter at a time, not {names}")
    service_name = env.get("OTEL_SERVICE_NAME", "agentdur")
    name = names[0]
    if name == "console":
        try:
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter
        except ImportError:
            raise UserError(f"OTEL_TRACES_EXPORTER=console needs the OpenTelemetry SDK: {INSTALL}") from None
        configure(exporter=ConsoleSpanExporter(), service_name=service_name, batch=False)
    elif name == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # type: ignore[import-not-found,unused-ignore]
                OTLPSpanExporter,
            )
        except ImportError:
            raise UserError(f"OTEL_TRACES_EXPORTER=otlp needs the OTLP exporter: {OTLP_INSTALL}") from None
        configure(exporter=OTLPSpanExporter(), service_name=service_name)
    else:
        raise UserError(f"OTEL_TRACES_EXPORTER: must be console, otlp or none, not {name!r}")
    return True


def reset() -> None:
    """Turn tracing off again, flushing and shutting down the provider :func:`configure` built."""
    global _tracer, _provider
    _tracer = None
    provider, _provider = _provider, None
    if provider is not None:
        provider.shutdown()


def _provider_for(exporter: SpanExporter, service_name: str, batch: bool) -> TracerProvider:
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider as SdkProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError:
        raise UserError(f"tracing with an exporter needs the OpenTelemetry SDK: {INSTALL}") from None
    provider = SdkProvider(resource=Resource.create({"service.name": service_name}))
    processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    return provider
