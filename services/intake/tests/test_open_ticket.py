from s8_intake.domain.tickets import open_ticket, ticket_created
from s8_shared.contracts import InboundMessage, TicketStatus
from s8_shared.testing.builders import T0, make_inbound


def inbound(**overrides: object) -> InboundMessage:
    return InboundMessage.model_validate(make_inbound(**overrides))


def test_first_message_opens_a_new_ticket_for_the_customer() -> None:
    new = open_ticket(inbound(), T0)
    assert new.ticket.status is TicketStatus.NEW
    assert new.ticket.channel.value == "email"
    assert new.ticket.subject == "Hoàn tiền đơn #A1023"
    assert new.message.text.startswith("Tôi chưa nhận được hoàn tiền")
    assert new.message.author.value == "customer"


def test_the_same_channel_message_always_maps_to_the_same_ticket() -> None:
    assert (
        open_ticket(inbound(), T0).ticket.ticket_id == open_ticket(inbound(), T0).ticket.ticket_id
    )
    other = open_ticket(inbound(channel_message_id="<m2@example.vn>"), T0)
    assert other.ticket.ticket_id != open_ticket(inbound(), T0).ticket.ticket_id


def test_customer_id_ignores_email_case() -> None:
    a = open_ticket(inbound(sender_id="Lan.Nguyen@Example.vn"), T0)
    b = open_ticket(inbound(sender_id="lan.nguyen@example.vn", channel_message_id="x"), T0)
    assert a.ticket.customer_id == b.ticket.customer_id


def test_message_time_defaults_to_intake_time() -> None:
    assert open_ticket(inbound(), T0).message.sent_at == T0


def test_ticket_created_event_id_is_stable_for_a_ticket() -> None:
    new = open_ticket(inbound(), T0)
    first = ticket_created(new.ticket, new.message)
    again = ticket_created(new.ticket, new.message)
    assert first.event_id == again.event_id
    assert first.partition_key() == new.ticket.ticket_id.encode()
