"""ADK sessions in the state of the running virtual object: one user per object key.

``DurableSessionService`` is an ADK ``BaseSessionService`` for ``Runner(session_service=...)`` inside a
virtual-object handler keyed by the user (``runner.run_async(user_id=ctx.key(), ...)``). State
entries of that object key:

- ``adk:session:<app>:<session id>``: the session (its own state and its events), as JSON;
- ``adk:user:<app>``: the ``user:`` state, shared by the user's sessions;
- ``adk:app:<app>``: the ``app:`` state (per object key too: objects share nothing).

Every change is a state write committed atomically with the handler's journal, so a replayed turn
neither loses nor doubles events. Each stored event is journaled first (the step ``ADK event:
<author>``): ADK gives events random ids and timestamps, and a replay must write the same state as
the first execution (Restate checks that it does); exclusive handlers of one key run one at a time, so concurrent
messages to one user are answered in order. Reads work in shared handlers too.

ADK's semantics are kept: partial events are not stored, ``temp:`` state lives only for the
invocation, ``GetSessionConfig`` limits the events returned, ``list_sessions`` returns the sessions
without events (oldest update first).
"""

from __future__ import annotations

import weakref
from typing import Any

from google.adk.events.event import Event
from google.adk.sessions import Session
from google.adk.sessions.base_session_service import (
    BaseSessionService,
    GetSessionConfig,
    ListSessionsResponse,
)
from google.adk.sessions.state import State

from agentdur import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    ObjectContext,
    ObjectSharedContext,
    RunOptions,
    UserError,
    current_context,
)

__all__ = ["DurableSessionService"]

SESSION_PREFIX = "adk:session:"


def _session_key(app_name: str, session_id: str) -> str:
    return f"{SESSION_PREFIX}{app_name}:{session_id}"


def _scope_key(scope: str, app_name: str) -> str:
    return f"adk:{scope}:{app_name}"


