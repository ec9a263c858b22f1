"""The README's code runs as written (so it cannot rot)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

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
