"""The Quickstart demo: `python -m examples.demo` survives a SIGKILL without repeating a model call or a payment."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_the_demo_resumes_the_claim_without_repeating_model_calls_or_payments() -> None:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "examples.demo"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=110
    )
    out = proc.stdout
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{out}\nstderr:\n{proc.stderr}"
    assert "FAILED" not in out
    assert len(out.splitlines()) <= 45, out
    assert time.monotonic() - started < 100

    # 1-2: killed after both LLM steps, restarted as another process on the same file.
    first = re.search(r"^1\. Server pid (\d+) took the claim .*(inv_\w+)\):$", out, re.M)
    second = re.search(r"^2\. Restarted the server on the same file \(pid (\d+),", out, re.M)
    assert first and second and first.group(1) != second.group(1), out
    assert re.search(r"Parse claim +\(LLM\) -> 3000\.00 EUR, medical, 2024-10-01$", out, re.M), out
    assert "   2 model requests so far. SIGKILL while it waits." in out
    assert "Approvals inbox (GET /awakeables): prom_" in out
    # 3: approved over HTTP; nothing was requested again or paid twice.
    assert re.search(r"resolve \{\"approved\": true\} -> Resolved$", out, re.M), out
    assert re.search(r"result: paid 3240\.00 USD \(pay_\w+\), approved by demo$", out, re.M), out
    assert "model requests after the restart: 0; payments in the ledger: 1" in out
    # 4: two users, two histories.
    assert "alice> What is my name?" in out and "'Earlier you said: \"My name is Alice.\"'" in out
    assert "bob>   What do I like?" in out and "'Earlier you said: \"I am Bob and I like tea.\"'" in out
    assert "alice 4 turns, bob 4 turns" in out
    # 5: the journal of the claim invocation, each step once.
    assert f"5. Journal of {first.group(2)} " in out and out.count("Parse claim ") == 2, out
    rows = re.findall(r"^ +#(\d+) +(\w+) +(.+?) +(completed|pending)$", out, re.M)
    runs = [(name, status) for _, kind, name, status in rows if kind == "run"]
    assert runs == [
        ("Parse claim", "completed"),
        ("Assess claim", "completed"),
        ("Notify approver (1)", "completed"),
        ("Convert currency", "completed"),
        ("Process payment", "completed"),
    ], out
    assert [int(index) for index, *_ in rows] == list(range(len(rows)))
    assert out.rstrip().splitlines()[-1].startswith("OK: 2 LLM calls made once")
