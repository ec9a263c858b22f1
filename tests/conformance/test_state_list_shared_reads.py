"""Shared reads of a list while an exclusive handler of its key changes it, and while the process
running that handler is SIGKILLed, on both engines: every read is a state the list went through."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import httpx

from ..harness import EngineUnderTest, engine_fixture, wait_for

engine = engine_fixture("tests.conformance.lists_hostile_app:app")


def consecutive(items: Any) -> bool:
    """Whether ``items`` is a window of the slide: up to 4 consecutive numbers (3 kept + 1 added)."""
    if not isinstance(items, list) or len(items) > 4 or not all(isinstance(n, int) for n in items):
        return False
    return not items or items == list(range(items[0], items[0] + len(items)))


def test_shared_reads_during_changes_and_sigkills_see_whole_states(engine: EngineUnderTest) -> None:
    k, label, rounds = uuid.uuid4().hex[:8], uuid.uuid4().hex[:8], 40
    inv = engine.send(f"/ListX/{k}/slide", {"label": label, "rounds": rounds})
    seen: list[Any] = []
    done = threading.Event()

    def read() -> None:
        with httpx.Client(timeout=60) as client:
            while not done.is_set():
                try:
                    response = client.post(f"{engine.ingress_url}/ListX/{k}/window", json=None)
                except httpx.TransportError:
                    continue  # the embedded server is being restarted
                if response.status_code == 200:
                    seen.append(response.json())

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    try:
        for kill_after in (10, 25):
            wait_for(lambda n=kill_after: engine.count(f"tick {label} ") >= n, what=f"{kill_after} ticks")
            engine.kill()
            engine.start()
        response = engine.attach(inv)
    finally:
        done.set()
        for reader in readers:
            reader.join()
    assert response.status_code == 200, response.text
    assert response.json() == [rounds - 3, rounds - 2, rounds - 1]
    assert len(seen) > 20
    assert len({tuple(items) for items in seen}) > 5  # the reads saw the window move
    bad = [items for items in seen if not consecutive(items)]
    assert bad == [], f"{len(bad)} of {len(seen)} shared reads saw {bad[:5]}"
