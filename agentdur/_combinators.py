"""Combinators over durable futures, deterministic on replay whatever the completion order was."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from ._context import DurableFuture
from ._exceptions import UserError


def _check(futures: Sequence[DurableFuture[Any]]) -> None:
    if not futures:
        raise UserError("a combinator needs at least one durable future")
    for future in futures:
        if not isinstance(future, DurableFuture):
            raise UserError(f"combinators take durable futures from the context, not {type(future).__name__}")
    host = futures[0].host
    if any(f.host is not host for f in futures):
        raise UserError("all futures of a combinator must come from the same handler context")


async def gather(*futures: DurableFuture[Any]) -> list[DurableFuture[Any]]:
    """Wait until every future completed (successfully or not) and return them in argument order.

    Await each returned future to get its result or its error.
    """
    _check(futures)
    await futures[0].host.wait_all(futures)
    return list(futures)


async def wait_completed(
    *futures: DurableFuture[Any],
) -> tuple[list[DurableFuture[Any]], list[DurableFuture[Any]]]:
    """Wait until at least one future completed; return ``(done, pending)`` in argument order.

    Which futures counted as done is journaled, so a replay returns the same split.
    """
    _check(futures)
    return await futures[0].host.wait_completed(futures)


async def select(**futures: DurableFuture[Any]) -> list[Any]:
    """Race named futures; return ``[name, result]`` of a winner.

    The winner is the first future, in argument order, among those that had completed when the
    race was decided; which futures had completed is journaled, so a replay picks the same one.

    Use it with ``match``::

        match await agentdur.select(approval=approval, timeout=ctx.sleep(timedelta(days=1))):
            case ["approval", decision]: ...
            case ["timeout", _]: ...

    A winner that failed raises its error.
    """
    names = list(futures)
    values = list(futures.values())
    done, _ = await wait_completed(*values)
    winner = done[0]
    name = names[next(i for i, f in enumerate(values) if f is winner)]
    return [name, await winner]


async def as_completed(*futures: DurableFuture[Any]) -> AsyncIterator[DurableFuture[Any]]:
    """Yield the futures as they complete, in an order that replays identically.

    A future the engine saw complete earlier comes first, even when several had completed by the
    time the handler looked; futures seen completing together are yielded in argument order.
    """
    pending = list(futures)
    while pending:
        done, pending = await wait_completed(*pending)
        for future in done[0].host.completion_order(done):
            yield future
