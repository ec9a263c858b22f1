"""The usage ledger in the SQLite file: one row per model call spent or saved, and its totals."""

from __future__ import annotations

import time
from typing import Any

from ..usage import ModelUsage
from ._store import Store

GROUPINGS = ("service", "key", "model", "invocation")
# The SQL expression each grouping groups by (rows where it is NULL are left out).
_GROUP_BY = {
    "service": "service",
    "key": "CASE WHEN obj_key IS NULL THEN NULL ELSE service || '/' || obj_key END",
    "model": "model",
    "invocation": "invocation_id",
}
_SUMS = """
    count(DISTINCT invocation_id) AS invocations,
    sum(1 - replayed) AS model_calls,
    sum(CASE WHEN replayed THEN 0 ELSE input_tokens END) AS input_tokens,
    sum(CASE WHEN replayed THEN 0 ELSE output_tokens END) AS output_tokens,
    sum(CASE WHEN replayed THEN 0 ELSE cached_tokens END) AS cached_tokens,
    sum(CASE WHEN replayed THEN 0 ELSE ifnull(cost_usd, 0) END) AS cost_usd,
    sum(replayed) AS saved_model_calls,
    sum(CASE WHEN replayed THEN input_tokens ELSE 0 END) AS saved_input_tokens,
    sum(CASE WHEN replayed THEN output_tokens ELSE 0 END) AS saved_output_tokens,
    sum(CASE WHEN replayed THEN ifnull(cost_usd, 0) ELSE 0 END) AS saved_cost_usd
"""
FIELDS = (
    "invocations",
    "model_calls",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "cost_usd",
    "saved_model_calls",
    "saved_input_tokens",
    "saved_output_tokens",
    "saved_cost_usd",
)
FLOAT_FIELDS = frozenset({"cost_usd", "saved_cost_usd"})


class InvocationLedger:
    """The :class:`~agentdur.usage.UsageSink` of one invocation: each call is one row, written
    without waiting (in order with the invocation's journal writes)."""

    def __init__(self, store: Store, invocation_id: str, service: str, key: str | None) -> None:
        self._store = store
        self._row = (invocation_id, service, key)

    def record(self, usage: ModelUsage, step: str, replayed: bool) -> None:
        row = (
            *self._row,
            step,
            usage.provider,
            usage.model,
            usage.input_tokens,
            usage.output_tokens,
            usage.cached_tokens,
            usage.cost_usd,
            int(replayed),
            time.time(),
        )
        self._store.write_nowait(
            lambda conn: conn.execute(
                "INSERT INTO usage (invocation_id, service, obj_key, step, provider, model, input_tokens,"
                " output_tokens, cached_tokens, cost_usd, replayed, at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                row,
            ),
            single_statement=True,
        )


def usage_report(store: Store, by: str, since: float | None) -> dict[str, Any]:
    """Spent and saved tokens and cost per group (``service``, ``key``, ``model``, ``invocation``),
    and their total, over the calls recorded at or after ``since`` (epoch seconds)."""
    group = _GROUP_BY[by]
    where, params = ("WHERE at >= ?", (since,)) if since is not None else ("", ())
    rows = store.read(
        f"SELECT {group} AS grp, {_SUMS} FROM usage {where} GROUP BY grp HAVING grp IS NOT NULL"
        " ORDER BY cost_usd DESC, grp",
        params,
    )
    total = store.read_one(f"SELECT {_SUMS} FROM usage {where}", params)
    return {
        "by": by,
        "rows": [{"group": str(row["grp"]), **_fields(row)} for row in rows],
        "total": _fields(total),
    }


def _fields(row: Any) -> dict[str, Any]:
    return {
        name: (float(row[name] or 0.0) if name in FLOAT_FIELDS else int(row[name] or 0)) if row else 0
        for name in FIELDS
    }
