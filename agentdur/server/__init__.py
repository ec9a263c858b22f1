"""The HTTP server of the embedded engine: Restate's ingress URLs and an admin API, on uvicorn.

``agentdur serve module:app`` runs both in one process over one :class:`agentdur.Engine`:

- the ingress (:func:`ingress_app`, port 8080): ``POST /{Service}/{handler}``, ``.../send``,
  ``/restate/invocation/{id}/attach|output``, ``/restate/awakeables/{id}/resolve|reject``;
- the admin API (:func:`admin_app`, port 9070): services and schemas, OpenAPI, invocations and their
  journals, cancel/kill/purge/resume, pending awakeables (the approvals inbox), object state.
"""

from ._admin import admin_app
from ._auth import BearerAuth
from ._ingress import ingress_app
from ._serve import ServeOptions, run
from ._state import ServerState

__all__ = ["BearerAuth", "ServeOptions", "ServerState", "admin_app", "ingress_app", "run"]
