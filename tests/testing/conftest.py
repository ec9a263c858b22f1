"""Fixtures of the scripted model server tests: a fresh server per test, and SDK imports made safe.

The ``model_server`` and ``model_server_env`` fixtures come from the agentdur pytest plugin.
LiteLLM reads ``LITELLM_LOCAL_MODEL_COST_MAP`` at import: set here, before any test module imports
it, so it never downloads its cost map. Every SDK talks to the scripted server only.
"""

from __future__ import annotations

import os

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
