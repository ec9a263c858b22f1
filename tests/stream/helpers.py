"""Following a stream in a background thread while the test drives the invocation."""

from __future__ import annotations

import threading
from typing import Any

import agentdur
from agentdur.testing import wait_for

WITHIN = 60.0  # a loaded machine: apps with three agent SDKs start and answer slowly


class Watcher:
    """``agentdur.Client.watch`` running in a thread; its messages collect in :attr:`messages`."""

    def __init__(self, url: str, invocation_id: str, token: str | None = None) -> None:
        self.messages: list[dict[str, Any]] = []
        self.error: BaseException | None = None
        self._client = agentdur.Client(url, token=token)
        self._thread = threading.Thread(target=self._run, args=(invocation_id,), daemon=True)
        self._thread.start()

    def _run(self, invocation_id: str) -> None:
        try:
            for message in self._client.watch(invocation_id):
                self.messages.append(message)
        except BaseException as error:
            self.error = error
        finally:
            self._client.close()

    def wait_for_output(self, data: Any) -> None:
        """Until an ``output`` message carrying ``data`` arrived."""
        wait_for(
            lambda: any(m["type"] == "output" and m["data"] == data for m in self.messages),
            within=WITHIN,
            what=f"an output event {data!r}",
        )

    def join(self) -> list[dict[str, Any]]:
        """Wait for the stream to end; its messages."""
        self._thread.join(WITHIN)
        assert not self._thread.is_alive(), f"the stream did not end: {self.messages}"
        return self.messages


def outputs(messages: list[dict[str, Any]]) -> list[Any]:
    """The published data, in order."""
    return [m["data"] for m in messages if m["type"] == "output"]
