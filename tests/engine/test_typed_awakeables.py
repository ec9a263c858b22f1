"""Typed awakeables on the in-process Engine: the value's JSON schema is recorded with the awakeable,
a resolution that does not match is refused (the awakeable stays pending), whether the handler waits
in memory, is suspended, or the engine restarted; and the schema check never refuses what the type
itself accepts."""

from __future__ import annotations

import enum
import json
import sqlite3
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field, TypeAdapter, ValidationError, field_validator

import agentdur
from agentdur import _schema as agentdur_schema
from agentdur._schema import example_of, problems
from agentdur.patterns.approval import Decision, request_approval

from .helpers import wait_status, wait_until

published: dict[str, str] = {}

svc = agentdur.Service("Typed")


@svc.handler()
async def approve(ctx: agentdur.Context, what: str) -> str:
    async def remember(notice: Any) -> None:
        published[what] = notice.awakeable_id

    decision = await request_approval(ctx, f"approve {what}", notify=remember)
    return f"{what}: {decision.approved} by {decision.by}"


@svc.handler()
async def count(ctx: agentdur.Context, what: str) -> int:
    awakeable_id, amount = ctx.awakeable(type_hint=int, description=f"count {what}")
    published[what] = awakeable_id
    return await amount


@svc.handler()
async def anything(ctx: agentdur.Context, what: str) -> Any:
    awakeable_id, value = ctx.awakeable(description=f"anything {what}")
    published[what] = awakeable_id
    return await value


@svc.handler()
async def send_wrong(ctx: agentdur.Context, awakeable_id: str) -> None:
    ctx.resolve_awakeable(awakeable_id, "not a number")  # a handler's resolution is not checked


class Refund(BaseModel):
    amount: int

    @field_validator("amount")
    @classmethod
    def even(cls, amount: int) -> int:  # a rule no JSON schema can carry
        if amount % 2:
            raise ValueError("amount must be even")
        return amount


@svc.handler()
async def refund(ctx: agentdur.Context, what: str) -> int:
    awakeable_id, decided = ctx.awakeable(type_hint=Refund, description=f"refund {what}")
    published[what] = awakeable_id
    return (await decided).amount


APP = agentdur.App([svc])


async def started(engine: agentdur.Engine, handler: str, what: str) -> tuple[str, str]:
    inv_id = await engine.send("Typed", handler, what)
    await wait_until(lambda: what in published, what=f"{what}'s awakeable")
    return inv_id, published[what]


async def pending_ids(engine: agentdur.Engine) -> list[str]:
    return [p.id for p in await engine.pending_awakeables()]


@pytest.mark.parametrize("suspend_after", [None, 0.0], ids=["in-memory", "suspended"])
async def test_a_wrong_value_is_refused_and_the_right_one_completes(
    tmp_path: Path, suspend_after: Any
) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "t.db", suspend_after=suspend_after) as engine:
        inv_id, aid = await started(engine, "approve", f"refund {suspend_after}")
        if suspend_after is not None:
            await wait_status(engine, inv_id, "suspended")
        with pytest.raises(agentdur.AwakeableValueError, match="value: Input should be an object") as bare:
            await engine.resolve_awakeable(aid, True)
        assert bare.value.status_code == 400
        assert 'expected a value like {"approved": true, "by": "...", "comment": "..."}' in bare.value.message
        with pytest.raises(agentdur.AwakeableValueError, match="approved: Field required"):
            await engine.resolve_awakeable(aid, {"by": "ann"})
        assert aid in await pending_ids(engine)
        [item] = await engine.pending_awakeables()
        assert item.value_schema == Decision.model_json_schema()
        assert item.example == {"approved": True, "by": "...", "comment": "..."}

        await engine.resolve_awakeable(
            aid, {"approved": "yes", "by": "ann"}
        )  # lax, as pydantic: "yes" is true
        assert await engine.attach(inv_id) == f"refund {suspend_after}: True by ann"
        assert (await engine.invocation(inv_id)).attempts == 0  # never retried


async def test_the_recorded_schema_is_checked_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    async with agentdur.Engine(APP, path=path, suspend_after=0) as engine:
        inv_id, aid = await started(engine, "count", "items")
        await wait_status(engine, inv_id, "suspended")
    async with agentdur.Engine(APP, path=path, suspend_after=0) as engine:
        assert engine.in_memory == 0  # nothing in this process knows the type: only the file does
        with pytest.raises(agentdur.AwakeableValueError, match="value: Input should be a valid integer"):
            await engine.resolve_awakeable(aid, "many")
        assert await status_of_pending(engine, aid) == "suspended"
        await engine.resolve_awakeable(aid, 12)
        assert await engine.attach(inv_id) == 12


async def status_of_pending(engine: agentdur.Engine, aid: str) -> str:
    [item] = [p for p in await engine.pending_awakeables() if p.id == aid]
    return (await engine.invocation(item.invocation_id)).status


