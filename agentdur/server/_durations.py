"""The ``?delay=`` of a send, in the forms Restate accepts: humantime (``10s``, ``1h30m``) or ISO-8601 (``PT10S``)."""

from __future__ import annotations

import re

from .._exceptions import InvalidInputError

_SECONDS_PER_UNIT = {
    **dict.fromkeys(("ns", "nsec", "nsecs", "nanos", "nanosecond", "nanoseconds"), 1e-9),
    **dict.fromkeys(("us", "usec", "usecs", "micros", "microsecond", "microseconds"), 1e-6),
    **dict.fromkeys(("ms", "msec", "msecs", "millis", "millisecond", "milliseconds"), 1e-3),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1.0),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60.0),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600.0),
    **dict.fromkeys(("d", "day", "days"), 86400.0),
    **dict.fromkeys(("w", "week", "weeks"), 7 * 86400.0),
}

_HUMAN_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)")
_ISO = re.compile(
    r"P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?",
    re.IGNORECASE,
)
_ISO_UNITS = {"weeks": 7 * 86400.0, "days": 86400.0, "hours": 3600.0, "minutes": 60.0, "seconds": 1.0}

EXAMPLES = "e.g. 10s, 500ms, 1h30m or PT10S"


def parse_delay(text: str) -> float:
    """Seconds for a delay such as ``10s``, ``500ms``, ``1h 30m`` or ``PT1H30M``.

    Raises:
        InvalidInputError: the text is not a duration in either form (the message shows examples).
    """
    text = text.strip()
    if text[:1] in ("P", "p"):
        return _parse_iso(text)
    return _parse_human(text)


def _parse_iso(text: str) -> float:
    match = _ISO.fullmatch(text)
    if match is None or not any(match.groupdict().values()) or text.upper().endswith("T"):
        raise InvalidInputError(f"invalid delay {text!r}: not an ISO-8601 duration ({EXAMPLES})")
    return sum(float(value) * _ISO_UNITS[name] for name, value in match.groupdict().items() if value)


def _parse_human(text: str) -> float:
    total, position = 0.0, 0
    while position < len(text):
        match = _HUMAN_PART.match(text, position)
        if match is None:
            break
        seconds = _SECONDS_PER_UNIT.get(match.group(2))
        if seconds is None:
            raise InvalidInputError(f"invalid delay {text!r}: unknown unit {match.group(2)!r} ({EXAMPLES})")
        total += float(match.group(1)) * seconds
        position = match.end()
    if position == 0 or text[position:].strip():
        raise InvalidInputError(f"invalid delay {text!r}: expected a number and a unit ({EXAMPLES})")
    return total
