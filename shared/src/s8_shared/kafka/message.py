"""`KafkaMessage` for s8's handlers: FastStream's, resolved without a thread.

FastStream 0.7 injects `faststream.kafka.annotations.KafkaMessage` through a synchronous
custom field, which FastDepends runs in a worker thread for every message (a thread hop that
cost more than dead-lettering a bad message in a storm). Looking up the message in the
context is a dictionary read: here it runs on the event loop.
"""

from __future__ import annotations

from typing import Annotated, Any

from faststream._internal.context import Context
from faststream.kafka.message import KafkaMessage as _KafkaMessage


class _OnLoop(Context):
    async def use(self, /, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        return super().use(**kwargs)


KafkaMessage = Annotated[_KafkaMessage, _OnLoop("message")]
