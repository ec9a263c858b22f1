"""Every agent of the ADK tour in one app.

agentdur serve examples.google_adk.tour:app
"""

from __future__ import annotations

import agentdur

from . import (
    chat,
    durable_agent,
    error_handling,
    human_approval,
    multi_agent,
    parallel_tools,
    sub_workflow,
    workflows,
)

EXAMPLES = [
    durable_agent,
    human_approval,
    sub_workflow,
    chat,
    multi_agent,
    parallel_tools,
    workflows,
    error_handling,
]

app = agentdur.App({name: s for example in EXAMPLES for name, s in example.app.services.items()}.values())
