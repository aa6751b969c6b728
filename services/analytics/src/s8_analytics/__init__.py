"""s8 analytics service."""
