"""Checks of a value before it is journaled, the same on both engines.

A journaled value must load again, unchanged, on replay: otherwise the invocation that wrote it can
never replay past it. So a step result is refused (the attempt fails, nothing is written) when it
does not match its declared type, holds a float that JSON cannot carry (NaN, infinities: pydantic
would write them as ``null``), an integer of more than 4300 digits (Python refuses to read it back),
or when its JSON is larger than the maximum journal entry size.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError

from ._exceptions import JournalValueError, StateNameError
from ._serde import adapter_for, may_hold_unjournalable, unjournalable

# restate-server's default message size limit (``networking.message-size-limit``, 32 MiB): an entry
# larger than that cannot travel to Restate either, so both engines refuse it at the same size.
DEFAULT_MAX_ENTRY_SIZE = 32 * 1024 * 1024
_ANY = adapter_for(Any)

# Restate keeps item i of state list "name" under the state key "name" + this + "i": a state name
# holding it could reach into a list, so no state name may (on both engines, so that code that runs
# on one runs on the other).
STATE_NAME_SEPARATOR = "\x1f"


def check_state_name(name: str) -> None:
    """Refuse a state name holding the character reserved for the items of state lists.

    Raises:
        StateNameError: ``name`` holds U+001F (the unit separator); a :class:`UserError` that is
            also terminal (the invocation fails, it is not retried).
    """
    if STATE_NAME_SEPARATOR in name:
        raise StateNameError(
            f"state name {name!r} holds the character U+001F (unit separator, '\\x1f'), which is reserved "
            "for the items of state lists: choose a name without it"
        )


def dump_checked(what: str, adapter: TypeAdapter[Any], value: Any, max_size: int | None) -> str:
    """``value`` as JSON text, once it is sure to load again as the same value.

    Args:
        what: names the value in errors ("the result of step 'fetch'").
        adapter: the declared type.
        value: what to journal.
        max_size: the largest JSON text accepted, in bytes (``None``: no limit).

    Raises:
        JournalValueError: the value cannot be journaled; the message says why and names ``what``.
    """
    try:
        # No serializer warnings: the round trip below says what does not match, as an error.
        text = adapter.dump_json(value, warnings="none").decode()
    except PydanticSerializationError as error:
        raise JournalValueError(
            f"{what} cannot be serialized as JSON of its declared type: {_first_line(error)}; return a "
            "value of that type, or declare its type with RunOptions(type_hint=...)"
        ) from None
    except (ValueError, TypeError, RecursionError) as error:
        raise JournalValueError(f"{what} cannot be serialized as JSON: {error}") from None
    if max_size is not None and len(text) > max_size:
        raise JournalValueError(
            f"{what} is {len(text):,} bytes of JSON, more than the maximum journal entry size of "
            f"{max_size:,} bytes; store large data elsewhere and journal a reference to it"
        )
    if may_hold_unjournalable(text):
        problem = unjournalable(value)
        if problem is not None:
            raise JournalValueError(f"{what} holds {problem}, which JSON cannot carry both ways")
    if adapter is not _ANY:
        try:
            adapter.validate_json(text)
        except ValidationError as error:
            raise JournalValueError(
                f"{what} does not match its declared type (it would not load on replay): {_first_line(error)}"
            ) from None
    return text


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return " ".join(lines[:3])


def json_kind(value: object) -> str:
    """The JSON name of a parsed JSON value's type (``object``, ``array``, ``string`` ...), for errors."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"
