"""The generated traffic of `make run` is realistic: valid channel messages, with the
re-sends and malformed messages real integrations produce."""

import json
from collections import Counter

import pytest
from pydantic import ValidationError
from traffic import TrafficGenerator

from s8_shared.contracts import parse_inbound


def test_generated_messages_are_valid_inbound_messages_over_many_channels() -> None:
    gen = TrafficGenerator(seed=7)
    outs = [gen.next() for _ in range(400)]
    kinds = Counter(o.kind for o in outs)
    assert kinds["message"] > 300
    assert kinds["resend"] > 0
    assert kinds["malformed"] > 0
    channels = set()
    languages_seen = set()
    for out in outs:
        if out.kind == "malformed":
            with pytest.raises((ValidationError, ValueError)):
                parse_inbound(json.loads(out.value))
            continue
        msg = parse_inbound(json.loads(out.value))
        channels.add(msg.channel_kind.value)
        text = json.loads(out.value).get("text") or ""
        languages_seen.add("vi" if any(c in text for c in "ăâđêôơưạảấầẩẫậ") else "en")
    assert len(channels) >= 6
    assert languages_seen == {"vi", "en"}


def test_a_resend_repeats_an_earlier_message_byte_for_byte() -> None:
    gen = TrafficGenerator(seed=1)
    outs = [gen.next() for _ in range(300)]
    originals = {o.value for o in outs if o.kind == "message"}
    resends = [o for o in outs if o.kind == "resend"]
    assert resends
    assert all(r.value in originals for r in resends)
