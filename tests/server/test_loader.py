"""``agentdur serve MODULE:APP`` finds the app, including a project's own ``__main__.py``."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agentdur import UserError
from agentdur._loader import MAIN_FILE_MODULE, load_app
from agentdur.testing import free_port

from ..harness import wait_for

MAIN = """
import agentdur

greeter = agentdur.Service("MainGreeter")


@greeter.handler()
async def greet(ctx: agentdur.Context, name: str) -> str:
    return f"hello {name}"


app = agentdur.App([greeter])

if __name__ == "__main__":
    raise SystemExit("the main block must not run when the app is loaded")
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    sys.modules.pop(MAIN_FILE_MODULE, None)


def test_main_names_the_projects_main_file_not_the_commands(project: Path) -> None:
    (project / "__main__.py").write_text(MAIN)
    app = load_app("__main__:app")
    assert list(app.services) == ["MainGreeter"]
    assert load_app("__main__:app") is app  # imported once


def test_a_missing_main_file_is_a_clear_error(project: Path) -> None:
    with pytest.raises(UserError, match=r"__main__\.py, which does not exist"):
        load_app("__main__:app")


def test_a_main_file_without_the_app_names_what_it_found(project: Path) -> None:
    (project / "__main__.py").write_text("app = 42\n")
    with pytest.raises(UserError, match=r"'__main__:app' is a int, not an agentdur.App \(it defines no"):
        load_app("__main__:app")


def test_a_missing_attribute_is_named_with_the_apps_the_module_has(project: Path) -> None:
    (project / "shop.py").write_text(MAIN.replace("app = agentdur.App", "shop_app = agentdur.App"))
    with pytest.raises(UserError) as raised:
        load_app("shop:app")
    assert str(raised.value) == "module 'shop' has no attribute 'app'; did you mean shop:shop_app?"
    (project / "empty.py").write_text("x = 1\n")
    with pytest.raises(
        UserError, match=r"^module 'empty' has no attribute 'app' \(it defines no agentdur.App\)$"
    ):
        load_app("empty:app")


def test_agentdur_serve_main_app_serves_the_projects_main_file(project: Path) -> None:
    (project / "__main__.py").write_text(MAIN)
    port, admin_port = free_port(), free_port()
    command = [sys.executable, "-m", "agentdur", "serve", "__main__:app", "--port", str(port)]
    command += ["--admin-port", str(admin_port), "--db", str(project / "main.db")]
    log = (project / "serve.log").open("wb")
    process = subprocess.Popen(command, cwd=project, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: _healthy(f"http://127.0.0.1:{admin_port}/health"), 60, "server healthy")
        response = httpx.post(f"http://127.0.0.1:{port}/MainGreeter/greet", json="Ada", timeout=30)
        assert response.status_code == 200 and response.json() == "hello Ada"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_package_that_loads_its_app_submodule_lazily(project: Path) -> None:
    """``pkg:app`` where ``pkg.__getattr__`` imports the submodule ``pkg.app`` on first use."""
    package = project / "lazypkg"
    package.mkdir()
    (package / "app.py").write_text(MAIN)
    (package / "__init__.py").write_text(
        "def __getattr__(name):\n"
        "    if name == 'app':\n"
        "        from .app import app\n"
        "        return app\n"
        "    raise AttributeError(name)\n"
    )
    assert list(load_app("lazypkg:app").services) == ["MainGreeter"]
