"""JSON serialization of handler input, output and step results, through pydantic (never pickle)."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import math
import sys
import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError

from ._exceptions import InvalidInputError

_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}
_ANY_ADAPTER: TypeAdapter[Any] = TypeAdapter(Any)
# The digits Python converts between text and int (``sys.get_int_max_str_digits``, 4300 by default).
MAX_INT_DIGITS = sys.get_int_max_str_digits() or 4300
# An int with more bits than this has more than MAX_INT_DIGITS digits.
_MAX_INT_BITS = math.ceil(MAX_INT_DIGITS * math.log2(10))


def adapter_for(tp: Any) -> TypeAdapter[Any]:
    """A cached TypeAdapter for ``tp``; building one costs far more than using it."""
    if tp is None or tp is inspect.Signature.empty:
        return _ANY_ADAPTER
    try:
        found = _ADAPTERS.get(tp)
    except TypeError:  # unhashable type expression
        return TypeAdapter(tp)
    if found is None:
        found = TypeAdapter(tp)
        _ADAPTERS[tp] = found
    return found


def return_type_of(fn: Callable[..., Any]) -> Any:
    """The declared return type of ``fn`` (``Any`` when it has none); unwraps coroutine functions."""
    target = fn if inspect.isroutine(fn) else type(fn).__call__
    try:
        hints = typing.get_type_hints(target)
    except Exception:
        return Any
    return hints.get("return", Any)


@functools.lru_cache(maxsize=4096)
def _cached_return_type(fn: Callable[..., Any]) -> Any:
    return return_type_of(fn)


def step_result_type(action: Callable[..., Any], type_hint: Any = None) -> Any:
    """The type a step's result is serialized as: ``type_hint`` if given, else the return annotation."""
    if type_hint is not None:
        return type_hint
    try:
        return _cached_return_type(action)
    except TypeError:  # unhashable callable
        return return_type_of(action)


def dump(adapter: TypeAdapter[Any], value: Any) -> str:
    """Serialize ``value`` to JSON text."""
    return adapter.dump_json(value).decode()


def load(adapter: TypeAdapter[Any], text: str | None) -> Any:
    """Deserialize JSON text recorded by :func:`dump`."""
    if text is None:
        return None
    return adapter.validate_json(text)


def describe_validation_error(error: ValidationError) -> str:
    """A one-line message naming every field that failed, e.g. ``amount: Input should be a number``."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item.get("loc", ())) or "input"
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    return "invalid input: " + "; ".join(parts)


def validate_input(adapter: TypeAdapter[Any], raw: bytes | str | None) -> Any:
    """Validate raw JSON handler input, raising a 400 :class:`InvalidInputError` naming the field."""
    if raw is None or raw in (b"", ""):
        raw = "null"
    try:
        return adapter.validate_json(raw)
    except ValidationError as error:
        if _is_json_error(error):
            raise InvalidInputError(f"malformed JSON input: {error.errors()[0].get('msg', '')}") from None
        raise InvalidInputError(describe_validation_error(error)) from None


def _is_json_error(error: ValidationError) -> bool:
    return any(item.get("type") == "json_invalid" for item in error.errors())


def to_json_text(value: Any) -> str:
    """JSON text for a plain Python value passed to the engine API (dicts, lists, models).

    Raises:
        InvalidInputError: the value cannot be JSON (an unknown type, a non-finite float, an int of
            more than 4300 digits), or raw ``bytes`` that are not UTF-8.
    """
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode()
        except UnicodeDecodeError as error:
            raise InvalidInputError(f"the input bytes are not UTF-8 JSON: {error}") from None
    try:
        text = _ANY_ADAPTER.dump_json(value).decode()
    except (PydanticSerializationError, ValueError, TypeError, RecursionError) as error:
        raise InvalidInputError(f"the input cannot be serialized as JSON: {error}") from None
    problem = unjournalable(value) if may_hold_unjournalable(text) else None
    if problem is not None:
        raise InvalidInputError(f"the input holds {problem}, which JSON cannot carry")
    return text


def may_hold_unjournalable(text: str) -> bool:
    """Whether the JSON ``text`` of a value may hide a non-finite float (written as ``null``, or as
    ``NaN``/``Infinity`` under some model configs) or an int too long to read back (which needs a
    text that long): only then is the value itself worth walking through."""
    return len(text) > MAX_INT_DIGITS or "null" in text or "NaN" in text or "Infinity" in text


def from_json_text(text: str | None) -> Any:
    """Plain Python value from stored JSON text."""
    return None if text is None else json.loads(text)


def unjournalable(value: Any) -> str | None:
    """What in ``value`` JSON cannot carry both ways (a non-finite float, an int too long to read
    back), or ``None``. Looks through containers, pydantic models and dataclasses."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind in _SCALARS:
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                return f"the non-finite float {item!r}"
        elif isinstance(item, int):
            if item.bit_length() > _MAX_INT_BITS:
                return f"an integer of more than {MAX_INT_DIGITS} digits"
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        elif isinstance(item, BaseModel):
            stack.extend(item.__dict__.values())
            if item.__pydantic_extra__:
                stack.extend(item.__pydantic_extra__.values())
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            stack.extend(getattr(item, field.name) for field in dataclasses.fields(item))
    return None


# Types whose values JSON always carries both ways (bool and small ints are checked as ints).
_SCALARS = frozenset({str, bytes, bool, type(None)})
