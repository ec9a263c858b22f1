"""One owner per database: a second engine on the same file is refused while the first runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import agentdur

svc = agentdur.Service("Owned")


@svc.handler()
async def echo(ctx: agentdur.Context, text: str) -> str:
    return await ctx.run_typed("echo", lambda: text)


APP = agentdur.App([svc])


async def test_a_second_engine_on_the_same_file_is_refused_naming_the_owner(tmp_path: Path) -> None:
    db = tmp_path / "owned.db"
    async with agentdur.Engine(APP, path=db) as first:
        second = agentdur.Engine(APP, path=db)
        with pytest.raises(agentdur.DatabaseLockedError) as refused:
            await second.start()
        message = str(refused.value)
        assert f"process {os.getpid()}" in message
        assert "Restate backend" in message
        # Another spelling of the same file is the same database.
        with pytest.raises(agentdur.DatabaseLockedError):
            await agentdur.Engine(APP, path=tmp_path / "." / "owned.db").start()
        # The refusal touched nothing: the owner goes on working.
        assert await first.call("Owned", "echo", "still mine") == "still mine"
    # Closing the owner releases the file at once.
    async with agentdur.Engine(APP, path=db) as third:
        assert await third.call("Owned", "echo", "mine now") == "mine now"


async def test_an_engine_on_another_file_is_not_affected(tmp_path: Path) -> None:
    async with (
        agentdur.Engine(APP, path=tmp_path / "a.db") as a,
        agentdur.Engine(APP, path=tmp_path / "b.db") as b,
    ):
        assert await a.call("Owned", "echo", "a") == "a"
        assert await b.call("Owned", "echo", "b") == "b"
