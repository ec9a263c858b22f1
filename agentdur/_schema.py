"""The values awakeables expect: a JSON schema recorded with the awakeable, checked at resolve time.

An awakeable created with a ``type_hint`` records ``TypeAdapter(type_hint).json_schema()`` with its
journal entry. Whoever resolves it later — the server process after a restart, with no handler in
memory that knows the type — checks the value against that schema, so a wrong value is refused with
the field that failed instead of being delivered to a handler that cannot read it.

The check covers what pydantic emits for JSON values: booleans, numbers, strings, null, enums and
literals, objects with required fields, arrays and tuples, unions and optionals, ``$ref`` into
``$defs``, numeric bounds and lengths. It follows pydantic's lax JSON rules (``"yes"`` is a boolean,
``2.0`` an integer) so that it does not refuse a value the type accepts. Keywords it does not know
(formats, patterns, ``multipleOf``) and custom validators accept anything: the handler's own type
stays the last word (see :func:`value_check`). One known gap: a model that accepts fields by name
as well as by alias is checked by alias only.
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Callable
from typing import Any

from pydantic import PydanticUserError, TypeAdapter, ValidationError

from ._exceptions import AwakeableValueError
from ._serde import adapter_for

Schema = dict[str, Any]
Location = tuple[str | int, ...]
Problem = tuple[Location, str]
# Checks a resolution's JSON text against the awakeable's recorded schema text; raises when it fails.
ValueCheck = Callable[[str | None, str | None], None]

BOOLEAN_WORDS = frozenset({"0", "off", "f", "false", "n", "no", "1", "on", "t", "true", "y", "yes"})
TYPE_MESSAGES = {  # as pydantic words them when it validates JSON
    "boolean": "Input should be a valid boolean",
    "integer": "Input should be a valid integer",
    "number": "Input should be a valid number",
    "string": "Input should be a valid string",
    "null": "Input should be null",
    "array": "Input should be a valid array",
    "object": "Input should be an object",
}
FORMAT_EXAMPLES = {
    "date-time": "2026-01-01T12:00:00Z",
    "date": "2026-01-01",
    "time": "12:00:00",
    "duration": "PT1H",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "email": "someone@example.com",
}
BOUNDS = (
    ("minimum", "greater than or equal to"),
    ("exclusiveMinimum", "greater than"),
    ("maximum", "less than or equal to"),
    ("exclusiveMaximum", "less than"),
)
MAX_EXAMPLE_DEPTH = 4
MAX_PROBLEMS = 10  # a message names this many fields at most

_SCHEMAS: dict[Any, str | None] = {}

# ====================================================================== recording


def schema_text_of(type_hint: Any) -> str | None:
    """The JSON schema of ``type_hint`` as JSON text; ``None`` for ``Any`` (every value is accepted)."""
    try:
        return _SCHEMAS[type_hint]
    except KeyError:
        pass
    except TypeError:  # unhashable type expression
        return _schema_text(type_hint)
    text = _SCHEMAS[type_hint] = _schema_text(type_hint)
    return text


def _schema_text(type_hint: Any) -> str | None:
    if type_hint is None or type_hint is Any or type_hint is inspect.Signature.empty:
        return None
    try:
        schema = adapter_for(type_hint).json_schema()
    except PydanticUserError:  # a type with no JSON schema: nothing to check against
        return None
    return json.dumps(schema, separators=(",", ":")) if schema else None


# ====================================================================== checking


def problems(schema: Schema, value: Any) -> list[Problem]:
    """Where and why ``value`` does not match ``schema``; empty when it does."""
    return _check(schema, value, (), schema)


def problems_of(error: ValidationError) -> list[Problem]:
    """The problems a pydantic validation error lists, in the same form."""
    return [(tuple(item.get("loc", ())), str(item.get("msg", "invalid"))) for item in error.errors()]


def describe(found: list[Problem]) -> str:
    """``approved: Field required; by: Input should be a valid string`` (the root is ``value``)."""
    text = "; ".join(
        f"{'.'.join(str(part) for part in loc) or 'value'}: {msg}" for loc, msg in found[:MAX_PROBLEMS]
    )
    return text + (f"; and {len(found) - MAX_PROBLEMS} more" if len(found) > MAX_PROBLEMS else "")


def mismatch_error(awakeable_id: str, found: list[Problem], schema: Schema | None) -> AwakeableValueError:
    """The 400 error for a value that does not match an awakeable: the fields, and what would."""
    message = f"the value does not match what awakeable {awakeable_id} expects: {describe(found)}"
    if schema is not None:
        message += f"; expected a value like {json.dumps(example_of(schema), separators=(', ', ': '))}"
    return AwakeableValueError(message)


def value_check(awakeable_id: str, adapter: TypeAdapter[Any] | None) -> ValueCheck:
    """The check of a resolution: the live type when the waiting handler is in memory, else the schema."""

    def check(schema_text: str | None, value_text: str | None) -> None:
        schema = None if schema_text is None else json.loads(schema_text)
        if adapter is not None:
            try:
                adapter.validate_json(value_text or "null")
                return
            except ValidationError as error:
                raise mismatch_error(awakeable_id, problems_of(error), schema) from None
        if schema is not None and (found := problems(schema, json.loads(value_text or "null"))):
            raise mismatch_error(awakeable_id, found, schema)

    return check


def _resolve(node: Any, root: Schema) -> Schema:
    """``node`` with its ``$ref`` (``#/$defs/Name``) replaced by what it names."""
    if not isinstance(node, dict):
        return {}
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
        return node
    target = _resolve(root.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {}), root)
    return {**target, **{k: v for k, v in node.items() if k != "$ref"}}


