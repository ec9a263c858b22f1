"""The conformance suite runs the conformance app on both engines."""

from ..harness import engine_fixture

engine = engine_fixture("tests.conformance.app:app")
