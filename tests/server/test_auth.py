"""With a token (``--token`` or ``AGENTDUR_TOKEN``) ingress and admin require ``Authorization: Bearer``."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

import agentdur

from .conftest import ServerFactory
from .helpers import REPO, TOKEN
from .test_bad_input import assert_error


def agentdur_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI with AGENTDUR_TOKEN unset (whatever the server was given)."""
    env = {name: value for name, value in os.environ.items() if name != "AGENTDUR_TOKEN"}
    return subprocess.run(
        [sys.executable, "-m", "agentdur", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize("via_env", [False, True], ids=["--token", "AGENTDUR_TOKEN"])
def test_token_is_required_everywhere_but_health(serve: ServerFactory, via_env: bool) -> None:
    server = serve(token=TOKEN, token_via_env=via_env)
    good = {"authorization": f"Bearer {TOKEN}"}
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": TOKEN}):
        response = httpx.post(f"{server.ingress}/Greeter/greet", json="x", headers=headers)
        assert_error(response, 401, "bearer token")
        assert response.headers["www-authenticate"] == "Bearer"
        assert_error(httpx.post(f"{server.ingress}/Greeter/greet/send", json="x", headers=headers), 401)
        assert_error(httpx.get(f"{server.admin}/services", headers=headers), 401)
        assert_error(httpx.get(f"{server.admin}/invocations", headers=headers), 401)
        assert_error(httpx.patch(f"{server.admin}/invocations/inv_x/kill", headers=headers), 401)
    assert httpx.get(f"{server.admin}/invocations", headers=good).json()["invocations"] == []  # nothing ran
    assert httpx.get(f"{server.admin}/health").json() == {"status": "ok"}
    assert httpx.get(f"{server.ingress}/restate/health").status_code == 200
    assert httpx.post(f"{server.ingress}/Greeter/greet", json="x", headers=good).json() == "Hello, x!"
    assert httpx.get(f"{server.admin}/services", headers=good).status_code == 200
    cli = agentdur_cli("services", "--admin-url", server.admin)
    assert cli.returncode == 1 and "missing bearer token (HTTP 401); pass --token" in cli.stderr
    cli = agentdur_cli("services", "--admin-url", server.admin, "--token", TOKEN)
    assert cli.returncode == 0 and "Greeter" in cli.stdout
    with agentdur.Client(server.ingress, token=TOKEN) as client:
        assert client.call("Greeter", "greet", "client") == "Hello, client!"
    with agentdur.Client(server.ingress) as client, pytest.raises(agentdur.TerminalError) as failure:
        client.call("Greeter", "greet", "anonymous")
    assert failure.value.status_code == 401
