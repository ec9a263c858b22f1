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

_HUMAN_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)", re.ASCII)
_ISO = re.compile(
    r"P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?",
    re.IGNORECASE | re.ASCII,
)
_ISO_UNITS = {"weeks": 7 * 86400.0, "days": 86400.0, "hours": 3600.0, "minutes": 60.0, "seconds": 1.0}

EXAMPLES = "e.g. 10s, 500ms, 1h30m or PT10S"
# The longest delay a send may ask for: anything longer is a mistake (and never fires in practice).
MAX_DELAY_SECONDS = 365 * 86400.0
MAX_DELAY_TEXT = "365 days"

_SPACE = " \t\n\r\f\v"  # what the parser skips (ASCII whitespace only)
_SPACES = r"[ \t\n\r\f\v]*"
_NUMBER = r"[0-9]+(?:\.[0-9]+)?"
_UNITS = "|".join(sorted(_SECONDS_PER_UNIT, key=len, reverse=True))
# The OpenAPI pattern of a delay: the server's grammar exactly (the 365-day bound aside).
DELAY_PATTERN = (
    rf"^{_SPACES}(?:"
    rf"(?:{_NUMBER}{_SPACES}(?:{_UNITS}){_SPACES})+"
    rf"|[Pp](?=[0-9Tt])(?:{_NUMBER}[Ww])?(?:{_NUMBER}[Dd])?"
    rf"(?:[Tt](?=[0-9])(?:{_NUMBER}[Hh])?(?:{_NUMBER}[Mm])?(?:{_NUMBER}[Ss])?)?{_SPACES}"
    r")$"
)


def parse_delay(text: str) -> float:
    """Seconds for a delay such as ``10s``, ``500ms``, ``1h 30m`` or ``PT1H30M``, at most 365 days.

    Raises:
        InvalidInputError: the text is empty, not a duration in either form (the message shows
            examples), or longer than :data:`MAX_DELAY_SECONDS`.
    """
    text = text.strip(_SPACE)
    if not text:
        raise InvalidInputError(
            f"invalid delay {text!r}: empty; give a duration ({EXAMPLES}) or leave delay out"
        )
    seconds = _parse_iso(text) if text[:1] in ("P", "p") else _parse_human(text)
    if not seconds <= MAX_DELAY_SECONDS:  # also refuses an overflow to inf
        raise InvalidInputError(f"invalid delay {text!r}: longer than the maximum of {MAX_DELAY_TEXT}")
    return seconds


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
    if position == 0 or text[position:].strip(_SPACE):
        raise InvalidInputError(f"invalid delay {text!r}: expected a number and a unit ({EXAMPLES})")
    return total
