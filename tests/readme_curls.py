"""The ``curl`` commands of an example README, read so that a test can send each one.

A line ``curl localhost:8080PATH [--json 'BODY']`` is a command (continued on the next line after a
trailing backslash, the URL possibly quoted, ``-X METHOD`` and the admin port ``http://localhost:9070``
allowed); ``# -> TEXT`` lines after it are text its answer must contain. A placeholder (an id the
reader copies from the log) may stand in the path. A curl line this reader cannot parse fails the
test instead of being skipped without a word.
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
    method: str | None = None  # given with -X; otherwise POST with a body, GET without
    admin: bool = False  # sent to the admin port (9070) rather than the ingress (8080)


def readme_commands(readme: Path, placeholder: str) -> list[Command]:
    """Every curl command in ``readme``'s bash blocks, with the answers it expects."""
    curl = re.compile(
        r"curl (?:-X (?P<method>[A-Z]+) )?(?P<quote>\"?)(?:http://)?localhost:(?P<port>8080|9070)"
        rf"(?P<path>(?:{re.escape(placeholder)}|[^\s\"])+)(?P=quote)(?: +--json '(?P<body>.*)')?$"
    )
    commands: list[Command] = []
    for block in re.findall(r"```bash\n(.*?)```", readme.read_text(), re.DOTALL):
        for line in _joined(block.splitlines()):
            if line.startswith("# -> "):
                commands[-1].expected.append(line.removeprefix("# -> "))
            elif line.startswith("curl "):
                found = curl.match(line)
                assert found is not None, f"a README command this test cannot run: {line}"
                body = json.loads(found["body"]) if found["body"] is not None else None
                commands.append(
                    Command(found["path"], body, [], method=found["method"], admin=found["port"] == "9070")
                )
    return commands


def _joined(lines: list[str]) -> list[str]:
    """The lines, each one ending in a backslash joined to the next, as the shell reads them."""
    joined: list[str] = []
    pending = ""
    for line in lines:
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1].rstrip() + " "
            continue
        joined.append((pending + line.strip()) if pending else line)
        pending = ""
    return joined
