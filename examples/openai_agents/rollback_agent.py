"""A booking agent that rolls back what it booked when a later booking fails (a saga).

Each booking tool registers its compensation before booking, in the run context. A tool that
cannot book raises a TerminalError; it ends the run instead of going to the model, and the handler
runs the compensations in reverse order, each a durable step, then fails the invocation.

Tools that take the run context make their own steps, so they run one at a time in the order the
model asked for them: the list of compensations is the same on every replay.

    agentdur serve examples.openai_agents.rollback_agent:app
    curl localhost:8080/BookingWithRollbackAgent/book --json '{"booking_id": "booking_123",
        "message": "Book a hotel, a flight and a car for my business trip to San Francisco from March 15-17."}'
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from agents import Agent, RunContextWrapper
from pydantic import BaseModel

import agentdur
from agentdur.integrations.openai_agents import DurableRunner, durable_function_tool

from .utils import log, run_config


class BookingPrompt(BaseModel):
    booking_id: str
    message: str


class HotelBooking(BaseModel):
    name: str
    dates: str
    guests: int


class FlightBooking(BaseModel):
    origin: str
    destination: str
    date: str
    passengers: int


class CarBooking(BaseModel):
    location: str
    dates: str
    car_type: str


class BookingResult(BaseModel):
    id: str
    confirmation: str


@dataclass
class BookingContext:
    """What the tools share: the booking, the handler's context, and how to undo each booking."""

    booking_id: str
    ctx: agentdur.Context
    on_rollback: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


# The (fake) booking services.
async def reserve(kind: str, booking_id: str, details: BaseModel) -> BookingResult:
    log.info("reserved %s for %s: %s", kind, booking_id, details.model_dump_json())
    return BookingResult(id=f"{kind}_{booking_id}", confirmation=f"{kind} reserved")


async def cancel(kind: str, booking_id: str) -> None:
    log.info("cancelled %s for %s", kind, booking_id)


def compensation(booking: BookingContext, kind: str) -> Callable[[], Awaitable[None]]:
    async def undo() -> None:
        await booking.ctx.run_typed(f"Cancel {kind}", cancel, kind=kind, booking_id=booking.booking_id)

    return undo


@durable_function_tool
async def book_hotel(wrapper: RunContextWrapper[BookingContext], booking: HotelBooking) -> BookingResult:
    """Book a hotel."""
    context = wrapper.context
    context.on_rollback.append(compensation(context, "hotel"))
    return await context.ctx.run_typed(
        "Book hotel", reserve, kind="hotel", booking_id=context.booking_id, details=booking
    )


@durable_function_tool
async def book_flight(wrapper: RunContextWrapper[BookingContext], booking: FlightBooking) -> BookingResult:
    """Book a flight."""
    context = wrapper.context
    context.on_rollback.append(compensation(context, "flight"))
    return await context.ctx.run_typed(
        "Book flight", reserve, kind="flight", booking_id=context.booking_id, details=booking
    )


@durable_function_tool
async def book_car(wrapper: RunContextWrapper[BookingContext], booking: CarBooking) -> BookingResult:
    """Book a rental car."""
    raise agentdur.TerminalError(f"no rental car available in {booking.location}")


booking_agent = Agent[BookingContext](
    name="BookingWithRollbackAgent",
    instructions="Book a complete travel package with the requirements in the prompt: hotel, flight and car.",
    tools=[book_hotel, book_flight, book_car],
)

agent_service = agentdur.Service("BookingWithRollbackAgent")


@agent_service.handler()
async def book(ctx: agentdur.Context, prompt: BookingPrompt) -> str:
    booking = BookingContext(booking_id=prompt.booking_id, ctx=ctx)
    try:
        result = await DurableRunner.run(
            booking_agent, prompt.message, context=booking, run_config=run_config()
        )
    except agentdur.TerminalError:
        for undo in reversed(booking.on_rollback):
            await undo()
        raise
    return str(result.final_output)


app = agentdur.App([agent_service])
