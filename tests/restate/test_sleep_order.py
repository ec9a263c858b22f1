"""A task that waits in ``asyncio.sleep`` while other tasks make durable calls, then makes one itself:
its place in Restate's positional journal depends on timing, so a replay (where the others' calls
are answered at once) may meet a journal mismatch that restate-server retries without end. The
deployment warns, naming the call.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..harness import EngineUnderTest, start_engine, wait_for
from .test_task_pump import journal

WARNING = "waited in asyncio.sleep (not journaled) while other tasks of the handler made durable calls"


@pytest.fixture(scope="module")
def restate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineUnderTest]:
    under_test = start_engine("restate", tmp_path_factory.mktemp("sleep-order"), "tests.restate.app:app")
    try:
        yield under_test
    finally:
        under_test.close()


def deployment_log(engine: EngineUnderTest) -> str:
    return Path(engine.workdir / "restate-process.log").read_text(errors="replace")


def test_a_durable_call_after_asyncio_sleep_beside_other_calls_is_warned(restate: EngineUnderTest) -> None:
    label = uuid.uuid4().hex[:8]
    inv = restate.send(f"/Spread/{label}/sleep_beside", label)
    wait_for(
        lambda: "beside 2" in [name for _, name in journal(restate, inv)],
        what="the other task's steps journaled while the sleeper sleeps",
    )
    assert WARNING not in deployment_log(restate)
    restate.release(label)

    assert restate.attach(inv).json() == [0, 1, 2]
    names = [name for _, name in journal(restate, inv) if name]
    assert names.index("after sleep") > names.index("beside 2")
    warnings = [line for line in deployment_log(restate).splitlines() if WARNING in line]
    assert len(warnings) == 1, warnings
    assert inv in warnings[0] and "ctx run 'after sleep'" in warnings[0]
