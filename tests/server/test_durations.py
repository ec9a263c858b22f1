"""``?delay=`` parsing: Restate's humantime and ISO-8601 forms."""

from __future__ import annotations

import pytest

import agentdur
from agentdur.server._durations import parse_delay


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("10s", 10.0),
        ("500ms", 0.5),
        ("1m", 60.0),
        ("1h30m", 5400.0),
        ("1h 30m 15s", 5415.0),
        ("2days", 172800.0),
        ("1w", 604800.0),
        ("250us", 0.00025),
        ("1.5s", 1.5),
        ("0s", 0.0),
        ("PT10S", 10.0),
        ("PT1H30M", 5400.0),
        ("pt0.5s", 0.5),
        ("P1D", 86400.0),
        ("P1DT2H", 93600.0),
        ("P2W", 1209600.0),
    ],
)
def test_accepted_forms(text: str, seconds: float) -> None:
    assert parse_delay(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text", ["", "10", "soon", "10 parsecs", "s10", "1h30", "-1s", "P", "PT", "P1Y", "PT1X", "1s!"]
)
def test_rejected_forms_name_the_problem(text: str) -> None:
    with pytest.raises(agentdur.InvalidInputError, match="invalid delay") as failure:
        parse_delay(text)
    assert failure.value.status_code == 400 and "PT10S" in failure.value.message
