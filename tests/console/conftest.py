"""Fixtures of the console tests: the test app served by a real ``agentdur serve`` process talking to
the scripted model server, and Debian's Chromium driven by Playwright.

Playwright's own browser download cannot work here, so the browser is the OS package's executable
(``AGENTDUR_CHROMIUM`` or ``chromium`` on the PATH; ``./dev test`` installs it). Screenshots of every
page go to ``test-artifacts/console/`` at the repository root (``AGENTDUR_ARTIFACTS`` overrides the
``test-artifacts`` folder), kept after the run for a reviewer.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from agentdur.testing import ScriptedModelServer, ServedApp

from .app import MODEL_URL_ENV

REPO = Path(__file__).resolve().parents[2]
APP = "tests.console.app:app"
TOKEN = "console-s3cret"
# Chromium as root, headless, with no background traffic (the network is closed here).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

Serve = Callable[..., ServedApp]
# Assertions on the page wait this long (ms) for it to get there: the machine may be busy.
WAIT_MS = 20_000
expect.set_options(timeout=WAIT_MS)


def chromium_path() -> str:
    """The Chromium executable, or a failure saying how to get one."""
    found = (
        os.environ.get("AGENTDUR_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not found:
        pytest.fail(
            "the console tests need Chromium: `./dev test` installs the OS package `chromium`, "
            "or set AGENTDUR_CHROMIUM=/path/to/chromium"
        )
    return found


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where the tests save a screenshot of each page they look at (emptied at the start of a run)."""
    folder = Path(os.environ.get("AGENTDUR_ARTIFACTS", REPO / "test-artifacts")) / "console"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for one module: Playwright's sync API runs an event loop while it is open, so it must
    be closed before any later asyncio test of the session runs."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (its own sessionStorage) and page."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(WAIT_MS)
    opened = context.new_page()
    yield opened
    context.close()


class Servers:
    """Starts the console test app, on a fresh SQLite file each time, against one model server."""

    def __init__(self, folder: Path, model: ScriptedModelServer) -> None:
        self.folder = folder
        self.model = model
        self.started: list[ServedApp] = []

    def __call__(self, token: str | None = None) -> ServedApp:
        n = len(self.started)
        served = ServedApp(
            APP,
            db=self.folder / f"console{n}.db",
            log_path=self.folder / f"console{n}.log",
            args=["--token", token] if token else [],
            env={MODEL_URL_ENV: self.model.openai_base_url},
            cwd=REPO,
            token=token,
        )
        self.started.append(served)
        return served.start()

    def close(self) -> None:
        for served in self.started:
            served.close()


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    """Start the console test app (``serve(token=...)``); stopped after the module's tests."""
    with ScriptedModelServer() as model:
        servers = Servers(tmp_path_factory.mktemp("console"), model)
        try:
            yield servers
        finally:
            servers.close()


@pytest.fixture(scope="module")
def served(serve: Serve) -> ServedApp:
    """One server without a token, shared by a module's tests (each uses its own questions and keys)."""
    return serve()


@pytest.fixture(scope="module")
def guarded(serve: Serve) -> ServedApp:
    """One server started with ``--token``."""
    return serve(token=TOKEN)


def client(served: ServedApp) -> httpx.Client:
    return httpx.Client(headers=served.headers, timeout=20.0)