async def test_an_untyped_awakeable_accepts_anything(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "a.db") as engine:
        inv_id, aid = await started(engine, "anything", "x")
        [item] = await engine.pending_awakeables()
        assert item.value_schema is None and item.example is None
        await engine.resolve_awakeable(aid, {"any": ["json", 1]})
        assert await engine.attach(inv_id) == {"any": ["json", 1]}


async def test_a_wrong_value_from_a_handler_fails_the_await_terminally(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "h.db") as engine:
        inv_id, aid = await started(engine, "count", "from a handler")
        await engine.call("Typed", "send_wrong", aid)
        with pytest.raises(agentdur.InvalidInputError, match="value: Input should be a valid integer"):
            await engine.attach(inv_id)
        info = await engine.invocation(inv_id)
        assert info.status == "completed" and info.attempts == 0  # not retried into a pause


async def test_in_memory_the_handlers_own_type_decides_including_custom_validators(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "v.db", suspend_after=None) as engine:
        waiting, waiting_id = await started(engine, "refund", "in memory")
        with pytest.raises(agentdur.AwakeableValueError, match="amount: Value error, amount must be even"):
            await engine.resolve_awakeable(waiting_id, {"amount": 3})
        await engine.resolve_awakeable(waiting_id, {"amount": 4})
        assert await engine.attach(waiting) == 4


async def test_a_rule_the_schema_cannot_carry_fails_the_await_without_retries(tmp_path: Path) -> None:
    async with agentdur.Engine(APP, path=tmp_path / "s.db", suspend_after=0.0) as engine:
        # Suspended, only the recorded schema is there: it cannot know the custom rule, so the value
        # goes through, and the handler fails at its await with the field named (no retry loop).
        suspended, suspended_id = await started(engine, "refund", "suspended")
        await wait_status(engine, suspended, "suspended")
        await engine.resolve_awakeable(suspended_id, {"amount": 3})
        with pytest.raises(agentdur.InvalidInputError, match="amount: Value error, amount must be even"):
            await engine.attach(suspended)
        assert (await engine.invocation(suspended)).attempts == 0


async def test_an_older_file_gains_the_schema_column(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    async with agentdur.Engine(APP, path=path):
        pass
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE journal DROP COLUMN value_schema")
    async with agentdur.Engine(APP, path=path) as engine:
        inv_id, aid = await started(engine, "count", "old file")
        with pytest.raises(agentdur.AwakeableValueError):
            await engine.resolve_awakeable(aid, [1])
        await engine.resolve_awakeable(aid, 3)
        assert await engine.attach(inv_id) == 3


# ---------------------------------------------------------------- the schema check itself


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Item(BaseModel):
    name: str
    qty: int = 1


class Order(BaseModel):
    items: list[Item]
    colour: Colour | None = None
    kind: Literal["rush", "normal"] = "normal"
    pair: tuple[int, str] | None = None
    tags: dict[str, float] = {}


TYPES: list[Any] = [bool, int, float, str, type(None), Colour, Literal[1, "a"], list[int], Item, Order, Decision,
                    int | None, dict[str, bool], tuple[int, str], Annotated[int, Field(gt=0, le=1)],
                    Annotated[float, Field(ge=1.5, lt=3)], Annotated[str, Field(min_length=1, max_length=3)],
                    Annotated[list[Any], Field(min_length=1, max_length=1)]]  # fmt: skip
VALUES: list[Any] = [
    None, True, False, 0, 1, 2, 1.0, 1.5, "", "yes", "off", "1", "2.0", "x", "red", "a", [], [1], [1, "a"],
    ["1", 2], [{"name": "n"}], {}, {"name": "n"}, {"name": "n", "qty": "2"}, {"name": 3}, {"approved": True},
    {"approved": "no", "by": None}, {"approved": 1, "comment": 5}, {"items": []}, {"items": [{"qty": 1}]},
    {"items": [], "colour": "green"}, {"items": [], "kind": "rush", "pair": [1, "x"], "tags": {"a": "1.5"}},
    {"items": [], "pair": [1]}, {"items": [], "tags": {"a": "x"}}, {"a": True}, {"a": "maybe"}, 3, -1, "2.5",
    "abcd", "abc", [1, 2], [[]],
]  # fmt: skip


@pytest.mark.parametrize("tp", TYPES, ids=str)
def test_the_schema_check_agrees_with_pydantic(tp: Any) -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(tp)
    schema = adapter.json_schema()
    for value in VALUES:
        try:
            adapter.validate_json(json.dumps(value))
            accepted = True
        except ValidationError:
            accepted = False
        found = problems(schema, value)
        assert accepted == (not found), f"{tp} {value!r}: pydantic {accepted}, schema check {found}"
    assert adapter.validate_python(example_of(schema)) is not None or tp is type(None)


def test_a_long_list_of_problems_is_cut_short() -> None:
    schema = TypeAdapter(list[int]).json_schema()
    message = agentdur_schema.describe(problems(schema, ["x"] * 25))
    assert message.startswith("0: Input should be a valid integer; 1: ")
    assert message.count("Input should be") == 10 and message.endswith("; and 15 more")
