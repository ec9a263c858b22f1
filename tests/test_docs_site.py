"""The docs site (mkdocs.yml) builds in strict mode: no broken link, reference or missing page."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_docs_site_builds_strictly_with_the_generated_references(tmp_path: Path) -> None:
    site = tmp_path / "site"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    cli = (site / "cli" / "index.html").read_text()
    for generated in (
        "agentdur serve",
        "--admin-url",
        "AGENTDUR_LOG_LEVEL",
        "agentdur model-server",
        "--script",
    ):
        assert generated in cli, generated
    api = (site / "api" / "index.html").read_text()
    for documented in ("run_typed", "awakeable", "InvocationPausedError", "DurableRunner"):
        assert documented in api, documented
    troubleshooting = (site / "troubleshooting" / "index.html").read_text()
    assert "journal mismatch at index" in troubleshooting


def test_every_page_is_in_the_navigation() -> None:
    """A page left out of ``nav`` would be built but unreachable: mkdocs.yml lists every docs/*.md."""
    config = (ROOT / "mkdocs.yml").read_text()
    pages = sorted(p.name for p in (ROOT / "docs").glob("*.md"))
    assert [p for p in pages if f": {p}" not in config] == []
