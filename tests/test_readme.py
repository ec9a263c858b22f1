"""The README's code runs as written (so it cannot rot)."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import types
import uuid
from pathlib import Path
from typing import Any

import httpx

import agentdur
from agentdur._cli import parse_value
from agentdur.testing import ServedApp, wait_for

ROOT = Path(__file__).resolve().parents[1]


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


def test_the_durable_handler_example_runs(tmp_path: Path) -> None:
    programs = [block for block in python_blocks() if '__name__ == "__main__"' in block]
    assert programs, "the README lost its runnable Python example"
    script = tmp_path / "example.py"
    script.write_text(programs[0])
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "paid 250.00"
    assert (tmp_path / "agentdur.db").exists()  # the journal is a real SQLite file


def test_the_readme_resolves_its_approval_with_a_value_of_the_right_type(tmp_path: Path) -> None:
    """``agentdur resolve prom_1... VALUE`` as the README writes it is accepted by the README's handler."""
    readme = (ROOT / "README.md").read_text()
    values = re.findall(r"agentdur resolve prom_1\.\.\. (\S+)", readme)
    values += re.findall(r"/resolve --json (\S+?)\"?\)?$", readme, flags=re.M)
    assert values, "the README no longer shows how to resolve an approval"
    program = next(block for block in python_blocks() if '__name__ == "__main__"' in block)
    module = types.ModuleType("readme_example")
    exec(compile(program, "README.md", "exec"), module.__dict__)

    async def approve_with(value: str) -> Any:
        async with agentdur.Engine(module.app, path=tmp_path / f"{uuid.uuid4().hex}.db") as engine:
            inv_id = await engine.send("Claims", "process", {"text": "hail damage", "amount": 2500})
            pending: list[Any] = []
            while not pending:  # polled until the handler reaches its approval (bounded by the test timeout)
                pending = await engine.pending_awakeables()
                await asyncio.sleep(0.01)
            assert pending[0].example is True  # what `agentdur approvals` suggests
            await engine.resolve_awakeable(pending[0].id, parse_value(value))
            return await engine.attach(inv_id)

    for value in values:
        assert asyncio.run(approve_with(value)) == "paid 2500.00", value


def test_the_served_example_prints_an_approval_command_that_works(tmp_path: Path) -> None:
    """``agentdur serve claims:app`` on the README's program: a large claim prints how to approve it,
    and running that command as printed (against this server) pays the claim."""
    program = next(block for block in python_blocks() if '__name__ == "__main__"' in block)
    (tmp_path / "claims.py").write_text(program)
    with ServedApp("claims:app", db=tmp_path / "claims.db", cwd=tmp_path) as served:
        sent = httpx.post(
            f"{served.ingress_url}/Claims/process/send", json={"text": "hail", "amount": 2500}, timeout=30
        )
        assert sent.status_code == 202, sent.text
        printed = wait_for(
            lambda: re.search(r"approve with: (agentdur resolve \S+ \S+)", served.log_path.read_text()),
            within=60,
            what="the approval command in the server's output",
        )
        command = [*printed.group(1).split(), "--ingress-url", served.ingress_url]
        done = subprocess.run(
            [sys.executable, "-m", *command], capture_output=True, text=True, timeout=60, cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
        with agentdur.Client(served.ingress_url) as client:
            assert client.attach(sent.json()["invocationId"]) == "paid 2500.00"