def _check(raw: Any, value: Any, loc: Location, root: Schema) -> list[Problem]:
    node = _resolve(raw, root)
    for union in ("anyOf", "oneOf"):
        if isinstance(node.get(union), list):
            return _check_union(node[union], value, loc, root)
    found: list[Problem] = []
    for part in node.get("allOf", ()):
        found += _check(part, value, loc, root)
    if "const" in node and not _same(value, node["const"]):
        return [(loc, f"Input should be {_show(node['const'])}")]
    if isinstance(node.get("enum"), list) and not any(_same(value, v) for v in node["enum"]):
        return [(loc, "Input should be " + " or ".join(_show(v) for v in node["enum"]))]
    kinds = node.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        if not any(_is_kind(value, kind, node) for kind in kinds):
            return [(loc, TYPE_MESSAGES.get(kinds[0], f"Input should be of type {kinds[0]}"))]
    if isinstance(value, dict):
        found += _check_object(node, value, loc, root)
    elif isinstance(value, list):
        found += _check_array(node, value, loc, root)
    elif isinstance(value, str) and node.get("type") == "string":
        found += [(loc, message) for message in _length_problems(node, len(value), "String", "characters")]
    elif (number := _as_number(value)) is not None and node.get("type") in ("integer", "number"):
        found += [(loc, message) for message in _bound_problems(node, number)]
    return found


def _bound_problems(node: Schema, number: float) -> list[str]:
    found = []
    for key, words in BOUNDS:
        limit = node.get(key)
        if isinstance(limit, int | float) and not _within(key, number, limit):
            found.append(f"Input should be {words} {limit}")
    return found


def _within(key: str, number: float, limit: float) -> bool:
    match key:
        case "minimum":
            return number >= limit
        case "exclusiveMinimum":
            return number > limit
        case "maximum":
            return number <= limit
    return number < limit  # exclusiveMaximum


def _length_problems(node: Schema, length: int, what: str, unit: str) -> list[str]:
    least, most = node.get("minLength", node.get("minItems")), node.get("maxLength", node.get("maxItems"))
    found = []
    if isinstance(least, int) and length < least:
        found.append(f"{what} should have at least {least} {unit}")
    if isinstance(most, int) and length > most:
        found.append(f"{what} should have at most {most} {unit}")
    return found


def _check_union(options: list[Any], value: Any, loc: Location, root: Schema) -> list[Problem]:
    results = [_check(option, value, loc, root) for option in options]
    if not results or any(not found for found in results):
        return []
    non_null = [
        found
        for option, found in zip(options, results, strict=True)
        if _resolve(option, root).get("type") != "null"
    ]
    return min(non_null or results, key=len)  # Optional[X] reports X's problems


