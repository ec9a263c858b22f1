"""JSON through the same pydantic TypeAdapters the embedded engine uses, as a restate-sdk Serde."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError
from restate.serde import Serde

from .._schema import mismatch_error, problems_of
from .._values import DEFAULT_MAX_ENTRY_SIZE, dump_checked


class AdapterSerde(Serde[Any]):
    """A restate-sdk Serde backed by a pydantic TypeAdapter: identical JSON on both engines."""

    def __init__(self, adapter: TypeAdapter[Any]) -> None:
        self.adapter = adapter

    def deserialize(self, buf: bytes) -> Any:
        if not buf:
            return None
        return self.adapter.validate_json(buf)

    def serialize(self, obj: Any) -> bytes:
        return self.adapter.dump_json(obj)


class StepSerde(AdapterSerde):
    """A step's result: checked as on the embedded engine before restate-sdk journals it (a value
    that would not load on replay fails the attempt with a retryable JournalValueError)."""

    def __init__(
        self, step: str, adapter: TypeAdapter[Any], max_size: int | None = DEFAULT_MAX_ENTRY_SIZE
    ) -> None:
        super().__init__(adapter)
        self.what = f"the result of step {step!r}"
        self.max_size = max_size

    def serialize(self, obj: Any) -> bytes:
        return dump_checked(self.what, self.adapter, obj, self.max_size).encode()


class AwakeableSerde(AdapterSerde):
    """An awakeable's value: restate-server accepts any value at resolve time, so one that does not
    validate becomes a terminal error naming the field at the await, not a retry that fails again."""

    awakeable_id = "?"  # known only once restate-sdk created the awakeable

    def deserialize(self, buf: bytes) -> Any:
        try:
            return super().deserialize(buf)
        except ValidationError as error:
            raise mismatch_error(self.awakeable_id, problems_of(error), None) from None
