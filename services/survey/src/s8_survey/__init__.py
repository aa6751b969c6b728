"""s8 survey service."""
