"""TravelAgent: book a flight, a hotel and a car; when payment fails, undo them in reverse order.

    agentdur serve examples.patterns.sagas:app
    curl localhost:8080/TravelAgent/book --json '{"traveler": "Ada", "destination": "Lisbon"}'
    curl localhost:8080/TravelAgent/book --json '{"traveler": "Ada", "destination": "Lisbon", "card": "declined"}'

Each booking registers its cancellation once it completed (``agentdur.patterns.sagas``); a declined
card, or cancelling the invocation, runs the cancellations as journaled steps, each exactly once even
if the process dies while compensating. The bookings live in a file (``AGENTDUR_BOOKINGS``,
default ``bookings.jsonl``): a stand-in for the airline's, the hotel's and the rental's systems.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel, Field

import agentdur
from agentdur.patterns.sagas import Saga

from .._llm import complete

BOOKINGS_ENV = "AGENTDUR_BOOKINGS"


class TripRequest(BaseModel):
    """Who travels where, and the card to charge ("declined" is declined)."""

    traveler: str = Field(min_length=1)
    destination: str = Field(min_length=1)
    card: str = "4242"


class Itinerary(BaseModel):
    """The booked trip and a confirmation written by the model."""

    bookings: list[str]
    confirmation: str


def ledger() -> Path:
    return Path(os.environ.get(BOOKINGS_ENV, "bookings.jsonl"))


def write(event: str, booking: str) -> None:
    with ledger().open("a") as log:
        log.write(json.dumps({"event": event, "booking": booking}) + "\n")


def booker(kind: str, trip: TripRequest) -> str:
    """Book ``kind`` for ``trip``; the id is derived from the request, so a retry books the same."""
    booking = f"{kind}:{trip.traveler}:{trip.destination}"
    write("booked", booking)
    return booking


def cancel(booking: str) -> None:
    """Cancel one booking by its id (idempotent: cancelling twice is harmless)."""
    write("cancelled", booking)


def charge(trip: TripRequest) -> str:
    if trip.card == "declined":
        raise agentdur.TerminalError("the card was declined", 402)
    return f"charged card ending {trip.card[-4:]}"


travel = agentdur.Service("TravelAgent", description="sagas: bookings undone when payment fails")


@travel.handler()
async def book(ctx: agentdur.Context, trip: TripRequest) -> Itinerary:
    """Book everything, charge, confirm; on a terminal error, cancel what was booked."""
    async with Saga(ctx) as saga:
        bookings = [
            await saga.step(f"Book {kind}", booker, kind, trip, compensate=(f"Cancel {kind}", cancel))
            for kind in ("flight", "hotel", "car")
        ]
        await ctx.run_typed("Charge", charge, agentdur.RunOptions(), trip)
    prompt = f"Write a one-line trip confirmation for {trip.traveler}: {', '.join(bookings)}"
    confirmation = await ctx.run_typed("Confirmation", complete, agentdur.RunOptions(max_attempts=5), prompt)
    return Itinerary(bookings=bookings, confirmation=confirmation)


app = agentdur.App([travel])
