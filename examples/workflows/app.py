"""Every workflow of the tour in one app (the tour's ``__main__.py``): ``agentdur serve examples.workflows.app:app``."""

from __future__ import annotations

import agentdur

from .activities.app import signup_with_activities, user_service
from .events.app import signup_with_events
from .parallel.app import signup_in_parallel
from .queries.app import signup_with_queries
from .retries.app import signup_with_retries
from .sagas.app import signup_with_sagas
from .signals.app import signup_with_signals
from .submit.app import signup_workflow
from .timers.app import signup_with_timers

app = agentdur.App(
    [
        signup_workflow,
        signup_with_activities,
        user_service,
        signup_with_queries,
        signup_with_signals,
        signup_with_events,
        signup_with_timers,
        signup_in_parallel,
        signup_with_retries,
        signup_with_sagas,
    ]
)
