"""ADK sessions in the state of the running virtual object: one user per object key.

``DurableSessionService`` is an ADK ``BaseSessionService`` for ``Runner(session_service=...)`` inside a
virtual-object handler keyed by the user (``runner.run_async(user_id=ctx.key(), ...)``). State
entries of that object key:

- ``adk:session:<app>:<session id>``: the session's own state and times (small, no events);
- ``adk:events:<app>:<session id>``: its events, a state list (``ctx.state_list``): appending an
  event journals that event only, so a turn journals what it adds whatever the history's length;
- ``adk:user:<app>``: the ``user:`` state, shared by the user's sessions;
- ``adk:app:<app>``: the ``app:`` state (per object key too: objects share nothing).

A session stored before events had their own list (one entry holding its events) still reads; its
first change moves the events to the list.

Every change is a state write committed atomically with the handler's journal, so a replayed turn
neither loses nor doubles events. A replay writes the same state as the first execution (Restate
checks that it does): ADK gives events random ids and timestamps, so each event's identity (id,
timestamp, and ADK's invocation id the first time one is seen) is journaled first, in the step ``ADK
event: <author>``, and the replay's event takes it; the rest of an event comes from journaled model
calls and tool steps, or from the handler's own (deterministic) code. An event a replay may not
rebuild equal, one carrying a function response that no journaled tool step gave (a toolset's, a
tool opted out of journaling, a response the client sent), is journaled whole in that step instead.
Exclusive handlers of one key run one at a time, so concurrent messages to one user are answered in
order. Reads work in shared handlers too.

ADK's semantics are kept: partial events are not stored, ``temp:`` state lives only for the
invocation, ``GetSessionConfig`` limits the events returned (``num_recent_events`` reads only those
events), ``list_sessions`` returns the sessions without events (oldest update first).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
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
    StateList,
    UserError,
    current_context,
)

from ._scope import is_journaled_call

__all__ = ["DurableSessionService"]

SESSION_PREFIX = "adk:session:"
EVENTS_PREFIX = "adk:events:"


def _session_key(app_name: str, session_id: str) -> str:
    return f"{SESSION_PREFIX}{app_name}:{session_id}"


def _events_key(app_name: str, session_id: str) -> str:
    return f"{EVENTS_PREFIX}{app_name}:{session_id}"


def _scope_key(scope: str, app_name: str) -> str:
    return f"adk:{scope}:{app_name}"


@dataclass
class _Invocation:
    """What the service knows during one handler invocation."""

    reads: dict[str, Any] = field(default_factory=dict)  # state entries read or written
    adk_ids: dict[str, str] = field(default_factory=dict)  # ADK invocation id now -> as first journaled


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
        self._cache: weakref.WeakKeyDictionary[Any, _Invocation] = weakref.WeakKeyDictionary()

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

    def _invocation(self, ctx: ObjectSharedContext) -> _Invocation:
        try:
            return self._cache.setdefault(ctx, _Invocation())
        except TypeError:  # a context that cannot be weakly referenced: no cache
            return _Invocation()

    async def _get(self, ctx: ObjectSharedContext, name: str) -> Any:
        reads = self._invocation(ctx).reads
        if name not in reads:
            reads[name] = await ctx.get(name, type_hint=Any)
        return reads[name]

    def _set(self, ctx: ObjectContext, name: str, value: Any) -> None:
        self._invocation(ctx).reads[name] = value
        ctx.set(name, value)

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

    @staticmethod
    def _events(ctx: ObjectSharedContext, app_name: str, session_id: str) -> StateList[dict[str, Any]]:
        return ctx.state_list(_events_key(app_name, session_id), dict[str, Any])

    async def _header(
        self, ctx: ObjectSharedContext, app_name: str, session_id: str
    ) -> dict[str, Any] | None:
        """The stored session without its events: its ``state`` and ``last_update_time`` (and its
        ``events`` when it was stored before they had a list of their own)."""
        header = await self._get(ctx, _session_key(app_name, session_id))
        return dict(header) if header is not None else None

    async def _load(
        self,
        ctx: ObjectSharedContext,
        app_name: str,
        session_id: str,
        config: GetSessionConfig | None = None,
        *,
        with_events: bool = True,
    ) -> Session | None:
        """The stored session with its events as ``config`` limits them (none: ``with_events=False``)."""
        header = await self._header(ctx, app_name, session_id)
        if header is None:
            return None
        events = self._events(ctx, app_name, session_id)
        earlier: list[dict[str, Any]] = header.pop("events", None) or []
        recent = config.num_recent_events if config is not None else None
        if not with_events or (recent is not None and recent <= 0):
            newest = (earlier + await events.items(last=1))[-1:]  # only for the last update time
            stored: list[dict[str, Any]] = []
        else:
            stored = earlier + await events.items(last=recent if not earlier else None)
            newest = stored[-1:]
        if recent is not None:
            stored = stored[-recent:] if recent > 0 else []
        session = Session.model_validate(
            {
                "app_name": app_name,
                "user_id": ctx.key(),
                "id": session_id,
                "state": header.get("state", {}),
                "last_update_time": header.get("last_update_time", 0.0),
                "events": stored,
            }
        )
        if newest:
            session.last_update_time = max(session.last_update_time, float(newest[0]["timestamp"]))
        if config is not None and config.after_timestamp is not None:
            session.events = [event for event in session.events if event.timestamp >= config.after_timestamp]
        return session

    async def _recorded(self, ctx: ObjectContext, event: Event) -> dict[str, Any]:
        """``event`` as stored, with its identity as first journaled (the replay's event takes it)."""
        adk_ids = self._invocation(ctx).adk_ids
        now = event.invocation_id
        seen = now in adk_ids
        whole = not _replays_equal(event)

        def identity() -> Any:
            if whole:  # a replay may not rebuild it equal: the event itself is journaled
                return _stored_form(event)
            return [event.id, event.timestamp] if seen else [event.id, event.timestamp, now]

        journaled = await ctx.run_typed(f"ADK event: {event.author}", identity, RunOptions(type_hint=Any))
        if isinstance(journaled, dict):
            data: dict[str, Any] = journaled
            journaled = [data["id"], data["timestamp"], data["invocation_id"]]
        else:
            data = {}
        event.id, event.timestamp = str(journaled[0]), float(journaled[1])
        if not seen and len(journaled) > 2:
            adk_ids[now] = str(journaled[2])
        data = data or _stored_form(event)
        data["invocation_id"] = adk_ids.get(now, now)
        return data

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
        if await self._header(ctx, app_name, session_id) is not None:
            raise ConflictError(f"ADK session {session_id!r} of {user_id!r} already exists")
        await self._update_scoped(ctx, app_name, state or {})
        session = Session(
            app_name=app_name,
            user_id=user_id,
            id=session_id,
            state=_own_state(state or {}),
            last_update_time=await ctx.time(),
        )
        self._set(ctx, _session_key(app_name, session_id), _header(session.state, session.last_update_time))
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
        session = await self._load(ctx, app_name, session_id.strip(), config)
        if session is None:
            if not self.create_missing:
                return None
            # A new, empty session; it is stored with its first event (shared handlers read it too).
            session = Session(app_name=app_name, user_id=user_id, id=session_id.strip(), last_update_time=0.0)
        return await self._merged(ctx, session)

    async def list_sessions(self, *, app_name: str, user_id: str | None = None) -> ListSessionsResponse:
        """This object key's sessions of ``app_name``, without events, least recently updated first."""
        ctx = self._context(user_id)
        prefix = _session_key(app_name, "")
        sessions = []
        for name in sorted(await ctx.state_keys()):
            if not name.startswith(prefix):
                continue
            session = await self._load(ctx, app_name, name.removeprefix(prefix), with_events=False)
            if session is not None:
                sessions.append(await self._merged(ctx, session))
        sessions.sort(key=lambda s: (s.last_update_time, s.id))
        return ListSessionsResponse(sessions=sessions)

    async def delete_session(self, *, app_name: str, user_id: str, session_id: str) -> None:
        """Delete the session (nothing happens when there is none)."""
        ctx = self._writable(user_id)
        session_id = session_id.strip()
        self._invocation(ctx).reads[_session_key(app_name, session_id)] = None
        ctx.clear(_session_key(app_name, session_id))
        self._events(ctx, app_name, session_id).clear()

    async def get_user_state(self, *, app_name: str, user_id: str) -> dict[str, Any]:
        """The ``user:`` state of this object key, without the prefix."""
        ctx = self._context(user_id)
        return (await self._scoped(ctx, app_name))["user"]

    async def append_event(self, session: Session, event: Event) -> Event:
        """Append ``event`` as ADK does, and store it in the session's list of events.

        Raises:
            NotFoundError: the session does not exist (it was deleted, or never created) and the
                service does not ``create_missing``.
        """
        if event.partial:
            return event
        ctx = self._writable(session.user_id)
        header = await self._header(ctx, session.app_name, session.id)
        if header is None and not self.create_missing:
            raise NotFoundError(f"ADK session {session.id!r} of {session.user_id!r} not found")
        event = await super().append_event(session, event)
        recorded = await self._recorded(ctx, event)
        session.last_update_time = event.timestamp
        delta: dict[str, Any] = recorded.get("actions", {}).get("state_delta", {})
        events = self._events(ctx, session.app_name, session.id)
        earlier = header.pop("events", None) if header is not None else None
        if earlier:
            events.append(*earlier)  # a session stored before the list: its events move there
        own = _own_state(delta)
        if header is None or earlier is not None or own:  # new, stored before the list, or changed
            state = {**(header or {}).get("state", {}), **own}
            self._set(ctx, _session_key(session.app_name, session.id), _header(state, recorded["timestamp"]))
        events.append(recorded)
        await self._update_scoped(ctx, session.app_name, delta)
        return event


def _header(state: dict[str, Any], last_update_time: float) -> dict[str, Any]:
    """The stored session without its events: its own state (no ``app:``, ``user:``, ``temp:``
    entries) and when it changed (its newest event may be newer)."""
    return {"state": _own_state(state), "last_update_time": last_update_time}


def _stored_form(event: Event) -> dict[str, Any]:
    """The JSON of ``event`` as stored: ADK's defaults are left out (they read back equal), which
    halves the bytes of a small event."""
    data: dict[str, Any] = event.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    data.update(id=event.id, timestamp=event.timestamp, invocation_id=event.invocation_id)
    return data


def _replays_equal(event: Event) -> bool:
    """Whether a replay rebuilds ``event`` equal: its model responses come from journaled steps, but
    a function response counts only when a journaled tool step gave it (not a toolset, a tool
    opted out of journaling, a response the client sent)."""
    parts = event.content.parts or [] if event.content is not None else []
    responses = [part.function_response for part in parts if part.function_response is not None]
    return all(is_journaled_call(response.id) for response in responses)


def _own_state(state: dict[str, Any]) -> dict[str, Any]:
    scoped = (State.APP_PREFIX, State.USER_PREFIX, State.TEMP_PREFIX)
    return {key: value for key, value in state.items() if not key.startswith(scoped)}
