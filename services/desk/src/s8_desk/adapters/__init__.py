"""Kafka and Mongo adapters of the desk."""
