"""The ``curl`` commands of an example README, read so that a test can send each one.

A line ``curl localhost:8080PATH [--json 'BODY']`` is a command; ``# -> TEXT`` lines after it are text its
answer must contain. A placeholder (an id the reader copies from the log) may stand in the path. A curl line
this reader cannot parse fails the test instead of being skipped without a word.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Command:
    path: str
    body: object | None
    expected: list[str]


def readme_commands(readme: Path, placeholder: str) -> list[Command]:
    """Every curl command in ``readme``'s bash blocks, with the answers it expects."""
    curl = re.compile(
        rf"curl localhost:8080(?P<path>(?:{re.escape(placeholder)}|\S)+)(?: --json '(?P<body>.*)')?$"
    )
    commands: list[Command] = []
    for block in re.findall(r"```bash\n(.*?)```", readme.read_text(), re.DOTALL):
        for line in block.splitlines():
            if line.startswith("# -> "):
                commands[-1].expected.append(line.removeprefix("# -> "))
            elif line.startswith("curl "):
                found = curl.match(line)
                assert found is not None, f"a README command this test cannot run: {line}"
                body = json.loads(found["body"]) if found["body"] is not None else None
                commands.append(Command(found["path"], body, []))
    return commands
