"""The DBOS column of ``python -m bench compare``: DBOS Transact on a SQLite system database.

Needs the bench extra (``pip install -e ".[bench]"``, DBOS 3.4.0). Each workload launches DBOS on a
fresh SQLite file in a temporary directory and destroys it afterwards; nothing leaves the machine.

The steps workload is a ``@DBOS.workflow()`` running ``n`` no-op ``@DBOS.step()`` steps, called in
this process like ``Engine.call``. DBOS has no virtual objects, so the chat workload keeps a key's
history in DBOS's own durable key-value store, the events of a workflow: message ``i`` of key ``k`` is
the workflow ``{k}-{i}``; it reads the history event of workflow ``{k}-{i-1}`` (``get_event``), runs the
model step and publishes the longer history as its own event (``set_event``). The client sends the
messages of a key one after the other, as for every other column, so no queue is needed to order them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import tempfile
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from dbos import DBOS, SetWorkflowID

from ._chat import Send
from .compare import JournalMode
from .engine import Invoke

HISTORY = "history"


@DBOS.step()
async def noop() -> None:
    return None


@DBOS.step()
async def model(message: str) -> str:
    return message


@DBOS.workflow()
async def steps_workflow(n: int) -> int:
    for _ in range(n):
        await noop()
    return n


@DBOS.workflow()
async def chat_workflow(previous: str | None, text: str) -> int:
    history: list[str] = []
    if previous is not None:
        found = await DBOS.get_event_async(previous, HISTORY, timeout_seconds=60)
        if found is None:
            raise RuntimeError(f"no history event on workflow {previous}")
        history = list(found)
    answer = await model(text)
    history += [text, answer]
    await DBOS.set_event_async(HISTORY, history)
    return len(history)


async def invoke_steps(n: int) -> int:
    return await steps_workflow(n)


async def send_chat(key: str, index: int, text: str) -> int:
    previous = None if index == 0 else f"{key}-{index - 1}"
    with SetWorkflowID(f"{key}-{index}"):
        return await chat_workflow(previous, text)


INVOKE: Invoke = invoke_steps
SEND: Send = send_chat


@asynccontextmanager
async def dbos_launched(label: str, journal_mode: JournalMode = "WAL") -> AsyncIterator[None]:
    """DBOS launched on a fresh SQLite system database, destroyed on exit.

    Args:
        journal_mode: ``WAL`` creates the file in WAL mode first (journal_mode is persistent, and
            DBOS leaves it alone), as the embedded engine runs; ``DELETE`` is DBOS's own default, the
            rollback journal. DBOS does not set ``synchronous``, so it is SQLite's default, FULL.
    """
    with tempfile.TemporaryDirectory(prefix=f"agentdur-bench-dbos-{label}-") as tmp:
        path = os.path.join(tmp, "dbos.sqlite")
        if journal_mode == "WAL":
            conn = sqlite3.connect(path)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
            finally:
                conn.close()
        DBOS(
            config={
                "name": "agentdur-bench",
                "system_database_url": f"sqlite:///{path}",
                "log_level": "WARNING",
            }
        )
        logging.getLogger("dbos").setLevel(logging.WARNING)
        DBOS.launch()
        try:
            yield
        finally:
            DBOS.destroy()
            # DBOS makes its own thread pool this loop's default executor and shuts it down on destroy;
            # give the loop a working one back for the systems measured after it.
            asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor())
