"""``agentdur watch ID``: follow an invocation live, its published output and its journal, to its outcome.

The output comes from the ingress's event stream (``/restate/invocation/{id}/stream``); the journal
from polling the admin API, printing each entry once it is settled. When the server goes away the
command keeps trying for ``--reconnect`` seconds and resumes: a restarted server's stream begins with a
``replay`` marker, and output its handler re-publishes while replaying is marked as such.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any, TextIO
from urllib.parse import quote

import httpx

from ._exceptions import TerminalError
from ._http import FIRST_HTTP_ERROR
from .client import AsyncClient, error_from_response

JOURNAL_POLL = 0.5
RETRY_PAUSE = 0.5
SETTLED = ("completed", "failed", "pending")
EXIT_SUCCEEDED, EXIT_NOT_SUCCEEDED = 0, 1


def _line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class Watch:
    """One ``agentdur watch``: prints to ``out`` as things happen."""

    def __init__(self, args: argparse.Namespace, out: TextIO) -> None:
        self.args = args
        self.out = out
        self.printed: set[tuple[int, str]] = set()
        self.headers = {"authorization": f"Bearer {args.token}"} if args.token else {}

    def emit(self, message: dict[str, Any]) -> None:
        """Print one message: a JSON line with ``--json``, else a readable one."""
        if self.args.json:
            self.out.write(_line(message) + "\n")
        else:
            self.out.write(_text(message) + "\n")
        self.out.flush()

    async def run(self) -> int:
        poller = asyncio.ensure_future(self._poll_journal())
        try:
            end = await self._follow()
        finally:
            poller.cancel()
        await self._print_journal()  # the last entries, before the outcome
        self.emit(end)
        return EXIT_SUCCEEDED if end.get("outcome") == "succeeded" else EXIT_NOT_SUCCEEDED

    async def _follow(self) -> dict[str, Any]:
        """The stream's messages printed until its ``end``, reconnecting while the server is away."""
        deadline: float | None = None
        while True:
            try:
                async with AsyncClient(self.args.ingress_url, token=self.args.token) as client:
                    async for message in client.watch(self.args.id):
                        deadline = None
                        if message["type"] == "end":
                            return message
                        self.emit(message)
            except httpx.HTTPError:
                now = time.monotonic()
                deadline = deadline or now + self.args.reconnect
                if now > deadline:
                    raise
                await asyncio.sleep(RETRY_PAUSE)

    async def _poll_journal(self) -> None:
        while True:
            # While the server is away the stream reconnects, and this tries again.
            with contextlib.suppress(httpx.HTTPError, TerminalError):
                await self._print_journal()
            await asyncio.sleep(JOURNAL_POLL)

    async def _print_journal(self) -> None:
        path = f"/invocations/{quote(self.args.id, safe='')}"
        async with httpx.AsyncClient(base_url=self.args.admin_url.rstrip("/"), headers=self.headers) as http:
            response = await http.get(path, timeout=10.0)
        if response.status_code >= FIRST_HTTP_ERROR:
            raise error_from_response(response)
        for entry in response.json()["journal"]:
            seen = (entry["index"], entry["status"])
            if entry["status"] in SETTLED and seen not in self.printed:
                self.printed.add(seen)
                self.emit({"type": "journal", **{k: entry.get(k) for k in _JOURNAL_FIELDS}})


_JOURNAL_FIELDS = ("index", "kind", "name", "status", "value", "failure")


def _text(message: dict[str, Any]) -> str:
    kind = message["type"]
    formats: dict[str, Callable[[dict[str, Any]], str]] = {
        "output": lambda m: (
            "output   "
            + _line(m["data"])
            + (f"  (step {m['step']})" if m.get("step") else "")
            + ("  [replayed]" if m.get("replayed") else "")
        ),
        "replay": lambda m: "replay   the handler restarted from its journal; re-published output is marked",
        "gap": lambda m: f"gap      {m['missed']} events were missed (this watcher fell behind)",
        "journal": lambda m: (
            f"journal  #{m['index']} {m['kind']} {m['name']!r} {m['status']}"
            + (f" {_line(m['value'])}" if m.get("value") is not None else "")
            + (f" [{m['failure']['code']}] {m['failure']['message']}" if m.get("failure") else "")
        ),
        "end": _end_text,
    }
    format_message = formats.get(kind)
    return _line(message) if format_message is None else format_message(message)


def _end_text(message: dict[str, Any]) -> str:
    if message["status"] == "paused":
        return f"paused   {message.get('reason')} (agentdur resume {message['invocationId']})"
    if message.get("failure"):
        failure = message["failure"]
        return f"{message['outcome']:<8} [{failure['code']}] {failure['message']}"
    return f"{message['outcome']:<8} {_line(message.get('result'))}"


def cmd_watch(args: argparse.Namespace, out: TextIO) -> int:
    """Follow one invocation until it completes; exit status 0 when it succeeded."""
    return asyncio.run(Watch(args, out).run())
