"""MkDocs hooks.

- The CLI reference page is generated from ``agentdur``'s own argument parser.
- A link from a page to a file of the repository outside ``docs/`` (``../examples/chat``) becomes
  the file's path in code, after checking the file exists: a broken one fails the build.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

MARKER = "<!-- agentdur-cli-reference -->"
DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
REPO_LINK = re.compile(r"\[([^\]]+)\]\((\.\./[^)\s#]+)\)")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Fill the CLI reference; turn links to repository files into checked paths."""
    if MARKER in markdown:
        markdown = markdown.replace(MARKER, cli_reference())
    return REPO_LINK.sub(lambda found: _repo_path(found, page.file.src_path), markdown)


def _repo_path(found: re.Match[str], page: str) -> str:
    text, target = found.group(1), found.group(2)
    path = (DOCS / Path(page).parent / target).resolve()
    if not path.exists() or REPO not in path.parents:
        raise PluginError(f"{page} links to {target}, which is not a file of the repository")
    shown = f"`{path.relative_to(REPO).as_posix()}`"
    return shown if text.strip("`") == path.relative_to(REPO).as_posix() else f"{text} ({shown})"


def cli_reference() -> str:
    """``agentdur --help`` and each ``agentdur COMMAND --help``, as Markdown sections."""
    from agentdur._cli import build_parser
    from agentdur.testing.model_server._main import build_parser as model_server_parser

    parser = build_parser()
    sections = [_section("agentdur", parser)]
    for name, sub in _subcommands(parser).items():
        if name == "model-server":
            sub = model_server_parser()
        sections.append(_section(f"agentdur {name}", sub))
    return "\n".join(sections)


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _section(title: str, parser: argparse.ArgumentParser) -> str:
    parser.prog = title
    text = parser.format_help().rstrip()
    return f"## `{title}`\n\n```text\n{text}\n```\n"
