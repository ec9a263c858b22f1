"""Every agent of the ADK tour in one app.

agentdur serve examples.google_adk.tour:app
"""

from __future__ import annotations

import agentdur

from . import chat, durable_agent, human_approval, multi_agent, parallel_tools

EXAMPLES = [durable_agent, human_approval, chat, multi_agent, parallel_tools]

app = agentdur.App({name: s for example in EXAMPLES for name, s in example.app.services.items()}.values())
