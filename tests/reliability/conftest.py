"""The step-reliability suite runs its app on both engines."""

from ..harness import engine_fixture

engine = engine_fixture("tests.reliability.app:app")
