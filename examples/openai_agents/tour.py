"""Every agent of the tour in one app, as the tour serves them.

agentdur serve examples.openai_agents.tour:app
"""

from __future__ import annotations

import agentdur

from . import (
    chat,
    durable_agent,
    error_handling,
    human_approval,
    multi_agent,
    parallel_agents,
    parallel_tools,
    remote_agents,
    rollback_agent,
    sub_agents,
    sub_workflow,
)

EXAMPLES = [
    durable_agent,
    human_approval,
    sub_workflow,
    chat,
    multi_agent,
    remote_agents,
    parallel_tools,
    parallel_agents,
    error_handling,
    rollback_agent,
    sub_agents,
]

app = agentdur.App({name: s for example in EXAMPLES for name, s in example.app.services.items()}.values())