class DurableSessionService(BaseSessionService):
    """ADK sessions stored in the running virtual object's state (see the module docstring).

    Use one instance for any number of handlers and keys; it holds no state of its own beyond a
    per-invocation cache of what it read.

    Args:
        create_missing: ``get_session`` of a session that does not exist returns a new, empty one,
            stored with its first event, so ``Runner(app=app, session_service=DurableSessionService())``
            runs a new session id without ``auto_create_session``, as in Restate's tour. ``False``
            keeps ADK's contract: ``None``, and an event for a missing session is a 404.
    """

    def __init__(self, *, create_missing: bool = True) -> None:
        self.create_missing = create_missing
        self._cache: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()

    # -------------------------------------------------------------------- the object's state
    def _context(self, user_id: str | None) -> ObjectSharedContext:
        ctx = current_context()
        if not isinstance(ctx, ObjectSharedContext):
            raise UserError(
                "DurableSessionService keeps sessions in virtual-object state: use it inside a "
                "VirtualObject handler keyed by the user"
            )
        key = ctx.key()
        if user_id is not None and user_id != key:
            raise InvalidInputError(
                f"user_id {user_id!r} is not this object's key {key!r}: sessions are kept per object "
                "key, so pass user_id=ctx.key()"
            )
        return ctx

    def _writable(self, user_id: str | None) -> ObjectContext:
        ctx = self._context(user_id)
        if not isinstance(ctx, ObjectContext):
            raise UserError("changing an ADK session needs an exclusive handler (shared handlers only read)")
        return ctx

    def _reads(self, ctx: ObjectSharedContext) -> dict[str, Any]:
        try:
            return self._cache.setdefault(ctx, {})
        except TypeError:  # a context that cannot be weakly referenced: no cache
            return {}

    async def _get(self, ctx: ObjectSharedContext, name: str) -> Any:
        reads = self._reads(ctx)
        if name not in reads:
            reads[name] = await ctx.get(name, type_hint=Any)
        return reads[name]

    def _set(self, ctx: ObjectContext, name: str, value: Any) -> None:
        self._reads(ctx)[name] = value
        ctx.set(name, value)

    def _clear(self, ctx: ObjectContext, name: str) -> None:
        self._reads(ctx)[name] = None
        ctx.clear(name)

    async def _scoped(self, ctx: ObjectSharedContext, app_name: str) -> dict[str, dict[str, Any]]:
        return {
            scope: dict(await self._get(ctx, _scope_key(scope, app_name)) or {}) for scope in ("app", "user")
        }

    async def _update_scoped(self, ctx: ObjectContext, app_name: str, state: dict[str, Any]) -> None:
        """Store the ``app:`` and ``user:`` entries of ``state`` (a delta or an initial state)."""
        for scope, prefix in (("app", State.APP_PREFIX), ("user", State.USER_PREFIX)):
            delta = {
                key.removeprefix(prefix): value for key, value in state.items() if key.startswith(prefix)
            }
            if delta:
                stored = dict(await self._get(ctx, _scope_key(scope, app_name)) or {})
                stored.update(delta)
                self._set(ctx, _scope_key(scope, app_name), stored)

    async def _merged(self, ctx: ObjectSharedContext, session: Session) -> Session:
        """``session`` with the ``app:`` and ``user:`` state merged in, as ADK hands it out."""
        scoped = await self._scoped(ctx, session.app_name)
        for key, value in scoped["app"].items():
            session.state[State.APP_PREFIX + key] = value
        for key, value in scoped["user"].items():
            session.state[State.USER_PREFIX + key] = value
        return session

    def _store(self, ctx: ObjectContext, session: Session) -> None:
        """Write ``session`` back: its own state only (no ``app:``, ``user:`` or ``temp:`` entries)."""
        stored = session.model_copy(update={"state": _own_state(session.state)})
        data = stored.model_dump(mode="json", exclude_none=True)
        self._set(ctx, _session_key(session.app_name, session.id), data)

    async def _load(self, ctx: ObjectSharedContext, app_name: str, session_id: str) -> Session | None:
        data = await self._get(ctx, _session_key(app_name, session_id))
        return Session.model_validate(data) if data is not None else None

    # -------------------------------------------------------------------- BaseSessionService
    async def create_session(
        self,
        *,
        app_name: str,
        user_id: str,
        state: dict[str, Any] | None = None,
        session_id: str | None = None,
    ) -> Session:
        """Create a session of this object key; a ``session_id`` of ``None`` gets a journaled uuid.

        Raises:
            ConflictError: a session with that id exists.
        """
        ctx = self._writable(user_id)
        session_id = (session_id or "").strip() or str(ctx.uuid())
        if await self._load(ctx, app_name, session_id) is not None:
            raise ConflictError(f"ADK session {session_id!r} of {user_id!r} already exists")
        await self._update_scoped(ctx, app_name, state or {})
        session = Session(
            app_name=app_name,
            user_id=user_id,
            id=session_id,
            state=_own_state(state or {}),
            last_update_time=await ctx.time(),
        )
        self._store(ctx, session)
        return await self._merged(ctx, session)

    async def get_session(
        self,
        *,
        app_name: str,
        user_id: str,
        session_id: str,
        config: GetSessionConfig | None = None,
    ) -> Session | None:
        """The session with its events (limited by ``config``); when there is none, a new empty one
        (stored with its first event), or ``None`` without ``create_missing``."""
        ctx = self._context(user_id)
        session = await self._load(ctx, app_name, session_id.strip())
        if session is None:
            if not self.create_missing:
                return None
            # A new, empty session; it is stored with its first event (shared handlers read it too).
            session = Session(app_name=app_name, user_id=user_id, id=session_id.strip(), last_update_time=0.0)
        if config is not None:
            session.events = _filtered(session.events, config)
        return await self._merged(ctx, session)

    async def list_sessions(self, *, app_name: str, user_id: str | None = None) -> ListSessionsResponse:
        """This object key's sessions of ``app_name``, without events, least recently updated first."""
        ctx = self._context(user_id)
        prefix = _session_key(app_name, "")
        sessions = []
        for name in sorted(await ctx.state_keys()):
            if not name.startswith(prefix):
                continue
            session = await self._load(ctx, app_name, name.removeprefix(prefix))
            if session is not None:
                session.events = []
                sessions.append(await self._merged(ctx, session))
        sessions.sort(key=lambda s: (s.last_update_time, s.id))
        return ListSessionsResponse(sessions=sessions)

    async def delete_session(self, *, app_name: str, user_id: str, session_id: str) -> None:
        """Delete the session (nothing happens when there is none)."""
        ctx = self._writable(user_id)
        self._clear(ctx, _session_key(app_name, session_id.strip()))

    async def get_user_state(self, *, app_name: str, user_id: str) -> dict[str, Any]:
        """The ``user:`` state of this object key, without the prefix."""
        ctx = self._context(user_id)
        return (await self._scoped(ctx, app_name))["user"]

    async def append_event(self, session: Session, event: Event) -> Event:
        """Append ``event`` as ADK does, and store the session in the object's state.

        Raises:
            NotFoundError: the session does not exist (it was deleted, or never created) and the
                service does not ``create_missing``.
        """
        if event.partial:
            return event
        ctx = self._writable(session.user_id)
        key = _session_key(session.app_name, session.id)
        stored = await self._get(ctx, key)
        if stored is None:
            if not self.create_missing:
                raise NotFoundError(f"ADK session {session.id!r} of {session.user_id!r} not found")
            fresh = Session(
                app_name=session.app_name, user_id=session.user_id, id=session.id, last_update_time=0.0
            )
            stored = fresh.model_dump(mode="json", exclude_none=True)
        event = await super().append_event(session, event)
        session.last_update_time = event.timestamp
        # ADK gives events random ids and the time they happened: what is stored is the event as the
        # journal recorded it the first time, so a replay writes the same state again.
        recorded: dict[str, Any] = await ctx.run_typed(
            f"ADK event: {event.author}",
            lambda: event.model_dump(mode="json", exclude_none=True),
            RunOptions(type_hint=dict[str, Any]),
        )
        delta: dict[str, Any] = recorded.get("actions", {}).get("state_delta", {})
        updated = {
            **stored,
            "events": [*stored.get("events", []), recorded],
            "state": {**stored.get("state", {}), **_own_state(delta)},
            "last_update_time": recorded.get("timestamp", stored.get("last_update_time")),
        }
        await self._update_scoped(ctx, session.app_name, delta)
        self._set(ctx, key, updated)
        return event


def _own_state(state: dict[str, Any]) -> dict[str, Any]:
    scoped = (State.APP_PREFIX, State.USER_PREFIX, State.TEMP_PREFIX)
    return {key: value for key, value in state.items() if not key.startswith(scoped)}


def _filtered(events: list[Event], config: GetSessionConfig) -> list[Event]:
    if config.num_recent_events is not None:
        events = events[-config.num_recent_events :] if config.num_recent_events > 0 else []
    if config.after_timestamp is not None:
        after = config.after_timestamp
        events = [event for event in events if event.timestamp >= after]
    return events
