"""Retry options of steps and invocations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Generic, Never, TypedDict, TypeVar, Unpack, overload

T = TypeVar("T")
# Covariant: the options are frozen, so ``RunOptions(max_attempts=3)`` fits a step of any result type.
T_co = TypeVar("T_co", covariant=True)

DEFAULT_INITIAL_RETRY_INTERVAL = timedelta(milliseconds=50)
DEFAULT_MAX_RETRY_INTERVAL = timedelta(seconds=10)
DEFAULT_RETRY_INTERVAL_FACTOR = 2.0


class _RetryFields(TypedDict, total=False):
    """The retry fields of :class:`RunOptions`, for its typed constructor."""

    max_attempts: int | None
    max_duration: timedelta | None
    initial_retry_interval: timedelta | None
    max_retry_interval: timedelta | None
    retry_interval_factor: float | None
    max_retry_duration: timedelta | None


@dataclass(frozen=True)
class RunOptions(Generic[T_co]):
    """How a ``ctx.run_typed`` step retries and how its result is serialized.

    When none of the retry fields is set, a failed step is not retried inside the step: the error
    fails the handler attempt and the invocation retry policy applies (as on Restate).

    Attributes:
        max_attempts: attempts including the first; after the last one the step fails terminally.
        max_duration: total time for retries; when exceeded the step fails terminally.
        initial_retry_interval: wait before the first retry (default 50 ms).
        max_retry_interval: ceiling of the wait between retries (default 10 s).
        retry_interval_factor: growth of the wait at each retry (default 2).
        type_hint: the result type used for JSON serialization; defaults to the function's
            return annotation.
        max_retry_duration: restate-sdk's deprecated name of ``max_duration`` (the Tour of
            Workflows still uses it); it sets ``max_duration`` when that is not set.
    """

    max_attempts: int | None = None
    max_duration: timedelta | None = None
    initial_retry_interval: timedelta | None = None
    max_retry_interval: timedelta | None = None
    retry_interval_factor: float | None = None
    type_hint: type[T_co] | Any | None = None
    max_retry_duration: timedelta | None = None

    def __post_init__(self) -> None:
        if self.max_duration is None and self.max_retry_duration is not None:
            object.__setattr__(self, "max_duration", self.max_retry_duration)

    if TYPE_CHECKING:
        # What type checkers see of the generated __init__: a class as type_hint fixes the result
        # type; without one (or with a hint that is not a class, like ``int | None``) the options
        # are RunOptions[Never], which fits every step, so the step's result type comes from its action.
        @overload
        def __init__(self: RunOptions[T], *, type_hint: type[T], **retry: Unpack[_RetryFields]) -> None: ...

        @overload
        def __init__(
            self: RunOptions[Never], *, type_hint: object = None, **retry: Unpack[_RetryFields]
        ) -> None: ...

        def __init__(self, *, type_hint: object = None, **retry: Unpack[_RetryFields]) -> None: ...

    @property
    def retries_in_step(self) -> bool:
        """True when any retry field is set, so the step retries on its own."""
        return any(
            v is not None
            for v in (
                self.max_attempts,
                self.max_duration,
                self.initial_retry_interval,
                self.max_retry_interval,
                self.retry_interval_factor,
            )
        )

    def delay_after(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        initial = (self.initial_retry_interval or DEFAULT_INITIAL_RETRY_INTERVAL).total_seconds()
        factor = self.retry_interval_factor or DEFAULT_RETRY_INTERVAL_FACTOR
        ceiling = (self.max_retry_interval or DEFAULT_MAX_RETRY_INTERVAL).total_seconds()
        return float(min(ceiling, initial * factor ** (attempt - 1)))


MODEL_CALL_OPTIONS: RunOptions[Any] = RunOptions(
    max_attempts=5,
    initial_retry_interval=timedelta(seconds=1),
    max_retry_interval=timedelta(seconds=30),
    retry_interval_factor=2.0,
)
"""The retries of a journaled model call, wherever agentdur makes one (patterns and integrations):
five attempts, waiting 1 s, then doubling up to 30 s. A provider's ``retry-after`` is honoured by the
integrations when it is longer."""


@dataclass(frozen=True)
class InvocationRetryPolicy:
    """How the embedded engine retries a handler that failed with a retryable error.

    After ``max_attempts`` failed attempts the invocation is paused (not lost): it keeps its journal
    and can be resumed once the cause is fixed.

    Attributes:
        max_attempts: attempts of the whole handler, including the first.
        initial_interval: wait before the first retry.
        max_interval: ceiling of the wait between retries.
        factor: growth of the wait at each retry.
    """

    max_attempts: int = 10
    initial_interval: timedelta = timedelta(milliseconds=100)
    max_interval: timedelta = timedelta(seconds=30)
    factor: float = 2.0

    def delay_after(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        base = self.initial_interval.total_seconds() * self.factor ** (attempt - 1)
        return float(min(self.max_interval.total_seconds(), base))


def as_seconds(value: float | timedelta | None) -> float | None:
    """A duration given as seconds or a ``timedelta``, in seconds (``None`` stays ``None``)."""
    if value is None:
        return None
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
