"""Kafka, Mongo, SMTP, IMAP and the platforms' HTTP APIs, behind small ports."""
