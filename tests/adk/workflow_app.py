"""The ADK tour's orchestrator-workers, evaluator-optimizer and workflows examples as they are, with every call
of their fake services (the lookups the tools make) also written to the side-effect log
(``tests/effects.py``), so a test counts what really ran across crashes."""

from __future__ import annotations

import logging

import agentdur
from examples.google_adk import evaluator_optimizer, orchestrator_workers, workflows
from examples.google_adk.utils import log

from ..effects import record


class _Recorder(logging.Handler):
    def emit(self, entry: logging.LogRecord) -> None:
        record(entry.getMessage())


log.addHandler(_Recorder())
log.setLevel(logging.INFO)

app = agentdur.App(
    [
        service
        for example in (orchestrator_workers, evaluator_optimizer, workflows)
        for service in example.app.services.values()
    ]
)
