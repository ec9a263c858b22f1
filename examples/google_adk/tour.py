"""Every agent of the ADK tour in one app.

agentdur serve examples.google_adk.tour:app
"""

from __future__ import annotations

import agentdur

from . import (
    chat,
    durable_agent,
    error_handling,
    evaluator_optimizer,
    human_approval,
    multi_agent,
    orchestrator_workers,
    parallel_agents,
    parallel_tools,
    remote_agents,
    sub_agents,
    sub_workflow,
    workflows,
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
    workflows,
    orchestrator_workers,
    evaluator_optimizer,
    error_handling,
    sub_agents,
]

app = agentdur.App({name: s for example in EXAMPLES for name, s in example.app.services.items()}.values())
