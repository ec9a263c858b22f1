"""Request bodies: content types, a size limit enforced while streaming, and JSON syntax."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request

from .._exceptions import InvalidInputError
from .._http import HTTP_CONTENT_TOO_LARGE, HTTP_UNSUPPORTED_MEDIA_TYPE
from ._json import parse_json

DEFAULT_MAX_BODY = 10 * 1024 * 1024


def media_type(request: Request) -> str | None:
    """The request's media type without parameters, lower-cased; ``None`` when there is no header."""
    value = request.headers.get("content-type")
    if value is None or not value.strip():
        return None
    return value.split(";", 1)[0].strip().lower()


def require_json(request: Request) -> None:
    """Accept a JSON body (``application/json``, ``application/*+json``) or no content type."""
    kind = media_type(request)
    if (
        kind is None
        or kind == "application/json"
        or (kind.startswith("application/") and kind.endswith("+json"))
    ):
        return
    raise HTTPException(
        HTTP_UNSUPPORTED_MEDIA_TYPE,
        f"unsupported content type {kind!r}: send JSON with content-type application/json",
    )


def require_text(request: Request) -> None:
    """Accept a ``text/*`` body or no content type (the reason of a rejected awakeable)."""
    kind = media_type(request)
    if kind is None or kind.startswith("text/"):
        return
    raise HTTPException(
        HTTP_UNSUPPORTED_MEDIA_TYPE, f"unsupported content type {kind!r}: send the reason as text/plain"
    )


def _too_large(limit: int) -> HTTPException:
    return HTTPException(HTTP_CONTENT_TOO_LARGE, f"request body is larger than the limit of {limit} bytes")


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing with a 413 as soon as it is known to exceed ``limit`` bytes.

    A declared ``content-length`` over the limit is refused before reading anything; a chunked body
    is counted while it streams in, so an oversized upload is never buffered whole.
    """
    declared = request.headers.get("content-length")
    if (
        declared is not None
        and declared.strip().isascii()
        and declared.strip().isdigit()
        and int(declared) > limit
    ):
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def check_json(body: bytes) -> bytes:
    """``body`` itself when it is UTF-8 JSON within the limits of :func:`parse_json` (an empty body
    stands for ``null``).

    Raises:
        InvalidInputError: malformed, too deep, a number out of range, not UTF-8 (the message says
            which, and where).
    """
    if parse_json(body) is None and not body.strip():
        return b"null"
    return body


def read_text(body: bytes) -> str:
    """The body as UTF-8 text."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError("the body is not UTF-8 text") from None
