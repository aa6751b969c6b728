"""Twilio's signature, form and mapping rules as pure functions: the documented worked
example, form-encoding edge cases, and what each call status becomes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from s8_channels.domain import twilio_payload as twilio
from s8_shared.contracts.inbound import PhoneCall

FIXTURES = Path(__file__).parent / "fixtures"
# Twilio's "Webhooks security" guide: this URL and these parameters, signed with the auth
# token 12345, give this signature.
DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = [("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"), ("Digits", "1234"),
              ("From", "+12349013030"), ("To", "+18005551212")]  # fmt: skip
DOC_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def completed(**changes: str) -> list[tuple[str, str]]:
    """The fixture's status callback of an answered inbound call, with `changes`."""
    params = [(n, v) for n, v in json.loads((FIXTURES / "twilio_voice.json").read_text())["completed"]]  # fmt: skip
    kept = [(n, changes.pop(n) if n in changes else v) for n, v in params]
    return kept + list(changes.items())


def call(**changes: str) -> PhoneCall:
    mapped = twilio.phone_call(completed(**changes))
    assert isinstance(mapped, PhoneCall)
    return mapped


def test_the_signature_reproduces_twilios_documented_example() -> None:
    assert twilio.signature("12345", DOC_URL, DOC_PARAMS) == DOC_SIGNATURE
    assert twilio.verify("12345", DOC_URL, DOC_PARAMS[::-1], DOC_SIGNATURE)  # order received
    assert not twilio.verify("12345", DOC_URL, [*DOC_PARAMS[:2], ("Digits", "9")], DOC_SIGNATURE)
    assert not twilio.verify("12345", DOC_URL.replace("bar=2", "bar=3"), DOC_PARAMS, DOC_SIGNATURE)
    assert not twilio.verify("54321", DOC_URL, DOC_PARAMS, DOC_SIGNATURE)


def test_the_signature_holds_with_or_without_the_schemes_default_port() -> None:
    sig = twilio.signature("t", "https://s8.example.com/x?a=1", [("A", "1")])
    assert twilio.verify("t", "https://s8.example.com:443/x?a=1", [("A", "1")], sig)
    assert not twilio.verify("t", "https://s8.example.com:8443/x?a=1", [("A", "1")], sig)
    assert not twilio.verify("t", "http://s8.example.com/x?a=1", [("A", "1")], sig)


def test_the_signed_url_is_the_public_base_then_the_path_and_query_as_sent() -> None:
    assert twilio.signed_url("https://s8.example.com/hooks/", "/v1/x", "") == (
        "https://s8.example.com/hooks/v1/x"
    )
    assert twilio.signed_url("https://s8.example.com", "/v1/x", "a=%2F&b") == (
        "https://s8.example.com/v1/x?a=%2F&b"
    )


def test_a_form_keeps_blank_values_bare_names_and_repeated_names_in_order() -> None:
    params = twilio.parse_form(b"B=2&A=&Flag&Tag=x&Tag=y&Sp=a+b%2Bc&Vi=%C4%90%C3%A0")
    assert params == [("B", "2"), ("A", ""), ("Flag", ""), ("Tag", "x"), ("Tag", "y"),
                      ("Sp", "a b+c"), ("Vi", "Đà")]  # fmt: skip
    assert twilio.raw(params)["Tag"] == ["x", "y"]
    # Every value of a repeated name is signed, in sorted order.
    assert twilio.signature("t", "u", params) == twilio.signature("t", "u", params[::-1])
    assert twilio.signature("t", "u", params) != twilio.signature("t", "u", params[:3])


@pytest.mark.parametrize(
    "body",
    [
        "&".join(f"f{i}=x" for i in range(twilio.MAX_FIELDS + 1)).encode(),
        b"Body=\xff",
        b"Body=%FF%FE",
    ],
    ids=["too many fields", "raw bytes not UTF-8", "percent-encoded bytes not UTF-8"],
)
def test_a_form_that_is_not_a_bounded_utf8_form_is_refused(body: bytes) -> None:
    with pytest.raises(twilio.FormError):
        twilio.parse_form(body)


def test_an_answered_call_carries_its_duration_time_and_lines() -> None:
    answered = call()
    assert (answered.missed, answered.abandoned, answered.duration_seconds) == (False, False, 127)
    assert (answered.caller_number, answered.dialled_line) == ("+84903123456", "+84287300123")
    assert answered.raw["CallbackSource"] == "call-progress-events"


@pytest.mark.parametrize("status", ["no-answer", "busy", "canceled", "failed"])
def test_a_call_that_was_never_answered_is_missed(status: str) -> None:
    missed = call(CallStatus=status, CallDuration="0")
    assert (missed.missed, missed.duration_seconds) == (True, 0)


def test_a_completed_call_that_lasted_no_second_is_missed() -> None:
    assert call(CallDuration="0").missed
    assert call(CallDuration="not a number").missed


@pytest.mark.parametrize("status", ["queued", "ringing", "in-progress", ""])
def test_a_call_not_over_yet_is_acknowledged_not_published(status: str) -> None:
    assert isinstance(twilio.phone_call(completed(CallStatus=status)), twilio.Ignored)


@pytest.mark.parametrize("direction", ["outbound-api", "outbound-dial", ""])
def test_a_call_s8_placed_is_not_a_customers_call(direction: str) -> None:
    assert isinstance(twilio.phone_call(completed(Direction=direction)), twilio.Ignored)


def test_keys_words_caller_name_and_transcript_of_the_last_request_are_kept() -> None:
    kept = call(Digits="1*2#", SpeechResult=" bảo hành máy lạnh ", CallerName="NGUYEN VAN A",
                TranscriptionText="Gọi lại cho tôi sau 5 giờ")  # fmt: skip
    assert (kept.ivr_path, kept.notes, kept.caller_name) == ("1*2#", "bảo hành máy lạnh", "NGUYEN VAN A")  # fmt: skip
    assert kept.voicemail_transcript == "Gọi lại cho tôi sau 5 giờ"


def test_digits_that_are_not_keys_and_a_sip_line_stay_in_raw_only() -> None:
    odd = call(Digits="hangup", To="sip:support@s8-example.sip.twilio.com;transport=tls")
    assert (odd.ivr_path, odd.dialled_line) == ("", "")
    assert odd.raw["Digits"] == "hangup"


def test_a_call_without_a_caller_cannot_be_mapped() -> None:
    with pytest.raises(twilio.Unmappable):
        twilio.phone_call(completed(From=""))


def test_media_become_attachments_within_num_media() -> None:
    params = [("NumMedia", "1"), ("MediaUrl0", "https://api.twilio.com/x/Media/ME1"),
              ("MediaContentType0", "image/png"), ("MediaUrl1", "https://api.twilio.com/x/Media/ME2")]  # fmt: skip
    [only] = twilio.attachments(params)
    assert (only.filename, only.content_type, only.url) == ("ME1.png", "image/png", params[1][1])
    assert twilio.attachments([("NumMedia", "many")]) == []
