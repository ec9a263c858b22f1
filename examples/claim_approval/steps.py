"""The pipeline's plain steps: stand-ins for an exchange-rate API and a payment API.

``CLAIM_LEDGER``: a file ``process_payment`` appends each payment to (no ledger when unset), so
that a test or the demo can count the payments really made.
"""

from __future__ import annotations

import hashlib
import os

LEDGER_ENV = "CLAIM_LEDGER"
USD_PER_UNIT = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "CHF": 1.12}


def convert_currency(amount: float, source: str, target: str) -> float:
    """``amount`` in ``source`` currency, converted to ``target`` (fixed rates)."""
    return round(amount * USD_PER_UNIT[source] / USD_PER_UNIT[target], 2)


def process_payment(claim_id: str, amount: float) -> str:
    """Pay ``amount`` USD for ``claim_id``: the side effect that must happen once. Returns a confirmation."""
    confirmation = "pay_" + hashlib.sha256(f"{claim_id}:{amount}".encode()).hexdigest()[:12]
    ledger = os.environ.get(LEDGER_ENV)
    if ledger:
        with open(ledger, "a", encoding="utf-8") as file:
            file.write(f"{confirmation} {claim_id} {amount:.2f} USD\n")
    return confirmation
