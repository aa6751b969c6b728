"""sla-monitor's adapters: Kafka handlers and Mongo repositories."""
