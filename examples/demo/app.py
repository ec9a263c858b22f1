"""The demo's app: the claim pipeline and the chat sessions, served together by one ``agentdur serve``."""

from __future__ import annotations

import agentdur

from ..chat.app import chat
from ..claim_approval.app import claims

app = agentdur.App([claims, chat])
