"""Framework integrations, installed as ``agentdur.integrations``.

Each integration lives in its own subpackage (``openai_agents``, ``litellm``, ``adk``) and imports its
framework, failing at import with the extra to install when the framework is missing.
"""
