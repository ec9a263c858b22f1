"""Small rules shared by the engine's modules: routes, durations, outcomes."""

from __future__ import annotations

from datetime import timedelta

from .._exceptions import InvalidInputError
from .._service import HandlerSpec
from . import _records as r
from ._futures import Outcome


def as_seconds(value: float | timedelta | None) -> float | None:
    if value is None:
        return None
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def check_route(spec: HandlerSpec, key: str | None) -> None:
    """A keyed route for an object handler, an unkeyed one for a service handler."""
    if spec.keyed and key is None:
        raise InvalidInputError(
            f"{spec.service}/{spec.name} is a virtual object handler: it needs an object key"
        )
    if not spec.keyed and key is not None:
        raise InvalidInputError(f"{spec.service}/{spec.name} is a service handler: it takes no object key")


def outcome_of(output: str | None, failure: str | None) -> Outcome:
    return (r.ENTRY_FAILED, failure) if failure is not None else (r.ENTRY_COMPLETED, output)
