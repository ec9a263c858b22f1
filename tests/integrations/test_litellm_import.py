"""Importing LiteLLM through agentdur is reliable offline, whichever SDK pulls it in.

Without ``LITELLM_LOCAL_MODEL_COST_MAP=True`` the pinned LiteLLM, imported with no network, fails about
one time in four (a ``_DeadlockError`` on ``litellm.rust_bridge.catalog``): each import here runs in a
fresh process whose environment does not set it, so agentdur's import path must.
"""

from __future__ import annotations

import os
import subprocess
import sys
from itertools import cycle, islice

import pytest

from ..harness import ROOT

IMPORTS = 20
AT_ONCE = 2  # each import costs seconds of CPU

CHECK = "import litellm, litellm.rust_bridge.catalog; assert callable(litellm.acompletion); print('ok')"
# Our public import paths, each followed by the import of LiteLLM its SDK makes.
PATHS = (
    "import agentdur.integrations.litellm",
    "import agentdur.integrations.openai_agents\nfrom agents.extensions.models.litellm_model import LitellmModel",
    "import agentdur.integrations.adk\nfrom google.adk.models.lite_llm import LiteLlm",
)


def _env() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != "LITELLM_LOCAL_MODEL_COST_MAP"}
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.mark.timeout(900)
def test_litellm_imports_through_agentdur_twenty_times_in_fresh_processes() -> None:
    programs = list(islice(cycle(PATHS), IMPORTS))
    failures: list[str] = []
    for start in range(0, len(programs), AT_ONCE):
        batch = [
            subprocess.Popen(
                [sys.executable, "-c", f"{program}\n{CHECK}"],
                env=_env(),
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for program in programs[start : start + AT_ONCE]
        ]
        for program, process in zip(programs[start : start + AT_ONCE], batch, strict=True):
            out, err = process.communicate(timeout=300)
            if process.returncode != 0 or out.strip() != "ok":
                failures.append(f"{program!r} exited {process.returncode}: {err.strip()[-400:]}")
    assert not failures, f"{len(failures)} of {IMPORTS} imports failed:\n" + "\n".join(failures)
