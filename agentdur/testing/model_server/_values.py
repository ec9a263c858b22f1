"""Values for tool arguments and JSON answers, taken from the words of a message.

Deterministic by construction: the same message and schema always give the same value. A ``city``
string gets a capitalized phrase of the message ("Paris", "New York"), numbers get the message's
numbers in order, enums the member the message names, and everything else a sensible default.
"""

from __future__ import annotations

import re
from typing import Any

STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        "a an and are as at be but by can could do does for from how i in is it me my of on or please "
        "should tell than that the this to was what when where which who why will with would you your "
        "hello hi hey",
    )
)
PLACE_WORDS = frozenset(
    re.findall(
        r"\w+",
        "city location place country destination origin where region state town airport address "
        "name person user company",
    )
)
ENUM_FILLER_WORDS = frozenset(("agent", "tool", "mode", "type"))
DATE_PATTERN = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
NUMBER_PATTERN = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.]*\w)")
EMAIL_PATTERN = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
QUOTED_PATTERN = re.compile(r"\"([^\"]+)\"|'([^']+)'")
WORD_PATTERN = re.compile(r"[A-Za-z][\w'-]*")
SENTENCE_START = re.compile(r"(?:^|[.!?]\s+)([A-Za-z][\w'-]*)")
DEFAULT_DATE = "2025-01-01"
DEFAULT_EMAIL = "user@example.com"
UNKNOWN = "unknown"


def words(text: str) -> list[str]:
    """The lowercase content words of ``text`` (no stopwords), crudely singularized."""
    return [singular(w.lower()) for w in WORD_PATTERN.findall(text) if w.lower() not in STOPWORDS]


def name_parts(name: str) -> list[str]:
    """The lowercase words of an identifier: ``get_weather`` and ``getWeather`` give get, weather."""
    return [part.lower() for part in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", name)]


def singular(word: str) -> str:
    """``word`` without a plural ``s`` (both sides of a comparison go through this)."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def capitalized_phrases(text: str) -> list[str]:
    """Runs of capitalized words ("New York"), those inside a sentence before sentence-initial ones."""
    starts = {m.start(1) for m in SENTENCE_START.finditer(text)}
    inner: list[str] = []
    initial: list[str] = []
    for match in re.finditer(r"[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*", text):
        phrase_words = match.group(0).split()
        at_start = match.start() in starts
        while phrase_words and phrase_words[0].lower() in STOPWORDS:
            phrase_words.pop(0)
            at_start = False
        if phrase_words:
            (initial if at_start and len(phrase_words) == 1 else inner).append(" ".join(phrase_words))
    return inner + initial


class MessageValues:
    """The values a message offers, handed out in order as a schema asks for them."""

    def __init__(self, text: str) -> None:
        self.text = text.strip()
        self.dates = DATE_PATTERN.findall(text)
        self.emails = EMAIL_PATTERN.findall(text)
        without = EMAIL_PATTERN.sub(" ", DATE_PATTERN.sub(" ", text))
        self.numbers = [m.group(0) for m in NUMBER_PATTERN.finditer(without)]
        self.quoted = [a or b for a, b in QUOTED_PATTERN.findall(text)]
        self.phrases = capitalized_phrases(QUOTED_PATTERN.sub(" ", without))
        self._used: dict[str, int] = {}

    def next(self, kind: str, pool: list[str]) -> str | None:
        """The next unused value of ``pool`` (the last one again once all are used)."""
        if not pool:
            return None
        index = self._used.get(kind, 0)
        self._used[kind] = index + 1
        return pool[min(index, len(pool) - 1)]


def fill_object(
    schema: dict[str, Any],
    values: MessageValues,
    *,
    root: dict[str, Any] | None = None,
    complete: bool = True,
) -> dict[str, Any]:
    """An object for ``schema``: every property when ``complete``, else the required ones and those
    the message gives a value for."""
    root = root if root is not None else schema
    schema = resolve(schema, root)
    required = set(schema.get("required") or ())
    result: dict[str, Any] = {}
    for name, prop in (schema.get("properties") or {}).items():
        value, found = fill_value(name, prop, values, root)
        if complete or found or name in required:
            result[name] = value
    return result


def fill_value(name: str, schema: Any, values: MessageValues, root: dict[str, Any]) -> tuple[Any, bool]:
    """A value for property ``name`` and whether the message supplied it (not a default)."""
    schema = resolve(schema if isinstance(schema, dict) else {}, root)
    if "const" in schema:
        return schema["const"], False
    if schema.get("enum"):
        return pick_enum(schema["enum"], values.text)
    kind = schema_type(schema)
    if kind in ("integer", "number"):
        raw = values.next("number", values.numbers)
        if raw is None:
            return schema.get("default", schema.get("minimum", 1)), False
        return (int(float(raw)) if kind == "integer" else _number(raw)), True
    if kind == "boolean":
        return schema.get("default", True), False
    if kind == "array":
        if "default" in schema:
            return schema["default"], False
        item, found = fill_value(name, schema.get("items") or {}, values, root)
        return [item], found
    if kind == "object":
        return fill_object(schema, values, root=root), False
    if kind == "null":
        return None, False
    return fill_string(name, schema, values)


def fill_string(name: str, schema: dict[str, Any], values: MessageValues) -> tuple[Any, bool]:
    """A string: a place/name from capitalized words, a date, an e-mail, a quote, or the message."""
    lowered = name.lower()
    found: str | None
    if schema.get("format") == "date" or "date" in lowered:
        found = values.next("date", values.dates)
        return (found, True) if found else (schema.get("default", DEFAULT_DATE), False)
    if schema.get("format") == "email" or "email" in lowered:
        found = values.next("email", values.emails)
        return (found, True) if found else (schema.get("default", DEFAULT_EMAIL), False)
    if any(part in PLACE_WORDS for part in name_parts(name)):
        found = values.next("phrase", values.phrases)
        return (found, True) if found else (schema.get("default", UNKNOWN), False)
    found = values.next("quoted", values.quoted)
    if found:
        return found, True
    if "default" in schema:
        return schema["default"], False
    return values.text or UNKNOWN, bool(values.text)


def pick_enum(options: list[Any], text: str) -> tuple[Any, bool]:
    """The enum member the text names (whole, or by a distinctive word: ``spanish_agent`` for
    "in Spanish"), else the first."""
    lowered = text.lower()
    said = set(words(text))
    for option in options:
        if isinstance(option, str) and re.search(rf"\b{re.escape(option.lower())}\b", lowered):
            return option, True
    for option in options:
        if isinstance(option, str) and said & ({singular(p) for p in name_parts(option)} - ENUM_FILLER_WORDS):
            return option, True
    return options[0], False


def schema_type(schema: dict[str, Any]) -> str:
    """The schema's type, lowercase (Gemini sends ``STRING``), the first non-null one of a union."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if str(k).lower() != "null"), "null")
    if kind is None:
        if "properties" in schema:
            return "object"
        if "items" in schema:
            return "array"
        return "string"
    return str(kind).lower()


def resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` into ``$defs`` and take the first non-null branch of ``anyOf``/``oneOf``."""
    for _ in range(32):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = root
            for part in ref[2:].split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
            continue
        branches = schema.get("anyOf") or schema.get("oneOf")
        if isinstance(branches, list) and branches:
            non_null = [b for b in branches if isinstance(b, dict) and schema_type(b) != "null"] or branches
            rest = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
            schema = {**non_null[0], **rest}
            continue
        return schema
    return schema


def _number(raw: str) -> int | float:
    number = float(raw)
    return int(number) if "." not in raw else number
