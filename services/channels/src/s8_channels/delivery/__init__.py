"""Outbound delivery: s8's messages to customers (`support.outbound.v1`) sent by e-mail
(SMTP relay), Meta, Zalo OA and Twilio SMS, with retries, outcome events and dead letters.

Pure decisions (`routing`, `policy`, `text`, `mail`, `events`) are apart from I/O (the
senders, `store`, `service`, `worker`); `wiring` puts them together."""
