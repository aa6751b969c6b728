"""s8 intake service."""
