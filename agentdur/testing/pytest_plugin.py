"""pytest fixtures for testing agentdur apps, registered as the ``agentdur`` pytest plugin.

Installing agentdur registers this module through the ``pytest11`` entry point, so these fixtures are
available in any test suite without a ``conftest.py`` line (``-p no:agentdur`` turns them off):

- ``model_server``: a fresh :class:`~agentdur.testing.ScriptedModelServer` per test (needs
  ``agentdur[testing]``); ``model_server_env`` also points every SDK at it through the environment.
- ``agentdur_db``: a SQLite file path in the test's temporary directory.
- ``agentdur_engine``: ``agentdur_engine(app, **options)`` is an :class:`agentdur.Engine` on
  ``agentdur_db``, to use as ``async with agentdur_engine(app) as engine:``.
- ``agentdur_serve``: ``agentdur_serve("module:app", ...)`` starts ``agentdur serve`` as a child
  process on free ports (a :class:`~agentdur.testing.ServedApp`), stopped after the test.
- ``restate_server``: one real restate-server for the session (:class:`~agentdur.testing.RestateServer`).
- ``agentdur_restate_deployment``: ``agentdur_restate_deployment("module:app")`` serves the app as a
  Restate deployment registered with ``restate_server`` (a :class:`~agentdur.testing.RestateDeployment`).

The model server is imported on first use, so the plugin loads without the ``testing`` extra. Loading
the plugin sets ``LITELLM_LOCAL_MODEL_COST_MAP=True`` (unless already set), so that LiteLLM imported
by a test loads offline.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ._processes import RestateDeployment, ServedApp
from ._restate_server import RestateServer

# Loaded before any test module: LiteLLM, imported by a test without network, downloads its model cost
# map unless told not to and then fails to import now and then (see agentdur.integrations).
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

if TYPE_CHECKING:
    from ..engine import Engine
    from .model_server import ScriptedModelServer

__all__ = [
    "agentdur_db",
    "agentdur_engine",
    "agentdur_restate_deployment",
    "agentdur_serve",
    "model_server",
    "model_server_env",
    "restate_server",
]


@pytest.fixture
def model_server() -> Iterator[ScriptedModelServer]:
    """A fresh :class:`~agentdur.testing.ScriptedModelServer` on a free port, stopped after the test."""
    from .model_server import ScriptedModelServer

    with ScriptedModelServer() as server:
        yield server


@pytest.fixture
def model_server_env(
    model_server: ScriptedModelServer, monkeypatch: pytest.MonkeyPatch
) -> ScriptedModelServer:
    """The ``model_server`` with the environment pointing every SDK at it (see ``ScriptedModelServer.env``)."""
    from .model_server import CONFLICTING_ENV

    for name in CONFLICTING_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in model_server.env().items():
        monkeypatch.setenv(name, value)
    return model_server


@pytest.fixture
def agentdur_db(tmp_path: Path) -> Path:
    """A SQLite file path for an embedded engine, in the test's temporary directory."""
    return tmp_path / "agentdur.db"


@pytest.fixture
def agentdur_engine(agentdur_db: Path) -> Callable[..., Engine]:
    """A factory of :class:`agentdur.Engine` on ``agentdur_db``: ``async with agentdur_engine(app) as e:``."""
    from ..engine import Engine

    def open_engine(app: Any, **options: Any) -> Engine:
        return Engine(app, agentdur_db, **options)

    return open_engine


@pytest.fixture
def agentdur_serve(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., ServedApp]]:
    """A factory starting ``agentdur serve APP`` on a SQLite file in the test's temporary directory.

    ``agentdur_serve(app, *, args=(), env=None, cwd=None, token=None)`` returns the started
    :class:`~agentdur.testing.ServedApp`; every one is stopped after the test. The server runs in the
    rootdir of the test run unless ``cwd`` says otherwise, so ``app`` is imported from there.
    """
    started: list[ServedApp] = []

    def serve(
        app: str,
        *,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        token: str | None = None,
    ) -> ServedApp:
        workdir = tmp_path / f"served-{len(started)}"
        workdir.mkdir()
        served = ServedApp(
            app,
            db=workdir / "agentdur.db",
            args=args,
            env=env,
            cwd=cwd or request.config.rootpath,
            token=token,
        )
        started.append(served)
        return served.start()

    yield serve
    for served in started:
        served.close()


@pytest.fixture(scope="session")
def restate_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestateServer]:
    """One real restate-server (from npm, ``PATH`` or ``AGENTDUR_RESTATE_SERVER``) for the session."""
    workdir = tmp_path_factory.mktemp("restate-server")
    with RestateServer(base_dir=workdir / "data", log_path=workdir / "restate-server.log") as server:
        yield server


@pytest.fixture
def agentdur_restate_deployment(
    restate_server: RestateServer, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., RestateDeployment]]:
    """A factory serving ``APP`` as a Restate deployment registered with ``restate_server``.

    ``agentdur_restate_deployment(app, *, env=None, cwd=None)`` returns the started
    :class:`~agentdur.testing.RestateDeployment` (invoke through its ``ingress_url``); every deployment
    process is stopped after the test, the server keeps running.
    """
    started: list[RestateDeployment] = []

    def deploy(
        app: str, *, env: Mapping[str, str] | None = None, cwd: Path | None = None
    ) -> RestateDeployment:
        deployment = RestateDeployment(
            app, workdir=tmp_path, server=restate_server, env=env, cwd=cwd or request.config.rootpath
        )
        started.append(deployment)
        return deployment.start()

    yield deploy
    for deployment in started:
        deployment.close()
