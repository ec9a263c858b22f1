"""Query parameters and ids in request paths, parsed strictly, each one also described for OpenAPI.

A parameter is declared once (:class:`IntParam`, :class:`ChoiceParam`, :class:`TextParam`) and the
same object parses the request and writes its OpenAPI description, so the document's constraints
are exactly the server's checks. Every refusal is an :class:`~agentdur.InvalidInputError` (400)
whose message starts with the parameter's name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.datastructures import QueryParams
from starlette.routing import BaseRoute, Route

from .._exceptions import InvalidInputError

_ASCII_DIGITS = re.compile(r"[0-9]{1,18}")

# An invocation id: what the engine makes (``inv_`` and 32 hex digits), or a Restate id (``inv_1``
# and base62). Checked before an id is looked up or copied into the ``x-restate-id`` header.
INVOCATION_ID_PATTERN = r"^inv_[0-9A-Za-z]{1,64}$"
# An awakeable id: ``prom_1`` (or Restate's ``sign_1``) and URL-safe base64.
AWAKEABLE_ID_PATTERN = r"^[a-z]{1,8}_1[0-9A-Za-z_-]{1,128}$"
# Query values and object keys are text; these characters never are.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Param(Protocol):
    """A query parameter: its name and its OpenAPI description."""

    @property
    def name(self) -> str: ...

    def openapi(self) -> dict[str, Any]: ...


def single(query: QueryParams, name: str) -> str | None:
    """The one value of ``name`` (``None`` when absent); a parameter given twice is a 400."""
    values = query.getlist(name)
    if len(values) > 1:
        raise InvalidInputError(f"{name}: given {len(values)} times; give it once")
    return values[0] if values else None


def check_known(query: QueryParams, params: Sequence[Param]) -> None:
    """Refuse a query parameter that is not one of ``params`` (a typo must not be ignored)."""
    names = [param.name for param in params]
    unknown = sorted(set(query) - set(names))
    if unknown:
        allowed = ", ".join(names) if names else "none"
        raise InvalidInputError(f"unknown query parameter {unknown[0]!r}: use {allowed}")


def _query_param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


@dataclass(frozen=True)
class IntParam:
    """A whole number from ``minimum`` to ``maximum`` in ASCII digits (``²`` or ``1e3`` is a 400)."""

    name: str
    minimum: int
    maximum: int
    default: int
    description: str

    def parse(self, query: QueryParams) -> int:
        """The value, or :attr:`default` when the parameter is absent."""
        text = single(query, self.name)
        if text is None:
            return self.default
        if _ASCII_DIGITS.fullmatch(text) is None or not self.minimum <= int(text) <= self.maximum:
            raise InvalidInputError(
                f"{self.name}: must be a whole number from {self.minimum} to {self.maximum}, not {text!r}"
            )
        return int(text)

    def openapi(self) -> dict[str, Any]:
        schema = {
            "type": "integer",
            "minimum": self.minimum,
            "maximum": self.maximum,
            "default": self.default,
        }
        return _query_param(self.name, schema, self.description)


@dataclass(frozen=True)
class ChoiceParam:
    """One of a fixed set of words."""

    name: str
    choices: tuple[str, ...]
    description: str

    def parse(self, query: QueryParams) -> str | None:
        """The value, or ``None`` when the parameter is absent."""
        text = single(query, self.name)
        if text is not None and text not in self.choices:
            raise InvalidInputError(f"{self.name}: must be one of {', '.join(self.choices)}, not {text!r}")
        return text

    def openapi(self) -> dict[str, Any]:
        return _query_param(self.name, {"type": "string", "enum": list(self.choices)}, self.description)


@dataclass(frozen=True)
class TextParam:
    """Free text of at most ``max_length`` characters without control characters."""

    name: str
    description: str
    max_length: int = 1024

    def parse(self, query: QueryParams) -> str | None:
        """The value, or ``None`` when the parameter is absent."""
        text = single(query, self.name)
        if text is None:
            return None
        if len(text) > self.max_length:
            raise InvalidInputError(f"{self.name}: longer than {self.max_length} characters")
        if _CONTROL.search(text):
            raise InvalidInputError(f"{self.name}: contains a control character")
        return text

    def openapi(self) -> dict[str, Any]:
        schema = {"type": "string", "maxLength": self.max_length, "pattern": r"^[^\x00-\x1f\x7f]*$"}
        return _query_param(self.name, schema, self.description)


def invocation_id(text: str) -> str:
    """``text`` when it has the shape of an invocation id (so it is safe in a header).

    Raises:
        InvalidInputError: a space, a control character, an emoji...: no invocation has such an id.
    """
    if re.fullmatch(INVOCATION_ID_PATTERN, text) is None:
        raise InvalidInputError(
            f"invalid invocation id {text!r}: an invocation id is inv_ followed by letters and digits"
        )
    return text


def awakeable_id(text: str) -> str:
    """``text`` when it has the shape of an awakeable id.

    Raises:
        InvalidInputError: no awakeable has such an id.
    """
    if re.fullmatch(AWAKEABLE_ID_PATTERN, text) is None:
        raise InvalidInputError(
            f"invalid awakeable id {text!r}: an awakeable id is prom_1 followed by letters, digits, - and _"
        )
    return text


def path_id(name: str, pattern: str, description: str) -> dict[str, Any]:
    """The OpenAPI description of an id in the path."""
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": pattern},
        "description": description,
    }


def any_character(routes: list[BaseRoute]) -> list[BaseRoute]:
    """``routes`` with their path parameters matching any character, a newline too (``%0A`` in an
    object key reaches the handler's own checks instead of a misleading "no route")."""
    for route in routes:
        if isinstance(route, Route):
            route.path_regex = re.compile(route.path_regex.pattern, re.DOTALL)
    return routes
