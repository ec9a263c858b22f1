"""JSON through the same pydantic TypeAdapters the embedded engine uses, as a restate-sdk Serde."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter
from restate.serde import Serde


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
