"""Intake's adapters: Kafka handlers and Mongo repositories around the domain."""
