"""JSON in and out of the server: a request-body parser with limits, and responses any value can go into.

Every route that takes a JSON body parses it with :func:`parse_json` (one parser, the one the engine
validates handler input with), so what the ingress accepts the engine accepts too: UTF-8 text,
nested at most :data:`MAX_DEPTH` levels, integers of at most :data:`MAX_INT_DIGITS` digits, finite
numbers only, no lone surrogate in a string. Anything else is a 400 naming the problem, never a
``RecursionError`` or a ``ValueError`` escaping as a 500.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import pydantic_core
from starlette.responses import JSONResponse

from .._exceptions import InvalidInputError

# Deeper than any agent's data; below the parser's own recursion limit (about 200).
MAX_DEPTH = 128
# Python's own limit for converting between int and str (``sys.get_int_max_str_digits``); the
# parser enforces it and says "number out of range".
MAX_INT_DIGITS = 4300


@dataclass(frozen=True)
class JsonLimits:
    """What :func:`parse_json` accepts besides well-formed UTF-8 JSON.

    Attributes:
        max_depth: the deepest nesting of arrays and objects (a scalar is depth 0, ``[1]`` depth 1).
    """

    max_depth: int = MAX_DEPTH


DEFAULT_LIMITS = JsonLimits()


def parse_json(body: bytes, limits: JsonLimits = DEFAULT_LIMITS) -> Any:
    """The value of a JSON request body; an empty (or all-whitespace) body stands for ``null``.

    Raises:
        InvalidInputError: not UTF-8, malformed, nested too deep, a number out of range
            (an integer of more than 4,300 digits, one that overflows a float, ``NaN``, ``Infinity``),
            or a lone surrogate escape (``"\\ud800"``). The message says which and where.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInputError(f"malformed JSON input: the body is not UTF-8 (byte {error.start})") from None
    if not text.strip():
        return None
    try:
        value = pydantic_core.from_json(text, allow_inf_nan=False, cache_strings=False)
    except ValueError as error:
        raise InvalidInputError(f"malformed JSON input: {_parser_message(error)}") from None
    _check_value(value, limits)
    return value


def _parser_message(error: ValueError) -> str:
    message = str(error)
    if message.startswith("recursion limit exceeded"):
        return f"nested deeper than {MAX_DEPTH} levels ({message})"
    if message.startswith("number out of range"):
        return f"number out of range: integers have at most {MAX_INT_DIGITS} digits ({message})"
    return message


def _check_value(value: Any, limits: JsonLimits) -> None:
    """Depth and finiteness, walked without recursion (the parser already bounded the depth)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth + 1 > limits.max_depth:
                raise InvalidInputError(f"malformed JSON input: nested deeper than {limits.max_depth} levels")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
        elif isinstance(item, float) and not math.isfinite(item):
            raise InvalidInputError("malformed JSON input: number out of range (it overflows a 64-bit float)")


class SafeJSONResponse(JSONResponse):
    """A JSON response that can carry any value read back from a journal.

    Values are sent as UTF-8; a string holding a lone surrogate (which UTF-8 cannot encode, and
    which an older journal may hold) makes the whole body ASCII with ``\\uXXXX`` escapes instead of
    failing with a 500.
    """

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode(
                "ascii"
            )
