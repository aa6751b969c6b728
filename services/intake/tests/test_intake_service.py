import pytest

from s8_intake.adapters.memory_repository import InMemoryTicketRepository
from s8_intake.service import IntakeService, decode_inbound
from s8_shared.contracts import InboundMessage, InvalidMessage
from s8_shared.testing.builders import T0, make_inbound
from s8_shared.testing.fakes import RecordingPublisher


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def repo() -> InMemoryTicketRepository:
    return InMemoryTicketRepository()


@pytest.fixture
def service(repo: InMemoryTicketRepository, publisher: RecordingPublisher) -> IntakeService:
    return IntakeService(repo, publisher, clock=lambda: T0)


async def test_accepting_a_message_stores_a_ticket_and_publishes_ticket_created(
    service: IntakeService, repo: InMemoryTicketRepository, publisher: RecordingPublisher
) -> None:
    accepted = await service.accept(InboundMessage.model_validate(make_inbound()))
    ticket_id = accepted.ticket_id
    assert not accepted.duplicate
    assert set(repo.tickets) == {ticket_id}
    [event] = publisher.on("support.tickets.v1")
    assert event.type == "ticket.created"
    assert event.payload.ticket_id == ticket_id


async def test_a_redelivered_message_has_no_second_effect(
    service: IntakeService, repo: InMemoryTicketRepository, publisher: RecordingPublisher
) -> None:
    msg = InboundMessage.model_validate(make_inbound())
    await service.accept(msg)
    again = await service.accept(msg)
    assert again.duplicate
    assert len(repo.tickets) == 1
    assert len(publisher.on("support.tickets.v1")) == 1


async def test_a_crash_between_store_and_publish_republishes_the_same_event_id(
    service: IntakeService, repo: InMemoryTicketRepository, publisher: RecordingPublisher
) -> None:
    msg = InboundMessage.model_validate(make_inbound())
    publisher.fail_next = ConnectionError("broker gone")
    with pytest.raises(ConnectionError):
        await service.accept(msg)
    assert len(repo.tickets) == 1  # stored, not yet published
    await service.accept(msg)  # the redelivery
    [event] = publisher.on("support.tickets.v1")
    second_try = await service.accept(msg)
    assert second_try.ticket_id == event.payload.ticket_id
    assert second_try.duplicate
    assert len(publisher.on("support.tickets.v1")) == 1


def test_decoding_rejects_bad_bytes_with_a_reason() -> None:
    with pytest.raises(InvalidMessage, match="invalid inbound message: text"):
        decode_inbound(b'{"channel": "sms", "channel_message_id": "1", "sender_id": "0901"}')
    with pytest.raises(InvalidMessage, match="not valid JSON"):
        decode_inbound(b"\x00\x01")
