"""``GET /usage?by=service|key|model|invocation&since=ISO``: the usage ledger's totals.

Answers ``{"by": ..., "rows": [{"group": ..., <fields>}], "total": {<fields>}}`` where the fields are
``invocations``, ``model_calls``, ``input_tokens``, ``output_tokens``, ``cached_tokens``,
``cost_usd`` (spent) and ``saved_model_calls``, ``saved_input_tokens``, ``saved_output_tokens``,
``saved_cost_usd`` (answered from the journal by replays instead of the provider).
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .._exceptions import InvalidInputError
from ..engine._ledger import GROUPINGS
from ._state import ServerState


async def usage(state: ServerState, request: Request) -> Response:
    """The usage report, grouped as ``by`` says (default ``service``)."""
    query = request.query_params
    unknown = sorted(set(query) - {"by", "since"})
    if unknown:
        raise InvalidInputError(f"unknown query parameter {unknown[0]!r}: use by, since")
    by = query.get("by", "service")
    if by not in GROUPINGS:
        raise InvalidInputError(f"by: must be one of {', '.join(GROUPINGS)}, not {by!r}")
    since_text = query.get("since")
    since = parse_since(since_text) if since_text is not None else None
    return JSONResponse(await state.engine.usage(by, since))


def parse_since(text: str) -> float:
    """An ISO 8601 time (UTC when it names no zone) as epoch seconds.

    Raises:
        InvalidInputError: naming the ``since`` parameter.
    """
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(
            f"since: must be an ISO 8601 time such as 2026-12-01T00:00:00Z, not {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
