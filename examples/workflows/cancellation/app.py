"""Cancellation: the signals workflow, cancelled while it waits for the verification.

Cancelling raises a cancellation ``TerminalError`` at the run's current await; the run can compensate
in an ``except`` block (see the sagas example) before it ends cancelled.
"""

from __future__ import annotations

import agentdur

from ..signals.app import signup_with_signals

app = agentdur.App([signup_with_signals])
