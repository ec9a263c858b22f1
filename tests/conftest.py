"""Test configuration shared by the whole suite.

Coroutine test functions run on a fresh event loop with ``asyncio.run``; no plugin needed.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest

ASYNC_TEST_TIMEOUT = 90.0


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    kwargs: dict[str, Any] = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(asyncio.wait_for(pyfuncitem.obj(**kwargs), ASYNC_TEST_TIMEOUT))
    return True


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A skipped test fails the run: every test here runs by default, nothing is skipped quietly.

    A combination that does not apply is left out of the parametrization instead of skipped.
    """
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped and exitstatus == pytest.ExitCode.OK:
        names = ", ".join(str(getattr(report, "nodeid", report)) for report in skipped[:5])
        print(f"\n{len(skipped)} test(s) skipped, which this suite does not allow: {names}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
