"""Leave new optional fields out of a model's JSON while they are unset.

A complaint's state is signed by its hash (`workflows.signature`), and saved workflow
histories carry hashes of states from before a field existed. A field added later would
appear as `null` in every old state and change its hash, so a replayed decision that
signed the old hash would be refused. Models list such fields in `omit_when_none`: absent
and `None` then serialise alike, and old states hash as they always did.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, SerializerFunctionWrapHandler, model_serializer


class OmitWhenNone(BaseModel):
    omit_when_none: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _omit_when_none(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            for name in self.omit_when_none:
                if data.get(name, 0) is None:
                    del data[name]
        return data
