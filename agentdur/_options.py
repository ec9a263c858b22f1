"""Retry options of steps and invocations."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Generic, Never, TypedDict, TypeVar, Unpack, overload

from ._exceptions import InvalidRunOptionsError

T = TypeVar("T")
# Covariant: the options are frozen, so ``RunOptions(max_attempts=3)`` fits a step of any result type.
T_co = TypeVar("T_co", covariant=True)

DEFAULT_INITIAL_RETRY_INTERVAL = timedelta(milliseconds=50)
DEFAULT_MAX_RETRY_INTERVAL = timedelta(seconds=10)
DEFAULT_RETRY_INTERVAL_FACTOR = 2.0
# Growth beyond this between two retries is a typo, not a policy (and 1e308 ** 2 overflows).
MAX_RETRY_INTERVAL_FACTOR = 100.0
# A model call attempt that has not answered in this long is stuck (the OpenAI SDK's own default).
MODEL_CALL_TIMEOUT = timedelta(minutes=10)


class _RetryFields(TypedDict, total=False):
    """The retry fields of :class:`RunOptions`, for its typed constructor."""

    max_attempts: int | None
    max_duration: timedelta | None
    initial_retry_interval: timedelta | None
    max_retry_interval: timedelta | None
    retry_interval_factor: float | None
    max_retry_duration: timedelta | None
    timeout: timedelta | float | None


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
        retry_interval_factor: growth of the wait at each retry (default 2, at most 100).
        timeout: how long one attempt may run (a ``timedelta`` or seconds); ``None`` (default) does
            not bound it. An async body is cancelled at the deadline; a sync body cannot be stopped,
            so its thread is abandoned (it runs on, its result is dropped). Either way the attempt
            fails with a retryable :class:`~agentdur.StepTimeoutError`.
        type_hint: the result type used for JSON serialization; defaults to the function's
            return annotation.
        max_retry_duration: restate-sdk's deprecated name of ``max_duration`` (the Tour of
            Workflows still uses it); it sets ``max_duration`` when that is not set.

    Raises:
        InvalidRunOptionsError: a field holds a value the options cannot work with (the message
            names it): ``max_attempts`` below 1 or not an int, a negative or non-finite duration,
            a factor below 1 or above 100.
    """

    max_attempts: int | None = None
    max_duration: timedelta | None = None
    initial_retry_interval: timedelta | None = None
    max_retry_interval: timedelta | None = None
    retry_interval_factor: float | None = None
    type_hint: type[T_co] | Any | None = None
    max_retry_duration: timedelta | None = None
    timeout: timedelta | float | None = None

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

    def __post_init__(self) -> None:
        if self.max_duration is None and self.max_retry_duration is not None:
            object.__setattr__(self, "max_duration", self.max_retry_duration)
        check_positive_int("RunOptions.max_attempts", self.max_attempts)
        for field in ("max_duration", "initial_retry_interval", "max_retry_interval"):
            check_duration(f"RunOptions.{field}", getattr(self, field))
        check_factor("RunOptions.retry_interval_factor", self.retry_interval_factor)
        check_duration("RunOptions.timeout", self.timeout, seconds_allowed=True, zero_allowed=False)

    @property
    def timeout_seconds(self) -> float | None:
        """The timeout of one attempt in seconds (``None``: unbounded)."""
        return as_seconds(self.timeout)

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
        return backoff(initial, factor, ceiling, attempt)


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

    def __post_init__(self) -> None:
        check_positive_int("InvocationRetryPolicy.max_attempts", self.max_attempts)
        check_duration("InvocationRetryPolicy.initial_interval", self.initial_interval)
        check_duration("InvocationRetryPolicy.max_interval", self.max_interval)
        check_factor("InvocationRetryPolicy.factor", self.factor)

    def delay_after(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return backoff(
            self.initial_interval.total_seconds(), self.factor, self.max_interval.total_seconds(), attempt
        )


def backoff(initial: float, factor: float, ceiling: float, attempt: int) -> float:
    """``initial * factor ** (attempt - 1)`` seconds, capped at ``ceiling`` (never overflowing)."""
    try:
        return float(min(ceiling, initial * factor ** (attempt - 1)))
    except OverflowError:
        return float(ceiling)


def check_run_options(step: str, options: object) -> None:
    """Refuse options of ``run_typed`` that are not :class:`RunOptions` (``None`` included)."""
    if not isinstance(options, RunOptions):
        raise InvalidRunOptionsError(
            f"step {step!r}: run_typed takes RunOptions(...) as its third argument, not {options!r}"
        )


def check_positive_int(field: str, value: object) -> None:
    """Refuse anything but ``None`` or an int of at least 1 (``True`` and ``"3"`` included)."""
    if value is not None and (type(value) is not int or value < 1):
        raise InvalidRunOptionsError(f"{field} must be an int of at least 1 or None, not {value!r}")


def check_duration(
    field: str, value: object, *, seconds_allowed: bool = False, zero_allowed: bool = True
) -> None:
    """Refuse anything but ``None`` or a finite, non-negative ``timedelta`` (or seconds, when allowed)."""
    if value is None:
        return
    kinds = "a timedelta or seconds" if seconds_allowed else "a timedelta"
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif seconds_allowed and isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise InvalidRunOptionsError(f"{field} must be {kinds} or None, not {value!r}")
    if not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not zero_allowed):
        least = "positive" if not zero_allowed else "zero or more"
        raise InvalidRunOptionsError(f"{field} must be {least} and finite, not {value!r}")


def check_factor(field: str, value: object) -> None:
    """Refuse a growth factor that is not a number from 1 to :data:`MAX_RETRY_INTERVAL_FACTOR`."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidRunOptionsError(f"{field} must be a finite number or None, not {value!r}")
    if not 1 <= value <= MAX_RETRY_INTERVAL_FACTOR:
        raise InvalidRunOptionsError(
            f"{field} must be from 1 to {MAX_RETRY_INTERVAL_FACTOR:g}, not {value!r}"
        )


def as_seconds(value: float | timedelta | None) -> float | None:
    """A duration given as seconds or a ``timedelta``, in seconds (``None`` stays ``None``)."""
    if value is None:
        return None
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


MODEL_CALL_OPTIONS: RunOptions[Any] = RunOptions(
    max_attempts=5,
    initial_retry_interval=timedelta(seconds=1),
    max_retry_interval=timedelta(seconds=30),
    retry_interval_factor=2.0,
    timeout=MODEL_CALL_TIMEOUT,
)
"""The retries of a journaled model call, wherever agentdur makes one (patterns and integrations):
five attempts, waiting 1 s, then doubling up to 30 s, each attempt bounded to 10 minutes. A
provider's ``retry-after`` is honoured by the integrations when it is longer."""
