"""What the ingress and the admin API of one server share: the engine, its limits, whether it is stopping."""

from __future__ import annotations

from dataclasses import dataclass

from .._http import DEFAULT_ADMIN_URL, DEFAULT_INGRESS_URL
from ..engine import Engine
from ._body import DEFAULT_MAX_BODY


@dataclass
class ServerState:
    """The state one ``agentdur serve`` process shares between its two HTTP apps.

    Attributes:
        engine: the started engine both apps talk to.
        max_body: the largest request body accepted, in bytes.
        ingress_url: where the ingress listens (the ``servers`` entry of the ingress OpenAPI documents).
        admin_url: where the admin API listens (the ``servers`` entry of its own OpenAPI document).
        closing: set on SIGTERM/SIGINT; requests that would start or wait for work get a 503.
    """

    engine: Engine
    max_body: int = DEFAULT_MAX_BODY
    ingress_url: str = DEFAULT_INGRESS_URL
    admin_url: str = DEFAULT_ADMIN_URL
    closing: bool = False