def _check_object(node: Schema, value: dict[str, Any], loc: Location, root: Schema) -> list[Problem]:
    found: list[Problem] = []
    properties = node.get("properties", {})
    for name in node.get("required", ()):
        if name not in value:
            found.append(((*loc, name), "Field required"))
    extra = node.get("additionalProperties", True)
    for name, item in value.items():
        if name in properties:
            found += _check(properties[name], item, (*loc, name), root)
        elif extra is False:
            found.append(((*loc, name), "Extra inputs are not permitted"))
        elif isinstance(extra, dict):
            found += _check(extra, item, (*loc, name), root)
    return found


def _check_array(node: Schema, value: list[Any], loc: Location, root: Schema) -> list[Problem]:
    found: list[Problem] = []
    prefix = node.get("prefixItems") or []
    for index, item_schema in enumerate(prefix[: len(value)]):
        found += _check(item_schema, value[index], (*loc, index), root)
    items = node.get("items")
    if isinstance(items, dict):
        for index in range(len(prefix), len(value)):
            found += _check(items, value[index], (*loc, index), root)
    found += [(loc, message) for message in _length_problems(node, len(value), "List", "items")]
    return found


def _same(value: Any, expected: Any) -> bool:
    """Equality as pydantic's lax mode sees it: ``1 == 1.0 == True``, but ``"1" != 1``."""
    return bool(value == expected) and isinstance(value, str) == isinstance(expected, str)


def _is_kind(value: Any, kind: str, node: Schema) -> bool:
    """Whether pydantic (lax, from JSON) could accept ``value`` as a JSON ``kind``."""
    number = _as_number(value)
    match kind:
        case "null":
            return value is None
        case "boolean":
            if isinstance(value, str):
                return value.strip().lower() in BOOLEAN_WORDS
            return number in (0, 1)
        case "integer":
            return number is not None and math.isfinite(number) and float(number).is_integer()
        case "number":
            return number is not None
        case "string":  # strings with a format (datetime, date, timedelta) also take numbers
            return isinstance(value, str) or ("format" in node and _as_number(value) is not None)
        case "array":
            return isinstance(value, list)
        case "object":
            return isinstance(value, dict)
    return True


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool | int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else json.dumps(value)


# ====================================================================== examples


def example_of(schema: Schema) -> Any:
    """A value that matches ``schema``, to show an approver what to send (``None`` when anything goes)."""
    return _example(schema, schema, 0)


def _example(raw: Any, root: Schema, depth: int) -> Any:
    node = _resolve(raw, root)
    if isinstance(node.get("examples"), list) and node["examples"]:
        return node["examples"][0]
    if "const" in node:
        return node["const"]
    if isinstance(node.get("enum"), list) and node["enum"]:
        return node["enum"][0]
    for union in ("anyOf", "oneOf", "allOf"):
        options = node.get(union)
        if isinstance(options, list) and options:
            typed = [o for o in options if _resolve(o, root).get("type") != "null"]
            return _example((typed or options)[0], root, depth)
    if node.get("default") is not None:
        return node["default"]
    kind = node.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    return _example_of_kind(kind, node, root, depth)


def _example_of_kind(kind: Any, node: Schema, root: Schema, depth: int) -> Any:
    match kind:
        case "boolean":
            return True
        case "integer":
            return 1
        case "number":
            return 1.5
        case "string":
            return FORMAT_EXAMPLES.get(str(node.get("format")), "...")
        case "array":
            prefix = node.get("prefixItems")
            if isinstance(prefix, list):
                return [_example(item, root, depth + 1) for item in prefix]
            items = node.get("items")
            return (
                [_example(items, root, depth + 1)]
                if isinstance(items, dict) and depth < MAX_EXAMPLE_DEPTH
                else []
            )
        case "object":
            properties: dict[str, Any] = node.get("properties", {})
            required = set(node.get("required", ()))
            if depth >= MAX_EXAMPLE_DEPTH:  # a recursive model: only what cannot be left out
                properties = {name: s for name, s in properties.items() if name in required}
            return {name: _example(s, root, depth + 1) for name, s in properties.items()}
    return None
