"""``GET /usage?by=service|key|model|invocation&since=ISO``: the usage ledger's totals.

Answers ``{"by": ..., "rows": [{"group": ..., <fields>}], "total": {<fields>}}`` where the fields are
``invocations``, ``model_calls``, ``input_tokens``, ``output_tokens``, ``cached_tokens``,
``cost_usd`` (spent) and ``saved_model_calls``, ``saved_input_tokens``, ``saved_output_tokens``,
``saved_cost_usd`` (answered from the journal by replays instead of the provider).
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from .._exceptions import InvalidInputError
from ..engine._ledger import GROUPINGS
from ._json import SafeJSONResponse
from ._params import ChoiceParam, TextParam, check_known
from ._state import ServerState

BY_PARAM = ChoiceParam("by", tuple(GROUPINGS), "group the totals by this (default service)")
SINCE_PARAM = TextParam("since", "only usage recorded at or after this ISO 8601 time (UTC without a zone)")
USAGE_PARAMS = (BY_PARAM, SINCE_PARAM)


async def usage(state: ServerState, request: Request) -> Response:
    """The usage report, grouped as ``by`` says (default ``service``)."""
    query = request.query_params
    check_known(query, USAGE_PARAMS)
    by = BY_PARAM.parse(query) or "service"
    since_text = SINCE_PARAM.parse(query)
    since = parse_since(since_text) if since_text is not None else None
    return SafeJSONResponse(await state.engine.usage(by, since))


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
