"""The application services: delivering outbound messages, publishing what webhooks mapped."""
