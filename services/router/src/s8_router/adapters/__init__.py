"""router's adapters: Kafka handlers and Mongo repositories."""
