"""One example app per durable pattern (``agentdur.patterns``); see each folder's README.

``app`` serves them all at once (their service names differ): ``agentdur serve examples.patterns:app``.
"""

from __future__ import annotations

import agentdur

from .evaluator.app import app as evaluator_app
from .orchestrator.app import app as orchestrator_app
from .parallel.app import app as parallel_app
from .racing.app import app as racing_app
from .routing.app import app as routing_app
from .sagas.app import app as sagas_app

app = agentdur.App(
    [
        service
        for example in (routing_app, parallel_app, racing_app, sagas_app, orchestrator_app, evaluator_app)
        for service in example.services.values()
    ]
)
