"""The stand-ins of the tour's databases and e-mail: each prints what it does.

As in the tour, two calls fail for a user named Alice: sending her the welcome e-mail fails with a
retryable error (every time, until the code is fixed), and subscribing her to the paid plan fails
terminally ("not available in this country"), which the saga example compensates.
"""

from __future__ import annotations

from pydantic import BaseModel

import agentdur


class User(BaseModel):
    """Who signs up."""

    name: str
    email: str


class CreateUserRequest(BaseModel):
    """The input of the user service's ``createUser`` (the activities example)."""

    user_id: str
    user: User


class VerifyEmailRequest(BaseModel):
    """What the verification link sends back."""

    secret: str


class StatusResponse(BaseModel):
    """What the queries example answers while the workflow runs."""

    status: str | None = None
    user: User | None = None


def fail_on_alice(name: str, action: str) -> None:
    """A retryable failure for Alice: the step is retried until it succeeds or runs out of attempts."""
    if name == "Alice":
        message = f"[SIMULATED] Failed to {action} for {name}: the mail server is down"
        print(message)
        raise RuntimeError(message)


def terminal_error_on_alice(name: str, action: str) -> None:
    """A terminal failure for Alice: never retried; the saga example compensates it."""
    if name == "Alice":
        message = f"[SIMULATED] Failed to {action} for {name}: not available in this country"
        print(message)
        raise agentdur.TerminalError(message)


def create_user(user_id: str, user: User) -> bool:
    print(f"User entry created in DB: {user_id} ({user.email})")
    return True


def activate_user(user_id: str) -> None:
    print(f"User account activated: {user_id}")


def send_welcome_email(user: User) -> None:
    fail_on_alice(user.name, "send welcome email")
    print(f"Welcome email sent: {user.email}")


def send_verification_email(user_id: str, user: User, verification_secret: str) -> None:
    print(f"Verification email sent to {user.email} for {user_id}; the link resolves the promise with:")
    print(f'  --json \'{{"secret": "{verification_secret}"}}\'')


def send_reminder_email(user_id: str, user: User, verification_secret: str) -> None:
    print(f"Reminder email sent to {user.email} for {user_id}")


def delete_user(user_id: str) -> None:
    print(f"User entry deleted: {user_id}")


def deactivate_user(user_id: str) -> None:
    print(f"User account deactivated: {user_id}")


def subscribe_to_paid_plan(user: User) -> None:
    terminal_error_on_alice(user.name, "subscribe to paid plan")
    print(f"Subscribed {user.email} to the paid plan")


def cancel_subscription(user: User) -> None:
    print(f"Subscription cancelled: {user.email}")
